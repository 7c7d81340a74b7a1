//! `disassemble` against CPython's `pickletools`, byte for byte.
//!
//! `tests/scripts/gen_dis_cases.py` writes many pickles (objects at protocols
//! 0-5, optimized variants, hand-made protocol-0 oddities, broken pickles,
//! streams) and, when `../shared/conformance/gen_corpus.py` exists, the
//! conformance corpus too; for each file it records what pickletools prints
//! with and without `-a` and whether it raised. Without python3 the tests are
//! skipped, unless `CI=true`, where that is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::dis::{disassemble, DisOptions};

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pickle-codec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_python(args: &[&std::ffi::OsStr]) {
    let out = Command::new("python3").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "python3 {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dis(data: &[u8], opts: &DisOptions) -> (String, bool) {
    let mut out = Vec::new();
    let ok = disassemble(data, &mut out, opts).is_ok();
    (String::from_utf8(out).expect("listing is UTF-8"), ok)
}

fn first_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {i}:\n  ours: {x}\n  want: {y}");
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        a.lines().count(),
        b.lines().count()
    )
}

/// Compare one listing: a successful pickletools run must be our first
/// listing (later pickles of a stream may follow); a failed one must be
/// exactly our output, and we must fail too.
fn check(
    name: &str,
    data: &[u8],
    want: &str,
    want_ok: bool,
    opts: &DisOptions,
    failures: &mut Vec<String>,
) {
    let (ours, ok) = dis(data, opts);
    let stream = ours.matches("highest protocol among opcodes").count() > 1;
    let good = if want_ok {
        ok && (ours == want || (stream && ours.starts_with(want)))
    } else {
        !ok && ours == want
    };
    if !good {
        failures.push(format!(
            "{name} ({opts:?}): ours ok={ok}, pickletools ok={want_ok}; {}",
            first_diff(&ours, want)
        ));
    }
}

