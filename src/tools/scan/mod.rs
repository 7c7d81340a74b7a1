//! `pickle scan`: tell whether loading a pickle would run code, without running it.
//!
//! The scanner walks the opcodes of every pickle in a file **symbolically**
//! (the `machine` module): a stack, marks and memo of abstract values (constant strs,
//! imported globals, objects made by calls, ...), so that a `STACK_GLOBAL`
//! whose names come from the memo, a `getattr(Outer, 'Inner')` or a
//! `functools.partial(...)` resolve to what they would name at load time.
//! Every import, call (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST`),
//! `BUILD`, extension code and persistent id becomes a [`Finding`] with a
//! [`Verdict`] from the [`Policy`]; a file's verdict is its worst finding.
//!
//! Containers are opened the way the Python loaders open them, told apart
//! by their first bytes in the order the loaders test them:
//! * **Zip** (`PK\x03\x04`, or `PK\x05\x06` for an empty one): PyTorch
//!   checkpoints (`torch.load`, miniz) and `.npz` files (`np.load`,
//!   `zipfile`). Members come from the central directory, their data from
//!   after the *local* header's name and extra fields (as miniz reads it; a
//!   local name that differs is noted), CRC-32 unchecked (torch builds miniz
//!   without the check); zip64 records, duplicate names (all scanned),
//!   stored, deflated, bzip2 and lzma members (inflated as they are
//!   scanned, to exactly the size the directory gives). Scanned: every
//!   member whose name ends in `.pkl` or `.pickle` in any case (torch finds
//!   `archive/data.PKL` for `data.pkl`: miniz compares names
//!   case-insensitively), every `.npy` member (by its magic, whatever its
//!   name), and every other member that starts like a pickle (`PROTO` 2–5)
//!   except storage records under `<archive>/data/`, which torch only reads
//!   as raw bytes. The other members are read no further than their first
//!   bytes, so a large checkpoint costs its pickles only. An archive that
//!   miniz and `zipfile` would read differently (a shifted central
//!   directory, a zip64 locator pointing elsewhere, a wrong entry count) is
//!   an error.
//! * **`.npy`** (`\x93NUMPY`, versions 1.0–3.0): the header literal is
//!   parsed; when the dtype holds objects (an `O` type anywhere in it, as
//!   `dtype.hasobject`) the pickle after it is scanned (`np.load` with
//!   `allow_pickle=True` unpickles it), otherwise the raw data's size is
//!   checked against the shape and dtype.
//! * **Compressed joblib files** (zlib, gzip, bz2, xz, lzma, lz4 and joblib
//!   < 0.10's `ZF`, detected as joblib detects them): scanned as they
//!   decompress, every stream of the file, with the `joblib-compress` feature
//!   (the decoders the joblib loader uses); without it, an error that names
//!   the compression and the feature. The decompressed stream is bounded by
//!   [`MAX_DECOMPRESSED`].
//! * **The torch < 0.4 tar format** (a first block that `tarfile` accepts):
//!   the members `sys_info`, `storages` (a count, then per storage a
//!   `(key, location, storage_type)` pickle and the raw storage), `tensors`
//!   (a count, then per tensor a pickle and its sizes and strides) and
//!   `pickle`, with tar headers parsed as `tarfile` parses them (GNU long
//!   names, pax records, base-256 sizes). The header block is also scanned as
//!   a pickle, since torch falls back to `pickle.load` from byte 0 when
//!   `tarfile` fails.
//! * **Legacy (non-zip) torch files**: magic number, protocol, system info, the
//!   object and the storage keys are five pickles in a row; the scan stops
//!   after the fifth and checks that the raw storages that follow (an
//!   8-byte element count and the elements, per key) end exactly at the end
//!   of the file, reading only the 8-byte counts.
//! * **joblib files**: after the `BUILD` of a `NumpyArrayWrapper` joblib writes
//!   the array's bytes (after one padding-length byte and padding when the
//!   wrapper is aligned) or, for object arrays (`dtype.hasobject`), a nested
//!   pickle. The scanner finds where they end as joblib does: the wrapper's
//!   attributes from `__init__` and every `BUILD`, however it was built; item
//!   sizes and `hasobject` by numpy's own rules
//!   ([`crate::numpy`]'s `pickled_item_layout`, which the joblib loader uses
//!   too); no array data inside a nested pickle (plain `pickle.load` reads
//!   it). A dtype whose size numpy takes from the platform (`long`,
//!   `longdouble`) is followed at this platform's size and the other ends are
//!   read too. Since the same file may be loaded with `pickle.load`, the bytes
//!   after each wrapper are also read as opcodes, and what is dangerous there
//!   is reported. joblib < 0.10's `NDArrayWrapper` side files, which
//!   `joblib.load` reads with `numpy.load(allow_pickle=True)`, are scanned by
//!   [`scan_path`] with the pickle.
//! * **Embedded checkpoints**: `torch.storage._load_from_bytes(b)` (what
//!   `pickle.dumps(tensor)` writes) runs `torch.load` on `b`; the bytes are
//!   scanned as a file of their own and the call takes their verdict.
//! * **safetensors files** hold no pickle: safe once their header is
//!   checked (with the `safetensors` feature: the `safetensors` crate's
//!   checks, that every tensor's offsets lie in the file and cover its data;
//!   without it such a file is an error, not known to be safe). Since a
//!   renamed file may be given to `torch.load` or `pickle.load`, its bytes
//!   are also read as opcodes, and what is found there is reported.
//! * Anything else is a pickle stream: every pickle in it is scanned, read as
//!   `_pickle.c` reads it (opcodes may cross a frame's end; `int()`'s
//!   underscores in protocol-0 arguments). Payloads longer than 16 MiB are
//!   stepped over, never held.
//!
//! Malformed input is an error, never a pass (the scanner fails closed): a
//! report with an error has the verdict [`Verdict::Error`] unless something
//! dangerous was found before it, and findings made before the error are kept.
//!
//! ```
//! use pickle_codec::scan::{scan_bytes, Policy, Verdict};
//!
//! // pickle.dumps of an object whose __reduce__ returns (os.system, ('id',))
//! let evil = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.";
//! let report = scan_bytes(evil, &Policy::default());
//! assert_eq!(report.verdict(), Verdict::Dangerous);
//! let safe = scan_bytes(b"\x80\x04]\x94(K\x01K\x02e.", &Policy::default());
//! assert_eq!(safe.verdict(), Verdict::Safe);
//! // Input that cannot be read to its end is never safe.
//! let cut = scan_bytes(b"\x80\x04]\x94(K\x01", &Policy::default());
//! assert_eq!(cut.verdict(), Verdict::Error);
//! ```

mod machine;
pub mod policy;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Read as _, Seek, SeekFrom};
use std::path::Path;

