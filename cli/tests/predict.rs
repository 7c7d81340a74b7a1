//! `pickle predict` against scikit-learn: python3 trains the models, writes
//! the input CSVs and what pandas writes for scikit-learn's own predictions
//! of the same rows; the command's output must be the same bytes.
//!
//! Byte-identical where scikit-learn's arithmetic is reproducible (the
//! forest's labels and probabilities, the regressor's values, every label).
//! Probabilities that go through a softmax (the multiclass
//! HistGradientBoostingClassifier, the pipeline ending in a multinomial
//! LogisticRegression) are compared as values, to 1e-12: scikit-learn takes
//! them from `np.exp`, which numpy computes with its own SIMD code where the
//! CPU has it (within an ulp of the C library's `exp`, which the library
//! uses), and the LogisticRegression's `X @ coef_` is left to BLAS, whose
//! summation order depends on the CPU (the library computes that dot
//! product as if exactly; see `pickle_codec::sklearn`). So those may differ
//! in the last bit and then print differently (their labels still match
//! byte for byte).
//!
//! Needs python3 with numpy, pandas, joblib and scikit-learn; without them
//! the test is skipped with a printed reason, except in CI (`CI=true`),
//! where that is a failure.

mod common;

use common::pickle;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TRAIN: &str = r#"
import pickle, sys
import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import (GradientBoostingRegressor, HistGradientBoostingClassifier,
                              RandomForestClassifier)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
def expect(name, frame):
    with open(f"{out}/{name}", "w", newline="") as f:
        f.write(frame.to_csv(index=False))

rng = np.random.RandomState(7)

# A forest with string labels (one holds a comma, one a quote) on a DataFrame
# whose feature names need quoting; compressed joblib.
names = ["sepal, length", 'width "cm"', "c"]
X = pd.DataFrame(rng.normal(size=(400, 3)), columns=names)
X.iloc[rng.rand(400) < 0.05, 1] = np.nan
y = np.where(X.iloc[:, 0] > 0.3, "high", np.where(X.iloc[:, 2] > 0, "mid, low", 'q"uote'))
rf = RandomForestClassifier(n_estimators=30, max_depth=7, random_state=1).fit(X, y)
joblib.dump(rf, f"{out}/rf.joblib", compress=3)
Xt = pd.DataFrame(rng.normal(size=(60, 3)) * 1.5, columns=names)
Xt.iloc[3, 0] = np.nan
Xt.iloc[10, 2] = np.nan
inp = Xt[["c", names[0], names[1]]].copy()
inp.insert(1, "id", [f"row {i}" for i in range(len(inp))])
with open(f"{out}/rf.csv", "w", newline="") as f:
    f.write(inp.to_csv(index=False, lineterminator="\r\n"))
Xr = pd.read_csv(f"{out}/rf.csv")[rf.feature_names_in_]
expect("rf.predict.csv", pd.DataFrame({"prediction": rf.predict(Xr)}))
expect("rf.proba.csv", pd.DataFrame(rf.predict_proba(Xr), columns=rf.classes_))

# Gradient boosting regression without feature names; plain pickle.
X = rng.normal(size=(300, 4))
y = X[:, 0] * 3 + np.sin(X[:, 1]) + 0.1 * rng.normal(size=300)
gbr = GradientBoostingRegressor(n_estimators=40, max_depth=3, learning_rate=0.2, random_state=0).fit(X, y)
with open(f"{out}/gbr.pkl", "wb") as f:
    pickle.dump(gbr, f)
Xt = rng.normal(size=(50, 4)) * 2
with open(f"{out}/gbr.csv", "w", newline="") as f:
    f.write(pd.DataFrame(Xt, columns=["a", "b", "c", "d"]).to_csv(index=False))
Xr = pd.read_csv(f"{out}/gbr.csv").to_numpy()
expect("gbr.predict.csv", pd.DataFrame({"prediction": gbr.predict(Xr)}))

# Histogram gradient boosting, three int classes, NaN in training and input.
X = rng.normal(size=(500, 3))
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
X[rng.rand(500, 3) < 0.1] = np.nan
hgb = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
joblib.dump(hgb, f"{out}/hgb.joblib")
Xt = rng.normal(size=(40, 3))
Xt[rng.rand(40, 3) < 0.2] = np.nan
with open(f"{out}/hgb.csv", "w", newline="") as f:
    f.write(pd.DataFrame(Xt, columns=["f0", "f1", "f2"]).to_csv(index=False))
