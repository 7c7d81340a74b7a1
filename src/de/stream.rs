//! The fast path of serde deserialization: a visitor is driven straight from
//! the instructions of a pickle held in a slice, without building a document.
//!
//! It accepts the form CPython's pickler writes plain data in:
//!
//! ```text
//! pickle   = [PROTO] value STOP
//! value    = (scalar | EMPTY_TUPLE) puts | GET
//!          | EMPTY_LIST puts appends*           appends  = MARK value* APPENDS | value APPEND
//!          | EMPTY_DICT puts setitems*          setitems = MARK (key value)* SETITEMS | key value SETITEM
//!          | EMPTY_SET puts (MARK key* ADDITEMS)*
//!          | MARK value* (TUPLE | FROZENSET) puts | MARK value* LIST puts appends*
//!          | value{n} TUPLEn puts               (n = 1..3, where the visitor asks for an n-tuple)
//! scalar   = NONE | NEWTRUE | NEWFALSE | BININT* | LONG1 | BINFLOAT | *BINUNICODE* | *BINBYTES* | BYTEARRAY8
//! puts     = (MEMOIZE | BINPUT | LONG_BINPUT)*  (indices in order, as CPython writes them)
//! ```
//!
//! `FRAME`s may come between instructions and are checked as the loader
//! checks them. A `GET` reads the memoized value again from where it was
//! written: a str or bytes is lent from the input again, a container is
//! walked again (within a budget, so shared containers cannot multiply the
//! work without bound).
//!
//! Whether a value after a finished container belongs to it (`value APPEND`,
//! `key value SETITEM`) is decided by looking ahead over that value without
//! visiting it (within a budget too).
//!
//! Anything outside this form — objects, globals, protocol 0–1 text
//! opcodes, a `GET` of a container still being read (a cycle), memo indices
//! out of order, limits — and every error, including the visitor's, makes
//! [`from_slice`] return `None`: the caller then loads a document and walks
//! it, which gives the same value, or the loader's exact error and offset.
//! The visitor sees the same calls on both paths.

use serde::de::{
    self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use super::SUBVALUE_TOKEN;
use crate::codec::framing::FrameTracker;
use crate::codec::opcodes::{byte, Opcode, HIGHEST_PROTOCOL};
use crate::codec::read::{decode_fast, Arg};
use crate::codec::text::long_from_le_word;
use crate::error::GiveUp;

/// Every error on the stream path is a give-up: the document path then
/// loads the input and reports what is wrong.
type Result<T, E = GiveUp> = std::result::Result<T, E>;
use crate::python::types::DOCUMENT_TOKEN;
use crate::python::types::{PYNEW_TOKEN, PYOBJECT_TOKEN};
use crate::unpickler::LoadOptions;

/// Deserialize a `T` from a whole pickle (nothing may follow its STOP), or
/// `None` if the document path must decide.
pub(super) fn from_slice<'de, T: de::Deserialize<'de>>(
    input: &'de [u8],
    options: &LoadOptions,
    de_options: &super::DeOptions,
) -> Option<T> {
    let hooks = options.buffers.is_some()
        || options.persistent_load.is_some()
        || options.after_build.is_some();
    // Memo entries hold positions as `u32` (see `Entry`).
    if hooks || (input.len() as u64) > options.max_input.min(u32::MAX as u64) {
        return None;
    }
    let mut s = Stream::new(input, options, de_options);
    let t = s.pickle::<T>().ok()?;
    (s.pos == input.len()).then_some(t)
}

/// A scalar decoded by [`Stream::fast`].
enum Fast<'de> {
    Int(i64),
    Float(f64),
    Str(&'de str),
    /// A `GET` of the memo entry at this index, read again from where it was written.
    Get(usize),
    /// Anything else: [`Stream::any_rest`] reads it.
    Other,
    /// Not on the stream path.
    Fail,
}

/// What [`Stream::next_int`] found: the int, `Other` (nothing consumed:
/// the general way decides) or `Fail` (the stream path gives up).
enum IntOr {
    Int(i64),
    Other,
    Fail,
}

/// What [`Stream::next_float`] found (see [`IntOr`]).
enum FloatOr {
    Float(f64),
    Other,
    Fail,
}

/// What [`Stream::next_str`] found (see [`IntOr`]).
enum StrOr<'de> {
    Str(&'de str),
    Other,
    Fail,
}

/// How a memoized value is read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Walked from its first instruction: one scalar, a container, a MARK sequence.
    Walk,
    /// `n` values and `TUPLEn`.
    Tuple(u8),
}

/// One memo index. CPython memoizes every str it writes, so a load of many
/// strs pushes one entry each: kept to 24 bytes (a profile of a
/// `Vec<String>` load put 17% of its time in these pushes at 40 bytes).
#[derive(Clone, Copy, Debug)]
struct Entry<'de> {
    /// The memoized str itself, kept decoded: the scalar a `GET` most often
    /// fetches (dict keys, field names). Other scalars are read again from
    /// `pos` (CPython memoizes no int or float).
    text: Option<&'de str>,
    /// Where the value begins (inputs past `u32::MAX` bytes do not take
    /// the stream path).
    pos: u32,
    shape: Shape,
    /// The first opcode of the value (a `GET` of `NONE` is `None` to `Option`).
    op: Opcode,
    /// A container whose items are still being read: a `GET` of it is a cycle.
    open: bool,
}

