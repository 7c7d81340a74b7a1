//! `.npy` and `.npz` files through the `pickle` binary: `arrays` lists them,
//! `json` prints them as the JSON of the arrays pickled, `convert` writes
//! those pickles; files are told apart by their bytes, and `-` reads stdin.
//! Fixtures: tests/fixtures/ml/npy (tests/scripts/gen_npy_fixtures.py).

mod common;

use common::pickle;

use std::process::Output;

use pickle_codec::numpy::NdArray;
use serde_json::Value as Json;

fn ok(out: &Output) -> &[u8] {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/ml/npy/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn manifest() -> Json {
    serde_json::from_slice(&std::fs::read(fixture("manifest.json")).unwrap()).unwrap()
}

fn npy_entry(file: &str) -> Json {
    manifest()["npy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file)
        .unwrap()
        .clone()
}

/// A copy of a fixture under a name that says nothing of what it is.
fn anonymous(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "pickle-cli-npy-{}-{}.bin",
        std::process::id(),
        name.replace('.', "_")
    ));
    std::fs::copy(fixture(name), &p).unwrap();
    p
}

#[test]
fn arrays_lists_npy_and_npz_by_their_bytes_and_from_stdin() {
    for name in ["struct_nested.npy", "fortran_f8.npy", "object.npy"] {
        let e = npy_entry(name);
        let plain = pickle(&["arrays", "--json", &fixture(name)], None);
        let listed: Json = serde_json::from_slice(ok(&plain)).unwrap();
        let a = &listed[0];
        assert_eq!(listed.as_array().unwrap().len(), 1, "{name}");
        assert_eq!(a["path"], "", "{name}");
        assert_eq!(a["dtype"], e["dtype"], "{name}");
        assert_eq!(a["shape"], e["shape"], "{name}");
        if name == "fortran_f8.npy" {
            assert_eq!(a["stride"], serde_json::json!([1, 3]));
            assert_eq!(a["sha256"], e["sha256"]);
        }
        let renamed = anonymous(name);
        let out = pickle(&["arrays", "--json", renamed.to_str().unwrap()], None);
        assert_eq!(ok(&out), ok(&plain), "{name} under another name");
        let _ = std::fs::remove_file(renamed);
        let data = std::fs::read(fixture(name)).unwrap();
        let out = pickle(&["arrays", "--json", "-"], Some(&data));
        assert_eq!(ok(&out), ok(&plain), "{name} from stdin");
    }

    let m = manifest();
    for z in m["npz"].as_array().unwrap() {
        let file = z["file"].as_str().unwrap();
        let out = pickle(&["arrays", "--json", &fixture(file)], None);
        let listed: Json = serde_json::from_slice(ok(&out)).unwrap();
        let want = z["arrays"].as_array().unwrap();
        assert_eq!(listed.as_array().unwrap().len(), want.len(), "{file}");
        for (got, want) in listed.as_array().unwrap().iter().zip(want) {
            let key = want["key"].as_str().unwrap();
            assert_eq!(got["path"], format!("['{key}']"), "{file}");
            assert_eq!(got["dtype"], want["dtype"], "{file} {key}");
            assert_eq!(got["shape"], want["shape"], "{file} {key}");
            if key != "nodes" {
                // (padding bytes aside: numpy leaves them uninitialized)
                assert_eq!(got["sha256"], want["sha256"], "{file} {key}");
            }
        }
        let data = std::fs::read(fixture(file)).unwrap();
        let text = pickle(&["arrays", "-"], Some(&data));
        assert!(String::from_utf8_lossy(ok(&text)).contains("['arr_1']\t<f4\tshape=(3, 4)"));
    }
}

