//! Reading the JSON mapping back into a document (feature `json`).

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use super::base64_decode;
use crate::error::{Error, Result};
use crate::value::{
    Buffer, Document, Items, Node, Object, ObjectKind, ObjectOp, Pairs, PyStr, Value,
};

/// Deepest JSON nesting [`from_json`] reads.
pub const MAX_JSON_DEPTH: usize = 10_000;

/// Read a document from its JSON mapping (see [`crate::json`]).
pub fn from_json(text: &[u8]) -> Result<Document> {
    let mut docs = from_json_stream(text)?;
    match docs.len() {
        1 => Ok(docs.pop().expect("one")),
        n => Err(Error::syntax(format!("expected one JSON value, found {n}"))),
    }
}

/// Read every JSON value of a text (values one after another, as
/// `pickle json` writes a stream of pickles) as documents.
///
/// Nesting deeper than [`MAX_JSON_DEPTH`] is refused before parsing; the
/// parse itself runs on a thread with a stack sized for that depth, since
/// serde_json parses recursively.
pub fn from_json_stream(text: &[u8]) -> Result<Vec<Document>> {
    let depth = max_depth(text);
    if depth > MAX_JSON_DEPTH {
        return Err(Error::limit(format!(
            "JSON nested {depth} levels deep, more than {MAX_JSON_DEPTH}"
        )));
    }
    if depth <= 64 {
        return parse_stream(text);
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, || parse_stream(text))
            .map_err(Error::io)?
            .join()
            .unwrap_or_else(|_| Err(Error::data("JSON reader thread failed")))
    })
}

fn parse_stream(text: &[u8]) -> Result<Vec<Document>> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    for j in de.into_iter::<J>() {
        out.push(build(&j.map_err(json_error)?)?);
    }
    Ok(out)
}

