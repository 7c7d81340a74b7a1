//! Criterion benchmarks of issue 7's workloads: load to `Document`, typed
//! serde load, dump from `Document`, typed dump, at protocols 2 and 5
//! (4 and 5 for the 100 MB bytes), plus `load` from a file.
//!
//!     cargo bench --bench codec
//!
//! `benches/compare.py` runs the same workloads against CPython in one go.

mod workloads;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn benches(c: &mut Criterion) {
    let scale = std::env::var("PICKLE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let dir = std::env::temp_dir().join("pickle-codec-bench");
    std::fs::create_dir_all(&dir).unwrap();
    workloads::each(scale, |w| {
        for &p in w.protocols {
            let data = pickle_codec::dumps(&w.doc, p).unwrap();
            let file = dir.join(format!("{}.p{p}.pkl", w.name));
            std::fs::write(&file, &data).unwrap();
            let mut g = c.benchmark_group(format!("{}/p{p}", w.name));
            g.sample_size(10);
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_function("load_value", |b| {
                b.iter(|| pickle_codec::loads(&data).unwrap())
            });
            g.bench_function("load_reader", |b| {
                b.iter(|| {
                    pickle_codec::load(std::io::BufReader::new(std::fs::File::open(&file).unwrap()))
                        .unwrap()
                })
            });
            g.bench_function("dump_value", |b| {
                b.iter(|| pickle_codec::dumps(&w.doc, p).unwrap())
            });
            if !matches!(w.typed, workloads::Typed::None) {
                g.bench_function("load_typed", |b| {
                    b.iter(|| workloads::load_typed(&w, &data))
                });
                g.bench_function("dump_typed", |b| {
                    b.iter_batched(
                        || (),
                        |()| workloads::dump_typed(&w.typed, p),
                        BatchSize::SmallInput,
                    )
                });
            }
            g.finish();
        }
    });
}

criterion_group!(codec, benches);
criterion_main!(codec);
