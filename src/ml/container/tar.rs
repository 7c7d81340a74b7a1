//! Tar archives as Python's `tarfile` reads them (`tarfile.open(fileobj=f,
//! mode='r:', format=PAX_FORMAT)`), for the torch < 0.4 checkpoint format.
//!
//! * 512-byte header blocks. The checksum field (octal, bytes 148..156) must
//!   equal the unsigned or the signed sum of the block with that field taken
//!   as spaces (`calc_chksums`). Numbers are octal text (spaces and NULs
//!   around) or, when the first byte is `0x80`/`0xff`, base-256.
//! * The name is bytes 0..100 up to the first NUL; a non-empty ustar prefix
//!   (345..500) is joined with `/` for every type but GNU's `L`/`K`/`S`.
//!   Directories lose their trailing slashes; a regular file (type `\0`)
//!   whose name ends in `/` is a directory.
//! * `L` (GNU long name) and `K` (long link) blocks give the next member's
//!   name or link; `x`/`X` pax headers give the next member's `path`, `size`
//!   and `linkpath`, `g` headers give them to every later member (records
//!   `"%d %s=%s\n"`, as tarfile 3.12 parses them). A pax `size` moves the
//!   next header; a global one only changes the member's size (tarfile
//!   computes the next header's offset before applying global headers).
//! * Data follows the header, padded to 512 bytes, for regular files
//!   (`0`, `\0`, `7`) and for unknown types; links, directories and devices
//!   have none.
//! * The archive ends at a block of zeros or at the end of the file. tarfile
//!   also stops silently at a header it cannot parse after the first one;
//!   here that is an error (a well-formed archive never has one), as are a
//!   truncated header or member data, sparse members and GNU sparse pax
//!   records.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};

/// One member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name, after long-name and pax records and the ustar prefix.
    pub name: String,
    /// The type flag byte (`b'0'`, `0`, `b'5'`, ...).
    pub kind: u8,
    /// Its data's size.
    pub size: u64,
    /// Offset of its data in the archive.
    pub data_offset: u64,
    /// Offset of its header.
    pub header_offset: u64,
    /// For a hard (`1`) or symbolic (`2`) link: the name it points to.
    pub linkname: String,
}

impl Entry {
    /// The member a link resolves to, as `tarfile.extractfile` finds it: a
    /// symbolic link's name relative to the link's folder, a hard link's as
    /// written; links followed at most 8 deep.
    pub fn resolve<'e>(&'e self, entries: &'e [Entry]) -> Option<&'e Entry> {
        let mut e = self;
        for _ in 0..8 {
            let target = match e.kind {
                b'1' => e.linkname.clone(),
                b'2' => {
                    let dir = e.name.rsplit_once('/').map_or("", |(d, _)| d);
                    normalize(&if dir.is_empty() || e.linkname.starts_with('/') {
                        e.linkname.clone()
                    } else {
                        format!("{dir}/{}", e.linkname)
                    })
                }
                _ => return Some(e),
            };
            e = entries.iter().rev().find(|x| x.name == target)?;
        }
        None
    }

    /// A regular file, as `TarInfo.isreg` says, or a type tarfile does not
    /// know (which it extracts as a regular file).
    pub fn is_file(&self) -> bool {
        matches!(self.kind, b'0' | 0 | b'7')
            || !matches!(
                self.kind,
                b'1' | b'2' | b'3' | b'4' | b'5' | b'6' | b'S' | b'L' | b'K' | b'x' | b'g' | b'X'
            )
    }
}

/// The longest GNU long name or pax header block read.
pub const MAX_META: u64 = 1 << 20;

/// The most members listed.
pub const MAX_MEMBERS: usize = 1 << 20;

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::syntax(format!("tar: {msg}"))
}

