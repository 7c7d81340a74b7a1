//! The unpickler's memo: index → value.
//!
//! CPython writes memo indices 0, 1, 2, ... in order, so the memo is a dense
//! vector; an index far beyond the number of entries (a hostile `LONG_BINPUT
//! 2147483647`) goes to a sparse map instead, so one PUT costs one entry and
//! never an array of 2^31 slots. `GET` returns the stored handle: sharing,
//! never a copy.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::value::Value;

/// How far past the dense part an index may land and still extend it.
const DENSE_SLACK: u64 = 1024;

/// The memo of one load.
#[derive(Debug, Default)]
pub struct Memo {
    dense: Vec<Option<Value>>,
    sparse: HashMap<u64, Value>,
    len: usize,
    max: usize,
}

impl Memo {
    /// An empty memo holding at most `max` entries.
    pub fn new(max: usize) -> Memo {
        Memo {
            max,
            ..Memo::default()
        }
    }

    /// Number of entries (what `MEMOIZE` uses as its index, like CPython).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no entry was stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Store `v` at `idx`.
    pub fn put(&mut self, idx: u64, v: Value) -> Result<()> {
        self.put_ref(idx, &v)
    }

    /// Store `*v` at `idx`. The common case, the next index in order with
    /// nothing sparse, is one push.
    #[inline(always)]
    pub(crate) fn put_ref(&mut self, idx: u64, v: &Value) -> Result<()> {
        if self.put_next(idx, *v) {
            return Ok(());
        }
        self.put_slow(idx, *v)
    }

    /// Store `v` at `idx` if that is the common case (the next index in
    /// order, nothing sparse, under the limit); false, storing nothing, otherwise.
    #[inline(always)]
    pub(crate) fn put_next(&mut self, idx: u64, v: Value) -> bool {
        let next = idx == self.dense.len() as u64 && self.sparse.is_empty() && self.len < self.max;
        if next {
            self.len += 1;
            self.dense.push(Some(v));
        }
        next
    }

    #[inline(never)]
    fn put_slow(&mut self, idx: u64, v: Value) -> Result<()> {
        let dense_len = self.dense.len() as u64;
        if idx < dense_len {
            if self.dense[idx as usize].is_none()
                && (self.sparse.is_empty() || self.sparse.remove(&idx).is_none())
            {
                self.grow_count()?;
            }
            self.dense[idx as usize] = Some(v);
            return Ok(());
        }
        if idx <= dense_len + DENSE_SLACK && idx <= 2 * (self.len as u64) + DENSE_SLACK {
            if !self.sparse.is_empty() {
                if let Some(slot) = self.sparse.get_mut(&idx) {
                    *slot = v;
                    return Ok(());
                }
            }
            self.grow_count()?;
            self.dense.resize(idx as usize, None);
            self.dense.push(Some(v));
            return Ok(());
        }
        if self.sparse.insert(idx, v).is_none() {
            self.grow_count()?;
        }
        Ok(())
    }

    fn grow_count(&mut self) -> Result<()> {
        if self.len >= self.max {
            return Err(Error::limit(format!(
                "memo holds more than {} entries (LoadOptions::max_memo)",
                self.max
            )));
        }
        self.len += 1;
        Ok(())
    }

    /// The value at `idx`.
    #[inline]
    pub fn get(&self, idx: u64) -> Result<Value> {
        self.get_ref(idx).copied().ok_or_else(|| Memo::missing(idx))
    }

    /// The slot of the value at `idx`, if there is one.
    #[inline(always)]
    pub(crate) fn get_ref(&self, idx: u64) -> Option<&Value> {
        match self.dense.get(idx as usize) {
            Some(Some(v)) => Some(v),
            _ if self.sparse.is_empty() => None,
            _ => self.sparse.get(&idx),
        }
    }

    /// The error of a `GET` of an index never stored.
    #[cold]
    pub(crate) fn missing(idx: u64) -> Error {
        Error::syntax(format!("memo value not found at index {idx}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse() {
        let mut m = Memo::new(10);
        m.put(0, Value::Int(0)).unwrap();
        m.put(1, Value::Int(1)).unwrap();
        m.put(2_147_483_647, Value::Int(2)).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(2_147_483_647).unwrap(), Value::Int(2));
        assert!(m.dense.len() < 10);
        assert!(m.get(5).is_err());
        m.put(1, Value::Int(7)).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(1).unwrap(), Value::Int(7));
    }

    #[test]
    fn limit() {
        let mut m = Memo::new(2);
        m.put(0, Value::None).unwrap();
        m.put(1, Value::None).unwrap();
        let e = m.put(2, Value::None).unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
    }
}
