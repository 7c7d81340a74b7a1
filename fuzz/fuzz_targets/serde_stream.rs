//! The streaming serde path against the document path on any bytes: where
//! the stream path gives a value, the document path must give the same one
//! (see `src/de/stream.rs`; the stream path hands everything else over).
#![no_main]

mod typed;

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pickle_codec::de::paths;
use serde::Deserialize;
use typed::{Kind, Record};

fn agree<'de, T: Deserialize<'de> + std::fmt::Debug>(data: &'de [u8]) {
    if let Some(streamed) = paths::stream::<T>(data) {
        match paths::document::<T>(data) {
            // Debug forms, so that NaN equals NaN (and -0.0 differs from 0.0).
            Ok(doc) => assert_eq!(
                format!("{streamed:?}"),
                format!("{doc:?}"),
                "the paths disagree"
            ),
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
