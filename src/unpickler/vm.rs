//! The stack machine proper: one `match` per opcode.

use std::borrow::Cow;
use std::collections::HashMap;

use super::memo::Memo;
use super::{Encoding, Errors, LoadOptions};
use crate::error::{Error, Result};
use crate::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::read::{Arg, InstructionReader, Read};
use crate::value::{Buffer, Document, Global, Node, Object, ObjectKind, ObjectOp, PyStr, Value};

struct Machine<'o> {
    doc: Document,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    proto: u8,
    opts: &'o mut LoadOptions,
    ext_cache: HashMap<i32, Value>,
    /// Items and bytes copied by reconstructions (`set(list)`, `bytearray(b)`):
    /// bounded so a few bytes of input cannot copy a huge list many times.
    copied: u64,
    /// Set when loading for the serde layer: node origins are recorded.
    track: Option<Tracking>,
}

/// Origin tracking while loading from a slice.
struct Tracking {
    base: usize,
    len: usize,
}

/// Run one pickle to its STOP. With `track` (the input slice), every node
/// records its origin.
pub(super) fn run<R: Read>(
    reader: &mut InstructionReader<R>,
    opts: &mut LoadOptions,
    track: Option<&[u8]>,
) -> Result<Document> {
    let max_memo = opts.max_memo;
    let mut m = Machine {
        doc: Document::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::new(max_memo),
        proto: 0,
        opts,
        ext_cache: HashMap::new(),
        copied: 0,
        track: track.map(|input| Tracking {
            base: input.as_ptr() as usize,
            len: input.len(),
        }),
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

fn underflow() -> Error {
    Error::syntax("unpickling stack underflow")
}

impl Machine<'_> {
    /// The fast path: decode each instruction where it lies in the bytes at
    /// hand (the input slice, or a reader's buffer whose first byte is at
    /// stream offset `base`) and execute it, up to `limit` (the end of the
    /// open frame, of the bytes at hand, or of `max_input`). Returns, leaving `pos` on it, at the first instruction the
    /// general path must see: one that does not fit before `limit`, a text
    /// argument, FRAME, STOP, a BUILD with a hook, or malformed input (whose
    /// error the general path then reports). Execution is `step`, the same as
    /// on the general path.
    fn run_in_place(
        &mut self,
        data: &[u8],
        pos: &mut usize,
        limit: usize,
        base: u64,
    ) -> Result<()> {
        let hook = self.opts.after_build.is_some();
        while *pos < limit {
            let start = *pos;
            // The commonest opcodes without an argument to build: straight to
            // the stack and memo (the same operations `step` performs).
            let byte = |i: usize| data.get(start + i).copied().unwrap_or(0);
            let quick = match data[start] {
                b'K' if start + 2 <= limit => {
                    self.stack.push(Value::Int(byte(1) as i64));
                    Some(2)
                }
                b'J' if start + 5 <= limit => {
                    let b = [byte(1), byte(2), byte(3), byte(4)];
                    self.stack.push(Value::Int(i32::from_le_bytes(b) as i64));
                    Some(5)
                }
                b'G' if start + 9 <= limit => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[start + 1..start + 9]);
                    self.stack.push(Value::Float(f64::from_be_bytes(b)));
                    Some(9)
                }
                b'N' => {
                    self.stack.push(Value::None);
                    Some(1)
                }
                0x8a if byte(1) <= 8 && start + 2 + byte(1) as usize <= limit => {
                    let n = byte(1) as usize;
                    match crate::text::long_from_le(&data[start + 2..start + 2 + n]) {
                        Arg::Int(i) => self.stack.push(Value::Int(i)),
                        _ => return Err(bad_arg()),
                    }
                    Some(2 + n)
                }
                b'M' if start + 3 <= limit => {
                    self.stack
                        .push(Value::Int(u16::from_le_bytes([byte(1), byte(2)]) as i64));
                    Some(3)
                }
                b'h' if start + 2 <= limit => {
                    let v = self
                        .memo
                        .get(byte(1) as u64)
                        .map_err(|e| e.in_opcode(Opcode::BinGet).at(base + start as u64))?;
                    self.stack.push(v);
                    Some(2)
                }
                b'j' if start + 5 <= limit => {
                    let idx = u32::from_le_bytes([byte(1), byte(2), byte(3), byte(4)]) as u64;
                    let v = self
                        .memo
                        .get(idx)
                        .map_err(|e| e.in_opcode(Opcode::LongBinGet).at(base + start as u64))?;
                    self.stack.push(v);
                    Some(5)
                }
                b'q' | b'r'
                    if start + 2 <= limit && (data[start] == b'q' || start + 5 <= limit) =>
                {
                    let (op, idx, len) = if data[start] == b'q' {
                        (Opcode::BinPut, byte(1) as u64, 2)
                    } else {
                        let i = u32::from_le_bytes([byte(1), byte(2), byte(3), byte(4)]);
                        (Opcode::LongBinPut, i as u64, 5)
                    };
                    self.top()
                        .and_then(|v| self.memo.put(idx, v))
                        .map_err(|e| e.in_opcode(op).at(base + start as u64))?;
                    Some(len)
                }
                0x94 => {
                    let v = self
                        .top()
                        .and_then(|v| self.memo.put(self.memo.len() as u64, v))
                        .map_err(|e| e.in_opcode(Opcode::Memoize).at(base + start as u64));
                    v?;
                    Some(1)
                }
                _ => None,
            };
            if let Some(len) = quick {
                *pos = start + len;
                continue;
            }
            let Some((op, arg, len)) = crate::read::decode_fast(data, start) else {
                return Ok(());
            };
            if start + len > limit
                || matches!(op, Opcode::Frame | Opcode::Stop)
                || (hook && op == Opcode::Build)
            {
                return Ok(());
            }
            *pos = start + len;
            let offset = base + start as u64;
            self.track_origin(offset, &arg);
            let budget = offset.saturating_mul(8).saturating_add(1 << 20);
            self.step(op, arg, budget)
                .map_err(|e| e.in_opcode(op).at(offset))?;
        }
        Ok(())
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
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline]
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    #[inline]
    fn pop(&mut self) -> Result<Value> {
        if self.stack.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(self.stack.pop().expect("above fence"))
    }

    #[inline]
    fn top(&self) -> Result<Value> {
        if self.stack.len() <= self.fence() {
            return Err(underflow());
        }
        Ok(*self.stack.last().expect("above fence"))
    }

    /// Pop the topmost mark; returns the stack length it recorded.
    fn pop_mark(&mut self) -> Result<usize> {
        self.marks
            .pop()
            .ok_or_else(|| Error::syntax("could not find MARK"))
    }

    fn alloc(&mut self, n: Node) -> Value {
        self.doc.alloc(n)
    }

    fn str_node(&mut self, bytes: &[u8]) -> Result<Value> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(self.alloc(Node::Str(PyStr::Utf8(s.into())))),
            Err(e) => match PyStr::from_python_utf8(bytes) {
                Some(s) => Ok(self.alloc(Node::Str(s))),
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

    fn index_arg(arg: &Arg<'_>) -> Result<u64> {
        match arg {
            Arg::Int(i) if *i >= 0 => Ok(*i as u64),
            Arg::Bool(b) => Ok(*b as u64),
            Arg::Int(_) => Err(Error::syntax("negative memo index")),
            _ => Err(Error::syntax("memo index out of range")),
        }
    }

    fn node_ref(&self, v: Value) -> Option<&Node> {
        self.doc.node_of(v)
    }

    /// A Python 2 string per the encoding options.
    fn py2_string(&mut self, bytes: &[u8]) -> Result<Value> {
        let (enc, errors) = (self.opts.encoding, self.opts.errors);
        let text: Cow<'_, str> = match enc {
            Encoding::Bytes => return Ok(self.alloc(Node::Bytes(bytes.to_vec()))),
            Encoding::Latin1 => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
            Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                None => Cow::Borrowed(std::str::from_utf8(bytes).expect("ascii")),
                Some(pos) => match errors {
                    Errors::Strict => {
                        return Err(Error::syntax(format!(
                            "'ascii' codec can't decode byte 0x{:02x} in position {pos}: ordinal not in range(128) (LoadOptions::encoding)",
                            bytes[pos]
                        )))
                    }
                    Errors::Replace => Cow::Owned(
                        bytes
                            .iter()
                            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
                            .collect(),
                    ),
                    Errors::Ignore => Cow::Owned(
                        bytes.iter().filter(|b| b.is_ascii()).map(|&b| b as char).collect(),
                    ),
                },
            },
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(e) => match errors {
                    Errors::Strict => {
                        return Err(Error::syntax(format!(
                            "'utf-8' codec can't decode byte 0x{:02x} in position {}",
                            bytes[e.valid_up_to()],
                            e.valid_up_to()
                        )))
                    }
                    Errors::Replace => String::from_utf8_lossy(bytes),
                    Errors::Ignore => {
                        Cow::Owned(String::from_utf8_lossy(bytes).replace('\u{fffd}', ""))
                    }
                },
            },
        };
        Ok(self.alloc(Node::Str(PyStr::Utf8(text.into()))))
    }

    /// A global, with Python 2 names mapped for protocol < 3 pickles.
    fn global(&mut self, module: &str, name: &str) -> Value {
        let (module, name) = if self.proto < 3 && self.opts.fix_imports {
            crate::compat::to_python3(module, name)
        } else {
            (module, name)
        };
        self.doc.global(module, name)
    }

    fn utf8_name<'b>(b: &'b [u8], what: &str) -> Result<&'b str> {
        std::str::from_utf8(b).map_err(|_| Error::syntax(format!("{what} is not valid UTF-8")))
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

    #[inline(always)]
    fn step(&mut self, op: Opcode, arg: Arg<'_>, budget: u64) -> Result<()> {
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
                let v = self.str_node(&b)?;
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
                let v = self.alloc(Node::Set(Vec::new()));
                self.push(v);
            }
            Opcode::List | Opcode::Tuple | Opcode::FrozenSet => {
                let at = self.pop_mark()?;
                if op == Opcode::FrozenSet {
                    for &item in &self.stack[at..] {
                        self.check_hashable(item)?;
                    }
                }
                let items = self.stack.split_off(at);
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
                if self.stack.len() < self.fence() + n {
                    return Err(underflow());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.alloc(Node::Tuple(items));
                self.push(v);
            }
            Opcode::Dict => {
                let at = self.pop_mark()?;
                let items = self.stack.split_off(at);
                if items.len() % 2 != 0 {
                    return Err(Error::syntax("odd number of items for DICT"));
                }
                for pair in items.chunks_exact(2) {
                    self.check_hashable(pair[0])?;
                }
                let pairs = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                let v = self.alloc(Node::Dict(pairs));
                self.push(v);
            }
            Opcode::Append => {
                if self.stack.len() < self.fence() + 2 {
                    return Err(underflow());
                }
                let at = self.stack.len() - 1;
                let target = self.stack[at - 1];
                self.extend(target, at)?;
            }
            Opcode::Appends => {
                let at = self.pop_mark()?;
                if at == 0 || at <= self.fence() {
                    return Err(underflow());
                }
                let target = self.stack[at - 1];
                self.extend(target, at)?;
            }
            Opcode::SetItem => {
                if self.stack.len() < self.fence() + 3 {
                    return Err(underflow());
                }
                let at = self.stack.len() - 2;
                let target = self.stack[at - 1];
                self.set_items(target, at)?;
            }
            Opcode::SetItems => {
                let at = self.pop_mark()?;
                if at == 0 || at <= self.fence() {
                    return Err(underflow());
                }
                if (self.stack.len() - at) % 2 != 0 {
                    return Err(Error::syntax("odd number of items for SETITEMS"));
                }
                let target = self.stack[at - 1];
                self.set_items(target, at)?;
            }
            Opcode::AddItems => {
                let at = self.pop_mark()?;
                if at == 0 || at <= self.fence() {
                    return Err(underflow());
                }
                let items = self.stack.split_off(at);
                let target = self.stack[at - 1];
                self.add_items(target, items)?;
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
                if self.marks.len() >= self.opts.max_depth {
                    return Err(Error::limit(format!(
                        "more than {} nested MARKs (LoadOptions::max_depth)",
                        self.opts.max_depth
                    )));
                }
                self.marks.push(self.stack.len());
            }
            Opcode::PopMark => {
                let at = self.pop_mark()?;
                self.stack.truncate(at);
            }
            Opcode::Get | Opcode::BinGet | Opcode::LongBinGet => {
                let idx = Self::index_arg(&arg)?;
                let v = self.memo.get(idx)?;
                self.push(v);
            }
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                let idx = Self::index_arg(&arg)?;
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
                    (Some(Node::Str(m)), Some(Node::Str(n))) => (m.clone(), n.clone()),
                    _ => return Err(Error::syntax("STACK_GLOBAL requires str")),
                };
                let (ms, ns) = (ms.to_string_lossy(), ns.to_string_lossy());
                let mapped = if self.proto < 3 && self.opts.fix_imports {
                    crate::compat::to_python3(&ms, &ns)
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
                let v = self.object(ObjectKind::NewObj, cls, args, None);
                self.push(v);
            }
            Opcode::NewObjEx => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
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
                let items = self.stack.split_off(at);
                let args = self.alloc(Node::Tuple(items));
                let cls = self.global(&m, &n);
                let v = self.object(ObjectKind::Inst, cls, args, None);
                self.push(v);
            }
            Opcode::Obj => {
                let at = self.pop_mark()?;
                let mut items = self.stack.split_off(at);
                if items.is_empty() {
                    return Err(underflow());
                }
                let cls = items.remove(0);
                let args = self.alloc(Node::Tuple(items));
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
            if let Some(top) = self.stack.last_mut() {
                *top = v;
            }
        }
        Ok(())
    }

    fn persistent(&mut self, pid: Value) -> Result<Value> {
        match self.opts.persistent_load.as_mut() {
            Some(f) => f(&mut self.doc, pid),
            None => Ok(self.doc.alloc(Node::PersistentId(pid))),
        }
    }

    fn object(
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
    fn extend(&mut self, target: Value, at: usize) -> Result<()> {
        let Value::Ref(id) = target else {
            return Err(Error::syntax("APPEND to a value that is not a list"));
        };
        let Machine { doc, stack, .. } = self;
        match doc.node_mut(id) {
            Node::List(v) => {
                // Values are Copy: one memcpy, not an item-by-item drain.
                v.extend_from_slice(&stack[at..]);
                stack.truncate(at);
            }
            Node::Object(o) => o.ops.extend(stack.drain(at..).map(ObjectOp::Append)),
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
    fn check_hashable(&self, key: Value) -> Result<()> {
        self.doc
            .check_hashable(key)
            .map_err(|t| Error::syntax(format!("unhashable type: '{t}' used as a key")))
    }

    /// Move the key/value pairs on the stack from `at` up into `target`
    /// (SETITEM, SETITEMS).
    fn set_items(&mut self, target: Value, at: usize) -> Result<()> {
        let is_dict = matches!(self.node_ref(target), Some(Node::Dict(_)));
        if is_dict {
            for pair in self.stack[at..].chunks_exact(2) {
                self.check_hashable(pair[0])?;
            }
        }
        let Value::Ref(id) = target else {
            return Err(Error::syntax("SETITEM on a value that is not a dict"));
        };
        let Machine { doc, stack, .. } = self;
        let mut items = stack.drain(at..);
        match doc.node_mut(id) {
            Node::Dict(d) => {
                d.reserve(items.len() / 2);
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    d.push((k, v));
                }
            }
            Node::Object(o) => {
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    o.ops.push(ObjectOp::SetItem(k, v));
                }
            }
            other => {
                return Err(Error::syntax(format!(
                    "SETITEM on a {} (only dicts and objects take items)",
                    other.type_name()
                )))
            }
        }
        Ok(())
    }

    fn add_items(&mut self, target: Value, items: Vec<Value>) -> Result<()> {
        if matches!(self.node_ref(target), Some(Node::Set(_))) {
            for &k in &items {
                self.check_hashable(k)?;
            }
        }
        let Value::Ref(id) = target else {
            return Err(Error::syntax("ADDITEMS on a value that is not a set"));
        };
        match self.doc.node_mut(id) {
            Node::Set(s) => s.extend(items),
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
    fn reconstruct(&mut self, callable: Value, args: Value, budget: u64) -> Result<Option<Value>> {
        let Some(Node::Global(g)) = self.node_ref(callable) else {
            return Ok(None);
        };
        let name_of = |v: Value| match self.doc.node_of(v) {
            Some(Node::Str(PyStr::Utf8(s))) => Some(&**s),
            _ => None,
        };
        let (Some(module), Some(name)) = (name_of(g.module), name_of(g.name)) else {
            return Ok(None);
        };
        let Some(Node::Tuple(a)) = self.node_ref(args) else {
            return Ok(None);
        };
        let arg = |i: usize| a.get(i).and_then(|&v| self.doc.node_of(v));
        // Only the spellings CPython writes at this protocol are recognised,
        // so that re-encoding at the same protocol is a fixed point.
        let proto = self.proto;
        let node = match (module, name, a.len()) {
            ("builtins", "set" | "frozenset", 1) if proto < 4 => match arg(0) {
                Some(Node::List(items)) => {
                    // With an unhashable item it is no set: keep the call as
                    // it is (inert; CPython would fail when calling it).
                    if items.iter().any(|&k| self.doc.check_hashable(k).is_err()) {
                        return Ok(None);
                    }
                    let items = items.clone();
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
                (Some(Node::Str(PyStr::Utf8(s))), Some(Node::Str(PyStr::Utf8(enc))))
                    if &**enc == "latin1" =>
                {
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
            Node::Set(v) | Node::FrozenSet(v) => v.len(),
            Node::Bytes(b) | Node::ByteArray(b) => b.len(),
            _ => 0,
        };
        self.charge(copied as u64, budget)?;
        Ok(Some(self.alloc(node)))
    }
}

#[cold]
fn bad_arg() -> Error {
    Error::syntax("internal: opcode argument of unexpected kind")
}

#[cfg(test)]
mod tests {
    use crate::{loads, loads_all, Category, Kind, Node};

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
    fn protocol2_set_and_bytes() {
        let d =
            loads(b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.").unwrap();
        assert!(matches!(d.root().node(), Some(Node::Set(v)) if v.len() == 2));
        let d = loads(b"\x80\x02c_codecs\nencode\nq\x00X\x02\x00\x00\x00abq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.").unwrap();
        assert_eq!(d.root().as_bytes(), Some(&b"ab"[..]));
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
