//! Zip archives as the two loaders that open them read them: PyTorch
//! (`caffe2/serialize/inline_container.cc`, miniz) and numpy (`np.load` of
//! an `.npz`, Python's `zipfile`).
//!
//! * The end-of-central-directory record is the last `PK\x05\x06` in the
//!   file's final 64 KiB + 22 bytes; when a zip64 locator (`PK\x06\x07`)
//!   sits right before it, both miniz and `zipfile` take the counts, size
//!   and offset from the zip64 record instead, whatever the 32-bit fields
//!   hold. miniz finds that record at the locator's offset, `zipfile` right
//!   before the locator: the two must agree.
//! * `zipfile` shifts every offset by the bytes between where the end
//!   record says the central directory ends and where it does end
//!   (`concat`, for data prepended to an archive); miniz does not. Where
//!   that shift is not zero the two loaders read two different directories
//!   ([`directory`] reads either).
//! * Members come from the central directory: name, method, flags, sizes,
//!   local header offset (zip64 extra field `0x0001` for the fields that are
//!   all ones). The data starts after the **local** header's own name and
//!   extra lengths (miniz's `mz_zip_reader_extract_*` and torch's
//!   `getRecordOffset` do this; so does `zipfile`). The local name is not
//!   what either loader looks members up by (`zipfile` refuses a member whose
//!   local name differs: [`Located::local_name`] tells the caller).
//! * CRC-32 is not checked: torch builds miniz with
//!   `MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS`, and `zipfile` checks it only
//!   once the member has been read to its end, after `pickle.load` ran.
//! * torch looks records up with `mz_zip_reader_locate_file(..., 0)`: an
//!   ASCII case-insensitive comparison of the whole name, among all members,
//!   duplicates included; `zipfile` keeps the last member of a name. So
//!   callers consider every member, whatever the case of its name.
//!
//! * miniz extracts stored and deflated members only ([`MINIZ_METHODS`]),
//!   `zipfile` bzip2 and lzma ones too ([`ZIPFILE_METHODS`]); neither reads
//!   an encrypted or patch member ([`Member::is_encrypted`]). A compressed
//!   member must inflate to the size its directory entry gives
//!   ([`with_data`]; miniz refuses any other size, `zipfile` cuts it there).
//!
//! Only what a caller asks for is read, with seeks: a checkpoint's storages
//! are never touched, and the end record is looked for in a small tail
//! first, so that listing a checkpoint's tensors reads its pickle and
//! directory only.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};
use crate::ml::container::compress;

/// The compression methods miniz (torch) extracts: stored, deflate.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub const MINIZ_METHODS: [u16; 2] = [0, 8];

/// The compression methods Python's `zipfile` (numpy) extracts: stored,
/// deflate, bzip2, lzma.
pub const ZIPFILE_METHODS: [u16; 4] = [0, 8, 12, 14];

/// General purpose flags with which neither miniz nor `zipfile` reads a
/// member: encrypted (bit 0), compressed patch data (bit 5), strong
/// encryption (bit 6).
const UNREADABLE_FLAGS: u16 = 0x61;

/// One member of the central directory.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its name in the central directory, as bytes.
    pub raw_name: Vec<u8>,
    /// The same, for messages (UTF-8, invalid bytes replaced).
    pub name: String,
    /// Compression method (0: stored, 8: deflate, 12: bzip2, 14: lzma).
    pub method: u16,
    /// General purpose flags (bit 0: encrypted).
    pub flags: u16,
    /// Bytes stored in the archive.
    pub compressed_size: u64,
    /// Bytes once extracted, as the directory says.
    pub size: u64,
    /// Offset of the local file header.
    pub header_offset: u64,
    /// The CRC-32 of the extracted data, as the directory gives it.
    pub crc32: u32,
}

impl Member {
    /// The name in ASCII lower case (miniz compares names that way).
    pub fn lower_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// True if its flags say encrypted or patch data, which neither miniz
    /// nor `zipfile` extracts.
    pub fn is_encrypted(&self) -> bool {
        self.flags & UNREADABLE_FLAGS != 0
    }
}

