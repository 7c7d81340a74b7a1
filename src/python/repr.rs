//! Python's `repr`, computed without Python.
//!
//! * [`repr_str`], [`repr_bytes`], [`repr_bytearray`] and [`repr_float`] give
//!   exactly what CPython 3.11's `repr` gives for `str`, `bytes`, `bytearray`
//!   and `float`. "Printable" follows `str.isprintable()` through a table
//!   generated from CPython 3.11's `unicodedata` (Unicode 14.0) by
//!   `tests/scripts/gen_unicode_printable.py`.
//! * `Display` on [`ValueRef`] prints the whole value tree as Python would
//!   print the equivalent objects, and [`repr_limited`] does the same with a
//!   length cap (a small pickle can describe a DAG whose expansion is
//!   astronomically large).
//!
//! # How values print
//!
//! | value | printed as |
//! |---|---|
//! | None, bool, int, float, str, bytes | Python's `repr` |
//! | bytearray | `bytearray(b'..')` |
//! | list, tuple, dict | `[1, 2]`, `(1,)`, `()`, `{'a': 1}` |
//! | set, frozenset | `{1, 2}`, `set()`, `frozenset({1})`, `frozenset()` |
//! | global | `module.qualname` |
//! | `REDUCE` object | `callable(arg, ...)` (or `callable(*args)` when args is not a tuple) |
//! | `NEWOBJ` object | `cls.__new__(cls, arg, ...)` |
//! | `NEWOBJ_EX` object | `cls.__new__(cls, arg, ..., **{'k': v})` |
//! | `INST` / `OBJ` object | `cls(arg, ...)` |
//! | persistent id | `persistent_id(pid)` |
//! | extension code | `ext(240)` |
//! | out-of-band buffer | `PickleBuffer(b'..')` (read-only) / `PickleBuffer(bytearray(b'..'))` |
//!
//! What a pickle does to an object after building it follows the call form as
//! method calls, in stream order: a run of appends prints as `.append(x)` or
//! `.extend([x, y])`, a run of set-items as `.update({k: v})`, a run of adds as
//! `.add(x)` or `.update({x, y})`, and a `BUILD` as `.__setstate__(state)`.
//! So `collections.OrderedDict([('a', 1)])` pickled at protocol 2 prints as
//! `collections.OrderedDict().update({'a': 1})` and an ordinary instance as
//! `pcorpus.Point.__new__(pcorpus.Point).__setstate__({'x': 1, 'y': 2})`.
//!
//! A container met again while it is being printed (a cycle) prints as
//! Python's recursion guard prints it: `[...]`, `(...)`, `{...}`, `set(...)`,
//! `frozenset(...)`, and `...` for objects and persistent ids. A node shared
//! without a cycle prints in full each time. Printing uses an explicit stack,
//! so nesting depth is limited only by memory.

use std::collections::HashSet;
use std::fmt::{self, Write};

use crate::codec::float_repr::float_repr_into;
use crate::codec::text::code_points;
use crate::value::{Document, Kind, Node, NodeId, ObjectKind, ObjectOp, Value, ValueRef};

#[rustfmt::skip]
#[path = "printable.rs"]
mod table;

/// `str.isprintable()` for one code point.
pub fn is_printable(cp: u32) -> bool {
    if cp < 0x7f {
        return cp >= 0x20;
    }
    let t = &table::NON_PRINTABLE;
    // Index of the first range whose end is >= cp.
    let i = t.partition_point(|&(_, end)| end < cp);
    !(i < t.len() && t[i].0 <= cp)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, prefix: &str, cp: u32, digits: u32) {
    out.push_str(prefix);
    for k in (0..digits).rev() {
        out.push(HEX[((cp >> (4 * k)) & 0xf) as usize] as char);
    }
}

/// Python's `repr` of a `str` given in Python's UTF-8 (lone surrogates
/// allowed, 3 bytes each as `surrogatepass` writes them).
pub fn repr_str(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_repr_str(&mut out, s);
    out
}

