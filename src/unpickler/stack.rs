//! The stack of a pickle machine, as `_pickle.c`'s `Pdata`: one vector of
//! values and, beside it, the stack lengths at each `MARK`. The topmost mark
//! is a fence: an instruction cannot pop below it, so `(` `a` underflows as
//! it does in CPython instead of reaching into the values before the mark.
//!
//! One type for the unpickler (`Stack<Value>`) and the scanner (`Stack` of
//! its symbolic values), with one depth limit and one set of errors, so the
//! two read the same instructions the same way. The fields are open to the
//! machines' hot paths (`items[at - 1]`, `extend_from_slice`); the methods
//! are the semantics.

use crate::codec::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::codec::read::Arg;
use crate::error::{Error, Result};

#[derive(Debug)]
pub(crate) struct Stack<V> {
    /// The values, bottom first.
    pub(crate) items: Vec<V>,
    /// The length of `items` at each open `MARK`, innermost last.
    pub(crate) marks: Vec<usize>,
    /// Most open marks (`LoadOptions::max_depth`).
    max_marks: usize,
}

impl<V: Copy> Stack<V> {
    /// An empty stack that holds at most `max_marks` open marks.
    pub(crate) fn new(max_marks: usize) -> Stack<V> {
        Stack {
            items: Vec::new(),
            marks: Vec::new(),
            max_marks,
        }
    }

    /// Where the values above the innermost mark start (0 without a mark).
    #[inline]
    pub(crate) fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline]
    pub(crate) fn push(&mut self, v: V) {
        self.items.push(v);
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Result<V> {
        if self.items.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(self.items.pop().expect("above the fence"))
    }

    #[inline]
    pub(crate) fn top(&self) -> Result<V> {
        if self.items.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(*self.items.last().expect("above the fence"))
    }

    /// `MARK`.
    #[inline]
    pub(crate) fn mark(&mut self) -> Result<()> {
        if self.marks.len() >= self.max_marks {
            return Err(Error::limit(format!(
                "more than {} nested MARKs (LoadOptions::max_depth)",
                self.max_marks
            )));
        }
        self.marks.push(self.items.len());
        Ok(())
    }

    /// The top `n` values, bottom first (`TUPLE1`..`TUPLE3`).
    #[inline]
    pub(crate) fn pop_n(&mut self, n: usize) -> Result<Vec<V>> {
        if self.items.len() < self.fence() + n {
            return Err(underflow());
        }
        Ok(self.items.split_off(self.items.len() - n))
    }

    /// Close the innermost mark; the position of the first value above it.
    #[inline]
    pub(crate) fn pop_mark(&mut self) -> Result<usize> {
        self.marks.pop().ok_or_else(no_mark)
    }

    /// `POP`: the top value, or the innermost mark when no value is above
    /// it (as `_pickle.c`'s `load_pop`).
    #[inline]
    pub(crate) fn pop_value_or_mark(&mut self) -> Result<()> {
        if self.marks.last() == Some(&self.items.len()) {
            self.marks.pop();
            Ok(())
        } else {
            self.pop().map(drop)
        }
    }

    /// Whether nothing is on the stack, values or marks.
    #[inline]
    pub(crate) fn is_clear(&self) -> bool {
        self.items.is_empty() && self.marks.is_empty()
    }
}

/// An instruction wanted more values than lie above the fence.
#[cold]
pub(crate) fn underflow() -> Error {
    Error::syntax("unpickling stack underflow")
}

/// A mark-consuming instruction without an open `MARK`.
#[cold]
pub(crate) fn no_mark() -> Error {
    Error::syntax("could not find MARK")
}

/// The reader gave an argument of a kind the instruction does not take
/// (never, for the reader's own table; a guard, not a parse error).
#[cold]
pub(crate) fn bad_arg() -> Error {
    Error::syntax("internal: opcode argument of unexpected kind")
}

/// The memo index of a `GET`/`PUT` argument. A negative one (protocol 0's
/// `g-1`, `p-1`) fails as in CPython: a `GET` finds nothing there ("Memo
/// value not found at index -1", the wording of every missing memo entry),
/// a `PUT` is refused ("negative PUT argument").
#[inline]
pub(crate) fn memo_index(arg: &Arg<'_>, op: Opcode) -> Result<u64> {
    match arg {
        Arg::Int(i) if *i >= 0 => Ok(*i as u64),
        Arg::Bool(b) => Ok(*b as u64),
        Arg::Int(i) if matches!(op, Opcode::Get | Opcode::BinGet | Opcode::LongBinGet) => {
            Err(Error::syntax(format!("Memo value not found at index {i}")))
        }
        Arg::Int(_) => Err(Error::syntax("negative PUT argument")),
        _ => Err(Error::syntax("memo index out of range")),
    }
}

/// The protocol a `PROTO` declares, if this crate reads it.
#[inline]
pub(crate) fn protocol_arg(arg: &Arg<'_>) -> Result<u8> {
    match arg {
        Arg::Int(p) if (0..=HIGHEST_PROTOCOL as i64).contains(p) => Ok(*p as u8),
        Arg::Int(p) => Err(Error::unsupported(format!(
            "unsupported pickle protocol: {p}"
        ))),
        _ => Err(bad_arg()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_fence_the_values_below_them() {
        let mut s: Stack<u8> = Stack::new(2);
        s.push(1);
        s.mark().unwrap();
        assert!(s.pop().is_err(), "the mark fences 1 off");
        assert!(s.top().is_err());
        s.push(2);
        assert_eq!(s.top().unwrap(), 2);
        assert!(s.pop_n(2).is_err(), "only one value above the mark");
        s.mark().unwrap();
        let e = s.mark().unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
        s.pop_value_or_mark().unwrap();
        assert_eq!(s.marks.len(), 1, "POP on a mark drops the mark");
        s.pop_value_or_mark().unwrap();
        assert_eq!(s.items, [1]);
        assert_eq!(s.pop_mark().unwrap(), 1);
        assert!(s.pop_mark().is_err());
        assert_eq!(s.pop().unwrap(), 1);
        assert!(s.is_clear());
    }

    #[test]
    fn memo_indices() {
        assert_eq!(memo_index(&Arg::Int(3), Opcode::Get).unwrap(), 3);
        assert_eq!(memo_index(&Arg::Bool(true), Opcode::Put).unwrap(), 1);
        // As CPython: a GET of -1 finds nothing, a PUT of -1 is refused.
        assert_eq!(
            memo_index(&Arg::Int(-1), Opcode::Get)
                .unwrap_err()
                .to_string(),
            "Memo value not found at index -1"
        );
        assert_eq!(
            memo_index(&Arg::Int(-1), Opcode::Put)
                .unwrap_err()
                .to_string(),
            "negative PUT argument"
        );
        assert!(memo_index(&Arg::None, Opcode::Get).is_err());
    }
}
