//! The stack machine proper: one `match` per opcode.

use std::borrow::Cow;
use std::collections::HashMap;

use super::memo::Memo;
use super::stack::{bad_arg, memo_index, underflow, Stack};
use super::{Encoding, Errors, LoadOptions};
use crate::codec::opcodes::{byte, Opcode, HIGHEST_PROTOCOL};
use crate::codec::read::{Arg, InstructionReader, Read};
use crate::error::{Error, Result};
use crate::value::{
    Buffer, Document, Global, Node, NodeId, Object, ObjectKind, ObjectOp, PyStr, ShortStr, Value,
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

impl Machine<'_> {
    /// The fast path: decode each instruction where it lies in the bytes at
    /// hand (the input slice, or a reader's buffer whose first byte is at
    /// stream offset `base`) and execute it, up to `limit` (the end of the
    /// open frame, of the bytes at hand, or of `max_input`). Returns, leaving
    /// `pos` on it, at the first instruction the general path must see: one
    /// that does not fit before `limit`, a text argument, FRAME, STOP, a BUILD
    /// with a hook, or malformed input (whose error the general path then
    /// reports). Execution is `step`, the same as on the general path.
    fn run_in_place(
        &mut self,
        data: &[u8],
        pos: &mut usize,
        limit: usize,
        base: u64,
    ) -> Result<()> {
        // Cut the bytes at `limit`, so that an argument that does not fit
        // before it simply fails to decode here.
        let data = &data[..limit.min(data.len())];
        let hook = self.opts.after_build.is_some();
        // A local position (not `*pos`, which may alias) keeps the loop in registers.
        let mut p = *pos;
        while p < data.len() {
            let Some((len, outcome)) = self.quick_step(data, p, base, hook) else {
                break;
            };
            p += len;
            if let Err(e) = outcome {
                *pos = p;
                return Err(e);
            }
        }
        *pos = p;
        Ok(())
    }

    /// Execute the instruction at `data[p]` (`p` is in bounds): its length
    /// and outcome, or `None` when the general path must take it. The
    /// commonest opcodes are decoded and run right here, by the same helpers
    /// `step` uses; the others go through [`crate::read::decode_fast`] and
    /// `step`.
    #[inline(always)]
    fn quick_step(
        &mut self,
        data: &[u8],
        p: usize,
        base: u64,
        hook: bool,
    ) -> Option<(usize, Result<()>)> {
        let offset = base + p as u64;
        let (len, op, r) = match data[p] {
            byte::BinInt1 => {
                let [b] = fixed(data, p)?;
                self.stack.items.push(Value::Int(b.into()));
                return Some((2, Ok(())));
            }
            byte::BinInt2 => {
                let b = fixed(data, p)?;
                self.stack
                    .items
                    .push(Value::Int(u16::from_le_bytes(b).into()));
                return Some((3, Ok(())));
            }
            byte::BinInt => {
                let b = fixed(data, p)?;
                self.stack
                    .items
                    .push(Value::Int(i32::from_le_bytes(b).into()));
                return Some((5, Ok(())));
            }
            byte::BinFloat => {
                let b = fixed(data, p)?;
                self.stack.items.push(Value::Float(f64::from_be_bytes(b)));
                return Some((9, Ok(())));
            }
            byte::None => {
                self.stack.items.push(Value::None);
                return Some((1, Ok(())));
            }
            byte::NewTrue | byte::NewFalse => {
                self.stack.items.push(Value::Bool(data[p] == byte::NewTrue));
                return Some((1, Ok(())));
            }
            // Up to 8 bytes is an i64; longer ones are decoded below.
            byte::Long1 if data.get(p + 1).is_some_and(|&n| n <= 8) => {
                let [n] = fixed(data, p)?;
                let n = usize::from(n);
                data.get(p + 2..p + 2 + n)?;
                self.stack
                    .items
                    .push(Value::Int(small_long(data, p + 2, n)));
                return Some((2 + n, Ok(())));
            }
            // Memo traffic: straight between the stack and the memo.
            // A GET followed by more (a list of shared values): the rest of
            // the run in one loop.
            byte::BinGet | byte::LongBinGet => {
                let (len, op, idx) = get_arg(data, p)?;
                let r = self.push_memo(idx);
                if r.is_ok()
                    && matches!(
                        data.get(p + len).copied(),
                        Some(byte::BinGet | byte::LongBinGet)
                    )
                {
                    return Some((len + self.get_run(data, p + len), Ok(())));
                }
                (len, op, r)
            }
            byte::BinPut => {
                let [i] = fixed(data, p)?;
                (2, Opcode::BinPut, self.memo_top(i.into()))
            }
            byte::LongBinPut => {
                let i = u32::from_le_bytes(fixed(data, p)?);
                (5, Opcode::LongBinPut, self.memo_top(i.into()))
            }
            byte::Memoize => (1, Opcode::Memoize, self.memo_top(self.memo.len() as u64)),
            // New objects; the PUT or MEMOIZE that follows them is done
            // here too (see `push_and_memoize`).
            byte::ShortBinUnicode => {
                let [n] = fixed(data, p)?;
                let b = data.get(p + 2..p + 2 + usize::from(n))?;
                let len = 2 + b.len();
                let r = self.str_value(offset, b);
                return Some(self.push_and_memoize(
                    data,
                    p + len,
                    len,
                    r,
                    Opcode::ShortBinUnicode,
                    offset,
                ));
            }
            byte::BinUnicode => {
                let n = u32::from_le_bytes(fixed(data, p)?) as usize;
                let b = data.get(p + 5..)?.get(..n)?;
                let r = self.str_value(offset, b);
                return Some(self.push_and_memoize(
                    data,
                    p + 5 + n,
                    5 + n,
                    r,
                    Opcode::BinUnicode,
                    offset,
                ));
            }
            // One arm each, so that each node is a constant the compiler
            // writes straight into the arena (a node chosen at run time is
            // built in a temporary and copied with loads that stall).
            byte::EmptyList => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::List(Vec::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyList,
                    offset,
                ));
            }
            byte::EmptyDict => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::Dict(Vec::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyDict,
                    offset,
                ));
            }
            byte::EmptyTuple => {
                self.track_origin(offset, &Arg::None);
                let made = self.alloc_id(|| Node::Tuple(Vec::new()));
                return Some(self.push_and_memoize(
                    data,
                    p + 1,
                    1,
                    made,
                    Opcode::EmptyTuple,
                    offset,
                ));
            }
            byte::Mark => (1, Opcode::Mark, self.mark()),
            byte::Appends => (1, Opcode::Appends, self.appends()),
            byte::SetItems => (1, Opcode::SetItems, self.setitems()),
            _ => {
                let (op, arg, len) = crate::codec::read::decode_fast(data, p)?;
                if matches!(op, Opcode::Frame | Opcode::Stop) || (hook && op == Opcode::Build) {
                    return None;
                }
                self.track_origin(offset, &arg);
                let budget = offset.saturating_mul(8).saturating_add(1 << 20);
                (len, op, self.step(op, arg, budget))
            }
        };
        Some((len, r.map_err(|e| e.in_opcode(op).at(offset))))
    }

    /// A new str node (`*UNICODE*`).
    #[inline]
    fn str_value(&mut self, offset: u64, payload: &[u8]) -> Result<NodeId> {
        self.track_origin(offset, &Arg::Unicode(Cow::Borrowed(payload)));
        self.str_id(payload)
    }

    /// Push `made`, the new object of the `len`-byte instruction `op` at
    /// `offset`, and when the next instruction (at `next`) is the usual
    /// in-order `BINPUT`/`LONG_BINPUT`/`MEMOIZE` of it, store it in the memo
    /// right away: from a register, instead of reading back the stack slot
    /// just written (a load the CPU cannot forward from the narrower stores
    /// that wrote it), and one dispatch fewer. Any other case (an index out
    /// of order, the memo limit) is left to the instruction itself.
    #[inline(always)]
    fn push_and_memoize(
        &mut self,
        data: &[u8],
        next: usize,
        len: usize,
        made: Result<NodeId>,
        op: Opcode,
        offset: u64,
    ) -> (usize, Result<()>) {
        let v = match made {
            Ok(id) => Value::Ref(id),
            Err(e) => return (len, Err(e.in_opcode(op).at(offset))),
        };
        self.stack.items.push(v);
        let put = match data.get(next).copied() {
            Some(byte::BinPut) => fixed::<1>(data, next).map(|[i]| (u64::from(i), 2)),
            Some(byte::LongBinPut) => {
                fixed(data, next).map(|b| (u64::from(u32::from_le_bytes(b)), 5))
            }
            Some(byte::Memoize) => Some((self.memo.len() as u64, 1)),
            _ => None,
        };
        match put {
            Some((idx, put_len)) if self.memo.put_next(idx, v) => (len + put_len, Ok(())),
            _ => (len, Ok(())),
        }
    }

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
    /// of the object). The 16 bytes go from the memo slot to the stack in one
    /// block: moving a `Value` through a temporary makes the compiler copy
    /// its bytes in overlapping pieces, which stalls store forwarding.
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

    /// Push the values of the `BINGET`/`LONG_BINGET` instructions from
    /// `data[p]` on, as long as each is whole and its index is in the memo;
    /// the bytes they took. A GET that fails is left to the
    /// single-instruction path, which reports it. Out of line: the loop
    /// pays one call per run, and the main loop stays as compact as it was.
    #[inline(never)]
    fn get_run(&mut self, data: &[u8], p: usize) -> usize {
        let Machine { stack, memo, .. } = self;
        let mut q = p;
        while let Some((len, _, idx)) = get_arg(data, q) {
            match memo.get_ref(idx) {
                Some(v) => stack.items.extend_from_slice(std::slice::from_ref(v)),
                None => break,
            }
            q += len;
        }
        q - p
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

    /// A new str node. Returns the bare id, which travels in a register
    /// (a returned `Value` goes through memory, and reading it back stalls).
    fn str_id(&mut self, bytes: &[u8]) -> Result<NodeId> {
        if let Some(s) = ShortStr::from_utf8(bytes) {
            return self.alloc_id(move || Node::Str(PyStr::Short(s)));
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                let s = PyStr::from(s);
                self.alloc_id(move || Node::Str(s))
            }
            Err(e) => match PyStr::from_python_utf8(bytes) {
                Some(s) => self.alloc_id(move || Node::Str(s)),
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
        Ok(self.alloc(Node::Str(PyStr::from(&*text))))
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
                let v = match b {
                    // A large payload read into a vector of its own: kept, not copied.
                    Cow::Owned(v) => match String::from_utf8(v) {
                        Ok(s) => Value::Ref(self.alloc_id(move || Node::Str(PyStr::from(s)))?),
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
                    for &item in &self.stack.items[at..] {
                        self.check_hashable(item)?;
                    }
                }
                let items = self.stack.items.split_off(at);
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
                let items = self.stack.items.split_off(self.stack.items.len() - n);
                let v = self.alloc(Node::Tuple(items));
                self.push(v);
            }
            Opcode::Dict => {
                let at = self.pop_mark()?;
                let items = self.stack.items.split_off(at);
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
                let idx = memo_index(&arg)?;
                self.push_memo(idx)?;
            }
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                let idx = memo_index(&arg)?;
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
                    (Some(Node::Str(m)), Some(Node::Str(n))) => (m.clone(), n.clone()),
                    _ => return Err(Error::syntax("STACK_GLOBAL requires str")),
                };
                let (ms, ns) = (ms.to_string_lossy(), ns.to_string_lossy());
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
                let items = self.stack.items.split_off(at);
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
            if let Some(top) = self.stack.items.last_mut() {
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
            // Values are Copy: one memcpy, not an item-by-item drain. A
            // fresh list (the usual case: EMPTY_LIST, MARK, ..., APPENDS)
            // gets exactly the batch in one allocation.
            Node::List(v) => {
                v.extend_from_slice(&stack.items[at..]);
                stack.items.truncate(at);
            }
            Node::Object(o) => o.ops.extend(stack.items.drain(at..).map(ObjectOp::Append)),
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
    #[inline]
    fn check_hashable(&self, key: Value) -> Result<()> {
        self.doc.check_hashable(key).map_err(unhashable_key)
    }

    /// Move the key/value pairs on the stack from `at` up into `target`
    /// (SETITEM, SETITEMS). Every key of a dict is checked first, so a
    /// failing batch leaves the dict as it was.
    fn set_items(&mut self, target: Value, at: usize) -> Result<()> {
        let Value::Ref(id) = target else {
            return Err(Error::syntax("SETITEM on a value that is not a dict"));
        };
        let Machine { doc, stack, .. } = self;
        let items = &stack.items[at..];
        if let Some(Node::Dict(_)) = doc.nodes().get(id.index()) {
            for pair in items.chunks_exact(2) {
                doc.check_hashable(pair[0]).map_err(unhashable_key)?;
            }
        }
        match doc.node_mut(id) {
            // Pairs are appended in wire order, equal keys included (the
            // document keeps the wire's pairs).
            Node::Dict(d) => {
                // A fresh dict gets exactly the batch in one allocation.
                d.reserve(items.len() / 2);
                for pair in items.chunks_exact(2) {
                    d.push((pair[0], pair[1]));
                }
            }
            Node::Object(o) => {
                o.ops.reserve(items.len() / 2);
                for pair in items.chunks_exact(2) {
                    o.ops.push(ObjectOp::SetItem(pair[0], pair[1]));
                }
            }
            other => {
                return Err(Error::syntax(format!(
                    "SETITEM on a {} (only dicts and objects take items)",
                    other.type_name()
                )))
            }
        }
        stack.items.truncate(at);
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
            Some(Node::Str(s)) => s.as_str(),
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
                (Some(Node::Str(s)), Some(Node::Str(enc)))
                    if enc.as_str() == Some("latin1") && s.as_str().is_some() =>
                {
                    let s = s.as_str().unwrap_or_default();
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

/// The `N` argument bytes after the opcode at `p`, if they are all there.
#[inline(always)]
fn fixed<const N: usize>(data: &[u8], p: usize) -> Option<[u8; N]> {
    data.get(p + 1..p + 1 + N)?.try_into().ok()
}

/// The `BINGET`/`LONG_BINGET` at `data[p]`: its length, opcode and memo
/// index; `None` for anything else or a GET cut short.
#[inline(always)]
fn get_arg(data: &[u8], p: usize) -> Option<(usize, Opcode, u64)> {
    match *data.get(p)? {
        byte::BinGet => fixed(data, p).map(|[i]| (2, Opcode::BinGet, u64::from(i))),
        byte::LongBinGet => {
            fixed(data, p).map(|i| (5, Opcode::LongBinGet, u64::from(u32::from_le_bytes(i))))
        }
        _ => None,
    }
}

/// The LONG1 payload of `n` (at most 8) bytes at `data[at..]`, which the
/// caller checked is there: little-endian two's complement (as
/// [`crate::text::long_from_le`], without the big-integer case). Reads one
/// whole 8-byte word where the input has it (a copy of `n` bytes into a
/// buffer costs a call and a stalled load), and shifts the bytes past the
/// payload out ([`crate::text::long_from_le_word`]).
#[inline(always)]
fn small_long(data: &[u8], at: usize, n: usize) -> i64 {
    let word = match data.get(at..at + 8) {
        Some(w) => w.try_into().unwrap_or([0; 8]),
        None => {
            let mut x = [0u8; 8];
            for (d, s) in x.iter_mut().zip(data.get(at..at + n).unwrap_or_default()) {
                *d = *s;
            }
            x
        }
    };
    crate::codec::text::long_from_le_word(u64::from_le_bytes(word), n)
}

#[cold]
fn unhashable_key(type_name: &str) -> Error {
    Error::syntax(format!("unhashable type: '{type_name}' used as a key"))
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
    fn small_long_matches_long_from_le() {
        let mut data = vec![0u8; 24];
        for seed in 0..2000u32 {
            let x = seed.wrapping_mul(2_654_435_761);
            for (i, b) in data.iter_mut().enumerate() {
                *b = (x >> (i % 4 * 8)) as u8 ^ (i as u8).wrapping_mul(37);
            }
            for n in 0..=8 {
                // In the middle (whole word read) and at the very end (bytewise).
                for at in [3, data.len() - n] {
                    let want = match crate::codec::text::long_from_le(&data[at..at + n]) {
                        crate::codec::text::Int::Small(i) => i,
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(super::small_long(&data, at, n), want, "{n} at {at}");
                }
            }
        }
    }

    #[test]
    fn memo_shares() {
        // [x, x] where x = []
        let d = loads(b"\x80\x02]q\x00(]q\x01h\x01e.").unwrap();
        let items = d.root().as_slice().unwrap();
        assert_eq!(items[0], items[1]);
    }

    /// A run of GETs is pushed in one loop; a GET of a missing index in it
    /// still fails at its own offset, and a truncated one as at the end.
    #[test]
    fn get_runs() {
        let d = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01j\x01\x00\x00\x00h\x00h\x01e.")
            .unwrap();
        let items = d.root().as_slice().unwrap();
        assert_eq!(items.len(), 5);
        assert!(items[1] == items[0] && items[2] == items[0] && items[4] == items[0]);
        assert_eq!(items[3], d.root_value());
        assert_eq!(d.root().index(4).unwrap().as_str(), Some("a"));
        let e = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01h\x01h\x07h\x01e.").unwrap_err();
        assert_eq!(e.offset(), Some(18), "{e}");
        assert!(
            e.to_string().contains("Memo value not found at index 7"),
            "{e}"
        );
        let e = loads(b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01h\x01j\x01\x00").unwrap_err();
        assert_eq!(e.category(), Category::Eof, "{e}");
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
