//! The compressed streams Python's loaders open, told apart by their first
//! bytes as joblib's `_detect_compressor` tells them, and decoded as a stream.
//!
//! | kind | first bytes | written by | decoded as the loader decodes it |
//! |---|---|---|---|
//! | zlib | `0x78` | `joblib.dump(compress=n)` / `('zlib', n)` | one zlib stream after another (joblib's `BinaryZlibFile` starts a new decompressor on the data after a stream's end) |
//! | gzip | `1f 8b` | `compress='gzip'` | every gzip member (`gzip.GzipFile`) |
//! | bz2 | `BZ` | `compress='bz2'` | every bz2 stream (`bz2.BZ2File`) |
//! | xz | `fd 37 7a 58 5a` | `compress='xz'` | every xz stream, zero padding between them skipped (`lzma.LZMAFile`) |
//! | lzma | `5d 00` | `compress='lzma'` (`lzma.FORMAT_ALONE`: properties byte `0x5d`, dictionary size, 8-byte size, `ff..ff` when unknown) | one `.lzma` stream |
//! | lz4 | `04 22 4d 18` | `compress='lz4'` (`lz4.frame`) | every lz4 frame |
//! | ZF | `ZF` | joblib < 0.10 (`write_zfile`) | `ZF`, the uncompressed length as 19 bytes of ASCII hex (`'0x1a3'` padded with spaces; one more space from Python 2 joblib ≤ 0.8.4), one zlib stream whose output must have exactly that length (`read_zfile`) |
//!
//! The decoders (the `joblib-compress` feature) are pure Rust: flate2 with
//! miniz_oxide (zlib, gzip, deflate), bzip2 with libbz2-rs-sys, lzma-rs (xz,
//! lzma; its window grows with the output, up to the stream's dictionary
//! size, instead of being allocated from the header's claim) and lz4_flex.
//! lzma-rs decodes by pushing into a writer; [`with_decoder`] turns that into
//! a reader with a second (scoped) thread and a bounded channel, so the
//! output still streams.
//!
//! Without the feature every function here that decodes returns an
//! `Unsupported` error naming the compression and the feature.

use std::io::Read;

use crate::error::{Error, Result};

/// A compression Python's loaders decompress before unpickling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// zlib (RFC 1950), one stream or several in a row.
    Zlib,
    /// gzip (RFC 1952) members.
    Gzip,
    /// bzip2 streams.
    Bz2,
    /// xz streams.
    Xz,
    /// The legacy `.lzma` ("LZMA alone") format.
    Lzma,
    /// lz4 frames.
    Lz4,
    /// joblib < 0.10's `ZF` zfile: a length header and a zlib stream.
    ZFile,
}

/// The header of a `ZF` file: `ZF` and `len(hex(2**64))` = 19 bytes of length.
#[cfg_attr(not(feature = "joblib-compress"), allow(dead_code))]
pub const ZFILE_HEADER: usize = 2 + 19;

impl Kind {
    /// `zlib`, `gzip`, `bz2`, `xz`, `lzma`, `lz4` or `zfile`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Zlib => "zlib",
            Kind::Gzip => "gzip",
            Kind::Bz2 => "bz2",
            Kind::Xz => "xz",
            Kind::Lzma => "lzma",
            Kind::Lz4 => "lz4",
            Kind::ZFile => "zfile",
        }
    }

    /// The compression joblib would detect from a file's first bytes (at
    /// least 5 of them), or `None` for a plain pickle. Like joblib, `ZF` is
    /// tried first, and one `0x78` byte is enough for zlib (no pickle
    /// starts with it: it is not an opcode).
    pub fn detect(head: &[u8]) -> Option<Kind> {
        Some(match head {
            [b'Z', b'F', ..] => Kind::ZFile,
            [0x78, ..] => Kind::Zlib,
            [0x1f, 0x8b, ..] => Kind::Gzip,
            [b'B', b'Z', ..] => Kind::Bz2,
            [0x5d, 0x00, ..] => Kind::Lzma,
            [0xfd, b'7', b'z', b'X', b'Z', ..] => Kind::Xz,
            [0x04, 0x22, 0x4d, 0x18, ..] => Kind::Lz4,
            _ => return None,
        })
    }
}

