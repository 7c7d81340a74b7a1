//! What the machine builds beyond scalars: filling lists, dicts, sets and
//! objects (`APPEND(S)`, `SETITEM(S)`, `ADDITEMS`), the inert objects of
//! `REDUCE`/`NEWOBJ`/`INST`/`OBJ`, CPython's spellings of built-in types
//! recognised and rebuilt as plain nodes (`reconstruct`), and persistent
//! IDs (or what the `persistent_load` hook makes of them).

use super::Machine;
use crate::error::{Error, Result};
use crate::value::{Document, Items, Node, Object, ObjectKind, ObjectOp, Value};

impl Machine<'_> {
    pub(super) fn persistent(&mut self, pid: Value) -> Result<Value> {
        match self.opts.persistent_load.as_mut() {
            Some(f) => f(&mut self.doc, pid),
            None => Ok(self.doc.alloc(Node::PersistentId(pid))),
        }
    }

    /// CPython's checks on `NEWOBJ`/`NEWOBJ_EX`'s operands, where the
    /// document shows the answer without anything imported: `kwargs` must be
    /// a dict, `args` a tuple, and the class a type (not, say, `None` or
    /// `builtins.len`). An object or a persistent id may be anything when
    /// Python builds it, and passes.
    pub(super) fn check_newobj(
        &self,
        op: &str,
        cls: Value,
        args: Value,
        kwargs: Option<Value>,
    ) -> Result<()> {
        let type_name = |v: Value| match v {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Ref(_) => self.doc.node_of(v).map_or("object", Node::type_name),
        };
        let open = |v: Value| {
            matches!(
                self.doc.node_of(v),
                Some(Node::Object(_) | Node::PersistentId(_) | Node::Extension(_))
            )
        };
        if let Some(kw) = kwargs {
            if !open(kw) && !matches!(self.doc.node_of(kw), Some(Node::Dict(_))) {
                return Err(Error::syntax(format!(
                    "{op} kwargs argument must be a dict, not {}",
                    type_name(kw)
                )));
            }
        }
        if !open(args) && !matches!(self.doc.node_of(args), Some(Node::Tuple(_))) {
            return Err(Error::syntax(format!(
                "{op} args argument must be a tuple, not {}",
                type_name(args)
            )));
        }
        let not_type = match self.doc.node_of(cls) {
            Some(Node::Global(_)) => match crate::ValueRef::new(&self.doc, cls).as_global() {
                Some(("builtins", name))
                    if crate::python::compat::BUILTIN_FUNCTIONS.contains(&name) =>
                {
                    Some("builtin_function_or_method")
                }
                _ => None,
            },
            _ if open(cls) => None,
            _ => Some(type_name(cls)),
        };
        match not_type {
            Some(t) => Err(Error::syntax(format!(
                "{op} class argument must be a type, not {t}"
            ))),
            None => Ok(()),
        }
    }

    pub(super) fn object(
        &mut self,
        kind: ObjectKind,
        callable: Value,
        args: Value,
        kwargs: Option<Value>,
    ) -> Value {
        self.alloc(Node::Object(Box::new(Object {
            kind,
            callable,
            args,
            kwargs,
            ops: Vec::new(),
        })))
    }

    /// Move the stack items from `at` up into `target` (APPEND, APPENDS).
    pub(super) fn extend(&mut self, target: Value, at: usize) -> Result<()> {
        let Value::Ref(id) = target else {
            return Err(Error::syntax("APPEND to a value that is not a list"));
        };
        let Machine { doc, stack, .. } = self;
        let (pool, _, node) = doc.pools_and_node(id);
        match node {
            // Values are Copy: one memcpy, not an item-by-item drain. A
            // fresh list (the usual case: EMPTY_LIST, MARK, ..., APPENDS)
            // gets the batch in the document's item pool.
            Node::List(v) => {
                Document::extend_items(pool, v, &stack.items[at..]);
                stack.items.truncate(at);
            }
            Node::Object(o) => o.ops.extend(stack.items.drain(at..).map(ObjectOp::Append)),
            other => {
                return Err(Error::syntax(format!(
                    "APPEND to a {} (only lists and objects take items)",
                    other.type_name()
                )))
            }
        }
        Ok(())
    }

    /// A dict key or set item must be hashable, as CPython checks when it
    /// inserts (see [`Document::check_hashable`]).
    #[inline]
    pub(super) fn check_hashable(&self, key: Value) -> Result<()> {
        self.doc.check_hashable(key).map_err(unhashable_key)
    }

    /// Move the key/value pairs on the stack from `at` up into `target`
    /// (SETITEM, SETITEMS). Every key of a dict is checked first, so a
    /// failing batch leaves the dict as it was.
    pub(super) fn set_items(&mut self, target: Value, at: usize) -> Result<()> {
        let Value::Ref(id) = target else {
            return Err(Error::syntax("SETITEM on a value that is not a dict"));
        };
        let Machine { doc, stack, .. } = self;
        let items = &stack.items[at..];
        if let Some(Node::Dict(_)) = doc.nodes().get(id.index()) {
            for pair in items.chunks_exact(2) {
                doc.check_hashable(pair[0]).map_err(unhashable_key)?;
            }
        }
        let (_, pool, node) = doc.pools_and_node(id);
        match node {
            // Pairs are appended in wire order, equal keys included (the
            // document keeps the wire's pairs). A fresh dict gets the batch
            // in the document's pair pool.
            Node::Dict(d) => Document::extend_pairs(pool, d, items),
            Node::Object(o) => {
                o.ops.reserve(items.len() / 2);
                for pair in items.chunks_exact(2) {
                    o.ops.push(ObjectOp::SetItem(pair[0], pair[1]));
                }
            }
            other => {
                return Err(Error::syntax(format!(
                    "SETITEM on a {} (only dicts and objects take items)",
                    other.type_name()
                )))
            }
        }
        stack.items.truncate(at);
        Ok(())
    }

    pub(super) fn add_items(&mut self, target: Value, items: Vec<Value>) -> Result<()> {
        if matches!(self.node_ref(target), Some(Node::Set(_))) {
            for &k in &items {
                self.check_hashable(k)?;
            }
        }
        let Value::Ref(id) = target else {
            return Err(Error::syntax("ADDITEMS on a value that is not a set"));
        };
        let (pool, _, node) = self.doc.pools_and_node(id);
        match node {
            Node::Set(s) => Document::extend_items(pool, s, &items),
            Node::Object(o) => o.ops.extend(items.into_iter().map(ObjectOp::Add)),
            other => {
                return Err(Error::syntax(format!(
                    "ADDITEMS on a {} (only sets and objects take items)",
                    other.type_name()
                )))
            }
        }
        Ok(())
    }

    /// Recognise CPython's spellings of built-in types below the protocol
    /// that has an opcode for them, and build the plain node: `set([..])` and
    /// `frozenset([..])` below 4, `bytes()` and `_codecs.encode(s, 'latin1')`
    /// below 3, `bytearray()`/`bytearray(b)` below 5. Anything else (another
    /// shape, or a protocol where CPython would not write it) stays a call, so
    /// that re-encoding at the same protocol reproduces it.
    pub(super) fn reconstruct(
        &mut self,
        callable: Value,
        args: Value,
        budget: u64,
    ) -> Result<Option<Value>> {
        let Some(Node::Global(g)) = self.node_ref(callable) else {
            return Ok(None);
        };
        let name_of = |v: Value| match self.doc.node_of(v) {
            Some(Node::Str(s)) => self.doc.text(s).as_str(),
            _ => None,
        };
        let (Some(module), Some(name)) = (name_of(g.module), name_of(g.name)) else {
            return Ok(None);
        };
        let Some(Node::Tuple(a)) = self.node_ref(args) else {
            return Ok(None);
        };
        let a = self.doc.items(a);
        let arg = |i: usize| a.get(i).and_then(|&v| self.doc.node_of(v));
        // Only the spellings CPython writes at this protocol are recognised,
        // so that re-encoding at the same protocol is a fixed point.
        let proto = self.proto;
        let node = match (module, name, a.len()) {
            ("builtins", "set" | "frozenset", 1) if proto < 4 => match arg(0) {
                Some(Node::List(items)) => {
                    // With an unhashable item it is no set: keep the call as
                    // it is (inert; CPython would fail when calling it).
                    let items = self.doc.items(items);
                    if items.iter().any(|&k| self.doc.check_hashable(k).is_err()) {
                        return Ok(None);
                    }
                    let items = Items::Own(items.to_vec());
                    if name == "set" {
                        Node::Set(items)
                    } else {
                        Node::FrozenSet(items)
                    }
                }
                _ => return Ok(None),
            },
            ("builtins", "bytes", 0) if proto < 3 => Node::Bytes(Vec::new()),
            ("builtins", "bytearray", 0) if proto < 5 => Node::ByteArray(Vec::new()),
            ("builtins", "bytearray", 1) if proto < 5 => match arg(0) {
                Some(Node::Bytes(b)) => Node::ByteArray(b.clone()),
                _ => return Ok(None),
            },
            ("_codecs", "encode", 2) if proto < 3 => match (arg(0), arg(1)) {
                (Some(Node::Str(s)), Some(Node::Str(enc)))
                    if self.doc.text(enc).as_str() == Some("latin1")
                        && self.doc.text(s).as_str().is_some() =>
                {
                    let s = self.doc.text(s).as_str().unwrap_or_default();
                    let mut out = Vec::with_capacity(s.len());
                    for c in s.chars() {
                        match u8::try_from(c as u32) {
                            Ok(b) => out.push(b),
                            Err(_) => return Ok(None),
                        }
                    }
                    Node::Bytes(out)
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let copied = match &node {
            Node::Set(v) | Node::FrozenSet(v) => self.doc.items(v).len(),
            Node::Bytes(b) | Node::ByteArray(b) => b.len(),
            _ => 0,
        };
        self.charge(copied as u64, budget)?;
        Ok(Some(self.alloc(node)))
    }

    fn charge(&mut self, n: u64, budget: u64) -> Result<()> {
        self.copied = self.copied.saturating_add(n);
        if self.copied > budget {
            return Err(Error::limit(
                "reconstructing sets/bytes copies far more data than the input holds",
            ));
        }
        Ok(())
    }
}

#[cold]
fn unhashable_key(type_name: &str) -> Error {
    Error::syntax(format!("unhashable type: '{type_name}' used as a key"))
}

#[cfg(test)]
mod tests {
    use crate::{loads, Node};

    #[test]
    fn protocol2_set_and_bytes() {
        let d =
            loads(b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.").unwrap();
        assert!(matches!(d.root().node(), Some(Node::Set(_))) && d.root().len() == Some(2));
        let d = loads(b"\x80\x02c_codecs\nencode\nq\x00X\x02\x00\x00\x00abq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.").unwrap();
        assert_eq!(d.root().as_bytes(), Some(&b"ab"[..]));
    }
}