/// Append Python's `repr` of a `str` in Python UTF-8 to `out`.
pub fn write_repr_str(out: &mut String, s: &[u8]) {
    let squote = s.contains(&b'\'');
    let dquote = s.contains(&b'"');
    let quote = if squote && !dquote { '"' } else { '\'' };
    out.push(quote);
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            i += 1;
            match b {
                b'\\' => out.push_str("\\\\"),
                b'\t' => out.push_str("\\t"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                _ if b as char == quote => {
                    out.push('\\');
                    out.push(quote);
                }
                0x20..=0x7e => out.push(b as char),
                _ => push_hex(out, "\\x", b as u32, 2),
            }
            continue;
        }
        let len = match b {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        let end = (i + len).min(s.len());
        let cp = code_points(&s[i..end]).next().unwrap_or(0xfffd);
        i = end;
        if is_printable(cp) {
            // Printable code points are never surrogates.
            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
        } else if cp <= 0xff {
            push_hex(out, "\\x", cp, 2);
        } else if cp <= 0xffff {
            push_hex(out, "\\u", cp, 4);
        } else {
            push_hex(out, "\\U", cp, 8);
        }
    }
    out.push(quote);
}

/// Python's `repr` of the `str` whose code points are the bytes of `b`
/// (what `b.decode("latin-1")` gives).
pub fn repr_latin1(b: &[u8]) -> String {
    let s: String = b.iter().map(|&c| c as char).collect();
    repr_str(s.as_bytes())
}

/// Python's `repr` of `bytes`: `b'...'`.
pub fn repr_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 3);
    write_repr_bytes(&mut out, b);
    out
}

/// Python's `repr` of a `bytearray`: `bytearray(b'...')`.
pub fn repr_bytearray(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 14);
    out.push_str("bytearray(");
    write_repr_bytes_as(&mut out, b, true);
    out.push(')');
    out
}

/// Append Python's `repr` of `bytes` to `out`.
pub fn write_repr_bytes(out: &mut String, b: &[u8]) {
    write_repr_bytes_as(out, b, false)
}

/// `bytes` repr, or with `bytearray` set the `b'...'` part of a bytearray's
/// repr, which escapes `'` even inside double quotes (`bytearray(b"\'")`).
pub(crate) fn write_repr_bytes_as(out: &mut String, b: &[u8], bytearray: bool) {
    let squote = b.contains(&b'\'');
    let dquote = b.contains(&b'"');
    let quote = if squote && !dquote { b'"' } else { b'\'' };
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if c == quote || (bytearray && c == b'\'') => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            _ => push_hex(out, "\\x", c as u32, 2),
        }
    }
    out.push(quote as char);
}

