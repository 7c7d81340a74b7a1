//! `Serialize` for values (to any serde format) and `Deserialize` for
//! [`Document`] (from any serde format, e.g. JSON into a pickle).

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Document, Kind, Node, Value, ValueRef};

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
    /// Serializes the value as a tree: str, int, float, bool, None, bytes,
    /// sequences (list, tuple, set, frozenset) and maps (dict). Objects
    /// serialize as a map `{"class": "module.name", "args": [...], "state": ...}`.
    /// A cycle, or nesting deeper than 512, is an error.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let path = std::cell::RefCell::new(HashSet::new());
        Walk {
            v: *self,
            path: &path,
            depth: 0,
        }
        .serialize(s)
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.root().serialize(s)
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

/// Builds a value into a document from any serde format.
pub struct ValueSeed<'a>(pub &'a mut Document);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(self.0.int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(self.0.int(v.into()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(self.0.int(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(self.0.str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(self.0.bytes(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let doc = self.0;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(ValueSeed(&mut *doc))? {
            items.push(v);
        }
        Ok(doc.alloc(Node::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let doc = self.0;
        let mut pairs = Vec::new();
        while let Some(k) = map.next_key_seed(ValueSeed(&mut *doc))? {
            let v = map.next_value_seed(ValueSeed(&mut *doc))?;
            pairs.push((k, v));
        }
        Ok(doc.alloc(Node::Dict(pairs)))
    }
}

impl<'de> Deserialize<'de> for Document {
    /// Builds a document from any serde format: maps become dicts, sequences
    /// lists, byte strings bytes, integers beyond i64 big ints.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Document, D::Error> {
        let mut doc = Document::new();
        let root = ValueSeed(&mut doc).deserialize(d)?;
        doc.set_root(root);
        Ok(doc)
    }
}
