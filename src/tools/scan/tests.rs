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
fn bytes_after_the_last_pickle_that_start_no_pickle_are_noted() {
    // pickle.load stops at STOP; a trailing newline is read by nothing.
    for tail in [&b"\n"[..], b"\xff", b"\x00\x00\x00"] {
        let mut data = b"\x80\x02N.".to_vec();
        data.extend_from_slice(tail);
        let r = scan(&data);
        assert_eq!(r.verdict(), Verdict::Safe, "{tail:?}: {}", describe(&r));
        assert!(
            r.notes.iter().any(|n| n.contains("not a pickle")),
            "{tail:?}"
        );
    }
    // What could start a pickle is still read, and a broken one is an error.
    let r = scan(b"\x80\x02N.(");
    assert_eq!(r.verdict(), Verdict::Error);
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

// ---- Containers: zip (torch, npz), npy, tar (torch < 0.4), compression ----

/// `pickle.dumps` of an object whose `__reduce__` is `(posix.system, ('id',))`.
const EVIL: &[u8] = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.";
/// A protocol 2 pickle of `{'a': [1, 2]}`.
const PLAIN: &[u8] = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02es.";

fn has_note(r: &Report, needle: &str) -> bool {
    r.notes.iter().any(|n| n.contains(needle))
}

use crate::ml::container::zip::testing::{z, zd, zip_bytes};

fn torch_zip(pkl_name: &str, pkl: &[u8]) -> Vec<u8> {
    zip_bytes(
        &[
            z(pkl_name, pkl),
            z("archive/byteorder", b"little"),
            z("archive/data/0", &[0u8; 64]),
            z("archive/version", b"3\n"),
        ],
        false,
    )
}

fn assert_dangerous(r: &Report) {
    assert_eq!(r.verdict(), Verdict::Dangerous, "{}", describe(r));
}

fn assert_safe(r: &Report) {
    assert!(r.error.is_none(), "{}", describe(r));
    assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(r));
}

#[test]
fn container_zip_names_are_matched_as_torch_matches_them() {
    assert_safe(&scan(&torch_zip("archive/data.pkl", PLAIN)));
    // miniz's lookup is case-insensitive: torch loads archive/data.PKL.
    let data = zip_bytes(
        &[
            z("archive/data.PKL", EVIL),
            z("archive/extra.pkl", PLAIN),
            z("archive/version", b"3\n"),
        ],
        false,
    );
    let r = scan(&data);
    assert_dangerous(&r);
    assert!(r
        .findings
        .iter()
        .any(|f| f.member.as_deref() == Some("archive/data.PKL")));
    assert_dangerous(&scan(&torch_zip("ARCHIVE/DATA.PKL", EVIL)));
    assert_dangerous(&scan(&torch_zip("weird prefix/data.pkl", EVIL)));
    // A pickle under another name is scanned from its first bytes...
    let data = zip_bytes(
        &[z("archive/data.pkl", PLAIN), z("archive/weights.bin", EVIL)],
        false,
    );
    assert_dangerous(&scan(&data));
    // ...but storage records are raw bytes torch never unpickles.
    let data = zip_bytes(
        &[z("archive/data.pkl", PLAIN), z("archive/data/0", EVIL)],
        false,
    );
    let r = scan(&data);
    assert_safe(&r);
    assert!(has_note(&r, "not unpickled"), "{:?}", r.notes);
    // Duplicates: every one is scanned, whichever a loader picks.
    for pair in [[PLAIN, EVIL], [EVIL, PLAIN]] {
        let data = zip_bytes(
            &[
                z("archive/data.pkl", pair[0]),
                z("archive/data.pkl", pair[1]),
            ],
            false,
        );
        assert_dangerous(&scan(&data));
    }
}

