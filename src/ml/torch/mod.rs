//! PyTorch checkpoints (`torch.save`), read like `torch.load(weights_only=True)`
//! without PyTorch: the object pickle is loaded as an inert [`Document`], and
//! only an allow-list of tensor rebuild functions is given meaning.
//!
//! [`Checkpoint::open`] reads the object pickle and nothing else: storages are
//! read when asked for ([`Checkpoint::tensor_data`], [`Checkpoint::read`]),
//! so listing the tensors of a 10 GB checkpoint reads a few kilobytes.
//! Reads take `&self` and go to the file with positional reads (one per
//! storage), so tensors can be read from several threads at once;
//! [`Checkpoint::from_reader`] reads any `Read + Seek` source, and
//! `Checkpoint::mmap` (feature `mmap`) maps the file and lends contiguous
//! tensors' bytes straight from the map.
//!
//! ```no_run
//! # fn main() -> pickle_codec::Result<()> {
//! use pickle_codec::torch::Checkpoint;
//!
//! let ck = Checkpoint::open("model.pt")?;
//! for (path, t) in ck.tensors() {
//!     let t = t?;
//!     let bytes = ck.tensor_data(&t)?; // C order, little-endian
//!     println!("{path}: {} {:?}, {} bytes", t.dtype().name(), t.shape, bytes.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A zip checkpoint is read as torch reads it (miniz), by the crate's own
//! zip reader, which the scanner reads archives with too: records are
//! `<archive>/<name>`, `<archive>` being the first member's folder, and names
//! compare in ASCII case-insensitively (two members with the same name are
//! an error: which one torch reads depends on miniz's sort); offsets count
//! from where the reader was when handed over; records are stored (what
//! `torch.save` writes) or deflated (read with the `joblib-compress` feature,
//! an error that names it without). Each record's CRC-32 is compared with
//! the central directory's when it is read, a mismatch an error naming the
//! member (stricter than torch, whose miniz is built without the check;
//! [`Checkpoint::with_crc_check`] turns it off, and a memory-mapped
//! checkpoint checks only on [`Checkpoint::verify`]).
//!
//! # Formats
//!
//! | format | layout | supported |
//! |---|---|---|
//! | zip (torch ≥ 1.6 default) | `<archive>/data.pkl` (the object pickle, protocol 2), `<archive>/data/<key>` (raw storages), `<archive>/byteorder` (`little`/`big`, missing = little), `<archive>/version`, `.format_version` | yes |
//! | legacy (`_use_new_zipfile_serialization=False`) | pickles of: magic number `0x1950a86a20f9469cfc6c`, protocol version 1001, sys info; the object pickle; the sorted storage keys; then per key an 8-byte little-endian element count and the raw storage | yes |
//! | tar (torch < 0.4) | a tar of `sys_info` (a pickle: `little_endian`, ...); `pickle` (the object, each tensor a persistent id: its key); `tensors` (a count pickle, then per tensor a pickle of `(key, storage key, type)`, ndim as an int32 and 4 padding bytes, int64 sizes, strides and storage offset); `storages` (a count pickle, then per storage a pickle of `(key, location, storage type)`, an int64 element count and the raw elements, then a pickle of the views `(view key, root key, offset, size)`) | yes |
//! | TorchScript archives (`constants.pkl`, code) | | no |
//!
//! Legacy and tar files are little-endian unless their `sys_info` says
//! otherwise; a zip's `byteorder` record says `big` for big-endian storages.
//! Every way of opening ([`Checkpoint::open`], [`Checkpoint::from_reader`],
//! `Checkpoint::mmap`) gives the elements little-endian.
//!
//! Persistent ids `('storage', StorageType, key, location, numel)` (and the
//! legacy 6-tuple whose last item is a view `(view_key, offset, size)`) name
//! storages. Tensors are recognised from these calls only:
//! `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_tensor`,
//! `torch._utils._rebuild_tensor_v3` (a dtype given apart, over an
//! `UntypedStorage` whose size counts bytes), `torch._utils._rebuild_qtensor`
//! (quantized: [`Tensor::quantization`]),
//! `torch._utils._rebuild_parameter`, `torch._utils._rebuild_parameter_with_state`,
//! and `torch._tensor._rebuild_from_type_v2` around `_rebuild_tensor_v2`.
//! Everything else (`collections.OrderedDict`, optimizer state dicts, plain
//! containers) is ordinary inert data, walked by [`crate::arrays::walk`].
//!
//! # dtypes
//!
//! | storage type | [`DType`] |
//! |---|---|
//! | `FloatStorage` `DoubleStorage` `HalfStorage` `BFloat16Storage` | float32, float64, float16, bfloat16 |
//! | `CharStorage` `ShortStorage` `IntStorage` `LongStorage` `ByteStorage` `BoolStorage` | int8, int16, int32, int64, uint8, bool |
//! | `ComplexFloatStorage` `ComplexDoubleStorage` | complex64, complex128 |
//! | `QInt8Storage` `QUInt8Storage` `QInt32Storage` `QUInt4x2Storage` `QUInt2x4Storage` | qint8, quint8, qint32, quint4x2, quint2x4 (per-tensor or per-channel affine; [`Checkpoint::read_f64`] dequantizes) |
//! | `UntypedStorage` + `_rebuild_tensor_v3`'s dtype | complex32, bcomplex32, uint16, uint32, uint64, float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu, float4_e2m1fn_x2 (two 4-bit floats a byte), bits8, bits16, bits1x8, bits2x4, bits4x2, and any of the above |
//!
//! Not supported yet: sparse and nested tensors, meta loading.
//! Checkpoints are written by [`save`] (see [`Saver`]), and converted to
//! safetensors files and back by `torch::safetensors` (feature
//! `safetensors`).

#[cfg(feature = "mmap")]
mod mmap;
#[cfg(all(feature = "safetensors", unix))]
mod parallel_copy;

/// A failed write of a converted file (safetensors' sequential writer and
/// the parallel copier alike).
#[cfg(feature = "safetensors")]
fn write_error(e: std::io::Error) -> Error {
    let e = Error::io(e);
    Error::new(e.category(), format!("writing the output: {e}"))
}

/// A failed read of a tensor's bytes from the checkpoint.
#[cfg(feature = "safetensors")]
fn read_error(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::new(
            crate::Category::Eof,
            "the checkpoint ends inside the tensor's bytes",
        ),
        _ => Error::io(e),
    }
}
#[cfg(feature = "safetensors")]
#[cfg_attr(docsrs, doc(cfg(feature = "safetensors")))]
pub mod safetensors;
mod source;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use self::source::{At, Bytes, PositionalFile};
use crate::error::{Error, Result};
use crate::ml::container::zip;
use crate::value::{Document, Node, ValueRef};
use crate::LoadOptions;

pub use crate::ml::torch_facts::DType;

mod save;
pub use save::{archive_name, save, save_to, SaveKey, SaveTensor, SaveValue, Saver, StateDict};

/// A storage named by a persistent id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    /// The key (`data/<key>` in a zip archive).
    pub key: String,
    /// Element type.
    pub dtype: DType,
    /// Device location when saved, e.g. `"cpu"`, `"cuda:0"`.
    pub location: String,
    /// Number of elements.
    pub numel: u64,
}

/// A tensor: a strided view of a storage.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The storage it views.
    pub storage: Storage,
    /// First element's index in the storage.
    pub storage_offset: usize,
    /// Sizes.
    pub shape: Vec<usize>,
    /// Strides, in elements.
    pub stride: Vec<usize>,
    /// `requires_grad` when saved.
    pub requires_grad: bool,
    /// True for an `nn.Parameter`.
    pub parameter: bool,
    /// How a quantized tensor's integers map to reals (`_rebuild_qtensor`).
    pub quantization: Option<Quantization>,
}

/// A quantized tensor's scheme: its real values are
/// `(q - zero_point) * scale`, per tensor or per channel along `axis`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Quantization {
    /// `torch.per_tensor_affine`.
    PerTensorAffine {
        /// The scale.
        scale: f64,
        /// The zero point.
        zero_point: i64,
    },
    /// `torch.per_channel_affine` (or `per_channel_affine_float_qparams`,
    /// where the zero points are reals): a scale and a zero point per index
    /// along `axis`, stored as tensors of their own.
    PerChannelAffine {
        /// One scale per channel.
        scales: Box<Tensor>,
        /// One zero point per channel.
        zero_points: Box<Tensor>,
        /// The channel dimension.
        axis: usize,
        /// True for `per_channel_affine_float_qparams`.
        float_qparams: bool,
    },
}

