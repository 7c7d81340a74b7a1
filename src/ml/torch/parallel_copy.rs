//! Spans of a checkpoint file copied into another file at given offsets by
//! a few threads at once, with positional reads and writes (`pread` /
//! `pwrite`), each zip record's CRC-32 checked on the bytes as they pass.
//!
//! Why threads: converting a checkpoint to safetensors is a copy whose
//! source and destination offsets disagree modulo the page size (zip
//! headers before each record, none between safetensors tensors), so the
//! kernel's `copy_file_range` copies part-pages, and a verified copy must
//! read every byte anyway. One thread reading into a small buffer, checking
//! and writing it runs at about half of `cp`'s speed; the same work split
//! across the cores runs near it (benches/README.md, `--checkpoint`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::source::PositionalFile;
use super::{read_error, write_error};
use crate::error::{Error, Result};
use crate::ml::container::zip::{self, Crc32};

/// One span to copy: `len` bytes at `src` in the source to `dst` in the
/// destination; when `check` names a record, the span is that whole
/// record, and its checksum must be `want`.
pub(super) struct Span<'a> {
    pub src: u64,
    pub len: u64,
    pub dst: u64,
    pub check: Option<Check<'a>>,
}

/// A record's expected CRC-32, and its name for the error.
#[derive(Clone, Copy)]
pub(super) struct Check<'a> {
    pub want: u32,
    pub name: &'a str,
}

/// Bytes a job covers: big enough that a job's setup is nothing, small
/// enough that the threads finish together.
const JOB: u64 = 8 << 20;
/// Each thread's buffer.
const BUF: usize = 1 << 20;

/// What the destination needs: positional writes.
pub(super) trait WriteAt: Sync {
    fn write_all_at(&self, buf: &[u8], pos: u64) -> std::io::Result<()>;
}

#[cfg(unix)]
impl WriteAt for std::fs::File {
    fn write_all_at(&self, buf: &[u8], pos: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, pos)
    }
}

