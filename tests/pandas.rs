//! pandas DataFrames and Series read as columns, against what pandas itself
//! reports: frames of every dtype written by the installed pandas
//! (tests/scripts/pandas_frames.py, at protocols 0 to 5 and pandas'
//! default), the committed fixtures of other pandas versions and of
//! pyarrow-backed columns (tests/fixtures/pandas/), and pandas 0.x's own
//! legacy test pickles (tests/fixtures/external/pandas/).
#![cfg(feature = "pandas")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::pandas::{
    self, Cell, Column, CsvOptions, DataFrame, Index, Label, Pickled, Values,
};
use pickle_codec::Category;
use serde_json::{json, Value as Json};

/// Whether python3 with pandas can be run; under `CI=true` its absence fails.
fn pandas_available() -> bool {
    if !common::python_available("the pandas tests") {
        return false;
    }
    let ok = Command::new("python3")
        .args(["-c", "import pandas, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 with pandas is required for the pandas tests in CI (CI=true)");
        }
        eprintln!("SKIPPED the pandas tests: python3 has no pandas (set CI=true to fail)");
    }
    ok
}

fn tag_cell(c: &Cell) -> Json {
    match c {
        Cell::Null => Json::Null,
        Cell::Bool(b) => json!(format!("b:{}", if *b { "True" } else { "False" })),
        Cell::Int(i) => json!(format!("i:{i}")),
        Cell::UInt(u) => json!(format!("i:{u}")),
        Cell::Float(f) => json!(format!("f:{}", pickle_codec::repr::repr_float(*f))),
        Cell::Str(s) => json!(format!("s:{s}")),
        Cell::Datetime(t, _) => json!(format!("dt:{t}")),
        Cell::Timedelta(t, _) => json!(format!("td:{t}")),
        Cell::Object(s) => json!(format!("o:{s}")),
        Cell::Other(r) => json!(format!("x:{r}")),
    }
}

fn tag_label(l: &Label) -> Json {
    match l {
        Label::None => Json::Null,
        Label::Bool(b) => json!(format!("b:{}", if *b { "True" } else { "False" })),
        Label::Int(i) => json!(format!("i:{i}")),
        Label::Float(f) => json!(format!("f:{}", pickle_codec::repr::repr_float(*f))),
        Label::Str(s) => json!(format!("s:{s}")),
        Label::Tuple(t) => Json::Array(t.iter().map(tag_label).collect()),
        Label::Other(r) => json!(format!("o:{r}")),
    }
}

/// A column as the Python script reports one.
fn column_json(c: &Column) -> Json {
    let n = c.len();
    let mut j = json!({
        "name": tag_label(&c.name),
        "dtype": c.dtype,
        "nulls": (0..n).map(|i| c.is_null(i)).collect::<Vec<_>>(),
        "values": (0..n).map(|i| tag_cell(&c.cell(i).unwrap())).collect::<Vec<_>>(),
    });
    if let Values::Categorical {
        categories,
        ordered,
        ..
    } = &c.values
    {
        j["categories"] = column_json(categories);
        j["ordered"] = json!(ordered);
    }
    j
}

fn index_json(ix: &Index) -> Json {
    match ix {
        Index::Range {
            start,
            stop,
            step,
            name,
        } => {
            json!({"kind": "range", "start": start, "stop": stop, "step": step, "name": tag_label(name)})
        }
        Index::Column(c) => json!({"kind": "column", "levels": [column_json(c)]}),
        Index::Multi(levels) => {
            json!({"kind": "multi", "levels": levels.iter().map(column_json).collect::<Vec<_>>()})
        }
    }
}

/// The report of what was read, in the script's shape (without the CSV).
fn report(p: &Pickled) -> Json {
    match p {
        Pickled::DataFrame(df) => json!({
            "kind": "DataFrame",
            "columns": df.columns.iter().map(column_json).collect::<Vec<_>>(),
            "index": index_json(&df.index),
        }),
        Pickled::Series(s) => json!({
            "kind": "Series",
            "columns": [column_json(&s.column)],
            "index": index_json(&s.index),
        }),
    }
}

