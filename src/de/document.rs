//! The serde deserializer over a loaded [`Document`]: walks one value of the
//! document and presents it to a visitor (objects through their views). It
//! handles every pickle the unpickler loads; [`super::stream`] is the fast
//! path for plain data straight from the bytes.

use std::borrow::Cow;

use std::cell::Cell;

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

use super::handover::{Handover, Payload};
use crate::error::{Error, Result};
use crate::python::types::{
    hand_over, Handoff, DOCUMENT_TOKEN, PYNEW_FIELDS, PYNEW_TOKEN, PYOBJECT_FIELDS, PYOBJECT_TOKEN,
    SUBVALUE_TOKEN,
};
use crate::value::{Document, Node, NodeId, Object, ObjectKind, ObjectOp, Value, ValueRef};

/// Where a str comes from: lent for `'de`, or copied from a shorter-lived place.
pub(super) enum Ref<'de, 'd, T: ?Sized> {
    Borrowed(&'de T),
    Copied(&'d T),
}

/// How strs and bytes are lent to visitors.
pub(super) trait Lend<'de, 'd>: Copy {
    fn str(self, s: &'d str, payload: Option<(usize, usize)>) -> Ref<'de, 'd, str>;
    fn bytes(self, b: &'d [u8], payload: Option<(usize, usize)>) -> Ref<'de, 'd, [u8]>;
}

/// Lends from the input slice, where a node's payload lies in it.
#[derive(Clone, Copy)]
pub(super) struct SliceBorrow<'de> {
    pub(super) input: &'de [u8],
}

impl<'de, 'd> Lend<'de, 'd> for SliceBorrow<'de> {
    fn str(self, s: &'d str, payload: Option<(usize, usize)>) -> Ref<'de, 'd, str> {
        if let Some((at, len)) = payload {
            if let Some(Ok(t)) = self
                .input
                .get(at..at + len)
                .map(crate::codec::utf8::from_utf8)
            {
                if t == s {
                    return Ref::Borrowed(t);
                }
            }
        }
        Ref::Copied(s)
    }

    fn bytes(self, b: &'d [u8], payload: Option<(usize, usize)>) -> Ref<'de, 'd, [u8]> {
        match payload.and_then(|(at, len)| self.input.get(at..at + len)) {
            Some(t) if t == b => Ref::Borrowed(t),
            _ => Ref::Copied(b),
        }
    }
}

/// Lends from the document itself.
#[derive(Clone, Copy)]
pub(super) struct DocBorrow;

impl<'de> Lend<'de, 'de> for DocBorrow {
    fn str(self, s: &'de str, _: Option<(usize, usize)>) -> Ref<'de, 'de, str> {
        Ref::Borrowed(s)
    }

    fn bytes(self, b: &'de [u8], _: Option<(usize, usize)>) -> Ref<'de, 'de, [u8]> {
        Ref::Borrowed(b)
    }
}

/// A serde deserializer over one value of a document.
pub(super) struct Deserializer<'d, 'b, B> {
    doc: &'d Document,
    value: Value,
    lend: B,
    /// Byte offset of the nearest node with a known origin (for errors).
    offset: Option<u64>,
    depth_left: usize,
    budget: &'b Budget,
    /// Large payloads moved out of the document, for the visitor to own.
    handover: Option<&'b Handover>,
}

/// How many values one walk may visit. A value reached through sharing is
/// visited each time it is reached (a tree type holds a copy each time), so
/// a few hundred bytes describing a DAG of 2^30 leaves would fill memory:
/// after [`FREE_VISITS`] visits the document is weighed (its nodes and their
/// items), and the walk may visit `LoadOptions::max_unfold` times that
/// weight in all.
pub(super) struct Budget {
    left: Cell<u64>,
    factor: u64,
    weighed: Cell<bool>,
}

/// Visits before the document is weighed (most walks end before).
const FREE_VISITS: u64 = 1 << 16;

impl Budget {
    pub(super) fn new(factor: u64) -> Budget {
        Budget {
            left: Cell::new(FREE_VISITS),
            factor,
            weighed: Cell::new(false),
        }
    }

