//! `pickle frame`: pandas frames printed and written as CSV, against the
//! CSV pandas wrote for the committed fixtures (tests/fixtures/pandas), and
//! as Arrow IPC files, against what pyarrow makes of frames of every dtype
//! the installed pandas writes.

mod common;

use common::{pickle, pickle_env, python_with};

use std::path::{Path, PathBuf};
use std::process::Output;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/pandas")
}

/// The CSV pandas wrote for a fixture case.
fn pandas_csv(version: &str, case: &str) -> String {
    let j: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures().join(version).join(format!("{case}.json"))).unwrap(),
    )
    .unwrap();
    j["csv"].as_str().unwrap().to_string()
}

fn one_error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err:?}");
    assert!(lines[0].starts_with("error: "), "{err:?}");
    lines[0].to_string()
}

#[test]
fn help_has_examples() {
    let out = pickle(&["frame", "--help"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:")
            && text.contains("--csv sales.csv")
            && text.contains("--arrow sales.arrow")
            && text.contains("--arrow-stream -"),
        "{text}"
    );
    let out = pickle(&["--help"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("frame"));
}

#[test]
fn csv_is_what_pandas_wrote() {
    // pandas 3.1 with numpy 2.4: the default float32 digits.
    for case in ["strings", "multiindex", "series", "arrow", "arrow_chunked"] {
        let file = fixtures().join(format!("3.1.1-pyarrow/{case}.p5.pkl"));
        let out = pickle(&["frame", file.to_str().unwrap(), "--csv", "-"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            pandas_csv("3.1.1-pyarrow", case)
        );
    }
    // pandas 2.2 with numpy 2.0: float32 as numpy before 2.3 prints it.
    for case in [
        "numeric",
        "nullable",
        "categorical",
        "strings",
        "placements",
    ] {
        let file = fixtures().join(format!("2.2.3/{case}.p2.pkl"));
        let file = file.to_str().unwrap();
        let out = pickle(&["frame", file, "--csv", "-", "--numpy-before-2-3"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            pandas_csv("2.2.3", case),
            "{case}"
        );
    }
}

#[test]
fn csv_to_a_file_and_from_stdin() {
    let dir = std::env::temp_dir().join(format!("pickle-frame-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = std::fs::read(fixtures().join("1.5.3/nullable.p4.pkl")).unwrap();
    let out_file = dir.join("out.csv");
    let out = pickle(
        &["frame", "-", "--csv", out_file.to_str().unwrap()],
        Some(&data),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        pandas_csv("1.5.3", "nullable")
    );
    // Named time zones come from the tz database ($TZDIR when set); the
    // library's tests compare their CSV with pandas 3's (pandas 1.5 wrote
    // pytz's offsets, rounded to minutes and without DST after 2037).
    let zoned = fixtures().join("1.5.3/zoned.p4.pkl");
    let zoned = zoned.to_str().unwrap();
    if Path::new("/usr/share/zoneinfo/Europe/Paris").exists() && std::env::var("TZDIR").is_err() {
        let out = pickle(&["frame", zoned, "--csv", "-"], None);
        assert_eq!(out.status.code(), Some(0));
        let csv = String::from_utf8(out.stdout).unwrap();
        assert!(
            csv.starts_with(
                "paris,new_york,sydney,kolkata,st_johns\n2020-01-01 01:00:00.000+01:00,"
            ),
            "{csv}"
        );
    }
    // A frame whose CSV is refused leaves no file behind.
    let refused = dir.join("zoned.csv");
    let empty = dir.join("no-zones");
    std::fs::create_dir_all(&empty).unwrap();
    let out = pickle_env(
        &["frame", zoned, "--csv", refused.to_str().unwrap()],
        None,
        &[("TZDIR", empty.to_str().unwrap())],
    );
    let line = one_error_line(&out);
    assert!(
        line.contains("\"Europe/Paris\" is not in the system's tz database"),
        "{line}"
    );
    assert!(!refused.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn prints_columns_and_rows() {
    let file = fixtures().join("2.2.3/multiindex.p5.pkl");
    let out = pickle(&["frame", file.to_str().unwrap(), "--head", "2"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("DataFrame: 4 rows x 2 columns\n"),
        "{text}"
    );
    assert!(
        text.contains("MultiIndex of 2 levels: 'key' (object), 'n' (int64)"),
        "{text}"
    );
    assert!(text.contains("v       float64  0\n"), "{text}");
    assert!(
        text.contains("1.5\t'a'\n2.5\t'b'\n... 2 more rows\n"),
        "{text}"
    );
}

#[test]
fn what_is_not_a_frame_is_one_error_line() {
    let out = pickle(&["frame", "-"], Some(b"\x80\x02}q\x00."));
    let line = one_error_line(&out);
    assert!(line.contains("not a pandas DataFrame: a dict"), "{line}");
    let out = pickle(&["frame", "-"], Some(b"\x80\x02\xff."));
    one_error_line(&out);
    let out = pickle(&["frame", "/nonexistent/x.pkl"], None);
    one_error_line(&out);
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Frames of every dtype the installed pandas writes
/// (tests/scripts/pandas_frames.py), exported with `--arrow`: pyarrow
/// reads each file, and its fields, types, nulls, values, index and
/// `pandas` metadata must be what `pa.Table.from_pandas(df)` makes of the
/// frame, and `pd.read_feather` must give what it gives for pyarrow's own
/// file (tests/scripts/arrow_compare.py, which lists the documented
/// differences).
#[test]
fn arrow_files_are_what_pyarrow_makes_of_the_frames() {
    if !python_with("numpy, pandas, pyarrow", "the Arrow export test") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pickle-frame-arrow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let st = std::process::Command::new("python3")
        .arg(repo_file("tests/scripts/pandas_frames.py"))
        .arg(&dir)
        .args(["--protocols", "5", "--arrow"])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let mut exported = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pkl = dir.join(format!("{name}.p5.pkl"));
        let arrow = dir.join(format!("{name}.arrow"));
        let out = pickle(
            &[
                "frame",
                pkl.to_str().unwrap(),
                "--arrow",
                arrow.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        exported += 1;
    }
    assert!(exported >= 30, "{exported} cases");
    let st = std::process::Command::new("python3")
        .arg(repo_file("tests/scripts/arrow_compare.py"))
        .arg(&dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&st.stdout);
    assert!(
        st.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(
        report.contains(&format!("checked {exported}\n")),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn arrow_on_stdout_and_as_a_stream() {
    let file = fixtures().join("2.2.3/multiindex.p5.pkl");
    let file = file.to_str().unwrap();
    // `-`: the file format, byte for byte what a file gets.
    let out = pickle(&["frame", file, "--arrow", "-"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"ARROW1\0\0") && out.stdout.ends_with(b"ARROW1"));
    let dir = std::env::temp_dir().join(format!("pickle-frame-ipc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.arrow");
    let st = pickle(&["frame", file, "--arrow", path.to_str().unwrap()], None);
    assert_eq!(st.status.code(), Some(0));
    assert!(st.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), out.stdout);
    // The stream format: messages behind 0xFFFFFFFF markers, no magic.
    let out = pickle(
        &["frame", "-", "--arrow-stream", "-"],
        Some(&std::fs::read(file).unwrap()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(&[0xff, 0xff, 0xff, 0xff]));
    assert!(out.stdout.ends_with(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    // One export at a time.
    let out = pickle(&["frame", file, "--arrow", "-", "--csv", "-"], None);
    assert_eq!(out.status.code(), Some(2));
    // What is not a frame writes nothing.
    let bad = dir.join("bad.arrow");
    let out = pickle(
        &["frame", "-", "--arrow", bad.to_str().unwrap()],
        Some(b"\x80\x02}q\x00."),
    );
    one_error_line(&out);
    assert!(!bad.exists());
    std::fs::remove_dir_all(&dir).ok();
}