pub use crate::ml::container::compress::Kind as Compression;
pub use policy::Policy;

use crate::codec::opcodes::Opcode;
use crate::codec::read::{InstructionReader, IoRead, Read, SliceRead};
use crate::error::{Category, Error, Result};
use crate::ml::container::{compress, npy, safetensors, tar, zip};
use crate::ml::torch_facts::storage_itemsize;

/// How far loading a pickle reaches. Ordered: `Safe < Unknown < Error < Dangerous`.
///
/// A [`Finding`] is `Safe`, `Unknown` or `Dangerous`. `Error` is only ever a
/// file's verdict ([`Report::verdict`]): the scan could not read all of the
/// input, found nothing dangerous in what it did read, and so cannot say the
/// file is safe (the scanner fails closed). A dangerous finding outranks an
/// error: the file is known to be dangerous whatever the rest holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Only data constructors on the allow list.
    Safe,
    /// Imports or calls something not on either list (a user's own class).
    Unknown,
    /// The input could not be read to its end (malformed, truncated, a
    /// container or compression that could not be opened, a limit hit), and
    /// nothing dangerous was found before that: not safe.
    Error,
    /// Runs code, touches files, processes or the network, or imports modules.
    Dangerous,
}

impl Verdict {
    /// `safe`, `unknown`, `error` or `dangerous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Unknown => "unknown",
            Verdict::Error => "error",
            Verdict::Dangerous => "dangerous",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an instruction would do at load time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// Import a global (`GLOBAL`, `STACK_GLOBAL`, `INST`).
    Import,
    /// Call something (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST`).
    Call,
    /// Give an object its state (`BUILD`: `__setstate__` or attribute updates).
    Build,
    /// Look up the copyreg extension registry (`EXT1`/`EXT2`/`EXT4`).
    Extension,
    /// Hand an id to the loader's `persistent_load` (`PERSID`/`BINPERSID`).
    PersistentId,
}

impl FindingKind {
    /// `import`, `call`, `build`, `ext` or `persid`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Import => "import",
            FindingKind::Call => "call",
            FindingKind::Build => "build",
            FindingKind::Extension => "ext",
            FindingKind::PersistentId => "persid",
        }
    }
}

/// One thing loading the file would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Byte offset of the opcode (inside the archive member for zips).
    pub offset: u64,
    /// The opcode.
    pub opcode: Opcode,
    /// What it does.
    pub kind: FindingKind,
    /// Module of the global involved (empty when none is known).
    pub module: String,
    /// Qualified name of the global involved, or a description.
    pub name: String,
    /// How far it reaches.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The archive member it is in, for zips.
    pub member: Option<String>,
}

/// The layout the scanner recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One pickle or several in a row (joblib files included).
    Pickle,
    /// A zip archive (PyTorch checkpoint, or any zip): the members torch or
    /// numpy would unpickle.
    Zip,
    /// The legacy torch layout: five pickles, then raw storages.
    LegacyTorch,
    /// A `.npy` file: its header, and the pickle of an object array.
    Npy,
    /// A zip of `.npy` members (`np.savez`), without pickle members.
    Npz,
    /// The torch < 0.4 tar layout (`sys_info`, `storages`, `tensors`, `pickle`).
    TorchTar,
    /// Any other tar archive: the files a loader could unpickle.
    Tar,
    /// A compressed joblib file, scanned as it decompresses.
    Compressed(Compression),
    /// A safetensors file: no pickle, its header checked.
    Safetensors,
}

/// The result of scanning one file.
#[derive(Debug)]
pub struct Report {
    /// Every finding, in file order.
    pub findings: Vec<Finding>,
    /// How many pickles were scanned.
    pub pickles: usize,
    /// The layout.
    pub format: Format,
    /// Things skipped on purpose (array data, storages), for the record.
    pub notes: Vec<String>,
    /// Why the scan could not finish: the file is not clean.
    pub error: Option<Error>,
    /// Side files named by the pickle, for [`scan_path`] to scan.
    side_files: Vec<(String, usize)>,
}

impl Report {
    /// The file's verdict: `Dangerous` when any finding is; otherwise `Error`
    /// when the scan could not finish ([`Report::error`]); otherwise the worst
    /// finding's verdict (`Safe` when there are none). A report on input that
    /// was not read to its end is never `Safe`.
    pub fn verdict(&self) -> Verdict {
        let worst = self.findings_verdict();
        if worst < Verdict::Dangerous && self.error.is_some() {
            return Verdict::Error;
        }
        worst
    }

    /// The worst verdict among the findings alone (`Safe` when there are
    /// none), whether or not the scan finished.
    pub fn findings_verdict(&self) -> Verdict {
        self.findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Safe)
    }

    /// True when the scan finished and nothing is dangerous or unknown.
    pub fn is_clean(&self) -> bool {
        self.verdict() == Verdict::Safe
    }
}

/// Scanning state shared by the pickles of one file.
pub(crate) struct Ctx<'p> {
    policy: &'p Policy,
    findings: Vec<Finding>,
    notes: Vec<String>,
    member: Option<String>,
    pickles: usize,
    /// Legacy torch: storage key → storage type, from the persistent ids.
    storages: HashMap<String, String>,
    /// joblib < 0.10 side files (plain names in the file's folder) that
    /// `joblib.load` reads with `numpy.load(allow_pickle=True)`, with the
    /// finding that names each.
    side_files: Vec<(String, usize)>,
    /// How many scans of embedded data (`torch.load` of bytes, side files)
    /// this one is inside.
    nesting: usize,
}

/// How deep scans of data embedded in data may go.
const MAX_EMBEDDED_NESTING: usize = 4;

impl<'p> Ctx<'p> {
    fn new(policy: &'p Policy) -> Self {
        Ctx {
            policy,
            findings: Vec::new(),
            notes: Vec::new(),
            member: None,
            pickles: 0,
            storages: HashMap::new(),
            side_files: Vec::new(),
            nesting: 0,
        }
    }