const _: () = assert!(std::mem::size_of::<Entry<'static>>() <= 24);

impl<'de> Entry<'de> {
    fn new(pos: usize, op: Opcode, shape: Shape, open: bool) -> Self {
        Entry {
            text: None,
            pos: pos as u32,
            shape,
            op,
            open,
        }
    }

    fn pos(&self) -> usize {
        self.pos as usize
    }

    /// A scalar that may be a dict key or set item.
    fn is_hashable_scalar(&self) -> bool {
        self.shape == Shape::Walk && hashable_scalar(self.op)
    }

    fn scalar(pos: usize, op: Opcode, text: Option<&'de str>) -> Self {
        Entry {
            text,
            ..Entry::new(pos, op, Shape::Walk, false)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Reading for the first time: memo puts are recorded, frames checked.
    Read,
    /// Reading a memoized value again.
    Replay,
    /// Skipping ahead to decide what a value belongs to; `GET`s are not resolved.
    Lookahead,
}

/// The stream path gives up; the document path will decide.
fn bail<T>() -> Result<T> {
    Err(GiveUp)
}

struct Stream<'de> {
    input: &'de [u8],
    pos: usize,
    frames: FrameTracker,
    memo: Vec<Entry<'de>>,
    max_memo: usize,
    /// End of the open frame (`usize::MAX` when none): see [`Stream::check_frame`].
    frame_end: usize,
    depth_left: usize,
    mode: Mode,
    /// Bytes that may still be skipped by lookahead.
    lookahead_left: usize,
    /// Bytes of containers that may still be walked again by `GET`s.
    replay_left: usize,
}

/// Deepest nesting read on the stream path; deeper values are handed to
/// the document path (which allows `LoadOptions::recursion_limit`). Looking
/// ahead nests the walk once more per level, so this keeps the native stack
/// well within a thread's default size even in debug builds.
const STREAM_DEPTH: usize = 48;

/// A table by opcode byte: true for the bytes of the opcodes in `lists`.
const fn opcode_set(lists: &[&[Opcode]]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut l = 0;
    while l < lists.len() {
        let ops = lists[l];
        let mut i = 0;
        while i < ops.len() {
            t[ops[i] as usize] = true;
            i += 1;
        }
        l += 1;
    }
    t
}

/// The opcodes of the scalars that are hashable (can be a dict key or set item).
const HASHABLE_SCALAR_OPS: &[Opcode] = &[
    Opcode::None,
    Opcode::NewTrue,
    Opcode::NewFalse,
    Opcode::BinInt,
    Opcode::BinInt1,
    Opcode::BinInt2,
    Opcode::Long1,
    Opcode::BinFloat,
    Opcode::ShortBinUnicode,
    Opcode::BinUnicode,
    Opcode::BinUnicode8,
    Opcode::ShortBinBytes,
    Opcode::BinBytes,
    Opcode::BinBytes8,
    Opcode::EmptyTuple,
];

/// `STARTS_VALUE[b]`: whether byte `b` is an opcode that can begin a value
/// (see [`starts_value`]), for the per-item check of the hot loop.
static STARTS_VALUE: [bool; 256] = opcode_set(&[
    HASHABLE_SCALAR_OPS,
    &[
        Opcode::ByteArray8,
        Opcode::EmptyList,
        Opcode::EmptyDict,
        Opcode::EmptySet,
        Opcode::Mark,
        Opcode::BinGet,
        Opcode::LongBinGet,
    ],
]);

/// `PUT_OR_FRAME[b]`: whether byte `b` is a memo put or a FRAME, what the
/// scalar decoders check after each scalar (one load, not a range test).
static PUT_OR_FRAME: [bool; 256] = opcode_set(&[&[
    Opcode::Memoize,
    Opcode::BinPut,
    Opcode::LongBinPut,
    Opcode::Frame,
]]);

/// Can `op` begin a value?
#[inline(always)]
fn starts_value(op: Opcode) -> bool {
    STARTS_VALUE[op as usize]
}

/// `HASHABLE_SCALAR[b]`: whether byte `b` is one of [`HASHABLE_SCALAR_OPS`].
static HASHABLE_SCALAR: [bool; 256] = opcode_set(&[HASHABLE_SCALAR_OPS]);

/// Is `op` a scalar that is hashable (can be a dict key or set item)?
#[inline(always)]
fn hashable_scalar(op: Opcode) -> bool {
    HASHABLE_SCALAR[op as usize]
}

fn is_str(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::ShortBinUnicode | Opcode::BinUnicode | Opcode::BinUnicode8
    )
}

fn memo_index(arg: &Arg<'_>) -> Result<usize> {
    match *arg {
        Arg::Int(i) => usize::try_from(i).or_else(|_| bail()),
        _ => bail(),
    }
}

impl<'de> Stream<'de> {
    fn new(input: &'de [u8], options: &LoadOptions, de_options: &super::DeOptions) -> Self {
        Stream {
            input,
            pos: 0,
            frames: FrameTracker::default(),
            // Room for the memo as CPython fills it (a PUT per few bytes), reserved
            // once from the input's real size: pages never written cost nothing.
            memo: Vec::with_capacity((input.len() / 8).min(1 << 22)),
            max_memo: options.max_memo,
            frame_end: usize::MAX,
            depth_left: de_options.recursion_limit.min(STREAM_DEPTH),
            mode: Mode::Read,
            lookahead_left: input.len() + 4096,
            replay_left: 2 * input.len() + (1 << 20),
        }
    }

    fn pickle<T: de::Deserialize<'de>>(&mut self) -> Result<T> {
        if self.peek()? == Opcode::Proto {
            match self.next()?.1 {
                Arg::Int(p) if p <= HIGHEST_PROTOCOL as i64 => {}
                _ => return bail(),
            }
        }
        let t = T::deserialize(&mut *self)?;
        match self.next()?.0 {
            Opcode::Stop => Ok(t),
            _ => bail(),
        }
    }

    /// Consume the `FRAME`s at the current position.
    #[inline(always)]
    fn frames(&mut self) -> Result<()> {
        if self.input.get(self.pos) == Some(&byte::Frame) {
            self.frames_slow()?;
        }
        Ok(())
    }

    #[cold]
    fn frames_slow(&mut self) -> Result<()> {
        while self.input.get(self.pos) == Some(&byte::Frame) {
            let start = self.pos;
            let Some((op, Arg::U64(len), n)) = decode_fast(self.input, start) else {
                return bail();
            };
            self.check_frame_slow(op, start, start + n, len)?;
            self.pos = start + n;
        }
        Ok(())
    }

    /// Check the instruction `op` at `start..end` against the open frame,
    /// as the loader does ([`FrameTracker::check`]); `frame_end` caches the
    /// frame's end so that an instruction well inside it costs one compare.
    #[inline(always)]
    fn check_frame(&mut self, op: Opcode, start: usize, end: usize) -> Result<()> {
        if end >= self.frame_end || op == Opcode::Stop {
            self.check_frame_slow(op, start, end, 0)?;
        }
        Ok(())
    }

    #[cold]
    fn check_frame_slow(&mut self, op: Opcode, start: usize, end: usize, len: u64) -> Result<()> {
        if self.mode == Mode::Read {
            self.frames
                .check(op, start as u64, end as u64, len)
                .map_err(|_| GiveUp)?;
            self.frame_end = match self.frames.open_end() {
                Some(e) => usize::try_from(e).unwrap_or(usize::MAX),
                None => usize::MAX,
            };
        }
        Ok(())
    }

    /// The next opcode (after any `FRAME`s), not consumed.
    #[inline(always)]
    fn peek(&mut self) -> Result<Opcode> {
        self.frames()?;
        match self.input.get(self.pos) {
            Some(&b) => Opcode::from_byte(b).ok_or(GiveUp),
            None => bail(),
        }
    }

    /// Decode and consume the next instruction.
    #[inline]
    fn next(&mut self) -> Result<(Opcode, Arg<'de>)> {
        self.frames()?;
        let start = self.pos;
        if let Some(op) = self.input.get(start).and_then(|&b| Opcode::from_byte(b)) {
            if op.arg() == crate::codec::opcodes::ArgKind::None {
                self.check_frame(op, start, start + 1)?;
                self.pos = start + 1;
                return Ok((op, Arg::None));
            }
        }
        let Some((op, arg, n)) = decode_fast(self.input, start) else {
            return bail();
        };
        self.check_frame(op, start, start + n)?;
        self.pos = start + n;
        Ok((op, arg))
    }

    /// Consume a fixed-size instruction whose `n` argument bytes follow the
    /// opcode at `start`; returns them.
    #[inline(always)]
    fn fixed<const N: usize>(&mut self, op: Opcode, start: usize) -> Result<[u8; N]> {
        let end = start + 1 + N;
        let Some(arg) = self.input.get(start + 1..end) else {
            return bail();
        };
        let arg: [u8; N] = arg.try_into().or_else(|_| bail())?;
        self.check_frame(op, start, end)?;
        self.pos = end;
        Ok(arg)
    }

    /// Consume the opcode `want`, which takes no argument (APPEND,
    /// SETITEM, TUPLEn...), or give up.
    fn expect(&mut self, want: Opcode) -> Result<()> {
        if self.peek()? == want {
            self.skip_op(want)
        } else {
            bail()
        }
    }

    /// Consume the opcode `op` that [`Stream::peek`] just returned, one
    /// that takes no argument (MARK, APPENDS, SETITEMS...): no decoding.
    #[inline(always)]
    fn skip_op(&mut self, op: Opcode) -> Result<()> {
        debug_assert_eq!(op.arg(), crate::codec::opcodes::ArgKind::None);
        let pos = self.pos;
        self.check_frame(op, pos, pos + 1)?;
        self.pos = pos + 1;
        Ok(())
    }

    /// The memo puts after a value that began at `pos` with `op`. Returns
    /// the first index recorded (to close it, for containers).
    #[inline(always)]
    fn puts(&mut self, e: Entry<'de>) -> Result<Option<usize>> {
        match self.input.get(self.pos) {
            // One MEMOIZE (protocol 4+) or BINPUT of the next index (CPython's case).
            Some(&byte::Memoize) if self.pos + 1 < self.frame_end && self.mode == Mode::Read => {
                self.pos += 1;
                self.record(e).map(Some)
            }
            Some(&byte::BinPut)
                if self.pos + 2 < self.frame_end
                    && self.mode == Mode::Read
                    && self.input.get(self.pos + 1).map(|&i| i as usize)
                        == Some(self.memo.len()) =>
            {
                self.pos += 2;
                self.record(e).map(Some)
            }
            Some(&byte::LongBinPut)
                if self.pos + 5 < self.frame_end
                    && self.mode == Mode::Read
                    && self
                        .input
                        .get(self.pos + 1..self.pos + 5)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                        == Some(self.memo.len()) =>
            {
                self.pos += 5;
                self.record(e).map(Some)
            }
            Some(&(byte::Memoize | byte::BinPut | byte::LongBinPut | byte::Frame)) => {
                self.puts_slow(e)
            }
            _ => Ok(None),
        }
    }

    #[inline(always)]
    fn record(&mut self, e: Entry<'de>) -> Result<usize> {
        let idx = self.memo.len();
        if idx >= self.max_memo {
            return bail();
        }
        self.memo.push(e);
        Ok(idx)
    }

    fn puts_slow(&mut self, e: Entry<'de>) -> Result<Option<usize>> {
        let mut first = None;
        loop {
            let idx = match self.peek()? {
                Opcode::Memoize => {
                    self.next()?;
                    self.memo.len()
                }
                Opcode::BinPut | Opcode::LongBinPut => memo_index(&self.next()?.1)?,
                _ => return Ok(first),
            };
            if self.mode != Mode::Read {
                continue;
            }
            if idx != self.memo.len() {
                return bail();
            }
            self.record(e)?;
            first.get_or_insert(idx);
        }
    }

    fn close(&mut self, idx: Option<usize>) {
        if let Some(e) = idx.and_then(|i| self.memo.get_mut(i)) {
            e.open = false;
        }
    }

    /// The memo entry a `GET` refers to.
    fn entry(&self, arg: &Arg<'_>) -> Result<Entry<'de>> {
        self.entry_at(memo_index(arg)?)
    }

    /// The memo entry at `idx`, if it was written and is not a container
    /// still being read (a `GET` of that would be a cycle).
    #[inline(always)]
    fn entry_at(&self, idx: usize) -> Result<Entry<'de>> {
        match self.memo.get(idx) {
            Some(e) if !e.open => Ok(*e),
            _ => bail(),
        }
    }

    /// The entry the `GET` at the current position refers to, if it is one.
    fn peek_get(&mut self) -> Result<Option<Entry<'de>>> {
        match self.peek()? {
            Opcode::BinGet | Opcode::LongBinGet if self.mode != Mode::Lookahead => {
                let Some((_, arg, _)) = decode_fast(self.input, self.pos) else {
                    return bail();
                };
                self.entry(&arg).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Walk a memoized value again.
    fn replay<V: Visitor<'de>>(&mut self, e: Entry<'de>, visitor: V) -> Result<V::Value> {
        let (pos, mode) = (self.pos, self.mode);
        self.pos = e.pos();
        self.mode = Mode::Replay;
        let r = match e.shape {
            Shape::Walk => self.any(visitor),
            Shape::Tuple(n) => self.postfix_tuple(n as usize, visitor),
        };
        if e.shape != Shape::Walk || !(hashable_scalar(e.op) || e.op == Opcode::ByteArray8) {
            // Reading a scalar again costs one instruction; anything else counts.
            let used = self.pos - e.pos();
            self.replay_left = self.replay_left.checked_sub(used).ok_or(GiveUp)?;
        }
        self.pos = pos;
        self.mode = mode;
        r
    }

    /// Whether the next `n` values are followed by `op` (`value APPEND`,
    /// `key value SETITEM`), without visiting them or moving.
    fn followed_by(&mut self, n: usize, op: Opcode) -> Result<bool> {
        let (pos, mode) = (self.pos, self.mode);
        self.mode = Mode::Lookahead;
        let r = self.skip_to(n, op);
        let used = self.pos - pos;
        self.pos = pos;
        self.mode = mode;
        self.lookahead_left = self.lookahead_left.checked_sub(used).ok_or(GiveUp)?;
        r
    }

    fn skip_to(&mut self, n: usize, want: Opcode) -> Result<bool> {
        let mut count = 0;
        loop {
            let op = self.peek()?;
            if count == n && op == want {
                return Ok(true);
            }
            let k = match op {
                Opcode::Tuple1 => 1,
                Opcode::Tuple2 => 2,
                Opcode::Tuple3 => 3,
                Opcode::Memoize | Opcode::BinPut | Opcode::LongBinPut if count > 0 => {
                    self.next()?;
                    continue;
                }
                op if starts_value(op) && count < n + 2 => {
                    self.element(std::marker::PhantomData::<IgnoredAny>)?;
                    count += 1;
                    continue;
                }
                _ => return Ok(false),
            };
            if count < k {
                return Ok(false);
            }
            self.next()?;
            count -= k - 1;
        }
    }

    /// Where an empty container's items begin: the MARK of their first batch,
    /// consumed here (CPython's case: the container loops then start in
    /// their hot case), or anything else, left to them.
    #[inline(always)]
    fn batch_state(&mut self) -> SeqState {
        let pos = self.pos;
        if self.input.get(pos) == Some(&byte::Mark) && pos + 1 < self.frame_end {
            self.pos = pos + 1;
            SeqState::Batch
        } else {
            SeqState::Between
        }
    }

    /// Deserialize one item of a container (the container counted the
    /// nesting when it was entered: see [`Stream::nested`]).
    #[inline(always)]
    fn element<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        seed.deserialize(&mut *self)
    }

    /// Run `f` one level of nesting deeper: every container, tuple and
    /// value read off the fast arms comes through here, so scalars in a
    /// container's hot loop pay nothing for the depth limit.
    #[inline(always)]
    fn nested<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        if self.depth_left == 0 {
            return bail();
        }
        self.depth_left -= 1;
        let r = f(self);
        self.depth_left += 1;
        r
    }

    /// Any value.
    #[inline(always)]
    fn any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.fast() {
            Fast::Int(v) => visitor.visit_i64(v),
            Fast::Float(v) => visitor.visit_f64(v),
            Fast::Str(t) => visitor.visit_borrowed_str(t),
            Fast::Get(i) => {
                let e = self.entry_at(i)?;
                self.replay(e, visitor)
            }
            Fast::Other => self.any_rest(visitor),
            Fast::Fail => bail(),
        }
    }

    /// The commonest scalars, by the decoders the typed hints use (the memo
    /// entry is built only if a put follows), and memoized values by their
    /// GET. A FRAME before them, like every other opcode, takes the general way.
    #[inline(always)]
    fn fast(&mut self) -> Fast<'de> {
        match self.input.get(self.pos) {
            Some(&(byte::BinInt1 | byte::BinInt2 | byte::BinInt | byte::Long1)) => {
                match self.next_int() {
                    IntOr::Int(v) => Fast::Int(v),
                    IntOr::Other => Fast::Other,
                    IntOr::Fail => Fast::Fail,
                }
            }
            Some(&byte::BinFloat) => match self.next_float() {
                FloatOr::Float(v) => Fast::Float(v),
                FloatOr::Other => Fast::Other,
                FloatOr::Fail => Fast::Fail,
            },
            Some(&(byte::ShortBinUnicode | byte::BinUnicode)) => match self.next_str() {
                StrOr::Str(t) => Fast::Str(t),
                StrOr::Other => Fast::Other,
                StrOr::Fail => Fast::Fail,
            },
            Some(&byte::BinGet) if self.mode != Mode::Lookahead => {
                self.get_fast().unwrap_or(Fast::Fail)
            }
            _ => Fast::Other,
        }
    }

    /// A BINGET: the memoized scalar itself, or the entry to read again.
    #[inline(always)]
    fn get_fast(&mut self) -> Result<Fast<'de>> {
        let pos = self.pos;
        let [i] = self.fixed::<1>(Opcode::BinGet, pos)?;
        Ok(match self.entry_at(i as usize)?.text {
            Some(t) => Fast::Str(t),
            None => Fast::Get(i as usize),
        })
    }

    /// A value the visitor asked for as an integer: [`Stream::next_int`]
    /// decodes the int opcodes inline, so an item of a `Vec` costs no call
    /// (see benches/README.md, "Typed items inline"), and the rest out of
    /// line.
    #[inline(always)]
    fn int_hint<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.next_int() {
            IntOr::Int(v) => visitor.visit_i64(v),
            IntOr::Other => self.any_outlined(visitor),
            IntOr::Fail => bail(),
        }
    }

    /// The next value if it is an int the fast arms decode (consumed, with
    /// its puts), else `Other` (nothing consumed; also where a frame check
    /// or a short input needs the general way). Written without `Result`s,
    /// so that it needs few registers: it runs once per int of a `Vec<i64>`.
    #[inline(always)]
    fn next_int(&mut self) -> IntOr {
        let input = self.input;
        let pos = self.pos;
        // The longest int decoded here (LONG1 of 8 bytes) is ten bytes: with
        // ten bytes at hand (everywhere but at the end of the input) every
        // argument is read from them with no bounds check of its own.
        let (op, v, end) = match input.get(pos..pos + 10) {
            Some(&[op, a, b, c, d, e, f, g, h, i]) => match op {
                byte::BinInt1 => (Opcode::BinInt1, a as i64, pos + 2),
                byte::BinInt2 => (Opcode::BinInt2, u16::from_le_bytes([a, b]) as i64, pos + 3),
                byte::BinInt => (
                    Opcode::BinInt,
                    i32::from_le_bytes([a, b, c, d]) as i64,
                    pos + 5,
                ),
                byte::Long1 if a <= 8 => {
                    let w = u64::from_le_bytes([b, c, d, e, f, g, h, i]);
                    (
                        Opcode::Long1,
                        long_from_le_word(w, a as usize),
                        pos + 2 + a as usize,
                    )
                }
                _ => return IntOr::Other,
            },
            // Near the end of the input: the general decoder.
            _ => return IntOr::Other,
        };
        if end >= self.frame_end {
            return IntOr::Other;
        }
        self.pos = end;
        if input.get(end).is_some_and(|&b| PUT_OR_FRAME[b as usize])
            && !self.scalar_puts_ok(pos, op, None)
        {
            return IntOr::Fail;
        }
        IntOr::Int(v)
    }

    /// A value the visitor asked for as a float (see [`Stream::int_hint`]).
    #[inline(always)]
    fn float_hint<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.next_float() {
            FloatOr::Float(v) => visitor.visit_f64(v),
            FloatOr::Other => self.any_outlined(visitor),
            FloatOr::Fail => bail(),
        }
    }

    /// The next value if it is a BINFLOAT (see [`Stream::next_int`]).
    #[inline(always)]
    fn next_float(&mut self) -> FloatOr {
        let input = self.input;
        let pos = self.pos;
        let Some(&[byte::BinFloat, a, b, c, d, e, f, g, h]) = input.get(pos..pos + 9) else {
            return FloatOr::Other;
        };
        let end = pos + 9;
        if end >= self.frame_end {
            return FloatOr::Other;
        }
        self.pos = end;
        let v = f64::from_be_bytes([a, b, c, d, e, f, g, h]);
        if input.get(end).is_some_and(|&b| PUT_OR_FRAME[b as usize])
            && !self.scalar_puts_ok(pos, Opcode::BinFloat, None)
        {
            return FloatOr::Fail;
        }
        FloatOr::Float(v)
    }

    /// A value the visitor asked for as a str, or a struct field's name
    /// (see [`Stream::int_hint`]).
    #[inline(always)]
    fn str_hint<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        // A GET of a memoized str (a dict key, a repeated field name) inline:
        // it is a few loads, cheaper than the call.
        let (input, pos) = (self.input, self.pos);
        if let (Some(&byte::BinGet), Some(&i)) = (input.get(pos), input.get(pos + 1)) {
            if let Some(&Entry {
                text: Some(t),
                open: false,
                ..
            }) = self.memo.get(i as usize)
            {
                if pos + 2 < self.frame_end && self.mode != Mode::Lookahead {
                    self.pos = pos + 2;
                    return visitor.visit_borrowed_str(t);
                }
            }
        }
        match self.next_str() {
            StrOr::Str(t) => visitor.visit_borrowed_str(t),
            StrOr::Other => self.any_outlined(visitor),
            StrOr::Fail => bail(),
        }
    }

    /// The next value if it is a SHORT_BINUNICODE or BINUNICODE of valid
    /// UTF-8 (see [`Stream::next_int`]).
    #[inline(never)]
    fn next_str(&mut self) -> StrOr<'de> {
        let input = self.input;
        let pos = self.pos;
        let (op, from, len) = match input.get(pos) {
            Some(&byte::ShortBinUnicode) => match input.get(pos + 1) {
                Some(&n) => (Opcode::ShortBinUnicode, pos + 2, n as usize),
                None => return StrOr::Other,
            },
            Some(&byte::BinUnicode) => match input.get(pos + 1..pos + 5) {
                Some(&[a, b, c, d]) => (
                    Opcode::BinUnicode,
                    pos + 5,
                    u32::from_le_bytes([a, b, c, d]) as usize,
                ),
                _ => return StrOr::Other,
            },
            _ => return StrOr::Other,
        };
        let end = from + len;
        let Some(Ok(t)) = input.get(from..end).map(crate::codec::utf8::from_utf8) else {
            return StrOr::Other;
        };
        if end >= self.frame_end {
            return StrOr::Other;
        }
        self.pos = end;
        if input.get(end).is_some_and(|&b| PUT_OR_FRAME[b as usize])
            && !self.scalar_puts_ok(pos, op, Some(t))
        {
            return StrOr::Fail;
        }
        StrOr::Str(t)
    }

    /// [`Stream::puts`] of a scalar, out of line; false where the stream path gives up.
    #[inline(never)]
    fn scalar_puts_ok(&mut self, pos: usize, op: Opcode, text: Option<&'de str>) -> bool {
        self.puts(Entry::scalar(pos, op, text)).is_ok()
    }

    /// [`Stream::any`], not inlined: the rest of a typed hint.
    #[inline(never)]
    fn any_outlined<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.any(visitor)
    }

    /// [`Stream::any`] for everything but the commonest scalars.
    #[inline(never)]
    fn any_rest<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.nested(|s| s.any_rest_nested(visitor))
    }

    fn any_rest_nested<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let op = self.peek()?;
        let pos = self.pos;
        let arg = if op.arg() == crate::codec::opcodes::ArgKind::None {
            self.skip_op(op)?;
            Arg::None
        } else {
            self.next()?.1
        };
        match op {
            Opcode::BinGet | Opcode::LongBinGet => {
                if self.mode == Mode::Lookahead {
                    return visitor.visit_unit();
                }
                let e = self.entry(&arg)?;
                self.replay(e, visitor)
            }
            Opcode::EmptyList | Opcode::EmptySet => {
                let idx = self.puts(Entry::new(pos, op, Shape::Walk, true))?;
                let kind = if op == Opcode::EmptyList {
                    Items::List
                } else {
                    Items::Set
                };
                let state = self.batch_state();
                let mut items = SeqItems::new(self, kind, state);
                let v = visitor.visit_seq(&mut items)?;
                let idx2 = items.finish()?;
                self.close(idx);
                self.close(idx2);
                Ok(v)
            }
            Opcode::Mark => {
                let mut items = SeqItems::new(self, Items::Mark(pos), SeqState::Batch);
                let v = visitor.visit_seq(&mut items)?;
                let idx = items.finish()?;
                self.close(idx);
                Ok(v)
            }
            Opcode::EmptyDict => {
                let idx = self.puts(Entry::new(pos, op, Shape::Walk, true))?;
                let state = self.batch_state();
                let mut pairs = DictPairs::new(self, state);
                let v = visitor.visit_map(&mut pairs)?;
                pairs.finish()?;
                self.close(idx);
                Ok(v)
            }
            Opcode::EmptyTuple => {
                self.puts(Entry::new(pos, op, Shape::Walk, false))?;
                visitor.visit_seq(NoItems)
            }
            _ => {
                self.puts(Entry::new(pos, op, Shape::Walk, false))?;
                self.scalar(op, arg, visitor)
            }
        }
    }

    fn scalar<V: Visitor<'de>>(
        &mut self,
        op: Opcode,
        arg: Arg<'de>,
        visitor: V,
    ) -> Result<V::Value> {
        use std::borrow::Cow::Borrowed;
        match (op, arg) {
            (Opcode::None, _) => visitor.visit_unit(),
            (Opcode::NewTrue, _) => visitor.visit_bool(true),
            (Opcode::NewFalse, _) => visitor.visit_bool(false),
            (Opcode::BinInt | Opcode::BinInt1 | Opcode::BinInt2 | Opcode::Long1, Arg::Int(i)) => {
                visitor.visit_i64(i)
            }
            (Opcode::Long1, Arg::BigInt(b)) => {
                // As the document path presents a big int: u64, else i128.
                if let Ok(u) = u64::try_from(&b) {
                    visitor.visit_u64(u)
                } else if let Ok(i) = i128::try_from(&b) {
                    visitor.visit_i128(i)
                } else {
                    bail()
                }
            }
            (Opcode::BinFloat, Arg::Float(f)) => visitor.visit_f64(f),
            (
                Opcode::ShortBinUnicode | Opcode::BinUnicode | Opcode::BinUnicode8,
                Arg::Unicode(Borrowed(b)),
            ) => self.visit_str(b, visitor),
            (
                Opcode::ShortBinBytes | Opcode::BinBytes | Opcode::BinBytes8,
                Arg::Bytes(Borrowed(b)),
            ) => visitor.visit_borrowed_bytes(b),
            (Opcode::ByteArray8, Arg::Bytes(Borrowed(b))) => visitor.visit_bytes(b),
            _ => bail(),
        }
    }

    #[inline(always)]
    fn visit_str<V: Visitor<'de>>(&self, b: &'de [u8], visitor: V) -> Result<V::Value> {
        match crate::codec::utf8::from_utf8(b) {
            Ok(s) => visitor.visit_borrowed_str(s),
            // Lone surrogates: the document path presents them lossily.
            Err(_) => bail(),
        }
    }

    /// `n` values and `TUPLEn`, where the visitor asked for an n-tuple.
    fn postfix_tuple<V: Visitor<'de>>(&mut self, n: usize, visitor: V) -> Result<V::Value> {
        self.nested(|s| s.postfix_tuple_nested(n, visitor))
    }

    fn postfix_tuple_nested<V: Visitor<'de>>(&mut self, n: usize, visitor: V) -> Result<V::Value> {
        let first = self.peek()?;
        let pos = self.pos;
        let mut items = TupleItems { de: self, left: n };
        let v = visitor.visit_seq(&mut items)?;
        while items.next_element::<IgnoredAny>()?.is_some() {}
        let end = match n {
            1 => Opcode::Tuple1,
            2 => Opcode::Tuple2,
            _ => Opcode::Tuple3,
        };
        self.expect(end)?;
        self.puts(Entry::new(pos, first, Shape::Tuple(n as u8), false))?;
        Ok(v)
    }

    /// May the next value be a dict key or set item (hashable, as the loader checks)?
    #[inline(always)]
    fn key_ahead(&mut self) -> Result<bool> {
        let input = self.input;
        match input.get(self.pos) {
            Some(&b) if HASHABLE_SCALAR[b as usize] => Ok(true),
            Some(&byte::BinGet) if self.mode != Mode::Lookahead => match input.get(self.pos + 1) {
                Some(&i) => Ok(self
                    .entry_at(i as usize)
                    .is_ok_and(|e| e.is_hashable_scalar())),
                None => bail(),
            },
            Some(&b) if b != byte::Frame && b != byte::LongBinGet => Ok(b == byte::BinGet),
            _ => self.key_ahead_slow(),
        }
    }

    #[cold]
    fn key_ahead_slow(&mut self) -> Result<bool> {
        match self.peek()? {
            Opcode::BinGet | Opcode::LongBinGet => match self.peek_get()? {
                Some(e) => Ok(e.is_hashable_scalar()),
                // Looking ahead: GETs are not resolved.
                None => Ok(true),
            },
            op => Ok(hashable_scalar(op)),
        }
    }
}