#[test]
fn container_zip_headers_as_miniz_reads_them() {
    // The local header names the member differently (and with another
    // length): the data starts after the local name, as miniz computes it.
    let mut m = z("archive/data.pkl", EVIL);
    m.local = "archive/x.bin";
    let r = scan(&zip_bytes(&[m, z("archive/version", b"3\n")], false));
    assert_dangerous(&r);
    assert!(r.error.is_none(), "{}", describe(&r));
    assert!(has_note(&r, "local header names it"), "{:?}", r.notes);
    let mut m = z("archive/data.pkl", PLAIN);
    m.local = "archive/a-much-longer-local-name.pkl";
    assert_safe(&scan(&zip_bytes(&[m], false)));
    // zip64 end record, locator and extra fields.
    assert_dangerous(&scan(&zip_bytes(&[z("archive/data.pkl", EVIL)], true)));
    assert_safe(&scan(&zip_bytes(&[z("archive/data.pkl", PLAIN)], true)));
    // Bytes before the archive: zipfile shifts every offset, miniz does not.
    let mut shifted = b"PK\x03\x04".to_vec();
    shifted.extend(zip_bytes(&[z("archive/data.pkl", PLAIN)], false));
    let r = scan(&shifted);
    assert_eq!(r.verdict(), Verdict::Error, "{}", describe(&r));
    assert!(has_note(&r, "shifts every offset by 4"), "{:?}", r.notes);
    let mut shifted = b"PK\x03\x04".to_vec();
    shifted.extend(zip_bytes(&[z("archive/data.pkl", EVIL)], false));
    assert_dangerous(&scan(&shifted));
    // Two end records: a benign one whose comment holds the real one. Both
    // loaders take the last; zipfile then shifts by the first's 22 bytes.
    let evil = zip_bytes(&[z("archive/data.pkl", EVIL)], false);
    let eocd = evil.len() - 22;
    let mut two = evil[..eocd].to_vec();
    let mut decoy = evil[eocd..].to_vec();
    decoy[20..22].copy_from_slice(&22u16.to_le_bytes());
    two.extend(decoy);
    two.extend_from_slice(&evil[eocd..]);
    let r = scan(&two);
    assert_dangerous(&r);
    assert!(has_note(&r, "both archives scanned"), "{:?}", r.notes);
    // A member that claims 4 GiB in a small file: an error, no allocation.
    let mut big = zip_bytes(&[z("archive/data.pkl", PLAIN)], true);
    let cd = big.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    let extra = cd + 46 + "archive/data.pkl".len() + 4;
    big[extra + 8..extra + 16].copy_from_slice(&(4u64 << 30).to_le_bytes());
    let r = scan(&big);
    assert_eq!(r.verdict(), Verdict::Error, "{}", describe(&r));
    // A cut archive, a broken pickle member.
    let good = torch_zip("archive/data.pkl", PLAIN);
    assert_eq!(scan(&good[..good.len() - 30]).verdict(), Verdict::Error);
    assert_eq!(
        scan(&torch_zip("archive/data.pkl", &PLAIN[..10])).verdict(),
        Verdict::Error
    );
}

#[test]
fn container_zip_deflated_members_are_inflated() {
    let data = zip_bytes(
        &[zd("archive/data.pkl", EVIL), z("archive/version", b"3\n")],
        false,
    );
    let r = scan(&data);
    if cfg!(feature = "joblib-compress") {
        assert_dangerous(&r);
        let ok = zip_bytes(&[zd("archive/data.pkl", PLAIN)], false);
        assert_safe(&scan(&ok));
        // An inflated size other than the directory's: an error.
        let mut m = zd("archive/data.pkl", PLAIN);
        m.size += 1;
        assert_eq!(scan(&zip_bytes(&[m], false)).verdict(), Verdict::Error);
        // A pickle under another name, deflated.
        let data = zip_bytes(
            &[z("archive/data.pkl", PLAIN), zd("archive/x", EVIL)],
            false,
        );
        assert_dangerous(&scan(&data));
    } else {
        assert_eq!(r.verdict(), Verdict::Error);
        let msg = r.error.as_ref().unwrap().to_string();
        assert!(msg.contains("joblib-compress"), "{msg}");
    }
    // Methods neither loader reads: an error for a pickle member.
    let mut m = z("archive/data.pkl", PLAIN);
    m.method = 93;
    assert_eq!(scan(&zip_bytes(&[m], false)).verdict(), Verdict::Error);
}