Xr = pd.read_csv(f"{out}/hgb.csv").to_numpy()
expect("hgb.predict.csv", pd.DataFrame({"prediction": hgb.predict(Xr)}))
expect("hgb.proba.csv", pd.DataFrame(hgb.predict_proba(Xr), columns=hgb.classes_))

# A pipeline: StandardScaler then a multiclass LogisticRegression.
X = rng.normal(size=(300, 5)) * [1, 10, 0.1, 3, 1] + [0, 5, 0, -2, 1]
y = np.argmax(X[:, :4] * [1, 0.1, 10, 0.3], axis=1)
pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
joblib.dump(pipe, f"{out}/pipe.joblib")
Xt = rng.normal(size=(30, 5)) * [1, 10, 0.1, 3, 1] + [0, 5, 0, -2, 1]
with open(f"{out}/pipe.csv", "w", newline="") as f:
    f.write(pd.DataFrame(Xt, columns=[f"x{i}" for i in range(5)]).to_csv(index=False))
Xr = pd.read_csv(f"{out}/pipe.csv").to_numpy()
expect("pipe.predict.csv", pd.DataFrame({"prediction": pipe.predict(Xr)}))
expect("pipe.proba.csv", pd.DataFrame(pipe.predict_proba(Xr), columns=pipe.classes_))

# String categories: a pipeline of a OneHotEncoder (infrequent categories
# grouped, unknown ones too) and a LogisticRegression on two text columns
# and a number, and HistGradientBoosting on pandas category columns of
# strings; the input has unseen strings and empty cells, and a column of
# digits that is text to the model.
from sklearn.preprocessing import OneHotEncoder
from sklearn.compose import make_column_transformer
colours = np.array(["red", "green", "blue", "teal, dark", "plum"], dtype=object)
n = 300
X = pd.DataFrame({
    "colour": colours[rng.choice(5, n, p=[0.4, 0.3, 0.2, 0.06, 0.04])],
    "x": rng.normal(size=n),
    "code": np.array(["10", "20", "30"], dtype=object)[rng.randint(0, 3, n)],
})
X.loc[rng.rand(n) < 0.05, "colour"] = np.nan
y = np.where(X["colour"].isin(["red", "plum"]) ^ (X["x"] > 0), "yes", "no")
enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=15)
cats = make_pipeline(enc, LogisticRegression(max_iter=500)).fit(X[["colour", "code"]], y)
joblib.dump(cats, f"{out}/cats.joblib")
Xc = X.copy()
for c in ("colour", "code"):
    Xc[c] = pd.Categorical(Xc[c])
hgbc = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=20, random_state=0).fit(Xc, y)
joblib.dump(hgbc, f"{out}/hgbc.joblib")
Xt = pd.DataFrame({
    "code": np.array(["10", "20", "30", "40"], dtype=object)[rng.randint(0, 4, 40)],
    "x": rng.normal(size=40),
    "colour": np.array(["red", "green", "blue", "teal, dark", "plum", "mauve"], dtype=object)[rng.randint(0, 6, 40)],
})
Xt.loc[[2, 9, 17], "colour"] = np.nan
with open(f"{out}/cats.csv", "w", newline="") as f:
    f.write(Xt.to_csv(index=False))
Xr = pd.read_csv(f"{out}/cats.csv", dtype={"code": str, "colour": object})
expect("cats.predict.csv", pd.DataFrame({"prediction": cats.predict(Xr[["colour", "code"]])}))
expect("cats.proba.csv", pd.DataFrame(cats.predict_proba(Xr[["colour", "code"]]), columns=cats.classes_))
Xh = Xr[list(hgbc.feature_names_in_)].copy()
for c in ("colour", "code"):
    Xh[c] = pd.Categorical(Xh[c])
