//! The streaming serde path against the document path on any bytes: where
//! the stream path gives a value, the document path must give the same one
//! (see `src/de/stream.rs`; the stream path hands everything else over).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pickle_codec::de::paths;
use serde::Deserialize;

#[derive(Deserialize, Debug, PartialEq)]
enum Kind {
    Unit,
    New(i64),
    Tup(u8, String),
    Named { a: Option<i32>, b: Vec<u16> },
}

#[derive(Deserialize, Debug, PartialEq)]
struct Record<'a> {
    id: i128,
    name: &'a str,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    score: f64,
    tags: Vec<String>,
    kind: Kind,
    by_int: BTreeMap<i64, Option<bool>>,
    pair: (u64, char),
}

fn agree<'de, T: Deserialize<'de> + PartialEq + std::fmt::Debug>(data: &'de [u8]) {
    if let Some(streamed) = paths::stream::<T>(data) {
        match paths::document::<T>(data) {
            Ok(doc) => assert_eq!(streamed, doc, "the paths disagree"),
            Err(e) => panic!("stream path gave {streamed:?}, document path fails: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    agree::<Record<'_>>(data);
    agree::<Vec<(i64, String)>>(data);
    agree::<BTreeMap<String, Vec<Option<f64>>>>(data);
    agree::<Vec<Kind>>(data);
    agree::<(Vec<u8>, (i32, i32, i32), Option<&str>)>(data);
});
