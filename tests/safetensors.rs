//! `torch::safetensors`: checkpoints to safetensors files and back, against
//! real PyTorch and Python's `safetensors`.
//!
//! tests/fixtures/safetensors/ holds what tests/scripts/check_safetensors.py
//! `--generate` made with PyTorch 2.15 and safetensors 0.8: from_torch.pt
//! (`torch.save` of a nested checkpoint with a module's state dict, tied
//! weights, views and every dtype both have), python.safetensors
//! (`save_file` of it flattened as `state_dict()` names), the same with
//! `metadata={"format": "pt"}`, and in expect.json every tensor Python
//! found in them. Its `--record` run, on the files written here, recorded in
//! expect.json's "ours" what `load_file` made of our safetensors file and
//! `torch.load` of our checkpoint, with the sha256 of both: the files
//! written now must be those bytes (so the verdict holds for them), and where
//! `python3` (or `$PICKLE_CODEC_TORCH_PYTHON`) imports torch and safetensors,
//! the script checks freshly written files (`--check`).
//!
//! Regenerating: `PICKLE_CODEC_WRITE_SAFETENSORS=DIR cargo test --features
//! safetensors --test safetensors`, then `check_safetensors.py --record DIR`.
#![cfg(feature = "safetensors")]

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::torch::safetensors::{self, Reader, Writer};
use pickle_codec::torch::{self, Checkpoint, DType, SaveTensor, SaveValue, Saver, StateDict};
use pickle_codec::Category;
use serde_json::Value as Json;

fn dir() -> PathBuf {
    common::fixture_dir("safetensors")
}

