//! `pickle arrays FILE [--json] [--buffer BUF]...`: list every numpy array and
//! torch tensor in a pickle, a joblib file, a torch checkpoint, a `.npy`, an
//! `.npz` or a safetensors file (told apart by their first bytes, whatever
//! their names; `-` reads stdin).
//!
//! The numpy files are also shown by `pickle json` and re-encoded by
//! `pickle convert` through [`numpy_document`]: the pickle of the array that
//! `np.load` gives (for an `.npz`, a dict of its members), so a `.npy`'s JSON
//! is the JSON of the same array pickled.
//!
//! Each array or tensor is listed with its path in the object tree (e.g.
//! `['model']['fc.weight']`, `.coef_`; the root is `""`), dtype (numpy's
//! `dtype.str` such as `<f8`, `|b1`, `>i4`, `<M8[D]`; torch names such as
//! `float32`, `bfloat16`), shape, stride (in elements), storage offset,
//! nbytes and the sha256 of its values in C order, little-endian (`null` for
//! object arrays). Checkpoint storages are read one tensor at a time, `.npz`
//! members one array at a time; nothing else of the file is loaded. An
//! `.npy` array's path is the root (`""`), an `.npz` member's its key as
//! `np.load(f)[key]` takes it, `['weights']` for `weights.npy`; a
//! safetensors tensor's its name as the header gives it (`model.fc.weight`),
//! with torch's dtype name (the header's, `F8_E8M0`, where torch has one
//! this crate does not know).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use pickle_codec::numpy::{NdArray, NpyHeader, NpzReader};
use pickle_codec::torch::{Checkpoint, Tensor};
use pickle_codec::{Document, LoadOptions, Unpickler, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Arguments of `pickle arrays`.
#[derive(clap::Args, Debug, Clone)]
pub struct ArraysArgs {
    /// The pickle, joblib file, torch checkpoint (zip, legacy or tar), .npy, .npz or safetensors file; `-` reads stdin.
    pub file: PathBuf,
    /// Print a JSON array of {path, dtype, shape, stride, storage_offset, nbytes, sha256}.
    #[arg(long)]
    pub json: bool,
    /// A protocol-5 out-of-band buffer file, in order (repeat for several).
    #[arg(long = "buffer", value_name = "BUF")]
    pub buffers: Vec<PathBuf>,
    #[command(flatten)]
    pub load: crate::LoadArgs,
}

/// One listed array or tensor.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Entry {
    /// Path in the object tree.
    pub path: String,
    /// numpy `dtype.str` or torch dtype name.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Strides in elements.
    pub stride: Vec<usize>,
    /// Offset of the first element in its storage (0 for numpy arrays).
    pub storage_offset: usize,
    /// Bytes of its values.
    pub nbytes: usize,
    /// sha256 of the C-order little-endian values (`None` for object arrays).
    pub sha256: Option<String>,
}

fn sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The entry of a numpy array.
pub fn ndarray_entry(path: &str, a: &NdArray<'_>) -> Entry {
    Entry {
        path: path.to_string(),
        dtype: a.dtype.str(),
        shape: a.shape.clone(),
        stride: a.strides(),
        storage_offset: 0,
        nbytes: a.nbytes(),
        sha256: a.to_le_bytes().ok().map(|b| sha256(&b)),
    }
}

/// `.npy` files start with this.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// An `.npz` archive: a zip with `.npy` members (or none at all) and no
/// torch `data.pkl` record. `None` for anything else, a zip that cannot be
/// read included (the torch path then reports it).
fn npz_of<R: Read + Seek>(mut r: R) -> Option<NpzReader<R>> {
    r.seek(SeekFrom::Start(0)).ok()?;
    let npz = NpzReader::new(r).ok()?;
    let torch = npz
        .names()
        .any(|n| n == "data.pkl" || n.ends_with("/data.pkl"));
    let npy = npz.names().any(|n| n.ends_with(".npy")) || npz.names().next().is_none();
    (npy && !torch).then_some(npz)
}

/// An `.npz` key as a path segment: `['weights']`.
fn key_path(key: &str) -> String {
    format!("[{}]", pickle_codec::repr::repr_str(key.as_bytes()))
}

