//! numpy, scikit-learn and joblib fixtures (tests/fixtures/ml, written by
//! tests/scripts/gen_ml_fixtures.py): every array compared with the manifest,
//! without Python. Writing is checked in Python when python3 + numpy exist.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pickle_codec::numpy::{NdArray, Order, Scalar};
use pickle_codec::{Document, Encoding, LoadOptions};
use serde::Deserialize;
use serde_json::Value as Json;

fn dir() -> PathBuf {
    common::fixture_dir("ml")
}

fn manifest() -> Vec<Json> {
    common::fixture_manifest("ml")
}

fn hex(b: &[u8]) -> String {
    common::sha256_hex(b)
}

/// Load a fixture as its manifest entry says; None when it needs a feature that is off.
fn load(entry: &Json) -> Option<Document> {
    let data = std::fs::read(dir().join(entry["file"].as_str().unwrap())).unwrap();
    if entry["format"] == "joblib" {
        if entry["compressed"] == true && !cfg!(feature = "joblib-compress") {
            return None;
        }
        return Some(pickle_codec::joblib::load(&data).unwrap());
    }
    let mut opts = LoadOptions::default();
    if let Some(bufs) = entry["buffers"].as_array() {
        opts = opts.buffers(
            bufs.iter()
                .map(|b| std::fs::read(dir().join(b.as_str().unwrap())).unwrap())
                .collect(),
        );
    }
    if entry["encoding"] == "latin1" {
        opts = opts.encoding(Encoding::Latin1);
    }
    Some(pickle_codec::loads_with(&data, opts).unwrap())
}