/// torch's archive name, which every record it reads is looked up under:
/// the first member's name (in central directory order) up to its first
/// `/` (`PyTorchStreamReader::init`; torch refuses an archive whose first
/// member is in no folder). As written: compare it with
/// [`str::eq_ignore_ascii_case`], as miniz does.
pub fn torch_archive_name(members: &[Member]) -> Option<&str> {
    members
        .first()
        .and_then(|m| m.name.split_once('/'))
        .map(|(p, _)| p)
}

/// Where a member's data is, from its local header.
#[derive(Clone, Debug)]
pub struct Located {
    /// First byte of the (compressed) data.
    pub data_start: u64,
    /// The name the local header gives, as bytes.
    pub local_name: Vec<u8>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::syntax(format!("zip: {msg}"))
}

/// Read `len` bytes at `pos`; the caller has checked that they are inside the file.
fn read_at<F: Read + Seek>(f: &mut F, pos: u64, len: usize) -> Result<Vec<u8>> {
    f.seek(SeekFrom::Start(pos))?;
    let mut buf = vec![0; len];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

/// Largest central directory read (its size comes from the file, which holds it).
pub const MAX_CENTRAL_DIRECTORY: u64 = 1 << 30;

/// What the end-of-central-directory record (or its zip64 form) says.
#[derive(Clone, Copy, Debug)]
pub struct End {
    /// Members, as counted there.
    pub entries: u64,
    /// The central directory's offset, as written.
    pub cd_offset: u64,
    /// Its size.
    pub cd_size: u64,
    /// `zipfile`'s `concat`: where the directory should end (right before
    /// the end record, or the zip64 record) minus where offset and size say
    /// it ends. Not zero when bytes were prepended to an archive, or when
    /// the record was crafted so that the two readers see two archives.
    pub concat: i64,
}

/// Find and read the end record of a zip of `len` bytes.
pub fn end_record<F: Read + Seek>(f: &mut F, len: u64) -> Result<End> {
    let max_tail = len.min(65_557) as usize;
    if max_tail < 22 {
        return Err(bad("too short for an end-of-central-directory record"));
    }
    // The last signature in a tail is the last in any longer tail: look in
    // a short one first (an archive without a comment ends with the
    // record), so that a small archive's members are not read with it.
    let mut tail_len = max_tail.min(1024);
    let (tail_start, tail, eocd) = loop {
        let tail_start = len - tail_len as u64;
        let tail = read_at(f, tail_start, tail_len)?;
        if let Some(i) = (0..=tail_len - 22)
            .rev()
            .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")
        {
            break (tail_start, tail, i);
        }
        if tail_len == max_tail {
            return Err(bad("no end-of-central-directory record"));
        }
        tail_len = (tail_len * 8).min(max_tail);
    };
    let eocd_pos = tail_start + eocd as u64;
    let mut entries = u16_at(&tail, eocd + 10) as u64;
    let mut cd_size = u32_at(&tail, eocd + 12) as u64;
    let mut cd_offset = u32_at(&tail, eocd + 16) as u64;
    let mut cd_end_expected = eocd_pos;
    let locator = eocd_pos >= 20 && {
        let l = read_at(f, eocd_pos - 20, 4)?;
        l == b"PK\x06\x07"
    };
    if locator {
        let loc = read_at(f, eocd_pos - 20, 20)?;
        let rec_off = u64_at(&loc, 8);
        // zipfile reads the record right before the locator, miniz at rec_off.
        if eocd_pos < 20 + 56 || rec_off != eocd_pos - 20 - 56 {
            return Err(bad(
                "the zip64 locator points elsewhere than right before it (miniz and zipfile would read different records)",
            ));
        }
        let rec = read_at(f, rec_off, 56)?;
        if rec[..4] != *b"PK\x06\x06" {
            return Err(bad("bad zip64 end-of-central-directory record"));
        }
        entries = u64_at(&rec, 32);
        cd_size = u64_at(&rec, 40);
        cd_offset = u64_at(&rec, 48);
        cd_end_expected = rec_off;
    } else if entries == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        return Err(bad("zip64 locator missing"));
    }
    let cd_end = cd_offset
        .checked_add(cd_size)
        .ok_or_else(|| bad("central directory outside the file"))?;
    let concat = i64::try_from(cd_end_expected as i128 - cd_end as i128)
        .map_err(|_| bad("central directory outside the file"))?;
    Ok(End {
        entries,
        cd_offset,
        cd_size,
        concat,
    })
}