    /// Count one visit; `Err` past the budget.
    #[inline]
    fn visit(&self, doc: &Document) -> Result<()> {
        match self.left.get() {
            0 => self.weigh(doc),
            n => {
                self.left.set(n - 1);
                Ok(())
            }
        }
    }

    #[cold]
    fn weigh(&self, doc: &Document) -> Result<()> {
        let allowed = if self.weighed.replace(true) {
            0
        } else {
            let mut weight: u64 = 0;
            for n in doc.nodes() {
                weight += 1;
                n.for_each_child(doc, |_| weight += 1);
            }
            weight
                .saturating_mul(self.factor)
                .saturating_sub(FREE_VISITS)
        };
        if allowed == 0 {
            return Err(Error::limit(format!(
                "shared values unfold into more than {} times the document's values \
                 (LoadOptions::max_unfold)",
                self.factor
            )));
        }
        self.left.set(allowed - 1);
        Ok(())
    }
}

/// What an object looks like to a Rust type.
enum View {
    Map(Vec<(Value, Value)>),
    Seq(Vec<Value>),
    Value(Value),
    Text(String),
    /// A `datetime.timedelta`, in seconds.
    Float(f64),
    /// A numpy scalar (`np.float64(1.5)`): presented as the plain number it holds.
    Scalar(crate::ml::numpy::Scalar),
    /// `bytes(...)`/`bytearray(...)` called with arguments that make bytes.
    Bytes(Vec<u8>),
    /// An object Python could not build (`bytearray('ab')`): its error.
    Refused(String),
}

impl<'d, 'b, B> Deserializer<'d, 'b, B> {
    pub(super) fn new(
        doc: &'d Document,
        value: Value,
        lend: B,
        depth: usize,
        budget: &'b Budget,
        handover: Option<&'b Handover>,
    ) -> Self {
        let mut d = Deserializer {
            doc,
            value,
            lend,
            offset: None,
            depth_left: depth,
            budget,
            handover,
        };
        d.offset = d.own_offset();
        d
    }

    fn own_offset(&self) -> Option<u64> {
        match self.value {
            Value::Ref(id) => self.doc.origin(id).map(|o| o.offset),
            _ => None,
        }
    }

    #[inline]
    fn child(&self, value: Value) -> Result<Deserializer<'d, 'b, B>>
    where
        B: Copy,
    {
        if self.depth_left == 0 {
            return Err(self.err(Error::limit(
                "nesting deeper than the recursion limit (LoadOptions::recursion_limit)",
            )));
        }
        self.budget.visit(self.doc).map_err(|e| self.err(e))?;
        let mut d = Deserializer {
            doc: self.doc,
            value,
            lend: self.lend,
            offset: self.offset,
            depth_left: self.depth_left - 1,
            budget: self.budget,
            handover: self.handover,
        };
        if let Some(o) = d.own_offset() {
            d.offset = Some(o);
        }
        Ok(d)
    }

    fn err(&self, e: Error) -> Error {
        match self.offset {
            Some(o) => e.at(o),
            None => e,
        }
    }

    fn node(&self) -> Option<&'d Node> {
        self.doc.node_of(self.value)
    }

    fn global_name(&self, v: Value) -> Option<(&'d str, &'d str)> {
        ValueRef::new(self.doc, v).as_global()
    }

