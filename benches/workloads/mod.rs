//! The benchmark workloads of issue 7, shared by the criterion benches
//! (`benches/codec.rs`) and the CPython comparison (`benches/compare.rs`,
//! driven by `benches/compare.py`).
//!
//! Each workload is built in Rust and pickled by our pickler, which writes
//! exactly CPython's bytes, so CPython and Rust load the same files.

#![allow(dead_code)]

use std::collections::HashMap;

use pickle_codec::{Document, Value};
use serde::{Deserialize, Serialize};

/// One record of the records workload.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Record {
    pub id: i64,
    pub name: String,
    pub score: f64,
    pub tags: Vec<String>,
}

/// The typed (serde) form of a workload.
#[derive(Clone)]
pub enum Typed {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Records(Vec<Record>),
    Dict(HashMap<String, i64>),
    Strings(Vec<String>),
    Bytes(serde_bytes::ByteBuf),
    /// No typed form (memo-heavy sharing has no serde meaning).
    None,
}

/// A workload: its document, typed form and the protocols it is measured at.
pub struct Workload {
    pub name: &'static str,
    pub doc: Document,
    pub typed: Typed,
    pub protocols: &'static [u8],
}

fn non_ascii(i: usize) -> String {
    format!("é{i}ж漢字🙂{}", i % 97)
}

/// The workloads' names, in the order they are measured. The last four
/// are issue 20's shapes: strings too long to be held inline, text at
/// memory speed, ints of every width CPython writes, floats whose digits
/// are all significant.
pub const NAMES: [&str; 11] = [
    "ints_1m",
    "floats_1m",
    "records_100k",
    "dict_200k",
    "strings_100k",
    "bytes_100mb",
    "memo_heavy_1m",
    "long_strings_100k",
    "ascii_lines_100k",
    "mixed_ints_1m",
    "random_floats_1m",
];

/// Issue 20's long non-ASCII string: `"%06d·%s" % (i, "ä€漢" * 30)`, about
/// 240 bytes of UTF-8.
fn long_non_ascii(i: usize) -> String {
    format!("{i:06}·{}", "ä€漢".repeat(30))
}

/// An ASCII line of about 200 bytes, as a log or CSV line.
fn ascii_line(i: usize) -> String {
    format!(
        "{i:08},2026-12-02T13:04:{:02}Z,GET /api/v1/items/{i}?page={} HTTP/1.1,200,{} bytes,user-agent=Mozilla/5.0 (X11; Linux x86_64) pickle-codec/0.2\n",
        i % 60,
        i % 17,
        i * 37 % 100_000
    )
}

/// A splitmix64 step: the same pseudo-random numbers on every machine.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The entry of [`NAMES`] equal to `name`.
pub fn name(name: &str) -> &'static str {
    NAMES
        .into_iter()
        .find(|n| *n == name)
        .unwrap_or_else(|| panic!("no workload called {name}"))
}

/// Every workload in turn, built just before `f` sees it and dropped right
/// after, so that each is measured in a heap not filled by the others (as
/// CPython's side loads each file alone); `scale` divides the sizes (1 for
/// the real run, 100 for a smoke run).
pub fn each(scale: usize, mut f: impl FnMut(Workload)) {
    for name in NAMES {
        f(build(name, scale));
    }
}

