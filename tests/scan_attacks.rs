//! The scanner against published attack techniques and benign look-alikes.
//!
//! Sets: tests/fixtures/attacks (from advisories) and the red teams'
//! tests/fixtures/redteam*/attacks (new constructions, each verified in
//! CPython); tests/fixtures/hard_negatives and the red teams' benign sets
//! (real files of the ML stack and look-alikes), where a file the policy
//! deliberately calls dangerous or cannot read carries that judgement and
//! its reason in its manifest (`judged`, `why_judged`).
//!
//! tests/fixtures/attacks/manifest.json lists payloads built from public
//! advisories and scanner bug reports (see tests/fixtures/attacks/README.md);
//! tests/scripts/verify_attacks.py showed in CPython that each one runs code.
//! Every one must be called dangerous: none may be safe.
//! tests/fixtures/hard_negatives/manifest.json lists benign files that look
//! scary (stdlib data types of os, subprocess, socket, signal, http, ...,
//! real numpy / pandas / scikit-learn / joblib / torch files): none may be
//! called dangerous, and each must scan without an error.
//!
//! The CLI builds the library with the `torch` and `joblib-compress`
//! features; run this test the same way to measure what `pickle scan` does:
//!
//! ```text
//! cargo test --test scan_attacks --features torch,joblib-compress -- --nocapture
//! ```
//!
//! Without `joblib-compress` the library cannot decompress: a compressed
//! file (or deflated zip member) must then be an error whose message names
//! the feature, never safe; those files are counted apart ("need the
//! decompressors") and every other file is held to the rules above.
//!
//! It prints one line per failure and a summary line
//! (`attacks: N dangerous, N unknown, N error, N safe; hard negatives: ...`).

use pickle_codec::scan::{scan_path, Policy, Report, Verdict};

mod common;
use common::fixture_dir;

fn manifest(set: &str) -> Vec<serde_json::Value> {
    let path = fixture_dir(set).join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    v.as_array()
        .unwrap_or_else(|| panic!("{}: not a JSON array", path.display()))
        .clone()
}

fn field<'a>(e: &'a serde_json::Value, key: &str) -> &'a str {
    e.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// dangerous / unknown / error / safe, in that order of precedence.
fn class(r: &Report) -> &'static str {
    let v = r.verdict();
    if v == Verdict::Dangerous {
        "dangerous"
    } else if r.error.is_some() || (v != Verdict::Safe && v != Verdict::Unknown) {
        "error"
    } else if v == Verdict::Unknown {
        "unknown"
    } else {
        "safe"
    }
}

fn describe(r: &Report) -> String {
    let mut s = String::new();
    if let Some(e) = &r.error {
        s.push_str(&format!("\n      error: {e}"));
    }
    let worst: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Safe)
        .take(6)
        .collect();
    for f in &worst {
        s.push_str(&format!("\n      finding: {f:?}"));
    }
    if worst.is_empty() {
        s.push_str(&format!(
            "\n      no finding above safe ({} findings, {} pickles, {:?})",
            r.findings.len(),
            r.pickles,
            r.format
        ));
    }
    s
}

/// Without the decompressors, the report on a compressed file: an error
/// that says which feature opens it (fail closed), and nothing else.
fn needs_decompressors(r: &Report) -> bool {
    !cfg!(feature = "joblib-compress")
        && r.verdict() == Verdict::Error
        && r.error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("`joblib-compress` feature"))
}

#[derive(Default)]
struct Counts {
    dangerous: usize,
    unknown: usize,
    error: usize,
    safe: usize,
}

impl Counts {
    fn add(&mut self, c: &str) {
        match c {
            "dangerous" => self.dangerous += 1,
            "unknown" => self.unknown += 1,
            "error" => self.error += 1,
            _ => self.safe += 1,
        }
    }
}

/// The malicious sets: every file must be dangerous.
const ATTACK_SETS: &[&str] = &["attacks", "redteam/attacks", "redteam2/attacks"];
/// The benign sets: no file dangerous or unreadable, except where the
/// manifest records a judgement (`judged`, with `why_judged`), which must
/// then hold exactly.
const BENIGN_SETS: &[&str] = &[
    "hard_negatives",
    "redteam/benign",
    "redteam/benign_breadth",
    "redteam2/benign",
];

#[test]
fn published_attacks_are_dangerous_and_hard_negatives_are_not() {
    let policy = Policy::default();
    let mut failures = Vec::new();

    let (mut a, mut h) = (Counts::default(), Counts::default());
    let (mut gated, mut attacks_n, mut negatives_n, mut judged_n) = (0, 0, 0, 0);
    for set in ATTACK_SETS {
        if !fixture_dir(set).join("manifest.json").is_file() && *set != "attacks" {
            continue;
        }
        let attacks = manifest(set);
        if *set == "attacks" {
            assert!(
                attacks.len() >= 60,
                "attack corpus has {} files",
                attacks.len()
            );
        }
        for e in &attacks {
            attacks_n += 1;
            let file = field(e, "file");
            let r = scan_path(&fixture_dir(set).join(file), &policy);
            if needs_decompressors(&r) {
                gated += 1;
                continue;
            }
            let c = class(&r);
            a.add(c);
            if c != "dangerous" {
                failures.push(format!(
                    "attack {set}/{file} [{}] {c} (expected dangerous): {}{}",
                    field(e, "group"),
                    field(e, "technique"),
                    describe(&r)
                ));
            }
        }
    }
    for set in BENIGN_SETS {
        if !fixture_dir(set).join("manifest.json").is_file() && *set != "hard_negatives" {
            continue;
        }
        let negatives = manifest(set);
        assert!(!negatives.is_empty());
        for e in &negatives {
            negatives_n += 1;
            let file = field(e, "file");
            let r = scan_path(&fixture_dir(set).join(file), &policy);
            if needs_decompressors(&r) {
                gated += 1;
                continue;
            }
            let c = class(&r);
            h.add(c);
            let judged = field(e, "judged");
            if !judged.is_empty() {
                judged_n += 1;
                if c != judged {
                    failures.push(format!(
                        "benign {set}/{file} [{}] {c} (judged {judged}: {}){}",
                        field(e, "kind"),
                        field(e, "why_judged"),
                        describe(&r)
                    ));
                }
            } else if c == "dangerous" || c == "error" {
                failures.push(format!(
                    "hard negative {set}/{file} [{}] {c} (expected not dangerous, no error){}",
                    field(e, "kind"),
                    describe(&r)
                ));
            }
        }
    }

    for f in &failures {
        println!("{f}");
    }
    println!(
        "attacks: {} dangerous, {} unknown, {} error, {} safe; \
         benign: {} dangerous, {} unknown, {} error, {} safe ({judged_n} judged in their manifests); \
         {} files need the decompressors (features: torch={}, joblib-compress={})",
        a.dangerous,
        a.unknown,
        a.error,
        a.safe,
        h.dangerous,
        h.unknown,
        h.error,
        h.safe,
        gated,
        cfg!(feature = "torch"),
        cfg!(feature = "joblib-compress"),
    );
    assert!(
        failures.is_empty(),
        "{} failures among {attacks_n} attack files ({} safe) and {negatives_n} benign files",
        failures.len(),
        a.safe,
    );
}
