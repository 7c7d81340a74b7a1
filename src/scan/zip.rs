//! Just enough of the zip format to find the pickles in a PyTorch archive.
//!
//! The end-of-central-directory record (and its zip64 form) gives the
//! central directory; each entry there gives a member's name, compression
//! method, sizes and the offset of its local header. Only the members that
//! are scanned are read, with seeks, so a checkpoint's storages are never
//! touched. PyTorch writes members uncompressed ("stored"); a compressed
//! pickle member is reported as an error rather than skipped.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};

/// One member of the central directory.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its path inside the archive.
    pub name: String,
    /// Compression method (0: stored, 8: deflate).
    pub method: u16,
    /// Bytes stored in the archive.
    pub compressed_size: u64,
    /// Bytes once extracted.
    pub size: u64,
    /// Offset of the local file header.
    pub header_offset: u64,
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

fn bad(msg: &str) -> Error {
    Error::syntax(format!("zip: {msg}"))
}

fn read_at<F: Read + Seek>(f: &mut F, pos: u64, len: usize) -> Result<Vec<u8>> {
    f.seek(SeekFrom::Start(pos))?;
    let mut buf = vec![0; len];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

/// The members listed in the central directory of a zip of `len` bytes.
pub fn members<F: Read + Seek>(f: &mut F, len: u64) -> Result<Vec<Member>> {
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
    let mut entries = u16_at(&tail, eocd + 10) as u64;
    let mut cd_size = u32_at(&tail, eocd + 12) as u64;
    let mut cd_offset = u32_at(&tail, eocd + 16) as u64;
    if entries == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        // zip64: a locator sits just before the record.
        if eocd < 20 || tail[eocd - 20..eocd - 16] != *b"PK\x06\x07" {
            return Err(bad("zip64 locator missing"));
        }
        let rec_off = u64_at(&tail, eocd - 20 + 8);
        let rec = read_at(f, rec_off, 56)?;
        if rec[..4] != *b"PK\x06\x06" {
            return Err(bad("bad zip64 end-of-central-directory record"));
        }
        entries = u64_at(&rec, 32);
        cd_size = u64_at(&rec, 40);
        cd_offset = u64_at(&rec, 48);
    }
    if cd_offset.checked_add(cd_size).map_or(true, |end| end > len) {
        return Err(bad("central directory outside the file"));
    }
    if cd_size > 1 << 30 {
        return Err(Error::limit("zip: central directory larger than 1 GiB"));
    }
    let cd = read_at(f, cd_offset, cd_size as usize)?;
    let mut out = Vec::new();
    let mut i = 0;
    for _ in 0..entries {
        if i + 46 > cd.len() || cd[i..i + 4] != *b"PK\x01\x02" {
            return Err(bad("bad central directory entry"));
        }
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
        let name = String::from_utf8_lossy(&cd[i + 46..i + 46 + name_len]).into_owned();
        // zip64 extended information: the fields that are all ones, in order.
        let mut extra = &cd[i + 46 + name_len..i + 46 + name_len + extra_len];
        while extra.len() >= 4 {
            let id = u16_at(extra, 0);
            let n = (u16_at(extra, 2) as usize).min(extra.len() - 4);
            if id == 1 {
                let mut data = &extra[4..4 + n];
                for field in [&mut size, &mut compressed_size, &mut header_offset] {
                    if *field == 0xffff_ffff && data.len() >= 8 {
                        *field = u64_at(data, 0);
                        data = &data[8..];
                    }
                }
            }
            extra = &extra[4 + n..];
        }
        out.push(Member {
            name,
            method,
            compressed_size,
            size,
            header_offset,
        });
        i = end;
    }
    Ok(out)
}

/// The stored bytes of `m` (its data as written, for a stored member).
pub fn read_member<F: Read + Seek>(f: &mut F, len: u64, m: &Member) -> Result<Vec<u8>> {
    if m.method != 0 {
        return Err(Error::unsupported(format!(
            "zip member {} is compressed (method {}); only stored members are scanned",
            m.name, m.method
        )));
    }
    let header = read_at(f, m.header_offset, 30)?;
    if header[..4] != *b"PK\x03\x04" {
        return Err(bad("bad local file header"));
    }
    let start = m.header_offset + 30 + u16_at(&header, 26) as u64 + u16_at(&header, 28) as u64;
    if start
        .checked_add(m.compressed_size)
        .map_or(true, |e| e > len)
    {
        return Err(bad("member data outside the file"));
    }
    if m.compressed_size > 1 << 32 {
        return Err(Error::limit("zip: pickle member larger than 4 GiB"));
    }
    read_at(f, start, m.compressed_size as usize)
}
