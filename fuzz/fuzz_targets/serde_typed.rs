//! Any bytes deserialized into a representative typed struct through serde:
//! no panic, no hang, and whatever deserializes serializes back and
//! deserializes to the same value.
#![no_main]

use std::borrow::Cow;
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Kind {
    Unit,
    New(i64),
    Tup(u8, String),
    Named { a: Option<i32>, b: Vec<u16> },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Record<'a> {
    id: i128,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    score: f64,
    tags: Vec<String>,
    kind: Kind,
    by_int: BTreeMap<i64, Option<bool>>,
    pair: (u64, char),
}

fuzz_target!(|data: &[u8]| {
    let Ok(r) = pickle_codec::from_slice::<Record<'_>>(data) else {
        return;
    };
    for p in 0..=5u8 {
        let bytes = pickle_codec::to_vec_with(&r, pickle_codec::DumpOptions::new(p))
            .unwrap_or_else(|e| panic!("protocol {p}: typed value does not dump: {e}"));
        let back: Record<'_> = pickle_codec::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("protocol {p}: our own output does not load: {e}"));
        // NaN scores compare unequal: compare the Debug forms.
        assert_eq!(format!("{r:?}"), format!("{back:?}"), "protocol {p}");
    }
});
