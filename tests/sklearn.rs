//! `pickle_codec::sklearn` against scikit-learn itself: every supported
//! estimator trained by tests/scripts/gen_sklearn_cases.py (the installed
//! scikit-learn, and the committed fixtures of older releases under
//! tests/fixtures/sklearn/<version>/), pickled at protocols 2-5 and by
//! joblib, predicting held-out rows: classes equal, values and
//! probabilities within 1e-12. Then the refusals: unknown estimators,
//! versions out of range, damaged trees.
#![cfg(feature = "sklearn")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use pickle_codec::numpy::NdArray;
use pickle_codec::sklearn::{Batch, Column, Label, Matrix, Model, Predictions};
use pickle_codec::{Category, Document, Value};
use serde_json::Value as Json;

const TOL: f64 = 1e-12;

/// python3 with scikit-learn and joblib: required under CI=true, else skipped.
fn sklearn_available(what: &str) -> bool {
    if !common::python_available(what) {
        return false;
    }
    let ok = Command::new("python3")
        .args(["-c", "import numpy, sklearn, joblib"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("scikit-learn and joblib are required for {what} in CI (CI=true) but python3 cannot import them");
        }
        eprintln!("SKIPPED {what}: python3 cannot import numpy, sklearn, joblib (pip install scikit-learn joblib)");
    }
    ok
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .expect("a list of floats")
        .iter()
        .map(|s| {
            s.as_str()
                .expect("a float repr")
                .parse::<f64>()
                .expect("a float")
        })
        .collect()
}

fn label_text(l: &Label) -> String {
    match l {
        Label::Int(i) => format!("i:{i}"),
        Label::Float(f) => format!("f:{f:?}"),
        Label::Bool(b) => format!("b:{}", if *b { "True" } else { "False" }),
        Label::Str(s) => format!("s:{s}"),
    }
}

fn same_label(got: &Label, want: &str) -> bool {
    match (got, want.strip_prefix("f:")) {
        (Label::Float(f), Some(w)) => w
            .parse::<f64>()
            .is_ok_and(|w| w == *f || (w.is_nan() && f.is_nan())),
        _ => label_text(got) == want,
    }
}

fn close(what: &str, got: &Matrix, want: &Json) {
    let data = floats(&want["data"]);
    let n_cols = want["n_cols"].as_u64().unwrap() as usize;
    assert_eq!(got.n_cols, n_cols, "{what}: columns");
    assert_eq!(got.data.len(), data.len(), "{what}: values");
    for (i, (g, w)) in got.data.iter().zip(&data).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= TOL || g == w;
        assert!(
            ok,
            "{what}: value {i}: rust {g:?}, scikit-learn {w:?} (diff {:e})",
            (g - w).abs()
        );
    }
}

