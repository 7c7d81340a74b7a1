//! Whatever loads must dump at every protocol that can express it and load
//! back as an equal document; the dump must be a fixed point.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use pickle_codec::{dumps, loads, Document, Instructions, Node};

/// Below protocol 3 names go through CPython's Python 2 mapping, which is
/// not one-to-one (`_pickle` is written `pickle`, `_functools.reduce`
/// `__builtin__.reduce`): such a global comes back under another name, as
/// it does in CPython.
fn has_lossy_py2_name(doc: &Document) -> bool {
    doc.nodes().iter().any(|n| match n {
        Node::Global(g) => {
            let (Some(m), Some(name)) = (doc.get(g.module).as_str(), doc.get(g.name).as_str())
            else {
                return false;
            };
            let (m2, n2) = pickle_codec::compat::to_python2(m, name);
            pickle_codec::compat::to_python3(m2, n2) != (m, name)
        }
        _ => false,
    })
}

fn has_dotted_global(doc: &Document) -> bool {
    doc.nodes().iter().any(|n| match n {
        Node::Global(g) => doc.get(g.name).as_str().is_some_and(|s| s.contains('.')),
        _ => false,
    })
}

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
        // Below protocol 4 a dotted global name (a nested class) is written
        // as `getattr(parent, 'last')`, which loads as a REDUCE: what CPython
        // writes for a nested class, and the only loadable spelling.
        // A call of `_codecs.encode`, `builtins.set`, ... that the input
        // holds as a call is what the pickler writes for bytes, sets, ...
        // below their native protocols, so it loads back as the value there
        // (as the fixed-point check below allows for).
        if protocol >= native
            && (protocol >= 4 || !has_dotted_global(&doc))
            && (protocol >= 3 || !has_lossy_py2_name(&doc))
            && (protocol >= 5 || !common::calls_a_builtin_spelling(&doc))
        {
            assert!(
                again == doc,
                "protocol {protocol}: round trip changed the document"
            );
        }
        let bytes2 = dumps(&again, protocol).unwrap_or_else(|e| {
            panic!("protocol {protocol}: reloaded document does not dump: {e}")
        });
        // A Python 2 name the mapping does not give back (`StringIO.x`
        // loads as `io.x` below protocol 3, as in CPython) is normalised by
        // the first dump, and dumping converges from there.
        let renamed = protocol < 3 && has_lossy_py2_name(&doc);
        if bytes != bytes2 && (renamed || common::calls_a_builtin_spelling(&doc)) {
            common::assert_converges(&bytes2, protocol);
        } else {
            assert_eq!(
                bytes, bytes2,
                "protocol {protocol}: dump is not a fixed point"
            );
        }
    }
});