fn storage_of(pid: ValueRef<'_>) -> Result<(Storage, usize)> {
    let t: Vec<ValueRef<'_>> = pid.iter().collect();
    if t.len() < 5 || t[0].as_str() != Some("storage") {
        return Err(Error::data("persistent id is not a ('storage', ...) tuple"));
    }
    let (_, ty) = t[1]
        .as_global()
        .ok_or_else(|| Error::data("storage type is not a global"))?;
    // An untyped storage's size counts bytes; `_rebuild_tensor_v3` says
    // what its elements are (see `retype`).
    let dtype = match DType::from_storage(ty) {
        Some(d) => d,
        None if ty == crate::ml::torch_facts::UNTYPED_STORAGE => DType::UInt8,
        None => {
            return Err(Error::unsupported(format!(
                "storage type {ty} is not supported"
            )))
        }
    };
    let text = |v: ValueRef<'_>| {
        v.as_str()
            .map(str::to_string)
            .or_else(|| v.as_i64().map(|i| i.to_string()))
    };
    let key = text(t[2]).ok_or_else(|| Error::data("storage key is not a str"))?;
    let location = t[3].as_str().unwrap_or("").to_string();
    let numel = t[4]
        .as_i64()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| Error::data("storage size is not an int"))?;
    let storage = Storage {
        key,
        dtype,
        location,
        numel,
    };
    // Legacy views: (view_key, offset, view_size) into the root storage.
    let mut offset = 0;
    if let Some(view) = t.get(5).filter(|v| !v.is_none()) {
        offset = view
            .index(1)
            .and_then(|o| o.as_i64())
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| Error::data("storage view without an offset"))?;
    }
    Ok((storage, offset))
}

fn dims(v: Option<ValueRef<'_>>, what: &str) -> Result<Vec<usize>> {
    let v = v.ok_or_else(|| Error::data(format!("tensor without {what}")))?;
    v.iter()
        .map(|d| {
            d.as_i64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| Error::data(format!("tensor {what} is not a tuple of ints")))
        })
        .collect()
}

impl Tensor {
    /// Read a tensor from its rebuild call; `None` if `v` is not one of the
    /// allow-listed calls, an error if it is one with bad arguments.
    pub fn from_value(v: ValueRef<'_>) -> Option<Result<Tensor>> {
        let o = v.as_object()?;
        let (m, n) = v.at(o.callable).as_global()?;
        let args = v.at(o.args);
        match (m, n) {
            ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => {
                Some(Tensor::from_args(args))
            }
            // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
            ("torch._utils", "_rebuild_tensor_v3") => Some(Tensor::from_args(args).and_then(|t| {
                let dtype = args
                    .index(6)
                    .and_then(|d| d.as_global())
                    .filter(|(m, _)| *m == "torch")
                    .and_then(|(_, n)| DType::from_name(n))
                    .ok_or_else(|| {
                        Error::unsupported("tensor dtype is not a torch dtype this reader knows")
                    })?;
                t.retype(dtype)
            })),
            // (storage, offset, size, stride, quantizer_params, requires_grad, hooks)
            ("torch._utils", "_rebuild_qtensor") => Some(Tensor::quantized(args)),
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
                let data = args.index(0)?;
                let mut t = match Tensor::from_value(data)? {
                    Ok(t) => t,
                    Err(e) => return Some(Err(e)),
                };
                t.parameter = true;
                t.requires_grad = args.index(1).and_then(|b| b.as_bool()).unwrap_or(false);
                Some(Ok(t))
            }
            ("torch._tensor", "_rebuild_from_type_v2") => {
                let func = args.index(0)?.as_global()?;
                if func != ("torch._utils", "_rebuild_tensor_v2") {
                    return None;
                }
                Some(Tensor::from_args(args.index(2)?))
            }
            _ => None,
        }
    }

    fn from_args(args: ValueRef<'_>) -> Result<Tensor> {
        let st = args
            .index(0)
            .ok_or_else(|| Error::data("tensor without a storage"))?;
        let pid = match st.kind() {
            crate::Kind::PersistentId(p) => st.at(p),
            _ => return Err(Error::data("tensor storage is not a persistent id")),
        };
        let (storage, view_offset) = storage_of(pid)?;
        let offset = args
            .index(1)
            .and_then(|o| o.as_i64())
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| Error::data("tensor storage offset is not an int"))?;
        let shape = dims(args.index(2), "size")?;
        let stride = dims(args.index(3), "stride")?;
        if shape.len() != stride.len() {
            return Err(Error::data("tensor size and stride differ in length"));
        }
        Ok(Tensor {
            storage,
            storage_offset: offset + view_offset,
            shape,
            stride,
            requires_grad: args.index(4).and_then(|b| b.as_bool()).unwrap_or(false),
            parameter: false,
            quantization: None,
        })
    }

    /// A tensor of `dtype` over an untyped storage (`_rebuild_tensor_v3`),
    /// whose size counts bytes.
    fn retype(mut self, dtype: DType) -> Result<Tensor> {
        let size = dtype.itemsize() as u64;
        if self.storage.dtype != DType::UInt8 || self.storage.numel % size != 0 {
            return Err(Error::data(format!(
                "a {} tensor over a storage of {} {} elements",
                dtype.name(),
                self.storage.numel,
                self.storage.dtype.name()
            )));
        }
        self.storage.numel /= size;
        self.storage.dtype = dtype;
        Ok(self)
    }

    fn quantized(args: ValueRef<'_>) -> Result<Tensor> {
        let mut t = Tensor::from_args(args)?;
        if !t.dtype().is_quantized() {
            return Err(Error::data(format!(
                "a quantized tensor over a {} storage",
                t.dtype().name()
            )));
        }
        t.requires_grad = args.index(5).and_then(|b| b.as_bool()).unwrap_or(false);
        let params = args
            .index(4)
            .ok_or_else(|| Error::data("quantized tensor without quantizer parameters"))?;
        let bad = || Error::data("quantized tensor with malformed quantizer parameters");
        let param = |i: usize| params.index(i).ok_or_else(bad);
        let sub = |i: usize| -> Result<Box<Tensor>> {
            match Tensor::from_value(param(i)?) {
                Some(t) => t.map(Box::new),
                None => Err(bad()),
            }
        };
        t.quantization = Some(match param(0)?.as_global() {
            Some(("torch", "per_tensor_affine")) => Quantization::PerTensorAffine {
                scale: param(1)?.as_f64().ok_or_else(bad)?,
                zero_point: param(2)?.as_i64().ok_or_else(bad)?,
            },
            Some(("torch", q @ ("per_channel_affine" | "per_channel_affine_float_qparams"))) => {
                let axis = param(3)?
                    .as_i64()
                    .and_then(|a| usize::try_from(a).ok())
                    .filter(|&a| a < t.shape.len())
                    .ok_or_else(bad)?;
                Quantization::PerChannelAffine {
                    scales: sub(1)?,
                    zero_points: sub(2)?,
                    axis,
                    float_qparams: q == "per_channel_affine_float_qparams",
                }
            }
            Some((m, n)) => {
                return Err(Error::unsupported(format!(
                    "quantization scheme {m}.{n} is not supported"
                )))
            }
            None => return Err(bad()),
        });
        Ok(t)
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.storage.dtype
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of its elements (`numel * itemsize`).
    pub fn nbytes(&self) -> usize {
        self.numel() * self.dtype().itemsize()
    }

    /// True if the elements are contiguous in C order.
    pub fn is_contiguous(&self) -> bool {
        crate::ml::numpy::layout_strides(&self.shape, crate::ml::numpy::Order::C)
            .iter()
            .zip(&self.shape)
            .zip(&self.stride)
            .all(|((want, &d), &got)| d <= 1 || *want == got)
    }

    /// The bytes of its storage the view reaches, from its first element
    /// to past its last (`None` when it has no elements); an error if that
    /// is outside the storage.
    fn byte_span(&self) -> Result<Option<std::ops::Range<u64>>> {
        if self.shape.len() != self.stride.len() {
            return Err(Error::data("tensor size and stride differ in length"));
        }
        if self.shape.contains(&0) {
            return Ok(None);
        }
        self.check_bounds()?;
        let last = self
            .shape
            .iter()
            .zip(&self.stride)
            .fold(self.storage_offset as u64, |a, (&d, &s)| {
                a + (d as u64 - 1) * s as u64
            });
        let size = self.dtype().itemsize() as u64;
        let span = (self.storage_offset as u64)
            .checked_mul(size)
            .zip((last + 1).checked_mul(size))
            .ok_or_else(|| Error::data("tensor view reaches outside its storage"))?;
        Ok(Some(span.0..span.1))
    }

    /// Check the view stays inside its storage.
    fn check_bounds(&self) -> Result<()> {
        if self.shape.contains(&0) {
            return Ok(());
        }
        let last = self
            .shape
            .iter()
            .zip(&self.stride)
            .try_fold(self.storage_offset, |a, (&d, &s)| {
                (d - 1).checked_mul(s).and_then(|x| a.checked_add(x))
            });
        match last {
            Some(l) if (l as u64) < self.storage.numel => Ok(()),
            _ => Err(Error::data("tensor view reaches outside its storage")),
        }
    }
}

/// Every tensor reachable from `root`, with its path (see [`crate::arrays`]).
pub fn find_tensors(root: ValueRef<'_>) -> Vec<(String, Result<Tensor>)> {
    let mut out = Vec::new();
    crate::ml::arrays::walk(root, |path, v| match Tensor::from_value(v) {
        Some(t) => {
            out.push((path.to_string(), t));
            false
        }
        None => true,
    });
    out
}

