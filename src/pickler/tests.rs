//! Unit tests of the pickler; the byte-exact tables against CPython are in
//! `tests/pickler_exact.rs`.

use super::*;

#[test]
fn protocol_above_5_is_an_error() {
    let doc = Document::new();
    assert!(dumps(&doc, 6).is_err());
    assert_eq!(dumps(&doc, 0).unwrap(), b"N.");
    assert_eq!(dumps(&doc, 2).unwrap(), b"\x80\x02N.");
}