/// The central directory with every offset moved by `shift` bytes: 0 for
/// miniz, [`End::concat`] for Python's `zipfile`.
pub fn directory<F: Read + Seek>(
    f: &mut F,
    len: u64,
    end: &End,
    shift: i64,
) -> Result<Vec<Member>> {
    let moved = |o: u64| -> Result<u64> {
        u64::try_from(o as i128 + shift as i128)
            .map_err(|_| bad("an offset moved by zipfile's shift falls before the file"))
    };
    let (entries, cd_size) = (end.entries, end.cd_size);
    let cd_offset = moved(end.cd_offset)?;
    if cd_offset.checked_add(cd_size).map_or(true, |e| e > len) {
        return Err(bad("central directory outside the file"));
    }
    if cd_size > MAX_CENTRAL_DIRECTORY {
        return Err(Error::limit("zip: central directory larger than 1 GiB"));
    }
    let cd = read_at(f, cd_offset, cd_size as usize)?;
    let mut out = Vec::new();
    let mut i = 0;
    // zipfile reads entries until the directory's bytes are used up, miniz
    // reads the count the end record gives: every entry is listed.
    while i < cd.len() {
        if i + 46 > cd.len() || cd[i..i + 4] != *b"PK\x01\x02" {
            return Err(bad("bad central directory entry"));
        }
        let flags = u16_at(&cd, i + 8);
        let method = u16_at(&cd, i + 10);
        let crc32 = u32_at(&cd, i + 16);
        let mut compressed_size = u32_at(&cd, i + 20) as u64;
        let mut size = u32_at(&cd, i + 24) as u64;
        let name_len = u16_at(&cd, i + 28) as usize;
        let extra_len = u16_at(&cd, i + 30) as usize;
        let comment_len = u16_at(&cd, i + 32) as usize;
        let mut header_offset = u32_at(&cd, i + 42) as u64;
        let end = i + 46 + name_len + extra_len + comment_len;
        if end > cd.len() {
            return Err(bad("central directory entry runs past the directory"));
        }
        let raw_name = cd[i + 46..i + 46 + name_len].to_vec();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        // zip64 extended information: the fields that are all ones, in order.
        let mut extra = &cd[i + 46 + name_len..i + 46 + name_len + extra_len];
        while extra.len() >= 4 {
            let id = u16_at(extra, 0);
            let n = (u16_at(extra, 2) as usize).min(extra.len() - 4);
            if id == 1 {
                let mut data = &extra[4..4 + n];
                for field in [&mut size, &mut compressed_size, &mut header_offset] {
                    if *field == 0xffff_ffff {
                        if data.len() < 8 {
                            return Err(bad(format!("{name}: zip64 extra field too short")));
                        }
                        *field = u64_at(data, 0);
                        data = &data[8..];
                    }
                }
            }
            extra = &extra[4 + n..];
        }
        out.push(Member {
            raw_name,
            name,
            method,
            flags,
            compressed_size,
            size,
            header_offset: moved(header_offset)?,
            crc32,
        });
        i = end;
    }
    if out.len() as u64 != entries {
        return Err(bad(format!(
            "the end record counts {entries} members, the central directory holds {} (miniz and zipfile would list different members)",
            out.len()
        )));
    }
    Ok(out)
}

