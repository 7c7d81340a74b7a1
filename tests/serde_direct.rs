//! The direct serializer (`to_vec`, `to_writer`, ...) writes byte for byte
//! what the pickler writes for `to_value`'s document, at every protocol:
//! arbitrary serde-shaped values (property tests), batching thresholds,
//! frame boundaries, and the shapes where it gives up and the document path
//! takes over (same bytes, same errors).

use std::collections::{BTreeMap, HashMap};

use pickle_codec::ser::to_vec_direct;
use pickle_codec::{
    dumps_with, to_document, to_vec_with, to_writer_with, DumpOptions, PyByteArray, PyFrozenSet,
    PyObject, PySet,
};
use proptest::prelude::*;
use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant,
};
use serde::{Serialize, Serializer};

/// What the document path writes (or its error message).
fn via_document<T: Serialize + ?Sized>(v: &T, p: u8, fix_imports: bool) -> Result<Vec<u8>, String> {
    let doc = to_document(v).map_err(|e| e.to_string())?;
    let mut o = DumpOptions::new(p).fix_imports(fix_imports);
    dumps_with(&doc, &mut o).map_err(|e| e.to_string())
}

fn options(p: u8, fix_imports: bool) -> DumpOptions {
    DumpOptions::new(p).fix_imports(fix_imports)
}

/// The public writers agree with the document path at every protocol
/// (bytes or error message); returns whether the direct walk wrote every
/// protocol itself (without giving up).
fn same_everywhere<T: Serialize + ?Sized>(v: &T) -> bool {
    let mut all_direct = true;
    for p in 0..=5u8 {
        for fix in [true, false] {
            let want = via_document(v, p, fix);
            let got = to_vec_with(v, options(p, fix)).map_err(|e| e.to_string());
            assert_eq!(got, want, "protocol {p}, fix_imports {fix}");
            let mut w = Vec::new();
            let streamed = to_writer_with(&mut w, v, options(p, fix)).map(|()| w);
            assert_eq!(streamed.map_err(|e| e.to_string()), want);
            match to_vec_direct(v, p, fix) {
                Ok(direct) => assert_eq!(Ok(direct), want, "direct, protocol {p}"),
                Err(_) => all_direct = false,
            }
        }
    }
    all_direct
}

/// Same bytes as the document path, written by the direct walk itself.
#[track_caller]
fn direct_everywhere<T: Serialize + ?Sized>(v: &T) {
    assert!(same_everywhere(v), "the direct walk gave up");
}

// ---------------------------------------------------------------------
// An arbitrary value of the serde data model.

const NAMES: &[&str] = &["a", "id", "name", "é", "Variant", "tags", "x_long_name_"];

fn long_name() -> &'static str {
    // Interned names longer than SHORT_BINUNICODE's 255 bytes.
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| "n".repeat(300)).as_str()
}

