//! Checkpoints to [safetensors](https://huggingface.co/docs/safetensors)
//! files and back (feature `safetensors`), without PyTorch and without
//! running anything: a checkpoint is read as [`Checkpoint`] reads it (its
//! pickle inert, tensors from an allow-list of rebuild calls), a
//! safetensors file is a JSON header and raw bytes.
//!
//! The format is Hugging Face's `safetensors` crate's, the one Python's
//! `safetensors` package runs: a header is parsed and checked by its
//! `Metadata` (offsets contiguous from 0 and covering the data, each
//! tensor's size its shape times its dtype's, no overflow) and written from
//! its `TensorInfo`s, in its writer's order, so that for the same tensors
//! [`Writer`] writes the bytes `safetensors.torch.save_file` writes. The
//! tensors' bytes are moved here, streamed rather than held: that crate's
//! reader wants the whole file in memory, its writer whole tensors.
//!
//! ```no_run
//! # fn main() -> pickle_codec::Result<()> {
//! use pickle_codec::torch::{safetensors, Checkpoint};
//!
//! // torch.load + safetensors.torch.save_file, flattened as model.state_dict() names:
//! let ck = Checkpoint::open("model.pt")?;
//! let written = safetensors::Writer::new().save(&ck, "model.safetensors")?;
//! println!("{} tensors", written.tensors.len());
//!
//! // safetensors.torch.load_file + torch.save:
//! let st = safetensors::Reader::open("model.safetensors")?;
//! for e in st.entries() {
//!     println!("{}: {} {:?}", e.name, e.format_dtype, e.shape);
//! }
//! st.save_checkpoint("again.pt")?;
//! # Ok(())
//! # }
//! ```
//!
//! # Checkpoint to safetensors ([`Writer`])
//!
//! * **Names.** A safetensors file is a flat map of names to tensors. Each
//!   tensor is named by its path from the checkpoint's root, the keys of
//!   nested dicts (`dict`, `collections.OrderedDict`) and the indices of
//!   lists and tuples joined by `.`, as `model.state_dict()` names a
//!   module's parameters: `ck['model']['fc.weight']` is `model.fc.weight`,
//!   `ck['layers'][0]['w']` is `layers.0.w`. Keys are `str` or `int`. Two
//!   paths giving one name, a tensor at the root (it has no name), a name
//!   `__metadata__` (the header's own key) and containers that contain
//!   themselves are errors. An `OrderedDict`'s attributes (`state_dict()`'s
//!   `_metadata`, torch's version bookkeeping) are not items and are left
//!   out, as iterating the dict leaves them out.
//! * **Other values** (ints, floats, strs, `None`, numpy arrays, any other
//!   object) are refused, with an error naming the value's path and type:
//!   safetensors holds tensors only, and its `__metadata__` only what the
//!   caller chooses ([`Writer::metadata`]), so nothing of the checkpoint is
//!   put there unasked. [`Writer::skip_other_values`] leaves them out
//!   instead and lists them in [`Written::skipped`].
//! * **dtypes**: the 18 that both torch and safetensors have, as Python's
//!   `safetensors.torch` maps them: float64 `F64`, float32 `F32`, float16
//!   `F16`, bfloat16 `BF16`, int64 `I64`, int32 `I32`, int16 `I16`, int8
//!   `I8`, uint8 `U8`, bool `BOOL`, uint16 `U16`, uint32 `U32`, uint64
//!   `U64`, complex64 `C64`, float8_e4m3fn `F8_E4M3`, float8_e5m2
//!   `F8_E5M2`, float8_e4m3fnuz `F8_E4M3FNUZ`, float8_e5m2fnuz
//!   `F8_E5M2FNUZ`. complex32, complex128 and the quantized types have no
//!   safetensors dtype: such a tensor is an error that names it and its
//!   dtype (nothing is written).
//! * **Views and shared storages**: each tensor is written as its own
//!   contiguous copy in C order, little-endian (a transpose gathered, a
//!   slice cut out of its storage, tied weights twice), as safetensors has
//!   no sharing. Python's `save_file` refuses tensors that share memory;
//!   this writes what it writes for their `.contiguous()` copies.
//! * **Order.** The header lists the tensors, and the data holds them, in
//!   the order the `safetensors` crate's writer puts them: by dtype, widest
//!   alignment first, then by name (so every tensor is aligned to its
//!   element size).
//! * **Speed.** A tensor whose stored bytes are already its contiguous
//!   little-endian elements is written straight from the checkpoint. Into
//!   a file ([`Writer::save`], [`Writer::write_file`]) from a checkpoint
//!   opened with [`Checkpoint::open`], when every tensor is so stored, by a
//!   few threads at once with positional reads and writes, each record's
//!   CRC-32 checked on the bytes as they pass (the offsets of a zip's
//!   records and of safetensors' tensors disagree modulo the page size, so
//!   the kernel's `copy_file_range` copies part-pages at two thirds of
//!   `cp`'s speed, and a verified copy reads every byte anyway). Into any
//!   writer ([`Writer::write`]): from a memory map (`Checkpoint::mmap`)
//!   in one write, from a file by `std::io::copy` (`copy_file_range` on
//!   Linux) after one pass for its CRC-32, else a megabyte at a time
//!   through one buffer. No tensor is held whole but views, which are
//!   gathered, and storages that several tensors share, which the
//!   checkpoint keeps.
//!
//! # safetensors to checkpoint ([`Reader`])
//!
//! [`Reader::save_checkpoint`] writes what `torch.save(sd, path)` writes
//! for `sd` an `OrderedDict` of the tensors under their names as they are
//! (flat keys, not nested again, as `safetensors.torch.load_file` gives
//! them), in file order, each with a storage of its own; the `__metadata__`
//! is not carried over (`load_file` drops it too). Bytes are streamed from
//! the file into the archive, a megabyte at a time (or from the map), the
//! CRC-32 computed as they pass. The safetensors dtypes torch has but this
//! crate's [`DType`] lacks (`F8_E8M0`, `F4`, `F6_E2M3`, `F6_E3M2`) are
//! listed by [`Reader::entries`] and refused by the conversion, naming the
//! tensor.
//!
//! # Untrusted input
//!
//! Nothing is allocated from a header before it is checked against the
//! file: the header's length must fit in the file and in the format's
//! limit (100,000,000 bytes, as the `safetensors` crate's), its first byte
//! must be `{`, its tensors must cover exactly the bytes after it. Every
//! failure is an error with what was wrong, never a panic.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::path::Path;

