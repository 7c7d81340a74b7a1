//! The instruction reader: bytes in, [`Instruction`]s (opcode, argument, offset) out.
//!
//! Two sources implement the sealed [`Read`] trait: [`SliceRead`] borrows from
//! a byte slice, [`IoRead`] buffers an [`std::io::Read`] without ever
//! allocating more than the bytes that actually arrived. Frames (protocol 4's
//! `FRAME` opcode) are tracked by `FrameTracker` (in `codec/framing.rs`); this module
//! knows nothing about values.

use std::borrow::Cow;

use num_bigint::BigInt;

use crate::codec::framing::FrameTracker;
use crate::codec::opcodes::{ArgKind, Opcode};
use crate::codec::text;
use crate::error::{Error, Result};

/// The longest text line (a protocol-0 argument) accepted by default.
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

/// An opcode's decoded inline argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<'a> {
    /// No argument.
    None,
    /// `INT 00` / `INT 01`: the protocol-0 spelling of False and True.
    Bool(bool),
    /// An integer argument that fits in i64 (all fixed-width ints, memo
    /// indices, and decimal or LONG1/LONG4 values that fit).
    Int(i64),
    /// An unsigned 64-bit argument (`FRAME`'s length).
    U64(u64),
    /// An integer that does not fit in i64.
    BigInt(BigInt),
    /// A float (`FLOAT`, `BINFLOAT`).
    Float(f64),
    /// Raw bytes: `bytes`, `bytearray` and Python 2 `str` payloads, and
    /// `STRING`'s unescaped literal.
    Bytes(Cow<'a, [u8]>),
    /// Text in Python's UTF-8 with lone surrogates allowed (`surrogatepass`),
    /// not yet validated: `*UNICODE*` payloads.
    Unicode(Cow<'a, [u8]>),
    /// A newline-ended text argument without its newline (`PERSID`).
    Text(&'a [u8]),
    /// Module and name of `GLOBAL` and `INST`.
    Pair(&'a [u8], &'a [u8]),
}

impl From<text::Int> for Arg<'_> {
    fn from(i: text::Int) -> Self {
        match i {
            text::Int::Small(i) => Arg::Int(i),
            text::Int::Big(b) => Arg::BigInt(b),
        }
    }
}

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Instruction<'a> {
    /// Byte offset of the opcode from the start of the input.
    pub offset: u64,
    /// The opcode.
    pub op: Opcode,
    /// Its argument.
    pub arg: Arg<'a>,
}

mod private {
    pub trait Sealed {}
}

/// A span of bytes inside a [`Read`] source's buffer, valid until the next read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start: usize,
    end: usize,
}

/// A source of pickle bytes. Sealed: use [`SliceRead`] or [`IoRead`].
pub trait Read: private::Sealed {
    /// Offset of the next byte from the start of the input.
    fn offset(&self) -> u64;
    /// The next byte, or `None` at the end of the input.
    fn next_byte(&mut self) -> Result<Option<u8>>;
    /// Consume exactly `n` bytes, or fail with an EOF error. Never allocates
    /// `n` bytes before they have arrived.
    fn take(&mut self, n: u64) -> Result<Span>;
    /// Consume exactly `n` bytes into a vector of their own, where that saves
    /// copying a large payload through the buffer; `None`: use [`Read::take`].
    /// Like `take`, never allocates more than the bytes that have arrived
    /// (plus the vector's growth).
    fn take_owned(&mut self, _n: u64) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    /// Consume the bytes up to and including the `count`-th newline.
    fn take_lines(&mut self, count: usize, max: usize) -> Result<Span>;
    /// The bytes of a span returned by the last `take`/`take_lines`.
    fn slice(&self, span: Span) -> &[u8];
    /// True when no byte is left.
    fn at_end(&mut self) -> Result<bool>;
    /// True if at least `n` more bytes are available (reading them into the
    /// buffer if needed, never more than actually arrive).
    fn available(&mut self, n: u64) -> Result<bool>;
    /// The bytes at hand (the whole input of a slice, the buffer of a
    /// reader), the read position in them, and the stream offset of their
    /// first byte, so the unpickler can run straight over them.
    #[doc(hidden)]
    #[inline]
    fn slice_parts(&mut self) -> Option<(&[u8], &mut usize, u64)> {
        None
    }