/// What continues a sequence.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Items {
    List,
    Set,
    /// Items after a MARK at this position: a tuple, a frozenset, or a list.
    Mark(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SeqState {
    /// Between batches: a MARK, a `value APPEND`, or the end.
    Between,
    /// Inside a MARK: values until APPENDS / ADDITEMS (or, for `Items::Mark`, the closing opcode).
    Batch,
    Done,
}

struct SeqItems<'a, 'de> {
    de: &'a mut Stream<'de>,
    kind: Items,
    state: SeqState,
    /// For a MARK sequence: whether an item was unhashable (for FROZENSET).
    unhashable: bool,
    /// The memo index of a `MARK … LIST` list, open until its items are read.
    open: Option<usize>,
}

impl<'a, 'de> SeqItems<'a, 'de> {
    fn new(de: &'a mut Stream<'de>, kind: Items, state: SeqState) -> Self {
        SeqItems {
            de,
            kind,
            state,
            unhashable: false,
            open: None,
        }
    }

    /// Skip the items the visitor did not take; returns the memo index to close.
    #[inline(always)]
    fn finish(mut self) -> Result<Option<usize>> {
        if self.state != SeqState::Done {
            // The visitor left items unread (`[1, 2, 3]` as a pair): the
            // document path reports it. A lookahead skips what it passes.
            if self.de.mode != Mode::Lookahead {
                if self.advance()? {
                    return bail();
                }
            } else {
                self.skip_rest()?;
            }
        }
        Ok(self.open)
    }

    #[inline(never)]
    fn skip_rest(&mut self) -> Result<()> {
        while self.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Move to the next item, if any.
    fn advance(&mut self) -> Result<bool> {
        loop {
            match self.state {
                SeqState::Done => return Ok(false),
                SeqState::Batch => {
                    let op = self.de.peek()?;
                    match (self.kind, op) {
                        (Items::List, Opcode::Appends) | (Items::Set, Opcode::AddItems) => {
                            self.de.skip_op(op)?;
                            // The end of the batch and of the container: no MARK,
                            // no `value APPEND` (nor a FRAME) after it.
                            let next = self.de.input.get(self.de.pos);
                            self.state = match next {
                                Some(&b) if STARTS_VALUE[b as usize] || b == byte::Frame => {
                                    SeqState::Between
                                }
                                _ => SeqState::Done,
                            };
                        }
                        (Items::Set, _) => {
                            return if self.de.key_ahead()? {
                                Ok(true)
                            } else {
                                bail()
                            }
                        }
                        (Items::Mark(pos), Opcode::Tuple | Opcode::FrozenSet | Opcode::List) => {
                            if op == Opcode::FrozenSet && self.unhashable {
                                return bail();
                            }
                            self.de.skip_op(op)?;
                            let open = op == Opcode::List;
                            let idx =
                                self.de
                                    .puts(Entry::new(pos, Opcode::Mark, Shape::Walk, open))?;
                            if open {
                                self.open = idx;
                                self.kind = Items::List;
                                self.state = SeqState::Between;
                            } else {
                                self.state = SeqState::Done;
                            }
                        }
                        (Items::Mark(_), op) if starts_value(op) => {
                            if !self.de.key_ahead()? {
                                self.unhashable = true;
                            }
                            return Ok(true);
                        }
                        (Items::List, op) if starts_value(op) => return Ok(true),
                        _ => return bail(),
                    }
                }
                SeqState::Between => {
                    let op = self.de.peek()?;
                    if op == Opcode::Mark {
                        self.de.skip_op(op)?;
                        self.state = SeqState::Batch;
                        continue;
                    }
                    if matches!(self.kind, Items::List)
                        && starts_value(op)
                        && self.de.followed_by(1, Opcode::Append)?
                    {
                        return Ok(true);
                    }
                    self.state = SeqState::Done;
                }
            }
        }
    }
}

impl<'de> SeqAccess<'de> for SeqItems<'_, 'de> {
    type Error = GiveUp;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        // The hot case: the next item of a list's MARK batch.
        if self.state == SeqState::Batch && matches!(self.kind, Items::List) {
            if let Some(&b) = self.de.input.get(self.de.pos) {
                // (APPENDS, which ends the batch, does not start a value.)
                if STARTS_VALUE[b as usize] {
                    return self.de.element(seed).map(Some);
                }
            }
        }
        if self.state == SeqState::Done {
            return Ok(None);
        }
        if !self.advance()? {
            return Ok(None);
        }
        let v = self.de.element(seed)?;
        if self.state == SeqState::Between {
            self.de.expect(Opcode::Append)?;
        }
        Ok(Some(v))
    }
}

/// The items of a `TUPLE1`–`TUPLE3` tuple.
struct TupleItems<'a, 'de> {
    de: &'a mut Stream<'de>,
    left: usize,
}

impl<'de> SeqAccess<'de> for TupleItems<'_, 'de> {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.de.element(seed).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The items of an empty tuple.
struct NoItems;

impl<'de> SeqAccess<'de> for NoItems {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> Result<Option<T::Value>> {
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(0)
    }
}

/// The pairs of a dict.
struct DictPairs<'a, 'de> {
    de: &'a mut Stream<'de>,
    state: SeqState,
}

impl<'a, 'de> DictPairs<'a, 'de> {
    fn new(de: &'a mut Stream<'de>, state: SeqState) -> Self {
        DictPairs { de, state }
    }

    /// Skip the pairs the visitor did not take.
    #[inline(always)]
    fn finish(mut self) -> Result<()> {
        if self.state != SeqState::Done {
            self.skip_rest()?;
        }
        Ok(())
    }

    #[inline(never)]
    fn skip_rest(&mut self) -> Result<()> {
        while self.next_key::<IgnoredAny>()?.is_some() {
            self.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn advance(&mut self) -> Result<bool> {
        loop {
            match self.state {
                SeqState::Done => return Ok(false),
                SeqState::Batch => {
                    if self.de.peek()? == Opcode::SetItems {
                        self.de.skip_op(Opcode::SetItems)?;
                        self.state = SeqState::Between;
                        continue;
                    }
                    return if self.de.key_ahead()? {
                        Ok(true)
                    } else {
                        bail()
                    };
                }
                SeqState::Between => {
                    if self.de.peek()? == Opcode::Mark {
                        self.de.skip_op(Opcode::Mark)?;
                        self.state = SeqState::Batch;
                        continue;
                    }
                    if self.de.key_ahead()? && self.de.followed_by(2, Opcode::SetItem)? {
                        return Ok(true);
                    }
                    self.state = SeqState::Done;
                }
            }
        }
    }
}

impl<'de> MapAccess<'de> for DictPairs<'_, 'de> {
    type Error = GiveUp;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        // The hot case: the next key of a MARK batch.
        if self.state == SeqState::Batch {
            let (input, pos) = (self.de.input, self.de.pos);
            match input.get(pos) {
                Some(&(byte::SetItems | byte::Frame)) | None => {}
                Some(_) => {
                    return if self.de.key_ahead()? {
                        self.de.element(seed).map(Some)
                    } else {
                        bail()
                    };
                }
            }
            // The end of the batch and of the dict: no MARK, no `key value
            // SETITEM` (nor a FRAME) after it.
            if input.get(pos) == Some(&byte::SetItems)
                && pos + 1 < self.de.frame_end
                && !matches!(input.get(pos + 1), Some(&b) if HASHABLE_SCALAR[b as usize]
                    || matches!(b, byte::Mark | byte::BinGet | byte::LongBinGet | byte::Frame))
            {
                self.de.pos = pos + 1;
                self.state = SeqState::Done;
                return Ok(None);
            }
        }
        if self.state == SeqState::Done {
            return Ok(None);
        }
        if !self.advance()? {
            return Ok(None);
        }
        self.de.element(seed).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let v = self.de.element(seed)?;
        if self.state == SeqState::Between {
            self.de.expect(Opcode::SetItem)?;
        }
        Ok(v)
    }
}

/// A seed that deserializes with `deserialize_any`.
struct AnySeed<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for AnySeed<V> {
    type Value = V::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        d.deserialize_any(self.0)
    }
}

/// An enum written as a str: a unit variant.
struct UnitVariant<'a, 'de> {
    de: &'a mut Stream<'de>,
}

impl<'de> EnumAccess<'de> for UnitVariant<'_, 'de> {
    type Error = GiveUp;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let v = seed.deserialize(&mut *self.de)?;
        Ok((v, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_, 'de> {
    type Error = GiveUp;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value> {
        bail()
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value> {
        bail()
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], _: V) -> Result<V::Value> {
        bail()
    }
}

/// An enum written as a one-pair dict `{variant: value}`.
struct TaggedVariant<'p, 'a, 'de> {
    pairs: &'p mut DictPairs<'a, 'de>,
}

impl<'p, 'a, 'de> EnumAccess<'de> for TaggedVariant<'p, 'a, 'de> {
    type Error = GiveUp;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        match self.pairs.next_key_seed(seed)? {
            Some(v) => Ok((v, self)),
            None => bail(),
        }
    }
}

impl<'de> VariantAccess<'de> for TaggedVariant<'_, '_, 'de> {
    type Error = GiveUp;

    fn unit_variant(self) -> Result<()> {
        self.pairs.next_value::<()>()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        self.pairs.next_value_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.pairs.next_value_seed(AnySeed(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.pairs.next_value_seed(AnySeed(visitor))
    }
}

/// `deserialize_*` methods that all call `self.$how(visitor)`.
macro_rules! forward_to {
    ($how:ident: $($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.$how(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Stream<'de> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let none = match self.peek_get()? {
            Some(e) => e.op == Opcode::None,
            None => self.peek()? == Opcode::None,
        };
        if none {
            let pos = self.pos;
            let op = self.next()?.0;
            self.puts(Entry::new(pos, op, Shape::Walk, false))?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == SUBVALUE_TOKEN || name == DOCUMENT_TOKEN {
            return bail();
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if name == PYOBJECT_TOKEN || name == PYNEW_TOKEN {
            return bail();
        }
        self.any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let op = match self.peek_get()? {
            Some(e) => e.op,
            None => self.peek()?,
        };
        if is_str(op) {
            return visitor.visit_enum(UnitVariant { de: self });
        }
        if op != Opcode::EmptyDict || self.peek()? != Opcode::EmptyDict {
            return bail();
        }
        self.nested(|s| {
            let pos = s.pos;
            s.next()?;
            let idx = s.puts(Entry::new(pos, op, Shape::Walk, true))?;
            let state = s.batch_state();
            let mut pairs = DictPairs::new(s, state);
            let v = visitor.visit_enum(TaggedVariant { pairs: &mut pairs })?;
            // Exactly one pair, as the document path requires.
            if pairs.next_key::<IgnoredAny>()?.is_some() {
                return bail();
            }
            s.close(idx);
            Ok(v)
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.any(IgnoredAny)?;
        visitor.visit_unit()
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        // `a b TUPLE2`: only the TUPLE2 after the items says they are a
        // tuple. A scalar cannot be a whole tuple, so it starts one; after
        // anything else, look ahead for the TUPLEn.
        let op = self.peek()?;
        let postfix = match len {
            1..=3 if hashable_scalar(op) && op != Opcode::EmptyTuple => true,
            1..=3 if starts_value(op) => {
                let end = [Opcode::Tuple1, Opcode::Tuple2, Opcode::Tuple3][len - 1];
                self.followed_by(len, end)?
            }
            _ => false,
        };
        if postfix {
            self.postfix_tuple(len, visitor)
        } else {
            self.any(visitor)
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    forward_to! { any:
        deserialize_bool deserialize_i128 deserialize_u128 deserialize_char
        deserialize_bytes deserialize_byte_buf deserialize_seq deserialize_map
    }

    forward_to! { float_hint: deserialize_f32 deserialize_f64 }

    forward_to! { str_hint: deserialize_str deserialize_string deserialize_identifier }

    forward_to! { int_hint:
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
    }
}

#[cfg(test)]
mod tests {
    use super::Entry;
    use crate::unpickler::LoadOptions;

    /// Every way an int is written, each value as CPython's pickler would
    /// pick its opcode (and as LONG1 always).
    fn int_encodings(v: i64) -> Vec<Vec<u8>> {
        let payload = crate::codec::text::long_to_le(&v.into());
        let mut long1 = vec![0x8a, payload.len() as u8];
        long1.extend_from_slice(&payload);
        let mut out = vec![long1];
        if let Ok(b) = u8::try_from(v) {
            out.push(vec![b'K', b]);
        }
        if let Ok(w) = u16::try_from(v) {
            let [x, y] = w.to_le_bytes();
            out.push(vec![b'M', x, y]);
        }
        if let Ok(w) = i32::try_from(v) {
            let mut i = vec![b'J'];
            i.extend_from_slice(&w.to_le_bytes());
            out.push(i);
        }
        out
    }

    #[test]
    fn ints_read_in_the_ten_byte_window_or_near_the_end_agree() {
        // An int with ten bytes at hand is read from them at once; one
        // nearer the end of the input by the general decoder: both give
        // the loader's value, with or without a memo put after it.
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            -256,
            65535,
            65536,
            i32::MAX as i64,
            i32::MIN as i64,
            1 << 31,
            1 << 33,
            1 << 40,
            -(1 << 40),
            -(1 << 47),
            i64::MAX,
            i64::MIN,
        ] {
            for one in int_encodings(v) {
                let opts = LoadOptions::default();
                // Alone (near the end).
                let mut alone = one.clone();
                alone.push(b'.');
                assert_eq!(
                    super::from_slice::<i64>(&alone, &opts, &super::super::DeOptions::default()),
                    Some(v),
                    "{one:?}"
                );
                // First in a list, with a BINPUT or not, then 0 to 12 more
                // bytes of BININT1s: near the end, then in the window.
                for put in [false, true] {
                    for more in 0..=6 {
                        let mut list = vec![b']', b'(']; // EMPTY_LIST MARK
                        list.extend_from_slice(&one);
                        if put {
                            list.extend_from_slice(&[b'q', 0]); // BINPUT 0 (the first index)
                        }
                        for _ in 0..more {
                            list.extend_from_slice(&[b'K', 7]);
                        }
                        list.extend_from_slice(b"e."); // APPENDS STOP
                        let mut want = vec![v];
                        want.extend(std::iter::repeat_n(7, more));
                        assert_eq!(
                            super::from_slice::<Vec<i64>>(
                                &list,
                                &opts,
                                &super::super::DeOptions::default()
                            ),
                            Some(want),
                            "{list:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn memo_entries_stay_small() {
        // One per memoized value: records_100k holds 300,000 of them.
        assert!(std::mem::size_of::<Entry<'_>>() <= 40);
    }
}
