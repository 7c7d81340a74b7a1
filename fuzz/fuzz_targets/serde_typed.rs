//! Any bytes deserialized into a representative typed struct through serde:
//! no panic, no hang, and whatever deserializes serializes back and
//! deserializes to the same value.
#![no_main]

mod typed;

use libfuzzer_sys::fuzz_target;
use typed::Record;

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
