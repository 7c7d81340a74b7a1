//! PyTorch checkpoints (`torch.save`), read like `torch.load(weights_only=True)`
//! without PyTorch: the object pickle is loaded as an inert [`Document`], and
//! only an allow-list of tensor rebuild functions is given meaning.
//!
//! [`Checkpoint::open`] reads the object pickle and nothing else: storages are
//! read when asked for ([`Checkpoint::tensor_bytes`], [`Checkpoint::read`]),
//! so listing the tensors of a 10 GB checkpoint reads a few kilobytes.
//!
//! A zip checkpoint is read as torch reads it (miniz), by the crate's own
//! zip reader, which the scanner reads archives with too: records are
//! `<archive>/<name>`, `<archive>` being the first member's folder, and names
//! compare in ASCII case-insensitively (two members with the same name are
//! an error: which one torch reads depends on miniz's sort); offsets count
//! from where the reader was when handed over; records are stored (what
//! `torch.save` writes) or deflated (read with the `joblib-compress` feature,
//! an error that names it without). CRC-32s are not checked, as torch builds
//! miniz without the check.
//!
//! # Formats
//!
//! | format | layout | supported |
//! |---|---|---|
//! | zip (torch ≥ 1.6 default) | `<archive>/data.pkl` (the object pickle, protocol 2), `<archive>/data/<key>` (raw storages), `<archive>/byteorder` (`little`/`big`, missing = little), `<archive>/version`, `.format_version` | yes |
//! | legacy (`_use_new_zipfile_serialization=False`) | pickles of: magic number `0x1950a86a20f9469cfc6c`, protocol version 1001, sys info; the object pickle; the sorted storage keys; then per key an 8-byte little-endian element count and the raw storage | yes |
//! | tar (torch < 0.4), TorchScript archives (`constants.pkl`, code) | | no |
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
//! | `UntypedStorage` + `_rebuild_tensor_v3`'s dtype | complex32, uint16, uint32, uint64, float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, and any of the above |
//!
//! Not supported yet: sparse and nested tensors, meta / mmap-only loading
//! options. Checkpoints are written by [`save`] (see [`Saver`]).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, Result};
use crate::ml::container::zip;
use crate::value::{Document, Node, ValueRef};
use crate::LoadOptions;

pub use crate::ml::torch_facts::DType;

mod save;
pub use save::{save, save_to, SaveTensor, SaveValue, Saver, StateDict};

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

    /// Check the view stays inside its storage.
    fn check_bounds(&self) -> Result<()> {
        if self.numel() == 0 {
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

/// True if the bytes start a zip archive or a legacy torch file (its magic
/// number pickled at any protocol; 64 bytes of head suffice).
pub fn is_checkpoint(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || crate::ml::torch_facts::starts_legacy(head)
}

/// The pickle part of a checkpoint's bytes, for tools that show pickles
/// (`pickle dis`, `pickle json`): a zip archive's `data.pkl`, or the five
/// pickles at the head of a legacy file (magic number, protocol, system
/// info, the object, the storage keys), without the raw storages after them.
/// `None` if the bytes are not a checkpoint.
pub fn pickle_part(data: &[u8]) -> Result<Option<Vec<u8>>> {
    if data.starts_with(b"PK\x03\x04") {
        let mut archive = Archive::open(std::io::Cursor::new(data))?;
        let pkl = archive.record("data.pkl")?;
        let pkl = pkl.ok_or_else(|| Error::data("zip archive without a data.pkl"))?;
        return Ok(Some(pkl));
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

/// A reader seen from `start` on, as torch's `BufferAdapter` sees a file
/// object: zip offsets count from where it was when `torch.load` got it.
struct Shifted<R> {
    inner: R,
    start: u64,
}

impl<R: Read> Read for Shifted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Shifted<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let pos = match pos {
            SeekFrom::Start(n) => SeekFrom::Start(self.start.checked_add(n).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek past u64::MAX")
            })?),
            other => other,
        };
        let at = self.inner.seek(pos)?;
        at.checked_sub(self.start).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the checkpoint's start",
            )
        })
    }
}

/// A zip checkpoint as torch reads it (miniz, `PyTorchStreamReader`): the
/// central directory, and records looked up by name under the archive name.
struct Archive<R> {
    reader: Shifted<R>,
    len: u64,
    members: Vec<zip::Member>,
    /// The archive name and a `/`: `archive/` for `archive/data.pkl`.
    prefix: String,
}