/// An `.npy` file of version `v` with header dict `dict` and `body` after it.
fn npy(v: u8, dict: &str, body: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[v, 0]);
    let pre = if v == 1 { 10 } else { 12 };
    let mut h = dict.to_string();
    while (pre + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    if v == 1 {
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(body);
    out
}

const OBJ: &str = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
const F8: &str = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";

#[test]
fn container_npy_object_arrays_are_pickles() {
    for v in [1, 2, 3] {
        let r = scan(&npy(v, OBJ, EVIL));
        assert_eq!(r.format, Format::Npy);
        assert_dangerous(&r);
        assert_safe(&scan(&npy(v, OBJ, PLAIN)));
    }
    // An object field inside a structured dtype, with a subarray.
    let dict = "{'descr': [('a', '<i4'), ('b', [('c', '|O')], (2,))], 'fortran_order': False, 'shape': (3,), }";
    assert_dangerous(&scan(&npy(1, dict, EVIL)));
    // Raw data: safe when its size is the header's.
    let r = scan(&npy(1, F8, &[0u8; 32]));
    assert_safe(&r);
    assert_eq!(r.format, Format::Npy);
    assert!(has_note(&r, "32 bytes of raw data"), "{:?}", r.notes);
    let short = scan(&npy(1, F8, &[0u8; 31]));
    assert_eq!(short.verdict(), Verdict::Error);
    // Malformed headers, a header claiming 4 GiB.
    for dict in [
        "{'descr': '<f8', 'shape': (2, 2), }",
        "{'descr': 'nonsense', 'fortran_order': False, 'shape': (1,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), } + 1",
    ] {
        let r = scan(&npy(1, dict, EVIL));
        assert_eq!(r.verdict(), Verdict::Error, "{dict}: {}", describe(&r));
    }
    // Every spelling numpy reads as an object dtype holds a pickle.
    for descr in [
        "object",
        "O",
        "|O8",
        "(2,)O",
        "2O",
        "1O",
        "i4,O",
        "O8,i4",
        "[('a', '<i4'), ('b', 'O')]",
    ] {
        let quoted = if descr.starts_with('[') {
            descr.to_string()
        } else {
            format!("'{descr}'")
        };
        let dict = format!("{{'descr': {quoted}, 'fortran_order': False, 'shape': (1,), }}");
        let r = scan(&npy(1, &dict, EVIL));
        assert_dangerous(&r);
    }
    let mut huge = npy(2, F8, &[]);
    huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(scan(&huge).verdict(), Verdict::Error);
    // A truncated pickle after an object header.
    assert_eq!(
        scan(&npy(1, OBJ, &EVIL[..EVIL.len() - 1])).verdict(),
        Verdict::Error
    );
}

#[test]
fn container_npz_members_are_npy_files() {
    let raw = npy(1, F8, &[0u8; 32]);
    let evil = npy(1, OBJ, EVIL);
    let r = scan(&zip_bytes(&[z("a.npy", &raw), z("b.npy", &raw)], false));
    assert_safe(&r);
    assert_eq!(r.format, Format::Npz);
    let r = scan(&zip_bytes(&[z("a.npy", &raw), z("arr_1", &evil)], false));
    assert_dangerous(&r);
    let r = scan(&zip_bytes(&[z("a.npy", &raw), zd("b.npy", &evil)], false));
    if cfg!(feature = "joblib-compress") {
        assert_dangerous(&r);
        assert_safe(&scan(&zip_bytes(&[zd("a.npy", &raw)], false)));
    } else {
        assert_eq!(r.verdict(), Verdict::Error);
    }
    // An empty archive (np.savez of nothing) holds nothing to load.
    assert_safe(&scan(&zip_bytes(&[], false)));
}

use crate::ml::container::tar::test_header as tar_header;

fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        out.extend(tar_header(name, b'0', data.len() as u64));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend(vec![0u8; 1024]);
    out
}

/// The `storages` member: the count, one FloatStorage of 3 elements, the views.
fn tar_storages(record: &[u8]) -> Vec<u8> {
    let mut s = b"\x80\x02K\x01.".to_vec();
    s.extend_from_slice(record);
    s.extend_from_slice(&3u64.to_le_bytes());
    s.extend_from_slice(&[0u8; 12]);
    s.extend_from_slice(b"\x80\x02].");
    s
}