use ::safetensors::tensor::{Dtype, Metadata, TensorInfo};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::source::{Bytes, PositionalFile};
use super::{stream_record, Checkpoint, DType, Saver, Tensor};
use crate::error::{Category, Error, Result};
use crate::ml::container::zip::Crc32;
use crate::value::{NodeId, ObjectOp, Value, ValueRef};

pub use crate::ml::container::safetensors::MAX_HEADER;

/// torch's dtypes with their safetensors names, as `safetensors.torch`
/// maps them. `float4_e2m1fn_x2` (two 4-bit floats a byte) is `F4`,
/// whose shape counts the 4-bit values: its last dimension is twice
/// torch's ([`format_shape`]).
const DTYPES: [(DType, Dtype); 20] = [
    (DType::Float64, Dtype::F64),
    (DType::Float32, Dtype::F32),
    (DType::Float16, Dtype::F16),
    (DType::BFloat16, Dtype::BF16),
    (DType::Int64, Dtype::I64),
    (DType::Int32, Dtype::I32),
    (DType::Int16, Dtype::I16),
    (DType::Int8, Dtype::I8),
    (DType::UInt8, Dtype::U8),
    (DType::Bool, Dtype::BOOL),
    (DType::Float8E4M3Fn, Dtype::F8_E4M3),
    (DType::Float8E4M3FnUz, Dtype::F8_E4M3FNUZ),
    (DType::Float8E5M2, Dtype::F8_E5M2),
    (DType::Float8E5M2FnUz, Dtype::F8_E5M2FNUZ),
    (DType::Float8E8M0Fnu, Dtype::F8_E8M0),
    (DType::Float4E2M1FnX2, Dtype::F4),
    (DType::Complex64, Dtype::C64),
    (DType::UInt64, Dtype::U64),
    (DType::UInt32, Dtype::U32),
    (DType::UInt16, Dtype::U16),
];

/// The safetensors dtype of a torch dtype; `None` for those it lacks
/// (complex32, complex128, the quantized types).
pub fn format_dtype(d: DType) -> Option<&'static str> {
    to_format(d).map(dtype_name)
}

/// The torch dtype of a safetensors dtype name (`"F32"`, `"BF16"`);
/// `None` for the names this crate's [`DType`] has no type for
/// (`F6_E2M3`, `F6_E3M2`) or that are no dtype.
pub fn torch_dtype(name: &str) -> Option<DType> {
    DTYPES
        .iter()
        .find(|(_, f)| dtype_name(*f) == name)
        .map(|(d, _)| *d)
}

/// The shape the safetensors header gives a torch tensor of `dtype` and
/// `shape`: `F4` counts 4-bit values, so the last dimension of a
/// `float4_e2m1fn_x2` tensor doubles (a 0-d one has no byte boundary and
/// is refused, as `save_file` refuses it).
pub fn format_shape(dtype: DType, shape: &[usize]) -> Result<Vec<usize>> {
    let mut shape = shape.to_vec();
    if dtype == DType::Float4E2M1FnX2 {
        let last = shape.last_mut().ok_or_else(|| {
            Error::unsupported("a 0-d float4_e2m1fn_x2 tensor: safetensors' F4 needs a last dimension to pair its 4-bit values")
        })?;
        *last = last
            .checked_mul(2)
            .ok_or_else(|| Error::data("the tensor's shape overflows"))?;
    }
    Ok(shape)
}

/// The torch shape of a safetensors entry of `dtype`: [`format_shape`]
/// undone (an `F4` entry's odd last dimension splits a byte, and has no
/// torch shape).
fn torch_shape(dtype: DType, shape: &[usize]) -> Result<Vec<usize>> {
    let mut shape = shape.to_vec();
    if dtype == DType::Float4E2M1FnX2 {
        match shape.last_mut() {
            Some(last) if *last % 2 == 0 => *last /= 2,
            _ => {
                return Err(Error::unsupported(format!(
                    "an F4 tensor of shape {shape:?}: torch's float4_e2m1fn_x2 holds its 4-bit values in pairs along the last dimension"
                )))
            }
        }
    }
    Ok(shape)
}

fn to_format(d: DType) -> Option<Dtype> {
    DTYPES.iter().find(|(t, _)| *t == d).map(|(_, f)| *f)
}

fn from_format(f: Dtype) -> Option<DType> {
    DTYPES.iter().find(|(_, x)| *x == f).map(|(d, _)| *d)
}

/// The name the header gives a dtype (`F32`): the crate's `Display`.
fn dtype_name(f: Dtype) -> &'static str {
    // Display writes the names below; matching them here keeps the names
    // `&'static str` (Dtype is non_exhaustive: a new one is spelled out by
    // Display at run time, and is no dtype of ours anyway).
    const NAMES: [(Dtype, &str); 22] = [
        (Dtype::BOOL, "BOOL"),
        (Dtype::F4, "F4"),
        (Dtype::F6_E2M3, "F6_E2M3"),
        (Dtype::F6_E3M2, "F6_E3M2"),
        (Dtype::U8, "U8"),
        (Dtype::I8, "I8"),
        (Dtype::F8_E5M2, "F8_E5M2"),
        (Dtype::F8_E4M3, "F8_E4M3"),
        (Dtype::F8_E8M0, "F8_E8M0"),
        (Dtype::F8_E4M3FNUZ, "F8_E4M3FNUZ"),
        (Dtype::F8_E5M2FNUZ, "F8_E5M2FNUZ"),
        (Dtype::I16, "I16"),
        (Dtype::U16, "U16"),
        (Dtype::F16, "F16"),
        (Dtype::BF16, "BF16"),
        (Dtype::I32, "I32"),
        (Dtype::U32, "U32"),
        (Dtype::F32, "F32"),
        (Dtype::C64, "C64"),
        (Dtype::F64, "F64"),
        (Dtype::I64, "I64"),
        (Dtype::U64, "U64"),
    ];
    NAMES.iter().find(|(x, _)| *x == f).map_or("?", |(_, n)| n)
}