    /// The next instruction's offset, opcode, argument and end offset.
    #[doc(hidden)]
    #[inline]
    fn next_raw(&mut self, limits: TextLimits) -> Result<Option<(u64, Opcode, Arg<'_>, u64)>>
    where
        Self: Sized,
    {
        next_raw_generic(self, limits)
    }
}

/// The limits on text arguments the decoder keeps: the longest line, and
/// the most digits of a decimal int (CPython's `sys.get_int_max_str_digits()`,
/// 4300; 0 is no limit), which also bounds the quadratic cost of parsing one.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct TextLimits {
    pub(crate) max_line: usize,
    pub(crate) max_int_digits: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        TextLimits {
            max_line: DEFAULT_MAX_LINE,
            max_int_digits: DEFAULT_MAX_INT_DIGITS,
        }
    }
}

/// CPython's default limit on the digits of a decimal int (`int_max_str_digits`).
pub const DEFAULT_MAX_INT_DIGITS: usize = 4300;

/// Reads from a byte slice, borrowing arguments from it.
#[derive(Clone, Debug)]
pub struct SliceRead<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceRead<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        SliceRead { data, pos: 0 }
    }

    /// The input not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// The slice being read.
    pub fn input(&self) -> &'a [u8] {
        self.data
    }

    /// A span's bytes, for the input's whole lifetime.
    pub fn slice_long(&self, span: Span) -> &'a [u8] {
        &self.data[span.start..span.end]
    }
}

impl private::Sealed for SliceRead<'_> {}

impl Read for SliceRead<'_> {
    #[inline]
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.data.get(self.pos).copied();
        if b.is_some() {
            self.pos += 1;
        }
        Ok(b)
    }

    #[inline]
    fn take(&mut self, n: u64) -> Result<Span> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            self.pos = self.data.len();
            return Err(Error::eof());
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(Span {
            start,
            end: self.pos,
        })
    }

    fn take_lines(&mut self, count: usize, max: usize) -> Result<Span> {
        let start = self.pos;
        let mut at = start;
        for _ in 0..count {
            match self.data[at..].iter().position(|&b| b == b'\n') {
                Some(i) => at += i + 1,
                None => {
                    if self.data.len() - start > max {
                        return Err(Error::limit("text line longer than the limit"));
                    }
                    self.pos = self.data.len();
                    return Err(Error::eof());
                }
            }
            if at - start > max {
                return Err(Error::limit("text line longer than the limit"));
            }
        }
        self.pos = at;
        Ok(Span { start, end: at })
    }

    #[inline]
    fn slice(&self, span: Span) -> &[u8] {
        &self.data[span.start..span.end]
    }

    fn at_end(&mut self) -> Result<bool> {
        Ok(self.pos >= self.data.len())
    }

    fn available(&mut self, n: u64) -> Result<bool> {
        Ok(n <= (self.data.len() - self.pos) as u64)
    }

    #[inline]
    fn next_raw(&mut self, limits: TextLimits) -> Result<Option<(u64, Opcode, Arg<'_>, u64)>> {
        self.next_raw_long(limits)
    }

    #[inline]
    fn slice_parts(&mut self) -> Option<(&[u8], &mut usize, u64)> {
        Some((self.data, &mut self.pos, 0))
    }
}

