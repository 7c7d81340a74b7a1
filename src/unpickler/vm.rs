//! The stack machine proper: `Machine`, the loop `run` (with the
//! `after_build` hook, which it lends the reader to), and `step`, one
//! `match` per opcode: the general path. Here too are the small steps both
//! paths share (memo traffic, marks, new str nodes). `Machine`'s `impl`
//! continues in the child modules: the in-place fast path in `fast.rs`,
//! containers and reconstructed objects in `objects.rs`.

mod fast;
mod objects;

use std::borrow::Cow;
use std::collections::HashMap;

use super::memo::Memo;
use super::stack::{bad_arg, memo_index, protocol_arg, underflow, Stack};
use super::{Encoding, Errors, LoadOptions};
use crate::codec::opcodes::Opcode;
use crate::codec::read::{Arg, InstructionReader, Read};
use crate::error::{Error, Result};
use crate::python::codecs;
use crate::value::{
    Buffer, Document, Global, Items, Node, NodeId, ObjectKind, ObjectOp, Pairs, PyStr, ShortStr,
    Text, Value,
};

struct Machine<'o> {
    doc: Document,
    stack: Stack<Value>,
    memo: Memo,
    proto: u8,
    opts: &'o mut LoadOptions,
    ext_cache: HashMap<i32, Value>,
    /// Items and bytes copied by reconstructions (`set(list)`, `bytearray(b)`):
    /// bounded so a few bytes of input cannot copy a huge list many times.
    copied: u64,
    /// Set when loading for the serde layer: node origins are recorded.
    track: Option<Tracking>,
    /// Input bytes at hand from where the fast path last started: a bound
    /// on the str bytes to come there, the room the text arena makes when
    /// its first str arrives.
    text_hint: usize,
}

/// Origin tracking: every node's offset, and where a payload lies in the
/// input slice (an empty slice when loading from a reader: offsets only).
struct Tracking {
    base: usize,
    len: usize,
}

/// Run one pickle to its STOP. With `track` (the input slice, or an empty
/// one), every node records its origin.
pub(super) fn run<R: Read>(
    reader: &mut InstructionReader<R>,
    opts: &mut LoadOptions,
    track: Option<&[u8]>,
) -> Result<Document> {
    let max_memo = opts.max_memo;
    let max_depth = opts.max_depth;
    let mut m = Machine {
        doc: Document::new(),
        stack: Stack::new(max_depth),
        memo: Memo::new(max_memo),
        proto: 0,
        opts,
        ext_cache: HashMap::new(),
        copied: 0,
        track: track.map(|input| Tracking {
            base: input.as_ptr() as usize,
            len: input.len(),
        }),
        text_hint: 0,
    };
    loop {
        if let Some((data, pos, limit, base)) = reader.fast_parts(m.opts.max_input) {
            m.run_in_place(data, pos, limit, base)?;
        }
        let max_input = m.opts.max_input;
        let here = reader.offset();
        if here > max_input {
            return Err(Error::limit(format!(
                "input longer than {max_input} bytes (LoadOptions::max_input)"
            ))
            .at(here));
        }
        let budget = here.saturating_mul(8).saturating_add(1 << 20);
        let ins = match reader.next_instruction()? {
            Some(i) => i,
            None => return Err(Error::eof().at(here)),
        };
        let (op, offset) = (ins.op, ins.offset);
        m.track_origin(offset, &ins.arg);
        if op == Opcode::Stop {
            let root = m.pop().map_err(|e| e.in_opcode(op).at(offset))?;
            m.doc.stop_tracking();
            m.doc.trim_text();
            m.doc.set_root(root);
            return Ok(m.doc);
        }
        m.step(op, ins.arg, budget)
            .map_err(|e| e.in_opcode(op).at(offset))?;
        if op == Opcode::Build && m.opts.after_build.is_some() {
            m.after_build(reader)
                .map_err(|e| e.in_opcode(op).at(offset))?;
        }
    }
}

/// The input as lent to an [`super::AfterBuild`] hook.
struct Raw<'r, R> {
    reader: &'r mut InstructionReader<R>,
    opts: LoadOptions,
}