/// True if the bytes begin a safetensors file: an 8-byte little-endian
/// header length within the format's limit ([`MAX_HEADER`]), then a
/// header starting `{`. 9 bytes of head suffice.
pub fn is_safetensors(head: &[u8]) -> bool {
    crate::ml::container::safetensors::is_header(head)
}

fn within(what: &str, e: Error) -> Error {
    Error::new(e.category(), format!("{what}: {e}"))
}

use super::{read_error, write_error};

// ---------------------------------------------------------------------------
// Checkpoint to safetensors.

/// A value of the checkpoint that is not a tensor, left out by
/// [`Writer::skip_other_values`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// Its path, as [`crate::arrays`] writes paths: `['epoch']`.
    pub path: String,
    /// What it is: its type, and for a plain value its repr (`int 3`).
    pub what: String,
}

/// What [`Writer::write`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Written {
    /// The tensors' names, in the order of the file.
    pub tensors: Vec<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// The values left out ([`Writer::skip_other_values`]), in the order
    /// of the checkpoint.
    pub skipped: Vec<Skipped>,
}

/// How a checkpoint is written as a safetensors file: what to do with
/// values that are not tensors, and the header's `__metadata__`. See the
/// [module docs](self) for the format.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Writer {
    skip_other: bool,
    metadata: BTreeMap<String, String>,
}

/// A tensor to write: its name, its path in the checkpoint, where it is.
struct Named {
    name: String,
    path: String,
    tensor: Tensor,
    dtype: Dtype,
}

/// What the walk does next.
enum Step {
    /// Look at a value: its name (`None` at the root) and path.
    Visit(Value, Option<String>, String),
    /// Leave a container (it may be met again, elsewhere).
    Leave(NodeId),
}

/// A short description of a value that is not a tensor: `int 3`,
/// `str 'resnet'`, `object numpy.core.multiarray._reconstruct`.
fn describe(v: ValueRef<'_>) -> String {
    use crate::Kind;
    let mut repr = match v.kind() {
        Kind::Object(_) => {
            return match v.class() {
                Some((m, n)) => format!("an object of {m}.{n}"),
                None => "an object".into(),
            }
        }
        Kind::None
        | Kind::Bool(_)
        | Kind::Int(_)
        | Kind::BigInt(_)
        | Kind::Float(_)
        | Kind::Str(_)
        | Kind::Bytes(_) => v.to_string(),
        Kind::Global(m, n) => format!("{m}.{n}"),
        _ => return format!("a {}", v.type_name()),
    };
    if repr.chars().count() > 40 {
        repr = repr.chars().take(37).collect::<String>() + "...";
    }
    format!("{} {repr}", v.type_name())
}

/// The items of a container the names go into: (name segment, path
/// segment, value); `None` for a value that is no such container.
fn items_of(v: ValueRef<'_>, path: &str) -> Result<Option<Vec<(String, String, Value)>>> {
    use crate::Kind;
    let key = |k: ValueRef<'_>| -> Result<(String, String)> {
        let seg = format!("[{}]", crate::ml::arrays::short_repr(k));
        let name = match k.kind() {
            Kind::Str(_) => k.as_str().map(str::to_string).ok_or_else(|| {
                Error::data(format!(
                    "{path}{seg}: a key with a lone surrogate, which a safetensors name (UTF-8) cannot hold"
                ))
            })?,
            Kind::Int(i) => i.to_string(),
            Kind::BigInt(b) => b.to_string(),
            _ => {
                return Err(Error::data(format!(
                    "{path}{seg}: a {} key; safetensors names are joined from str and int keys",
                    k.type_name()
                )))
            }
        };
        Ok((name, seg))
    };
    let pairs = |pairs: &mut dyn Iterator<Item = (Value, Value)>| -> Result<Vec<_>> {
        pairs
            .map(|(k, c)| key(v.at(k)).map(|(n, s)| (n, s, c)))
            .collect()
    };
    Ok(Some(match v.kind() {
        Kind::Dict(items) => pairs(&mut items.iter().copied())?,
        Kind::List(items) | Kind::Tuple(items) => items
            .iter()
            .enumerate()
            .map(|(i, &c)| (i.to_string(), format!("[{i}]"), c))
            .collect(),
        Kind::Object(o) if v.at(o.callable).as_global() == Some(("collections", "OrderedDict")) => {
            let mut items = Vec::new();
            for op in &o.ops {
                match *op {
                    ObjectOp::SetItem(k, c) => items.push((k, c)),
                    // Its attributes (`_metadata`) are no items.
                    ObjectOp::Build(_) => {}
                    _ => return Ok(None),
                }
            }
            pairs(&mut items.into_iter())?
        }
        _ => return Ok(None),
    }))
}

impl Writer {
    /// Values that are not tensors are refused; no `__metadata__`.
    pub fn new() -> Self {
        Writer::default()
    }

    /// Leave out the values that are not tensors (listed in
    /// [`Written::skipped`]) rather than refuse the checkpoint.
    #[must_use]
    pub fn skip_other_values(mut self, skip: bool) -> Self {
        self.skip_other = skip;
        self
    }