/// Frames whose CSV this crate refuses.
const CSV_UNSUPPORTED: &[&str] = &[];

/// Frames whose CSV pandas < 3 writes in ways pandas 3 no longer does
/// (pandas 2.2 writes year 1 as `1-01-01`, and timedeltas and the
/// tz-aware datetimes one by one, each with its own sub-second digits;
/// pandas 1.5's pytz rounds LMT offsets to minutes and stops DST at
/// 2037): their columns are compared, their CSV is not; CSV export
/// follows pandas 3.
const OLD_CSV_QUIRKS: &[&str] = &["datetimes", "timedeltas", "zoned"];

/// Whether the system has the tz database this crate reads named zones from.
fn tz_database() -> bool {
    let dir = std::env::var("TZDIR").unwrap_or_else(|_| "/usr/share/zoneinfo".into());
    Path::new(&dir).join("Europe/Paris").exists()
        || Path::new("/usr/lib/zoneinfo/Europe/Paris").exists()
}

/// Check every case of a folder the script wrote (or a committed fixture
/// folder); returns the number of files read.
fn check_dir(dir: &Path) -> usize {
    let m: Json =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    // float32 digits are numpy's `str`, which changed in numpy 2.3.
    let numpy: Vec<u32> = m["numpy"]
        .as_str()
        .unwrap()
        .split('.')
        .take(2)
        .map(|p| p.parse().unwrap())
        .collect();
    let options = CsvOptions::default().numpy_before_2_3(numpy < vec![2, 3]);
    let pandas_major: u32 = m["pandas"].as_str().unwrap()[..1].parse().unwrap();
    let mut n = 0;
    let mut failures = Vec::new();
    for case in m["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let want: Json =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let mut want_report = want.clone();
        let csv = want_report.as_object_mut().unwrap().remove("csv").unwrap();
        for f in case["files"].as_array().unwrap() {
            let path = dir.join(f.as_str().unwrap());
            n += 1;
            let got = match pandas::load_path(&path) {
                Ok(g) => g,
                Err(e) => {
                    failures.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let mine = report(&got);
            if mine != want_report {
                failures.push(format!(
                    "{}: columns or index differ from pandas' report\n  read:   {mine}\n  pandas: {want_report}",
                    path.display()
                ));
                continue;
            }
            let df = got.into_frame();
            // Every frame converts to an Arrow record batch of its columns.
            #[cfg(feature = "arrow")]
            match df.to_record_batch() {
                Ok(b) if b.num_columns() == df.columns.len() && b.num_rows() == df.len() => {}
                Ok(_) => failures.push(format!(
                    "{}: record batch of the wrong shape",
                    path.display()
                )),
                Err(e) => failures.push(format!("{}: to_record_batch: {e}", path.display())),
            }
            match csv.as_str() {
                Some(_) if pandas_major < 3 && OLD_CSV_QUIRKS.contains(&name) => {}
                // Named zones come from the system's tz database; without
                // one, their CSV is refused (Python may have pip's tzdata).
                Some(_) if name == "zoned" && !tz_database() => match df.to_csv() {
                    Err(e) if e.category() == Category::Unsupported => {}
                    other => failures.push(format!(
                        "{}: without a tz database the CSV should be refused, got {other:?}",
                        path.display()
                    )),
                },
                Some(csv) if !CSV_UNSUPPORTED.contains(&name) => {
                    let mut mine = Vec::new();
                    match df.write_csv_with(&mut mine, options) {
                        Ok(()) if mine == csv.as_bytes() => {}
                        Ok(()) => failures.push(format!(
                            "{}: CSV differs from to_csv\n  mine:   {:?}\n  pandas: {csv:?}",
                            path.display(),
                            String::from_utf8_lossy(&mine)
                        )),
                        Err(e) => failures.push(format!("{}: to_csv: {e}", path.display())),
                    }
                }
                Some(_) => match df.to_csv() {
                    Err(e) if e.category() == Category::Unsupported => {}
                    other => failures.push(format!(
                        "{}: CSV should be refused, got {other:?}",
                        path.display()
                    )),
                },
                None => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} pickles in {} differ:\n{}",
        failures.len(),
        dir.display(),
        failures.join("\n")
    );
    n
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/pandas_frames.py")
}

#[test]
fn frames_of_every_dtype_against_installed_pandas() {
    if !pandas_available() {
        return;
    }
    let out = std::env::temp_dir().join(format!("pickle-codec-pandas-{}", std::process::id()));
    let st = Command::new("python3")
        .arg(script())
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let n = check_dir(&out);
    std::fs::remove_dir_all(&out).ok();
    assert!(n >= 100, "only {n} pickles checked");
}

#[test]
fn committed_fixtures_of_other_pandas_versions() {
    let root = common::fixture_dir("pandas");
    let mut n = 0;
    for e in std::fs::read_dir(&root).unwrap() {
        let dir = e.unwrap().path();
        if dir.join("manifest.json").exists() {
            n += check_dir(&dir);
        }
    }
    assert!(n > 0, "no fixtures under {}", root.display());
}

#[test]
fn hostile_frames_are_errors_not_panics() {
    if !pandas_available() {
        return;
    }
    let make = |code: &str| -> Vec<u8> {
        let st = Command::new("python3").args(["-c", code]).output().unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        st.stdout
    };
    let good = make(
        "import pickle, sys, pandas as pd\n\
         df = pd.DataFrame({'a': [1, 2], 'b': [3, 4], 'c': pd.Categorical(['x', 'y'])})\n\
         sys.stdout.buffer.write(pickle.dumps(df, protocol=2))",
    );
    DataFrame::load(&good).unwrap();
    // Every truncation and every single-byte change is an error or a frame,
    // never a panic.
    for cut in 0..good.len() {
        let _ = DataFrame::load(&good[..cut]);
    }
    for i in 0..good.len() {
        for delta in [1u8, 0x80] {
            let mut bad = good.clone();
            bad[i] = bad[i].wrapping_add(delta);
            let _ = DataFrame::load(&bad);
        }
    }
    // The int block (slice(0, 2, 1)) placed over one column too many, and a
    // categorical code beyond its categories: clear `Data` errors.
    let placed = replace(&good, b"K\x00K\x02K\x01\x87", b"K\x00K\x03K\x01\x87");
    let e = DataFrame::load(&placed).unwrap_err();
    assert!(e.to_string().contains("placed"), "{e}");
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let i = hay
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{from:?} not in the pickle"));
    let mut out = hay[..i].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&hay[i + from.len()..]);
    out
}

/// A `RangeIndex` as the int64 index pandas < 0.18 wrote in its place.
fn range_as_column(ix: &Json) -> Json {
    if ix["kind"] != "range" {
        return ix.clone();
    }
    let (start, stop, step) = (
        ix["start"].as_i64().unwrap(),
        ix["stop"].as_i64().unwrap(),
        ix["step"].as_i64().unwrap(),
    );
    let values: Vec<Json> = (0..)
        .map(|i| start + i * step)
        .take_while(|&v| if step > 0 { v < stop } else { v > stop })
        .map(|v| json!(format!("i:{v}")))
        .collect();
    json!({"kind": "column", "levels": [{
        "name": ix["name"], "dtype": "int64",
        "nulls": vec![false; values.len()], "values": values,
    }]})
}

/// Values only Python's repr describes (`o:Timestamp(...)`) differ between
/// pandas versions; everything else must be equal.
fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::String(x), Json::String(y))
            if ["o:", "x:"].iter().any(|p| x.starts_with(p))
                && ["o:", "x:"].iter().any(|p| y.starts_with(p)) =>
        {
            true
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn legacy_pandas_0x_pickles_hold_their_known_contents() {
    let known: Json = serde_json::from_slice(
        &std::fs::read(common::fixture_dir("pandas/legacy/known.json")).unwrap(),
    )
    .unwrap();
    let root = common::fixture_dir("external/pandas/legacy_pickle");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        // Python 2 pickles: numpy data in latin1 `str`s.
        let opts = pickle_codec::LoadOptions::default().encoding(pickle_codec::Encoding::Latin1);
        let doc = pickle_codec::loads_with(&data, opts).unwrap();
        for kind in ["frame", "series"] {
            let Some(group) = doc.root().get(kind) else {
                continue;
            };
            for (key, v) in group.items() {
                let key = format!("{kind}/{}", key.as_str().unwrap());
                let got = pandas::from_value(v)
                    .unwrap_or_else(|e| panic!("{} {key}: {e}", path.display()));
                let mut got = report(&got);
                let mut want = known[&key].clone();
                assert!(!want.is_null(), "{key} has no known contents");
                got["index"] = range_as_column(&got["index"]);
                want["index"] = range_as_column(&want["index"]);
                if key == "series/period" {
                    // pandas 0.x kept Periods as objects; 1.x has a dtype.
                    assert_eq!(got["columns"][0]["dtype"], "object");
                    want["columns"][0]["dtype"] = json!("object");
                }
                assert!(
                    same_json(&got, &want),
                    "{} {key}:\n  read:  {got}\n  known: {want}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 247,
        "only {checked} legacy frames and series checked"
    );
}

/// Every truncation and byte change (on a stride) of the committed
/// fixtures written at protocol 2 is an error or a frame, never a panic.
#[test]
fn mutated_fixtures_are_errors_not_panics() {
    let root = common::fixture_dir("pandas");
    let mut files = Vec::new();
    for d in std::fs::read_dir(&root).unwrap() {
        let d = d.unwrap().path();
        if d.is_dir() {
            for f in std::fs::read_dir(&d).unwrap() {
                let f = f.unwrap().path();
                if f.to_string_lossy().ends_with(".p2.pkl") {
                    files.push(f);
                }
            }
        }
    }
    assert!(files.len() >= 20, "{} protocol-2 fixtures", files.len());
    let mut tried = 0;
    for f in &files {
        let good = std::fs::read(f).unwrap();
        let whole = pandas::load(&good).unwrap();
        let _ = whole.into_frame().to_csv();
        for cut in (0..good.len()).step_by(11) {
            let _ = pandas::load(&good[..cut]);
        }
        for i in (0..good.len()).step_by(5) {
            for delta in [1u8, 0x7f, 0x80] {
                let mut bad = good.clone();
                bad[i] = bad[i].wrapping_add(delta);
                if let Ok(p) = pandas::load(&bad) {
                    let _ = p.into_frame().to_csv();
                }
                tried += 1;
            }
        }
    }
    assert!(tried > 10_000, "{tried}");
}

/// A categorical whose categories are an index over the categorical
/// itself: a cycle a pickle can hold. It is a `Limit` error.
#[test]
fn self_referencing_categorical_is_an_error() {
    use pickle_codec::numpy::NdArray;
    use pickle_codec::{Document, ObjectKind, ObjectOp};
    let mut doc = Document::new();
    let dtype_cls = doc.global("pandas", "CategoricalDtype");
    let no_args = doc.tuple([]);
    let dtype = doc.object(ObjectKind::NewObj, dtype_cls, no_args);
    let codes = NdArray::from_vec(vec![1], &[0i8])
        .unwrap()
        .to_value(&mut doc, 2);
    let state = doc.tuple([dtype, codes]);
    let cat_cls = doc.global("pandas", "Categorical");
    let cat = doc.reduce(
        "pandas._libs.arrays",
        "__pyx_unpickle_NDArrayBacked",
        [cat_cls, pickle_codec::Value::Int(0), state],
    );
    let index_cls = doc.global("pandas", "Index");
    let attrs = doc.dict_str([("data", cat), ("name", pickle_codec::Value::None)]);
    let index = doc.reduce("pandas.core.indexes.base", "_new_Index", [index_cls, attrs]);
    let dstate = doc.dict_str([
        ("categories", index),
        ("ordered", pickle_codec::Value::Bool(false)),
    ]);
    doc.push_op(dtype, ObjectOp::Build(dstate));
    // A Series of that categorical, through a 0.14.1 SingleBlockManager state.
    let range_cls = doc.global("pandas", "RangeIndex");
    let rattrs = doc.dict_str([
        ("start", pickle_codec::Value::Int(0)),
        ("stop", pickle_codec::Value::Int(1)),
    ]);
    let rows = doc.reduce(
        "pandas.core.indexes.base",
        "_new_Index",
        [range_cls, rattrs],
    );
    let block = doc.dict_str([("values", cat), ("mgr_locs", pickle_codec::Value::Int(0))]);
    let blocks = doc.list([block]);
    let axes = doc.list([rows]);
    let extra = doc.dict_str([("axes", axes), ("blocks", blocks)]);
    let extra = doc.dict_str([("0.14.1", extra)]);
    let mstate = doc.tuple([
        pickle_codec::Value::None,
        pickle_codec::Value::None,
        pickle_codec::Value::None,
        extra,
    ]);
    let mgr = doc.instance(
        "pandas.core.internals.managers",
        "SingleBlockManager",
        mstate,
    );
    let sstate = doc.dict_str([("_mgr", mgr)]);
    let series = doc.instance("pandas", "Series", sstate);
    let e = pandas::from_value(doc.get(series)).unwrap_err();
    assert_eq!(e.category(), Category::Limit, "{e}");
}

/// A RangeIndex of 2^40 columns over a block of `(2^40, 0)` costs a few
/// bytes of pickle; it is refused, not allocated.
#[test]
fn huge_column_axis_is_refused() {
    use pickle_codec::{Document, Value};
    let mut doc = Document::new();
    let range = |doc: &mut Document, stop: i64| {
        let cls = doc.global("pandas", "RangeIndex");
        let attrs = doc.dict_str([("start", Value::Int(0)), ("stop", Value::Int(stop))]);
        doc.reduce("pandas.core.indexes.base", "_new_Index", [cls, attrs])
    };
    let cols = range(&mut doc, 1 << 40);
    let rows = range(&mut doc, 0);
    let axes = doc.list([cols, rows]);
    let blocks = doc.tuple([]);
    let mgr = doc.reduce(
        "pandas.core.internals.managers",
        "BlockManager",
        [blocks, axes],
    );
    let state = doc.dict_str([("_mgr", mgr)]);
    let df = doc.instance("pandas", "DataFrame", state);
    let e = DataFrame::from_value(doc.get(df)).unwrap_err();
    assert_eq!(e.category(), Category::Limit, "{e}");
}

/// `to_pickle("x.pkl.gz")` and friends: pandas compresses by extension.
/// gzip, bz2 and xz are read (with `joblib-compress`); zip is refused with
/// a clear error.
#[cfg(feature = "joblib-compress")]
#[test]
fn compressed_to_pickle_files() {
    if !pandas_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pickle-codec-pandas-z-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let code = "import sys, pandas as pd\n\
         df = pd.DataFrame({'a': [1, 2, 3], 's': ['x', None, 'z']})\n\
         for ext in ['gz', 'bz2', 'xz', 'zip']:\n\
         \x20   df.to_pickle(sys.argv[1] + '/f.pkl.' + ext)\n\
         sys.stdout.write(df.to_csv(index=False))";
    let st = Command::new("python3")
        .args(["-c", code])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let csv = String::from_utf8(st.stdout).unwrap();
    for ext in ["gz", "bz2", "xz"] {
        let df = DataFrame::load_path(dir.join(format!("f.pkl.{ext}"))).unwrap();
        assert_eq!(df.to_csv().unwrap(), csv, "{ext}");
    }
    let e = DataFrame::load_path(dir.join("f.pkl.zip")).unwrap_err();
    assert_eq!(e.category(), Category::Unsupported, "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Frames as Arrow record batches: every column's type as the mapping
/// says, its nulls, and each value equal to the column's.
#[cfg(feature = "arrow")]
#[test]
fn record_batches_hold_every_column() {
    use pandas::arrow_array::{cast::AsArray, types::*, Array};
    use pandas::arrow_schema::{DataType, TimeUnit as AU};
    let mut checked = 0;
    for dir in ["2.2.3", "3.1.1-pyarrow"] {
        let dir = common::fixture_dir("pandas").join(dir);
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if !path.to_string_lossy().ends_with(".p5.pkl") {
                continue;
            }
            let df = DataFrame::load_path(&path).unwrap();
            let batch = match df.to_record_batch() {
                Ok(b) => b,
                // Mixed object columns hold values this crate cannot print.
                Err(e) => panic!("{}: {e}", path.display()),
            };
            assert_eq!(batch.num_rows(), df.len());
            assert_eq!(batch.num_columns(), df.columns.len());
            for (c, a) in df.columns.iter().zip(batch.columns()) {
                let what = format!("{} {} ({})", path.display(), c.name, c.dtype);
                assert_eq!(a.null_count(), c.null_count(), "{what}");
                for i in 0..c.len() {
                    let cell = c.cell(i).unwrap();
                    if cell == Cell::Null {
                        assert!(a.is_null(i), "{what} row {i}");
                        continue;
                    }
                    let got = match a.data_type() {
                        DataType::Boolean => Cell::Bool(a.as_boolean().value(i)),
                        DataType::Int8 => Cell::Int(a.as_primitive::<Int8Type>().value(i).into()),
                        DataType::Int16 => Cell::Int(a.as_primitive::<Int16Type>().value(i).into()),
                        DataType::Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(i).into()),
                        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(i)),
                        DataType::UInt8 => Cell::Int(a.as_primitive::<UInt8Type>().value(i).into()),
                        DataType::UInt16 => {
                            Cell::Int(a.as_primitive::<UInt16Type>().value(i).into())
                        }
                        DataType::UInt32 => {
                            Cell::Int(a.as_primitive::<UInt32Type>().value(i).into())
                        }
                        DataType::UInt64 => Cell::UInt(a.as_primitive::<UInt64Type>().value(i)),
                        DataType::Float32 => {
                            Cell::Float(a.as_primitive::<Float32Type>().value(i).into())
                        }
                        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
                        DataType::Utf8 => {
                            let s = a.as_string::<i32>().value(i).to_string();
                            match cell {
                                Cell::Object(_) => Cell::Object(s),
                                Cell::Int(_) | Cell::Float(_) | Cell::Bool(_) => {
                                    // A mixed object column: each value's str().
                                    assert!(!s.is_empty(), "{what}");
                                    cell.clone()
                                }
                                _ => Cell::Str(s),
                            }
                        }
                        DataType::Timestamp(u, _) => {
                            let v = match u {
                                AU::Second => a.as_primitive::<TimestampSecondType>().value(i),
                                AU::Millisecond => {
                                    a.as_primitive::<TimestampMillisecondType>().value(i)
                                }
                                AU::Microsecond => {
                                    a.as_primitive::<TimestampMicrosecondType>().value(i)
                                }
                                AU::Nanosecond => {
                                    a.as_primitive::<TimestampNanosecondType>().value(i)
                                }
                            };
                            match cell {
                                Cell::Datetime(_, unit) => Cell::Datetime(v, unit),
                                _ => panic!("{what}: a timestamp for {cell:?}"),
                            }
                        }
                        DataType::Duration(u) => {
                            let v = match u {
                                AU::Second => a.as_primitive::<DurationSecondType>().value(i),
                                AU::Millisecond => {
                                    a.as_primitive::<DurationMillisecondType>().value(i)
                                }
                                AU::Microsecond => {
                                    a.as_primitive::<DurationMicrosecondType>().value(i)
                                }
                                AU::Nanosecond => {
                                    a.as_primitive::<DurationNanosecondType>().value(i)
                                }
                            };
                            match cell {
                                Cell::Timedelta(_, unit) => Cell::Timedelta(v, unit),
                                _ => panic!("{what}: a duration for {cell:?}"),
                            }
                        }
                        DataType::Dictionary(_, _) => {
                            let d = a.as_dictionary::<Int32Type>();
                            let k = d.keys().value(i) as usize;
                            let Values::Categorical { categories, .. } = &c.values else {
                                panic!("{what}: a dictionary for a non-categorical");
                            };
                            categories.cell(k).unwrap()
                        }
                        other => panic!("{what}: unexpected Arrow type {other}"),
                    };
                    assert_eq!(got, cell, "{what} row {i}");
                }
                // The type each pandas dtype maps to.
                let want = match c.dtype.as_str() {
                    "int8" => Some(DataType::Int8),
                    "Int64" | "int64" => Some(DataType::Int64),
                    "uint64" | "UInt64" => Some(DataType::UInt64),
                    "float32" | "Float32" => Some(DataType::Float32),
                    "float64" | "Float64" => Some(DataType::Float64),
                    "bool" | "boolean" => Some(DataType::Boolean),
                    "str" | "string" => Some(DataType::Utf8),
                    "datetime64[ns, UTC]" => {
                        Some(DataType::Timestamp(AU::Nanosecond, Some("UTC".into())))
                    }
                    "datetime64[us, UTC+01:00]" => {
                        Some(DataType::Timestamp(AU::Microsecond, Some("+01:00".into())))
                    }
                    "timedelta64[ms]" => Some(DataType::Duration(AU::Millisecond)),
                    _ => None,
                };
                if let Some(want) = want {
                    assert_eq!(a.data_type(), &want, "{what}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 70, "{checked} columns");
}

/// Every committed fixture written as an Arrow IPC file and stream and read
/// back with arrow-ipc's readers: the data columns are
/// `to_record_batch`'s, the index levels follow, and the schema carries
/// the `pandas` metadata naming them.
#[cfg(feature = "arrow-ipc")]
#[test]
fn arrow_ipc_files_read_back_as_the_record_batch() {
    use pandas::arrow_array::Array;
    use pandas::arrow_ipc::reader::{FileReader, StreamReader};
    let mut checked = 0;
    for dir in ["1.5.3", "2.2.3", "3.1.1-pyarrow"] {
        let dir = common::fixture_dir("pandas").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pkl"))
            .collect();
        files.sort();
        for path in files {
            let what = path.display().to_string();
            let df = DataFrame::load_path(&path).unwrap();
            let plain = df.to_record_batch().unwrap();
            let full = df.to_record_batch_with_index().unwrap();
            let mut file = Vec::new();
            df.write_arrow_ipc(&mut file).unwrap();
            assert!(
                file.starts_with(b"ARROW1\0\0") && file.ends_with(b"ARROW1"),
                "{what}"
            );
            let mut reader = FileReader::try_new(std::io::Cursor::new(&file), None).unwrap();
            let read = reader.next().unwrap().unwrap();
            assert!(reader.next().is_none(), "{what}: one batch");
            let mut stream = Vec::new();
            df.write_arrow_ipc_stream(&mut stream).unwrap();
            let mut sreader = StreamReader::try_new(std::io::Cursor::new(&stream), None).unwrap();
            let sread = sreader.next().unwrap().unwrap();
            assert!(sreader.next().is_none(), "{what}: one batch in the stream");
            assert_eq!(
                read, full,
                "{what}: the file holds to_record_batch_with_index"
            );
            assert_eq!(sread, full, "{what}: the stream holds it too");
            assert_eq!(read.num_rows(), df.len(), "{what}");
            // The data columns: to_record_batch's arrays, exactly.
            for (i, c) in df.columns.iter().enumerate() {
                assert_eq!(
                    read.column(i).to_data(),
                    plain.column(i).to_data(),
                    "{what} column {}",
                    c.name
                );
                let (f, p) = (
                    read.schema().field(i).clone(),
                    plain.schema().field(i).clone(),
                );
                assert_eq!(f.data_type(), p.data_type(), "{what}");
                if !matches!(c.name, Label::Tuple(_)) {
                    assert_eq!(f.name(), p.name(), "{what}");
                }
                if let Values::Categorical { ordered, .. } = &c.values {
                    assert_eq!(f.dict_is_ordered(), Some(*ordered), "{what}");
                }
            }
            // The index: a RangeIndex in the metadata only, other indexes
            // as one column a level, named in `index_columns`.
            let meta: Json = serde_json::from_str(&read.schema().metadata()["pandas"]).unwrap();
            let ix = meta["index_columns"].as_array().unwrap();
            let levels = match &df.index {
                Index::Range {
                    start, stop, step, ..
                } => {
                    assert_eq!(ix.len(), 1, "{what}");
                    assert_eq!(ix[0]["kind"], "range", "{what}");
                    assert_eq!(
                        (&ix[0]["start"], &ix[0]["stop"], &ix[0]["step"]),
                        (&json!(start), &json!(stop), &json!(step)),
                        "{what}"
                    );
                    Vec::new()
                }
                other => other.levels(),
            };
            assert_eq!(
                read.num_columns(),
                df.columns.len() + levels.len(),
                "{what}"
            );
            for (k, level) in levels.iter().enumerate() {
                let i = df.columns.len() + k;
                let a = read.column(i);
                assert_eq!(a.len(), df.len(), "{what}");
                assert_eq!(a.null_count(), level.null_count(), "{what} index level {k}");
                assert_eq!(ix[k], json!(read.schema().field(i).name()), "{what}");
            }
            let entries = meta["columns"].as_array().unwrap();
            assert_eq!(entries.len(), read.num_columns(), "{what}");
            for (e, f) in entries.iter().zip(read.schema().fields()) {
                assert_eq!(e["field_name"], json!(f.name()), "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked} fixtures");
}

/// What cannot be exported is an error that names the column; labels
/// that would name two fields alike are refused; an index level named
/// like a column gets pyarrow's `__index_level_0__`.
#[cfg(feature = "arrow-ipc")]
#[test]
fn arrow_ipc_errors_name_the_column() {
    let col = |name: Label, dtype: &str, values: Values| Column {
        name,
        dtype: dtype.into(),
        values,
        nulls: None,
    };
    let frame = |columns: Vec<Column>, index: Index| DataFrame {
        columns,
        index,
        columns_name: Label::None,
    };
    let range = |n: i64| Index::Range {
        start: 0,
        stop: n,
        step: 1,
        name: Label::None,
    };
    let df = frame(
        vec![col(
            Label::Str("small".into()),
            "int8",
            Values::Int(vec![1, 300]),
        )],
        range(2),
    );
    let e = df.write_arrow_ipc(Vec::new()).unwrap_err();
    assert!(
        e.to_string().contains("column 'small' (int8)") && e.to_string().contains("300"),
        "{e}"
    );
    let df = frame(
        vec![col(
            Label::Int(7),
            "object",
            Values::Object(vec![Cell::Other("mod.Thing()".into())]),
        )],
        range(1),
    );
    let e = df.write_arrow_ipc(Vec::new()).unwrap_err();
    assert_eq!(e.category(), Category::Unsupported);
    assert!(e.to_string().contains("column 7 (object)"), "{e}");
    assert!(e.to_string().contains("mod.Thing()"), "{e}");
    let df = frame(
        vec![
            col(Label::Int(1), "int64", Values::Int(vec![1])),
            col(Label::Str("1".into()), "int64", Values::Int(vec![2])),
        ],
        range(1),
    );
    let e = df.write_arrow_ipc(Vec::new()).unwrap_err();
    assert!(e.to_string().contains("two columns are named '1'"), "{e}");
    let mut level = col(Label::Str("a".into()), "int64", Values::Int(vec![5]));
    let df = frame(
        vec![col(Label::Str("a".into()), "int64", Values::Int(vec![1]))],
        Index::Column(level.clone()),
    );
    let b = df.to_record_batch_with_index().unwrap();
    let names: Vec<&str> = b
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["a", "__index_level_0__"]);
    level.name = Label::Str("k".into());
    let df = frame(df.columns.clone(), Index::Column(level));
    let b = df.to_record_batch_with_index().unwrap();
    let names: Vec<&str> = b
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["a", "k"]);
    let meta: Json = serde_json::from_str(&b.schema_ref().metadata()["pandas"]).unwrap();
    assert_eq!(meta["index_columns"], json!(["k"]));
    assert_eq!(meta["columns"][1]["name"], json!("k"));
    assert_eq!(meta["creator"]["library"], json!("pickle-codec"));
}
