//! The scanner and the unpickler agree: whenever `loads_all` (for joblib
//! files, `joblib::load`) reads a file,
//! `scan_bytes` reads it to its end too (no error) and names every global the
//! documents hold. A global the scanner did not see would be code that runs
//! on load without a verdict.
//!
//! Inputs: every fixture (benign, malicious, attacks, hard negatives, fuzz
//! regressions) and deterministic mutants of each (bytes flipped, dropped,
//! inserted, cut), so that files neither side was written for are compared.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pickle_codec::scan::{scan_bytes, Policy};

mod common;
use pickle_codec::{loads_all, Document, Node};

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = Vec::new();
    let mut dirs = vec![
        root.join("fixtures/benign"),
        root.join("fixtures/malicious"),
        root.join("fixtures/attacks"),
        root.join("fixtures/hard_negatives"),
        root.join("data/fuzz"),
    ];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if !p
                .extension()
                .is_some_and(|x| x == "md" || x == "json" || x == "txt")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A str's text, lone surrogates as U+FFFD (as the scanner names them).
fn lossy(v: pickle_codec::ValueRef<'_>) -> String {
    match v.kind() {
        pickle_codec::Kind::Str(s) => s.to_string_lossy().into_owned(),
        _ => "?".to_string(),
    }
}

/// `(module, name)` of every global node of the documents.
fn globals(docs: &[Document]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for doc in docs {
        for node in doc.nodes() {
            if let Node::Global(g) = node {
                let m = lossy(doc.get(g.module));
                let n = lossy(doc.get(g.name));
                out.insert((m, n));
            }
        }
    }
    out
}

/// What the loader reads of `data`: every pickle of it, or, for a file with
/// joblib's array wrappers, what `joblib.load` reads (the view the scanner
/// follows; the bytes after each wrapper are read by the scanner as
/// `pickle.load` would too, but only what is dangerous there is reported).
fn load(data: &[u8]) -> Option<Vec<Document>> {
    if data.windows(17).any(|w| w == b"NumpyArrayWrapper") {
        return pickle_codec::joblib::load(data).ok().map(|d| vec![d]);
    }
    loads_all(data).ok()
}

/// Disagreements on one input, if any.
fn check(label: &str, data: &[u8]) -> Option<String> {
    let docs = load(data)?;
    let report = scan_bytes(data, &Policy::default());
    // A legacy torch file is five pickles and raw storages: the scanner
    // refuses one that torch.load would refuse, though pickle.load reads
    // the pickles that are there.
    let container_error = report
        .error
        .as_ref()
        .is_some_and(|e| e.message().starts_with("legacy torch"));
    if let Some(e) = report.error.as_ref().filter(|_| !container_error) {
        return Some(format!("{label}: loads_all reads it, the scan fails: {e}"));
    }
    let seen: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.module.clone(), f.name.clone()))
        .collect();
    let joblib = data.windows(17).any(|w| w == b"NumpyArrayWrapper");
    let missing: Vec<_> = globals(&docs)
        .difference(&seen)
        // The joblib loader writes each array as numpy pickles one.
        .filter(|(m, n)| {
            !(joblib
                && matches!(
                    (m.as_str(), n.as_str()),
                    ("numpy.core.multiarray", "_reconstruct") | ("numpy", "ndarray" | "dtype")
                ))
        })
        .cloned()
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "{label}: globals the scan does not name: {missing:?}"
        ))
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutants(data: &[u8], rng: &mut Rng, count: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut m = data.to_vec();
        for _ in 0..1 + rng.below(3) {
            if m.is_empty() {
                break;
            }
            let i = rng.below(m.len());
            match rng.below(4) {
                0 => m[i] = rng.next() as u8,
                1 => {
                    m.remove(i);
                }
                2 => m.insert(i, rng.next() as u8),
                _ => m.truncate(i + 1),
            }
        }
        out.push(m);
    }
    out
}

#[test]
fn scan_reads_whatever_loads_reads_and_names_its_globals() {
    let mut files = fixture_files();
    files.extend(common::generated_corpus(
        5309,
        "the scanner/unpickler agreement on a generated corpus",
    ));
    assert!(files.len() > 300, "only {} fixture files", files.len());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut compared, mut failures) = (0usize, Vec::new());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if data.len() > 256 << 10 {
            continue;
        }
        let name = path.display().to_string();
        if load(&data).is_some() {
            compared += 1;
        }
        failures.extend(check(&name, &data));
        for (i, m) in mutants(&data, &mut rng, 8).iter().enumerate() {
            if load(m).is_some() {
                compared += 1;
            }
            failures.extend(check(&format!("{name} mutant {i}"), m));
        }
    }
    println!("{compared} inputs read by loads_all compared with the scan");
    assert!(compared > 500, "only {compared} inputs compared");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The same agreement on generated object graphs (`Arbitrary for Document`:
/// globals, objects of every kind, sharing, cycles), pickled at every
/// protocol: a bounded property run in every test run with `--all-features`,
/// beside the `scan_agrees` fuzz target.
#[cfg(feature = "arbitrary")]
#[test]
fn scan_agrees_on_generated_documents() {
    use arbitrary::{Arbitrary, Unstructured};
    let mut rng = Rng(0x5ca9_a9ee_5eed_0017);
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in 0..3000 {
        let bytes: Vec<u8> = (0..64 + rng.below(960)).map(|_| rng.next() as u8).collect();
        let Ok(doc) = Document::arbitrary(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        for protocol in 0..=5 {
            let Ok(data) = pickle_codec::dumps(&doc, protocol) else {
                continue;
            };
            compared += 1;
            if let Some(why) = check(&format!("case {case}, protocol {protocol}"), &data) {
                failures.push(why);
            }
        }
    }
    assert!(compared > 5000, "only {compared} pickles compared");
    eprintln!("{compared} pickles of generated documents compared");
    assert!(
        failures.is_empty(),
        "{} of {compared}:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
