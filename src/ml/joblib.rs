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
//! | joblib < 0.10's `ZF` zfile format (the main pickle) | decompressed with `joblib-compress` |
//! | joblib < 0.10 (`NDArrayWrapper`: each array in a side `.npy` file; `ZNDArrayWrapper`: its raw data in a side `ZF` file) | with [`load_path`] or [`load_with_side_files`], side files read from the main file's folder |
//! | memory maps (`mmap_mode`) | read as ordinary arrays |

use std::path::{Path, PathBuf};

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
/// A joblib < 0.10 file whose arrays live in side files is an error that
/// names them: load it with [`load_path`] or [`load_with_side_files`].
pub fn load_with(data: &[u8], mut options: LoadOptions) -> Result<Document> {
    let plain = decompress(data, options.max_input)?;
    options.after_build = Some(hook());
    crate::unpickler::loads_with(&plain, options)
}

/// Reads joblib < 0.10's side files: given a file name the pickle names
/// (`model.pkl_01.npy`), its bytes.
pub type SideFiles = Box<dyn FnMut(&str) -> Result<Vec<u8>>>;

/// [`SideFiles`] from `dir` (the main file's folder, where joblib wrote
/// them and where its loader looks). Only a plain file name is read: a
/// name with a path separator or `..` is an error, so a pickle cannot
/// make the loader read files elsewhere. A file longer than `max` bytes
/// is an error too.
pub fn side_files_in(dir: impl Into<PathBuf>, max: u64) -> SideFiles {
    let dir = dir.into();
    Box::new(move |name: &str| {
        if !is_plain_file_name(name) {
            return Err(Error::data(format!(
                "joblib side file name {name:?} is not a plain file name"
            )));
        }
        let path = dir.join(name);
        let f = std::fs::File::open(&path)
            .map_err(|e| Error::data(format!("joblib side file {}: {e}", path.display())))?;
        let mut data = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(f, max.saturating_add(1)),
            &mut data,
        )
        .map_err(Error::io)?;
        if data.len() as u64 > max {
            return Err(Error::limit(format!(
                "joblib side file {} is longer than {max} bytes (LoadOptions::max_input)",
                path.display()
            )));
        }
        Ok(data)
    })
}

/// A side file name the loader reads and the scanner follows: a name in
/// the main file's folder, with no separator, drive or `..` (joblib itself
/// joins any name to the folder; the scanner calls a name elsewhere
/// dangerous).
pub(crate) fn is_plain_file_name(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\\', '\0']) && !n.contains(':')
}

/// Load a joblib file from `path`, its side files (joblib < 0.10) read from
/// the same folder.
pub fn load_path(path: impl AsRef<Path>) -> Result<Document> {
    load_path_with(path, LoadOptions::default())
}

/// [`load_path`] with options.
pub fn load_path_with(path: impl AsRef<Path>, options: LoadOptions) -> Result<Document> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|e| Error::data(format!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let side = side_files_in(dir, options.max_input);
    load_with_side_files(&data, options, side)
}

/// [`load_with`], with joblib < 0.10's side files read through `side`.
pub fn load_with_side_files(
    data: &[u8],
    mut options: LoadOptions,
    side: SideFiles,
) -> Result<Document> {
    let plain = decompress(data, options.max_input)?;
    options.after_build = Some(hook_with_side_files(side, options.plain_copy()));
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
    Box::new(
        |doc: &mut Document, obj: Value, raw: &mut dyn RawInput| match doc.get(obj).class() {
            Some(("joblib.numpy_pickle", "NumpyArrayWrapper")) => {
                numpy_array_wrapper(doc, obj, raw)
            }
            Some(("joblib.numpy_pickle", w @ ("NDArrayWrapper" | "ZNDArrayWrapper"))) => {
                let file = doc
                    .get(obj)
                    .state_dict()
                    .and_then(|s| s.get("filename"))
                    .and_then(|f| f.as_str())
                    .unwrap_or("?")
                    .to_string();
                Err(Error::unsupported(format!(
                    "a joblib < 0.10 {w}: its array is in the side file {file:?}; \
                     load the file by path (joblib::load_path) to read it"
                )))
            }
            _ => Ok(None),
        },
    )
}

