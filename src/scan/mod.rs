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
//! Containers are understood:
//! * PyTorch zip checkpoints: every `*.pkl` member, read with seeks through
//!   the central directory ([`zip`]); storages are never read.
//! * Legacy (non-zip) torch files: magic number, protocol, system info, the
//!   object and the storage keys are five pickles in a row; the scan stops
//!   after the fifth and checks that the raw storages that follow (an
//!   8-byte element count and the elements, per key) end exactly at the end
//!   of the file, reading only the 8-byte counts.
//! * joblib files: after the `BUILD` of a `NumpyArrayWrapper` joblib writes
//!   the array's bytes (after one padding-length byte and padding when the
//!   wrapper is aligned) or, for object arrays, a nested pickle. The scanner
//!   computes the size from the wrapper's shape and dtype and steps over it.
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
pub mod zip;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Read as _, Seek, SeekFrom};
use std::path::Path;

pub use policy::Policy;

use crate::error::{Error, Result};
use crate::opcodes::Opcode;
use crate::read::{InstructionReader, Read, SliceRead};

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
    /// A zip archive (PyTorch checkpoint): its `*.pkl` members.
    Zip,
    /// The legacy torch layout: five pickles, then raw storages.
    LegacyTorch,
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
}

impl<'p> Ctx<'p> {
    fn new(policy: &'p Policy) -> Self {
        Ctx {
            policy,
            findings: Vec::new(),
            notes: Vec::new(),
            member: None,
            pickles: 0,
            storages: HashMap::new(),
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

/// Bytes per element of a torch storage type.
fn storage_element_size(ty: &str) -> Option<u64> {
    let name = ty.rsplit('.').next()?;
    Some(match name {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "ComplexDoubleStorage" => 16,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "ShortStorage" | "BFloat16Storage" => 2,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QInt8Storage" | "QUInt8Storage"
        | "QUInt4x2Storage" | "QUInt2x4Storage" | "UntypedStorage" => 1,
        _ => return None,
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
        let Some(size) = ctx.storages.get(key).and_then(|t| storage_element_size(t)) else {
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

fn is_pickle_member(name: &str) -> bool {
    name.ends_with(".pkl") || name.ends_with(".pickle")
}

fn scan_zip_into<F: std::io::Read + Seek>(f: &mut F, len: u64, ctx: &mut Ctx<'_>) -> Option<Error> {
    let members = match zip::members(f, len) {
        Ok(m) => m,
        Err(e) => return Some(e),
    };
    let mut scanned = 0;
    for m in members.iter().filter(|m| is_pickle_member(&m.name)) {
        let data = match zip::read_member(f, len, m) {
            Ok(d) => d,
            Err(e) => return Some(Error::syntax(format!("{}: {e}", m.name))),
        };
        ctx.member = Some(m.name.clone());
        let (_, err) = scan_slice_into(&data, ctx);
        scanned += 1;
        if let Some(e) = err {
            return Some(e);
        }
    }
    ctx.member = None;
    if scanned == 0 {
        return Some(Error::unsupported(
            "zip archive without a *.pkl member: nothing to scan",
        ));
    }
    let skipped = members.len() - scanned;
    if skipped > 0 {
        ctx.notes.push(format!(
            "zip: {scanned} pickle members scanned, {skipped} other members not read"
        ));
    }
    None
}

/// Scan a file's bytes held in memory (a pickle stream, a torch zip, a
/// legacy torch file or a joblib file).
pub fn scan_bytes(data: &[u8], policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    if data.starts_with(b"PK\x03\x04") {
        let err = scan_zip_into(&mut std::io::Cursor::new(data), data.len() as u64, &mut ctx);
        return ctx.report(Format::Zip, err);
    }
    let (format, err) = scan_slice_into(data, &mut ctx);
    ctx.report(format, err)
}

/// Files up to this size are read whole; larger ones are streamed.
const READ_WHOLE: u64 = 64 << 20;

/// Scan a file. Zips are read through their central directory (only the
/// pickle members); large pickle streams are read incrementally, and a legacy
/// torch file's storages are only seeked over.
pub fn scan_path(path: &Path, policy: &Policy) -> Report {
    let mut ctx = Ctx::new(policy);
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return ctx.report(Format::Pickle, Some(Error::from(e))),
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return ctx.report(Format::Pickle, Some(Error::from(e))),
    };
    let mut magic = [0u8; 4];
    let head = file.read(&mut magic).map_err(Error::from);
    if let Err(e) = head.and_then(|_| file.seek(SeekFrom::Start(0)).map_err(Error::from)) {
        return ctx.report(Format::Pickle, Some(e));
    }
    if &magic == b"PK\x03\x04" {
        let err = scan_zip_into(&mut file, len, &mut ctx);
        return ctx.report(Format::Zip, err);
    }
    if len <= READ_WHOLE {
        let mut data = Vec::with_capacity(len as usize);
        if let Err(e) = file.read_to_end(&mut data) {
            return ctx.report(Format::Pickle, Some(Error::from(e)));
        }
        let (format, err) = scan_slice_into(&data, &mut ctx);
        return ctx.report(format, err);
    }
    let mut reader = InstructionReader::new(crate::read::IoRead::new(&mut file));
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
