//! Quickstart: save a model's parameters as a pickle, load them back, and
//! check that Python reads the same thing (and that we read what Python writes).
//!
//! Run with `cargo run --release --example quickstart`.

use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::{Command, ExitCode};

use pickle_codec::{dump, load, loads, Document, DEFAULT_PROTOCOL};

const PATH: &str = "model_params.pkl";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    // 1. Build {"feature_scaling": "standard", "coefficients": [0.5, -1.2, 0.8], "intercept": 2.1}.
    let mut params = Document::new();
    let scaling = params.str("standard");
    let coefficients = params.list([0.5.into(), (-1.2).into(), 0.8.into()]);
    let root = params.dict_str([
        ("feature_scaling", scaling),
        ("coefficients", coefficients),
        ("intercept", 2.1.into()),
    ]);
    params.set_root(root);

    // 2. Save it, as pickle.dump(params, f, protocol=4) would.
    let mut file = BufWriter::new(File::create(PATH)?);
    dump(&mut file, &params, DEFAULT_PROTOCOL)?;
    file.flush()?;
    drop(file);
    println!(
        "saved {PATH} ({} bytes, protocol {DEFAULT_PROTOCOL})",
        std::fs::metadata(PATH)?.len()
    );

    // 3. Load it back and compare.
    let loaded = load(BufReader::new(File::open(PATH)?))?;
    assert!(
        loaded == params,
        "the loaded document differs from the saved one"
    );
    let root = loaded.root();
    println!("loaded back: {root}");
    println!(
        "  feature_scaling = {:?}, intercept = {:?}, coefficients = {:?}",
        root.get("feature_scaling").and_then(|v| v.as_str()),
        root.get("intercept").and_then(|v| v.as_f64()),
        root.get("coefficients")
            .map(|c| c.iter().filter_map(|v| v.as_f64()).collect::<Vec<_>>()),
    );
    println!("  equal to what was saved: yes");

    // 4. Python reads the same values.
    let python_reads = "import pickle; print(pickle.load(open('model_params.pkl','rb')))";
    match Command::new("python3").args(["-c", python_reads]).output() {
        Err(e) => {
            println!("python3 not available ({e}): skipping the check that Python reads the file")
        }
        Ok(out) if !out.status.success() => {
            return Err(format!(
                "python3 could not read {PATH}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into())
        }
        Ok(out) => {
            let printed = String::from_utf8_lossy(&out.stdout);
            println!("python3 reads:  {}", printed.trim());
            let expected = "{'feature_scaling': 'standard', 'coefficients': [0.5, -1.2, 0.8], 'intercept': 2.1}";
            if printed.trim() != expected {
                return Err(format!("python3 printed {printed:?}, expected {expected:?}").into());
            }
            println!("  same values as in Rust: yes");
        }
    }

    // 5. Read a pickle that Python writes (protocol 5, with a tuple, bytes,
    //    a set, a big int and a shared sub-list).
    let python_writes = "import pickle, sys\n\
        shared = [1, 2]\n\
        v = {'name': 'model', 'version': (1, 2), 'blob': b'\\x00\\x01', 'tags': {'a'}, \
        'big': 2**100, 'x': shared, 'y': shared}\n\
        sys.stdout.buffer.write(pickle.dumps(v, protocol=5))";
    match Command::new("python3").args(["-c", python_writes]).output() {
        Err(e) => println!("python3 not available ({e}): skipping reading a pickle Python writes"),
        Ok(out) if !out.status.success() => {
            return Err(format!(
                "python3 failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into())
        }
        Ok(out) => {
            let doc = loads(&out.stdout)?;
            let root = doc.root();
            println!(
                "read {} bytes that python3 pickled: {root}",
                out.stdout.len()
            );
            let (x, y) = (root.get("x"), root.get("y"));
            let shared = matches!((x, y), (Some(x), Some(y)) if x.value() == y.value());
            println!(
                "  'x' and 'y' are the same list (sharing kept): {}",
                if shared { "yes" } else { "no" }
            );
            if !shared {
                return Err("sharing was lost".into());
            }
        }
    }
    Ok(())
}
