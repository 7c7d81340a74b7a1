//! Finding numpy arrays (and, with the `torch` feature, tensors) in a
//! document, each with its path in the object tree.
//!
//! Paths are written as Python would reach the value: `['key']` for a dict
//! item (or a mapping object's item, e.g. an `OrderedDict`), `[3]` for a list
//! or tuple item, `.name` for an attribute (a key of an object's state dict),
//! `.__args__[i]` for a constructor argument of an object. The root is `""`.
//! A node reachable twice is listed once, at the first path (depth first, in
//! stream order).

use std::collections::HashSet;

use crate::ml::numpy::NdArray;
use crate::value::{Node, ObjectOp, Value, ValueRef};
use crate::Result;

/// `[repr(key)]`, e.g. `['fc.weight']`, `[3]`.
fn key_segment(k: ValueRef<'_>) -> String {
    format!("[{}]", short_repr(k))
}

/// Python's repr of a dict key: str, int, float, bool, None, bytes; `<type>` otherwise.
pub fn short_repr(k: ValueRef<'_>) -> String {
    match k.kind() {
        crate::Kind::Str(s) => {
            let s = s.to_string_lossy();
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        out.push_str(&format!("\\x{:02x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
        crate::Kind::Int(i) => i.to_string(),
        crate::Kind::BigInt(b) => b.to_string(),
        crate::Kind::Float(f) => crate::python::repr::repr_float(f),
        crate::Kind::Bool(b) => if b { "True" } else { "False" }.into(),
        crate::Kind::None => "None".into(),
        crate::Kind::Bytes(b) => {
            let mut out = String::from("b'");
            for &c in b {
                match c {
                    b'\\' | b'\'' => {
                        out.push('\\');
                        out.push(c as char)
                    }
                    0x20..=0x7e => out.push(c as char),
                    _ => out.push_str(&format!("\\x{c:02x}")),
                }
            }
            out.push('\'');
            out
        }
        _ => format!("<{}>", k.type_name()),
    }
}

/// Walk the graph from `root` depth first; `visit(path, value)` returns
/// whether to descend into the value.
pub fn walk<'a>(root: ValueRef<'a>, mut visit: impl FnMut(&str, ValueRef<'a>) -> bool) {
    let mut seen = HashSet::new();
    let mut stack: Vec<(String, Value)> = vec![(String::new(), root.value())];
    while let Some((path, v)) = stack.pop() {
        if let Value::Ref(id) = v {
            if !seen.insert(id) {
                continue;
            }
        } else {
            continue;
        }
        let vr = root.at(v);
        if !visit(&path, vr) {
            continue;
        }
        let mut kids: Vec<(String, Value)> = Vec::new();
        match vr.node() {
            Some(Node::List(_)) | Some(Node::Tuple(_)) => {
                for (i, &c) in vr.as_slice().unwrap_or(&[]).iter().enumerate() {
                    kids.push((format!("{path}[{i}]"), c));
                }
            }
            Some(Node::Set(_)) | Some(Node::FrozenSet(_)) => {
                for (i, &c) in vr.as_slice().unwrap_or(&[]).iter().enumerate() {
                    kids.push((format!("{path}{{{i}}}"), c));
                }
            }
            Some(Node::Dict(_)) => {
                for &(k, c) in vr.as_pairs().unwrap_or(&[]) {
                    kids.push((format!("{path}{}", key_segment(root.at(k))), c));
                }
            }
            Some(Node::Object(o)) => {
                for (i, a) in vr.at(o.args).iter().enumerate() {
                    kids.push((format!("{path}.__args__[{i}]"), a.value()));
                }
                let mut appended = 0;
                for op in &o.ops {
                    match *op {
                        ObjectOp::SetItem(k, c) => {
                            kids.push((format!("{path}{}", key_segment(root.at(k))), c))
                        }
                        ObjectOp::Append(c) | ObjectOp::Add(c) => {
                            kids.push((format!("{path}[{appended}]"), c));
                            appended += 1;
                        }
                        ObjectOp::Build(_) => {}
                    }
                }
                if let Some(state) = vr.state() {
                    match vr.state_dict() {
                        Some(d) => {
                            for (k, c) in d.items() {
                                let seg = match k.as_str() {
                                    Some(s) if is_identifier(s) => format!(".{s}"),
                                    _ => format!(".__dict__{}", key_segment(k)),
                                };
                                kids.push((format!("{path}{seg}"), c.value()));
                            }
                            if let Some(t) = state.as_slice() {
                                if let Some(&slots) = t.get(1) {
                                    for (k, c) in root.at(slots).items() {
                                        let name = k.as_str().unwrap_or("?");
                                        kids.push((format!("{path}.{name}"), c.value()));
                                    }
                                }
                            }
                        }
                        None => kids.push((format!("{path}.__state__"), state.value())),
                    }
                }
            }
            Some(Node::PersistentId(p)) => kids.push((format!("{path}.__pid__"), *p)),
            _ => {}
        }
        stack.extend(kids.into_iter().rev());
    }
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|x| x.is_alphanumeric() || x == '_')
}

/// Every numpy array reachable from `root`, with its path (arrays are not
/// descended into; an array that fails to read is listed with its error).
pub fn find_ndarrays<'a>(root: ValueRef<'a>) -> Vec<(String, Result<NdArray<'a>>)> {
    let mut out = Vec::new();
    walk(root, |path, v| {
        if crate::ml::numpy::is_ndarray(v) {
            out.push((path.to_string(), NdArray::from_value(v)));
            return false;
        }
        !matches!(v.kind(), crate::Kind::Object(_))
            || crate::ml::numpy::Scalar::from_value(v).is_none()
    });
    out
}
