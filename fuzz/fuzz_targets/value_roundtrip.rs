//! A generated document (sharing, cycles, every node kind) dumps at every
//! protocol; whatever dumps must load back, equal to the original at every
//! protocol that has all its node kinds natively, and dump again to the same
//! bytes (a fixed point).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use pickle_codec::{dumps, loads, Document, Node, ObjectKind};

/// True if some object is reachable from its own callable, arguments or
/// keyword arguments, or some persistent id from its own id (a cycle
/// through a constructor: `persistent_load(pid)` is a call too, and
/// CPython's pickler cannot write such an id at all).
fn has_self_constructing_object(doc: &Document) -> bool {
    use pickle_codec::Value;
    doc.nodes().iter().enumerate().any(|(i, n)| {
        let mut todo = match n {
            Node::Object(o) => {
                let mut todo = vec![o.callable, o.args];
                todo.extend(o.kwargs);
                todo
            }
            Node::PersistentId(pid) => vec![*pid],
            _ => return false,
        };
        let mut seen = vec![false; doc.len()];
        while let Some(v) = todo.pop() {
            let Value::Ref(id) = v else { continue };
            if id.index() == i {
                return true;
            }
            if std::mem::replace(&mut seen[id.index()], true) {
                continue;
            }
            doc.node(id).for_each_child(doc, |c| todo.push(c));
        }
        false
    })
}

fuzz_target!(|doc: Document| {
    let native = native_protocol(&doc);
    let self_constructing = has_self_constructing_object(&doc);
    for protocol in 0..=5u8 {
        let Ok(bytes) = dumps(&doc, protocol) else {
            continue;
        };
        let again = loads(&bytes)
            .unwrap_or_else(|e| panic!("protocol {protocol}: our own output does not load: {e}"));
        if native.is_some_and(|n| protocol >= n) {
            assert!(
                again == doc,
                "protocol {protocol}: round trip changed the document"
            );
        }
        let bytes2 = dumps(&again, protocol).unwrap_or_else(|e| {
            panic!("protocol {protocol}: reloaded document does not dump: {e}")
        });
        if self_constructing || (bytes != bytes2 && common::calls_a_builtin_spelling(&doc)) {
            // An object inside its own constructor arguments cannot be
            // written as such: like CPython, the pickler writes the inner
            // construction and refers to it (POP + GET), so the first dump
            // normalises the graph, and from then on dumping is a fixed point.
            common::assert_converges(&bytes2, protocol);
        } else {
            assert_eq!(
                bytes, bytes2,
                "protocol {protocol}: dump is not a fixed point"
            );
        }
    }
});

/// The lowest protocol with an opcode for every node kind of `doc`, below
/// which the pickler must fall back on a REDUCE (bytes as `_codecs.encode`,
/// sets as `builtins.set`, nested classes through `getattr`...) that loads
/// back as an object node. `None` when no protocol keeps it all: buffers are
/// written in band and load back as bytes or bytearray.
fn native_protocol(doc: &Document) -> Option<u8> {
    let mut p = 0;
    for node in doc.nodes() {
        let need = match node {
            Node::Buffer(_) => return None,
            Node::ByteArray(_) => 5,
            Node::Set(_) | Node::FrozenSet(_) => 4,
            Node::Global(g) => {
                let dotted = doc.get(g.name).as_str().is_some_and(|n| n.contains('.'));
                if dotted {
                    4
                } else {
                    0
                }
            }
            Node::Bytes(_) => 3,
            Node::Object(o) => match o.kind {
                ObjectKind::NewObjEx => 4,
                ObjectKind::NewObj => 2,
                ObjectKind::Obj => 1,
                ObjectKind::Reduce | ObjectKind::Inst => 0,
            },
            Node::Extension(_) => 2,
            Node::PersistentId(_) => 1,
            _ => 0,
        };
        p = p.max(need);
    }
    Some(p)
}
