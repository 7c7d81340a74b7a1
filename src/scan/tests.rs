use super::*;
use std::path::{Path, PathBuf};

fn scan(data: &[u8]) -> Report {
    scan_bytes(data, &Policy::default())
}

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn describe(r: &Report) -> String {
    let mut s = format!("verdict {} error {:?}\n", r.verdict(), r.error);
    for f in &r.findings {
        s += &format!(
            "  {} {} {} {}.{} {} ({})\n",
            f.offset,
            f.opcode.name(),
            f.kind.as_str(),
            f.module,
            f.name,
            f.verdict,
            f.reason
        );
    }
    s
}

#[test]
fn plain_data_is_safe() {
    let r = scan(b"\x80\x02]q\x00(K\x01K\x02e.");
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.pickles, 1);
}

#[test]
fn malformed_is_an_error() {
    for bad in [
        &b""[..],
        b"\x80\x02]",
        b"\x80\x02a.",
        b"\x80\x02\xff.",
        b"\x80\x02N.\xff",
        b"\x80\x02N.\x80\x02(",
    ] {
        let r = scan(bad);
        assert!(r.error.is_some(), "{bad:?} passed");
        assert!(!r.is_clean());
        assert_eq!(r.verdict(), Verdict::Error, "{bad:?}");
        assert_eq!(r.findings_verdict(), Verdict::Safe, "{bad:?}");
    }
}

#[test]
fn nested_class_via_getattr_is_unknown_not_dangerous() {
    // protocol 2 pickle of pcorpus.Outer.Inner(7)
    let data = b"\x80\x02c__builtin__\ngetattr\nq\x00cpcorpus\nOuter\nq\x01X\x05\x00\x00\x00Innerq\x02\x86q\x03Rq\x04)\x81q\x05}q\x06X\x01\x00\x00\x00vq\x07K\x07sb.";
    let r = scan(data);
    assert_eq!(r.verdict(), Verdict::Unknown, "{}", describe(&r));
    assert!(r
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::Call && f.reason.contains("pcorpus.Outer.Inner")));
}

#[test]
fn getattr_of_collections_is_resolved() {
    let data =
        b"\x80\x02c__builtin__\ngetattr\ncollections\nOrderedDict\nX\x08\x00\x00\x00fromkeys\x86R.";
    let r = scan(data);
    assert_eq!(r.verdict(), Verdict::Unknown, "{}", describe(&r));
}

#[test]
fn every_malicious_fixture_is_dangerous() {
    let dir = fixtures("malicious");
    let mut n = 0;
    let mut missed = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        n += 1;
        let r = scan_path(&path, &Policy::default());
        if r.verdict() != Verdict::Dangerous {
            missed.push(format!("{}: {}", path.display(), describe(&r)));
        } else if let Some(e) = &r.error {
            missed.push(format!("{}: dangerous but error {e}", path.display()));
        }
    }
    assert!(n >= 100, "only {n} malicious fixtures");
    assert!(
        missed.is_empty(),
        "{} missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

/// What a benign file should get: user classes (pcorpus), persistent ids and
/// extension codes are unknown; stdlib, numpy, pandas, sklearn and torch data safe.
fn expected_benign(name: &str, data: &[u8]) -> Verdict {
    let user = data.windows(7).any(|w| w == b"pcorpus");
    if user || name.contains("persistent_id") || name.contains("extension_codes") {
        Verdict::Unknown
    } else {
        Verdict::Safe
    }
}

/// Scan every pickle-ish file of `dir`; return the files that did not get
/// what [`expected_benign`] says (or anything dangerous, or an error).
fn check_benign_dir(dir: &Path) -> (usize, Vec<String>) {
    let mut n = 0;
    let mut wrong = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pkl" || e == "pt" || e == "joblib")
        })
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.contains(".oob.") {
            continue; // needs its out-of-band buffers: loads only with them
        }
        n += 1;
        let data = std::fs::read(&path).unwrap();
        let r = scan_path(&path, &Policy::default());
        let want = expected_benign(&name, &data);
        if r.error.is_some() || r.verdict() != want {
            wrong.push(format!("{name}: want {want}, {}", describe(&r)));
        }
    }
    (n, wrong)
}

#[test]
fn benign_fixtures_are_not_dangerous() {
    let (n, wrong) = check_benign_dir(&fixtures("benign"));
    assert!(n >= 300, "only {n} benign fixtures");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// `python3`, or `None` (and a printed reason) when it is absent. Under
/// `CI=true` a missing python3 is a failure, not a skip.
fn python3() -> Option<&'static str> {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("python3");
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("python3 is required when CI=true");
    }
    eprintln!("skipped: python3 not found");
    None
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    if dir.join("gen_corpus.py").is_file() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found", dir.display());
        None
    }
}