    /// How an object presents itself: map (instance state, mapping items),
    /// sequence (list items, namedtuple args), a value, or text.
    fn object_view(&self, o: &'d Object) -> View {
        let vr = ValueRef::new(self.doc, self.value);
        if let Some(text) = crate::python::types::known_scalar_text(vr) {
            return View::Text(text);
        }
        if let Some(seconds) = crate::python::types::timedelta_as_seconds(vr) {
            return View::Float(seconds);
        }
        if let Some((_, s)) = crate::ml::numpy::Scalar::from_value(vr) {
            return View::Scalar(s);
        }
        if let Some(b) = crate::python::types::bytes_call(vr) {
            return match b {
                Ok(b) => View::Bytes(b),
                Err(e) => View::Refused(e),
            };
        }
        let callable = self.global_name(o.callable);
        let args: &[Value] = match self.doc.node_of(o.args) {
            Some(Node::Tuple(a)) => self.doc.items(a),
            _ => &[],
        };
        let set_items: Vec<(Value, Value)> = o
            .ops
            .iter()
            .filter_map(|op| match op {
                ObjectOp::SetItem(k, v) => Some((*k, *v)),
                _ => None,
            })
            .collect();
        if !set_items.is_empty() {
            return View::Map(set_items);
        }
        let appended: Vec<Value> = o
            .ops
            .iter()
            .filter_map(|op| match op {
                ObjectOp::Append(v) | ObjectOp::Add(v) => Some(*v),
                _ => None,
            })
            .collect();
        if !appended.is_empty() {
            return View::Seq(appended);
        }
        if let Some(state) = vr.state() {
            return match state.node() {
                Some(Node::Dict(p)) => View::Map(self.doc.pairs(p).to_vec()),
                Some(Node::Tuple(t)) if self.doc.items(t).len() == 2 => {
                    let mut pairs = Vec::new();
                    for &half in self.doc.items(t) {
                        if let Some(Node::Dict(p)) = self.doc.node_of(half) {
                            pairs.extend_from_slice(self.doc.pairs(p));
                        }
                    }
                    View::Map(pairs)
                }
                _ => View::Value(state.value()),
            };
        }
        match (o.kind, callable) {
            (_, Some(("collections", "deque"))) if !args.is_empty() => View::Value(args[0]),
            // copyreg._reconstructor(cls, base, state): the base type's data
            (ObjectKind::Reduce, Some(("copyreg", "_reconstructor"))) if args.len() == 3 => {
                match self.global_name(args[1]) {
                    Some(("builtins", "object")) => View::Map(Vec::new()),
                    _ => View::Value(args[2]),
                }
            }
            // copyreg.__newobj__(cls, *args): protocol 0-1 spelling of NEWOBJ
            (ObjectKind::Reduce, Some(("copyreg", "__newobj__"))) if !args.is_empty() => {
                View::Seq(args[1..].to_vec())
            }
            (ObjectKind::Reduce, Some(("builtins", "complex"))) => View::Seq(args.to_vec()),
            (ObjectKind::Reduce, _) if args.len() == 1 => View::Value(args[0]),
            (ObjectKind::NewObj | ObjectKind::NewObjEx, _) if !args.is_empty() => {
                View::Seq(args.to_vec())
            }
            _ => View::Map(Vec::new()),
        }
    }
}

