//! `torch::save`: checkpoints written here, read back by this crate's reader
//! and, once, by real PyTorch.
//!
//! The checkpoints of [`fixtures`] are committed in
//! tests/fixtures/torch/written/ (rewritten with
//! `PICKLE_CODEC_WRITE_TORCH_FIXTURES=1 cargo test --features torch --test
//! torch_save`), and tests/scripts/check_torch_save.py, run with PyTorch,
//! recorded in tests/fixtures/torch/written_expect.json what
//! `torch.load(weights_only=True)` gives for each (every tensor's path,
//! dtype, shape, stride and bytes, every other value's repr) and whether
//! `torch.save` of the same object, built in Python, writes the same bytes
//! (the random serialization id aside). Here: the files written now are the
//! committed ones byte for byte (so torch's verdict holds for them), this
//! crate's reader sees what torch saw, and, where `python3` (or
//! `$PICKLE_CODEC_TORCH_PYTHON`) imports torch, the script checks freshly
//! written files against the expectation.
#![cfg(feature = "torch")]

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::numpy::{self, NdArray, Order};
use pickle_codec::torch::{self, Checkpoint, DType, SaveTensor, SaveValue, Saver, StateDict};
use pickle_codec::{Kind, ValueRef};
use serde_json::{json, Value as Json};

/// Every dtype the writer takes, with a shape for it (the order is the
/// script's, `DTYPES` there).
const DTYPES: [(DType, &[usize]); 28] = [
    (DType::Float32, &[2, 3]),
    (DType::Float64, &[4]),
    (DType::Float16, &[3, 2]),
    (DType::BFloat16, &[5]),
    (DType::Int8, &[2, 2, 2]),
    (DType::Int16, &[3]),
    (DType::Int32, &[1, 4]),
    (DType::Int64, &[2]),
    (DType::UInt8, &[7]),
    (DType::Bool, &[3, 3]),
    (DType::Complex64, &[2]),
    (DType::Complex128, &[1]),
    (DType::Complex32, &[3]),
    (DType::UInt16, &[4]),
    (DType::UInt32, &[2, 2]),
    (DType::UInt64, &[3]),
    (DType::Float8E4M3Fn, &[6]),
    (DType::Float8E5M2, &[2, 3]),
    (DType::Float8E4M3FnUz, &[4]),
    (DType::Float8E5M2FnUz, &[1, 1, 2]),
    (DType::Float8E8M0Fnu, &[3]),
    (DType::Float4E2M1FnX2, &[2, 2]),
    (DType::BComplex32, &[2]),
    (DType::Bits8, &[3]),
    (DType::Bits16, &[2]),
    (DType::Bits1x8, &[2]),
    (DType::Bits2x4, &[1]),
    (DType::Bits4x2, &[4]),
];

/// The bytes of tensor number `seed` (the script's `pattern`).
fn pattern(n: usize, seed: usize) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 31 + seed * 17 + 7) % 251) as u8)
        .collect()
}

/// A tensor of `pattern` bytes (bools 0 and 1), as the script's `T`.
fn t(dtype: DType, shape: &[usize], seed: usize) -> SaveTensor<'static> {
    let n: usize = shape.iter().product::<usize>() * dtype.itemsize();
    let mut b = pattern(n, seed);
    if dtype == DType::Bool {
        b.iter_mut().for_each(|x| *x &= 1);
    }
    SaveTensor::from_bytes(dtype, shape, b).unwrap()
}

/// The same tensor made from a numpy array in Fortran order or big-endian.
fn from_numpy(dtype: &str, shape: &[usize], seed: usize, order: Order) -> SaveTensor<'static> {
    let np = numpy::DType::parse(dtype).unwrap();
    let size = np.itemsize;
    let c = pattern(shape.iter().product::<usize>() * size, seed);
    let mut raw = c.clone();
    if order == Order::F {
        // Element (i, j) of a 2-d array goes to j * rows + i.
        let (rows, cols) = (shape[0], shape[1]);
        for i in 0..rows {
            for j in 0..cols {
                let (from, to) = ((i * cols + j) * size, (j * rows + i) * size);
                raw[to..to + size].copy_from_slice(&c[from..from + size]);
            }
        }
    }
    if np.is_big_endian() {
        raw.chunks_exact_mut(size).for_each(<[u8]>::reverse);
    }
    let a = NdArray::from_bytes(np, shape.to_vec(), order, raw).unwrap();
    let t = SaveTensor::from_ndarray(&a).unwrap();
    assert_eq!(t.data(), c, "C order, little-endian");
    t.into_owned()
}

