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
//! Only what a caller asks for is read, with seeks: a checkpoint's storages
//! are never touched.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};

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
}

impl Member {
    /// The name in ASCII lower case (miniz compares names that way).
    pub fn lower_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }
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
    let tail_len = len.min(65_557) as usize;
    if tail_len < 22 {
        return Err(bad("too short for an end-of-central-directory record"));
    }
    let tail_start = len - tail_len as u64;
    let tail = read_at(f, tail_start, tail_len)?;
    let eocd = (0..=tail_len - 22)
        .rev()
        .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")
        .ok_or_else(|| bad("no end-of-central-directory record"))?;
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
