//! [`ValueRef`]: a value together with its document, with the accessors a
//! user needs (`as_str`, `as_i64`, `get("key")`, iteration, Python type names).

use std::borrow::Cow;

use num_bigint::BigInt;

use super::{Buffer, Document, Node, Object, ObjectKind, ObjectOp, StrRef, Value};

/// A value of a document, ready to inspect.
#[derive(Clone, Copy)]
pub struct ValueRef<'a> {
    doc: &'a Document,
    value: Value,
}

/// What a value is, for `match`: the node resolved and borrowed.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` within i64.
    Int(i64),
    /// `int` beyond i64.
    BigInt(&'a BigInt),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(StrRef<'a>),
    /// `bytes`.
    Bytes(&'a [u8]),
    /// `bytearray`.
    ByteArray(&'a [u8]),
    /// `list`.
    List(&'a [Value]),
    /// `tuple`.
    Tuple(&'a [Value]),
    /// `dict`.
    Dict(&'a [(Value, Value)]),
    /// `set`.
    Set(&'a [Value]),
    /// `frozenset`.
    FrozenSet(&'a [Value]),
    /// A global: module and qualified name.
    Global(&'a str, &'a str),
    /// An object recipe.
    Object(&'a Object),
    /// An unresolved persistent id: the pid.
    PersistentId(Value),
    /// An unresolved extension code.
    Extension(i32),
    /// An out-of-band buffer.
    Buffer(&'a Buffer),
    /// A handle that does not belong to this document.
    Dangling,
}

impl<'a> ValueRef<'a> {
    pub(crate) fn new(doc: &'a Document, value: Value) -> Self {
        ValueRef { doc, value }
    }

    /// The handle.
    pub fn value(self) -> Value {
        self.value
    }

    /// The document.
    pub fn document(self) -> &'a Document {
        self.doc
    }

    /// A view of another value of the same document.
    pub fn at(self, v: Value) -> ValueRef<'a> {
        ValueRef::new(self.doc, v)
    }

    /// The node, for handles.
    pub fn node(self) -> Option<&'a Node> {
        self.doc.node_of(self.value)
    }

    /// What the value is.
    pub fn kind(self) -> Kind<'a> {
        match self.value {
            Value::None => Kind::None,
            Value::Bool(b) => Kind::Bool(b),
            Value::Int(i) => Kind::Int(i),
            Value::Float(f) => Kind::Float(f),
            Value::Ref(_) => match self.node() {
                None => Kind::Dangling,
                Some(n) => match n {
                    Node::BigInt(b) => Kind::BigInt(b),
                    Node::Str(s) => Kind::Str(self.doc.text(s)),
                    Node::Bytes(b) => Kind::Bytes(b),
                    Node::ByteArray(b) => Kind::ByteArray(b),
                    Node::List(v) => Kind::List(self.doc.items(v)),
                    Node::Tuple(v) => Kind::Tuple(self.doc.items(v)),
                    Node::Dict(v) => Kind::Dict(self.doc.pairs(v)),
                    Node::Set(v) => Kind::Set(self.doc.items(v)),
                    Node::FrozenSet(v) => Kind::FrozenSet(self.doc.items(v)),
                    Node::Global(g) => Kind::Global(
                        self.at(g.module).as_str().unwrap_or(""),
                        self.at(g.name).as_str().unwrap_or(""),
                    ),
                    Node::Object(o) => Kind::Object(o),
                    Node::PersistentId(p) => Kind::PersistentId(*p),
                    Node::Extension(c) => Kind::Extension(*c),
                    Node::Buffer(b) => Kind::Buffer(b),
                },
            },
        }
    }

    /// The Python type name (`"int"`, `"str"`, `"list"`, ...; `"object"` for object recipes).
    pub fn type_name(self) -> &'static str {
        match self.value {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Ref(_) => self.node().map_or("dangling", Node::type_name),
        }
    }

    /// True for `None`.
    pub fn is_none(self) -> bool {
        self.value == Value::None
    }

    /// The bool, for `bool`.
    pub fn as_bool(self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The int, for an `int` (or `bool`) that fits in i64.
    pub fn as_i64(self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Bool(b) => Some(b as i64),
            _ => None,
        }
    }

    /// The int as a BigInt, for any `int`.
    pub fn as_bigint(self) -> Option<Cow<'a, BigInt>> {
        match self.kind() {
            Kind::Int(i) => Some(Cow::Owned(BigInt::from(i))),
            Kind::Bool(b) => Some(Cow::Owned(BigInt::from(b as i64))),
            Kind::BigInt(b) => Some(Cow::Borrowed(b)),
            _ => None,
        }
    }

    /// The number as f64, for `float` and `int` (big ints may round).
    pub fn as_f64(self) -> Option<f64> {
        match self.kind() {
            Kind::Float(f) => Some(f),
            Kind::Int(i) => Some(i as f64),
            Kind::BigInt(b) => num_traits::ToPrimitive::to_f64(b),
            _ => None,
        }
    }

    /// The text, for a `str` without lone surrogates.
    pub fn as_str(self) -> Option<&'a str> {
        match self.node() {
            Some(Node::Str(s)) => self.doc.text(s).as_str(),
            _ => None,
        }
    }

    /// The bytes, for `bytes`, `bytearray` and buffers.
    pub fn as_bytes(self) -> Option<&'a [u8]> {
        match self.node() {
            Some(Node::Bytes(b)) | Some(Node::ByteArray(b)) => Some(b),
            Some(Node::Buffer(b)) => Some(&b.data),
            _ => None,
        }
    }

    /// The items, for `list`, `tuple`, `set` and `frozenset`.
    pub fn as_slice(self) -> Option<&'a [Value]> {
        match self.node() {
            Some(Node::List(v))
            | Some(Node::Tuple(v))
            | Some(Node::Set(v))
            | Some(Node::FrozenSet(v)) => Some(self.doc.items(v)),
            _ => None,
        }
    }

    /// The pairs, for `dict`.
    pub fn as_pairs(self) -> Option<&'a [(Value, Value)]> {
        match self.node() {
            Some(Node::Dict(v)) => Some(self.doc.pairs(v)),
            _ => None,
        }
    }

    /// The object recipe, for objects.
    pub fn as_object(self) -> Option<&'a Object> {
        match self.node() {
            Some(Node::Object(o)) => Some(o),
            _ => None,
        }
    }

    /// `(module, qualname)` for a global.
    pub fn as_global(self) -> Option<(&'a str, &'a str)> {
        match self.kind() {
            Kind::Global(m, n) => Some((m, n)),
            _ => None,
        }
    }

    /// Number of items of a container, characters of a str, bytes of bytes.
    pub fn len(self) -> Option<usize> {
        match self.node()? {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                Some(self.doc.items(v).len())
            }
            Node::Dict(v) => Some(self.doc.pairs(v).len()),
            Node::Str(s) => {
                Some(crate::codec::text::code_points(self.doc.text(s).as_bytes()).count())
            }
            Node::Bytes(b) | Node::ByteArray(b) => Some(b.len()),
            Node::Buffer(b) => Some(b.data.len()),
            _ => None,
        }
    }

    /// True if `len()` is `Some(0)`.
    pub fn is_empty(self) -> bool {
        self.len() == Some(0)
    }

    /// The items of a `list`, `tuple`, `set` or `frozenset` (empty otherwise).
    pub fn iter(self) -> impl Iterator<Item = ValueRef<'a>> + 'a {
        let doc = self.doc;
        self.as_slice()
            .unwrap_or(&[])
            .iter()
            .map(move |&v| ValueRef::new(doc, v))
    }

    /// The pairs of a `dict` (empty otherwise), in insertion order.
    pub fn items(self) -> impl Iterator<Item = (ValueRef<'a>, ValueRef<'a>)> + 'a {
        let doc = self.doc;
        self.as_pairs()
            .unwrap_or(&[])
            .iter()
            .map(move |&(k, v)| (ValueRef::new(doc, k), ValueRef::new(doc, v)))
    }

    /// Item `i` of a `list` or `tuple`.
    pub fn index(self, i: usize) -> Option<ValueRef<'a>> {
        match self.node()? {
            Node::List(v) | Node::Tuple(v) => self.doc.items(v).get(i).map(|&v| self.at(v)),
            _ => None,
        }
    }

    /// The value for a `str` key of a dict; for an object, of its state dict
    /// (the `__dict__` part of the last BUILD state). The last matching pair wins,
    /// as in Python when a pickle repeats a key. Linear in the dict's size.
    pub fn get(self, key: &str) -> Option<ValueRef<'a>> {
        let pairs = match self.node()? {
            Node::Dict(p) => self.doc.pairs(p),
            Node::Object(_) => return self.state_dict()?.get(key),
            _ => return None,
        };
        pairs
            .iter()
            .rev()
            .find(|(k, _)| self.at(*k).as_str() == Some(key))
            .map(|&(_, v)| self.at(v))
    }

    /// The value for any key of a dict, compared structurally.
    pub fn get_value(self, key: ValueRef<'_>) -> Option<ValueRef<'a>> {
        self.as_pairs()?
            .iter()
            .rev()
            .find(|(k, _)| self.at(*k) == key)
            .map(|&(_, v)| self.at(v))
    }

    /// For an object: the state given by its last BUILD.
    pub fn state(self) -> Option<ValueRef<'a>> {
        let o = self.as_object()?;
        o.ops.iter().rev().find_map(|op| match op {
            ObjectOp::Build(s) => Some(self.at(*s)),
            _ => None,
        })
    }

    /// For an object: its `__dict__` state (a BUILD dict, or the dict half of
    /// a `(dict, slots)` state tuple).
    pub fn state_dict(self) -> Option<ValueRef<'a>> {
        let s = self.state()?;
        match s.node()? {
            Node::Dict(_) => Some(s),
            Node::Tuple(t) if self.doc.items(t).len() == 2 => {
                let d = self.at(self.doc.items(t)[0]);
                if d.as_pairs().is_some() {
                    Some(d)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// For an object: its class as `(module, qualname)`, seeing through
    /// `copyreg._reconstructor`, `copyreg.__newobj__` and `copyreg.__newobj_ex__`.
    pub fn class(self) -> Option<(&'a str, &'a str)> {
        let o = self.as_object()?;
        let callable = self.at(o.callable);
        match (o.kind, callable.as_global()) {
            (
                ObjectKind::Reduce,
                Some(("copyreg", "_reconstructor" | "__newobj__" | "__newobj_ex__")),
            ) => self.at(o.args).index(0)?.as_global(),
            (_, g) => g,
        }
    }
}

impl std::fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
