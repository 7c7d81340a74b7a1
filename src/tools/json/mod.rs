//! A lossless JSON mapping of documents, both ways (`pickle json`, `pickle from-json`).
//!
//! Plain data stays plain; everything else is an object with one `$` key:
//!
//! | Python | JSON |
//! |---|---|
//! | `None`, `True`, `False` | `null`, `true`, `false` |
//! | `int` within ±2^53 | a number: `1` |
//! | `int` beyond | `{"$int": "123456789012345678901"}` |
//! | `float` | a number that always has `.` or `e` (`2.5`, `1.0`, `1e+16`), or `{"$float": "nan"\|"inf"\|"-inf"}` |
//! | `str` | a string; one with lone surrogates: `{"$str_surrogates": "<base64 of Python's UTF-8>"}` |
//! | `bytes`, `bytearray` | `{"$bytes": "<base64>"}`, `{"$bytearray": "<base64>"}` |
//! | `list` | an array |
//! | `tuple`, `set`, `frozenset` | `{"$tuple": [...]}`, `{"$set": [...]}`, `{"$frozenset": [...]}` |
//! | `dict` with str keys none of which starts with `$` | an object |
//! | any other `dict` | `{"$dict": [[key, value], ...]}` |
//! | a global | `{"$global": "module:qualname"}` |
//! | an object recipe | `{"$object": "reduce"\|"newobj"\|"newobj_ex"\|"inst"\|"obj", "callable": ..., "args": ..., "kwargs": ..., "ops": [{"append": v}, {"setitem": [k, v]}, {"add": v}, {"build": state}]}` (`kwargs`, `ops` only when present) |
//! | a persistent id | `{"$persistent_id": pid}` |
//! | an extension code | `{"$ext": 240}` |
//! | a protocol-5 buffer | `{"$buffer": "<base64>", "readonly": true}` |
//!
//! Sharing and cycles: a node referred to more than once is written in full
//! the first time with an `"$id": n` member (a list then takes the form
//! `{"$id": n, "$list": [...]}`, a str `{"$id": n, "$str": "..."}`), and as
//! `{"$ref": n}` afterwards. A 2^250-leaf memo DAG stays a few kilobytes.
//!
//! Writing is iterative and streams to an `io::Write`; reading (behind the
//! `json` feature, through serde_json) nests at most 128 levels.

use std::io::Write;

use crate::error::{Error, Result};
use crate::value::{Document, Node, ObjectKind, ObjectOp, Value};

/// Options for [`to_json`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct JsonOptions {
    pub(crate) compact: bool,
}