#[derive(Clone, Debug)]
enum Dyn {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    I128(i128),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    F32(f32),
    F64(f64),
    Char(char),
    Str(String),
    Bytes(Vec<u8>),
    None,
    Some(Box<Dyn>),
    Unit,
    UnitStruct,
    UnitVariant(&'static str),
    NewtypeStruct(Box<Dyn>),
    NewtypeVariant(&'static str, Box<Dyn>),
    Seq(Vec<Dyn>),
    /// A sequence whose length serde does not announce.
    SeqNoLen(Vec<Dyn>),
    Tuple(Vec<Dyn>),
    TupleStruct(Vec<Dyn>),
    TupleVariant(&'static str, Vec<Dyn>),
    Map(Vec<(Dyn, Dyn)>),
    MapNoLen(Vec<(Dyn, Dyn)>),
    Struct(Vec<(&'static str, Dyn)>),
    StructVariant(&'static str, Vec<(&'static str, Dyn)>),
}

impl Serialize for Dyn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dyn::Bool(v) => s.serialize_bool(*v),
            Dyn::I8(v) => s.serialize_i8(*v),
            Dyn::I16(v) => s.serialize_i16(*v),
            Dyn::I32(v) => s.serialize_i32(*v),
            Dyn::I64(v) => s.serialize_i64(*v),
            Dyn::I128(v) => s.serialize_i128(*v),
            Dyn::U8(v) => s.serialize_u8(*v),
            Dyn::U16(v) => s.serialize_u16(*v),
            Dyn::U32(v) => s.serialize_u32(*v),
            Dyn::U64(v) => s.serialize_u64(*v),
            Dyn::U128(v) => s.serialize_u128(*v),
            Dyn::F32(v) => s.serialize_f32(*v),
            Dyn::F64(v) => s.serialize_f64(*v),
            Dyn::Char(v) => s.serialize_char(*v),
            Dyn::Str(v) => s.serialize_str(v),
            Dyn::Bytes(v) => s.serialize_bytes(v),
            Dyn::None => s.serialize_none(),
            Dyn::Some(v) => s.serialize_some(v),
            Dyn::Unit => s.serialize_unit(),
            Dyn::UnitStruct => s.serialize_unit_struct("U"),
            Dyn::UnitVariant(n) => s.serialize_unit_variant("E", 0, n),
            Dyn::NewtypeStruct(v) => s.serialize_newtype_struct("N", v),
            Dyn::NewtypeVariant(n, v) => s.serialize_newtype_variant("E", 1, n, v),
            Dyn::Seq(items) => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    q.serialize_element(i)?;
                }
                q.end()
            }
            Dyn::SeqNoLen(items) => {
                let mut q = s.serialize_seq(None)?;
                for i in items {
                    q.serialize_element(i)?;
                }
                q.end()
            }
            Dyn::Tuple(items) => {
                let mut q = s.serialize_tuple(items.len())?;
                for i in items {
                    q.serialize_element(i)?;
                }
                q.end()
            }
            Dyn::TupleStruct(items) => {
                let mut q = s.serialize_tuple_struct("T", items.len())?;
                for i in items {
                    q.serialize_field(i)?;
                }
                q.end()
            }
            Dyn::TupleVariant(n, items) => {
                let mut q = s.serialize_tuple_variant("E", 2, n, items.len())?;
                for i in items {
                    q.serialize_field(i)?;
                }
                q.end()
            }
            Dyn::Map(pairs) => {
                let mut m = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Dyn::MapNoLen(pairs) => {
                let mut m = s.serialize_map(None)?;
                for (k, v) in pairs {
                    m.serialize_key(k)?;
                    m.serialize_value(v)?;
                }
                m.end()
            }
            Dyn::Struct(fields) => {
                let mut m = s.serialize_struct("S", fields.len())?;
                for (k, v) in fields {
                    m.serialize_field(k, v)?;
                }
                m.end()
            }
            Dyn::StructVariant(n, fields) => {
                let mut m = s.serialize_struct_variant("E", 3, n, fields.len())?;
                for (k, v) in fields {
                    m.serialize_field(k, v)?;
                }
                m.end()
            }
        }
    }
}

/// True if the direct walk may give up on `v` at protocol 1+: a list or map
/// of unannounced length that holds exactly one item (whose bytes depend on
/// the count), or a key that is unhashable.
fn may_give_up(v: &Dyn) -> bool {
    match v {
        Dyn::SeqNoLen(items) => items.len() == 1 || items.iter().any(may_give_up),
        Dyn::MapNoLen(pairs) => pairs.len() == 1 || pairs_may_give_up(pairs),
        Dyn::Map(pairs) => pairs_may_give_up(pairs),
        Dyn::Some(v) | Dyn::NewtypeStruct(v) | Dyn::NewtypeVariant(_, v) => may_give_up(v),
        Dyn::Seq(items)
        | Dyn::Tuple(items)
        | Dyn::TupleStruct(items)
        | Dyn::TupleVariant(_, items) => items.iter().any(may_give_up),
        Dyn::Struct(f) | Dyn::StructVariant(_, f) => f.iter().any(|(_, v)| may_give_up(v)),
        _ => false,
    }
}

fn pairs_may_give_up(pairs: &[(Dyn, Dyn)]) -> bool {
    pairs
        .iter()
        .any(|(k, v)| !hashable(k) || may_give_up(k) || may_give_up(v))
}

/// Whether Python could hash the object `v` becomes.
fn hashable(v: &Dyn) -> bool {
    match v {
        Dyn::Seq(_)
        | Dyn::SeqNoLen(_)
        | Dyn::Map(_)
        | Dyn::MapNoLen(_)
        | Dyn::Struct(_)
        | Dyn::StructVariant(..)
        | Dyn::NewtypeVariant(..)
        | Dyn::TupleVariant(..) => false,
        Dyn::Some(v) | Dyn::NewtypeStruct(v) => hashable(v),
        Dyn::Tuple(items) | Dyn::TupleStruct(items) => items.iter().all(hashable),
        _ => true,
    }
}

