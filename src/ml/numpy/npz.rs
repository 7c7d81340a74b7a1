//! `.npz` files: zip archives of `.npy` members, as `np.savez` and
//! `np.savez_compressed` write them and `np.load` (Python's `zipfile`)
//! reads them ([`NpzReader`], [`NpzWriter`], [`read_npz`]).
//!
//! The archive is read as `zipfile` reads it (src/ml/container/zip.rs): the
//! central directory with `zipfile`'s offset shift, the last member of a
//! name winning, a local header whose name differs refused, stored,
//! deflated, bzip2 and lzma members (the compressed ones with the
//! `joblib-compress` feature), the CRC-32 checked once a member is read to
//! its end. A key is a member's name without its `.npy` suffix, as
//! `NpzFile.files` gives it; members are read one at a time, on demand.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};

use super::array::NdArray;
use crate::error::{Error, Result};
use crate::ml::container::npy::MAGIC;
use crate::ml::container::zip;
use crate::unpickler::LoadOptions;

/// An `.npz` archive open for reading.
///
/// ```
/// use pickle_codec::numpy::{NdArray, NpzReader, NpzWriter};
///
/// let x = NdArray::from_vec(vec![3], &[1i64, 2, 3])?;
/// let mut w = NpzWriter::new(Vec::new());
/// w.add("x", &x)?; // np.savez(f, x=x)
/// let bytes = w.finish()?;
///
/// let mut npz = NpzReader::new(std::io::Cursor::new(bytes))?;
/// assert_eq!(npz.keys().collect::<Vec<_>>(), ["x"]);
/// assert_eq!(npz.array("x")?.to_vec::<i64>()?, [1, 2, 3]);
/// # Ok::<(), pickle_codec::Error>(())
/// ```
pub struct NpzReader<R> {
    reader: R,
    len: u64,
    /// (key, member), in directory order; one per key (the last member of a name).
    members: Vec<(String, zip::Member)>,
}

impl NpzReader<std::io::BufReader<std::fs::File>> {
    /// Open an `.npz` file (reads its directory only).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(Error::io)?;
        NpzReader::new(std::io::BufReader::new(f))
    }
}

impl<R: Read + Seek> NpzReader<R> {
    /// Read the directory of the archive `reader` holds (from its start).
    pub fn new(mut reader: R) -> Result<Self> {
        let len = reader.seek(SeekFrom::End(0)).map_err(Error::io)?;
        let end = zip::end_record(&mut reader, len)?;
        let all = zip::directory(&mut reader, len, &end, end.concat)?;
        let mut members: Vec<(String, zip::Member)> = Vec::new();
        for m in all {
            if m.name.ends_with('/') && m.size == 0 {
                continue; // a folder
            }
            let key = m.name.strip_suffix(".npy").unwrap_or(&m.name).to_string();
            // zipfile keeps the last member of a name.
            match members.iter_mut().find(|(_, o)| o.raw_name == m.raw_name) {
                Some(slot) => slot.1 = m,
                None => members.push((key, m)),
            }
        }
        Ok(NpzReader {
            reader,
            len,
            members,
        })
    }