impl<'a> SliceRead<'a> {
    /// [`Read::next_raw`] with arguments borrowed for the input's lifetime:
    /// the fast path decodes straight from the slice; text arguments and
    /// errors take the general path.
    #[inline]
    fn next_raw_long(&mut self, limits: TextLimits) -> Result<Option<(u64, Opcode, Arg<'a>, u64)>> {
        let data: &'a [u8] = self.data;
        if let Some((op, arg, len)) = decode_fast(data, self.pos) {
            let offset = self.pos as u64;
            self.pos += len;
            if let Arg::U64(n) = arg {
                // Like _pickle.c, a frame must be there in full before it is used.
                if n > (data.len() - self.pos) as u64 {
                    return Err(Error::eof().in_opcode(op).at(offset));
                }
            }
            return Ok(Some((offset, op, arg, self.pos as u64)));
        }
        let offset = self.pos as u64;
        let Some(byte) = self.next_byte()? else {
            return Ok(None);
        };
        let Some(op) = Opcode::from_byte(byte) else {
            return Err(Error::syntax(format!("invalid opcode byte 0x{byte:02x}")).at(offset));
        };
        let raw = consume_arg(self, op, limits.max_line).map_err(|e| e.in_opcode(op).at(offset))?;
        let end = self.pos as u64;
        check_frame_available(self, op, &raw, offset)?;
        let bytes = span_of(&raw).map_or(&[][..], |s| self.slice_long(s));
        let arg = resolve_arg(op, raw, bytes, limits.max_int_digits)
            .map_err(|e| e.in_opcode(op).at(offset))?;
        Ok(Some((offset, op, arg, end)))
    }
}

/// Reads from an [`std::io::Read`] through an internal buffer.
///
/// It reads in chunks, so a pickle that claims a 2^62-byte string fails with
/// an EOF error after the real bytes run out, without allocating for the claim.
/// It may read past the end of one pickle; keep one `IoRead` (or one
/// [`crate::Unpickler`]) for a whole stream of pickles.
pub struct IoRead<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Offset in the stream of `buf[0]`.
    base: u64,
    eof: bool,
}

const CHUNK: usize = 64 * 1024;

/// Payloads from this size on are read from an `io::Read` into a vector of
/// their own ([`Read::take_owned`]).
pub(crate) const OWNED_PAYLOAD: u64 = 1 << 20;

impl<R: std::io::Read> IoRead<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        IoRead {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// Gives back the inner reader. Bytes buffered but not consumed are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Read more so that at least `want` bytes are buffered; false at EOF.
    /// The buffer grows by at most the bytes that actually arrive (plus one chunk).
    fn fill(&mut self, want: usize) -> Result<bool> {
        while self.end - self.start < want {
            if self.eof {
                return Ok(false);
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.base += self.start as u64;
                self.start = 0;
            }
            let missing = want - self.end;
            let grow = missing.clamp(CHUNK, CHUNK.max(self.end));
            if self.buf.len() < self.end + grow {
                self.buf.resize(self.end + grow, 0);
            }
            let n = loop {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::io(e)),
                }
            };
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
        }
        Ok(true)
    }

    fn advance(&mut self, n: usize) -> Span {
        let s = self.start;
        self.start += n;
        Span {
            start: s,
            end: s + n,
        }
    }

    fn consume_rest(&mut self) {
        let have = self.end - self.start;
        self.advance(have);
    }
}

impl<R> private::Sealed for IoRead<R> {}