/// A case's table of number and text columns (`"columns"`).
fn batch_of(columns: &Json) -> Batch {
    let cols = columns
        .as_array()
        .expect("a list of columns")
        .iter()
        .map(|c| match (c.get("num"), c.get("text")) {
            (Some(v), _) => Column::Num(floats(v)),
            (_, Some(v)) => Column::Text(
                v.as_array()
                    .expect("a list of cells")
                    .iter()
                    .map(|s| s.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => panic!("a column of neither numbers nor text"),
        })
        .collect();
    Batch::from_columns(cols).expect("columns of one length")
}

/// What a case's model is given: row-major numbers, or a table with text.
enum Input {
    Rows(Vec<f64>, usize),
    Table(Batch),
}

impl Input {
    fn predict(&self, m: &Model) -> pickle_codec::Result<Predictions> {
        match self {
            Input::Rows(x, n) => m.predict(x, *n),
            Input::Table(b) => m.predict_batch(b),
        }
    }
    fn predict_proba_outputs(&self, m: &Model) -> pickle_codec::Result<Vec<Matrix>> {
        match self {
            Input::Rows(x, n) => m.predict_proba_outputs(x, *n),
            Input::Table(b) => m.predict_proba_outputs_batch(b),
        }
    }
    fn decision_function(&self, m: &Model) -> pickle_codec::Result<Matrix> {
        match self {
            Input::Rows(x, n) => m.decision_function(x, *n),
            Input::Table(b) => m.decision_function_batch(b),
        }
    }
    fn transform(&self, m: &Model) -> pickle_codec::Result<Matrix> {
        match self {
            Input::Rows(x, n) => m.transform(x, *n),
            Input::Table(b) => m.transform_batch(b),
        }
    }
}

/// Check every case of a manifest; returns how many (file, method) checks ran.
fn check_dir(dir: &Path) -> usize {
    let manifest: Json =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let version = manifest["sklearn_version"].as_str().unwrap().to_string();
    let mut checks = 0;
    let cases = manifest["cases"].as_array().unwrap();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let n = case["n_rows"].as_u64().unwrap() as usize;
        let input = match case.get("columns") {
            Some(c) => Input::Table(batch_of(c)),
            None => Input::Rows(floats(&case["X"]), n),
        };
        for file in case["files"].as_array().unwrap() {
            let file = file.as_str().unwrap();
            let what = format!("{version} {file}");
            let path = dir.join(file);
            let model = if file.ends_with(".pkl") {
                Model::from_slice(&std::fs::read(&path).unwrap())
            } else {
                Model::load_path(&path)
            };
            let model = model.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                model.estimator_name(),
                case["class"].as_str().unwrap(),
                "{what}"
            );
            assert_eq!(model.sklearn_version().text, version, "{what}");
            assert_eq!(
                model.n_features() as u64,
                case["n_features"].as_u64().unwrap(),
                "{what}"
            );
            if let Some(labels) = case.get("labels") {
                let Predictions::Labels(got) = input
                    .predict(&model)
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                else {
                    panic!("{what}: predict gave values, not labels");
                };
                assert_eq!(
                    got.n_outputs as u64,
                    case["n_outputs"].as_u64().unwrap(),
                    "{what}"
                );
                let want = labels.as_array().unwrap();
                assert_eq!(got.labels.len(), want.len(), "{what}");
                for (i, (g, w)) in got.labels.iter().zip(want).enumerate() {
                    assert!(
                        same_label(g, w.as_str().unwrap()),
                        "{what}: label {i}: rust {g:?}, scikit-learn {w}"
                    );
                }
                checks += 1;
            } else if let Some(values) = case.get("predict") {
                let Predictions::Values(got) = input
                    .predict(&model)
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                else {
                    panic!("{what}: predict gave labels, not values");
                };
                close(&format!("{what} predict"), &got, values);
                checks += 1;
            }
            if let Some(p) = case.get("predict_proba") {
                let got = input
                    .predict_proba_outputs(&model)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let want = p.as_array().unwrap();
                assert_eq!(got.len(), want.len(), "{what}: outputs");
                for (k, (g, w)) in got.iter().zip(want).enumerate() {
                    close(&format!("{what} predict_proba[{k}]"), g, w);
                }
                checks += 1;
            }
            if let Some(d) = case.get("decision_function") {
                let got = input
                    .decision_function(&model)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                close(&format!("{what} decision_function"), &got, d);
                checks += 1;
            }
            if let Some(t) = case.get("transform") {
                let got = input
                    .transform(&model)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                close(&format!("{what} transform"), &got, t);
                checks += 1;
            }
            let Input::Rows(x, n) = &input else {
                check_table_refusals(&what, &model, case);
                continue;
            };
            let n = *n;
            // Non-finite values: refused exactly where scikit-learn refuses them.
            for (tag, val) in [("nan", f64::NAN), ("inf", f64::INFINITY), ("big", 1e39)] {
                let mut row = x[..x.len() / n].to_vec();
                row[0] = val;
                let refused = if case.get("labels").is_some() || case.get("predict").is_some() {
                    model.predict(&row, 1).is_err()
                } else {
                    model.transform(&row, 1).is_err()
                };
                let want = case["refuses"][tag].as_bool().unwrap();
                assert_eq!(
                    refused, want,
                    "{what}: feature 0 = {val}: refused by rust {refused}, by scikit-learn {want}"
                );
            }
            // The wrong number of values is an error, not a panic.
            assert!(
                model.predict(&x[..x.len() - 1], n).is_err()
                    || model.transform(&x[..x.len() - 1], n).is_err()
            );
        }
        println!("{version} {name}: ok");
    }
    checks
}