    /// An entry of the header's `__metadata__` (a map of str to str, as
    /// `save_file(..., metadata=...)` takes; Hugging Face's loaders look
    /// for `format: pt`). Entries are written sorted by key.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The tensors to write, named, in file order, and the values left out.
    fn plan<R: Read + Seek>(&self, ck: &Checkpoint<R>) -> Result<(Vec<Named>, Vec<Skipped>)> {
        let doc = ck.document();
        let root = doc.root();
        let mut out: Vec<Named> = Vec::new();
        let mut skipped = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut open: HashSet<NodeId> = HashSet::new();
        // A DAG of shared containers unfolds into a tree: bounded, so
        // that a small pickle cannot ask for an exponential walk.
        let budget = doc.nodes().len().saturating_mul(64).max(1 << 16);
        let mut steps = 0usize;
        let mut stack = vec![Step::Visit(root.value(), None, String::new())];
        while let Some(step) = stack.pop() {
            let (v, name, path) = match step {
                Step::Leave(id) => {
                    open.remove(&id);
                    continue;
                }
                Step::Visit(v, name, path) => (v, name, path),
            };
            steps += 1;
            if steps > budget {
                return Err(Error::limit(format!(
                    "the checkpoint's shared containers unfold to more than {budget} values"
                )));
            }
            let vr = root.at(v);
            let at = |path: &str| if path.is_empty() { "the root" } else { path }.to_string();
            if let Some(t) = tensor_of(ck, vr) {
                let t = t.map_err(|e| within(&at(&path), e))?;
                let Some(name) = name else {
                    return Err(Error::data(
                        "the checkpoint is a tensor, not a dict of them: a safetensors file names every tensor",
                    ));
                };
                let Some(dtype) = to_format(t.dtype()) else {
                    return Err(Error::unsupported(format!(
                        "tensor {name} ({path}) is {}, which safetensors has no dtype for (it has {})",
                        t.dtype().name(),
                        DTYPES.map(|(d, _)| d.name()).join(", ")
                    )));
                };
                if name == "__metadata__" {
                    return Err(Error::data(format!(
                        "tensor {path} would be named __metadata__, the safetensors header's own key"
                    )));
                }
                if let Some(&i) = names.get(&name) {
                    return Err(Error::data(format!(
                        "tensors {} and {path} are both named {name}",
                        out[i].path
                    )));
                }
                names.insert(name.clone(), out.len());
                out.push(Named {
                    name,
                    path,
                    tensor: t,
                    dtype,
                });
                continue;
            }
            let Some(items) = items_of(vr, &path)? else {
                if self.skip_other {
                    skipped.push(Skipped {
                        path,
                        what: describe(vr),
                    });
                    continue;
                }
                return Err(Error::unsupported(format!(
                    "{} is {}, not a tensor: safetensors holds tensors only (skip_other_values leaves such values out)",
                    at(&path),
                    describe(vr)
                )));
            };
            if let Value::Ref(id) = v {
                if !open.insert(id) {
                    return Err(Error::data(format!(
                        "{}: a container that contains itself",
                        at(&path)
                    )));
                }
                stack.push(Step::Leave(id));
            }
            for (seg_name, seg, c) in items.into_iter().rev() {
                let n = match &name {
                    None => seg_name,
                    Some(n) => format!("{n}.{seg_name}"),
                };
                stack.push(Step::Visit(c, Some(n), format!("{path}{seg}")));
            }
        }
        // The safetensors crate's order: widest alignment first, then by name.
        out.sort_by(|a, b| b.dtype.cmp(&a.dtype).then_with(|| a.name.cmp(&b.name)));
        Ok((out, skipped))
    }

    /// Everything but the data: the tensors in file order, the header,
    /// the values left out. Checked here: names, dtypes, that every tensor
    /// lies inside a storage the checkpoint holds.
    fn prepare<R: Read + Seek>(&self, ck: &Checkpoint<R>) -> Result<Prepared> {
        let (tensors, skipped) = self.plan(ck)?;
        let mut infos = Vec::with_capacity(tensors.len());
        let mut offset = 0usize;
        for t in &tensors {
            let err = |e: Error| within(&format!("tensor {} ({})", t.name, t.path), e);
            if t.tensor.byte_span().map_err(err)?.is_some() {
                ck.sized_record(&t.tensor.storage).map_err(err)?;
            }
            let n = t.tensor.nbytes();
            let end = offset
                .checked_add(n)
                .ok_or_else(|| Error::limit("the tensors' bytes overflow this platform's usize"))?;
            infos.push((
                t.name.clone(),
                TensorInfo {
                    dtype: t.dtype,
                    shape: format_shape(t.tensor.dtype(), &t.tensor.shape).map_err(err)?,
                    data_offsets: (offset, end),
                },
            ));
            offset = end;
        }
        let header = header_bytes(&self.metadata, &infos)?;
        let size = 8 + header.len() as u64 + offset as u64;
        Ok(Prepared {
            tensors,
            header,
            size,
            skipped,
        })
    }

    /// Write the prepared file.
    fn emit<R: Read + Seek, W: Write>(
        ck: &Checkpoint<R>,
        p: Prepared,
        mut w: W,
    ) -> Result<(W, Written)> {
        w.write_all(&(p.header.len() as u64).to_le_bytes())
            .and_then(|()| w.write_all(&p.header))
            .map_err(write_error)?;
        let mut verified = std::collections::HashSet::new();
        for t in &p.tensors {
            copy_tensor(ck, &t.tensor, &mut w, &mut verified)
                .map_err(|e| within(&format!("tensor {} ({})", t.name, t.path), e))?;
        }
        w.flush().map_err(write_error)?;
        let written = Written {
            tensors: p.tensors.into_iter().map(|t| t.name).collect(),
            size: p.size,
            skipped: p.skipped,
        };
        Ok((w, written))
    }

    /// Write `ck` as a safetensors file to `w`; gives `w` back (flushed)
    /// and what was written. Everything is checked before the first byte
    /// is written (names, dtypes, that every tensor lies inside its
    /// storage), but for the data itself (a damaged record, a failed
    /// CRC-32 found as it is read): on such an error, `w` may hold part of
    /// a file.
    pub fn write<R: Read + Seek, W: Write>(
        &self,
        ck: &Checkpoint<R>,
        w: W,
    ) -> Result<(W, Written)> {
        let p = self.prepare(ck)?;
        Writer::emit(ck, p, w)
    }

    /// Write `ck` as a safetensors file into `file`, an empty file (as
    /// `File::create` leaves it), from its start. When the checkpoint is
    /// a file read at offsets ([`Checkpoint::open`]) holding every tensor
    /// as it is stored (contiguous, not deflated, in its byte order), the
    /// tensors are copied by a few threads at once, with positional reads
    /// and writes, each record's CRC-32 checked on the bytes as they pass;
    /// otherwise as [`Writer::write`] writes. Errors as [`Writer::write`]'s.
    pub fn write_file<R: Read + Seek>(
        &self,
        ck: &Checkpoint<R>,
        file: &std::fs::File,
    ) -> Result<Written> {
        let p = self.prepare(ck)?;
        Writer::emit_file(ck, p, file)
    }