/// tarfile's `nts`: bytes up to the first NUL, decoded (UTF-8 with
/// surrogateescape in tarfile; invalid bytes are replaced here).
fn nts(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// tarfile's `nti`.
fn nti(b: &[u8]) -> Option<u64> {
    if b[0] == 0x80 || b[0] == 0xff {
        if b[0] == 0xff {
            return None; // negative
        }
        let mut n: u64 = 0;
        for &c in &b[1..] {
            n = n.checked_mul(256)?.checked_add(c as u64)?;
        }
        return Some(n);
    }
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let s = std::str::from_utf8(&b[..end]).ok()?;
    let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return Some(0);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let s = s
        .strip_prefix("0o")
        .or_else(|| s.strip_prefix("0O"))
        .unwrap_or(s);
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    u64::from_str_radix(&clean, 8).ok()
}

/// True when `block` (512 bytes) is a header tarfile accepts: not all
/// zeros, with a valid checksum. `tarfile.open` of a file starting with
/// one succeeds, so torch's loader treats the file as a tar archive.
pub fn is_header(block: &[u8]) -> bool {
    block.len() >= 512 && block[..512].iter().any(|&b| b != 0) && checksum_ok(&block[..512])
}

fn checksum_ok(b: &[u8]) -> bool {
    let Some(stored) = nti(&b[148..156]) else {
        return false;
    };
    let mut unsigned: u64 = 256;
    let mut signed: i64 = 256;
    for (i, &c) in b.iter().enumerate() {
        if (148..156).contains(&i) {
            continue;
        }
        unsigned += c as u64;
        signed += c as i8 as i64;
    }
    stored == unsigned || (signed >= 0 && stored == signed as u64)
}

fn block(n: u64) -> Option<u64> {
    n.checked_add(511).map(|v| v / 512 * 512)
}

fn read_at<F: Read + Seek>(f: &mut F, pos: u64, len: usize) -> Result<Vec<u8>> {
    f.seek(SeekFrom::Start(pos))?;
    let mut buf = vec![0; len];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

/// Parse pax records (`"%d %s=%s\n"`) into `out` (later keys win).
fn pax_records(buf: &[u8], out: &mut Vec<(String, String)>) -> Result<()> {
    let mut pos = 0;
    while pos < buf.len() && buf[pos] != 0 {
        let digits = buf[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || buf.get(pos + digits) != Some(&b' ') {
            return Err(bad("invalid pax header"));
        }
        let length: usize = std::str::from_utf8(&buf[pos..pos + digits])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("invalid pax header"))?;
        if length < 5 || pos.checked_add(length).map_or(true, |e| e > buf.len()) {
            return Err(bad("invalid pax header"));
        }
        let end = pos + length - 1;
        if buf[end] != b'\n' || pos + digits + 1 > end {
            return Err(bad("invalid pax header"));
        }
        let kv = &buf[pos + digits + 1..end];
        let eq = kv
            .iter()
            .position(|&c| c == b'=')
            .filter(|&e| e > 0)
            .ok_or_else(|| bad("invalid pax header"))?;
        let key = String::from_utf8_lossy(&kv[..eq]).into_owned();
        let value = String::from_utf8_lossy(&kv[eq + 1..]).into_owned();
        if key.starts_with("GNU.sparse") {
            return Err(Error::unsupported("tar: GNU sparse members are not read"));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
        pos += length;
    }
    Ok(())
}

fn pax_get<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Every member of a tar archive of `len` bytes, in order.
pub fn entries<F: Read + Seek>(f: &mut F, len: u64) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut global: Vec<(String, String)> = Vec::new();
    let mut long_name: Option<String> = None;
    let mut long_link: Option<String> = None;
    let mut local: Option<Vec<(String, String)>> = None;
    let mut member_start: Option<u64> = None;
    loop {
        if offset == len && long_name.is_none() && local.is_none() {
            return Ok(out);
        }
        if offset.checked_add(512).map_or(true, |e| e > len) {
            return Err(bad(format!("header at byte {offset} cut short")));
        }
        let b = read_at(f, offset, 512)?;
        if b.iter().all(|&c| c == 0) {
            if long_name.is_some() || local.is_some() {
                return Err(bad(format!(
                    "a long-name or pax block at byte {} is followed by no header",
                    member_start.unwrap_or(offset)
                )));
            }
            return Ok(out);
        }
        if !checksum_ok(&b) {
            return Err(bad(format!("bad header checksum at byte {offset}")));
        }
        let header_offset = member_start.unwrap_or(offset);
        let kind = b[156];
        let size_field =
            nti(&b[124..136]).ok_or_else(|| bad(format!("bad size at byte {offset}")))?;
        let data_offset = offset + 512;
        let has_data = Entry {
            name: String::new(),
            kind,
            size: 0,
            data_offset,
            header_offset,
            linkname: String::new(),
        }
        .is_file();
        match kind {
            b'L' | b'K' | b'x' | b'X' | b'g' => {
                if size_field > MAX_META {
                    return Err(Error::limit(format!(
                        "tar: metadata block of {size_field} bytes at byte {offset}"
                    )));
                }
                let padded = block(size_field).expect("small");
                if data_offset + padded > len {
                    return Err(bad(format!("metadata block at byte {offset} cut short")));
                }
                let data = read_at(f, data_offset, padded as usize)?;
                match kind {
                    b'L' => long_name = Some(nts(&data[..size_field as usize])),
                    b'K' => long_link = Some(nts(&data[..size_field as usize])),
                    b'g' => pax_records(&data, &mut global)?,
                    _ => {
                        let mut p = local.take().unwrap_or_default();
                        pax_records(&data, &mut p)?;
                        local = Some(p);
                    }
                }
                if kind != b'g' {
                    member_start.get_or_insert(offset);
                }
                offset = data_offset + padded;
                continue;
            }
            b'S' => return Err(Error::unsupported("tar: GNU sparse members are not read")),
            _ => {}
        }
        let mut name = nts(&b[0..100]);
        let prefix = nts(&b[345..500]);
        let is_dir = kind == b'5' || (kind == 0 && name.ends_with('/'));
        if is_dir {
            name = name.trim_end_matches('/').to_string();
        }
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
        if let Some(l) = long_name.take() {
            name = l;
        }
        let mut linkname = long_link.take().unwrap_or_else(|| nts(&b[157..257]));
        let mut size = size_field;
        let mut advance = if has_data && !is_dir { size_field } else { 0 };
        // Global headers first (applied by _proc_builtin, after the offset),
        // then the member's own pax header (which also moves the offset).
        for (p, moves) in [(Some(&global), false), (local.as_ref(), true)] {
            let Some(p) = p else { continue };
            if let Some(path) = pax_get(p, "path") {
                name = path.to_string();
            }
            if let Some(l) = pax_get(p, "linkpath") {
                linkname = l.to_string();
            }
            if let Some(s) = pax_get(p, "size") {
                size = s
                    .parse()
                    .map_err(|_| bad(format!("bad pax size at byte {header_offset}")))?;
                if moves && has_data && !is_dir {
                    advance = size;
                }
            }
        }
        local = None;
        member_start = None;
        if is_dir {
            name = name.trim_end_matches('/').to_string();
        }
        let kind = if is_dir { b'5' } else { kind };
        let padded = block(advance).ok_or_else(|| bad("member size overflows"))?;
        let next = data_offset
            .checked_add(padded)
            .ok_or_else(|| bad("member size overflows"))?;
        if has_data && data_offset.checked_add(size).map_or(true, |e| e > len) {
            return Err(bad(format!(
                "member {name:?} runs past the end of the archive"
            )));
        }
        if out.len() >= MAX_MEMBERS {
            return Err(Error::limit("tar: more than 2^20 members"));
        }
        out.push(Entry {
            name,
            kind,
            size: if has_data { size } else { 0 },
            data_offset,
            header_offset,
            linkname,
        });
        if next > len {
            return Err(bad(
                "the last member's padding runs past the end of the archive",
            ));
        }
        offset = next;
    }
}

/// `posixpath.normpath` of a member name, as tarfile compares link targets.
fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            x => out.push(x),
        }
    }
    out.join("/")
}