#[test]
fn json_of_a_npy_is_the_json_of_its_array_pickled() {
    for name in [
        "i2.npy",
        "struct_nested.npy",
        "fortran_i2_3d.npy",
        "M8ns.npy",
    ] {
        let data = std::fs::read(fixture(name)).unwrap();
        let json = pickle(&["json", "--compact", &fixture(name)], None);
        let text = String::from_utf8_lossy(ok(&json)).into_owned();
        assert!(
            text.starts_with(
                r#"{"$object":"reduce","callable":{"$global":"numpy.core.multiarray:_reconstruct"}"#
            ),
            "{name}: {text}"
        );
        // The same array as a pickle, through the library: the same JSON.
        let a = NdArray::from_npy(&data).unwrap();
        let mut doc = pickle_codec::Document::new();
        let v = a.to_value(&mut doc, 4);
        doc.set_root(v);
        let pickled = pickle_codec::dumps(&doc, 4).unwrap();
        let same = pickle(&["json", "--compact", "-"], Some(&pickled));
        assert_eq!(ok(&same), text.as_bytes(), "{name}");
        // from-json turns it into the pickle of that array.
        let back = pickle(
            &["from-json", "-", "-p", "4", "-o", "-"],
            Some(text.as_bytes()),
        );
        let doc = pickle_codec::loads(ok(&back)).unwrap();
        let b = NdArray::from_value(doc.root()).unwrap();
        assert_eq!(b.to_npy().unwrap(), a.to_npy().unwrap(), "{name}");
        // From stdin, detected by its bytes.
        let stdin = pickle(&["json", "--compact", "-"], Some(&data));
        assert_eq!(ok(&stdin), text.as_bytes(), "{name} from stdin");
    }
    // An object array: the JSON of the pickle the file holds, as it is.
    let data = std::fs::read(fixture("object.npy")).unwrap();
    let h = pickle_codec::numpy::NpyHeader::parse(&data).unwrap();
    let payload = &data[h.data_offset as usize..];
    let of_npy = pickle(&["json", &fixture("object.npy")], None);
    let of_pickle = pickle(&["json", "-"], Some(payload));
    assert_eq!(ok(&of_npy), ok(&of_pickle));
    assert!(String::from_utf8_lossy(ok(&of_npy)).contains("numpy._core.multiarray:_reconstruct"));
}

#[test]
fn json_of_a_npz_is_a_dict_of_its_arrays() {
    let m = manifest();
    let z = &m["npz"][0];
    let data = std::fs::read(fixture(z["file"].as_str().unwrap())).unwrap();
    let out = pickle(&["json", "-"], Some(&data));
    let j: Json = serde_json::from_slice(ok(&out)).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let want: Vec<&str> = z["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, want);
    assert_eq!(
        j["objs"]["callable"]["$global"],
        "numpy._core.multiarray:_reconstruct"
    );
    assert_eq!(j["weights"], Json::Null);
    assert_eq!(
        j["arr_1"]["callable"]["$global"],
        "numpy.core.multiarray:_reconstruct"
    );
}

#[test]
fn convert_writes_the_pickle_of_the_array() {
    let data = std::fs::read(fixture("fortran_i2_3d.npy")).unwrap();
    let a = NdArray::from_npy(&data).unwrap();
    for p in ["2", "3", "4", "5"] {
        let out = pickle(
            &["convert", &fixture("fortran_i2_3d.npy"), "-p", p, "-o", "-"],
            None,
        );
        let doc = pickle_codec::loads(ok(&out)).unwrap();
        let b = NdArray::from_value(doc.root()).unwrap();
        assert_eq!(b.to_npy().unwrap(), a.to_npy().unwrap(), "protocol {p}");
        assert_eq!(out.stdout[1], p.parse::<u8>().unwrap());
    }
    // An object array: its own pickle, re-encoded.
    let data = std::fs::read(fixture("object.npy")).unwrap();
    let h = pickle_codec::numpy::NpyHeader::parse(&data).unwrap();
    let payload = &data[h.data_offset as usize..];
    let out = pickle(&["convert", "-", "-p", "4", "-o", "-"], Some(&data));
    let want = pickle_codec::dumps(&pickle_codec::loads(payload).unwrap(), 4).unwrap();
    assert_eq!(ok(&out), &want[..]);
    // A Python 2 object array needs --encoding, and says where it failed.
    let py2 = fixture("py2_object.npy");
    let out = pickle(&["convert", &py2, "-p", "2", "-o", "-"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error:") && err.contains("at byte 256"),
        "{err}"
    );
    let out = pickle(
        &[
            "convert",
            &py2,
            "-p",
            "2",
            "-o",
            "-",
            "--encoding",
            "latin1",
        ],
        None,
    );
    let doc = pickle_codec::loads(ok(&out)).unwrap();
    let b = NdArray::from_value(doc.root()).unwrap();
    let (d, items) = b.objects().unwrap();
    assert_eq!(d.get(items[0]).as_str(), Some("caf\u{e9}"));
    // An .npz: a dict of its arrays.
    let out = pickle(
        &["convert", &fixture("savez.npz"), "-p", "4", "-o", "-"],
        None,
    );
    let doc = pickle_codec::loads(ok(&out)).unwrap();
    let fortran = NdArray::from_value(doc.root().get("fortran").unwrap()).unwrap();
    assert_eq!(fortran.dtype.str(), ">i8");
    assert_eq!(fortran.to_vec::<i64>().unwrap(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn broken_numpy_files_are_one_line_errors_with_the_offset() {
    let data = std::fs::read(fixture("f8.npy")).unwrap();
    let cut = &data[..data.len() - 3];
    for cmd in [&["json", "-"][..], &["convert", "-", "-p", "4", "-o", "-"]] {
        let out = pickle(cmd, Some(cut));
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("needs 48 bytes") && err.contains("at byte 128"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = pickle(&["arrays", "-"], Some(cut));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at byte 128"));
}
