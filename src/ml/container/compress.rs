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
//! The decoders (the `joblib-compress` feature) are pure Rust and pull-based,
//! so the output streams and memory stays bounded by the format's window:
//! flate2 with miniz_oxide (zlib, gzip, deflate), bzip2 with libbz2-rs-sys,
//! lz4_flex, and lzma-rust2's LZMA and LZMA2 readers, with the xz container
//! (stream header, block headers, index, footer) read here so that the
//! dictionary a block asks for is checked against a cap before the decoder
//! allocates it (256 MiB; xz's presets use at most 64 MiB).
//!
//! Data after a file's last stream that is not a further stream is an error
//! (Python's readers would ignore it; it is never decoded, so never
//! unpickled, but it is not read here either). Integrity checks (zlib's
//! Adler-32, gzip's and bz2's CRCs, xz checks) are whatever the decoder
//! does: they cannot make a scan miss anything, since every byte the loader
//! would unpickle is scanned before the loader itself would check them.
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
/// a `zipfile` lzma member without an end marker needs. `src` need not be
/// `Send` (the zip decoders are pull-based), so that the torch loader can
/// inflate from any reader it is given.
pub fn with_zip_decoder<R, T, F>(method: u16, size: u64, src: R, f: F) -> Result<T>
where
    R: Read,
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
        R: Read,
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
    use std::io::{self, BufRead, BufReader};

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

    /// The largest LZMA dictionary accepted (xz's own presets use at most
    /// 64 MiB; the format allows 4 GiB, which the decoder would allocate).
    pub(super) const MAX_DICT: u32 = 256 << 20;

    fn dict_check(dict: u32) -> io::Result<()> {
        if dict > MAX_DICT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "an LZMA dictionary of {dict} bytes, more than the {MAX_DICT} this reader allocates"
                ),
            ));
        }
        Ok(())
    }

    fn invalid(msg: impl Into<String>) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, msg.into())
    }

    fn read_u8<R: Read>(r: &mut R) -> io::Result<u8> {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// An xz multibyte integer (at most 9 bytes, as liblzma reads them).
    fn read_varint<R: Read>(r: &mut R) -> io::Result<u64> {
        let mut n = 0u64;
        for i in 0..9 {
            let b = read_u8(r)?;
            n |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(invalid("xz: a multibyte integer with a zero last byte"));
                }
                return Ok(n);
            }
        }
        Err(invalid("xz: a multibyte integer longer than 9 bytes"))
    }

    fn varint_in(buf: &[u8], pos: &mut usize) -> io::Result<u64> {
        let mut r = buf.get(*pos..).unwrap_or(&[]);
        let before = r.len();
        let n = read_varint(&mut r).map_err(|_| invalid("xz: bad block header"))?;
        *pos += before - r.len();
        Ok(n)
    }

    fn skip<R: Read>(r: &mut R, n: u64) -> io::Result<()> {
        let got = io::copy(&mut r.by_ref().take(n), &mut io::sink())?;
        if got < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// An xz filter before LZMA2 in a block's chain (what liblzma decodes
    /// for `lzma.LZMAFile`): delta, or a branch/call/jump converter.
    enum Filter {
        Delta(usize),
        Bcj(u64, usize),
    }

    impl Filter {
        fn parse(id: u64, props: &[u8]) -> io::Result<Filter> {
            match id {
                0x03 => match props {
                    [d] => Ok(Filter::Delta(*d as usize + 1)),
                    _ => Err(invalid("xz: bad delta filter properties")),
                },
                0x04..=0x0b => {
                    let start = match props {
                        [] => 0,
                        [a, b, c, d] => u32::from_le_bytes([*a, *b, *c, *d]) as usize,
                        _ => return Err(invalid("xz: bad BCJ filter properties")),
                    };
                    Ok(Filter::Bcj(id, start))
                }
                id => Err(invalid(format!("xz: unknown filter {id:#x}"))),
            }
        }

        fn wrap<R: Read>(self, inner: Chain<R>) -> Chain<R> {
            use lzma_rust2::filter::bcj::BcjReader;
            let inner = Box::new(inner);
            match self {
                Filter::Delta(d) => {
                    Chain::Delta(lzma_rust2::filter::delta::DeltaReader::new(inner, d))
                }
                Filter::Bcj(id, s) => Chain::Bcj(match id {
                    0x04 => BcjReader::new_x86(inner, s),
                    0x05 => BcjReader::new_ppc(inner, s),
                    0x06 => BcjReader::new_ia64(inner, s),
                    0x07 => BcjReader::new_arm(inner, s),
                    0x08 => BcjReader::new_arm_thumb(inner, s),
                    0x09 => BcjReader::new_sparc(inner, s),
                    0x0a => BcjReader::new_arm64(inner, s),
                    _ => BcjReader::new_riscv(inner, s),
                }),
            }
        }
    }

    /// A block's decoder: LZMA2, under the filters before it.
    enum Chain<R: Read> {
        Lzma2(Box<lzma_rust2::Lzma2Reader<R>>),
        Delta(lzma_rust2::filter::delta::DeltaReader<Box<Chain<R>>>),
        Bcj(lzma_rust2::filter::bcj::BcjReader<Box<Chain<R>>>),
    }

    impl<R: Read> Chain<R> {
        fn into_input(self) -> R {
            match self {
                Chain::Lzma2(r) => (*r).into_inner(),
                Chain::Delta(r) => r.into_inner().into_input(),
                Chain::Bcj(r) => r.into_inner().into_input(),
            }
        }
    }

    impl<R: Read> Read for Chain<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self {
                Chain::Lzma2(r) => r.read(buf),
                Chain::Delta(r) => r.read(buf),
                Chain::Bcj(r) => r.read(buf),
            }
        }
    }

    /// Where the xz reader is.
    enum XzState<I: BufRead> {
        /// Before a stream header (at the start, or after a stream's footer
        /// and padding).
        StreamStart,
        /// Before a block header or the index.
        Block,
        /// In a block's LZMA2 data; how many compressed bytes the block
        /// header took.
        Data(Box<Chain<Counting<I>>>, u64),
        Done,
    }

    /// The xz container (streams of blocks, each block one LZMA2 chunk
    /// sequence after a header naming its filters and dictionary), read as
    /// liblzma reads it for `lzma.LZMAFile`: every stream, zero padding
    /// between them. Every filter chain liblzma reads: LZMA2 last, delta and
    /// the BCJ converters (x86, PowerPC, IA-64, ARM, ARM-Thumb, SPARC,
    /// ARM64, RISC-V) before it; dictionaries up to
    /// [`MAX_DICT`]; integrity checks (CRC32, CRC64, SHA-256) are skipped
    /// over, not verified: liblzma verifies a block's check after handing out
    /// its data, so a payload would already have been unpickled.
    struct XzStreams<I: BufRead> {
        input: Option<Counting<I>>,
        state: XzState<I>,
        check_size: u64,
        streams: u64,
    }

    impl<I: BufRead> XzStreams<I> {
        fn new(src: I) -> Self {
            XzStreams {
                input: Some(Counting { inner: src, n: 0 }),
                state: XzState::StreamStart,
                check_size: 0,
                streams: 0,
            }
        }

        fn input(&mut self) -> &mut Counting<I> {
            self.input
                .as_mut()
                .expect("input held while not in a block")
        }

        /// Advance over headers until block data is ready or the input ends.
        fn step(&mut self) -> io::Result<()> {
            match std::mem::replace(&mut self.state, XzState::Done) {
                XzState::StreamStart => {
                    // Stream padding (zero bytes) before a further stream.
                    let streams = self.streams;
                    let inp = self.input();
                    if streams > 0 {
                        loop {
                            let buf = inp.inner.fill_buf()?;
                            if buf.is_empty() {
                                self.state = XzState::Done;
                                return Ok(());
                            }
                            let zeros = buf.iter().take_while(|&&b| b == 0).count();
                            if zeros == 0 {
                                break;
                            }
                            inp.inner.consume(zeros);
                            inp.n += zeros as u64;
                        }
                    }
                    let mut h = [0u8; 12];
                    inp.read_exact(&mut h)?;
                    if h[..6] != *b"\xfd7zXZ\x00" {
                        return Err(invalid(if streams == 0 {
                            "xz: not an xz stream header"
                        } else {
                            "xz: data after the last stream that is not a stream"
                        }));
                    }
                    if h[6] != 0 || h[7] > 0x0f {
                        return Err(invalid("xz: unsupported stream flags"));
                    }
                    self.check_size =
                        [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64][h[7] as usize];
                    self.streams += 1;
                    self.state = XzState::Block;
                    Ok(())
                }
                XzState::Block => {
                    let inp = self.input();
                    let start = inp.n;
                    let first = read_u8(inp)?;
                    if first == 0 {
                        // The index: records, padding, CRC32; then the footer.
                        let records = read_varint(inp)?;
                        for _ in 0..records {
                            read_varint(inp)?;
                            read_varint(inp)?;
                        }
                        let used = inp.n - start;
                        skip(inp, (4 - used % 4) % 4 + 4)?;
                        let mut footer = [0u8; 12];
                        inp.read_exact(&mut footer)?;
                        if footer[10..] != *b"YZ" {
                            return Err(invalid("xz: bad stream footer"));
                        }
                        self.state = XzState::StreamStart;
                        return Ok(());
                    }
                    let size = (first as usize + 1) * 4;
                    let mut h = vec![0u8; size];
                    h[0] = first;
                    inp.read_exact(&mut h[1..])?;
                    let flags = h[1];
                    if flags & 0x3c != 0 {
                        return Err(invalid("xz: unsupported block flags"));
                    }
                    let mut pos = 2;
                    if flags & 0x40 != 0 {
                        varint_in(&h, &mut pos)?;
                    }
                    if flags & 0x80 != 0 {
                        varint_in(&h, &mut pos)?;
                    }
                    let filters = (flags & 3) + 1;
                    let mut dict = None;
                    let mut chain = Vec::new();
                    for i in 0..filters {
                        let id = varint_in(&h, &mut pos)?;
                        let props = varint_in(&h, &mut pos)? as usize;
                        let p = h
                            .get(pos..pos + props)
                            .ok_or_else(|| invalid("xz: bad block header"))?;
                        pos += props;
                        let last = i + 1 == filters;
                        if id != 0x21 || !last {
                            if last || id == 0x21 {
                                return Err(invalid("xz: LZMA2 is not the last filter"));
                            }
                            chain.push(Filter::parse(id, p)?);
                            continue;
                        }
                        if props != 1 {
                            return Err(invalid("xz: bad LZMA2 filter properties"));
                        }
                        let d = p[0];
                        if d > 40 {
                            return Err(invalid("xz: bad LZMA2 dictionary size"));
                        }
                        dict = Some(if d == 40 {
                            u32::MAX
                        } else {
                            (2 | (d as u32 & 1)) << (d / 2 + 11)
                        });
                    }
                    let dict = dict.expect("one filter at least");
                    dict_check(dict)?;
                    let inp = self.input.take().expect("input");
                    let header = inp.n - start;
                    let start = inp.n;
                    let mut reader =
                        Chain::Lzma2(Box::new(lzma_rust2::Lzma2Reader::new(inp, dict, None)));
                    // Decoding undoes the filters last to first.
                    for f in chain.into_iter().rev() {
                        reader = f.wrap(reader);
                    }
                    self.state = XzState::Data(Box::new(reader), start - header);
                    Ok(())
                }
                XzState::Data(..) => unreachable!("block data is read in `read`"),
                XzState::Done => Ok(()),
            }
        }
    }

    impl<I: BufRead> Read for XzStreams<I> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            loop {
                match &mut self.state {
                    XzState::Done => return Ok(0),
                    XzState::Data(reader, block_start) => {
                        let n = reader.read(buf)?;
                        if n > 0 {
                            return Ok(n);
                        }
                        let block_start = *block_start;
                        let XzState::Data(reader, _) =
                            std::mem::replace(&mut self.state, XzState::Block)
                        else {
                            unreachable!()
                        };
                        let mut inp = reader.into_input();
                        // Block padding to a multiple of 4, then the check.
                        let used = inp.n - block_start;
                        skip(&mut inp, (4 - used % 4) % 4 + self.check_size)?;
                        self.input = Some(inp);
                    }
                    _ => self.step()?,
                }
            }
        }
    }

    /// `.lzma` streams, as `lzma.LZMAFile` (`FORMAT_AUTO`, joblib's reader)
    /// reads them: after a stream's end, further data is the next stream,
    /// `.lzma` or xz.
    struct LzmaStreams<I: BufRead> {
        reader: Option<lzma_rust2::LzmaReader<I>>,
        xz: Option<XzStreams<I>>,
    }

    fn lzma_stream<I: BufRead>(mut input: I) -> io::Result<lzma_rust2::LzmaReader<I>> {
        let head = input.fill_buf()?;
        if head.len() < 5 {
            return Err(invalid("lzma: shorter than its header"));
        }
        dict_check(u32::from_le_bytes(head[1..5].try_into().expect("4 bytes")))?;
        lzma_rust2::LzmaReader::new_mem_limit(input, u32::MAX, None)
    }

    impl<I: BufRead> Read for LzmaStreams<I> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            loop {
                if let Some(xz) = self.xz.as_mut() {
                    return xz.read(buf);
                }
                let Some(reader) = self.reader.as_mut() else {
                    return Ok(0);
                };
                let n = reader.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                let mut input = self.reader.take().expect("reader").into_inner();
                let rest = input.fill_buf()?;
                if rest.is_empty() {
                    return Ok(0);
                }
                if rest.starts_with(b"\xfd7zXZ\x00") {
                    self.xz = Some(XzStreams::new(input));
                } else {
                    self.reader = Some(lzma_stream(input)?);
                }
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
            Kind::Xz => f(&mut Named {
                inner: XzStreams::new(BufReader::new(src)),
                kind: name,
            }),
            Kind::Lzma => {
                let first =
                    lzma_stream(BufReader::new(src)).map_err(|e| Error::io(named(name, e)))?;
                f(&mut Named {
                    inner: LzmaStreams {
                        reader: Some(first),
                        xz: None,
                    },
                    kind: name,
                })
            }
        }
    }

    pub(super) fn with_zip_decoder<R, T, F>(method: u16, size: u64, src: R, f: F) -> Result<T>
    where
        R: Read,
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
                let mut props = [0u8; 5];
                src.read_exact(&mut props)
                    .map_err(|_| Error::syntax("zip lzma member: shorter than its header"))?;
                let dict = u32::from_le_bytes(props[1..].try_into().expect("4 bytes"));
                dict_check(dict).map_err(|e| Error::io(named("lzma", e)))?;
                let reader =
                    lzma_rust2::LzmaReader::new_with_props(src, size, props[0], dict, None)
                        .map_err(|e| Error::io(named("lzma", e)))?;
                f(&mut Named {
                    inner: reader,
                    kind: "lzma",
                })
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
            let doc = crate::ml::joblib::load(&data).unwrap();
            assert_eq!(doc.root().to_string(), "{'a': [1, 2]}");
        }
        // The bound: a limit error, not a long vector.
        let big = zlib(&[0u8; 1 << 16]);
        let e = decompress_to_vec(Kind::Zlib, &big, 1000).unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
        let e = crate::ml::joblib::load_with(
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
        let e = crate::ml::joblib::load(&bad).unwrap_err();
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