    /// Scan `data`, embedded in what this context scans (the bytes a
    /// `torch.storage._load_from_bytes` call gives `torch.load`), as a file
    /// of its own: its findings join this scan's, under `label`. Returns the
    /// worst of them; an error when it cannot be read to its end.
    pub(crate) fn scan_embedded(&mut self, data: &[u8], label: &str) -> Result<Verdict> {
        if self.nesting >= MAX_EMBEDDED_NESTING {
            return Err(Error::limit(format!(
                "data embedded more than {MAX_EMBEDDED_NESTING} levels deep"
            )));
        }
        let mut child = Ctx::new(self.policy);
        child.nesting = self.nesting + 1;
        let (_, err) = scan_data_into(data, &mut child);
        let prefix = match &self.member {
            Some(m) => format!("{m}:{label}"),
            None => label.to_string(),
        };
        let worst = child
            .findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Safe);
        for mut f in child.findings {
            f.member = Some(match f.member {
                Some(m) => format!("{prefix}:{m}"),
                None => prefix.clone(),
            });
            self.findings.push(f);
        }
        self.notes
            .extend(child.notes.into_iter().map(|n| format!("{prefix}: {n}")));
        self.pickles += child.pickles;
        match err {
            Some(e) if worst < Verdict::Dangerous => Err(e),
            _ => Ok(worst),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        offset: u64,
        opcode: Opcode,
        kind: FindingKind,
        module: &str,
        name: &str,
        verdict: Verdict,
        reason: String,
    ) -> usize {
        self.findings.push(Finding {
            offset,
            opcode,
            kind,
            module: module.to_string(),
            name: name.to_string(),
            verdict,
            reason,
            member: self.member.clone(),
        });
        self.findings.len() - 1
    }

    fn report(self, format: Format, error: Option<Error>) -> Report {
        Report {
            findings: self.findings,
            pickles: self.pickles,
            format,
            notes: self.notes,
            error,
            side_files: self.side_files,
        }
    }
}

/// What follows the fifth pickle of a legacy torch file.
struct LegacyTail {
    keys: Option<Vec<String>>,
    offset: u64,
}

/// Scan every pickle of a stream. Returns the legacy-torch tail when the
/// stream starts with torch's magic number.
fn scan_stream<R: Read>(
    reader: &mut InstructionReader<R>,
    ctx: &mut Ctx<'_>,
) -> Result<Option<LegacyTail>> {
    let mut legacy = false;
    let mut n = 0;
    loop {
        reader.reset_frames();
        if reader.at_end()? {
            if n == 0 {
                return Err(Error::syntax("empty input: no pickle").at(reader.offset()));
            }
            if legacy {
                return Err(Error::syntax(format!(
                    "legacy torch file ends after {n} of its 5 pickles"
                ))
                .at(reader.offset()));
            }
            return Ok(None);
        }
        if n > 0 && !legacy && !starts_an_opcode(reader)? {
            // pickle.load stops at a STOP; whatever follows that cannot start
            // a pickle (a trailing newline, padding) is read by no loader.
            ctx.notes.push(format!(
                "data after the last pickle, from byte {}, is not a pickle: not read by pickle.load",
                reader.offset()
            ));
            return Ok(None);
        }
        let out = machine::run(reader, ctx, 0)?;
        n += 1;
        ctx.pickles += 1;
        if n == 1 && out.magic {
            legacy = true;
        }
        if legacy && n == 5 {
            return Ok(Some(LegacyTail {
                keys: out.str_list,
                offset: reader.offset(),
            }));
        }
    }
}

/// Whether the next byte is an opcode (a pickle could start there).
fn starts_an_opcode<R: Read>(reader: &mut InstructionReader<R>) -> Result<bool> {
    let src = reader.source_mut();
    src.available(1)?;
    Ok(match src.slice_parts() {
        Some((data, pos, _)) => data.get(*pos).map_or(true, |&b| {
            crate::codec::opcodes::Opcode::from_byte(b).is_some()
        }),
        None => true,
    })
}

/// Walk the raw storages of a legacy torch file: each key's 8-byte element
/// count and elements, in key order, must end exactly at `len`.
fn check_legacy_tail(
    tail: &LegacyTail,
    ctx: &mut Ctx<'_>,
    len: u64,
    read_u64: &mut dyn FnMut(u64) -> Result<u64>,
) -> Result<()> {
    let Some(keys) = &tail.keys else {
        return Err(Error::syntax(
            "legacy torch file: the fifth pickle is not a list of storage keys",
        )
        .at(tail.offset));
    };
    let mut pos = tail.offset;
    for key in keys {
        let Some(size) = ctx.storages.get(key).and_then(|t| storage_itemsize(t)) else {
            return Err(Error::syntax(format!(
                "legacy torch file: storage {key:?} has no known element size"
            ))
            .at(pos));
        };
        if pos.checked_add(8).map_or(true, |e| e > len) {
            return Err(Error::eof().at(pos));
        }
        let count = read_u64(pos)?;
        let next = count
            .checked_mul(size)
            .and_then(|b| b.checked_add(pos + 8))
            .filter(|&e| e <= len)
            .ok_or_else(|| {
                Error::syntax(format!("legacy torch storage {key:?} runs past the end")).at(pos)
            })?;
        pos = next;
    }
    if pos != len {
        return Err(Error::syntax(format!(
            "legacy torch file: {} bytes after the last storage",
            len - pos
        ))
        .at(pos));
    }
    ctx.notes.push(format!(
        "legacy torch: {} storages, {} raw bytes not scanned",
        keys.len(),
        len - tail.offset
    ));
    Ok(())
}

fn scan_slice_into(data: &[u8], ctx: &mut Ctx<'_>) -> (Format, Option<Error>) {
    let mut reader = InstructionReader::new(SliceRead::new(data));
    match scan_stream(&mut reader, ctx) {
        Ok(None) => (Format::Pickle, None),
        Ok(Some(tail)) => {
            let mut read_u64 = |pos: u64| -> Result<u64> {
                let p = pos as usize;
                Ok(u64::from_le_bytes(
                    data[p..p + 8].try_into().expect("8 bytes"),
                ))
            };
            let err = check_legacy_tail(&tail, ctx, data.len() as u64, &mut read_u64).err();
            (Format::LegacyTorch, err)
        }
        Err(e) => (Format::Pickle, Some(e)),
    }
}

/// Prefix an error's message with what was being read, keeping its category.
fn within(what: &str, e: Error) -> Error {
    Error::new(e.category(), format!("{what}: {e}"))
}

/// Step over `n` bytes that are not instructions, a chunk at a time.
fn skip<R: Read>(reader: &mut InstructionReader<R>, mut n: u64) -> Result<()> {
    let src = reader.source_mut();
    while n > 0 {
        let k = n.min(1 << 20);
        src.take(k)?;
        n -= k;
    }
    Ok(())
}