/// The formats `torch.save` has written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A zip archive (torch >= 1.6's default).
    Zip,
    /// `_use_new_zipfile_serialization=False`: pickles, then raw storages.
    Legacy,
    /// torch < 0.4: a tar archive.
    Tar,
}

/// The checkpoint format the bytes begin, `None` for anything else: a zip
/// archive, a tar archive, or a legacy file's magic number pickled at any
/// protocol. 512 bytes of head suffice.
pub fn format_of(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") {
        Some(Format::Zip)
    } else if crate::ml::container::tar::is_header(head) {
        Some(Format::Tar)
    } else if crate::ml::torch_facts::starts_legacy(head) {
        Some(Format::Legacy)
    } else {
        None
    }
}

/// True if the bytes begin a checkpoint ([`format_of`]).
pub fn is_checkpoint(head: &[u8]) -> bool {
    format_of(head).is_some()
}

/// The pickle part of a checkpoint's bytes, for tools that show pickles
/// (`pickle dis`, `pickle json`): a zip archive's `data.pkl`, or the five
/// pickles at the head of a legacy file (magic number, protocol, system
/// info, the object, the storage keys), without the raw storages after them,
/// or a tar archive's `pickle` member.
/// `None` if the bytes are not a checkpoint.
pub fn pickle_part(data: &[u8]) -> Result<Option<Vec<u8>>> {
    if data.starts_with(b"PK\x03\x04") {
        let bytes = Bytes::Reader {
            inner: Mutex::new(std::io::Cursor::new(data)),
            start: 0,
        };
        let len = data.len() as u64;
        let zip = ZipLayout::open(&bytes, len)?;
        let i = zip
            .member("data.pkl")?
            .ok_or_else(|| Error::data("zip archive without a data.pkl"))?;
        let rec = zip.record(&bytes, len, i)?;
        return read_record(&bytes, &rec, rec.size, false).map(Some);
    }
    if crate::ml::container::tar::is_header(data) {
        // torch < 0.4: the object pickle is the `pickle` member (the last
        // of that name, as tarfile finds it).
        let mut c = std::io::Cursor::new(data);
        let entries = crate::ml::container::tar::entries(&mut c, data.len() as u64)?;
        let e = entries
            .iter()
            .rev()
            .find(|e| e.name == "pickle")
            .and_then(|e| e.resolve(&entries))
            .filter(|e| e.is_file())
            .ok_or_else(|| Error::data("tar checkpoint without a pickle member"))?;
        let start = usize::try_from(e.data_offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(e.size).unwrap_or(usize::MAX));
        let pkl = data
            .get(start..end)
            .ok_or_else(|| Error::data("tar checkpoint cut short in its pickle member"))?;
        return Ok(Some(pkl.to_vec()));
    }
    if crate::ml::torch_facts::starts_legacy(data) {
        let mut u = crate::Unpickler::from_slice(data, LoadOptions::default());
        for _ in 0..5 {
            u.load()?;
        }
        let end = usize::try_from(u.offset()).unwrap_or(data.len());
        return Ok(Some(data[..end].to_vec()));
    }
    Ok(None)
}

/// Hands out at most 4 KiB per read.
struct Trickle<R> {
    inner: R,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(4096);
        self.inner.read(&mut buf[..n])
    }
}

/// Bytes read at a time where a storage is decoded as it is read
/// ([`Checkpoint::read`]) or only checked ([`Checkpoint::verify`]).
const CHUNK: usize = 1 << 20;

fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::limit("a storage larger than this platform's memory"))
}

/// A zip checkpoint's directory as torch reads it (miniz,
/// `PyTorchStreamReader`): records are looked up by name under the archive
/// name, in any ASCII case.
struct ZipLayout {
    members: Vec<zip::Member>,
    /// Member indices by ASCII lower-case name (duplicates kept: an error
    /// when that record is read).
    by_name: HashMap<Vec<u8>, Vec<usize>>,
    /// The archive name and a `/`: `archive/` for `archive/data.pkl`.
    prefix: String,
    /// Where each member's data starts, read from its local header the
    /// first time the member is read.
    starts: Vec<OnceLock<u64>>,
}

impl ZipLayout {
    /// Read the directory (offsets as miniz reads them: not moved by
    /// `zipfile`'s `concat`).
    fn open<R: Read + Seek>(bytes: &Bytes<R>, len: u64) -> Result<Self> {
        let mut at = At { bytes, len, pos: 0 };
        let end = zip::end_record(&mut at, len)?;
        let members = zip::directory(&mut at, len, &end, 0)?;
        let prefix = match zip::torch_archive_name(&members) {
            Some(name) => format!("{name}/"),
            None => {
                return Err(Error::data(match members.first() {
                    Some(m) => format!(
                        "zip: the first member, {}, is in no folder (torch looks records up under the first member's folder)",
                        m.name
                    ),
                    None => "zip archive without members".to_string(),
                }))
            }
        };
        let mut by_name: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (i, m) in members.iter().enumerate() {
            by_name
                .entry(m.raw_name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
        let starts = members.iter().map(|_| OnceLock::new()).collect();
        Ok(ZipLayout {
            members,
            by_name,
            prefix,
            starts,
        })
    }

    /// The member torch reads for record `name` (`data.pkl`, `data/0`):
    /// `<archive>/<name>` in any ASCII case; `None` if there is none.
    fn member(&self, name: &str) -> Result<Option<usize>> {
        let full = format!("{}{name}", self.prefix);
        match self
            .by_name
            .get(&full.as_bytes().to_ascii_lowercase())
            .map(Vec::as_slice)
        {
            None | Some([]) => Ok(None),
            Some([i]) => Ok(Some(*i)),
            Some(all) => Err(Error::data(format!(
                "zip: {} members are named {full} (ASCII case aside); which one torch reads depends on miniz's sort",
                all.len()
            ))),
        }
    }

    /// Where member `i`'s data lies, if torch (miniz) reads it.
    fn record<R: Read + Seek>(&self, bytes: &Bytes<R>, len: u64, i: usize) -> Result<Record<'_>> {
        let m = &self.members[i];
        if !zip::MINIZ_METHODS.contains(&m.method) {
            return Err(Error::unsupported(format!(
                "zip member {}: compression method {} ({}), which torch (miniz) does not read",
                m.name,
                m.method,
                crate::ml::container::compress::method_name(m.method)
            )));
        }
        if m.method == 0 && m.size != m.compressed_size {
            return Err(Error::data(format!(
                "zip member {}: stored, yet its sizes differ ({} stored, {} declared), which torch (miniz) refuses",
                m.name, m.compressed_size, m.size
            )));
        }
        if m.is_encrypted() {
            return Err(Error::unsupported(format!(
                "zip member {}: encrypted or patch data (flags {:#x}), which neither torch nor numpy reads",
                m.name, m.flags
            )));
        }
        let start = match self.starts[i].get() {
            Some(&s) => s,
            None => {
                let mut at = At { bytes, len, pos: 0 };
                let loc = zip::locate(&mut at, len, m)?;
                *self.starts[i].get_or_init(|| loc.data_start)
            }
        };
        Ok(Record {
            start,
            size: m.size,
            member: Some(m),
        })
    }
}

/// Where a storage's (or a zip record's) bytes lie.
struct Record<'a> {
    /// First byte of the data as stored (compressed for a deflated member),
    /// from the checkpoint's start.
    start: u64,
    /// Bytes once extracted.
    size: u64,
    /// The zip member: its method, CRC-32 and name.
    member: Option<&'a zip::Member>,
}

impl Record<'_> {
    /// True if the bytes lie in the file as they are (not deflated).
    fn is_raw(&self) -> bool {
        self.member.map_or(true, |m| m.method == 0)
    }

    /// Compare `got`, the CRC-32 of the whole extracted record, with the
    /// directory's (records that are no zip member have none).
    fn check(&self, got: u32) -> Result<()> {
        match self.member {
            Some(m) if m.crc32 != got => Err(zip::bad_crc(&m.name, got, m.crc32)),
            _ => Ok(()),
        }
    }
}

/// How a checkpoint names its storages' bytes.
enum Layout {
    Zip(ZipLayout),
    /// Legacy and tar files: key → (offset of the raw bytes, their count).
    Raw(HashMap<String, (u64, u64)>),
}

/// What a checkpoint keeps per storage key.
struct Slot {
    /// Viewed by more than one tensor: read once, kept in `cache`.
    shared: bool,
    cache: OnceLock<Vec<u8>>,
    /// Held while `cache` is filled, so that one thread reads it.
    fill: Mutex<()>,
    /// A mapped record's CRC-32 was found right (it is not checked again).
    checked: AtomicBool,
}

impl Slot {
    fn new(shared: bool) -> Self {
        Slot {
            shared,
            cache: OnceLock::new(),
            fill: Mutex::new(()),
            checked: AtomicBool::new(false),
        }
    }
}