const STORAGE_RECORD: &[u8] =
    b"\x80\x02X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\n\x87.";

/// The `tensors` member: the count, one 2-d tensor record and its ints.
fn tar_tensors(record: &[u8]) -> Vec<u8> {
    let mut t = b"\x80\x02K\x01.".to_vec();
    t.extend_from_slice(record);
    t.extend_from_slice(&2i32.to_le_bytes());
    t.extend_from_slice(&[0u8; 4]);
    t.extend_from_slice(&[0u8; 32 + 8]);
    t
}

const TENSOR_RECORD: &[u8] =
    b"\x80\x02X\x01\x00\x00\x001X\x01\x00\x00\x000ctorch\nFloatTensor\n\x87.";

fn torch_tar(sys_info: &[u8], storages: &[u8], tensors: &[u8], pickle: &[u8]) -> Vec<u8> {
    tar_bytes(&[
        ("sys_info", sys_info),
        ("storages", storages),
        ("tensors", tensors),
        ("pickle", pickle),
    ])
}

#[test]
fn container_torch_tar_members_are_walked() {
    let storages = tar_storages(STORAGE_RECORD);
    let tensors = tar_tensors(TENSOR_RECORD);
    let good = torch_tar(PLAIN, &storages, &tensors, PLAIN);
    let r = scan(&good);
    assert_eq!(r.format, Format::TorchTar);
    assert!(r.error.is_none(), "{}", describe(&r));
    assert!(r.verdict() < Verdict::Error, "{}", describe(&r));
    assert!(has_note(&r, "1 storages, 12 raw bytes"), "{:?}", r.notes);
    // A payload in each member.
    assert_dangerous(&scan(&torch_tar(PLAIN, &storages, &tensors, EVIL)));
    assert_dangerous(&scan(&torch_tar(EVIL, &storages, &tensors, PLAIN)));
    let mut bad = storages.clone();
    bad.truncate(bad.len() - 4); // the views pickle
    bad.extend_from_slice(EVIL);
    assert_dangerous(&scan(&torch_tar(PLAIN, &bad, &tensors, PLAIN)));
    let mut bad = tensors.clone();
    bad.extend_from_slice(EVIL);
    bad.extend_from_slice(&[0u8; 16]);
    assert_dangerous(&scan(&torch_tar(PLAIN, &storages, &bad, PLAIN)));
    // A storage whose count runs past its member, a cut archive.
    let mut long = storages.clone();
    let at = long
        .windows(8)
        .position(|w| w == 3u64.to_le_bytes())
        .unwrap();
    long[at] = 200;
    assert_eq!(
        scan(&torch_tar(PLAIN, &long, &tensors, PLAIN)).verdict(),
        Verdict::Error
    );
    assert_eq!(scan(&good[..good.len() - 2000]).verdict(), Verdict::Error);
    // A `pickle` member that is a link: torch would read its target.
    let mut linked = tar_bytes(&[("sys_info", PLAIN), ("storages", &storages)]);
    linked.truncate(linked.len() - 1024);
    linked.extend(tar_header("pickle", b'2', 0));
    linked.extend(vec![0u8; 1024]);
    assert_eq!(scan(&linked).verdict(), Verdict::Error);
    // A tar without torch's members is a tar of files, each scanned.
    let plain = scan(&tar_bytes(&[("other", PLAIN)]));
    assert_eq!(plain.format, Format::Tar);
    assert_eq!(plain.verdict(), Verdict::Safe);
}

#[test]
fn container_tar_header_that_is_also_a_pickle() {
    // torch falls back to pickle.load from byte 0 when tarfile fails: a
    // header block whose name field is a pickle is scanned as one too.
    let name = "cposix\nsystem\n(S'id'\ntR.";
    let mut t = tar_header(name, b'0', 0);
    t.extend(tar_bytes(&[
        ("sys_info", PLAIN),
        ("storages", &tar_storages(STORAGE_RECORD)),
        ("tensors", &tar_tensors(TENSOR_RECORD)),
        ("pickle", PLAIN),
    ]));
    let r = scan(&t);
    assert_eq!(r.format, Format::TorchTar);
    assert_dangerous(&r);
    // Also when the archive is broken (where tarfile raises and torch falls back).
    let r = scan(&t[..t.len() - 1500]);
    assert_dangerous(&r);
    assert!(r.error.is_some());
}