fn expect() -> Json {
    serde_json::from_slice(&std::fs::read(dir().join("expect.json")).unwrap()).unwrap()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

/// Our safetensors file of a checkpoint's bytes.
fn convert(ck_bytes: Vec<u8>, w: &Writer) -> pickle_codec::Result<Vec<u8>> {
    let ck = Checkpoint::from_reader(Cursor::new(ck_bytes))?;
    Ok(w.write(&ck, Vec::new())?.0)
}

/// Our checkpoint of a safetensors file's bytes (archive `ours`, as
/// `torch.save(sd, "ours.pt")` names it).
fn to_torch(st_bytes: Vec<u8>) -> Vec<u8> {
    let st = Reader::from_reader(Cursor::new(st_bytes)).unwrap();
    st.write_checkpoint(&Saver::new().archive_name("ours"), Vec::new())
        .unwrap()
}

fn temp_dir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pickle-codec-st-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_checkpoint_gives_what_save_file_gives_however_it_is_opened() {
    let want = read("python.safetensors");
    let path = dir().join("from_torch.pt");
    let out = temp_dir("open");
    // Every way of opening, with and without CRC-32 checks: through a
    // buffer, copy_file_range, a reader, a map.
    let mut got = vec![convert(read("from_torch.pt"), &Writer::new()).unwrap()];
    for crc in [true, false] {
        let ck = Checkpoint::open(&path).unwrap().with_crc_check(crc);
        let file = out.join(format!("crc_{crc}.safetensors"));
        let w = Writer::new().save(&ck, &file).unwrap();
        assert_eq!(w.size, want.len() as u64);
        assert_eq!(w.tensors.len(), 40);
        assert!(w.skipped.is_empty());
        got.push(std::fs::read(&file).unwrap());
        let ck = Checkpoint::from_reader(std::fs::File::open(&path).unwrap())
            .unwrap()
            .with_crc_check(crc);
        got.push(Writer::new().write(&ck, Vec::new()).unwrap().0);
    }
    #[cfg(feature = "mmap")]
    for crc in [true, false] {
        let ck = Checkpoint::mmap(&path).unwrap().with_crc_check(crc);
        got.push(Writer::new().write(&ck, Vec::new()).unwrap().0);
    }
    for (i, g) in got.iter().enumerate() {
        assert!(g == &want, "way {i}: other bytes than save_file's");
    }
    let meta = convert(
        read("from_torch.pt"),
        &Writer::new().metadata("format", "pt"),
    )
    .unwrap();
    assert!(meta == read("python_meta.safetensors"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_reader_reads_what_save_file_wrote() {
    let e = expect();
    let want = e["python"]["tensors"].as_array().unwrap();
    for file in ["python.safetensors", "python_meta.safetensors"] {
        #[allow(unused_mut)] // the mmap feature adds a reader
        let mut readers = vec![Reader::open(dir().join(file)).unwrap()];
        #[cfg(feature = "mmap")]
        readers.push(Reader::mmap(dir().join(file)).unwrap());
        for st in readers {
            assert_eq!(st.entries().len(), want.len(), "{file}");
            for (got, w) in st.entries().iter().zip(want) {
                assert_eq!(got.name, w["name"].as_str().unwrap());
                assert_eq!(got.format_dtype, w["dtype"].as_str().unwrap());
                assert_eq!(got.dtype, safetensors::torch_dtype(got.format_dtype));
                assert!(got.dtype.is_some(), "{}", got.name);
                let shape: Vec<usize> = serde_json::from_value(w["shape"].clone()).unwrap();
                assert_eq!(got.shape, shape, "{}", got.name);
                let data = st.data(got).unwrap();
                assert_eq!(data.len() as u64, got.nbytes());
                assert_eq!(
                    common::sha256_hex(&data),
                    w["sha256"].as_str().unwrap(),
                    "{file}: {}",
                    got.name
                );
                assert_eq!(st.get(&got.name), Some(got));
            }
            let meta: Vec<(&str, &str)> = st
                .metadata()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            if file == "python.safetensors" {
                assert!(meta.is_empty());
            } else {
                assert_eq!(meta, [("format", "pt")]);
            }
        }
    }
}

#[test]
fn a_checkpoint_names_its_tensors_as_state_dict_does() {
    let ck = Checkpoint::open(dir().join("from_torch.pt")).unwrap();
    let (bytes, _) = Writer::new().write(&ck, Vec::new()).unwrap();
    let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
    // Every tensor of the checkpoint, its elements the same.
    let by_path: Vec<(String, Vec<u8>)> = ck
        .tensors()
        .into_iter()
        .map(|(p, t)| (p, ck.tensor_bytes(&t.unwrap()).unwrap()))
        .collect();
    assert_eq!(by_path.len(), st.entries().len());
    for (path, want) in &by_path {
        // ['model']['0.weight'] -> model.0.weight, [7] -> 7
        let name = path
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split("][")
            .map(|s| s.trim_matches('\''))
            .collect::<Vec<_>>()
            .join(".");
        let e = st.get(&name).unwrap_or_else(|| panic!("{path} as {name}"));
        assert_eq!(&*st.data(e).unwrap(), &want[..], "{name}");
    }
    // Tied weights and views: each its own copy.
    for (a, b) in [
        ("model.0.weight", "model.2.weight"),
        ("views.whole", "views.row"),
    ] {
        let (a, b) = (st.get(a).unwrap(), st.get(b).unwrap());
        assert!(a.data.end <= b.data.start || b.data.end <= a.data.start);
    }
    assert_eq!(st.get("views.t").unwrap().shape, [5, 4]);
    assert_eq!(st.get("views.expand").unwrap().shape, [3, 5]);
    assert_eq!(st.get("shapes.scalar").unwrap().shape, Vec::<usize>::new());
    assert_eq!(st.get("shapes.empty3d").unwrap().nbytes(), 0);
    // state_dict()'s _metadata attribute is no tensor and no item.
    assert!(st.entries().iter().all(|e| !e.name.contains("_metadata")));
}

#[test]
fn python_verdict_holds_for_what_is_written_now() {
    let st = convert(read("from_torch.pt"), &Writer::new()).unwrap();
    let pt = to_torch(read("python.safetensors"));
    if let Some(d) = std::env::var_os("PICKLE_CODEC_WRITE_SAFETENSORS") {
        let d = PathBuf::from(d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("ours.safetensors"), &st).unwrap();
        std::fs::write(d.join("ours.pt"), &pt).unwrap();
        return;
    }
    let e = expect();
    let v = &e["ours"];
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["same_as_save_file"], true);
    assert_eq!(v["same_as_torch_save"], true);
    let hint = "if the change is meant, write them (PICKLE_CODEC_WRITE_SAFETENSORS=DIR) and run tests/scripts/check_safetensors.py --record DIR";
    assert_eq!(common::sha256_hex(&st), v["ours.safetensors"], "{hint}");
    assert_eq!(common::sha256_hex(&pt), v["ours.pt"], "{hint}");
    // The path API names the archive after the file: the same bytes.
    let out = temp_dir("save");
    Reader::open(dir().join("python.safetensors"))
        .unwrap()
        .save_checkpoint(out.join("ours.pt"))
        .unwrap();
    assert!(std::fs::read(out.join("ours.pt")).unwrap() == pt);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A python3 that imports torch and safetensors.
fn python() -> Option<String> {
    let py = std::env::var("PICKLE_CODEC_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import torch, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

#[test]
fn python_reads_what_is_written_now() {
    let Some(py) = python() else {
        eprintln!("SKIPPED load_file/torch.load of fresh files: no python3 with torch and safetensors (set PICKLE_CODEC_TORCH_PYTHON); the committed verdict was checked instead");
        return;
    };
    let out = temp_dir("python");
    let ck = Checkpoint::open(dir().join("from_torch.pt")).unwrap();
    Writer::new()
        .save(&ck, out.join("ours.safetensors"))
        .unwrap();
    Reader::open(dir().join("python.safetensors"))
        .unwrap()
        .save_checkpoint(out.join("ours.pt"))
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/check_safetensors.py");
    let o = Command::new(py)
        .arg(script)
        .arg("--check")
        .arg(&out)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    assert!(
        o.status.success(),
        "check_safetensors.py --check:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn safetensors_to_torch_keeps_names_order_and_bytes() {
    let st = Reader::open(dir().join("python.safetensors")).unwrap();
    let ck = Checkpoint::from_reader(Cursor::new(to_torch(read("python.safetensors")))).unwrap();
    let tensors = ck.tensors();
    assert_eq!(tensors.len(), st.entries().len());
    for ((path, t), e) in tensors.iter().zip(st.entries()) {
        let t = t.as_ref().unwrap();
        assert_eq!(path, &format!("['{}']", e.name));
        assert_eq!(Some(t.dtype()), e.dtype);
        assert_eq!(t.shape, e.shape);
        assert_eq!(t.stride, e.stride());
        assert!(!t.requires_grad && !t.parameter);
        assert_eq!(ck.tensor_bytes(t).unwrap(), &*st.data(e).unwrap());
    }
    let root = ck.document().root();
    let od = root.as_object().unwrap();
    assert_eq!(
        root.at(od.callable).as_global(),
        Some(("collections", "OrderedDict"))
    );
    // And back: the same safetensors file.
    let again = Writer::new().write(&ck, Vec::new()).unwrap().0;
    assert!(again == read("python.safetensors"));
}

/// A checkpoint of one tensor `t` besides a float32 one.
fn with_tensor(t: SaveTensor<'static>) -> Vec<u8> {
    let sd = StateDict::new()
        .with("ok", SaveTensor::from_slice(&[1], &[1f32]).unwrap())
        .with("layer.bad", t);
    torch::save_to(Vec::new(), &sd).unwrap()
}

#[test]
fn dtypes_safetensors_lacks_are_refused_by_name() {
    let complex128 = SaveTensor::from_slice(&[2], &[[1f64, 2.], [3., 4.]]).unwrap();
    let complex32 = SaveTensor::from_bits(DType::Complex32, &[1], &[0x3c00, 0]).unwrap();
    for (t, name) in [(complex128, "complex128"), (complex32, "complex32")] {
        let e = convert(with_tensor(t), &Writer::new()).unwrap_err();
        assert_eq!(e.category(), Category::Unsupported);
        let m = e.to_string();
        assert!(
            m.contains("tensor layer.bad (['layer.bad'])") && m.contains(name),
            "{m}"
        );
    }
    // Quantized tensors, as real torch saved them: the first one met.
    let real = common::fixture_dir("torch").join("real_torch.pt");
    let e = convert(std::fs::read(real).unwrap(), &Writer::new()).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("tensor q_per_tensor") && m.contains("quint8"),
        "{m}"
    );
    // Supported ones convert; the saver refuses nothing of them either.
    for d in safetensors_dtypes() {
        let n = d.itemsize() * 3;
        let t = SaveTensor::from_bytes(d, &[3], vec![1u8; n]).unwrap();
        let bytes = convert(with_tensor(t), &Writer::new()).unwrap();
        let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
        let e = st.get("layer.bad").unwrap();
        assert_eq!(e.dtype, Some(d));
        assert_eq!(safetensors::format_dtype(d), Some(e.format_dtype));
    }
}

fn safetensors_dtypes() -> Vec<DType> {
    [
        "F64",
        "F32",
        "F16",
        "BF16",
        "I64",
        "I32",
        "I16",
        "I8",
        "U8",
        "BOOL",
        "U16",
        "U32",
        "U64",
        "C64",
        "F8_E4M3",
        "F8_E5M2",
        "F8_E4M3FNUZ",
        "F8_E5M2FNUZ",
    ]
    .iter()
    .map(|n| safetensors::torch_dtype(n).unwrap())
    .collect()
}

#[test]
fn other_values_are_refused_or_skipped() {
    let path = common::fixture_dir("torch").join("written/checkpoint.pt");
    let ck = Checkpoint::open(&path).unwrap();
    let e = Writer::new().write(&ck, Vec::new()).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("['epoch'] is int 3, not a tensor") && m.contains("skip_other_values"),
        "{m}"
    );
    let file = temp_dir("skip").join("refused.safetensors");
    assert!(Writer::new().save(&ck, &file).is_err());
    assert!(!file.exists(), "a refused checkpoint leaves no file");
    let (bytes, w) = Writer::new()
        .skip_other_values(true)
        .write(&ck, Vec::new())
        .unwrap();
    let mut names = w.tensors.clone();
    names.sort();
    assert_eq!(
        names,
        ["history.0", "history.1.0", "model.bias", "model.weight"]
    );
    let skipped: Vec<(&str, &str)> = w
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.what.as_str()))
        .collect();
    assert!(skipped.contains(&("['epoch']", "int 3")), "{skipped:?}");
    assert!(
        skipped.contains(&("['name']", "str 'resnet'")),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&("['history'][1][1]", "str 'tag'")),
        "{skipped:?}"
    );
    assert!(skipped.contains(&("['big']", "int 1180591620717411303424")));
    assert!(skipped.iter().any(|(p, _)| *p == "['wide']['k1000']"));
    let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
    assert_eq!(st.entries().len(), 4);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[test]
fn names_that_cannot_be_are_errors() {
    let t = || SaveTensor::from_slice(&[1], &[1f32]).unwrap();
    let cases: Vec<(SaveValue<'static>, &str)> = vec![
        (
            SaveValue::dict([
                ("a.b", SaveValue::from(t())),
                ("a", SaveValue::dict([("b", t())])),
            ]),
            "tensors ['a.b'] and ['a']['b'] are both named a.b",
        ),
        (
            SaveValue::dict([("__metadata__", t())]),
            "named __metadata__",
        ),
        (t().into(), "the checkpoint is a tensor"),
    ];
    for (v, want) in cases {
        let bytes = torch::save_to(Vec::new(), &v).unwrap();
        let e = convert(bytes, &Writer::new()).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    // A list at the root: indices as names.
    let v = SaveValue::list([SaveValue::from(t()), SaveValue::dict([("w", t())])]);
    let bytes = convert(torch::save_to(Vec::new(), &v).unwrap(), &Writer::new()).unwrap();
    let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
    let names: Vec<&str> = st.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["0", "1.w"]);
}

#[test]
fn every_torch_fixture_converts_to_its_tensors() {
    // Legacy, tar, big-endian and zip checkpoints: every tensor of a
    // supported dtype comes out as tensor_data gives it.
    let torch_dir = common::fixture_dir("torch");
    let mut converted = 0;
    for entry in std::fs::read_dir(&torch_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("pt") {
            continue;
        }
        let Ok(ck) = Checkpoint::open(&path) else {
            continue;
        };
        let result = Writer::new().skip_other_values(true).write(&ck, Vec::new());
        let Ok((bytes, w)) = result else {
            let e = result.unwrap_err();
            assert!(
                matches!(e.category(), Category::Unsupported | Category::Data),
                "{}: {e}",
                path.display()
            );
            continue;
        };
        let st = Reader::from_reader(Cursor::new(bytes)).unwrap();
        assert_eq!(st.entries().len(), w.tensors.len());
        let mut by_name = std::collections::HashMap::new();
        for (p, t) in ck.tensors() {
            by_name.insert(p, ck.tensor_bytes(&t.unwrap()).unwrap());
        }
        for e in st.entries() {
            let data = st.data(e).unwrap();
            assert!(
                by_name.values().any(|b| b[..] == data[..]),
                "{}: {}",
                path.display(),
                e.name
            );
        }
        converted += 1;
    }
    assert!(converted >= 10, "{converted}");
}

/// A safetensors file of a header and `data` bytes.
fn file_of(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

fn open_err(bytes: Vec<u8>) -> String {
    match Reader::from_reader(Cursor::new(bytes)) {
        Ok(_) => panic!("read"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_headers_are_errors() {
    let ok = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert!(Reader::from_reader(Cursor::new(file_of(ok, &[0; 8]))).is_ok());
    let cases: [(Vec<u8>, &str); 12] = [
        (vec![1, 2, 3], "fewer than its header's 8-byte length"),
        (u64::MAX.to_le_bytes().to_vec(), "the format allows"),
        (
            [&100u64.to_le_bytes()[..], b"{}"].concat(),
            "a safetensors header of 100 bytes, in a file of 2",
        ),
        (file_of(" {}", &[]), "not '{'"),
        (file_of(ok, &[0; 7]), "cover 8 bytes, the file holds 7"),
        (file_of(ok, &[0; 9]), "cover 8 bytes, the file holds 9"),
        (file_of("{\"a\":1}", &[]), "safetensors header"),
        (
            file_of(
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                &[0; 8],
            ),
            "invalid shape, data type, or offset",
        ),
        (
            file_of(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            "invalid offset for tensor `a`",
        ),
        (
            file_of(
                r#"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "unknown variant `F33`",
        ),
        (
            file_of(
                r#"{"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,1]}}"#,
                &[0; 1],
            ),
            "overflow",
        ),
        (
            file_of(r#"{"__metadata__":{"k":1}}"#, &[]),
            "safetensors header",
        ),
    ];
    for (bytes, want) in cases {
        let e = open_err(bytes);
        assert!(e.contains(want), "{want:?} in {e}");
    }
    // Deep JSON stops at serde_json's recursion limit, not the stack.
    let deep = format!(
        r#"{{"a":{{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(open_err(file_of(&deep, &[0])).contains("recursion limit"));
    // A dtype torch lacks (safetensors' 6-bit floats): listed, not converted.
    let f6 = file_of(
        r#"{"scale":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}"#,
        &[127, 128, 1],
    );
    let st = Reader::from_reader(Cursor::new(f6)).unwrap();
    assert_eq!(st.entries()[0].dtype, None);
    assert_eq!(st.entries()[0].format_dtype, "F6_E2M3");
    let e = st
        .write_checkpoint(&Saver::new(), Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tensor scale is F6_E2M3"), "{e}");
    let out = temp_dir("f8").join("x.pt");
    assert!(st.save_checkpoint(&out).is_err());
    assert!(!out.exists());
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}

/// A small xorshift, for mutations the test can repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Open `bytes` and, if that works, read every tensor and convert: errors
/// or values, never a panic, and never a read outside the file.
fn read_all(bytes: Vec<u8>) -> bool {
    let len = bytes.len() as u64;
    let Ok(st) = Reader::from_reader(Cursor::new(bytes)) else {
        return false;
    };
    let mut end = 0;
    for e in st.entries() {
        assert!(e.data.start <= e.data.end && e.data.end <= len);
        assert!(e.data.start >= end, "tensors overlap");
        end = e.data.end;
        assert_eq!(st.data(e).unwrap().len() as u64, e.nbytes());
    }
    if let Ok(pt) = st.write_checkpoint(&Saver::new(), Vec::new()) {
        let ck = Checkpoint::from_reader(Cursor::new(pt)).unwrap();
        for (_, t) in ck.tensors() {
            ck.tensor_bytes(&t.unwrap()).unwrap();
        }
    }
    true
}

#[test]
fn truncated_and_garbled_files_are_errors_not_panics() {
    let good = read("python_meta.safetensors");
    let header_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    // Cut at every length: only the whole file reads.
    for n in 0..good.len() {
        assert!(!read_all(good[..n].to_vec()), "cut at {n}");
    }
    assert!(read_all(good.clone()));
    // Bytes of the header changed, one to four at a time, and the length.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut opened = 0;
    for _ in 0..4000 {
        let mut b = good.clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() % header_end as u64) as usize;
            b[at] = match rng.next() % 4 {
                0 => rng.next() as u8,
                1 => b[at] ^ 1 << (rng.next() % 8),
                2 => b"0123456789{}[],:\"".as_slice()[(rng.next() % 17) as usize],
                _ => b[at].wrapping_add(1),
            };
        }
        opened += usize::from(read_all(b));
    }
    // Some mutations keep a valid file (a digit of a name, spaces).
    assert!(opened > 0 && opened < 4000, "{opened}");
}

#[test]
fn damaged_storages_are_found_as_they_are_copied() {
    // Real torch checkpoints with a flipped storage byte / a changed CRC-32:
    // checked, the conversion fails naming the member and the tensor; not
    // checked, it copies what is there.
    for (file, member, tensor) in [
        ("damaged_data.pt", "damaged_data/data/0", "weight"),
        ("damaged_crc.pt", "damaged_data/data/1", "bias"),
    ] {
        let path = common::fixture_dir("torch").join(file);
        let ck = Checkpoint::open(&path).unwrap();
        let e = Writer::new()
            .write(&ck, Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("tensor {tensor} (['{tensor}'])"))
                && e.contains(member)
                && e.contains("bad CRC-32"),
            "{e}"
        );
        // A failed save removes what it wrote.
        let out = temp_dir("damaged").join("x.safetensors");
        assert!(Writer::new().save(&ck, &out).is_err());
        assert!(!out.exists());
        std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
        let ck = ck.with_crc_check(false);
        let (bytes, w) = Writer::new().write(&ck, Vec::new()).unwrap();
        assert_eq!(w.tensors.len(), 5);
        Reader::from_reader(Cursor::new(bytes)).unwrap();
    }
}

#[test]
fn sub_byte_dtypes_convert_as_save_file_writes_them() {
    // subbyte.pt (torch.save) and subbyte.safetensors (save_file of the
    // same dict, check_safetensors.py --generate-subbyte): float8_e8m0fnu
    // is F8_E8M0; float4_e2m1fn_x2 is F4, whose shape counts 4-bit values.
    let ours = convert(read("subbyte.pt"), &Writer::new()).unwrap();
    assert_eq!(ours, read("subbyte.safetensors"));
    let st = Reader::from_reader(Cursor::new(read("subbyte.safetensors"))).unwrap();
    let f4 = st.get("f4").unwrap();
    assert_eq!(
        (f4.format_dtype, f4.dtype, &f4.shape[..]),
        ("F4", Some(DType::Float4E2M1FnX2), &[2, 6][..])
    );
    assert_eq!(st.get("e8m0").unwrap().dtype, Some(DType::Float8E8M0Fnu));
    // Back to a checkpoint: torch's shapes, the bytes of torch.save's file.
    let back = Checkpoint::from_reader(Cursor::new(to_torch(read("subbyte.safetensors")))).unwrap();
    let orig = Checkpoint::from_reader(Cursor::new(read("subbyte.pt"))).unwrap();
    let list = |ck: &Checkpoint<Cursor<Vec<u8>>>| {
        let mut v: Vec<_> = ck
            .tensors()
            .into_iter()
            .map(|(p, t)| {
                let t = t.unwrap();
                (p, t.dtype(), t.shape.clone(), ck.tensor_bytes(&t).unwrap())
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(list(&back), list(&orig));
    // A 0-d float4 tensor has no F4 shape; an odd F4 row no torch one.
    let t = SaveTensor::from_bytes(DType::Float4E2M1FnX2, &[], vec![0x21]).unwrap();
    let e = convert(with_tensor(t), &Writer::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("0-d float4_e2m1fn_x2"), "{e}");
    // (An odd count of 4-bit values in all ends inside a byte: the
    // safetensors crate refuses the header.)
    let ragged = file_of(
        r#"{"x":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#,
        &[0, 0],
    );
    assert!(open_err(ragged).contains("byte boundary"));
    let odd = file_of(
        r#"{"x":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}"#,
        &[0, 0, 0],
    );
    let e = Reader::from_reader(Cursor::new(odd))
        .unwrap()
        .write_checkpoint(&Saver::new(), Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("in pairs along the last dimension"), "{e}");
}
