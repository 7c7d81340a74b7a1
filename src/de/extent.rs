//! One whole pickle read from an [`io::Read`], so that
//! [`super::from_reader`] can take the paths of [`super::from_slice`] (the
//! stream path builds no document).
//!
//! The instructions are walked only as far as needed to find the pickle's
//! STOP, with argument lengths from the opcode table:
//!
//! * a `FRAME` (protocol 4+) is read whole, exactly its length, and walked
//!   only if its last byte is `.`: the loader accepts STOP only as the last
//!   instruction of a frame, so any other frame cannot end the pickle;
//! * outside frames (protocols 0–3, and the large payloads CPython writes
//!   between frames) every instruction is walked; a payload of known length
//!   is read exactly, everything else in chunks of what the reader has.
//!
//! Nothing is allocated from a length field: the buffer grows as bytes
//! arrive. Bytes after the STOP may be read (as [`super::from_reader`]
//! documents).
//!
//! Errors are the loader's, as it reports them reading the stream itself:
//! where the walk stops short of a STOP because the input ended, the bytes
//! read are the whole input; otherwise (an opcode that does not exist, a
//! negative length, a line or input limit, a STOP inside a frame) the
//! loader reads the bytes read followed by the rest of the reader, since it
//! may stop beyond where the walk did. The same happens when the loader
//! meets the end of a pickle the walk found (an instruction running past a
//! frame the walk did not look inside).

use std::io::{self, Read};

use crate::opcodes::{byte, ArgKind, Opcode};
use crate::unpickler::LoadOptions;

/// What [`read_pickle`] read.
pub(super) enum Extent<R> {
    /// The bytes read, the pickle being those before `.1` (its STOP last),
    /// and the rest of the input.
    Whole(Vec<u8>, usize, R),
    /// The input ended before a STOP: all of it.
    Ended(Vec<u8>),
    /// The walk stopped short of a STOP (an opcode that does not exist, a
    /// negative length, a limit, a STOP inside a frame): the bytes read and
    /// the rest of the input, for the loader to read as one stream.
    Stopped(Vec<u8>, R),
    /// The next instruction's payload is large (from
    /// [`super::handover::HANDOVER_FROM`] bytes, outside a frame): the bytes read and
    /// the rest of the input, for the loader to read as one stream, so that
    /// the payload is read into a vector of its own and handed to the value
    /// (one copy), not read into this buffer and copied out of it.
    Large(Vec<u8>, R),
    /// The reader failed after this many bytes.
    Io(io::Error, usize),
}

/// Payloads longer than this are read exactly (one copy); shorter ones
/// with the chunk that follows them.
const EXACT_FROM: usize = 64 << 10;

/// How a walk of the buffer ended.
enum Walk {
    /// A STOP ends at this position.
    Stop(usize),
    /// The next instruction starts at `at` and needs bytes up to `need`;
    /// `exact` for a large payload (read exactly, not by chunks).
    More { at: usize, need: usize, exact: bool },
    /// The instruction at `at` is a text line (protocols 0–1) still
    /// missing its newline, which `buf` lacks from `from` on.
    Line { at: usize, from: usize },
    /// Not a pickle (or past a limit): the loader will say why.
    Bad,
}

/// What an argument not yet whole needs.
enum Need {
    /// `buf` must hold this many bytes to tell.
    Bytes(usize),
    /// A newline after this position.
    Line(usize),
    /// Malformed (or a limit): the loader will say why.
    Bad,
}

struct Source<R> {
    r: R,
    buf: Vec<u8>,
    /// Chunk reads (opcodes and headers) land here before joining `buf`.
    scratch: Vec<u8>,
}

impl<R: Read> Source<R> {
    /// Make `buf` hold at least `want` bytes: `exact` reads exactly the
    /// missing bytes (a payload or frame the pickle needs whole), otherwise
    /// one chunk of what the reader has. `Err` at the end of the input or
    /// on an I/O error: what [`Source::short`] turns into the result.
    fn fill(&mut self, want: usize, exact: bool) -> Result<(), Short> {
        while self.buf.len() < want {
            let missing = want - self.buf.len();
            if exact {
                let got = (&mut self.r)
                    .take(missing as u64)
                    .read_to_end(&mut self.buf)
                    .map_err(Short::Io)?;
                if got < missing {
                    return Err(Short::Ended);
                }
            } else {
                let n = match self.r.read(&mut self.scratch) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Short::Io(e)),
                };
                if n == 0 {
                    return Err(Short::Ended);
                }
                self.buf.extend_from_slice(&self.scratch[..n]);
            }
        }
        Ok(())
    }

    /// What was read, when [`Source::fill`] came short.
    fn short(self, why: Short) -> Extent<R> {
        match why {
            Short::Ended => Extent::Ended(self.buf),
            Short::Io(e) => Extent::Io(e, self.buf.len()),
        }
    }
}

