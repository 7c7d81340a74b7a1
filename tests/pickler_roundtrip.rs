//! CPython 3.11 pickles of many objects at protocols 0–5 (packed in
//! `tests/data/cpython_pickles.bin` by `tests/scripts/pack_pickles.py`):
//! each is loaded and written again at its protocol, and must come out
//! byte for byte identical.

use pickle_codec::pickler::dumps_with;
use pickle_codec::{loads, DumpOptions};

fn records(mut data: &[u8]) -> Vec<(String, u8, bool, &[u8])> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let n = u16::from_le_bytes([data[0], data[1]]) as usize;
        let name = String::from_utf8(data[2..2 + n].to_vec()).unwrap();
        data = &data[2 + n..];
        let (proto, fix) = (data[0], data[1] != 0);
        let len = u32::from_le_bytes(data[2..6].try_into().unwrap()) as usize;
        out.push((name, proto, fix, &data[6..6 + len]));
        data = &data[6 + len..];
    }
    out
}

#[test]
fn cpython_pickles_reencode_identically() {
    let all = records(include_bytes!("data/cpython_pickles.bin"));
    assert!(all.len() > 500);
    let mut bad = Vec::new();
    for (name, proto, fix, data) in &all {
        let doc = loads(data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut opts = DumpOptions::new(*proto).fix_imports(*fix);
        match dumps_with(&doc, &mut opts) {
            Ok(out) if out == *data => {}
            Ok(out) => {
                let at = out.iter().zip(data.iter()).position(|(a, b)| a != b);
                bad.push(format!("{name}: differs at {at:?}"));
            }
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {}:\n{}",
        bad.len(),
        all.len(),
        bad.join("\n")
    );
}
