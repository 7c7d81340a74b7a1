//! The symbolic stack machine: runs one pickle over abstract values.
//!
//! Values are what a static reader can know: constant strs and ints, tuples,
//! lists and dicts of values, imported globals with their verdicts, objects
//! made by calls (with the class that made them), persistent ids, extension
//! codes, and "tainted" results of calls that could not be resolved. Stack,
//! marks and memo follow `_pickle.c` (the same semantics as
//! [`crate::unpickler`]'s machine), so names fed to `STACK_GLOBAL` from the
//! memo or built by earlier opcodes resolve as they would at load time.

use crate::ml::torch_facts::LEGACY_MAGIC_LE as TORCH_MAGIC_LE;
use std::collections::HashSet;
use std::rc::Rc;

use super::{Ctx, FindingKind, Verdict};
use crate::codec::opcodes::{byte, Opcode};
use crate::codec::read::{Arg, InstructionReader, Read, SliceRead};
use crate::error::{Error, Result};
use crate::ml::numpy::DTypeState;
use crate::unpickler::memo::{self, Memo};
use crate::unpickler::stack::{bad_arg, memo_index, protocol_arg, underflow, Stack};
use crate::unpickler::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_MEMO};

/// How deep pickles nested in a joblib stream (object arrays) may go.
const MAX_NESTING: usize = 8;
/// How many bytes after a joblib array's start the `pickle.load` reading of
/// them is followed (see [`Machine::fork_plain`]).
const FORK_WINDOW: usize = 1 << 20;
/// The longest `bytes` value kept for what it says (numpy scalars, the
/// checkpoint `torch.storage._load_from_bytes` loads), and how many bytes a
/// pickle's kept values may take in all.
const MAX_KEPT_BYTES: usize = 16 << 20;
const KEPT_BYTES_BUDGET: usize = 64 << 20;
/// How far on a platform-dependent array end is still followed.
const MAX_FORK_SKIP: u64 = 64 << 20;

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
    /// `joblib.numpy_pickle.NumpyArrayWrapper`: joblib reads the array's
    /// bytes from the stream after its `BUILD`.
    JoblibWrapper,
    /// joblib < 0.10's `NDArrayWrapper`: the array lives in a side file.
    JoblibLegacyWrapper,
    /// numpy < 1.20's `_ufunc_reconstruct(module, name)`: an import by
    /// name, judged at each call by what it names (like `getattr`).
    ImportByName,
    /// `torch.storage._load_from_bytes(b)`: `torch.load` of embedded bytes
    /// (what `pickle.dumps(tensor)` writes), judged by scanning them.
    EmbeddedTorchLoad,
    /// `functools.reduce(f, items[, initial])`: calls `f`, judged as `f`
    /// (how `int | None` pickles: `reduce(operator.or_, (int, NoneType))`).
    Reduce,
    /// `numpy.memmap`: calling it opens (or creates) the file it is given;
    /// as the class `_reconstruct` builds a pickled array of, it is data.
    FileBackedArray,
}

impl Special {
    /// Judged at each call by its arguments: dangerous once it is handed
    /// to code that may call it with anything.
    fn judged_per_call(self) -> bool {
        matches!(
            self,
            Special::Getattr
                | Special::ImportByName
                | Special::EmbeddedTorchLoad
                | Special::Reduce
                | Special::FileBackedArray
        )
    }
}

/// What a global is to the machine, from its module and (dotted) name:
/// every spelling that reaches joblib's wrapper classes counts, since joblib
/// tests the built object with `isinstance`.
fn special_of(module: &str, name: &str) -> Special {
    match (module, name) {
        ("builtins", "getattr") => return Special::Getattr,
        ("functools", "partial") => return Special::Partial,
        ("copyreg", "_reconstructor" | "__newobj__" | "__newobj_ex__") => {
            return Special::Reconstructor
        }
        ("numpy.core" | "numpy._core", "_ufunc_reconstruct") => return Special::ImportByName,
        ("torch.storage", "_load_from_bytes") => return Special::EmbeddedTorchLoad,
        ("functools" | "_functools", "reduce") => return Special::Reduce,
        ("numpy" | "numpy.core.memmap" | "numpy._core.memmap", "memmap") => {
            return Special::FileBackedArray
        }
        _ => {}
    }
    let full = format!("{module}.{name}");
    let joblib = full.starts_with("joblib.") || full.starts_with("sklearn.externals.joblib.");
    if joblib && full.ends_with(".NumpyArrayWrapper") {
        Special::JoblibWrapper
    } else if joblib && full.ends_with(".NDArrayWrapper") {
        Special::JoblibLegacyWrapper
    } else {
        Special::Plain
    }
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
    /// Attributes set so far by `__init__` and `BUILD` (joblib wrappers only).
    attrs: Vec<(Rc<str>, V)>,
    /// `(module, qualname)` of its class, when known.
    origin: Option<(Rc<str>, Rc<str>)>,
}

enum Node {
    Str(Rc<str>),
    /// `bytes` of at most [`MAX_KEPT_BYTES`] (longer ones are `V::Other`).
    Bytes(Rc<[u8]>),
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
    stack: Stack<V>,
    memo: Memo<V>,
    proto: u8,
    depth: usize,
    /// Reading bytes from the middle of a pickle (see [`Machine::fork_plain`]):
    /// what the earlier part left on the stack and in the memo is unknown, so
    /// missing values are `V::Other` instead of errors.
    fork: bool,
    /// Bytes held in `Node::Bytes` values (at most [`KEPT_BYTES_BUDGET`]).
    kept_bytes: usize,
    /// Containers that hold a global judged per call ([`Machine::carries`]).
    carriers: HashSet<u32>,
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
    reader.lenient_frames();
    let mut m = Machine {
        ctx,
        nodes: Vec::new(),
        stack: Stack::new(DEFAULT_MAX_DEPTH),
        memo: Memo::new(DEFAULT_MAX_MEMO),
        proto: 0,
        depth,
        fork: false,
        kept_bytes: 0,
        carriers: HashSet::new(),
    };
    m.run_to_stop(reader)
}