/// The legacy torch storages of a stream read front to back: per key, an
/// 8-byte element count and the elements, ending exactly at the stream's end.
fn walk_legacy_stream<R: Read>(
    tail: &LegacyTail,
    ctx: &mut Ctx<'_>,
    reader: &mut InstructionReader<R>,
) -> Result<()> {
    let Some(keys) = &tail.keys else {
        return Err(Error::syntax(
            "legacy torch file: the fifth pickle is not a list of storage keys",
        )
        .at(tail.offset));
    };
    for key in keys {
        let pos = reader.offset();
        let Some(size) = ctx.storages.get(key).and_then(|t| storage_itemsize(t)) else {
            return Err(Error::syntax(format!(
                "legacy torch file: storage {key:?} has no known element size"
            ))
            .at(pos));
        };
        let count = u64::from_le_bytes(reader.read_raw(8)?.try_into().expect("8 bytes"));
        let bytes = count.checked_mul(size).ok_or_else(|| {
            Error::syntax(format!("legacy torch storage {key:?} runs past the end")).at(pos)
        })?;
        skip(reader, bytes)
            .map_err(|e| within(&format!("legacy torch storage {key:?}"), e.at(pos)))?;
    }
    if !reader.at_end()? {
        return Err(
            Error::syntax("legacy torch file: bytes after the last storage").at(reader.offset()),
        );
    }
    ctx.notes.push(format!(
        "legacy torch: {} storages, {} raw bytes not scanned",
        keys.len(),
        reader.offset() - tail.offset
    ));
    Ok(())
}

/// Scan every pickle of a stream read from `r`, to its end (a legacy torch
/// layout's storages included).
fn scan_reader<R: std::io::Read>(r: R, ctx: &mut Ctx<'_>) -> Result<()> {
    let mut reader = InstructionReader::new(IoRead::new(r));
    match scan_stream(&mut reader, ctx)? {
        None => Ok(()),
        Some(tail) => walk_legacy_stream(&tail, ctx, &mut reader),
    }
}

/// Run one pickle from `reader` (counted).
fn run_one<R: Read>(reader: &mut InstructionReader<R>, ctx: &mut Ctx<'_>) -> Result<()> {
    reader.reset_frames();
    machine::run(reader, ctx, 0)?;
    ctx.pickles += 1;
    reader.reset_frames();
    Ok(())
}

/// Bytes a decompressed stream may hold before the scan stops: the bound on
/// a decompression bomb (the output is scanned as it streams, never held).
pub const MAX_DECOMPRESSED: u64 = 16 << 30;

/// A reader that fails once more than `left` bytes came out of it.
struct Bounded<R> {
    inner: R,
    left: u64,
    what: &'static str,
}

impl<R: std::io::Read> std::io::Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} decompresses to more than {MAX_DECOMPRESSED} bytes (the scanner's limit)",
                    self.what
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Read up to `buf.len()` bytes (fewer only at the end of the input).
fn read_head<R: std::io::Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
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

/// Scan a `.npy` stream: its header, then the pickle of an object array or
/// (checked against `known_len`, the stream's length when known, else read
/// and counted) the raw data.
fn scan_npy<R: std::io::Read>(mut r: R, known_len: Option<u64>, ctx: &mut Ctx<'_>) -> Result<()> {
    let h = npy::read_header(&mut r)?;
    if h.has_object {
        ctx.notes.push(format!(
            "npy{}: object array, its pickle (after the {}-byte header) scanned",
            member_suffix(ctx),
            h.data_offset
        ));
        // np.load reads one pickle (pickle.load) and nothing after it.
        let mut reader = InstructionReader::new(IoRead::new(r));
        run_one(&mut reader, ctx).map_err(|e| within("npy object array pickle", e))?;
        if !reader.at_end()? {
            ctx.notes.push(format!(
                "npy{}: bytes after the array's pickle, which np.load never reads",
                member_suffix(ctx)
            ));
        }
        return Ok(());
    }
    let need = h.data_bytes()?;
    let have = match known_len {
        Some(total) => total.saturating_sub(h.data_offset),
        None => {
            let got =
                std::io::copy(&mut (&mut r).take(need), &mut std::io::sink()).map_err(Error::io)?;
            let mut one = [0u8; 1];
            got + read_head(&mut r, &mut one)? as u64
        }
    };
    if have < need {
        return Err(Error::syntax(format!(
            "npy: the header's shape {:?} needs {need} bytes of data, {have} follow",
            h.shape
        )));
    }
    ctx.notes.push(format!(
        "npy{}: shape {:?}, {need} bytes of raw data not scanned (no objects in its dtype){}",
        member_suffix(ctx),
        h.shape,
        if have > need {
            " and bytes after it np.load never reads"
        } else {
            ""
        }
    ));
    Ok(())
}

fn member_suffix(ctx: &Ctx<'_>) -> String {
    ctx.member
        .as_ref()
        .map(|m| format!(" member {m}"))
        .unwrap_or_default()
}

/// What a zip member turned out to be.
#[derive(PartialEq)]
enum MemberKind {
    Pickle,
    Npy,
    Skipped,
}

/// Sniff a member's first bytes and scan it when a loader would unpickle it.
fn classify_member<R: std::io::Read>(
    mut r: R,
    by_name: bool,
    storage: bool,
    known_len: Option<u64>,
    ctx: &mut Ctx<'_>,
) -> Result<MemberKind> {
    let mut head = [0u8; 8];
    let n = read_head(&mut r, &mut head)?;
    let head = &head[..n];
    let stream = head.chain(r);
    if head.starts_with(npy::MAGIC) {
        scan_npy(stream, known_len, ctx)?;
        return Ok(MemberKind::Npy);
    }
    let proto = n >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]);
    if by_name || (proto && !storage) {
        scan_reader(stream, ctx)?;
        return Ok(MemberKind::Pickle);
    }
    Ok(MemberKind::Skipped)
}

fn scan_zip_member<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    m: &zip::Member,
    prefix: Option<&str>,
    ctx: &mut Ctx<'_>,
) -> Result<MemberKind> {
    let lower = m.lower_name();
    let by_name = lower.ends_with(".pkl") || lower.ends_with(".pickle");
    let storage = prefix.is_some_and(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with("/data/"))
    });
    if m.name.ends_with('/') && m.compressed_size == 0 {
        return Ok(MemberKind::Skipped); // a directory
    }
    let loc = zip::locate(f, len, m)?;
    if loc.local_name != m.raw_name {
        ctx.notes.push(format!(
            "zip member {}: its local header names it {:?}; torch (miniz) reads it by its central directory name, Python's zipfile refuses it",
            m.name,
            String::from_utf8_lossy(&loc.local_name)
        ));
    }
    let readable = zip::ZIPFILE_METHODS.contains(&m.method) && !m.is_encrypted();
    if !readable {
        if by_name {
            return Err(Error::unsupported(format!(
                "{} (compression method {} {}, flags {:#x}): neither torch nor numpy can read it, and neither can the scanner",
                m.name,
                m.method,
                compress::method_name(m.method),
                m.flags
            )));
        }
        ctx.notes.push(format!(
            "zip member {}: encrypted or compressed with method {}, which neither torch nor numpy reads: not read",
            m.name, m.method
        ));
        return Ok(MemberKind::Skipped);
    }
    ctx.member = Some(m.name.clone());
    if m.method == 0 {
        if m.size != m.compressed_size {
            ctx.notes.push(format!(
                "zip member {}: stored, yet its sizes differ ({} stored, {} declared); all {} stored bytes scanned",
                m.name, m.compressed_size, m.size, m.compressed_size
            ));
        }
        return zip::with_data(f, m, &loc, |src| {
            classify_member(src, by_name, storage, Some(m.compressed_size), ctx)
        });
    }
    let what = compress::method_name(m.method);
    zip::with_data(f, m, &loc, |r| {
        let r = Bounded {
            inner: r,
            left: MAX_DECOMPRESSED,
            what: "a zip member",
        };
        let kind = classify_member(r, by_name, storage, None, ctx)?;
        if kind != MemberKind::Skipped {
            ctx.notes.push(format!(
                "zip member {}: {what}-compressed, scanned as it inflates",
                m.name
            ));
        }
        Ok(kind)
    })
}

