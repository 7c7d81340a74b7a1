//! Rust side of the CPython comparison (run by `benches/compare.py`):
//! writes each workload's pickle, times load/dump medians, prints JSON.
//!
//!     cargo bench --bench compare -- --out DIR [--smoke] [--reps N] [--only NAME] [--reverse]
//!         [--write-only | --from-files]
//!
//! `--write-only` writes the pickles and measures nothing; `--from-files`
//! measures the pickles written before without building any workload (as
//! `compare.py` runs it, so that the measuring process starts from the
//! files, as CPython's does).
//! `--only NAME` measures one workload (`compare.py` measures the Rust and
//! the CPython side of each workload one after the other, so that a change
//! of the machine's speed during the run shifts both sides alike).
//! `--reverse` measures the protocols in the opposite order (`compare.py`
//! alternates the order over its rounds: the protocol measured first ran
//! slower, on both sides).
//! `--history N` measures every workload's pickles written before, one
//! workload after the other in one process, as a program that has just
//! handled the others would: no warm-up, the allocator left as it was; each
//! time the median of N calls in a row (the first call's time beside it).

mod workloads;

use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

/// The median of at least `reps` timed runs of `f`, and of as many more as
/// fill `SPAN_MS` (at most `MAX_REPS`), so that a fast load is timed over a
/// span a slow spell of the machine cannot fill; after untimed runs for
/// `WARM_MS` (at least one, at most `MAX_REPS`), so that the allocator has
/// reached the state repeated loads run in (the first few loads of a big
/// list fault in and grow the heap: 6 ms a load for the first ten, then
/// 3.3 ms). `compare.py` times CPython's side alike.
fn median(mut f: impl FnMut(), reps: usize) -> f64 {
    const WARM_MS: f64 = 200.0;
    const SPAN_MS: f64 = 300.0;
    const MAX_REPS: usize = 200;
    let s = Instant::now();
    let mut warm = 0;
    while warm == 0 || (warm < MAX_REPS && s.elapsed().as_secs_f64() * 1e3 < WARM_MS) {
        f();
        warm += 1;
    }
    let each = s.elapsed().as_secs_f64() * 1e3 / warm as f64;
    let reps = reps.max(((SPAN_MS / each.max(1e-3)).ceil() as usize).min(MAX_REPS));
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

/// A workload's pickles: protocol, file, bytes.
type Files = Vec<(u8, PathBuf, Vec<u8>)>;

/// `--peak FILE MODE`: load FILE once (MODE `read`: only read it; `value`:
/// to a Document; `typed`: to the workload's Rust type, named by the file;
/// `file-value` and `file-typed`: the same from the open file, by `load` and
/// `from_reader`, without reading it first) and exit, so that
/// `benches/compare.py` can take the process's peak memory.
fn peak(file: &str, mode: &str) {
    let path = std::path::Path::new(file);
    let name = path.file_name().unwrap().to_string_lossy();
    let name = name.split('.').next().unwrap();
    match mode {
        "file-value" => {
            let f = std::io::BufReader::new(fs::File::open(path).unwrap());
            return drop(std::hint::black_box(pickle_codec::load(f).unwrap()));
        }
        "file-typed" => {
            workloads::load_typed_named(name, workloads::Source::File(path));
            return;
        }
        _ => {}
    }
    let data = fs::read(file).unwrap();
    match mode {
        "read" => {}
        "value" => drop(std::hint::black_box(pickle_codec::loads(&data).unwrap())),
        "typed" => {
            workloads::load_typed_named(name, workloads::Source::Slice(&data));
        }
        _ => panic!("--peak FILE read|value|typed|file-value|file-typed"),
    }
    drop(std::hint::black_box(data));
}

/// Put the C allocator in the state a process that has handled large data
/// is in, for every measurement alike: glibc serves big blocks by mmap and
/// returns freed memory to the system until a freed mmapped block raises its
/// thresholds (to that block's size, at most 32 MiB); after that it keeps
/// freed memory for the next load. Without this, the state a measurement
/// ran in depended on what the harness had allocated before (the first
/// protocol measured of a workload ran up to 3x slower than the second,
/// faulting in every page it touched). `compare.py` does the same in the
/// CPython process.
fn settle_allocator() {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(30 << 20)));
}

/// The pickles `NAME.pP.pkl` of the workload `name` in `out`, by protocol.
fn files_of(out: &std::path::Path, name: &str) -> Vec<(u8, PathBuf)> {
    let mut files: Vec<(u8, PathBuf)> = fs::read_dir(out)
        .unwrap()
        .filter_map(|e| {
            let file = e.unwrap().path();
            let stem = file.file_name()?.to_str()?.strip_suffix(".pkl")?;
            let p = stem.strip_prefix(name)?.strip_prefix(".p")?.parse().ok()?;
            Some((p, file))
        })
        .collect();
    files.sort();
    files
}