impl<R: std::io::Read> Read for IoRead<R> {
    #[inline]
    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        if self.start == self.end && !self.fill(1)? {
            return Ok(None);
        }
        let b = self.buf[self.start];
        self.start += 1;
        Ok(Some(b))
    }

    fn take(&mut self, n: u64) -> Result<Span> {
        let Ok(n) = usize::try_from(n) else {
            return Err(Error::eof());
        };
        if !self.fill(n)? {
            self.consume_rest();
            return Err(Error::eof());
        }
        Ok(self.advance(n))
    }

    fn take_owned(&mut self, n: u64) -> Result<Option<Vec<u8>>> {
        let buffered = (self.end - self.start) as u64;
        if n < OWNED_PAYLOAD || n <= buffered {
            return Ok(None);
        }
        // The buffered part, then the rest read straight into the vector:
        // growing the buffer to the payload's size would zero it, read into
        // it and copy it out again.
        //
        // The vector doubles as bytes arrive, but never beyond `n`: a
        // payload that arrives whole ends in a vector of exactly its size.
        let mut out = Vec::with_capacity(self.end - self.start + CHUNK);
        out.extend_from_slice(&self.buf[self.start..self.end]);
        self.base += self.end as u64;
        self.start = 0;
        self.end = 0;
        let mut missing = n - buffered;
        while missing > 0 {
            let step = (out.len().max(CHUNK) as u64).min(missing);
            // `step` fits: it is at most the vector's length or CHUNK.
            out.reserve_exact(step as usize);
            let mut next = std::io::Read::take(std::io::Read::by_ref(&mut self.inner), step);
            let got = std::io::Read::read_to_end(&mut next, &mut out).map_err(Error::io)?;
            self.base += got as u64;
            if (got as u64) < step {
                self.eof = true;
                return Err(Error::eof());
            }
            missing -= step;
        }
        Ok(Some(out))
    }

    fn take_lines(&mut self, count: usize, max: usize) -> Result<Span> {
        let mut scanned = 0;
        let mut found = 0;
        loop {
            while let Some(i) = self.buf[self.start + scanned..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                scanned += i + 1;
                found += 1;
                if found == count {
                    return Ok(self.advance(scanned));
                }
            }
            scanned = self.end - self.start;
            if scanned > max {
                return Err(Error::limit("text line longer than the limit"));
            }
            if !self.fill(scanned + 1)? {
                self.consume_rest();
                return Err(Error::eof());
            }
        }
    }

    #[inline]
    fn slice(&self, span: Span) -> &[u8] {
        &self.buf[span.start..span.end]
    }

    fn at_end(&mut self) -> Result<bool> {
        Ok(self.start == self.end && !self.fill(1)?)
    }

    fn available(&mut self, n: u64) -> Result<bool> {
        match usize::try_from(n) {
            Ok(n) => self.fill(n),
            Err(_) => Ok(false),
        }
    }

    #[inline]
    fn slice_parts(&mut self) -> Option<(&[u8], &mut usize, u64)> {
        Some((&self.buf[..self.end], &mut self.start, self.base))
    }
}