/// Read `m`'s local header: where its data starts (as miniz computes it) and
/// the local name; checks that the data lies inside the file.
pub fn locate<F: Read + Seek>(f: &mut F, len: u64, m: &Member) -> Result<Located> {
    if m.header_offset.checked_add(30).map_or(true, |e| e > len) {
        return Err(bad(format!("{}: local header outside the file", m.name)));
    }
    let header = read_at(f, m.header_offset, 30)?;
    if header[..4] != *b"PK\x03\x04" {
        return Err(bad(format!("{}: bad local file header", m.name)));
    }
    let name_len = u16_at(&header, 26) as u64;
    let extra_len = u16_at(&header, 28) as u64;
    let data_start = m.header_offset + 30 + name_len + extra_len;
    if data_start
        .checked_add(m.compressed_size)
        .map_or(true, |e| e > len)
    {
        return Err(bad(format!("{}: member data outside the file", m.name)));
    }
    let local_name = read_at(f, m.header_offset + 30, name_len as usize)?;
    Ok(Located {
        data_start,
        local_name,
    })
}

/// A compressed member's data, which must come to the size its directory
/// entry gives.
struct SizeChecked<R> {
    inner: R,
    want: u64,
    got: u64,
}

impl<R: Read> Read for SizeChecked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.got += n as u64;
        let over = self.got > self.want;
        if over || (n == 0 && !buf.is_empty() && self.got != self.want) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "it decompresses to {}{} bytes, its directory entry says {}",
                    if over { "more than " } else { "" },
                    if over { self.want } else { self.got },
                    self.want
                ),
            ));
        }
        Ok(n)
    }
}

/// Call `body` with a reader of `m`'s data, which [`locate`] found at
/// `loc`: a stored member's `compressed_size` bytes as they are, a
/// compressed one's as it inflates ([`compress::with_zip_decoder`]: without
/// the `joblib-compress` feature, an error that names it), failing with an
/// `InvalidData` I/O error when it comes to more or fewer bytes than
/// `m.size`. An encrypted or patch member is an error. Nothing is read
/// beyond what `body` reads; the CRC-32 is not checked.
pub fn with_data<F, T>(
    f: &mut F,
    m: &Member,
    loc: &Located,
    body: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<T>
where
    F: Read + Seek,
{
    if m.is_encrypted() {
        return Err(Error::unsupported(format!(
            "zip member {}: encrypted or patch data (flags {:#x}), which neither torch nor numpy reads",
            m.name, m.flags
        )));
    }
    f.seek(SeekFrom::Start(loc.data_start))?;
    let mut src = (&mut *f).take(m.compressed_size);
    if m.method == 0 {
        return body(&mut src);
    }
    compress::with_zip_decoder(m.method, m.size, src, |r| {
        body(&mut SizeChecked {
            inner: r,
            want: m.size,
            got: 0,
        })
    })
}

/// The CRC-32 of zip (ISO 3309, reflected polynomial `0xEDB88320`), which
/// Python's `zipfile` checks once a member is read to its end.
///
/// Computed by crc32fast (see Cargo.toml): a checkpoint's storages are
/// checked as they are read, and its carry-less-multiply kernels (SIMD
/// intrinsics, `unsafe` that this crate does not allow itself) run several
/// times faster than a table-driven loop, which left a verified read of a
/// checkpoint at a sixth of an unverified one's speed (benches/README.md).
#[derive(Clone, Default)]
pub struct Crc32(crc32fast::Hasher);

impl std::fmt::Debug for Crc32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc32({:#010x})", self.value())
    }
}

impl Crc32 {
    /// Add `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The checksum of everything added.
    pub fn value(&self) -> u32 {
        self.0.clone().finalize()
    }

    /// Add the bytes `other` was given, as if they followed these.
    #[cfg_attr(not(all(feature = "safetensors", unix)), allow(dead_code))]
    pub fn combine(&mut self, other: &Crc32) {
        self.0.combine(&other.0);
    }

    /// The checksum of `data`.
    pub fn of(data: &[u8]) -> u32 {
        let mut c = Crc32::default();
        c.update(data);
        c.value()
    }
}

/// The zip64 end of central directory record, at `at`, then its locator:
/// `n` entries in a directory of `cd_size` bytes at `cd_offset`, written
/// by a tool of version `made_by` (high byte: the system), needing 4.5.
pub(crate) fn zip64_end(made_by: u16, n: u64, cd_size: u64, cd_offset: u64, at: u64) -> Vec<u8> {
    let mut end = b"PK\x06\x06".to_vec();
    end.extend_from_slice(&44u64.to_le_bytes());
    end.extend_from_slice(&made_by.to_le_bytes());
    end.extend_from_slice(&45u16.to_le_bytes());
    end.extend_from_slice(&[0; 8]); // this disk, the directory's disk
    end.extend_from_slice(&n.to_le_bytes());
    end.extend_from_slice(&n.to_le_bytes());
    end.extend_from_slice(&cd_size.to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(b"PK\x06\x07");
    end.extend_from_slice(&0u32.to_le_bytes());
    end.extend_from_slice(&at.to_le_bytes());
    end.extend_from_slice(&1u32.to_le_bytes());
    end
}

/// The error for member `name` whose data's CRC-32 is `got`, not the
/// directory's `want`.
pub(crate) fn bad_crc(name: &str, got: u32, want: u32) -> crate::error::Error {
    crate::error::Error::data(format!(
        "zip member {name}: bad CRC-32 ({got:#010x}, the directory says {want:#010x}): the data is damaged"
    ))
}

/// A member's data that checks its CRC-32 when read to its end, as
/// `zipfile` does: the read that finds the end fails with an
/// `InvalidData` I/O error if the checksum is not the directory's.
pub struct CrcChecked<'a, R: ?Sized> {
    inner: &'a mut R,
    crc: Crc32,
    want: u32,
    name: &'a str,
}

impl<'a, R: Read + ?Sized> CrcChecked<'a, R> {
    /// Check `inner`, the data of `m`.
    pub fn new(inner: &'a mut R, m: &'a Member) -> Self {
        CrcChecked {
            inner,
            crc: Crc32::default(),
            want: m.crc32,
            name: &m.name,
        }
    }
}

impl<R: Read + ?Sized> Read for CrcChecked<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && self.crc.value() != self.want {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                bad_crc(self.name, self.crc.value(), self.want)
                    .message()
                    .to_string(),
            ));
        }
        Ok(n)
    }
}