/// A table case: the wrong kind of cell in each column (a string for a
/// numeric one, a number for a text one) is an error naming its row and
/// feature; a short column or the wrong number of columns is an error.
fn check_table_refusals(what: &str, model: &Model, case: &Json) {
    let b = &batch_of(&case["columns"]);
    let run = |b: &Batch| {
        if case.get("labels").is_some() || case.get("predict").is_some() {
            model.predict_batch(b).map(|_| ())
        } else {
            model.transform_batch(b).map(|_| ())
        }
    };
    run(b).unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = model.text_features();
    assert_eq!(text.len(), b.n_features(), "{what}");
    for (f, col) in b.columns().iter().enumerate() {
        let mut cols = b.columns().to_vec();
        let wrong = match col {
            Column::Num(v) => {
                let mut t: Vec<Option<String>> = vec![None; v.len()];
                t[2] = Some("2.5".to_string());
                Column::Text(t)
            }
            Column::Text(v) => {
                let mut t = vec![f64::NAN; v.len()];
                t[2] = 2.5;
                Column::Num(t)
            }
        };
        assert_eq!(
            text[f],
            matches!(col, Column::Text(_)),
            "{what}: feature {f}"
        );
        cols[f] = wrong;
        let e = run(&Batch::from_columns(cols).unwrap())
            .expect_err(&format!("{what}: the wrong kind of cell in feature {f}"));
        assert!(
            e.to_string().contains(&format!("(row 2, feature {f})")),
            "{what}: {e}"
        );
    }
    let mut fewer = b.columns().to_vec();
    fewer.pop();
    assert!(run(&Batch::from_columns(fewer).unwrap()).is_err(), "{what}");
    assert!(run(&b.rows(0, 0)).is_ok(), "{what}: no rows");
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pickle-codec-sklearn-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn predictions_equal_installed_sklearn() {
    if !sklearn_available("sklearn predictions") {
        return;
    }
    let dir = scratch("current");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/gen_sklearn_cases.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(&dir);
    if cfg!(feature = "joblib-compress") {
        cmd.arg("--compress");
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "gen_sklearn_cases.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks = check_dir(&dir);
    assert!(checks >= 40 * 5, "only {checks} checks ran");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn predictions_equal_committed_older_releases() {
    let root = common::fixture_dir("sklearn");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    dirs.sort();
    let names: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("1.3")),
        "no 1.3 fixtures: {names:?}"
    );
    for d in &dirs {
        assert!(check_dir(d) > 30, "{}", d.display());
    }
    // More folders written by gen_sklearn_cases.py (other releases, other
    // data: held-out checks), named in PICKLE_CODEC_SKLEARN_CASES.
    if let Ok(more) = std::env::var("PICKLE_CODEC_SKLEARN_CASES") {
        for d in more.split(':').filter(|d| !d.is_empty()) {
            assert!(check_dir(Path::new(d)) > 0, "{d}");
        }
    }
}

fn fixture(version: &str, file: &str) -> Document {
    let dir = common::fixture_dir("sklearn");
    let d = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(version)
        })
        .expect("a fixture folder");
    pickle_codec::loads(&std::fs::read(d.join(file)).unwrap()).unwrap()
}

/// An estimator object of `module.name` with `state`.
fn estimator(doc: &mut Document, module: &str, name: &str, version: &str) -> Value {
    let v = doc.str(version);
    let n = Value::Int(3);
    let state = doc.dict_str([("_sklearn_version", v), ("n_features_in_", n)]);
    doc.instance(module, name, state)
}