/// An argument after its bytes were consumed, before they are borrowed.
enum RawArg {
    Ready(Arg<'static>),
    /// A large payload read into its own vector (unicode if true).
    Owned(Vec<u8>, bool),
    Long(Span),
    Bytes(Span),
    Unicode(Span),
    Lines(ArgKind, Span),
}

#[inline(always)]
fn le_u64(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    x[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(x)
}

#[inline(always)]
fn take_len<R: Read>(src: &mut R, width: u64) -> Result<u64> {
    let s = src.take(width)?;
    Ok(le_u64(src.slice(s)))
}

/// A length of `width` bytes, then that many bytes of bytes (or of UTF-8 if
/// `unicode`): in a vector of their own where [`Read::take_owned`] reads a
/// large payload so, in the source's buffer otherwise.
#[inline(always)]
fn payload<R: Read>(src: &mut R, width: u64, unicode: bool) -> Result<RawArg> {
    let n = take_len(src, width)?;
    Ok(match src.take_owned(n)? {
        Some(v) => RawArg::Owned(v, unicode),
        None if unicode => RawArg::Unicode(src.take(n)?),
        None => RawArg::Bytes(src.take(n)?),
    })
}

/// Consume an opcode's argument bytes.
#[inline(always)]
fn consume_arg<R: Read>(src: &mut R, op: Opcode, max_line: usize) -> Result<RawArg> {
    use RawArg::*;
    Ok(match op.arg() {
        ArgKind::None => Ready(Arg::None),
        ArgKind::U1 => Ready(Arg::Int(take_len(src, 1)? as i64)),
        ArgKind::U2 => Ready(Arg::Int(take_len(src, 2)? as i64)),
        ArgKind::I4 => Ready(Arg::Int(take_len(src, 4)? as u32 as i32 as i64)),
        ArgKind::U4 => Ready(Arg::Int(take_len(src, 4)? as i64)),
        ArgKind::U8 => Ready(Arg::U64(take_len(src, 8)?)),
        ArgKind::Float8 => {
            let s = src.take(8)?;
            let mut b = [0u8; 8];
            b.copy_from_slice(src.slice(s));
            Ready(Arg::Float(f64::from_be_bytes(b)))
        }
        ArgKind::Long1 => {
            let n = take_len(src, 1)?;
            Long(src.take(n)?)
        }
        ArgKind::Long4 => {
            let n = take_len(src, 4)? as u32 as i32;
            if n < 0 {
                return Err(Error::syntax("LONG pickle has negative byte count"));
            }
            Long(src.take(n as u64)?)
        }
        ArgKind::String1 | ArgKind::Bytes1 => {
            let n = take_len(src, 1)?;
            Bytes(src.take(n)?)
        }
        ArgKind::String4 => {
            let n = take_len(src, 4)? as u32 as i32;
            if n < 0 {
                return Err(Error::syntax("BINSTRING pickle has negative byte count"));
            }
            Bytes(src.take(n as u64)?)
        }
        ArgKind::Bytes4 => payload(src, 4, false)?,
        ArgKind::Bytes8 | ArgKind::ByteArray8 => payload(src, 8, false)?,
        ArgKind::UnicodeString1 => {
            let n = take_len(src, 1)?;
            Unicode(src.take(n)?)
        }
        ArgKind::UnicodeString4 => payload(src, 4, true)?,
        ArgKind::UnicodeString8 => payload(src, 8, true)?,
        kind => {
            let lines = if kind == ArgKind::StringNlNoEscapePair {
                2
            } else {
                1
            };
            Lines(kind, src.take_lines(lines, max_line)?)
        }
    })
}

/// Turn consumed argument bytes into an [`Arg`] borrowing `bytes`.
#[inline(always)]
fn resolve_arg(op: Opcode, raw: RawArg, bytes: &[u8], max_int_digits: usize) -> Result<Arg<'_>> {
    Ok(match raw {
        RawArg::Ready(a) => a,
        RawArg::Owned(v, false) => Arg::Bytes(Cow::Owned(v)),
        RawArg::Owned(v, true) => Arg::Unicode(Cow::Owned(v)),
        RawArg::Long(_) => text::long_from_le(bytes).into(),
        RawArg::Bytes(_) => Arg::Bytes(Cow::Borrowed(bytes)),
        RawArg::Unicode(_) => Arg::Unicode(Cow::Borrowed(bytes)),
        RawArg::Lines(kind, _) => decode_line_arg(op, kind, bytes, max_int_digits)?,
    })
}

#[inline(always)]
fn span_of(raw: &RawArg) -> Option<Span> {
    match raw {
        RawArg::Ready(_) | RawArg::Owned(..) => None,
        RawArg::Long(s) | RawArg::Bytes(s) | RawArg::Unicode(s) | RawArg::Lines(_, s) => Some(*s),
    }
}

/// Decode the next instruction through the [`Read`] primitives.
#[inline(always)]
fn next_raw_generic<R: Read>(
    src: &mut R,
    limits: TextLimits,
) -> Result<Option<(u64, Opcode, Arg<'_>, u64)>> {
    let offset = src.offset();
    let Some(byte) = src.next_byte()? else {
        return Ok(None);
    };
    let Some(op) = Opcode::from_byte(byte) else {
        return Err(Error::syntax(format!("invalid opcode byte 0x{byte:02x}")).at(offset));
    };
    let raw = consume_arg(src, op, limits.max_line).map_err(|e| e.in_opcode(op).at(offset))?;
    let end = src.offset();
    check_frame_available(src, op, &raw, offset)?;
    let bytes = span_of(&raw).map_or(&[][..], |s| src.slice(s));
    let arg = resolve_arg(op, raw, bytes, limits.max_int_digits)
        .map_err(|e| e.in_opcode(op).at(offset))?;
    Ok(Some((offset, op, arg, end)))
}

/// Like _pickle.c, a frame must be there in full before it is used.
#[inline(always)]
fn check_frame_available<R: Read>(
    src: &mut R,
    op: Opcode,
    raw: &RawArg,
    offset: u64,
) -> Result<()> {
    if let (Opcode::Frame, RawArg::Ready(Arg::U64(n))) = (op, raw) {
        if !src.available(*n)? {
            return Err(Error::eof().in_opcode(op).at(offset));
        }
    }
    Ok(())
}

/// The fast path for in-memory input: decode the instruction at `pos`
/// straight from the slice. Returns the opcode, its argument and the
/// instruction's length, or `None` when the general path must decide (an
/// invalid opcode, a text argument, a truncated or negative length).
#[inline(always)]
pub(crate) fn decode_fast(data: &[u8], pos: usize) -> Option<(Opcode, Arg<'_>, usize)> {
    let op = Opcode::from_byte(*data.get(pos)?)?;
    let rest = &data[pos + 1..];
    let fixed = |n: usize| rest.get(..n);
    let le = |n: usize| fixed(n).map(le_u64);
    let payload = |width: usize, n: u64| -> Option<&[u8]> {
        let n = usize::try_from(n).ok()?;
        rest.get(width..width.checked_add(n)?)
    };
    let (arg, len) = match op.arg() {
        ArgKind::None => (Arg::None, 0),
        ArgKind::U1 => (Arg::Int(*rest.first()? as i64), 1),
        ArgKind::U2 => (Arg::Int(le(2)? as i64), 2),
        ArgKind::I4 => (Arg::Int(le(4)? as u32 as i32 as i64), 4),
        ArgKind::U4 => (Arg::Int(le(4)? as i64), 4),
        ArgKind::U8 => (Arg::U64(le(8)?), 8),
        ArgKind::Float8 => {
            let b: [u8; 8] = fixed(8)?.try_into().ok()?;
            (Arg::Float(f64::from_be_bytes(b)), 8)
        }
        ArgKind::String1 | ArgKind::Bytes1 | ArgKind::UnicodeString1 | ArgKind::Long1 => {
            let b = payload(1, *rest.first()? as u64)?;
            (short_arg(op.arg(), b), 1 + b.len())
        }
        ArgKind::Bytes4 | ArgKind::UnicodeString4 => {
            let b = payload(4, le(4)?)?;
            (short_arg(op.arg(), b), 4 + b.len())
        }
        ArgKind::Bytes8 | ArgKind::ByteArray8 | ArgKind::UnicodeString8 => {
            let b = payload(8, le(8)?)?;
            (short_arg(op.arg(), b), 8 + b.len())
        }
        _ => return None,
    };
    Some((op, arg, 1 + len))
}

#[inline(always)]
fn short_arg(kind: ArgKind, b: &[u8]) -> Arg<'_> {
    match kind {
        ArgKind::Long1 => text::long_from_le(b).into(),
        ArgKind::UnicodeString1 | ArgKind::UnicodeString4 | ArgKind::UnicodeString8 => {
            Arg::Unicode(Cow::Borrowed(b))
        }
        _ => Arg::Bytes(Cow::Borrowed(b)),
    }
}