    fn emit_file<R: Read + Seek>(
        ck: &Checkpoint<R>,
        p: Prepared,
        file: &std::fs::File,
    ) -> Result<Written> {
        #[cfg(unix)]
        if let Some(src) = ck.bytes.positional() {
            if let Some((spans, verify)) = parallel_plan(ck, &p)? {
                use super::parallel_copy::{self, WriteAt};
                file.write_all_at(&(p.header.len() as u64).to_le_bytes(), 0)
                    .and_then(|()| file.write_all_at(&p.header, 8))
                    .map_err(write_error)?;
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
                parallel_copy::copy(src, file, &spans, &verify, threads)?;
                return Ok(Written {
                    tensors: p.tensors.into_iter().map(|t| t.name).collect(),
                    size: p.size,
                    skipped: p.skipped,
                });
            }
        }
        let w = std::io::BufWriter::with_capacity(1 << 20, file);
        let (w, written) = Writer::emit(ck, p, w)?;
        w.into_inner().map_err(|e| write_error(e.into_error()))?;
        Ok(written)
    }

    /// Write `ck` to the file at `path`, created or truncated once the
    /// checkpoint has been checked (a refused one leaves no file); removed
    /// if writing fails. Not synced to disk (as `cp`, `torch.save` and
    /// Python's `save_file` leave it; the fsync of a gigabyte costs more
    /// than the conversion's own work): call `sync_all` on the file for
    /// that.
    pub fn save<R: Read + Seek>(
        &self,
        ck: &Checkpoint<R>,
        path: impl AsRef<Path>,
    ) -> Result<Written> {
        let path = path.as_ref();
        let p = self.prepare(ck)?;
        let f = std::fs::File::create(path).map_err(Error::io)?;
        let result = Writer::emit_file(ck, p, &f);
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

/// The copies [`Writer::write_file`] hands to threads: every tensor's bytes
/// where they lie in the checkpoint file, and where they go; `None` when a
/// tensor is not stored as it is written (deflated, a view, byte-swapped),
/// for the sequential path. A record copied whole is checked on the copied
/// bytes; one copied in part (a view's storage) is verified apart, once.
#[cfg(unix)]
#[allow(clippy::type_complexity)]
fn parallel_plan<'c, R: Read + Seek>(
    ck: &'c Checkpoint<R>,
    p: &Prepared,
) -> Result<
    Option<(
        Vec<super::parallel_copy::Span<'c>>,
        Vec<(u64, u64, super::parallel_copy::Check<'c>)>,
    )>,
> {
    use super::parallel_copy::{Check, Span};
    let mut dst = 8 + p.header.len() as u64;
    let (mut spans, mut verify) = (Vec::new(), Vec::new());
    let mut checked = std::collections::HashSet::new();
    for named in &p.tensors {
        let t = &named.tensor;
        let Some(span) = t.byte_span()? else {
            continue;
        };
        let as_stored = t.is_contiguous() && ck.swap_unit(t) == 1;
        let (rec, _) = ck.sized_record(&t.storage)?;
        if !as_stored || !rec.is_raw() {
            return Ok(None);
        }
        let check = rec
            .member
            .filter(|_| ck.check_crc)
            .map(|m| Check {
                want: m.crc32,
                name: &m.name,
            })
            .filter(|_| checked.insert(rec.start));
        let whole = span.start == 0 && span.end == rec.size;
        if let (Some(c), false) = (check, whole) {
            verify.push((rec.start, rec.size, c));
        }
        let len = span.end - span.start;
        spans.push(Span {
            src: rec.start + span.start,
            len,
            dst,
            check: check.filter(|_| whole),
        });
        dst += len;
    }
    Ok(Some((spans, verify)))
}

/// A safetensors file ready to be written but for its data.
struct Prepared {
    tensors: Vec<Named>,
    header: Vec<u8>,
    size: u64,
    skipped: Vec<Skipped>,
}

/// `Writer::new().save(ck, path)`: the checkpoint's tensors as a
/// safetensors file, other values refused.
pub fn save<R: Read + Seek>(ck: &Checkpoint<R>, path: impl AsRef<Path>) -> Result<Written> {
    Writer::new().save(ck, path)
}

/// A tensor of the checkpoint: a rebuild call, or in the tar format a
/// persistent id naming one.
fn tensor_of<R: Read + Seek>(ck: &Checkpoint<R>, v: ValueRef<'_>) -> Option<Result<Tensor>> {
    let Some(tar) = &ck.tar_tensors else {
        return Tensor::from_value(v);
    };
    let crate::Kind::PersistentId(p) = v.kind() else {
        return None;
    };
    let id = v.at(p);
    let key = id
        .as_str()
        .map(str::to_string)
        .or_else(|| id.as_i64().map(|i| i.to_string()))?;
    Some(
        tar.get(&key)
            .cloned()
            .ok_or_else(|| Error::data(format!("no tensor {key} in the tensors member"))),
    )
}

/// The header as the `safetensors` crate writes it: checked by its
/// `Metadata`, then `{"__metadata__": {...}, name: {dtype, shape,
/// data_offsets}, ...}` in file order, padded with spaces to a multiple of
/// 8 bytes. (The crate's own serializer writes the metadata map in hash
/// order; here it is sorted, so the same checkpoint gives the same file.)
fn header_bytes(
    metadata: &BTreeMap<String, String>,
    infos: &[(String, TensorInfo)],
) -> Result<Vec<u8>> {
    let meta = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::HashMap<_, _>>()
    });
    Metadata::new(meta, infos.to_vec())
        .map_err(|e| Error::data(format!("safetensors header: {e}")))?;
    struct Header<'a>(&'a BTreeMap<String, String>, &'a [(String, TensorInfo)]);
    impl Serialize for Header<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            let extra = usize::from(!self.0.is_empty());
            let mut map = s.serialize_map(Some(self.1.len() + extra))?;
            if !self.0.is_empty() {
                map.serialize_entry("__metadata__", self.0)?;
            }
            for (name, info) in self.1 {
                map.serialize_entry(name, info)?;
            }
            map.end()
        }
    }
    let mut header = serde_json::to_vec(&Header(metadata, infos))
        .map_err(|e| Error::data(format!("safetensors header: {e}")))?;
    header.resize(header.len().next_multiple_of(8), b' ');
    if header.len() as u64 > MAX_HEADER {
        return Err(Error::limit(format!(
            "a safetensors header of {} bytes (readers refuse more than {MAX_HEADER})",
            header.len()
        )));
    }
    Ok(header)
}