/// The checkpoints, by file name; tests/scripts/check_torch_save.py builds
/// each in Python again.
fn fixtures() -> Vec<(&'static str, SaveValue<'static>)> {
    let mut sd = StateDict::new();
    for (i, &(d, shape)) in DTYPES.iter().enumerate() {
        sd.insert(format!("layers.{i}.{}", d.name()), t(d, shape, i));
    }
    sd.insert("scalar", t(DType::Float32, &[], 30));
    sd.insert("empty", t(DType::Float32, &[0], 31));
    sd.insert("empty3d", t(DType::Int64, &[3, 0, 2], 32));
    sd.insert("grad", t(DType::Float32, &[2], 33).requires_grad(true));
    sd.insert("param", t(DType::Float32, &[3], 34).parameter());
    sd.insert(
        "frozen",
        t(DType::Int64, &[2], 35).parameter().requires_grad(false),
    );
    sd.insert("param_bf16", t(DType::BFloat16, &[2], 36).parameter());
    sd.insert(
        "param_u16",
        t(DType::UInt16, &[2], 37).parameter().requires_grad(false),
    );
    sd.insert("np.fortran", from_numpy("<i4", &[2, 3], 38, Order::F));
    sd.insert("np.big", from_numpy(">f8", &[3], 39, Order::C));
    sd.insert("np.big_fortran", from_numpy(">i2", &[3, 2], 40, Order::F));
    let f2 = NdArray::from_vec(vec![2], &[1.5f32, -2.0]).unwrap();
    sd.insert("np.f4", SaveTensor::from_ndarray(&f2).unwrap().into_owned());
    sd.insert(
        "half",
        SaveTensor::from_bits(DType::Float16, &[2], &[0x3c00, 0xc000]).unwrap(),
    );

    let wide: Vec<(String, SaveValue)> = (0..1001)
        .map(|i| (format!("k{i}"), SaveValue::from(i)))
        .collect();
    let wide_dict: Vec<(torch::SaveKey, SaveValue)> = (0..1001)
        .map(|i| (format!("d{i}").into(), SaveValue::from(i)))
        .collect();
    let checkpoint = SaveValue::dict([
        ("epoch", SaveValue::from(3)),
        ("step", (1i64 << 40).into()),
        ("big", (1i128 << 70).into()),
        ("neg_big", (-(1i128 << 70)).into()),
        ("neg", (-5).into()),
        ("lr", 1e-3.into()),
        ("nan", f64::NAN.into()),
        ("inf", f64::INFINITY.into()),
        ("ninf", f64::NEG_INFINITY.into()),
        ("negzero", (-0.0).into()),
        ("name", "resnet".into()),
        ("device", "cpu".into()),
        ("storage", "storage".into()),
        ("note", "caf\u{e9} \u{2615} two words".into()),
        ("x", "x".into()),
        ("empty_str", "".into()),
        (
            "flags",
            SaveValue::list([true.into(), false.into(), SaveValue::None]),
        ),
        ("shape", SaveValue::tuple([3, 4])),
        ("single", SaveValue::tuple([1])),
        ("empty_list", SaveValue::List(vec![])),
        ("empty_tuple", SaveValue::Tuple(vec![])),
        ("empty_dict", SaveValue::Dict(vec![])),
        ("empty_od", StateDict::new().into()),
        (
            "model",
            StateDict::new()
                .with("weight", t(DType::Float32, &[2, 2], 100))
                .with("bias", t(DType::Float32, &[2], 101))
                .into(),
        ),
        (
            "history",
            SaveValue::list([
                SaveValue::from(t(DType::Float64, &[2], 102)),
                SaveValue::tuple([SaveValue::from(t(DType::Int8, &[1], 103)), "tag".into()]),
            ]),
        ),
        (
            "nested",
            SaveValue::dict([
                (
                    "a",
                    SaveValue::list([1.into(), SaveValue::tuple([2.into(), SaveValue::from("y")])]),
                ),
                ("od", SaveValue::ordered_dict([("b", 1.5)])),
            ]),
        ),
        ("ints", SaveValue::list(0..1500)),
        ("wide", SaveValue::OrderedDict(wide)),
        ("wide_dict", SaveValue::Dict(wide_dict)),
    ]);

    let many: StateDict = (0..40)
        .map(|i| {
            (
                format!("blocks.{i}.weight"),
                t(DType::Float32, &[2], 1000 + i),
            )
        })
        .collect();
    let list_root = SaveValue::list([
        SaveValue::from(t(DType::UInt16, &[2], 300)),
        t(DType::Float8E5M2, &[2], 301).into(),
        1.into(),
        "a".into(),
    ]);
    // A tied weight: two names lending the same bytes, one storage.
    let w: &'static [u8] = Box::leak(pattern(16, 500).into_boxed_slice());
    let tied = StateDict::new()
        .with(
            "embed.weight",
            SaveTensor::from_bytes(DType::Float32, &[2, 2], w).unwrap(),
        )
        .with("other", t(DType::Float32, &[2], 501))
        .with(
            "head.weight",
            SaveTensor::from_bytes(DType::Float32, &[2, 2], w).unwrap(),
        );
    // An optimizer's state dict: its `state` keyed by parameter index.
    let optimizer = SaveValue::dict([
        (
            "state",
            SaveValue::dict([
                (
                    0,
                    SaveValue::dict([
                        ("step", t(DType::Float32, &[], 400)),
                        ("exp_avg", t(DType::Float32, &[2], 401)),
                    ]),
                ),
                (
                    1,
                    SaveValue::dict([
                        ("step", t(DType::Float32, &[], 402)),
                        ("exp_avg", t(DType::Float32, &[3], 403)),
                    ]),
                ),
            ]),
        ),
        (
            "param_groups",
            SaveValue::list([SaveValue::dict([
                ("lr", SaveValue::from(1e-3)),
                ("betas", SaveValue::tuple([0.9, 0.999])),
                ("params", SaveValue::list([0, 1])),
            ])]),
        ),
        (
            "odd_keys",
            SaveValue::Dict(vec![
                ((-1).into(), "neg".into()),
                ((1i128 << 70).into(), "big".into()),
                ((-(1i128 << 70)).into(), "neg_big".into()),
                ("s".into(), 0.into()),
                (255.into(), "u8".into()),
                (65536.into(), "u32".into()),
            ]),
        ),
    ]);
    vec![
        ("state_dict.pt", sd.into()),
        ("checkpoint.pt", checkpoint),
        ("empty.pt", StateDict::new().into()),
        ("tensor.pt", t(DType::Float32, &[2, 2], 200).into()),
        ("many.pt", many.into()),
        ("list_root.pt", list_root),
        ("optimizer.pt", optimizer),
        ("tied.pt", tied.into()),
    ]
}