/// Members scanned in one view of an archive: pickles, `.npy` arrays, others.
#[derive(Default)]
struct ZipCounts {
    pickles: usize,
    arrays: usize,
    skipped: usize,
}

fn scan_zip_members<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    members: &[zip::Member],
    counts: &mut ZipCounts,
    ctx: &mut Ctx<'_>,
) -> Option<Error> {
    let prefix = zip::torch_archive_name(members).map(str::to_ascii_lowercase);
    for m in members {
        let r = scan_zip_member(f, len, m, prefix.as_deref(), ctx);
        ctx.member = None;
        match r {
            Ok(MemberKind::Pickle) => counts.pickles += 1,
            Ok(MemberKind::Npy) => counts.arrays += 1,
            Ok(MemberKind::Skipped) => counts.skipped += 1,
            Err(e) => return Some(within(&format!("zip member {}", m.name), e)),
        }
    }
    None
}

/// Scan a zip whose end record was found. The third value says whether a
/// central directory was read in some view: where none was, nothing of the
/// archive was scanned, and the file may be no zip at all (see
/// [`scan_not_a_zip`]).
fn scan_zip_into<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    ctx: &mut Ctx<'_>,
) -> (Format, Option<Error>, bool) {
    let end = match zip::end_record(f, len) {
        Ok(e) => e,
        Err(e) => return (Format::Zip, Some(e), false),
    };
    let mut counts = ZipCounts::default();
    let mut listed = 0;
    let mut read_directory = false;
    let mut error = None;
    // miniz (torch) reads the offsets as written; Python's zipfile (numpy)
    // moves them by `concat`. Where the two differ, both archives are scanned.
    let mut views = vec![("", 0)];
    if end.concat != 0 {
        ctx.notes.push(format!(
            "zip: the central directory does not end where the end record sits: Python's zipfile (np.load) shifts every offset by {} bytes, torch's miniz does not; both archives scanned",
            end.concat
        ));
        views.push((" (as Python's zipfile shifts it)", end.concat));
    }
    for (view, shift) in views {
        let r = zip::directory(f, len, &end, shift).map(|members| {
            read_directory = true;
            listed += members.len();
            let code = members
                .iter()
                .filter(|m| {
                    let n = m.lower_name();
                    n.ends_with(".py") && n.contains("/code/")
                })
                .count();
            if code > 0 && shift == 0 {
                ctx.notes.push(format!(
                    "zip: {code} TorchScript code members (code/*.py): torch.jit.load compiles and runs them; their TorchScript is not analysed"
                ));
            }
            scan_zip_members(f, len, &members, &mut counts, ctx)
        });
        let err = match r {
            Ok(e) => e,
            Err(e) => Some(e),
        };
        if let Some(e) = err {
            error.get_or_insert(if view.is_empty() {
                e
            } else {
                within(&format!("zip{view}"), e)
            });
        }
    }
    let format = if counts.arrays > 0 && counts.pickles == 0 {
        Format::Npz
    } else {
        Format::Zip
    };
    if error.is_none() {
        ctx.notes.push(format!(
            "zip: {listed} members: {} pickles and {} .npy arrays scanned, {} others (storages, raw records) not unpickled by torch or numpy and not read beyond their first bytes",
            counts.pickles, counts.arrays, counts.skipped
        ));
        if counts.pickles == 0 && counts.arrays == 0 {
            ctx.notes
                .push("zip: no member that torch or numpy would unpickle".to_string());
        }
    }
    (format, error, read_directory)
}

/// The members of a torch < 0.4 tar checkpoint, in the order
/// `torch.serialization._legacy_load` reads them (`sys_info` is not read by
/// torch; it is scanned all the same).
const TAR_MEMBERS: [&str; 4] = ["sys_info", "storages", "tensors", "pickle"];

/// torch's `storages` member: a pickle of the count, then per storage a
/// pickle of `(key, location, storage_type)` and the raw storage (an
/// 8-byte element count and the elements), then the storage views pickle.
fn walk_tar_storages<R: Read>(rd: &mut InstructionReader<R>, ctx: &mut Ctx<'_>) -> Result<()> {
    run_one(rd, ctx)?;
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        if rd.at_end()? {
            return Err(
                Error::syntax("tar storages: ends before its storage views pickle").at(rd.offset()),
            );
        }
        let before = ctx.findings.len();
        let at = rd.offset();
        run_one(rd, ctx)?;
        let sizes: Vec<u64> = ctx.findings[before..]
            .iter()
            .filter(|f| f.kind == FindingKind::Import)
            .filter_map(|f| {
                f.name
                    .ends_with("Storage")
                    .then(|| storage_itemsize(&f.name))
                    .flatten()
            })
            .collect();
        if let [size] = sizes[..] {
            let count = i64::from_le_bytes(rd.read_raw(8)?.try_into().expect("8 bytes"));
            let len = u64::try_from(count)
                .ok()
                .and_then(|c| c.checked_mul(size))
                .ok_or_else(|| {
                    Error::syntax("tar storages: a storage's element count is out of range").at(at)
                })?;
            skip(rd, len).map_err(|e| within("tar storages: raw storage", e.at(at)))?;
            n += 1;
            bytes += len;
        } else {
            // The storage views pickle: torch reads nothing after it.
            if !rd.at_end()? {
                return Err(Error::syntax(
                    "tar storages: data after what reads as the storage views pickle (a storage record whose type is not one storage class?)",
                )
                .at(rd.offset()));
            }
            ctx.notes.push(format!(
                "tar storages: {n} storages, {bytes} raw bytes not scanned"
            ));
            return Ok(());
        }
    }
}

