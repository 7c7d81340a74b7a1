//! `arbitrary::Arbitrary` for [`Document`] (feature `arbitrary`), for fuzzing
//! the pickler: random object graphs with nodes of every kind, shared
//! references (a value is picked again from those already made) and cycles (a
//! list, dict or object given a value that reaches it, itself included).
//!
//! Graphs stay small (at most [`MAX_NODES`] nodes of at most [`MAX_ITEMS`]
//! items each) and Python-shaped: set items and dict keys are hashable
//! (immediates, str, bytes, big ints, globals, extension codes and tuples or
//! frozensets of those), and only mutable containers close cycles, as in
//! anything CPython can pickle.

use arbitrary::{Arbitrary, Result, Unstructured};
use num_bigint::{BigInt, Sign};

use super::{Buffer, Document, Node, Object, ObjectKind, ObjectOp, PyStr, Value};

/// Most nodes in a generated document (cycles add no nodes).
pub const MAX_NODES: usize = 48;
/// Most items in one container, arguments or operations of one object.
pub const MAX_ITEMS: usize = 6;
/// Longest generated str, bytes or buffer.
const MAX_BYTES: usize = 64;

const MODULES: &[&str] = &[
    "builtins",
    "collections",
    "fixture_classes",
    "__main__",
    "a.b",
];
const NAMES: &[&str] = &["set", "OrderedDict", "Plain", "Outer.Inner", "f", "C"];

struct Gen {
    doc: Document,
    /// Every node made so far.
    any: Vec<Value>,
    /// Nodes that may be dict keys or set items.
    hashable: Vec<Value>,
    /// Lists, dicts and objects: what may close a cycle.
    mutable: Vec<Value>,
    /// Globals, for callables.
    globals: Vec<Value>,
}

impl Gen {
    fn immediate(&mut self, u: &mut Unstructured<'_>) -> Result<Value> {
        Ok(match u.int_in_range(0..=4u8)? {
            0 => Value::None,
            1 => Value::Bool(u.arbitrary()?),
            2 => Value::Int(*u.choose(&[
                0,
                1,
                -1,
                255,
                256,
                65535,
                65536,
                i32::MAX as i64 + 1,
                i64::MIN,
                i64::MAX,
            ])?),
            3 => Value::Int(u.arbitrary()?),
            _ => Value::Float(match u.int_in_range(0..=3u8)? {
                0 => *u.choose(&[
                    0.0,
                    -0.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NAN,
                    0.1,
                    1e300,
                ])?,
                _ => f64::from_bits(u.arbitrary()?),
            }),
        })
    }

    /// A value: an immediate or a node already made (sharing).
    fn any(&mut self, u: &mut Unstructured<'_>) -> Result<Value> {
        if self.any.is_empty() || u.ratio(1, 3)? {
            self.immediate(u)
        } else {
            Ok(*u.choose(&self.any)?)
        }
    }

    /// A hashable value.
    fn hashable(&mut self, u: &mut Unstructured<'_>) -> Result<Value> {
        if self.hashable.is_empty() || u.ratio(1, 2)? {
            self.immediate(u)
        } else {
            Ok(*u.choose(&self.hashable)?)
        }
    }

    fn is_hashable(&self, v: Value) -> bool {
        match v {
            Value::Ref(_) => self.hashable.contains(&v),
            _ => true,
        }
    }

    fn items(&mut self, u: &mut Unstructured<'_>, hashable: bool) -> Result<Vec<Value>> {
        let n = u.int_in_range(0..=MAX_ITEMS)?;
        (0..n)
            .map(|_| {
                if hashable {
                    self.hashable(u)
                } else {
                    self.any(u)
                }
            })
            .collect()
    }

    fn bytes(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
        let n = u.int_in_range(0..=MAX_BYTES)?;
        Ok(u.bytes(n.min(u.len()))?.to_vec())
    }