/// A ustar header block with its checksum, for tests here and the scanner's.
#[cfg(test)]
pub(crate) fn test_header(name: &str, kind: u8, size: u64) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    b[..name.len()].copy_from_slice(name.as_bytes());
    b[100..108].copy_from_slice(b"0000644\0");
    b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    b[156] = kind;
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    b[148..156].copy_from_slice(b"        ");
    let sum: u32 = b.iter().map(|&c| c as u32).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::test_header as header;
    use super::*;

    #[test]
    fn lists_members() {
        let mut t = header("a", b'0', 3);
        t.extend_from_slice(&[1, 2, 3]);
        t.resize(1024, 0);
        let long = "x".repeat(150);
        t.extend(header("././@LongLink", b'L', long.len() as u64 + 1));
        let mut name = long.clone().into_bytes();
        name.push(0);
        name.resize(512, 0);
        t.extend(name);
        t.extend(header("short", b'0', 0));
        t.extend(vec![0u8; 1024]);
        assert!(is_header(&t));
        let e = entries(&mut std::io::Cursor::new(&t), t.len() as u64).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].name.as_str(), e[0].size, e[0].data_offset),
            ("a", 3, 512)
        );
        assert_eq!(e[1].name, long);
        let mut broken = t.clone();
        broken[1024 + 10] ^= 1;
        assert!(entries(&mut std::io::Cursor::new(&broken), t.len() as u64).is_err());
        let cut = &t[..600];
        assert!(entries(&mut std::io::Cursor::new(cut), 600).is_err());
    }
}