#[test]
fn matches_pickletools_on_generated_and_corpus_pickles() {
    if !common::python_available("the pickletools comparison") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = scratch("dis");
    let cases = dir.join("cases");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        root.join("tests/scripts/gen_dis_cases.py")
            .into_os_string()
            .leak(),
        cases.as_os_str(),
    ];
    let gen_corpus = root.join("../shared/conformance/gen_corpus.py");
    let corpus = dir.join("corpus");
    let with_corpus = gen_corpus.exists();
    if with_corpus {
        run_python(&[gen_corpus.as_os_str(), corpus.as_os_str()]);
        args.push(corpus.as_os_str());
    } else {
        eprintln!(
            "note: {} not found; generated cases only",
            gen_corpus.display()
        );
    }
    run_python(&args);

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dis"))
        .collect();
    names.sort();
    for p in &names {
        let base = p.with_extension("");
        let read = |ext: &str| std::fs::read_to_string(base.with_extension(ext)).unwrap();
        let src = read("pkl.src");
        let data = std::fs::read(&src).unwrap();
        let want_ok = read("pkl.ok") == "1";
        let name = base.file_name().unwrap().to_string_lossy().into_owned();
        let plain = DisOptions::default();
        let anno = DisOptions::default().annotate(true);
        check(
            &name,
            &data,
            &read("pkl.dis"),
            want_ok,
            &plain,
            &mut failures,
        );
        check(
            &name,
            &data,
            &read("pkl.disa"),
            want_ok,
            &anno,
            &mut failures,
        );
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    // ~210 generated cases, plus ~430 corpus files when the kit is there.
    let expected = if with_corpus { 600 } else { 200 };
    assert!(checked > expected, "only {checked} files were checked");
    assert!(
        failures.is_empty(),
        "{} of {} listings differ from pickletools:\n{}",
        failures.len(),
        2 * checked,
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{checked} files: listings identical to pickletools");
}

#[test]
fn indent_level_and_cli_match_pickletools() {
    if !common::python_available("the pickletools comparison") {
        return;
    }
    let dir = scratch("dis-l");
    let file = dir.join("nested.pkl");
    let mk =
        "import pickle,sys; open(sys.argv[1],'wb').write(pickle.dumps([[1,(2,)],{'a':[3]}], 1))";
    run_python(&["-c".as_ref(), mk.as_ref(), file.as_os_str()]);
    let data = std::fs::read(&file).unwrap();
    for (flags, opts) in [
        (vec!["-l", "2"], DisOptions::default().indent(2)),
        (
            vec!["-l", "0", "-a"],
            DisOptions::default().indent(0).annotate(true),
        ),
        (vec![], DisOptions::default()),
    ] {
        let out = Command::new("python3")
            .args(["-m", "pickletools"])
            .args(&flags)
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let (ours, ok) = dis(&data, &opts);
        assert!(ok);
        assert_eq!(
            ours,
            String::from_utf8(out.stdout).unwrap(),
            "flags {flags:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn memo_option_carries_the_memo_across_a_stream() {
    // Two pickles from one Pickler: the second GETs what the first PUT.
    let data = b"\x80\x02]q\x00(K\x01K\x02e.\x80\x02h\x00.";
    let (fresh, ok) = dis(data, &DisOptions::default());
    assert!(!ok);
    assert!(fresh.ends_with("   14: h    BINGET     0\n"));
    let shared = DisOptions::default().memo(true);
    let (out, ok) = dis(data, &shared);
    assert!(ok);
    assert_eq!(
        out,
        "    0: \\x80 PROTO      2\n\
         \x20   2: ]    EMPTY_LIST\n\
         \x20   3: q    BINPUT     0\n\
         \x20   5: (    MARK\n\
         \x20   6: K        BININT1    1\n\
         \x20   8: K        BININT1    2\n\
         \x20  10: e        APPENDS    (MARK at 5)\n\
         \x20  11: .    STOP\n\
         highest protocol among opcodes = 2\n\
         \x20  12: \\x80 PROTO      2\n\
         \x20  14: h    BINGET     0\n\
         \x20  16: .    STOP\n\
         highest protocol among opcodes = 2\n"
    );
}

#[test]
fn quadratic_listings_stop_at_the_output_limit() {
    // 200,000 nested marks: pickletools would print about 160 GB of indentation.
    let depth = 200_000;
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat(b'(').take(depth));
    data.extend(std::iter::repeat(b')').take(1));
    data.extend(std::iter::repeat(b't').take(depth));
    data.push(b'.');
    let mut out = Vec::new();
    let t = std::time::Instant::now();
    let err =
        pickle_codec::dis::disassemble_with_limit(&data, &mut out, &DisOptions::default(), 1 << 20)
            .unwrap_err();
    assert_eq!(err.category(), pickle_codec::Category::Limit);
    assert!(out.len() > 1 << 20 && out.len() < 2 << 20, "{}", out.len());
    assert!(t.elapsed().as_secs() < 10);
    assert!(out.starts_with(b"    0: \\x80 PROTO      2\n    2: (    MARK\n    3: (        MARK\n"));
}

/// The opcode table in `src/codec/opcodes.rs` (docs and stack effects that
/// the listings above depend on) is what `tests/scripts/gen_opcode_docs.py`
/// writes from this Python's pickletools. Checked with CPython 3.11, which
/// the table was generated from; the header line names the exact version, so
/// it is left out of the comparison.
#[test]
fn opcode_table_is_what_the_generator_writes() {
    if !common::python_available("the opcode table check") {
        return;
    }
    let version = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    if version != "3.11" {
        eprintln!("SKIPPED the opcode table check: python3 is {version}, the table is 3.11's");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("src/codec/opcodes.rs")).unwrap();
    let dir = scratch("opcode-table");
    let copy = dir.join("opcodes.rs");
    std::fs::write(&copy, &committed).unwrap();
    run_python(&[
        root.join("tests/scripts/gen_opcode_docs.py").as_os_str(),
        copy.as_os_str(),
    ]);
    let generated = std::fs::read_to_string(&copy).unwrap();
    let without_header = |s: &str| -> Vec<String> {
        s.split('\n')
            .filter(|l| !l.starts_with("// @generated begin"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        without_header(&generated),
        without_header(&committed),
        "src/codec/opcodes.rs differs from what tests/scripts/gen_opcode_docs.py writes: \
         run it and commit the result"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
