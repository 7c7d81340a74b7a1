//! Documents built in Rust must pickle exactly as CPython 3.11's C pickler
//! pickles the equivalent Python objects, at every protocol. The expected
//! bytes were generated once with `tests/scripts/gen_pickler_exact.py` and
//! are embedded (`tests/data/pickler_exact_expected.rs`); large outputs are
//! compared by length and FNV-1a hash.

use num_bigint::BigInt;
use pickle_codec::pickler::dumps_with;
use pickle_codec::{dump, dumps, Document, DumpOptions, Node, ObjectKind, ObjectOp, PyStr, Value};

#[allow(dead_code)]
enum Expected {
    Bytes(&'static [u8]),
    Hash(usize, u64),
}

mod expected {
    use super::Expected;
    include!("data/pickler_exact_expected.rs");
}

fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &c in b {
        h = (h ^ c as u64).wrapping_mul(0x100000001b3);
    }
    h
}

fn ints(d: &mut Document, xs: impl IntoIterator<Item = i64>) -> Vec<Value> {
    let _ = d;
    xs.into_iter().map(Value::Int).collect()
}

fn build(name: &str, p: u8) -> Document {
    let mut d = Document::new();
    let root = match name {
        "ints" => {
            let mut v = ints(
                &mut d,
                [
                    0,
                    1,
                    255,
                    256,
                    65535,
                    65536,
                    -1,
                    -128,
                    (1 << 31) - 1,
                    -(1 << 31),
                    1 << 31,
                ],
            );
            v.push(Value::Int(-(1 << 31) - 1));
            v.push(Value::Int(i64::MAX));
            v.push(Value::Int(i64::MIN));
            for b in [
                BigInt::from(1u64 << 63),
                BigInt::from(1u8) << 64usize,
                -(BigInt::from(1u8) << 64usize),
                BigInt::from(1u8) << 2100usize,
                -(BigInt::from(1u8) << 2100usize),
            ] {
                let x = d.int(b);
                v.push(x);
            }
            d.list(v)
        }
        "atoms" => d.list([Value::Bool(true), Value::Bool(false), Value::None]),
        "floats" => d.list(
            [
                0.0,
                -0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                1e16,
                1e-5,
                123456789.0,
                0.1,
                -2.5,
                5e-324,
                f64::MAX,
            ]
            .map(Value::Float),
        ),
        "strs" => {
            let mut v: Vec<Value> = ["", "a", "é", "€", "🙂"].iter().map(|s| d.str(s)).collect();
            v.push(d.py_str(PyStr::from_python_utf8(b"\xed\xa0\x80").unwrap()));
            v.push(d.str("a\\b\nc\rd\x1a\0e"));
            v.push(d.str(&"x".repeat(300)));
            d.list(v)
        }
        "bytes" => {
            // The two b'ab' are one constant (one object) in the Python source.
            let all: Vec<u8> = (0..=255).collect();
            let ab = d.bytes(b"ab");
            let v = [d.bytes(b""), ab, d.bytes(&all), d.bytes(&[b'x'; 300]), ab];
            d.list(v)
        }
        "bytearrays" => {
            let v = [
                d.bytearray(b""),
                d.bytearray(b"ab"),
                d.bytearray(&[b'x'; 300]),
            ];
            d.list(v)
        }
        "tuples" => {
            let e = [d.tuple([]), d.tuple([]), d.tuple([])];
            let inner = d.tuple([e[2]]);
            let v = [
                e[0],
                d.tuple(ints(&mut Document::new(), [1])),
                d.tuple(ints(&mut Document::new(), [1, 2])),
                d.tuple(ints(&mut Document::new(), [1, 2, 3])),
                d.tuple(ints(&mut Document::new(), [1, 2, 3, 4])),
                d.tuple([e[1], inner]),
            ];
            d.list(v)
        }
        "nested" => {
            let t = d.tuple([Value::Float(2.5), Value::None]);
            let a = d.list([Value::Int(1), t]);
            let dv = d.str("d");
            let b = d.dict_str([("c", dv)]);
            d.dict_str([("a", a), ("b", b)])
        }
        "list1001" => d.list((0..1001).map(Value::Int)),
        "list2000" => d.list((0..2000).map(Value::Int)),
        "dict1000" => d.dict((0..1000).map(|i| (Value::Int(i), Value::None))),
        "dict1" => {
            let v = d.str("v");
            d.dict_str([("k", v)])
        }
        "set1" => d.set([Value::Int(7)]),
        "set1000" => d.set((0..1000).map(Value::Int)),
        "sets" => {
            let v = [
                d.set([]),
                d.frozenset([]),
                d.frozenset([Value::Int(1), Value::Int(2)]),
            ];
            d.list(v)
        }
        "fs2000" => d.frozenset((0..2000).map(Value::Int)),
        "shared" => {
            let l = d.list([Value::Int(1), Value::Int(2)]);
            let t = d.tuple([l]);
            d.list([l, l, t])
        }
        "selfref" => {
            let l = d.list([Value::Int(1)]);
            d.list_push(l, l);
            let m = d.dict([]);
            let k = d.str("me");
            d.dict_push(m, k, m);
            d.list([l, m])
        }
        "rec_tuple" | "rec_tuple4" => {
            let l = d.list([]);
            let mut items = vec![l, Value::Int(1)];
            if name == "rec_tuple4" {
                items.extend([Value::Int(2), Value::Int(3)]);
            }
            let t = d.tuple(items);
            d.list_push(l, t);
            t
        }
        "globals" => {
            let v = [
                d.global("collections", "OrderedDict"),
                d.global("pcorpus", "Point"),
                d.global("collections", "OrderedDict"),
                d.global("pcorpus", "Outer.Inner"),
                d.global("pcorpus", "Outer"),
            ];
            d.list(v)
        }
        "point" => {
            let (x, y) = (Value::Int(1), Value::Int(2));
            let state = d.dict_str([("x", x), ("y", y)]);
            d.instance("pcorpus", "Point", state)
        }
        "kw" => {
            let cls = d.global("pcorpus", "Kw");
            let args = d.tuple([Value::Int(1)]);
            let kwargs = d.dict_str([("k", Value::Int(2))]);
            let obj = d.object(ObjectKind::NewObjEx, cls, args);
            if let Value::Ref(id) = obj {
                if let Node::Object(o) = d.node_mut(id) {
                    o.kwargs = Some(kwargs);
                }
            }
            let state = d.dict_str([("a", Value::Int(5))]);
            d.push_op(obj, ObjectOp::Build(state));
            obj
        }
        "od" | "od1500" => {
            let od = d.reduce("collections", "OrderedDict", []);
            let pairs: Vec<(String, i64)> = if name == "od" {
                vec![("a".into(), 1), ("b".into(), 2)]
            } else {
                (0..1500).map(|i| (i.to_string(), i)).collect()
            };
            for (k, v) in pairs {
                let k = d.str(&k);
                d.push_op(od, ObjectOp::SetItem(k, Value::Int(v)));
            }
            od
        }
        "pids" => {
            let abc = d.str("abc");
            let mut v = vec![d.persistent_id(abc), d.persistent_id(Value::Int(42))];
            if p >= 1 {
                let x = d.str("x");
                let t = d.tuple([x, Value::Int(1)]);
                v.push(d.persistent_id(t));
            }
            d.list(v)
        }
        "bigstrs" => {
            let v: Vec<Value> = (0..20000)
                .map(|i| d.str(&format!("xxxxxxxxxx{i}")))
                .collect();
            d.list(v)
        }
        "bigints" => d.list((0..100000).map(Value::Int)),
        "bigpayload" => {
            let v = [d.bytes(&[b'x'; 70000]), d.str("a")];
            d.list(v)
        }
        "bigpayload2" => {
            let v = [
                d.str(&"a".repeat(65530)),
                d.str(&"b".repeat(10)),
                d.str(&"c".repeat(70000)),
                d.bytearray(&[b'z'; 65536]),
                d.bytes(&[b'q'; 65535]),
            ];
            d.list(v)
        }
        other => panic!("no builder for {other}"),
    };
    d.set_root(root);
    d
}

