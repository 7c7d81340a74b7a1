//! `pickle arrays FILE [--json] [--buffer BUF]...`: list every numpy array and
//! torch tensor in a pickle, a joblib file or a torch checkpoint.
//!
//! Each array or tensor is listed with its path in the object tree (e.g.
//! `['model']['fc.weight']`, `.coef_`; the root is `""`), dtype (numpy's
//! `dtype.str` such as `<f8`, `|b1`, `>i4`, `<M8[D]`; torch names such as
//! `float32`, `bfloat16`), shape, stride (in elements), storage offset,
//! nbytes and the sha256 of its values in C order, little-endian (`null` for
//! object arrays). Checkpoint storages are read one tensor at a time; nothing
//! else of the file is loaded.

use std::path::PathBuf;

use pickle_codec::numpy::NdArray;
use pickle_codec::torch::{Checkpoint, Tensor};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Arguments of `pickle arrays`.
#[derive(clap::Args, Debug, Clone)]
pub struct ArraysArgs {
    /// The pickle, joblib file (plain, zlib or gzip) or torch checkpoint (zip or legacy).
    pub file: PathBuf,
    /// Print a JSON array of {path, dtype, shape, stride, storage_offset, nbytes, sha256}.
    #[arg(long)]
    pub json: bool,
    /// A protocol-5 out-of-band buffer file, in order (repeat for several).
    #[arg(long = "buffer", value_name = "BUF")]
    pub buffers: Vec<PathBuf>,
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

/// The entries of every array and tensor in a file's bytes.
pub fn list_file(path: &std::path::Path, buffers: Vec<Vec<u8>>) -> Result<Vec<Entry>, String> {
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        f.read(&mut head).map_err(|e| e.to_string())?
    };
    let mut out = Vec::new();
    if pickle_codec::torch::is_checkpoint(&head[..n]) {
        let mut ck = Checkpoint::open(path).map_err(|e| e.to_string())?;
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
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut options = pickle_codec::LoadOptions::default();
    if !buffers.is_empty() {
        options = options.buffers(buffers);
    }
    let doc = pickle_codec::joblib::load_with(&data, options).map_err(|e| e.to_string())?;
    for (p, a) in pickle_codec::arrays::find_ndarrays(doc.root()) {
        let a = a.map_err(|e| format!("{p}: {e}"))?;
        out.push(ndarray_entry(&p, &a));
    }
    Ok(out)
}

fn dims(d: &[usize]) -> String {
    let inner: Vec<String> = d.iter().map(usize::to_string).collect();
    format!("({})", inner.join(", "))
}

/// Run `pickle arrays`; returns the exit status.
pub fn run(args: ArraysArgs) -> i32 {
    let mut buffers = Vec::new();
    for b in &args.buffers {
        match std::fs::read(b) {
            Ok(d) => buffers.push(d),
            Err(e) => {
                eprintln!("pickle arrays: {}: {e}", b.display());
                return 2;
            }
        }
    }
    let entries = match list_file(&args.file, buffers) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("pickle arrays: {}: {e}", args.file.display());
            return 1;
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&entries) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("pickle arrays: {e}");
                return 1;
            }
        }
        return 0;
    }
    for e in &entries {
        let path = if e.path.is_empty() { "(root)" } else { &e.path };
        println!(
            "{path}\t{}\tshape={}\tstride={}\toffset={}\tnbytes={}\tsha256={}",
            e.dtype,
            dims(&e.shape),
            dims(&e.stride),
            e.storage_offset,
            e.nbytes,
            e.sha256.as_deref().unwrap_or("-")
        );
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }

    #[test]
    fn lists_joblib_numpy_and_torch() {
        let e = list_file(&fixtures().join("ml/joblib_gzip.joblib"), Vec::new()).unwrap();
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

        let e = list_file(&fixtures().join("ml/sklearn_linreg.p4.pkl"), Vec::new()).unwrap();
        assert!(e.iter().any(|e| e.path == ".coef_"));

        let buf = std::fs::read(fixtures().join("ml/f8.oob.buf0.bin")).unwrap();
        let e = list_file(&fixtures().join("ml/f8.oob.p5.pkl"), vec![buf]).unwrap();
        assert_eq!((e[0].path.as_str(), e[0].nbytes), ("", 48));

        let e = list_file(&fixtures().join("torch/checkpoint_legacy.pt"), Vec::new()).unwrap();
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
        };
        assert_eq!(run(args), 1);
    }
}