/// torch's `tensors` member: a pickle of the count, then per tensor a
/// pickle of `(key, storage_id, tensor_type)` and raw ints: ndim (4
/// bytes), 4 bytes skipped, sizes and strides (8 * ndim each), the storage
/// offset (8).
fn walk_tar_tensors<R: Read>(rd: &mut InstructionReader<R>, ctx: &mut Ctx<'_>) -> Result<()> {
    run_one(rd, ctx)?;
    let mut n = 0u64;
    while !rd.at_end()? {
        let at = rd.offset();
        run_one(rd, ctx)?;
        let head = rd.read_raw(8)?;
        let ndim = i32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        let ndim =
            u64::try_from(ndim).map_err(|_| Error::syntax("tar tensors: negative ndim").at(at))?;
        skip(rd, 16 * ndim + 8).map_err(|e| within("tar tensors: tensor header", e.at(at)))?;
        n += 1;
    }
    ctx.notes.push(format!(
        "tar tensors: {n} tensor records, their sizes and strides"
    ));
    Ok(())
}

/// torch falls back to `pickle.load` from byte 0 when `tarfile` raises
/// (on a header it cannot parse, a member cut short, ...): if the header
/// block also reads as pickles, what they do counts too. A parse error there
/// is no error of the file (`pickle.load` fails the same way, having done
/// only what the findings say); a limit is.
fn tar_as_pickle<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    head: &[u8],
    ctx: &mut Ctx<'_>,
) -> Option<Error> {
    crate::codec::opcodes::Opcode::from_byte(head[0])?;
    let r = f
        .seek(SeekFrom::Start(0))
        .map_err(Error::from)
        .and_then(|_| {
            let mut rd = InstructionReader::new(IoRead::new(std::io::Read::take(&mut *f, len)));
            scan_stream(&mut rd, ctx).map(|_| ())
        });
    match r {
        Ok(()) => None,
        Err(e) if matches!(e.category(), Category::Syntax | Category::Eof) => None,
        Err(e) => Some(within("the tar archive read as a pickle", e)),
    }
}

fn scan_tar_into<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    head: &[u8],
    ctx: &mut Ctx<'_>,
) -> Option<Error> {
    let as_pickle = tar_as_pickle(f, len, head, ctx);
    let entries = match tar::entries(f, len) {
        Ok(e) => e,
        Err(e) => return Some(within("torch tar checkpoint", e)),
    };
    let mut found = 0;
    for want in TAR_MEMBERS {
        for e in entries.iter().filter(|e| e.name == want) {
            found += 1;
            ctx.member = Some(want.to_string());
            // tarfile.extractfile follows links: read what it reads.
            let Some(e) = e.resolve(&entries).filter(|t| t.is_file()) else {
                return Some(Error::unsupported(format!(
                    "tar member {want} is a link to no regular member (type {:?} to {:?})",
                    e.kind as char, e.linkname
                )));
            };
            let r = f
                .seek(SeekFrom::Start(e.data_offset))
                .map_err(Error::from)
                .and_then(|_| {
                    let mut rd =
                        InstructionReader::new(IoRead::new(std::io::Read::take(&mut *f, e.size)));
                    match want {
                        "storages" => walk_tar_storages(&mut rd, ctx),
                        "tensors" => walk_tar_tensors(&mut rd, ctx),
                        _ => match scan_stream(&mut rd, ctx)? {
                            None => Ok(()),
                            Some(_) => Err(Error::unsupported(
                                "a legacy torch stream inside a tar member",
                            )),
                        },
                    }
                });
            if let Err(err) = r {
                return Some(within(&format!("tar member {want}"), err));
            }
        }
    }
    ctx.member = None;
    if found == 0 {
        // Not a torch checkpoint: a tar of files (pandas' `to_pickle(...,
        // compression='tar')`, WebDataset shards, checkpoints in an archive).
        ctx.notes.push(PLAIN_TAR_NOTE.into());
        return as_pickle.or_else(|| scan_plain_tar(f, &entries, ctx).err());
    }
    let others = entries
        .iter()
        .filter(|e| !TAR_MEMBERS.contains(&e.name.as_str()))
        .count();
    if others > 0 {
        ctx.notes.push(format!(
            "tar: {others} other members, which torch does not read, not scanned"
        ));
    }
    let missing: Vec<&str> = TAR_MEMBERS[1..]
        .iter()
        .copied()
        .filter(|want| entries.iter().all(|e| e.name != *want))
        .collect();
    if let Some(e) = as_pickle {
        return Some(e);
    }
    if !missing.is_empty() {
        return Some(Error::syntax(format!(
            "torch tar checkpoint without its {} member{} (torch.load raises KeyError)",
            missing.join(", "),
            if missing.len() > 1 { "s" } else { "" }
        )));
    }
    None
}

const PLAIN_TAR_NOTE: &str = "tar archive without torch's members: its files scanned one by one";

/// Member names whose loaders unpickle them (pandas reads a tar's member
/// whatever its name; WebDataset decodes `.pyd`/`.pickle` with
/// `pickle.loads` and `.pth` with `torch.load`).
const PICKLE_NAMES: &[&str] = &[
    ".pkl", ".pickle", ".pyd", ".pt", ".pth", ".ckpt", ".joblib", ".npy", ".npz", ".p",
];

/// The files of a tar that is not a torch checkpoint, each scanned as a file
/// of its own when a loader could unpickle it: a pickle name, a container's
/// or compressor's magic, or a first byte that is an opcode. A member that
/// only starts like a pickle by chance (text) and cannot be read as one is
/// noted, not an error; what was found in it before stays.
fn scan_plain_tar<F: std::io::Read + Seek + Send>(
    f: &mut F,
    entries: &[tar::Entry],
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    let (mut scanned, mut skipped) = (0usize, 0usize);
    for e in entries.iter().filter(|e| e.is_file()) {
        let lower = e.name.to_ascii_lowercase();
        let named = PICKLE_NAMES.iter().any(|x| lower.ends_with(x));
        f.seek(SeekFrom::Start(e.data_offset))?;
        let mut head = Vec::with_capacity(512);
        std::io::Read::take(&mut *f, e.size.min(512)).read_to_end(&mut head)?;
        let opcode = head
            .first()
            .is_some_and(|&b| crate::codec::opcodes::Opcode::from_byte(b).is_some());
        let proto = head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]);
        let container = !matches!(layout(&head), Layout::Pickle);
        if !(named || proto || container || opcode) {
            skipped += 1;
            continue;
        }
        if e.size > MAX_BUFFERED_DECOMPRESSED {
            return Err(Error::limit(format!(
                "tar member {} is larger than {MAX_BUFFERED_DECOMPRESSED} bytes",
                e.name
            )));
        }
        f.seek(SeekFrom::Start(e.data_offset))?;
        let mut data = Vec::new();
        std::io::Read::take(&mut *f, e.size).read_to_end(&mut data)?;
        scanned += 1;
        match ctx.scan_embedded(&data, &e.name) {
            Ok(_) => {}
            Err(err) if named || proto || container => {
                return Err(within(&format!("tar member {}", e.name), err));
            }
            Err(err) => ctx.notes.push(format!(
                "tar member {} starts like a pickle but is not one ({err}); no loader reads it as one",
                e.name
            )),
        }
    }
    ctx.notes.push(format!(
        "tar: {scanned} members scanned, {skipped} members that no loader unpickles not read"
    ));
    Ok(())
}

