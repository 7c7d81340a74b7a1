//! Loading through `io::Read` must give exactly what loading from a slice
//! gives: the same document, or the same error at the same offset, whatever
//! sizes the reads come in (both paths decode in place where they can).

mod common;

use common::Dribble;
use pickle_codec::{dumps, load, loads, loads_all, Document, LoadOptions, Unpickler, Value};

fn sample_docs() -> Vec<Document> {
    let mut out = Vec::new();
    let mut d = Document::new();
    let keys: Vec<Value> = ["id", "name", "score"].iter().map(|k| d.str(k)).collect();
    let recs: Vec<Value> = (0..3000)
        .map(|i| {
            let name = d.str(&format!("user{i}"));
            d.dict([
                (keys[0], Value::Int(i * 1_000_003)),
                (keys[1], name),
                (keys[2], Value::Float(i as f64 / 3.0)),
            ])
        })
        .collect();
    let big = d.bytes(&vec![7u8; 70_000]);
    let long = d.str(&"é".repeat(40_000));
    let bigint = d.int(num_bigint::BigInt::from(3).pow(500));
    let shared = d.list([Value::Int(1)]);
    let root = d.list(recs.into_iter().chain([big, long, bigint, shared, shared]));
    d.set_root(root);
    out.push(d);
    let mut d = Document::new();
    let inner = d.list([]);
    d.list_push(inner, inner);
    let t = d.tuple([inner, Value::None, Value::Bool(true)]);
    d.set_root(t);
    out.push(d);
    out
}

fn load_reader(data: &[u8], step: usize) -> pickle_codec::Result<Document> {
    load(Dribble::new(data, step, false))
}

#[test]
fn same_documents_from_a_reader() {
    for doc in sample_docs() {
        for p in 0..=5u8 {
            let data = dumps(&doc, p).unwrap();
            let a = loads(&data).unwrap();
            for step in [1, 3, 64, 70_000] {
                let b = load_reader(&data, step).unwrap();
                assert!(a == b, "protocol {p}, reads of up to {step} bytes");
            }
        }
    }
}

#[test]
fn same_errors_at_the_same_offsets() {
    let docs = sample_docs();
    for p in 0..=5u8 {
        let data = dumps(&docs[1], p).unwrap();
        let big = dumps(&docs[0], p).unwrap();
        let cuts: Vec<(&[u8], usize)> = (0..data.len())
            .map(|i| (&data[..], i))
            .chain((0..big.len()).step_by(7919).map(|i| (&big[..], i)))
            .collect();
        for (src, cut) in cuts {
            let mut bad = src[..cut].to_vec();
            for corrupt in [false, true] {
                if corrupt {
                    if cut == 0 {
                        continue;
                    }
                    bad = src.to_vec();
                    bad[cut] ^= 0x5a;
                }
                let a = loads_all(&bad);
                let mut u =
                    Unpickler::from_reader(Dribble::new(&bad, 5, false), LoadOptions::default());
                let b = (|| -> pickle_codec::Result<Vec<Document>> {
                    let mut v = Vec::new();
                    loop {
                        v.push(u.load()?);
                        if u.at_end()? {
                            return Ok(v);
                        }
                    }
                })();
                match (a, b) {
                    (Ok(x), Ok(y)) => assert!(x == y, "protocol {p}, cut {cut}"),
                    (Err(x), Err(y)) => {
                        assert_eq!(
                            (x.offset(), x.opcode(), x.category()),
                            (y.offset(), y.opcode(), y.category()),
                            "protocol {p}, cut {cut}, corrupt {corrupt}: {x} / {y}"
                        );
                    }
                    (x, y) => panic!("protocol {p}, cut {cut}, corrupt {corrupt}: {x:?} vs {y:?}"),
                }
            }
        }
    }
}

#[test]
fn large_payloads_read_into_their_own_vector() {
    // From 1 MiB on, a bytes/bytearray/str payload is read from the reader
    // straight into its node's vector: whole, split across reads, truncated.
    let mut d = Document::new();
    let blob: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let b = d.bytes(&blob);
    let a = d.bytearray(&blob[..1_500_000]);
    let s = d.str(&"ж".repeat(700_000));
    let root = d.list([b, a, s, b]);
    d.set_root(root);
    for p in [3u8, 4, 5] {
        let data = dumps(&d, p).unwrap();
        let whole = loads(&data).unwrap();
        for step in [5, 70_000, 1 << 22] {
            assert!(
                whole == load_reader(&data, step).unwrap(),
                "protocol {p}, step {step}"
            );
        }
        for cut in [
            40,
            1_000_000,
            2_999_999,
            3_000_100,
            4_000_000,
            data.len() - 1,
        ] {
            let x = loads(&data[..cut]).unwrap_err();
            let y = load_reader(&data[..cut], 70_000).unwrap_err();
            assert_eq!(
                (x.offset(), x.opcode(), x.category()),
                (y.offset(), y.opcode(), y.category()),
                "protocol {p}, cut {cut}: {x} / {y}"
            );
        }
    }
}