fn type_desc(doc: &Document, v: Value) -> &'static str {
    ValueRef::new(doc, v).type_name()
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> Deserializer<'d, 'b, B> {
    /// [`de::Deserializer::deserialize_any`] of a node.
    fn any_node<V: Visitor<'de>>(self, id: NodeId, visitor: V) -> Result<V::Value> {
        let offset = self.offset;
        let at = |e: Error| match offset {
            Some(o) => e.at(o),
            None => e,
        };
        if let Some(p) = self.handover.and_then(|h| h.take(id)) {
            return match p {
                Payload::Bytes(b) => visitor.visit_byte_buf(b),
                Payload::Str(s) => visitor.visit_string(s.into_string()),
            }
            .map_err(at);
        }
        let Some(node) = self.node() else {
            return Err(at(Error::data("dangling value handle")));
        };
        let payload = self.doc.origin(id).and_then(|o| o.payload);
        let r = match node {
            Node::BigInt(b) => {
                if let Ok(u) = u64::try_from(b) {
                    visitor.visit_u64(u)
                } else if let Ok(i) = i128::try_from(b) {
                    visitor.visit_i128(i)
                } else if let Ok(u) = u128::try_from(b) {
                    visitor.visit_u128(u)
                } else {
                    Err(Error::data(format!(
                        "int of {} bits does not fit in 128 bits",
                        b.bits()
                    )))
                }
            }
            Node::Str(t) => match self.doc.text(t).as_str() {
                Some(s) => match self.lend.str(s, payload) {
                    Ref::Borrowed(s) => visitor.visit_borrowed_str(s),
                    Ref::Copied(s) => visitor.visit_str(s),
                },
                None => visitor.visit_string(self.doc.text(t).to_string_lossy().into_owned()),
            },
            Node::Bytes(b) => match self.lend.bytes(b, payload) {
                Ref::Borrowed(b) => visitor.visit_borrowed_bytes(b),
                Ref::Copied(b) => visitor.visit_bytes(b),
            },
            Node::ByteArray(b) => visitor.visit_bytes(b),
            Node::Buffer(b) => visitor.visit_bytes(&b.data),
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                self.visit_items(Cow::Borrowed(self.doc.items(v)), visitor)
            }
            Node::Dict(p) => {
                visitor.visit_map(PairAccess::new(&self, Cow::Borrowed(self.doc.pairs(p))))
            }
            Node::Object(o) => {
                let view = self.object_view(o);
                self.visit_view(view, visitor)
            }
            Node::Global(_) => {
                let (m, n) = self.global_name(self.value).unwrap_or(("", ""));
                visitor.visit_string(format!("{m}.{n}"))
            }
            Node::PersistentId(pid) => {
                let child = self.child(*pid)?;
                de::Deserializer::deserialize_any(child, visitor)
            }
            Node::Extension(code) => Err(Error::data(format!(
                "unresolved extension code {code} (LoadOptions::extensions)"
            ))),
        };
        r.map_err(at)
    }

    /// `visit_seq` over `items`, refusing a visitor that leaves some unread
    /// (`[1, 2, 3]` as a `(i64, i64)`), as serde's own sequence deserializers
    /// and serde_json do, instead of dropping them.
    fn visit_items<V: Visitor<'de>>(
        &self,
        items: Cow<'d, [Value]>,
        visitor: V,
    ) -> Result<V::Value> {
        let mut access = ItemAccess::new(self, items);
        let v = visitor.visit_seq(&mut access)?;
        if access.index < access.items.len() {
            return Err(de::Error::invalid_length(
                access.items.len(),
                &ExpectedInSeq(access.index),
            ));
        }
        Ok(v)
    }

    fn visit_view<V: Visitor<'de>>(self, view: View, visitor: V) -> Result<V::Value> {
        match view {
            View::Map(pairs) => visitor.visit_map(PairAccess::new(&self, Cow::Owned(pairs))),
            View::Seq(items) => self.visit_items(Cow::Owned(items), visitor),
            View::Value(v) => {
                let child = self.child(v)?;
                de::Deserializer::deserialize_any(child, visitor)
            }
            View::Text(s) => visitor.visit_string(s),
            View::Float(f) => visitor.visit_f64(f),
            View::Bytes(b) => visitor.visit_byte_buf(b),
            View::Refused(e) => Err(self.err(Error::data(e))),
            View::Scalar(s) => {
                use crate::ml::numpy::Scalar;
                match s {
                    Scalar::Bool(b) => visitor.visit_bool(b),
                    Scalar::Int(i) => visitor.visit_i64(i),
                    Scalar::UInt(u) => visitor.visit_u64(u),
                    Scalar::Float(f) => visitor.visit_f64(f),
                    Scalar::Complex(re, im) => {
                        visitor.visit_seq(de::value::SeqDeserializer::new([re, im].into_iter()))
                    }
                    Scalar::Bytes(b) | Scalar::Raw(b) => visitor.visit_byte_buf(b),
                    Scalar::Str(t) => visitor.visit_string(t),
                }
            }
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> de::Deserializer<'de> for Deserializer<'d, 'b, B> {
    type Error = Error;

    /// Scalars inline (most items of large sequences are ints or floats),
    /// nodes out of line ([`Deserializer::any_node`]).
    #[inline(always)]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Ref(id) => return self.any_node(id, visitor),
        }
        .map_err(|e| self.err(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_unit(),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == DOCUMENT_TOKEN {
            let sub = match self.handover {
                Some(h) => h.extract(self.doc, self.value),
                None => self.doc.extract(self.value),
            };
            hand_over(Handoff::Loaded(sub));
            return visitor.visit_unit();
        }
        if name == SUBVALUE_TOKEN {
            let sub = match self.handover {
                Some(h) => h.extract(self.doc, self.value),
                None => self.doc.extract(self.value),
            };
            let bytes = crate::pickler::dumps(&sub, 5).map_err(|e| self.err(e))?;
            return visitor.visit_byte_buf(bytes);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if name == PYOBJECT_TOKEN && fields == PYOBJECT_FIELDS {
            let vr = ValueRef::new(self.doc, self.value);
            if vr.as_object().is_none() {
                return Err(self.err(Error::data(format!(
                    "expected an object, got {}",
                    type_desc(self.doc, self.value)
                ))));
            }
            let (module, qualname) = vr.class().unwrap_or(("", ""));
            let state = vr.state().map_or(Value::None, |s| s.value());
            return visitor.visit_map(PyObjectAccess {
                de: &self,
                module,
                name: qualname,
                state,
                step: 0,
            });
        }
        if name == PYNEW_TOKEN && fields == PYNEW_FIELDS {
            let vr = ValueRef::new(self.doc, self.value);
            let Some(o) = vr.as_object() else {
                return Err(self.err(Error::data(format!(
                    "expected a named tuple (an object), got {}",
                    type_desc(self.doc, self.value)
                ))));
            };
            let (module, qualname) = vr.class().unwrap_or(("", ""));
            let args = vr.at(o.args);
            let nth = |i: usize| args.index(i).and_then(|a| a.as_slice()).unwrap_or(&[]);
            // The items as `cls.__new__(cls, *items)` gets them, however the
            // protocol spelled the call.
            let items: &'d [Value] = match (o.kind, vr.at(o.callable).as_global()) {
                (ObjectKind::Reduce, Some(("copyreg", "__newobj__"))) => {
                    args.as_slice().and_then(|a| a.get(1..)).unwrap_or(&[])
                }
                (ObjectKind::Reduce, Some(("copyreg", "__newobj_ex__"))) => nth(1),
                (ObjectKind::Reduce, Some(("copyreg", "_reconstructor"))) => nth(2),
                _ => args.as_slice().unwrap_or(&[]),
            };
            return visitor.visit_map(PyNewAccess {
                de: &self,
                module,
                name: qualname,
                items,
                step: 0,
            });
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.node() {
            Some(Node::Str(_)) => visitor.visit_enum(UnitVariant { de: self }),
            Some(Node::Dict(p)) if self.doc.pairs(p).len() == 1 => {
                let (k, v) = self.doc.pairs(p)[0];
                let key = self.child(k)?;
                let value = self.child(v)?;
                visitor.visit_enum(TaggedVariant { key, value })
            }
            _ => Err(self.err(Error::data(format!(
                "expected an enum (a str or a one-key dict), got {}",
                type_desc(self.doc, self.value)
            )))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_seq deserialize_map deserialize_identifier
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }
}

/// Items of a sequence.
/// What a visitor that read `n` items of a longer sequence expected.
struct ExpectedInSeq(usize);

impl de::Expected for ExpectedInSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            1 => f.write_str("1 element in sequence"),
            n => write!(f, "{n} elements in sequence"),
        }
    }
}