/// The layout a file's first bytes announce, in the order the loaders test
/// them: torch and numpy look for a zip first; numpy for its magic;
/// joblib for a compressor's magic; torch < 0.4 for a tar header; and
/// everything else is unpickled.
enum Layout {
    Safetensors,
    Zip,
    Npy,
    Compressed(Compression),
    Tar,
    /// zstd (`28 b5 2f fd`: pandas' `compression='zstd'`), which no
    /// decoder here reads: an error that says so, never a pickle.
    Zstd,
    Pickle,
}

fn layout(head: &[u8]) -> Layout {
    // First: its 8-byte length then `{` could pass for a compression's
    // magic bytes (a length ending 0x78 0x9c starts like zlib).
    if safetensors::is_header(head) {
        Layout::Safetensors
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Layout::Zip
    } else if head.starts_with(npy::MAGIC) {
        Layout::Npy
    } else if tar::is_header(head) {
        Layout::Tar
    } else if let Some(kind) = Compression::detect(head) {
        Layout::Compressed(kind)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Layout::Zstd
    } else {
        Layout::Pickle
    }
}

fn scan_compressed_into<R: std::io::Read + Send>(
    kind: Compression,
    src: R,
    ctx: &mut Ctx<'_>,
) -> Option<Error> {
    let what = format!("{}-compressed file", kind.name());
    let r = compress::with_decoder(kind, src, |r| {
        let mut r = Bounded {
            inner: r,
            left: MAX_DECOMPRESSED,
            what: "the compressed stream",
        };
        // What was compressed decides how it is read: a pickle stream (a
        // joblib file) as it decompresses; a zip, tar, .npy or a second
        // compression (`model.pt.gz`, pandas' `.tar.gz`) held in memory and
        // read as a file of its own.
        let mut head = Vec::with_capacity(512);
        std::io::Read::by_ref(&mut r)
            .take(512)
            .read_to_end(&mut head)?;
        match layout(&head) {
            Layout::Pickle => scan_reader(std::io::Cursor::new(head).chain(r), ctx),
            _ => {
                if ctx.nesting >= MAX_EMBEDDED_NESTING {
                    return Err(Error::limit("compressed data nested too deep"));
                }
                let mut data = head;
                std::io::Read::take(r, MAX_BUFFERED_DECOMPRESSED + 1).read_to_end(&mut data)?;
                if data.len() as u64 > MAX_BUFFERED_DECOMPRESSED {
                    return Err(Error::limit(format!(
                        "a compressed archive decompresses to more than {MAX_BUFFERED_DECOMPRESSED} bytes, which the scanner holds at most"
                    )));
                }
                ctx.nesting += 1;
                let (_, err) = scan_data_into(&data, ctx);
                ctx.nesting -= 1;
                err.map_or(Ok(()), Err)
            }
        }
    });
    match r {
        Ok(()) => {
            ctx.notes
                .push(format!("{what}: scanned as it decompresses"));
            None
        }
        Err(e) => Some(within(&what, e)),
    }
}

/// A safetensors file: what a pickle loader would make of its bytes (the
/// findings of reading them as opcodes, which normally stops at the first
/// byte, count; that reading's error does not), then its header checked.
fn scan_safetensors<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    f.seek(SeekFrom::Start(0))?;
    let (pickles, notes) = (ctx.pickles, ctx.notes.len());
    let as_pickle = scan_reader(std::io::Read::take(&mut *f, len), ctx);
    // Nothing the pickle reading made of the bytes is a pickle of the file.
    ctx.pickles = pickles;
    ctx.notes.truncate(notes);
    if as_pickle.is_ok() {
        ctx.notes.push(
            "a safetensors file whose bytes also read as a whole pickle stream: its findings are reported"
                .into(),
        );
    }
    f.seek(SeekFrom::Start(0))?;
    check_safetensors_header(f, ctx)
}

#[cfg(feature = "safetensors")]
fn check_safetensors_header<F: std::io::Read + Seek>(f: &mut F, ctx: &mut Ctx<'_>) -> Result<()> {
    let st = crate::ml::torch::safetensors::Reader::from_reader(f)
        .map_err(|e| within("safetensors file", e))?;
    ctx.notes.push(format!(
        "safetensors file: header checked, {} tensors of raw data, no pickle",
        st.entries().len()
    ));
    Ok(())
}

#[cfg(not(feature = "safetensors"))]
fn check_safetensors_header<F: std::io::Read + Seek>(_: &mut F, _: &mut Ctx<'_>) -> Result<()> {
    Err(Error::unsupported(
        "a safetensors file: its header is checked only with the `safetensors` feature, so it is not known to be safe",
    ))
}

/// The most a compressed archive (zip, tar) is decompressed into memory to
/// be read with seeks.
const MAX_BUFFERED_DECOMPRESSED: u64 = 1 << 30;

/// Scan a container (anything but a plain pickle stream) read through `f`.
fn scan_container<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    head: &[u8],
    layout: Layout,
    ctx: &mut Ctx<'_>,
) -> (Format, Option<Error>) {
    match layout {
        Layout::Safetensors => (Format::Safetensors, scan_safetensors(f, len, ctx).err()),
        Layout::Zip => match zip::end_record(f, len) {
            Ok(_) => {
                let notes = ctx.notes.len();
                match scan_zip_into(f, len, ctx) {
                    // An end record, but no central directory where it
                    // points: maybe no zip at all (its notes would mislead).
                    (_, Some(e), false) => {
                        ctx.notes.truncate(notes);
                        scan_not_a_zip(f, len, e, ctx)
                    }
                    (format, err, _) => (format, err),
                }
            }
            Err(e) => scan_not_a_zip(f, len, e, ctx),
        },
        Layout::Npy => {
            let r = f
                .seek(SeekFrom::Start(0))
                .map_err(Error::from)
                .and_then(|_| scan_npy(&mut *f, Some(len), ctx));
            (Format::Npy, r.err())
        }
        Layout::Tar => {
            let mut err = scan_tar_into(f, len, head, ctx);
            if err.is_none() {
                if let Some(kind) = Compression::detect(head) {
                    err = Some(Error::unsupported(format!(
                        "a tar archive that also starts like a {}-compressed joblib file: joblib would read another stream",
                        kind.name()
                    )));
                }
            }
            let plain = ctx.notes.iter().any(|n| n == PLAIN_TAR_NOTE);
            (if plain { Format::Tar } else { Format::TorchTar }, err)
        }
        Layout::Compressed(kind) => {
            let err = match f.seek(SeekFrom::Start(0)) {
                Ok(_) => scan_compressed_into(kind, std::io::Read::take(&mut *f, len), ctx),
                Err(e) => Some(Error::from(e)),
            };
            (Format::Compressed(kind), err)
        }
        Layout::Zstd => (
            Format::Pickle,
            Some(Error::unsupported(
                "zstd-compressed file (pandas' compression='zstd'): the scanner cannot decompress zstd, so it is not known to be safe",
            )),
        ),
        Layout::Pickle => unreachable!("pickle streams are not containers"),
    }
}