/// Read until `buf` is full or the input ends.
fn read_head<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The entries of every array and tensor in a file (`-`: stdin), loaded
/// with the options `load` makes (one set per pickle read: an `.npz`'s
/// object arrays have one each).
pub fn list_file(
    path: &Path,
    buffers: Vec<Vec<u8>>,
    load: &dyn Fn() -> LoadOptions,
    first: bool,
) -> Result<Vec<Entry>, String> {
    if path == Path::new("-") {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot read <stdin>: {e}"))?;
        return list_source(std::io::Cursor::new(data), buffers, load, "-", first);
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    list_source(
        std::io::BufReader::new(f),
        buffers,
        load,
        &path.to_string_lossy(),
        first,
    )
}

/// The entries of every array and tensor in a seekable source, at its start.
/// `file` names the source for joblib < 0.10's side files (`-`: none).
fn list_source<R: Read + Seek>(
    mut src: R,
    buffers: Vec<Vec<u8>>,
    load: &dyn Fn() -> LoadOptions,
    file: &str,
    first: bool,
) -> Result<Vec<Entry>, String> {
    let mut head = [0u8; 512];
    let n = read_head(&mut src, &mut head).map_err(|e| e.to_string())?;
    let head = &head[..n];
    src.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if head.starts_with(NPY_MAGIC) {
        let a = NdArray::read_npy_with(&mut src, load()).map_err(|e| e.to_string())?;
        return Ok(vec![ndarray_entry("", &a)]);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        if let Some(mut npz) = npz_of(&mut src) {
            let keys: Vec<String> = npz.keys().map(str::to_string).collect();
            for k in keys {
                if npz.is_array(&k).map_err(|e| format!("{k}: {e}"))? {
                    let a = npz
                        .array_with(&k, load())
                        .map_err(|e| format!("{k}: {e}"))?;
                    out.push(ndarray_entry(&key_path(&k), &a));
                }
            }
            return Ok(out);
        }
        src.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    }
    if pickle_codec::torch::safetensors::is_safetensors(head) {
        // A safetensors file's tensors, each by its name (the path).
        let st = pickle_codec::torch::safetensors::Reader::from_reader(src)
            .map_err(|e| e.to_string())?;
        for e in st.entries() {
            let data = st.data(e).map_err(|x| format!("{}: {x}", e.name))?;
            out.push(Entry {
                path: e.name.clone(),
                dtype: e.dtype.map_or(e.format_dtype, |d| d.name()).to_string(),
                shape: e.shape.clone(),
                stride: e.stride(),
                storage_offset: 0,
                nbytes: data.len(),
                sha256: Some(sha256(&data)),
            });
        }
        return Ok(out);
    }
    if pickle_codec::torch::is_checkpoint(head) {
        let ck = Checkpoint::from_reader(src).map_err(|e| e.to_string())?;
        let tensors = ck.tensors();
        for (p, t) in tensors {
            let t: Tensor = t.map_err(|e| format!("{p}: {e}"))?;
            let data = ck.tensor_bytes(&t).map_err(|e| format!("{p}: {e}"))?;
            out.push(Entry {
                path: p,
                dtype: t.dtype().name().to_string(),
                shape: t.shape.clone(),
                stride: t.stride.clone(),
                storage_offset: t.storage_offset,
                nbytes: t.nbytes(),
                sha256: Some(sha256(&data)),
            });
        }
        for (p, a) in pickle_codec::arrays::find_ndarrays(ck.document().root()) {
            let a = a.map_err(|e| format!("{p}: {e}"))?;
            out.push(ndarray_entry(&p, &a));
        }
        return Ok(out);
    }
    let mut data = Vec::new();
    src.read_to_end(&mut data).map_err(|e| e.to_string())?;
    let mut options = load();
    if !buffers.is_empty() {
        options = options.buffers(buffers);
    }
    let (data, options) =
        crate::joblib_aware(&data, options, file, load()).map_err(|e| e.to_string())?;
    // Every pickle of a stream, as convert and json read them; the arrays
    // of pickle #2 on have their paths prefixed with `#2`.
    let name = crate::display_name(file);
    let mut unpickler = Unpickler::from_slice(&data, options);
    let mut count = 0usize;
    loop {
        if unpickler.at_end().map_err(|e| e.to_string())?
            || crate::ignored_rest(&data, unpickler.offset(), count, name, first)
        {
            break;
        }
        let doc = unpickler.load().map_err(|e| {
            if count == 0 {
                e.to_string()
            } else {
                format!("pickle #{}: {e}", count + 1)
            }
        })?;
        count += 1;
        let prefix = if count == 1 {
            String::new()
        } else {
            format!("#{count}")
        };
        for (p, a) in pickle_codec::arrays::find_ndarrays(doc.root()) {
            let a = a.map_err(|e| format!("{prefix}{p}: {e}"))?;
            out.push(ndarray_entry(&format!("{prefix}{p}"), &a));
        }
    }
    if count == 0 {
        return Err("no pickle in the input (it is empty) at byte 0".into());
    }
    Ok(out)
}

/// The value of one `.npy` file in `doc`: an object array's own pickle
/// (loaded with `options`, which are handed back), or the raw array
/// written as numpy pickles it at `protocol`.
fn npy_value(
    data: &[u8],
    doc: &mut Document,
    options: &mut LoadOptions,
    protocol: u8,
) -> Result<Value, String> {
    let h = NpyHeader::parse(data).map_err(|e| e.to_string())?;
    if !h.has_object() {
        let a = NdArray::from_npy(data).map_err(|e| e.to_string())?;
        return Ok(a.to_value(doc, protocol));
    }
    // np.load reads one pickle after the header and nothing after it.
    let start = h.data_offset as usize;
    let mut u = Unpickler::from_slice(&data[start..], std::mem::take(options));
    let loaded = u.load();
    *options = std::mem::take(u.options_mut());
    let payload = loaded.map_err(|e| {
        // Offsets from the start of the .npy, as every other error here.
        let op = e.opcode().map(|op| format!(" in {}", op.name()));
        let at = e
            .offset()
            .map(|o| format!(" at byte {}", o + h.data_offset));
        format!(
            "the object array's pickle: {}{}{}",
            e.message(),
            op.unwrap_or_default(),
            at.unwrap_or_default()
        )
    })?;
    Ok(doc.graft(&payload, payload.root_value()))
}

/// What `pickle json` prints and `pickle convert` writes for a `.npy` or
/// `.npz` file, `None` for any other input:
///
/// * a `.npy` of raw data: the array as numpy pickles it at `protocol`
///   (`numpy.core.multiarray._reconstruct` below 5, `_frombuffer` at 5);
/// * a `.npy` of an object array: the pickle it holds, as it is (loaded
///   with `options`: `--encoding` for Python 2 files);
/// * an `.npz`: a dict of its keys (`np.load(f).files`) to those arrays,
///   and to the bytes of any member that is not an `.npy`, as `np.load`
///   gives them.
pub(crate) fn numpy_document(
    data: &[u8],
    name: &str,
    options: &mut LoadOptions,
    protocol: u8,
) -> Result<Option<Document>, String> {
    let mut doc = Document::new();
    if data.starts_with(NPY_MAGIC) {
        let v = npy_value(data, &mut doc, options, protocol).map_err(|e| format!("{name}: {e}"))?;
        doc.set_root(v);
        return Ok(Some(doc));
    }
    if !(data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")) {
        return Ok(None);
    }
    let Some(mut npz) = npz_of(std::io::Cursor::new(data)) else {
        return Ok(None);
    };
    let keys: Vec<String> = npz.keys().map(str::to_string).collect();
    let mut pairs = Vec::new();
    for k in keys {
        let bytes = npz.bytes(&k).map_err(|e| format!("{name}: {e}"))?;
        let v = if bytes.starts_with(NPY_MAGIC) {
            npy_value(&bytes, &mut doc, options, protocol)
                .map_err(|e| format!("{name}: npz member {k}: {e}"))?
        } else {
            doc.bytes(&bytes)
        };
        let key = doc.str(&k);
        pairs.push((key, v));
    }
    let root = doc.dict(pairs);
    doc.set_root(root);
    Ok(Some(doc))
}

fn dims(d: &[usize]) -> String {
    let inner: Vec<String> = d.iter().map(usize::to_string).collect();
    format!("({})", inner.join(", "))
}

/// Run `pickle arrays`.
pub fn run(args: &ArraysArgs) -> Result<(), crate::Failure> {
    let mut buffers = Vec::new();
    for b in &args.buffers {
        let d = std::fs::read(b).map_err(|e| format!("cannot read buffer {}: {e}", b.display()))?;
        buffers.push(d);
    }
    let file = args.file.to_string_lossy();
    let entries = list_file(
        &args.file,
        buffers,
        &|| args.load.options(),
        args.load.first,
    )
    .map_err(|e| format!("{}: {e}", crate::display_name(&file)))?;
    // Written through one locked buffer: a closed pipe (`| head`) is an
    // error line like every command's, not a panic of `println!`.
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if args.json {
        let s = serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?;
        writeln!(out, "{s}")
    } else {
        entries.iter().try_for_each(|e| {
            let path = if e.path.is_empty() { "(root)" } else { &e.path };
            writeln!(
                out,
                "{path}\t{}\tshape={}\tstride={}\toffset={}\tnbytes={}\tsha256={}",
                e.dtype,
                dims(&e.shape),
                dims(&e.stride),
                e.storage_offset,
                e.nbytes,
                e.sha256.as_deref().unwrap_or("-")
            )
        })
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write <stdout>: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }

    #[test]
    fn lists_joblib_numpy_and_torch() {
        let e = list_file(
            &fixtures().join("ml/joblib_gzip.joblib"),
            Vec::new(),
            &LoadOptions::default,
            false,
        )
        .unwrap();
        let w = e.iter().find(|e| e.path == "['weights']").unwrap();
        assert_eq!(
            (w.dtype.as_str(), w.shape.clone(), w.stride.clone()),
            ("<f4", vec![3, 4], vec![4, 1])
        );
        let f = e.iter().find(|e| e.path == "['fortran']").unwrap();
        assert_eq!((f.dtype.as_str(), f.stride.clone()), (">i8", vec![1, 2]));
        assert_eq!(
            e.iter().find(|e| e.path == "['objs']").unwrap().sha256,
            None
        );

        let e = list_file(
            &fixtures().join("ml/sklearn_linreg.p4.pkl"),
            Vec::new(),
            &LoadOptions::default,
            false,
        )
        .unwrap();
        assert!(e.iter().any(|e| e.path == ".coef_"));

        let buf = std::fs::read(fixtures().join("ml/f8.oob.buf0.bin")).unwrap();
        let e = list_file(
            &fixtures().join("ml/f8.oob.p5.pkl"),
            vec![buf],
            &LoadOptions::default,
            false,
        )
        .unwrap();
        assert_eq!((e[0].path.as_str(), e[0].nbytes), ("", 48));

        let e = list_file(
            &fixtures().join("torch/checkpoint_legacy.pt"),
            Vec::new(),
            &LoadOptions::default,
            false,
        )
        .unwrap();
        let t = e.iter().find(|e| e.path == "['views'][2]").unwrap();
        assert_eq!(
            (t.dtype.as_str(), t.shape.clone(), t.stride.clone()),
            ("float64", vec![6, 4], vec![1, 6])
        );
        let j = serde_json::to_value(t).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "path",
            "dtype",
            "shape",
            "stride",
            "storage_offset",
            "nbytes",
            "sha256",
        ];
        want.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, want);
    }

    #[test]
    fn run_reports_errors_with_a_status() {
        let args = ArraysArgs {
            file: fixtures().join("does-not-exist.pkl"),
            json: true,
            buffers: Vec::new(),
            load: crate::LoadArgs::default(),
        };
        let e = run(&args).unwrap_err();
        assert!(
            e.ends_with("does-not-exist.pkl: No such file or directory (os error 2)"),
            "{e}"
        );
        assert_eq!(e.matches("does-not-exist").count(), 1, "{e}");
    }
}