#[test]
fn container_compressed_joblib_without_decoder_names_it() {
    if cfg!(feature = "joblib-compress") {
        return;
    }
    for (head, kind) in [
        (&b"x\x9c\x01\x02"[..], "zlib"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"BZh91AY&SY", "bz2"),
        (b"\xfd7zXZ\x00\x00", "xz"),
        (b"\x5d\x00\x00\x80\x00", "lzma"),
        (b"\x04\x22\x4d\x18\x64", "lz4"),
        (b"ZF0x10               x\x9c", "zfile"),
    ] {
        let r = scan(head);
        assert_eq!(r.verdict(), Verdict::Error);
        assert_eq!(
            r.format,
            Format::Compressed(Compression::detect(head).unwrap())
        );
        let msg = r.error.as_ref().unwrap().to_string();
        assert!(
            msg.contains(&format!("{kind}-compressed")) && msg.contains("joblib-compress"),
            "{msg}"
        );
    }
}

#[cfg(feature = "joblib-compress")]
mod compressed {
    use super::*;
    use std::io::Write;

    pub(super) fn compress(kind: Compression, data: &[u8]) -> Vec<u8> {
        match kind {
            Compression::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(3));
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Bz2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(3));
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Xz => {
                let mut out = Vec::new();
                lzma_rs::xz_compress(&mut std::io::Cursor::new(data), &mut out).unwrap();
                out
            }
            Compression::Lzma => {
                let mut out = Vec::new();
                let opts = lzma_rs::compress::Options {
                    unpacked_size: lzma_rs::compress::UnpackedSize::WriteToHeader(None),
                };
                lzma_rs::lzma_compress_with_options(
                    &mut std::io::Cursor::new(data),
                    &mut out,
                    &opts,
                )
                .unwrap();
                out
            }
            Compression::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::ZFile => {
                let mut out = format!("ZF{:<19}", format!("{:#x}", data.len())).into_bytes();
                out.extend(compress(Compression::Zlib, data));
                out
            }
        }
    }

    pub(super) const KINDS: [Compression; 7] = [
        Compression::Zlib,
        Compression::Gzip,
        Compression::Bz2,
        Compression::Xz,
        Compression::Lzma,
        Compression::Lz4,
        Compression::ZFile,
    ];

    #[test]
    fn container_compressed_joblib_files_stream_through_the_scanner() {
        let arrays = std::fs::read(fixtures("benign").join("ml_joblib_arrays.joblib")).unwrap();
        for kind in KINDS {
            let evil = compress(kind, EVIL);
            assert_eq!(Compression::detect(&evil), Some(kind));
            let r = scan(&evil);
            assert_eq!(r.format, Format::Compressed(kind));
            assert_dangerous(&r);
            assert_safe(&scan(&compress(kind, PLAIN)));
            // joblib array data after the wrapper's BUILD, inside the stream.
            let r = scan(&compress(kind, &arrays));
            assert_safe(&r);
            assert!(has_note(&r, "joblib array data"), "{kind:?} {:?}", r.notes);
            // A payload after benign data in the same stream.
            let mut two = PLAIN.to_vec();
            two.extend_from_slice(EVIL);
            assert_dangerous(&scan(&compress(kind, &two)));
            // Cut short: an error that names the compression.
            let c = compress(kind, &arrays);
            let r = scan(&c[..c.len() * 2 / 3]);
            assert_eq!(r.verdict(), Verdict::Error, "{kind:?}: {}", describe(&r));
            let msg = r.error.as_ref().unwrap().to_string();
            assert!(msg.contains(kind.name()), "{kind:?}: {msg}");
        }
        // Streams one after another are all read, as joblib reads them.
        for kind in [
            Compression::Zlib,
            Compression::Gzip,
            Compression::Bz2,
            Compression::Xz,
            Compression::Lzma,
            Compression::Lz4,
        ] {
            // Data after the stream that is no stream: an error, never ignored.
            let mut junk = compress(kind, PLAIN);
            junk.extend_from_slice(b"\x80\x04junk");
            let r = scan(&junk);
            assert_eq!(r.verdict(), Verdict::Error, "{kind:?}: {}", describe(&r));
            let mut two = compress(kind, PLAIN);
            two.extend(compress(kind, EVIL));
            let r = scan(&two);
            assert_eq!(
                r.verdict(),
                Verdict::Dangerous,
                "{kind:?}: {}",
                describe(&r)
            );
        }
        // A legacy torch file inside a compressed stream: its storages are
        // walked as they stream past.
        let legacy = std::fs::read(fixtures("benign").join("torch_legacy_state_dict.pt")).unwrap();
        let r = scan(&compress(Compression::Gzip, &legacy));
        assert_safe(&r);
        assert!(has_note(&r, "legacy torch"), "{:?}", r.notes);
        let mut extra = legacy.clone();
        extra.push(0);
        assert_eq!(
            scan(&compress(Compression::Gzip, &extra)).verdict(),
            Verdict::Error
        );
        // A ZF header whose length is not the stream's.
        let mut zf = compress(Compression::ZFile, PLAIN);
        zf[4] = b'f';
        assert_eq!(scan(&zf).verdict(), Verdict::Error);
    }

    /// What Python's `lzma` module writes (`FORMAT_ALONE`, preset 3, as
    /// joblib's `compress='lzma'`; `FORMAT_XZ`; xz with filters) around [`EVIL`].
    #[test]
    fn container_lzma_as_python_writes_it() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let alone = hex("5d00004000ffffffffffffffff0040010e6f297fcf11a51cd87f3908aa61957a22154ed87d8845e1e3825a659ad235027ff974626c23f7ffff38e40000");
        let xz = hex("fd377a585a000004e6d6b4460200210116000000742fe5a30100278004951d000000000000008c05706f736978948c0673797374656d9493948c02696494859452942e00901e0d1f48f677c100014028d4524ae51fb6f37d010000000004595a");
        // x86 BCJ and delta filters before LZMA2, a SHA-256 check.
        let filtered = hex("fd377a585a00000ae1fb0ca10302040003010221011600006b1e4a640100278004959dfc6be3000000008c0570e36ef90921238edfed6d01ecfa202e27f86fd5d8921c30be0f9a0051c294f79ba6d807aba6d6b6fe6ffbfb81c8719ec96cd2ca345583f75dad9a1a00015c28890f3d03189b4b9a01000000000a595a");
        for data in [alone, xz, filtered] {
            let r = scan(&data);
            assert_dangerous(&r);
            assert!(r.error.is_none(), "{}", describe(&r));
        }
    }

    #[test]
    fn container_decompression_bomb_is_streamed() {
        // 8 MiB of zeros after a pickle: scanned as it streams, and read
        // no further than the first byte that cannot start a pickle.
        let mut data = PLAIN.to_vec();
        data.extend(vec![0u8; 8 << 20]);
        let c = compress(Compression::Bz2, &data);
        assert!(c.len() < 1 << 16);
        let r = scan(&c);
        assert_eq!(r.verdict(), Verdict::Safe);
        assert!(has_note(&r, "not a pickle"));
        // Zeros inside a pickle that never ends: an error.
        let mut data = b"\x80\x02(".to_vec();
        data.extend(vec![b'N'; 8 << 20]);
        let r = scan(&compress(Compression::Bz2, &data));
        assert_eq!(r.verdict(), Verdict::Error);
    }
}