/// A file that starts like a zip (`PK\x03\x04`) and has no end record, or
/// no central directory where its end record points:
/// `torch.load` refuses it, but `PK...` is also a protocol-0 pickle
/// (`PERSID`), which `pickle.load` reads. Scanned as that pickle stream
/// (files up to [`READ_WHOLE`]); where that fails too, the zip's error
/// stands: the file is not known to be safe.
fn scan_not_a_zip<F: std::io::Read + Seek + Send>(
    f: &mut F,
    len: u64,
    zip_err: Error,
    ctx: &mut Ctx<'_>,
) -> (Format, Option<Error>) {
    if len > READ_WHOLE {
        return (Format::Zip, Some(zip_err));
    }
    let mut data = Vec::with_capacity(len as usize);
    if f.seek(SeekFrom::Start(0)).is_err() || f.read_to_end(&mut data).is_err() {
        return (Format::Zip, Some(zip_err));
    }
    match scan_slice_into(&data, ctx) {
        (format, None) => {
            ctx.notes.push(format!(
                "starts like a zip but is none ({zip_err}): scanned as the pickle stream pickle.load reads from it (torch.load refuses it)"
            ));
            (format, None)
        }
        (_, Some(_)) => (Format::Zip, Some(zip_err)),
    }
}

/// Scan a file's bytes held in memory (a pickle stream, a torch zip, a
/// legacy or tar torch file, a joblib file, compressed or not, an `.npy`
/// or `.npz` file).
pub fn scan_bytes(data: &[u8], policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    let (format, err) = scan_data_into(data, &mut ctx);
    ctx.report(format, err)
}

/// Scan a whole file held in memory: a container by its first bytes, else a
/// pickle stream.
fn scan_data_into(data: &[u8], ctx: &mut Ctx<'_>) -> (Format, Option<Error>) {
    let head = &data[..data.len().min(512)];
    match layout(head) {
        Layout::Pickle => scan_slice_into(data, ctx),
        l => scan_container(
            &mut std::io::Cursor::new(data),
            data.len() as u64,
            head,
            l,
            ctx,
        ),
    }
}

/// Files up to this size are read whole; larger ones are streamed.
const READ_WHOLE: u64 = 64 << 20;

/// Scan a file. Zips are read through their central directory (only the
/// members a loader would unpickle, and the first bytes of the others);
/// tar checkpoints through their headers; compressed files as they
/// decompress; large pickle streams incrementally; a legacy torch file's
/// storages, and raw array data, are only seeked over.
pub fn scan_path(path: &Path, policy: &Policy) -> Report {
    let mut report = scan_path_alone(path, policy);
    scan_side_files(path, policy, &mut report);
    report
}

/// joblib < 0.10 kept arrays in files beside the pickle, which `joblib.load`
/// reads with `numpy.load(..., allow_pickle=True)`: what they hold runs too,
/// so each is scanned with the pickle that names it, its findings under its
/// name, and the finding that names it takes their worst verdict.
fn scan_side_files(path: &Path, policy: &Policy, report: &mut Report) {
    let side = std::mem::take(&mut report.side_files);
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut done: Vec<String> = Vec::new();
    for (name, finding) in side {
        let p = dir.join(&name);
        if !p.is_file() {
            let f = &mut report.findings[finding];
            f.reason = format!(
                "joblib < 0.10 array in side file {name:?}, which is not there: joblib.load fails, or reads whatever is put there later"
            );
            continue;
        }
        if done.contains(&name) {
            continue;
        }
        done.push(name.clone());
        let sub = scan_path_alone(&p, policy);
        let worst = sub.verdict();
        let f = &mut report.findings[finding];
        f.verdict = match worst {
            Verdict::Error => Verdict::Unknown,
            v => v,
        };
        f.reason = format!(
            "joblib < 0.10 array: joblib.load reads the side file {name:?} with numpy.load(allow_pickle=True); scanned: {worst}"
        );
        for mut s in sub.findings {
            s.member = Some(match s.member {
                Some(m) => format!("{name}:{m}"),
                None => name.clone(),
            });
            report.findings.push(s);
        }
        report
            .notes
            .extend(sub.notes.into_iter().map(|n| format!("{name}: {n}")));
        if let (Some(e), true) = (sub.error, report.error.is_none()) {
            report.error = Some(Error::syntax(format!("side file {name:?}: {e}")));
        }
    }
}

fn scan_path_alone(path: &Path, policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return ctx.report(Format::Pickle, Some(Error::from(e))),
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return ctx.report(Format::Pickle, Some(Error::from(e))),
    };
    let mut head = vec![0u8; 512];
    let got = read_head(&mut file, &mut head);
    let seek = file.seek(SeekFrom::Start(0)).map_err(Error::from);
    match got.and_then(|n| seek.map(|_| n)) {
        Ok(n) => head.truncate(n),
        Err(e) => return ctx.report(Format::Pickle, Some(e)),
    }
    let l = layout(&head);
    if !matches!(l, Layout::Pickle) {
        let (format, err) = scan_container(&mut file, len, &head, l, &mut ctx);
        return ctx.report(format, err);
    }
    if len <= READ_WHOLE {
        let mut data = Vec::with_capacity(len as usize);
        if let Err(e) = file.read_to_end(&mut data) {
            return ctx.report(Format::Pickle, Some(Error::from(e)));
        }
        let (format, err) = scan_slice_into(&data, &mut ctx);
        return ctx.report(format, err);
    }
    let mut reader = InstructionReader::new(crate::codec::read::IoRead::new(&mut file));
    let outcome = scan_stream(&mut reader, &mut ctx);
    drop(reader);
    match outcome {
        Ok(None) => ctx.report(Format::Pickle, None),
        Ok(Some(tail)) => {
            let mut read_u64 = |pos: u64| -> Result<u64> {
                file.seek(SeekFrom::Start(pos))?;
                let mut b = [0u8; 8];
                file.read_exact(&mut b)?;
                Ok(u64::from_le_bytes(b))
            };
            let err = check_legacy_tail(&tail, &mut ctx, len, &mut read_u64).err();
            ctx.report(Format::LegacyTorch, err)
        }
        Err(e) => ctx.report(Format::Pickle, Some(e)),
    }
}

#[cfg(test)]
mod tests;
