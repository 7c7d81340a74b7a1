use super::*;
use std::path::PathBuf;

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
    let data = b"\x80\x02c__builtin__\ngetattr\ncollections\nOrderedDict\nX\x08\x00\x00\x00fromkeys\x86R.";
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
    assert!(missed.is_empty(), "{} missed:\n{}", missed.len(), missed.join("\n"));
}
