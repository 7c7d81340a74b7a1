//! The fast path: instructions decoded where they lie in the bytes at hand
//! and executed without an `Instruction` in between, the commonest opcodes
//! right here and the others through `Machine::step`.

use std::borrow::Cow;

use super::Machine;
use crate::codec::opcodes::{byte, Opcode};
use crate::codec::read::Arg;
use crate::error::Result;
use crate::value::{Items, Node, NodeId, Pairs, Value};

impl Machine<'_> {
    /// The fast path: decode each instruction where it lies in the bytes at
    /// hand (the input slice, or a reader's buffer whose first byte is at
    /// stream offset `base`) and execute it, up to `limit` (the end of the
    /// open frame, of the bytes at hand, or of `max_input`). Returns, leaving
    /// `pos` on it, at the first instruction the general path must see: one
    /// that does not fit before `limit`, a text argument, FRAME, STOP, a BUILD
    /// with a hook, or malformed input (whose error the general path then
    /// reports). Execution is `step`, the same as on the general path.
    pub(super) fn run_in_place(
        &mut self,
        data: &[u8],
        pos: &mut usize,
        limit: usize,
        base: u64,
    ) -> Result<()> {
        // Cut the bytes at `limit`, so that an argument that does not fit
        // before it simply fails to decode here.
        // At most 64 MiB up front: beyond, the arena grows as it fills, so
        // that a huge input holding little text reserves no huge block.
        self.text_hint = data.len().saturating_sub(*pos).min(64 << 20);
        let data = &data[..limit.min(data.len())];
        let hook = self.opts.after_build.is_some();
        // A local position (not `*pos`, which may alias) keeps the loop in registers.
        let mut p = *pos;
        while p < data.len() {
            let Some((len, outcome)) = self.quick_step(data, p, base, hook) else {
                break;
            };
            p += len;
            if let Err(e) = outcome {
                *pos = p;
                return Err(e);
            }
        }
        *pos = p;
        Ok(())
    }

    /// Execute the instruction at `data[p]` (`p` is in bounds): its length
    /// and outcome, or `None` when the general path must take it. The
    /// commonest opcodes are decoded and run right here, by the same helpers
    /// `step` uses; the others go through [`crate::read::decode_fast`] and
    /// `step`.
    #[inline(always)]
    fn quick_step(
        &mut self,
        data: &[u8],
        p: usize,
        base: u64,
        hook: bool,
    ) -> Option<(usize, Result<()>)> {
        let offset = base + p as u64;
        let (len, op, r) = match data[p] {
            byte::BinInt1 => {
                let [b] = fixed(data, p)?;
                self.stack.items.push(Value::Int(b.into()));
                return Some((2, Ok(())));
            }
            byte::BinInt2 => {
                let b = fixed(data, p)?;
                self.stack
                    .items
                    .push(Value::Int(u16::from_le_bytes(b).into()));
                return Some((3, Ok(())));
            }
            byte::BinInt => {
                let b = fixed(data, p)?;
                self.stack
                    .items
                    .push(Value::Int(i32::from_le_bytes(b).into()));
                return Some((5, Ok(())));
            }
            byte::BinFloat => {
                let b = fixed(data, p)?;
                self.stack.items.push(Value::Float(f64::from_be_bytes(b)));
                return Some((9, Ok(())));
            }
            byte::None => {
                self.stack.items.push(Value::None);
                return Some((1, Ok(())));
            }
            byte::NewTrue | byte::NewFalse => {
                self.stack.items.push(Value::Bool(data[p] == byte::NewTrue));
                return Some((1, Ok(())));
            }
            // Up to 8 bytes is an i64; longer ones are decoded below.
            byte::Long1 if data.get(p + 1).is_some_and(|&n| n <= 8) => {
                let [n] = fixed(data, p)?;
                let n = usize::from(n);
                data.get(p + 2..p + 2 + n)?;
                self.stack
                    .items
                    .push(Value::Int(small_long(data, p + 2, n)));
                return Some((2 + n, Ok(())));
            }
            // Memo traffic: straight between the stack and the memo.
            // A GET followed by more (a list of shared values): the rest of
            // the run in one loop.
            byte::BinGet | byte::LongBinGet => {
                let (len, op, idx) = get_arg(data, p)?;
                let r = self.push_memo(idx);
                if r.is_ok()
                    && matches!(
                        data.get(p + len).copied(),
                        Some(byte::BinGet | byte::LongBinGet)
                    )
                {
                    return Some((len + self.get_run(data, p + len), Ok(())));
                }
                (len, op, r)
            }
            byte::BinPut => {
                let [i] = fixed(data, p)?;
                (2, Opcode::BinPut, self.memo_top(i.into()))
            }
            byte::LongBinPut => {
                let i = u32::from_le_bytes(fixed(data, p)?);
                (5, Opcode::LongBinPut, self.memo_top(i.into()))
            }
            byte::Memoize => (1, Opcode::Memoize, self.memo_top(self.memo.len() as u64)),
            // New objects; the PUT or MEMOIZE that follows them is done
            // here too (see `push_and_memoize`).
            byte::ShortBinUnicode => {
                let [n] = fixed(data, p)?;
                let b = data.get(p + 2..p + 2 + usize::from(n))?;
                let len = 2 + b.len();
                let r = self.str_value(offset, b);
                return Some(self.push_and_memoize(
                    data,
                    p + len,
                    len,
                    r,
                    Opcode::ShortBinUnicode,
                    offset,
                ));
            }
            byte::BinUnicode => {
                let n = u32::from_le_bytes(fixed(data, p)?) as usize;
                let b = data.get(p + 5..)?.get(..n)?;
                let r = self.str_value(offset, b);
                return Some(self.push_and_memoize(
                    data,
                    p + 5 + n,
                    5 + n,
                    r,
                    Opcode::BinUnicode,
                    offset,
                ));
            }
            // One arm each, so that each node is a constant built straight
            // in the arena, not chosen at run time and copied (see "Built in
            // place, memoized from a register" in benches/README.md).
            byte::EmptyList => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::List(Items::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyList,
                    offset,
                ));
            }
            byte::EmptyDict => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::Dict(Pairs::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyDict,
                    offset,
                ));
            }
            byte::EmptyTuple => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::Tuple(Items::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyTuple,
                    offset,
                ));
            }
            byte::Mark => (1, Opcode::Mark, self.mark()),
            byte::Appends => (1, Opcode::Appends, self.appends()),
            byte::SetItems => (1, Opcode::SetItems, self.setitems()),
            _ => {
                let (op, arg, len) = crate::codec::read::decode_fast(data, p)?;
                if matches!(op, Opcode::Frame | Opcode::Stop) || (hook && op == Opcode::Build) {
                    return None;
                }
                self.track_origin(offset, &arg);
                let budget = offset.saturating_mul(8).saturating_add(1 << 20);
                (len, op, self.step(op, arg, budget))
            }
        };
        Some((len, r.map_err(|e| e.in_opcode(op).at(offset))))
    }

    /// A new str node (`*UNICODE*`).
    #[inline]
    fn str_value(&mut self, offset: u64, payload: &[u8]) -> Result<NodeId> {
        self.track_origin(offset, &Arg::Unicode(Cow::Borrowed(payload)));
        self.str_id(payload)
    }

    /// Push `made`, the new object of the `len`-byte instruction `op` at
    /// `offset`, and when the next instruction (at `next`) is the usual
    /// in-order `BINPUT`/`LONG_BINPUT`/`MEMOIZE` of it, store it in the memo
    /// right away, from the value in hand rather than by reading back the
    /// stack slot just written, and with one dispatch fewer (see "Built in
    /// place, memoized from a register" in benches/README.md). Any other case
    /// (an index out of order, the memo limit) is left to the instruction
    /// itself.
    #[inline(always)]
    fn push_and_memoize(
        &mut self,
        data: &[u8],
        next: usize,
        len: usize,
        made: Result<NodeId>,
        op: Opcode,
        offset: u64,
    ) -> (usize, Result<()>) {
        let v = match made {
            Ok(id) => Value::Ref(id),
            Err(e) => return (len, Err(e.in_opcode(op).at(offset))),
        };
        self.stack.items.push(v);
        let put = match data.get(next).copied() {
            Some(byte::BinPut) => fixed::<1>(data, next).map(|[i]| (u64::from(i), 2)),
            Some(byte::LongBinPut) => {
                fixed(data, next).map(|b| (u64::from(u32::from_le_bytes(b)), 5))
            }
            Some(byte::Memoize) => Some((self.memo.len() as u64, 1)),
            _ => None,
        };
        match put {
            Some((idx, put_len)) if self.memo.put_next(idx, v) => (len + put_len, Ok(())),
            _ => (len, Ok(())),
        }
    }

    /// Push the values of the `BINGET`/`LONG_BINGET` instructions from
    /// `data[p]` on, as long as each is whole and its index is in the memo;
    /// the bytes they took. A GET that fails is left to the
    /// single-instruction path, which reports it. Out of line: the loop
    /// pays one call per run, and the main loop stays as compact as it was.
    #[inline(never)]
    fn get_run(&mut self, data: &[u8], p: usize) -> usize {
        let Machine { stack, memo, .. } = self;
        let mut q = p;
        while let Some((len, _, idx)) = get_arg(data, q) {
            match memo.get_ref(idx) {
                Some(v) => stack.items.extend_from_slice(std::slice::from_ref(v)),
                None => break,
            }
            q += len;
        }
        q - p
    }
}

