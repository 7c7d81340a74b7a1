//! `joblib.dump` files, read into the same [`Document`] a plain pickle of the
//! same objects gives.
//!
//! joblib pickles a `joblib.numpy_pickle.NumpyArrayWrapper` in place of each
//! numpy array (its state: `subclass`, `shape`, `order`, `dtype`,
//! `allow_mmap`, `numpy_array_alignment_bytes`) and writes the array's bytes
//! into the stream right after that object's `BUILD`, outside any frame:
//!
//! * since joblib 1.2, one byte `p` then `p` padding bytes (`0xff`) so the
//!   data starts at a multiple of `numpy_array_alignment_bytes` (16) in the
//!   file; without that state key (older files, or non-seekable outputs) no
//!   padding byte at all;
//! * then `prod(shape) * itemsize` bytes in the wrapper's `order` ('C' or 'F');
//! * for object arrays (`dtype.hasobject`), a complete nested pickle of the
//!   array instead (its own PROTO, frames and STOP).
//!
//! Its unpickler reads them in `load_build`. Here the same happens through the
//! unpickler's [`crate::unpickler::AfterBuild`] hook: [`load`] replaces every
//! wrapper node by an ordinary numpy array node (`_reconstruct` + BUILD, as
//! numpy pickles it), so [`crate::numpy::NdArray::from_value`], the serde
//! layer and the pickler see plain arrays. Byte order is kept as stored (joblib
//! itself swaps to native order on load).
//!
//! | file | supported |
//! |---|---|
//! | `joblib.dump(obj, f)` (uncompressed, joblib ≥ 0.10) | yes |
//! | `compress=` zlib (`.z`, first byte `0x78`), gzip (`.gz`, `1f 8b`), bz2 (`BZ`), xz (`fd 37 7a 58 5a`), lzma (`5d 00`), lz4 (`04 22 4d 18`) | with the `joblib-compress` feature (one decoder layer with the scanner) |
//! | joblib < 0.10's `ZF` zfile format (the main pickle) | decompressed with `joblib-compress`; its arrays live in side files, not read |
//! | joblib < 0.10 (`NDArrayWrapper`, arrays in side files) | no |
//! | memory maps (`mmap_mode`) | read as ordinary arrays |

use crate::error::{Error, Result};
use crate::ml::numpy::{DType, NdArray, Order};
use crate::unpickler::{AfterBuild, LoadOptions, RawInput};
use crate::value::{Document, Node, Value};

/// How a joblib file is compressed, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// A plain joblib pickle stream.
    None,
    /// zlib (`compress=('zlib', n)` or `compress=n`).
    Zlib,
    /// gzip.
    Gzip,
    /// `"bz2"`, `"xz"`, `"lzma"`, `"lz4"` or `"zfile"` (joblib < 0.10's `ZF`
    /// format): loaded too, with the `joblib-compress` feature.
    Other(&'static str),
}

/// Tell the compression of a joblib file from its magic bytes, as joblib's
/// `_detect_compressor` does.
pub fn compression(data: &[u8]) -> Compression {
    use crate::ml::container::compress::Kind;
    match Kind::detect(data) {
        None => Compression::None,
        Some(Kind::Zlib) => Compression::Zlib,
        Some(Kind::Gzip) => Compression::Gzip,
        Some(k) => Compression::Other(k.name()),
    }
}

/// Load a joblib file's bytes (decompressing zlib/gzip with the `joblib-compress` feature).
/// A plain pickle loads too: the hook only acts on joblib's wrappers.
pub fn load(data: &[u8]) -> Result<Document> {
    load_with(data, LoadOptions::default())
}

/// [`load`] with options (limits, encoding); `after_build` is replaced by joblib's hook.
pub fn load_with(data: &[u8], mut options: LoadOptions) -> Result<Document> {
    let plain = decompress(data, options.max_input)?;
    options.after_build = Some(hook());
    crate::unpickler::loads_with(&plain, options)
}

