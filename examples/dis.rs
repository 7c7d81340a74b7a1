//! Disassemble a pickle file like `python3 -m pickletools [-a] FILE`.
//!
//!     cargo run --release --example dis -- [-a] FILE
use std::io::Write;

fn main() {
    let mut opts = pickle_codec::dis::DisOptions::default();
    let mut path = None;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "-a" => opts = opts.annotate(true),
            "-m" => opts = opts.memo(true),
            _ => path = Some(a),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: dis [-a] [-m] FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("error: {path}: {e}");
        std::process::exit(1)
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = pickle_codec::dis::disassemble(&data, &mut out, &opts) {
        let _ = out.flush();
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
