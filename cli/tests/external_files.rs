//! Every `pickle` command over real files that other projects wrote, checked
//! against CPython (issue 18, "every pickle people actually have").
//!
//! The files are `tests/fixtures/external/` (pandas legacy pickles, joblib
//! test files of every version and compressor, numpy's test pickles and
//! `.npy`/`.npz`, serde-pickle's, Razorvine pickle's and og-rek's test
//! pickles; provenance and licenses in its SOURCES.md) and the real files
//! already in `tests/fixtures/hard_negatives/external/` (joblib, numpy,
//! gensim). `tests/scripts/external_check.py` runs convert (protocols 2, 4,
//! 5), json + from-json, dis, arrays and scan over each and compares with
//! what CPython makes of the file: loads equal (values, types, sharing),
//! `pickletools` listings, numpy's arrays, a verdict that is not dangerous.
//! Python 2 files get `--encoding latin1`, as pandas and numpy read them.
//! The expected results are computed by CPython at test time, not stored.
//!
//! `KNOWN` lists every (file, check) pair that fails today, each with its
//! reason: those are reported and skipped; anything else that fails fails the
//! test, and so does a row whose file is gone or whose check is not run.
//! A row that passes fails the test until it is deleted, so the table says
//! what is open. No gap is: its one row is a deliberate scanner verdict.
//!
//! Needs python3 with numpy, pandas and joblib (and lz4 for joblib's lz4
//! file), as `.ci/run` installs them: without them the test is skipped with a
//! printed reason, except in CI (`CI=true`), where that is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const PICKLE: &str = env!("CARGO_BIN_EXE_pickle");

const CHECKS: [&str; 7] = [
    "convert-p2",
    "convert-p4",
    "convert-p5",
    "json",
    "dis",
    "arrays",
    "scan",
];

/// (file under tests/fixtures, check, why it fails): each skipped with its
/// reason. No gap is open; the one row is a choice.
#[rustfmt::skip]
const KNOWN: &[(&str, &str, &str)] = &[
    ("external/cpython-pickletester/L1166.pkl", "scan", DBM),
];

/// CPython's compatibility test of Python 2 names loads `whichdb.whichdb`
/// (`dbm.whichdb`) without calling it. The scanner calls any `dbm` import
/// dangerous (dbm.dumb once `eval`ed its index file; `dbm.open` opens
/// databases that shelve unpickles from), and keeps doing so: a compat
/// test vector is not worth a hole in that family.
const DBM: &str = "deliberate: the scanner calls an import of dbm.whichdb dangerous (the dbm family opens and evaluates database files)";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether python3 with numpy, pandas and joblib is here; without it the
/// test is skipped, but not in CI.
fn python_ready() -> bool {
    let out = Command::new("python3")
        .args(["-c", "import numpy, pandas, joblib"])
        .output();
    let why = match out {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("python3 not found ({e})"),
    };
    if in_ci() {
        panic!("the external-files test needs python3 with numpy, pandas and joblib in CI (CI=true): {why}");
    }
    eprintln!("SKIPPED external files: python3 with numpy, pandas and joblib not found ({why}); set CI=true to make this a failure");
    false
}

#[test]
fn every_command_on_real_files_matches_cpython() {
    let root = root();
    let fixtures = root.join("tests/fixtures");
    // The table stays honest: every row names a file that exists and a check that runs.
    let mut bad_rows = Vec::new();
    let mut seen = BTreeSet::new();
    for &(file, check, _) in KNOWN {
        if !fixtures.join(file).is_file() {
            bad_rows.push(format!("{file}: no such file under tests/fixtures"));
        }
        if !CHECKS.contains(&check) {
            bad_rows.push(format!("{file}: no check named {check:?}"));
        }
        if !seen.insert((file, check)) {
            bad_rows.push(format!("{file} {check}: listed twice"));
        }
    }
    assert!(
        bad_rows.is_empty(),
        "bad rows in KNOWN:\n{}",
        bad_rows.join("\n")
    );
    if !python_ready() {
        return;
    }

    let scratch = std::env::temp_dir().join(format!("pickle-external-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let results = scratch.join("results.json");
    let started = Instant::now();
    let out = Command::new("python3")
        .current_dir(&root)
        .arg(root.join("tests/scripts/external_check.py"))
        .arg("--cli")
        .arg(PICKLE)
        .arg("--out")
        .arg(&results)
        .arg("--base")
        .arg(&fixtures)
        .arg(fixtures.join("external"))
        .arg(fixtures.join("hard_negatives/external"))
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "external_check.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&results).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);

    let known: BTreeMap<(&str, &str), &str> =
        KNOWN.iter().map(|&(f, c, why)| ((f, c), why)).collect();
    let mut ran = BTreeSet::new();
    let mut unexpected = Vec::new();
    let mut now_pass = Vec::new();
    let mut skipped = Vec::new();
    let (mut passed, mut gaps, mut not_applicable) = (0, 0, 0);
    let files = report["files"].as_array().expect("files");
    for f in files {
        let file = f["file"].as_str().unwrap();
        for check in CHECKS {
            let r = &f["checks"][check];
            let status = r["status"].as_str().unwrap_or("missing");
            let detail = r["detail"].as_str().unwrap_or("");
            ran.insert((file.to_string(), check));
            let listed = known.get(&(file, check));
            match (status, listed) {
                ("pass", None) => passed += 1,
                ("pass", Some(_)) => {
                    passed += 1;
                    now_pass.push(format!("    (\"{file}\", \"{check}\", ...): {detail}"));
                }
                ("na", _) => not_applicable += 1,
                ("skip", _) => skipped.push(format!("{file} {check}: {detail}")),
                (_, Some(why)) => {
                    gaps += 1;
                    println!("known gap, skipped: {file} {check}: {why}\n    ({detail})");
                }
                (_, None) => unexpected.push(format!(
                    "{file} {check}: {status}: {detail}\n    (\"{file}\", \"{check}\", REASON),"
                )),
            }
        }
    }
    let never_run: Vec<String> = KNOWN
        .iter()
        .filter(|&&(f, c, _)| !ran.contains(&(f.to_string(), c)))
        .map(|&(f, c, _)| format!("{f} {c}"))
        .collect();
    println!(
        "{} files, {passed} checks pass, {gaps} known gaps skipped, {not_applicable} not applicable, {} unexpected failures ({:.1} s)",
        files.len(),
        unexpected.len(),
        started.elapsed().as_secs_f64()
    );
    if !skipped.is_empty() {
        let msg = format!(
            "checks without a reference (a Python package missing):\n{}",
            skipped.join("\n")
        );
        assert!(!in_ci(), "{msg}");
        println!("{msg}");
    }
    assert!(
        never_run.is_empty(),
        "KNOWN rows for files or checks the script did not run:\n{}",
        never_run.join("\n")
    );
    // A row that passes is a gap closed: the table must say so.
    assert!(
        now_pass.is_empty(),
        "these KNOWN rows pass now: delete them\n{}",
        now_pass.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "{} checks failed that KNOWN does not list (fix them, or add a row with the reason):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