#[cfg(feature = "joblib-compress")]
#[test]
fn container_zip_bzip2_and_lzma_members_as_zipfile_reads_them() {
    use std::io::Write;
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(3));
    e.write_all(EVIL).unwrap();
    let mut bz = z("archive/data.pkl", EVIL);
    bz.method = 12;
    bz.data = e.finish().unwrap();
    assert_dangerous(&scan(&zip_bytes(&[bz], false)));
    // zipfile's lzma member: version, properties size, properties, data.
    let mut raw = Vec::new();
    let opts = lzma_rs::compress::Options {
        unpacked_size: lzma_rs::compress::UnpackedSize::SkipWritingToHeader,
    };
    lzma_rs::lzma_compress_with_options(&mut std::io::Cursor::new(EVIL), &mut raw, &opts).unwrap();
    let npy_evil = npy(1, OBJ, EVIL);
    let mut raw = Vec::new();
    lzma_rs::lzma_compress_with_options(&mut std::io::Cursor::new(&npy_evil), &mut raw, &opts)
        .unwrap();
    let mut lz_npy = z("arr_1.npy", &npy_evil);
    lz_npy.method = 14;
    lz_npy.data = [9, 20, 5, 0].to_vec();
    lz_npy.data.extend(raw);
    let r = scan(&zip_bytes(&[lz_npy], false));
    assert_dangerous(&r);
    assert!(r.error.is_none(), "{}", describe(&r));
}