    /// A str, sometimes with lone surrogates (never a high one followed by a
    /// low one, which would read back as one astral character elsewhere).
    fn py_str(u: &mut Unstructured<'_>) -> Result<PyStr> {
        let n = u.int_in_range(0..=MAX_BYTES / 4)?;
        let mut out = Vec::new();
        let mut prev_high = false;
        for _ in 0..n {
            let mut cp: u32 = match u.int_in_range(0..=5u8)? {
                0 | 1 => u.int_in_range(0x20..=0x7e)?,
                2 => u.int_in_range(0..=0xff)?,
                3 => u.int_in_range(0x100..=0xffff)?,
                4 => u.int_in_range(0x10000..=0x10ffff)?,
                _ => u.int_in_range(0xd800..=0xdfff)?,
            };
            if prev_high && (0xdc00..=0xdfff).contains(&cp) {
                cp = u32::from('x');
            }
            prev_high = (0xd800..=0xdbff).contains(&cp);
            encode_surrogatepass(cp, &mut out);
        }
        Ok(PyStr::from_python_utf8(&out).unwrap_or_else(|| PyStr::Utf8("".into())))
    }

    fn name(u: &mut Unstructured<'_>) -> Result<(&'static str, &'static str)> {
        Ok((*u.choose(MODULES)?, *u.choose(NAMES)?))
    }

    fn global(&mut self, u: &mut Unstructured<'_>) -> Result<Value> {
        if !self.globals.is_empty() && u.ratio(1, 2)? {
            return Ok(*u.choose(&self.globals)?);
        }
        let (m, n) = Self::name(u)?;
        let g = self.doc.global(m, n);
        self.globals.push(g);
        self.hashable.push(g);
        self.any.push(g);
        Ok(g)
    }

    fn op(&mut self, u: &mut Unstructured<'_>, value: Value) -> Result<ObjectOp> {
        Ok(match u.int_in_range(0..=3u8)? {
            0 => ObjectOp::Append(value),
            1 => ObjectOp::SetItem(self.hashable(u)?, value),
            2 => ObjectOp::Add(if self.is_hashable(value) {
                value
            } else {
                Value::None
            }),
            _ => ObjectOp::Build(value),
        })
    }

    /// Make one node.
    fn node(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let (v, hashable, mutable) = match u.int_in_range(0..=14u8)? {
            0 => {
                let len = u.int_in_range(9..=40usize)?;
                let mut digits = vec![0u8; len];
                u.fill_buffer(&mut digits)?;
                digits[len - 1] |= 1; // beyond i64 whatever the sign
                let sign = if u.arbitrary()? {
                    Sign::Minus
                } else {
                    Sign::Plus
                };
                let v = self.doc.int(BigInt::from_bytes_le(sign, &digits));
                (v, true, false)
            }
            1 | 2 => {
                let s = Self::py_str(u)?;
                (self.doc.py_str(s), true, false)
            }
            3 => {
                let b = Self::bytes(u)?;
                (self.doc.bytes(&b), true, false)
            }
            4 => {
                let b = Self::bytes(u)?;
                (self.doc.bytearray(&b), false, false)
            }
            5 => {
                let items = self.items(u, false)?;
                (self.doc.list(items), false, true)
            }
            6 => {
                let hashable_only = u.arbitrary()?;
                let items = self.items(u, hashable_only)?;
                let hashable = items.iter().all(|&v| self.is_hashable(v));
                (self.doc.tuple(items), hashable, false)
            }
            7 => {
                let n = u.int_in_range(0..=MAX_ITEMS)?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    pairs.push((self.hashable(u)?, self.any(u)?));
                }
                (self.doc.dict(pairs), false, true)
            }
            8 => {
                let items = self.items(u, true)?;
                (self.doc.set(items), false, false)
            }
            9 => {
                let items = self.items(u, true)?;
                (self.doc.frozenset(items), true, false)
            }
            10 => {
                self.global(u)?;
                return Ok(());
            }
            11 => {
                let kind = *u.choose(&[
                    ObjectKind::Reduce,
                    ObjectKind::NewObj,
                    ObjectKind::NewObjEx,
                    ObjectKind::Inst,
                    ObjectKind::Obj,
                ])?;
                let callable = self.global(u)?;
                let args = self.items(u, false)?;
                let args = self.doc.tuple(args);
                let kwargs = if kind == ObjectKind::NewObjEx {
                    let n = u.int_in_range(0..=3usize)?;
                    let mut pairs = Vec::with_capacity(n);
                    for i in 0..n {
                        let key = self.doc.str(&format!("k{i}"));
                        pairs.push((key, self.any(u)?));
                    }
                    Some(self.doc.dict(pairs))
                } else {
                    None
                };
                let mut ops = Vec::new();
                for _ in 0..u.int_in_range(0..=3usize)? {
                    let value = self.any(u)?;
                    ops.push(self.op(u, value)?);
                }
                let obj = Object {
                    kind,
                    callable,
                    args,
                    kwargs,
                    ops,
                };
                (self.doc.alloc(Node::Object(Box::new(obj))), false, true)
            }
            12 => {
                let pid = if u.arbitrary()? {
                    let s = Self::py_str(u)?;
                    self.doc.py_str(s)
                } else {
                    self.any(u)?
                };
                (self.doc.persistent_id(pid), false, false)
            }
            13 => {
                let code = u.int_in_range(1..=i32::MAX)?;
                (self.doc.alloc(Node::Extension(code)), true, false)
            }
            _ => {
                let data = Self::bytes(u)?;
                let readonly = u.arbitrary()?;
                (
                    self.doc.alloc(Node::Buffer(Buffer { data, readonly })),
                    false,
                    false,
                )
            }
        };
        if let Value::Ref(_) = v {
            self.any.push(v);
            if hashable {
                self.hashable.push(v);
            }
            if mutable {
                self.mutable.push(v);
            }
        }
        Ok(())
    }

    /// Give a mutable node a value that may reach it: a cycle.
    fn cycle(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        if self.mutable.is_empty() {
            return Ok(());
        }
        let target = *u.choose(&self.mutable)?;
        let value = if u.ratio(1, 2)? {
            target
        } else {
            *u.choose(&self.any)?
        };
        let Value::Ref(id) = target else {
            return Ok(());
        };
        let key = self.hashable(u)?;
        let op = self.op(u, value)?;
        match self.doc.node_mut(id) {
            Node::List(_) => {
                if let Some(items) = self.doc.items_mut(id) {
                    items.push(value)
                }
            }
            Node::Dict(_) => {
                if let Some(pairs) = self.doc.pairs_mut(id) {
                    pairs.push((key, value))
                }
            }
            Node::Object(obj) => obj.ops.push(op),
            _ => {}
        }
        Ok(())
    }
}