fn name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => prop::sample::select(NAMES),
        1 => Just(()).prop_map(|()| long_name()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ".{0,12}",
        1 => Just(String::new()),
        1 => "[a-z\\\\\n\r\u{1a}\0é漢🙂]{0,20}",
        1 => (250usize..260).prop_map(|n| "é".repeat(n / 2)),
        1 => (65_530usize..65_540).prop_map(|n| "x".repeat(n)),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..40),
        1 => Just(Vec::new()),
        1 => (250usize..260).prop_map(|n| vec![0xe9; n]),
        1 => (65_530usize..65_540).prop_map(|n| (0..n).map(|i| i as u8).collect()),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e16),
        Just(5e-324),
    ]
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i32::MIN as i64),
        Just(i32::MAX as i64),
        Just(i32::MAX as i64 + 1),
        -300i64..70_000,
    ]
}

fn scalar() -> impl Strategy<Value = Dyn> {
    prop_oneof![
        any::<bool>().prop_map(Dyn::Bool),
        any::<i8>().prop_map(Dyn::I8),
        any::<i16>().prop_map(Dyn::I16),
        any::<i32>().prop_map(Dyn::I32),
        int64().prop_map(Dyn::I64),
        prop_oneof![any::<i128>(), Just(i128::MIN), Just(i128::MAX), Just(-1)].prop_map(Dyn::I128),
        any::<u8>().prop_map(Dyn::U8),
        any::<u16>().prop_map(Dyn::U16),
        any::<u32>().prop_map(Dyn::U32),
        prop_oneof![any::<u64>(), Just(u64::MAX), Just(1u64 << 63)].prop_map(Dyn::U64),
        prop_oneof![any::<u128>(), Just(u128::MAX)].prop_map(Dyn::U128),
        any::<f32>().prop_map(Dyn::F32),
        float().prop_map(Dyn::F64),
        any::<char>().prop_map(Dyn::Char),
        text().prop_map(Dyn::Str),
        bytes().prop_map(Dyn::Bytes),
        Just(Dyn::None),
        Just(Dyn::Unit),
        Just(Dyn::UnitStruct),
        name().prop_map(Dyn::UnitVariant),
    ]
}

/// A dict key: hashable, or (rarely) not, to check that the errors agree.
fn key(inner: BoxedStrategy<Dyn>) -> impl Strategy<Value = Dyn> {
    prop_oneof![
        12 => scalar(),
        2 => prop::collection::vec(scalar(), 0..4).prop_map(Dyn::Tuple),
        1 => inner,
    ]
}