/// Every container, cut at every length and with bytes flipped: never a
/// panic, and never `Safe` for a cut that drops a pickle's end.
#[test]
fn container_mutations_never_panic() {
    #[cfg_attr(not(feature = "joblib-compress"), allow(unused_mut))]
    let mut samples = vec![
        torch_zip("archive/data.pkl", EVIL),
        zip_bytes(&[z("archive/data.pkl", EVIL)], true),
        zip_bytes(
            &[
                zd("a.npy", &npy(1, OBJ, EVIL)),
                z("b.npy", &npy(3, F8, &[0; 32])),
            ],
            false,
        ),
        npy(2, OBJ, EVIL),
        torch_tar(
            PLAIN,
            &tar_storages(STORAGE_RECORD),
            &tar_tensors(TENSOR_RECORD),
            EVIL,
        ),
    ];
    #[cfg(feature = "joblib-compress")]
    for kind in compressed::KINDS {
        samples.push(compressed::compress(kind, EVIL));
    }
    for s in &samples {
        let step = (s.len() / 400).max(1);
        for i in (0..s.len()).step_by(step) {
            let cut = scan(&s[..i]);
            assert!(
                cut.verdict() >= Verdict::Error,
                "cut at {i}: {}",
                describe(&cut)
            );
            for b in [0x00, 0xff, s[i] ^ 0x01, s[i].wrapping_add(0x80)] {
                let mut m = s.clone();
                m[i] = b;
                let _ = scan(&m);
            }
        }
    }
}

#[test]
fn joblib_legacy_side_files_are_scanned_with_the_pickle() {
    // joblib < 0.10: NDArrayWrapper(filename=...) + BUILD; joblib.load reads
    // the side file with numpy.load(allow_pickle=True).
    let main = b"\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81}X\x08\x00\x00\x00filenameX\x08\x00\x00\x00side.npysb.";
    let dir = std::env::temp_dir().join(format!("scan-side-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.pkl");
    std::fs::write(&path, main).unwrap();
    // Not there: not dangerous, not safe either.
    let r = scan_path(&path, &Policy::default());
    assert_eq!(r.verdict(), Verdict::Unknown, "{}", describe(&r));
    // A benign side file: safe; scan_bytes cannot see it: unknown.
    std::fs::write(dir.join("side.npy"), b"\x80\x02]q\x00.").unwrap();
    let r = scan_path(&path, &Policy::default());
    assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(&r));
    assert_eq!(scan(main).verdict(), Verdict::Unknown);
    // A side file that runs code: the pickle is dangerous.
    std::fs::write(
        dir.join("side.npy"),
        b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.",
    )
    .unwrap();
    let r = scan_path(&path, &Policy::default());
    assert_eq!(r.verdict(), Verdict::Dangerous, "{}", describe(&r));
    assert!(r
        .findings
        .iter()
        .any(|f| f.name == "system" && f.member.as_deref() == Some("side.npy")));
    let _ = std::fs::remove_dir_all(&dir);
    // A path outside the folder is dangerous whatever it holds.
    let far = b"\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81}X\x08\x00\x00\x00filenameX\n\x00\x00\x00/tmp/x.npysb.";
    assert_eq!(
        scan(far).verdict(),
        Verdict::Dangerous,
        "{}",
        describe(&scan(far))
    );
}