/// Python's UTF-8 with `surrogatepass`: surrogates as ordinary 3-byte sequences.
fn encode_surrogatepass(cp: u32, out: &mut Vec<u8>) {
    match char::from_u32(cp) {
        Some(c) => {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        None => out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "arbitrary")))]
impl<'a> Arbitrary<'a> for Document {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut g = Gen {
            doc: Document::new(),
            any: Vec::new(),
            hashable: Vec::new(),
            mutable: Vec::new(),
            globals: Vec::new(),
        };
        let n = u.int_in_range(0..=MAX_NODES)?;
        for _ in 0..n {
            if u.is_empty() {
                break;
            }
            g.node(u)?;
        }
        for _ in 0..u.int_in_range(0..=3u8)? {
            g.cycle(u)?;
        }
        let root = if g.any.is_empty() || u.ratio(1, 8)? {
            g.any(u)?
        } else {
            // Usually the last node: the one most likely to reach the others.
            *g.any.last().unwrap_or(&Value::None)
        };
        g.doc.set_root(root);
        Ok(g.doc)
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_every_kind_within_bounds() {
        let mut seen = std::collections::HashSet::new();
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..500 {
            let data: Vec<u8> = (0..512)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let doc = Document::arbitrary(&mut Unstructured::new(&data)).unwrap();
            assert!(doc.len() <= MAX_NODES * 8, "{} nodes", doc.len());
            for node in doc.nodes() {
                seen.insert(node.type_name());
            }
            // Equality terminates on cycles and is reflexive.
            assert!(doc == doc.clone());
        }
        for kind in [
            "int",
            "str",
            "bytes",
            "bytearray",
            "list",
            "tuple",
            "dict",
            "set",
            "frozenset",
            "global",
            "object",
            "persistent_id",
            "extension",
            "PickleBuffer",
        ] {
            assert!(seen.contains(kind), "never generated a {kind}");
        }
    }

    #[test]
    fn surrogates_encode_as_python_does() {
        let mut out = Vec::new();
        encode_surrogatepass(0xd800, &mut out);
        assert_eq!(out, b"\xed\xa0\x80");
        assert!(PyStr::from_python_utf8(&out).is_some());
    }
}