strict = make_pipeline(OneHotEncoder(), LogisticRegression()).fit(X[["colour", "code"]].fillna("none"), y)
joblib.dump(strict, f"{out}/strict.joblib")
expect("hgbc.predict.csv", pd.DataFrame({"prediction": hgbc.predict(Xh)}))
expect("hgbc.proba.csv", pd.DataFrame(hgbc.predict_proba(Xh), columns=hgbc.classes_))
"#;

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("pickle-cli-predict-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.0.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Whether python3 with numpy, pandas, joblib and scikit-learn is here;
/// without them the test is skipped, but not in CI (`CI=true`).
fn python_ready() -> bool {
    let out = Command::new("python3")
        .args(["-c", "import numpy, pandas, joblib, sklearn"])
        .output();
    let why = match out {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string(),
        Err(e) => format!("python3 not found ({e})"),
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the predict test needs python3 with numpy, pandas, joblib and scikit-learn in CI (CI=true): {why}");
    }
    eprintln!(
        "SKIPPED pickle predict against scikit-learn: python3 with numpy, pandas, joblib and \
         scikit-learn not found ({why}); set CI=true to make this a failure"
    );
    false
}

/// Train the models with python3 into `dir` (a failure here is the test's).
fn train(dir: &Path) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(TRAIN)
        .arg(dir)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3 could not train the models:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "pickle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A failure: exit status 1, one `error:` line that contains each of `want`.
fn fails(out: Output, want: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for w in want {
        assert!(err.contains(w), "{err:?} lacks {w:?}");
    }
}

fn same_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what}: differs from pandas' CSV\n--- pickle predict\n{}\n--- python\n{}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}

/// The same header and lines, each cell the same text or a float within 1e-12.
fn same_values(got: &[u8], want: &[u8], what: &str) {
    let got = String::from_utf8(got.to_vec()).unwrap();
    let want = String::from_utf8(want.to_vec()).unwrap();
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    assert_eq!(g.len(), w.len(), "{what}: line count");
    assert_eq!(g[0], w[0], "{what}: header");
    assert!(got.ends_with('\n'), "{what}: last line end");
    for (i, (gl, wl)) in g.iter().zip(&w).enumerate().skip(1) {
        let (gc, wc): (Vec<&str>, Vec<&str>) = (gl.split(',').collect(), wl.split(',').collect());
        assert_eq!(gc.len(), wc.len(), "{what}: line {}", i + 1);
        for (a, b) in gc.iter().zip(&wc) {
            if a != b {
                let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                assert!((x - y).abs() <= 1e-12, "{what}: line {}: {a} vs {b}", i + 1);
            }
        }
    }
}

