//! The instruction writer: one method per opcode (or family of opcodes),
//! each choosing the encoding CPython 3.11's `_pickle.c` picks for the
//! protocol. No values, no memo policy: just bytes into a buffer, framed at
//! protocol 4+ through `Framer` (`codec/framing.rs`).
//!
//! Encodings, as `_pickle.c` writes them:
//!
//! * ints in `i32` range: `BININT1`/`BININT2`/`BININT` at protocol 1+,
//!   `I<decimal>\n` at protocol 0; beyond: `LONG1`/`LONG4` at protocol 2+,
//!   `L<decimal>L\n` below (never through the large-payload bypass);
//! * bools: `NEWTRUE`/`NEWFALSE` at protocol 2+, `I01\n`/`I00\n` below;
//! * floats: `BINFLOAT` at protocol 1+, `F<repr>\n` at protocol 0;
//! * str: `UNICODE` (raw-unicode-escape, with `\`, NUL, `\n`, `\r` and
//!   `\x1a` also escaped) at protocol 0, else `SHORT_BINUNICODE` (protocol
//!   4+, up to 255 bytes), `BINUNICODE`, `BINUNICODE8` (protocol 4+);
//! * bytes: `SHORT_BINBYTES`/`BINBYTES`/`BINBYTES8` (protocol 3+);
//! * payloads of 64 KiB or more (str, bytes, bytearray) bypass framing.

use num_bigint::BigInt;

use crate::codec::float_repr::float_repr_into;
use crate::codec::framing::{Framer, FRAME_SIZE_TARGET};
use crate::codec::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::codec::text;
use crate::error::{Error, Result};

/// Items per `APPENDS`, `SETITEMS` and `ADDITEMS`, as CPython's `BATCHSIZE`:
/// every writer of containers batches by it, so their bytes are CPython's.
pub(crate) const BATCH: usize = 1000;

/// The buffer's first allocation, as `_pickle.c`'s `WRITE_BUF_SIZE`.
const INITIAL_CAPACITY: usize = 4096;

/// Spare room the writer makes at each object boundary, so that what one
/// object writes besides its payloads (opcodes, lengths, a float's repr, a
/// memo index; payloads make their own room) never grows the buffer the
/// way `Vec` would by itself: doubling it.
const HEADROOM: usize = 512;

/// From this capacity on the buffer grows by half, not by double, as
/// `_pickle.c` grows its output (`(len + n) / 2 * 3`): a large pickle then
/// ends in at most half again its size, not up to twice it (a 25 MB pickle
/// in 27 MiB, not 32 MiB: a block past the C allocator's mapping threshold
/// is mapped afresh, and faulted in page by page, at every call). Below it,
/// doubling: fewer copies while they are cheap.
const GROW_BY_HALF_FROM: usize = 8 << 20;

/// Writes pickle instructions into an in-memory buffer, which grows by the
/// writer's own policy (doubling, then by half: see `GROW_BY_HALF_FROM`).
#[derive(Debug)]
pub struct InstrWriter {
    buf: Vec<u8>,
    framer: Framer,
    protocol: u8,
    /// The buffer length from which [`InstrWriter::boundary`] has work: the
    /// open frame reaching its target size, or the spare room falling under
    /// [`HEADROOM`]; one comparison per object. Recomputed whenever the
    /// framer or the capacity changes (a stale low value only costs a call
    /// of the slow path).
    check_at: usize,
}

impl InstrWriter {
    /// A writer for `protocol` (0 to 5).
    pub fn new(protocol: u8) -> Result<InstrWriter> {
        if protocol > HIGHEST_PROTOCOL {
            return Err(Error::unsupported(format!(
                "pickle protocol must be <= {HIGHEST_PROTOCOL}, not {protocol}"
            )));
        }
        Ok(InstrWriter {
            buf: Vec::new(),
            framer: Framer::default(),
            protocol,
            check_at: 0,
        })
    }

