//! The `pickle` binary end to end: help, exit codes, one-line errors, atomic
//! output, stdin/stdout, streams and out-of-band buffers.

mod common;

use common::pickle;

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use pickle_codec::{loads, loads_all, Node};

/// pickle.dumps({"a": [1, 2.5, None]}, protocol=2)
const P2: &[u8] =
    b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.";
/// An unknown opcode at byte 2.
const BAD: &[u8] = b"\x80\x02\xff.";

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("pickle-cli-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, data).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 1 and exactly one stderr line, starting with `error:`.
fn assert_one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(out));
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got {err:?}");
    assert!(lines[0].starts_with("error:"), "{err:?}");
    lines[0].to_string()
}

#[test]
fn help_shows_examples() {
    for args in [
        &["--help"][..],
        &["convert", "--help"],
        &["help", "convert"],
    ] {
        let out = pickle(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:"), "{args:?}: {text}");
        assert!(text.contains("pickle convert"), "{args:?}: {text}");
    }
    for cmd in ["dis", "json", "from-json", "scan", "arrays"] {
        let out = pickle(&[cmd, "--help"], None);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:"), "{cmd}: {text}");
        assert!(text.contains(&format!("pickle {cmd} ")), "{cmd}: {text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["convert"],
        &["convert", "x.pkl", "-o", "y.pkl"],
        &["convert", "x.pkl", "--protocol", "6", "-o", "y.pkl"],
        &["convert", "x.pkl", "--protocol", "2"],
        &[
            "convert",
            "x.pkl",
            "-p",
            "2",
            "-o",
            "y",
            "--encoding",
            "koi8",
        ],
        &["frobnicate"],
        &[
            "convert",
            "x.pt",
            "--to",
            "safetensors",
            "-p",
            "2",
            "-o",
            "y",
        ],
        &["convert", "x.pt", "--to", "onnx", "-o", "y"],
        &[
            "convert",
            "x.pt",
            "-p",
            "2",
            "--skip-non-tensors",
            "-o",
            "y",
        ],
        &[
            "convert",
            "x.pt",
            "--to",
            "safetensors",
            "--metadata",
            "novalue",
            "-o",
            "y",
        ],
    ] {
        let out = pickle(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn bad_data_is_one_error_line_with_the_offset_and_leaves_no_output() {
    let s = Scratch::new("bad");
    let input = s.file("bad.pkl", BAD);
    let out_path = s.file("out.pkl", b"previous content");
    let out = pickle(
        &[
            "convert",
            input.to_str().unwrap(),
            "-p",
            "2",
            "-o",
            out_path.to_str().unwrap(),
        ],
        None,
    );
    let line = assert_one_line_error(&out);
    assert!(line.contains("at byte 2"), "{line}");
    // The old file is untouched and no temporary file is left behind.
    assert_eq!(fs::read(&out_path).unwrap(), b"previous content");
    assert_eq!(s.entries(), vec!["bad.pkl", "out.pkl"]);

    // A truncated pickle, from stdin.
    let out = pickle(
        &["convert", "-", "-p", "2", "-o", "-"],
        Some(&P2[..P2.len() - 3]),
    );
    let line = assert_one_line_error(&out);
    assert!(line.contains("at byte"), "{line}");
    assert!(out.stdout.is_empty());
}

#[test]
fn io_errors_are_one_line() {
    let s = Scratch::new("io");
    let out = pickle(
        &[
            "convert",
            s.path("missing.pkl").to_str().unwrap(),
            "-p",
            "2",
            "-o",
            "-",
        ],
        None,
    );
    assert_one_line_error(&out);
    let input = s.file("in.pkl", P2);
    let out = pickle(
        &[
            "convert",
            input.to_str().unwrap(),
            "-p",
            "2",
            "-o",
            s.path("no/such/dir/out.pkl").to_str().unwrap(),
        ],
        None,
    );
    assert_one_line_error(&out);
    let out = pickle(&["convert", "-", "-p", "2", "-o", "-"], Some(b""));
    assert_one_line_error(&out);
}

#[test]
fn converts_a_file_at_every_protocol() {
    let s = Scratch::new("convert");
    let input = s.file("in.pkl", P2);
    let original = loads(P2).expect("library loads the sample");
    for p in 0..=5 {
        let out_path = s.path(&format!("out{p}.pkl"));
        let out = pickle(
            &[
                "convert",
                input.to_str().unwrap(),
                "--protocol",
                &p.to_string(),
                "-o",
                out_path.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "protocol {p}: {}", stderr(&out));
        assert!(out.stderr.is_empty());
        let converted = loads(&fs::read(&out_path).unwrap()).expect("output loads");
        assert!(converted == original, "protocol {p}: content changed");
    }
    // Same protocol: CPython's bytes exactly.
    assert_eq!(fs::read(s.path("out2.pkl")).unwrap(), P2);
}

#[test]
fn converts_streams_from_stdin_to_stdout() {
    let mut stream = P2.to_vec();
    stream.extend_from_slice(b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02hi\x94.");
    let out = pickle(&["convert", "-", "-p", "4", "-o", "-"], Some(&stream));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = loads_all(&out.stdout).expect("output loads");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].root().as_str(), Some("hi"));
}

#[test]
fn out_of_band_buffers_are_brought_in_band() {
    let s = Scratch::new("buffers");
    // [NEXT_BUFFER, NEXT_BUFFER READONLY_BUFFER]
    let input = s.file("oob.pkl", b"\x80\x05](\x97\x97\x98e.");
    let b0 = s.file("oob.buf0", b"writable");
    let b1 = s.file("oob.buf1", b"read-only");
    let out_path = s.path("inband.pkl");
    let out = pickle(
        &[
            "convert",
            input.to_str().unwrap(),
            "--buffer",
            b0.to_str().unwrap(),
            "--buffer",
            b1.to_str().unwrap(),
            "-p",
            "5",
            "-o",
            out_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = loads(&fs::read(&out_path).unwrap()).expect("in-band output loads without buffers");
    let items: Vec<_> = doc.root().iter().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_bytes(), Some(&b"writable"[..]));
    assert_eq!(items[1].as_bytes(), Some(&b"read-only"[..]));
    assert!(
        matches!(items[0].node(), Some(Node::ByteArray(_))),
        "a writable buffer becomes a bytearray"
    );

    // Without the buffer files it is bad data.
    let out = pickle(
        &["convert", input.to_str().unwrap(), "-p", "5", "-o", "-"],
        None,
    );
    assert_one_line_error(&out);
}

#[test]
fn python2_strings_decode_with_the_chosen_encoding() {
    // Python 2: pickle.dumps('caf\xe9', 2) -> SHORT_BINSTRING
    let data = b"\x80\x02U\x04caf\xe9q\x00.";
    let out = pickle(&["convert", "-", "-p", "3", "-o", "-"], Some(data));
    assert_one_line_error(&out); // ASCII cannot decode 0xe9
    let out = pickle(
        &["convert", "-", "-p", "3", "-o", "-", "--encoding", "latin1"],
        Some(data),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(loads(&out.stdout).unwrap().root().as_str(), Some("café"));
    let out = pickle(
        &["convert", "-", "-p", "3", "-o", "-", "--encoding", "bytes"],
        Some(data),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        loads(&out.stdout).unwrap().root().as_bytes(),
        Some(&b"caf\xe9"[..])
    );
}

fn fixture(rel: &str) -> String {
    format!("{}/../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn dis_and_json_read_torch_checkpoints_directly() {
    for f in ["torch/checkpoint_zip.pt", "torch/checkpoint_legacy.pt"] {
        let path = fixture(f);
        let out = pickle(&["dis", &path], None);
        assert!(out.status.success(), "{f}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("_rebuild_tensor_v2"),
            "{f}: no tensor rebuild in the listing"
        );
        assert!(text.contains("highest protocol among opcodes"));
        let out = pickle(&["json", "--compact", &path], None);
        assert!(out.status.success(), "{f}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("\"$global\":\"torch._utils:_rebuild_tensor_v2\""),
            "{f}: {text}"
        );
    }
}

#[test]
fn json_round_trips_through_from_json() {
    // t = (1, 2.5); pickle.dumps([{'a': t, 'b': t}, {1, 2}, b'x', None], 4):
    // a shared tuple, a set, bytes.
    let data: &[u8] = b"\x80\x04\x95-\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x01a\x94K\x01G@\x04\x00\x00\x00\x00\x00\x00\x86\x94\x8c\x01b\x94h\x03u\x8f\x94(K\x01K\x02\x90C\x01x\x94Ne.";
    let json = pickle(&["json", "-"], Some(data));
    assert!(json.status.success(), "{}", stderr(&json));
    let back = pickle(
        &["from-json", "-", "--protocol", "4", "-o", "-"],
        Some(&json.stdout),
    );
    assert!(back.status.success(), "{}", stderr(&back));
    assert_eq!(back.stdout, data);
}

/// pickle.dumps of an object whose __reduce__ is (os.system, ('id',)), protocol 4.
const EVIL: &[u8] = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.";
/// pickle.dumps(pcorpus.Point()) at protocol 2: a class on neither list.
const USER_CLASS: &[u8] = b"\x80\x02cpcorpus\nPoint\n)\x81.";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn scan_exit_codes_clean_dangerous_unreadable() {
    let dir = Scratch::new("scan-codes");
    let clean = dir.file("clean.pkl", P2);
    let evil = dir.file("evil.pkl", EVIL);
    let broken = dir.file("broken.pkl", &P2[..P2.len() - 3]);
    let user = dir.file("user.pkl", USER_CLASS);
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let code = |args: &[String]| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        pickle(&a, None).status.code()
    };
    let scan = |files: &[&PathBuf]| {
        let mut a = vec!["scan".to_string()];
        a.extend(files.iter().map(|p| s(p)));
        a
    };
    assert_eq!(code(&scan(&[&clean])), Some(0));
    assert_eq!(
        code(&scan(&[&user])),
        Some(0),
        "unknown is not a failure without --strict"
    );
    assert_eq!(code(&scan(&[&evil])), Some(1));
    assert_eq!(code(&scan(&[&broken])), Some(2));
    assert_eq!(
        code(&scan(&[&clean, &broken, &evil])),
        Some(1),
        "dangerous wins"
    );
    let mut strict = scan(&[&user]);
    strict.push("--strict".into());
    assert_eq!(code(&strict), Some(1));
    let out = pickle(&["scan", &s(&broken)], None);
    assert!(stdout(&out).contains("verdict ERROR"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("could not be scanned"),
        "{}",
        stderr(&out)
    );
    let missing = dir.path("missing.pkl");
    assert_eq!(code(&scan(&[&missing])), Some(2));
}

#[test]
fn scan_quiet_prints_only_files_that_are_not_clean() {
    let dir = Scratch::new("scan-quiet");
    // collections.OrderedDict(): one safe finding.
    dir.file("a_clean.pkl", b"\x80\x02ccollections\nOrderedDict\n)R.");
    dir.file("b_evil.pkl", EVIL);
    let folder = dir.0.to_str().unwrap().to_string();
    let out = pickle(&["scan", "-q", &folder], None);
    let text = stdout(&out);
    assert!(!text.contains("a_clean.pkl"), "{text}");
    assert!(
        text.contains("b_evil.pkl") && text.contains("DANGEROUS"),
        "{text}"
    );
    assert!(
        !text.contains("SAFE"),
        "quiet shows no safe finding: {text}"
    );
    // The default shows no safe findings either, but a verdict line per file.
    let out = pickle(&["scan", &folder], None);
    assert!(
        stdout(&out).contains("a_clean.pkl: verdict SAFE"),
        "{}",
        stdout(&out)
    );
    let out = pickle(&["scan", "--verbose", &folder], None);
    assert!(stdout(&out).contains(": SAFE ("), "{}", stdout(&out));
}

#[test]
fn scan_json_and_sarif() {
    let dir = Scratch::new("scan-formats");
    let evil = dir.file("evil.pkl", EVIL);
    let broken = dir.file("broken.pkl", &P2[..P2.len() - 3]);
    let (e, b) = (evil.to_str().unwrap(), broken.to_str().unwrap());
    let out = pickle(&["scan", "--format", "json", e, b], None);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "dangerous");
    assert_eq!(lines[1]["verdict"], "error");
    assert!(lines[1]["error"].is_string());
    let out = pickle(&["scan", "--format", "sarif", e, b], None);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let evil_hit = results
        .iter()
        .find(|r| r["ruleId"] == "dangerous-import")
        .expect("a dangerous-import result");
    assert_eq!(evil_hit["level"], "error");
    let region = &evil_hit["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        region["byteOffset"], 28,
        "STACK_GLOBAL of posix.system at byte 28"
    );
    assert!(results.iter().any(|r| r["ruleId"] == "scan-error"));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        assert!(
            rules.iter().any(|x| x["id"] == r["ruleId"]),
            "rule {} undeclared",
            r["ruleId"]
        );
    }
}

#[test]
fn scan_warns_when_allow_silences_a_dangerous_name() {
    let dir = Scratch::new("scan-allow");
    let evil = dir.file("evil.pkl", EVIL);
    let e = evil.to_str().unwrap();
    let out = pickle(&["scan", "--allow", "posix.system", e], None);
    assert!(
        stderr(&out).contains("warning: --allow posix.system"),
        "{}",
        stderr(&out)
    );
    let out = pickle(&["scan", "--allow", "pcorpus.Point", e], None);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn scan_of_a_folder_finds_pickles_by_their_bytes_not_their_names() {
    // picklescan's CVE-2025-1889: a pickle under a name no scanner expects.
    let dir = Scratch::new("scan-sniff");
    dir.file("weights", EVIL);
    dir.file("notes.txt", b"just text\n");
    let folder = dir.0.to_str().unwrap().to_string();
    let out = pickle(&["scan", &folder], None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("weights"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("notes.txt"), "{}", stdout(&out));
}

/// Python 2.7: pickle.dumps(u'Привет'.encode('koi8-r'), 2).
const PY2_KOI8: &[u8] = b"\x80\x02U\x06\xf0\xd2\xc9\xd7\xc5\xd4q\x00.";

#[test]
fn every_loading_command_takes_any_codec_and_errors() {
    // Without --encoding: CPython's ASCII fails, and the error names the flag.
    for cmd in [
        &["convert", "-", "-p", "3", "-o", "-"][..],
        &["json", "-"],
        &["arrays", "-"],
    ] {
        let out = pickle(cmd, Some(PY2_KOI8));
        let line = assert_one_line_error(&out);
        assert!(
            line.contains("'ascii' codec can't decode byte 0xf0 in position 0")
                && line.contains("(--encoding, --errors)")
                && !line.contains("LoadOptions"),
            "{cmd:?}: {line}"
        );
        let mut with = cmd.to_vec();
        with.extend(["--encoding", "KOI8-R"]);
        let out = pickle(&with, Some(PY2_KOI8));
        assert_eq!(out.status.code(), Some(0), "{with:?}: {}", stderr(&out));
    }
    let out = pickle(
        &["convert", "-", "-p", "3", "-o", "-", "--encoding", "koi8_r"],
        Some(PY2_KOI8),
    );
    assert_eq!(loads(&out.stdout).unwrap().root().as_str(), Some("Привет"));
    let out = pickle(&["json", "-", "--encoding", "koi8-r"], Some(PY2_KOI8));
    assert_eq!(stdout(&out).trim(), "\"Привет\"");
    // cp1252 leaves 0x81 undefined, as CPython: an error, or U+FFFD.
    let cp1252 = b"\x80\x02U\x02\x80\x81.";
    let out = pickle(&["json", "-", "--encoding", "cp1252"], Some(cp1252));
    let line = assert_one_line_error(&out);
    assert!(line.contains("byte 0x81 in position 1"), "{line}");
    let out = pickle(
        &["json", "-", "--encoding", "cp1252", "--errors", "replace"],
        Some(cp1252),
    );
    assert_eq!(stdout(&out).trim(), "\"\u{20ac}\u{fffd}\"");
    let out = pickle(
        &[
            "json",
            "-",
            "--encoding",
            "windows-1252",
            "--errors",
            "ignore",
        ],
        Some(cp1252),
    );
    assert_eq!(stdout(&out).trim(), "\"\u{20ac}\"");
    // Names the codecs do not decode exactly are usage errors naming the flag.
    for (flag, value, says) in [
        (
            "--encoding",
            "big5",
            "CPython's 'big5' codec is not supported",
        ),
        ("--encoding", "no-such", "unknown encoding: no-such"),
        ("--errors", "surrogateescape", "not supported"),
    ] {
        let out = pickle(&["json", "-", flag, value], None);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let err = stderr(&out);
        assert!(err.contains(flag) && err.contains(says), "{err}");
    }
}

#[test]
fn max_int_digits_is_a_flag_of_every_loading_command() {
    // Protocol 0: an INT of 5000 digits (over CPython's default 4300).
    let mut big = b"I".to_vec();
    big.extend(vec![b'7'; 5000]);
    big.extend_from_slice(b"\n.");
    for cmd in [
        &["convert", "-", "-p", "2", "-o", "-"][..],
        &["json", "-"],
        &["arrays", "-"],
    ] {
        let out = pickle(cmd, Some(&big));
        let line = assert_one_line_error(&out);
        assert!(line.contains("(--max-int-digits)"), "{cmd:?}: {line}");
        for n in ["0", "5000"] {
            let mut with = cmd.to_vec();
            with.extend(["--max-int-digits", n]);
            let out = pickle(&with, Some(&big));
            assert_eq!(out.status.code(), Some(0), "{with:?}: {}", stderr(&out));
        }
    }
    let out = pickle(&["json", "-", "--max-int-digits", "0"], Some(&big));
    assert_eq!(
        stdout(&out).trim(),
        format!("{{\"$int\":\"{}\"}}", "7".repeat(5000))
    );
}

#[test]
fn padding_after_the_last_pickle_is_left_with_a_note() {
    // A trailing newline (numpy's py2 object-array payloads end in one).
    let mut data = P2.to_vec();
    data.extend_from_slice(b"\n");
    for cmd in [&["convert", "-", "-p", "2", "-o", "-"][..], &["json", "-"]] {
        let out = pickle(cmd, Some(&data));
        assert_eq!(out.status.code(), Some(0), "{cmd:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(
                "note: <stdin>: ignored the 1 bytes of whitespace or NUL padding after pickle #1 (from byte 32)"
            )
                && err.lines().count() == 1,
            "{err}"
        );
    }
    let out = pickle(&["convert", "-", "-p", "2", "-o", "-"], Some(&data));
    assert_eq!(out.stdout, P2);
    // Streams still work, and a rest that begins with an opcode is loaded
    // (and fails as a broken pickle does).
    let two = [P2, P2].concat();
    let out = pickle(&["convert", "-", "-p", "2", "-o", "-"], Some(&two));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, two);
    assert!(stderr(&out).is_empty());
    let broken = [P2, b"}q"].concat();
    let out = pickle(&["json", "-"], Some(&broken));
    let line = assert_one_line_error(&out);
    assert!(line.contains("pickle #2"), "{line}");
    // Other bytes after a STOP are read as a pickle, and fail: garbage is
    // not passed over unseen (the conformance kit's `N.\xff\xff`).
    for rest in [&b"\xff\xff"[..], b"\n\xff", b"junk"] {
        for cmd in [
            &["convert", "-", "-p", "2", "-o", "-"][..],
            &["json", "-"],
            &["arrays", "-"],
        ] {
            let out = pickle(cmd, Some(&[P2, rest].concat()));
            let line = assert_one_line_error(&out);
            assert!(line.contains("pickle #2"), "{cmd:?} {rest:?}: {line}");
        }
    }
    // --first reads one pickle, as pickle.load does, and leaves the rest.
    for cmd in [
        &["convert", "-", "-p", "2", "-o", "-", "--first"][..],
        &["json", "-", "--first"],
        &["arrays", "-", "--first"],
    ] {
        let out = pickle(cmd, Some(&[P2, b"\xff\xff", P2].concat()));
        assert_eq!(out.status.code(), Some(0), "{cmd:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--first: left the"),
            "{cmd:?}: {}",
            stderr(&out)
        );
    }
    // Nothing but the rest: no pickle at all is still an error.
    let out = pickle(&["json", "-"], Some(b"\n"));
    assert_one_line_error(&out);
}

#[test]
fn arrays_reads_stdin() {
    for f in [
        "ml/sklearn_linreg.p4.pkl",
        "torch/checkpoint_zip.pt",
        "torch/checkpoint_legacy.pt",
    ] {
        let path = fixture(f);
        let from_file = pickle(&["arrays", "--json", &path], None);
        assert!(from_file.status.success(), "{f}: {}", stderr(&from_file));
        let data = fs::read(&path).unwrap();
        let from_stdin = pickle(&["arrays", "--json", "-"], Some(&data));
        assert!(from_stdin.status.success(), "{f}: {}", stderr(&from_stdin));
        assert_eq!(stdout(&from_stdin), stdout(&from_file), "{f}");
        assert!(stdout(&from_file).contains("sha256"), "{f}");
    }
    let out = pickle(&["arrays", "-"], Some(BAD));
    let line = assert_one_line_error(&out);
    assert!(line.starts_with("error: <stdin>: "), "{line}");
}

#[test]
fn every_command_reports_failure_with_one_error_prefix() {
    let s = Scratch::new("prefix");
    let missing = s.path("missing.pkl");
    let missing = missing.to_str().unwrap();
    for cmd in [
        &["convert", missing, "-p", "2", "-o", "-"][..],
        &["dis", missing],
        &["json", missing],
        &["from-json", missing, "-p", "2", "-o", "-"],
        &["arrays", missing],
    ] {
        let line = assert_one_line_error(&pickle(cmd, None));
        assert_eq!(line.matches("missing.pkl").count(), 1, "{cmd:?}: {line}");
    }
    let buf = s.path("missing.buf");
    let line = assert_one_line_error(&pickle(
        &[
            "arrays",
            &fixture("ml/f8.oob.p5.pkl"),
            "--buffer",
            buf.to_str().unwrap(),
        ],
        None,
    ));
    assert!(line.contains("cannot read buffer"), "{line}");
    // scan: the file it could not read is a warning, the verdict one error line.
    let out = pickle(&["scan", missing], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        err.lines()
            .all(|l| l.starts_with("error: ") || l.starts_with("warning: ")),
        "{err}"
    );
    assert!(!err.contains("pickle scan:"), "{err}");
}

#[test]
fn a_missing_memo_entry_reads_the_same_everywhere() {
    // [GET 7]: nothing was stored at 7.
    let data = b"\x80\x02]h\x07a.";
    let want = "Memo value not found at index 7";
    for cmd in [
        &["convert", "-", "-p", "2", "-o", "-"][..],
        &["json", "-"],
        &["dis", "-"],
        &["arrays", "-"],
    ] {
        let line = assert_one_line_error(&pickle(cmd, Some(data)));
        assert!(line.contains(want), "{cmd:?}: {line}");
    }
    let s = Scratch::new("memo");
    let f = s.file("memo.pkl", data);
    let out = pickle(&["scan", f.to_str().unwrap()], None);
    assert!(stdout(&out).contains(want), "{}", stdout(&out));
    // Protocol 0's negative index, as CPython: g-1 finds nothing.
    let line = assert_one_line_error(&pickle(&["json", "-"], Some(b"(lg-1\na.")));
    assert!(line.contains("Memo value not found at index -1"), "{line}");
}

/// `data` as a zlib stream of one stored block (what `joblib.dump(compress=
/// ("zlib", 0))` writes).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01, 0x01];
    let n = data.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(!n).to_le_bytes());
    out.extend_from_slice(data);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[test]
fn dis_decompresses_joblib_files() {
    let plain = pickle(&["dis", "-"], Some(P2));
    assert!(plain.status.success());
    let out = pickle(&["dis", "-"], Some(&zlib_stored(P2)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&plain));
}

#[test]
fn convert_refuses_checkpoints_and_says_what_to_use() {
    for (f, what) in [
        (
            "torch/checkpoint_zip.pt",
            "is a PyTorch checkpoint (torch.save): a zip archive",
        ),
        (
            "torch/checkpoint_legacy.pt",
            "is a legacy PyTorch checkpoint",
        ),
        ("torch/tar_format.pt", "is a tar archive"),
    ] {
        let line = assert_one_line_error(&pickle(
            &["convert", &fixture(f), "-p", "2", "-o", "-"],
            None,
        ));
        assert!(
            line.contains(what)
                && line.contains("pickle arrays")
                && line.contains("--to safetensors"),
            "{f}: {line}"
        );
        assert!(!line.contains("PERSID"), "{line}");
    }
    // Any other zip (no data.pkl) is named as a zip, not read as opcodes.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x00\x00";
    let line = assert_one_line_error(&pickle(&["convert", "-", "-p", "2", "-o", "-"], Some(zip)));
    assert!(
        line.contains("<stdin> is a zip archive, not a pickle stream"),
        "{line}"
    );
}

#[test]
fn a_tar_checkpoint_is_read_by_every_command_that_reads_checkpoints() {
    // torch < 0.4's format: the object pickle is the `pickle` member.
    let path = fixture("torch/tar_format.pt");
    let out = pickle(&["arrays", &path], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(
        listing.starts_with("['weight']\tfloat32\tshape=(4, 3)"),
        "{listing}"
    );
    for cmd in [&["json", &path][..], &["dis", &path]] {
        let out = pickle(cmd, None);
        assert_eq!(out.status.code(), Some(0), "{cmd:?}: {}", stderr(&out));
    }
    let out = pickle(&["convert", &path, "-p", "2", "-o", "-"], None);
    assert_one_line_error(&out);
}

#[test]
fn convert_to_safetensors_and_back() {
    let s = Scratch::new("safetensors");
    let ck = fixture("safetensors/from_torch.pt");
    let python = fs::read(fixture("safetensors/python.safetensors")).unwrap();
    // What Python's save_file wrote for the same checkpoint, byte for byte,
    // however the input comes and the CRC-32s are checked.
    let out = s.path("model.safetensors");
    let o = out.to_str().unwrap();
    for extra in [&[][..], &["--no-crc-check"]] {
        let mut args = vec!["convert", &ck, "--to", "safetensors", "-o", o];
        args.extend_from_slice(extra);
        let r = pickle(&args, None);
        assert!(r.status.success(), "{}", stderr(&r));
        assert!(r.stderr.is_empty(), "{}", stderr(&r));
        assert!(fs::read(&out).unwrap() == python);
    }
    let piped = pickle(
        &["convert", "-", "--to", "safetensors", "-o", "-"],
        Some(&fs::read(&ck).unwrap()),
    );
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(piped.stdout == python);
    let meta = pickle(
        &[
            "convert",
            &ck,
            "--to",
            "safetensors",
            "--metadata",
            "format=pt",
            "-o",
            "-",
        ],
        None,
    );
    assert!(meta.stdout == fs::read(fixture("safetensors/python_meta.safetensors")).unwrap());

    // Back to torch: the checkpoint whose sha256 PyTorch's verdict names
    // (archive `ours`, after the output's name).
    let expect: serde_json::Value =
        serde_json::from_slice(&fs::read(fixture("safetensors/expect.json")).unwrap()).unwrap();
    let pt = s.path("ours.pt");
    let r = pickle(
        &["convert", o, "--to", "torch", "-o", pt.to_str().unwrap()],
        None,
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let got = sha256_hex(&fs::read(&pt).unwrap());
    assert_eq!(got, expect["ours"]["ours.pt"].as_str().unwrap());
    assert_eq!(s.entries(), ["model.safetensors", "ours.pt"]);

    // arrays lists a safetensors file's tensors by name.
    let r = pickle(&["arrays", o], None);
    assert!(r.status.success(), "{}", stderr(&r));
    let listing = stdout(&r);
    assert!(
        listing.starts_with(
            "dtypes.uint64\tuint64\tshape=(3)\tstride=(1)\toffset=0\tnbytes=24\tsha256="
        ),
        "{listing}"
    );
    assert_eq!(listing.lines().count(), 40);
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn convert_to_refuses_what_it_cannot_convert() {
    let s = Scratch::new("safetensors-refused");
    let out = s.path("out");
    let o = out.to_str().unwrap();
    let st = fixture("safetensors/python.safetensors");
    let cases = [
        (
            vec!["convert", &st, "-p", "2", "-o", o],
            "is a safetensors file, not a pickle stream",
        ),
        (
            vec!["convert", &st, "--to", "safetensors", "-o", o],
            "is a safetensors file already: `--to torch`",
        ),
        (
            vec!["convert", "-", "--to", "torch", "-o", o],
            "<stdin> is not a safetensors file",
        ),
        (
            vec!["convert", "-", "--to", "safetensors", "-o", o],
            "<stdin> is not a PyTorch checkpoint",
        ),
    ];
    let plain = fixture("torch/real_torch.pt");
    let values = fixture("torch/written/checkpoint.pt");
    let more = [
        (
            vec!["convert", &plain, "--to", "safetensors", "-o", o],
            "tensor q_per_tensor (['q_per_tensor']) is quint8",
        ),
        (
            vec!["convert", &values, "--to", "safetensors", "-o", o],
            "['epoch'] is int 3, not a tensor: safetensors holds tensors only (--skip-non-tensors leaves",
        ),
        (
            vec!["convert", &plain, "--to", "torch", "-o", o],
            "is a PyTorch checkpoint already",
        ),
        (
            vec!["dis", &st],
            "is a safetensors file, which holds no pickle: `pickle arrays` lists its tensors",
        ),
        (
            vec!["json", &st],
            "is a safetensors file, which holds no pickle: `pickle arrays` lists its tensors",
        ),
    ];
    for (args, want) in cases.into_iter().chain(more) {
        let line = assert_one_line_error(&pickle(&args, Some(P2)));
        assert!(line.contains(want), "{args:?}: {line}");
        assert!(s.entries().is_empty(), "{args:?} left {:?}", s.entries());
    }
    // scan reads its header and finds no pickle.
    let r = pickle(&["scan", "--json", &st], None);
    assert!(r.status.success(), "{}", stderr(&r));
    let report: serde_json::Value = serde_json::from_str(stdout(&r).trim()).unwrap();
    assert_eq!(report["verdict"], "safe", "{report}");
    assert_eq!(report["format"], "safetensors", "{report}");
    // --skip-non-tensors: the tensors, and a note of what was left out.
    let r = pickle(
        &[
            "convert",
            &values,
            "--to",
            "safetensors",
            "--skip-non-tensors",
            "-o",
            o,
        ],
        None,
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let note = stderr(&r);
    assert!(
        note.starts_with("note: ")
            && note.contains("values that are not tensors")
            && note.contains("['epoch'] (int 3)"),
        "{note}"
    );
    assert_eq!(note.lines().count(), 1);
}