/// The workload called `name` (one of [`NAMES`]), its sizes divided by `scale`.
pub fn build(name: &str, scale: usize) -> Workload {
    let n = |x: usize| (x / scale).max(1);
    match name {
        "ints_1m" => {
            let ints: Vec<i64> = (0..n(1_000_000) as i64)
                .map(|i| i * 7919 - 3_000_000)
                .collect();
            let mut doc = Document::new();
            let v = doc.list(ints.iter().map(|&i| Value::Int(i)));
            doc.set_root(v);
            Workload {
                name: "ints_1m",
                doc,
                typed: Typed::Ints(ints),
                protocols: &[2, 5],
            }
        }
        "floats_1m" => {
            let floats: Vec<f64> = (0..n(1_000_000)).map(|i| i as f64 * 1.1 + 0.25).collect();
            let mut doc = Document::new();
            let v = doc.list(floats.iter().map(|&f| Value::Float(f)));
            doc.set_root(v);
            Workload {
                name: "floats_1m",
                doc,
                typed: Typed::Floats(floats),
                protocols: &[2, 5],
            }
        }
        "records_100k" => {
            let records: Vec<Record> = (0..n(100_000) as i64)
                .map(|i| Record {
                    id: i,
                    name: format!("user{i}"),
                    score: i as f64 * 0.5,
                    tags: vec!["a".into(), "b".into()],
                })
                .collect();
            // As Python builds them: the keys and the tag strings are shared objects.
            let doc = pickle_codec::to_document(&records).expect("records");
            Workload {
                name: "records_100k",
                doc: share_records(doc),
                typed: Typed::Records(records),
                protocols: &[2, 5],
            }
        }
        "dict_200k" => {
            let dict: Vec<(String, i64)> = (0..n(200_000) as i64)
                .map(|i| (format!("key{i}"), i))
                .collect();
            let mut doc = Document::new();
            let pairs: Vec<(Value, Value)> = dict
                .iter()
                .map(|(k, v)| (doc.str(k), Value::Int(*v)))
                .collect();
            let v = doc.dict(pairs);
            doc.set_root(v);
            Workload {
                name: "dict_200k",
                doc,
                typed: Typed::Dict(dict.into_iter().collect()),
                protocols: &[2, 5],
            }
        }
        "strings_100k" => {
            let strings: Vec<String> = (0..n(100_000)).map(non_ascii).collect();
            let mut doc = Document::new();
            let items: Vec<Value> = strings.iter().map(|s| doc.str(s)).collect();
            let v = doc.list(items);
            doc.set_root(v);
            Workload {
                name: "strings_100k",
                doc,
                typed: Typed::Strings(strings),
                protocols: &[2, 5],
            }
        }
        "bytes_100mb" => {
            let blob: Vec<u8> = (0..n(100 << 20)).map(|i| (i * 31 % 251) as u8).collect();
            let mut doc = Document::new();
            let v = doc.bytes(&blob);
            doc.set_root(v);
            Workload {
                name: "bytes_100mb",
                doc,
                typed: Typed::Bytes(serde_bytes::ByteBuf::from(blob)),
                protocols: &[4, 5],
            }
        }
        "long_strings_100k" | "ascii_lines_100k" => {
            let make = if name == "long_strings_100k" {
                long_non_ascii
            } else {
                ascii_line
            };
            let strings: Vec<String> = (0..n(100_000)).map(make).collect();
            let mut doc = Document::new();
            let items: Vec<Value> = strings.iter().map(|s| doc.str(s)).collect();
            let v = doc.list(items);
            doc.set_root(v);
            Workload {
                name: self::name(name),
                doc,
                typed: Typed::Strings(strings),
                protocols: &[2, 5],
            }
        }
        "mixed_ints_1m" => {
            // Every width CPython's pickler picks among: BININT1, BININT2,
            // BININT (negative ones too) and LONG1 of 5 to 8 bytes.
            let mut state = 20;
            let ints: Vec<i64> = (0..n(1_000_000))
                .map(|i| {
                    let r = splitmix(&mut state);
                    let bits = [7, 15, 31, 40, 63][i % 5];
                    let v = (r >> (64 - bits)) as i64;
                    if r & 1 == 1 {
                        -v
                    } else {
                        v
                    }
                })
                .collect();
            let mut doc = Document::new();
            let v = doc.list(ints.iter().map(|&i| Value::Int(i)));
            doc.set_root(v);
            Workload {
                name: "mixed_ints_1m",
                doc,
                typed: Typed::Ints(ints),
                protocols: &[2, 5],
            }
        }
        "random_floats_1m" => {
            // Uniform in [0, 1) with 53 random bits, scaled over magnitudes:
            // 17 significant digits in their repr, as measured data has.
            let mut state = 21;
            let floats: Vec<f64> = (0..n(1_000_000))
                .map(|i| {
                    let u = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                    (u - 0.5) * [1e-3, 1.0, 1e3, 1e9][i % 4]
                })
                .collect();
            let mut doc = Document::new();
            let v = doc.list(floats.iter().map(|&f| Value::Float(f)));
            doc.set_root(v);
            Workload {
                name: "random_floats_1m",
                doc,
                typed: Typed::Floats(floats),
                protocols: &[2, 5],
            }
        }
        "memo_heavy_1m" => {
            let mut doc = Document::new();
            let pool: Vec<Value> = (0..1000)
                .map(|i| doc.str(&format!("shared string {i}")))
                .collect();
            let v = doc.list((0..n(1_000_000)).map(|i| pool[i % 1000]));
            doc.set_root(v);
            Workload {
                name: "memo_heavy_1m",
                doc,
                typed: Typed::None,
                protocols: &[2, 5],
            }
        }
        _ => panic!("no workload called {name}"),
    }
}

/// Make the records' keys and tag strings shared nodes, as in a Python list
/// built by a comprehension (interned literals), so the pickle holds memo
/// references exactly as CPython's does.
fn share_records(doc: Document) -> Document {
    let mut out = Document::new();
    let keys: Vec<Value> = ["id", "name", "score", "tags"]
        .iter()
        .map(|k| out.str(k))
        .collect();
    let (a, b) = (out.str("a"), out.str("b"));
    let root = doc.root();
    let mut recs = Vec::new();
    for r in root.iter() {
        let id = r.get("id").and_then(|v| v.as_i64()).unwrap_or(0);
        let name = out.str(r.get("name").and_then(|v| v.as_str()).unwrap_or(""));
        let score = r.get("score").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let tags = out.list([a, b]);
        recs.push(out.dict([
            (keys[0], Value::Int(id)),
            (keys[1], name),
            (keys[2], Value::Float(score)),
            (keys[3], tags),
        ]));
    }
    let v = out.list(recs);
    out.set_root(v);
    out
}