/// Decodes instructions from a [`Read`] source, enforcing frames.
pub struct InstructionReader<R> {
    src: R,
    frames: FrameTracker,
    limits: TextLimits,
}

impl<R: Read> InstructionReader<R> {
    /// A reader of instructions from `src`.
    pub fn new(src: R) -> Self {
        InstructionReader {
            src,
            frames: FrameTracker::default(),
            limits: TextLimits::default(),
        }
    }

    /// Set the longest protocol-0 text line accepted.
    pub fn set_max_line(&mut self, max: usize) {
        self.limits.max_line = max;
    }

    /// Set the most digits a decimal int argument may have (0: no limit).
    pub fn set_max_int_digits(&mut self, max: usize) {
        self.limits.max_int_digits = max;
    }

    /// The source.
    pub fn get_ref(&self) -> &R {
        &self.src
    }

    /// The source back.
    pub fn into_inner(self) -> R {
        self.src
    }

    /// The source, to consume raw bytes that sit between opcodes (joblib's
    /// array data after a `NumpyArrayWrapper`).
    pub(crate) fn source_mut(&mut self) -> &mut R {
        &mut self.src
    }

    /// Offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// True when the input is exhausted.
    pub fn at_end(&mut self) -> Result<bool> {
        self.src.at_end()
    }

