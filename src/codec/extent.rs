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

use crate::codec::opcodes::{byte, ArgKind, Opcode};

/// What [`read_pickle`] read.
pub(crate) enum Extent<R> {
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
    /// [`OWNED_PAYLOAD`](crate::codec::read::OWNED_PAYLOAD) bytes, outside a frame): the bytes read and
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
/// The input limits the walk keeps: the bytes it may read in all and the
/// longest text line (as the unpickler's own limits of the same names).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_input: u64,
    pub(crate) max_line: usize,
}

pub(crate) fn read_pickle<R: Read>(r: R, limits: Limits) -> Extent<R> {
    let mut s = Source {
        r,
        buf: Vec::new(),
        scratch: vec![0; 64 << 10],
    };
    let max_input = usize::try_from(limits.max_input).unwrap_or(usize::MAX);
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
                match walk(&s.buf[..end], frame, limits.max_line) {
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
        match walk(&s.buf, at, limits.max_line) {
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
                    if s.buf.len() - from > limits.max_line || s.buf.len() > max_input {
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
                if exact && need - at >= crate::codec::read::OWNED_PAYLOAD as usize {
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
        // Runs of one instruction of one length (the items of a list of
        // floats or ints): see `skip_run`. An instruction of these not whole
        // in `buf` goes on to the general way below.
        let (step, header) = match b {
            byte::BinFloat => (9, 1),
            byte::BinInt => (5, 1),
            byte::BinInt2 => (3, 1),
            byte::BinInt1 => (2, 1),
            // A one-byte length (read in place, not through a buffer), then
            // the payload.
            byte::Long1 | byte::ShortBinUnicode | byte::ShortBinBytes | byte::ShortBinString => {
                match buf.get(at + 1) {
                    Some(&n) => (2 + n as usize, 2),
                    None => (0, 0),
                }
            }
            _ => (0, 0),
        };
        if step != 0 && at + step <= buf.len() {
            at = skip_run(buf, at, step, header);
            continue;
        }
        // The other common instructions by a match, not a table, so that
        // the next position does not wait on a load (see "The extent walk"
        // in benches/README.md).
        let end = match b {
            byte::BinGet | byte::BinPut => at + 2,
            byte::LongBinGet | byte::LongBinPut => at + 5,
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

/// Skip the instruction at `at`, `step` bytes long (whole in `buf`), and
/// those after it that begin with the same `header` bytes (the opcode, and
/// for a one-byte-length instruction its length), so have the same length:
/// where the next different one begins. Each step adds a constant and
/// compares bytes, so the next position does not wait on a load (see "The
/// extent walk" in benches/README.md).
#[inline(always)]
fn skip_run(buf: &[u8], at: usize, step: usize, header: usize) -> usize {
    let (op, len) = (buf[at], buf.get(at + 1).copied().unwrap_or(0));
    let mut next = at + step;
    while next + step <= buf.len() && buf[next] == op && (header == 1 || buf[next + 1] == len) {
        next += step;
    }
    next
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Unframed pickles (protocols 2 and 3) with runs of one instruction of
    /// one length broken by other widths and lengths.
    fn samples() -> Vec<Vec<u8>> {
        // Runs of 23 values of one width (BININT1, BININT2, BININT, LONG1 of
        // 6 and 8 bytes), every fifth one wider.
        let bases: [i64; 6] = [7, 300, -5, 1 << 40, 1 << 62, 2000];
        let ints: Vec<i64> = (0..600i64)
            .map(|i| bases[(i / 23 % 6) as usize] + if i % 5 == 0 { i << 33 } else { i })
            .collect();
        let words: Vec<String> = (0..400)
            .map(|i| format!("w{}", i % 9 + (i / 50) * 10))
            .collect();
        let floats: Vec<f64> = (0..300).map(|i| i as f64 / 3.0).collect();
        let mut out = Vec::new();
        for protocol in [2, 3] {
            let o = || crate::DumpOptions::new(protocol);
            out.push(crate::to_vec_with(&ints, o()).unwrap());
            out.push(crate::to_vec_with(&(&words, &floats, &ints), o()).unwrap());
        }
        out
    }

    /// Where each instruction of `data` begins, by the decoder.
    fn starts(data: &[u8]) -> Vec<usize> {
        let mut at = 0;
        let mut out = vec![0];
        while let Some((_, _, n)) = crate::codec::read::decode_fast(data, at) {
            at += n;
            out.push(at);
        }
        assert_eq!(at, data.len(), "the sample decodes whole");
        out
    }

    /// The walk finds the STOP of a whole pickle, and in a cut one stops
    /// at the first instruction that is not whole, asking for more.
    #[test]
    fn walk_stops_where_the_instructions_do() {
        for data in samples() {
            let starts = starts(&data);
            assert!(matches!(walk(&data, 0, 1 << 20), Walk::Stop(end) if end == data.len()));
            for cut in (0..data.len()).step_by(3) {
                match walk(&data[..cut], 0, 1 << 20) {
                    Walk::More { at, need, .. } => {
                        let next = starts.iter().find(|&&s| s > cut).copied();
                        let last = starts.iter().rev().find(|&&s| s <= cut).copied();
                        assert_eq!(Some(at), last, "cut at {cut}");
                        assert!(
                            need > cut && Some(need) <= next,
                            "cut at {cut}: need {need}"
                        );
                    }
                    _ => panic!("cut at {cut}: not asking for more"),
                }
            }
        }
    }
}