impl<R: Read + Seek> Archive<R> {
    /// Read the directory of the archive that starts where `reader` is
    /// (offsets as miniz reads them: not moved by `zipfile`'s `concat`).
    fn open(reader: R) -> Result<Self> {
        let mut reader = Shifted {
            inner: reader,
            start: 0,
        };
        reader.start = reader.inner.stream_position().map_err(Error::io)?;
        let len = reader.seek(SeekFrom::End(0)).map_err(Error::io)?;
        let end = zip::end_record(&mut reader, len)?;
        let members = zip::directory(&mut reader, len, &end, 0)?;
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
        Ok(Archive {
            reader,
            len,
            members,
            prefix,
        })
    }

    /// The member torch reads for record `name` (`data.pkl`, `data/0`):
    /// `<archive>/<name>` in any ASCII case; `None` if there is none.
    fn member(&self, name: &str) -> Result<Option<&zip::Member>> {
        let full = format!("{}{name}", self.prefix);
        match zip::find(&self.members, &full)[..] {
            [] => Ok(None),
            [m] => Ok(Some(m)),
            ref all => Err(Error::data(format!(
                "zip: {} members are named {full} (ASCII case aside); which one torch reads depends on miniz's sort",
                all.len()
            ))),
        }
    }

    /// Call `body` with a reader of record `name`'s data (`None`: no such record).
    fn with_record<T>(
        &mut self,
        name: &str,
        body: impl FnOnce(&mut dyn Read) -> Result<T>,
    ) -> Result<Option<T>> {
        let Some(m) = self.member(name)?.cloned() else {
            return Ok(None);
        };
        let within = |e: Error| Error::new(e.category(), format!("zip member {}: {e}", m.name));
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
        let loc = zip::locate(&mut self.reader, self.len, &m)?;
        zip::with_data(&mut self.reader, &m, &loc, body)
            .map(Some)
            .map_err(within)
    }

    /// Record `name`'s bytes, all of them.
    fn record(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        self.with_record(name, |r| {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf).map_err(Error::io)?;
            Ok(buf)
        })
    }
}

enum Source<R> {
    Zip(Box<Archive<R>>),
    Legacy {
        reader: R,
        /// key → (absolute offset of the data, bytes).
        storages: HashMap<String, (u64, u64)>,
    },
}

/// An opened checkpoint: its object graph, and storages read on demand.
pub struct Checkpoint<R> {
    doc: Document,
    source: Source<R>,
    big_endian: bool,
}

impl Checkpoint<std::io::BufReader<std::fs::File>> {
    /// Open a checkpoint file (reads the object pickle only).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(Error::io)?;
        Checkpoint::from_reader(std::io::BufReader::new(f))
    }
}

impl<R: Read + Seek> Checkpoint<R> {
    /// Open a checkpoint from a seekable reader positioned at its start.
    pub fn from_reader(mut reader: R) -> Result<Self> {
        let start = reader.stream_position().map_err(Error::io)?;
        let mut head = [0u8; 4];
        reader.read_exact(&mut head).map_err(Error::io)?;
        reader.seek(SeekFrom::Start(start)).map_err(Error::io)?;
        if &head == b"PK\x03\x04" {
            Self::open_zip(reader)
        } else {
            Self::open_legacy(reader, start)
        }
    }

    fn open_zip(reader: R) -> Result<Self> {
        let mut archive = Archive::open(reader)?;
        let data = archive
            .record("data.pkl")?
            .ok_or_else(|| Error::data("zip archive without a data.pkl"))?;
        let big_endian = archive
            .record("byteorder")?
            .is_some_and(|b| b.starts_with(b"big"));
        let doc = crate::loads_with(&data, LoadOptions::default())?;
        Ok(Checkpoint {
            doc,
            source: Source::Zip(Box::new(archive)),
            big_endian,
        })
    }