/// How a member is stored by [`Writer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// As it is (method 0, `zipfile.ZIP_STORED`).
    Stored,
    /// Deflated (method 8, `zipfile.ZIP_DEFLATED`; needs `joblib-compress`).
    #[cfg_attr(not(feature = "joblib-compress"), allow(dead_code))]
    Deflated,
}

/// A central directory entry's zip64 extra field (id 1): the sizes
/// (uncompressed, then compressed) and the local header's offset, each only
/// when given (those whose 32-bit field overflows), in that order; empty
/// when none is.
pub(crate) fn zip64_central_extra(sizes: Option<(u64, u64)>, offset: Option<u64>) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some((size, csize)) = sizes {
        fields.extend_from_slice(&size.to_le_bytes());
        fields.extend_from_slice(&csize.to_le_bytes());
    }
    if let Some(offset) = offset {
        fields.extend_from_slice(&offset.to_le_bytes());
    }
    if fields.is_empty() {
        return fields;
    }
    let mut e = 1u16.to_le_bytes().to_vec();
    e.extend_from_slice(&(fields.len() as u16).to_le_bytes());
    e.extend_from_slice(&fields);
    e
}

/// A zip archive written member by member, as Python's `zipfile` reads it:
/// local header, data, and at the end the central directory; zip64 records
/// (the extra field `0x0001`, the zip64 end record and locator) wherever a
/// size, an offset or the member count does not fit the 32-bit (16-bit)
/// fields. Every member is dated 1980-01-01 00:00, so the same members give
/// the same bytes. Names are UTF-8 (flag bit 11 when not ASCII, as
/// `zipfile` sets it).
pub struct Writer<W> {
    w: W,
    pos: u64,
    central: Vec<u8>,
    count: u64,
    /// Sizes and offsets from this value on go to zip64 fields (tests lower it).
    zip64_from: u64,
}

const DOS_DATE_1980: u16 = 0x21; // 1980-01-01
const ZIP64_FROM: u64 = 0xFFFF_FFFF;

