//! The memo of a pickle machine: index → value. One type for the unpickler
//! (`Memo<Value>`) and the scanner (`Memo` of its symbolic values), with one
//! limit and one error each for a full memo and a missing entry.
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
#[derive(Debug)]
pub(crate) struct Memo<V = Value> {
    dense: Vec<Option<V>>,
    sparse: HashMap<u64, V>,
    len: usize,
    max: usize,
}

impl<V: Copy> Memo<V> {
    /// An empty memo holding at most `max` entries.
    pub(crate) fn new(max: usize) -> Memo<V> {
        Memo {
            dense: Vec::new(),
            sparse: HashMap::new(),
            len: 0,
            max,
        }
    }

    /// Number of entries (what `MEMOIZE` uses as its index, like CPython).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True if no entry was stored.
    #[allow(dead_code)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Store `v` at `idx`.
    pub(crate) fn put(&mut self, idx: u64, v: V) -> Result<()> {
        self.put_ref(idx, &v)
    }

    /// Store `*v` at `idx`. The common case, the next index in order with
    /// nothing sparse, is one push.
    #[inline(always)]
    pub(crate) fn put_ref(&mut self, idx: u64, v: &V) -> Result<()> {
        if self.put_next(idx, *v) {
            return Ok(());
        }
        self.put_slow(idx, *v)
    }

    /// Store `v` at `idx` if that is the common case (the next index in
    /// order, nothing sparse, under the limit); false, storing nothing, otherwise.
    #[inline(always)]
    pub(crate) fn put_next(&mut self, idx: u64, v: V) -> bool {
        let next = idx == self.dense.len() as u64 && self.sparse.is_empty() && self.len < self.max;
        if next {
            self.len += 1;
            self.dense.push(Some(v));
        }
        next
    }

    #[inline(never)]
    fn put_slow(&mut self, idx: u64, v: V) -> Result<()> {
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
    #[cfg(test)]
    pub(crate) fn get(&self, idx: u64) -> Result<V> {
        self.get_ref(idx).copied().ok_or_else(|| missing(idx))
    }

    /// The slot of the value at `idx`, if there is one.
    #[inline(always)]
    pub(crate) fn get_ref(&self, idx: u64) -> Option<&V> {
        match self.dense.get(idx as usize) {
            Some(Some(v)) => Some(v),
            _ if self.sparse.is_empty() => None,
            _ => self.sparse.get(&idx),
        }
    }
}

/// A `GET` of an index the memo does not hold (CPython's message).
#[cold]
pub(crate) fn missing(idx: u64) -> Error {
    Error::syntax(format!("Memo value not found at index {idx}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse() {
        let mut m: Memo = Memo::new(10);
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
        let mut m: Memo = Memo::new(2);
        m.put(0, Value::None).unwrap();
        m.put(1, Value::None).unwrap();
        let e = m.put(2, Value::None).unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
    }
}