    fn open_legacy(mut reader: R, start: u64) -> Result<Self> {
        // The pickles are read through one unpickler; its offset then tells
        // where the raw storages start. Small reads keep it from buffering
        // (reading) far into the storages.
        let mut u =
            crate::Unpickler::from_reader(Trickle { inner: &mut reader }, LoadOptions::default());
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
        let mut pos = start + u.offset();
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
            reader.seek(SeekFrom::Start(pos)).map_err(Error::io)?;
            let mut n = [0u8; 8];
            reader.read_exact(&mut n).map_err(Error::io)?;
            let count = u64::from_le_bytes(n);
            let size = *itemsize
                .get(&key)
                .ok_or_else(|| Error::data(format!("storage {key} is not used by any tensor")))?
                as u64;
            let nbytes = count
                .checked_mul(size)
                .ok_or_else(|| Error::data("storage size overflows"))?;
            storages.insert(key, (pos + 8, nbytes));
            pos = pos + 8 + nbytes;
        }
        Ok(Checkpoint {
            doc,
            source: Source::Legacy { reader, storages },
            big_endian: little == Some(false),
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
        find_tensors(self.doc.root())
    }

    /// The raw bytes of a whole storage (as stored: see [`Checkpoint::is_big_endian`]).
    pub fn storage_bytes(&mut self, storage: &Storage) -> Result<Vec<u8>> {
        let want = storage
            .numel
            .checked_mul(storage.dtype.itemsize() as u64)
            .ok_or_else(|| Error::data("storage size overflows"))?;
        let data = match &mut self.source {
            Source::Zip(archive) => {
                let name = format!("data/{}", storage.key);
                archive
                    .with_record(&name, |r| {
                        let mut buf = Vec::new();
                        r.take(want).read_to_end(&mut buf).map_err(Error::io)?;
                        Ok(buf)
                    })?
                    .ok_or_else(|| {
                        Error::data(format!("zip archive without {}{name}", archive.prefix))
                    })?
            }
            Source::Legacy { reader, storages } => {
                let &(at, n) = storages
                    .get(&storage.key)
                    .ok_or_else(|| Error::data(format!("no storage {}", storage.key)))?;
                reader.seek(SeekFrom::Start(at)).map_err(Error::io)?;
                let mut buf = Vec::new();
                (&mut *reader)
                    .take(n.min(want))
                    .read_to_end(&mut buf)
                    .map_err(Error::io)?;
                buf
            }
        };
        if (data.len() as u64) < want {
            return Err(Error::data(format!(
                "storage {} holds {} bytes, {} elements of {} need {want}",
                storage.key,
                data.len(),
                storage.numel,
                storage.dtype.name()
            )));
        }
        Ok(data)
    }

    /// A tensor's elements in C order, little-endian: reads its storage.
    pub fn tensor_bytes(&mut self, t: &Tensor) -> Result<Vec<u8>> {
        t.check_bounds()?;
        let raw = self.storage_bytes(&t.storage)?;
        let size = t.dtype().itemsize();
        let mut out =
            crate::ml::numpy::gather_c_order(&raw, &t.shape, &t.stride, t.storage_offset, size)?;
        if self.big_endian {
            let unit = t.dtype().swap_unit();
            if unit > 1 {
                for c in out.chunks_exact_mut(unit) {
                    c.reverse();
                }
            }
        }
        Ok(out)
    }

    /// A tensor's elements in C order as `T` (`f32` for float32, `[f64; 2]` for
    /// complex128, `u16` bits for float16/bfloat16, ...).
    pub fn read<T: crate::ml::numpy::Element>(&mut self, t: &Tensor) -> Result<Vec<T>> {
        // Types numpy lacks are read as their bits.
        let np = match t.dtype() {
            DType::BFloat16 | DType::Float16 => crate::ml::numpy::DType::parse("<u2")?,
            DType::Float8E4M3Fn
            | DType::Float8E5M2
            | DType::Float8E4M3FnUz
            | DType::Float8E5M2FnUz
            | DType::QUInt4x2
            | DType::QUInt2x4 => crate::ml::numpy::DType::parse("|u1")?,
            d => d.numpy().ok_or_else(|| {
                Error::unsupported(format!(
                    "a {} tensor is read with tensor_bytes (its bits, C order)",
                    d.name()
                ))
            })?,
        };
        if !T::matches(&np) {
            return Err(Error::data(format!(
                "a {} tensor cannot be read as {}",
                t.dtype().name(),
                std::any::type_name::<T>()
            )));
        }
        let b = self.tensor_bytes(t)?;
        Ok(b.chunks_exact(T::SIZE).map(|c| T::read(c, false)).collect())
    }

    /// Any real tensor (bfloat16 and float16 included) as f64, C order; a
    /// quantized one dequantized, `(q - zero_point) * scale`, as
    /// `Tensor.dequantize()` computes it.
    pub fn read_f64(&mut self, t: &Tensor) -> Result<Vec<f64>> {
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
        if t.dtype() == DType::BFloat16 {
            let bits = self.read::<u16>(t)?;
            return Ok(bits
                .into_iter()
                .map(|b| f32::from_bits((b as u32) << 16) as f64)
                .collect());
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
        let mut ck = Checkpoint::from_reader(Cursor::new(data))?;
        let mut out = Vec::new();
        for (path, t) in ck.tensors() {
            let t = t?;
            let bytes = ck.tensor_bytes(&t)?;
            out.push((path, t, bytes));
        }
        Ok(out)
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
        let mut ck = Checkpoint::from_reader(r).unwrap();
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
        let mut ck = Checkpoint::from_reader(Cursor::new(no_storage)).unwrap();
        let t = ck.tensors().into_iter().next().unwrap().1.unwrap();
        let e = ck.tensor_bytes(&t).unwrap_err().to_string();
        assert!(e.contains("without checkpoint_zip/data/"), "{e}");
    }
}
