//! `.npy` and `.npz` files (tests/fixtures/ml/npy, written by
//! tests/scripts/gen_npy_fixtures.py with numpy): every file read as
//! `np.load` reads it, written back byte for byte as `np.save` writes it,
//! structured fields by name, the scikit-learn tree example; what this crate
//! writes is loaded by numpy when python3 and numpy are there.

mod common;

use std::path::PathBuf;

use pickle_codec::numpy::{DType, NdArray, NpyHeader, NpzReader, NpzWriter, Order};
use pickle_codec::{Category, Encoding, LoadOptions};
use serde_json::Value as Json;

#[path = "../examples/sklearn_tree.rs"]
mod sklearn_tree;

fn dir() -> PathBuf {
    common::fixture_dir("ml/npy")
}

fn manifest() -> Json {
    serde_json::from_slice(&std::fs::read(dir().join("manifest.json")).unwrap()).unwrap()
}

fn entries(kind: &str) -> Vec<Json> {
    manifest()[kind].as_array().unwrap().clone()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(dir().join(file)).unwrap()
}

fn options(e: &Json) -> LoadOptions {
    match e["encoding"].as_str() {
        Some("latin1") => LoadOptions::default().encoding(Encoding::Latin1),
        _ => LoadOptions::default(),
    }
}

fn shape_of(j: &Json) -> Vec<usize> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// Mark the bytes of an element of `dt` (at `at`) that its fields cover.
fn cover(dt: &DType, at: usize, mask: &mut [bool]) {
    if let Some((base, shape)) = &dt.subarray {
        let n: usize = shape.iter().product();
        for i in 0..n {
            cover(base, at + i * base.itemsize, mask);
        }
    } else if dt.fields.is_empty() {
        mask[at..at + dt.itemsize]
            .iter_mut()
            .for_each(|m| *m = true);
    } else {
        for f in &dt.fields {
            cover(&f.dtype, at + f.offset, mask);
        }
    }
}

/// The sha256 of the C-order little-endian values, padding bytes zero
/// (numpy leaves whatever was in memory there).
fn values_sha(a: &NdArray<'_>) -> String {
    let mut b = a.to_le_bytes().unwrap();
    let size = a.dtype.itemsize;
    if !a.dtype.fields.is_empty() && size > 0 {
        let mut mask = vec![false; size];
        cover(&a.dtype, 0, &mut mask);
        for element in b.chunks_exact_mut(size) {
            for (x, &keep) in element.iter_mut().zip(&mask) {
                if !keep {
                    *x = 0;
                }
            }
        }
    }
    common::sha256_hex(&b)
}

/// The array as the manifest describes it: dtype, shape, values.
fn check(ctx: &str, a: &NdArray<'_>, want: &Json) {
    assert_eq!(a.dtype.str(), want["dtype"].as_str().unwrap(), "{ctx}");
    assert_eq!(a.shape, shape_of(&want["shape"]), "{ctx}");
    match want["sha256"].as_str() {
        Some(h) => assert_eq!(values_sha(a), h, "{ctx}"),
        None => {
            let (doc, items) = a.objects().expect("an object array");
            let got: Vec<String> = items.iter().map(|&v| doc.get(v).to_string()).collect();
            let want: Vec<&str> = want["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert_eq!(got, want, "{ctx}");
        }
    }
}

#[test]
fn every_npy_fixture_reads_as_np_load_reads_it() {
    let all = entries("npy");
    assert!(all.len() > 40);
    for e in &all {
        let file = e["file"].as_str().unwrap();
        let data = read(file);
        let h = NpyHeader::parse(&data).unwrap();
        let version = shape_of(&e["version"]);
        assert_eq!(
            (h.version.0 as usize, h.version.1 as usize),
            (version[0], version[1]),
            "{file}"
        );
        assert_eq!(h.fortran_order, e["fortran_order"] == true, "{file}");
        if let (Some(descr), true) = (e["descr"].as_str(), e["exact"] == true) {
            assert_eq!(h.dtype.to_npy_descr().unwrap(), descr, "{file}");
            assert_eq!(DType::from_npy_descr(descr).unwrap(), h.dtype, "{file}");
        }
        let a = NdArray::from_npy_with(&data, options(e)).unwrap();
        check(file, &a, e);
        if e["fortran_order"] == true {
            assert_eq!(a.order, Order::F, "{file}");
        }
        // From a reader, in small reads: the same array.
        let r = NdArray::read_npy_with(Trickle(&data[..]), options(e)).unwrap();
        check(&format!("{file} (read_npy)"), &r, e);
    }
}

/// Hands out at most 7 bytes per read.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn to_npy_is_np_save_byte_for_byte() {
    let mut exact = 0;
    for e in entries("npy") {
        let file = e["file"].as_str().unwrap();
        let data = read(file);
        let a = NdArray::from_npy_with(&data, options(&e)).unwrap();
        let ours = a.to_npy().unwrap();
        if e["exact"] == true {
            assert!(ours == data, "{file}: to_npy differs from np.save");
            exact += 1;
        }
        // Whatever it writes reads back to the same array.
        let back = NdArray::from_npy(&ours).unwrap();
        check(&format!("{file} (written back)"), &back, &e);
    }
    assert!(exact >= 35, "{exact}");
}