/// Slots for the storages the persistent ids of `doc` name, shared where
/// more than one tensor rebuild names the key.
fn slots_of(doc: &Document) -> HashMap<String, Slot> {
    let mut refs: HashMap<String, usize> = HashMap::new();
    for node in doc.nodes() {
        if let Node::PersistentId(pid) = node {
            if let Ok((s, _)) = storage_of(doc.get(*pid)) {
                *refs.entry(s.key).or_default() += 1;
            }
        }
    }
    refs.into_iter()
        .map(|(k, n)| (k, Slot::new(n > 1)))
        .collect()
}

/// Some of a storage's bytes: `data[i]` is its byte `base + i`.
struct Loaded<'a> {
    data: Cow<'a, [u8]>,
    base: usize,
}

/// An opened checkpoint: its object graph, and storages read on demand.
///
/// Reading takes `&self`: tensors can be read from many threads at once (a
/// file opened with [`Checkpoint::open`] is read with positional reads, one
/// per storage; [`Checkpoint::from_reader`]'s reader is shared under a
/// lock). `R` is the reader type of [`Checkpoint::from_reader`];
/// [`Checkpoint::open`] and `Checkpoint::mmap` give a `Checkpoint` (of
/// [`std::fs::File`]).
///
/// Each zip record's CRC-32 is compared with the central directory's when
/// it is read (storages, `data.pkl`, `byteorder`; a mismatch is an error
/// that names the member), unless [`Checkpoint::with_crc_check`] turned it
/// off; a memory-mapped checkpoint checks only when asked
/// ([`Checkpoint::verify`]). Legacy and tar files hold no checksums.
///
/// A storage that several tensors view (a tensor and its transpose, tied
/// weights, views of one flat buffer) is read once and kept, so that its
/// tensors' data can borrow from it ([`Checkpoint::clear_cache`] drops what
/// was kept); any other storage is read for the tensor that asks and handed
/// over, so reading a whole state dict tensor by tensor holds one tensor's
/// bytes at a time.
pub struct Checkpoint<R = std::fs::File> {
    doc: Document,
    bytes: Bytes<R>,
    /// Bytes from the checkpoint's start to the end of its file or reader.
    len: u64,
    layout: Layout,
    slots: HashMap<String, Slot>,
    big_endian: bool,
    check_crc: bool,
    /// The tar format's tensors, named by the object pickle's persistent ids.
    tar_tensors: Option<HashMap<String, Tensor>>,
}

impl Checkpoint<std::fs::File> {
    /// Open a checkpoint file: reads the object pickle only; storages are
    /// read when asked for, each with one positional read of the file.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Checkpoint::open_with(path, &LoadOptions::default())
    }

    /// [`Checkpoint::open`], its pickles read with the decoding and limits
    /// of `options` (`torch.load(f, encoding='latin1')` is
    /// `LoadOptions::default().encoding(Encoding::Latin1)`; a hostile
    /// file's memo, depth and line limits). Its hooks and buffers are not
    /// used: the checkpoint's persistent ids name its storages.
    pub fn open_with(path: impl AsRef<std::path::Path>, options: &LoadOptions) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(Error::io)?;
        let len = file.metadata().map_err(Error::io)?.len();
        Checkpoint::from_bytes(Bytes::File(PositionalFile::new(file)), len, true, options)
    }

    /// Open a checkpoint file as a read-only memory map: a contiguous
    /// little-endian tensor's [`Checkpoint::tensor_data`] borrows from the
    /// map, nothing copied. CRC-32s are not checked as storages are read
    /// (that would read every page of a storage at each first use); call
    /// [`Checkpoint::verify`] for it, or turn the check on with
    /// [`Checkpoint::with_crc_check`].
    ///
    /// The file must not change while the checkpoint is alive: a write to it
    /// shows through the map, and a truncation makes the process fault
    /// (`SIGBUS`) when the lost pages are read. When that cannot be ruled
    /// out, use [`Checkpoint::open`].
    #[cfg(feature = "mmap")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mmap")))]
    pub fn mmap(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Checkpoint::mmap_with(path, &LoadOptions::default())
    }

    /// [`Checkpoint::mmap`] with the decoding and limits of `options`, as
    /// [`Checkpoint::open_with`].
    #[cfg(feature = "mmap")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mmap")))]
    pub fn mmap_with(path: impl AsRef<std::path::Path>, options: &LoadOptions) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(Error::io)?;
        let map = mmap::Map::new(&file)?;
        let len = map.bytes().len() as u64;
        Checkpoint::from_bytes(Bytes::Map(map), len, false, options)
    }
}

impl<R: Read + Seek> Checkpoint<R> {
    /// Open a checkpoint from a seekable reader positioned at its start
    /// (offsets count from there, as in `torch.load(f)`).
    pub fn from_reader(reader: R) -> Result<Self> {
        Checkpoint::from_reader_with(reader, &LoadOptions::default())
    }

    /// [`Checkpoint::from_reader`] with the decoding and limits of
    /// `options`, as [`Checkpoint::open_with`].
    pub fn from_reader_with(mut reader: R, options: &LoadOptions) -> Result<Self> {
        let start = reader.stream_position().map_err(Error::io)?;
        let end = reader.seek(SeekFrom::End(0)).map_err(Error::io)?;
        let bytes = Bytes::Reader {
            inner: Mutex::new(reader),
            start,
        };
        Checkpoint::from_bytes(bytes, end.saturating_sub(start), true, options)
    }

    fn from_bytes(
        bytes: Bytes<R>,
        len: u64,
        check_crc: bool,
        options: &LoadOptions,
    ) -> Result<Self> {
        let mut head = [0u8; 512];
        let n = len.min(512) as usize;
        bytes.read_exact_at(0, &mut head[..n]).map_err(Error::io)?;
        let head = &head[..n];
        if head.len() < 4 {
            return Err(Error::new(
                crate::Category::Eof,
                "a checkpoint of fewer than 4 bytes",
            ));
        }
        if head.starts_with(b"PK\x03\x04") {
            Self::open_zip(bytes, len, check_crc, options)
        } else if crate::ml::container::tar::is_header(head) {
            Self::open_tar(bytes, len, check_crc, options)
        } else {
            Self::open_legacy(bytes, len, check_crc, options)
        }
    }

    fn open_zip(bytes: Bytes<R>, len: u64, check_crc: bool, options: &LoadOptions) -> Result<Self> {
        let zip = ZipLayout::open(&bytes, len)?;
        let whole = |name: &str| -> Result<Option<Vec<u8>>> {
            let Some(i) = zip.member(name)? else {
                return Ok(None);
            };
            let rec = zip.record(&bytes, len, i)?;
            read_record(&bytes, &rec, rec.size, check_crc).map(Some)
        };
        let data =
            whole("data.pkl")?.ok_or_else(|| Error::data("zip archive without a data.pkl"))?;
        let big_endian = whole("byteorder")?.is_some_and(|b| b.starts_with(b"big"));
        let doc = crate::loads_with(&data, options.plain_copy())?;
        Ok(Checkpoint {
            slots: slots_of(&doc),
            doc,
            bytes,
            len,
            layout: Layout::Zip(zip),
            big_endian,
            check_crc,
            tar_tensors: None,
        })
    }

