//! Structural equality of values, possibly across documents.
//!
//! Iterative (no recursion), and coinductive: a pair of nodes already being
//! compared counts as equal, which makes cycles terminate and keeps shared
//! DAGs linear. See the module docs of [`crate::value`] for the semantics.

use std::collections::HashSet;

use super::{Document, Node, Object, ObjectOp, Value, ValueRef};

fn float_eq(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Compare `a` in `da` with `b` in `db`.
pub fn values_equal(da: &Document, a: Value, db: &Document, b: Value) -> bool {
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut stack: Vec<(Value, Value)> = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        match (a, b) {
            (Value::None, Value::None) => {}
            (Value::Bool(x), Value::Bool(y)) if x == y => {}
            (Value::Int(x), Value::Int(y)) if x == y => {}
            (Value::Float(x), Value::Float(y)) if float_eq(x, y) => {}
            (Value::Ref(x), Value::Ref(y)) => {
                if !seen.insert((x.0, y.0)) {
                    continue;
                }
                let (Some(nx), Some(ny)) = (da.node_of(a), db.node_of(b)) else {
                    return false;
                };
                if !push_children(da, nx, db, ny, &mut stack) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

fn pair_up(xs: &[Value], ys: &[Value], stack: &mut Vec<(Value, Value)>) -> bool {
    if xs.len() != ys.len() {
        return false;
    }
    stack.extend(xs.iter().copied().zip(ys.iter().copied()).rev());
    true
}

fn push_children(
    da: &Document,
    nx: &Node,
    db: &Document,
    ny: &Node,
    stack: &mut Vec<(Value, Value)>,
) -> bool {
    match (nx, ny) {
        (Node::BigInt(x), Node::BigInt(y)) => x == y,
        (Node::Str(x), Node::Str(y)) => da.text(x).as_bytes() == db.text(y).as_bytes(),
        (Node::Bytes(x), Node::Bytes(y)) | (Node::ByteArray(x), Node::ByteArray(y)) => x == y,
        (Node::List(x), Node::List(y))
        | (Node::Tuple(x), Node::Tuple(y))
        | (Node::Set(x), Node::Set(y))
        | (Node::FrozenSet(x), Node::FrozenSet(y)) => pair_up(da.items(x), db.items(y), stack),
        (Node::Dict(x), Node::Dict(y)) => {
            let (x, y) = (da.pairs(x), db.pairs(y));
            if x.len() != y.len() {
                return false;
            }
            for (&(k1, v1), &(k2, v2)) in x.iter().zip(y.iter()).rev() {
                stack.push((v1, v2));
                stack.push((k1, k2));
            }
            true
        }
        (Node::Global(x), Node::Global(y)) => {
            stack.push((x.name, y.name));
            stack.push((x.module, y.module));
            true
        }
        (Node::Object(x), Node::Object(y)) => objects(x, y, stack),
        (Node::PersistentId(x), Node::PersistentId(y)) => {
            stack.push((*x, *y));
            true
        }
        (Node::Extension(x), Node::Extension(y)) => x == y,
        (Node::Buffer(x), Node::Buffer(y)) => x == y,
        _ => false,
    }
}

fn objects(x: &Object, y: &Object, stack: &mut Vec<(Value, Value)>) -> bool {
    if x.kind != y.kind || x.ops.len() != y.ops.len() || x.kwargs.is_some() != y.kwargs.is_some() {
        return false;
    }
    for (a, b) in x.ops.iter().zip(&y.ops) {
        match (a, b) {
            (ObjectOp::Append(a), ObjectOp::Append(b))
            | (ObjectOp::Add(a), ObjectOp::Add(b))
            | (ObjectOp::Build(a), ObjectOp::Build(b)) => stack.push((*a, *b)),
            (ObjectOp::SetItem(k1, v1), ObjectOp::SetItem(k2, v2)) => {
                stack.push((*v1, *v2));
                stack.push((*k1, *k2));
            }
            _ => return false,
        }
    }
    if let (Some(a), Some(b)) = (x.kwargs, y.kwargs) {
        stack.push((a, b));
    }
    stack.push((x.args, y.args));
    stack.push((x.callable, y.callable));
    true
}

impl PartialEq for ValueRef<'_> {
    fn eq(&self, other: &ValueRef<'_>) -> bool {
        values_equal(
            self.document(),
            self.value(),
            other.document(),
            other.value(),
        )
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Document) -> bool {
        values_equal(self, self.root_value(), other, other.root_value())
    }
}