/// Load from a reader of an uncompressed joblib stream.
pub fn load_reader<R: std::io::Read>(reader: R) -> Result<Document> {
    let options = LoadOptions {
        after_build: Some(hook()),
        ..LoadOptions::default()
    };
    crate::Unpickler::from_reader(reader, options).load()
}

/// The decompressed stream (borrowed when it is not compressed), at most
/// `max` bytes of it (a longer one is a `Limit` error naming
/// [`LoadOptions::max_input`]).
pub fn decompress(data: &[u8], max: u64) -> Result<std::borrow::Cow<'_, [u8]>> {
    use crate::ml::container::compress;
    let Some(kind) = compress::Kind::detect(data) else {
        return Ok(std::borrow::Cow::Borrowed(data));
    };
    let name = kind.name();
    match compress::decompress_to_vec(kind, data, max) {
        Ok(v) => Ok(std::borrow::Cow::Owned(v)),
        Err(e) if e.category() == crate::Category::Limit => Err(Error::limit(format!(
            "decompressed {name} joblib file longer than {max} bytes (LoadOptions::max_input)"
        ))),
        Err(e) if e.category() == crate::Category::Unsupported => Err(Error::unsupported(format!(
            "{name}-compressed joblib file: build with the `joblib-compress` feature to load it"
        ))),
        Err(e) => Err(Error::data(format!("{name}-compressed joblib file: {e}"))),
    }
}

/// The [`AfterBuild`] hook that reads the array after each `NumpyArrayWrapper`
/// and turns the wrapper node, in place (so memo references see it too), into
/// a numpy array node.
pub fn hook() -> AfterBuild {
    Box::new(|doc: &mut Document, obj: Value, raw: &mut dyn RawInput| {
        let v = doc.get(obj);
        if v.class() != Some(("joblib.numpy_pickle", "NumpyArrayWrapper")) {
            return Ok(None);
        }
        let state = v
            .state_dict()
            .ok_or_else(|| Error::data("NumpyArrayWrapper without a state dict"))?;
        let field = |k: &str| {
            state
                .get(k)
                .ok_or_else(|| Error::data(format!("NumpyArrayWrapper state without {k:?}")))
        };
        let dtype_v = field("dtype")?;
        let dtype = DType::from_value(dtype_v)?;
        // Size and kind as numpy computes them, which is what joblib reads
        // by; the scanner sizes the same bytes with the same function.
        let (itemsize, hasobject) = DType::pickled_layout(dtype_v)?;
        let shape_v = field("shape")?;
        let mut shape = Vec::new();
        for d in shape_v.iter() {
            let d = d
                .as_i64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| Error::data("NumpyArrayWrapper shape is not a tuple of ints"))?;
            shape.push(d);
        }
        let order = match field("order")?.as_str() {
            Some("F") => Order::F,
            _ => Order::C,
        };
        let alignment = state
            .get("numpy_array_alignment_bytes")
            .and_then(|a| a.as_i64());
        let class = match state.get("subclass").and_then(|c| c.as_global()) {
            Some(("numpy", "ndarray" | "memmap")) | None => None,
            Some((m, n)) => Some((m.to_string(), n.to_string())),
        };
        let new = if hasobject {
            let nested = raw.load_nested()?;
            doc.graft(&nested, nested.root_value())
        } else {
            if alignment.is_some() {
                let pad = raw.read_raw(1)?[0];
                raw.read_raw(pad as u64)?;
            }
            let count = shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
                .and_then(|n| n.checked_mul(itemsize))
                .ok_or_else(|| Error::data("NumpyArrayWrapper shape overflows"))?;
            let data = raw.read_raw(count)?;
            let mut arr = NdArray::from_bytes(dtype, shape, order, data)?;
            arr.class = class;
            arr.to_value(doc, 4)
        };
        // Move the array's node into the wrapper's slot.
        if let (Value::Ref(w), Value::Ref(n)) = (obj, new) {
            let node = std::mem::replace(doc.node_mut(n), Node::Tuple(Vec::new()));
            *doc.node_mut(w) = node;
            Ok(None)
        } else {
            Ok(Some(new))
        }
    })
}