#[test]
fn unsupported_estimators_and_versions_are_refused_by_name() {
    let mut doc = Document::new();
    let svc = estimator(&mut doc, "sklearn.svm._classes", "SVC", "1.9.1");
    doc.set_root(svc);
    let e = Model::from_document(&doc).unwrap_err();
    assert_eq!(e.category(), Category::Unsupported);
    assert!(e.to_string().contains("SVC"), "{e}");

    for (v, word) in [
        ("1.2.2", "1.2.2"),
        ("0.24.2", "0.24.2"),
        ("1.10.0", "1.10.0"),
        ("2.0.0", "2.0.0"),
    ] {
        let mut doc = Document::new();
        let lr = estimator(
            &mut doc,
            "sklearn.linear_model._base",
            "LinearRegression",
            v,
        );
        doc.set_root(lr);
        let e = Model::from_document(&doc).unwrap_err();
        assert_eq!(e.category(), Category::Unsupported, "{v}");
        assert!(
            e.to_string().contains(word) && e.to_string().contains("LinearRegression"),
            "{e}"
        );
    }

    // No _sklearn_version at all.
    let mut doc = Document::new();
    let state = doc.dict_str([]);
    let lr = doc.instance("sklearn.linear_model._base", "LinearRegression", state);
    doc.set_root(lr);
    let e = Model::from_document(&doc).unwrap_err();
    assert!(e.to_string().contains("_sklearn_version"), "{e}");

    // Not scikit-learn's.
    let mut doc = Document::new();
    let x = estimator(&mut doc, "mylib", "LinearRegression", "1.9.1");
    doc.set_root(x);
    assert!(Model::from_document(&doc).is_err());

    // A gradient boosting model with a custom init estimator.
    let mut doc = fixture("1.3", "gb_clf_binary.p4.pkl");
    let state = doc.root().state().unwrap().value();
    let init = estimator(
        &mut doc,
        "sklearn.linear_model._logistic",
        "LogisticRegression",
        "1.3.2",
    );
    let key = doc.str("init_");
    doc.dict_push(state, key, init);
    let e = Model::from_document(&doc).unwrap_err();
    assert_eq!(e.category(), Category::Unsupported);
    assert!(
        e.to_string().contains("init_") && e.to_string().contains("LogisticRegression"),
        "{e}"
    );
}

/// The decision tree fixture with node `node`'s `field` (an int64 field)
/// set to `value`.
fn damaged_tree(field: &str, node: usize, value: i64) -> Document {
    let mut doc = fixture("1.3", "dt_reg.p4.pkl");
    let tree = doc.root().get("tree_").unwrap();
    let tree_state = tree.state().unwrap();
    let nodes = NdArray::from_value(tree_state.get("nodes").unwrap())
        .unwrap()
        .into_owned();
    let f = nodes
        .dtype
        .fields
        .iter()
        .find(|f| f.name == field)
        .unwrap()
        .clone();
    assert_eq!(f.dtype.itemsize, 8);
    let mut bytes = nodes.to_le_bytes().unwrap();
    let at = node * nodes.dtype.itemsize + f.offset;
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    let damaged = NdArray::from_bytes(
        nodes.dtype.clone(),
        nodes.shape.clone(),
        pickle_codec::numpy::Order::C,
        bytes,
    )
    .unwrap();
    let tree_state = tree_state.value();
    let v = damaged.to_value(&mut doc, 4);
    let key = doc.str("nodes");
    doc.dict_push(tree_state, key, v);
    doc
}

#[test]
fn damaged_trees_are_refused_not_walked() {
    // The fixture itself loads and predicts.
    let good = Model::from_document(&fixture("1.3", "dt_reg.p4.pkl")).unwrap();
    assert!(good.predict(&[0.0; 5], 1).is_ok());
    for (field, node, value, word) in [
        ("left_child", 0, 1_000_000, "child"),
        ("right_child", 0, -7, "child"),
        ("left_child", 1, 0, "child"), // a cycle back to the root
        ("left_child", 2, 2, "child"), // a node its own child
        ("feature", 0, 99, "feature"),
        ("feature", 0, -3, "feature"),
    ] {
        let doc = damaged_tree(field, node, value);
        let e = Model::from_document(&doc).unwrap_err();
        assert_eq!(e.category(), Category::Data, "{field}={value}");
        assert!(e.to_string().contains(word), "{field}={value}: {e}");
    }
    // A forest whose second tree is damaged is refused too.
    assert!(Model::from_document(&{
        let mut doc = fixture("1.3", "rf_reg.p4.pkl");
        let t = doc
            .root()
            .get("estimators_")
            .unwrap()
            .index(1)
            .unwrap()
            .value();
        let key = doc.str("tree_");
        let state = doc.get(t).state().unwrap().value();
        doc.dict_push(state, key, Value::None);
        doc
    })
    .is_err());
}