/// The `N` argument bytes after the opcode at `p`, if they are all there.
#[inline(always)]
fn fixed<const N: usize>(data: &[u8], p: usize) -> Option<[u8; N]> {
    data.get(p + 1..p + 1 + N)?.try_into().ok()
}

/// The `BINGET`/`LONG_BINGET` at `data[p]`: its length, opcode and memo
/// index; `None` for anything else or a GET cut short.
#[inline(always)]
fn get_arg(data: &[u8], p: usize) -> Option<(usize, Opcode, u64)> {
    match *data.get(p)? {
        byte::BinGet => fixed(data, p).map(|[i]| (2, Opcode::BinGet, u64::from(i))),
        byte::LongBinGet => {
            fixed(data, p).map(|i| (5, Opcode::LongBinGet, u64::from(u32::from_le_bytes(i))))
        }
        _ => None,
    }
}

/// The LONG1 payload of `n` (at most 8) bytes at `data[at..]`, which the
/// caller checked is there: little-endian two's complement (as
/// [`crate::text::long_from_le`], without the big-integer case). Reads one
/// whole 8-byte word where the input has it rather than copying `n` bytes
/// into a buffer (see "LONG1 as one word" in benches/README.md), and shifts
/// the bytes past the payload out ([`crate::text::long_from_le_word`]).
#[inline(always)]
fn small_long(data: &[u8], at: usize, n: usize) -> i64 {
    let word = match data.get(at..at + 8) {
        Some(w) => w.try_into().unwrap_or([0; 8]),
        None => {
            let mut x = [0u8; 8];
            for (d, s) in x.iter_mut().zip(data.get(at..at + n).unwrap_or_default()) {
                *d = *s;
            }
            x
        }
    };
    crate::codec::text::long_from_le_word(u64::from_le_bytes(word), n)
}