/// The declared uncompressed length of a `ZF` file from its first
/// [`ZFILE_HEADER`] bytes, parsed as Python's `int(s, 16)` does (spaces
/// around, an optional `0x`, `_` between digits).
#[cfg_attr(not(feature = "joblib-compress"), allow(dead_code))]
pub fn zfile_length(header: &[u8]) -> Result<u64> {
    let bad = || Error::syntax("zfile: the length after `ZF` is not a hexadecimal number");
    let field = header.get(2..ZFILE_HEADER).ok_or_else(Error::eof)?;
    let text = std::str::from_utf8(field).map_err(|_| bad())?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .map(|d| d.strip_prefix('_').unwrap_or(d))
        .unwrap_or(text);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return Err(bad());
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    u64::from_str_radix(&clean, 16).map_err(|_| bad())
}

/// The decompressed output of at most `max` bytes ([`with_decoder`], read
/// whole): what a loader that needs the whole stream in memory uses. An
/// output longer than `max` is a `Limit` error.
pub fn decompress_to_vec(kind: Kind, data: &[u8], max: u64) -> Result<Vec<u8>> {
    with_decoder(kind, data, |r| {
        let mut out = Vec::new();
        r.take(max.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(Error::io)?;
        if out.len() as u64 > max {
            return Err(Error::limit(format!(
                "{}-compressed data decompresses to more than {max} bytes",
                kind.name()
            )));
        }
        Ok(out)
    })
}

/// Call `f` with a reader of the decompressed stream of `src` (all of the
/// input, from its first byte: for a `ZF` file, its header too). Decoding
/// errors come out of the reader as `InvalidData` I/O errors whose message
/// names the compression; a stream cut short is one too (never a silent
/// end of data).
pub fn with_decoder<R, T, F>(kind: Kind, src: R, f: F) -> Result<T>
where
    R: Read + Send,
    F: FnOnce(&mut dyn Read) -> Result<T>,
{
    imp::with_decoder(kind, src, f)
}

/// A zip member's compression method, decoded as Python's `zipfile` (and,
/// for stored and deflated members, miniz in torch) decodes it: 8 (deflate),
/// 12 (bzip2), 14 (lzma, with zipfile's 4-byte header before the
/// properties). `size` is the member's declared uncompressed size, which
/// a `zipfile` lzma member without an end marker needs.
pub fn with_zip_decoder<R, T, F>(method: u16, size: u64, src: R, f: F) -> Result<T>
where
    R: Read + Send,
    F: FnOnce(&mut dyn Read) -> Result<T>,
{
    imp::with_zip_decoder(method, size, src, f)
}

/// The Cargo feature that holds the decoders.
#[cfg_attr(feature = "joblib-compress", allow(dead_code))]
pub const FEATURE: &str = "joblib-compress";

#[cfg(not(feature = "joblib-compress"))]
mod imp {
    use super::*;

    pub(super) fn with_decoder<R, T, F>(kind: Kind, _src: R, _f: F) -> Result<T>
    where
        R: Read + Send,
        F: FnOnce(&mut dyn Read) -> Result<T>,
    {
        Err(Error::unsupported(format!(
            "{}-compressed data: this build cannot decompress it (build with the `{FEATURE}` feature)",
            kind.name()
        )))
    }

    pub(super) fn with_zip_decoder<R, T, F>(method: u16, _size: u64, _src: R, _f: F) -> Result<T>
    where
        R: Read + Send,
        F: FnOnce(&mut dyn Read) -> Result<T>,
    {
        Err(Error::unsupported(format!(
            "zip member compressed with method {method} ({}): this build cannot decompress it (build with the `{FEATURE}` feature)",
            method_name(method)
        )))
    }
}

/// The name of a zip compression method.
pub fn method_name(method: u16) -> &'static str {
    match method {
        0 => "stored",
        8 => "deflate",
        9 => "deflate64",
        12 => "bzip2",
        14 => "lzma",
        93 => "zstd",
        95 => "xz",
        _ => "unknown",
    }
}

#[cfg(feature = "joblib-compress")]
mod imp {
    use super::*;
    use std::io::{self, BufRead, BufReader, Write};
    use std::sync::mpsc;