#[test]
fn predictions_match_scikit_learn() {
    if !python_ready() {
        return;
    }
    let dir = Scratch::new();
    train(&dir.0);
    let p = |n: &str| dir.path(n);

    // The forest: a compressed joblib file, columns by name out of order
    // (quoted, CRLF lines), an extra column left out with a note, a missing cell.
    let out = ok(pickle(&["predict", &p("rf.joblib"), &p("rf.csv")], None));
    same_bytes(&out.stdout, &dir.read("rf.predict.csv"), "rf predict");
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.starts_with("note: ") && note.contains("'id'"),
        "{note}"
    );
    ok(pickle(
        &[
            "predict",
            &p("rf.joblib"),
            &p("rf.csv"),
            "--proba",
            "-o",
            &p("rf.proba.out"),
        ],
        None,
    ));
    same_bytes(
        &dir.read("rf.proba.out"),
        &dir.read("rf.proba.csv"),
        "rf proba",
    );

    // The regressor, by position, from stdin to stdout (`-o -`).
    let csv = dir.read("gbr.csv");
    let out = ok(pickle(
        &["predict", &p("gbr.pkl"), "-", "-o", "-"],
        Some(&csv),
    ));
    same_bytes(&out.stdout, &dir.read("gbr.predict.csv"), "gbr predict");
    // ... and the model from stdin.
    let model = dir.read("gbr.pkl");
    let out = ok(pickle(&["predict", "-", &p("gbr.csv")], Some(&model)));
    same_bytes(
        &out.stdout,
        &dir.read("gbr.predict.csv"),
        "gbr predict (model on stdin)",
    );

    // Histogram boosting with missing values, to a file.
    ok(pickle(
        &[
            "predict",
            &p("hgb.joblib"),
            &p("hgb.csv"),
            "-o",
            &p("hgb.out"),
        ],
        None,
    ));
    same_bytes(
        &dir.read("hgb.out"),
        &dir.read("hgb.predict.csv"),
        "hgb predict",
    );
    let csv = dir.read("hgb.csv");
    let out = ok(pickle(
        &["predict", &p("hgb.joblib"), "-", "--proba"],
        Some(&csv),
    ));
    // Softmax through np.exp: see the top of this file.
    same_values(&out.stdout, &dir.read("hgb.proba.csv"), "hgb proba");

    // The pipeline: labels byte for byte, probabilities to 1e-12 (np.exp, BLAS).
    let out = ok(pickle(
        &["predict", &p("pipe.joblib"), &p("pipe.csv")],
        None,
    ));
    same_bytes(&out.stdout, &dir.read("pipe.predict.csv"), "pipe predict");
    let out = ok(pickle(
        &["predict", &p("pipe.joblib"), &p("pipe.csv"), "--proba"],
        None,
    ));
    same_values(&out.stdout, &dir.read("pipe.proba.csv"), "pipe proba");

    // String categories: text cells (a comma inside a quoted one, digits
    // kept as text), unseen strings and empty cells.
    let out = ok(pickle(
        &["predict", &p("cats.joblib"), &p("cats.csv")],
        None,
    ));
    same_bytes(&out.stdout, &dir.read("cats.predict.csv"), "cats predict");
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("'x'"), "{note}");
    let out = ok(pickle(
        &["predict", &p("cats.joblib"), &p("cats.csv"), "--proba"],
        None,
    ));
    same_values(&out.stdout, &dir.read("cats.proba.csv"), "cats proba");
    let out = ok(pickle(
        &["predict", &p("hgbc.joblib"), &p("cats.csv")],
        None,
    ));
    same_bytes(&out.stdout, &dir.read("hgbc.predict.csv"), "hgbc predict");
    let out = ok(pickle(
        &["predict", &p("hgbc.joblib"), &p("cats.csv"), "--proba"],
        None,
    ));
    same_bytes(&out.stdout, &dir.read("hgbc.proba.csv"), "hgbc proba");
    // The numeric feature of that model still takes numbers only.
    fails(
        pickle(
            &["predict", &p("hgbc.joblib"), "-"],
            Some(b"colour,x,code\nred,1.5,10\nred,big,10\n"),
        ),
        &["line 3 (row 2), column 2 ('x')", "'big'"],
    );

    // An unseen string where handle_unknown='error': named by line, row and column.
    fails(
        pickle(
            &["predict", &p("strict.joblib"), "-"],
            Some(b"code,colour\n10,red\n20,mauve\n"),
        ),
        &[
            "line 3 (row 2)",
            "found unknown category 'mauve' (column 2, 'colour')",
        ],
    );

    // Errors, each leaving an existing output as it was.
    let keep = p("keep.csv");
    fs::write(&keep, b"untouched\n").unwrap();
    let run_to_keep = |model: &str, csv: &[u8], extra: &[&str]| {
        let mut args = vec!["predict", model, "-", "-o", &keep];
        args.extend_from_slice(extra);
        let out = pickle(&args, Some(csv));
        assert_eq!(fs::read(&keep).unwrap(), b"untouched\n");
        out
    };
    fails(
        run_to_keep(&p("gbr.pkl"), b"a,b,c,d\n1,2,3,4\n1,2,x y,4\n", &[]),
        &["line 3 (row 2), column 3 ('c')", "'x y'"],
    );
    fails(
        run_to_keep(&p("rf.joblib"), b"c,id\n1,2\n", &[]),
        &[
            "lacks 2 of the model's features",
            "'sepal, length'",
            "'width \"cm\"'",
        ],
    );
    // A value the estimator refuses (scikit-learn's check_array): named by
    // its line, row and column, though scored in batches.
    fails(
        run_to_keep(&p("gbr.pkl"), b"a,b,c,d\n1,2,3,4\n1,2, inf ,4\n", &[]),
        &["line 3 (row 2)", "input contains inf (column 3, 'c')"],
    );
    fails(
        run_to_keep(&p("gbr.pkl"), b"a,b,c,d\n1,2,3,4\n1,2,3\n", &[]),
        &["line 3 (row 2) has 3 cells, the header has 4"],
    );
    fails(
        run_to_keep(&p("gbr.pkl"), b"a,b,c\n1,2,3\n", &[]),
        &["3 columns", "takes 4"],
    );
    fails(
        run_to_keep(&p("gbr.pkl"), b"a,b,c,d\n1,2,3,4\n", &["--proba"]),
        &["--proba", "GradientBoostingRegressor has no predict_proba"],
    );

    // A header without rows: the output's header alone.
    let out = ok(pickle(
        &["predict", &p("hgb.joblib"), "-"],
        Some(b"f0,f1,f2\n"),
    ));
    assert_eq!(out.stdout, b"prediction\n");
    let out = ok(pickle(
        &["predict", &p("hgb.joblib"), "-", "--proba"],
        Some(b"f0,f1,f2"),
    ));
    assert_eq!(out.stdout, b"0,1,2\n");
}

#[test]
fn help_has_examples() {
    let out = ok(pickle(&["predict", "--help"], None));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Examples:") && help.contains("--proba"),
        "{help}"
    );
}
