//! CPython's own malformed-pickle vectors (Lib/test/pickletester.py: bad
//! stacks, bad marks, truncations, bad arguments), which CPython's
//! unpickler refuses: ours must refuse each too, with an error, not a
//! panic. Written by tests/scripts/gen_pickletester_vectors.py; the vectors
//! CPython loads are in the same folder and run through every command in
//! cli/tests/external_files.rs; those it reads leaving bytes after the STOP
//! are in one_pickle.json.

mod common;

#[test]
fn cpythons_malformed_vectors_are_refused() {
    let dir = common::fixture_dir("external").join("cpython-pickletester");
    let text = std::fs::read_to_string(dir.join("refused.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let refused = m["refused"].as_array().unwrap();
    assert!(refused.len() > 150, "{}", refused.len());
    let mut accepted = Vec::new();
    for r in refused {
        let hex = r["hex"].as_str().unwrap();
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        for enc in [
            pickle_codec::Encoding::Ascii,
            pickle_codec::Encoding::Latin1,
            pickle_codec::Encoding::Bytes,
        ] {
            let options = pickle_codec::LoadOptions::default().encoding(enc);
            if let Ok(doc) = pickle_codec::loads_with(&data, options) {
                accepted.push(format!(
                    "line {} ({}): {hex} loaded as {} with {enc:?}",
                    r["line"],
                    r["error"].as_str().unwrap(),
                    doc.root()
                ));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "{} vectors CPython refuses were accepted:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
}

/// CPython's vectors that `pickle.loads` reads leaving bytes after the STOP:
/// `Unpickler::load` reads the one pickle and stops where CPython stops.
#[test]
fn one_pickle_then_the_rest_is_left() {
    let dir = common::fixture_dir("external").join("cpython-pickletester");
    let text = std::fs::read_to_string(dir.join("one_pickle.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = m["one_pickle"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        let hex = c["hex"].as_str().unwrap();
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut u = pickle_codec::Unpickler::from_slice(&data, Default::default());
        u.load()
            .unwrap_or_else(|e| panic!("line {}: {e}", c["line"]));
        assert_eq!(u.offset(), c["end"].as_u64().unwrap(), "line {}", c["line"]);
        // `loads` wants the whole input to be one pickle.
        assert!(pickle_codec::loads(&data).is_err(), "line {}", c["line"]);
    }
}
