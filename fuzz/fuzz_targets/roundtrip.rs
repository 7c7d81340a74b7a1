//! Whatever loads must dump at every protocol that can express it and load
//! back as an equal document; the dump must be a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pickle_codec::{dumps, loads, Instructions};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = loads(data) else { return };
    // At or above the highest protocol the input's opcodes need, nothing
    // has to change representation (bytes at protocol < 3 become a
    // `_codecs.encode` REDUCE, sets at protocol < 4 a `builtins.set` one...).
    let native = Instructions::new(data)
        .filter_map(|i| i.ok())
        .map(|i| i.op.protocol())
        .max()
        .unwrap_or(0);
    for protocol in 0..=5u8 {
        let Ok(bytes) = dumps(&doc, protocol) else {
            continue;
        };
        let again = loads(&bytes)
            .unwrap_or_else(|e| panic!("protocol {protocol}: our own output does not load: {e}"));
        if protocol >= native {
            assert!(
                again == doc,
                "protocol {protocol}: round trip changed the document"
            );
        }
        let bytes2 = dumps(&again, protocol).unwrap_or_else(|e| {
            panic!("protocol {protocol}: reloaded document does not dump: {e}")
        });
        assert_eq!(
            bytes, bytes2,
            "protocol {protocol}: dump is not a fixed point"
        );
    }
});