/// Deepest bracket nesting of JSON text, outside strings.
fn max_depth(text: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn json_error(e: serde_json::Error) -> Error {
    Error::syntax(format!("invalid JSON: {e}"))
}

fn build(j: &J) -> Result<Document> {
    let mut b = Builder {
        doc: Document::new(),
        anchors: HashMap::new(),
    };
    let root = b.value(j)?;
    b.doc.set_root(root);
    Ok(b.doc)
}

struct Builder {
    doc: Document,
    anchors: HashMap<u64, Value>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::syntax(msg)
}

impl Builder {
    fn value(&mut self, j: &J) -> Result<Value> {
        Ok(match j {
            J::Null => Value::None,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    self.doc.int(u.into())
                } else {
                    Value::Float(n.as_f64().ok_or_else(|| bad("bad number"))?)
                }
            }
            J::String(s) => self.doc.str(s),
            J::Array(items) => {
                let list = self.doc.list([]);
                self.fill_seq(list, items)?;
                list
            }
            J::Object(m) => self.object(m)?,
        })
    }

    fn fill_seq(&mut self, target: Value, items: &[J]) -> Result<()> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            out.push(self.value(i)?);
        }
        if let Value::Ref(id) = target {
            match self.doc.node_mut(id) {
                Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                    *v = Items::Own(out)
                }
                _ => return Err(bad("internal: not a sequence")),
            }
        }
        Ok(())
    }

    fn pairs(&mut self, items: &[J]) -> Result<Vec<(Value, Value)>> {
        let mut out = Vec::with_capacity(items.len());
        for p in items {
            match p {
                J::Array(kv) if kv.len() == 2 => {
                    let k = self.value(&kv[0])?;
                    let v = self.value(&kv[1])?;
                    out.push((k, v));
                }
                _ => return Err(bad("$dict items must be [key, value] pairs")),
            }
        }
        Ok(out)
    }

    fn anchor(&mut self, m: &Map<String, J>, v: Value) -> Result<()> {
        if let Some(id) = m.get("$id") {
            let id = id.as_u64().ok_or_else(|| bad("$id must be a number"))?;
            self.anchors.insert(id, v);
        }
        Ok(())
    }

    fn text<'j>(m: &'j Map<String, J>, key: &str) -> Result<&'j str> {
        m.get(key)
            .and_then(J::as_str)
            .ok_or_else(|| bad(format!("{key} must be a string")))
    }

    fn object(&mut self, m: &Map<String, J>) -> Result<Value> {
        if let Some(r) = m.get("$ref") {
            let id = r.as_u64().ok_or_else(|| bad("$ref must be a number"))?;
            return self
                .anchors
                .get(&id)
                .copied()
                .ok_or_else(|| bad(format!("$ref {id} before its $id")));
        }
        let tag = m
            .keys()
            .find(|k| k.starts_with('$') && *k != "$id")
            .cloned();
        let Some(tag) = tag else {
            // a plain dict (possibly anchored)
            let d = self.doc.dict([]);
            self.anchor(m, d)?;
            let mut pairs = Vec::with_capacity(m.len());
            for (k, v) in m.iter().filter(|(k, _)| *k != "$id") {
                let k = self.doc.str(k);
                let v = self.value(v)?;
                pairs.push((k, v));
            }
            if let Value::Ref(id) = d {
                *self.doc.node_mut(id) = Node::Dict(Pairs::Own(pairs));
            }
            return Ok(d);
        };
        let body = &m[&tag];
        let v = match tag.as_str() {
            "$int" => {
                let t = body.as_str().ok_or_else(|| bad("$int must be a string"))?;
                let n: num_bigint::BigInt = t.parse().map_err(|_| bad("bad $int"))?;
                let v = self.doc.int(n);
                if let Value::Int(_) = v {
                    return Ok(v);
                }
                v
            }
            "$float" => {
                return Ok(Value::Float(match body.as_str() {
                    Some("nan") => f64::NAN,
                    Some("inf") => f64::INFINITY,
                    Some("-inf") => f64::NEG_INFINITY,
                    _ => return Err(bad("bad $float")),
                }))
            }
            "$str" => {
                let s = body.as_str().ok_or_else(|| bad("$str must be a string"))?;
                self.doc.str(s)
            }
            "$str_surrogates" => {
                let b = base64_decode(Self::text(m, "$str_surrogates")?)?;
                let s = PyStr::from_python_utf8(&b).ok_or_else(|| bad("bad $str_surrogates"))?;
                self.doc.py_str(s)
            }
            "$bytes" => {
                let b = base64_decode(Self::text(m, "$bytes")?)?;
                self.doc.alloc(Node::Bytes(b))
            }
            "$bytearray" => {
                let b = base64_decode(Self::text(m, "$bytearray")?)?;
                self.doc.alloc(Node::ByteArray(b))
            }
            "$buffer" => {
                let data = base64_decode(Self::text(m, "$buffer")?)?;
                let readonly = m.get("readonly").and_then(J::as_bool).unwrap_or(false);
                self.doc.alloc(Node::Buffer(Buffer { data, readonly }))
            }
            "$list" | "$tuple" | "$set" | "$frozenset" => {
                let items = body
                    .as_array()
                    .ok_or_else(|| bad(format!("{tag} must be an array")))?;
                let node = match tag.as_str() {
                    "$list" => Node::List(Items::new()),
                    "$tuple" => Node::Tuple(Items::new()),
                    "$set" => Node::Set(Items::new()),
                    _ => Node::FrozenSet(Items::new()),
                };
                let v = self.doc.alloc(node);
                self.anchor(m, v)?;
                self.fill_seq(v, items)?;
                return Ok(v);
            }
            "$dict" => {
                let items = body
                    .as_array()
                    .ok_or_else(|| bad("$dict must be an array"))?;
                let v = self.doc.dict([]);
                self.anchor(m, v)?;
                let pairs = self.pairs(items)?;
                if let Value::Ref(id) = v {
                    *self.doc.node_mut(id) = Node::Dict(Pairs::Own(pairs));
                }
                return Ok(v);
            }
            "$global" => {
                let t = body
                    .as_str()
                    .ok_or_else(|| bad("$global must be a string"))?;
                let (module, name) = t
                    .split_once(':')
                    .ok_or_else(|| bad("$global must be \"module:qualname\""))?;
                return Ok(self.doc.global(module, name));
            }
            "$object" => {
                let kind = match body.as_str() {
                    Some("reduce") => ObjectKind::Reduce,
                    Some("newobj") => ObjectKind::NewObj,
                    Some("newobj_ex") => ObjectKind::NewObjEx,
                    Some("inst") => ObjectKind::Inst,
                    Some("obj") => ObjectKind::Obj,
                    _ => return Err(bad("bad $object kind")),
                };
                let v = self.doc.alloc(Node::Object(Box::new(Object {
                    kind,
                    callable: Value::None,
                    args: Value::None,
                    kwargs: None,
                    ops: Vec::new(),
                })));
                self.anchor(m, v)?;
                let callable = self.value(
                    m.get("callable")
                        .ok_or_else(|| bad("$object needs callable"))?,
                )?;
                let args = self.value(m.get("args").ok_or_else(|| bad("$object needs args"))?)?;
                let kwargs = match m.get("kwargs") {
                    Some(k) => Some(self.value(k)?),
                    None => None,
                };
                let mut ops = Vec::new();
                if let Some(list) = m.get("ops") {
                    for op in list.as_array().ok_or_else(|| bad("ops must be an array"))? {
                        let o = op
                            .as_object()
                            .filter(|o| o.len() == 1)
                            .ok_or_else(|| bad("bad op"))?;
                        let (name, arg) = o.iter().next().expect("one entry");
                        ops.push(match name.as_str() {
                            "append" => ObjectOp::Append(self.value(arg)?),
                            "add" => ObjectOp::Add(self.value(arg)?),
                            "build" => ObjectOp::Build(self.value(arg)?),
                            "setitem" => match arg.as_array() {
                                Some(kv) if kv.len() == 2 => {
                                    let k = self.value(&kv[0])?;
                                    let v = self.value(&kv[1])?;
                                    ObjectOp::SetItem(k, v)
                                }
                                _ => return Err(bad("setitem takes [key, value]")),
                            },
                            other => return Err(bad(format!("unknown op {other}"))),
                        });
                    }
                }
                if let Value::Ref(id) = v {
                    if let Node::Object(o) = self.doc.node_mut(id) {
                        o.callable = callable;
                        o.args = args;
                        o.kwargs = kwargs;
                        o.ops = ops;
                    }
                }
                return Ok(v);
            }
            "$persistent_id" => {
                let pid = self.value(body)?;
                self.doc.persistent_id(pid)
            }
            "$ext" => {
                let code = body
                    .as_i64()
                    .and_then(|c| i32::try_from(c).ok())
                    .ok_or_else(|| bad("$ext must be an int"))?;
                self.doc.alloc(Node::Extension(code))
            }
            other => return Err(bad(format!("unknown tag {other}"))),
        };
        self.anchor(m, v)?;
        Ok(v)
    }
}
