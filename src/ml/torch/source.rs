//! Where a checkpoint's bytes come from: a file read with positional reads
//! (any number at once, from any thread), a reader behind a lock, or a
//! memory map; and [`At`], a `Read + Seek` view of any of them for the
//! parsers that want a cursor (the zip directory, the legacy pickles, tar
//! headers).

use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;

/// A file read at offsets: `pread` on Unix, `ReadFile` with an offset on
/// Windows (neither moves a shared cursor that another read depends on),
/// and elsewhere seek-and-read under a lock.
pub(super) struct PositionalFile {
    #[cfg(any(unix, windows))]
    file: std::fs::File,
    #[cfg(not(any(unix, windows)))]
    file: Mutex<std::fs::File>,
    /// Held while the file's cursor is used ([`PositionalFile::copy_to`]);
    /// positional reads do not use it.
    #[cfg(any(unix, windows))]
    cursor: Mutex<()>,
}

impl PositionalFile {
    pub(super) fn new(file: std::fs::File) -> Self {
        #[cfg(not(any(unix, windows)))]
        let file = Mutex::new(file);
        PositionalFile {
            file,
            #[cfg(any(unix, windows))]
            cursor: Mutex::new(()),
        }
    }

    /// Copy `len` bytes at `pos` to `w` with `std::io::copy` from the file
    /// itself, which on Linux, to a file (or a `BufWriter` of one, flushed
    /// first), is `copy_file_range`: the bytes go from file to file in the
    /// kernel. Fewer there is an `UnexpectedEof` error.
    #[cfg_attr(not(feature = "safetensors"), allow(dead_code))]
    fn copy_to<W: std::io::Write>(&self, pos: u64, len: u64, w: &mut W) -> std::io::Result<()> {
        #[cfg(any(unix, windows))]
        let (_cursor, mut f) = (
            self.cursor.lock().unwrap_or_else(|p| p.into_inner()),
            &self.file,
        );
        #[cfg(not(any(unix, windows)))]
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(pos))?;
        #[cfg(not(any(unix, windows)))]
        let f = &*f;
        let n = std::io::copy(&mut f.take(len), w)?;
        if n < len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    #[cfg(unix)]
    pub(super) fn read_exact_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, pos)
    }

    #[cfg(windows)]
    pub(super) fn read_exact_at(&self, mut pos: u64, mut buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            match self.file.seek_read(buf, pos) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    pos += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    #[cfg(not(any(unix, windows)))]
    pub(super) fn read_exact_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(pos))?;
        f.read_exact(buf)
    }
}

/// The bytes of a checkpoint.
pub(super) enum Bytes<R> {
    /// [`super::Checkpoint::open`]: a file, read at offsets.
    File(PositionalFile),
    /// [`super::Checkpoint::from_reader`]: offsets count from `start`, where
    /// the reader was when handed over (as torch's `BufferAdapter` counts).
    Reader { inner: Mutex<R>, start: u64 },
    /// [`super::Checkpoint::mmap`].
    #[cfg(feature = "mmap")]
    Map(super::mmap::Map),
}

impl<R: Read + Seek> Bytes<R> {
    /// Read `buf.len()` bytes at `pos` (from the checkpoint's start); fewer
    /// there is an `UnexpectedEof` error.
    pub(super) fn read_exact_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        match self {
            Bytes::File(f) => f.read_exact_at(pos, buf),
            Bytes::Reader { inner, start } => {
                let at = start.checked_add(pos).ok_or_else(past_end)?;
                // A reader that panicked mid-read leaves no state we rely on:
                // every read seeks first.
                let mut r = inner.lock().unwrap_or_else(|p| p.into_inner());
                r.seek(SeekFrom::Start(at))?;
                r.read_exact(buf)
            }
            #[cfg(feature = "mmap")]
            Bytes::Map(m) => {
                let src = usize::try_from(pos)
                    .ok()
                    .and_then(|p| m.bytes().get(p..p.checked_add(buf.len())?))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }

    /// Copy `len` bytes at `pos` to `w`, as directly as the source allows:
    /// from a file with `std::io::copy` (`copy_file_range` on Linux, see
    /// [`PositionalFile::copy_to`]), from a map in one write, from a reader
    /// a megabyte at a time through one buffer. Fewer there is an
    /// `UnexpectedEof` error.
    #[cfg_attr(not(feature = "safetensors"), allow(dead_code))]
    pub(super) fn copy_to<W: std::io::Write>(
        &self,
        pos: u64,
        len: u64,
        w: &mut W,
    ) -> std::io::Result<()> {
        if let Some(b) = self.mapped(pos, len) {
            return w.write_all(b);
        }
        match self {
            Bytes::File(f) => f.copy_to(pos, len, w),
            _ => {
                let chunk = 1u64 << 20;
                let mut buf = vec![0u8; len.min(chunk) as usize];
                let mut at = 0;
                while at < len {
                    let n = (len - at).min(chunk) as usize;
                    let p = pos.checked_add(at).ok_or_else(past_end)?;
                    self.read_exact_at(p, &mut buf[..n])?;
                    w.write_all(&buf[..n])?;
                    at += n as u64;
                }
                Ok(())
            }
        }
    }

    /// The mapped bytes at `pos..pos + len`, for a memory-mapped checkpoint
    /// (`None` otherwise, or outside the map).
    pub(super) fn mapped(&self, pos: u64, len: u64) -> Option<&[u8]> {
        match self {
            #[cfg(feature = "mmap")]
            Bytes::Map(m) => {
                let p = usize::try_from(pos).ok()?;
                let n = usize::try_from(len).ok()?;
                m.bytes().get(p..p.checked_add(n)?)
            }
            _ => {
                let _ = (pos, len);
                None
            }
        }
    }

    /// True for a memory map.
    /// The file, when the bytes are one read at offsets.
    #[cfg_attr(not(feature = "safetensors"), allow(dead_code))]
    pub(super) fn positional(&self) -> Option<&PositionalFile> {
        match self {
            Bytes::File(f) => Some(f),
            _ => None,
        }
    }

    pub(super) fn is_mapped(&self) -> bool {
        #[cfg(feature = "mmap")]
        if let Bytes::Map(_) = self {
            return true;
        }
        false
    }
}

fn past_end() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "offset past u64::MAX")
}

/// A cursor over [`Bytes`] of `len` bytes: `Read + Seek` for the parsers.
pub(super) struct At<'a, R> {
    pub(super) bytes: &'a Bytes<R>,
    pub(super) len: u64,
    pub(super) pos: u64,
}

impl<R: Read + Seek> Read for At<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.bytes.read_exact_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for At<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = to.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek out of range")
        })?;
        Ok(self.pos)
    }
}