/// scikit-learn fills one array of the first output's dtype with every
/// output's labels: a `<U2` first output cuts the second's to 2 characters.
#[test]
fn multi_output_labels_take_the_first_outputs_dtype() {
    let mut doc = fixture("1.7", "dt_clf_multioutput_str_widths.p4.pkl");
    let x: Vec<f64> = (0..10 * 5).map(|i| (i as f64 * 0.71).cos() * 2.0).collect();
    let before = Model::from_document(&doc).unwrap().predict(&x, 10).unwrap();
    let classes = doc.root().get("classes_").unwrap();
    let first = NdArray::from_value(classes.index(0).unwrap())
        .unwrap()
        .into_owned();
    let second = classes.index(1).unwrap().value();
    // Output 0 ('hi', 'lo') as a '<U2' array.
    let mut bytes = Vec::new();
    for s in ["hi", "lo"] {
        for c in s.chars() {
            bytes.extend_from_slice(&(c as u32).to_le_bytes());
        }
    }
    assert_eq!(first.dtype.kind, 'U');
    let narrow = NdArray::from_bytes(
        pickle_codec::numpy::DType::parse("<U2").unwrap(),
        vec![2],
        pickle_codec::numpy::Order::C,
        bytes,
    )
    .unwrap();
    let narrow = narrow.to_value(&mut doc, 4);
    let list = doc.list([narrow, second]);
    let state = doc.root().state().unwrap().value();
    let key = doc.str("classes_");
    doc.dict_push(state, key, list);
    let after = Model::from_document(&doc).unwrap().predict(&x, 10).unwrap();
    let (Predictions::Labels(before), Predictions::Labels(after)) = (before, after) else {
        panic!("labels expected");
    };
    assert_eq!(before.n_outputs, 2);
    let mut cut = 0;
    for (b, a) in before.labels.iter().zip(&after.labels) {
        let (Label::Str(b), Label::Str(a)) = (b, a) else {
            panic!("str labels")
        };
        let want: String = b.chars().take(2).collect();
        assert_eq!(a, &want);
        cut += usize::from(a != b);
    }
    assert!(cut > 0, "no label was longer than 2 characters");
}

#[test]
fn a_pipeline_inside_itself_is_refused() {
    let mut doc = Document::new();
    let v = doc.str("1.9.1");
    let steps = doc.list([]);
    let state = doc.dict_str([("_sklearn_version", v), ("steps", steps)]);
    let pipe = doc.instance("sklearn.pipeline", "Pipeline", state);
    let name = doc.str("again");
    let step = doc.tuple([name, pipe]);
    doc.list_push(steps, step);
    doc.set_root(pipe);
    let e = Model::from_document(&doc).unwrap_err();
    assert!(e.to_string().contains("nested"), "{e}");
}

/// Damaged bytes anywhere in real models: an error or a model, and a
/// model that loads predicts without panicking.
#[test]
fn damaged_bytes_never_panic() {
    let dir = common::fixture_dir("sklearn");
    let d = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let mut loaded = 0;
    for file in [
        "hgb_clf_str3_cat.p4.pkl",
        "rf_clf_multioutput.p4.pkl",
        "gb_clf_str3.p4.pkl",
        "pipeline_onehot_logreg.p4.pkl",
        "onehot_if_binary.p4.pkl",
        "onehot_infrequent_min_freq_drop_first.p4.pkl",
        "pipeline_ordinal_str_tree.p4.pkl",
        "onehot_str_none_nan.p4.pkl",
    ] {
        let good = std::fs::read(d.join(file)).unwrap();
        assert!(Model::from_slice(&good).is_ok(), "{file}");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut data = good.clone();
            let at = (state as usize) % data.len();
            data[at] ^= 1 << ((state >> 32) % 8);
            if let Ok(m) = Model::from_slice(&data) {
                loaded += 1;
                let x = vec![0.5; 3 * m.n_features()];
                let _ = m.predict(&x, 3);
                let _ = m.predict_proba_outputs(&x, 3);
                let _ = m.decision_function(&x, 3);
                let _ = m.transform(&x, 3);
                // And a table with text in every column.
                let cols = (0..m.n_features())
                    .map(|_| Column::from(&[Some("red"), None, Some("S")][..]))
                    .collect();
                let b = Batch::from_columns(cols).unwrap();
                let _ = m.predict_batch(&b);
                let _ = m.predict_proba_outputs_batch(&b);
                let _ = m.transform_batch(&b);
            }
        }
    }
    assert!(
        loaded > 0,
        "no damaged model loaded at all: the flips never hit data"
    );
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_input_predicts_as_slices_do() {
    let dir = common::fixture_dir("sklearn");
    let d = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let m = Model::from_slice(&std::fs::read(d.join("rf_clf_str.p4.pkl")).unwrap()).unwrap();
    let x: Vec<f64> = (0..4 * 5).map(|i| (i as f64 * 0.37).sin()).collect();
    let a = ndarray::Array2::from_shape_vec((4, 5), x.clone()).unwrap();
    assert_eq!(
        m.predict_ndarray(a.view()).unwrap(),
        m.predict(&x, 4).unwrap()
    );
    assert_eq!(
        m.predict_proba_ndarray(a.view())
            .unwrap()
            .into_raw_vec_and_offset()
            .0,
        m.predict_proba(&x, 4).unwrap().data
    );
}