/// Where a typed load reads a workload's pickle from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// `from_slice`.
    Slice(&'a [u8]),
    /// `from_reader` over a buffered file.
    File(&'a std::path::Path),
    /// [`rmp_bytes`] of the typed form, read by rmp-serde (the reference).
    Rmp(&'a [u8]),
}

/// Deserialize a workload's pickle into its typed form (and drop it).
pub fn load_typed(w: &Workload, data: &[u8]) {
    let known = load_typed_named(w.name, Source::Slice(data));
    assert_eq!(known, !matches!(w.typed, Typed::None), "{}", w.name);
}

/// Deserialize the pickle of the workload called `name` into its typed form
/// (and drop it); false for a workload without a typed form. Needs only the
/// name, not the built workload (peak-memory runs load in a fresh process).
pub fn load_typed_named(name: &str, src: Source<'_>) -> bool {
    !matches!(std::hint::black_box(typed_from(name, src)), Typed::None)
}

/// The typed form of the workload called `name`, read from its pickle
/// (`Typed::None` for a workload without one).
pub fn typed_from(name: &str, src: Source<'_>) -> Typed {
    fn load<T: serde::de::DeserializeOwned>(src: Source<'_>) -> T {
        match src {
            Source::Slice(data) => pickle_codec::from_slice(data).unwrap(),
            Source::File(path) => pickle_codec::from_reader(std::io::BufReader::new(
                std::fs::File::open(path).unwrap(),
            ))
            .unwrap(),
            Source::Rmp(data) => rmp_serde::from_slice(data).unwrap(),
        }
    }
    match name {
        "ints_1m" => Typed::Ints(load(src)),
        "floats_1m" => Typed::Floats(load(src)),
        "records_100k" => Typed::Records(load(src)),
        "dict_200k" => Typed::Dict(load(src)),
        "strings_100k" | "long_strings_100k" | "ascii_lines_100k" => Typed::Strings(load(src)),
        "mixed_ints_1m" => Typed::Ints(load(src)),
        "random_floats_1m" => Typed::Floats(load(src)),
        "bytes_100mb" => Typed::Bytes(load(src)),
        _ => Typed::None,
    }
}

/// The typed form as MessagePack (rmp-serde, structs as maps with their
/// field names, as a pickle has them); `None` for a workload without one.
pub fn rmp_bytes(typed: &Typed) -> Option<Vec<u8>> {
    Some(
        match typed {
            Typed::Ints(v) => rmp_serde::to_vec_named(v),
            Typed::Floats(v) => rmp_serde::to_vec_named(v),
            Typed::Records(v) => rmp_serde::to_vec_named(v),
            Typed::Dict(v) => rmp_serde::to_vec_named(v),
            Typed::Strings(v) => rmp_serde::to_vec_named(v),
            Typed::Bytes(v) => rmp_serde::to_vec_named(v),
            Typed::None => return None,
        }
        .unwrap(),
    )
}

/// A copy of the typed form built from the one in memory, with no decoding
/// at all: every `String`, `Vec` and map allocated and filled (strings
/// copied, not re-validated; vectors and maps built with their final size
/// known, which no decoder of a pickle is told). What any typed load of the
/// workload costs at least, whatever the format, with this allocator.
pub fn build_typed(typed: &Typed) -> Typed {
    match typed {
        // Inserted key by key (hashing each), not the table copied as
        // `HashMap::clone` does.
        Typed::Dict(v) => Typed::Dict(v.iter().map(|(k, &v)| (k.clone(), v)).collect()),
        // `Clone` allocates each String and Vec at its exact size.
        other => other.clone(),
    }
}

/// Serialize a workload's typed form at `protocol`.
pub fn dump_typed(typed: &Typed, protocol: u8) -> Option<Vec<u8>> {
    let o = || pickle_codec::DumpOptions::new(protocol);
    Some(
        match typed {
            Typed::Ints(v) => pickle_codec::to_vec_with(v, o()),
            Typed::Floats(v) => pickle_codec::to_vec_with(v, o()),
            Typed::Records(v) => pickle_codec::to_vec_with(v, o()),
            Typed::Dict(v) => pickle_codec::to_vec_with(v, o()),
            Typed::Strings(v) => pickle_codec::to_vec_with(v, o()),
            Typed::Bytes(v) => pickle_codec::to_vec_with(v, o()),
            Typed::None => return None,
        }
        .unwrap(),
    )
}