impl<'c, 'p> Machine<'c, 'p> {
    fn run_to_stop<R: Read>(&mut self, reader: &mut InstructionReader<R>) -> Result<Outcome> {
        let m = self;
        loop {
            let here = reader.offset();
            if m.skip_large_payload(reader)? {
                continue;
            }
            let Some(ins) = reader.next_instruction()? else {
                return Err(Error::eof().at(here));
            };
            let (op, offset) = (ins.op, ins.offset);
            if op == Opcode::Stop {
                let root = m.pop().map_err(|e| e.in_opcode(op).at(offset))?;
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
}

/// Raw array data that joblib wrote after a `NumpyArrayWrapper`'s BUILD.
enum JoblibArray {
    /// `count * itemsize` bytes, after a padding byte and padding if aligned;
    /// `other` holds the sizes the array has on other platforms (a dtype
    /// such as `long` whose item size numpy takes from the C compiler).
    Raw {
        bytes: u64,
        aligned: bool,
        other: Vec<u64>,
    },
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

    fn push(&mut self, v: V) {
        self.stack.push(v);
    }

    /// In a fork, what lies below the bytes read is unknown: `V::Other`.
    fn below_fork(&self) -> bool {
        self.fork && self.stack.is_clear()
    }

    fn pop(&mut self) -> Result<V> {
        if self.below_fork() {
            return Ok(V::Other);
        }
        self.stack.pop()
    }

    fn top(&self) -> Result<V> {
        if self.below_fork() {
            return Ok(V::Other);
        }
        self.stack.top()
    }

    fn pop_mark(&mut self) -> Result<Vec<V>> {
        let at = match self.stack.pop_mark() {
            Ok(at) => at,
            // A MARK from the part of the pickle before the fork.
            Err(_) if self.fork => 0,
            Err(e) => return Err(e),
        };
        Ok(self.stack.items.split_off(at))
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

    /// A global judged at each call (`getattr`, an import by name, an
    /// embedded `torch.load`), or a container that holds one.
    fn carries(&self, v: V) -> bool {
        match (v, self.node(v)) {
            (_, Some(Node::Global(g))) => g.special.judged_per_call(),
            (V::Ref(i), Some(Node::Tuple(_) | Node::List(_) | Node::Dict(_))) => {
                self.carriers.contains(&i)
            }
            _ => false,
        }
    }

    /// A container built of `items` holds what they hold.
    fn contain(&mut self, container: V, items: &[V]) {
        if let V::Ref(i) = container {
            if items.iter().any(|&v| self.carries(v)) {
                self.carriers.insert(i);
            }
        }
    }

    /// A value is handed to code the pickle calls (an argument, a state, a
    /// persistent id): a global judged at each call that it holds, at any
    /// depth, may be called with anything. Storing one in a container or
    /// returning it is data.
    fn escape(&mut self, v: V) {
        let mut todo = vec![v];
        while let Some(v) = todo.pop() {
            if !self.carries(v) {
                continue;
            }
            match self.node_mut(v) {
                Some(Node::Global(g)) => {
                    if g.escaped {
                        continue;
                    }
                    g.escaped = true;
                    let what = format!("{}.{}", g.module, g.name);
                    if let Some(i) = g.finding {
                        let f = &mut self.ctx.findings[i];
                        f.verdict = Verdict::Dangerous;
                        f.reason = format!(
                            "{what} handed to code the pickle calls: what it will be called with cannot be resolved"
                        );
                    }
                }
                Some(Node::Tuple(items) | Node::List(items)) => todo.extend(items.iter().copied()),
                Some(Node::Dict(pairs)) => todo.extend(pairs.iter().flat_map(|&(k, v)| [k, v])),
                _ => {}
            }
            // Each container is walked once.
            if let V::Ref(i) = v {
                self.carriers.remove(&i);
            }
        }
    }

    fn escape_all(&mut self, items: &[V]) {
        for &v in items {
            self.escape(v);
        }
    }

    /// Decode a text argument as Python would for a name (lossy is fine:
    /// names that do not decode cannot be imported). A lone surrogate (str
    /// opcodes allow them) becomes one U+FFFD, as in the loaded document's
    /// `to_string_lossy`, so a finding names the global the loader makes.
    fn text(bytes: &[u8]) -> Rc<str> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Rc::from(s),
            Err(_) => match crate::value::PyStr::from_python_utf8(bytes) {
                Some(s) => Rc::from(s.to_string_lossy().as_ref()),
                None => Rc::from(String::from_utf8_lossy(bytes).as_ref()),
            },
        }
    }

    fn latin1(bytes: &[u8]) -> Rc<str> {
        let s: String = bytes.iter().map(|&b| b as char).collect();
        Rc::from(s.as_str())
    }

    fn push_global(&mut self, offset: u64, op: Opcode, module: &str, name: &str) {
        // Protocols 0-2 load Python 2 names under their Python 3 homes
        // (fix_imports); the other spelling is judged too, for loaders that
        // map differently, and wins when it is dangerous.
        let mapped = crate::python::compat::to_python3(module, name);
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
        let special = special_of(m3, n3);
        // Globals whose danger lies in how they are called are judged at
        // each call (and when handed to code that may call them), not at
        // their import; getattr and partial only when the policy allows them.
        let judged_later = match special {
            Special::Getattr if verdict == Verdict::Safe => Some("what it resolves to"),
            Special::Partial if verdict == Verdict::Safe => Some("the function it wraps"),
            Special::FileBackedArray => Some("its use (it opens the file it is given when called; as the class of a pickled array it is data)"),
            Special::Reduce => Some("the function it applies"),
            Special::EmbeddedTorchLoad => Some("scanning the bytes torch.load(weights_only=False) is given"),
            Special::ImportByName => Some("the global it imports"),
            _ => None,
        };
        if let Some(by) = judged_later {
            verdict = Verdict::Safe;
            reason = format!("{m3}.{n3}: judged at each call by {by}");
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
            Opcode::Proto => self.proto = protocol_arg(&arg)?,
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
            Opcode::BinBytes | Opcode::ShortBinBytes | Opcode::BinBytes8 => {
                let v = match arg {
                    Arg::Bytes(b) if self.may_keep(b.len()) => {
                        self.kept_bytes += b.len();
                        self.alloc(Node::Bytes(Rc::from(&b[..])))
                    }
                    _ => V::Other,
                };
                self.push(v);
            }
            Opcode::ByteArray8 | Opcode::NextBuffer => self.push(V::Other),
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
                let held = items.clone();
                let node = if op == Opcode::Tuple {
                    Node::Tuple(items)
                } else {
                    Node::List(items)
                };
                let v = self.alloc(node);
                self.contain(v, &held);
                self.push(v);
            }
            Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3 => {
                let n = match op {
                    Opcode::Tuple1 => 1,
                    Opcode::Tuple2 => 2,
                    _ => 3,
                };
                let items = self.stack.pop_n(n)?;
                let held = items.clone();
                let v = self.alloc(Node::Tuple(items));
                self.contain(v, &held);
                self.push(v);
            }
            Opcode::Dict => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Error::syntax("odd number of items for DICT"));
                }
                let pairs = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                let v = self.alloc(Node::Dict(pairs));
                self.contain(v, &items);
                self.push(v);
            }
            Opcode::Append => {
                let item = self.pop()?;
                let target = self.top()?;
                self.extend(offset, op, target, vec![item])?;
            }
            Opcode::Appends | Opcode::AddItems => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.extend(offset, op, target, items)?;
            }
            Opcode::SetItem => {
                let value = self.pop()?;
                let key = self.pop()?;
                let target = self.top()?;
                self.set_items(offset, op, target, vec![key, value])?;
            }
            Opcode::SetItems => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Error::syntax("odd number of items for SETITEMS"));
                }
                let target = self.top()?;
                self.set_items(offset, op, target, items)?;
            }
            Opcode::Pop => {
                if self.below_fork() {
                    // What the fork pops is unknown.
                } else {
                    self.stack.pop_value_or_mark()?;
                }
            }
            Opcode::Dup => {
                let v = self.top()?;
                self.push(v);
            }
            Opcode::Mark => self.stack.mark()?,
            Opcode::PopMark => {
                self.pop_mark()?;
            }
            Opcode::Get | Opcode::BinGet | Opcode::LongBinGet => {
                let idx = memo_index(&arg, op)?;
                let v = match self.memo.get_ref(idx) {
                    Some(&v) => v,
                    None if self.fork => V::Other,
                    None => return Err(memo::missing(idx)),
                };
                self.push(v);
            }
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                let idx = memo_index(&arg, op)?;
                let v = self.top()?;
                self.memo.put(idx, v)?;
            }
            Opcode::Memoize => {
                let v = self.top()?;
                let idx = self.memo.len() as u64;
                self.memo.put(idx, v)?;
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
                let v = match self.persistent(offset, op, pid) {
                    Some(class) => class,
                    None => self.alloc(Node::Pid),
                };
                self.push(v);
            }
            Opcode::Stop => return Err(bad_arg()),
        }
        Ok(None)
    }

    /// A `BINPERSID`'s finding; `Some(value)` when the loader's
    /// `persistent_load` is known to return a value the pickle holds.
    fn persistent(&mut self, offset: u64, op: Opcode, pid: V) -> Option<V> {
        let items = match self.node(pid) {
            Some(Node::Tuple(t)) => t.clone(),
            _ => Vec::new(),
        };
        let tag = items.first().and_then(|&v| self.str_of(v));
        // Legacy torch.save of a whole module: ('module', cls, source_file,
        // source); torch's persistent_load returns cls (comparing the source
        // only to warn), so what is done with it is judged as cls.
        if tag.as_deref() == Some("module") && items.len() >= 2 {
            if let Some(Node::Global(g)) = self.node(items[1]) {
                let name = format!("{}.{}", g.module, g.name);
                self.emit(
                    offset,
                    op,
                    FindingKind::PersistentId,
                    "module",
                    &name,
                    Verdict::Safe,
                    format!("legacy torch module reference: torch's persistent_load returns {name}, judged where it is used"),
                );
                return Some(items[1]);
            }
        }
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
        None
    }

    /// `APPEND`/`APPENDS`/`ADDITEMS`: a list grows; on anything else
    /// `_pickle.c` calls the target's `extend`/`append`/`add`.
    fn extend(&mut self, offset: u64, op: Opcode, target: V, items: Vec<V>) -> Result<()> {
        self.contain(target, &items);
        let fork = self.fork;
        match self.node_mut(target) {
            Some(Node::List(l)) => l.extend(items),
            Some(Node::Object(_) | Node::Tainted | Node::Pid | Node::Ext) => {}
            Some(Node::Global(_)) => self.mutates_global(offset, op, target, "appends to"),
            None if fork && target == V::Other => {}
            _ => return Err(Error::syntax("APPEND to a value that is not a list")),
        }
        Ok(())
    }

    /// `SETITEM`/`SETITEMS`: a dict gets the pairs; on anything else
    /// `_pickle.c` calls the target's `__setitem__` (a list takes int keys).
    fn set_items(&mut self, offset: u64, op: Opcode, target: V, items: Vec<V>) -> Result<()> {
        self.contain(target, &items);
        let fork = self.fork;
        match self.node_mut(target) {
            Some(Node::Dict(d)) => d.extend(items.chunks_exact(2).map(|c| (c[0], c[1]))),
            Some(Node::List(_) | Node::Object(_) | Node::Tainted | Node::Pid | Node::Ext) => {}
            Some(Node::Global(_)) => self.mutates_global(offset, op, target, "sets items of"),
            None if fork && target == V::Other => {}
            _ => return Err(Error::syntax("SETITEM on a value that is not a dict")),
        }
        Ok(())
    }

    /// An imported object changed in place (`copyreg._extension_registry`,
    /// a module's dict or list): module state of the loading process.
    fn mutates_global(&mut self, offset: u64, op: Opcode, target: V, how: &str) {
        let (m, n) = self
            .global_name(target)
            .unwrap_or_else(|| (Rc::from(""), Rc::from("?")));
        self.emit(
            offset,
            op,
            FindingKind::Call,
            &m,
            &n,
            Verdict::Dangerous,
            format!(
                "{} {how} an imported object: changes the loading process's state",
                op.name()
            ),
        );
    }

    fn global_name(&self, v: V) -> Option<(Rc<str>, Rc<str>)> {
        match self.node(v) {
            Some(Node::Global(g)) => Some((g.module.clone(), g.name.clone())),
            _ => None,
        }
    }

    /// The verdict of "an instance of `v`": a global's own verdict, an object's
    /// class; and what the class is to the machine (joblib's wrappers).
    fn class_verdict(&self, v: Option<&V>) -> (Verdict, Rc<str>, Special) {
        match v.and_then(|&v| self.node(v)) {
            Some(Node::Global(g)) => {
                let special = match g.special {
                    Special::JoblibWrapper | Special::JoblibLegacyWrapper => g.special,
                    // `cls.__new__` resolved by getattr: judged as the class.
                    _ => special_of(&g.module, g.name.trim_end_matches(".__new__")),
                };
                let special = match special {
                    Special::JoblibWrapper | Special::JoblibLegacyWrapper => special,
                    _ => Special::Plain,
                };
                (
                    g.verdict,
                    Rc::from(format!("{}.{}", g.module, g.name)),
                    special,
                )
            }
            Some(Node::Tainted) => (Verdict::Dangerous, Rc::from("<tainted>"), Special::Plain),
            _ => (Verdict::Unknown, Rc::from("<value>"), Special::Plain),
        }
    }

    /// `callee(*args)` (REDUCE, OBJ, INST) or `callee.__new__(callee, *args)`
    /// (NEWOBJ, NEWOBJ_EX). Records a Call finding and returns the result.
    fn call(&mut self, offset: u64, op: Opcode, callee: V, args: Option<Vec<V>>) -> V {
        let args = args.unwrap_or_default();
        // The arguments go to the callee; a partial only binds them, and is
        // judged with them when it is called.
        let binds =
            matches!(self.node(callee), Some(Node::Global(g)) if g.special == Special::Partial);
        // numpy's _reconstruct(cls, shape, dtype) makes an empty array of
        // cls with ndarray.__new__: cls is not called.
        let reconstructs = matches!(
            self.global_name(callee),
            Some((m, n)) if matches!(&*m, "numpy.core.multiarray" | "numpy._core.multiarray") && &*n == "_reconstruct"
        );
        if reconstructs && !args.is_empty() {
            self.escape_all(&args[1..]);
        } else if !binds {
            self.escape_all(&args);
        }
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
            Callee::Global(m, n, _, Special::Reduce)
                if !is_new && (2..=3).contains(&args.len()) && depth < 8 =>
            {
                let func = args[0];
                let fname = self
                    .global_name(func)
                    .map(|(fm, fnm)| format!("{fm}.{fnm}"))
                    .unwrap_or_else(|| "<value>".into());
                // f(accumulated, item): what the items are does not change
                // what f is.
                let (r, verdict) = self.call_through(
                    offset,
                    op,
                    func,
                    vec![V::Other, V::Other],
                    depth,
                    &format!("{m}.{n} applies {fname}"),
                );
                if verdict == Verdict::Dangerous {
                    self.escape(callee);
                }
                return r;
            }
            Callee::Global(m, n, _, Special::Reduce) => {
                self.escape(callee);
                (
                    m,
                    n,
                    Verdict::Dangerous,
                    "reduce with arguments it cannot take".to_string(),
                    self.alloc(Node::Tainted),
                )
            }
            Callee::Global(m, n, _, Special::FileBackedArray) => {
                self.escape(callee);
                (
                    m,
                    n,
                    Verdict::Dangerous,
                    "calling it opens, or creates, the file it is given".to_string(),
                    self.alloc(Node::Tainted),
                )
            }
            Callee::Global(m, n, _, Special::EmbeddedTorchLoad) => {
                let data = match (is_new, &args[..]) {
                    (false, [b]) => match self.node(*b) {
                        Some(Node::Bytes(d)) => Some(d.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                let (verdict, why) = match data {
                    None => {
                        self.escape(callee);
                        (
                            Verdict::Dangerous,
                            "torch.load of bytes the scanner does not hold (computed at load time, or too large to keep)".to_string(),
                        )
                    }
                    Some(d) => {
                        let label = format!("<torch.load of the bytes given at byte {offset}>");
                        match self.ctx.scan_embedded(&d, &label) {
                            Ok(v) => (
                                v,
                                format!(
                                    "torch.load of embedded bytes ({} bytes), scanned: {v}",
                                    d.len()
                                ),
                            ),
                            Err(e) => {
                                self.escape(callee);
                                (
                                    Verdict::Dangerous,
                                    format!(
                                        "torch.load of embedded bytes the scanner cannot read: {e}"
                                    ),
                                )
                            }
                        }
                    }
                };
                let storage = self.opaque_object("torch.storage.UntypedStorage");
                if let Some(Node::Object(o)) = self.node_mut(storage) {
                    o.verdict = Verdict::Safe;
                }
                (m, n, verdict, why, storage)
            }
            Callee::Global(m, n, _, Special::ImportByName) => {
                let names = match args[..] {
                    [a, b] if !is_new => self.str_of(a).zip(self.str_of(b)),
                    _ => None,
                };
                let Some((im, iname)) = names else {
                    self.escape(callee);
                    let t = self.alloc(Node::Tainted);
                    let why = "imports a global whose name is not two constant strs".to_string();
                    self.emit(
                        offset,
                        op,
                        FindingKind::Call,
                        &m,
                        &n,
                        Verdict::Dangerous,
                        why,
                    );
                    return t;
                };
                let (v, why) = self.ctx.policy.classify(&im, &iname);
                if v == Verdict::Dangerous {
                    self.escape(callee);
                }
                let g = self.alloc(Node::Global(Box::new(GlobalNode {
                    module: im.clone(),
                    name: iname.clone(),
                    verdict: v,
                    special: special_of(&im, &iname),
                    finding: None,
                    escaped: false,
                })));
                (m, n, v, format!("imports {im}.{iname}: {why}"), g)
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
                    attrs: Vec::new(),
                    origin: Some((m.clone(), n.clone())),
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
                let (cv, class, special) = self.class_verdict(args.first());
                let verdict = v.max(cv);
                let origin = args
                    .first()
                    .and_then(|&c| self.global_name(c))
                    .map(|(cm, cn)| {
                        let cn = cn.strip_suffix(".__new__").map(Rc::from).unwrap_or(cn);
                        (cm, cn)
                    });
                let obj = self.alloc(Node::Object(Box::new(ObjNode {
                    class: class.clone(),
                    verdict,
                    special,
                    args: args.clone(),
                    state: None,
                    partial: None,
                    attrs: Vec::new(),
                    origin,
                })));
                (
                    m,
                    n,
                    verdict,
                    format!("creates an instance of {class}"),
                    obj,
                )
            }
            // type(name, bases, dict): a class whose dunders are values from
            // the pickle; hash(), len(), str() ... of an instance call them.
            Callee::Global(m, n, _, Special::Plain)
                if &*m == "builtins" && &*n == "type" && args.len() == 3 =>
            {
                self.escape_all(&args);
                (
                    m,
                    n,
                    Verdict::Dangerous,
                    "type(name, bases, dict) makes a class whose methods are values from the pickle".to_string(),
                    self.alloc(Node::Tainted),
                )
            }
            // numpy's RNG unpicklers call their second argument with the
            // first (the bit generator's constructor and its name).
            Callee::Global(m, n, v, Special::Plain)
                if !is_new
                    && args.len() >= 2
                    && depth < 8
                    && &*m == "numpy.random._pickle"
                    && matches!(&*n, "__generator_ctor" | "__randomstate_ctor") =>
            {
                let (_, inner) = self.call_through(
                    offset,
                    op,
                    args[1],
                    vec![args[0]],
                    depth,
                    &format!("{m}.{n} calls its bit generator constructor"),
                );
                let obj = self.opaque_object(&format!("{m}.{n}"));
                if let Some(Node::Object(o)) = self.node_mut(obj) {
                    o.verdict = v.max(inner);
                }
                (
                    m.clone(),
                    n.clone(),
                    v.max(inner),
                    format!("calls {m}.{n}"),
                    obj,
                )
            }
            // Python's own containers: the result is the container, which
            // later opcodes and the joblib sizing can read.
            Callee::Global(m, n, v, Special::Plain)
                if !is_new
                    && v == Verdict::Safe
                    && self.container_call(&m, &n, &args).is_some() =>
            {
                let node = self.container_call(&m, &n, &args).expect("checked");
                let held: Vec<V> = match &node {
                    Node::Bytes(b) => {
                        self.kept_bytes += b.len();
                        Vec::new()
                    }
                    Node::List(x) | Node::Tuple(x) => x.clone(),
                    Node::Dict(d) => d.iter().flat_map(|&(k, v)| [k, v]).collect(),
                    _ => Vec::new(),
                };
                let c = self.alloc(node);
                self.contain(c, &held);
                (m.clone(), n.clone(), v, format!("makes a {m}.{n}"), c)
            }
            Callee::Global(m, n, v, special) => {
                let class: Rc<str> = Rc::from(format!("{m}.{n}"));
                // Calling the class runs `__init__`; NEWOBJ only allocates.
                let attrs = if special == Special::JoblibWrapper && !is_new {
                    self.wrapper_init_attrs(&args)
                } else {
                    Vec::new()
                };
                let obj = self.alloc(Node::Object(Box::new(ObjNode {
                    class: class.clone(),
                    verdict: v,
                    special,
                    args: args.clone(),
                    state: None,
                    partial: None,
                    attrs,
                    origin: Some((m.clone(), n.clone())),
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
                let binds = matches!(self.node(func), Some(Node::Global(g)) if g.special == Special::Partial);
                if !binds {
                    self.escape_all(&all);
                }
                let fname = self
                    .global_name(func)
                    .map(|(m, n)| format!("{m}.{n}"))
                    .unwrap_or_else(|| "<value>".into());
                let what = format!("calls functools.partial of {fname}");
                return self.call_through(offset, op, func, all, depth, &what).0;
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
                self.opaque_object("<extension>"),
            ),
            Callee::NotCallable => (
                Rc::from(""),
                Rc::from("<value>"),
                Verdict::Unknown,
                "calls a value that is not callable; loading fails".into(),
                self.opaque_object("<value>"),
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

    /// `dict(...)`, `list(...)`, `tuple(...)` of a
    /// container the machine holds (or of nothing), as the container.
    fn container_call(&self, m: &str, n: &str, args: &[V]) -> Option<Node> {
        let items = |v: V| match self.node(v) {
            Some(Node::List(x) | Node::Tuple(x)) => Some(x.clone()),
            _ => None,
        };
        match ((m, n), args) {
            // Not OrderedDict: its instances take a BUILD state (torch's
            // `_metadata`), which the machine's dicts do not model.
            (("builtins", "dict"), []) => Some(Node::Dict(Vec::new())),
            (("builtins", "dict"), [a]) => match self.node(*a) {
                Some(Node::Dict(d)) => Some(Node::Dict(d.clone())),
                Some(Node::List(x) | Node::Tuple(x)) => {
                    let mut pairs = Vec::with_capacity(x.len());
                    for &p in x {
                        match items(p).as_deref() {
                            Some(&[k, v]) => pairs.push((k, v)),
                            _ => return None,
                        }
                    }
                    Some(Node::Dict(pairs))
                }
                _ => None,
            },
            // `_codecs.encode(s, 'latin1')`: how protocols 0-2 write bytes.
            (("_codecs" | "codecs", "encode"), [t, e])
                if matches!(
                    self.str_of(*e).as_deref(),
                    Some("latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1")
                ) =>
            {
                let t = self.str_of(*t)?;
                if !self.may_keep(t.len()) {
                    return None;
                }
                let bytes: Option<Vec<u8>> = t.chars().map(|c| u8::try_from(c).ok()).collect();
                Some(Node::Bytes(Rc::from(bytes?)))
            }
            (("builtins", "list"), []) => Some(Node::List(Vec::new())),
            (("builtins", "tuple"), []) => Some(Node::Tuple(Vec::new())),
            (("builtins", "list"), [a]) => items(*a).map(Node::List),
            (("builtins", "tuple"), [a]) => items(*a).map(Node::Tuple),
            _ => None,
        }
    }

    /// A `bytes`/`str` payload too long to keep is stepped over in chunks,
    /// not read into memory whole (a few kilobytes of xz can hold a gigabyte
    /// of `BINBYTES8`). Returns whether the next instruction was one.
    fn skip_large_payload<R: Read>(&mut self, reader: &mut InstructionReader<R>) -> Result<bool> {
        let src = reader.source_mut();
        src.available(9)?;
        let Some((data, pos, base)) = src.slice_parts() else {
            return Ok(false);
        };
        let rest = &data[*pos..];
        let at = base + *pos as u64;
        let (op, header, len) = match rest {
            [byte::BinBytes8 | byte::BinUnicode8 | byte::ByteArray8, l @ ..] if l.len() >= 8 => {
                let n = u64::from_le_bytes(l[..8].try_into().expect("8 bytes"));
                (rest[0], 9, n)
            }
            [byte::BinBytes | byte::BinUnicode | byte::BinString, l @ ..] if l.len() >= 4 => {
                let n = u32::from_le_bytes(l[..4].try_into().expect("4 bytes"));
                if rest[0] == byte::BinString && n > i32::MAX as u32 {
                    return Ok(false); // a negative BINSTRING length: the reader's error
                }
                (rest[0], 5, u64::from(n))
            }
            _ => return Ok(false),
        };
        if len <= MAX_KEPT_BYTES as u64 {
            return Ok(false);
        }
        let Some(opcode) = Opcode::from_byte(op) else {
            return Ok(false);
        };
        let name = opcode.name();
        src.take(header)?;
        let mut left = len;
        while left > 0 {
            let n = left.min(1 << 20);
            src.take(n).map_err(|e| e.in_opcode(opcode).at(at))?;
            left -= n;
        }
        self.push(V::Other);
        self.ctx.notes.push(format!(
            "{name} at byte {at}: {len} bytes of payload stepped over"
        ));
        Ok(true)
    }

    /// Whether a `bytes` value of `len` bytes may be kept.
    fn may_keep(&self, len: usize) -> bool {
        len <= MAX_KEPT_BYTES && self.kept_bytes + len <= KEPT_BYTES_BUDGET
    }

    /// The int a shape entry is: a Python int or bool, or a numpy integer
    /// scalar (`numpy.core.multiarray.scalar(dtype('i8'), b'...')`), which
    /// joblib multiplies like one.
    fn dimension(&self, v: V) -> Option<i64> {
        match v {
            V::Int(i) => return Some(i),
            V::Bool(b) => return Some(b as i64),
            _ => {}
        }
        let Some(Node::Object(o)) = self.node(v) else {
            return None;
        };
        if !matches!(
            &*o.class,
            "numpy.core.multiarray.scalar" | "numpy._core.multiarray.scalar"
        ) {
            return None;
        }
        let [dt, data] = o.args[..] else {
            return None;
        };
        let (sizes, hasobject) = self.dtype_layout(dt).ok()?;
        let Some(Node::Object(d)) = self.node(dt) else {
            return None;
        };
        let kind = self.dtype_typestr(d)?;
        let kind = kind.trim_start_matches(['<', '=', '|']).chars().next()?;
        let Some(Node::Bytes(b)) = self.node(data) else {
            return None;
        };
        if hasobject || sizes.len() != 1 || b.len() as u64 != sizes[0] || b.len() > 8 {
            return None;
        }
        let mut word = [0u8; 8];
        word[..b.len()].copy_from_slice(b);
        let unsigned = u64::from_le_bytes(word);
        match kind {
            'u' | 'B' | 'H' | 'I' | 'Q' | 'L' | 'P' => i64::try_from(unsigned).ok(),
            'i' | 'b' | 'h' | 'q' | 'l' | 'p' => {
                let shift = 64 - 8 * b.len() as u32;
                Some(((unsigned << shift) as i64) >> shift)
            }
            _ => None,
        }
    }

    /// The type string a `numpy.dtype(...)` object was made from: a str, or
    /// a type object numpy maps by name (`numpy.float64`, `builtins.int`).
    fn dtype_typestr(&self, d: &ObjNode) -> Option<Rc<str>> {
        let first = *d.args.first()?;
        if let Some(s) = self.str_of(first) {
            return Some(s);
        }
        match self.node(first) {
            Some(Node::Global(g)) if matches!(&*g.module, "numpy" | "builtins") => {
                Some(g.name.clone())
            }
            _ => None,
        }
    }

    /// The result of a call the scanner cannot follow but that is not
    /// dangerous in itself: an object of no known class, which later opcodes
    /// may fill (items, state) as they would any object.
    fn opaque_object(&mut self, class: &str) -> V {
        self.alloc(Node::Object(Box::new(ObjNode {
            class: Rc::from(class),
            verdict: Verdict::Unknown,
            special: Special::Plain,
            args: Vec::new(),
            state: None,
            partial: None,
            attrs: Vec::new(),
            origin: None,
        })))
    }

    /// A call made by the callable the pickle calls (a partial's function,
    /// reduce's f, an RNG unpickler's constructor): judged one level deeper,
    /// its finding's reason saying through what. Returns the result and the
    /// inner call's verdict.
    fn call_through(
        &mut self,
        offset: u64,
        op: Opcode,
        func: V,
        args: Vec<V>,
        depth: u32,
        through: &str,
    ) -> (V, Verdict) {
        let before = self.ctx.findings.len();
        let r = self.call_depth(offset, op, func, args, depth + 1);
        // The call's own finding is the last one it made (an embedded scan's
        // findings come before it).
        let made = self.ctx.findings.len() > before;
        match self.ctx.findings.last_mut().filter(|_| made) {
            Some(f) => {
                f.reason = format!("{through}: {}", f.reason);
                (r, f.verdict)
            }
            None => (r, Verdict::Dangerous),
        }
    }

    /// `getattr(obj, 'name'[, default])`: resolved when `obj` is a global that
    /// is not dangerous and the name a constant identifier that is not a
    /// dunder (`__new__` is allowed: it makes an instance of `obj`).
    fn resolve_getattr(&mut self, args: &[V]) -> (Verdict, String, V) {
        // A global, or an object of a known class: `getattr(obj, 'method')`
        // is how protocol 2+ pickles a bound method (scipy.stats, sklearn),
        // judged as the class's attribute.
        let target = args.first().and_then(|&v| match self.node(v) {
            Some(Node::Global(g)) if g.special != Special::Getattr => {
                Some((g.module.clone(), g.name.clone(), g.verdict))
            }
            Some(Node::Object(o)) if o.partial.is_none() => o
                .origin
                .as_ref()
                .map(|(m, n)| (m.clone(), n.clone(), o.verdict)),
            // A bound method of a built-in value (`{}.get`, `[].append`).
            Some(Node::Dict(_)) => Some((Rc::from("builtins"), Rc::from("dict"), Verdict::Safe)),
            Some(Node::List(_)) => Some((Rc::from("builtins"), Rc::from("list"), Verdict::Safe)),
            Some(Node::Tuple(_)) => Some((Rc::from("builtins"), Rc::from("tuple"), Verdict::Safe)),
            Some(Node::Str(_)) => Some((Rc::from("builtins"), Rc::from("str"), Verdict::Safe)),
            Some(Node::Bytes(_)) => Some((Rc::from("builtins"), Rc::from("bytes"), Verdict::Safe)),
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
            (v.max(gv), special_of(&m, &qual), r)
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
        // joblib's wrappers keep their state as attributes (the array's
        // subclass among them) and call nothing with it.
        let wrapper = matches!(
            self.node(target),
            Some(Node::Object(o)) if matches!(o.special, Special::JoblibWrapper | Special::JoblibLegacyWrapper)
        );
        if !wrapper {
            self.escape(state);
        }
        let state_items = match self.node(state) {
            Some(Node::Tuple(t)) => Some(t.clone()),
            _ => None,
        };
        let (module, name, verdict, reason, special) = match self.node_mut(target) {
            Some(Node::Object(o)) => {
                o.state = Some(state);
                (
                    String::new(),
                    o.class.to_string(),
                    o.verdict,
                    format!("sets the state of a {} instance (__setstate__)", o.class),
                    o.special,
                )
            }
            Some(Node::Global(g)) => (
                g.module.to_string(),
                g.name.to_string(),
                Verdict::Dangerous,
                "BUILD on an imported object sets attributes on it".into(),
                Special::Plain,
            ),
            Some(Node::Tainted) => (
                String::new(),
                "<tainted>".into(),
                Verdict::Dangerous,
                "BUILD on the result of a dangerous call".into(),
                Special::Plain,
            ),
            _ => (
                String::new(),
                "<value>".into(),
                Verdict::Unknown,
                "BUILD on a value that is not an object".into(),
                Special::Plain,
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
        let finding = self.emit(
            offset,
            op,
            FindingKind::Build,
            &module,
            &name,
            verdict,
            reason,
        );
        // joblib's unpickler reads array data after the BUILD of a wrapper in
        // its own pickle only: pickles nested in it (object arrays) are read
        // by a plain `pickle.load`, and so is a fork's view.
        let joblib_reads = self.depth == 0 && !self.fork;
        match special {
            Special::JoblibWrapper | Special::JoblibLegacyWrapper => {
                self.merge_state_attrs(target, state)?;
            }
            _ => return Ok(None),
        }
        if !joblib_reads {
            return Ok(None);
        }
        if special == Special::JoblibLegacyWrapper {
            self.legacy_side_file(target, finding);
            return Ok(None);
        }
        self.joblib_array(target).map(Some)
    }

    /// The attributes `NumpyArrayWrapper.__init__(subclass, shape, order,
    /// dtype, allow_mmap=False, numpy_array_alignment_bytes=16)` sets. Since
    /// joblib 1.2 the last one defaults to 16 (one padding byte, then
    /// padding); before, the parameter did not exist (no padding byte). A
    /// wrapper made by `__init__` without it is read either way depending on
    /// the installed joblib, which the scanner cannot know.
    fn wrapper_init_attrs(&mut self, args: &[V]) -> Vec<(Rc<str>, V)> {
        const NAMES: [&str; 6] = [
            "subclass",
            "shape",
            "order",
            "dtype",
            "allow_mmap",
            "numpy_array_alignment_bytes",
        ];
        let mut attrs: Vec<(Rc<str>, V)> = NAMES
            .iter()
            .zip(args)
            .map(|(&n, &v)| (Rc::from(n), v))
            .collect();
        if (4..6).contains(&args.len()) {
            let unknown = self.alloc(Node::Tainted);
            attrs.push((Rc::from("numpy_array_alignment_bytes"), unknown));
        }
        attrs
    }

    /// `BUILD` without `__setstate__` (joblib's wrappers have none): a dict
    /// state updates the instance's `__dict__`; a `(state, slotstate)` pair
    /// also sets each slotstate item. Later values win.
    fn merge_state_attrs(&mut self, target: V, state: V) -> Result<()> {
        let parts: Vec<V> = match self.node(state) {
            Some(Node::Tuple(t)) if t.len() == 2 => t.clone(),
            _ => vec![state],
        };
        let mut new = Vec::new();
        for part in parts {
            match (part, self.node(part)) {
                (V::None, _) => {}
                (_, Some(Node::Dict(pairs))) => {
                    for &(k, v) in pairs {
                        let key = self.str_of(k).ok_or_else(|| {
                            Error::syntax("joblib wrapper state key is not a str")
                        })?;
                        new.push((key, v));
                    }
                }
                _ => {
                    return Err(Error::syntax(
                        "joblib wrapper state is not a dict: its attributes cannot be known",
                    ))
                }
            }
        }
        if let Some(Node::Object(o)) = self.node_mut(target) {
            o.attrs.extend(new);
        }
        Ok(())
    }

    fn attr(&self, obj: V, key: &str) -> Option<V> {
        match self.node(obj) {
            Some(Node::Object(o)) => o
                .attrs
                .iter()
                .rev()
                .find(|(k, _)| &**k == key)
                .map(|&(_, v)| v),
            _ => None,
        }
    }

    /// joblib < 0.10 kept each array in a side file next to the pickle,
    /// which `joblib.load` reads with `numpy.load(..., allow_pickle=True)`:
    /// that file's pickles run too. A plain name in the same folder is
    /// recorded for the caller to scan; a path elsewhere is dangerous.
    fn legacy_side_file(&mut self, target: V, finding: usize) {
        let name = self.attr(target, "filename").and_then(|v| self.str_of(v));
        let f = &mut self.ctx.findings[finding];
        match name {
            Some(n) if crate::ml::joblib::is_plain_file_name(&n) => {
                // Unknown until `scan_path` scans the file (scan_bytes cannot).
                f.verdict = f.verdict.max(Verdict::Unknown);
                f.reason = format!(
                    "joblib < 0.10 array: joblib.load reads the side file {n:?} with numpy.load(allow_pickle=True); not scanned here"
                );
                self.ctx.side_files.push((n.to_string(), finding));
            }
            Some(n) => {
                f.verdict = Verdict::Dangerous;
                f.reason = format!(
                    "joblib < 0.10 array: joblib.load unpickles {n:?}, a file outside this file's folder (numpy.load(allow_pickle=True))"
                );
            }
            None => {
                f.verdict = f.verdict.max(Verdict::Unknown);
                f.reason = "joblib < 0.10 array whose side file name is not a constant str".into();
            }
        }
    }

    /// Where the data joblib reads after this `NumpyArrayWrapper`'s `BUILD`
    /// ends, from the wrapper's attributes, sized as numpy sizes it
    /// ([`crate::numpy::pickled_item_layouts`], which the joblib loader's
    /// `pickled_item_layout` is built on).
    fn joblib_array(&mut self, wrapper: V) -> Result<JoblibArray> {
        let bad = |what: &str| Error::syntax(format!("joblib NumpyArrayWrapper: {what}"));
        let shape = self.attr(wrapper, "shape").ok_or_else(|| bad("no shape"))?;
        let mut count: u64 = 1;
        match self.node(shape) {
            Some(Node::Tuple(dims) | Node::List(dims)) => {
                for &d in dims {
                    let d = self
                        .dimension(d)
                        .ok_or_else(|| bad("shape is not a tuple of ints"))?;
                    let d = u64::try_from(d).map_err(|_| bad("negative dimension"))?;
                    // numpy multiplies in int64: refuse what would wrap.
                    count = count
                        .checked_mul(d)
                        .filter(|&c| c <= i64::MAX as u64)
                        .ok_or_else(|| bad("shape overflows"))?;
                }
            }
            _ => return Err(bad("shape is not a tuple of ints")),
        }
        let dtype = self.attr(wrapper, "dtype").ok_or_else(|| bad("no dtype"))?;
        let (sizes, hasobject) = self.dtype_layout(dtype)?;
        if hasobject {
            return Ok(JoblibArray::Nested);
        }
        if sizes.contains(&0) && count > 0 {
            return Err(bad("item size 0: joblib cannot read the array"));
        }
        let mut extents = Vec::with_capacity(sizes.len());
        for size in sizes {
            extents.push(
                count
                    .checked_mul(size)
                    .ok_or_else(|| bad("array size overflows"))?,
            );
        }
        let bytes = extents.remove(0);
        let aligned = match self.attr(wrapper, "numpy_array_alignment_bytes") {
            None | Some(V::None) => false,
            Some(v) if matches!(self.node(v), Some(Node::Tainted)) => {
                return Err(bad(
                    "made by __init__ without numpy_array_alignment_bytes: whether a padding byte follows depends on the joblib version",
                ))
            }
            Some(_) => true,
        };
        Ok(JoblibArray::Raw {
            bytes,
            aligned,
            other: extents,
        })
    }

    /// Item size (every size it has on some platform, this one's first) and
    /// `hasobject` of a `numpy.dtype(...)` object with the state its `BUILD`
    /// gave it.
    fn dtype_layout(&self, dtype: V) -> Result<(Vec<u64>, bool)> {
        let bad = |what: &str| Error::syntax(format!("joblib NumpyArrayWrapper: {what}"));
        let Some(Node::Object(d)) = self.node(dtype) else {
            return Err(bad("dtype is not a numpy.dtype"));
        };
        // numpy 2's variable-width strings: elements are references, so
        // `hasobject` holds and joblib pickles the array (nested).
        if matches!(
            &*d.class,
            "numpy._core._internal._convert_to_stringdtype_kwargs"
                | "numpy.core._internal._convert_to_stringdtype_kwargs"
        ) {
            return Ok((vec![16], true));
        }
        if &*d.class != "numpy.dtype" {
            return Err(bad("dtype is not a numpy.dtype"));
        }
        let typestr = self
            .dtype_typestr(d)
            .ok_or_else(|| bad("dtype without a type string or numpy type"))?;
        let state = match d.state {
            None => None,
            Some(st) => {
                let Some(Node::Tuple(items)) = self.node(st) else {
                    return Err(bad("dtype state is not a tuple"));
                };
                Some(DTypeState::from_items(
                    items.len(),
                    |i| match items.get(i) {
                        Some(V::Int(n)) => Some(*n),
                        Some(V::Bool(b)) => Some(*b as i64),
                        _ => None,
                    },
                    |i| items[i] == V::None,
                ))
            }
        };
        crate::ml::numpy::pickled_item_layouts(&typestr, state.as_ref())
            .map_err(|e| bad(e.message()))
    }

    fn skip_joblib_array<R: Read>(
        &mut self,
        reader: &mut InstructionReader<R>,
        array: JoblibArray,
        offset: u64,
    ) -> Result<()> {
        // `pickle.load` (not joblib's unpickler) reads the same file on: the
        // bytes after the BUILD are opcodes to it. What they would run is
        // dangerous too.
        self.fork_plain(reader, offset, 0)?;
        match array {
            JoblibArray::Nested => {
                if self.depth >= MAX_NESTING {
                    return Err(Error::limit("joblib pickles nested too deep"));
                }
                reader.reset_frames();
                run(reader, self.ctx, self.depth + 1)?;
                reader.reset_frames();
            }
            JoblibArray::Raw {
                bytes,
                aligned,
                other,
            } => {
                let src = reader.source_mut();
                if aligned {
                    let pad = src.next_byte()?.ok_or_else(Error::eof)?;
                    src.take(pad as u64)?;
                }
                // Loaded on another platform, the array ends elsewhere: what
                // follows there is read too.
                for alt in other {
                    self.fork_plain(reader, offset, alt)?;
                }
                let src = reader.source_mut();
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
        let top = self.stack.items.len() - 1;
        self.stack.items[top] = V::Other;
        Ok(())
    }

    /// Read the bytes after a joblib wrapper's `BUILD` as `pickle.load`
    /// would (it has no idea of joblib's array data), up to [`FORK_WINDOW`]
    /// bytes on, and report what that reading finds dangerous. What came
    /// before is unknown to the fork (values it would pop or fetch from the
    /// memo are opaque), so only its dangerous findings count; its errors
    /// end it, as they would end `pickle.load`. A reading that is still going
    /// at the end of the window is not followed further: the file is then
    /// not known to be safe.
    ///
    /// With `skip`, the reading starts that many bytes on: where an array
    /// whose size differs between platforms ends on another one. Such a
    /// reading is not followed past [`MAX_FORK_SKIP`].
    fn fork_plain<R: Read>(
        &mut self,
        reader: &mut InstructionReader<R>,
        at: u64,
        skip: u64,
    ) -> Result<()> {
        if skip > MAX_FORK_SKIP {
            return Err(Error::limit(format!(
                "the joblib array after byte {at} ends {skip} bytes on where numpy's item size differs: more than {MAX_FORK_SKIP} bytes, not followed"
            )));
        }
        let skip = skip as usize;
        let src = reader.source_mut();
        src.available((skip + FORK_WINDOW) as u64)?;
        let Some((data, pos, base)) = src.slice_parts() else {
            return Ok(());
        };
        let rest = &data[*pos..];
        if rest.len() <= skip {
            // The input ends before: that reading stops at its end.
            return Ok(());
        }
        let rest = &rest[skip..];
        let whole = rest.len() < FORK_WINDOW;
        let window = &rest[..rest.len().min(FORK_WINDOW)];
        let start = base + (*pos + skip) as u64;
        let mut ctx = Ctx::new(self.ctx.policy);
        let mut fork = Machine {
            ctx: &mut ctx,
            nodes: Vec::new(),
            stack: Stack::new(DEFAULT_MAX_DEPTH),
            memo: Memo::new(DEFAULT_MAX_MEMO),
            proto: self.proto,
            depth: self.depth + 1,
            fork: true,
            kept_bytes: 0,
            carriers: HashSet::new(),
        };
        let mut r = InstructionReader::new(SliceRead::new(window));
        r.lenient_frames();
        let outcome = fork.run_to_stop(&mut r);
        let ran_out = matches!(&outcome, Err(e) if e.is_eof()) && !whole;
        for mut f in ctx.findings {
            if f.verdict == Verdict::Dangerous && names_look_real(&f.module, &f.name) {
                f.offset += start;
                f.member = self.ctx.member.clone();
                f.reason = if skip == 0 {
                    format!(
                        "read by pickle.load, the bytes after the joblib array wrapper at byte {at} are opcodes: {}",
                        f.reason
                    )
                } else {
                    format!(
                        "where numpy's item size for this dtype differs, the joblib array after byte {at} ends {skip} bytes on, and these opcodes follow: {}",
                        f.reason
                    )
                };
                self.ctx.findings.push(f);
            }
        }
        if ran_out {
            return Err(Error::limit(format!(
                "the bytes after the joblib array wrapper at byte {at} read as opcodes for more than {FORK_WINDOW} bytes: what pickle.load would do with them is not known"
            )));
        }
        Ok(())
    }
}

/// Names a fork's dangerous finding may carry: random bytes read as opcodes
/// make "imports" of garbage, which are not what an attacker writes.
fn names_look_real(module: &str, name: &str) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                let mut c = p.chars();
                matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
                    && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
            })
    };
    // A real global: a call of something the fork's garbage made up
    // (`<tainted>`, `<value>`) is not what an attacker writes either.
    ident(module) && ident(name)
}

#[cfg(test)]
mod tests {
    use crate::tools::scan::{scan_bytes, Policy, Report, Verdict};

    fn scan(data: &[u8]) -> Report {
        scan_bytes(data, &Policy::default())
    }

    fn describe(r: &Report) -> String {
        let mut s = format!("verdict {} error {:?}\n", r.verdict(), r.error);
        for f in &r.findings {
            s += &format!(
                "  {} {}.{} {} ({})\n",
                f.offset, f.module, f.name, f.verdict, f.reason
            );
        }
        s
    }

    fn unicode(s: &str) -> Vec<u8> {
        let mut v = vec![b'X'];
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }

    /// `numpy.dtype(typestr, False, True)` with numpy's 8-item state
    /// `(3, '<', None, None, None, elsize, alignment, flags)`.
    fn dtype(typestr: &str, elsize: i32, flags: u8) -> Vec<u8> {
        let mut v = b"cnumpy\ndtype\n".to_vec();
        v.extend(unicode(typestr));
        v.extend_from_slice(b"\x89\x88\x87R(K\x03");
        v.extend(unicode("<"));
        v.extend_from_slice(b"NNNJ");
        v.extend_from_slice(&elsize.to_le_bytes());
        v.extend_from_slice(b"J\xff\xff\xff\xffK");
        v.push(flags);
        v.extend_from_slice(b"tb");
        v
    }

    /// A protocol-2 pickle of a joblib `NumpyArrayWrapper` (NEWOBJ + BUILD of
    /// its state dict), as joblib ≥ 1.2 writes one, without the STOP.
    fn wrapper(dt: &[u8], shape: &[u8], aligned: bool) -> Vec<u8> {
        let mut v = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(".to_vec();
        v.extend(unicode("subclass"));
        v.extend_from_slice(b"cnumpy\nndarray\n");
        v.extend(unicode("shape"));
        v.extend_from_slice(shape);
        v.extend(unicode("order"));
        v.extend(unicode("C"));
        v.extend(unicode("dtype"));
        v.extend_from_slice(dt);
        v.extend(unicode("allow_mmap"));
        v.extend_from_slice(b"\x88");
        if aligned {
            v.extend(unicode("numpy_array_alignment_bytes"));
            v.extend_from_slice(b"K\x10");
        }
        v.extend_from_slice(b"ub");
        v
    }

    /// `os.system('echo pwned')` as a protocol-2 REDUCE, popped (a
    /// statement in the middle of a pickle).
    const PAYLOAD: &[u8] = b"cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R0";

    fn has_system(r: &Report) -> bool {
        r.findings
            .iter()
            .any(|f| f.module == "os" && f.name == "system" && f.verdict == Verdict::Dangerous)
    }

    #[test]
    fn benign_wrapper_is_safe_and_its_data_not_read_as_opcodes() {
        for aligned in [false, true] {
            let mut data = wrapper(&dtype("f8", -1, 0), b"K\x02\x85", aligned);
            if aligned {
                data.extend_from_slice(&[3, 0xff, 0xff, 0xff]);
            }
            // Two float64: bytes that are opcodes to pickle.load (NONE, POP).
            data.extend_from_slice(b"N0N0N0N0NNNNNNNN");
            data.push(b'.');
            let r = scan(&data);
            assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(&r));
        }
    }

    #[test]
    fn dtype_named_by_numpy_rules_is_sized_as_numpy_sizes_it() {
        // "float64" is 8 bytes to numpy; sized from its digits it would be 64
        // and the payload after the 16 array bytes would be skipped.
        for name in ["float64", "d", "<f8", "double"] {
            let mut data = wrapper(&dtype(name, -1, 0), b"K\x02\x85", false);
            data.extend_from_slice(&[0u8; 16]);
            data.extend_from_slice(PAYLOAD);
            data.extend_from_slice(&[b'N'; 120]);
            data.extend_from_slice(b"0.");
            let r = scan(&data);
            assert!(has_system(&r), "{name}: {}", describe(&r));
        }
    }

    #[test]
    fn platform_dependent_dtypes_are_read_at_every_size_they_have() {
        // `long` is 8 bytes on Linux, 4 on Windows: two int32 end after 8
        // bytes there, where this payload starts; 16 zero bytes are data here.
        for name in ["long", "l", "int", "<l"] {
            let mut data = wrapper(&dtype(name, -1, 0), b"K\x02\x85", false);
            data.extend_from_slice(&[0u8; 8]);
            data.extend_from_slice(PAYLOAD);
            data.push(b'.');
            let r = scan(&data);
            assert!(has_system(&r), "{name}: {}", describe(&r));
            let mut data = wrapper(&dtype(name, -1, 0), b"K\x02\x85", false);
            data.extend_from_slice(&[0u8; 16]);
            data.push(b'.');
            assert_eq!(scan(&data).verdict(), Verdict::Safe, "{name}");
        }
        // long double: 16 bytes on x86-64 Linux, 8 on Windows, 12 on 32-bit x86.
        let mut data = wrapper(&dtype("longdouble", -1, 0), b"K\x01\x85", false);
        data.extend_from_slice(&[0u8; 12]);
        data.extend_from_slice(PAYLOAD);
        data.push(b'.');
        assert!(has_system(&scan(&data)), "{}", describe(&scan(&data)));
    }

    #[test]
    fn dtype_flags_make_an_object_array() {
        // 'f8' whose pickled flags have NPY_ITEM_HASOBJECT: joblib unpickles
        // a nested pickle where raw floats would be.
        let mut data = wrapper(&dtype("f8", -1, 63), b"K\x01\x85", false);
        data.extend_from_slice(b"\x80\x02");
        data.extend_from_slice(PAYLOAD);
        data.extend_from_slice(b"N.");
        data.push(b'.');
        let r = scan(&data);
        assert!(has_system(&r), "{}", describe(&r));
        // And without the flag the same 8 bytes are data.
        let mut data = wrapper(&dtype("f8", -1, 0), b"K\x01\x85", false);
        data.extend_from_slice(&[0u8; 8]);
        data.push(b'.');
        assert_eq!(
            scan(&data).verdict(),
            Verdict::Safe,
            "{}",
            describe(&scan(&data))
        );
    }

    #[test]
    fn wrapper_in_a_nested_pickle_reads_no_data() {
        // An object array's nested pickle is read by plain pickle.load: a
        // wrapper there is followed by opcodes, not array bytes.
        let mut data = wrapper(&dtype("O8", -1, 63), b"K\x01\x85", false);
        data.extend(wrapper(&dtype("f8", -1, 0), b"K\x02\x85", false));
        data.extend_from_slice(b"0");
        data.extend_from_slice(PAYLOAD);
        data.extend_from_slice(b"N.");
        data.push(b'.');
        let r = scan(&data);
        assert!(has_system(&r), "{}", describe(&r));
    }

    #[test]
    fn bytes_after_a_wrapper_are_read_as_pickle_load_reads_them() {
        // A plain pickle for pickle.load: to joblib the 22 bytes after the
        // BUILD are an array, to pickle.load they run os.system.
        let mut payload = PAYLOAD.to_vec();
        payload.resize(32, b'N');
        let mut data = wrapper(&dtype("i4", -1, 0), b"K\x08\x85", false);
        data.extend_from_slice(&payload);
        data.push(b'.');
        let r = scan(&data);
        assert!(has_system(&r), "{}", describe(&r));
        assert!(r.findings.iter().any(|f| f.reason.contains("pickle.load")));
    }

    #[test]
    fn wrapper_made_by_init_is_sized_from_its_arguments() {
        // NumpyArrayWrapper(ndarray, (2,), 'C', dtype('f8'), False, 16), BUILD {}.
        let mut v = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n(cnumpy\nndarray\nK\x02\x85"
            .to_vec();
        v.extend(unicode("C"));
        v.extend(dtype("f8", -1, 0));
        v.extend_from_slice(b"\x89K\x10tR}b");
        v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut with_payload = v.clone();
        with_payload.extend_from_slice(PAYLOAD);
        with_payload.push(b'.');
        let r = scan(&with_payload);
        assert!(has_system(&r), "{}", describe(&r));
        v.push(b'.');
        assert_eq!(scan(&v).verdict(), Verdict::Safe, "{}", describe(&scan(&v)));
    }

    #[test]
    fn getattr_on_an_object_is_judged_as_its_class_attribute() {
        // getattr(collections.OrderedDict(), 'keys'): a bound method of data.
        let bound =
            b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\n)RX\x04\x00\x00\x00keys\x86R.";
        let r = scan(bound);
        assert_eq!(r.verdict(), Verdict::Unknown, "{}", describe(&r));
        assert!(r
            .findings
            .iter()
            .any(|f| f.reason.contains("collections.OrderedDict.keys")));
        // Dunders stay out of reach; so do objects of unknown origin.
        let dunder = b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\n)RX\t\x00\x00\x00__class__\x86R.";
        assert_eq!(scan(dunder).verdict(), Verdict::Dangerous);
    }

    #[test]
    fn numpy_ufunc_reconstruct_is_judged_by_what_it_imports() {
        // numpy < 1.20 pickled np.log1p as _ufunc_reconstruct('numpy', 'log1p').
        let ufunc = b"\x80\x02cnumpy.core\n_ufunc_reconstruct\nX\x05\x00\x00\x00numpyX\x05\x00\x00\x00log1p\x86R.";
        let r = scan(ufunc);
        assert_ne!(r.verdict(), Verdict::Dangerous, "{}", describe(&r));
        let evil = b"\x80\x02cnumpy.core\n_ufunc_reconstruct\nX\x02\x00\x00\x00osX\x06\x00\x00\x00system\x86R.";
        let r = scan(evil);
        assert_eq!(r.verdict(), Verdict::Dangerous, "{}", describe(&r));
        // Called with what it will import computed at load time: dangerous.
        let computed = b"\x80\x02cnumpy.core\n_ufunc_reconstruct\nX\x02\x00\x00\x00osccollections\nOrderedDict\n)R\x86R.";
        assert_eq!(scan(computed).verdict(), Verdict::Dangerous);
    }

    /// `torch.storage._load_from_bytes(<inner>)` at protocol 4 (BINBYTES) and
    /// protocol 2 (`_codecs.encode(str, 'latin1')`), as `pickle.dumps(tensor)`
    /// writes it.
    fn load_from_bytes(inner: &[u8]) -> [Vec<u8>; 2] {
        let mut p4 = b"\x80\x04ctorch.storage\n_load_from_bytes\nB".to_vec();
        p4.extend_from_slice(&(inner.len() as u32).to_le_bytes());
        p4.extend_from_slice(inner);
        p4.extend_from_slice(b"\x85R.");
        let mut p2 = b"\x80\x02ctorch.storage\n_load_from_bytes\nc_codecs\nencode\n".to_vec();
        let text: String = inner.iter().map(|&b| b as char).collect();
        p2.extend(unicode(&text));
        p2.extend(unicode("latin1"));
        p2.extend_from_slice(b"\x86R\x85R.");
        [p4, p2]
    }

    #[test]
    fn torch_load_of_embedded_bytes_is_judged_by_scanning_them() {
        for data in load_from_bytes(b"\x80\x02ccollections\nOrderedDict\n)R.") {
            let r = scan(&data);
            assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(&r));
        }
        for data in load_from_bytes(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.") {
            let r = scan(&data);
            assert!(has_system(&r), "{}", describe(&r));
            assert_eq!(r.verdict(), Verdict::Dangerous);
            let f = r.findings.iter().find(|f| f.name == "system").unwrap();
            assert!(
                f.member.as_deref().unwrap_or("").contains("torch.load"),
                "{f:?}"
            );
        }
        // Bytes the pickle computes at load time cannot be scanned.
        let computed = b"\x80\x04ctorch.storage\n_load_from_bytes\ncos\ngetcwdb\n)R\x85R.";
        assert_eq!(scan(computed).verdict(), Verdict::Dangerous);
        // Nesting is bounded.
        let mut inner = b"\x80\x02N.".to_vec();
        for _ in 0..6 {
            inner = load_from_bytes(&inner)[0].clone();
        }
        assert_ne!(scan(&inner).verdict(), Verdict::Safe);
    }

    #[test]
    fn long_payloads_are_stepped_over_and_what_follows_is_read() {
        for (op, width) in [(0x8eu8, 8usize), (b'B', 4), (b'X', 4), (0x96, 8)] {
            let len = super::MAX_KEPT_BYTES + 3;
            let mut data = vec![0x80, 4, op];
            data.extend_from_slice(&(len as u64).to_le_bytes()[..width]);
            data.resize(data.len() + len, b'a');
            data.push(b'0');
            data.extend_from_slice(PAYLOAD);
            data.extend_from_slice(b"N.");
            let r = scan(&data);
            assert!(has_system(&r), "{op:#x}: {}", describe(&r));
            assert!(r.error.is_none(), "{op:#x}: {}", describe(&r));
            // Cut short: an error, as the reader's own.
            data.truncate(len / 2);
            assert_eq!(scan(&data).verdict(), Verdict::Error);
        }
    }

    #[test]
    fn numpy_memmap_is_data_as_a_class_and_dangerous_when_called() {
        // _reconstruct(numpy.memmap, (0,), b'b'): how a memmap array pickles.
        let class =
            b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nmemmap\nK\x00\x85C\x01b\x87R.";
        let r = scan(class);
        assert_eq!(r.verdict(), Verdict::Safe, "{}", describe(&r));
        // numpy.memmap('/tmp/x', mode='w+', shape=(8,)) creates a file.
        let call = b"\x80\x02cnumpy\nmemmap\nX\x06\x00\x00\x00/tmp/x\x85R.";
        assert_eq!(scan(call).verdict(), Verdict::Dangerous);
        // Handed to another callable, it may be called with anything.
        let handed = b"\x80\x02cbuiltins\nmap\ncnumpy\nmemmap\n]\x86R.";
        assert_eq!(scan(handed).verdict(), Verdict::Dangerous);
    }

    #[test]
    fn getattr_held_in_data_is_data_until_handed_to_a_call() {
        // [getattr] returned: data.
        let held = b"\x80\x02]cbuiltins\ngetattr\na.";
        assert_eq!(
            scan(held).verdict(),
            Verdict::Safe,
            "{}",
            describe(&scan(held))
        );
        // map(getattr, ...) through list(...) of a held list: handed to a call.
        let handed = b"\x80\x02cbuiltins\nmap\ncbuiltins\nlist\n]cbuiltins\ngetattr\na\x85R\x85R.";
        assert_eq!(
            scan(handed).verdict(),
            Verdict::Dangerous,
            "{}",
            describe(&scan(handed))
        );
        // In a dict given as a BUILD state.
        let state = b"\x80\x02cpcorpus\nPoint\n)\x81}X\x01\x00\x00\x00fcbuiltins\ngetattr\nsb.";
        assert_eq!(scan(state).verdict(), Verdict::Dangerous);
    }

    #[test]
    fn calls_that_call_their_arguments_are_judged_by_what_they_call() {
        // numpy's Generator unpickler calls its second argument.
        let rng = b"\x80\x02cnumpy.random._pickle\n__generator_ctor\nX\x05\x00\x00\x00PCG64cnumpy.random._pickle\n__bit_generator_ctor\n\x86R.";
        assert_eq!(
            scan(rng).verdict(),
            Verdict::Safe,
            "{}",
            describe(&scan(rng))
        );
        let obj = b"\x80\x02cnumpy.random._pickle\n__generator_ctor\nX\x05\x00\x00\x00PCG64ccollections\nOrderedDict\n)R\x86R.";
        assert_eq!(
            scan(obj).verdict(),
            Verdict::Dangerous,
            "{}",
            describe(&scan(obj))
        );
        // type(name, bases, dict): dunders dispatch to values of the pickle.
        let class = b"\x80\x02cbuiltins\ntype\nX\x01\x00\x00\x00X)}\x87R.";
        assert_eq!(scan(class).verdict(), Verdict::Dangerous);
        let one = b"\x80\x02cbuiltins\ntype\nN\x85R.";
        assert_eq!(
            scan(one).verdict(),
            Verdict::Safe,
            "{}",
            describe(&scan(one))
        );
    }

    #[test]
    fn memo_index_with_an_underscore_is_read_as_int_reads_it() {
        let data = b"(cos\nsystem\np1_0\n0g1_0\n(S'id'\ntR.";
        let r = scan(data);
        assert!(r.error.is_none(), "{}", describe(&r));
        assert!(has_system(&r), "{}", describe(&r));
    }

    #[test]
    fn opcode_across_a_frame_end_is_read_as_the_c_unpickler_reads_it() {
        // FRAME of 3 bytes, then a GLOBAL that starts inside it and ends after.
        let mut data = b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00".to_vec();
        data.extend_from_slice(b"cos\nsystem\n\x8c\x02id\x85R.");
        let r = scan(&data);
        assert!(r.error.is_none(), "{}", describe(&r));
        assert!(has_system(&r), "{}", describe(&r));
    }
}