    fn open_legacy(
        bytes: Bytes<R>,
        len: u64,
        check_crc: bool,
        options: &LoadOptions,
    ) -> Result<Self> {
        // The pickles are read through one unpickler; its offset then tells
        // where the raw storages start. Small reads keep it from buffering
        // (reading) far into the storages.
        let mut at = At {
            bytes: &bytes,
            len,
            pos: 0,
        };
        let mut u = crate::Unpickler::from_reader(Trickle { inner: &mut at }, options.plain_copy());
        let magic = u.load()?;
        if !crate::ml::torch_facts::is_legacy_magic(magic.root()) {
            return Err(Error::data("not a torch checkpoint (bad magic number)"));
        }
        let proto = u.load()?;
        if proto.root().as_i64() != Some(1001) {
            return Err(Error::unsupported(format!(
                "legacy torch protocol {} (1001 is supported)",
                proto
                    .root()
                    .as_i64()
                    .map_or_else(|| "?".into(), |p| p.to_string())
            )));
        }
        let sys_info = u.load()?;
        let little = sys_info
            .root()
            .get("little_endian")
            .and_then(|b| b.as_bool());
        let doc = u.load()?;
        let keys_doc = u.load()?;
        let keys: Vec<String> = keys_doc
            .root()
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::data("storage key is not a str"))
            })
            .collect::<Result<_>>()?;
        let mut pos = u.offset();
        drop(u);
        // Element sizes come from the storage types in the persistent ids.
        let mut itemsize: HashMap<String, usize> = HashMap::new();
        for node in doc.nodes() {
            if let Node::PersistentId(pid) = node {
                if let Ok((s, _)) = storage_of(doc.get(*pid)) {
                    itemsize.insert(s.key, s.dtype.itemsize());
                }
            }
        }
        let mut storages = HashMap::new();
        for key in keys {
            let mut n = [0u8; 8];
            bytes.read_exact_at(pos, &mut n).map_err(Error::io)?;
            let count = u64::from_le_bytes(n);
            let size = *itemsize
                .get(&key)
                .ok_or_else(|| Error::data(format!("storage {key} is not used by any tensor")))?
                as u64;
            let nbytes = count
                .checked_mul(size)
                .ok_or_else(|| Error::data("storage size overflows"))?;
            storages.insert(key, (pos + 8, nbytes));
            pos = (pos + 8)
                .checked_add(nbytes)
                .ok_or_else(|| Error::data("storage size overflows"))?;
        }
        Ok(Checkpoint {
            slots: slots_of(&doc),
            doc,
            bytes,
            len,
            layout: Layout::Raw(storages),
            big_endian: little == Some(false),
            check_crc,
            tar_tensors: None,
        })
    }

    fn open_tar(bytes: Bytes<R>, len: u64, check_crc: bool, options: &LoadOptions) -> Result<Self> {
        let within =
            |what: &str, e: Error| Error::new(e.category(), format!("tar member {what}: {e}"));
        let entries = {
            let mut at = At {
                bytes: &bytes,
                len,
                pos: 0,
            };
            crate::ml::container::tar::entries(&mut at, len)?
        };
        // tarfile's getmember: the last member of a name; extractfile
        // follows links.
        let member = |name: &str| -> Result<(u64, u64)> {
            let e = entries
                .iter()
                .rev()
                .find(|e| e.name == name)
                .ok_or_else(|| {
                    Error::data(format!(
                        "torch tar checkpoint without its {name} member (torch.load raises KeyError)"
                    ))
                })?;
            let e = e.resolve(&entries).filter(|t| t.is_file()).ok_or_else(|| {
                Error::unsupported(format!("tar member {name} is a link to no regular member"))
            })?;
            Ok((e.data_offset, e.size))
        };
        let whole = |name: &str| -> Result<Vec<u8>> {
            let (at, n) = member(name)?;
            let mut v = vec![0u8; to_usize(n.min(len.saturating_sub(at)))?];
            bytes.read_exact_at(at, &mut v).map_err(Error::io)?;
            Ok(v)
        };
        // One pickle at `pos` of a member ending at `end`: its value and
        // where it ends.
        let pickle_at = |pos: u64, end: u64| -> Result<(Document, u64)> {
            let mut at = At {
                bytes: &bytes,
                len: end.min(len),
                pos,
            };
            let mut u =
                crate::Unpickler::from_reader(Trickle { inner: &mut at }, options.plain_copy());
            let doc = u.load()?;
            Ok((doc, pos + u.offset()))
        };
        let raw_at = |pos: u64, n: usize, end: u64| -> Result<Vec<u8>> {
            if pos.checked_add(n as u64).map_or(true, |e| e > end) {
                return Err(Error::data("runs past the end of the member"));
            }
            let mut b = vec![0u8; n];
            bytes.read_exact_at(pos, &mut b).map_err(Error::io)?;
            Ok(b)
        };
        let int = |v: ValueRef<'_>, what: &str| -> Result<i64> {
            v.as_i64()
                .ok_or_else(|| Error::data(format!("{what} is not an int")))
        };
        let key_of = |v: ValueRef<'_>| -> Result<String> {
            v.as_i64()
                .map(|k| k.to_string())
                .or_else(|| v.as_str().map(str::to_string))
                .ok_or_else(|| Error::data("a key that is neither an int nor a str"))
        };

        let sys_info = crate::loads_with(&whole("sys_info")?, options.plain_copy())
            .map_err(|e| within("sys_info", e))?;
        let little = sys_info
            .root()
            .get("little_endian")
            .and_then(|b| b.as_bool());

        // storages: the count; per storage (key, location, type), an int64
        // element count and the elements; then the views.
        let (start, size) = member("storages")?;
        let end = start.saturating_add(size);
        let mut roots: HashMap<String, Storage> = HashMap::new();
        let mut storages = HashMap::new();
        let mut views: HashMap<String, (String, u64)> = HashMap::new();
        (|| -> Result<()> {
            let (count, mut pos) = pickle_at(start, end)?;
            let count = int(count.root(), "the storage count")?;
            for _ in 0..count.max(0) {
                let (rec, p) = pickle_at(pos, end)?;
                let r = rec.root();
                let key = key_of(
                    r.index(0)
                        .ok_or_else(|| Error::data("storage record is not a tuple"))?,
                )?;
                let location = r
                    .index(1)
                    .and_then(|l| l.as_str())
                    .unwrap_or("")
                    .to_string();
                let (_, ty) = r
                    .index(2)
                    .and_then(|t| t.as_global())
                    .ok_or_else(|| Error::data("storage type is not a global"))?;
                let dtype = DType::from_storage(ty).ok_or_else(|| {
                    Error::unsupported(format!("storage type {ty} is not supported"))
                })?;
                let n = raw_at(p, 8, end)?;
                let numel = u64::try_from(i64::from_le_bytes(n.try_into().expect("8 bytes")))
                    .map_err(|_| Error::data("a negative storage size"))?;
                let nbytes = numel
                    .checked_mul(dtype.itemsize() as u64)
                    .filter(|&b| (p + 8).checked_add(b).is_some_and(|e| e <= end))
                    .ok_or_else(|| {
                        Error::data(format!("storage {key} runs past the end of the member"))
                    })?;
                storages.insert(key.clone(), (p + 8, nbytes));
                roots.insert(
                    key.clone(),
                    Storage {
                        key,
                        dtype,
                        location,
                        numel,
                    },
                );
                pos = p + 8 + nbytes;
            }
            let (v, _) = pickle_at(pos, end)?;
            for view in v.root().iter() {
                let target = key_of(
                    view.index(0)
                        .ok_or_else(|| Error::data("bad storage view"))?,
                )?;
                let root = key_of(
                    view.index(1)
                        .ok_or_else(|| Error::data("bad storage view"))?,
                )?;
                let offset = u64::try_from(int(
                    view.index(2)
                        .ok_or_else(|| Error::data("bad storage view"))?,
                    "a view offset",
                )?)
                .map_err(|_| Error::data("a negative view offset"))?;
                views.insert(target, (root, offset));
            }
            Ok(())
        })()
        .map_err(|e| within("storages", e))?;

        // tensors: the count; per tensor (key, storage key, type), then its
        // metadata as raw little-endian ints.
        let (start, size) = member("tensors")?;
        let end = start.saturating_add(size);
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        (|| -> Result<()> {
            let (count, mut pos) = pickle_at(start, end)?;
            let count = int(count.root(), "the tensor count")?;
            for _ in 0..count.max(0) {
                let (rec, p) = pickle_at(pos, end)?;
                let r = rec.root();
                let key = key_of(
                    r.index(0)
                        .ok_or_else(|| Error::data("tensor record is not a tuple"))?,
                )?;
                let skey = key_of(
                    r.index(1)
                        .ok_or_else(|| Error::data("tensor record is not a tuple"))?,
                )?;
                let (root, view_offset) = match views.get(&skey) {
                    Some((root, off)) => (root.clone(), *off),
                    None => (skey.clone(), 0),
                };
                let storage = roots
                    .get(&root)
                    .ok_or_else(|| Error::data(format!("tensor {key}: no storage {skey}")))?
                    .clone();
                let head = raw_at(p, 8, end)?;
                let ndim =
                    usize::try_from(i32::from_le_bytes(head[..4].try_into().expect("4 bytes")))
                        .map_err(|_| Error::data("a negative ndim"))?;
                let meta = raw_at(
                    p + 8,
                    ndim.checked_mul(16)
                        .and_then(|n| n.checked_add(8))
                        .ok_or_else(|| Error::data("ndim overflows"))?,
                    end,
                )?;
                let dims: Vec<usize> = meta
                    .chunks_exact(8)
                    .map(|c| usize::try_from(i64::from_le_bytes(c.try_into().expect("8 bytes"))))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| {
                        Error::data(format!("tensor {key}: a negative size, stride or offset"))
                    })?;
                let offset = usize::try_from(view_offset)
                    .ok()
                    .and_then(|v| v.checked_add(dims[2 * ndim]))
                    .ok_or_else(|| Error::data("storage offset overflows"))?;
                pos = p + 8 + meta.len() as u64;
                tensors.insert(
                    key,
                    Tensor {
                        storage,
                        storage_offset: offset,
                        shape: dims[..ndim].to_vec(),
                        stride: dims[ndim..2 * ndim].to_vec(),
                        requires_grad: false,
                        parameter: false,
                        quantization: None,
                    },
                );
            }
            Ok(())
        })()
        .map_err(|e| within("tensors", e))?;

        let doc = crate::loads_with(&whole("pickle")?, options.plain_copy())
            .map_err(|e| within("pickle", e))?;
        let mut refs: HashMap<&str, usize> = HashMap::new();
        for t in tensors.values() {
            *refs.entry(t.storage.key.as_str()).or_default() += 1;
        }
        let slots = roots
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    Slot::new(refs.get(k.as_str()).is_some_and(|&n| n > 1)),
                )
            })
            .collect();
        Ok(Checkpoint {
            slots,
            doc,
            bytes,
            len,
            layout: Layout::Raw(storages),
            big_endian: little == Some(false),
            check_crc,
            tar_tensors: Some(tensors),
        })
    }

    /// The object graph (`torch.load`'s result, with tensors as rebuild recipes).
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// True if the storages were written big-endian.
    pub fn is_big_endian(&self) -> bool {
        self.big_endian
    }

    /// Every tensor with its path, without reading any storage.
    pub fn tensors(&self) -> Vec<(String, Result<Tensor>)> {
        let Some(tar) = &self.tar_tensors else {
            return find_tensors(self.doc.root());
        };
        // The tar format's object pickle names each tensor by a persistent
        // id, its key in the tensors member.
        let mut out = Vec::new();
        crate::ml::arrays::walk(self.doc.root(), |path, v| {
            let crate::Kind::PersistentId(p) = v.kind() else {
                return true;
            };
            let id = v.at(p);
            let key = id
                .as_str()
                .map(str::to_string)
                .or_else(|| id.as_i64().map(|i| i.to_string()));
            if let Some(t) = key.and_then(|k| tar.get(&k)) {
                out.push((path.to_string(), Ok(t.clone())));
            }
            false
        });
        out
    }

    /// Whether each zip record's CRC-32 is checked as it is read: on for
    /// [`Checkpoint::open`] and [`Checkpoint::from_reader`], off for
    /// `Checkpoint::mmap` (where, once on, each storage is checked at its
    /// first read only).
    pub fn with_crc_check(mut self, on: bool) -> Self {
        self.check_crc = on;
        self
    }

    /// Compare every storage's CRC-32 (and `data.pkl`'s) with the zip
    /// central directory's, reading each once; an error names the first
    /// member that differs. A legacy or tar checkpoint has no checksums
    /// (`Ok`).
    pub fn verify(&self) -> Result<()> {
        let Layout::Zip(zip) = &self.layout else {
            return Ok(());
        };
        let mut keys: Vec<&String> = self.slots.keys().collect();
        keys.sort();
        let mut names: Vec<(Option<&Slot>, String)> = vec![(None, "data.pkl".to_string())];
        names.extend(
            keys.into_iter()
                .map(|k| (self.slots.get(k), format!("data/{k}"))),
        );
        for (slot, name) in names {
            let Some(i) = zip.member(&name)? else {
                return Err(Error::data(format!(
                    "zip archive without {}{name}",
                    zip.prefix
                )));
            };
            let rec = zip.record(&self.bytes, self.len, i)?;
            if slot.is_some_and(|s| s.checked.load(Ordering::Acquire)) {
                continue;
            }
            if let Some(b) = rec
                .is_raw()
                .then(|| self.bytes.mapped(rec.start, rec.size))
                .flatten()
            {
                rec.check(zip::Crc32::of(b))?;
            } else {
                let mut crc = zip::Crc32::default();
                stream_record(&self.bytes, &rec, 0..rec.size, |_, c| crc.update(c))?;
                rec.check(crc.value())?;
            }
            if let Some(s) = slot {
                s.checked.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Drop the storages kept for the tensors that share them.
    pub fn clear_cache(&mut self) {
        for slot in self.slots.values_mut() {
            slot.cache.take();
        }
    }

    /// Where storage `key`'s bytes lie.
    fn record_of(&self, key: &str) -> Result<Record<'_>> {
        match &self.layout {
            Layout::Zip(zip) => {
                let name = format!("data/{key}");
                let i = zip.member(&name)?.ok_or_else(|| {
                    Error::data(format!("zip archive without {}{name}", zip.prefix))
                })?;
                zip.record(&self.bytes, self.len, i)
            }
            Layout::Raw(storages) => {
                let &(start, n) = storages
                    .get(key)
                    .ok_or_else(|| Error::data(format!("no storage {key}")))?;
                Ok(Record {
                    start,
                    // What the file holds of it.
                    size: n.min(self.len.saturating_sub(start)),
                    member: None,
                })
            }
        }
    }

    /// The record of `storage`, which must hold its `numel` elements; and
    /// their bytes.
    fn sized_record(&self, storage: &Storage) -> Result<(Record<'_>, u64)> {
        let want = storage
            .numel
            .checked_mul(storage.dtype.itemsize() as u64)
            .ok_or_else(|| Error::data("storage size overflows"))?;
        let rec = self.record_of(&storage.key)?;
        if rec.size < want {
            return Err(Error::data(format!(
                "storage {} holds {} bytes, {} elements of {} need {want}",
                storage.key,
                rec.size,
                storage.numel,
                storage.dtype.name()
            )));
        }
        Ok((rec, want))
    }

    /// True if `storage` is neither mapped nor kept: reading it copies
    /// from the file into the caller's buffer.
    fn is_streamed(&self, storage: &Storage) -> bool {
        !self.bytes.is_mapped() && !self.slots.get(&storage.key).is_some_and(|s| s.shared)
    }

    /// The bytes `want` of `storage` (or more of them).
    fn load(&self, storage: &Storage, want: std::ops::Range<u64>) -> Result<Loaded<'_>> {
        let (rec, nbytes) = self.sized_record(storage)?;
        let n = to_usize(nbytes)?;
        let slot = self.slots.get(&storage.key);
        if let Some(b) = rec
            .is_raw()
            .then(|| self.bytes.mapped(rec.start, rec.size))
            .flatten()
        {
            if self.check_crc && !slot.is_some_and(|s| s.checked.load(Ordering::Acquire)) {
                rec.check(zip::Crc32::of(b))?;
                if let Some(s) = slot {
                    s.checked.store(true, Ordering::Release);
                }
            }
            return Ok(Loaded {
                data: Cow::Borrowed(&b[..n]),
                base: 0,
            });
        }
        if let Some(slot) = slot.filter(|s| s.shared) {
            let data = match slot.cache.get() {
                Some(d) => d,
                None => {
                    let _only_one = slot.fill.lock().unwrap_or_else(|p| p.into_inner());
                    match slot.cache.get() {
                        Some(d) => d,
                        None => {
                            let v = read_record(&self.bytes, &rec, rec.size, self.check_crc)?;
                            slot.cache.get_or_init(|| v)
                        }
                    }
                }
            };
            return Ok(Loaded {
                data: Cow::Borrowed(&data[..n]),
                base: 0,
            });
        }
        if rec.is_raw() && !(self.check_crc && rec.member.is_some()) {
            // Only the bytes asked for.
            let (a, b) = (want.start.min(nbytes), want.end.min(nbytes));
            let mut buf = vec![0u8; to_usize(b - a)?];
            self.bytes
                .read_exact_at(rec.start + a, &mut buf)
                .map_err(Error::io)?;
            return Ok(Loaded {
                data: Cow::Owned(buf),
                base: to_usize(a)?,
            });
        }
        let size = if self.check_crc { rec.size } else { nbytes };
        let mut v = read_record(&self.bytes, &rec, size, self.check_crc)?;
        v.truncate(n);
        Ok(Loaded {
            data: Cow::Owned(v),
            base: 0,
        })
    }

    /// The raw bytes of a whole storage, as stored (see
    /// [`Checkpoint::is_big_endian`]): borrowed from the memory map or from
    /// the storages kept for sharing tensors, else read.
    pub fn storage_bytes(&self, storage: &Storage) -> Result<Cow<'_, [u8]>> {
        let (_, nbytes) = self.sized_record(storage)?;
        Ok(self.load(storage, 0..nbytes)?.data)
    }

    /// A tensor's elements in C order, little-endian. Borrowed where the
    /// stored bytes are that already (a contiguous tensor of a little-endian
    /// checkpoint, stored, in a memory map or a storage kept for the
    /// tensors that share it); else read into a buffer of its own: a
    /// contiguous tensor's bytes alone (its whole storage when the CRC-32 is
    /// checked), a strided one's gathered in C order, whole runs at a time.
    pub fn tensor_data(&self, t: &Tensor) -> Result<Cow<'_, [u8]>> {
        let Some(want) = t.byte_span()? else {
            return Ok(Cow::Borrowed(&[]));
        };
        let size = t.dtype().itemsize();
        let loaded = self.load(&t.storage, want)?;
        let offset = t.storage_offset - loaded.base / size;
        let unit = self.swap_unit(t);
        if !t.is_contiguous() {
            let mut v =
                crate::ml::numpy::gather_c_order(&loaded.data, &t.shape, &t.stride, offset, size)?;
            crate::ml::numpy::swap_units(&mut v, unit);
            return Ok(Cow::Owned(v));
        }
        let (a, n) = (offset * size, t.nbytes());
        let mut v = match loaded.data {
            Cow::Borrowed(b) if unit == 1 => return Ok(Cow::Borrowed(&b[a..a + n])),
            Cow::Borrowed(b) => b[a..a + n].to_vec(),
            Cow::Owned(mut v) => {
                if a > 0 {
                    v.copy_within(a..a + n, 0);
                }
                v.truncate(n);
                v
            }
        };
        crate::ml::numpy::swap_units(&mut v, unit);
        Ok(Cow::Owned(v))
    }

    /// The unit whose bytes swap when `t`'s stored elements are read
    /// little-endian: 1 (nothing to swap) in a little-endian checkpoint.
    pub(super) fn swap_unit(&self, t: &Tensor) -> usize {
        if self.big_endian {
            t.dtype().swap_unit()
        } else {
            1
        }
    }

    /// [`Checkpoint::tensor_data`] as a vector of its own.
    pub fn tensor_bytes(&self, t: &Tensor) -> Result<Vec<u8>> {
        self.tensor_data(t).map(Cow::into_owned)
    }

    /// A tensor's elements in C order as `T` (`f32` for float32, `[f64; 2]` for
    /// complex128, `u16` bits for float16/bfloat16, ...), decoded straight
    /// into the result: a contiguous tensor's storage is read a megabyte at
    /// a time into a buffer that is reused (no copy of the whole storage),
    /// a mapped or kept one decoded where it is.
    pub fn read<T: crate::ml::numpy::Element>(&self, t: &Tensor) -> Result<Vec<T>> {
        // Types numpy lacks are read as their bits.
        let np = match t.dtype() {
            DType::BFloat16 | DType::Float16 | DType::Bits16 => {
                crate::ml::numpy::DType::parse("<u2")?
            }
            DType::Float8E4M3Fn
            | DType::Float8E5M2
            | DType::Float8E4M3FnUz
            | DType::Float8E5M2FnUz
            | DType::Float8E8M0Fnu
            | DType::Float4E2M1FnX2
            | DType::Bits8
            | DType::Bits1x8
            | DType::Bits2x4
            | DType::Bits4x2
            | DType::QUInt4x2
            | DType::QUInt2x4 => crate::ml::numpy::DType::parse("|u1")?,
            d => d.numpy().ok_or_else(|| {
                Error::unsupported(format!(
                    "a {} tensor is read with tensor_bytes (its bits, C order)",
                    d.name()
                ))
            })?,
        };
        if !T::matches(&np) || T::SIZE != t.dtype().itemsize() {
            return Err(Error::data(format!(
                "a {} tensor cannot be read as {}",
                t.dtype().name(),
                std::any::type_name::<T>()
            )));
        }
        let Some(want) = t.byte_span()? else {
            return Ok(Vec::new());
        };
        let (size, big) = (T::SIZE, self.big_endian);
        if t.is_contiguous() && self.is_streamed(&t.storage) {
            let (rec, _) = self.sized_record(&t.storage)?;
            // The whole record when its CRC-32 is checked, else the tensor's bytes.
            let check = self.check_crc && rec.member.is_some();
            let range = if check { 0..rec.size } else { want.clone() };
            let numel = t.numel();
            let mut out: Vec<T> = Vec::new();
            let mut crc = zip::Crc32::default();
            stream_record(&self.bytes, &rec, range, |pos, chunk| {
                if check {
                    crc.update(chunk);
                }
                // The chunk's part inside the tensor: whole elements, as
                // chunks start at multiples of the item size.
                let a = want.start.max(pos);
                let b = want.end.min(pos + chunk.len() as u64);
                if a < b {
                    if out.capacity() == 0 {
                        out.reserve_exact(numel);
                    }
                    let part = &chunk[(a - pos) as usize..(b - pos) as usize];
                    T::extend_from_bytes(&mut out, part, big);
                }
            })?;
            if check {
                rec.check(crc.value())?;
            }
            return Ok(out);
        }
        let loaded = self.load(&t.storage, want)?;
        let offset = t.storage_offset - loaded.base / size;
        crate::ml::numpy::gather_elements::<T>(&loaded.data, &t.shape, &t.stride, offset, big)
    }

    /// Any real tensor (bfloat16 and float16 included) as f64, C order; a
    /// quantized one dequantized, `(q - zero_point) * scale`, as
    /// `Tensor.dequantize()` computes it.
    pub fn read_f64(&self, t: &Tensor) -> Result<Vec<f64>> {
        if let Some(q) = &t.quantization {
            if matches!(t.dtype(), DType::QUInt4x2 | DType::QUInt2x4) {
                return Err(Error::unsupported(format!(
                    "dequantizing a packed {} tensor",
                    t.dtype().name()
                )));
            }
            let mut raw = t.clone();
            raw.quantization = None;
            let q_values = self.read_f64(&raw)?;
            return match q {
                Quantization::PerTensorAffine { scale, zero_point } => Ok(q_values
                    .into_iter()
                    .map(|v| (v - *zero_point as f64) * scale)
                    .collect()),
                Quantization::PerChannelAffine {
                    scales,
                    zero_points,
                    axis,
                    ..
                } => {
                    let scales = self.read_f64(scales)?;
                    let zero_points = self.read_f64(zero_points)?;
                    let channels = t.shape[*axis];
                    if scales.len() != channels || zero_points.len() != channels {
                        return Err(Error::data(
                            "quantized tensor with a scale or zero point count unlike its channels",
                        ));
                    }
                    // In C order, an element's channel is its index divided
                    // by the inner dimensions' size, modulo the channels.
                    let inner: usize = t.shape[*axis + 1..].iter().product();
                    Ok(q_values
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let c = (i / inner.max(1)) % channels;
                            (v - zero_points[c]) * scales[c]
                        })
                        .collect())
                }
            };
        }
        match t.dtype() {
            DType::BFloat16 => {
                let bits = self.read::<u16>(t)?;
                return Ok(bits
                    .into_iter()
                    .map(|b| f32::from_bits((b as u32) << 16) as f64)
                    .collect());
            }
            DType::Float32 => return Ok(self.read::<f32>(t)?.into_iter().map(f64::from).collect()),
            DType::Float64 => return self.read::<f64>(t),
            _ => {}
        }
        let np = t
            .dtype()
            .numpy()
            .ok_or_else(|| Error::data("no numpy layout"))?;
        let data = self.tensor_bytes(t)?;
        let arr = crate::ml::numpy::NdArray::from_bytes(
            np,
            t.shape.clone(),
            crate::ml::numpy::Order::C,
            data,
        )?;
        arr.to_f64_vec()
    }
}