fn written_dir() -> PathBuf {
    common::fixture_dir("torch").join("written")
}

fn stem(file: &str) -> &str {
    file.strip_suffix(".pt").unwrap()
}

/// The checkpoint's bytes, written as `torch::save(path)` names it.
fn bytes_of(file: &str, obj: &SaveValue<'_>) -> Vec<u8> {
    Saver::new().archive_name(stem(file)).to_vec(obj).unwrap()
}

/// A container's item: its path segment, its value, its key (dicts).
type Item<'a> = (String, ValueRef<'a>, Option<ValueRef<'a>>);

/// What the script records of a loaded object, in the order it meets
/// them: containers' types, tensors, other values' reprs; a container of
/// plain values is one entry with its items' reprs.
fn entries(ck: &Checkpoint<Cursor<Vec<u8>>>) -> Vec<Json> {
    let doc = ck.document().clone();
    let mut out = Vec::new();
    let mut stack: Vec<(String, ValueRef<'_>)> = vec![(String::new(), doc.root())];
    while let Some((path, v)) = stack.pop() {
        let mut kids: Vec<(String, ValueRef<'_>)> = Vec::new();
        let key = |k: ValueRef<'_>| format!("[{}]", pickle_codec::arrays::short_repr(k));
        if let Some(t) = torch::Tensor::from_value(v) {
            let t = t.unwrap();
            let bytes = ck.tensor_bytes(&t).unwrap();
            out.push(json!({"path": path, "tensor": {
                "dtype": t.dtype().name(), "shape": t.shape, "stride": t.stride,
                "storage_offset": t.storage_offset, "requires_grad": t.requires_grad,
                "parameter": t.parameter, "sha256": common::sha256_hex(&bytes)}}));
            continue;
        }
        let (ty, pairs): (&str, Vec<Item<'_>>) = match v.kind() {
            Kind::Dict(pairs) => (
                "dict",
                pairs
                    .iter()
                    .map(|&(k, c)| (key(v.at(k)), v.at(c), Some(v.at(k))))
                    .collect(),
            ),
            Kind::List(items) | Kind::Tuple(items) => (
                if matches!(v.kind(), Kind::List(_)) {
                    "list"
                } else {
                    "tuple"
                },
                items
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| (format!("[{i}]"), v.at(c), None))
                    .collect(),
            ),
            Kind::Object(o) => {
                assert_eq!(
                    v.at(o.callable).as_global(),
                    Some(("collections", "OrderedDict")),
                    "{path}"
                );
                let items = o.ops.iter().map(|op| {
                    let pickle_codec::ObjectOp::SetItem(k, c) = *op else {
                        panic!("{path}: {op:?}")
                    };
                    (key(v.at(k)), v.at(c), Some(v.at(k)))
                });
                ("OrderedDict", items.collect())
            }
            _ => {
                out.push(json!({"path": path, "repr": v.to_string()}));
                continue;
            }
        };
        let plain = |x: ValueRef<'_>| {
            matches!(
                x.kind(),
                Kind::None
                    | Kind::Bool(_)
                    | Kind::Int(_)
                    | Kind::BigInt(_)
                    | Kind::Float(_)
                    | Kind::Str(_)
            )
        };
        if pairs.iter().all(|(_, c, _)| plain(*c)) {
            let items: Vec<Json> = pairs
                .iter()
                .map(|(_, c, k)| match k {
                    Some(k) => json!([pickle_codec::arrays::short_repr(*k), c.to_string()]),
                    None => json!(c.to_string()),
                })
                .collect();
            out.push(json!({"path": path, "type": ty, "items": items}));
            continue;
        }
        out.push(json!({"path": path, "type": ty}));
        for (seg, c, _) in pairs {
            kids.push((format!("{path}{seg}"), c));
        }
        stack.extend(kids.into_iter().rev());
    }
    out
}