struct ItemAccess<'d, 'b, B> {
    parent: Deserializer<'d, 'b, B>,
    items: Cow<'d, [Value]>,
    index: usize,
}

impl<'d, 'b, B: Copy> ItemAccess<'d, 'b, B> {
    fn new(parent: &Deserializer<'d, 'b, B>, items: Cow<'d, [Value]>) -> Self {
        ItemAccess {
            parent: *parent,
            items,
            index: 0,
        }
    }
}

impl<B: Copy> Clone for Deserializer<'_, '_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Copy> Copy for Deserializer<'_, '_, B> {}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> SeqAccess<'de> for ItemAccess<'d, 'b, B> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(&v) = self.items.get(self.index) else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        let child = self.parent.child(v)?;
        seed.deserialize(child)
            .map(Some)
            .map_err(|e| e.in_path(&format!("[{i}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.index)
    }
}

/// Pairs of a mapping.
struct PairAccess<'d, 'b, B> {
    parent: Deserializer<'d, 'b, B>,
    pairs: Cow<'d, [(Value, Value)]>,
    index: usize,
}

impl<'d, 'b, B: Copy> PairAccess<'d, 'b, B> {
    fn new(parent: &Deserializer<'d, 'b, B>, pairs: Cow<'d, [(Value, Value)]>) -> Self {
        PairAccess {
            parent: *parent,
            pairs,
            index: 0,
        }
    }
}

fn path_segment(doc: &Document, key: Value) -> String {
    let k = ValueRef::new(doc, key);
    match k.as_str() {
        Some(s) if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            format!(".{s}")
        }
        Some(s) => format!("[{s:?}]"),
        None => match key {
            Value::Int(i) => format!("[{i}]"),
            _ => format!("[<{}>]", k.type_name()),
        },
    }
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> MapAccess<'de> for PairAccess<'d, 'b, B> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(&(k, _)) = self.pairs.get(self.index) else {
            return Ok(None);
        };
        let child = self.parent.child(k)?;
        let doc = self.parent.doc;
        seed.deserialize(child)
            .map(Some)
            .map_err(|e| e.in_path(&path_segment(doc, k)))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        let Some(&(k, v)) = self.pairs.get(self.index) else {
            return Err(Error::data("value requested before key"));
        };
        self.index += 1;
        let child = self.parent.child(v)?;
        let doc = self.parent.doc;
        seed.deserialize(child)
            .map_err(|e| e.in_path(&path_segment(doc, k)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len() - self.index)
    }
}

