//! serde deserialization from CPython pickles (literals written by CPython 3.11).

mod common;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use pickle_codec::{from_slice, PyObject};
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
struct Record {
    id: i64,
    name: String,
    score: f64,
}

#[derive(Debug, Deserialize)]
struct Records {
    #[allow(dead_code)]
    records: Vec<Record>,
}

const RECORDS_P4: &[u8] = b"\x80\x04\x95O\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x07records\x94]\x94(}\x94(\x8c\x02id\x94K\x01\x8c\x04name\x94\x8c\x01a\x94\x8c\x05score\x94G?\xf8\x00\x00\x00\x00\x00\x00u}\x94(h\x04K\x02h\x05\x8c\x01b\x94h\x07\x8c\x03bad\x94ues.";

#[test]
fn error_names_the_path_and_offset() {
    let err = from_slice::<Records>(RECORDS_P4).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.path(), "records[1].score");
    assert!(
        text.starts_with("records[1].score: expected f64, got string \"bad\""),
        "{text}"
    );
    // the SHORT_BINUNICODE of "bad" starts at byte 80
    assert!(text.ends_with("at byte 80"), "{text}");
    assert_eq!(err.offset(), Some(80));
}

#[test]
fn borrows_from_the_input() {
    // pickle.dumps("hello world", 4) and pickle.dumps(b"abc", 4)
    let data = b"\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00\x8c\x0bhello world\x94.";
    let s: &str = from_slice(data).unwrap();
    assert_eq!(s, "hello world");
    let range = data.as_ptr_range();
    assert!(range.contains(&s.as_ptr()));
    #[derive(Deserialize)]
    struct Wrapped<'a>(#[serde(borrow)] Cow<'a, str>);
    let Wrapped(c) = from_slice(data).unwrap();
    assert!(matches!(c, Cow::Borrowed(_)));
    let data = b"\x80\x04\x95\x07\x00\x00\x00\x00\x00\x00\x00C\x03abc\x94.";
    let b: &[u8] = from_slice(data).unwrap();
    assert_eq!(b, b"abc");
    assert!(data.as_ptr_range().contains(&b.as_ptr()));
}

#[derive(Debug, Deserialize, PartialEq)]
struct Point {
    x: i64,
    y: f64,
}

#[test]
fn class_instances_into_structs() {
    let p2 = b"\x80\x02cpcorpus\nPoint\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04G@\x04\x00\x00\x00\x00\x00\x00ub.";
    assert_eq!(from_slice::<Point>(p2).unwrap(), Point { x: 1, y: 2.5 });
    let obj: PyObject<Point> = from_slice(p2).unwrap();
    assert_eq!(
        (obj.module.as_str(), obj.name.as_str()),
        ("pcorpus", "Point")
    );
    assert_eq!(obj.state, Point { x: 1, y: 2.5 });

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        left: i64,
        right: String,
    }
    let nt = b"\x80\x04\x95 \x00\x00\x00\x00\x00\x00\x00\x8c\x07pcorpus\x94\x8c\x04Pair\x94\x93\x94K\x01\x8c\x03two\x94\x86\x94\x81\x94.";
    assert_eq!(
        from_slice::<Pair>(nt).unwrap(),
        Pair {
            left: 1,
            right: "two".into()
        }
    );
}

#[test]
fn stdlib_scalars_as_text() {
    let data = b"\x80\x02]q\x00(cdatetime\ndatetime\nq\x01c_codecs\nencode\nq\x02X\x0c\x00\x00\x00\x07\xc3\xa8\x02\x1d\r-;\x01\xc3\xa2@q\x03X\x06\x00\x00\x00latin1q\x04\x86q\x05Rq\x06\x85q\x07Rq\x08cdecimal\nDecimal\nq\tX\x04\x00\x00\x003.14q\n\x85q\x0bRq\x0ccuuid\nUUID\nq\r)\x81q\x0e}q\x0fX\x03\x00\x00\x00intq\x10\x8a\x10\xef\xcd\xab\x90xV4\x12\xef\xcd\xab\x90xV4\x12sbcdatetime\ndate\nq\x11h\x02X\x05\x00\x00\x00\x07\xc3\x8f\x0c\x1fq\x12h\x04\x86q\x13Rq\x14\x85q\x15Rq\x16e.";
    let v: Vec<String> = from_slice(data).unwrap();
    assert_eq!(
        v,
        [
            "2024-02-29T13:45:59.123456",
            "3.14",
            "12345678-90ab-cdef-1234-567890abcdef",
            "1999-12-31"
        ]
    );
}