/// Write a tensor's elements, C order, little-endian, to `w`, as directly
/// as the checkpoint allows (see the module docs). `verified` holds the
/// records whose CRC-32 has been checked already (shared storages are
/// read for it once).
fn copy_tensor<R: Read + Seek, W: Write>(
    ck: &Checkpoint<R>,
    t: &Tensor,
    w: &mut W,
    verified: &mut std::collections::HashSet<u64>,
) -> Result<()> {
    let Some(span) = t.byte_span()? else {
        return Ok(());
    };
    let as_stored = t.is_contiguous() && ck.swap_unit(t) == 1;
    if as_stored && ck.is_streamed(&t.storage) {
        let (rec, _) = ck.sized_record(&t.storage)?;
        let check = ck.check_crc && rec.member.is_some();
        if rec.is_raw() {
            // A stored record: its checksum from one pass over it (into a
            // small buffer that stays in cache), then the tensor's bytes
            // copied file to file by the kernel (`copy_file_range` when both
            // ends are files). Streaming the data through our buffer to the
            // writer instead took twice as long on a gigabyte.
            if check && verified.insert(rec.start) {
                let mut crc = Crc32::default();
                stream_record(&ck.bytes, &rec, 0..rec.size, |_, chunk| crc.update(chunk))?;
                rec.check(crc.value())?;
            }
            return ck
                .bytes
                .copy_to(rec.start + span.start, span.end - span.start, w)
                .map_err(read_error);
        }
        // Deflated: inflated from its start through one buffer, the whole
        // record when its CRC-32 is checked, the tensor's part written.
        let range = if check { 0..rec.size } else { span.clone() };
        let mut crc = Crc32::default();
        let mut failed = None;
        stream_record(&ck.bytes, &rec, range, |pos, chunk| {
            if check {
                crc.update(chunk);
            }
            let a = span.start.max(pos);
            let b = span.end.min(pos + chunk.len() as u64);
            if a < b && failed.is_none() {
                let part = &chunk[(a - pos) as usize..(b - pos) as usize];
                failed = w.write_all(part).err();
            }
        })?;
        if let Some(e) = failed {
            return Err(write_error(e));
        }
        if check {
            rec.check(crc.value())?;
        }
        return Ok(());
    }
    // Mapped, kept for the tensors that share it, gathered or swapped.
    let data = ck.tensor_data(t)?;
    w.write_all(&data).map_err(write_error)
}

// ---------------------------------------------------------------------------
// safetensors to checkpoint.

/// A tensor of a safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its name (the header's key).
    pub name: String,
    /// The header's dtype: `"F32"`, `"BF16"`, ...
    pub format_dtype: &'static str,
    /// The torch dtype ([`torch_dtype`]); `None` for the safetensors
    /// dtypes this crate has no [`DType`] for.
    pub dtype: Option<DType>,
    /// Its shape, as the header gives it (an `F4` entry's counts 4-bit
    /// values: see [`format_shape`]).
    pub shape: Vec<usize>,
    /// Where its bytes (C order, little-endian) lie, from the file's start.
    pub data: Range<u64>,
}

impl Entry {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of its elements.
    pub fn nbytes(&self) -> u64 {
        self.data.end - self.data.start
    }

    /// Strides of its C-contiguous layout, in elements, as torch gives
    /// them (a dimension of size 0 counts as 1).
    pub fn stride(&self) -> Vec<usize> {
        let mut stride = vec![1; self.shape.len()];
        for i in (0..self.shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * self.shape[i + 1].max(1);
        }
        stride
    }
}

/// An opened safetensors file: its header, checked; tensors read on demand.
///
/// Reads take `&self` and go to the file with positional reads (from any
/// number of threads); [`Reader::from_reader`] reads any `Read + Seek`
/// source, and `Reader::mmap` (feature `mmap`) maps the file and lends
/// tensors' bytes from the map.
pub struct Reader<R = std::fs::File> {
    bytes: Bytes<R>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    metadata: Vec<(String, String)>,
}

impl Reader<std::fs::File> {
    /// Open a safetensors file: reads and checks its header only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(Error::io)?;
        let len = file.metadata().map_err(Error::io)?.len();
        Reader::from_bytes(Bytes::File(PositionalFile::new(file)), len)
    }

    /// Open a safetensors file as a read-only memory map:
    /// [`Reader::data`] borrows from it. The file must not change while
    /// the reader is alive (see [`Checkpoint::mmap`]).
    #[cfg(feature = "mmap")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mmap")))]
    pub fn mmap(path: impl AsRef<Path>) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(Error::io)?;
        let map = super::mmap::Map::new(&file)?;
        let len = map.bytes().len() as u64;
        Reader::from_bytes(Bytes::Map(map), len)
    }
}

impl<R: Read + Seek> Reader<R> {
    /// Open a safetensors file from a seekable reader positioned at its
    /// start (which runs to the reader's end).
    pub fn from_reader(mut reader: R) -> Result<Self> {
        let start = reader.stream_position().map_err(Error::io)?;
        let end = reader.seek(std::io::SeekFrom::End(0)).map_err(Error::io)?;
        let bytes = Bytes::Reader {
            inner: std::sync::Mutex::new(reader),
            start,
        };
        Reader::from_bytes(bytes, end.saturating_sub(start))
    }

    fn from_bytes(bytes: Bytes<R>, len: u64) -> Result<Self> {
        let bad = |m: String| Error::data(format!("safetensors header: {m}"));
        if len < 8 {
            return Err(Error::new(
                Category::Eof,
                format!("a safetensors file of {len} bytes: fewer than its header's 8-byte length"),
            ));
        }
        let mut n = [0u8; 8];
        bytes.read_exact_at(0, &mut n).map_err(Error::io)?;
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER {
            return Err(Error::limit(format!(
                "a safetensors header of {n} bytes (the format allows {MAX_HEADER})"
            )));
        }
        if n > len - 8 {
            return Err(Error::new(
                Category::Eof,
                format!(
                    "a safetensors header of {n} bytes, in a file of {} bytes after its length",
                    len - 8
                ),
            ));
        }
        let mut header = vec![0u8; n as usize];
        bytes.read_exact_at(8, &mut header).map_err(Error::io)?;
        if header.first() != Some(&b'{') {
            return Err(bad(format!(
                "it begins with {:?}, not '{{'",
                header.first().map(|&b| b as char)
            )));
        }
        let meta: Metadata = serde_json::from_slice(&header).map_err(|e| bad(e.to_string()))?;
        let data_start = 8 + n;
        let data_len = meta.data_len() as u64;
        if data_len != len - data_start {
            return Err(Error::data(format!(
                "safetensors header: its tensors cover {data_len} bytes, the file holds {} after the header",
                len - data_start
            )));
        }
        let mut entries = Vec::with_capacity(meta.tensors().len());
        let mut index = HashMap::new();
        for name in meta.offset_keys() {
            let info = meta.info(&name).expect("a name of the header");
            let (a, b) = info.data_offsets;
            index.insert(name.clone(), entries.len());
            entries.push(Entry {
                name,
                format_dtype: dtype_name(info.dtype),
                dtype: from_format(info.dtype),
                shape: info.shape.clone(),
                data: data_start + a as u64..data_start + b as u64,
            });
        }
        let mut metadata: Vec<(String, String)> = meta
            .metadata()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        metadata.sort();
        Ok(Reader {
            bytes,
            entries,
            index,
            metadata,
        })
    }

