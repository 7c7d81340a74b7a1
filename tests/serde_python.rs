//! The serde mapping, row by row, checked against CPython both ways:
//! Rust writes at every protocol and Python compares what it loads with the
//! expected Python object (types included); Python writes the expected object
//! at every protocol and Rust reads it back into the typed value.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::Write;
use std::process::{Command, Stdio};

use pickle_codec::{
    from_slice, to_vec_with, DumpOptions, PyByteArray, PyFrozenSet, PyNamedTuple, PyObject, PySet,
    PySlotted,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

type Check = Box<dyn Fn(&[u8]) -> Result<(), String>>;

struct Case {
    name: &'static str,
    expr: &'static str,
    dump: Box<dyn Fn(u8) -> Vec<u8>>,
    check: Check,
    /// Also read CPython's pickle of `expr` back into the Rust type.
    read_back: bool,
}

fn same<T: PartialEq + Debug>(a: &T, b: &T) -> bool {
    a == b || format!("{a:?}") == format!("{b:?}") // NaN inside containers
}

fn case<T>(name: &'static str, value: T, expr: &'static str) -> Case
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + Clone + 'static,
{
    let v1 = value.clone();
    Case {
        name,
        expr,
        dump: Box::new(move |p| {
            to_vec_with(&v1, DumpOptions::new(p))
                .unwrap_or_else(|e| panic!("{name}: dump p{p}: {e}"))
        }),
        check: Box::new(move |bytes| {
            let got: T = from_slice(bytes).map_err(|e| e.to_string())?;
            if same(&got, &value) {
                Ok(())
            } else {
                Err(format!("read {got:?}, want {value:?}"))
            }
        }),
        read_back: true,
    }
}

fn write_only(mut c: Case) -> Case {
    c.read_back = false;
    c
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Unit;

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Meters(f64);

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Pair(i32, String);

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Record {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
enum Shape {
    Empty,
    Circle(f64),
    Pair(i32, i32),
    Rect { w: i32, h: i32 },
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
#[serde(untagged)]
enum Loose {
    Num(i64),
    Text(String),
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Flat {
    id: i64,
    #[serde(flatten)]
    extra: BTreeMap<String, i64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Defaults {
    a: i64,
    #[serde(default)]
    b: i64,
    #[serde(skip)]
    c: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<i64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Point {
    x: i64,
    y: f64,
}

fn cases() -> Vec<Case> {
    vec![
        case("bool", true, "True"),
        case("i8", -5i8, "-5"),
        case("i32", i32::MIN, "-2**31"),
        case("i64", i64::MIN, "-2**63"),
        case("u8", 255u8, "255"),
        case("u64_max", u64::MAX, "2**64-1"),
        case("i128_min", i128::MIN, "-2**127"),
        case("u128_max", u128::MAX, "2**128-1"),
        case("f32", 0.5f32, "0.5"),
        case("f64", -0.0f64, "-0.0"),
        case("f64_nan", f64::NAN, "float('nan')"),
        case("f64_inf", f64::INFINITY, "float('inf')"),
        case("char", 'é', "'é'"),
        case(
            "string",
            String::from("héllo\n'\"\\ 🙂"),
            r#"'héllo\n\'"\\ 🙂'"#,
        ),
        case("string_empty", String::new(), "''"),
        case("string_long", "x".repeat(70_000), "'x' * 70000"),
        case(
            "bytes",
            ByteBuf::from(vec![0u8, 1, 255]),
            "b'\\x00\\x01\\xff'",
        ),
        case(
            "bytearray",
            PyByteArray(ByteBuf::from(vec![1u8, 2])),
            "bytearray(b'\\x01\\x02')",
        ),
        case("option_none", None::<i32>, "None"),
        case("option_some", Some(3i32), "3"),
        case("unit", (), "None"),
        case("unit_struct", Unit, "None"),
        case("newtype_struct", Meters(1.5), "1.5"),
        case("vec", vec![1i32, 2, 3], "[1, 2, 3]"),
        case(
            "vec_long",
            (0..2500).collect::<Vec<i64>>(),
            "list(range(2500))",
        ),
        case("tuple", (1i32, String::from("a")), "(1, 'a')"),
        case("tuple_struct", Pair(1, "a".into()), "(1, 'a')"),
        case(
            "map_str",
            BTreeMap::from([("a".to_string(), 1i32), ("b".to_string(), 2)]),
            "{'a': 1, 'b': 2}",
        ),
        case(
            "map_int_keys",
            BTreeMap::from([(1i64, "a".to_string())]),
            "{1: 'a'}",
        ),
        case(
            "map_tuple_keys",
            BTreeMap::from([((1i32, 2i32), 3i32)]),
            "{(1, 2): 3}",
        ),
        case(
            "struct",
            Record {
                id: 7,
                name: "n".into(),
                score: 0.25,
                tags: vec!["a".into()],
            },
            "{'id': 7, 'name': 'n', 'score': 0.25, 'tags': ['a']}",
        ),
        case("enum_unit", Shape::Empty, "'Empty'"),
        case("enum_newtype", Shape::Circle(1.5), "{'Circle': 1.5}"),
        case("enum_tuple", Shape::Pair(1, 2), "{'Pair': (1, 2)}"),
        case(
            "enum_struct",
            Shape::Rect { w: 1, h: 2 },
            "{'Rect': {'w': 1, 'h': 2}}",
        ),
        case(
            "untagged",
            vec![Loose::Num(1), Loose::Text("t".into())],
            "[1, 't']",
        ),
        case(
            "flatten",
            Flat {
                id: 1,
                extra: BTreeMap::from([("k".to_string(), 2)]),
            },
            "{'id': 1, 'k': 2}",
        ),
        case(
            "default_skip",
            Defaults {
                a: 1,
                b: 2,
                c: 0,
                d: None,
            },
            "{'a': 1, 'b': 2}",
        ),
        case("set", PySet(BTreeSet::from([1i32, 2, 3])), "{1, 2, 3}"),
        case(
            "frozenset",
            PyFrozenSet(BTreeSet::from([1i32])),
            "frozenset({1})",
        ),
        case(
            "pyobject",
            PyObject {
                module: "serdecls".into(),
                name: "Point".into(),
                state: Point { x: 1, y: 2.5 },
            },
            "serdecls.Point(1, 2.5)",
        ),
        // A `__slots__` class and a slotted dataclass take `(None, slots)`.
        case(
            "pyslotted",
            PySlotted {
                module: "serdecls".into(),
                name: "SPoint".into(),
                state: Point { x: 5, y: 2.0 },
            },
            "serdecls.SPoint(5, 2.0)",
        ),
        case(
            "pyslotted_dataclass",
            PySlotted {
                module: "serdecls".into(),
                name: "SDPoint".into(),
                state: Point { x: 6, y: -1.0 },
            },
            "serdecls.SDPoint(6, -1.0)",
        ),
        case(
            "pynamedtuple",
            PyNamedTuple {
                module: "serdecls".into(),
                name: "NPoint".into(),
                fields: Point { x: 4, y: 1.5 },
            },
            "serdecls.NPoint(4, 1.5)",
        ),
        case(
            "pynamedtuple_typing",
            PyNamedTuple {
                module: "serdecls".into(),
                name: "TPoint".into(),
                fields: (7i64, 0.25f64),
            },
            "serdecls.TPoint(7, 0.25)",
        ),
        // Python-only shapes read into Rust types
        write_only(case(
            "hashmap",
            HashMap::from([("a".to_string(), 1i32)]),
            "{'a': 1}",
        )),
    ]
}

/// Python objects that only go one way: CPython writes them, Rust reads.
fn read_cases() -> Vec<(&'static str, &'static str, Check)> {
    fn read<T: DeserializeOwned + PartialEq + Debug + 'static>(want: T) -> Check {
        Box::new(move |b| {
            let got: T = from_slice(b).map_err(|e| e.to_string())?;
            if same(&got, &want) {
                Ok(())
            } else {
                Err(format!("read {got:?}, want {want:?}"))
            }
        })
    }
    vec![
        ("instance", "serdecls.Point(1, 2.5)", read(Point { x: 1, y: 2.5 })),
        ("dataclass", "serdecls.DPoint(3, 0.5)", read(Point { x: 3, y: 0.5 })),
        ("namedtuple", "serdecls.NPoint(4, 1.5)", read(Point { x: 4, y: 1.5 })),
        ("slots", "serdecls.SPoint(5, 2.0)", read(Point { x: 5, y: 2.0 })),
        ("set_to_btreeset", "{3, 1, 2}", read(BTreeSet::from([1i64, 2, 3]))),
        ("frozenset_to_vec", "frozenset({7})", read(vec![7i64])),
        ("bytearray_to_bytes", "bytearray(b'ab')", read(ByteBuf::from(b"ab".to_vec()))),
        (
            "ordered_dict",
            "collections.OrderedDict([('z', 1), ('a', 2)])",
            read(vec![("z".to_string(), 1i64), ("a".to_string(), 2)].into_iter().collect::<BTreeMap<_, _>>()),
        ),
        (
            "defaultdict",
            "collections.defaultdict(list, {'k': [1]})",
            read(HashMap::from([("k".to_string(), vec![1i64])])),
        ),
        (
            "counter",
            "collections.Counter('abb')",
            read(HashMap::from([("a".to_string(), 1i64), ("b".to_string(), 2)])),
        ),
        (
            "datetime",
            "datetime.datetime(2024, 2, 29, 13, 45, 59, 123456)",
            read("2024-02-29T13:45:59.123456".to_string()),
        ),
        (
            "datetime_tz",
            "datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)))",
            read("2020-01-01T00:00:00+05:30".to_string()),
        ),
        ("date", "datetime.date(1999, 12, 31)", read("1999-12-31".to_string())),
        ("time", "datetime.time(23, 59, 1, 5)", read("23:59:01.000005".to_string())),
        ("decimal", "decimal.Decimal('3.14')", read("3.14".to_string())),
        (
            "uuid",
            "uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF)",
            read("12345678-90ab-cdef-1234-567890abcdef".to_string()),
        ),
        ("complex", "complex(1.5, -2.0)", read((1.5f64, -2.0f64))),
        (
            "timedelta",
            "datetime.timedelta(days=-3, seconds=7, microseconds=11)",
            read(-3.0 * 86400.0 + 7.0 + 11e-6),
        ),
        ("tuple_to_vec", "(1, 2)", read(vec![1i64, 2])),
        ("big_u64", "2**63 + 5", read((1u64 << 63) + 5)),
    ]
}

const PY_SUPPORT: &str = r#"
import collections, dataclasses, datetime, decimal, uuid, sys, types, pickle, json, math

serdecls = types.ModuleType("serdecls")
sys.modules["serdecls"] = serdecls
exec('''
import dataclasses, collections
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def __eq__(self, o):
        return type(o) is type(self) and vars(o) == vars(self)
@dataclasses.dataclass
class DPoint:
    x: int
    y: float
NPoint = collections.namedtuple("NPoint", "x y")
class SPoint:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def __eq__(self, o):
        return type(o) is type(self) and (o.x, o.y) == (self.x, self.y)
@dataclasses.dataclass(slots=True)
class SDPoint:
    x: int
    y: float
import typing
class TPoint(typing.NamedTuple):
    x: int
    y: float
''', serdecls.__dict__)
for n in ("Point", "DPoint", "NPoint", "SPoint", "SDPoint", "TPoint"):
    getattr(serdecls, n).__module__ = "serdecls"

def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b

env = {"collections": collections, "datetime": datetime, "decimal": decimal, "uuid": uuid, "serdecls": serdecls}
out = []
for job in json.load(sys.stdin):
    want = eval(job["expr"], env)
    res = {"name": job["name"], "proto": job["proto"]}
    if job.get("hex") is not None:
        try:
            got = pickle.loads(bytes.fromhex(job["hex"]))
            res["ok"] = same(got, want)
            res["detail"] = "" if res["ok"] else "loaded %r (%s), want %r (%s)" % (got, type(got).__name__, want, type(want).__name__)
        except Exception as e:
            res["ok"] = False
            res["detail"] = "load failed: %r" % e
    try:
        res["back"] = pickle.dumps(want, job["proto"]).hex()
    except TypeError:  # e.g. __slots__ classes below protocol 2
        res["back"] = None
    out.append(res)
print(json.dumps(out))
"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn mapping_table_against_cpython() {
    if !common::python_available("the serde mapping test") {
        return;
    }
    let py = "python3";
    let cases = cases();
    let reads = read_cases();
    let mut jobs = Vec::new();
    for c in &cases {
        for p in 0..=5u8 {
            jobs.push(format!(
                r#"{{"name":"{}","expr":{:?},"proto":{},"hex":"{}"}}"#,
                c.name,
                c.expr,
                p,
                hex(&(c.dump)(p))
            ));
        }
    }
    for (name, expr, _) in &reads {
        for p in 0..=5u8 {
            jobs.push(format!(
                r#"{{"name":"{name}","expr":{expr:?},"proto":{p},"hex":null}}"#
            ));
        }
    }
    let input = format!("[{}]", jobs.join(","));
    let mut child = Command::new(py)
        .arg("-c")
        .arg(PY_SUPPORT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let results: Vec<PyResult> = parse_results(&text);
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in &results {
        if let Some(false) = r.ok {
            failures.push(format!("{} p{}: Python: {}", r.name, r.proto, r.detail));
        }
        let Some(back) = r.back.as_deref().map(unhex) else {
            continue;
        };
        let check = cases
            .iter()
            .find(|c| c.name == r.name && c.read_back)
            .map(|c| &c.check)
            .or_else(|| {
                reads
                    .iter()
                    .find(|(n, _, _)| *n == r.name)
                    .map(|(_, _, c)| c)
            });
        if let Some(check) = check {
            checked += 1;
            if let Err(e) = check(&back) {
                failures.push(format!("{} p{}: Rust read: {e}", r.name, r.proto));
            }
        }
    }
    assert_eq!(results.len(), (cases.len() + reads.len()) * 6);
    println!("{} results, {} read back in Rust", results.len(), checked);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

struct PyResult {
    name: String,
    proto: u8,
    ok: Option<bool>,
    detail: String,
    back: Option<String>,
}

fn parse_results(text: &str) -> Vec<PyResult> {
    let v: Vec<serde_json::Value> = serde_json::from_str(text).expect("python output is JSON");
    v.iter()
        .map(|r| PyResult {
            name: r["name"].as_str().unwrap().to_string(),
            proto: r["proto"].as_u64().unwrap() as u8,
            ok: r.get("ok").and_then(|v| v.as_bool()),
            detail: r
                .get("detail")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            back: r["back"].as_str().map(str::to_string),
        })
        .collect()
}
