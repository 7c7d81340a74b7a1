//! Protocol 4+ framing, both ways.
//!
//! * Reading: [`FrameTracker`] checks that instructions stay inside the
//!   frame announced by `FRAME`, as `pickle.py`'s `_Unframer` does.
//! * Writing: [`Framer`] places frames exactly where CPython's `_pickle.c`
//!   does: a frame is opened by the first write after the previous one was
//!   committed, committed once it holds at least 64 KiB at an object boundary,
//!   dropped (header removed) when it holds fewer than 4 bytes, and payloads of
//!   64 KiB or more bypass framing altogether.

use crate::codec::opcodes::Opcode;
use crate::error::{Error, Result};

/// `_pickle.c`'s `FRAME_SIZE_TARGET`.
pub const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// `_pickle.c`'s `FRAME_SIZE_MIN`: smaller frames are not written.
pub const FRAME_SIZE_MIN: usize = 4;
/// `FRAME` opcode plus its eight-byte length.
pub const FRAME_HEADER_SIZE: usize = 9;

/// Reader-side frame bookkeeping.
#[derive(Clone, Debug, Default)]
pub struct FrameTracker {
    /// End offset of the current frame, if one is open.
    end: Option<u64>,
    /// Accept what `_pickle.c` accepts: it only checks that a frame's bytes
    /// are there and never where instructions end.
    lenient: bool,
}

impl FrameTracker {
    /// A tracker that, like `_pickle.c`, lets instructions cross frame ends
    /// (what `pickle.load` accepts; `pickle.py`'s `_Unframer` refuses it). The
    /// scanner reads this way, so a payload behind such a frame is seen.
    pub(crate) fn lenient() -> Self {
        FrameTracker {
            end: None,
            lenient: true,
        }
    }

    /// A tracker with no frame open, as strict or lenient as this one.
    pub(crate) fn reset(&self) -> Self {
        FrameTracker {
            end: None,
            lenient: self.lenient,
        }
    }

    /// End offset of the open frame, if any.
    #[inline]
    pub fn open_end(&self) -> Option<u64> {
        self.end
    }

    /// Check the instruction `op` that spans `start..end`.
    #[inline]
    pub fn check(&mut self, op: Opcode, start: u64, end: u64, frame_len: u64) -> Result<()> {
        if self.lenient {
            return Ok(());
        }
        match self.end {
            // No frame open, or an ordinary instruction well inside the open one.
            None if op != Opcode::Frame => Ok(()),
            Some(frame_end) if end < frame_end && op != Opcode::Frame && op != Opcode::Stop => {
                Ok(())
            }
            _ => self.check_slow(op, start, end, frame_len),
        }
    }

