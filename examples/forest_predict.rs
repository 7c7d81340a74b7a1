//! A scikit-learn RandomForestClassifier trained in Python, predicting in Rust.
//!
//! ```text
//! pip install numpy scikit-learn joblib
//! cargo run --features sklearn --example forest_predict
//! ```
//!
//! python3 trains the forest of the README (string labels, missing values
//! in training and prediction), saves it with `joblib.dump`, and prints
//! its `predict` and `predict_proba` on rows it was not trained on;
//! `sklearn::Model::load_path` reads the file and predicts the same
//! classes and the same probabilities (to 1e-12). Without python3 and
//! scikit-learn the example prints why and exits 0.

use pickle_codec::sklearn::{Label, Model, Predictions};

const TRAIN: &str = r#"
import json, sys
import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
rng = np.random.RandomState(0)
X = rng.normal(size=(300, 4))
y = np.where(X[:, 0] + X[:, 1] ** 2 > 1, "high", np.where(X[:, 2] > 0, "mid", "low"))
X[rng.rand(300, 4) < 0.05] = np.nan
forest = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(X, y)
joblib.dump(forest, sys.argv[1])
Xt = np.random.RandomState(1).normal(size=(8, 4))
Xt[2, 1] = np.nan
print(json.dumps({"X": [[repr(v) for v in r] for r in Xt.tolist()],
                  "predict": forest.predict(Xt).tolist(),
                  "proba": forest.predict_proba(Xt).tolist()}))
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("forest-{}.joblib", std::process::id()));
    let out = match std::process::Command::new("python3")
        .arg("-c")
        .arg(TRAIN)
        .arg(&path)
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!(
                "skipped: python3 could not train the forest (pip install numpy scikit-learn joblib):\n{}",
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
            );
            return Ok(());
        }
        Err(e) => {
            println!("skipped: python3 not found ({e})");
            return Ok(());
        }
    };
    let want: serde_json::Value = serde_json::from_slice(&out.stdout)?;

    let model = Model::load_path(&path)?;
    let _ = std::fs::remove_file(&path);
    println!(
        "{} from scikit-learn {}: {} features, classes {:?}",
        model.estimator_name(),
        model.sklearn_version(),
        model.n_features(),
        model.classes()
    );

    // Row-major input; NaN is a missing value.
    let rows = want["X"].as_array().ok_or("X")?;
    let x: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.as_array().into_iter().flatten())
        .map(|v| v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN))
        .collect();
    let n = rows.len();

    let Predictions::Labels(labels) = model.predict(&x, n)? else {
        return Err("a classifier predicts labels".into());
    };
    let proba = model.predict_proba(&x, n)?;
    for (i, label) in labels.labels.iter().enumerate() {
        let Label::Str(got) = label else {
            return Err("string labels expected".into());
        };
        let py = want["predict"][i].as_str().ok_or("predict")?;
        println!(
            "row {i}: rust {got:5} python {py:5}  p = {:.4?}",
            proba.row(i).unwrap_or(&[])
        );
        assert_eq!(got, py, "the forest's class differs from scikit-learn's");
        for (j, p) in proba.row(i).unwrap_or(&[]).iter().enumerate() {
            let py = want["proba"][i][j].as_f64().ok_or("proba")?;
            assert!((p - py).abs() <= 1e-12, "probability differs: {p} vs {py}");
        }
    }
    println!("every class and probability equals scikit-learn's");
    Ok(())
}
