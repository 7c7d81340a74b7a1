//! Any bytes: loading every pickle of them must return, never panic, and an
//! error must say where it happened.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = pickle_codec::loads_all(data) {
        assert!(e.offset().is_some(), "error without an offset: {e}");
    }
});
