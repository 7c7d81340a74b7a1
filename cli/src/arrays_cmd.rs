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
    /// The pickle, joblib file (plain or compressed) or torch checkpoint (zip or legacy); `-` reads stdin.
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

/// The entries of every array and tensor in a file's bytes (`-`: stdin).
pub fn list_file(
    path: &std::path::Path,
    buffers: Vec<Vec<u8>>,
    options: pickle_codec::LoadOptions,
) -> Result<Vec<Entry>, String> {
    if path.as_os_str() == "-" {
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut data)
            .map_err(|e| e.to_string())?;
        if pickle_codec::torch::is_checkpoint(&data) {
            let ck =
                Checkpoint::from_reader(std::io::Cursor::new(data)).map_err(|e| e.to_string())?;
            return list_checkpoint(ck);
        }
        return list_pickle(&data, buffers, options);
    }
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
        f.read(&mut head).map_err(|e| e.to_string())?
    };
    if pickle_codec::torch::is_checkpoint(&head[..n]) {
        let ck = Checkpoint::open(path).map_err(|e| e.to_string())?;
        return list_checkpoint(ck);
    }
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    list_pickle(&data, buffers, options)
}

fn list_checkpoint<R: std::io::Read + std::io::Seek>(
    mut ck: Checkpoint<R>,
) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
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
    Ok(out)
}

fn list_pickle(
    data: &[u8],
    buffers: Vec<Vec<u8>>,
    mut options: pickle_codec::LoadOptions,
) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    if !buffers.is_empty() {
        options = options.buffers(buffers);
    }
    let doc = pickle_codec::joblib::load_with(data, options).map_err(|e| e.to_string())?;
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

/// Run `pickle arrays`.
pub fn run(args: &ArraysArgs) -> Result<(), crate::Failure> {
    let mut buffers = Vec::new();
    for b in &args.buffers {
        let d = std::fs::read(b).map_err(|e| format!("cannot read buffer {}: {e}", b.display()))?;
        buffers.push(d);
    }
    let file = args.file.to_string_lossy();
    let entries = list_file(&args.file, buffers, args.load.options())
        .map_err(|e| format!("{}: {e}", crate::display_name(&file)))?;
    if args.json {
        let s = serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?;
        println!("{s}");
        return Ok(());
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
    Ok(())
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
            Default::default(),
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
            Default::default(),
        )
        .unwrap();
        assert!(e.iter().any(|e| e.path == ".coef_"));

        let buf = std::fs::read(fixtures().join("ml/f8.oob.buf0.bin")).unwrap();
        let e = list_file(
            &fixtures().join("ml/f8.oob.p5.pkl"),
            vec![buf],
            Default::default(),
        )
        .unwrap();
        assert_eq!((e[0].path.as_str(), e[0].nbytes), ("", 48));

        let e = list_file(
            &fixtures().join("torch/checkpoint_legacy.pt"),
            Vec::new(),
            Default::default(),
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
