//! Building values in Rust: constructors on [`Document`] and `From` impls for
//! immediates.

use num_bigint::BigInt;

use super::{
    Buffer, Document, Global, Items, Node, Object, ObjectKind, ObjectOp, Pairs, PyStr, Text, Value,
};

impl Document {
    /// A `str` node.
    pub fn str(&mut self, s: &str) -> Value {
        self.alloc(Node::Str(Text::Own(PyStr::from(s))))
    }

    /// A `str` node from a [`PyStr`] (which may hold lone surrogates).
    pub fn py_str(&mut self, s: PyStr) -> Value {
        self.alloc(Node::Str(Text::Own(s)))
    }

    /// A `bytes` node.
    pub fn bytes(&mut self, b: &[u8]) -> Value {
        self.alloc(Node::Bytes(b.to_vec()))
    }

    /// A `bytearray` node.
    pub fn bytearray(&mut self, b: &[u8]) -> Value {
        self.alloc(Node::ByteArray(b.to_vec()))
    }

    /// An `int` of any size: an immediate when it fits in i64.
    pub fn int(&mut self, i: BigInt) -> Value {
        match i64::try_from(&i) {
            Ok(v) => Value::Int(v),
            Err(_) => self.alloc(Node::BigInt(i)),
        }
    }

    /// A `list` node.
    pub fn list(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.alloc(Node::List(Items::Own(items.into_iter().collect())))
    }

    /// A `tuple` node.
    pub fn tuple(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.alloc(Node::Tuple(Items::Own(items.into_iter().collect())))
    }

    /// A `dict` node, pairs in insertion order.
    pub fn dict(&mut self, pairs: impl IntoIterator<Item = (Value, Value)>) -> Value {
        self.alloc(Node::Dict(Pairs::Own(pairs.into_iter().collect())))
    }

    /// A `dict` node with `str` keys.
    pub fn dict_str<'k>(&mut self, pairs: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
        let pairs: Vec<(Value, Value)> = pairs.into_iter().map(|(k, v)| (self.str(k), v)).collect();
        self.alloc(Node::Dict(Pairs::Own(pairs)))
    }

    /// A `set` node.
    pub fn set(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.alloc(Node::Set(Items::Own(items.into_iter().collect())))
    }

    /// A `frozenset` node.
    pub fn frozenset(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.alloc(Node::FrozenSet(Items::Own(items.into_iter().collect())))
    }

    /// An interned `str` node for a module or qualified name.
    pub fn name(&mut self, s: &str) -> Value {
        if let Some(&v) = self.names.get(s) {
            return v;
        }
        let v = self.str(s);
        self.names.insert(s.into(), v);
        v
    }

    /// A global `module.name` (a class or function), not imported.
    pub fn global(&mut self, module: &str, name: &str) -> Value {
        let module = self.name(module);
        let name = self.name(name);
        self.alloc(Node::Global(Global { module, name }))
    }

    /// An object built by `kind` from `callable` and `args` (a tuple value).
    pub fn object(&mut self, kind: ObjectKind, callable: Value, args: Value) -> Value {
        self.alloc(Node::Object(Box::new(Object {
            kind,
            callable,
            args,
            kwargs: None,
            ops: Vec::new(),
        })))
    }

    /// `module.name(*args)`: a REDUCE of a global.
    pub fn reduce(
        &mut self,
        module: &str,
        name: &str,
        args: impl IntoIterator<Item = Value>,
    ) -> Value {
        let callable = self.global(module, name);
        let args = self.tuple(args);
        self.object(ObjectKind::Reduce, callable, args)
    }

    /// An instance of `module.name` made as `cls.__new__(cls)` with `state`
    /// given by BUILD: how CPython pickles an ordinary class instance.
    pub fn instance(&mut self, module: &str, name: &str, state: Value) -> Value {
        let cls = self.global(module, name);
        let args = self.tuple([]);
        let obj = self.object(ObjectKind::NewObj, cls, args);
        self.push_op(obj, ObjectOp::Build(state));
        obj
    }

    /// Append an operation to an object node. Returns false if `obj` is not an object.
    pub fn push_op(&mut self, obj: Value, op: ObjectOp) -> bool {
        if let Value::Ref(id) = obj {
            if let Node::Object(o) = self.node_mut(id) {
                o.ops.push(op);
                return true;
            }
        }
        false
    }

    /// A persistent id node.
    pub fn persistent_id(&mut self, pid: Value) -> Value {
        self.alloc(Node::PersistentId(pid))
    }

    /// A `PickleBuffer` node (written out of band at protocol 5 when a buffer callback asks).
    pub fn buffer(&mut self, data: Vec<u8>, readonly: bool) -> Value {
        self.alloc(Node::Buffer(Buffer { data, readonly }))
    }

    /// Append to a list node. Returns false if `list` is not a list.
    pub fn list_push(&mut self, list: Value, item: Value) -> bool {
        if let Value::Ref(id) = list {
            if matches!(self.nodes().get(id.index()), Some(Node::List(_))) {
                if let Some(v) = self.items_mut(id) {
                    v.push(item);
                    return true;
                }
            }
        }
        false
    }

    /// Insert into a dict node (replacing the value of an equal `str`/int key is
    /// not attempted: pairs are kept in order). Returns false if `dict` is not a dict.
    pub fn dict_push(&mut self, dict: Value, key: Value, value: Value) -> bool {
        if let Value::Ref(id) = dict {
            if let Some(v) = self.pairs_mut(id) {
                v.push((key, value));
                return true;
            }
        }
        false
    }
}

macro_rules! from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(v as i64) }
        }
    )*};
}
from_int!(i8 i16 i32 i64 u8 u16 u32);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(v as f64)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::None
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}

impl Value {
    /// The node id, if the value is a handle.
    pub fn node_id(self) -> Option<super::NodeId> {
        match self {
            Value::Ref(id) => Some(id),
            _ => None,
        }
    }
}