/// The fields of [`crate::py::PyObject`]: module, name, state.
struct PyObjectAccess<'a, 'd, 'b, B> {
    de: &'a Deserializer<'d, 'b, B>,
    module: &'d str,
    name: &'d str,
    state: Value,
    step: usize,
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> MapAccess<'de> for PyObjectAccess<'_, 'd, 'b, B> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match PYOBJECT_FIELDS.get(self.step) {
            Some(f) => seed.deserialize((*f).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        let step = self.step;
        self.step += 1;
        match step {
            0 => seed.deserialize(self.module.to_string().into_deserializer()),
            1 => seed.deserialize(self.name.to_string().into_deserializer()),
            _ => seed
                .deserialize(self.de.child(self.state)?)
                .map_err(|e| e.in_path(".state")),
        }
    }
}

/// The fields of [`crate::PyNamedTuple`]: module, name, and the items as args.
struct PyNewAccess<'a, 'd, 'b, B> {
    de: &'a Deserializer<'d, 'b, B>,
    module: &'d str,
    name: &'d str,
    items: &'d [Value],
    step: usize,
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> MapAccess<'de> for PyNewAccess<'_, 'd, 'b, B> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match PYNEW_FIELDS.get(self.step) {
            Some(f) => seed.deserialize((*f).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        let step = self.step;
        self.step += 1;
        match step {
            0 => seed.deserialize(self.module.to_string().into_deserializer()),
            1 => seed.deserialize(self.name.to_string().into_deserializer()),
            _ => seed
                .deserialize(Items {
                    de: self.de,
                    items: self.items,
                })
                .map_err(|e| e.in_path(".args")),
        }
    }
}

/// A run of values deserialized as one sequence (a named tuple's items).
struct Items<'a, 'd, 'b, B> {
    de: &'a Deserializer<'d, 'b, B>,
    items: &'d [Value],
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> de::Deserializer<'de> for Items<'_, 'd, 'b, B> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.de.visit_items(Cow::Borrowed(self.items), visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct UnitVariant<'d, 'b, B> {
    de: Deserializer<'d, 'b, B>,
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> EnumAccess<'de> for UnitVariant<'d, 'b, B> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let v = seed.deserialize(self.de)?;
        Ok((v, self))
    }
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> VariantAccess<'de> for UnitVariant<'d, 'b, B> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(self.de.err(Error::data(
            "expected a newtype variant ({name: value}), got a str",
        )))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(self.de.err(Error::data(
            "expected a tuple variant ({name: [...]}), got a str",
        )))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(self.de.err(Error::data(
            "expected a struct variant ({name: {...}}), got a str",
        )))
    }
}

struct TaggedVariant<'d, 'b, B> {
    key: Deserializer<'d, 'b, B>,
    value: Deserializer<'d, 'b, B>,
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> EnumAccess<'de> for TaggedVariant<'d, 'b, B> {
    type Error = Error;
    type Variant = Deserializer<'d, 'b, B>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        let v = seed.deserialize(self.key)?;
        Ok((v, self.value))
    }
}

impl<'de, 'd, 'b, B: Lend<'de, 'd>> VariantAccess<'de> for Deserializer<'d, 'b, B> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.value {
            Value::None => Ok(()),
            _ => Err(self.err(Error::data("expected None for a unit variant"))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
