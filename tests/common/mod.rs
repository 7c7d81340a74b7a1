//! Helpers shared by the integration tests (each test file that needs them
//! says `mod common;`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether python3 can be run. Tests that compare with CPython call this
/// first: without python3 they are skipped with a printed reason, except in
/// CI (`CI=true`), where a missing python3 fails the test.
pub fn python_available(what: &str) -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 is required for {what} in CI (CI=true) but was not found");
        }
        eprintln!("SKIPPED {what}: python3 not found (set CI=true to make this a failure)");
    }
    ok
}

/// A committed fixture folder under `tests/fixtures/`.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The `files` list of a fixture folder's `manifest.json`.
pub fn fixture_manifest(name: &str) -> Vec<serde_json::Value> {
    let path = fixture_dir(name).join("manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["files"].as_array().unwrap().clone()
}

/// Lowercase hex of the SHA-256 of `b`.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn corpus_records(mut data: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let n = u16::from_le_bytes([data[0], data[1]]) as usize;
        let name = String::from_utf8(data[2..2 + n].to_vec()).unwrap();
        data = &data[2 + n..];
        let len = u32::from_le_bytes(data[2..6].try_into().unwrap()) as usize;
        out.push((name, &data[6..6 + len]));
        data = &data[6 + len..];
    }
    out
}

/// Every pickle the tests hold: CPython's corpus (`tests/data/cpython_pickles.bin`)
/// and the `.pkl`/`.pickle` files under `tests/fixtures` and `tests/data`.
pub fn pickle_corpus() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> =
        corpus_records(include_bytes!("../data/cpython_pickles.bin"))
            .into_iter()
            .map(|(n, d)| (n, d.to_vec()))
            .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut dirs = vec![root.join("fixtures"), root.join("data")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pkl" | "pickle")
            ) {
                all.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    all
}

/// A reader handing out 1 to `step` bytes per read (varying, so that
/// instructions split across reads every way), and, if `interrupt`, an
/// `Interrupted` error every fifth call (which readers must retry).
pub struct Dribble<'a> {
    data: &'a [u8],
    step: usize,
    interrupt: bool,
    n: usize,
}

impl<'a> Dribble<'a> {
    pub fn new(data: &'a [u8], step: usize, interrupt: bool) -> Self {
        Dribble {
            data,
            step,
            interrupt,
            n: 0,
        }
    }
}

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.n += 1;
        if self.interrupt && self.n % 5 == 0 {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let want = 1 + (self.n * 7919) % self.step;
        let k = want.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// The files of a fresh `gen_corpus.py --set variant` corpus (CPython's own
/// pickles of many shapes; seed `seed`, or `PICKLE_CORPUS_SEED` when set),
/// when python3 and the conformance kit are there.
pub fn generated_corpus(seed: u32, what: &str) -> Vec<PathBuf> {
    // PICKLE_CORPUS_SEED runs the same checks on another corpus.
    let seed = std::env::var("PICKLE_CORPUS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/gen_corpus.py");
    if !python_available(what) {
        return Vec::new();
    }
    if !script.is_file() {
        eprintln!(
            "skipped the generated corpus: {} not found",
            script.display()
        );
        return Vec::new();
    }
    let out = std::env::temp_dir().join(format!(
        "gen-corpus-{}-{seed}-{}",
        std::process::id(),
        what.len()
    ));
    let _ = std::fs::remove_dir_all(&out);
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args(["--set", "variant", "--seed", &seed.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "gen_corpus.py failed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pkl"))
        .collect();
    files.sort();
    files
}

/// Run a python3 script with `input` on stdin (written from another thread,
/// so a large input cannot fill the pipe while python3 writes); its stdout
/// lines.
pub fn python_lines(script: &str, input: &str) -> Vec<String> {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