#[cfg(test)]
mod tests {
    use crate::{loads, Category};

    #[test]
    fn small_long_matches_long_from_le() {
        let mut data = vec![0u8; 24];
        for seed in 0..2000u32 {
            let x = seed.wrapping_mul(2_654_435_761);
            for (i, b) in data.iter_mut().enumerate() {
                *b = (x >> (i % 4 * 8)) as u8 ^ (i as u8).wrapping_mul(37);
            }
            for n in 0..=8 {
                // In the middle (whole word read) and at the very end (bytewise).
                for at in [3, data.len() - n] {
                    let want = match crate::codec::text::long_from_le(&data[at..at + n]) {
                        crate::codec::text::Int::Small(i) => i,
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(super::small_long(&data, at, n), want, "{n} at {at}");
                }
            }
        }
    }

    /// A run of GETs is pushed in one loop; a GET of a missing index in it
    /// still fails at its own offset, and a truncated one as at the end.
    #[test]
    fn get_runs() {
        let d = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01j\x01\x00\x00\x00h\x00h\x01e.")
            .unwrap();
        let items = d.root().as_slice().unwrap();
        assert_eq!(items.len(), 5);
        assert!(items[1] == items[0] && items[2] == items[0] && items[4] == items[0]);
        assert_eq!(items[3], d.root_value());
        assert_eq!(d.root().index(4).unwrap().as_str(), Some("a"));
        let e = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01h\x01h\x07h\x01e.").unwrap_err();
        assert_eq!(e.offset(), Some(18), "{e}");
        assert!(
            e.to_string().contains("Memo value not found at index 7"),
            "{e}"
        );
        let e = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01h\x01j\x01\x00").unwrap_err();
        assert_eq!(e.category(), Category::Eof, "{e}");
    }
}