fn check_array(file: &str, a: &NdArray<'_>, want: &Json) {
    let ctx = format!("{file} {}", want["path"]);
    assert_eq!(a.dtype.str(), want["dtype"].as_str().unwrap(), "{ctx}");
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(a.shape, shape, "{ctx}");
    match want["sha256"].as_str() {
        Some(h) => assert_eq!(hex(&a.to_le_bytes().unwrap()), h, "{ctx}"),
        None => {
            let (doc, items) = a.objects().expect("object array");
            let got: Vec<String> = items
                .iter()
                .map(|&v| pickle_codec::arrays::short_repr(doc.get(v)))
                .collect();
            let want: Vec<String> = want["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "{ctx}");
        }
    }
}

#[test]
fn every_fixture_array_matches_the_manifest() {
    let mut checked = 0;
    for entry in manifest() {
        let file = entry["file"].as_str().unwrap();
        let Some(doc) = load(&entry) else {
            println!("skip {file}: needs the joblib-compress feature");
            continue;
        };
        let Some(want) = entry["arrays"].as_array() else {
            continue;
        };
        let found: HashMap<String, NdArray<'_>> = pickle_codec::arrays::find_ndarrays(doc.root())
            .into_iter()
            .map(|(p, a)| (p, a.unwrap_or_else(|e| panic!("{file}: {e}"))))
            .collect();
        assert_eq!(
            found.len(),
            want.len(),
            "{file}: {:?}",
            found.keys().collect::<Vec<_>>()
        );
        for w in want {
            let a = found
                .get(w["path"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{file}: no array at {}", w["path"]));
            check_array(file, a, w);
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked}");
}

#[test]
fn typed_element_access() {
    let doc = pickle_codec::loads(&std::fs::read(dir().join("be_f8.p2.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    assert_eq!(a.to_vec::<f64>().unwrap(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert!(a.to_vec::<f32>().is_err());
    let doc =
        pickle_codec::loads(&std::fs::read(dir().join("fortran_f8.p4.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    assert_eq!(a.order, Order::F);
    assert_eq!(
        a.to_vec::<f64>().unwrap(),
        (0..12).map(f64::from).collect::<Vec<_>>()
    );
    let doc = pickle_codec::loads(&std::fs::read(dir().join("f2.p5.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    assert_eq!(
        a.to_f64_vec().unwrap(),
        vec![
            0.0,
            0.333251953125,
            0.66650390625,
            1.0,
            1.3330078125,
            1.6669921875
        ]
    );
    let doc = pickle_codec::loads(&std::fs::read(dir().join("c16.p4.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    assert_eq!(a.to_vec::<[f64; 2]>().unwrap()[0], [1.0, 2.0]);
    let doc = pickle_codec::loads(&std::fs::read(dir().join("M8D.p2.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    assert_eq!(a.to_vec::<i64>().unwrap(), vec![19723, 20269, i64::MIN]);
    let doc = pickle_codec::loads(&std::fs::read(dir().join("struct.p4.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    let names: Vec<_> = a
        .dtype
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.dtype.str(), f.offset))
        .collect();
    assert_eq!(
        names,
        vec![
            ("i", "<i8".into(), 0),
            ("f", ">f4".into(), 8),
            ("s", "|S2".into(), 12)
        ]
    );
    // Borrowed: the data lies in the document.
    assert!(matches!(
        a.data,
        pickle_codec::numpy::ArrayData::Bytes(std::borrow::Cow::Borrowed(_))
    ));
}

#[test]
fn numpy_scalars() {
    for p in [2, 4] {
        let entry = manifest()
            .into_iter()
            .find(|e| e["file"] == format!("scalars.p{p}.pkl"))
            .unwrap();
        let doc = load(&entry).unwrap();
        let want = entry["scalars"].as_array().unwrap();
        let items: Vec<_> = doc.root().iter().collect();
        assert_eq!(items.len(), want.len());
        for (v, w) in items.into_iter().zip(want) {
            let (dt, s) = Scalar::from_value(v).unwrap();
            assert_eq!(dt.str(), w["dtype"].as_str().unwrap());
            let got = match s {
                Scalar::Bool(b) => Json::from(b),
                Scalar::Int(i) => Json::from(i),
                Scalar::UInt(u) => Json::from(u),
                Scalar::Float(f) => Json::from(f),
                Scalar::Complex(a, b) => Json::from(vec![a, b]),
                Scalar::Str(s) => Json::from(s),
                Scalar::Bytes(b) | Scalar::Raw(b) => Json::from(b),
            };
            assert_eq!(&got, &w["value"], "{}", dt.str());
        }
    }
}

#[test]
fn arrays_write_back_and_reload_equal() {
    for entry in manifest() {
        let Some(doc) = load(&entry) else { continue };
        for (path, a) in pickle_codec::arrays::find_ndarrays(doc.root()) {
            let a = a.unwrap();
            for p in [2u8, 3, 4, 5] {
                let mut out = Document::new();
                let v = a.to_value(&mut out, p);
                out.set_root(v);
                let bytes = pickle_codec::dumps(&out, p).unwrap();
                let back = pickle_codec::loads(&bytes).unwrap();
                let b = NdArray::from_value(back.root()).unwrap();
                let ctx = format!("{} {path} p{p}", entry["file"]);
                assert_eq!(b.dtype, a.dtype, "{ctx}");
                assert_eq!(b.shape, a.shape, "{ctx}");
                if a.raw().is_some() {
                    assert_eq!(b.to_le_bytes().unwrap(), a.to_le_bytes().unwrap(), "{ctx}");
                }
            }
        }
    }
}

#[test]
fn python_loads_what_we_write() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipped: python3 with numpy not found");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("pickle-codec-ml-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut listing = Vec::new();
    for entry in manifest() {
        let Some(doc) = load(&entry) else { continue };
        for (i, (_, a)) in pickle_codec::arrays::find_ndarrays(doc.root())
            .into_iter()
            .enumerate()
        {
            let a = a.unwrap();
            if a.raw().is_none() {
                continue;
            }
            for p in [2u8, 4, 5] {
                let mut out = Document::new();
                let v = a.to_value(&mut out, p);
                out.set_root(v);
                let mut bufs = Vec::new();
                let bytes = if p == 5 {
                    let shared = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
                    let s2 = shared.clone();
                    let mut opts = pickle_codec::DumpOptions::new(5).buffer_callback(
                        move |b: &pickle_codec::Buffer| {
                            s2.borrow_mut().push(b.data.clone());
                            false
                        },
                    );
                    let r = pickle_codec::dumps_with(&out, &mut opts).unwrap();
                    bufs = shared.borrow().clone();
                    r
                } else {
                    pickle_codec::dumps(&out, p).unwrap()
                };
                let name = format!("{}.{i}.p{p}", entry["file"].as_str().unwrap());
                std::fs::write(tmp.join(&name), bytes).unwrap();
                for (j, b) in bufs.iter().enumerate() {
                    std::fs::write(tmp.join(format!("{name}.buf{j}")), b).unwrap();
                }
                listing.push(serde_json::json!({
                    "file": name, "nbuf": bufs.len(), "dtype": a.dtype.str(), "shape": a.shape,
                    "sha256": hex(&a.to_le_bytes().unwrap()),
                    "names": a.dtype.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
                }));
            }
        }
    }
    std::fs::write(tmp.join("list.json"), serde_json::to_vec(&listing).unwrap()).unwrap();
    let script = r#"
import hashlib, json, pickle, sys, os, warnings
import numpy as np
warnings.simplefilter("error")
warnings.filterwarnings("ignore", category=ResourceWarning)
# numpy 2 deprecates the numpy.core.numeric name that numpy 1.x needs for _frombuffer.
warnings.filterwarnings("ignore", category=DeprecationWarning, message="numpy.core.numeric")
d = sys.argv[1]
bad = 0
for e in json.load(open(os.path.join(d, "list.json"))):
    bufs = [open(os.path.join(d, "%s.buf%d" % (e["file"], j)), "rb").read() for j in range(e["nbuf"])]
    a = pickle.loads(open(os.path.join(d, e["file"]), "rb").read(), buffers=bufs)
    c = np.ascontiguousarray(a)
    h = hashlib.sha256(c.astype(c.dtype.newbyteorder("<")).tobytes()).hexdigest()
    # numpy's own unpickling may swap a big-endian array to native order: compare values.
    if a.dtype.kind == "V":
        same = a.dtype.str == e["dtype"] and list(a.dtype.names or []) == e["names"]
    else:
        same = a.dtype.newbyteorder("<") == np.dtype(e["dtype"]).newbyteorder("<")
    if type(a) is not np.ndarray or not same or list(a.shape) != e["shape"] or h != e["sha256"]:
        bad += 1
        print("MISMATCH", e["file"], a.dtype.str, a.shape)
print("checked", len(json.load(open(os.path.join(d, "list.json")))), "bad", bad)
sys.exit(1 if bad else 0)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&tmp)
        .output()
        .unwrap();
    println!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(out.status.success());
}

// ---- scikit-learn through serde ----

#[derive(Deserialize)]
struct LinearRegression {
    coef_: NdArray<'static>,
    intercept_: f64,
    n_features_in_: usize,
}

#[derive(Deserialize)]
struct StandardScaler {
    mean_: Option<NdArray<'static>>,
    scale_: Option<NdArray<'static>>,
}

#[derive(Deserialize)]
struct LogisticRegression {
    coef_: NdArray<'static>,
    intercept_: NdArray<'static>,
    classes_: NdArray<'static>,
}

fn predict_case(file: &str) -> (Vec<u8>, Vec<Vec<f64>>, Vec<f64>) {
    let entry = manifest().into_iter().find(|e| e["file"] == file).unwrap();
    let x = entry["predict"]["X"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let y = entry["predict"]["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (std::fs::read(dir().join(file)).unwrap(), x, y)
}

#[test]
fn sklearn_linear_regression_through_serde() {
    let (data, x, y) = predict_case("sklearn_linreg.p4.pkl");
    let m: LinearRegression = pickle_codec::from_slice(&data).unwrap();
    assert_eq!(m.n_features_in_, 3);
    let coef = m.coef_.to_vec::<f64>().unwrap();
    for (row, want) in x.iter().zip(&y) {
        let got: f64 = row.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>() + m.intercept_;
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

#[test]
fn sklearn_pipeline_through_serde() {
    let (data, x, y) = predict_case("sklearn_pipeline.p5.pkl");
    let doc = pickle_codec::loads(&data).unwrap();
    let steps: Vec<_> = doc.root().get("steps").unwrap().iter().collect();
    let scaler: StandardScaler = pickle_codec::from_value_ref(steps[0].index(1).unwrap()).unwrap();
    let lr: LogisticRegression = pickle_codec::from_value_ref(steps[1].index(1).unwrap()).unwrap();
    let (mean, scale) = (
        scaler.mean_.unwrap().to_vec::<f64>().unwrap(),
        scaler.scale_.unwrap().to_vec::<f64>().unwrap(),
    );
    assert_eq!(lr.coef_.shape, vec![1, 3]);
    assert_eq!(lr.classes_.to_vec::<i64>().unwrap(), vec![0, 1]);
    let coef = lr.coef_.to_vec::<f64>().unwrap();
    let b = lr.intercept_.to_vec::<f64>().unwrap()[0];
    for (row, want) in x.iter().zip(&y) {
        let z: f64 = row
            .iter()
            .enumerate()
            .map(|(i, v)| (v - mean[i]) / scale[i] * coef[i])
            .sum::<f64>()
            + b;
        let p = 1.0 / (1.0 + (-z).exp());
        assert!((p - want).abs() < 1e-12, "{p} vs {want}");
    }
}

/// The shared conformance kit's gen_ml.py output through the same listing
/// logic as `pickle arrays` (find_ndarrays + C-order little-endian sha256).
#[test]
fn conformance_kit_gen_ml() {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/gen_ml.py");
    if !kit.exists() {
        println!("skipped: {} not found", kit.display());
        return;
    }
    let ok = std::process::Command::new("python3")
        .args(["-c", "import numpy, pandas, sklearn, joblib"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipped: python3 with numpy, pandas, scikit-learn and joblib not found");
        return;
    }
    let mut checked = 0;
    for (set, seed) in [("public", "0"), ("variant", "4711")] {
        let out =
            std::env::temp_dir().join(format!("pickle-codec-genml-{set}-{}", std::process::id()));
        let st = std::process::Command::new("python3")
            .arg(&kit)
            .arg(&out)
            .args(["--set", set, "--seed", seed])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let m: Json =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        for e in m["files"].as_array().unwrap() {
            let file = e["file"].as_str().unwrap();
            let data = std::fs::read(out.join(file)).unwrap();
            let mut opts = LoadOptions::default();
            if let Some(b) = e["buffers"].as_array() {
                opts = opts.buffers(
                    b.iter()
                        .map(|n| std::fs::read(out.join(n.as_str().unwrap())).unwrap())
                        .collect(),
                );
            }
            let doc = pickle_codec::joblib::load_with(&data, opts)
                .unwrap_or_else(|err| panic!("{file}: {err}"));
            let arrays = pickle_codec::arrays::find_ndarrays(doc.root());
            for (p, a) in &arrays {
                if let Err(err) = a {
                    panic!("{file} {p}: {err}");
                }
            }
            let Some(x) = e.get("expect") else { continue };
            let (_, a) = arrays
                .iter()
                .find(|(p, _)| p.is_empty())
                .unwrap_or_else(|| panic!("{file}: no root array"));
            let a = a.as_ref().unwrap();
            assert_eq!(a.dtype.str(), x["dtype"].as_str().unwrap(), "{file}");
            assert_eq!(
                a.shape,
                x["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect::<Vec<_>>(),
                "{file}"
            );
            assert_eq!(
                hex(&a.to_le_bytes().unwrap()),
                x["values_sha256"].as_str().unwrap(),
                "{file}"
            );
            checked += 1;
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    println!("conformance kit: {checked} arrays checked");
    assert!(checked > 0);
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_conversion() {
    let doc =
        pickle_codec::loads(&std::fs::read(dir().join("fortran_f8.p4.pkl")).unwrap()).unwrap();
    let a = NdArray::from_value(doc.root()).unwrap();
    let nd = a.to_ndarray::<f64>().unwrap();
    assert_eq!(nd.shape(), &[3, 4]);
    assert_eq!(nd[[1, 2]], 6.0);
    let back = NdArray::from_ndarray(&nd);
    assert_eq!(back.to_le_bytes().unwrap(), a.to_le_bytes().unwrap());
}

/// joblib < 0.10: arrays in side files next to the pickle (`NDArrayWrapper`:
/// `.npy`; `ZNDArrayWrapper`: a `ZF` zfile of the raw data), read by path;
/// without a folder to look in, an error naming the side file.
#[cfg(feature = "joblib-compress")]
#[test]
fn joblib_before_0_10_reads_its_side_files() {
    use pickle_codec::joblib;
    let dir = common::fixture_dir("external").join("joblib");
    for file in [
        "joblib_0.9.2_pickle_py33_np18.pkl",
        "joblib_0.9.4.dev0_compressed_cache_size_pickle_py35_np19.gz",
    ] {
        let path = dir.join(file);
        let doc = joblib::load_path(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let arrays = pickle_codec::arrays::find_ndarrays(doc.root());
        let paths: Vec<&str> = arrays.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["[0]", "[1]", "[2]", "[4]"], "{file}");
        let a = arrays[0].1.as_ref().unwrap();
        assert_eq!(a.to_vec::<i64>().unwrap(), [0, 1, 2, 3, 4], "{file}");
        let m = arrays[3].1.as_ref().unwrap();
        assert_eq!(
            m.class,
            Some(("numpy.matrixlib.defmatrix".into(), "matrix".into())),
            "{file}"
        );
        // From bytes alone the side files cannot be found: a clear error.
        let err = joblib::load(&std::fs::read(&path).unwrap()).unwrap_err();
        assert!(err.to_string().contains("side file"), "{file}: {err}");
    }
    // A side file name is a plain name in the folder, nothing else.
    let mut side = joblib::side_files_in(&dir, 1 << 20);
    for name in ["../SOURCES.md", "/etc/passwd", "..", "", "a\\b", "c:x"] {
        assert!(side(name).is_err(), "{name:?}");
    }
    assert!(side("joblib_0.9.2_pickle_py33_np18.pkl_01.npy").is_ok());
}
