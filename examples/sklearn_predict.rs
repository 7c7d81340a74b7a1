//! Train scikit-learn models in Python, pickle them, and predict in Rust.
//!
//! ```text
//! pip install numpy scikit-learn
//! cargo run --example sklearn_predict
//! ```
//!
//! A fitted estimator is an object whose BUILD state is its `__dict__`, so a
//! `#[derive(Deserialize)]` struct with the fitted attributes reads it; numpy
//! arrays deserialize into [`NdArray`] and numpy scalars into plain numbers.
//! A `Pipeline` keeps its steps as `(name, estimator)` tuples: load the
//! document once and deserialize each step with `from_value_ref`.
//! Without python3 and scikit-learn the example prints why and exits 0.

use pickle_codec::numpy::NdArray;
use serde::Deserialize;

const TRAIN: &str = r#"
import json, pickle, sys
import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
out = sys.argv[1]
X = np.array([[(i * 7 % 11) / 11, (i * 5 % 13) / 13 - 0.5, (i % 4) * 0.25] for i in range(40)])
y = X @ np.array([0.5, -1.2, 0.8]) + 2.1 + np.sin(np.arange(40)) * 0.01
labels = (y > np.median(y)).astype(int)
Xt = X[:6] * 1.1 - 0.05
lr = LinearRegression().fit(X, y)
pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
open(out + "/linreg.pkl", "wb").write(pickle.dumps(lr, 4))
open(out + "/pipeline.pkl", "wb").write(pickle.dumps(pipe, 5))
print(json.dumps({"X": Xt.tolist(), "linreg": lr.predict(Xt).tolist(), "pipeline": pipe.predict_proba(Xt)[:, 1].tolist()}))
"#;

/// `sklearn.linear_model.LinearRegression` fitted on a 1-D target.
#[derive(Deserialize)]
struct LinearRegression {
    coef_: NdArray<'static>,
    intercept_: f64,
}

/// `sklearn.preprocessing.StandardScaler`.
#[derive(Deserialize)]
struct StandardScaler {
    mean_: Option<NdArray<'static>>,
    scale_: Option<NdArray<'static>>,
}

/// `sklearn.linear_model.LogisticRegression` (binary).
#[derive(Deserialize)]
struct LogisticRegression {
    coef_: NdArray<'static>,
    intercept_: NdArray<'static>,
}

#[derive(Deserialize)]
struct Expected {
    #[serde(rename = "X")]
    x: Vec<Vec<f64>>,
    linreg: Vec<f64>,
    pipeline: Vec<f64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("sklearn-predict-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let out =
        match std::process::Command::new("python3")
            .arg("-c")
            .arg(TRAIN)
            .arg(&dir)
            .output()
        {
            Ok(o) if o.status.success() => o,
            Ok(o) => {
                println!(
                "skipped: python3 could not train the models (pip install numpy scikit-learn):\n{}",
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
            );
                return Ok(());
            }
            Err(e) => {
                println!("skipped: python3 not found ({e})");
                return Ok(());
            }
        };
    let want: Expected = serde_json::from_slice(&out.stdout)?;

    // LinearRegression: y = X @ coef_ + intercept_.
    let data = std::fs::read(dir.join("linreg.pkl"))?;
    let lr: LinearRegression = pickle_codec::from_slice(&data)?;
    let coef = lr.coef_.to_vec::<f64>()?;
    for (row, py) in want.x.iter().zip(&want.linreg) {
        let rust: f64 = row.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>() + lr.intercept_;
        println!("linreg   python {py:.17} rust {rust:.17}");
        assert!(
            (rust - py).abs() <= 1e-12,
            "LinearRegression differs: {rust} vs {py}"
        );
    }

    // Pipeline(StandardScaler, LogisticRegression): P(y=1) = sigmoid(((X - mean) / scale) @ coef + b).
    let data = std::fs::read(dir.join("pipeline.pkl"))?;
    let doc = pickle_codec::loads(&data)?;
    let steps: Vec<_> = doc.root().get("steps").ok_or("no steps")?.iter().collect();
    let scaler: StandardScaler = pickle_codec::from_value_ref(steps[0].index(1).ok_or("step 0")?)?;
    let logit: LogisticRegression =
        pickle_codec::from_value_ref(steps[1].index(1).ok_or("step 1")?)?;
    let mean = scaler.mean_.ok_or("no mean_")?.to_vec::<f64>()?;
    let scale = scaler.scale_.ok_or("no scale_")?.to_vec::<f64>()?;
    let w = logit.coef_.to_vec::<f64>()?;
    let b = logit.intercept_.to_vec::<f64>()?[0];
    for (row, py) in want.x.iter().zip(&want.pipeline) {
        let z: f64 = row
            .iter()
            .enumerate()
            .map(|(i, v)| (v - mean[i]) / scale[i] * w[i])
            .sum::<f64>()
            + b;
        let rust = 1.0 / (1.0 + (-z).exp());
        println!("pipeline python {py:.17} rust {rust:.17}");
        assert!(
            (rust - py).abs() <= 1e-12,
            "Pipeline differs: {rust} vs {py}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("all predictions equal Python's to 1e-12");
    Ok(())
}