#[test]
fn rust_documents_pickle_like_cpython() {
    let mut bad = Vec::new();
    for (name, outs) in expected::EXPECTED {
        for (p, want) in outs.iter().enumerate() {
            let doc = build(name, p as u8);
            let got = dumps(&doc, p as u8).unwrap_or_else(|e| panic!("{name} p{p}: {e}"));
            let ok = match want {
                Expected::Bytes(b) => got == *b,
                Expected::Hash(n, h) => got.len() == *n && fnv(&got) == *h,
            };
            if !ok {
                let shown = String::from_utf8_lossy(&got[..got.len().min(300)])
                    .escape_debug()
                    .to_string();
                bad.push(format!("{name} p{p}: got {shown}"));
            }
            // Writing to an io::Write gives the same bytes.
            let mut sink = Vec::new();
            dump(&mut sink, &doc, p as u8).unwrap();
            assert_eq!(sink, got, "{name} p{p}: dump differs from dumps");
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn extensions_and_their_protocols() {
    let mut d = Document::new();
    let e1 = d.alloc(Node::Extension(300));
    let e2 = d.alloc(Node::Extension(300));
    let end = d.str("end");
    let root = d.list([e1, e2, end]);
    d.set_root(root);
    for p in 2..=5u8 {
        assert_eq!(dumps(&d, p).unwrap(), expected::EXT[p as usize - 2], "p{p}");
    }
    assert!(dumps(&d, 1).is_err());
    assert!(dumps(&d, 0).is_err());
}

#[test]
fn fix_imports_off_keeps_python3_names() {
    let mut d = Document::new();
    let s = d.set([Value::Int(1)]);
    d.set_root(s);
    let mut o = DumpOptions::new(2);
    assert_eq!(
        dumps_with(&d, &mut o).unwrap(),
        b"\x80\x02c__builtin__\nset\nq\x00]q\x01K\x01a\x85q\x02Rq\x03."
    );
    let mut o = DumpOptions::new(2).fix_imports(false);
    assert_eq!(
        dumps_with(&d, &mut o).unwrap(),
        b"\x80\x02cbuiltins\nset\nq\x00]q\x01K\x01a\x85q\x02Rq\x03."
    );
}
