//! `Deserialize` for [`Document`]: exact from this crate's deserializers
//! (the loaded graph is handed over, see [`DOCUMENT_TOKEN`]), built from the
//! values of any other serde format.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::python::types::{hand_over, take_handed, Handoff, DOCUMENT_TOKEN};
use crate::value::{Document, Items, Node, Pairs, Value};

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
        Ok(doc.alloc(Node::List(Items::Own(items))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let doc = self.0;
        let mut pairs = Vec::new();
        while let Some(k) = map.next_key_seed(ValueSeed(&mut *doc))? {
            let v = map.next_value_seed(ValueSeed(&mut *doc))?;
            pairs.push((k, v));
        }
        Ok(doc.alloc(Node::Dict(Pairs::Own(pairs))))
    }
}

impl<'de> Deserialize<'de> for Document {
    /// From this crate's deserializers, the value as it was loaded:
    /// [`crate::from_slice::<Document>`](crate::from_slice) is
    /// [`crate::loads`], and a `Document` field of a struct holds the graph
    /// reachable from its value, sharing and cycles kept.
    ///
    /// From any other serde format: maps become dicts, sequences lists, byte
    /// strings bytes, integers beyond i64 big ints.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Document, D::Error> {
        d.deserialize_newtype_struct(DOCUMENT_TOKEN, DocumentVisitor)
    }
}

/// Takes the document this crate's deserializers hand over under
/// [`DOCUMENT_TOKEN`], or builds one from another format's values.
struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E>(self) -> Result<Document, E> {
        match take_handed() {
            Some(Handoff::Loaded(doc)) => Ok(doc),
            other => {
                if let Some(h) = other {
                    hand_over(h);
                }
                Ok(Document::new())
            }
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        let mut doc = Document::new();
        let root = ValueSeed(&mut doc).deserialize(d)?;
        doc.set_root(root);
        Ok(doc)
    }
}
