//! What the round-trip targets may accept as a first-dump normalisation.

use pickle_codec::{Document, Node, ObjectKind};

/// A REDUCE of one of the callables CPython uses to spell a built-in type
/// below the protocol with an opcode for it (`builtins.set([..])`,
/// `_codecs.encode(s, 'latin1')`, `bytearray(b)`...). Written at such a
/// protocol it is read back as the plain set / bytes / bytearray, which then
/// dumps in CPython's spelling: the first dump normalises, later dumps are
/// fixed points.
pub fn calls_a_builtin_spelling(doc: &Document) -> bool {
    doc.nodes().iter().any(|n| match n {
        Node::Object(o) if o.kind == ObjectKind::Reduce => matches!(
            doc.get(o.callable).as_global(),
            Some(("builtins", "set" | "frozenset" | "bytes" | "bytearray") | ("_codecs", "encode"))
        ),
        _ => false,
    })
}

/// Dump, load and dump again: the bytes must not change any more.
pub fn assert_converges(bytes2: &[u8], protocol: u8) {
    let again = pickle_codec::loads(bytes2).expect("normalised output loads");
    let bytes3 = pickle_codec::dumps(&again, protocol).expect("normalised document dumps");
    assert_eq!(
        bytes2,
        &bytes3[..],
        "protocol {protocol}: not a fixed point after normalisation"
    );
}
