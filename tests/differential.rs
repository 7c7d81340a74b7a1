//! Differential test against CPython.
//!
//! 1. `tests/gen_fixtures.py` writes pickles of every category at every
//!    protocol, with a `manifest.json`.
//! 2. Each file is loaded with pickle_codec (every pickle of the stream).
//! 3. It is re-encoded at its own protocol: byte-identical to CPython's unless
//!    the manifest says otherwise (`exact: false`).
//! 4. It is re-encoded at protocols 0-5: required to succeed at its own
//!    protocol and above, allowed to fail below (content a lower protocol
//!    cannot express). Every output must be a fixed point (load it, dump it at
//!    the same protocol: same bytes), and at protocols that need no change of
//!    representation the reloaded documents must equal the originals.
//! 5. One `python3 tests/compare.py` process loads every original and every
//!    re-encoded file and compares them deeply (types, values, NaN, -0.0,
//!    sharing, cycles), reporting JSON.
//!
//! Without python3 the test is skipped with a message, except when `CI=true`,
//! where it fails.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::{dumps, Document, Encoding, Instructions, LoadOptions, Unpickler};
use serde_json::{json, Value as Json};

const PYTHON: &str = "python3";

/// A scratch directory, removed on success and kept (and named) on failure.
struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    fn new(tag: &str) -> ScratchDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("pickle-codec-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).expect("create scratch dir");
        ScratchDir { path, keep: false }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("fixtures kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn run_python(args: &[&Path]) -> std::process::Output {
    let out = Command::new(PYTHON)
        .args(args)
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3 {:?} failed ({}):\n{}",
        args,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One manifest entry.
struct Fixture {
    name: String,
    file: String,
    protocol: u8,
    count: usize,
    exact: bool,
    encoding: Encoding,
    buffers: Vec<String>,
    min_reencode: u8,
    raw: Json,
}

impl Fixture {
    fn from_json(v: &Json) -> Fixture {
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("manifest: {k} in {v}"))
                .to_string()
        };
        let n = |k: &str| {
            v[k].as_u64()
                .unwrap_or_else(|| panic!("manifest: {k} in {v}"))
        };
        let encoding = match v["encoding"].as_str() {
            Some("ASCII") => Encoding::Ascii,
            Some("latin1") => Encoding::Latin1,
            Some("utf-8") => Encoding::Utf8,
            Some("bytes") => Encoding::Bytes,
            other => panic!("manifest: unknown encoding {other:?}"),
        };
        Fixture {
            name: s("name"),
            file: s("file"),
            protocol: n("protocol") as u8,
            count: n("count") as usize,
            exact: v["exact"].as_bool().unwrap_or(true),
            encoding,
            buffers: v["buffers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|b| b.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            min_reencode: v["min_reencode_protocol"].as_u64().unwrap_or(0) as u8,
            raw: v.clone(),
        }
    }
}

/// Load every pickle of `data`.
fn load_stream(data: &[u8], options: LoadOptions) -> pickle_codec::Result<Vec<Document>> {
    let mut u = Unpickler::from_slice(data, options);
    let mut docs = Vec::new();
    while !u.at_end()? {
        docs.push(u.load()?);
    }
    Ok(docs)
}

/// Dump every document at `protocol`, concatenated.
fn dump_stream(docs: &[Document], protocol: u8) -> pickle_codec::Result<Vec<u8>> {
    let mut out = Vec::new();
    for d in docs {
        out.extend(dumps(d, protocol)?);
    }
    Ok(out)
}

/// The highest protocol among the opcodes of `data`: re-encoding at that
/// protocol or above needs no change of representation, so a reload must
/// give equal documents.
fn native_protocol(data: &[u8]) -> u8 {
    Instructions::new(data)
        .filter_map(|i| i.ok())
        .map(|i| i.op.protocol())
        .max()
        .unwrap_or(0)
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

#[derive(Default)]
struct Stats {
    fixtures: usize,
    loaded: usize,
    exact_checked: usize,
    reencoded: usize,
    not_expressible: usize,
    rust_equal_checked: usize,
    json_checked: usize,
}

#[test]
fn differential_against_cpython() {
    if !common::python_available("the differential test") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scratch = ScratchDir::new("differential");
    let dir = scratch.path.clone();
    let gen = run_python(&[&root.join("tests/gen_fixtures.py"), &dir]);
    eprint!("{}", String::from_utf8_lossy(&gen.stdout));

    let manifest: Json =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).expect("read manifest"))
            .expect("parse manifest");
    let fixtures: Vec<Fixture> = manifest["fixtures"]
        .as_array()
        .expect("manifest.fixtures")
        .iter()
        .map(Fixture::from_json)
        .collect();
    assert!(fixtures.len() > 100, "too few fixtures: {}", fixtures.len());

    let out_dir = dir.join("reencoded");
    fs::create_dir_all(&out_dir).unwrap();
    let mut failures: Vec<String> = Vec::new();
    let mut stats = Stats::default();
    let mut jobs = Vec::new();

    for fx in &fixtures {
        stats.fixtures += 1;
        let data = fs::read(dir.join(&fx.file)).expect("read fixture");
        let options = || -> LoadOptions {
            let o = LoadOptions::default().encoding(fx.encoding);
            if fx.buffers.is_empty() {
                o
            } else {
                o.buffers(
                    fx.buffers
                        .iter()
                        .map(|b| fs::read(dir.join(b)).expect("read buffer"))
                        .collect(),
                )
            }
        };
        let docs = match load_stream(&data, options()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: load failed: {e}", fx.name));
                continue;
            }
        };
        if docs.len() != fx.count {
            failures.push(format!(
                "{}: loaded {} pickles, expected {}",
                fx.name,
                docs.len(),
                fx.count
            ));
            continue;
        }
        stats.loaded += 1;

        // Python 2 str loaded as bytes is a protocol-3 node.
        let mut native = native_protocol(&data);
        if fx.encoding == Encoding::Bytes {
            native = native.max(3);
        }

        let mut reencoded = Vec::new();
        for p in 0..=5u8 {
            if p < fx.min_reencode {
                continue;
            }
            let bytes = match dump_stream(&docs, p) {
                Ok(b) => b,
                Err(e) if p < fx.protocol => {
                    let _ = e;
                    stats.not_expressible += 1;
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{}: dump at protocol {p} failed: {e}", fx.name));
                    continue;
                }
            };
            if p == fx.protocol && fx.exact {
                stats.exact_checked += 1;
                if bytes != data {
                    let at = first_difference(&bytes, &data);
                    failures.push(format!(
                        "{}: re-encoding at its own protocol {p} differs from CPython's at byte {at} \
                         (ours {} bytes, CPython's {} bytes)",
                        fx.name,
                        bytes.len(),
                        data.len()
                    ));
                }
            }
            // Our output must load, and dump again to the same bytes.
            match load_stream(&bytes, LoadOptions::default()) {
                Ok(again) => {
                    if p >= native && fx.buffers.is_empty() {
                        stats.rust_equal_checked += 1;
                        if again != docs {
                            failures.push(format!(
                                "{}: protocol {p}: reloaded documents differ from the originals",
                                fx.name
                            ));
                        }
                    }
                    match dump_stream(&again, p) {
                        Ok(b2) if b2 == bytes => {}
                        Ok(b2) => failures.push(format!(
                            "{}: protocol {p}: not a fixed point, re-dump differs at byte {}",
                            fx.name,
                            first_difference(&b2, &bytes)
                        )),
                        Err(e) => failures.push(format!(
                            "{}: protocol {p}: our own output cannot be dumped again: {e}",
                            fx.name
                        )),
                    }
                }
                Err(e) => failures.push(format!(
                    "{}: protocol {p}: our own output does not load: {e}",
                    fx.name
                )),
            }
            let path = out_dir.join(format!("{}.to{p}.pkl", fx.name));
            fs::write(&path, &bytes).expect("write re-encoded");
            stats.reencoded += 1;
            reencoded.push(json!({"protocol": p, "path": path.to_string_lossy()}));
        }
        // pickle -> JSON -> pickle at the file's own protocol (at least the
        // protocol its content needs), compared by CPython like the rest.
        let json_protocol = fx.protocol.max(native).max(fx.min_reencode);
        let mut text = Vec::new();
        for doc in &docs {
            pickle_codec::json::to_json(doc, &mut text, &Default::default()).expect("to_json");
        }
        match pickle_codec::json::from_json_stream(&text) {
            Ok(back) => {
                stats.json_checked += 1;
                if back != docs {
                    failures.push(format!(
                        "{}: JSON round trip changed the documents",
                        fx.name
                    ));
                }
                match dump_stream(&back, json_protocol) {
                    Ok(bytes) => {
                        let path = out_dir.join(format!("{}.json{json_protocol}.pkl", fx.name));
                        fs::write(&path, &bytes).expect("write JSON round trip");
                        reencoded.push(
                            json!({"protocol": json_protocol, "path": path.to_string_lossy()}),
                        );
                    }
                    Err(e) => {
                        failures.push(format!("{}: JSON round trip does not dump: {e}", fx.name))
                    }
                }
            }
            Err(e) => failures.push(format!("{}: JSON does not read back: {e}", fx.name)),
        }
        let mut job = fx.raw.clone();
        job["reencoded"] = Json::Array(reencoded);
        jobs.push(job);
    }

    // One CPython process compares everything.
    let jobs_path = dir.join("jobs.json");
    fs::write(
        &jobs_path,
        serde_json::to_vec(&json!({"dir": dir.to_string_lossy(), "jobs": jobs})).unwrap(),
    )
    .unwrap();
    let report_out = run_python(&[&root.join("tests/compare.py"), &jobs_path]);
    let report: Json = serde_json::from_slice(&report_out.stdout).unwrap_or_else(|e| {
        panic!(
            "compare.py printed no JSON report ({e}):\n{}",
            String::from_utf8_lossy(&report_out.stdout)
        )
    });
    let compared = report["compared"].as_u64().unwrap_or(0);
    for f in report["failures"].as_array().into_iter().flatten() {
        failures.push(format!(
            "{} -> protocol {}: CPython: {}",
            f["name"].as_str().unwrap_or("?"),
            f["protocol"],
            f["error"].as_str().unwrap_or("?")
        ));
    }

    eprintln!(
        "differential: {} fixtures, {} loaded, {} checked byte-exact, {} re-encodings \
         ({} not expressible at a lower protocol), {} reloads compared in Rust, \
         {} compared by CPython (originals loaded by CPython: {}), {} failures",
        stats.fixtures,
        stats.loaded,
        stats.exact_checked,
        stats.reencoded,
        stats.not_expressible,
        stats.rust_equal_checked,
        compared,
        report["originals"],
        failures.len()
    );
    if !failures.is_empty() {
        scratch.keep = true;
        let mut msg = String::new();
        for f in failures.iter().take(60) {
            let _ = writeln!(msg, "  {f}");
        }
        if failures.len() > 60 {
            let _ = writeln!(msg, "  ... and {} more", failures.len() - 60);
        }
        panic!("{} differential failures:\n{msg}", failures.len());
    }
    assert_eq!(stats.loaded, stats.fixtures);
    assert!(compared > 0, "CPython compared nothing");
}
