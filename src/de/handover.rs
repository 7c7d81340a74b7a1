//! Large payloads handed over to the visitor instead of copied.
//!
//! A document the deserializer owns (one [`super::Unpickler::deserialize`]
//! loaded, as [`super::from_reader`] does for a pickle with a large payload)
//! holds each large str and bytes once, read from the input straight into
//! its own vector. Walking the document lends those bytes to the visitor,
//! which copies them into the value it builds (`ByteBuf`, `String`): for a
//! moment the process holds two copies of a buffer of any size. Instead,
//! payloads from [`HANDOVER_FROM`] bytes on that the walk reaches exactly
//! once are moved out of the document before the walk and given to the
//! visitor by `visit_byte_buf` / `visit_string`.
//!
//! "Exactly once" is decided before the walk: the node is the root, or an
//! item of a list, tuple, set or frozenset or a dict's value (not a key,
//! which error paths quote) of such a container, up to the root, and each
//! node on that path is referred to from one place in the whole document.
//! (An object's arguments are read by its views, not only by the walk, so
//! nothing below an object is handed over.) A value asked for as a standalone pickle
//! ([`super::SUBVALUE_TOKEN`]) gets copies of the payloads not yet handed over.

use std::cell::RefCell;

use crate::value::{Document, Node, NodeId, PyStr, Text, Value};

/// Payloads from this many bytes on are handed over: the size from which
/// the unpickler reads a payload from a reader into a vector of its own.
pub(super) const HANDOVER_FROM: usize = crate::codec::read::OWNED_PAYLOAD as usize;

/// A payload moved out of the document.
pub(super) enum Payload {
    Bytes(Vec<u8>),
    Str(Box<str>),
}

/// The payloads moved out of a document, by node, until the walk takes them.
pub(super) struct Handover {
    /// Sorted by node.
    slots: RefCell<Vec<(NodeId, Option<Payload>)>>,
}

impl Handover {
    /// Move the payloads the walk of `doc` from its root reaches once out
    /// of it (see the module docs); `None` when there is none.
    pub(super) fn take_from(doc: &mut Document) -> Option<Handover> {
        let large = |n: &Node| match n {
            Node::Bytes(b) | Node::ByteArray(b) => b.len() >= HANDOVER_FROM,
            Node::Str(Text::Own(PyStr::Utf8(s))) => s.len() >= HANDOVER_FROM,
            _ => false,
        };
        if !doc.nodes().iter().any(large) {
            return None;
        }
        // How many places refer to each node (the root is one), up to 255: a
        // byte a node, since only "once" matters.
        let mut refs = vec![0u8; doc.len()];
        let mut count = |v: Value| {
            if let Value::Ref(id) = v {
                if let Some(r) = refs.get_mut(id.index()) {
                    *r = r.saturating_add(1);
                }
            }
        };
        count(doc.root_value());
        for n in doc.nodes() {
            n.for_each_child(doc, &mut count);
        }
        // The large payloads reached from the root through containers alone,
        // each referred to once: the walk reaches each of them once.
        let mut found = Vec::new();
        let mut stack = vec![doc.root_value()];
        while let Some(v) = stack.pop() {
            let Value::Ref(id) = v else { continue };
            let Some(n) = doc.nodes().get(id.index()) else {
                continue;
            };
            if refs[id.index()] != 1 {
                continue;
            }
            match n {
                Node::List(items)
                | Node::Tuple(items)
                | Node::Set(items)
                | Node::FrozenSet(items) => stack.extend_from_slice(doc.items(items)),
                Node::Dict(pairs) => stack.extend(doc.pairs(pairs).iter().map(|&(_, v)| v)),
                n if large(n) => found.push(id),
                _ => {}
            }
        }
        if found.is_empty() {
            return None;
        }
        found.sort_unstable();
        let slots = found
            .into_iter()
            .map(|id| {
                let payload = match doc.node_mut(id) {
                    Node::Bytes(b) | Node::ByteArray(b) => Payload::Bytes(std::mem::take(b)),
                    Node::Str(Text::Own(PyStr::Utf8(s))) => Payload::Str(std::mem::take(s)),
                    _ => unreachable!("only large str and bytes nodes are found"),
                };
                (id, Some(payload))
            })
            .collect();
        Some(Handover {
            slots: RefCell::new(slots),
        })
    }

    /// The payload of node `id`, if it was moved out and not yet taken.
    pub(super) fn take(&self, id: NodeId) -> Option<Payload> {
        let mut slots = self.slots.borrow_mut();
        let i = slots.binary_search_by_key(&id, |s| s.0).ok()?;
        slots[i].1.take()
    }

    /// [`Document::extract`] of `v`, with copies of the payloads moved out
    /// of `doc` and not yet taken put back.
    pub(super) fn extract(&self, doc: &Document, v: Value) -> Document {
        let mut sub = Document::new();
        let (root, map) = sub.graft_mapped(doc, v);
        sub.set_root(root);
        for (id, payload) in self.slots.borrow().iter() {
            let (Some(p), Some(Value::Ref(new))) = (payload, map.get(&id.0)) else {
                continue;
            };
            match (sub.node_mut(*new), p) {
                (Node::Bytes(b) | Node::ByteArray(b), Payload::Bytes(p)) => b.clone_from(p),
                (Node::Str(Text::Own(PyStr::Utf8(s))), Payload::Str(p)) => *s = p.clone(),
                _ => {}
            }
        }
        sub
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payloads the walk reaches once are moved out; a standalone copy
    /// of the value still has them until the walk takes them.
    #[test]
    fn moved_payloads_are_put_back_in_extracted_copies() {
        let big = vec![7u8; HANDOVER_FROM];
        let mut doc = Document::new();
        let once = doc.bytes(&big);
        let twice = doc.bytes(&big);
        let small = doc.bytes(b"small");
        let args = doc.tuple([twice]);
        let below_object = doc.reduce("m", "f", [args]);
        let root = doc.list([once, twice, small, below_object]);
        doc.set_root(root);
        let h = Handover::take_from(&mut doc).expect("one payload to hand over");
        let Value::Ref(id) = once else { unreachable!() };
        assert_eq!(doc.node(id), &Node::Bytes(Vec::new()), "moved out");
        let node_of = |d: &Document, v: Value| d.node_of(v).cloned();
        assert_eq!(
            node_of(&doc, twice),
            Some(Node::Bytes(big.clone())),
            "shared: kept"
        );
        let sub = h.extract(&doc, root);
        let Some(Node::List(items)) = node_of(&sub, sub.root_value()) else {
            panic!("a list")
        };
        assert_eq!(
            node_of(&sub, sub.items(&items)[0]),
            Some(Node::Bytes(big.clone())),
            "put back"
        );
        assert!(matches!(h.take(id), Some(Payload::Bytes(b)) if b == big));
        assert!(h.take(id).is_none(), "taken once");
        let Value::Ref(shared) = twice else {
            unreachable!()
        };
        assert!(h.take(shared).is_none());
    }

    #[test]
    fn nothing_to_hand_over_without_a_large_payload() {
        let mut doc = Document::new();
        let b = doc.bytes(&[1; 1000]);
        let s = doc.str("text");
        let root = doc.list([b, s]);
        doc.set_root(root);
        assert!(Handover::take_from(&mut doc).is_none());
    }
}