    /// Make sure `n` more bytes fit without `Vec` growing on its own.
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.grow(n);
        }
    }

    /// Grow to hold `n` more bytes: from [`INITIAL_CAPACITY`], doubling
    /// up to [`GROW_BY_HALF_FROM`], then by half.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let cap = self.buf.capacity();
        let step = if cap < GROW_BY_HALF_FROM {
            cap
        } else {
            cap / 2
        };
        let want = cap
            .saturating_add(step)
            .max(self.buf.len().saturating_add(n))
            .max(INITIAL_CAPACITY);
        self.buf.reserve_exact(want - self.buf.len());
        self.recheck();
    }

    /// The protocol being written.
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// True at protocol 1 and above (`self->bin` in `_pickle.c`).
    #[inline]
    pub fn bin(&self) -> bool {
        self.protocol >= 1
    }

    /// The bytes written so far (a frame may still be open at the end).
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes written, once [`InstrWriter::stop`] closed the last frame.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// True if a frame holding bytes is open: the buffer must not be flushed.
    /// (At protocol 4+ the next frame is opened as soon as one is committed;
    /// until it holds bytes, what precedes it may be flushed.)
    pub fn frame_open(&self) -> bool {
        self.framer.holds_bytes(&self.buf)
    }

    /// How many bytes [`InstrWriter::take_flushable`] would hand over.
    pub fn flushable_len(&self) -> usize {
        self.framer.flushable(&self.buf)
    }

    /// Hand over the final buffered bytes, those before any open frame (for
    /// streaming); `None` if there are none.
    pub fn take_flushable(&mut self) -> Option<Vec<u8>> {
        let n = self.framer.flushable(&self.buf);
        if n == 0 {
            return None;
        }
        let rest = self.buf[n..].to_vec();
        let mut out = std::mem::replace(&mut self.buf, rest);
        out.truncate(n);
        self.framer.consumed(n);
        self.recheck();
        Some(out)
    }

    /// Append raw bytes. At protocol 4+ a frame is always open between
    /// [`InstrWriter::proto`] and [`InstrWriter::stop`] (see `codec/framing.rs`), so
    /// nothing needs checking.
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// [`InstrWriter::raw`] for what may be long (text lines, a big int's
    /// bytes): room is made first, by the writer's growth policy. Short
    /// writes fit in the room made at each object boundary.
    fn raw_long(&mut self, bytes: &[u8]) {
        self.room(bytes.len());
        self.buf.extend_from_slice(bytes);
    }

    /// One argument-less opcode.
    #[inline]
    pub fn op(&mut self, op: Opcode) {
        self.buf.push(op.byte());
    }

    /// The opening `PROTO n` (protocol 2+), which also switches framing on
    /// (and opens the first frame) at 4+.
    pub fn proto(&mut self) {
        if self.protocol >= 2 {
            self.buf.push(Opcode::Proto.byte());
            self.buf.push(self.protocol);
            if self.protocol >= 4 {
                self.framer.start(&mut self.buf);
            }
            self.recheck();
        }
    }

    /// `STOP`, then close the last frame.
    pub fn stop(&mut self) {
        self.op(Opcode::Stop);
        self.framer.commit(&mut self.buf);
        self.framer.enabled = false;
        self.recheck();
    }

    /// End of one object: commit the frame if it reached the target size.
    /// Returns true if a frame was committed.
    #[inline]
    pub fn boundary(&mut self) -> bool {
        if self.buf.len() >= self.check_at {
            return self.boundary_work();
        }
        false
    }

    /// [`InstrWriter::boundary`] when there is work: room to make, a frame
    /// to commit.
    #[cold]
    #[inline(never)]
    fn boundary_work(&mut self) -> bool {
        self.room(HEADROOM);
        let committed = self.framer.boundary(&mut self.buf);
        self.recheck();
        committed
    }

    /// Recompute [`InstrWriter::check_at`].
    fn recheck(&mut self) {
        self.check_at = self
            .framer
            .commit_at()
            .min(self.buf.capacity().saturating_sub(HEADROOM));
    }

    /// `NONE`.
    #[inline]
    pub fn none(&mut self) {
        self.op(Opcode::None);
    }

    /// An empty tuple: `EMPTY_TUPLE`, or `MARK TUPLE` at protocol 0.
    pub fn empty_tuple(&mut self) {
        if self.bin() {
            self.op(Opcode::EmptyTuple);
        } else {
            self.op(Opcode::Mark);
            self.op(Opcode::Tuple);
        }
    }

    /// A bool.
    #[inline]
    pub fn bool(&mut self, b: bool) {
        if self.protocol >= 2 {
            self.op(if b { Opcode::NewTrue } else { Opcode::NewFalse });
        } else {
            self.raw(if b { b"I01\n" } else { b"I00\n" });
        }
    }

    /// An int.
    #[inline]
    pub fn int(&mut self, v: i64) {
        match i32::try_from(v) {
            Ok(v32) if self.bin() => self.binint(v32),
            Err(_) if self.protocol >= 2 => self.long1(v),
            _ => self.int_other(v),
        }
    }

    /// `LONG1` of an `i64`: the fewest little-endian two's complement bytes
    /// (an `i64` needs at most 8), written as one fixed-size copy and
    /// trimmed, so no copy of a variable length.
    #[inline]
    fn long1(&mut self, v: i64) {
        // Significant bits: those below the sign bits, plus one sign bit.
        let magnitude = v ^ (v >> 63);
        let n = (72 - magnitude.leading_zeros() as usize) / 8;
        let mut b = [0u8; 10];
        b[0] = Opcode::Long1.byte();
        b[1] = n as u8;
        b[2..].copy_from_slice(&v.to_le_bytes());
        self.buf.extend_from_slice(&b);
        self.buf.truncate(self.buf.len() - (8 - n));
    }

    /// `BININT1`/`BININT2`/`BININT`: the hot path of [`InstrWriter::int`].
    #[inline]
    fn binint(&mut self, v: i32) {
        if (0..=0xff).contains(&v) {
            self.raw(&[Opcode::BinInt1.byte(), v as u8]);
        } else if (0..=0xffff).contains(&v) {
            let b = (v as u16).to_le_bytes();
            self.raw(&[Opcode::BinInt2.byte(), b[0], b[1]]);
        } else {
            let b = v.to_le_bytes();
            self.raw(&[Opcode::BinInt.byte(), b[0], b[1], b[2], b[3]]);
        }
    }

    /// An int at protocol 0, or beyond `i32`.
    fn int_other(&mut self, v: i64) {
        if i32::try_from(v).is_ok() {
            self.decimal_line(b'I', v < 0, v.unsigned_abs(), b"\n");
        } else if self.protocol >= 2 {
            self.long1(v);
        } else {
            self.decimal_line(b'L', v < 0, v.unsigned_abs(), b"L\n");
        }
    }

    /// An int of any size.
    pub fn bigint(&mut self, v: &BigInt) {
        if let Ok(i) = i64::try_from(v) {
            return self.int(i);
        }
        if self.protocol >= 2 {
            self.long_bytes(&text::long_to_le(v));
        } else {
            self.raw_long(format!("L{v}L\n").as_bytes());
        }
    }

    fn long_bytes(&mut self, le: &[u8]) {
        if le.len() < 256 {
            self.raw(&[Opcode::Long1.byte(), le.len() as u8]);
        } else {
            let mut h = [Opcode::Long4.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(le.len() as u32).to_le_bytes());
            self.raw(&h);
        }
        self.raw_long(le);
    }

    /// A float.
    #[inline]
    pub fn float(&mut self, v: f64) {
        if self.bin() {
            let mut b = [0u8; 9];
            b[0] = Opcode::BinFloat.byte();
            b[1..].copy_from_slice(&v.to_be_bytes());
            self.raw(&b);
        } else {
            self.float_text(v);
        }
    }

    /// `F<repr>\n` (protocol 0), formatted in place.
    fn float_text(&mut self, v: f64) {
        let mut repr = [0u8; 32];
        let n = float_repr_into(v, &mut repr);
        self.buf.push(b'F');
        self.buf.extend_from_slice(&repr[..n]);
        self.buf.push(b'\n');
    }

    /// A protocol 0 text argument: `op`, the decimal digits of an integer
    /// (negative if `neg`), then `end`, without a temporary `String`.
    fn decimal_line(&mut self, op: u8, neg: bool, magnitude: u64, end: &[u8]) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut m = magnitude;
        loop {
            i -= 1;
            digits[i] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        self.buf.push(op);
        if neg {
            self.buf.push(b'-');
        }
        self.buf.extend_from_slice(&digits[i..]);
        self.buf.extend_from_slice(end);
    }

    /// A str given in Python's UTF-8 (lone surrogates allowed).
    #[inline]
    pub fn str(&mut self, utf8: &[u8]) -> Result<()> {
        let n = utf8.len();
        if n <= 0xff && self.protocol >= 4 {
            self.payload(&[Opcode::ShortBinUnicode.byte(), n as u8], utf8);
            Ok(())
        } else if n as u64 <= 0xffff_ffff && self.bin() {
            let mut h = [Opcode::BinUnicode.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            self.payload(&h, utf8);
            Ok(())
        } else {
            self.str_other(utf8)
        }
    }

    /// A str at protocol 0, or of 4 GiB or more: [`InstrWriter::str`]'s
    /// rarer cases, out of line.
    fn str_other(&mut self, utf8: &[u8]) -> Result<()> {
        if !self.bin() {
            let mut line = Vec::with_capacity(utf8.len() + 2);
            line.push(Opcode::Unicode.byte());
            raw_unicode_escape_into(&mut line, utf8);
            line.push(b'\n');
            self.raw_long(&line);
            return Ok(());
        }
        let n = utf8.len();
        if n <= 0xff && self.protocol >= 4 {
            self.payload(&[Opcode::ShortBinUnicode.byte(), n as u8], utf8);
        } else if n as u64 <= 0xffff_ffff {
            let mut h = [Opcode::BinUnicode.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            self.payload(&h, utf8);
        } else if self.protocol >= 4 {
            self.payload(&header8(Opcode::BinUnicode8, n), utf8);
        } else {
            return Err(Error::data(
                "serializing a string larger than 4 GiB requires pickle protocol 4 or higher",
            ));
        }
        Ok(())
    }

    /// `bytes` (protocol 3+).
    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        if self.protocol < 3 {
            return Err(Error::unsupported(
                "bytes opcodes need protocol 3 or higher",
            ));
        }
        let n = b.len();
        if n <= 0xff {
            self.payload(&[Opcode::ShortBinBytes.byte(), n as u8], b);
        } else if n as u64 <= 0xffff_ffff {
            let mut h = [Opcode::BinBytes.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            self.payload(&h, b);
        } else if self.protocol >= 4 {
            self.payload(&header8(Opcode::BinBytes8, n), b);
        } else {
            return Err(Error::data(
                "cannot serialize a bytes object larger than 4 GiB",
            ));
        }
        Ok(())
    }

    /// `BYTEARRAY8` (protocol 5).
    pub fn bytearray8(&mut self, b: &[u8]) -> Result<()> {
        if self.protocol < 5 {
            return Err(Error::unsupported("BYTEARRAY8 needs protocol 5"));
        }
        self.payload(&header8(Opcode::ByteArray8, b.len()), b);
        Ok(())
    }

    #[inline]
    fn payload(&mut self, header: &[u8], data: &[u8]) {
        // The header, the data, and what usually follows (a memo opcode,
        // the next frame's header).
        // A short payload fits in the room made at its object's boundary.
        if data.len() >= HEADROOM / 2 {
            self.room(header.len() + data.len() + HEADROOM);
        }
        self.framer.write_with_payload(&mut self.buf, header, data);
        if data.len() >= FRAME_SIZE_TARGET {
            // Written outside frames: the framer committed and reopened.
            self.recheck();
        }
    }

    /// Store the top of the stack in the memo at `idx` (`MEMOIZE` at
    /// protocol 4+, where `idx` must be the memo's size).
    #[inline]
    pub fn put(&mut self, idx: u64) -> Result<()> {
        if self.protocol >= 4 {
            self.op(Opcode::Memoize);
            Ok(())
        } else if idx < 256 && self.bin() {
            self.raw(&[Opcode::BinPut.byte(), idx as u8]);
            Ok(())
        } else if idx <= 0xffff_ffff && self.bin() {
            let mut h = [Opcode::LongBinPut.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(idx as u32).to_le_bytes());
            self.raw(&h);
            Ok(())
        } else {
            self.put_other(idx)
        }
    }

    /// [`InstrWriter::put`] at protocol 0, or past index 255.
    fn put_other(&mut self, idx: u64) -> Result<()> {
        if self.protocol >= 4 {
            self.op(Opcode::Memoize);
        } else if !self.bin() {
            self.decimal_line(b'p', false, idx, b"\n");
        } else if idx < 256 {
            self.raw(&[Opcode::BinPut.byte(), idx as u8]);
        } else if idx <= 0xffff_ffff {
            let mut h = [Opcode::LongBinPut.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(idx as u32).to_le_bytes());
            self.raw(&h);
        } else {
            return Err(Error::limit("memo id too large for LONG_BINPUT"));
        }
        Ok(())
    }

    /// Push memo entry `idx`.
    #[inline]
    pub fn get(&mut self, idx: u64) -> Result<()> {
        if !self.bin() {
            self.get_text(idx);
        } else if idx < 256 {
            self.raw(&[Opcode::BinGet.byte(), idx as u8]);
        } else if idx <= 0xffff_ffff {
            let mut h = [Opcode::LongBinGet.byte(), 0, 0, 0, 0];
            h[1..].copy_from_slice(&(idx as u32).to_le_bytes());
            self.raw(&h);
        } else {
            return Err(Error::limit("memo id too large for LONG_BINGET"));
        }
        Ok(())
    }

    /// `g<idx>\n` (protocol 0).
    fn get_text(&mut self, idx: u64) {
        self.decimal_line(b'g', false, idx, b"\n");
    }

    /// `GLOBAL` or `INST` with its two text lines. Names are encoded in
    /// ASCII, or UTF-8 at protocol 3+ (as `_pickle.c` does for 3; 4+ only
    /// gets here for hand-made `INST`).
    pub fn global_text(&mut self, op: Opcode, module: &str, name: &str) -> Result<()> {
        for s in [module, name] {
            // CPython's reader wants each line to hold a character.
            if s.is_empty() {
                return Err(Error::data(format!(
                    "can't pickle global identifier {module:?}.{name:?} with {}: an empty name \
                     cannot be read back (STACK_GLOBAL, protocol 4, can write it)",
                    op.name()
                )));
            }
            if s.contains('\n') {
                return Err(Error::data(format!(
                    "can't pickle global identifier {s:?}: it contains a newline"
                )));
            }
            if self.protocol < 3 && !s.is_ascii() {
                return Err(Error::data(format!(
                    "can't pickle global identifier '{s}' using pickle protocol {}",
                    self.protocol
                )));
            }
        }
        let mut line = Vec::with_capacity(module.len() + name.len() + 3);
        line.push(op.byte());
        line.extend_from_slice(module.as_bytes());
        line.push(b'\n');
        line.extend_from_slice(name.as_bytes());
        line.push(b'\n');
        self.raw_long(&line);
        Ok(())
    }

    /// `PERSID <text>\n` (protocol 0).
    pub fn persid_text(&mut self, text: &str) -> Result<()> {
        if !text.is_ascii() {
            return Err(Error::data(
                "persistent IDs in protocol 0 must be ASCII strings",
            ));
        }
        if text.contains('\n') {
            return Err(Error::data(
                "persistent IDs in protocol 0 must not contain a newline",
            ));
        }
        let mut line = Vec::with_capacity(text.len() + 2);
        line.push(Opcode::PersId.byte());
        line.extend_from_slice(text.as_bytes());
        line.push(b'\n');
        self.raw_long(&line);
        Ok(())
    }

    /// `EXT1`/`EXT2`/`EXT4` (protocol 2+).
    pub fn ext(&mut self, code: i32) -> Result<()> {
        if self.protocol < 2 {
            return Err(Error::unsupported(
                "extension codes need protocol 2 or higher",
            ));
        }
        if code <= 0 {
            return Err(Error::data(format!(
                "extension code {code} is out of range"
            )));
        }
        if code <= 0xff {
            self.raw(&[Opcode::Ext1.byte(), code as u8]);
        } else if code <= 0xffff {
            let b = (code as u16).to_le_bytes();
            self.raw(&[Opcode::Ext2.byte(), b[0], b[1]]);
        } else {
            let b = code.to_le_bytes();
            self.raw(&[Opcode::Ext4.byte(), b[0], b[1], b[2], b[3]]);
        }
        Ok(())
    }
}

fn header8(op: Opcode, n: usize) -> [u8; 9] {
    let mut h = [0u8; 9];
    h[0] = op.byte();
    h[1..].copy_from_slice(&(n as u64).to_le_bytes());
    h
}

/// `_pickle.c`'s `raw_unicode_escape`: code points above U+FFFF as
/// `\Uxxxxxxxx`, above U+00FF and `\`, NUL, `\n`, `\r`, `\x1a` as `\uxxxx`
/// (lowercase hex), everything else as one Latin-1 byte.
pub(crate) fn raw_unicode_escape_into(out: &mut Vec<u8>, utf8: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for cp in text::code_points(utf8) {
        if cp >= 0x10000 {
            out.extend_from_slice(b"\\U");
            for k in (0..8).rev() {
                out.push(HEX[((cp >> (4 * k)) & 0xf) as usize]);
            }
        } else if cp >= 0x100 || matches!(cp, 0x5c | 0 | 0x0a | 0x0d | 0x1a) {
            out.extend_from_slice(b"\\u");
            for k in (0..4).rev() {
                out.push(HEX[((cp >> (4 * k)) & 0xf) as usize]);
            }
        } else {
            out.push(cp as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_grow_by_half() {
        // 30 MB of strs at protocol 4 and 2: the buffer only ever grows by
        // the writer's policy (never doubled past GROW_BY_HALF_FROM by Vec).
        for protocol in [4, 2] {
            let mut w = InstrWriter::new(protocol).unwrap();
            w.proto();
            let s = vec![b'a'; 300];
            let mut caps = vec![w.buf.capacity()];
            for _ in 0..100_000 {
                w.boundary();
                w.str(&s).unwrap();
                if w.buf.capacity() != *caps.last().unwrap() {
                    caps.push(w.buf.capacity());
                }
            }
            w.stop();
            for c in caps.windows(2) {
                if c[0] >= GROW_BY_HALF_FROM {
                    assert!(c[1] <= c[0] + c[0] / 2 + HEADROOM, "{caps:?}");
                }
            }
            let len = w.buf.len();
            assert!(w.buf.capacity() <= len + len / 2 + HEADROOM, "{caps:?}");
            // A payload past the frame size is written outside frames, and
            // the boundaries that follow still commit frames on time.
            let mut w = InstrWriter::new(protocol).unwrap();
            w.proto();
            w.boundary();
            w.str(&vec![b'b'; FRAME_SIZE_TARGET * 3]).unwrap();
            for _ in 0..1000 {
                w.boundary();
                w.str(&s).unwrap();
            }
            w.stop();
            let ops = crate::codec::opcodes::Opcode::Frame.byte();
            let frames = w.buf.iter().filter(|&&b| b == ops).count();
            assert!(protocol < 4 || frames >= 4, "{frames} frames");
        }
    }
    use crate::python::repr::repr_float;

    fn w(p: u8, f: impl FnOnce(&mut InstrWriter)) -> Vec<u8> {
        let mut w = InstrWriter::new(p).unwrap();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    fn ints() {
        assert_eq!(w(0, |w| w.int(-5)), b"I-5\n");
        assert_eq!(w(1, |w| w.int(255)), b"K\xff");
        assert_eq!(w(1, |w| w.int(256)), b"M\x00\x01");
        assert_eq!(w(1, |w| w.int(65536)), b"J\x00\x00\x01\x00");
        assert_eq!(w(1, |w| w.int(-1)), b"J\xff\xff\xff\xff");
        assert_eq!(w(1, |w| w.int(1 << 40)), b"L1099511627776L\n");
        assert_eq!(
            w(2, |w| w.int(1 << 40)),
            b"\x8a\x06\x00\x00\x00\x00\x00\x01"
        );
        assert_eq!(
            w(2, |w| w.int(i64::MIN)),
            b"\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80"
        );
        let big: BigInt = BigInt::from(1) << 2100;
        let out = w(2, |w| w.bigint(&big));
        assert_eq!(&out[..5], b"\x8b\x07\x01\x00\x00");
        assert_eq!(out.len(), 5 + 263);
        assert_eq!(w(0, |w| w.bool(true)), b"I01\n");
        assert_eq!(w(1, |w| w.bool(false)), b"I00\n");
        assert_eq!(w(2, |w| w.bool(false)), b"\x89");
    }

    #[test]
    fn protocol_0_text_lines() {
        assert_eq!(w(0, |w| w.int(0)), b"I0\n");
        assert_eq!(w(0, |w| w.int(i32::MIN as i64)), b"I-2147483648\n");
        assert_eq!(w(0, |w| w.int(i64::MIN)), b"L-9223372036854775808L\n");
        assert_eq!(w(1, |w| w.int(i64::MAX)), b"L9223372036854775807L\n");
        assert_eq!(w(0, |w| w.put(u32::MAX as u64).unwrap()), b"p4294967295\n");
        assert_eq!(w(0, |w| w.get(0).unwrap()), b"g0\n");
        assert_eq!(w(0, |w| w.float(-0.5)), b"F-0.5\n");
        assert_eq!(w(0, |w| w.float(1e22)), b"F1e+22\n");
    }

    #[test]
    fn long1_matches_the_generic_encoding() {
        let mut cases = vec![i64::MIN, i64::MAX, 0, -1];
        for k in 0..63 {
            let p = 1i64 << k;
            cases.extend([p, p - 1, p + 1, -p, -p - 1, -p + 1]);
        }
        for v in cases {
            let mut fast = InstrWriter::new(2).unwrap();
            fast.long1(v);
            let (b, n) = text::i64_to_le(v);
            let mut want = vec![Opcode::Long1.byte(), n as u8];
            want.extend_from_slice(&b[..n]);
            if v != 0 {
                assert_eq!(fast.into_bytes(), want, "{v}");
            }
        }
    }

    #[test]
    fn strs_and_memo() {
        assert_eq!(
            w(0, |w| w
                .str("a\\\0\n\r\x1a\u{80}\u{ff}\u{100}\u{1f642} z".as_bytes())
                .unwrap()),
            b"Va\\u005c\\u0000\\u000a\\u000d\\u001a\x80\xff\\u0100\\U0001f642 z\n"
        );
        assert_eq!(w(0, |w| w.str(b"\xed\xa0\x80").unwrap()), b"V\\ud800\n");
        assert_eq!(w(3, |w| w.str(b"ab").unwrap()), b"X\x02\x00\x00\x00ab");
        assert_eq!(w(4, |w| w.str(b"ab").unwrap()), b"\x8c\x02ab");
        assert_eq!(w(0, |w| w.put(7).unwrap()), b"p7\n");
        assert_eq!(w(1, |w| w.put(300).unwrap()), b"r\x2c\x01\x00\x00");
        assert_eq!(w(4, |w| w.put(300).unwrap()), b"\x94");
        assert_eq!(w(4, |w| w.get(3).unwrap()), b"h\x03");
        assert_eq!(w(0, |w| w.get(3).unwrap()), b"g3\n");
        assert!(InstrWriter::new(6).is_err());
    }

    #[test]
    fn float_repr_edge_cases() {
        for (v, s) in [
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789.0, "123456789.0"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(repr_float(v), s);
        }
    }

    /// `(bits, repr)` pairs printed by CPython 3.11 (`tests/data/float_repr.txt`).
    #[test]
    fn float_repr_matches_python() {
        let table = include_str!("../../tests/data/float_repr.txt");
        let mut n = 0;
        for line in table.lines() {
            let (bits, want) = line.split_once(' ').unwrap();
            let v = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
            assert_eq!(repr_float(v), want, "bits {bits}");
            n += 1;
        }
        assert!(n > 1000);
    }
}