/// Why [`Source::fill`] could not read what was asked.
enum Short {
    Ended,
    Io(io::Error),
}

/// Read the next pickle of `r` (see the module docs).
pub(super) fn read_pickle<R: Read>(r: R, options: &LoadOptions) -> Extent<R> {
    let mut s = Source {
        r,
        buf: Vec::new(),
        scratch: vec![0; 64 << 10],
    };
    let max_input = usize::try_from(options.max_input).unwrap_or(usize::MAX);
    let mut at = 0;
    loop {
        if at > max_input {
            return Extent::Stopped(s.buf, s.r);
        }
        // The opcode, and for a FRAME its length.
        for header in [1, 9] {
            if header == 9 && s.buf.get(at) != Some(&byte::Frame) {
                break;
            }
            if let Err(why) = s.fill(at + header, false) {
                return s.short(why);
            }
        }
        if s.buf[at] == byte::Frame {
            let mut len = [0u8; 8];
            len.copy_from_slice(&s.buf[at + 1..at + 9]);
            let Some(end) = usize::try_from(u64::from_le_bytes(len))
                .ok()
                .and_then(|n| (at + 9).checked_add(n))
                .filter(|&end| end <= max_input.saturating_add(1))
            else {
                return Extent::Stopped(s.buf, s.r);
            };
            if let Err(why) = s.fill(end, true) {
                return s.short(why);
            }
            let frame = at + 9;
            if end > frame && s.buf[end - 1] == byte::Stop {
                // Walk the frame alone: the pickle ends if its last
                // instruction is the STOP. A STOP before that is the
                // loader's error, which it finds in the bytes read so far.
                match walk(&s.buf[..end], frame, options.max_line) {
                    Walk::Stop(stop) if stop == end => {
                        return Extent::Whole(s.buf, stop, s.r);
                    }
                    Walk::Stop(_) => return Extent::Stopped(s.buf, s.r),
                    _ => {}
                }
            }
            at = end;
            continue;
        }
        // Outside frames: walk the instructions at hand, reading more as they need.
        match walk(&s.buf, at, options.max_line) {
            Walk::Stop(stop) => {
                return Extent::Whole(s.buf, stop, s.r);
            }
            Walk::Bad => return Extent::Stopped(s.buf, s.r),
            Walk::Line { at: next, from } => {
                // Read until a newline arrives, searching only new bytes
                // (so a line dribbled in byte by byte costs its length once).
                at = next;
                let mut searched = from;
                while !s.buf[searched..].contains(&b'\n') {
                    if s.buf.len() - from > options.max_line || s.buf.len() > max_input {
                        return Extent::Stopped(s.buf, s.r);
                    }
                    searched = s.buf.len();
                    if let Err(why) = s.fill(searched + 1, false) {
                        return s.short(why);
                    }
                }
            }
            Walk::More {
                at: next,
                need,
                exact,
            } => {
                at = next;
                if s.buf.get(at) == Some(&byte::Frame) {
                    continue;
                }
                if need > max_input.saturating_add(1) {
                    return Extent::Stopped(s.buf, s.r);
                }
                if exact && need - at >= super::handover::HANDOVER_FROM {
                    return Extent::Large(s.buf, s.r);
                }
                if let Err(why) = s.fill(need, exact) {
                    return s.short(why);
                }
            }
        }
    }
}