fn expectation() -> Json {
    let path = common::fixture_dir("torch").join("written_expect.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_dtype_round_trips_through_the_reader() {
    for &(d, shape) in &DTYPES {
        let tensor = t(d, shape, 7);
        let want = tensor.data().to_vec();
        let sd = StateDict::new()
            .with("t", tensor)
            .with("g", t(DType::Float32, &[1], 8).requires_grad(true));
        let bytes = torch::save_to(Vec::new(), &sd).unwrap();
        let ck = Checkpoint::from_reader(Cursor::new(bytes)).unwrap();
        assert!(!ck.is_big_endian());
        let tensors = ck.tensors();
        assert_eq!(tensors.len(), 2);
        let (path, got) = &tensors[0];
        let got = got.as_ref().unwrap();
        assert_eq!(path, "['t']");
        assert_eq!(got.dtype(), d);
        assert_eq!(got.shape, shape);
        assert!(got.is_contiguous());
        assert!(!got.requires_grad && !got.parameter);
        assert_eq!(ck.tensor_bytes(got).unwrap(), want, "{}", d.name());
        assert!(tensors[1].1.as_ref().unwrap().requires_grad);
    }
    // Typed reads of typed writes.
    let sd = StateDict::new()
        .with(
            "f",
            SaveTensor::from_slice(&[2, 2], &[1f32, -2., 3.5, 0.]).unwrap(),
        )
        .with(
            "i",
            SaveTensor::from_slice(&[3], &[-1i64, 0, i64::MAX]).unwrap(),
        )
        .with("b", SaveTensor::from_slice(&[2], &[true, false]).unwrap())
        .with(
            "c",
            SaveTensor::from_slice(&[1], &[[1.5f64, -0.5]]).unwrap(),
        )
        .with(
            "bf",
            SaveTensor::from_bits(DType::BFloat16, &[2], &[0x3fc0, 0xc000]).unwrap(),
        )
        .with(
            "p",
            SaveTensor::from_slice(&[1], &[2f64]).unwrap().parameter(),
        );
    let ck =
        Checkpoint::from_reader(Cursor::new(torch::save_to(Vec::new(), &sd).unwrap())).unwrap();
    let ts: Vec<torch::Tensor> = ck.tensors().into_iter().map(|(_, t)| t.unwrap()).collect();
    assert_eq!(ck.read::<f32>(&ts[0]).unwrap(), [1., -2., 3.5, 0.]);
    assert_eq!(ck.read::<i64>(&ts[1]).unwrap(), [-1, 0, i64::MAX]);
    assert_eq!(ck.read::<bool>(&ts[2]).unwrap(), [true, false]);
    assert_eq!(ck.read::<[f64; 2]>(&ts[3]).unwrap(), [[1.5, -0.5]]);
    assert_eq!(ck.read_f64(&ts[4]).unwrap(), [1.5, -2.0]);
    assert!(ts[5].parameter && ts[5].requires_grad);
    assert_eq!(ck.read::<f64>(&ts[5]).unwrap(), [2.0]);
}

#[test]
fn written_files_are_the_committed_ones() {
    let dir = written_dir();
    let regenerate = std::env::var_os("PICKLE_CODEC_WRITE_TORCH_FIXTURES").is_some();
    if regenerate {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (file, obj) in fixtures() {
        let bytes = bytes_of(file, &obj);
        if regenerate {
            torch::save(dir.join(file), &obj).unwrap();
        }
        let committed = std::fs::read(dir.join(file)).unwrap();
        // The scanner finds nothing but data in them.
        let report = pickle_codec::scan::scan_bytes(&committed, &Default::default());
        assert_eq!(
            report.verdict(),
            pickle_codec::scan::Verdict::Safe,
            "{file}: {:?}",
            report.findings
        );
        assert!(
            committed == bytes,
            "{file}: written bytes differ from the committed file; if the change is meant, regenerate (PICKLE_CODEC_WRITE_TORCH_FIXTURES=1) and run tests/scripts/check_torch_save.py --record with torch"
        );
    }
}

#[test]
fn the_reader_sees_what_torch_saw() {
    let expect = expectation();
    let files = expect["files"].as_object().unwrap();
    let fixtures = fixtures();
    assert_eq!(files.len(), fixtures.len());
    for (file, obj) in &fixtures {
        let e = &files[*file];
        assert_eq!(
            e["same_as_torch_save"], true,
            "{file}: torch.save wrote other bytes"
        );
        let ck = Checkpoint::from_reader(Cursor::new(bytes_of(file, obj))).unwrap();
        let got = entries(&ck);
        let want = e["entries"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{file}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g, w, "{file}");
        }
    }
}

#[test]
fn save_names_the_archive_after_the_file() {
    let dir = std::env::temp_dir().join(format!("pickle-codec-torch-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sd = StateDict::new().with("w", t(DType::Float32, &[2], 1));
    let path = dir.join("model.v2.pt");
    torch::save(&path, &sd).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes,
        Saver::new().archive_name("model.v2").to_vec(&sd).unwrap()
    );
    assert_eq!(&bytes[30..30 + 17], b"model.v2/data.pkl");
    let to_writer = torch::save_to(Vec::new(), &sd).unwrap();
    assert_eq!(&to_writer[30..30 + 16], b"archive/data.pkl");
    // The caller's serialization id, as the last record.
    let id = "0123456789".repeat(4);
    let b = Saver::new()
        .serialization_id(id.clone())
        .to_vec(&sd)
        .unwrap();
    assert!(b.windows(40).any(|w| w == id.as_bytes()));
    // Refused before the file is made: a name torch refuses, an archive
    // name that is no folder name.
    let hidden = dir.join(".pt");
    let e = torch::save(&hidden, &sd).unwrap_err();
    assert!(e.to_string().contains("invalid file name"), "{e}");
    let e = Saver::new().archive_name("a/b").save(dir.join("x.pt"), &sd);
    assert!(e.unwrap_err().to_string().contains("without '/'"));
    assert!(!hidden.exists() && !dir.join("x.pt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A python3 that imports torch: `$PICKLE_CODEC_TORCH_PYTHON`, else `python3`.
fn torch_python() -> Option<String> {
    let py = std::env::var("PICKLE_CODEC_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import torch"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

#[test]
fn torch_loads_what_is_written_now() {
    let Some(py) = torch_python() else {
        eprintln!("SKIPPED torch.load of fresh checkpoints: no python3 with torch (set PICKLE_CODEC_TORCH_PYTHON); the committed expectation was checked instead");
        return;
    };
    let dir =
        std::env::temp_dir().join(format!("pickle-codec-torch-written-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, obj) in fixtures() {
        torch::save(dir.join(file), &obj).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/check_torch_save.py");
    let out = Command::new(py)
        .arg(script)
        .arg("--check")
        .arg(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "check_torch_save.py --check:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dict_keys_are_compared_as_python_compares_them() {
    // An int key given twice is refused; "1" and 1 are different keys.
    let twice = SaveValue::dict([(1, 1), (1, 2)]);
    let e = torch::save_to(Vec::new(), &twice).unwrap_err().to_string();
    assert!(e.contains("dict key 1 is given twice"), "{e}");
    let twice = SaveValue::dict([("a", 1), ("a", 2)]);
    let e = torch::save_to(Vec::new(), &twice).unwrap_err().to_string();
    assert!(e.contains("dict key \"a\" is given twice"), "{e}");
    let mixed = SaveValue::Dict(vec![("1".into(), 1.into()), (1.into(), 2.into())]);
    let ck =
        Checkpoint::from_reader(Cursor::new(torch::save_to(Vec::new(), &mixed).unwrap())).unwrap();
    assert_eq!(ck.document().root().to_string(), "{'1': 1, 1: 2}");
}

#[test]
fn tensors_lending_the_same_bytes_share_a_storage() {
    let w = pattern(16, 500);
    let sd = StateDict::new()
        .with(
            "a",
            SaveTensor::from_bytes(DType::Float32, &[4], &w[..]).unwrap(),
        )
        .with(
            "b",
            SaveTensor::from_bytes(DType::Float32, &[4], &w[..]).unwrap(),
        )
        // The same bytes as another dtype, a copy, and empty tensors: apart.
        .with(
            "c",
            SaveTensor::from_bytes(DType::Int32, &[4], &w[..]).unwrap(),
        )
        .with(
            "d",
            SaveTensor::from_bytes(DType::Float32, &[4], w.clone()).unwrap(),
        )
        .with(
            "e",
            SaveTensor::from_bytes(DType::Float32, &[0], &w[..0]).unwrap(),
        )
        .with(
            "f",
            SaveTensor::from_bytes(DType::Float32, &[0], &w[..0]).unwrap(),
        );
    let bytes = torch::save_to(Vec::new(), &sd).unwrap();
    let ck = Checkpoint::from_reader(Cursor::new(bytes)).unwrap();
    let keys: Vec<String> = ck
        .tensors()
        .into_iter()
        .map(|(_, t)| t.unwrap().storage.key)
        .collect();
    assert_eq!(keys, ["0", "0", "1", "2", "3", "4"]);
    for (_, t) in ck.tensors() {
        let t = t.unwrap();
        assert_eq!(ck.tensor_bytes(&t).unwrap(), &w[..t.nbytes()]);
    }
}
