//! The item and pair pools of a [`Document`](super::Document): where the
//! loader keeps the items of containers filled in one batch (as CPython
//! writes small lists, tuples and dicts), so that loading many small
//! containers costs no allocation each (a records load spent 45% of its
//! time in `malloc`/`free` of one `Vec` per dict and list).
//!
//! A pool is a list of chunks of at most [`CHUNK`] entries, and a span
//! never crosses a chunk: so no chunk is reallocated past [`CHUNK`]
//! entries, and a long load's pool never moves megabytes at each doubling
//! (one `Vec` for the whole pool did, and made a records load slower than
//! one allocation per container: glibc copies blocks under its mapping
//! threshold and faults in every new one).

/// Entries in a chunk (a span's start is `chunk << CHUNK_BITS | offset`):
/// 64 KiB of items, 128 KiB of pairs, blocks glibc keeps in its heap. With
/// chunks of 65,536 entries (1-2 MiB blocks, mapped and unmapped at every
/// load), five records loads in a row in one process took 37-42 ms each
/// against 21-25 ms for the first (`benches/compare.rs --history`); with
/// these, 11.5-16.6 ms.
const CHUNK_BITS: u32 = 12;
pub(super) const CHUNK: usize = 1 << CHUNK_BITS;

/// Where an [`Items::Span`](super::Items::Span) or
/// [`Pairs::Span`](super::Pairs::Span) lies in its document's pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpan {
    start: u32,
    len: u32,
}

impl PoolSpan {
    fn chunk(self) -> usize {
        (self.start >> CHUNK_BITS) as usize
    }

    fn range(self) -> std::ops::Range<usize> {
        let at = (self.start & (CHUNK as u32 - 1)) as usize;
        at..at + self.len as usize
    }

    /// Entries in the span.
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// True for an empty span.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Pool<T> {
    chunks: Vec<Vec<T>>,
}

impl<T: Copy> Pool<T> {
    /// The entries of `s`.
    ///
    /// # Panics
    /// If `s` is a span of another pool that lies outside this one.
    #[inline]
    pub(super) fn get(&self, s: PoolSpan) -> &[T] {
        &self.chunks[s.chunk()][s.range()]
    }

    /// `n` new entries as a new span; `None` (nothing taken) where a span
    /// cannot hold them (more than a chunk) or the pool is full.
    #[inline]
    pub(super) fn push(&mut self, n: usize, new: impl Iterator<Item = T>) -> Option<PoolSpan> {
        if n > CHUNK {
            return None;
        }
        // A span's offset must stay below CHUNK, even an empty one's.
        let room = self
            .chunks
            .last()
            .is_some_and(|c| c.len() + n.max(1) <= CHUNK);
        if !room {
            if self.chunks.len() > (u32::MAX >> CHUNK_BITS) as usize {
                return None;
            }
            // The first chunk grows as it fills (small documents stay
            // small); the next ones are made whole.
            let cap = if self.chunks.is_empty() { 0 } else { CHUNK };
            self.chunks.push(Vec::with_capacity(cap));
        }
        let chunk = self.chunks.len() - 1;
        let c = &mut self.chunks[chunk];
        let start = ((chunk as u32) << CHUNK_BITS) | c.len() as u32;
        c.extend(new.take(n));
        Some(PoolSpan {
            start,
            len: n as u32,
        })
    }

    /// Whether `s` ends the pool, so that it can grow where it lies.
    pub(super) fn ends(&self, s: PoolSpan) -> bool {
        s.chunk() + 1 == self.chunks.len() && s.range().end == self.chunks[s.chunk()].len()
    }

    /// `n` entries appended to `s`, which [`Pool::ends`] the pool, where
    /// it lies; false (nothing taken) where its chunk has no room.
    #[inline]
    pub(super) fn extend(
        &mut self,
        s: &mut PoolSpan,
        n: usize,
        new: impl Iterator<Item = T>,
    ) -> bool {
        let c = &mut self.chunks[s.chunk()];
        if c.len() + n > CHUNK {
            return false;
        }
        c.extend(new.take(n));
        s.len += n as u32;
        true
    }

    /// Every entry, to change in place (dropped nodes' too).
    pub(super) fn all_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::{Pool, CHUNK};

    /// Spans at the very end of a full chunk: an empty span made when the
    /// chunk is full goes to a new chunk (its offset would be `CHUNK`,
    /// which reads as the next chunk's start), and every span reads back.
    #[test]
    fn spans_at_chunk_ends_read_back() {
        let mut p: Pool<u32> = Pool::default();
        let full = p.push(CHUNK, 0..CHUNK as u32).unwrap();
        let empty = p.push(0, std::iter::empty()).unwrap();
        assert!(p.get(empty).is_empty());
        let next = p.push(3, 7..10).unwrap();
        assert_eq!(p.get(full).len(), CHUNK);
        assert_eq!(p.get(full)[CHUNK - 1], CHUNK as u32 - 1);
        assert!(p.get(empty).is_empty());
        assert_eq!(p.get(next), &[7, 8, 9]);
        // More than a chunk is not pooled; a span that would cross one
        // starts a new chunk.
        assert!(p.push(CHUNK + 1, 0..).is_none());
        let mut last = p.push(CHUNK - 3, 0..).unwrap();
        assert!(p.ends(last) && !p.extend(&mut last, 1, 0..));
        assert_eq!(p.get(last).len(), CHUNK - 3);
        // `last` filled the second chunk (after the 3 of `next`).
        assert_eq!(p.len(), 2 * CHUNK);
    }
}