    /// The bytes at hand, the read position in them, the limit up to which
    /// instructions may be decoded in place with [`decode_fast`] (the end of
    /// the open frame, of the bytes at hand, or `max_input`), and the stream
    /// offset of the bytes' start. Instructions handled there lie inside the
    /// open frame, so the frame state stays right.
    #[inline]
    pub(crate) fn fast_parts(&mut self, max_input: u64) -> Option<(&[u8], &mut usize, usize, u64)> {
        let frame_end = self.frames.open_end();
        let (data, pos, base) = self.src.slice_parts()?;
        let end = frame_end.map_or(max_input, |e| e.min(max_input));
        let limit = usize::try_from(end.saturating_sub(base))
            .unwrap_or(usize::MAX)
            .min(data.len());
        Some((data, pos, limit, base))
    }

    /// Forget frame state (between two pickles of one stream).
    pub fn reset_frames(&mut self) {
        self.frames = self.frames.reset();
    }

    /// Check frames as `_pickle.c` does (see [`FrameTracker::lenient`]):
    /// instructions may cross a frame's end.
    pub(crate) fn lenient_frames(&mut self) {
        self.frames = FrameTracker::lenient();
    }

    /// Swap the frame state (a nested pickle read in the middle of another
    /// has frames of its own; see [`crate::unpickler::RawInput`]).
    pub(crate) fn swap_frames(&mut self, frames: FrameTracker) -> FrameTracker {
        std::mem::replace(&mut self.frames, frames)
    }

    /// Consume `n` bytes that are not instructions (data some writers, like
    /// joblib, put between the opcodes of a stream).
    pub fn read_raw(&mut self, n: u64) -> Result<Vec<u8>> {
        let span = self.src.take(n)?;
        Ok(self.src.slice(span).to_vec())
    }

    /// The next instruction, or `None` at the end of the input.
    #[inline]
    pub fn next_instruction(&mut self) -> Result<Option<Instruction<'_>>> {
        let raw = self.src.next_raw(self.limits)?;
        framed(&mut self.frames, raw)
    }
}

impl<'a> InstructionReader<SliceRead<'a>> {
    /// The next instruction, with arguments borrowed from the input slice.
    pub fn next_borrowed(&mut self) -> Result<Option<Instruction<'a>>> {
        let raw = self.src.next_raw_long(self.limits)?;
        framed(&mut self.frames, raw)
    }
}

/// A decoded instruction (offset, opcode, argument, end offset), checked
/// against the open frame: [`InstructionReader`]'s two ways of decoding.
#[inline(always)]
fn framed<'a>(
    frames: &mut FrameTracker,
    raw: Option<(u64, Opcode, Arg<'a>, u64)>,
) -> Result<Option<Instruction<'a>>> {
    let Some((offset, op, arg, end)) = raw else {
        return Ok(None);
    };
    let frame_len = match arg {
        Arg::U64(n) => n,
        _ => 0,
    };
    frames
        .check(op, offset, end, frame_len)
        .map_err(|e| e.in_opcode(op).at(offset))?;
    Ok(Some(Instruction { offset, op, arg }))
}

/// Iterates over the instructions of a byte slice (all pickles in it).
pub struct Instructions<'a> {
    reader: InstructionReader<SliceRead<'a>>,
    done: bool,
}

impl<'a> Instructions<'a> {
    /// Instructions of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Instructions {
            reader: InstructionReader::new(SliceRead::new(data)),
            done: false,
        }
    }
}