#[test]
fn plain_tar_members_are_scanned_as_files_of_their_own() {
    // pandas' to_pickle(compression='tar'), a WebDataset shard: files, not torch's members.
    let benign = b"\x80\x02]q\x00(K\x01K\x02e.";
    let tar = tar_bytes(&[("frame.pkl", benign), ("README.txt", b"just text\n")]);
    let r = scan(&tar);
    assert_eq!(r.format, Format::Tar);
    assert_safe(&r);
    for (name, member) in [
        ("frame.pkl", EVIL.to_vec()),
        ("sample.pyd", EVIL.to_vec()),
        ("noname", EVIL.to_vec()),
        ("model.pt", torch_zip("archive/data.pkl", EVIL)),
    ] {
        let tar = tar_bytes(&[("a.txt", b"cat and dog\n"), (name, &member)]);
        let r = scan(&tar);
        assert_dangerous(&r);
        assert!(
            r.findings
                .iter()
                .any(|f| f.name == "system"
                    && f.member.as_deref().is_some_and(|m| m.starts_with(name))),
            "{name}: {}",
            describe(&r)
        );
    }
    // A pickle-named member that is no pickle: an error, not a pass.
    let tar = tar_bytes(&[("frame.pkl", b"\x80\x05]")]);
    assert_eq!(scan(&tar).verdict(), Verdict::Error);
}

#[cfg(feature = "joblib-compress")]
#[test]
fn compressed_archives_are_read_as_the_file_they_hold() {
    use std::io::Write;
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    // model.pt.gz, pandas' .tar.gz, a gzip of a gzip.
    let zip = torch_zip("archive/data.pkl", EVIL);
    let tar = tar_bytes(&[("frame.pkl", EVIL)]);
    for data in [gz(&zip), gz(&tar), gz(&gz(EVIL))] {
        assert_dangerous(&scan(&data));
    }
    let benign = torch_zip("archive/data.pkl", b"\x80\x02}q\x00.");
    assert_safe(&scan(&gz(&benign)));
}

/// A safetensors file of `header` (padded with spaces to `len` bytes when
/// given) and `data`.
fn safetensors_file(header: &str, len: Option<usize>, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    if let Some(n) = len {
        h.resize(n, b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

#[test]
fn safetensors_files_hold_no_pickle() {
    let ok = safetensors_file(
        r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        None,
        &[0; 8],
    );
    let r = scan(&ok);
    assert_eq!(r.format, Format::Safetensors);
    assert_eq!(r.pickles, 0);
    if cfg!(feature = "safetensors") {
        assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(&r));
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("header checked, 1 tensors")));
        // A header whose offsets do not cover the data: not known to be
        // what any loader reads.
        let bad = safetensors_file(
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            None,
            &[0; 12],
        );
        let r = scan(&bad);
        assert_eq!(r.verdict(), Verdict::Error, "{}", describe(&r));
        assert!(r.error.unwrap().to_string().contains("safetensors"));
    } else {
        // Without the feature the header is not checked: fail closed.
        assert_eq!(r.verdict(), Verdict::Error, "{}", describe(&r));
        assert!(r
            .error
            .unwrap()
            .to_string()
            .contains("`safetensors` feature"));
    }
    // A header length whose bytes read as GLOBAL ('c', then two spaces):
    // pickle.load of the renamed file would import the names on the
    // header's first two lines. What that reading finds is reported, so
    // the file is not safe, whatever its header.
    let n = u64::from_le_bytes([b'c', b' ', b' ', 0, 0, 0, 0, 0]) as usize;
    let polyglot = safetensors_file(
        "{\n\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}\n}",
        Some(n),
        &[7],
    );
    let r = scan(&polyglot);
    assert_eq!(r.format, Format::Safetensors);
    assert!(!r.findings.is_empty(), "{}", describe(&r));
    assert!(r.verdict() > Verdict::Safe, "{}", describe(&r));
}
