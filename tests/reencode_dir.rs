//! Re-encode every CPython pickle of a folder (`PICKLE_REENCODE_DIR`, files
//! named `<case>.p<N>.pkl`) at its own protocol and compare bytes.
//! `optimized*` files (pickletools.optimize output) are skipped and
//! `no_fix_imports*` are written with `fix_imports` off.
//! Skipped when the variable is unset: the embedded corpus test is
//! `tests/pickler_roundtrip.rs`.

use pickle_codec::pickler::dumps_with;
use pickle_codec::{loads, DumpOptions};

#[test]
fn reencode_dir() {
    let Ok(dir) = std::env::var("PICKLE_REENCODE_DIR") else {
        return;
    };
    let mut bad = Vec::new();
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".pkl") else {
            continue;
        };
        let Some(p) = stem
            .rsplit_once(".p")
            .and_then(|(_, p)| p.parse::<u8>().ok())
        else {
            continue;
        };
        if name.starts_with("optimized") {
            continue;
        }
        let mut opts = DumpOptions::new(p).fix_imports(!name.starts_with("no_fix_imports"));
        let data = std::fs::read(e.path()).unwrap();
        let doc = match loads(&data) {
            Ok(d) => d,
            Err(err) => {
                eprintln!("skip {name}: load: {err}");
                continue;
            }
        };
        n += 1;
        match dumps_with(&doc, &mut opts) {
            Ok(out) if out == data => {}
            Ok(out) => {
                let at = out
                    .iter()
                    .zip(&data)
                    .position(|(a, b)| a != b)
                    .unwrap_or(out.len().min(data.len()));
                let lo = at.saturating_sub(20);
                bad.push(format!(
                    "{name}: differs at {at}\n  want {:?}\n  got  {:?}",
                    String::from_utf8_lossy(&data[lo..data.len().min(at + 30)])
                        .escape_debug()
                        .to_string(),
                    String::from_utf8_lossy(&out[lo..out.len().min(at + 30)])
                        .escape_debug()
                        .to_string()
                ));
            }
            Err(err) => bad.push(format!("{name}: dump: {err}")),
        }
    }
    for b in &bad {
        eprintln!("{b}");
    }
    eprintln!("{n} re-encoded, {} differ", bad.len());
    assert!(bad.is_empty());
}