    fn named(kind: &'static str, e: impl std::fmt::Display) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{kind} decompression failed: {e}"),
        )
    }

    /// Gives a decoder's errors the name of the compression, and turns a
    /// decoder's "unexpected end" into a named truncation error.
    struct Named<R> {
        inner: R,
        kind: &'static str,
    }

    impl<R: Read> Read for Named<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                match self.inner.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        return Err(named(self.kind, "the compressed stream is cut short"))
                    }
                    Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                        let msg = e.to_string();
                        if msg.contains("decompression failed") {
                            return Err(e);
                        }
                        return Err(named(self.kind, msg));
                    }
                    Err(e) => return Err(named(self.kind, e)),
                    Ok(n) => return Ok(n),
                }
            }
        }
    }

    /// zlib streams one after the other, as joblib's `BinaryZlibFile` reads them.
    struct MultiZlib<R: BufRead> {
        dec: Option<flate2::bufread::ZlibDecoder<R>>,
        multi: bool,
    }

    impl<R: BufRead> Read for MultiZlib<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            loop {
                let Some(dec) = self.dec.as_mut() else {
                    return Ok(0);
                };
                let n = dec.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                // A stream ended (flate2 reports a cut stream as an error).
                let mut inner = self.dec.take().expect("decoder").into_inner();
                if !self.multi || inner.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                self.dec = Some(flate2::bufread::ZlibDecoder::new(inner));
            }
        }
    }

    /// Counts the bytes read from the compressed input.
    struct Counting<R> {
        inner: R,
        n: u64,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let k = self.inner.read(buf)?;
            self.n += k as u64;
            Ok(k)
        }
    }

    /// lz4 frames one after another: lz4_flex's decoder reports the end of
    /// each frame as the end of the data, and starts on the next frame when
    /// read again; the input's end is where it reads nothing more.
    struct Lz4Frames<R: Read> {
        dec: lz4_flex::frame::FrameDecoder<Counting<R>>,
    }

    impl<R: Read> Read for Lz4Frames<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                let before = self.dec.get_mut().n;
                let k = self.dec.read(buf)?;
                if k > 0 || buf.is_empty() || self.dec.get_mut().n == before {
                    return Ok(k);
                }
            }
        }
    }

    /// A reader that must yield exactly `want` bytes (the `ZF` length).
    struct Exact<R> {
        inner: R,
        want: u64,
        got: u64,
    }

    impl<R: Read> Read for Exact<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.got += n as u64;
            if self.got > self.want || (n == 0 && !buf.is_empty() && self.got != self.want) {
                return Err(named(
                    "zfile",
                    format!(
                        "the header says {} bytes, the zlib stream holds {}{}",
                        self.want,
                        if n == 0 { "" } else { "more than " },
                        if n == 0 { self.got } else { self.want }
                    ),
                ));
            }
            Ok(n)
        }
    }

    /// Errors of a decoder that ran in another thread, as the reader sees them.
    enum Msg {
        Data(Vec<u8>),
        Done,
        Failed(io::Error),
    }

    struct ChanWriter {
        tx: mpsc::SyncSender<Msg>,
        buf: Vec<u8>,
    }

    const CHUNK: usize = 64 << 10;

    impl Write for ChanWriter {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= CHUNK {
                self.flush()?;
            }
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            if self.buf.is_empty() {
                return Ok(());
            }
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.tx
                .send(Msg::Data(chunk))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "reader gone"))
        }
    }

    struct ChanReader {
        rx: mpsc::Receiver<Msg>,
        cur: Vec<u8>,
        pos: usize,
        done: bool,
        kind: &'static str,
    }

    impl Read for ChanReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            while self.pos == self.cur.len() {
                if self.done || buf.is_empty() {
                    return Ok(0);
                }
                match self.rx.recv() {
                    Ok(Msg::Data(d)) => {
                        self.cur = d;
                        self.pos = 0;
                    }
                    Ok(Msg::Done) => self.done = true,
                    Ok(Msg::Failed(e)) => {
                        self.done = true;
                        return Err(named(self.kind, e));
                    }
                    Err(_) => {
                        self.done = true;
                        return Err(named(self.kind, "the decoder stopped"));
                    }
                }
            }
            let n = buf.len().min(self.cur.len() - self.pos);
            buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Run a push decoder (input reader → output writer) in a scoped thread
    /// and hand `f` the reading end. When `f` returns early the channel
    /// closes and the decoder stops at its next write.
    fn bridged<R, D, T, F>(kind: &'static str, src: R, decode: D, f: F) -> Result<T>
    where
        R: Read + Send,
        D: FnOnce(&mut BufReader<R>, &mut ChanWriter) -> io::Result<()> + Send,
        F: FnOnce(&mut dyn Read) -> Result<T>,
    {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::sync_channel::<Msg>(4);
            let handle = s.spawn(move || {
                let mut w = ChanWriter {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(CHUNK),
                };
                let mut input = BufReader::new(src);
                let r = decode(&mut input, &mut w).and_then(|()| w.flush());
                let _ = tx.send(match r {
                    Ok(()) => Msg::Done,
                    Err(e) => Msg::Failed(e),
                });
            });
            let mut reader = ChanReader {
                rx,
                cur: Vec::new(),
                pos: 0,
                done: false,
                kind,
            };
            let out = f(&mut reader);
            drop(reader);
            let _ = handle.join();
            out
        })
    }

    fn lzma_err(e: lzma_rs::error::Error) -> io::Error {
        match e {
            lzma_rs::error::Error::IoError(e) => e,
            e => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
        }
    }

    /// lzma-rs reads one xz stream and then insists on the end of the input
    /// (its one error for that: "Unexpected data after last XZ block", raised
    /// after the stream was decoded and checked, with the input left right
    /// after it). `lzma.LZMAFile` reads on: stream padding (zero bytes), then
    /// further streams.
    fn xz_streams<R: Read>(input: &mut BufReader<R>, out: &mut ChanWriter) -> io::Result<()> {
        loop {
            match lzma_rs::xz_decompress(input, out) {
                Ok(()) => return Ok(()),
                Err(lzma_rs::error::Error::XzError(m))
                    if m == "Unexpected data after last XZ block" => {}
                Err(e) => return Err(lzma_err(e)),
            }
            loop {
                let buf = input.fill_buf()?;
                if buf.is_empty() {
                    return Ok(());
                }
                let zeros = buf.iter().take_while(|&&b| b == 0).count();
                if zeros == 0 {
                    break;
                }
                input.consume(zeros);
            }
        }
    }

    /// `.lzma` streams, as `lzma.LZMAFile` (`FORMAT_AUTO`, joblib's reader)
    /// reads them: after a stream's end marker, any further data is the
    /// next stream, `.lzma` or xz. lzma-rs stops with one error for that
    /// ("Found end-of-stream marker but more bytes are available"), the input
    /// left right after the stream.
    fn lzma_alone<R: Read>(input: &mut BufReader<R>, out: &mut ChanWriter) -> io::Result<()> {
        loop {
            match lzma_rs::lzma_decompress(input, out) {
                Ok(()) => return Ok(()),
                Err(lzma_rs::error::Error::LzmaError(m))
                    if m == "Found end-of-stream marker but more bytes are available" => {}
                Err(e) => return Err(lzma_err(e)),
            }
            if input.fill_buf()?.starts_with(b"\xfd7zXZ\x00") {
                return xz_streams(input, out);
            }
        }
    }

    pub(super) fn with_decoder<R, T, F>(kind: Kind, src: R, f: F) -> Result<T>
    where
        R: Read + Send,
        F: FnOnce(&mut dyn Read) -> Result<T>,
    {
        let name = kind.name();
        match kind {
            Kind::Zlib => f(&mut Named {
                inner: MultiZlib {
                    dec: Some(flate2::bufread::ZlibDecoder::new(BufReader::new(src))),
                    multi: true,
                },
                kind: name,
            }),
            Kind::ZFile => {
                let mut src = BufReader::new(src);
                let mut header = [0u8; ZFILE_HEADER];
                src.read_exact(&mut header)
                    .map_err(|_| Error::syntax("zfile: shorter than its header"))?;
                let want = zfile_length(&header)?;
                // joblib <= 0.8.4 on Python 2 wrote one more space.
                if src.fill_buf().map_err(Error::io)?.first() == Some(&b' ') {
                    src.consume(1);
                }
                f(&mut Named {
                    inner: Exact {
                        inner: MultiZlib {
                            dec: Some(flate2::bufread::ZlibDecoder::new(src)),
                            multi: false,
                        },
                        want,
                        got: 0,
                    },
                    kind: name,
                })
            }
            Kind::Gzip => f(&mut Named {
                inner: flate2::read::MultiGzDecoder::new(src),
                kind: name,
            }),
            Kind::Bz2 => f(&mut Named {
                inner: bzip2::read::MultiBzDecoder::new(src),
                kind: name,
            }),
            Kind::Lz4 => f(&mut Named {
                inner: Lz4Frames {
                    dec: lz4_flex::frame::FrameDecoder::new(Counting { inner: src, n: 0 }),
                },
                kind: name,
            }),
            Kind::Xz => bridged(name, src, xz_streams::<R>, f),
            Kind::Lzma => bridged(name, src, lzma_alone::<R>, f),
        }
    }

    pub(super) fn with_zip_decoder<R, T, F>(method: u16, size: u64, src: R, f: F) -> Result<T>
    where
        R: Read + Send,
        F: FnOnce(&mut dyn Read) -> Result<T>,
    {
        match method {
            8 => f(&mut Named {
                inner: flate2::read::DeflateDecoder::new(src),
                kind: "deflate",
            }),
            12 => f(&mut Named {
                inner: bzip2::read::BzDecoder::new(src),
                kind: "bzip2",
            }),
            14 => {
                // zipfile: version (2 bytes), properties size (2), then the
                // 5 properties bytes and raw LZMA1 data, ended by an end
                // marker or by the member's size.
                let mut src = BufReader::new(src);
                let mut head = [0u8; 4];
                src.read_exact(&mut head)
                    .map_err(|_| Error::syntax("zip lzma member: shorter than its header"))?;
                if u16::from_le_bytes([head[2], head[3]]) != 5 {
                    return Err(Error::syntax(
                        "zip lzma member: properties are not 5 bytes long",
                    ));
                }
                let decode = move |input: &mut BufReader<BufReader<R>>, out: &mut ChanWriter| {
                    let options = lzma_rs::decompress::Options {
                        unpacked_size: lzma_rs::decompress::UnpackedSize::UseProvided(Some(size)),
                        ..Default::default()
                    };
                    lzma_rs::lzma_decompress_with_options(input, out, &options).map_err(lzma_err)
                };
                bridged("lzma", src, decode, f)
            }
            m => Err(Error::unsupported(format!(
                "zip member compressed with method {m} ({}), which neither torch nor numpy reads",
                method_name(m)
            ))),
        }
    }
}