#[test]
fn sets_ordered_dicts_and_big_ints() {
    #[derive(Debug, Deserialize)]
    struct Mixed {
        s: HashSet<i64>,
        od: BTreeMap<String, i64>,
        big: u128,
        neg: i128,
    }
    let data = b"\x80\x02}q\x00(X\x01\x00\x00\x00sq\x01c__builtin__\nset\nq\x02]q\x03(K\x01K\x02e\x85q\x04Rq\x05X\x02\x00\x00\x00odq\x06ccollections\nOrderedDict\nq\x07)Rq\x08X\x01\x00\x00\x00aq\tK\x01sX\x03\x00\x00\x00bigq\n\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00\x01X\x03\x00\x00\x00negq\x0b\x8a\r\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0u.";
    let m: Mixed = from_slice(data).unwrap();
    assert_eq!(m.s, HashSet::from([1, 2]));
    assert_eq!(m.od.get("a"), Some(&1));
    assert_eq!(m.big, 1u128 << 64);
    assert_eq!(m.neg, -(1i128 << 100));
}

/// `bytes(...)`/`bytearray(...)` calls as CPython's unpickler builds them:
/// the same bytes, or an error where CPython raises (`bytearray('ab')`:
/// "string argument without an encoding"). An int argument is refused here
/// (it sizes an allocation by a number in the pickle) though CPython builds
/// that many zero bytes.
#[test]
fn bytes_calls_as_cpython_builds_them() {
    if !common::python_available("the bytes-call comparison") {
        return;
    }
    let g = |t: &str| [b"\x80\x03cbuiltins\n", t.as_bytes(), b"\n"].concat();
    let s = |x: &str| [&b"X"[..], &(x.len() as u32).to_le_bytes(), x.as_bytes()].concat();
    let c = |parts: &[&[u8]]| parts.concat();
    let (ba, by) = (g("bytearray"), g("bytes"));
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (c(&[&ba, b")R."]), true),
        (c(&[&ba, b"C\x02ab\x85R."]), true),
        (c(&[&by, b"C\x02ab\x85R."]), true),
        (c(&[&ba, &s("ab"), b"\x85R."]), true),
        (c(&[&ba, &s("ab"), &s("ascii"), b"\x86R."]), true),
        (c(&[&by, &s("\u{e9}"), &s("latin-1"), b"\x86R."]), true),
        (c(&[&by, &s("\u{e9}"), &s("ascii"), b"\x86R."]), true),
        (c(&[&by, &s("\u{e9}"), &s("utf-8"), b"\x86R."]), true),
        (c(&[&ba, b"C\x02ab", &s("ascii"), b"\x86R."]), true),
        (c(&[&ba, b"](K\x01K\xffe\x85R."]), true),
        (c(&[&ba, b"](K\x01M\x00\x01e\x85R."]), true),
        (c(&[&by, b"]", &s("x"), b"a\x85R."]), true),
        (c(&[&by, b"G?\xf0\x00\x00\x00\x00\x00\x00\x85R."]), true),
        // CPython builds five zero bytes; refused here.
        (c(&[&ba, b"K\x05\x85R."]), false),
    ];
    let bytes: Vec<Vec<u8>> = cases.iter().map(|(b, _)| b.clone()).collect();
    let input: String = bytes.iter().map(|b| format!("{}\n", hex(b))).collect();
    let script = "import sys, pickle\n\
        for line in sys.stdin:\n\
        \x20   try:\n\
        \x20       print('ok ' + bytes(pickle.loads(bytes.fromhex(line.strip()))).hex())\n\
        \x20   except Exception as e:\n\
        \x20       print('error ' + str(e))\n";
    let want = common::python_lines(script, &input);
    assert_eq!(want.len(), cases.len());
    for ((b, (_, compared)), w) in bytes.iter().zip(&cases).zip(&want) {
        let got = pickle_codec::from_slice::<serde_bytes::ByteBuf>(b);
        if !compared {
            assert!(got.is_err(), "{w}");
            continue;
        }
        match (w.strip_prefix("ok "), &got) {
            (Some(h), Ok(v)) => assert_eq!(&hex(v), h, "{b:?}"),
            (None, Err(_)) => {}
            _ => panic!("{b:?}: CPython {w}, here {got:?}"),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