/// Copy every span (and check every record in `verify`, `(start, size,
/// check)`: records only part of which is copied), using up to `threads`
/// threads. The first error stops the others and is returned.
pub(super) fn copy(
    src: &PositionalFile,
    dst: &impl WriteAt,
    spans: &[Span<'_>],
    verify: &[(u64, u64, Check<'_>)],
    threads: usize,
) -> Result<()> {
    // Jobs: pieces of spans (in order, so a span's CRCs combine in order),
    // then the records to verify.
    let mut jobs: Vec<(usize, u64, u64)> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let mut at = 0;
        while at < s.len {
            let n = (s.len - at).min(JOB);
            jobs.push((i, at, n));
            at += n;
        }
    }
    let pieces = jobs.len();
    let total = pieces + verify.len();
    let crcs: Vec<Mutex<Option<Crc32>>> = (0..pieces).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let fail = |e: Error| {
        stop.store(true, Ordering::Relaxed);
        let mut f = failed.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert(e);
    };
    let work = || {
        let mut buf = vec![0u8; BUF];
        while !stop.load(Ordering::Relaxed) {
            let j = next.fetch_add(1, Ordering::Relaxed);
            if j >= total {
                break;
            }
            let r = if j < pieces {
                let (i, at, n) = jobs[j];
                let s = &spans[i];
                piece(
                    src,
                    dst,
                    s.src + at,
                    s.dst + at,
                    n,
                    s.check.is_some(),
                    &mut buf,
                )
                .map(|crc| {
                    *crcs[j].lock().unwrap_or_else(|p| p.into_inner()) = crc;
                })
            } else {
                let (start, size, check) = verify[j - pieces];
                record_crc(src, start, size, &mut buf).and_then(|got| compare(got, check))
            };
            if let Err(e) = r {
                fail(e);
            }
        }
    };
    let threads = threads.clamp(1, total.max(1));
    std::thread::scope(|sc| {
        for _ in 1..threads {
            sc.spawn(work);
        }
        work();
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    // Each checked span's pieces, combined in order.
    let mut j = 0;
    for (i, s) in spans.iter().enumerate() {
        let mut crc: Option<Crc32> = None;
        while j < pieces && jobs[j].0 == i {
            let part = crcs[j].lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(part) = part {
                match &mut crc {
                    None => crc = Some(part),
                    Some(c) => c.combine(&part),
                }
            }
            j += 1;
        }
        if let Some(check) = s.check {
            compare(crc.unwrap_or_default().value(), check)?;
        }
    }
    Ok(())
}

/// Copy `n` bytes from `from` to `to` through `buf`; their CRC-32 when
/// `crc` is asked for.
fn piece(
    src: &PositionalFile,
    dst: &impl WriteAt,
    from: u64,
    to: u64,
    n: u64,
    crc: bool,
    buf: &mut [u8],
) -> Result<Option<Crc32>> {
    let mut sum = crc.then(Crc32::default);
    let mut at = 0;
    while at < n {
        let k = (n - at).min(buf.len() as u64) as usize;
        let b = &mut buf[..k];
        src.read_exact_at(from + at, b).map_err(read_error)?;
        if let Some(s) = &mut sum {
            s.update(b);
        }
        dst.write_all_at(b, to + at).map_err(write_error)?;
        at += k as u64;
    }
    Ok(sum)
}

fn record_crc(src: &PositionalFile, start: u64, size: u64, buf: &mut [u8]) -> Result<u32> {
    let mut sum = Crc32::default();
    let mut at = 0;
    while at < size {
        let k = (size - at).min(buf.len() as u64) as usize;
        src.read_exact_at(start + at, &mut buf[..k])
            .map_err(read_error)?;
        sum.update(&buf[..k]);
        at += k as u64;
    }
    Ok(sum.value())
}

fn compare(got: u32, check: Check<'_>) -> Result<()> {
    if got == check.want {
        return Ok(());
    }
    Err(zip::bad_crc(check.name, got, check.want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn temp(name: &str, data: &[u8]) -> (std::path::PathBuf, std::fs::File) {
        let dir = std::env::temp_dir().join(format!("pickle-codec-pcopy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(data).unwrap();
        (path, f)
    }

    #[test]
    fn spans_are_copied_and_checked_in_pieces() {
        // 20 MiB and a bit: spans of several jobs, whose CRCs combine.
        let data: Vec<u8> = (0..(20u32 << 20) + 77)
            .map(|i| (i.wrapping_mul(2654435761u32) >> 24) as u8)
            .collect();
        let (src_path, _) = temp("src", &data);
        let src = PositionalFile::new(std::fs::File::open(&src_path).unwrap());
        let (a, b) = (100u64, 17u64 << 20);
        let whole = |from: u64, to: u64, name| Check {
            want: Crc32::of(&data[from as usize..to as usize]),
            name,
        };
        for threads in [1, 3] {
            let (dst_path, _) = temp("dst", &[]);
            let dst = std::fs::OpenOptions::new()
                .write(true)
                .open(&dst_path)
                .unwrap();
            let spans = [
                Span {
                    src: a,
                    len: b - a,
                    dst: 5,
                    check: Some(whole(a, b, "one")),
                },
                Span {
                    src: b,
                    len: 1000,
                    dst: 5 + b - a,
                    check: None,
                },
            ];
            // The second span is part of a record [b, end) verified apart.
            let end = data.len() as u64;
            let verify = [(b, end - b, whole(b, end, "two"))];
            copy(&src, &dst, &spans, &verify, threads).unwrap();
            let out = std::fs::read(&dst_path).unwrap();
            assert_eq!(&out[5..], &data[a as usize..b as usize + 1000]);
            // A wrong checksum is an error naming the record.
            let bad = [(
                b,
                end - b,
                Check {
                    want: 1,
                    name: "two",
                },
            )];
            let e = copy(&src, &dst, &spans, &bad, threads)
                .unwrap_err()
                .to_string();
            assert!(e.contains("zip member two: bad CRC-32"), "{e}");
            let bad = [Span {
                src: a,
                len: b - a,
                dst: 5,
                check: Some(Check {
                    want: 1,
                    name: "one",
                }),
            }];
            let e = copy(&src, &dst, &bad, &[], threads)
                .unwrap_err()
                .to_string();
            assert!(e.contains("zip member one: bad CRC-32"), "{e}");
            // Past the source's end: an error, not a short file.
            let past = [Span {
                src: end - 10,
                len: 20,
                dst: 0,
                check: None,
            }];
            let e = copy(&src, &dst, &past, &[], threads)
                .unwrap_err()
                .to_string();
            assert!(e.contains("ends inside"), "{e}");
        }
        std::fs::remove_dir_all(src_path.parent().unwrap()).unwrap();
    }
}
