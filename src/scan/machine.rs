//! The symbolic stack machine: runs one pickle over abstract values.
//!
//! Values are what a static reader can know: constant strs and ints, tuples,
//! lists and dicts of values, imported globals with their verdicts, objects
//! made by calls (with the class that made them), persistent ids, extension
//! codes, and "tainted" results of calls that could not be resolved. Stack,
//! marks and memo follow `_pickle.c` (the same semantics as
//! [`crate::unpickler`]'s machine), so names fed to `STACK_GLOBAL` from the
//! memo or built by earlier opcodes resolve as they would at load time.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Ctx, FindingKind, Verdict};
use crate::error::{Error, Result};
use crate::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::read::{Arg, InstructionReader, Read};

/// How deep pickles nested in a joblib stream (object arrays) may go.
const MAX_NESTING: usize = 8;
/// Most open MARKs, as the unpickler's default.
const MAX_MARKS: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq)]
enum V {
    Other,
    None,
    Bool(bool),
    Int(i64),
    Ref(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    Plain,
    Getattr,
    Partial,
    Reconstructor,
    NewMethod,
    JoblibWrapper,
}

struct GlobalNode {
    module: Rc<str>,
    name: Rc<str>,
    verdict: Verdict,
    special: Special,
    /// The import finding, for `getattr` whose verdict depends on its uses.
    finding: Option<usize>,
    escaped: bool,
}

struct ObjNode {
    /// `module.qualname` of what made it, for messages.
    class: Rc<str>,
    verdict: Verdict,
    special: Special,
    args: Vec<V>,
    state: Option<V>,
    /// For `functools.partial` objects: the function and bound arguments.
    partial: Option<(V, Vec<V>)>,
}

enum Node {
    Str(Rc<str>),
    Tuple(Vec<V>),
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Global(Box<GlobalNode>),
    Object(Box<ObjNode>),
    Pid,
    Ext,
    Magic,
    Tainted,
}

/// What the caller learns about a pickle after its STOP.
pub(super) struct Outcome {
    /// The root is the legacy torch magic number.
    pub magic: bool,
    /// The root is a list of strs (legacy torch storage keys).
    pub str_list: Option<Vec<String>>,
}

struct Machine<'c, 'p> {
    ctx: &'c mut Ctx<'p>,
    nodes: Vec<Node>,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: HashMap<u64, V>,
    proto: u8,
    depth: usize,
}

/// The legacy torch magic number, `0x1950a86a20f9469cfc6c`, as LONG1 bytes.
const TORCH_MAGIC_LE: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

fn underflow() -> Error {
    Error::syntax("unpickling stack underflow")
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn is_dunder(s: &str) -> bool {
    s.len() > 4 && s.starts_with("__") && s.ends_with("__")
}

/// Run one pickle to its STOP, recording findings in `ctx`.
pub(super) fn run<R: Read>(
    reader: &mut InstructionReader<R>,
    ctx: &mut Ctx<'_>,
    depth: usize,
) -> Result<Outcome> {
    let mut m = Machine {
        ctx,
        nodes: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        proto: 0,
        depth,
    };
    loop {
        let here = reader.offset();
        let Some(ins) = reader.next_instruction()? else {
            return Err(Error::eof().at(here));
        };
        let (op, offset) = (ins.op, ins.offset);
        if op == Opcode::Stop {
            let root = m.pop().map_err(|e| e.in_opcode(op).at(offset))?;
            m.escape(root);
            return Ok(m.outcome(root));
        }
        let joblib = m
            .step(op, offset, ins.arg)
            .map_err(|e| e.in_opcode(op).at(offset))?;
        if let Some(array) = joblib {
            m.skip_joblib_array(reader, array, offset)
                .map_err(|e| e.in_opcode(op).at(offset))?;
        }
    }
}

/// Raw array data that joblib wrote after a `NumpyArrayWrapper`'s BUILD.
enum JoblibArray {
    /// `count * itemsize` bytes, after a padding byte and padding if aligned.
    Raw { bytes: u64, aligned: bool },
    /// An object array: a nested protocol-5 pickle.
    Nested,
}

impl<'c, 'p> Machine<'c, 'p> {
    fn alloc(&mut self, n: Node) -> V {
        self.nodes.push(n);
        V::Ref((self.nodes.len() - 1) as u32)
    }

    fn node(&self, v: V) -> Option<&Node> {
        match v {
            V::Ref(i) => self.nodes.get(i as usize),
            _ => None,
        }
    }

    fn node_mut(&mut self, v: V) -> Option<&mut Node> {
        match v {
            V::Ref(i) => self.nodes.get_mut(i as usize),
            _ => None,
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: V) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Result<V> {
        if self.stack.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(self.stack.pop().expect("above fence"))
    }

    fn top(&self) -> Result<V> {
        if self.stack.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(*self.stack.last().expect("above fence"))
    }

    fn pop_mark(&mut self) -> Result<Vec<V>> {
        let at = self
            .marks
            .pop()
            .ok_or_else(|| Error::syntax("could not find MARK"))?;
        Ok(self.stack.split_off(at))
    }

    fn str_of(&self, v: V) -> Option<Rc<str>> {
        match self.node(v) {
            Some(Node::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn outcome(&self, root: V) -> Outcome {
        let magic = matches!(self.node(root), Some(Node::Magic));
        let str_list = match self.node(root) {
            Some(Node::List(items)) => items
                .iter()
                .map(|&v| self.str_of(v).map(|s| s.to_string()))
                .collect(),
            _ => None,
        };
        Outcome { magic, str_list }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        offset: u64,
        op: Opcode,
        kind: FindingKind,
        module: &str,
        name: &str,
        verdict: Verdict,
        reason: String,
    ) -> usize {
        self.ctx
            .emit(offset, op, kind, module, name, verdict, reason)
    }

    /// A value is used as data (stored in a container, passed as an argument,
    /// given as a state, returned). `getattr` used so cannot be resolved.
    fn escape(&mut self, v: V) {
        let Some(Node::Global(g)) = self.node_mut(v) else {
            return;
        };
        if g.special != Special::Getattr || g.escaped {
            return;
        }
        g.escaped = true;
        if let Some(i) = g.finding {
            let f = &mut self.ctx.findings[i];
            f.verdict = Verdict::Dangerous;
            f.reason =
                "getattr used as a value: what it will be called with cannot be resolved".into();
        }
    }

    fn escape_all(&mut self, items: &[V]) {
        for &v in items {
            self.escape(v);
        }
    }

    /// Decode a text argument as Python would for a name (lossy is fine:
    /// names that do not decode cannot be imported).
    fn text(bytes: &[u8]) -> Rc<str> {
        Rc::from(String::from_utf8_lossy(bytes).as_ref())
    }

    fn latin1(bytes: &[u8]) -> Rc<str> {
        let s: String = bytes.iter().map(|&b| b as char).collect();
        Rc::from(s.as_str())
    }

    fn push_global(&mut self, offset: u64, op: Opcode, module: &str, name: &str) {
        // Protocols 0-2 load Python 2 names under their Python 3 homes
        // (fix_imports); the other spelling is judged too, for loaders that
        // map differently, and wins when it is dangerous.
        let mapped = crate::compat::to_python3(module, name);
        let (m3, n3, other) = if self.proto < 3 {
            (mapped.0, mapped.1, (module, name))
        } else {
            (module, name, mapped)
        };
        let (mut verdict, mut reason) = self.ctx.policy.classify(m3, n3);
        if other != (m3, n3) {
            let (v0, r0) = self.ctx.policy.classify(other.0, other.1);
            if v0 == Verdict::Dangerous {
                (verdict, reason) = (v0, format!("as {}.{}: {r0}", other.0, other.1));
            }
        }
        let special = match (m3, n3) {
            ("builtins", "getattr") => Special::Getattr,
            ("functools", "partial") => Special::Partial,
            ("copyreg", "_reconstructor" | "__newobj__" | "__newobj_ex__") => {
                Special::Reconstructor
            }
            (
                "joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle",
                "NumpyArrayWrapper",
            ) => Special::JoblibWrapper,
            _ => Special::Plain,
        };
        if special == Special::Getattr && verdict == Verdict::Safe {
            reason = "builtins.getattr: judged at each call by what it resolves to".into();
        } else if special == Special::Partial && verdict == Verdict::Safe {
            reason = "functools.partial: judged when called by the function it wraps".into();
        }
        let finding = self.emit(offset, op, FindingKind::Import, m3, n3, verdict, reason);
        let v = self.alloc(Node::Global(Box::new(GlobalNode {
            module: Rc::from(m3),
            name: Rc::from(n3),
            verdict,
            special,
            finding: Some(finding),
            escaped: false,
        })));
        self.push(v);
    }

    fn step(&mut self, op: Opcode, offset: u64, arg: Arg<'_>) -> Result<Option<JoblibArray>> {
        match op {
            Opcode::Proto => {
                let Arg::Int(p) = arg else {
                    return Err(bad_arg());
                };
                if p > HIGHEST_PROTOCOL as i64 {
                    return Err(Error::unsupported(format!(
                        "unsupported pickle protocol: {p}"
                    )));
                }
                self.proto = p as u8;
            }
            Opcode::Frame => {}
            Opcode::None => self.push(V::None),
            Opcode::NewTrue => self.push(V::Bool(true)),
            Opcode::NewFalse => self.push(V::Bool(false)),
            Opcode::Int
            | Opcode::BinInt
            | Opcode::BinInt1
            | Opcode::BinInt2
            | Opcode::Long
            | Opcode::Long1
            | Opcode::Long4 => {
                let v = match arg {
                    Arg::Int(i) => V::Int(i),
                    Arg::Bool(b) => V::Bool(b),
                    Arg::BigInt(b) => {
                        let (_, bytes) = b.to_bytes_le();
                        if b.sign() == num_bigint::Sign::Plus && bytes == TORCH_MAGIC_LE {
                            self.alloc(Node::Magic)
                        } else {
                            V::Other
                        }
                    }
                    _ => V::Other,
                };
                self.push(v);
            }
            Opcode::Float | Opcode::BinFloat => self.push(V::Other),
            Opcode::String | Opcode::BinString | Opcode::ShortBinString => {
                let Arg::Bytes(b) = arg else {
                    return Err(bad_arg());
                };
                let v = self.alloc(Node::Str(Self::latin1(&b)));
                self.push(v);
            }
            Opcode::Unicode
            | Opcode::ShortBinUnicode
            | Opcode::BinUnicode
            | Opcode::BinUnicode8 => {
                let Arg::Unicode(b) = arg else {
                    return Err(bad_arg());
                };
                let v = self.alloc(Node::Str(Self::text(&b)));
                self.push(v);
            }
            Opcode::BinBytes
            | Opcode::ShortBinBytes
            | Opcode::BinBytes8
            | Opcode::ByteArray8
            | Opcode::NextBuffer => self.push(V::Other),
            Opcode::ReadonlyBuffer => {
                self.top()?;
            }
            Opcode::EmptyList => {
                let v = self.alloc(Node::List(Vec::new()));
                self.push(v);
            }
            Opcode::EmptyTuple => {
                let v = self.alloc(Node::Tuple(Vec::new()));
                self.push(v);
            }
            Opcode::EmptyDict => {
                let v = self.alloc(Node::Dict(Vec::new()));
                self.push(v);
            }
            Opcode::EmptySet => {
                let v = self.alloc(Node::List(Vec::new()));
                self.push(v);
            }
            Opcode::List | Opcode::Tuple | Opcode::FrozenSet => {
                let items = self.pop_mark()?;
                self.escape_all(&items);
                let node = if op == Opcode::Tuple {
                    Node::Tuple(items)
                } else {
                    Node::List(items)
                };
                let v = self.alloc(node);
                self.push(v);
            }
            Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3 => {
                let n = match op {
                    Opcode::Tuple1 => 1,
                    Opcode::Tuple2 => 2,
                    _ => 3,
                };
                if self.stack.len() < self.fence() + n {
                    return Err(underflow());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.escape_all(&items);
                let v = self.alloc(Node::Tuple(items));
                self.push(v);
            }
            Opcode::Dict => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Error::syntax("odd number of items for DICT"));
                }
                self.escape_all(&items);
                let pairs = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                let v = self.alloc(Node::Dict(pairs));
                self.push(v);
            }
            Opcode::Append => {
                let item = self.pop()?;
                let target = self.top()?;
                self.extend(target, vec![item])?;
            }
            Opcode::Appends | Opcode::AddItems => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.extend(target, items)?;
            }
            Opcode::SetItem => {
                let value = self.pop()?;
                let key = self.pop()?;
                let target = self.top()?;
                self.set_items(target, vec![key, value])?;
            }
            Opcode::SetItems => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Error::syntax("odd number of items for SETITEMS"));
                }
                let target = self.top()?;
                self.set_items(target, items)?;
            }
            Opcode::Pop => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            Opcode::Dup => {
                let v = self.top()?;
                self.push(v);
            }
            Opcode::Mark => {
                if self.marks.len() >= MAX_MARKS {
                    return Err(Error::limit("too many nested MARKs"));
                }
                self.marks.push(self.stack.len());
            }
            Opcode::PopMark => {
                self.pop_mark()?;
            }
            Opcode::Get | Opcode::BinGet | Opcode::LongBinGet => {
                let idx = index_arg(&arg)?;
                let v = *self
                    .memo
                    .get(&idx)
                    .ok_or_else(|| Error::syntax(format!("Memo value not found at index {idx}")))?;
                self.push(v);
            }
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                let idx = index_arg(&arg)?;
                let v = self.top()?;
                self.memo.insert(idx, v);
            }
            Opcode::Memoize => {
                let v = self.top()?;
                let idx = self.memo.len() as u64;
                self.memo.insert(idx, v);
            }
            Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4 => {
                let Arg::Int(code) = arg else {
                    return Err(bad_arg());
                };
                if code <= 0 {
                    return Err(Error::syntax("EXT specifies code <= 0"));
                }
                self.emit(
                    offset,
                    op,
                    FindingKind::Extension,
                    "copyreg",
                    &format!("extension code {code}"),
                    Verdict::Unknown,
                    "resolved through the loading process's copyreg extension registry".into(),
                );
                let v = self.alloc(Node::Ext);
                self.push(v);
            }
            Opcode::Global => {
                let Arg::Pair(m, n) = arg else {
                    return Err(bad_arg());
                };
                let (m, n) = (Self::text(m), Self::text(n));
                self.push_global(offset, op, &m, &n);
            }
            Opcode::StackGlobal => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (self.str_of(module), self.str_of(name)) {
                    (Some(m), Some(n)) => self.push_global(offset, op, &m, &n),
                    _ => {
                        self.emit(
                            offset,
                            op,
                            FindingKind::Import,
                            "?",
                            "?",
                            Verdict::Dangerous,
                            "STACK_GLOBAL with a module or name that is not a constant str".into(),
                        );
                        let v = self.alloc(Node::Tainted);
                        self.push(v);
                    }
                }
            }
            Opcode::Reduce => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.escape(args);
                let items = match self.node(args) {
                    Some(Node::Tuple(t)) => Some(t.clone()),
                    _ => None,
                };
                let v = self.call(offset, op, callable, items);
                self.push(v);
            }
            Opcode::NewObj | Opcode::NewObjEx => {
                if op == Opcode::NewObjEx {
                    let kwargs = self.pop()?;
                    self.escape(kwargs);
                }
                let args = self.pop()?;
                let cls = self.pop()?;
                self.escape(args);
                let items = match self.node(args) {
                    Some(Node::Tuple(t)) => Some(t.clone()),
                    _ => None,
                };
                let v = self.call(offset, op, cls, items);
                self.push(v);
            }
            Opcode::Inst => {
                let Arg::Pair(m, n) = arg else {
                    return Err(bad_arg());
                };
                let (m, n) = (Self::text(m), Self::text(n));
                let items = self.pop_mark()?;
                self.escape_all(&items);
                self.push_global(offset, op, &m, &n);
                let cls = self.pop()?;
                let v = self.call(offset, op, cls, Some(items));
                self.push(v);
            }
            Opcode::Obj => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(underflow());
                }
                let cls = items.remove(0);
                self.escape_all(&items);
                let v = self.call(offset, op, cls, Some(items));
                self.push(v);
            }
            Opcode::Build => return self.build(offset, op),
            Opcode::PersId => {
                let Arg::Text(t) = arg else {
                    return Err(bad_arg());
                };
                self.emit(
                    offset,
                    op,
                    FindingKind::PersistentId,
                    "",
                    &String::from_utf8_lossy(t),
                    Verdict::Unknown,
                    "persistent id: resolved by the loader's persistent_load".into(),
                );
                let v = self.alloc(Node::Pid);
                self.push(v);
            }
            Opcode::BinPersId => {
                let pid = self.pop()?;
                self.escape(pid);
                self.persistent(offset, op, pid);
                let v = self.alloc(Node::Pid);
                self.push(v);
            }
            Opcode::Stop => return Err(bad_arg()),
        }
        Ok(None)
    }

    fn persistent(&mut self, offset: u64, op: Opcode, pid: V) {
        let items = match self.node(pid) {
            Some(Node::Tuple(t)) => t.clone(),
            _ => Vec::new(),
        };
        let tag = items.first().and_then(|&v| self.str_of(v));
        if tag.as_deref() == Some("storage") && items.len() >= 3 {
            let ty = match items.get(1).and_then(|&v| self.node(v)) {
                Some(Node::Global(g)) => format!("{}.{}", g.module, g.name),
                _ => "?".into(),
            };
            let key = self.str_of(items[2]).map(|s| s.to_string());
            if let Some(key) = key.clone() {
                self.ctx.storages.insert(key, ty.clone());
            }
            self.emit(
                offset,
                op,
                FindingKind::PersistentId,
                "storage",
                &format!("{ty} key {}", key.unwrap_or_else(|| "?".into())),
                Verdict::Safe,
                "torch storage reference, resolved by torch's persistent_load".into(),
            );
        } else {
            self.emit(
                offset,
                op,
                FindingKind::PersistentId,
                "",
                tag.as_deref().unwrap_or("?"),
                Verdict::Unknown,
                "persistent id: resolved by the loader's persistent_load".into(),
            );
        }
    }

    fn extend(&mut self, target: V, items: Vec<V>) -> Result<()> {
        self.escape_all(&items);
        match self.node_mut(target) {
            Some(Node::List(l)) => l.extend(items),
            Some(Node::Object(_) | Node::Tainted | Node::Pid | Node::Ext) => {}
            _ => return Err(Error::syntax("APPEND to a value that is not a list")),
        }
        Ok(())
    }

    fn set_items(&mut self, target: V, items: Vec<V>) -> Result<()> {
        self.escape_all(&items);
        match self.node_mut(target) {
            Some(Node::Dict(d)) => d.extend(items.chunks_exact(2).map(|c| (c[0], c[1]))),
            Some(Node::Object(_) | Node::Tainted | Node::Pid | Node::Ext) => {}
            _ => return Err(Error::syntax("SETITEM on a value that is not a dict")),
        }
        Ok(())
    }

    fn global_name(&self, v: V) -> Option<(Rc<str>, Rc<str>)> {
        match self.node(v) {
            Some(Node::Global(g)) => Some((g.module.clone(), g.name.clone())),
            _ => None,
        }
    }

    /// The verdict of "an instance of `v`": a global's own verdict, an object's class.
    fn class_verdict(&self, v: Option<&V>) -> (Verdict, Rc<str>) {
        match v.and_then(|&v| self.node(v)) {
            Some(Node::Global(g)) => (g.verdict, Rc::from(format!("{}.{}", g.module, g.name))),
            Some(Node::Tainted) => (Verdict::Dangerous, Rc::from("<tainted>")),
            _ => (Verdict::Unknown, Rc::from("<value>")),
        }
    }

    /// `callee(*args)` (REDUCE, OBJ, INST) or `callee.__new__(callee, *args)`
    /// (NEWOBJ, NEWOBJ_EX). Records a Call finding and returns the result.
    fn call(&mut self, offset: u64, op: Opcode, callee: V, args: Option<Vec<V>>) -> V {
        let args = args.unwrap_or_default();
        self.call_depth(offset, op, callee, args, 0)
    }

    fn call_depth(&mut self, offset: u64, op: Opcode, callee: V, args: Vec<V>, depth: u32) -> V {
        let is_new = matches!(op, Opcode::NewObj | Opcode::NewObjEx);
        enum Callee {
            Global(Rc<str>, Rc<str>, Verdict, Special),
            Partial(V, Vec<V>, Rc<str>),
            Object(Rc<str>),
            Tainted,
            Pid,
            Ext,
            NotCallable,
        }
        let c = match self.node(callee) {
            Some(Node::Global(g)) => {
                Callee::Global(g.module.clone(), g.name.clone(), g.verdict, g.special)
            }
            Some(Node::Object(o)) => match &o.partial {
                Some((f, a)) => Callee::Partial(*f, a.clone(), o.class.clone()),
                None => Callee::Object(o.class.clone()),
            },
            Some(Node::Tainted) => Callee::Tainted,
            Some(Node::Pid) => Callee::Pid,
            Some(Node::Ext) => Callee::Ext,
            _ => Callee::NotCallable,
        };
        let (module, name, verdict, reason, result) = match c {
            Callee::Global(m, n, _, Special::Getattr) if is_new => {
                self.escape(callee);
                (
                    m,
                    n,
                    Verdict::Dangerous,
                    "NEWOBJ on getattr cannot be resolved".to_string(),
                    self.alloc(Node::Tainted),
                )
            }
            Callee::Global(m, n, _, Special::Getattr) => {
                let (verdict, reason, result) = self.resolve_getattr(&args);
                if verdict == Verdict::Dangerous {
                    // The import's verdict follows its worst use.
                    self.escape(callee);
                }
                (m, n, verdict, reason, result)
            }
            Callee::Global(m, n, v, Special::Partial) => {
                let (func, bound) = match args.split_first() {
                    Some((f, rest)) => (*f, rest.to_vec()),
                    None => (V::None, Vec::new()),
                };
                let class: Rc<str> = Rc::from(format!("{m}.{n}"));
                let obj = self.alloc(Node::Object(Box::new(ObjNode {
                    class,
                    verdict: v,
                    special: Special::Partial,
                    args: args.clone(),
                    state: None,
                    partial: Some((func, bound)),
                })));
                (
                    m,
                    n,
                    v,
                    "binds arguments; judged when the result is called".into(),
                    obj,
                )
            }
            Callee::Global(m, n, v, Special::Reconstructor | Special::NewMethod) => {
                let (cv, class) = self.class_verdict(args.first());
                let verdict = v.max(cv);
                let obj = self.alloc(Node::Object(Box::new(ObjNode {
                    class: class.clone(),
                    verdict,
                    special: Special::Plain,
                    args: args.clone(),
                    state: None,
                    partial: None,
                })));
                (
                    m,
                    n,
                    verdict,
                    format!("creates an instance of {class}"),
                    obj,
                )
            }
            Callee::Global(m, n, v, special) => {
                let class: Rc<str> = Rc::from(format!("{m}.{n}"));
                let obj = self.alloc(Node::Object(Box::new(ObjNode {
                    class: class.clone(),
                    verdict: v,
                    special,
                    args: args.clone(),
                    state: None,
                    partial: None,
                })));
                let what = if is_new {
                    format!("creates an instance of {class}")
                } else {
                    format!("calls {class}")
                };
                (m, n, v, what, obj)
            }
            Callee::Partial(func, bound, _) if !is_new && depth < 8 => {
                let mut all = bound;
                all.extend(args);
                let fname = self
                    .global_name(func)
                    .map(|(m, n)| format!("{m}.{n}"))
                    .unwrap_or_else(|| "<value>".into());
                let before = self.ctx.findings.len();
                let r = self.call_depth(offset, op, func, all, depth + 1);
                if let Some(f) = self.ctx.findings.get_mut(before) {
                    f.reason = format!("calls functools.partial of {fname}: {}", f.reason);
                }
                return r;
            }
            Callee::Partial(_, _, class) | Callee::Object(class) => (
                Rc::from(""),
                class.clone(),
                Verdict::Dangerous,
                format!("calls an object the pickle built ({class} instance): a gadget"),
                self.alloc(Node::Tainted),
            ),
            Callee::Tainted => (
                Rc::from(""),
                Rc::from("<tainted>"),
                Verdict::Dangerous,
                "calls the result of an unresolved or dangerous call".into(),
                self.alloc(Node::Tainted),
            ),
            Callee::Pid => (
                Rc::from(""),
                Rc::from("<persistent id>"),
                Verdict::Unknown,
                "calls an object returned by the loader's persistent_load".into(),
                self.alloc(Node::Tainted),
            ),
            Callee::Ext => (
                Rc::from(""),
                Rc::from("<extension>"),
                Verdict::Unknown,
                "calls an object from the copyreg extension registry".into(),
                V::Other,
            ),
            Callee::NotCallable => (
                Rc::from(""),
                Rc::from("<value>"),
                Verdict::Unknown,
                "calls a value that is not callable; loading fails".into(),
                V::Other,
            ),
        };
        self.emit(
            offset,
            op,
            FindingKind::Call,
            &module,
            &name,
            verdict,
            reason,
        );
        result
    }

    /// `getattr(obj, 'name'[, default])`: resolved when `obj` is a global that
    /// is not dangerous and the name a constant identifier that is not a
    /// dunder (`__new__` is allowed: it makes an instance of `obj`).
    fn resolve_getattr(&mut self, args: &[V]) -> (Verdict, String, V) {
        let target = args.first().and_then(|&v| match self.node(v) {
            Some(Node::Global(g)) if g.special != Special::Getattr => {
                Some((g.module.clone(), g.name.clone(), g.verdict))
            }
            _ => None,
        });
        let attr = args.get(1).and_then(|&v| self.str_of(v));
        let (Some((m, n, gv)), Some(attr), true) = (target, attr, (2..=3).contains(&args.len()))
        else {
            return (
                Verdict::Dangerous,
                "getattr on a value or name that cannot be resolved statically".into(),
                self.alloc(Node::Tainted),
            );
        };
        if gv == Verdict::Dangerous {
            return (
                Verdict::Dangerous,
                format!("getattr on dangerous {m}.{n}"),
                self.alloc(Node::Tainted),
            );
        }
        if !is_identifier(&attr) || (is_dunder(&attr) && &*attr != "__new__") {
            return (
                Verdict::Dangerous,
                format!("getattr({m}.{n}, {attr:?}) reaches a dunder or non-identifier attribute"),
                self.alloc(Node::Tainted),
            );
        }
        let qual = format!("{n}.{attr}");
        let (verdict, special, why) = if &*attr == "__new__" {
            (gv, Special::NewMethod, format!("{m}.{n}'s constructor"))
        } else {
            let (v, r) = self.ctx.policy.classify(&m, &qual);
            (v.max(gv), Special::Plain, r)
        };
        let v = self.alloc(Node::Global(Box::new(GlobalNode {
            module: m.clone(),
            name: Rc::from(qual.as_str()),
            verdict,
            special,
            finding: None,
            escaped: false,
        })));
        (verdict, format!("getattr resolves to {m}.{qual}: {why}"), v)
    }

    fn build(&mut self, offset: u64, op: Opcode) -> Result<Option<JoblibArray>> {
        let state = self.pop()?;
        let target = self.top()?;
        self.escape(state);
        let state_items = match self.node(state) {
            Some(Node::Tuple(t)) => Some(t.clone()),
            _ => None,
        };
        let (module, name, verdict, reason, joblib) = match self.node_mut(target) {
            Some(Node::Object(o)) => {
                o.state = Some(state);
                let joblib = o.special == Special::JoblibWrapper;
                (
                    String::new(),
                    o.class.to_string(),
                    o.verdict,
                    format!("sets the state of a {} instance (__setstate__)", o.class),
                    joblib,
                )
            }
            Some(Node::Global(g)) => (
                g.module.to_string(),
                g.name.to_string(),
                Verdict::Dangerous,
                "BUILD on an imported object sets attributes on it".into(),
                false,
            ),
            Some(Node::Tainted) => (
                String::new(),
                "<tainted>".into(),
                Verdict::Dangerous,
                "BUILD on the result of a dangerous call".into(),
                false,
            ),
            _ => (
                String::new(),
                "<value>".into(),
                Verdict::Unknown,
                "BUILD on a value that is not an object".into(),
                false,
            ),
        };
        // The partial's function may have been replaced by the state.
        if let (Some(Node::Object(o)), Some(items)) = (self.node(target), &state_items) {
            if o.partial.is_some() && items.len() >= 2 {
                let bound = match self.node(items[1]) {
                    Some(Node::Tuple(t)) => t.clone(),
                    _ => Vec::new(),
                };
                let func = items[0];
                if let Some(Node::Object(o)) = self.node_mut(target) {
                    o.partial = Some((func, bound));
                }
            }
        }
        self.emit(
            offset,
            op,
            FindingKind::Build,
            &module,
            &name,
            verdict,
            reason,
        );
        if joblib {
            return self.joblib_array(state).map(Some);
        }
        Ok(None)
    }

    fn dict_get(&self, dict: V, key: &str) -> Option<V> {
        match self.node(dict) {
            Some(Node::Dict(pairs)) => pairs
                .iter()
                .rev()
                .find(|(k, _)| self.str_of(*k).as_deref() == Some(key))
                .map(|&(_, v)| v),
            _ => None,
        }
    }

    /// How many bytes of array data follow a `NumpyArrayWrapper` with this state.
    fn joblib_array(&self, state: V) -> Result<JoblibArray> {
        let bad = |what: &str| Error::syntax(format!("joblib NumpyArrayWrapper: {what}"));
        let shape = self
            .dict_get(state, "shape")
            .ok_or_else(|| bad("no shape"))?;
        let mut count: u64 = 1;
        match self.node(shape) {
            Some(Node::Tuple(dims)) => {
                for d in dims {
                    let V::Int(d) = d else {
                        return Err(bad("shape is not a tuple of ints"));
                    };
                    let d = u64::try_from(*d).map_err(|_| bad("negative dimension"))?;
                    count = count.checked_mul(d).ok_or_else(|| bad("shape overflows"))?;
                }
            }
            _ => return Err(bad("shape is not a tuple of ints")),
        }
        let dtype = self
            .dict_get(state, "dtype")
            .ok_or_else(|| bad("no dtype"))?;
        let Some(Node::Object(d)) = self.node(dtype) else {
            return Err(bad("dtype is not a numpy.dtype"));
        };
        if &*d.class != "numpy.dtype" {
            return Err(bad("dtype is not a numpy.dtype"));
        }
        let typestr = d
            .args
            .first()
            .and_then(|&v| self.str_of(v))
            .ok_or_else(|| bad("dtype without a type string"))?;
        if typestr.starts_with('O') {
            return Ok(JoblibArray::Nested);
        }
        let elsize = d
            .state
            .and_then(|s| match self.node(s) {
                Some(Node::Tuple(t)) => t.get(5).copied(),
                _ => None,
            })
            .and_then(|v| match v {
                V::Int(i) if i > 0 => Some(i as u64),
                _ => None,
            });
        let itemsize = match elsize {
            Some(n) => n,
            None => {
                let digits: String = typestr.chars().filter(|c| c.is_ascii_digit()).collect();
                let n: u64 = digits.parse().map_err(|_| bad("unknown item size"))?;
                if typestr.starts_with('U') {
                    n * 4
                } else {
                    n
                }
            }
        };
        let bytes = count
            .checked_mul(itemsize)
            .ok_or_else(|| bad("array size overflows"))?;
        let aligned = !matches!(
            self.dict_get(state, "numpy_array_alignment_bytes"),
            None | Some(V::None)
        );
        Ok(JoblibArray::Raw { bytes, aligned })
    }

    fn skip_joblib_array<R: Read>(
        &mut self,
        reader: &mut InstructionReader<R>,
        array: JoblibArray,
        offset: u64,
    ) -> Result<()> {
        match array {
            JoblibArray::Nested => {
                if self.depth >= MAX_NESTING {
                    return Err(Error::limit("joblib pickles nested too deep"));
                }
                reader.reset_frames();
                run(reader, self.ctx, self.depth + 1)?;
                reader.reset_frames();
            }
            JoblibArray::Raw { bytes, aligned } => {
                let src = reader.source_mut();
                if aligned {
                    let pad = src.next_byte()?.ok_or_else(Error::eof)?;
                    src.take(pad as u64)?;
                }
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(1 << 20);
                    src.take(n)?;
                    left -= n;
                }
                self.ctx.notes.push(format!(
                    "joblib array data after byte {offset}: {bytes} bytes skipped"
                ));
            }
        }
        // The wrapper on the stack is replaced by the array.
        let top = self.stack.len() - 1;
        self.stack[top] = V::Other;
        Ok(())
    }
}

fn index_arg(arg: &Arg<'_>) -> Result<u64> {
    match arg {
        Arg::Int(i) if *i >= 0 => Ok(*i as u64),
        Arg::Bool(b) => Ok(*b as u64),
        Arg::Int(_) => Err(Error::syntax("negative memo index")),
        _ => Err(Error::syntax("memo index out of range")),
    }
}

#[cold]
fn bad_arg() -> Error {
    Error::syntax("internal: opcode argument of unexpected kind")
}