impl<R: Read> super::RawInput for Raw<'_, R> {
    fn offset(&self) -> u64 {
        self.reader.offset()
    }

    fn read_raw(&mut self, n: u64) -> Result<Vec<u8>> {
        self.reader.read_raw(n)
    }

    fn load_nested(&mut self) -> Result<Document> {
        let outer = self.reader.swap_frames(Default::default());
        let r = run(self.reader, &mut self.opts, None);
        self.reader.swap_frames(outer);
        r
    }
}

impl Machine<'_> {
    /// `MARK`.
    #[inline]
    fn mark(&mut self) -> Result<()> {
        self.stack.mark()
    }

    /// `APPENDS`: the items above the mark into the list (or object) below it.
    #[inline]
    fn appends(&mut self) -> Result<()> {
        let at = self.pop_mark()?;
        if at == 0 || at <= self.fence() {
            return Err(underflow());
        }
        let target = self.stack.items[at - 1];
        self.extend(target, at)
    }

    /// `SETITEMS`: the pairs above the mark into the dict (or object) below it.
    #[inline]
    fn setitems(&mut self) -> Result<()> {
        let at = self.pop_mark()?;
        if at == 0 || at <= self.fence() {
            return Err(underflow());
        }
        if (self.stack.items.len() - at) % 2 != 0 {
            return Err(Error::syntax("odd number of items for SETITEMS"));
        }
        let target = self.stack.items[at - 1];
        self.set_items(target, at)
    }

    /// When loading for the serde layer, record where the nodes the next
    /// instruction makes come from: its offset, and where a str or bytes
    /// payload lies in the input slice.
    #[inline]
    fn track_origin(&mut self, offset: u64, arg: &Arg<'_>) {
        let Some(t) = &self.track else { return };
        let payload = match arg {
            Arg::Unicode(Cow::Borrowed(b)) | Arg::Bytes(Cow::Borrowed(b)) => {
                let at = (b.as_ptr() as usize).wrapping_sub(t.base);
                (at <= t.len && b.len() <= t.len - at).then_some((at, b.len()))
            }
            _ => None,
        };
        self.doc
            .set_origin(crate::value::NodeOrigin { offset, payload });
    }

    #[inline]
    fn fence(&self) -> usize {
        self.stack.fence()
    }

    /// `GET`: push the memo's value at `idx` (a shared handle, never a copy
    /// of the object). The slot is copied onto the stack whole, not moved
    /// through a temporary (see "Values copied whole" in benches/README.md).
    #[inline(always)]
    fn push_memo(&mut self, idx: u64) -> Result<()> {
        match self.memo.get_ref(idx) {
            Some(v) => {
                self.stack.items.extend_from_slice(std::slice::from_ref(v));
                Ok(())
            }
            None => Err(super::memo::missing(idx)),
        }
    }

    /// `PUT`/`MEMOIZE`: store the top of the stack at `idx`.
    #[inline(always)]
    fn memo_top(&mut self, idx: u64) -> Result<()> {
        let fence = self.fence();
        let Machine { stack, memo, .. } = self;
        match stack.items.last() {
            Some(v) if stack.items.len() > fence => memo.put_ref(idx, v),
            _ => Err(underflow()),
        }
    }

    #[inline]
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    #[inline]
    fn pop(&mut self) -> Result<Value> {
        self.stack.pop()
    }

    #[inline]
    fn top(&self) -> Result<Value> {
        self.stack.top()
    }

    /// Pop the topmost mark; returns the stack length it recorded.
    fn pop_mark(&mut self) -> Result<usize> {
        self.stack.pop_mark()
    }

    fn alloc(&mut self, n: Node) -> Value {
        self.doc.alloc(n)
    }

    fn str_node(&mut self, bytes: &[u8]) -> Result<Value> {
        self.str_id(bytes).map(Value::Ref)
    }

    /// Store a node built in place (see [`Document::alloc_with`]).
    #[inline(always)]
    fn alloc_id(&mut self, make: impl FnOnce() -> Node) -> Result<NodeId> {
        self.doc
            .alloc_with(make)
            .ok_or_else(|| Error::limit("more than 2^32 - 1 objects in one pickle"))
    }

    /// A new str node. Returns the bare id, not a `Value` (see "Built in
    /// place, memoized from a register" in benches/README.md).
    fn str_id(&mut self, bytes: &[u8]) -> Result<NodeId> {
        if let Some(s) = ShortStr::from_utf8(bytes) {
            return self.alloc_id(move || Node::Str(Text::Own(PyStr::Short(s))));
        }
        match crate::codec::utf8::from_utf8(bytes) {
            // Longer text goes to the document's text arena, no allocation
            // a str, up to the payloads the serde layer hands over whole.
            Ok(s) if s.len() < crate::codec::read::OWNED_PAYLOAD as usize => {
                let t = self
                    .doc
                    .push_text(s, self.text_hint)
                    .unwrap_or_else(|| Text::Own(PyStr::from(s)));
                self.alloc_id(move || Node::Str(t))
            }
            Ok(s) => {
                let s = PyStr::from(s);
                self.alloc_id(move || Node::Str(Text::Own(s)))
            }
            Err(e) => match PyStr::from_python_utf8(bytes) {
                Some(s) => self.alloc_id(move || Node::Str(Text::Own(s))),
                None => Err(Error::syntax(format!(
                    "'utf-8' codec can't decode byte 0x{:02x} in position {}",
                    bytes[e.valid_up_to()],
                    e.valid_up_to()
                ))),
            },
        }
    }

    fn int_arg(&mut self, arg: Arg<'_>) -> Value {
        match arg {
            Arg::Bool(b) => Value::Bool(b),
            Arg::Int(i) => Value::Int(i),
            Arg::BigInt(b) => self.alloc(Node::BigInt(b)),
            _ => Value::None,
        }
    }

    fn node_ref(&self, v: Value) -> Option<&Node> {
        self.doc.node_of(v)
    }

    /// A Python 2 string per the encoding options.
    fn py2_string(&mut self, bytes: &[u8]) -> Result<Value> {
        let (enc, errors) = (self.opts.encoding, self.opts.errors);
        let mode = match errors {
            Errors::Strict => codecs::Mode::Strict,
            Errors::Replace => codecs::Mode::Replace,
            Errors::Ignore => codecs::Mode::Ignore,
        };
        let decoded = match enc {
            Encoding::Bytes => return Ok(self.alloc(Node::Bytes(bytes.to_vec()))),
            Encoding::Latin1 => Ok(Cow::Owned(bytes.iter().map(|&b| b as char).collect())),
            Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                None => Ok(Cow::Borrowed(std::str::from_utf8(bytes).expect("ascii"))),
                Some(pos) => match mode {
                    codecs::Mode::Strict => Err(codecs::Undecodable {
                        start: pos,
                        end: pos + 1,
                        reason: "ordinal not in range(128)",
                    }),
                    codecs::Mode::Replace => Ok(Cow::Owned(
                        bytes
                            .iter()
                            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
                            .collect(),
                    )),
                    codecs::Mode::Ignore => Ok(Cow::Owned(
                        bytes
                            .iter()
                            .filter(|b| b.is_ascii())
                            .map(|&b| b as char)
                            .collect(),
                    )),
                },
            },
            Encoding::Utf8 => match crate::codec::utf8::from_utf8(bytes) {
                Ok(s) => Ok(Cow::Borrowed(s)),
                Err(_) => codecs::decode_utf8(bytes, mode).map(Cow::Owned),
            },
            Encoding::Codec(c) => codecs::decode(c.0, bytes, mode).map(Cow::Owned),
        };
        let text = decoded.map_err(|e| {
            let what = if e.end - e.start == 1 {
                format!("byte 0x{:02x} in position {}", bytes[e.start], e.start)
            } else {
                format!("bytes in position {}-{}", e.start, e.end - 1)
            };
            Error::syntax(format!(
                "'{}' codec can't decode {what}: {} (LoadOptions::encoding)",
                enc.name(),
                e.reason
            ))
        })?;
        Ok(self.alloc(Node::Str(Text::Own(PyStr::from(&*text)))))
    }

    /// A global, with Python 2 names mapped for protocol < 3 pickles.
    fn global(&mut self, module: &str, name: &str) -> Value {
        let (module, name) = if self.proto < 3 && self.opts.fix_imports {
            crate::python::compat::to_python3(module, name)
        } else {
            (module, name)
        };
        self.doc.global(module, name)
    }

    /// A `GLOBAL`/`INST` text line. An empty one is refused as `_pickle.c`
    /// refuses it ("pickle data was truncated": it wants a line of at least
    /// one character besides the newline).
    fn utf8_name<'b>(b: &'b [u8], what: &str) -> Result<&'b str> {
        if b.is_empty() {
            return Err(Error::syntax(format!(
                "{what} is empty (CPython: pickle data was truncated)"
            )));
        }
        std::str::from_utf8(b).map_err(|_| Error::syntax(format!("{what} is not valid UTF-8")))
    }

    #[inline(always)]
    fn step(&mut self, op: Opcode, arg: Arg<'_>, budget: u64) -> Result<()> {
        match op {
            Opcode::Proto => self.proto = protocol_arg(&arg)?,
            Opcode::Frame => {}
            Opcode::None => self.push(Value::None),
            Opcode::NewTrue => self.push(Value::Bool(true)),
            Opcode::NewFalse => self.push(Value::Bool(false)),
            Opcode::Int
            | Opcode::BinInt
            | Opcode::BinInt1
            | Opcode::BinInt2
            | Opcode::Long
            | Opcode::Long1
            | Opcode::Long4 => {
                let v = self.int_arg(arg);
                self.push(v);
            }
            Opcode::Float | Opcode::BinFloat => {
                let Arg::Float(f) = arg else {
                    return Err(bad_arg());
                };
                self.push(Value::Float(f));
            }
            Opcode::String | Opcode::BinString | Opcode::ShortBinString => {
                let Arg::Bytes(b) = arg else {
                    return Err(bad_arg());
                };
                let v = self.py2_string(&b)?;
                self.push(v);
            }
            Opcode::BinBytes | Opcode::ShortBinBytes | Opcode::BinBytes8 => {
                let Arg::Bytes(b) = arg else {
                    return Err(bad_arg());
                };
                let v = self.alloc(Node::Bytes(b.into_owned()));
                self.push(v);
            }
            Opcode::ByteArray8 => {
                let Arg::Bytes(b) = arg else {
                    return Err(bad_arg());
                };
                let v = self.alloc(Node::ByteArray(b.into_owned()));
                self.push(v);
            }
            Opcode::Unicode
            | Opcode::ShortBinUnicode
            | Opcode::BinUnicode
            | Opcode::BinUnicode8 => {
                let Arg::Unicode(b) = arg else {
                    return Err(bad_arg());
                };
                let v = match b {
                    // A large payload read into a vector of its own: kept, not copied.
                    Cow::Owned(v) => match String::from_utf8(v) {
                        Ok(s) => {
                            Value::Ref(self.alloc_id(move || Node::Str(Text::Own(PyStr::from(s))))?)
                        }
                        Err(e) => self.str_node(e.as_bytes())?,
                    },
                    Cow::Borrowed(b) => self.str_node(b)?,
                };
                self.push(v);
            }
            Opcode::NextBuffer => {
                let Some(bufs) = self.opts.buffers.as_mut() else {
                    return Err(Error::syntax(
                        "pickle stream refers to out-of-band data but no buffers were given (LoadOptions::buffers)",
                    ));
                };
                if bufs.is_empty() {
                    return Err(Error::syntax("not enough out-of-band buffers"));
                }
                let data = bufs.remove(0);
                let v = self.alloc(Node::Buffer(Buffer {
                    data,
                    readonly: false,
                }));
                self.push(v);
            }
            Opcode::ReadonlyBuffer => {
                let top = self.top()?;
                match top {
                    Value::Ref(id) => match self.doc.node_mut(id) {
                        Node::Buffer(b) => b.readonly = true,
                        Node::Bytes(_) => {}
                        _ => {
                            return Err(Error::syntax(
                                "READONLY_BUFFER on an object that is not a buffer",
                            ))
                        }
                    },
                    _ => {
                        return Err(Error::syntax(
                            "READONLY_BUFFER on an object that is not a buffer",
                        ))
                    }
                }
            }
            Opcode::EmptyList => {
                let v = self.alloc(Node::List(Items::new()));
                self.push(v);
            }
            Opcode::EmptyTuple => {
                let v = self.alloc(Node::Tuple(Items::new()));
                self.push(v);
            }
            Opcode::EmptyDict => {
                let v = self.alloc(Node::Dict(Pairs::new()));
                self.push(v);
            }
            Opcode::EmptySet => {
                let v = self.alloc(Node::Set(Items::new()));
                self.push(v);
            }
            Opcode::List | Opcode::Tuple | Opcode::FrozenSet => {
                let at = self.pop_mark()?;
                if op == Opcode::FrozenSet {
                    for &item in &self.stack.items[at..] {
                        self.check_hashable(item)?;
                    }
                }
                let items = self.doc.pooled_items(&self.stack.items[at..]);
                self.stack.items.truncate(at);
                let node = match op {
                    Opcode::List => Node::List(items),
                    Opcode::Tuple => Node::Tuple(items),
                    _ => Node::FrozenSet(items),
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
                if self.stack.items.len() < self.fence() + n {
                    return Err(underflow());
                }
                let at = self.stack.items.len() - n;
                let items = self.doc.pooled_items(&self.stack.items[at..]);
                self.stack.items.truncate(at);
                let v = self.alloc(Node::Tuple(items));
                self.push(v);
            }
            Opcode::Dict => {
                let at = self.pop_mark()?;
                if (self.stack.items.len() - at) % 2 != 0 {
                    self.stack.items.truncate(at);
                    return Err(Error::syntax("odd number of items for DICT"));
                }
                for i in (at..self.stack.items.len()).step_by(2) {
                    self.check_hashable(self.stack.items[i])?;
                }
                let pairs = self.doc.pooled_pairs(&self.stack.items[at..]);
                self.stack.items.truncate(at);
                let v = self.alloc(Node::Dict(pairs));
                self.push(v);
            }
            Opcode::Append => {
                if self.stack.items.len() < self.fence() + 2 {
                    return Err(underflow());
                }
                let at = self.stack.items.len() - 1;
                let target = self.stack.items[at - 1];
                self.extend(target, at)?;
            }
            Opcode::Appends => self.appends()?,
            Opcode::SetItem => {
                if self.stack.items.len() < self.fence() + 3 {
                    return Err(underflow());
                }
                let at = self.stack.items.len() - 2;
                let target = self.stack.items[at - 1];
                self.set_items(target, at)?;
            }
            Opcode::SetItems => self.setitems()?,
            Opcode::AddItems => {
                let at = self.pop_mark()?;
                if at == 0 || at <= self.fence() {
                    return Err(underflow());
                }
                let items = self.stack.items.split_off(at);
                let target = self.stack.items[at - 1];
                self.add_items(target, items)?;
            }
            Opcode::Pop => self.stack.pop_value_or_mark()?,
            Opcode::Dup => {
                let v = self.top()?;
                self.push(v);
            }
            Opcode::Mark => self.mark()?,
            Opcode::PopMark => {
                let at = self.pop_mark()?;
                self.stack.items.truncate(at);
            }
            Opcode::Get | Opcode::BinGet | Opcode::LongBinGet => {
                let idx = memo_index(&arg, op)?;
                self.push_memo(idx)?;
            }
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                let idx = memo_index(&arg, op)?;
                self.memo_top(idx)?;
            }
            Opcode::Memoize => self.memo_top(self.memo.len() as u64)?,
            Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4 => {
                let Arg::Int(code) = arg else {
                    return Err(bad_arg());
                };
                if code <= 0 {
                    return Err(Error::syntax("EXT specifies code <= 0"));
                }
                let code = code as i32;
                let v = match self.ext_cache.get(&code) {
                    Some(&v) => v,
                    None => {
                        let v = match self.opts.extensions.get(&code) {
                            Some((m, n)) => {
                                let (m, n) = (m.clone(), n.clone());
                                self.doc.global(&m, &n)
                            }
                            None => self.alloc(Node::Extension(code)),
                        };
                        self.ext_cache.insert(code, v);
                        v
                    }
                };
                self.push(v);
            }
            Opcode::Global => {
                let Arg::Pair(m, n) = arg else {
                    return Err(bad_arg());
                };
                let m = Self::utf8_name(m, "GLOBAL module name")?;
                let n = Self::utf8_name(n, "GLOBAL name")?;
                let v = self.global(m, n);
                self.push(v);
            }
            Opcode::StackGlobal => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (ms, ns) = match (self.node_ref(module), self.node_ref(name)) {
                    (Some(Node::Str(m)), Some(Node::Str(n))) => (
                        self.doc.text(m).to_string_lossy().into_owned(),
                        self.doc.text(n).to_string_lossy().into_owned(),
                    ),
                    _ => return Err(Error::syntax("STACK_GLOBAL requires str")),
                };
                let mapped = if self.proto < 3 && self.opts.fix_imports {
                    crate::python::compat::to_python3(&ms, &ns)
                } else {
                    (&*ms, &*ns)
                };
                let v = if mapped == (&*ms, &*ns) {
                    self.alloc(Node::Global(Global { module, name }))
                } else {
                    let (m, n) = (mapped.0.to_string(), mapped.1.to_string());
                    self.doc.global(&m, &n)
                };
                self.push(v);
            }
            Opcode::Reduce => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = match self.reconstruct(callable, args, budget)? {
                    Some(v) => v,
                    None => self.object(ObjectKind::Reduce, callable, args, None),
                };
                self.push(v);
            }
            Opcode::NewObj => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.check_newobj("NEWOBJ", cls, args, None)?;
                let v = self.object(ObjectKind::NewObj, cls, args, None);
                self.push(v);
            }
            Opcode::NewObjEx => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                self.check_newobj("NEWOBJ_EX", cls, args, Some(kwargs))?;
                let v = self.object(ObjectKind::NewObjEx, cls, args, Some(kwargs));
                self.push(v);
            }
            Opcode::Inst => {
                let Arg::Pair(m, n) = arg else {
                    return Err(bad_arg());
                };
                let m = Self::utf8_name(m, "INST module name")?.to_string();
                let n = Self::utf8_name(n, "INST name")?.to_string();
                let at = self.pop_mark()?;
                let items = self.doc.pooled_items(&self.stack.items[at..]);
                self.stack.items.truncate(at);
                let args = self.alloc(Node::Tuple(items));
                let cls = self.global(&m, &n);
                let v = self.object(ObjectKind::Inst, cls, args, None);
                self.push(v);
            }
            Opcode::Obj => {
                let at = self.pop_mark()?;
                let mut items = self.stack.items.split_off(at);
                if items.is_empty() {
                    return Err(underflow());
                }
                let cls = items.remove(0);
                let args = self.alloc(Node::Tuple(Items::Own(items)));
                let v = self.object(ObjectKind::Obj, cls, args, None);
                self.push(v);
            }
            Opcode::Build => {
                let state = self.pop()?;
                let target = self.top()?;
                match target {
                    Value::Ref(id) => match self.doc.node_mut(id) {
                        Node::Object(o) => o.ops.push(ObjectOp::Build(state)),
                        other => {
                            return Err(Error::syntax(format!(
                                "BUILD on a {} (only objects take a state)",
                                other.type_name()
                            )))
                        }
                    },
                    _ => return Err(Error::syntax("BUILD on a value that is not an object")),
                }
            }
            Opcode::PersId => {
                let Arg::Text(t) = arg else {
                    return Err(bad_arg());
                };
                if !t.is_ascii() {
                    return Err(Error::syntax(
                        "persistent IDs in protocol 0 must be ASCII strings",
                    ));
                }
                let pid = self.str_node(t)?;
                let v = self.persistent(pid)?;
                self.push(v);
            }
            Opcode::BinPersId => {
                let pid = self.pop()?;
                let v = self.persistent(pid)?;
                self.push(v);
            }
            Opcode::Stop => return Err(bad_arg()),
        }
        Ok(())
    }

    /// Run the `after_build` hook on the object just built.
    fn after_build<R: Read>(&mut self, reader: &mut InstructionReader<R>) -> Result<()> {
        let target = self.top()?;
        let Some(mut hook) = self.opts.after_build.take() else {
            return Ok(());
        };
        let mut raw = Raw {
            reader,
            opts: self.opts.nested(),
        };
        let r = hook(&mut self.doc, target, &mut raw);
        self.opts.after_build = Some(hook);
        if let Some(v) = r? {
            if let Some(top) = self.stack.items.last_mut() {
                *top = v;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{loads, loads_all, Category, Kind};

    #[test]
    fn scalars_and_containers() {
        let d = loads(b"\x80\x02]q\x00(K\x01J\xff\xff\xff\xff\x88N\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01e.").unwrap();
        let r = d.root();
        assert_eq!(r.len(), Some(5));
        assert_eq!(r.index(0).unwrap().as_i64(), Some(1));
        assert_eq!(r.index(1).unwrap().as_i64(), Some(-1));
        assert_eq!(r.index(2).unwrap().as_bool(), Some(true));
        assert!(r.index(3).unwrap().is_none());
        assert!(matches!(r.index(4).unwrap().kind(), Kind::BigInt(_)));
    }

    #[test]
    fn memo_shares() {
        // [x, x] where x = []
        let d = loads(b"\x80\x02]q\x00(]q\x01h\x01e.").unwrap();
        let items = d.root().as_slice().unwrap();
        assert_eq!(items[0], items[1]);
    }

    #[test]
    fn recursive_list() {
        let d = loads(b"\x80\x02]q\x00h\x00a.").unwrap();
        assert_eq!(d.root().index(0).unwrap().value(), d.root_value());
    }

    #[test]
    fn errors_carry_offsets() {
        let e = loads(b"\x80\x02a.").unwrap_err();
        assert_eq!(e.offset(), Some(2));
        assert_eq!(e.opcode(), Some(crate::Opcode::Append));
        let e = loads(b"\x80\x02h\x05.").unwrap_err();
        assert_eq!(e.offset(), Some(2));
        let e = loads(b"\x80\x02.").unwrap_err();
        assert_eq!(e.offset(), Some(2));
        let e = loads(b"\x80\x06N.").unwrap_err();
        assert_eq!(e.category(), Category::Unsupported);
        assert!(loads(b"").unwrap_err().is_eof());
        assert!(loads(b"\x80\x02N.\xff").is_err());
        assert!(loads(b"\x80\x02}(K\x01u.").is_err());
        assert!(loads(b"\x80\x02](K\x01K\x02u.").is_err());
        assert!(loads(b"\x80\x02K\x01K\x02a.").is_err());
        assert!(loads(b"\x80\x02\x82\x00.").is_err());
        assert!(loads(b"\x80\x04K\x01K\x02\x93.").is_err());
        assert!(loads(b"\x80\x02(.").is_err());
        assert!(loads(b"]replace.").is_err());
    }

    #[test]
    fn bombs_are_cheap() {
        let mut dag = b"\x80\x04]\x94".to_vec();
        for i in 0..250u8 {
            dag.extend_from_slice(&[b'(', b'h', i, b'h', i, b'l', 0x94]);
        }
        dag.push(b'.');
        let d = loads(&dag).unwrap();
        assert_eq!(d.len(), 251);
        let mut dup = b"\x80\x02](K\x01e".to_vec();
        for _ in 0..64 {
            dup.extend_from_slice(b"2a");
        }
        dup.push(b'.');
        let d = loads(&dup).unwrap();
        assert_eq!(d.root().len(), Some(65));
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat(b']').take(1_000_000));
        deep.extend(std::iter::repeat(b'a').take(999_999));
        deep.push(b'.');
        let d = loads(&deep).unwrap();
        assert_eq!(d.len(), 1_000_000);
        let d = loads(b"\x80\x02]r\xff\xff\xff\x7f0N.").unwrap();
        assert!(d.root().is_none());
    }

    #[test]
    fn streams() {
        let docs = loads_all(b"\x80\x02K\x01.\x80\x02K\x02.").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].root().as_i64(), Some(2));
    }
}
