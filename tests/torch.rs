//! PyTorch checkpoints (tests/fixtures/torch, written without torch by
//! tests/scripts/gen_torch_fixtures.py): zip and legacy formats, every dtype,
//! views sharing a storage, lazy storage reads.
#![cfg(feature = "torch")]

mod common;

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use pickle_codec::torch::{Checkpoint, DType};
use serde_json::Value as Json;

fn dir() -> PathBuf {
    common::fixture_dir("torch")
}

fn manifest() -> Vec<Json> {
    common::fixture_manifest("torch")
}

fn hex(b: &[u8]) -> String {
    common::sha256_hex(b)
}

fn usizes(v: &Json) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// Every tensor of a checkpoint, its path and elements.
type Contents = Vec<(String, Vec<u8>)>;

/// A way to open a checkpoint, and what it reads.
type Way = (&'static str, Box<dyn Fn() -> Contents>);

/// The ways to open a checkpoint: a file read with positional reads, any
/// reader (a file, bytes in memory), and a memory map.
fn every_way(file: &str) -> Vec<Way> {
    fn all<R: Read + Seek>(ck: &Checkpoint<R>) -> Contents {
        ck.tensors()
            .into_iter()
            .map(|(p, t)| {
                let t = t.unwrap();
                let data = ck.tensor_data(&t).unwrap().into_owned();
                (p, data)
            })
            .collect()
    }
    let path = dir().join(file);
    let mut ways: Vec<Way> = Vec::new();
    let p = path.clone();
    ways.push((
        "open",
        Box::new(move || all(&Checkpoint::open(&p).unwrap())),
    ));
    let p = path.clone();
    ways.push((
        "from_reader(File)",
        Box::new(move || all(&Checkpoint::from_reader(std::fs::File::open(&p).unwrap()).unwrap())),
    ));
    let p = path.clone();
    ways.push((
        "from_reader(Cursor)",
        Box::new(move || {
            let bytes = std::fs::read(&p).unwrap();
            all(&Checkpoint::from_reader(std::io::Cursor::new(bytes)).unwrap())
        }),
    ));
    #[cfg(feature = "mmap")]
    {
        let p = path.clone();
        ways.push((
            "mmap",
            Box::new(move || all(&Checkpoint::mmap(&p).unwrap())),
        ));
        let p = path;
        ways.push((
            "mmap, CRC checked",
            Box::new(move || all(&Checkpoint::mmap(&p).unwrap().with_crc_check(true))),
        ));
    }
    ways
}

#[test]
fn every_way_of_opening_reads_the_same_tensors() {
    let mut files: Vec<String> = manifest()
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect();
    files.extend([
        "real_torch.pt".to_string(),
        "real_torch_legacy.pt".to_string(),
    ]);
    for file in files {
        let ways = every_way(&file);
        let want = (ways[0].1)();
        assert!(!want.is_empty(), "{file}");
        for (how, read) in &ways[1..] {
            assert_eq!(read(), want, "{file} by {how}");
        }
    }
}

#[test]
fn every_tensor_matches_the_manifest() {
    let mut n = 0;
    for entry in manifest() {
        let file = entry["file"].as_str().unwrap();
        let ck = Checkpoint::open(dir().join(file)).unwrap();
        let tensors = ck.tensors();
        let want = entry["tensors"].as_array().unwrap();
        assert_eq!(tensors.len(), want.len(), "{file}");
        for ((path, t), w) in tensors.into_iter().zip(want) {
            let t = t.unwrap();
            let ctx = format!("{file} {path}");
            assert_eq!(path, w["path"].as_str().unwrap(), "{ctx}");
            assert_eq!(t.dtype().name(), w["dtype"].as_str().unwrap(), "{ctx}");
            assert_eq!(t.shape, usizes(&w["shape"]), "{ctx}");
            assert_eq!(t.stride, usizes(&w["stride"]), "{ctx}");
            assert_eq!(
                t.storage_offset as u64,
                w["storage_offset"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(t.nbytes() as u64, w["nbytes"].as_u64().unwrap(), "{ctx}");
            assert_eq!(
                hex(&ck.tensor_bytes(&t).unwrap()),
                w["sha256"].as_str().unwrap(),
                "{ctx}"
            );
            n += 1;
        }
    }
    assert!(n > 100);
}

#[test]
fn typed_reads_and_structure() {
    let ck = Checkpoint::open(dir().join("checkpoint_zip.pt")).unwrap();
    let root = ck.document().root();
    assert_eq!(root.get("epoch").unwrap().as_i64(), Some(3));
    let lr = root
        .get("optimizer")
        .unwrap()
        .get("param_groups")
        .unwrap()
        .index(0)
        .unwrap()
        .get("lr")
        .unwrap();
    assert_eq!(lr.as_f64(), Some(0.001));
    let tensors = ck.tensors();
    let find = |p: &str| {
        tensors
            .iter()
            .find(|(q, _)| q == p)
            .unwrap()
            .1
            .as_ref()
            .unwrap()
            .clone()
    };
    let w = find("['model']['fc.weight']");
    assert!(w.parameter && w.requires_grad);
    assert_eq!(ck.read::<f32>(&w).unwrap().len(), 12);
    let nbt = find("['model']['bn.num_batches_tracked']");
    assert_eq!((nbt.dtype(), nbt.shape.clone()), (DType::Int64, vec![]));
    assert_eq!(ck.read::<i64>(&nbt).unwrap(), vec![7]);
    // Views share one storage: the transpose reads the base's values transposed.
    let base = ck.read::<f64>(&find("['views'][0]")).unwrap();
    assert_eq!(base, (0..24).map(f64::from).collect::<Vec<_>>());
    let t = ck.read::<f64>(&find("['views'][2]")).unwrap();
    assert_eq!(&t[..4], &[0.0, 6.0, 12.0, 18.0]);
    assert_eq!(
        ck.read::<f64>(&find("['views'][3]")).unwrap()[..3],
        [1.0, 3.0, 5.0]
    );
    assert_eq!(ck.read::<f64>(&find("['views'][4]")).unwrap(), vec![23.0]);
    assert!(ck.read::<f64>(&find("['views'][5]")).unwrap().is_empty());
    assert!(ck.read::<f64>(&w).is_err());
    let bf = find("['dtypes']['bfloat16']");
    assert_eq!(ck.read_f64(&bf).unwrap().len(), 6);
    // Big-endian archives come out little-endian.
    let be = Checkpoint::open(dir().join("checkpoint_big_endian.pt")).unwrap();
    assert!(be.is_big_endian());
    let tb = be.tensors();
    let v = tb
        .iter()
        .find(|(p, _)| p == "['views'][0]")
        .unwrap()
        .1
        .as_ref()
        .unwrap()
        .clone();
    assert_eq!(be.read::<f64>(&v).unwrap()[5], 5.0);
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn listing_does_not_read_storages() {
    for entry in manifest()
        .into_iter()
        .filter(|e| e["file"].as_str().unwrap().starts_with("lazy"))
    {
        let path = dir().join(entry["file"].as_str().unwrap());
        let size = std::fs::metadata(&path).unwrap().len();
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = Counting {
            inner: std::fs::File::open(&path).unwrap(),
            read: read.clone(),
        };
        let ck = Checkpoint::from_reader(r).unwrap();
        let n = ck.tensors().len();
        assert_eq!(n, entry["tensors"].as_array().unwrap().len());
        let storages = entry["storage_bytes"].as_u64().unwrap();
        assert!(storages > 60_000);
        assert!(
            read.get() < size - storages + 8192,
            "{}: read {} of {size}",
            entry["file"],
            read.get()
        );
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let data = std::fs::read(dir().join("checkpoint_legacy.pt")).unwrap();
    for cut in [0, 10, 40, 200, data.len() - 10] {
        let _ = Checkpoint::from_reader(std::io::Cursor::new(&data[..cut])).map(|c| {
            for (_, t) in c.tensors() {
                if let Ok(t) = t {
                    let _ = c.tensor_bytes(&t);
                }
            }
        });
    }
}

/// Checkpoints written by real PyTorch (tests/scripts/gen_real_torch_fixtures.py):
/// quantized tensors and the dtypes saved through `_rebuild_tensor_v3`.
#[test]
fn real_torch_quantized_and_v3_dtypes() {
    use pickle_codec::torch::Quantization;
    let text = std::fs::read_to_string(dir().join("real_torch.json")).unwrap();
    let m: Json = serde_json::from_str(&text).unwrap();
    let want = m["tensors"].as_array().unwrap();
    for file in m["files"].as_array().unwrap() {
        let file = file.as_str().unwrap();
        let ck = Checkpoint::open(dir().join(file)).unwrap();
        let tensors = ck.tensors();
        assert_eq!(tensors.len(), want.len(), "{file}");
        for ((path, t), w) in tensors.into_iter().zip(want) {
            let ctx = format!("{file} {path}");
            let t = t.unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(path, w["path"].as_str().unwrap(), "{ctx}");
            assert_eq!(t.dtype().name(), w["dtype"].as_str().unwrap(), "{ctx}");
            assert_eq!(t.shape, usizes(&w["shape"]), "{ctx}");
            assert_eq!(t.stride, usizes(&w["stride"]), "{ctx}");
            assert_eq!(
                t.storage_offset as u64,
                w["storage_offset"].as_u64().unwrap(),
                "{ctx}"
            );
            let bytes = ck.tensor_bytes(&t).unwrap();
            assert_eq!(hex(&bytes), w["sha256"].as_str().unwrap(), "{ctx}");
            match w.get("dequantized") {
                Some(d) => {
                    assert!(t.quantization.is_some(), "{ctx}");
                    let got = ck.read_f64(&t).unwrap();
                    let d: Vec<f64> = d
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect();
                    assert_eq!(got.len(), d.len(), "{ctx}");
                    for (g, e) in got.iter().zip(&d) {
                        // torch dequantizes in float32.
                        assert!(
                            (g - e).abs() <= 1e-6 * e.abs().max(1.0),
                            "{ctx}: {g} vs {e}"
                        );
                    }
                }
                None => assert!(t.quantization.is_none(), "{ctx}"),
            }
        }
        // The per-channel scheme keeps its parameters as tensors.
        let (_, qc) = ck
            .tensors()
            .into_iter()
            .find(|(p, _)| p == "['q_per_channel']")
            .unwrap();
        match qc.unwrap().quantization {
            Some(Quantization::PerChannelAffine {
                scales,
                zero_points,
                axis,
                float_qparams,
            }) => {
                assert_eq!((axis, float_qparams), (0, false));
                assert_eq!(ck.read::<f64>(&scales).unwrap(), [0.1, 0.02, 0.5]);
                assert_eq!(ck.read::<i64>(&zero_points).unwrap(), [0, -3, 2]);
            }
            q => panic!("{file}: {q:?}"),
        }
    }
}

/// `torch.save(pickle_protocol=p)` writes every pickle at `p`, the legacy
/// format's magic number too: the reader knows a checkpoint by that number's
/// value at protocols 1 to 5, zip and legacy, and reads the same tensors.
#[test]
fn every_pickle_protocol_torch_saves_with() {
    let read = |file: &str| {
        let data = std::fs::read(dir().join(file)).unwrap();
        assert!(pickle_codec::torch::is_checkpoint(&data[..64]), "{file}");
        assert!(
            pickle_codec::torch::pickle_part(&data).unwrap().is_some(),
            "{file}"
        );
        let ck = Checkpoint::open(dir().join(file)).unwrap();
        let mut out = Vec::new();
        for (path, t) in ck.tensors() {
            let t = t.unwrap_or_else(|e| panic!("{file} {path}: {e}"));
            let bytes = ck.tensor_bytes(&t).unwrap();
            out.push((path, t.dtype(), t.shape.clone(), hex(&bytes)));
        }
        out
    };
    let want = read("legacy_p2.pt");
    assert_eq!(want.len(), 3);
    for p in [1, 3, 4, 5] {
        assert_eq!(
            read(&format!("legacy_p{p}.pt")),
            want,
            "legacy protocol {p}"
        );
        assert_eq!(read(&format!("zip_p{p}.pt")), want, "zip protocol {p}");
    }
}

fn damaged() -> Json {
    let text = std::fs::read_to_string(dir().join("damaged.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checkpoints written by real torch, then damaged
/// (tests/scripts/gen_torch_damaged_fixtures.py): one storage byte flipped,
/// one record's CRC-32 changed.
#[test]
fn a_crc_mismatch_is_an_error_naming_the_member() {
    let m = damaged();
    let want = m["tensors"].as_array().unwrap();
    for (file, what) in m["files"].as_object().unwrap() {
        let member = what["member"].as_str().unwrap();
        let bad = what["tensor"].as_str().unwrap();
        let ck = Checkpoint::open(dir().join(file)).unwrap();
        let tensors = ck.tensors();
        assert_eq!(tensors.len(), want.len(), "{file}");
        for ((path, t), w) in tensors.iter().zip(want) {
            let t = t.as_ref().unwrap();
            assert_eq!(path, w["path"].as_str().unwrap());
            if path == bad {
                for e in [
                    ck.tensor_data(t).unwrap_err(),
                    ck.read::<f32>(t).unwrap_err(),
                    ck.storage_bytes(&t.storage).unwrap_err(),
                ] {
                    let e = e.to_string();
                    assert!(e.contains(member) && e.contains("CRC-32"), "{file}: {e}");
                }
            } else {
                let data = ck.tensor_data(t).unwrap();
                assert_eq!(hex(&data), w["sha256"].as_str().unwrap(), "{file} {path}");
            }
        }
        let e = ck.verify().unwrap_err().to_string();
        assert!(e.contains(member) && e.contains("CRC-32"), "{file}: {e}");
        // Unchecked, the bytes are read as they are (as torch reads them).
        let ck = ck.with_crc_check(false);
        let (_, t) = ck.tensors().into_iter().find(|(p, _)| p == bad).unwrap();
        let data = ck.tensor_data(&t.unwrap()).unwrap();
        let intact = want.iter().find(|w| w["path"] == bad).unwrap()["sha256"]
            .as_str()
            .unwrap();
        assert_eq!(hex(&data) == intact, file == "damaged_crc.pt", "{file}");
        // A memory map checks on verify(), or when asked to.
        #[cfg(feature = "mmap")]
        {
            let ck = Checkpoint::mmap(dir().join(file)).unwrap();
            let (_, t) = ck.tensors().into_iter().find(|(p, _)| p == bad).unwrap();
            let t = t.unwrap();
            assert!(ck.tensor_data(&t).is_ok());
            let e = ck.verify().unwrap_err().to_string();
            assert!(e.contains(member) && e.contains("CRC-32"), "{file}: {e}");
            let ck = ck.with_crc_check(true);
            let e = ck.tensor_data(&t).unwrap_err().to_string();
            assert!(e.contains(member) && e.contains("CRC-32"), "{file}: {e}");
        }
    }
    // The intact checkpoints verify.
    for file in ["real_torch.pt", "checkpoint_zip.pt", "checkpoint_legacy.pt"] {
        Checkpoint::open(dir().join(file))
            .unwrap()
            .verify()
            .unwrap();
    }
}

#[test]
fn tensors_read_from_many_threads_at_once() {
    fn shared<T: Send + Sync>(_: &T) {}
    for file in ["real_torch.pt", "checkpoint_zip.pt", "lazy_legacy.pt"] {
        let ck = Checkpoint::open(dir().join(file)).unwrap();
        shared(&ck);
        let tensors: Vec<_> = ck.tensors().into_iter().map(|(_, t)| t.unwrap()).collect();
        let want: Vec<Vec<u8>> = tensors
            .iter()
            .map(|t| ck.tensor_bytes(t).unwrap())
            .collect();
        let got: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (ck, tensors) = (&ck, &tensors);
                    s.spawn(move || {
                        // Backwards, so that the threads meet on the same storages.
                        let mut out: Vec<Vec<u8>> = tensors
                            .iter()
                            .rev()
                            .map(|t| ck.tensor_data(t).unwrap().into_owned())
                            .collect();
                        out.reverse();
                        out
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for g in got {
            assert_eq!(g, want, "{file}");
        }
    }
}

#[test]
fn tensor_data_borrows_where_the_stored_bytes_are_the_answer() {
    use std::borrow::Cow;
    let ck = Checkpoint::open(dir().join("checkpoint_zip.pt")).unwrap();
    let tensors = ck.tensors();
    let find = |p: &str| {
        tensors
            .iter()
            .find(|(q, _)| q == p)
            .unwrap()
            .1
            .as_ref()
            .unwrap()
            .clone()
    };
    // Views of one storage: it is read once and kept, the contiguous ones
    // borrow from it, the transpose is gathered.
    let base = find("['views'][0]");
    let transposed = find("['views'][2]");
    assert!(matches!(ck.tensor_data(&base).unwrap(), Cow::Borrowed(_)));
    assert!(matches!(
        ck.tensor_data(&transposed).unwrap(),
        Cow::Owned(_)
    ));
    // A storage of one tensor is read for it and handed over.
    let w = find("['model']['fc.weight']");
    assert!(matches!(ck.tensor_data(&w).unwrap(), Cow::Owned(_)));
    // Typed reads decode the same values whatever the path.
    let values = ck.read::<f64>(&base).unwrap();
    let mut ck = ck;
    ck.clear_cache();
    assert_eq!(ck.read::<f64>(&base).unwrap(), values);
    #[cfg(feature = "mmap")]
    {
        let m = Checkpoint::mmap(dir().join("checkpoint_zip.pt")).unwrap();
        assert!(matches!(m.tensor_data(&w).unwrap(), Cow::Borrowed(_)));
        assert!(matches!(m.tensor_data(&transposed).unwrap(), Cow::Owned(_)));
        assert_eq!(m.read::<f64>(&base).unwrap(), values);
        // Big-endian storages are swapped, so never borrowed.
        let be = Checkpoint::mmap(dir().join("checkpoint_big_endian.pt")).unwrap();
        let (_, t) = be
            .tensors()
            .into_iter()
            .find(|(p, _)| p == "['views'][0]")
            .unwrap();
        let t = t.unwrap();
        assert!(matches!(be.tensor_data(&t).unwrap(), Cow::Owned(_)));
        assert_eq!(be.read::<f64>(&t).unwrap(), values);
    }
}

/// torch < 0.4's tar format (tests/scripts/gen_torch_tar_fixture.py, read
/// back by real torch there): tensors named by persistent ids, their
/// metadata and storages in members of their own, a storage view.
#[test]
fn tar_checkpoints_of_torch_before_0_4() {
    let text = std::fs::read_to_string(dir().join("tar_format.json")).unwrap();
    let m: Json = serde_json::from_str(&text).unwrap();
    let want = m["tensors"].as_array().unwrap();
    let ways = every_way("tar_format.pt");
    let first = (ways[0].1)();
    for (how, read) in &ways[1..] {
        assert_eq!(read(), first, "tar by {how}");
    }
    let ck = Checkpoint::open(dir().join("tar_format.pt")).unwrap();
    assert!(!ck.is_big_endian());
    assert_eq!(ck.document().root().get("epoch").unwrap().as_i64(), Some(7));
    let mut tensors = ck.tensors();
    tensors.sort_by_key(|(p, _)| want.iter().position(|w| w["path"] == p.as_str()));
    assert_eq!(tensors.len(), want.len());
    for ((path, t), w) in tensors.iter().zip(want) {
        let t = t.as_ref().unwrap();
        assert_eq!(path, w["path"].as_str().unwrap());
        assert_eq!(t.dtype().name(), w["dtype"].as_str().unwrap(), "{path}");
        assert_eq!(t.shape, usizes(&w["shape"]), "{path}");
        assert_eq!(t.stride, usizes(&w["stride"]), "{path}");
        // torch counts a view's offset from the view, this reader from
        // the storage it views (elements 2.. of storage 102).
        let view = if path.contains("view") { 2 } else { 0 };
        assert_eq!(
            t.storage_offset as u64,
            w["storage_offset"].as_u64().unwrap() + view,
            "{path}"
        );
        let data = ck.tensor_data(t).unwrap();
        assert_eq!(hex(&data), w["sha256"].as_str().unwrap(), "{path}");
    }
    let (_, v) = tensors.iter().find(|(p, _)| p.contains("view")).unwrap();
    assert_eq!(ck.read::<i64>(v.as_ref().unwrap()).unwrap(), [3, 5, 7, 9]);
    ck.verify().unwrap();
    // Cut short anywhere: an error, not a panic.
    let data = std::fs::read(dir().join("tar_format.pt")).unwrap();
    for cut in (0..data.len()).step_by(97) {
        if let Ok(c) = Checkpoint::from_reader(std::io::Cursor::new(&data[..cut])) {
            for (_, t) in c.tensors() {
                let _ = t.map(|t| c.tensor_data(&t).map(|_| ()));
            }
        }
    }
}

#[test]
fn load_options_reach_every_format_s_pickles() {
    // A memo limit of 1 entry refuses the object pickle of each format
    // (zip's data.pkl, the legacy pickles, the tar's members), with the
    // limit's error; the default reads them.
    let strict = pickle_codec::LoadOptions::default().max_memo(1);
    for name in ["real_torch.pt", "real_torch_legacy.pt", "tar_format.pt"] {
        let path = dir().join(name);
        Checkpoint::open_with(&path, &pickle_codec::LoadOptions::default()).unwrap();
        let e = Checkpoint::open_with(&path, &strict).err().expect(name);
        assert_eq!(e.category(), pickle_codec::Category::Limit, "{name}: {e}");
        let f = std::fs::File::open(&path).unwrap();
        let e = Checkpoint::from_reader_with(f, &strict).err().expect(name);
        assert_eq!(e.category(), pickle_codec::Category::Limit, "{name}: {e}");
        #[cfg(feature = "mmap")]
        {
            let e = Checkpoint::mmap_with(&path, &strict).err().expect(name);
            assert_eq!(e.category(), pickle_codec::Category::Limit, "{name}: {e}");
        }
    }
}