    /// The tensors, in the order of their bytes in the file.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.index.get(name).map(|&i| &self.entries[i])
    }

    /// The header's `__metadata__`, sorted by key (empty without one).
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// A tensor's bytes, C order, little-endian: borrowed from a memory
    /// map, else read.
    pub fn data(&self, e: &Entry) -> Result<Cow<'_, [u8]>> {
        if let Some(b) = self.bytes.mapped(e.data.start, e.nbytes()) {
            return Ok(Cow::Borrowed(b));
        }
        let n = usize::try_from(e.nbytes())
            .map_err(|_| Error::limit("a tensor larger than this platform's memory"))?;
        let mut v = vec![0u8; n];
        self.bytes
            .read_exact_at(e.data.start, &mut v)
            .map_err(|x| within(&format!("tensor {}", e.name), Error::io(x)))?;
        Ok(Cow::Owned(v))
    }

    /// Hand a tensor's bytes to `f`, a megabyte at a time (from a map, at
    /// once).
    fn each_chunk(&self, e: &Entry, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        if let Some(b) = self.bytes.mapped(e.data.start, e.nbytes()) {
            return f(b);
        }
        let chunk = 1u64 << 20;
        let mut buf = vec![0u8; e.nbytes().min(chunk) as usize];
        let mut pos = e.data.start;
        while pos < e.data.end {
            let n = (e.data.end - pos).min(chunk) as usize;
            self.bytes
                .read_exact_at(pos, &mut buf[..n])
                .map_err(|x| within(&format!("tensor {}", e.name), Error::io(x)))?;
            f(&buf[..n])?;
            pos += n as u64;
        }
        Ok(())
    }

    /// The torch dtypes of the entries, or an error naming the first that
    /// has none.
    fn torch_tensors(&self) -> Result<Vec<(String, DType, Vec<usize>)>> {
        self.entries
            .iter()
            .map(|e| match e.dtype {
                Some(d) => torch_shape(d, &e.shape)
                    .map(|shape| (e.name.clone(), d, shape))
                    .map_err(|err| within(&format!("tensor {}", e.name), err)),
                None => Err(Error::unsupported(format!(
                    "tensor {} is {}, a safetensors dtype this crate has no torch dtype for",
                    e.name, e.format_dtype
                ))),
            })
            .collect()
    }

    /// Write the tensors as a torch checkpoint to `w`, as `torch.save`
    /// writes an `OrderedDict` of them in file order (archive name
    /// `archive` unless `saver` sets one); gives `w` back, flushed.
    pub fn write_checkpoint<W: Write>(&self, saver: &Saver, w: W) -> Result<W> {
        let tensors = self.torch_tensors()?;
        saver.write_streamed(w, "archive", &tensors, |i, sink| {
            self.each_chunk(&self.entries[i], |b| sink.write(b))
        })
    }

    /// Write the tensors as a torch checkpoint to the file at `path`
    /// (created or truncated, not synced, as [`Writer::save`]; removed if
    /// writing fails), the
    /// archive named after it as [`super::save`] names it; a refused dtype
    /// leaves no file.
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let saver = Saver::new().archive_name(super::archive_name(path)?);
        self.torch_tensors()?;
        let f = std::fs::File::create(path).map_err(Error::io)?;
        let w = std::io::BufWriter::with_capacity(1 << 20, f);
        let result = self.write_checkpoint(&saver, w).and_then(|w| {
            w.into_inner()
                .map(drop)
                .map_err(|e| write_error(e.into_error()))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torch::{SaveTensor, StateDict};
    use std::io::Cursor;

    #[test]
    fn dtype_names_are_the_crates() {
        for (d, f) in DTYPES {
            assert_eq!(dtype_name(f), f.to_string());
            // F4 counts 4-bit values; torch's float4_e2m1fn_x2 pairs them.
            let per_item = if f == Dtype::F4 { 2 } else { 1 };
            assert_eq!(f.bitsize() * per_item, d.itemsize() * 8, "{}", d.name());
            assert_eq!(torch_dtype(dtype_name(f)), Some(d));
            assert_eq!(from_format(f), Some(d));
        }
        for f in [Dtype::F6_E2M3, Dtype::F6_E3M2] {
            assert_eq!(dtype_name(f), f.to_string());
            assert_eq!(from_format(f), None);
        }
        for d in [
            DType::Complex32,
            DType::Complex128,
            DType::QInt8,
            DType::QUInt4x2,
        ] {
            assert_eq!(format_dtype(d), None);
        }
    }

    #[test]
    fn headers_are_what_the_crate_serializes() {
        let infos = vec![
            (
                "b".to_string(),
                TensorInfo {
                    dtype: Dtype::F32,
                    shape: vec![2, 3],
                    data_offsets: (0, 24),
                },
            ),
            (
                "a\"\u{e9}".to_string(),
                TensorInfo {
                    dtype: Dtype::U8,
                    shape: vec![],
                    data_offsets: (24, 25),
                },
            ),
        ];
        for meta in [vec![], vec![("format", "pt")]] {
            let ours: BTreeMap<String, String> = meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let theirs = (!meta.is_empty()).then(|| {
                meta.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            });
            let m = Metadata::new(theirs, infos.clone()).unwrap();
            let mut want = serde_json::to_vec(&m).unwrap();
            want.resize(want.len().next_multiple_of(8), b' ');
            assert_eq!(header_bytes(&ours, &infos).unwrap(), want);
        }
        // Offsets that do not follow each other: the crate's check.
        let mut gap = infos.clone();
        gap[1].1.data_offsets = (25, 26);
        let e = header_bytes(&BTreeMap::new(), &gap).unwrap_err();
        assert!(e.to_string().contains("invalid offset"), "{e}");
    }

    #[test]
    fn is_safetensors_reads_the_length_and_the_brace() {
        assert!(is_safetensors(b"\x02\0\0\0\0\0\0\0{}"));
        assert!(!is_safetensors(b"\x02\0\0\0\0\0\0\0 {"));
        assert!(!is_safetensors(b"\x02\0\0\0\0\0\0"));
        assert!(!is_safetensors(b"\x80\x02}q\x00X\x01\x00{"));
        assert!(!is_safetensors(b"\0\0\0\0\0\0\0\x01{"));
    }

    #[test]
    fn a_state_dict_goes_both_ways() {
        let sd = StateDict::new()
            .with(
                "w",
                SaveTensor::from_slice(&[2, 2], &[1f32, 2., 3., 4.]).unwrap(),
            )
            .with("b", SaveTensor::from_slice(&[3], &[1u8, 2, 3]).unwrap())
            .with("c", SaveTensor::from_slice(&[1], &[[1.5f32, -1.]]).unwrap());
        let ck =
            Checkpoint::from_reader(Cursor::new(crate::torch::save_to(Vec::new(), &sd).unwrap()))
                .unwrap();
        let (bytes, written) = Writer::new().write(&ck, Vec::new()).unwrap();
        assert_eq!(written.tensors, ["c", "w", "b"]);
        assert_eq!(written.size, bytes.len() as u64);
        let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
        let names: Vec<&str> = st.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c", "w", "b"]);
        let w = st.get("w").unwrap();
        assert_eq!((w.format_dtype, w.dtype), ("F32", Some(DType::Float32)));
        assert_eq!(w.stride(), [2, 1]);
        let want: Vec<u8> = [1f32, 2., 3., 4.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(st.data(w).unwrap(), want);
        let back = st.write_checkpoint(&Saver::new(), Vec::new()).unwrap();
        let ck2 = Checkpoint::from_reader(Cursor::new(back)).unwrap();
        let ts = ck2.tensors();
        assert_eq!(ts[1].0, "['w']");
        assert_eq!(
            ck2.read::<f32>(ts[1].1.as_ref().unwrap()).unwrap(),
            [1., 2., 3., 4.]
        );
    }

    /// A checkpoint of `doc` (its data.pkl) and `storages`.
    fn checkpoint_of(doc: &crate::Document, storages: &[&[u8]]) -> Checkpoint<Cursor<Vec<u8>>> {
        use crate::ml::container::zip::testing::{z, zip_bytes};
        let pkl = crate::dumps(doc, 2).unwrap();
        let names: Vec<String> = (0..storages.len()).map(|i| format!("a/data/{i}")).collect();
        let mut members = vec![z("a/data.pkl", &pkl)];
        for (n, s) in names.iter().zip(storages) {
            members.push(z(n, s));
        }
        Checkpoint::from_reader(Cursor::new(zip_bytes(&members, false))).unwrap()
    }

    #[test]
    fn containers_within_themselves_and_dag_bombs_are_errors() {
        let mut doc = crate::Document::new();
        let l = doc.list([]);
        doc.list_push(l, l);
        let k = doc.str("x");
        let root = doc.dict([(k, l)]);
        doc.set_root(root);
        let e = Writer::new().plan(&checkpoint_of(&doc, &[])).err().unwrap();
        assert!(
            e.to_string()
                .contains("['x'][0]: a container that contains itself"),
            "{e}"
        );
        // 40 levels of [d, d]: 2^40 leaves from 40 lists.
        let mut doc = crate::Document::new();
        let mut v = Value::Int(1);
        for _ in 0..40 {
            v = doc.list([v, v]);
        }
        doc.set_root(v);
        let e = Writer::new()
            .skip_other_values(true)
            .plan(&checkpoint_of(&doc, &[]))
            .err()
            .unwrap();
        assert_eq!(e.category(), Category::Limit, "{e}");
        // Keys that make no name.
        let mut doc = crate::Document::new();
        let k = doc.tuple([Value::Int(1)]);
        let root = doc.dict([(k, Value::Int(2))]);
        doc.set_root(root);
        let e = Writer::new().plan(&checkpoint_of(&doc, &[])).err().unwrap();
        assert!(e.to_string().contains("[<tuple>]: a tuple key"), "{e}");
    }

    #[test]
    fn deflated_records_are_inflated_as_they_are_copied() {
        use crate::ml::container::zip::testing::{zd, zip_bytes};
        let sd = StateDict::new()
            .with("w", SaveTensor::from_slice(&[3], &[1f32, 2., 3.]).unwrap())
            .with("i", SaveTensor::from_slice(&[2], &[7i64, -1]).unwrap());
        let stored = crate::torch::save_to(Vec::new(), &sd).unwrap();
        let ck = Checkpoint::from_reader(Cursor::new(stored.clone())).unwrap();
        let want = Writer::new().write(&ck, Vec::new()).unwrap().0;
        // The same records, deflated.
        let mut c = Cursor::new(&stored[..]);
        let len = stored.len() as u64;
        let end = crate::ml::container::zip::end_record(&mut c, len).unwrap();
        let members = crate::ml::container::zip::directory(&mut c, len, &end, 0).unwrap();
        let mut parts = Vec::new();
        for m in &members {
            let loc = crate::ml::container::zip::locate(&mut c, len, m).unwrap();
            let data = crate::ml::container::zip::with_data(&mut c, m, &loc, |r| {
                let mut b = Vec::new();
                r.read_to_end(&mut b)?;
                Ok(b)
            })
            .unwrap();
            parts.push((m.name.clone(), data));
        }
        let zs: Vec<_> = parts.iter().map(|(n, d)| zd(n, d)).collect();
        let deflated = zip_bytes(&zs, false);
        let got = Checkpoint::from_reader(Cursor::new(deflated))
            .and_then(|ck| Ok(Writer::new().write(&ck, Vec::new())?.0));
        if cfg!(feature = "joblib-compress") {
            assert_eq!(got.unwrap(), want);
        } else {
            assert!(got.unwrap_err().to_string().contains("joblib-compress"));
        }
    }
}