/// Python's `repr` of a `float`: shortest round-trip digits, `1e+16`,
/// `1e-05`, `0.0001`, `123456789.0`, `inf`, `-inf`, `nan`, `-0.0`.
pub fn repr_float(f: f64) -> String {
    let mut buf = [0u8; 32];
    let n = float_repr_into(f, &mut buf);
    // Only ASCII was written.
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The value tree as [`std::fmt::Display`] prints it, but at most `max_len`
/// bytes of it; when cut, `...` follows what was printed (so the result is
/// at most `max_len + 3` bytes). Use it for documents whose expansion may be
/// huge: a shared DAG of 2^250 leaves prints its first `max_len` bytes.
pub fn repr_limited(v: ValueRef<'_>, max_len: usize) -> String {
    let mut w = Limited {
        out: String::new(),
        max: max_len,
        cut: false,
    };
    let _ = write_value(v, &mut w);
    if w.cut {
        w.out.push_str("...");
    }
    w.out
}

struct Limited {
    out: String,
    max: usize,
    cut: bool,
}

impl Write for Limited {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max - self.out.len();
        if s.len() <= room {
            self.out.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.out.push_str(&s[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// One pending piece of output.
enum Step<'a> {
    /// Print a value.
    Val(Value),
    /// Print text.
    Lit(&'static str),
    /// The node is no longer on the current path.
    Leave(NodeId),
    /// Print `items[i..]`, comma-separated.
    Seq(&'a [Value], usize),
    /// Print `pairs[i..]` as `k: v`, comma-separated.
    Pairs(&'a [(Value, Value)], usize),
    /// Print an object's post-construction operations `ops[i..]`.
    Ops(&'a [ObjectOp], usize),
    /// Print the items of one run of operations `run[i..]`, comma-separated.
    Run(&'a [ObjectOp], usize),
}

fn same_run(a: &ObjectOp, b: &ObjectOp) -> bool {
    matches!(
        (a, b),
        (ObjectOp::Append(_), ObjectOp::Append(_))
            | (ObjectOp::SetItem(..), ObjectOp::SetItem(..))
            | (ObjectOp::Add(_), ObjectOp::Add(_))
    )
}

/// Print `root` as Python's repr, with an explicit stack.
fn write_value<W: Write>(root: ValueRef<'_>, w: &mut W) -> fmt::Result {
    let doc = root.document();
    let mut stack: Vec<Step<'_>> = vec![Step::Val(root.value())];
    let mut path: HashSet<NodeId> = HashSet::new();
    let mut text = String::new();
    while let Some(step) = stack.pop() {
        match step {
            Step::Lit(s) => w.write_str(s)?,
            Step::Leave(id) => {
                path.remove(&id);
            }
            Step::Seq(items, i) => {
                if i < items.len() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    stack.push(Step::Seq(items, i + 1));
                    stack.push(Step::Val(items[i]));
                }
            }
            Step::Pairs(pairs, i) => {
                if i < pairs.len() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    stack.push(Step::Pairs(pairs, i + 1));
                    stack.push(Step::Val(pairs[i].1));
                    stack.push(Step::Lit(": "));
                    stack.push(Step::Val(pairs[i].0));
                }
            }
            Step::Run(run, i) => {
                if i < run.len() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    stack.push(Step::Run(run, i + 1));
                    match run[i] {
                        ObjectOp::Append(v) | ObjectOp::Add(v) | ObjectOp::Build(v) => {
                            stack.push(Step::Val(v))
                        }
                        ObjectOp::SetItem(k, v) => {
                            stack.push(Step::Val(v));
                            stack.push(Step::Lit(": "));
                            stack.push(Step::Val(k));
                        }
                    }
                }
            }
            Step::Ops(ops, i) => {
                if i < ops.len() {
                    let mut end = i + 1;
                    if !matches!(ops[i], ObjectOp::Build(_)) {
                        while end < ops.len() && same_run(&ops[i], &ops[end]) {
                            end += 1;
                        }
                    }
                    stack.push(Step::Ops(ops, end));
                    let single = end == i + 1;
                    let (open, close) = match (&ops[i], single) {
                        (ObjectOp::Build(_), _) => (".__setstate__(", ")"),
                        (ObjectOp::Append(_), true) => (".append(", ")"),
                        (ObjectOp::Append(_), false) => (".extend([", "])"),
                        (ObjectOp::SetItem(..), _) => (".update({", "})"),
                        (ObjectOp::Add(_), true) => (".add(", ")"),
                        (ObjectOp::Add(_), false) => (".update({", "})"),
                    };
                    w.write_str(open)?;
                    stack.push(Step::Lit(close));
                    stack.push(Step::Run(&ops[i..end], 0));
                }
            }
            Step::Val(v) => {
                let r = root.at(v);
                match r.kind() {
                    Kind::None => w.write_str("None")?,
                    Kind::Bool(true) => w.write_str("True")?,
                    Kind::Bool(false) => w.write_str("False")?,
                    Kind::Int(i) => write!(w, "{i}")?,
                    Kind::BigInt(b) => write!(w, "{b}")?,
                    Kind::Float(f) => {
                        let mut buf = [0u8; 32];
                        let n = float_repr_into(f, &mut buf);
                        w.write_str(std::str::from_utf8(&buf[..n]).unwrap_or("?"))?;
                    }
                    Kind::Str(s) => {
                        text.clear();
                        write_repr_str(&mut text, s.as_bytes());
                        w.write_str(&text)?;
                    }
                    Kind::Bytes(b) => {
                        text.clear();
                        write_repr_bytes(&mut text, b);
                        w.write_str(&text)?;
                    }
                    Kind::ByteArray(b) => {
                        text.clear();
                        text.push_str("bytearray(");
                        write_repr_bytes_as(&mut text, b, true);
                        text.push(')');
                        w.write_str(&text)?;
                    }
                    Kind::Buffer(b) => {
                        text.clear();
                        text.push_str("PickleBuffer(");
                        if !b.readonly {
                            text.push_str("bytearray(");
                        }
                        write_repr_bytes_as(&mut text, &b.data, !b.readonly);
                        if !b.readonly {
                            text.push(')');
                        }
                        text.push(')');
                        w.write_str(&text)?;
                    }
                    Kind::Global(m, n) => {
                        w.write_str(m)?;
                        w.write_str(".")?;
                        w.write_str(n)?;
                    }
                    Kind::Extension(c) => write!(w, "ext({c})")?,
                    Kind::Dangling => w.write_str("<dangling>")?,
                    _ => {
                        let Value::Ref(id) = v else { unreachable!() };
                        let node = doc.node(id);
                        if path.contains(&id) {
                            w.write_str(match node {
                                Node::List(_) => "[...]",
                                Node::Tuple(_) => "(...)",
                                Node::Dict(_) => "{...}",
                                Node::Set(_) => "set(...)",
                                Node::FrozenSet(_) => "frozenset(...)",
                                _ => "...",
                            })?;
                            continue;
                        }
                        path.insert(id);
                        stack.push(Step::Leave(id));
                        open_container(doc, node, w, &mut stack)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Write a container's opening and push the steps that print the rest.
fn open_container<'a, W: Write>(
    doc: &'a Document,
    node: &'a Node,
    w: &mut W,
    stack: &mut Vec<Step<'a>>,
) -> fmt::Result {
    match node {
        Node::List(items) => {
            let items = doc.items(items);
            w.write_str("[")?;
            stack.push(Step::Lit("]"));
            stack.push(Step::Seq(items, 0));
        }
        Node::Tuple(items) => {
            let items = doc.items(items);
            w.write_str("(")?;
            stack.push(Step::Lit(if items.len() == 1 { ",)" } else { ")" }));
            stack.push(Step::Seq(items, 0));
        }
        Node::Dict(pairs) => {
            let pairs = doc.pairs(pairs);
            w.write_str("{")?;
            stack.push(Step::Lit("}"));
            stack.push(Step::Pairs(pairs, 0));
        }
        Node::Set(items) => {
            let items = doc.items(items);
            if items.is_empty() {
                w.write_str("set()")?;
            } else {
                w.write_str("{")?;
                stack.push(Step::Lit("}"));
                stack.push(Step::Seq(items, 0));
            }
        }
        Node::FrozenSet(items) => {
            let items = doc.items(items);
            if items.is_empty() {
                w.write_str("frozenset()")?;
            } else {
                w.write_str("frozenset({")?;
                stack.push(Step::Lit("})"));
                stack.push(Step::Seq(items, 0));
            }
        }
        Node::PersistentId(pid) => {
            w.write_str("persistent_id(")?;
            stack.push(Step::Lit(")"));
            stack.push(Step::Val(*pid));
        }
        Node::Object(o) => {
            // Pushed in reverse: the call form, then the operations.
            stack.push(Step::Ops(&o.ops, 0));
            stack.push(Step::Lit(")"));
            let new = matches!(o.kind, ObjectKind::NewObj | ObjectKind::NewObjEx);
            let positional = match doc.node_of(o.args) {
                Some(Node::Tuple(items)) => !doc.items(items).is_empty(),
                _ => true,
            };
            if let Some(kw) = o.kwargs {
                if doc.node_of(kw).and_then(|n| match n {
                    Node::Dict(p) => Some(doc.pairs(p).is_empty()),
                    _ => None,
                }) != Some(true)
                {
                    stack.push(Step::Val(kw));
                    stack.push(Step::Lit(if new || positional { ", **" } else { "**" }));
                }
            }
            match doc.node_of(o.args) {
                Some(Node::Tuple(items)) => {
                    let items = doc.items(items);
                    if !items.is_empty() {
                        stack.push(Step::Seq(items, 0));
                        if new {
                            stack.push(Step::Lit(", "));
                        }
                    }
                }
                _ => {
                    stack.push(Step::Val(o.args));
                    stack.push(Step::Lit(if new { ", *" } else { "*" }));
                }
            }
            if new {
                stack.push(Step::Val(o.callable));
                stack.push(Step::Lit(".__new__("));
            } else {
                stack.push(Step::Lit("("));
            }
            stack.push(Step::Val(o.callable));
        }
        // Leaves are printed by the caller.
        _ => {}
    }
    Ok(())
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(*self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Buffer, Document, ObjectKind, ObjectOp, PyStr};

    #[test]
    fn strings() {
        assert_eq!(repr_str(b""), "''");
        assert_eq!(repr_str(b"abc"), "'abc'");
        assert_eq!(repr_str(b"it's"), "\"it's\"");
        assert_eq!(repr_str(b"it's \"q\""), "'it\\'s \"q\"'");
        assert_eq!(repr_str(b"say \"hi\""), "'say \"hi\"'");
        assert_eq!(
            repr_str(b"a\\b\n\r\t\x00\x1f\x7f"),
            "'a\\\\b\\n\\r\\t\\x00\\x1f\\x7f'"
        );
        assert_eq!(repr_str("é€🙂".as_bytes()), "'é€🙂'");
        assert_eq!(
            repr_str("\u{a0}\u{ad}\u{85}".as_bytes()),
            "'\\xa0\\xad\\x85'"
        );
        assert_eq!(
            repr_str("\u{2028}\u{200b}\u{e000}".as_bytes()),
            "'\\u2028\\u200b\\ue000'"
        );
        assert_eq!(
            repr_str("\u{10ffff}\u{e0001}".as_bytes()),
            "'\\U0010ffff\\U000e0001'"
        );
        assert_eq!(repr_str(b"\xed\xa0\x80x\xed\xbf\xbf"), "'\\ud800x\\udfff'");
        assert_eq!(repr_str("\u{3000} ".as_bytes()), "'\\u3000 '");
        assert_eq!(repr_latin1(b"\xe9\xa0\x80'"), "\"é\\xa0\\x80'\"");
    }

    #[test]
    fn printable_table() {
        assert!(is_printable(b' ' as u32));
        assert!(!is_printable(0x1f));
        assert!(!is_printable(0x7f));
        assert!(is_printable(0xe9));
        assert!(!is_printable(0xd800));
        assert!(!is_printable(0x378)); // unassigned
        assert!(is_printable(0x1f642));
        assert!(!is_printable(0x10ffff));
    }

    #[test]
    fn bytes() {
        assert_eq!(repr_bytes(b""), "b''");
        assert_eq!(repr_bytes(b"ab'c"), "b\"ab'c\"");
        assert_eq!(repr_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(
            repr_bytes(b"\x00\t\n\r\\\x7f\x80\xff~ "),
            "b'\\x00\\t\\n\\r\\\\\\x7f\\x80\\xff~ '"
        );
        assert_eq!(repr_bytearray(b"x"), "bytearray(b'x')");
        assert_eq!(repr_bytearray(b"'"), "bytearray(b\"\\'\")");
        assert_eq!(repr_bytearray(b"'\""), "bytearray(b'\\'\"')");
        assert_eq!(repr_bytearray(b""), "bytearray(b'')");
    }

    #[test]
    fn floats() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.1, "1.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (123456789.0, "123456789.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-1.5e-7, "-1.5e-07"),
            (1e100, "1e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.2345678901234567e-300, "1.2345678901234568e-300"),
            (f64::from_bits(0x4313d27da8ac08c1), "1394865425023536.2"),
            (f64::from_bits(0xc2e30d42752c9404), "-167581363823776.12"),
            (0.5, "0.5"),
            (2.5, "2.5"),
            (1e23, "1e+23"),
        ];
        for &(f, want) in cases {
            assert_eq!(repr_float(f), want, "{f:?}");
        }
    }

    #[test]
    fn values() {
        let mut d = Document::new();
        let a = d.str("a");
        let inner = d.list([Value::Int(1), Value::Float(2.5), Value::None]);
        let root = d.dict([(a, inner)]);
        assert_eq!(d.get(root).to_string(), "{'a': [1, 2.5, None]}");

        let t1 = d.tuple([Value::Bool(true)]);
        let t0 = d.tuple([]);
        let t2 = d.tuple([Value::Int(-3), Value::Bool(false)]);
        let b = d.bytes(b"x'");
        let ba = d.bytearray(b"");
        let big = d.int(num_bigint::BigInt::from(1u8) << 100);
        let s0 = d.set([]);
        let s2 = d.set([Value::Int(1), Value::Int(2)]);
        let f0 = d.frozenset([]);
        let f1 = d.frozenset([Value::Int(1)]);
        let sur = d.py_str(PyStr::from_python_utf8(b"\xed\xa0\x80").unwrap());
        let l = d.list([t1, t0, t2, b, ba, big, s0, s2, f0, f1, sur]);
        assert_eq!(
            d.get(l).to_string(),
            "[(True,), (), (-3, False), b\"x'\", bytearray(b''), \
             1267650600228229401496703205376, set(), {1, 2}, frozenset(), \
             frozenset({1}), '\\ud800']"
        );
    }

    #[test]
    fn objects() {
        let mut d = Document::new();
        let x = d.str("x");
        let state = d.dict([(x, Value::Int(1))]);
        let p = d.instance("pcorpus", "Point", state);
        assert_eq!(
            d.get(p).to_string(),
            "pcorpus.Point.__new__(pcorpus.Point).__setstate__({'x': 1})"
        );
        let od = d.reduce("collections", "OrderedDict", []);
        let k = d.str("k");
        d.push_op(od, ObjectOp::SetItem(k, Value::Int(2)));
        d.push_op(od, ObjectOp::SetItem(k, Value::Int(3)));
        assert_eq!(
            d.get(od).to_string(),
            "collections.OrderedDict().update({'k': 2, 'k': 3})"
        );
        let l = d.reduce("pcorpus", "MyList", [Value::Int(7)]);
        d.push_op(l, ObjectOp::Append(Value::Int(1)));
        d.push_op(l, ObjectOp::Build(Value::None));
        d.push_op(l, ObjectOp::Append(Value::Int(2)));
        d.push_op(l, ObjectOp::Append(Value::Int(3)));
        assert_eq!(
            d.get(l).to_string(),
            "pcorpus.MyList(7).append(1).__setstate__(None).extend([2, 3])"
        );
        let s = d.reduce("builtins", "set", []);
        d.push_op(s, ObjectOp::Add(Value::Int(1)));
        assert_eq!(d.get(s).to_string(), "builtins.set().add(1)");
        let cls = d.global("m", "C");
        let args = d.tuple([Value::Int(1)]);
        let kw = d.dict_str([("a", Value::Int(2))]);
        let o = d.object(ObjectKind::NewObjEx, cls, args);
        let Value::Ref(id) = o else { panic!() };
        if let crate::Node::Object(ob) = d.node_mut(id) {
            ob.kwargs = Some(kw);
        }
        assert_eq!(d.get(o).to_string(), "m.C.__new__(m.C, 1, **{'a': 2})");
        let i = d.object(ObjectKind::Inst, cls, Value::Int(5));
        assert_eq!(d.get(i).to_string(), "m.C(*5)");
        let pid = d.str("id1");
        let pv = d.alloc(crate::Node::PersistentId(pid));
        let e = d.alloc(crate::Node::Extension(240));
        let buf = d.alloc(crate::Node::Buffer(Buffer {
            data: b"ab".to_vec(),
            readonly: true,
        }));
        let wbuf = d.alloc(crate::Node::Buffer(Buffer {
            data: b"c".to_vec(),
            readonly: false,
        }));
        let l = d.list([pv, e, buf, wbuf, cls]);
        assert_eq!(
            d.get(l).to_string(),
            "[persistent_id('id1'), ext(240), PickleBuffer(b'ab'), \
             PickleBuffer(bytearray(b'c')), m.C]"
        );
    }

    #[test]
    fn cycles_and_sharing() {
        let mut d = Document::new();
        let l = d.list([Value::Int(1)]);
        let Value::Ref(lid) = l else { panic!() };
        if let Some(v) = d.items_mut(lid) {
            v.push(l);
        }
        assert_eq!(d.get(l).to_string(), "[1, [...]]");
        let k = d.str("self");
        let dd = d.dict([]);
        let Value::Ref(did) = dd else { panic!() };
        if let Some(p) = d.pairs_mut(did) {
            p.push((k, dd));
        }
        assert_eq!(d.get(dd).to_string(), "{'self': {...}}");
        let shared = d.list([Value::Int(0)]);
        let t = d.tuple([shared, shared]);
        assert_eq!(d.get(t).to_string(), "([0], [0])");
        let obj = d.reduce("m", "f", []);
        d.push_op(obj, ObjectOp::Build(obj));
        assert_eq!(d.get(obj).to_string(), "m.f().__setstate__(...)");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let mut d = Document::new();
        let mut v = d.list([]);
        let depth = 1_000_000;
        for _ in 0..depth {
            v = d.list([v]);
        }
        let s = d.get(v).to_string();
        assert_eq!(s.len(), 2 * (depth + 1));
        assert!(s.starts_with("[[[[") && s.ends_with("]]]]"));
    }

    #[test]
    fn limited() {
        let mut d = Document::new();
        let mut v = d.list([Value::Int(1), Value::Int(2)]);
        for _ in 0..250 {
            v = d.list([v, v]);
        }
        let s = repr_limited(d.get(v), 100);
        assert_eq!(s.len(), 103);
        assert!(s.ends_with("..."));
        assert!(s.starts_with("[[[[[["));
        let small = d.list([Value::Int(1)]);
        assert_eq!(repr_limited(d.get(small), 3), "[1]");
        assert_eq!(repr_limited(d.get(small), 2), "[1...");
        let e = d.str("é");
        assert_eq!(repr_limited(d.get(e), 2), "'...");
    }
}