/// [`hook`], and joblib < 0.10's wrappers read from their side files:
/// `NDArrayWrapper` (state `filename`, `subclass`, `allow_mmap`) from an
/// `.npy` (object arrays loaded with `options`), `ZNDArrayWrapper` (state
/// `filename`, `init_args` = `(subclass, (0,), b'b')`, `state` = the
/// array's state without its data) from a `ZF` zfile of the raw data.
pub fn hook_with_side_files(mut side: SideFiles, options: LoadOptions) -> AfterBuild {
    Box::new(
        move |doc: &mut Document, obj: Value, raw: &mut dyn RawInput| {
            let new = match doc.get(obj).class() {
                Some(("joblib.numpy_pickle", "NumpyArrayWrapper")) => {
                    return numpy_array_wrapper(doc, obj, raw)
                }
                Some(("joblib.numpy_pickle", "NDArrayWrapper")) => {
                    let (file, class) = {
                        let v = doc.get(obj);
                        let state = v
                            .state_dict()
                            .ok_or_else(|| Error::data("NDArrayWrapper without a state dict"))?;
                        let file = state
                            .get("filename")
                            .and_then(|f| f.as_str())
                            .ok_or_else(|| Error::data("NDArrayWrapper without a filename"))?
                            .to_string();
                        (file, subclass_of(state.get("subclass")))
                    };
                    let bytes = side(&file)?;
                    let mut arr = NdArray::from_npy_with(&bytes, options.plain_copy())
                        .map_err(|e| Error::data(format!("joblib side file {file}: {e}")))?;
                    arr.class = class;
                    arr.to_value(doc, 4)
                }
                Some(("joblib.numpy_pickle", "ZNDArrayWrapper")) => {
                    let (file, class, dtype, shape, order) = {
                        let v = doc.get(obj);
                        let state = v
                            .state_dict()
                            .ok_or_else(|| Error::data("ZNDArrayWrapper without a state dict"))?;
                        let bad = || Error::data("ZNDArrayWrapper state is malformed");
                        let file = state
                            .get("filename")
                            .and_then(|f| f.as_str())
                            .ok_or_else(bad)?
                            .to_string();
                        let class = subclass_of(state.get("init_args").and_then(|a| a.index(0)));
                        // ndarray.__reduce__'s state without the data:
                        // (version, shape, dtype, is_fortran).
                        let st: Vec<_> = state.get("state").ok_or_else(bad)?.iter().collect();
                        if st.len() != 4 {
                            return Err(bad());
                        }
                        let shape = st[1]
                            .iter()
                            .map(|d| d.as_i64().and_then(|d| usize::try_from(d).ok()))
                            .collect::<Option<Vec<usize>>>()
                            .ok_or_else(bad)?;
                        let dtype = DType::from_value(st[2])?;
                        let order = if st[3].as_bool().unwrap_or(false) {
                            Order::F
                        } else {
                            Order::C
                        };
                        (file, class, dtype, shape, order)
                    };
                    if dtype.has_object() {
                        return Err(Error::data(
                            "ZNDArrayWrapper of an object array (joblib pickled those in line)",
                        ));
                    }
                    let zfile = side(&file)?;
                    use crate::ml::container::compress::Kind;
                    if Kind::detect(&zfile) != Some(Kind::ZFile) {
                        return Err(Error::data(format!(
                            "joblib side file {file} is not a ZF zfile"
                        )));
                    }
                    let data = decompress(&zfile, options.max_input)
                        .map_err(|e| Error::data(format!("joblib side file {file}: {e}")))?;
                    let mut arr = NdArray::from_bytes(dtype, shape, order, data.into_owned())?;
                    arr.class = class;
                    arr.to_value(doc, 4)
                }
                _ => return Ok(None),
            };
            replace(doc, obj, new)
        },
    )
}

/// The array class a wrapper's `subclass` names, `None` for ndarray.
fn subclass_of(v: Option<crate::value::ValueRef<'_>>) -> Option<(String, String)> {
    match v.and_then(|c| c.as_global()) {
        Some(("numpy", "ndarray" | "memmap")) | None => None,
        Some((m, n)) => Some((m.to_string(), n.to_string())),
    }
}

/// Put the array `new` in the wrapper's place: its node moves into the
/// wrapper's slot, so memo references to the wrapper see the array.
fn replace(doc: &mut Document, obj: Value, new: Value) -> Result<Option<Value>> {
    if let (Value::Ref(w), Value::Ref(n)) = (obj, new) {
        let node = std::mem::replace(doc.node_mut(n), Node::Tuple(crate::value::Items::new()));
        *doc.node_mut(w) = node;
        Ok(None)
    } else {
        Ok(Some(new))
    }
}

/// A joblib >= 0.10 `NumpyArrayWrapper`: the array's bytes follow in the stream.
fn numpy_array_wrapper(
    doc: &mut Document,
    obj: Value,
    raw: &mut dyn RawInput,
) -> Result<Option<Value>> {
    let v = doc.get(obj);
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
    let class = subclass_of(state.get("subclass"));
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
    replace(doc, obj, new)
}