impl<W: std::io::Write> Writer<W> {
    /// A writer that starts the archive at `w`'s current position.
    pub fn new(w: W) -> Self {
        Writer {
            w,
            pos: 0,
            central: Vec::new(),
            count: 0,
            zip64_from: ZIP64_FROM,
        }
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(Error::io)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Add a member named `name` holding `data`.
    pub fn add(&mut self, name: &str, data: &[u8], method: Method) -> Result<()> {
        let crc = Crc32::of(data);
        let stored: std::borrow::Cow<'_, [u8]> = match method {
            Method::Stored => std::borrow::Cow::Borrowed(data),
            Method::Deflated => std::borrow::Cow::Owned(deflate(data)?),
        };
        let method_id: u16 = match method {
            Method::Stored => 0,
            Method::Deflated => 8,
        };
        let (size, csize, offset) = (data.len() as u64, stored.len() as u64, self.pos);
        if name.len() > u16::MAX as usize {
            return Err(Error::data(format!(
                "zip: a member name of {} bytes (at most 65535)",
                name.len()
            )));
        }
        let big_sizes = size >= self.zip64_from || csize >= self.zip64_from;
        let big_offset = offset >= self.zip64_from;
        let flags: u16 = if name.is_ascii() { 0 } else { 0x800 };
        let needed: u16 = if big_sizes || big_offset { 45 } else { 20 };
        let clamp = |v: u64, big: bool| if big { u32::MAX } else { v as u32 };

        let mut local = Vec::with_capacity(30 + name.len() + 20);
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&needed.to_le_bytes());
        local.extend_from_slice(&flags.to_le_bytes());
        local.extend_from_slice(&method_id.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // time 00:00
        local.extend_from_slice(&DOS_DATE_1980.to_le_bytes());
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&clamp(csize, big_sizes).to_le_bytes());
        local.extend_from_slice(&clamp(size, big_sizes).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        let local_extra: Vec<u8> = if big_sizes {
            let mut e = vec![1, 0, 16, 0];
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&csize.to_le_bytes());
            e
        } else {
            Vec::new()
        };
        local.extend_from_slice(&(local_extra.len() as u16).to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(&local_extra);
        self.put(&local)?;
        self.put(&stored)?;

        // The central entry: zip64 fields for exactly those that overflow, in order.
        let extra = zip64_central_extra(
            big_sizes.then_some((size, csize)),
            big_offset.then_some(offset),
        );
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02");
        c.extend_from_slice(&(0x0300 | needed).to_le_bytes()); // made by: Unix
        c.extend_from_slice(&needed.to_le_bytes());
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&method_id.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&DOS_DATE_1980.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&clamp(csize, big_sizes).to_le_bytes());
        c.extend_from_slice(&clamp(size, big_sizes).to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        c.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // -rw-r--r--
        c.extend_from_slice(&clamp(offset, big_offset).to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        c.extend_from_slice(&extra);
        self.count += 1;
        Ok(())
    }

    /// Write the central directory and the end record; gives the writer back.
    pub fn finish(mut self) -> Result<W> {
        let cd_offset = self.pos;
        let central = std::mem::take(&mut self.central);
        self.put(&central)?;
        let cd_size = central.len() as u64;
        let n = self.count;
        let zip64 = n >= 0xFFFF || cd_offset >= self.zip64_from || cd_size >= self.zip64_from;
        let mut end = if zip64 {
            zip64_end(0x0300 | 45, n, cd_size, cd_offset, self.pos)
        } else {
            Vec::new()
        };
        let n16 = if zip64 { u16::MAX } else { n as u16 };
        end.extend_from_slice(b"PK\x05\x06");
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&n16.to_le_bytes());
        end.extend_from_slice(&n16.to_le_bytes());
        let clamp = |v: u64| if zip64 { u32::MAX } else { v as u32 };
        end.extend_from_slice(&clamp(cd_size).to_le_bytes());
        end.extend_from_slice(&clamp(cd_offset).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes()); // no comment
        self.put(&end)?;
        self.w.flush().map_err(Error::io)?;
        Ok(self.w)
    }
}