/// `--history N`: see the module documentation. One JSON row per file.
fn history(out: &std::path::Path, calls: usize) {
    // The median and the first of `calls` calls of `f` in a row.
    let time = |f: &mut dyn FnMut()| {
        let mut t: Vec<f64> = (0..calls.max(1))
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let first = t[0];
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (t[t.len() / 2], first)
    };
    let mut rows = Vec::new();
    for name in workloads::NAMES {
        for (p, file) in files_of(out, name) {
            let data = fs::read(&file).unwrap();
            let load =
                time(&mut || drop(std::hint::black_box(pickle_codec::loads(&data).unwrap())));
            let doc = pickle_codec::loads(&data).unwrap();
            let dump =
                time(&mut || drop(std::hint::black_box(pickle_codec::dumps(&doc, p).unwrap())));
            drop(doc);
            let src = workloads::Source::Slice(&data);
            let typed_ok = workloads::load_typed_named(name, src);
            let load_typed =
                typed_ok.then(|| time(&mut || assert!(workloads::load_typed_named(name, src))));
            let dump_typed = typed_ok.then(|| {
                let typed = workloads::typed_from(name, src);
                time(&mut || drop(std::hint::black_box(workloads::dump_typed(&typed, p))))
            });
            let pair = |x: Option<(f64, f64)>| {
                x.map_or("null,null".to_string(), |(m, f)| format!("{m:.4},{f:.4}"))
            };
            let (lt, dt) = (pair(load_typed), pair(dump_typed));
            let (lt_m, lt_f) = lt.split_once(',').unwrap();
            let (dt_m, dt_f) = dt.split_once(',').unwrap();
            rows.push(format!(
                "{{\"workload\":\"{name}\",\"protocol\":{p},\"load_value\":{:.4},\"load_value_first\":{:.4},\"dump_value\":{:.4},\"dump_value_first\":{:.4},\"load_typed\":{lt_m},\"load_typed_first\":{lt_f},\"dump_typed\":{dt_m},\"dump_typed_first\":{dt_f}}}",
                load.0, load.1, dump.0, dump.1
            ));
        }
    }
    println!("[{}]", rows.join(",\n"));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--peak") {
        return peak(&args[i + 1], &args[i + 2]);
    }
    if let Some(i) = args.iter().position(|a| a == "--history") {
        let out = args
            .iter()
            .position(|a| a == "--out")
            .map_or(PathBuf::from("target/bench-data"), |o| {
                PathBuf::from(&args[o + 1])
            });
        return history(&out, args[i + 1].parse().expect("--history N"));
    }
    let mut out = PathBuf::from("target/bench-data");
    let mut scale = 1;
    let mut reps = 11;
    let mut only = None;
    let mut reverse = false;
    let mut write_only = false;
    let mut from_files = false;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--only" => {
                only = Some(args[i + 1].clone());
                i += 1;
            }
            "--out" => {
                out = PathBuf::from(&args[i + 1]);
                i += 1;
            }
            "--smoke" => scale = 100,
            "--reverse" => reverse = true,
            "--write-only" => write_only = true,
            "--from-files" => from_files = true,
            "--reps" => {
                reps = args[i + 1].parse().expect("--reps N");
                i += 1;
            }
            _ => {} // cargo bench passes --bench
        }
        i += 1;
    }
    fs::create_dir_all(&out).unwrap();
    settle_allocator();
    let mut rows = Vec::new();
    // Write a workload's pickles; `None` with --write-only (nothing to measure).
    let write = |w: workloads::Workload| {
        let name = w.name;
        let files: Files = w
            .protocols
            .iter()
            .map(|&p| {
                let data = pickle_codec::dumps(&w.doc, p).unwrap();
                let file = out.join(format!("{name}.p{p}.pkl"));
                fs::write(&file, &data).unwrap();
                (p, file, data)
            })
            .collect();
        (!write_only).then_some((name, files))
    };
    // The pickles a run with --write-only wrote for the workload `name`.
    let read = |name: &'static str| {
        let files: Files = files_of(&out, name)
            .into_iter()
            .map(|(p, file)| {
                let data = fs::read(&file).unwrap();
                (p, file, data)
            })
            .collect();
        assert!(
            !files.is_empty(),
            "no {name}.p*.pkl in {}: run with --write-only first",
            out.display()
        );
        (name, files)
    };
    let mut measure = |(name, mut files): (&'static str, Files)| {
        // Measure in a heap that never held the workload as it was built
        // (--from-files, as compare.py runs it; CPython's side too starts
        // from the file), or at least no longer holds it: what the allocator
        // kept after building it slowed the loads (a memo-heavy load took
        // 3.0 ms in a process that only read the file, 3.8-4.7 ms after
        // building and dropping the document).
        if reverse {
            files.reverse();
        }
        for (p, file, data) in files {
            // The reference of the large-bytes loads, a fresh copy of the
            // file, measured first, right before them (in the state of the
            // heap they meet): measured after them it came out 10-20% faster
            // than they did, and 2-4% when each ran in a process of its own.
            let is_bytes = name == "bytes_100mb";
            let memcpy =
                is_bytes.then(|| median(|| drop(std::hint::black_box(data.to_vec())), reps));
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
            drop(doc);
            // The typed load first, with no typed value alive (as for the
            // other loads); then the typed value for the typed dump.
            let typed_load = |src: workloads::Source<'_>| {
                median(|| assert!(workloads::load_typed_named(name, src)), reps)
            };
            let load_typed = workloads::load_typed_named(name, workloads::Source::Slice(&data))
                .then(|| typed_load(workloads::Source::Slice(&data)));
            let load_typed_reader = load_typed.map(|_| typed_load(workloads::Source::File(&file)));
            let typed = workloads::typed_from(name, workloads::Source::Slice(&data));
            let dump_typed = load_typed.map(|_| {
                median(
                    || drop(std::hint::black_box(workloads::dump_typed(&typed, p))),
                    reps,
                )
            });
            // The floor of any typed load: the same value built from the one
            // in memory, with nothing to decode.
            let build_typed = load_typed.map(|_| {
                median(
                    || drop(std::hint::black_box(workloads::build_typed(&typed))),
                    reps,
                )
            });
            // The reference: the same values loaded from and dumped to
            // MessagePack by rmp-serde.
            let mp = workloads::rmp_bytes(&typed);
            let dump_typed_rmp = mp.as_ref().map(|_| {
                median(
                    || drop(std::hint::black_box(workloads::rmp_bytes(&typed))),
                    reps,
                )
            });
            drop(typed);
            let load_typed_rmp = mp.map(|mp| typed_load(workloads::Source::Rmp(&mp)));
            let borrow = is_bytes.then(|| {
                median(
                    || {
                        std::hint::black_box(pickle_codec::from_slice::<&[u8]>(&data).unwrap());
                    },
                    reps,
                )
            });
            // What any load from an `io::Read` pays before decoding: the
            // file's bytes copied into memory (`read_to_end` into a fresh
            // vector, sized from the file's length). Measured last, so that
            // its large vectors do not change the heap the others meet.
            let read_file = median(
                || {
                    let mut v = Vec::new();
                    fs::File::open(&file).unwrap().read_to_end(&mut v).unwrap();
                    drop(std::hint::black_box(v))
                },
                reps,
            );
            let opt = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{v:.4}"));
            rows.push(format!(
                "{{\"workload\":\"{name}\",\"protocol\":{p},\"file\":{:?},\"bytes\":{},\"load_value\":{load_value:.4},\"load_reader\":{load_reader:.4},\"read_file\":{read_file:.4},\"load_typed\":{},\"load_typed_reader\":{},\"load_typed_rmp\":{},\"build_typed\":{},\"dump_value\":{dump_value:.4},\"dump_typed\":{},\"dump_typed_rmp\":{},\"borrow\":{},\"memcpy\":{}}}",
                file.to_string_lossy(),
                data.len(),
                opt(load_typed),
                opt(load_typed_reader),
                opt(load_typed_rmp),
                opt(build_typed),
                opt(dump_typed),
                opt(dump_typed_rmp),
                opt(borrow),
                opt(memcpy),
            ));
            eprintln!("{name} p{p}: load {load_value:.2} ms");
        }
    };
    match (&only, from_files) {
        (Some(name), true) => measure(read(workloads::name(name))),
        (None, true) => workloads::NAMES.iter().for_each(|&n| measure(read(n))),
        (Some(name), false) => write(workloads::build(name, scale))
            .into_iter()
            .for_each(&mut measure),
        (None, false) => workloads::each(scale, |w| write(w).into_iter().for_each(&mut measure)),
    }
    if write_only {
        return;
    }
    let json = format!("[{}]\n", rows.join(",\n"));
    fs::File::create(out.join("rust.json"))
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    print!("{json}");
}