fn value() -> impl Strategy<Value = Dyn> {
    scalar().prop_recursive(4, 64, 6, |inner| {
        let items = || prop::collection::vec(inner.clone(), 0..6);
        let fields = || prop::collection::vec((name(), inner.clone()), 0..5);
        let pairs = || prop::collection::vec((key(inner.clone()), inner.clone()), 0..5);
        prop_oneof![
            inner.clone().prop_map(|v| Dyn::Some(Box::new(v))),
            inner.clone().prop_map(|v| Dyn::NewtypeStruct(Box::new(v))),
            (name(), inner.clone()).prop_map(|(n, v)| Dyn::NewtypeVariant(n, Box::new(v))),
            items().prop_map(Dyn::Seq),
            items().prop_map(Dyn::SeqNoLen),
            items().prop_map(Dyn::Tuple),
            items().prop_map(Dyn::TupleStruct),
            (name(), items()).prop_map(|(n, v)| Dyn::TupleVariant(n, v)),
            pairs().prop_map(Dyn::Map),
            pairs().prop_map(Dyn::MapNoLen),
            fields().prop_map(Dyn::Struct),
            (name(), fields()).prop_map(|(n, f)| Dyn::StructVariant(n, f)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_values_match_the_document_path(v in value()) {
        let all_direct = same_everywhere(&v);
        if !may_give_up(&v) {
            prop_assert!(all_direct, "the direct walk gave up on {v:?}");
        }
    }
}

// ---------------------------------------------------------------------
// Typed data as users write it.

#[derive(Serialize, Clone)]
struct Record {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<String>,
}

#[derive(Serialize)]
enum Kind {
    Unit,
    New(i64),
    Tup(u8, String),
    Empty(),
    Named { a: Option<i32>, b: Vec<u16> },
}

#[derive(Serialize)]
struct Everything {
    id: i128,
    big: u128,
    small: i8,
    flag: bool,
    ch: char,
    kinds: Vec<Kind>,
    by_int: BTreeMap<i64, String>,
    by_tuple: BTreeMap<(u8, bool), f32>,
    by_kind: BTreeMap<String, Kind>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    opt: Option<Box<Everything>>,
    unit: (),
    pair: (u64, i16),
    five: (u8, u8, u8, u8, u8),
}

fn record(i: i64) -> Record {
    Record {
        id: i,
        name: format!("user{i}"),
        score: i as f64 * 0.5,
        tags: vec!["a".into(), "b".into()],
    }
}

#[test]
fn derived_types() {
    let inner = Everything {
        id: -(1i128 << 100),
        big: u128::MAX,
        small: -5,
        flag: true,
        ch: '🙂',
        kinds: vec![
            Kind::Unit,
            Kind::New(i64::MIN),
            Kind::Tup(7, "é".into()),
            Kind::Empty(),
            Kind::Named {
                a: None,
                b: vec![1, 2, 3],
            },
            Kind::Unit,
        ],
        by_int: (0..5).map(|i| (i, i.to_string())).collect(),
        by_tuple: [((1, true), 0.5), ((2, false), f32::NAN)]
            .into_iter()
            .collect(),
        by_kind: [("k".into(), Kind::New(1))].into_iter().collect(),
        blob: b"\x00\xff abc".to_vec(),
        opt: None,
        unit: (),
        pair: (u64::MAX, -1),
        five: (1, 2, 3, 4, 5),
    };
    let outer = Everything {
        opt: Some(Box::new(inner)),
        blob: Vec::new(),
        kinds: vec![],
        by_int: BTreeMap::new(),
        by_tuple: BTreeMap::new(),
        by_kind: BTreeMap::new(),
        id: 0,
        big: 1,
        small: 0,
        flag: false,
        ch: 'x',
        unit: (),
        pair: (1, 1),
        five: (0, 0, 0, 0, 0),
    };
    direct_everywhere(&outer);
    direct_everywhere(&vec![record(1), record(2), record(3)]);
    direct_everywhere(&Some(5u8));
    direct_everywhere(&());
    direct_everywhere(&"");
    direct_everywhere(&serde_bytes::ByteBuf::new());
    direct_everywhere(&[
        serde_bytes::ByteBuf::new(),
        serde_bytes::ByteBuf::from(vec![7]),
    ]);
    let h: HashMap<String, i64> = (0..50).map(|i| (format!("key{i}"), i)).collect();
    direct_everywhere(&h);
}

// ---------------------------------------------------------------------
// Batching: 1000 items per APPENDS/SETITEMS, a single item without MARK,
// an empty batch after a dict of a multiple of 1000 pairs.

const COUNTS: &[usize] = &[0, 1, 2, 3, 4, 999, 1000, 1001, 1999, 2000, 2001];

#[test]
fn batch_thresholds() {
    for &n in COUNTS {
        direct_everywhere(&(0..n as i64).collect::<Vec<i64>>());
        direct_everywhere(&(0..n).map(|i| format!("s{i}")).collect::<Vec<String>>());
        direct_everywhere(&(0..n as i64).map(record).collect::<Vec<Record>>());
        direct_everywhere(
            &(0..n as i64)
                .map(|i| (i, -i))
                .collect::<BTreeMap<i64, i64>>(),
        );
        direct_everywhere(
            &(0..n)
                .map(|i| (format!("k{i}"), vec![i as u8]))
                .collect::<BTreeMap<String, Vec<u8>>>(),
        );
        // Lengths serde does not know: the same bytes, except that a single
        // item is left to the document path.
        let unknown = Dyn::SeqNoLen((0..n as i64).map(Dyn::I64).collect());
        let map = Dyn::MapNoLen((0..n as i64).map(|i| (Dyn::I64(i), Dyn::None)).collect());
        assert_eq!(same_everywhere(&unknown), n != 1, "{n}");
        assert_eq!(same_everywhere(&map), n != 1, "{n}");
    }
}

// ---------------------------------------------------------------------
// Frames (protocol 4+): committed at value starts once 64 KiB are written,
// payloads of 64 KiB or more outside frames.

#[test]
fn frame_boundaries() {
    for n in (65_520..65_545).chain([0, 1, 255, 256, 131_072, 131_073]) {
        // A long str or bytes after a little framed data, then more items.
        direct_everywhere(&(vec![1i64, 2], "x".repeat(n), vec![3u8; 4]));
        direct_everywhere(&(
            7i32,
            serde_bytes::ByteBuf::from(vec![5u8; n]),
            "tail".to_string(),
        ));
        // Small items whose total crosses 64 KiB at every offset.
        let filler = "y".repeat(n % 300);
        let items: Vec<String> = (0..300).map(|_| filler.clone()).collect();
        direct_everywhere(&(items, n as i64));
    }
    // Many ints and records: many frames, each committed at an item start.
    direct_everywhere(
        &(0..200_000i64)
            .map(|i| i * 7919 - 3_000_000)
            .collect::<Vec<_>>(),
    );
    direct_everywhere(&(0..20_000i64).map(record).collect::<Vec<_>>());
    // Bytes below protocol 3 (`_codecs.encode`) of frame-sized payloads.
    direct_everywhere(&vec![serde_bytes::ByteBuf::from(vec![0xe9u8; 70_000]); 3]);
}

// ---------------------------------------------------------------------
// Shapes left to the document path: the same bytes or the same errors.

struct BadLen {
    announced: usize,
    written: usize,
    kind: u8,
}

impl Serialize for BadLen {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.kind {
            0 => {
                let mut q = s.serialize_seq(Some(self.announced))?;
                for i in 0..self.written {
                    q.serialize_element(&i)?;
                }
                q.end()
            }
            1 => {
                let mut q = s.serialize_tuple(self.announced)?;
                for i in 0..self.written {
                    q.serialize_element(&i)?;
                }
                q.end()
            }
            2 => {
                let mut m = s.serialize_map(Some(self.announced))?;
                for i in 0..self.written {
                    m.serialize_entry(&i, &i)?;
                }
                m.end()
            }
            _ => {
                let mut m = s.serialize_struct("S", self.announced)?;
                for &k in NAMES.iter().cycle().take(self.written) {
                    m.serialize_field(k, &1)?;
                }
                m.end()
            }
        }
    }
}

#[test]
fn wrong_length_hints() {
    for kind in 0..4 {
        for announced in 0..5 {
            for written in 0..5 {
                same_everywhere(&BadLen {
                    announced,
                    written,
                    kind,
                });
            }
        }
    }
}

struct OddMap(u8);

impl Serialize for OddMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            0 => m.serialize_value(&1)?,
            1 => {
                m.serialize_key(&1)?;
                m.serialize_key(&2)?;
                m.serialize_value(&3)?;
            }
            _ => m.serialize_key(&1)?,
        }
        m.end()
    }
}