#[cfg(feature = "joblib-compress")]
fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    // zlib's default level, the one `zipfile.ZIP_DEFLATED` uses.
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).map_err(Error::io)?;
    e.finish().map_err(Error::io)
}

#[cfg(not(feature = "joblib-compress"))]
fn deflate(_data: &[u8]) -> Result<Vec<u8>> {
    Err(Error::unsupported(format!(
        "zip: deflating a member needs the `{}` feature",
        compress::FEATURE
    )))
}

/// Zip archives written for tests: the scanner's and the torch loader's.
#[cfg(test)]
pub(crate) mod testing {
    /// A zip member to write: its central name, local name, data as stored
    /// and compression method.
    pub(crate) struct Z<'a> {
        pub(crate) name: &'a str,
        pub(crate) local: &'a str,
        pub(crate) data: Vec<u8>,
        pub(crate) method: u16,
        pub(crate) size: u64,
        /// The CRC-32 written (of the extracted data, for a right one).
        pub(crate) crc: u32,
    }

    pub(crate) fn z<'a>(name: &'a str, data: &[u8]) -> Z<'a> {
        Z {
            name,
            local: name,
            data: data.to_vec(),
            method: 0,
            size: data.len() as u64,
            crc: super::Crc32::of(data),
        }
    }

    /// A deflate stream of one stored block (valid for any inflater).
    pub(crate) fn deflate_stored(data: &[u8]) -> Vec<u8> {
        assert!(data.len() < 65536);
        let n = data.len() as u16;
        let mut out = vec![1];
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    pub(crate) fn zd<'a>(name: &'a str, data: &[u8]) -> Z<'a> {
        Z {
            method: 8,
            data: deflate_stored(data),
            ..z(name, data)
        }
    }

    /// A zip archive (each member's CRC-32 as [`Z::crc`] says: the torch
    /// loader checks them, the scanner does not). `zip64`: sizes and offsets in zip64 extra fields and a
    /// zip64 end record.
    pub(crate) fn zip_bytes(members: &[Z<'_>], zip64: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for m in members {
            let off = out.len() as u64;
            out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
            out.extend_from_slice(&m.method.to_le_bytes());
            out.extend_from_slice(&[0; 4]); // time, date
            out.extend_from_slice(&m.crc.to_le_bytes());
            out.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(m.size as u32).to_le_bytes());
            out.extend_from_slice(&(m.local.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(m.local.as_bytes());
            out.extend_from_slice(&m.data);
            cd.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
            cd.extend_from_slice(&m.method.to_le_bytes());
            cd.extend_from_slice(&[0; 4]);
            cd.extend_from_slice(&m.crc.to_le_bytes());
            let extra: Vec<u8> = if zip64 {
                let mut e = vec![1, 0, 24, 0];
                e.extend_from_slice(&m.size.to_le_bytes());
                e.extend_from_slice(&(m.data.len() as u64).to_le_bytes());
                e.extend_from_slice(&off.to_le_bytes());
                e
            } else {
                Vec::new()
            };
            let (cs, us, of) = if zip64 {
                (u32::MAX, u32::MAX, u32::MAX)
            } else {
                (m.data.len() as u32, m.size as u32, off as u32)
            };
            cd.extend_from_slice(&cs.to_le_bytes());
            cd.extend_from_slice(&us.to_le_bytes());
            cd.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 10]); // comment, disk, attributes
            cd.extend_from_slice(&of.to_le_bytes());
            cd.extend_from_slice(m.name.as_bytes());
            cd.extend_from_slice(&extra);
        }
        let cd_off = out.len() as u64;
        out.extend_from_slice(&cd);
        let n = members.len() as u64;
        if zip64 {
            let rec = out.len() as u64;
            out.extend_from_slice(b"PK\x06\x06");
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&(cd.len() as u64).to_le_bytes());
            out.extend_from_slice(&cd_off.to_le_bytes());
            out.extend_from_slice(b"PK\x06\x07\x00\x00\x00\x00");
            out.extend_from_slice(&rec.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff");
            out.extend_from_slice(&[0xff; 8]);
        } else {
            out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
            out.extend_from_slice(&(n as u16).to_le_bytes());
            out.extend_from_slice(&(n as u16).to_le_bytes());
            out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
            out.extend_from_slice(&(cd_off as u32).to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(Crc32::of(b"123456789"), 0xCBF4_3926);
        assert_eq!(Crc32::of(b""), 0);
        // Every split of the input gives the same checksum (the 16-byte
        // blocks and the byte-at-a-time tail agree).
        let data: Vec<u8> = (0..100u32).map(|i| (i * 37 % 251) as u8).collect();
        let whole = Crc32::of(&data);
        for cut in 0..data.len() {
            let mut c = Crc32::default();
            c.update(&data[..cut]);
            c.update(&data[cut..]);
            assert_eq!(c.value(), whole, "cut at {cut}");
        }
        // zlib.crc32(bytes(range(256)) * 3)
        let bytes: Vec<u8> = (0..768u32).map(|i| i as u8).collect();
        assert_eq!(Crc32::of(&bytes), 0xB0C0_DF2A);
    }

    fn read_back(bytes: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut c = std::io::Cursor::new(bytes);
        let len = bytes.len() as u64;
        let end = end_record(&mut c, len).unwrap();
        assert_eq!(end.concat, 0);
        let members = directory(&mut c, len, &end, 0).unwrap();
        members
            .iter()
            .map(|m| {
                let loc = locate(&mut c, len, m).unwrap();
                assert_eq!(loc.local_name, m.raw_name);
                let data = with_data(&mut c, m, &loc, |r| {
                    let mut out = Vec::new();
                    CrcChecked::new(r, m).read_to_end(&mut out)?;
                    Ok(out)
                })
                .unwrap();
                (m.name.clone(), m.crc32, data)
            })
            .collect()
    }

    #[test]
    fn writer_round_trips_with_and_without_zip64() {
        for zip64_from in [u64::from(u32::MAX), 0, 40] {
            let mut w = Writer::new(Vec::new());
            w.zip64_from = zip64_from;
            w.add("a.npy", b"first member", Method::Stored).unwrap();
            w.add("\u{e9}t\u{e9}.npy", &[7u8; 100], Method::Stored)
                .unwrap();
            w.add("empty", b"", Method::Stored).unwrap();
            let bytes = w.finish().unwrap();
            let back = read_back(&bytes);
            assert_eq!(back.len(), 3, "zip64 from {zip64_from}");
            assert_eq!(back[0].2, b"first member");
            assert_eq!(back[1].0, "\u{e9}t\u{e9}.npy");
            assert_eq!(back[1].1, Crc32::of(&[7u8; 100]));
            assert_eq!(back[2].2, b"");
        }
    }

    #[test]
    fn a_bad_crc_fails_at_the_end_of_the_member() {
        let mut w = Writer::new(Vec::new());
        w.add("x", b"payload", Method::Stored).unwrap();
        let mut bytes = w.finish().unwrap();
        let at = bytes.windows(7).position(|w| w == b"payload").unwrap();
        bytes[at] ^= 1;
        let mut c = std::io::Cursor::new(&bytes[..]);
        let len = bytes.len() as u64;
        let end = end_record(&mut c, len).unwrap();
        let m = &directory(&mut c, len, &end, 0).unwrap()[0];
        let loc = locate(&mut c, len, m).unwrap();
        let e = with_data(&mut c, m, &loc, |r| {
            let mut out = Vec::new();
            CrcChecked::new(r, m).read_to_end(&mut out)?;
            Ok(out)
        })
        .unwrap_err();
        assert!(e.to_string().contains("bad CRC-32"), "{e}");
    }

    #[cfg(feature = "joblib-compress")]
    #[test]
    fn deflated_members_inflate() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        let mut w = Writer::new(Vec::new());
        w.add("d", &data, Method::Deflated).unwrap();
        let bytes = w.finish().unwrap();
        assert!(bytes.len() < 1000);
        assert_eq!(read_back(&bytes)[0].2, data);
    }
}