fn generate(py: &str, script: &Path, out: &Path, extra: &[&str]) {
    let _ = std::fs::remove_dir_all(out);
    let status = std::process::Command::new(py)
        .arg(script)
        .arg(out)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
}

#[test]
fn generated_corpora_are_not_dangerous() {
    let (Some(py), Some(conf)) = (python3(), conformance_dir()) else {
        return;
    };
    let base = std::env::temp_dir().join(format!("pickle-scan-test-{}", std::process::id()));
    let mut runs: Vec<(&str, Vec<&str>)> = vec![
        ("gen_corpus.py", vec![]),
        ("gen_corpus.py", vec!["--set", "variant", "--seed", "4711"]),
        ("gen_corpus.py", vec!["--set", "variant", "--seed", "99"]),
    ];
    let has_ml = std::process::Command::new(py)
        .args(["-c", "import numpy, pandas, sklearn, joblib"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_ml {
        runs.push(("gen_ml.py", vec![]));
        runs.push(("gen_ml.py", vec!["--set", "variant", "--seed", "4711"]));
    } else {
        eprintln!("skipped gen_ml.py: numpy/pandas/scikit-learn/joblib not installed");
    }
    let mut failures = Vec::new();
    for (i, (script, extra)) in runs.iter().enumerate() {
        let out = base.join(format!("run{i}"));
        generate(py, &conf.join(script), &out, extra);
        let (n, wrong) = check_benign_dir(&out);
        assert!(n > 0, "{script} wrote nothing");
        failures.extend(
            wrong
                .into_iter()
                .map(|w| format!("{script} {extra:?}: {w}")),
        );
    }
    let _ = std::fs::remove_dir_all(&base);
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn payload_after_benign_pickle_with_broken_tail_keeps_both() {
    let mut data = b"\x80\x02}q\x00.".to_vec();
    data.extend_from_slice(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.");
    data.extend_from_slice(b"\x80\x02(");
    let r = scan(&data);
    assert_eq!(r.verdict(), Verdict::Dangerous);
    assert!(r.error.is_some());
    assert_eq!(r.pickles, 2);
    // An unknown finding before the broken tail: the file is an error, not unknown.
    let mut data = b"\x80\x02cpcorpus\nPoint\n)\x81.".to_vec();
    data.extend_from_slice(b"\x80\x02(");
    let r = scan(&data);
    assert_eq!(r.findings_verdict(), Verdict::Unknown);
    assert_eq!(r.verdict(), Verdict::Error);
}

#[test]
fn memoized_stack_global_names_resolve() {
    // 'os' and 'system' memoized, popped, fetched back for STACK_GLOBAL.
    let data = b"\x80\x04\x8c\x02os\x940\x8c\x06system\x940h\x00h\x01\x93)R.";
    let r = scan(data);
    assert_eq!(r.verdict(), Verdict::Dangerous, "{}", describe(&r));
    assert!(r
        .findings
        .iter()
        .any(|f| f.module == "os" && f.name == "system"));
    // A name that is not a constant str.
    let data = b"\x80\x04\x8c\x02os\x94\x8c\x08builtins\x8c\x03str\x93\x8c\x06system\x85R\x93.";
    assert_eq!(scan(data).verdict(), Verdict::Dangerous);
}

#[test]
fn legacy_torch_tail_must_match_storages() {
    let good = std::fs::read(fixtures("benign").join("torch_legacy_state_dict.pt")).unwrap();
    let r = scan(&good);
    assert_eq!(r.format, Format::LegacyTorch);
    assert!(r.is_clean(), "{}", describe(&r));
    let mut extra = good.clone();
    extra.extend_from_slice(b"\x80\x02cos\nsystem\n.");
    assert!(scan(&extra).error.is_some());
    let short = &good[..good.len() - 3];
    assert!(scan(short).error.is_some());
}

#[test]
fn zip_members_are_scanned_and_compressed_ones_refused() {
    let good = std::fs::read(fixtures("benign").join("torch_state_dict.pt")).unwrap();
    let r = scan(&good);
    assert_eq!(r.format, Format::Zip);
    assert!(r.is_clean(), "{}", describe(&r));
    assert!(r
        .findings
        .iter()
        .all(|f| f.member.as_deref() == Some("archive/data.pkl")));
    // Flip the central directory's method of data.pkl to deflate (8).
    let cd = good.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let mut bad = good.clone();
    bad[cd + 10] = 8;
    let r = scan(&bad);
    assert!(r.error.is_some());
    assert!(!r.is_clean());
}

#[test]
fn allow_list_from_user() {
    let data = b"\x80\x02cpcorpus\nPoint\n)\x81.";
    assert_eq!(scan(data).verdict(), Verdict::Unknown);
    let mut p = Policy::default();
    p.allow("pcorpus.Point");
    assert_eq!(scan_bytes(data, &p).verdict(), Verdict::Safe);
}