/// `size` bytes of a record from its start (all of them, `rec.size`, when
/// `check` asks for its CRC-32 to be compared), read with one positional
/// read when stored, inflated when deflated.
fn read_record<R: Read + Seek>(
    bytes: &Bytes<R>,
    rec: &Record<'_>,
    size: u64,
    check: bool,
) -> Result<Vec<u8>> {
    let v = match rec.member.filter(|m| m.method != 0) {
        None if check && size == rec.size => {
            // Read a megabyte at a time into the result and check each
            // piece while it is still in cache: one pass over memory, not
            // two.
            let mut v = vec![0u8; to_usize(size)?];
            let mut crc = zip::Crc32::default();
            let mut at = rec.start;
            for piece in v.chunks_mut(CHUNK) {
                bytes.read_exact_at(at, piece).map_err(Error::io)?;
                crc.update(piece);
                at += piece.len() as u64;
            }
            rec.check(crc.value())?;
            return Ok(v);
        }
        None => {
            let mut v = vec![0u8; to_usize(size)?];
            bytes.read_exact_at(rec.start, &mut v).map_err(Error::io)?;
            v
        }
        Some(m) => {
            let loc = zip::Located {
                data_start: rec.start,
                local_name: Vec::new(),
            };
            let mut at = At {
                bytes,
                len: rec.start.saturating_add(m.compressed_size),
                pos: 0,
            };
            zip::with_data(&mut at, m, &loc, |r| {
                // The directory's size is not trusted for an allocation.
                let mut v = Vec::with_capacity(to_usize(size.min(1 << 26))?);
                r.take(size).read_to_end(&mut v).map_err(Error::io)?;
                Ok(v)
            })
            .map_err(|e| Error::new(e.category(), format!("zip member {}: {e}", m.name)))?
        }
    };
    if check && size == rec.size {
        rec.check(zip::Crc32::of(&v))?;
    }
    Ok(v)
}

