//! The document builder behind [`super::to_document`]: every serde value
//! becomes a node of a [`Document`].

use serde::ser::{self, Serialize};

use crate::error::{Error, Result};
use crate::python::types::{
    hand_over, take_handed, Handoff, BYTEARRAY_TOKEN, DOCUMENT_TOKEN, FROZENSET_TOKEN, PYNEW_TOKEN,
    PYOBJECT_TOKEN, SET_TOKEN,
};
use crate::value::{Document, Items, Node, ObjectKind, Pairs, Value};

/// Builds values in a document.
pub struct ValueSerializer<'a> {
    doc: &'a mut Document,
}

impl<'a> ValueSerializer<'a> {
    /// A serializer that adds values to `doc`.
    pub fn new(doc: &'a mut Document) -> Self {
        ValueSerializer { doc }
    }
}

fn int128(doc: &mut Document, v: i128) -> Value {
    match i64::try_from(v) {
        Ok(i) => Value::Int(i),
        Err(_) => doc.alloc(Node::BigInt(v.into())),
    }
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder<'a>;
    type SerializeTuple = SeqBuilder<'a>;
    type SerializeTupleStruct = SeqBuilder<'a>;
    type SerializeTupleVariant = SeqBuilder<'a>;
    type SerializeMap = MapBuilder<'a>;
    type SerializeStruct = MapBuilder<'a>;
    type SerializeStructVariant = MapBuilder<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(int128(self.doc, v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(int128(self.doc, v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => self.doc.alloc(Node::BigInt(v.into())),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        let mut b = [0; 4];
        Ok(self.doc.str(v.encode_utf8(&mut b)))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(self.doc.str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(self.doc.bytes(v))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::None)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::None)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(self.doc.name(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value> {
        let doc = self.doc;
        if name == DOCUMENT_TOKEN {
            // A document's value: it copies itself into the document handed
            // over (see `ser/value.rs`), sharing, cycles and all.
            hand_over(Handoff::Target(std::mem::take(doc)));
            let r = value.serialize(ValueSerializer {
                doc: &mut Document::new(),
            });
            return match take_handed() {
                Some(Handoff::Copied(d, v)) => {
                    *doc = d;
                    r.map(|_| v)
                }
                Some(Handoff::Target(d)) | Some(Handoff::Loaded(d)) => {
                    *doc = d;
                    r.and_then(|_| Err(Error::data("the document's value was not handed over")))
                }
                None => Err(Error::data("the document being built was not handed back")),
            };
        }
        let inner = value.serialize(ValueSerializer { doc: &mut *doc })?;
        let retag = |doc: &mut Document, f: fn(Items) -> Node| -> Result<Value> {
            match inner {
                Value::Ref(id) => match std::mem::replace(doc.node_mut(id), Node::Extension(0)) {
                    Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                        *doc.node_mut(id) = f(v);
                        Ok(inner)
                    }
                    other => {
                        let t = other.type_name();
                        *doc.node_mut(id) = other;
                        Err(Error::data(format!("{name} needs a sequence, got {t}")))
                    }
                },
                _ => Err(Error::data(format!("{name} needs a sequence"))),
            }
        };
        match name {
            SET_TOKEN => retag(doc, Node::Set),
            FROZENSET_TOKEN => retag(doc, Node::FrozenSet),
            BYTEARRAY_TOKEN => match inner {
                Value::Ref(id) => match doc.node_mut(id) {
                    n @ Node::Bytes(_) => {
                        if let Node::Bytes(b) = std::mem::replace(n, Node::Extension(0)) {
                            *n = Node::ByteArray(b);
                        }
                        Ok(inner)
                    }
                    _ => Err(Error::data("PyByteArray needs bytes (use serde_bytes)")),
                },
                _ => Err(Error::data("PyByteArray needs bytes (use serde_bytes)")),
            },
            _ => Ok(inner),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let v = value.serialize(ValueSerializer {
            doc: &mut *self.doc,
        })?;
        let k = self.doc.name(variant);
        Ok(self.doc.dict([(k, v)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'a>> {
        Ok(SeqBuilder::new(self.doc, len, Wrap::List))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'a>> {
        Ok(SeqBuilder::new(self.doc, Some(len), Wrap::Tuple))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder<'a>> {
        Ok(SeqBuilder::new(self.doc, Some(len), Wrap::Tuple))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'a>> {
        Ok(SeqBuilder::new(self.doc, Some(len), Wrap::Variant(variant)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder<'a>> {
        Ok(MapBuilder::new(self.doc, len, MapWrap::Dict))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<MapBuilder<'a>> {
        let wrap = match name {
            PYOBJECT_TOKEN => MapWrap::PyObject,
            PYNEW_TOKEN => MapWrap::PyNew,
            _ => MapWrap::Dict,
        };
        Ok(MapBuilder::new(self.doc, Some(len), wrap))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder<'a>> {
        Ok(MapBuilder::new(
            self.doc,
            Some(len),
            MapWrap::Variant(variant),
        ))
    }
}

enum Wrap {
    List,
    Tuple,
    Variant(&'static str),
}

/// Collects the items of a sequence or tuple.
pub struct SeqBuilder<'a> {
    doc: &'a mut Document,
    items: Vec<Value>,
    wrap: Wrap,
}

impl<'a> SeqBuilder<'a> {
    fn new(doc: &'a mut Document, len: Option<usize>, wrap: Wrap) -> Self {
        SeqBuilder {
            doc,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            wrap,
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let v = value.serialize(ValueSerializer {
            doc: &mut *self.doc,
        })?;
        self.items.push(v);
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        let doc = self.doc;
        Ok(match self.wrap {
            Wrap::List => doc.alloc(Node::List(Items::Own(self.items))),
            Wrap::Tuple => doc.alloc(Node::Tuple(Items::Own(self.items))),
            Wrap::Variant(name) => {
                let t = doc.alloc(Node::Tuple(Items::Own(self.items)));
                let k = doc.name(name);
                doc.dict([(k, t)])
            }
        })
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for SeqBuilder<'_> {
            type Ok = Value;
            type Error = Error;
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.push(value)
            }
            fn end(self) -> Result<Value> {
                self.finish()
            }
        }
    )*};
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

enum MapWrap {
    Dict,
    Variant(&'static str),
    PyObject,
    /// A [`crate::PyNamedTuple`]: `NEWOBJ(cls, args)`.
    PyNew,
}

/// Collects the pairs of a map or struct.
pub struct MapBuilder<'a> {
    doc: &'a mut Document,
    pairs: Vec<(Value, Value)>,
    key: Option<Value>,
    wrap: MapWrap,
}

impl<'a> MapBuilder<'a> {
    fn new(doc: &'a mut Document, len: Option<usize>, wrap: MapWrap) -> Self {
        MapBuilder {
            doc,
            pairs: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
            wrap,
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let k = self.doc.name(key);
        let v = value.serialize(ValueSerializer {
            doc: &mut *self.doc,
        })?;
        self.pairs.push((k, v));
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        let doc = self.doc;
        let pairs = self.pairs;
        let field = |doc: &Document, name: &str| {
            pairs
                .iter()
                .find(|(k, _)| doc.get(*k).as_str() == Some(name))
                .map(|&(_, v)| v)
        };
        let text = |doc: &Document, name: &str| -> Result<String> {
            field(doc, name)
                .and_then(|v| doc.get(v).as_str().map(str::to_string))
                .ok_or_else(|| Error::data(format!("PyObject needs a str {name}")))
        };
        Ok(match self.wrap {
            MapWrap::Dict => doc.alloc(Node::Dict(Pairs::Own(pairs))),
            MapWrap::Variant(name) => {
                let d = doc.alloc(Node::Dict(Pairs::Own(pairs)));
                let k = doc.name(name);
                doc.dict([(k, d)])
            }
            MapWrap::PyObject => {
                let module = text(doc, "module")?;
                let name = text(doc, "name")?;
                let state = field(doc, "state").unwrap_or(Value::None);
                doc.instance(&module, &name, state)
            }
            MapWrap::PyNew => {
                let module = text(doc, "module")?;
                let name = text(doc, "name")?;
                let args = field(doc, "args").unwrap_or(Value::None);
                // A struct's values in order, or a sequence's items.
                let items: Vec<Value> = {
                    let a = doc.get(args);
                    if let Some(pairs) = a.as_pairs() {
                        pairs.iter().map(|&(_, v)| v).collect()
                    } else if let Some(items) = a.as_slice() {
                        items.to_vec()
                    } else if args == Value::None {
                        Vec::new()
                    } else {
                        return Err(Error::data(
                            "PyNamedTuple fields must be a struct, a tuple or a sequence",
                        ));
                    }
                };
                let cls = doc.global(&module, &name);
                let args = doc.tuple(items);
                doc.object(ObjectKind::NewObj, cls, args)
            }
        })
    }
}

impl ser::SerializeMap for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(ValueSerializer {
            doc: &mut *self.doc,
        })?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let k = self
            .key
            .take()
            .ok_or_else(|| Error::data("map value without a key"))?;
        let v = value.serialize(ValueSerializer {
            doc: &mut *self.doc,
        })?;
        self.pairs.push((k, v));
        Ok(())
    }

    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapBuilder<'_> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value> {
        self.finish()
    }
}