#[test]
fn structured_fields_by_name_are_numpys_a_name() {
    let mut checked = 0;
    for e in entries("npy") {
        let Some(fields) = e["fields"].as_array() else {
            continue;
        };
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|f| (f[0].as_str().unwrap(), f[1].as_str().unwrap()))
            .collect();
        let file = e["file"].as_str().unwrap();
        let data = read(file);
        let a = NdArray::from_npy(&data).unwrap();
        assert_eq!(
            a.fields()
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            fields.iter().map(|f| f.0).collect::<Vec<_>>(),
            "{file}"
        );
        for (name, sha) in fields {
            let f = a.field(name).unwrap();
            assert_eq!(values_sha(&f), sha, "{file}[{name:?}]");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");

    // The nested one, by hand: shapes of subarray and nested fields.
    let data = read("struct_nested.npy");
    let a = NdArray::from_npy(&data).unwrap();
    let w = a.field("w").unwrap();
    assert_eq!(
        (w.dtype.str(), w.shape.clone()),
        ("<f8".into(), vec![3, 2, 3])
    );
    assert_eq!(w.to_vec::<f64>().unwrap()[..4], [0.0, 1.0, 2.0, 3.0]);
    let y = a.field("pos").unwrap().field("y").unwrap();
    assert_eq!(y.dtype.str(), ">f4");
    assert_eq!(y.to_vec::<f32>().unwrap(), [-1.0, -2.0, -3.0]);
    let p = a.field("pts").unwrap();
    assert_eq!(p.shape, [3, 2]);
    assert_eq!(
        p.field("p").unwrap().to_vec::<i16>().unwrap(),
        [1, 2, 3, 4, 5, 6]
    );
    let offsets: Vec<(&str, usize)> = a
        .fields()
        .iter()
        .map(|f| (f.name.as_str(), f.offset))
        .collect();
    assert_eq!(offsets, [("pos", 0), ("w", 8), ("tag", 56), ("pts", 64)]);

    let e = a.field("nope").unwrap_err();
    assert!(
        e.to_string().contains("\"pos\", \"w\", \"tag\", \"pts\""),
        "{e}"
    );
    assert!(NdArray::from_npy(&read("f8.npy"))
        .unwrap()
        .field("x")
        .is_err());
    assert!(NdArray::from_npy(&read("struct_object.npy"))
        .unwrap()
        .field("n")
        .is_err());
}

#[test]
fn python2_object_arrays_need_their_encoding() {
    let data = read("py2_object.npy");
    let e = NdArray::from_npy(&data).unwrap_err();
    // The pickle starts after the 64-byte header; the error is placed in the file.
    assert!(e.offset().is_some_and(|o| o > 64), "{e}");
    assert!(e.to_string().contains("object array's pickle"), "{e}");
    let a =
        NdArray::from_npy_with(&data, LoadOptions::default().encoding(Encoding::Latin1)).unwrap();
    let (doc, items) = a.objects().unwrap();
    assert_eq!(doc.get(items[0]).as_str(), Some("caf\u{e9}"));
    let b =
        NdArray::from_npy_with(&data, LoadOptions::default().encoding(Encoding::Bytes)).unwrap();
    let (doc, items) = b.objects().unwrap();
    assert_eq!(doc.get(items[0]).as_bytes(), Some(&b"caf\xe9"[..]));
}

#[test]
fn headers_that_claim_more_than_the_file_holds() {
    // 2^40 float64s announced, 16 bytes there: an error at the data's
    // offset, from a slice and from a reader, without allocating 8 TiB.
    let a = NdArray::from_vec(vec![2], &[1.0f64, 2.0]).unwrap();
    let npy = a.to_npy().unwrap();
    let text = String::from_utf8_lossy(&npy[10..]).replace("(2,), ", "(1099511627776,), ");
    let mut huge = npy[..8].to_vec();
    let body = &text.as_bytes()[..text.len() - 16 - 13];
    huge.extend_from_slice(&((body.len() + 1) as u16).to_le_bytes());
    huge.extend_from_slice(body);
    huge.push(b'\n');
    let start = huge.len() as u64;
    huge.extend_from_slice(&npy[npy.len() - 16..]);
    let h = NpyHeader::parse(&huge).unwrap();
    assert_eq!((h.shape.clone(), h.data_offset), (vec![1 << 40], start));
    for e in [
        NdArray::from_npy(&huge).unwrap_err(),
        NdArray::read_npy(&huge[..]).unwrap_err(),
    ] {
        assert_eq!(e.category(), Category::Eof, "{e}");
        assert_eq!(e.offset(), Some(start), "{e}");
        assert!(e.to_string().contains("needs 8796093022208 bytes"), "{e}");
    }
    // A size that overflows: an error too.
    let over = String::from_utf8_lossy(&huge)
        .replace("(1099511627776,)", "(1099511627776, 1099511627776)");
    assert!(NdArray::from_npy(over.as_bytes()).is_err());
}

#[test]
fn cut_and_flipped_files_are_errors_not_panics() {
    for file in [
        "struct_nested.npy",
        "object.npy",
        "fortran_f8.npy",
        "struct_euro.npy",
    ] {
        let data = read(file);
        for n in 0..data.len() {
            let _ = NdArray::from_npy(&data[..n]);
            let _ = NdArray::read_npy(&data[..n]);
        }
        for i in 0..data.len().min(300) {
            let mut d = data.clone();
            d[i] ^= 0x5a;
            if let Ok(a) = NdArray::from_npy(&d) {
                let _ = a.to_npy();
                for f in a.fields() {
                    let _ = a.field(&f.name);
                }
            }
        }
    }
}

#[test]
fn npz_fixtures_read_as_np_load_reads_them() {
    for e in entries("npz") {
        let file = e["file"].as_str().unwrap();
        if e["compressed"] == true && !cfg!(feature = "joblib-compress") {
            continue;
        }
        let want = e["arrays"].as_array().unwrap();
        let mut npz = NpzReader::open(dir().join(file)).unwrap();
        let keys: Vec<&str> = want.iter().map(|a| a["key"].as_str().unwrap()).collect();
        assert_eq!(npz.keys().collect::<Vec<_>>(), keys, "{file}");
        for w in want {
            let key = w["key"].as_str().unwrap();
            assert!(npz.is_array(key).unwrap());
            check(&format!("{file}[{key}]"), &npz.array(key).unwrap(), w);
        }
        // By member name too, as np.load looks it up.
        assert!(npz.array("weights.npy").is_err());
        assert_eq!(npz.array("arr_1.npy").unwrap().shape, [3, 4]);
        let all = pickle_codec::numpy::read_npz(&read(file)).unwrap();
        assert_eq!(
            all.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            keys
        );
        for ((k, a), w) in all.iter().zip(want) {
            check(&format!("{file}[{k}] (read_npz)"), a, w);
        }
    }
}

#[test]
fn a_corrupt_npz_member_fails_its_crc() {
    let mut data = read("savez.npz");
    let at = data.windows(6).position(|w| w == b"\x93NUMPY").unwrap();
    let last = at + 127 + 4; // inside the first member's data
    data[last] ^= 0xff;
    let mut npz = NpzReader::new(std::io::Cursor::new(&data)).unwrap();
    let first = npz.keys().next().unwrap().to_string();
    let e = npz.array(&first).unwrap_err();
    assert!(e.to_string().contains("CRC-32"), "{e}");
}

/// Arrays of every kind, from the fixtures.
fn sample_arrays() -> Vec<(String, NdArray<'static>)> {
    entries("npy")
        .iter()
        .filter(|e| e["encoding"].is_null())
        .map(|e| {
            let file = e["file"].as_str().unwrap();
            let a = NdArray::read_npy(&read(file)[..]).unwrap();
            (file.trim_end_matches(".npy").to_string(), a)
        })
        .collect()
}

#[test]
fn npz_written_reads_back() {
    let arrays = sample_arrays();
    let mut w = NpzWriter::new(Vec::new());
    for (k, a) in &arrays {
        w.add(k, a).unwrap();
    }
    assert!(w.add(&arrays[0].0, &arrays[0].1).is_err(), "a key twice");
    let bytes = w.finish().unwrap();
    let mut npz = NpzReader::new(std::io::Cursor::new(&bytes)).unwrap();
    for (k, a) in &arrays {
        let b = npz.array(k).unwrap();
        assert_eq!(b.to_npy().unwrap(), a.to_npy().unwrap(), "{k}");
    }
    // The same arrays, the same bytes.
    let mut again = NpzWriter::new(Vec::new());
    for (k, a) in &arrays {
        again.add(k, a).unwrap();
    }
    assert!(again.finish().unwrap() == bytes);
}

#[test]
fn numpy_loads_what_we_write() {
    if !common::python_available("numpy loading written .npy/.npz") {
        return;
    }
    let has_numpy = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .unwrap();
    if !has_numpy.status.success() {
        eprintln!("SKIPPED numpy_loads_what_we_write: numpy not installed");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("numpy is required in CI");
        }
        return;
    }
    let tmp = std::env::temp_dir().join(format!("pickle-codec-npy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let arrays = sample_arrays();
    let mut names = Vec::new();
    for (k, a) in &arrays {
        std::fs::write(tmp.join(format!("{k}.npy")), a.to_npy().unwrap()).unwrap();
        names.push(k.clone());
    }
    let mut w = NpzWriter::new(std::fs::File::create(tmp.join("stored.npz")).unwrap());
    for (k, a) in &arrays {
        w.add(k, a).unwrap();
    }
    w.finish().unwrap();
    #[cfg(feature = "joblib-compress")]
    {
        let mut w = NpzWriter::compressed(std::fs::File::create(tmp.join("deflated.npz")).unwrap());
        for (k, a) in &arrays {
            w.add(k, a).unwrap();
        }
        w.finish().unwrap();
    }
    let script = r#"
import hashlib, json, os, sys
import numpy as np
d = sys.argv[1]
def copy_fields(dst, src):
    for n in src.dtype.names:
        sub = src.dtype[n]
        if sub.names is not None or (sub.subdtype is not None and sub.subdtype[0].names is not None):
            copy_fields(dst[n], src[n])
        else:
            dst[n] = src[n]
def le_sha(a):
    if a.dtype.names is not None:
        z = np.zeros(a.shape, a.dtype)
        copy_fields(z, a)
        a = z
    c = np.ascontiguousarray(a)
    le = c.dtype.newbyteorder("<")
    if le != c.dtype:
        c = c.astype(le)
    return hashlib.sha256(c.tobytes()).hexdigest()
def describe(a):
    e = {"dtype": a.dtype.str, "shape": list(a.shape)}
    if a.dtype.hasobject:
        e["sha256"] = None
        e["objects"] = [repr(x.item() if isinstance(x, np.void) else x) for x in a.ravel()]
    else:
        e["sha256"] = le_sha(a)
    return e
out = {}
for n in sorted(os.listdir(d)):
    p = os.path.join(d, n)
    if n.endswith(".npy"):
        out[n[:-4]] = describe(np.load(p, allow_pickle=True))
    else:
        with np.load(p, allow_pickle=True) as z:
            out[n] = {k: describe(z[k]) for k in z.files}
print(json.dumps(out))
"#;
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&tmp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Json = serde_json::from_slice(&o.stdout).unwrap();
    let by_file: std::collections::HashMap<String, Json> = entries("npy")
        .into_iter()
        .map(|e| {
            (
                e["file"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches(".npy")
                    .to_string(),
                e,
            )
        })
        .collect();
    for (k, a) in &arrays {
        check(&format!("numpy's np.load of {k}.npy"), a, &got[k]);
        check(
            &format!("{k}: numpy agrees with the manifest"),
            a,
            &by_file[k],
        );
        check(
            &format!("numpy's np.load of stored.npz[{k}]"),
            a,
            &got["stored.npz"][k],
        );
        if cfg!(feature = "joblib-compress") {
            check(
                &format!("numpy's np.load of deflated.npz[{k}]"),
                a,
                &got["deflated.npz"][k],
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn from_vec_arrays_save_as_numpy_saves_them() {
    // np.save(f, np.arange(3.0)) and np.save(f, np.asfortranarray(np.arange(12.0).reshape(3, 4))).
    let f8 = NdArray::from_vec(
        vec![2, 3],
        &[0.0f64, 1.0 / 3.0, 2.0 / 3.0, 1.0, 4.0 / 3.0, 5.0 / 3.0],
    )
    .unwrap();
    assert!(f8.to_npy().unwrap() == read("f8.npy"));
    let c: Vec<f64> = (0..12).map(f64::from).collect();
    let mut fortran = Vec::new();
    for j in 0..4 {
        for i in 0..3 {
            fortran.extend_from_slice(&c[i * 4 + j].to_le_bytes());
        }
    }
    let a =
        NdArray::from_bytes(DType::parse("<f8").unwrap(), vec![3, 4], Order::F, fortran).unwrap();
    assert!(a.to_npy().unwrap() == read("fortran_f8.npy"));
}

#[test]
fn sklearn_tree_example_predicts_as_sklearn() {
    sklearn_tree::main().expect("the example's predictions equal scikit-learn's");
}
