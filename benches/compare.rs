//! Rust side of the CPython comparison (run by `benches/compare.py`):
//! writes each workload's pickle, times load/dump medians, prints JSON.
//!
//!     cargo bench --bench compare -- --out DIR [--smoke] [--reps N]

mod workloads;

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

fn median(mut f: impl FnMut(), reps: usize) -> f64 {
    f(); // warm up
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[t.len() / 2]
}

/// `--peak FILE MODE`: load FILE once (MODE `read`: only read it; `value`:
/// to a Document; `typed`: to the workload's Rust type, named by the file)
/// and exit, so that `benches/compare.py` can take the process's peak memory.
fn peak(file: &str, mode: &str) {
    let data = fs::read(file).unwrap();
    match mode {
        "read" => {}
        "value" => drop(std::hint::black_box(pickle_codec::loads(&data).unwrap())),
        "typed" => {
            let name = std::path::Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy();
            workloads::load_typed_named(name.split('.').next().unwrap(), &data);
        }
        _ => panic!("--peak FILE read|value|typed"),
    }
    drop(std::hint::black_box(data));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--peak") {
        return peak(&args[i + 1], &args[i + 2]);
    }
    let mut out = PathBuf::from("target/bench-data");
    let mut scale = 1;
    let mut reps = 11;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--out" => {
                out = PathBuf::from(&args[i + 1]);
                i += 1;
            }
            "--smoke" => scale = 100,
            "--reps" => {
                reps = args[i + 1].parse().expect("--reps N");
                i += 1;
            }
            _ => {} // cargo bench passes --bench
        }
        i += 1;
    }
    fs::create_dir_all(&out).unwrap();
    let mut rows = Vec::new();
    workloads::each(scale, |w| {
        for &p in w.protocols {
            let data = pickle_codec::dumps(&w.doc, p).unwrap();
            let file = out.join(format!("{}.p{p}.pkl", w.name));
            fs::write(&file, &data).unwrap();
            let load_value = median(
                || drop(std::hint::black_box(pickle_codec::loads(&data).unwrap())),
                reps,
            );
            let load_reader = median(
                || {
                    let f = std::io::BufReader::new(fs::File::open(&file).unwrap());
                    drop(std::hint::black_box(pickle_codec::load(f).unwrap()))
                },
                reps,
            );
            let doc = pickle_codec::loads(&data).unwrap();
            let dump_value = median(
                || drop(std::hint::black_box(pickle_codec::dumps(&doc, p).unwrap())),
                reps,
            );
            let (load_typed, dump_typed) = match &w.typed {
                workloads::Typed::None => (None, None),
                _ => (
                    Some(median(|| workloads::load_typed(&w, &data), reps)),
                    Some(median(
                        || drop(std::hint::black_box(workloads::dump_typed(&w, p))),
                        reps,
                    )),
                ),
            };
            let borrow = matches!(w.typed, workloads::Typed::Bytes(_)).then(|| {
                median(
                    || {
                        std::hint::black_box(pickle_codec::from_slice::<&[u8]>(&data).unwrap());
                    },
                    reps,
                )
            });
            let memcpy = matches!(w.typed, workloads::Typed::Bytes(_))
                .then(|| median(|| drop(std::hint::black_box(data.to_vec())), reps));
            let opt = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{v:.4}"));
            rows.push(format!(
                "{{\"workload\":\"{}\",\"protocol\":{p},\"file\":{:?},\"bytes\":{},\"load_value\":{load_value:.4},\"load_reader\":{load_reader:.4},\"load_typed\":{},\"dump_value\":{dump_value:.4},\"dump_typed\":{},\"borrow\":{},\"memcpy\":{}}}",
                w.name,
                file.to_string_lossy(),
                data.len(),
                opt(load_typed),
                opt(dump_typed),
                opt(borrow),
                opt(memcpy),
            ));
            eprintln!("{} p{p}: load {load_value:.2} ms", w.name);
        }
    });
    let json = format!("[{}]\n", rows.join(",\n"));
    fs::File::create(out.join("rust.json"))
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    print!("{json}");
}
