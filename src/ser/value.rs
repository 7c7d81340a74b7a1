//! `Serialize` for a document's values: exact into this crate's pickles
//! (the value is copied whole into the document being built, see
//! [`DOCUMENT_TOKEN`]), a tree for any other serde format.

use std::collections::HashSet;

use serde::ser::{Error as _, SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::python::types::{hand_over, take_handed, Handoff, DOCUMENT_TOKEN};
use crate::value::{Document, Kind, Value, ValueRef};

/// Deepest nesting [`Serialize`] for values walks (each level is a native call).
const SERIALIZE_DEPTH: usize = 512;

struct Walk<'a, 'p> {
    v: ValueRef<'a>,
    /// Nodes on the path from the root: a cycle cannot be serialized as a tree.
    path: &'p std::cell::RefCell<HashSet<u32>>,
    depth: usize,
}

impl<'a, 'p> Walk<'a, 'p> {
    fn child(&self, v: Value) -> Walk<'a, 'p> {
        Walk {
            v: self.v.at(v),
            path: self.path,
            depth: self.depth + 1,
        }
    }
}

impl Serialize for ValueRef<'_> {
    /// This crate's serializers copy the value whole, with its sharing,
    /// cycles, tuples, sets and objects, so [`crate::to_vec`] of a document
    /// writes what [`crate::dumps`] at protocol 4 writes.
    ///
    /// Other formats get a tree: str, int, float, bool, None, bytes,
    /// sequences (list, tuple, set, frozenset) and maps (dict); objects as a
    /// map `{"class": "module.name", "args": [...], "state": ...}`. A cycle,
    /// or nesting deeper than 512, is an error there.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(DOCUMENT_TOKEN, &Exact(*self))
    }
}

impl Serialize for Document {
    /// As [`ValueRef`]'s: the root, exact with this crate, a tree elsewhere.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.root().serialize(s)
    }
}

/// The value under [`DOCUMENT_TOKEN`]: copied into the document this crate's
/// builder handed over, or walked as a tree for any other serializer.
struct Exact<'a>(ValueRef<'a>);

impl Serialize for Exact<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match take_handed() {
            Some(Handoff::Target(mut doc)) => {
                let v = doc.graft(self.0.document(), self.0.value());
                hand_over(Handoff::Copied(doc, v));
                s.serialize_unit()
            }
            other => {
                if let Some(h) = other {
                    hand_over(h);
                }
                let path = std::cell::RefCell::new(HashSet::new());
                Walk {
                    v: self.0,
                    path: &path,
                    depth: 0,
                }
                .serialize(s)
            }
        }
    }
}

impl Serialize for Walk<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.depth > SERIALIZE_DEPTH {
            return Err(S::Error::custom("value nested deeper than 512 levels"));
        }
        let id = match self.v.value() {
            Value::Ref(id) => Some(id.0),
            _ => None,
        };
        if let Some(id) = id {
            if !self.path.borrow_mut().insert(id) {
                return Err(S::Error::custom(
                    "cannot serialize a cyclic value as a tree",
                ));
            }
        }
        let r = self.serialize_inner(s);
        if let Some(id) = id {
            self.path.borrow_mut().remove(&id);
        }
        r
    }
}

impl Walk<'_, '_> {
    fn serialize_inner<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let seq = |s: S, items: &[Value]| {
            let mut q = s.serialize_seq(Some(items.len()))?;
            for &i in items {
                q.serialize_element(&self.child(i))?;
            }
            q.end()
        };
        match self.v.kind() {
            Kind::None => s.serialize_none(),
            Kind::Bool(b) => s.serialize_bool(b),
            Kind::Int(i) => s.serialize_i64(i),
            Kind::BigInt(b) => match i128::try_from(b) {
                Ok(i) => s.serialize_i128(i),
                Err(_) => match u128::try_from(b) {
                    Ok(u) => s.serialize_u128(u),
                    Err(_) => s.serialize_str(&b.to_string()),
                },
            },
            Kind::Float(f) => s.serialize_f64(f),
            Kind::Str(p) => s.serialize_str(&p.to_string_lossy()),
            Kind::Bytes(b) | Kind::ByteArray(b) => s.serialize_bytes(b),
            Kind::Buffer(b) => s.serialize_bytes(&b.data),
            Kind::List(v) | Kind::Tuple(v) | Kind::Set(v) | Kind::FrozenSet(v) => seq(s, v),
            Kind::Dict(pairs) => {
                let mut m = s.serialize_map(Some(pairs.len()))?;
                for &(k, v) in pairs {
                    m.serialize_entry(&self.child(k), &self.child(v))?;
                }
                m.end()
            }
            Kind::Global(m, n) => s.serialize_str(&format!("{m}.{n}")),
            Kind::Object(o) => {
                let class = match self.v.class() {
                    Some((m, n)) => format!("{m}.{n}"),
                    None => String::new(),
                };
                let mut st = s.serialize_struct("Object", 3)?;
                st.serialize_field("class", &class)?;
                st.serialize_field("args", &self.child(o.args))?;
                let state = self.v.state().map_or(Value::None, |v| v.value());
                st.serialize_field("state", &self.child(state))?;
                st.end()
            }
            Kind::PersistentId(pid) => self.child(pid).serialize(s),
            Kind::Extension(code) => s.serialize_i32(code),
            Kind::Dangling => Err(S::Error::custom("dangling value handle")),
        }
    }
}