struct Fails;

impl Serialize for Fails {
    fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value refuses"))
    }
}

#[test]
fn fallbacks_and_errors() {
    for k in 0..3 {
        same_everywhere(&OddMap(k));
    }
    // Unhashable keys: the pickler's error, even when another error follows.
    let bad_key = Dyn::Map(vec![(Dyn::Seq(vec![]), Dyn::I64(1))]);
    assert!(!same_everywhere(&bad_key));
    assert!(to_vec_with(&bad_key, DumpOptions::new(4))
        .unwrap_err()
        .to_string()
        .contains("unhashable type: 'list'"));
    let nested = Dyn::Map(vec![(
        Dyn::Tuple(vec![Dyn::I64(1), Dyn::Struct(vec![])]),
        Dyn::I64(1),
    )]);
    assert!(!same_everywhere(&nested));
    same_everywhere(&(bad_key, Fails));
    same_everywhere(&vec![Fails]);
    // The py.rs wrappers, alone and inside direct shapes.
    same_everywhere(&PySet(vec![1, 2]));
    same_everywhere(&vec![PyFrozenSet(vec![3]), PyFrozenSet(vec![])]);
    same_everywhere(&(1, PyByteArray(b"ab".to_vec())));
    same_everywhere(&PyObject {
        module: "m".into(),
        name: "C".into(),
        state: record(1),
    });
    // Protocols out of range: the same error.
    for p in [6u8, 255] {
        let want = via_document(&1, p, true);
        assert!(want.is_err());
        assert_eq!(
            to_vec_with(&1, DumpOptions::new(p)).map_err(|e| e.to_string()),
            want
        );
    }
}