    fn check_slow(&mut self, op: Opcode, start: u64, end: u64, frame_len: u64) -> Result<()> {
        if let Some(frame_end) = self.end {
            if start >= frame_end {
                self.end = None;
            } else if end > frame_end {
                return Err(Error::syntax("pickle exhausted before end of frame"));
            }
        }
        match op {
            Opcode::Frame => {
                if self.end.is_some() {
                    return Err(Error::syntax(
                        "beginning of a new frame before end of current frame",
                    ));
                }
                self.end = Some(end.saturating_add(frame_len));
            }
            Opcode::Stop => {
                if let Some(frame_end) = self.end {
                    if frame_end > end {
                        return Err(Error::syntax("STOP before the end of the current frame"));
                    }
                }
                self.end = None;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Writer-side framing over an output buffer.
///
/// [`Framer::start`] and [`Framer::boundary`] keep a frame open whenever
/// framing is on (a committed frame is followed at once by the next one's
/// header placeholder), so a writer using them appends bytes without any
/// check; the placeholder sits exactly where the first write after the
/// commit would have opened the frame, and a frame left empty is dropped.
/// Writers that open frames lazily call [`Framer::before_write`] instead.
#[derive(Debug)]
pub struct Framer {
    /// Whether framing is on (protocol 4+, between PROTO and STOP).
    pub enabled: bool,
    /// Offset in the buffer of the open frame's header placeholder.
    frame_start: Option<usize>,
    /// The buffer length at which the open frame reaches
    /// [`FRAME_SIZE_TARGET`] (`usize::MAX` when none is open): the one
    /// comparison [`Framer::boundary`] makes per object.
    commit_at: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            enabled: false,
            frame_start: None,
            commit_at: usize::MAX,
        }
    }
}

impl Framer {
    /// Switch framing on and open the first frame.
    pub fn start(&mut self, buf: &mut Vec<u8>) {
        self.enabled = true;
        self.open(buf);
    }

    /// Called before writing to `buf`: opens a frame if needed (for writers
    /// that do not keep one open, see [`Framer`]).
    #[inline]
    pub fn before_write(&mut self, buf: &mut Vec<u8>) {
        if self.enabled && self.frame_start.is_none() {
            self.open(buf);
        }
    }

    /// Open a frame: a header placeholder, filled in by [`Framer::commit`].
    fn open(&mut self, buf: &mut Vec<u8>) {
        self.frame_start = Some(buf.len());
        self.commit_at = buf.len() + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        buf.extend_from_slice(&[0xfe; FRAME_HEADER_SIZE]);
    }

    /// Close the open frame: fill in its header, or drop a header whose frame
    /// is under [`FRAME_SIZE_MIN`] bytes.
    pub fn commit(&mut self, buf: &mut Vec<u8>) {
        self.commit_at = usize::MAX;
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = buf.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            buf[start] = Opcode::Frame.byte();
            buf[start + 1..start + FRAME_HEADER_SIZE].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            buf.drain(start..start + FRAME_HEADER_SIZE);
        }
    }

    /// Commit the open frame and, framing being on, open the next one.
    #[cold]
    fn commit_and_reopen(&mut self, buf: &mut Vec<u8>) {
        self.commit(buf);
        if self.enabled {
            self.open(buf);
        }
    }

    /// At an object boundary: commit the frame once it reached the target
    /// size (and open the next). Returns true if a frame was committed (the
    /// caller may flush).
    #[inline]
    pub fn boundary(&mut self, buf: &mut Vec<u8>) -> bool {
        if buf.len() >= self.commit_at {
            self.commit_and_reopen(buf);
            return true;
        }
        false
    }

    /// The buffer length at which [`Framer::boundary`] commits the open
    /// frame (`usize::MAX` when none is open).
    pub fn commit_at(&self) -> usize {
        self.commit_at
    }

    /// True if a frame is open and holds bytes.
    pub fn holds_bytes(&self, buf: &[u8]) -> bool {
        matches!(self.frame_start, Some(start) if buf.len() > start + FRAME_HEADER_SIZE)
    }

    /// How many bytes at the start of `buf` are final and may be handed
    /// out: all of them when no frame is open, those before the open
    /// frame's header when it holds nothing yet, none otherwise.
    pub fn flushable(&self, buf: &[u8]) -> usize {
        match self.frame_start {
            None => buf.len(),
            Some(start) if buf.len() == start + FRAME_HEADER_SIZE => start,
            Some(_) => 0,
        }
    }

    /// The first `n` bytes of the buffer were handed out (see
    /// [`Framer::flushable`]): shift the open frame's offsets.
    pub fn consumed(&mut self, n: usize) {
        if let Some(start) = self.frame_start.as_mut() {
            *start -= n;
            self.commit_at -= n;
        }
    }

    /// Write a header and a payload; payloads of [`FRAME_SIZE_TARGET`] bytes
    /// or more are written outside any frame, as `_pickle.c` does.
    #[inline]
    pub fn write_with_payload(&mut self, buf: &mut Vec<u8>, header: &[u8], payload: &[u8]) {
        if payload.len() >= FRAME_SIZE_TARGET && self.enabled {
            self.write_unframed(buf, header, payload);
        } else {
            self.before_write(buf);
            buf.extend_from_slice(header);
            buf.extend_from_slice(payload);
        }
    }

    /// A large payload: commit the open frame, write the payload outside
    /// any, then open the next frame (if one was open: see [`Framer`]).
    fn write_unframed(&mut self, buf: &mut Vec<u8>, header: &[u8], payload: &[u8]) {
        let reopen = self.frame_start.is_some();
        self.commit(buf);
        // Room for the payload and what usually follows (a memo opcode, the
        // next frame's header, STOP), so a large payload is copied once.
        buf.reserve(header.len() + payload.len() + 2 * FRAME_HEADER_SIZE);
        buf.extend_from_slice(header);
        buf.extend_from_slice(payload);
        if reopen {
            self.open(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_are_dropped() {
        let mut f = Framer {
            enabled: true,
            ..Framer::default()
        };
        let mut buf = vec![0x80, 4];
        f.before_write(&mut buf);
        buf.push(b'N');
        f.commit(&mut buf);
        assert_eq!(buf, b"\x80\x04N");
        f.before_write(&mut buf);
        buf.extend_from_slice(b"abcd");
        f.commit(&mut buf);
        assert_eq!(&buf[3..], b"\x95\x04\x00\x00\x00\x00\x00\x00\x00abcd");
    }

    #[test]
    fn frames_kept_open_land_where_lazy_ones_do() {
        let mut f = Framer::default();
        let mut buf = vec![0x80, 4];
        f.start(&mut buf);
        assert_eq!(f.flushable(&buf), 2);
        buf.extend_from_slice(&[b'K'; FRAME_SIZE_TARGET]);
        assert_eq!(f.flushable(&buf), 0);
        assert!(f.holds_bytes(&buf));
        assert!(f.boundary(&mut buf));
        // The next frame is open at once, and what precedes it is final.
        let end = 2 + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        assert_eq!(buf.len(), end + FRAME_HEADER_SIZE);
        assert_eq!(f.flushable(&buf), end);
        assert!(!f.holds_bytes(&buf));
        f.consumed(end);
        buf.drain(..end);
        // A large payload: the empty frame is dropped, the payload written
        // outside frames, and the next frame opened after it.
        f.write_with_payload(&mut buf, b"B", &[0; FRAME_SIZE_TARGET]);
        assert_eq!(buf.len(), 1 + FRAME_SIZE_TARGET + FRAME_HEADER_SIZE);
        buf.push(b'.');
        f.commit(&mut buf);
        assert_eq!(buf.len(), 2 + FRAME_SIZE_TARGET);
        assert_eq!(buf.last(), Some(&b'.'));
    }

    #[test]
    fn tracker_rejects_overrun() {
        let mut t = FrameTracker::default();
        t.check(Opcode::Frame, 2, 11, 2).unwrap();
        t.check(Opcode::None, 11, 12, 0).unwrap();
        assert!(t.check(Opcode::ShortBinUnicode, 12, 15, 0).is_err());
    }
}