    /// The keys, as `np.load(f).files` lists them: every member's name
    /// without its `.npy` suffix, in the archive's order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.members.iter().map(|(k, _)| k.as_str())
    }

    /// The members' names in the archive (`np.load(f).zip.namelist()`,
    /// without folders and repeated names).
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.members.iter().map(|(_, m)| m.name.as_str())
    }

    fn member(&self, key: &str) -> Result<zip::Member> {
        // `np.load(f)[key]` looks the name up as given, then with `.npy`.
        self.members
            .iter()
            .find(|(_, m)| m.name == key)
            .or_else(|| self.members.iter().find(|(k, _)| k == key))
            .map(|(_, m)| m.clone())
            .ok_or_else(|| Error::data(format!("npz: no member {key:?}")))
    }

    /// Call `body` with the member's data, checked as `zipfile` checks it;
    /// what `body` leaves unread is read to the end for the CRC-32.
    fn with_member<T>(
        &mut self,
        key: &str,
        body: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<T> {
        let m = self.member(key)?;
        if !zip::ZIPFILE_METHODS.contains(&m.method) {
            return Err(Error::unsupported(format!(
                "npz member {}: compression method {}, which numpy's zipfile does not read",
                m.name, m.method
            )));
        }
        let loc = zip::locate(&mut self.reader, self.len, &m)?;
        if loc.local_name != m.raw_name {
            return Err(Error::data(format!(
                "npz member {}: its local header names it {:?} (zipfile refuses it)",
                m.name,
                String::from_utf8_lossy(&loc.local_name)
            )));
        }
        zip::with_data(&mut self.reader, &m, &loc, |r| {
            let mut checked = zip::CrcChecked::new(r, &m);
            let out = body(&mut checked)?;
            std::io::copy(&mut checked, &mut std::io::sink()).map_err(Error::io)?;
            Ok(out)
        })
        .map_err(|e| within(&m.name, e))
    }

    /// The array stored under `key` (`np.load(f)[key]`); object arrays are
    /// loaded with the default [`LoadOptions`].
    pub fn array(&mut self, key: &str) -> Result<NdArray<'static>> {
        self.array_with(key, LoadOptions::default())
    }

    /// [`NpzReader::array`] with the options an object array's pickle is
    /// loaded with (`np.load(encoding=...)`).
    pub fn array_with(&mut self, key: &str, options: LoadOptions) -> Result<NdArray<'static>> {
        self.with_member(key, |r| {
            let mut head = [0u8; 6];
            let n = read_up_to(r, &mut head)?;
            if head[..n] != MAGIC[..] {
                return Err(Error::data(
                    "not an .npy file (np.load gives its bytes, as NpzReader::bytes does)",
                ));
            }
            NdArray::read_npy_with((&head[..]).chain(r), options)
        })
    }

    /// True if the member under `key` is an `.npy` file (starts with its
    /// magic), which `np.load(f)[key]` reads as an array; it gives the
    /// bytes of any other member.
    pub fn is_array(&mut self, key: &str) -> Result<bool> {
        let m = self.member(key)?;
        let loc = zip::locate(&mut self.reader, self.len, &m)?;
        zip::with_data(&mut self.reader, &m, &loc, |r| {
            let mut head = [0u8; 6];
            let n = read_up_to(r, &mut head)?;
            Ok(head[..n] == MAGIC[..])
        })
    }

    /// The bytes of the member under `key`, extracted and checked.
    pub fn bytes(&mut self, key: &str) -> Result<Vec<u8>> {
        self.with_member(key, |r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out).map_err(Error::io)?;
            Ok(out)
        })
    }

    /// Every array of the archive, in order: the members that are `.npy`
    /// files, under their keys (others are skipped).
    pub fn arrays(&mut self) -> Result<Vec<(String, NdArray<'static>)>> {
        let keys: Vec<String> = self.keys().map(str::to_string).collect();
        let mut out = Vec::new();
        for k in keys {
            if self.is_array(&k)? {
                let a = self.array(&k)?;
                out.push((k, a));
            }
        }
        Ok(out)
    }
}

fn within(member: &str, e: Error) -> Error {
    let msg = format!("npz member {member}: {e}");
    Error::new(e.category(), msg)
}

/// Read until `buf` is full or the input ends.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(e)),
        }
    }
    Ok(n)
}

/// Every array of an `.npz` file's bytes, in order ([`NpzReader::arrays`]).
pub fn read_npz(data: &[u8]) -> Result<Vec<(String, NdArray<'static>)>> {
    NpzReader::new(std::io::Cursor::new(data))?.arrays()
}

/// An `.npz` archive written array by array: `np.savez` (members stored)
/// or, with the `joblib-compress` feature, `np.savez_compressed`
/// (`NpzWriter::compressed`: deflated). Each array is written as
/// [`NdArray::to_npy`] writes it, into the member `key.npy`; `np.load`
/// reads the archive back. Members are dated 1980-01-01, so the same arrays
/// give the same bytes (numpy dates them now).
pub struct NpzWriter<W> {
    zip: zip::Writer<W>,
    method: zip::Method,
    keys: HashSet<String>,
}

impl<W: Write> NpzWriter<W> {
    /// An archive whose members are stored, as `np.savez` writes them.
    pub fn new(w: W) -> Self {
        NpzWriter {
            zip: zip::Writer::new(w),
            method: zip::Method::Stored,
            keys: HashSet::new(),
        }
    }

    /// An archive whose members are deflated, as `np.savez_compressed` writes them.
    #[cfg(feature = "joblib-compress")]
    #[cfg_attr(docsrs, doc(cfg(feature = "joblib-compress")))]
    pub fn compressed(w: W) -> Self {
        NpzWriter {
            method: zip::Method::Deflated,
            ..NpzWriter::new(w)
        }
    }

    /// Add `array` under `key` (`np.savez(f, key=array)`; numpy names
    /// positional arrays `arr_0`, `arr_1`, ...). A key given twice is an error.
    pub fn add(&mut self, key: &str, array: &NdArray<'_>) -> Result<()> {
        if !self.keys.insert(key.to_string()) {
            return Err(Error::data(format!("npz: key {key:?} given twice")));
        }
        let npy = array.to_npy()?;
        self.zip.add(&format!("{key}.npy"), &npy, self.method)
    }

    /// Write the archive's directory; gives the writer back.
    pub fn finish(self) -> Result<W> {
        self.zip.finish()
    }
}