impl<'a> Iterator for Instructions<'a> {
    type Item = Result<Instruction<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_borrowed() {
            Ok(Some(i)) => {
                if i.op == Opcode::Stop {
                    self.reader.reset_frames();
                }
                Some(Ok(i))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Decode a newline-terminated argument. `lines` includes the final newline(s).
fn decode_line_arg(
    op: Opcode,
    kind: ArgKind,
    lines: &[u8],
    max_int_digits: usize,
) -> Result<Arg<'_>> {
    let line = &lines[..lines.len() - 1];
    Ok(match kind {
        ArgKind::StringNlNoEscape => Arg::Text(line),
        ArgKind::StringNlNoEscapePair => match line.iter().position(|&b| b == b'\n') {
            Some(nl) => Arg::Pair(&line[..nl], &line[nl + 1..]),
            None => return Err(Error::syntax("expected two lines")),
        },
        ArgKind::StringNl => Arg::Bytes(Cow::Owned(text::unquote_string(line)?)),
        ArgKind::UnicodeStringNl => Arg::Unicode(Cow::Owned(text::raw_unicode_escape(line)?)),
        ArgKind::DecimalNlShort => {
            let how = if op == Opcode::Int {
                text::IntText::Int
            } else {
                text::IntText::Index
            };
            match text::parse_int_as(line, how, max_int_digits)? {
                // load_int: a two-character argument worth 0 or 1 is a bool
                // (`00`, `01`, and so `+1` too), as protocol 0 spells them.
                text::Int::Small(b @ (0 | 1)) if op == Opcode::Int && line.len() == 2 => {
                    Arg::Bool(b == 1)
                }
                v => v.into(),
            }
        }
        ArgKind::DecimalNlLong => {
            let digits = line.strip_suffix(b"L").unwrap_or(line);
            text::parse_int_as(digits, text::IntText::Long, max_int_digits)?.into()
        }
        ArgKind::FloatNl => Arg::Float(text::parse_float(line)?),
        other => {
            return Err(Error::syntax(format!(
                "{} is not a line argument",
                other.name()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<Instruction<'_>> {
        Instructions::new(data).collect::<Result<Vec<_>>>().unwrap()
    }

    #[test]
    fn reads_protocol_2_list() {
        let ins = all(b"\x80\x02]q\x00(K\x01K\x02e.");
        let ops: Vec<_> = ins.iter().map(|i| i.op).collect();
        assert_eq!(
            ops,
            [
                Opcode::Proto,
                Opcode::EmptyList,
                Opcode::BinPut,
                Opcode::Mark,
                Opcode::BinInt1,
                Opcode::BinInt1,
                Opcode::Appends,
                Opcode::Stop
            ]
        );
        assert_eq!(ins[4].arg, Arg::Int(1));
        assert_eq!(ins[4].offset, 6);
    }

    #[test]
    fn text_arguments() {
        let ins = all(b"I01\nI-12\nL123L\nF1.5\nS'a\\n'\ncos\nsystem\nVa\\u20ac\n.");
        assert_eq!(ins[0].arg, Arg::Bool(true));
        assert_eq!(ins[1].arg, Arg::Int(-12));
        assert_eq!(ins[2].arg, Arg::Int(123));
        assert_eq!(ins[3].arg, Arg::Float(1.5));
        assert_eq!(ins[4].arg, Arg::Bytes(Cow::Borrowed(b"a\n")));
        assert_eq!(ins[5].arg, Arg::Pair(b"os", b"system"));
        assert_eq!(ins[6].arg, Arg::Unicode(Cow::Borrowed("a€".as_bytes())));
    }

    #[test]
    fn huge_claims_fail_without_allocating() {
        let data = b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xffabc.";
        let err = Instructions::new(data).find_map(|r| r.err()).unwrap();
        assert!(err.is_eof());
        assert_eq!(err.offset(), Some(2));
        assert_eq!(err.opcode(), Some(Opcode::BinBytes8));
        let mut r = InstructionReader::new(IoRead::new(&data[..]));
        r.next_instruction().unwrap();
        let err = r.next_instruction().unwrap_err();
        assert!(err.is_eof());
    }

    #[test]
    fn io_and_slice_agree() {
        let data = b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x8c\x03abc\x94K\x05\x86.";
        let a = all(data);
        let mut r = InstructionReader::new(IoRead::new(&data[..]));
        let mut b = Vec::new();
        while let Some(i) = r.next_instruction().unwrap() {
            b.push((i.offset, i.op, format!("{:?}", i.arg)));
        }
        let a: Vec<_> = a
            .iter()
            .map(|i| (i.offset, i.op, format!("{:?}", i.arg)))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn invalid_opcode_has_offset() {
        let err = Instructions::new(b"\x80\x02\xff.")
            .find_map(|r| r.err())
            .unwrap();
        assert_eq!(err.offset(), Some(2));
        assert!(err.to_string().contains("0xff"));
    }
}