crate::options::setters! {
    JsonOptions {
        /// One line, no spaces (default: indented, two spaces a level, at
        /// most 32 levels of indent).
        compact: bool,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decode standard base64 (padding optional, no whitespace).
#[cfg_attr(not(feature = "json"), allow(dead_code))]
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in text.as_bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return Err(Error::syntax("invalid base64")),
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Write a JSON string literal.
fn write_json_str<W: Write>(w: &mut W, s: &str) -> std::io::Result<()> {
    w.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        w.write_all(&bytes[start..i])?;
        match esc {
            Some(e) => w.write_all(e)?,
            None => write!(w, "\\u{:04x}", b)?,
        }
        start = i + 1;
    }
    w.write_all(&bytes[start..])?;
    w.write_all(b"\"")
}

/// Count how often each node is referred to (saturating at 2), root included.
fn reference_counts(doc: &Document) -> Vec<u8> {
    let mut counts = vec![0u8; doc.len()];
    let mut stack = vec![doc.root_value()];
    while let Some(v) = stack.pop() {
        let Value::Ref(id) = v else { continue };
        let Some(c) = counts.get_mut(id.index()) else {
            continue;
        };
        *c = c.saturating_add(1);
        if *c > 1 {
            continue;
        }
        let node = doc.node(id);
        if let Node::Global(_) = node {
            continue;
        }
        node.for_each_child(doc, |child| stack.push(child));
    }
    counts
}

enum Task<'a> {
    Value(Value, usize),
    Lit(&'static str),
    /// `,` then a line break (pretty) before the next item.
    Sep(usize),
    /// A line break and indentation (pretty only).
    Break(usize),
    Key(&'static str),
    Items(&'a [Value], usize, usize),
    Pairs(&'a [(Value, Value)], usize, usize),
    PlainPairs(&'a [(Value, Value)], usize, usize),
    Ops(&'a [ObjectOp], usize, usize),
}

struct JsonWriter<'a, W> {
    doc: &'a Document,
    w: W,
    compact: bool,
    counts: Vec<u8>,
    ids: Vec<u32>,
    next_id: u32,
}

const NO_ID: u32 = u32::MAX;

impl<'a, W: Write> JsonWriter<'a, W> {
    fn indent(&mut self, depth: usize) -> std::io::Result<()> {
        if self.compact {
            return Ok(());
        }
        self.w.write_all(b"\n")?;
        for _ in 0..depth.min(32) {
            self.w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn key(&mut self, k: &str) -> std::io::Result<()> {
        write_json_str(&mut self.w, k)?;
        self.w.write_all(if self.compact { b":" } else { b": " })
    }

    fn write(mut self) -> Result<()> {
        let mut stack: Vec<Task<'a>> = vec![Task::Value(self.doc.root_value(), 0)];
        while let Some(t) = stack.pop() {
            match t {
                Task::Lit(s) => self.w.write_all(s.as_bytes())?,
                Task::Sep(d) => {
                    self.w.write_all(b",")?;
                    self.indent(d)?;
                }
                Task::Break(d) => self.indent(d)?,
                Task::Key(k) => self.key(k)?,
                Task::Items(items, i, d) => {
                    if i < items.len() {
                        if i + 1 < items.len() {
                            stack.push(Task::Items(items, i + 1, d));
                            stack.push(Task::Sep(d));
                        }
                        stack.push(Task::Value(items[i], d));
                    }
                }
                Task::Pairs(pairs, i, d) => {
                    if i < pairs.len() {
                        if i + 1 < pairs.len() {
                            stack.push(Task::Pairs(pairs, i + 1, d));
                            stack.push(Task::Sep(d));
                        }
                        let (k, v) = pairs[i];
                        stack.push(Task::Lit("]"));
                        stack.push(Task::Value(v, d + 1));
                        stack.push(Task::Lit(if self.compact { "," } else { ", " }));
                        stack.push(Task::Value(k, d + 1));
                        stack.push(Task::Lit("["));
                    }
                }
                Task::PlainPairs(pairs, i, d) => {
                    if i < pairs.len() {
                        if i + 1 < pairs.len() {
                            stack.push(Task::PlainPairs(pairs, i + 1, d));
                            stack.push(Task::Sep(d));
                        }
                        let (k, v) = pairs[i];
                        let key = self.doc.get(k).as_str().unwrap_or("");
                        self.key(key)?;
                        stack.push(Task::Value(v, d));
                    }
                }
                Task::Ops(ops, i, d) => {
                    if i < ops.len() {
                        if i + 1 < ops.len() {
                            stack.push(Task::Ops(ops, i + 1, d));
                            stack.push(Task::Sep(d));
                        }
                        stack.push(Task::Lit("}"));
                        match ops[i] {
                            ObjectOp::Append(v) => {
                                self.w.write_all(b"{")?;
                                self.key("append")?;
                                stack.push(Task::Value(v, d + 1));
                            }
                            ObjectOp::Add(v) => {
                                self.w.write_all(b"{")?;
                                self.key("add")?;
                                stack.push(Task::Value(v, d + 1));
                            }
                            ObjectOp::Build(v) => {
                                self.w.write_all(b"{")?;
                                self.key("build")?;
                                stack.push(Task::Value(v, d + 1));
                            }
                            ObjectOp::SetItem(k, v) => {
                                self.w.write_all(b"{")?;
                                self.key("setitem")?;
                                stack.push(Task::Lit("]"));
                                stack.push(Task::Value(v, d + 1));
                                stack.push(Task::Lit(if self.compact { "," } else { ", " }));
                                stack.push(Task::Value(k, d + 1));
                                stack.push(Task::Lit("["));
                            }
                        }
                    }
                }
                Task::Value(v, d) => self.value(v, d, &mut stack)?,
            }
        }
        if !self.compact {
            self.w.write_all(b"\n")?;
        }
        self.w.flush()?;
        Ok(())
    }

    fn value(&mut self, v: Value, d: usize, stack: &mut Vec<Task<'a>>) -> Result<()> {
        let id = match v {
            Value::None => return Ok(self.w.write_all(b"null")?),
            Value::Bool(b) => return Ok(self.w.write_all(if b { b"true" } else { b"false" })?),
            Value::Int(i) => {
                if i.unsigned_abs() <= 1 << 53 {
                    write!(self.w, "{i}")?
                } else {
                    write!(self.w, "{{\"$int\":\"{i}\"}}")?
                }
                return Ok(());
            }
            Value::Float(f) => {
                if f.is_finite() {
                    self.w
                        .write_all(crate::python::repr::repr_float(f).as_bytes())?
                } else {
                    let t = if f.is_nan() {
                        "nan"
                    } else if f > 0.0 {
                        "inf"
                    } else {
                        "-inf"
                    };
                    write!(self.w, "{{\"$float\":\"{t}\"}}")?
                }
                return Ok(());
            }
            Value::Ref(id) => id,
        };
        let doc = self.doc;
        let Some(node) = doc.nodes().get(id.index()) else {
            return Err(Error::data("dangling value handle"));
        };
        let i = id.index();
        let shared =
            self.counts.get(i).copied().unwrap_or(0) > 1 && !matches!(node, Node::Global(_));
        if shared && self.ids[i] != NO_ID {
            write!(self.w, "{{\"$ref\":{}}}", self.ids[i])?;
            return Ok(());
        }
        // `{"$id": n, ` prefix for anchored nodes
        // `{` and, for a shared node, `"$id": n` and a separator when more follows
        let open_obj_with = |this: &mut Self, more: bool| -> std::io::Result<()> {
            this.w.write_all(b"{")?;
            if shared {
                this.ids[i] = this.next_id;
                this.next_id += 1;
                this.key("$id")?;
                write!(this.w, "{}", this.ids[i])?;
                if more {
                    this.w.write_all(if this.compact { b"," } else { b", " })?;
                }
            }
            Ok(())
        };
        let open_obj = |this: &mut Self| open_obj_with(this, true);
        let seq = |this: &mut Self,
                   stack: &mut Vec<Task<'a>>,
                   items: &'a [Value]|
         -> std::io::Result<()> {
            this.w.write_all(b"[")?;
            if items.is_empty() {
                stack.push(Task::Lit("]"));
            } else {
                stack.push(Task::Lit("]"));
                stack.push(Task::Break(d));
                stack.push(Task::Items(items, 0, d + 1));
                this.indent(d + 1)?;
            }
            Ok(())
        };
        match node {
            Node::BigInt(b) => {
                open_obj(self)?;
                write!(self.w, "\"$int\":\"{b}\"}}")?;
            }
            Node::Str(p) if self.doc.text(p).as_str().is_some() => {
                let s = self.doc.text(p).as_str().unwrap_or_default();
                if shared {
                    open_obj(self)?;
                    self.key("$str")?;
                    write_json_str(&mut self.w, s)?;
                    self.w.write_all(b"}")?;
                } else {
                    write_json_str(&mut self.w, s)?;
                }
            }
            Node::Str(s) => {
                open_obj(self)?;
                self.key("$str_surrogates")?;
                write!(
                    self.w,
                    "\"{}\"}}",
                    base64_encode(self.doc.text(s).as_bytes())
                )?;
            }
            Node::Bytes(b) | Node::ByteArray(b) => {
                open_obj(self)?;
                let tag = if matches!(node, Node::Bytes(_)) {
                    "$bytes"
                } else {
                    "$bytearray"
                };
                self.key(tag)?;
                write!(self.w, "\"{}\"}}", base64_encode(b))?;
            }
            Node::Buffer(b) => {
                open_obj(self)?;
                self.key("$buffer")?;
                write!(self.w, "\"{}\",", base64_encode(&b.data))?;
                self.key("readonly")?;
                write!(self.w, "{}}}", b.readonly)?;
            }
            Node::List(items) if !shared => seq(self, stack, doc.items(items))?,
            Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                open_obj(self)?;
                let tag = match node {
                    Node::List(_) => "$list",
                    Node::Tuple(_) => "$tuple",
                    Node::Set(_) => "$set",
                    _ => "$frozenset",
                };
                self.key(tag)?;
                stack.push(Task::Lit("}"));
                seq(self, stack, doc.items(items))?;
            }
            Node::Dict(pairs) => {
                let pairs = doc.pairs(pairs);
                let plain = pairs
                    .iter()
                    .all(|&(k, _)| doc.get(k).as_str().is_some_and(|s| !s.starts_with('$')));
                if plain {
                    open_obj_with(self, false)?;
                    if shared && !pairs.is_empty() {
                        self.w.write_all(b",")?;
                    }
                    stack.push(Task::Lit("}"));
                    if !pairs.is_empty() {
                        stack.push(Task::Break(d));
                        stack.push(Task::PlainPairs(pairs, 0, d + 1));
                        self.indent(d + 1)?;
                    }
                } else {
                    open_obj(self)?;
                    self.key("$dict")?;
                    self.w.write_all(b"[")?;
                    stack.push(Task::Lit("]}"));
                    if !pairs.is_empty() {
                        stack.push(Task::Break(d));
                        stack.push(Task::Pairs(pairs, 0, d + 1));
                        self.indent(d + 1)?;
                    }
                }
            }
            Node::Global(_) => {
                let (m, n) = doc.get(v).as_global().unwrap_or(("", ""));
                self.w.write_all(b"{")?;
                self.key("$global")?;
                write_json_str(&mut self.w, &format!("{m}:{n}"))?;
                self.w.write_all(b"}")?;
            }
            Node::Object(o) => {
                open_obj(self)?;
                self.key("$object")?;
                let kind = match o.kind {
                    ObjectKind::Reduce => "reduce",
                    ObjectKind::NewObj => "newobj",
                    ObjectKind::NewObjEx => "newobj_ex",
                    ObjectKind::Inst => "inst",
                    ObjectKind::Obj => "obj",
                };
                write_json_str(&mut self.w, kind)?;
                let sep = if self.compact { "," } else { ", " };
                stack.push(Task::Lit("}"));
                if !o.ops.is_empty() {
                    stack.push(Task::Lit("]"));
                    stack.push(Task::Ops(&o.ops, 0, d + 1));
                    stack.push(Task::Lit("["));
                    stack.push(Task::Key("ops"));
                    stack.push(Task::Lit(sep));
                }
                if let Some(k) = o.kwargs {
                    stack.push(Task::Value(k, d + 1));
                    stack.push(Task::Key("kwargs"));
                    stack.push(Task::Lit(sep));
                }
                stack.push(Task::Value(o.args, d + 1));
                stack.push(Task::Key("args"));
                stack.push(Task::Lit(sep));
                stack.push(Task::Value(o.callable, d + 1));
                stack.push(Task::Key("callable"));
                stack.push(Task::Lit(sep));
            }
            Node::PersistentId(pid) => {
                open_obj(self)?;
                self.key("$persistent_id")?;
                stack.push(Task::Lit("}"));
                stack.push(Task::Value(*pid, d + 1));
            }
            Node::Extension(code) => {
                open_obj(self)?;
                self.key("$ext")?;
                write!(self.w, "{code}}}")?;
            }
        }
        Ok(())
    }
}

/// Write a document as JSON (see the module docs for the mapping).
pub fn to_json<W: Write>(doc: &Document, writer: W, options: &JsonOptions) -> Result<()> {
    let counts = reference_counts(doc);
    JsonWriter {
        doc,
        w: writer,
        compact: options.compact,
        ids: vec![NO_ID; doc.len()],
        counts,
        next_id: 0,
    }
    .write()
}

#[cfg(feature = "json")]
mod parse;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use parse::{from_json, from_json_stream, MAX_JSON_DEPTH};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }

    #[test]
    fn shapes() {
        let mut doc = Document::new();
        let s = doc.str("x");
        let l = doc.list([Value::Int(1), Value::Float(2.5), s, s]);
        let t = doc.tuple([l, l]);
        doc.set_root(t);
        let mut out = Vec::new();
        to_json(&doc, &mut out, &JsonOptions { compact: true }).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"$tuple":[{"$id":0,"$list":[1,2.5,{"$id":1,"$str":"x"},{"$ref":1}]},{"$ref":0}]}"#
        );
    }

    /// Every float comes back with its bits, as a value and as a dict key:
    /// random bit patterns (all exponents, subnormals, both signs) and the
    /// values a shortest-digits printer and a parser are known to disagree on.
    #[cfg(feature = "json")]
    #[test]
    fn floats_round_trip_exactly() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut floats: Vec<f64> = vec![
            2.370_543_302_997_248_2,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            0.1 + 0.2,
            1e23,
            8.988_465_674_311_579e307,
            2.225_073_858_507_201e-308,
            -0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if !f.is_nan() {
                floats.push(f);
            }
        }
        for chunk in floats.chunks(5_000) {
            let mut doc = Document::new();
            let items: Vec<Value> = chunk.iter().map(|&f| Value::Float(f)).collect();
            let pairs: Vec<(Value, Value)> = chunk
                .iter()
                .enumerate()
                .map(|(i, &f)| (Value::Float(f), Value::Int(i as i64)))
                .collect();
            let list = doc.list(items);
            let dict = doc.dict(pairs);
            let root = doc.tuple([list, dict]);
            doc.set_root(root);
            for compact in [true, false] {
                let mut out = Vec::new();
                to_json(&doc, &mut out, &JsonOptions { compact }).unwrap();
                let back = from_json(&out).unwrap();
                let r = back.root();
                let got = r.index(0).unwrap();
                for (i, &want) in chunk.iter().enumerate() {
                    let f = got.index(i).unwrap().as_f64().unwrap();
                    assert_eq!(f.to_bits(), want.to_bits(), "{want:?} came back as {f:?}");
                }
                // A document's dict holds its pairs as written.
                let keys: Vec<u64> = r
                    .index(1)
                    .unwrap()
                    .items()
                    .map(|(k, _)| k.as_f64().unwrap().to_bits())
                    .collect();
                let want: Vec<u64> = chunk.iter().map(|f| f.to_bits()).collect();
                assert_eq!(keys, want, "dict keys");
            }
        }
    }
}
