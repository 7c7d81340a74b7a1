//! Property tests: `T -> pickle -> T` at every protocol.

use std::collections::BTreeMap;

use pickle_codec::{from_slice, to_vec_with, DumpOptions};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Kind {
    Unit,
    New(i64),
    Tup(u8, String),
    Named { a: Option<i32>, b: Vec<u16> },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Inner {
    name: String,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    weight: f64,
    kind: Kind,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Outer {
    id: i128,
    big: u128,
    small: i8,
    flag: bool,
    ch: char,
    inner: Vec<Inner>,
    by_int: BTreeMap<i64, String>,
    by_tuple: BTreeMap<(u8, bool), f32>,
    by_str: BTreeMap<String, Option<Inner>>,
    pair: (u64, i16),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Unit),
        any::<i64>().prop_map(Kind::New),
        (any::<u8>(), ".{0,20}").prop_map(|(a, b)| Kind::Tup(a, b)),
        (
            any::<Option<i32>>(),
            prop::collection::vec(any::<u16>(), 0..5)
        )
            .prop_map(|(a, b)| Kind::Named { a, b }),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::MIN_POSITIVE)
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        ".{0,40}",
        Just("é".repeat(300)),
        Just("x".repeat(70_000))
    ]
}

fn inner() -> impl Strategy<Value = Inner> {
    (
        text(),
        prop::collection::vec(any::<u8>(), 0..300),
        float(),
        kind(),
    )
        .prop_map(|(name, blob, weight, kind)| Inner {
            name,
            blob,
            weight,
            kind,
        })
}

fn outer() -> impl Strategy<Value = Outer> {
    (
        prop_oneof![any::<i128>(), Just(i128::MIN), Just(i128::MAX)],
        prop_oneof![any::<u128>(), Just(u128::MAX), Just(0)],
        any::<i8>(),
        any::<bool>(),
        any::<char>(),
        prop::collection::vec(inner(), 0..3),
        prop::collection::btree_map(any::<i64>(), ".{0,5}", 0..5),
        prop::collection::btree_map(
            (any::<u8>(), any::<bool>()),
            any::<f32>().prop_filter("no NaN keys needed", |f| !f.is_nan()),
            0..4,
        ),
        prop::collection::btree_map(".{0,8}", prop::option::of(inner()), 0..3),
        (any::<u64>(), any::<i16>()),
    )
        .prop_map(
            |(id, big, small, flag, ch, inner, by_int, by_tuple, by_str, pair)| Outer {
                id,
                big,
                small,
                flag,
                ch,
                inner,
                by_int,
                by_tuple,
                by_str,
                pair,
            },
        )
}

/// Equality that treats NaN as equal to NaN (through the Debug form).
fn same(a: &Outer, b: &Outer) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn typed_round_trip_every_protocol(v in outer()) {
        for p in 0..=5u8 {
            let bytes = to_vec_with(&v, DumpOptions::new(p)).unwrap();
            let back: Outer = from_slice(&bytes).unwrap();
            prop_assert!(same(&v, &back), "protocol {}: {:?} != {:?}", p, v, back);
        }
    }
}