/// Read bytes `range` of a record in chunks of [`CHUNK`] (the last one
/// shorter), calling `f(offset, chunk)` for each, in order; chunks start at
/// `range.start` plus multiples of [`CHUNK`] (a deflated record is inflated
/// from its start, and what comes before `range` is passed over).
fn stream_record<R: Read + Seek>(
    bytes: &Bytes<R>,
    rec: &Record<'_>,
    range: std::ops::Range<u64>,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<()> {
    if range.start >= range.end {
        return Ok(());
    }
    let chunk = CHUNK as u64;
    match rec.member.filter(|m| m.method != 0) {
        None => {
            let mut buf = vec![0u8; to_usize((range.end - range.start).min(chunk))?];
            let mut pos = range.start;
            while pos < range.end {
                let n = (range.end - pos).min(chunk) as usize;
                bytes
                    .read_exact_at(rec.start + pos, &mut buf[..n])
                    .map_err(Error::io)?;
                f(pos, &buf[..n]);
                pos += n as u64;
            }
            Ok(())
        }
        Some(m) => {
            let mut buf = vec![0u8; CHUNK.min(to_usize(range.end)?)];
            let loc = zip::Located {
                data_start: rec.start,
                local_name: Vec::new(),
            };
            let mut at = At {
                bytes,
                len: rec.start.saturating_add(m.compressed_size),
                pos: 0,
            };
            zip::with_data(&mut at, m, &loc, |r| {
                let mut pos = 0u64;
                while pos < range.end {
                    // Chunks from the start, so that each that reaches into
                    // `range` starts at an element boundary.
                    let n = (range.end - pos).min(chunk) as usize;
                    r.read_exact(&mut buf[..n]).map_err(Error::io)?;
                    let skip = range.start.saturating_sub(pos).min(n as u64) as usize;
                    if skip < n {
                        f(pos + skip as u64, &buf[skip..n]);
                    }
                    pos += n as u64;
                }
                Ok(())
            })
            .map_err(|e| Error::new(e.category(), format!("zip member {}: {e}", m.name)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::container::zip::testing::{z, zd, zip_bytes, Z};
    use std::io::Cursor;

    fn fixture() -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::read(dir.join("tests/fixtures/torch/checkpoint_zip.pt")).unwrap()
    }

    /// Every member of an archive: its name and extracted bytes.
    fn members_of(data: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut c = Cursor::new(data);
        let len = data.len() as u64;
        let end = zip::end_record(&mut c, len).unwrap();
        let members = zip::directory(&mut c, len, &end, 0).unwrap();
        members
            .iter()
            .map(|m| {
                let loc = zip::locate(&mut c, len, m).unwrap();
                let data = zip::with_data(&mut c, m, &loc, |r| {
                    let mut b = Vec::new();
                    r.read_to_end(&mut b)?;
                    Ok(b)
                })
                .unwrap();
                (m.name.clone(), data)
            })
            .collect()
    }

    /// The fixture's members rewritten by `each` (name, bytes).
    fn rewritten(each: impl Fn(&'static str, &[u8]) -> Z<'static>) -> Vec<u8> {
        let members: Vec<Z<'static>> = members_of(&fixture())
            .into_iter()
            .map(|(name, data)| each(Box::leak(name.into_boxed_str()), &data))
            .collect();
        zip_bytes(&members, false)
    }

    /// Every tensor of a checkpoint with its elements.
    fn contents(data: Vec<u8>) -> Result<Vec<(String, Tensor, Vec<u8>)>> {
        let ck = Checkpoint::from_reader(Cursor::new(data))?;
        let mut out = Vec::new();
        for (path, t) in ck.tensors() {
            let t = t?;
            let bytes = ck.tensor_bytes(&t)?;
            out.push((path, t, bytes));
        }
        Ok(out)
    }

    /// Every real tensor of a checkpoint as f64 (typed reads), with its
    /// path; checked and unchecked reads agree.
    fn typed(data: Vec<u8>) -> Vec<(String, Vec<f64>)> {
        let ck = Checkpoint::from_reader(Cursor::new(data)).unwrap();
        let unchecked = Checkpoint::from_reader(Cursor::new(ck_bytes(&ck)))
            .unwrap()
            .with_crc_check(false);
        let mut out = Vec::new();
        for (path, t) in ck.tensors() {
            let t = t.unwrap();
            if let Ok(v) = ck.read_f64(&t) {
                assert_eq!(unchecked.read_f64(&t).unwrap(), v, "{path}");
                out.push((path, v));
            }
        }
        assert!(out.len() > 10);
        out
    }

    /// The bytes a checkpoint was read from (a `Cursor` of them).
    fn ck_bytes(ck: &Checkpoint<Cursor<Vec<u8>>>) -> Vec<u8> {
        match &ck.bytes {
            Bytes::Reader { inner, .. } => inner.lock().unwrap().get_ref().clone(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn typed_reads_of_views_and_slices_agree_with_their_bytes() {
        // Stored: every typed read (streamed, kept, gathered) gives the
        // values of the tensor's bytes.
        let ck = Checkpoint::from_reader(Cursor::new(fixture())).unwrap();
        for (path, t) in ck.tensors() {
            let t = t.unwrap();
            if t.dtype() != DType::Float64 {
                continue;
            }
            let bytes = ck.tensor_data(&t).unwrap();
            let want: Vec<f64> = bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(ck.read::<f64>(&t).unwrap(), want, "{path}");
        }
        typed(fixture());
    }

    #[test]
    fn stored_records_read_through_the_crates_zip_reader() {
        let want = contents(fixture()).unwrap();
        assert!(want.len() > 3);
        // The same members written again, stored: the same checkpoint.
        assert_eq!(contents(rewritten(z)).unwrap(), want);
        // miniz compares names in ASCII case-insensitively.
        let upper = rewritten(|name, data| z(Box::leak(name.to_uppercase().into()), data));
        assert_eq!(contents(upper.clone()).unwrap(), want);
        let pkl = pickle_part(&upper).unwrap().unwrap();
        assert_eq!(Some(pkl), pickle_part(&fixture()).unwrap());
        // Offsets count from where the reader is, as in torch.load(f).
        let mut prepended = b"not the checkpoint".to_vec();
        prepended.extend(fixture());
        let mut r = Cursor::new(prepended);
        r.set_position(18);
        let ck = Checkpoint::from_reader(r).unwrap();
        let t = ck.tensors().into_iter().next().unwrap().1.unwrap();
        assert_eq!(ck.tensor_bytes(&t).unwrap(), want[0].2);
    }

    #[test]
    fn deflated_records_need_the_decompression_feature() {
        let deflated = rewritten(zd);
        if cfg!(feature = "joblib-compress") {
            assert_eq!(
                contents(deflated.clone()).unwrap(),
                contents(fixture()).unwrap()
            );
            assert_eq!(
                pickle_part(&deflated).unwrap(),
                pickle_part(&fixture()).unwrap()
            );
            // Typed reads inflate as they decode, checking the CRC-32.
            assert_eq!(typed(deflated.clone()), typed(fixture()));
            let bad_crc = rewritten(|name, data| {
                let mut m = zd(name, data);
                if name.contains("/data/") {
                    m.crc ^= 1;
                }
                m
            });
            let ck = Checkpoint::from_reader(Cursor::new(bad_crc)).unwrap();
            for (_, t) in ck.tensors() {
                let t = t.unwrap();
                if t.numel() == 0 {
                    continue;
                }
                for e in [
                    ck.tensor_data(&t).unwrap_err(),
                    ck.read_f64(&t).unwrap_err(),
                ] {
                    let e = e.to_string();
                    assert!(
                        e.contains("checkpoint_zip/data/") && e.contains("bad CRC-32"),
                        "{e}"
                    );
                }
            }
            // Inflating to another size than the directory's: an error.
            let short = rewritten(|name, data| {
                let mut m = zd(name, data);
                if name.ends_with("data.pkl") {
                    m.size += 1;
                }
                m
            });
            let e = contents(short).unwrap_err().to_string();
            assert!(
                e.contains("data.pkl") && e.contains("decompresses to"),
                "{e}"
            );
        } else {
            let e = contents(deflated).unwrap_err().to_string();
            assert!(
                e.contains("checkpoint_zip/data.pkl") && e.contains("joblib-compress"),
                "{e}"
            );
        }
    }

    #[test]
    fn archives_torch_would_not_read_are_errors() {
        let err = |data: Vec<u8>| contents(data).unwrap_err().to_string();
        // Two members torch cannot tell apart.
        let mut members: Vec<Z<'static>> = members_of(&fixture())
            .into_iter()
            .map(|(name, data)| z(Box::leak(name.into_boxed_str()), &data))
            .collect();
        let pkl = members.iter().position(|m| m.name.ends_with("data.pkl"));
        let copy = &members[pkl.unwrap()];
        let dup = z(
            Box::leak(copy.name.to_uppercase().into()),
            &copy.data.clone(),
        );
        members.push(dup);
        let e = err(zip_bytes(&members, false));
        assert!(e.contains("2 members") && e.contains("miniz"), "{e}");
        // A method miniz does not extract.
        let bz = rewritten(|name, data| Z {
            method: if name.ends_with("data.pkl") { 12 } else { 0 },
            ..z(name, data)
        });
        let e = err(bz);
        assert!(e.contains("bzip2") && e.contains("miniz"), "{e}");
        // A stored record whose sizes differ.
        let odd = rewritten(|name, data| Z {
            size: data.len() as u64 + u64::from(name.ends_with("byteorder")),
            ..z(name, data)
        });
        let e = err(odd);
        assert!(e.contains("byteorder") && e.contains("sizes differ"), "{e}");
        // No folder around the records.
        let flat = rewritten(|name, data| z(name.split_once('/').unwrap().1, data));
        let e = err(flat);
        assert!(e.contains("in no folder"), "{e}");
        // A missing storage record: an error when it is read.
        let no_storage = rewritten(|name, data| {
            let name = if name.contains("/data/") {
                "checkpoint_zip/other"
            } else {
                name
            };
            z(name, data)
        });
        let ck = Checkpoint::from_reader(Cursor::new(no_storage)).unwrap();
        let t = ck.tensors().into_iter().next().unwrap().1.unwrap();
        let e = ck.tensor_bytes(&t).unwrap_err().to_string();
        assert!(e.contains("without checkpoint_zip/data/"), "{e}");
    }
}