/// Walk the instructions of `buf` from `at` (an instruction's start) until
/// a STOP, a FRAME (returned as `More` at it, needing its header), or an
/// instruction not yet whole.
fn walk(buf: &[u8], mut at: usize, max_line: usize) -> Walk {
    loop {
        let Some(&b) = buf.get(at) else {
            return Walk::More {
                at,
                need: at + 1,
                exact: false,
            };
        };
        // The common instructions by a match, not a table: the length then
        // comes from a predicted branch, not from a load the next step waits on.
        let end = match b {
            byte::BinInt1 | byte::BinGet | byte::BinPut => at + 2,
            byte::BinInt2 => at + 3,
            byte::BinInt | byte::LongBinGet | byte::LongBinPut => at + 5,
            byte::BinFloat => at + 9,
            byte::Mark
            | byte::EmptyList
            | byte::EmptyDict
            | byte::EmptyTuple
            | byte::EmptySet
            | byte::Append
            | byte::Appends
            | byte::SetItem
            | byte::SetItems
            | byte::AddItems
            | byte::None
            | byte::NewTrue
            | byte::NewFalse
            | byte::Memoize
            | byte::Tuple
            | byte::Tuple1
            | byte::Tuple2
            | byte::Tuple3
            | byte::FrozenSet
            | byte::List
            | byte::Dict => at + 1,
            // A one-byte length (read in place: copying it to a buffer and
            // reading that back stalls), then the payload.
            byte::ShortBinUnicode | byte::ShortBinBytes | byte::Long1 | byte::ShortBinString => {
                match buf.get(at + 1) {
                    Some(&n) => at + 2 + n as usize,
                    None => usize::MAX,
                }
            }
            byte::BinUnicode | byte::BinBytes => match buf.get(at + 1..at + 5) {
                Some(&[a, b, c, d]) => at + 5 + u32::from_le_bytes([a, b, c, d]) as usize,
                _ => usize::MAX,
            },
            _ => usize::MAX,
        };
        if end <= buf.len() {
            at = end;
            continue;
        }
        let Some(op) = Opcode::from_byte(b) else {
            return Walk::Bad;
        };
        if op == Opcode::Frame {
            return Walk::More {
                at,
                need: at + 9,
                exact: false,
            };
        }
        let end = match arg_end(buf, at + 1, op.arg(), max_line) {
            Ok(end) => end,
            Err(Need::Line(from)) => return Walk::Line { at, from },
            Err(Need::Bytes(need)) => {
                return Walk::More {
                    at,
                    need,
                    exact: need - at > EXACT_FROM,
                }
            }
            Err(Need::Bad) => return Walk::Bad,
        };
        if op == Opcode::Stop {
            return Walk::Stop(end);
        }
        at = end;
    }
}

/// Where the argument of kind `kind` starting at `from` ends, or what it
/// still needs.
fn arg_end(buf: &[u8], from: usize, kind: ArgKind, max_line: usize) -> Result<usize, Need> {
    let fixed = |n: usize| {
        let end = from + n;
        if buf.len() >= end {
            Ok(end)
        } else {
            Err(Need::Bytes(end))
        }
    };
    // A length of `w` bytes, then that many bytes.
    let counted = |w: usize, signed: bool| {
        let Some(len) = buf.get(from..from + w) else {
            return Err(Need::Bytes(from + w));
        };
        let mut le = [0u8; 8];
        le[..w].copy_from_slice(len);
        let n = u64::from_le_bytes(le);
        if signed && w == 4 && n >= 1 << 31 {
            return Err(Need::Bad);
        }
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| (from + w).checked_add(n))
            .ok_or(Need::Bad)?;
        if buf.len() >= end {
            Ok(end)
        } else {
            Err(Need::Bytes(end))
        }
    };
    // `lines` newline-ended lines of at most `max_line` bytes each.
    let lines = |lines: usize| {
        let mut at = from;
        for _ in 0..lines {
            let rest = &buf[at.min(buf.len())..];
            match rest
                .iter()
                .take(max_line.saturating_add(1))
                .position(|&b| b == b'\n')
            {
                Some(i) => at += i + 1,
                None if rest.len() > max_line => return Err(Need::Bad),
                None => return Err(Need::Line(at)),
            }
        }
        Ok(at)
    };
    match kind {
        ArgKind::None => fixed(0),
        ArgKind::U1 => fixed(1),
        ArgKind::U2 => fixed(2),
        ArgKind::I4 | ArgKind::U4 => fixed(4),
        ArgKind::U8 | ArgKind::Float8 => fixed(8),
        ArgKind::Long1 | ArgKind::String1 | ArgKind::Bytes1 | ArgKind::UnicodeString1 => {
            counted(1, false)
        }
        ArgKind::Long4 | ArgKind::String4 => counted(4, true),
        ArgKind::Bytes4 | ArgKind::UnicodeString4 => counted(4, false),
        ArgKind::Bytes8 | ArgKind::ByteArray8 | ArgKind::UnicodeString8 => counted(8, false),
        ArgKind::StringNl
        | ArgKind::StringNlNoEscape
        | ArgKind::UnicodeStringNl
        | ArgKind::DecimalNlShort
        | ArgKind::DecimalNlLong
        | ArgKind::FloatNl => lines(1),
        ArgKind::StringNlNoEscapePair => lines(2),
    }
}
