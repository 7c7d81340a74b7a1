//! Quickstart: save a model's parameters as a pickle, load them back, check
//! that Python reads the same thing, and read what Python writes.
//!
//! Run with `cargo run --release --example quickstart`.

use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::{Command, ExitCode};

use serde::{Deserialize, Serialize};

const PATH: &str = "model_params.pkl";

/// What the Python side calls `{"feature_scaling": ..., "coefficients": [...], "intercept": ...}`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct ModelParameters {
    feature_scaling: String,
    coefficients: Vec<f64>,
    intercept: f64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn python(script: &str) -> Result<Option<Vec<u8>>, Box<dyn Error>> {
    match Command::new("python3").args(["-c", script]).output() {
        Err(e) => {
            println!("python3 not available ({e}): skipping the Python side");
            Ok(None)
        }
        Ok(out) if !out.status.success() => Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into()),
        Ok(out) => Ok(Some(out.stdout)),
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let params = ModelParameters {
        feature_scaling: "standard".into(),
        coefficients: vec![0.5, -1.2, 0.8],
        intercept: 2.1,
    };

    // 1. Save it, as pickle.dump(params, f) would (protocol 4).
    let mut file = BufWriter::new(File::create(PATH)?);
    pickle_codec::to_writer(&mut file, &params)?;
    file.flush()?;
    drop(file);
    println!("saved {PATH} ({} bytes)", std::fs::metadata(PATH)?.len());

    // 2. Load it back into the struct, and as an inert document.
    let loaded: ModelParameters = pickle_codec::from_reader(BufReader::new(File::open(PATH)?))?;
    assert_eq!(
        loaded, params,
        "the loaded parameters differ from the saved ones"
    );
    println!("loaded back: {loaded:?}");
    let doc = pickle_codec::load(BufReader::new(File::open(PATH)?))?;
    println!("as Python would print it: {}", doc.root());

    // 3. Python reads the same values.
    let expected =
        "{'feature_scaling': 'standard', 'coefficients': [0.5, -1.2, 0.8], 'intercept': 2.1}";
    if let Some(out) = python("import pickle; print(pickle.load(open('model_params.pkl','rb')))")? {
        let printed = String::from_utf8_lossy(&out);
        println!("python3 reads:  {}", printed.trim());
        if printed.trim() != expected {
            return Err(format!("python3 printed {printed:?}, expected {expected:?}").into());
        }
        println!("  same values as in Rust: yes");
    }

    // 4. A file Python writes, read into the struct.
    let script = "import pickle, sys\n\
        p = {'feature_scaling': 'minmax', 'coefficients': [1.5, 2.5], 'intercept': -0.25}\n\
        sys.stdout.buffer.write(pickle.dumps(p, protocol=5))";
    if let Some(bytes) = python(script)? {
        let from_python: ModelParameters = pickle_codec::from_slice(&bytes)?;
        println!("read what python3 pickled: {from_python:?}");
        let want = ModelParameters {
            feature_scaling: "minmax".into(),
            coefficients: vec![1.5, 2.5],
            intercept: -0.25,
        };
        if from_python != want {
            return Err(format!("expected {want:?}").into());
        }
    }

    // 5. Anything Python pickles loads as a document: here a tuple, bytes,
    //    a set, a big int and a list shared twice.
    let script = "import pickle, sys\n\
        shared = [1, 2]\n\
        v = {'name': 'model', 'version': (1, 2), 'blob': b'\\x00\\x01', 'tags': {'a'}, \
        'big': 2**100, 'x': shared, 'y': shared}\n\
        sys.stdout.buffer.write(pickle.dumps(v, protocol=5))";
    if let Some(bytes) = python(script)? {
        let doc = pickle_codec::loads(&bytes)?;
        let root = doc.root();
        println!("read {} bytes that python3 pickled: {root}", bytes.len());
        let shared =
            matches!((root.get("x"), root.get("y")), (Some(x), Some(y)) if x.value() == y.value());
        println!(
            "  'x' and 'y' are the same list (sharing kept): {}",
            if shared { "yes" } else { "no" }
        );
        if !shared {
            return Err("sharing was lost".into());
        }
    }
    Ok(())
}