#[test]
fn every_truncation_of_a_model_is_an_error_or_a_model() {
    // Hostile input must never panic: cut a pickle anywhere.
    let dir = common::fixture_dir("sklearn");
    let d = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let data = std::fs::read(d.join("hgb_clf_binary_cat.p4.pkl")).unwrap();
    for cut in (0..data.len()).step_by(97) {
        let _ = Model::from_slice(&data[..cut]);
    }
    assert!(Model::from_slice(&data).is_ok());
}

/// A 1-D array of `dtype` from its little-endian bytes, as a value of `doc`.
fn array_value(doc: &mut Document, dtype: &str, shape: Vec<usize>, bytes: Vec<u8>) -> Value {
    NdArray::from_bytes(
        pickle_codec::numpy::DType::parse(dtype).unwrap(),
        shape,
        pickle_codec::numpy::Order::C,
        bytes,
    )
    .unwrap()
    .to_value(doc, 4)
}

fn utf32(strings: &[&str], width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for s in strings {
        let mut chars: Vec<u32> = s.chars().map(|c| c as u32).collect();
        chars.resize(width, 0);
        for c in chars {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
    out
}

fn f8(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Malformed `categories_` and infrequent-category attributes of an
/// encoder (here a OneHotEncoder on two string features, `min_frequency`
/// and `drop='first'`): a Data error each, never a panic or a model.
#[test]
fn malformed_categories_are_data_errors() {
    let file = "onehot_infrequent_min_freq_drop_first.p4.pkl";
    let good = Model::from_document(&fixture("1.3", file)).unwrap();
    let b = Batch::from_columns(vec![
        Column::from(&[Some("red"), Some("mauve"), None][..]),
        Column::from(&[Some("S"), Some("XL"), Some("XXL")][..]),
    ])
    .unwrap();
    let m = good.transform_batch(&b).unwrap();
    assert_eq!((m.n_rows, m.n_cols), (3, good.n_features_out().unwrap()));
    assert_eq!(good.text_features(), [true, true]);
    // A number for a string feature, a string for the numeric input of
    // row-major slices: errors naming row and feature.
    let e = good.transform(&[f64::NAN, 1.0], 1).unwrap_err();
    assert!(e.to_string().contains("(row 0, feature 1)"), "{e}");

    type Damage = fn(&mut Document) -> Value;
    let cases: [(&str, &str, Damage); 14] = [
        ("categories_", "not a list", |_| Value::Int(3)),
        ("categories_", "for 2 features", |d| {
            let a = array_value(d, "<U3", vec![1], utf32(&["red"], 3));
            d.list([a])
        }),
        ("categories_", "not 1-D", |d| {
            let a = array_value(d, "<U1", vec![1, 2], utf32(&["a", "b"], 1));
            let s = array_value(d, "<U1", vec![1], utf32(&["S"], 1));
            d.list([a, s])
        }),
        ("categories_", "twice", |d| {
            let a = array_value(d, "<U1", vec![2], utf32(&["a", "a"], 1));
            let s = array_value(d, "<U1", vec![1], utf32(&["S"], 1));
            d.list([a, s])
        }),
        ("categories_", "not sorted", |d| {
            let a = array_value(d, "<f8", vec![2], f8(&[2.0, 1.0]));
            let s = array_value(d, "<U1", vec![1], utf32(&["S"], 1));
            d.list([a, s])
        }),
        ("categories_", "NaN only last", |d| {
            let a = array_value(d, "<f8", vec![2], f8(&[f64::NAN, 1.0]));
            let s = array_value(d, "<U1", vec![1], utf32(&["S"], 1));
            d.list([a, s])
        }),
        ("categories_", "categories_[1]", |d| {
            let a = array_value(d, "<U1", vec![1], utf32(&["a"], 1));
            let s = d.str("S");
            d.list([a, s])
        }),
        (
            "_default_to_infrequent_mappings",
            "_default_to_infrequent_mappings",
            |_| Value::Int(0),
        ),
        ("_default_to_infrequent_mappings", "for 2 features", |d| {
            d.list([])
        }),
        (
            "_default_to_infrequent_mappings",
            "infrequent mapping",
            |d| {
                let a = array_value(d, "<f8", vec![2], f8(&[0.0, 1.0]));
                d.list([a, a])
            },
        ),
        ("_infrequent_indices", "not both", |d| {
            d.list([Value::None, Value::None])
        }),
        (
            "_drop_idx_after_grouping",
            "_drop_idx_after_grouping",
            |d| array_value(d, "<f8", vec![2], f8(&[99.0, 0.0])),
        ),
        ("_n_features_outs", "_n_features_outs", |d| {
            d.list([Value::Int(1), Value::Int(1)])
        }),
        ("drop_idx_", "drop_idx_", |d| {
            array_value(d, "<f8", vec![2], f8(&[-1.0, 0.0]))
        }),
    ];
    for (key, word, damage) in cases {
        let mut doc = fixture("1.3", file);
        let state = doc.root().state().unwrap().value();
        let v = damage(&mut doc);
        let k = doc.str(key);
        doc.dict_push(state, k, v);
        let e = Model::from_document(&doc).unwrap_err();
        assert_eq!(e.category(), Category::Data, "{key}: {e}");
        assert!(e.to_string().contains(word), "{key}: {e}");
    }
    // Infrequent categories enabled, but not pickled.
    let mut doc = fixture("1.3", "ordinal_infrequent_nan_unknown.p4.pkl");
    assert!(Model::from_document(&doc).is_ok());
    let state = doc.root().state().unwrap().value();
    let k = doc.str("_infrequent_indices");
    doc.dict_push(state, k, Value::None);
    let e = Model::from_document(&doc).unwrap_err();
    assert_eq!(e.category(), Category::Data, "{e}");
}

/// `handle_unknown='error'`: an unseen string is an error naming its row
/// and feature, where the pickled 'ignore' encodes it as zeros (and an
/// `OrdinalEncoder`'s 'use_encoded_value' as `unknown_value`).
#[test]
fn unknown_strings_are_errors_where_handle_unknown_says_so() {
    let b = Batch::from_columns(vec![
        Column::from(vec![Some("red"), Some("violet"), None]),
        Column::from(vec!["S", "M", "L"]),
    ])
    .unwrap();
    for file in [
        "onehot_str_numpy_drop_first.p4.pkl",
        "ordinal_str_encoded.p4.pkl",
    ] {
        let mut doc = fixture("1.7", file);
        let m = Model::from_document(&doc).unwrap();
        let t = m.transform_batch(&b).unwrap();
        assert_eq!(t.n_rows, 3, "{file}");
        if file.starts_with("ordinal") {
            // unknown_value=-1, encoded_missing_value=-2
            assert_eq!((t.data[2], t.data[4]), (-1.0, -2.0), "{file}");
        }
        let state = doc.root().state().unwrap().value();
        let (k, v) = (doc.str("handle_unknown"), doc.str("error"));
        doc.dict_push(state, k, v);
        let strict = Model::from_document(&doc).unwrap();
        let e = strict.transform_batch(&b).unwrap_err();
        assert_eq!(e.category(), Category::Data, "{file}: {e}");
        assert!(
            e.to_string().contains("'violet' (row 1, feature 0)"),
            "{file}: {e}"
        );
        // A missing cell where NaN was never seen is unknown too.
        let only_missing = b.rows(2, 3);
        let e = strict.transform_batch(&only_missing);
        let cats = match &m {
            Model::OneHotEncoder(e) => e.categories(),
            Model::OrdinalEncoder(e) => e.categories(),
            _ => panic!("{file}: an encoder"),
        };
        let saw_nan = cats.per_feature()[0].nan_index().is_some();
        assert!(saw_nan, "{file}: the colours had missing values at fit");
        assert_eq!(e.is_ok(), saw_nan, "{file}: {e:?}");
    }
}