#[cfg(all(test, feature = "joblib-compress"))]
mod tests {
    use super::*;
    use std::io::Write;

    const PLAIN: &[u8] = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02es.";

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_joblib_loader_reads_every_compression() {
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(3));
        bz.write_all(PLAIN).unwrap();
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(PLAIN).unwrap();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut std::io::Cursor::new(PLAIN), &mut xz).unwrap();
        let mut zf = format!("ZF{:<19}", format!("{:#x}", PLAIN.len())).into_bytes();
        zf.extend(zlib(PLAIN));
        // joblib <= 0.8.4 on Python 2: one more space.
        let mut zf_py2 = format!("ZF{:<20}", format!("{:#x}", PLAIN.len())).into_bytes();
        zf_py2.extend(zlib(PLAIN));
        for data in [
            zlib(PLAIN),
            bz.finish().unwrap(),
            lz.finish().unwrap(),
            xz,
            zf,
            zf_py2,
        ] {
            let kind = Kind::detect(&data).unwrap();
            assert_eq!(decompress_to_vec(kind, &data, 1 << 20).unwrap(), PLAIN);
            let doc = crate::joblib::load(&data).unwrap();
            assert_eq!(doc.root().to_string(), "{'a': [1, 2]}");
        }
        // The bound: a limit error, not a long vector.
        let big = zlib(&[0u8; 1 << 16]);
        let e = decompress_to_vec(Kind::Zlib, &big, 1000).unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
        let e = crate::joblib::load_with(
            &big,
            crate::LoadOptions {
                max_input: 1000,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_input"), "{e}");
        // A corrupt stream names its compression.
        let mut bad = zlib(PLAIN);
        let n = bad.len();
        bad[n / 2] ^= 0x55;
        bad.truncate(n - 3);
        let e = crate::joblib::load(&bad).unwrap_err();
        assert!(e.to_string().contains("zlib"), "{e}");
    }

    #[test]
    fn zfile_lengths_parse_as_python_int_base_16() {
        let h = |s: &str| zfile_length(format!("ZF{s:<19}").as_bytes());
        assert_eq!(h("0x1a3").unwrap(), 0x1a3);
        assert_eq!(h("  1A3 ").unwrap(), 0x1a3);
        assert_eq!(h("0x_1_a").unwrap(), 0x1a);
        assert!(h("0x").is_err());
        assert!(h("1__a").is_err());
        assert!(h("zz").is_err());
    }
}
