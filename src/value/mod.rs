//! The inert value model: a [`Document`] is an arena of [`Node`]s, and a
//! [`Value`] is either an immediate (None, bool, small int, float) or a handle
//! to a node.
//!
//! # Why an arena
//!
//! A pickle describes a *graph*, not a tree: a memo `GET` refers to an object
//! already built (sharing), and a list may contain itself (cycles). Storing
//! every heap object of one pickle in one `Vec<Node>` gives:
//!
//! * **Real sharing**: a memo `GET` copies a 16-byte [`Value`] handle, never the
//!   object. A 1 KB pickle describing 2^250 leaves loads in microseconds.
//! * **Cycles without leaks**: handles are indices, so a self-containing list
//!   is an ordinary value, and dropping a document frees everything at once.
//! * **No recursion**: dropping, comparing, printing and writing walk the
//!   graph with explicit stacks, so a 1,000,000-deep nested list is fine.
//!
//! Identity follows Python's: two handles to the same node are the same
//! object (`is`), and the pickler writes a shared node once and refers to it
//! with the memo afterwards, so sharing and cycles survive a round trip.
//!
//! # What a node keeps
//!
//! Every distinction a pickle makes: `bytes` vs `bytearray`, `tuple` vs
//! `list`, `set` vs `frozenset`, dict insertion order (as a `Vec` of pairs in
//! wire order, any key type). Globals, `REDUCE`/`NEWOBJ`/`NEWOBJ_EX`/`INST`/
//! `OBJ` constructions, `BUILD` state and items appended to objects are kept
//! as inert data ([`Global`], [`Object`]): nothing is imported or called.
//!
//! Strings are kept in Python's own UTF-8 with lone surrogates allowed (what
//! CPython writes with `surrogatepass`), so a `str` holding `"\ud800"`
//! survives a round trip; [`PyStr::as_str`] returns `None` for such a string.
//!
//! # Equality
//!
//! `PartialEq` on [`Document`] and [`ValueRef`] is structural equality of
//! content: same Python types, same values, and floats equal when their bits
//! are equal or both are NaN (so `0.0 != -0.0` here, unlike Python, and a
//! round trip of NaN compares equal). Sharing is not compared: a DAG equals
//! its tree expansion, and cycles compare equal when they unfold alike. The
//! comparison remembers node pairs it has seen, so it is linear in the size of
//! the graphs, not of their expansion. `Value`'s own `PartialEq` compares
//! handles (identity), not content.

#[cfg(feature = "arbitrary")]
mod arbitrary;
mod build;
mod eq;
mod pool;

mod view;

use num_bigint::BigInt;

pub use pool::PoolSpan;
pub use view::{Kind, ValueRef};

/// Index of a node in a [`Document`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's index in [`Document::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A Python value: an immediate or a handle to a node of a [`Document`].
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Value {
    /// `None`.
    #[default]
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in i64 (larger ones are [`Node::BigInt`]).
    Int(i64),
    /// A `float`.
    Float(f64),
    /// Any other object, stored in the document.
    Ref(NodeId),
}

/// A Python `str`, in Python's UTF-8 (surrogates allowed).
///
/// Equality and hashing compare the text (its bytes), whichever variant
/// holds it: `PyStr::from("id")` (held [`PyStr::Short`]) equals
/// `PyStr::Utf8("id".into())`.
#[derive(Clone)]
pub enum PyStr {
    /// Valid UTF-8: every ordinary string longer than [`ShortStr::CAPACITY`] bytes
    /// (and any a caller builds this way).
    Utf8(Box<str>),
    /// Holds lone surrogates, encoded as `surrogatepass` does (3 bytes each).
    Surrogates(Box<[u8]>),
    /// Valid UTF-8 of at most [`ShortStr::CAPACITY`] bytes, held inline: the
    /// loader and `From<&str>` keep short strings (dict keys, names, most
    /// text in data) this way, without a heap allocation each.
    Short(ShortStr),
}

impl PyStr {
    /// The text, unless it holds lone surrogates.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyStr::Utf8(s) => Some(s),
            PyStr::Short(s) => Some(s.as_str()),
            PyStr::Surrogates(_) => None,
        }
    }

    /// The bytes as CPython encodes them (`utf-8`, `surrogatepass`).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PyStr::Utf8(s) => s.as_bytes(),
            PyStr::Short(s) => s.as_bytes(),
            PyStr::Surrogates(b) => b,
        }
    }

    /// The text with lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> std::borrow::Cow<'_, str> {
        self.as_str_ref().to_string_lossy()
    }

    /// The text borrowed as a [`StrRef`] (what [`Kind::Str`] gives).
    #[inline]
    pub fn as_str_ref(&self) -> StrRef<'_> {
        StrRef(match self {
            PyStr::Utf8(s) => StrRepr::Utf8(s),
            PyStr::Short(s) => StrRepr::Short(s),
            PyStr::Surrogates(b) => StrRepr::Surrogates(b),
        })
    }

    /// Build from Python UTF-8 bytes; `None` if they are not valid even with surrogates.
    pub fn from_python_utf8(bytes: &[u8]) -> Option<PyStr> {
        match crate::codec::utf8::from_utf8(bytes) {
            Ok(s) => Some(PyStr::from(s)),
            Err(_) => {
                crate::codec::text::check_surrogatepass(bytes).ok()?;
                Some(PyStr::Surrogates(bytes.into()))
            }
        }
    }
}

impl From<&str> for PyStr {
    /// Short text is held inline ([`PyStr::Short`]), longer text boxed.
    fn from(s: &str) -> Self {
        match ShortStr::new(s) {
            Some(short) => PyStr::Short(short),
            None => PyStr::Utf8(s.into()),
        }
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> Self {
        match ShortStr::new(&s) {
            Some(short) => PyStr::Short(short),
            None => PyStr::Utf8(s.into_boxed_str()),
        }
    }
}

impl PartialEq for PyStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PyStr {}

impl std::hash::Hash for PyStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for PyStr {
    /// `Utf8("text")` for valid text however it is held, `Surrogates([..])` otherwise.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PyStr::Surrogates(b) => f.debug_tuple("Surrogates").field(b).finish(),
            s => f
                .debug_tuple("Utf8")
                .field(&s.as_str().unwrap_or_default())
                .finish(),
        }
    }
}

/// A `str` borrowed from a document (or a [`PyStr`]): what [`Kind::Str`]
/// gives, with [`PyStr`]'s accessors. Equality and hashing compare the
/// bytes.
#[derive(Clone, Copy)]
pub struct StrRef<'a>(StrRepr<'a>);

/// How a [`StrRef`] holds its text: a short str is lent as its
/// [`ShortStr`], whose bytes need no check to be read (only
/// [`StrRef::as_str`] re-checks them, as [`PyStr::as_str`] does).
#[derive(Clone, Copy)]
enum StrRepr<'a> {
    Utf8(&'a str),
    /// `text[start..end]`, lent as bytes without reading the text to
    /// check the ends are char boundaries (a cache miss a str where the
    /// pickler then copies the bytes anyway); `as_str` checks them.
    Span(&'a str, usize, usize),
    Short(&'a ShortStr),
    Surrogates(&'a [u8]),
}

impl<'a> StrRef<'a> {
    /// Valid text.
    #[inline]
    pub fn utf8(s: &'a str) -> StrRef<'a> {
        StrRef(StrRepr::Utf8(s))
    }

    /// The text, unless it holds lone surrogates.
    #[inline]
    pub fn as_str(self) -> Option<&'a str> {
        match self.0 {
            StrRepr::Utf8(s) => Some(s),
            StrRepr::Span(t, a, b) => Some(&t[a..b]),
            StrRepr::Short(s) => Some(s.as_str()),
            StrRepr::Surrogates(_) => None,
        }
    }

    /// The bytes as CPython encodes them (`utf-8`, `surrogatepass`).
    #[inline]
    pub fn as_bytes(self) -> &'a [u8] {
        match self.0 {
            StrRepr::Utf8(s) => s.as_bytes(),
            StrRepr::Span(t, a, b) => &t.as_bytes()[a..b],
            StrRepr::Short(s) => s.as_bytes(),
            StrRepr::Surrogates(b) => b,
        }
    }

    /// True when the text holds lone surrogates (then [`StrRef::as_str`] is `None`).
    #[inline]
    pub fn has_surrogates(self) -> bool {
        matches!(self.0, StrRepr::Surrogates(_))
    }

    /// The text with lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(self) -> std::borrow::Cow<'a, str> {
        match self.0 {
            StrRepr::Utf8(s) => std::borrow::Cow::Borrowed(s),
            StrRepr::Span(t, a, b) => std::borrow::Cow::Borrowed(&t[a..b]),
            StrRepr::Short(s) => std::borrow::Cow::Borrowed(s.as_str()),
            StrRepr::Surrogates(b) => {
                let mut out = String::new();
                for cp in crate::codec::text::code_points(b) {
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                std::borrow::Cow::Owned(out)
            }
        }
    }

    /// An owned copy.
    pub fn to_py_str(self) -> PyStr {
        match self.0 {
            StrRepr::Utf8(s) => PyStr::from(s),
            StrRepr::Span(t, a, b) => PyStr::from(&t[a..b]),
            StrRepr::Short(s) => PyStr::Short(*s),
            StrRepr::Surrogates(b) => PyStr::Surrogates(b.into()),
        }
    }
}

impl PartialEq for StrRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for StrRef<'_> {}

impl std::hash::Hash for StrRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for StrRef<'_> {
    /// As [`PyStr`]'s: `Utf8("text")` or `Surrogates([..])`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            StrRepr::Surrogates(b) => f.debug_tuple("Surrogates").field(&b).finish(),
            _ => f
                .debug_tuple("Utf8")
                .field(&self.as_str().unwrap_or_default())
                .finish(),
        }
    }
}

impl PartialEq<PyStr> for StrRef<'_> {
    fn eq(&self, other: &PyStr) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<StrRef<'_>> for PyStr {
    fn eq(&self, other: &StrRef<'_>) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// How a `str` node holds its text: owned by the node, or a span of the
/// document's text arena (where the loader keeps every str it reads that
/// is longer than [`ShortStr::CAPACITY`] bytes, so that loading many strs
/// costs no allocation each). Read it with [`Document::text`], or through
/// [`ValueRef::as_str`] and [`Kind::Str`].
///
/// The derived `PartialEq` compares spans by position, which means
/// something only within one document: compare documents or
/// [`ValueRef`]s for content.
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    /// Held by the node itself (short strs inline, strs built from a
    /// [`PyStr`], strs of 1 MiB and more that the loader read).
    Own(PyStr),
    /// Valid UTF-8 in the document's text arena.
    Span(TextSpan),
}

/// Where a [`Text::Span`] lies in its document's text arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextSpan {
    start: usize,
    len: u32,
}

impl Text {
    /// The text, when the node owns it (`None` for a span: see [`Document::text`]).
    pub fn as_owned(&self) -> Option<&PyStr> {
        match self {
            Text::Own(p) => Some(p),
            Text::Span(_) => None,
        }
    }
}

impl From<PyStr> for Text {
    fn from(p: PyStr) -> Text {
        Text::Own(p)
    }
}

/// How a `list`, `tuple`, `set` or `frozenset` node holds its items: owned
/// by the node, or a span of the document's item pool (where the loader
/// puts the items of a container filled in one batch, as CPython writes
/// small containers, so that loading many small containers costs no
/// allocation each). Read them with [`Document::items`], change them with
/// [`Document::items_mut`].
///
/// The derived `PartialEq` compares spans by position (see [`Text`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Items {
    /// Held by the node itself.
    Own(Vec<Value>),
    /// In the document's item pool.
    Span(PoolSpan),
}

/// How a `dict` node holds its pairs (in insertion order): owned, or a span
/// of the document's pair pool (see [`Items`]). Read them with
/// [`Document::pairs`], change them with [`Document::pairs_mut`].
#[derive(Clone, Debug, PartialEq)]
pub enum Pairs {
    /// Held by the node itself.
    Own(Vec<(Value, Value)>),
    /// In the document's pair pool.
    Span(PoolSpan),
}

impl Items {
    /// No items, owned (allocates nothing).
    pub const fn new() -> Items {
        Items::Own(Vec::new())
    }

    /// The items, when the node owns them (`None` for a span: see [`Document::items`]).
    pub fn as_owned(&self) -> Option<&[Value]> {
        match self {
            Items::Own(v) => Some(v),
            Items::Span(_) => None,
        }
    }
}

impl Default for Items {
    fn default() -> Items {
        Items::new()
    }
}

impl From<Vec<Value>> for Items {
    fn from(v: Vec<Value>) -> Items {
        Items::Own(v)
    }
}

impl Pairs {
    /// No pairs, owned (allocates nothing).
    pub const fn new() -> Pairs {
        Pairs::Own(Vec::new())
    }

    /// The pairs, when the node owns them (`None` for a span: see [`Document::pairs`]).
    pub fn as_owned(&self) -> Option<&[(Value, Value)]> {
        match self {
            Pairs::Own(v) => Some(v),
            Pairs::Span(_) => None,
        }
    }
}

impl Default for Pairs {
    fn default() -> Pairs {
        Pairs::new()
    }
}

impl From<Vec<(Value, Value)>> for Pairs {
    fn from(v: Vec<(Value, Value)>) -> Pairs {
        Pairs::Own(v)
    }
}

/// Valid UTF-8 of at most [`ShortStr::CAPACITY`] bytes, held inline (see
/// [`PyStr::Short`]).
#[derive(Clone, Copy)]
pub struct ShortStr {
    len: u8,
    bytes: [u8; ShortStr::CAPACITY],
}

impl ShortStr {
    /// The longest text held inline, in bytes (a [`PyStr`] stays 32 bytes
    /// and a [`Node`] 40).
    pub const CAPACITY: usize = 30;

    /// `s` held inline, if it fits.
    #[inline]
    pub fn new(s: &str) -> Option<ShortStr> {
        let b = s.as_bytes();
        if b.len() > Self::CAPACITY {
            return None;
        }
        let mut bytes = [0u8; Self::CAPACITY];
        bytes[..b.len()].copy_from_slice(b);
        Some(ShortStr {
            len: b.len() as u8,
            bytes,
        })
    }

    /// `b` held inline, if it fits and is valid UTF-8. The loader's way
    /// to a short str: ASCII (most keys and names) is told by testing the
    /// 32 bytes copied in four words, where std's UTF-8 check goes byte by
    /// byte below 16 bytes; anything else by the table automaton of
    /// `utf8_check` (a load and a shift a byte, where std's check takes some
    /// ten instructions a byte of non-ASCII text).
    #[inline]
    pub(crate) fn from_utf8(b: &[u8]) -> Option<ShortStr> {
        if b.len() > Self::CAPACITY {
            return None;
        }
        let mut padded = [0u8; 32];
        padded[..b.len()].copy_from_slice(b);
        let mut high = 0;
        for word in padded.chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            high |= u64::from_ne_bytes(w);
        }
        if high & 0x8080_8080_8080_8080 != 0 && !crate::codec::utf8::is_utf8(b) {
            return None;
        }
        let mut bytes = [0u8; Self::CAPACITY];
        bytes.copy_from_slice(&padded[..Self::CAPACITY]);
        Some(ShortStr {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The bytes (valid UTF-8).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The text. Safe Rust re-checks the UTF-8 (at most 30 bytes) to lend
    /// it as a `str`; it was checked when the value was built, so the check
    /// always passes.
    #[inline]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl std::fmt::Debug for ShortStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// A reference to a module-level object (`module.qualname`), kept inert.
///
/// `module` and `name` are str nodes, so that a protocol-4 pickle that shares
/// the module name between two `STACK_GLOBAL`s re-encodes identically.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    /// The module, a str node.
    pub module: Value,
    /// The qualified name, a str node (dotted for nested classes).
    pub name: Value,
}

/// How an [`Object`] was constructed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `REDUCE`: `callable(*args)`.
    Reduce,
    /// `NEWOBJ`: `cls.__new__(cls, *args)`.
    NewObj,
    /// `NEWOBJ_EX`: `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx,
    /// `INST module name`: `cls(*args)` (protocol 0).
    Inst,
    /// `OBJ`: `cls(*args)` with the class on the stack (protocol 1).
    Obj,
}

/// Something done to an object after it was constructed, in stream order.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectOp {
    /// `APPEND`/`APPENDS`: `obj.append(item)` / `obj.extend(items)`.
    Append(Value),
    /// `SETITEM`/`SETITEMS`: `obj[key] = value`.
    SetItem(Value, Value),
    /// `ADDITEMS`: `obj.add(item)`.
    Add(Value),
    /// `BUILD`: `obj.__setstate__(state)` or a `__dict__` update.
    Build(Value),
}

/// An object built by calling something, kept as the recipe, never executed.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// How it is constructed.
    pub kind: ObjectKind,
    /// The callable (REDUCE) or the class (NEWOBJ, NEWOBJ_EX, INST, OBJ); usually a global.
    pub callable: Value,
    /// The positional arguments: a tuple for every kind except a hand-made REDUCE.
    pub args: Value,
    /// The keyword arguments (a dict), for `NEWOBJ_EX` only.
    pub kwargs: Option<Value>,
    /// Items and state given after construction, in stream order.
    pub ops: Vec<ObjectOp>,
}

/// A protocol-5 out-of-band buffer, as `pickle.PickleBuffer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// The bytes.
    pub data: Vec<u8>,
    /// Whether `READONLY_BUFFER` was applied (or the buffer is read-only).
    pub readonly: bool,
}

/// A heap object of a [`Document`].
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// An `int` beyond i64.
    BigInt(BigInt),
    /// A `str` (its text: [`Document::text`]).
    Str(Text),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `bytearray`.
    ByteArray(Vec<u8>),
    /// `list` (its items: [`Document::items`]).
    List(Items),
    /// `tuple` (its items: [`Document::items`]).
    Tuple(Items),
    /// `dict`: pairs in insertion (wire) order ([`Document::pairs`]).
    Dict(Pairs),
    /// `set`: items in wire order ([`Document::items`]).
    Set(Items),
    /// `frozenset`: items in wire order ([`Document::items`]).
    FrozenSet(Items),
    /// A global (class or function), not imported.
    Global(Global),
    /// An object built by REDUCE/NEWOBJ/..., not executed.
    Object(Box<Object>),
    /// A persistent id (`PERSID`/`BINPERSID`) left unresolved: the pid.
    PersistentId(Value),
    /// An extension code (`EXT1`/`EXT2`/`EXT4`) left unresolved.
    Extension(i32),
    /// An out-of-band buffer (`NEXT_BUFFER`).
    Buffer(Buffer),
}

impl Node {
    /// The Python type name of the node, e.g. `"list"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::BigInt(_) => "int",
            Node::Str(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(_) => "dict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(_) => "global",
            Node::Object(_) => "object",
            Node::PersistentId(_) => "persistent_id",
            Node::Extension(_) => "extension",
            Node::Buffer(_) => "PickleBuffer",
        }
    }

    /// Call `f` on every value the node, a node of `doc`, refers to, in order.
    pub fn for_each_child(&self, doc: &Document, mut f: impl FnMut(Value)) {
        match self {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                doc.items(v).iter().copied().for_each(f)
            }
            Node::Dict(pairs) => {
                for &(k, v) in doc.pairs(pairs) {
                    f(k);
                    f(v);
                }
            }
            Node::Global(g) => {
                f(g.module);
                f(g.name);
            }
            Node::Object(o) => {
                f(o.callable);
                f(o.args);
                if let Some(k) = o.kwargs {
                    f(k);
                }
                for op in &o.ops {
                    match *op {
                        ObjectOp::Append(v) | ObjectOp::Add(v) | ObjectOp::Build(v) => f(v),
                        ObjectOp::SetItem(k, v) => {
                            f(k);
                            f(v);
                        }
                    }
                }
            }
            Node::PersistentId(v) => f(*v),
            Node::BigInt(_)
            | Node::Str(_)
            | Node::Bytes(_)
            | Node::ByteArray(_)
            | Node::Extension(_)
            | Node::Buffer(_) => {}
        }
    }
}

/// One unpickled object graph: its nodes and its root value.
#[derive(Clone, Debug, Default)]
pub struct Document {
    nodes: Vec<Node>,
    root: Value,
    /// Interned str nodes for global names (module and qualname), so that
    /// globals built in Rust share them as CPython's classes share `__module__`.
    names: std::collections::HashMap<Box<str>, Value>,
    /// Where each node came from, when the loader was asked to track it
    /// (the serde layer uses it for zero-copy strings and error offsets).
    origins: Vec<NodeOrigin>,
    /// The origin given to nodes allocated now, when tracking.
    tracking: Option<NodeOrigin>,
    /// The text arena: the bytes of every [`Text::Span`] str node.
    text: String,
    /// The item pool: the items of every [`Items::Span`].
    items: pool::Pool<Value>,
    /// The pair pool: the pairs of every [`Pairs::Span`].
    pairs: pool::Pool<(Value, Value)>,
}

/// Where a node was made in the input: the opcode's offset, and for str and
/// bytes payloads read from a slice, the payload's position in that slice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeOrigin {
    pub offset: u64,
    pub payload: Option<(usize, usize)>,
}

/// The most items a container filled in pieces keeps in a pool.
const SMALL_IN_POOL: usize = 64;

impl Document {
    /// An empty document whose root is `None`.
    pub fn new() -> Document {
        Document::default()
    }

    /// A document with room for `n` nodes.
    pub fn with_capacity(n: usize) -> Document {
        Document {
            nodes: Vec::with_capacity(n),
            ..Document::default()
        }
    }

    /// The text of a str node of this document.
    ///
    /// # Panics
    /// If `t` is a span of another document that lies outside this one's arena.
    #[inline]
    pub fn text<'a>(&'a self, t: &'a Text) -> StrRef<'a> {
        match t {
            Text::Own(p) => p.as_str_ref(),
            Text::Span(s) => StrRef(StrRepr::Span(&self.text, s.start, s.start + s.len as usize)),
        }
    }

    /// Bytes held by the text arena.
    pub fn text_arena_len(&self) -> usize {
        self.text.len()
    }

    /// The items of a list, tuple, set or frozenset node of this document.
    ///
    /// # Panics
    /// If `i` is a span of another document that lies outside this one's pool.
    #[inline]
    pub fn items<'a>(&'a self, i: &'a Items) -> &'a [Value] {
        match i {
            Items::Own(v) => v,
            Items::Span(s) => self.items.get(*s),
        }
    }

    /// The pairs of a dict node of this document.
    ///
    /// # Panics
    /// If `p` is a span of another document that lies outside this one's pool.
    #[inline]
    pub fn pairs<'a>(&'a self, p: &'a Pairs) -> &'a [(Value, Value)] {
        match p {
            Pairs::Own(v) => v,
            Pairs::Span(s) => self.pairs.get(*s),
        }
    }

    /// The items of the list, tuple, set or frozenset node `id`, to change
    /// (a span of the pool is moved into the node first); `None` for
    /// another kind of node.
    pub fn items_mut(&mut self, id: NodeId) -> Option<&mut Vec<Value>> {
        let pool = &self.items;
        match self.nodes.get_mut(id.index())? {
            Node::List(i) | Node::Tuple(i) | Node::Set(i) | Node::FrozenSet(i) => {
                if let Items::Span(s) = i {
                    *i = Items::Own(pool.get(*s).to_vec());
                }
                match i {
                    Items::Own(v) => Some(v),
                    Items::Span(_) => None,
                }
            }
            _ => None,
        }
    }

    /// The pairs of the dict node `id`, to change (see [`Document::items_mut`]).
    pub fn pairs_mut(&mut self, id: NodeId) -> Option<&mut Vec<(Value, Value)>> {
        let pool = &self.pairs;
        match self.nodes.get_mut(id.index())? {
            Node::Dict(p) => {
                if let Pairs::Span(s) = p {
                    *p = Pairs::Own(pool.get(*s).to_vec());
                }
                match p {
                    Pairs::Own(v) => Some(v),
                    Pairs::Span(_) => None,
                }
            }
            _ => None,
        }
    }

    /// Append `new` to the items of `i` (a node's), in the pool where they
    /// can be: a container with no items yet takes a span; a small one
    /// whose span ends the pool (protocol 0 appends one item at a time)
    /// grows there; any other moves into its node, to grow as a `Vec`
    /// (a container filled in several batches is a large one).
    pub(crate) fn extend_items(pool: &mut pool::Pool<Value>, i: &mut Items, new: &[Value]) {
        let n = new.len();
        match i {
            Items::Own(v) if v.capacity() == 0 => match pool.push(n, new.iter().copied()) {
                Some(span) => *i = Items::Span(span),
                None => v.extend_from_slice(new),
            },
            Items::Own(v) => v.extend_from_slice(new),
            Items::Span(s) => {
                let small = s.len() + n <= SMALL_IN_POOL;
                if !(small && pool.ends(*s) && pool.extend(s, n, new.iter().copied())) {
                    let mut v = Vec::with_capacity((s.len() + n).max(2 * s.len()));
                    v.extend_from_slice(pool.get(*s));
                    v.extend_from_slice(new);
                    *i = Items::Own(v);
                }
            }
        }
    }

    /// [`Document::extend_items`] for the pairs of a dict, from a stack of
    /// keys and values in turn.
    pub(crate) fn extend_pairs(
        pool: &mut pool::Pool<(Value, Value)>,
        p: &mut Pairs,
        flat: &[Value],
    ) {
        let n = flat.len() / 2;
        let new = || flat.chunks_exact(2).map(|kv| (kv[0], kv[1]));
        match p {
            Pairs::Own(v) if v.capacity() == 0 => match pool.push(n, new()) {
                Some(span) => *p = Pairs::Span(span),
                None => v.extend(new()),
            },
            Pairs::Own(v) => {
                v.reserve(n);
                v.extend(new());
            }
            Pairs::Span(s) => {
                let small = s.len() + n <= SMALL_IN_POOL;
                if !(small && pool.ends(*s) && pool.extend(s, n, new())) {
                    let mut v = Vec::with_capacity((s.len() + n).max(2 * s.len()));
                    v.extend_from_slice(pool.get(*s));
                    v.extend(new());
                    *p = Pairs::Own(v);
                }
            }
        }
    }

    /// `new` as the items of a new container: a span of the item pool
    /// (owned where a span cannot hold them).
    pub(crate) fn pooled_items(&mut self, new: &[Value]) -> Items {
        match self.items.push(new.len(), new.iter().copied()) {
            Some(span) => Items::Span(span),
            None => Items::Own(new.to_vec()),
        }
    }

    /// `flat`, keys and values in turn, as the pairs of a new dict (see
    /// [`Document::pooled_items`]).
    pub(crate) fn pooled_pairs(&mut self, flat: &[Value]) -> Pairs {
        let mut p = Pairs::new();
        Document::extend_pairs(&mut self.pairs, &mut p, flat);
        p
    }

    /// The pools and a node, borrowed apart (the loader appends to a
    /// node's items in the pool).
    pub(crate) fn pools_and_node(
        &mut self,
        id: NodeId,
    ) -> (
        &mut pool::Pool<Value>,
        &mut pool::Pool<(Value, Value)>,
        &mut Node,
    ) {
        (
            &mut self.items,
            &mut self.pairs,
            &mut self.nodes[id.0 as usize],
        )
    }

    /// Items held by the item pool, and pairs by the pair pool.
    pub fn pool_len(&self) -> (usize, usize) {
        (self.items.len(), self.pairs.len())
    }

    /// `s` appended to the text arena, as a span; `None` when it is too
    /// long for one (then the node owns it). `hint`: room to make when the
    /// arena has none yet (a bound on the str bytes still to come).
    #[inline]
    pub(crate) fn push_text(&mut self, s: &str, hint: usize) -> Option<Text> {
        let len = u32::try_from(s.len()).ok()?;
        if self.text.is_empty() && self.text.capacity() < s.len() {
            self.text.reserve(hint.max(s.len()));
        }
        let start = self.text.len();
        self.text.push_str(s);
        Some(Text::Span(TextSpan { start, len }))
    }

    /// Give back the arena's spare room (after a load reserved a bound).
    pub(crate) fn trim_text(&mut self) {
        if self.text.capacity() > self.text.len() + (self.text.len() >> 2) + 4096 {
            self.text.shrink_to_fit();
        }
    }

    /// The root value.
    pub fn root_value(&self) -> Value {
        self.root
    }

    /// A view of the root value.
    pub fn root(&self) -> ValueRef<'_> {
        ValueRef::new(self, self.root)
    }

    /// Set the root value.
    pub fn set_root(&mut self, v: Value) {
        self.root = v;
    }

    /// A view of any value of this document.
    pub fn get(&self, v: Value) -> ValueRef<'_> {
        ValueRef::new(self, v)
    }

    /// All nodes, indexed by [`NodeId::index`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True if there is no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node a handle refers to.
    ///
    /// # Panics
    /// If the id belongs to another document and is out of range.
    #[inline]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The node a handle refers to, mutably.
    #[inline]
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id.0 as usize]
    }

    /// The node behind a value, if it is a handle into this document.
    #[inline]
    pub fn node_of(&self, v: Value) -> Option<&Node> {
        match v {
            Value::Ref(id) => self.nodes.get(id.0 as usize),
            _ => None,
        }
    }

    /// Store a node and return its handle.
    ///
    /// # Panics
    /// After 2^32 - 1 nodes.
    #[inline]
    pub fn alloc(&mut self, node: Node) -> Value {
        let id = u32::try_from(self.nodes.len()).expect("more than 2^32 nodes in one document");
        if let Some(origin) = self.tracking.as_mut() {
            self.origins.push(*origin);
            origin.payload = None;
        }
        self.nodes.push(node);
        Value::Ref(NodeId(id))
    }

    /// [`Document::alloc`] of the node `make` builds, built straight in its
    /// slot of the arena (after room was made), not in a temporary copied
    /// there: the loader's hot path, where that copy stalled on loads the
    /// CPU could not forward from the stores that built the temporary.
    /// `None` after 2^32 - 1 nodes.
    #[inline(always)]
    pub(crate) fn alloc_with(&mut self, make: impl FnOnce() -> Node) -> Option<NodeId> {
        let id = u32::try_from(self.nodes.len()).ok()?;
        if let Some(origin) = self.tracking.as_mut() {
            self.origins.push(*origin);
            origin.payload = None;
        }
        self.nodes.extend(std::iter::once_with(make));
        Some(NodeId(id))
    }

    /// Turn origin tracking on (the loader does this for the serde layer) and
    /// set the origin of the nodes allocated from now on.
    pub(crate) fn set_origin(&mut self, origin: NodeOrigin) {
        self.tracking = Some(origin);
    }

    /// Stop tracking origins.
    pub(crate) fn stop_tracking(&mut self) {
        self.tracking = None;
    }

    /// Where a node came from, if the document was loaded with tracking.
    pub(crate) fn origin(&self, id: NodeId) -> Option<NodeOrigin> {
        self.origins.get(id.0 as usize).copied()
    }

    /// Whether Python could use `v` as a dict key or set item: lists, dicts,
    /// sets and bytearrays cannot, nor tuples and frozensets holding them
    /// (walked iteratively, each node once). Objects are taken to be
    /// hashable. On failure, the Python type name of the culprit.
    #[inline]
    pub fn check_hashable(&self, v: Value) -> std::result::Result<(), &'static str> {
        match self.node_of(v) {
            Some(n) if Self::unhashable(n) => Err(n.type_name()),
            Some(Node::Tuple(_) | Node::FrozenSet(_)) => self.check_hashable_items(v),
            _ => Ok(()),
        }
    }

    /// Lists, dicts, sets and bytearrays cannot be hashed.
    #[inline]
    fn unhashable(n: &Node) -> bool {
        matches!(
            n,
            Node::List(_) | Node::Dict(_) | Node::Set(_) | Node::ByteArray(_)
        )
    }

    /// [`Document::check_hashable`] of a tuple or frozenset: the walk
    /// (kept out of line, so the common scalar and str keys stay cheap).
    #[inline(never)]
    fn check_hashable_items(&self, v: Value) -> std::result::Result<(), &'static str> {
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![v];
        while let Some(v) = todo.pop() {
            let Value::Ref(id) = v else { continue };
            if !seen.insert(id) {
                continue;
            }
            match self.nodes.get(id.0 as usize) {
                Some(n) if Self::unhashable(n) => return Err(n.type_name()),
                Some(Node::Tuple(items) | Node::FrozenSet(items)) => {
                    todo.extend_from_slice(self.items(items))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Give back every node not reachable from the root, renumbering handles.
    /// Returns how many nodes were removed.
    pub fn compact(&mut self) -> usize {
        let n = self.nodes.len();
        let mut map: Vec<u32> = vec![u32::MAX; n];
        let mut order = Vec::new();
        let mut stack = vec![self.root];
        while let Some(v) = stack.pop() {
            if let Value::Ref(id) = v {
                let i = id.0 as usize;
                if i < n && map[i] == u32::MAX {
                    map[i] = 0;
                    order.push(i);
                    self.nodes[i].for_each_child(self, |c| stack.push(c));
                }
            }
        }
        order.sort_unstable();
        for (new, &old) in order.iter().enumerate() {
            map[old] = new as u32;
        }
        let remap = |v: &mut Value| {
            if let Value::Ref(id) = v {
                *id = NodeId(map[id.0 as usize]);
            }
        };
        let mut old_nodes = std::mem::take(&mut self.nodes);
        let mut kept = Vec::with_capacity(order.len());
        for &i in &order {
            let mut node = std::mem::replace(&mut old_nodes[i], Node::Extension(0));
            node.for_each_child_mut(remap);
            kept.push(node);
        }
        self.nodes = kept;
        // Pooled items are remapped where they lie (those of dropped nodes
        // too: nothing reads them).
        let remap_pooled = |v: &mut Value| {
            if let Value::Ref(id) = v {
                *id = NodeId(map.get(id.0 as usize).copied().unwrap_or(u32::MAX));
            }
        };
        self.items.all_mut().for_each(remap_pooled);
        for (k, v) in self.pairs.all_mut() {
            remap_pooled(k);
            remap_pooled(v);
        }
        remap(&mut self.root);
        self.names.clear();
        self.origins.clear();
        n - self.nodes.len()
    }
}

impl Node {
    /// Call `f` on every value the node holds itself, mutably: not those
    /// of [`Items::Span`] or [`Pairs::Span`], which lie in the document's
    /// pools (see [`Document::items_mut`]).
    pub fn for_each_child_mut(&mut self, mut f: impl FnMut(&mut Value)) {
        match self {
            Node::List(Items::Own(v))
            | Node::Tuple(Items::Own(v))
            | Node::Set(Items::Own(v))
            | Node::FrozenSet(Items::Own(v)) => v.iter_mut().for_each(f),
            Node::Dict(Pairs::Own(pairs)) => {
                for (k, v) in pairs {
                    f(k);
                    f(v);
                }
            }
            Node::List(Items::Span(_))
            | Node::Tuple(Items::Span(_))
            | Node::Set(Items::Span(_))
            | Node::FrozenSet(Items::Span(_))
            | Node::Dict(Pairs::Span(_)) => {}
            Node::Global(g) => {
                f(&mut g.module);
                f(&mut g.name);
            }
            Node::Object(o) => {
                f(&mut o.callable);
                f(&mut o.args);
                if let Some(k) = &mut o.kwargs {
                    f(k);
                }
                for op in &mut o.ops {
                    match op {
                        ObjectOp::Append(v) | ObjectOp::Add(v) | ObjectOp::Build(v) => f(v),
                        ObjectOp::SetItem(k, v) => {
                            f(k);
                            f(v);
                        }
                    }
                }
            }
            Node::PersistentId(v) => f(v),
            Node::BigInt(_)
            | Node::Str(_)
            | Node::Bytes(_)
            | Node::ByteArray(_)
            | Node::Extension(_)
            | Node::Buffer(_) => {}
        }
    }
}

impl Document {
    /// Copy the graph reachable from `v` in `other` into this document and
    /// return the copy's handle. Sharing and cycles inside the copied graph
    /// are kept. Iterative, linear in the size
    /// of the copied graph (not of `other`).
    ///
    /// Used to lift a sub-value out of a document (e.g. one numpy array of a
    /// large model for the serde layer) and to splice a nested pickle into an
    /// outer one (joblib object arrays).
    pub fn graft(&mut self, other: &Document, v: Value) -> Value {
        self.graft_mapped(other, v).0
    }

    /// [`Document::graft`], also returning where each copied node of
    /// `other` (by index) went.
    pub(crate) fn graft_mapped(
        &mut self,
        other: &Document,
        v: Value,
    ) -> (Value, std::collections::HashMap<u32, Value>) {
        use std::collections::HashMap;
        let mut map: HashMap<u32, Value> = HashMap::new();
        // First pass: allocate a placeholder for every reachable node.
        let mut order = Vec::new();
        let mut stack = vec![v];
        while let Some(x) = stack.pop() {
            if let Value::Ref(id) = x {
                if map.contains_key(&id.0) || other.nodes.get(id.index()).is_none() {
                    continue;
                }
                let new = self.alloc(Node::Extension(0));
                map.insert(id.0, new);
                order.push(id);
                other.node(id).for_each_child(other, |c| stack.push(c));
            }
        }
        let remap = |x: &mut Value| {
            if let Value::Ref(id) = x {
                if let Some(&n) = map.get(&id.0) {
                    *x = n;
                } else {
                    *x = Value::None;
                }
            }
        };
        for id in order {
            let mut node = match other.node(id) {
                Node::Str(t @ Text::Span(_)) => {
                    let s = other.text(t).as_str().unwrap_or_default();
                    Node::Str(
                        self.push_text(s, 0)
                            .unwrap_or_else(|| Text::Own(PyStr::from(s))),
                    )
                }
                // Another document's pools: the items are copied.
                n @ (Node::List(i) | Node::Tuple(i) | Node::Set(i) | Node::FrozenSet(i)) => {
                    let own = Items::Own(other.items(i).to_vec());
                    match n {
                        Node::List(_) => Node::List(own),
                        Node::Tuple(_) => Node::Tuple(own),
                        Node::Set(_) => Node::Set(own),
                        _ => Node::FrozenSet(own),
                    }
                }
                Node::Dict(p) => Node::Dict(Pairs::Own(other.pairs(p).to_vec())),
                n => n.clone(),
            };
            node.for_each_child_mut(remap);
            if let Some(Value::Ref(new)) = map.get(&id.0) {
                *self.node_mut(*new) = node;
            }
        }
        let mut root = v;
        remap(&mut root);
        (root, map)
    }

    /// A new document holding the graph reachable from `v` (its root).
    pub fn extract(&self, v: Value) -> Document {
        let mut d = Document::new();
        let root = d.graft(self, v);
        d.set_root(root);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::{Node, PyStr, ShortStr};
    use std::hash::{BuildHasher, RandomState};

    /// `ShortStr::from_utf8` accepts exactly the short valid UTF-8 std does.
    #[test]
    fn short_utf8_check_agrees_with_std() {
        let pieces: [&[u8]; 9] = [
            b"a",
            b"key",
            "\u{e9}".as_bytes(),
            "\u{6f22}".as_bytes(),
            "\u{1f642}".as_bytes(),
            b"\xff",
            b"\xed\xa0\x80", // a surrogate: not UTF-8
            b"\xc3",         // truncated
            b"\x7f",
        ];
        let mut seed = 1u32;
        for _ in 0..20_000 {
            let mut b = Vec::new();
            while b.len() < 34 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if (seed >> 28) == 0 {
                    break;
                }
                b.extend_from_slice(pieces[(seed >> 16) as usize % pieces.len()]);
            }
            let std_ok = std::str::from_utf8(&b)
                .ok()
                .filter(|s| s.len() <= ShortStr::CAPACITY);
            let ours = ShortStr::from_utf8(&b);
            assert_eq!(
                ours.map(|s| s.as_str().to_string()),
                std_ok.map(str::to_string),
                "{b:?}"
            );
        }
    }

    #[test]
    fn short_strings_are_inline_and_equal_to_boxed_ones() {
        let h = RandomState::new();
        let fits = "é".repeat(15); // 30 bytes
        let too_long = format!("{fits}x"); // 31 bytes
        for text in [
            "",
            "id",
            "key199999",
            "é1ж漢字🙂2",
            fits.as_str(),
            too_long.as_str(),
        ] {
            let p = PyStr::from(text);
            let inline = text.len() <= ShortStr::CAPACITY;
            assert_eq!(matches!(p, PyStr::Short(_)), inline, "{text}");
            assert_eq!(PyStr::from(text.to_string()), p);
            let boxed = PyStr::Utf8(text.into());
            assert_eq!(p, boxed);
            assert_eq!(h.hash_one(&p), h.hash_one(&boxed));
            assert_eq!(format!("{p:?}"), format!("{boxed:?}"));
            assert_eq!(p.as_str(), Some(text));
            assert_eq!(p.as_bytes(), text.as_bytes());
            assert_eq!(p.to_string_lossy(), text);
        }
        assert_ne!(PyStr::from("a"), PyStr::from("b"));
        assert_eq!(
            PyStr::from_python_utf8(b"ab"),
            Some(PyStr::Short(ShortStr::new("ab").unwrap()))
        );
    }

    #[test]
    fn nodes_stay_40_bytes() {
        // Holding short text inline must not grow every node of a document.
        assert_eq!(std::mem::size_of::<PyStr>(), 32);
        assert_eq!(std::mem::size_of::<Node>(), 40);
    }
}

#[cfg(test)]
mod arena_tests {
    use super::{Document, Node, PyStr, Text};

    /// Long strs a load makes live in the document's text arena; short,
    /// surrogate and builder-made strs are owned; views, equality (across
    /// documents with different arenas), graft and compact see the same text.
    #[test]
    fn long_loaded_strs_are_spans_of_one_arena() {
        let long = "x".repeat(100);
        let mut d = Document::new();
        let items = vec![
            d.str(&long),
            d.str("id"),
            d.py_str(PyStr::from_python_utf8(b"\xed\xa0\x80").unwrap()),
        ];
        let root = d.list(items);
        d.set_root(root);
        let data = crate::dumps(&d, 4).unwrap();
        let loaded = crate::loads(&data).unwrap();
        let kinds: Vec<bool> = loaded
            .nodes()
            .iter()
            .filter_map(|n| match n {
                Node::Str(t) => Some(matches!(t, Text::Span(_))),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, [true, false, false]);
        assert_eq!(loaded.text_arena_len(), 100);
        assert!(loaded == d);
        let first = loaded.root().iter().next().unwrap();
        assert_eq!(first.as_str(), Some(long.as_str()));
        assert_eq!(first.len(), Some(100));
        let crate::Kind::Str(s) = first.kind() else {
            panic!("not a str")
        };
        assert_eq!(s, PyStr::from(long.as_str()));
        assert_eq!(
            format!("{s:?}"),
            format!("{:?}", PyStr::from(long.as_str()))
        );
        // A graft copies the span's text into the other document's arena.
        let mut other = Document::new();
        other.str(&"y".repeat(40));
        let g = other.graft(&loaded, loaded.root_value());
        other.set_root(g);
        assert!(other == d);
        assert_eq!(crate::dumps(&other, 4).unwrap(), data);
        let extracted = loaded.extract(first.value());
        assert_eq!(extracted.root().as_str(), Some(long.as_str()));
    }
}

#[cfg(test)]
mod pool_tests {
    use super::{Document, Items, Node, Pairs, Value};

    fn span_kinds(d: &Document) -> Vec<(&'static str, bool)> {
        d.nodes()
            .iter()
            .filter_map(|n| match n {
                Node::List(i) | Node::Tuple(i) | Node::Set(i) | Node::FrozenSet(i) => {
                    Some((n.type_name(), matches!(i, Items::Span(_))))
                }
                Node::Dict(p) => Some(("dict", matches!(p, Pairs::Span(_)))),
                _ => None,
            })
            .collect()
    }

    /// A records-like document at every protocol: small containers filled
    /// in one batch are spans of the pools, the big outer list (several
    /// batches) owns its items, and the load equals the original; views,
    /// repr, graft, compact and `items_mut` see the same items.
    #[test]
    fn small_loaded_containers_are_pool_spans() {
        let mut d = Document::new();
        let mut records = Vec::new();
        for i in 0..2500 {
            let tags = d.list([Value::Int(1), Value::Int(2)]);
            let pair = d.tuple([Value::Int(i), Value::Bool(true)]);
            let k = d.str("id");
            let t = d.str("tags");
            let p = d.str("pair");
            records.push(d.dict([(k, Value::Int(i)), (t, tags), (p, pair)]));
        }
        let root = d.list(records);
        d.set_root(root);
        for proto in 0..=5 {
            let data = crate::dumps(&d, proto).unwrap();
            let loaded = crate::loads(&data).unwrap();
            assert!(loaded == d, "protocol {proto}");
            let kinds = span_kinds(&loaded);
            let outer = kinds.iter().filter(|k| k.0 == "list" && !k.1).count();
            // The outer list takes several batches (one item at a time at
            // protocol 0): it owns its items.
            assert_eq!(outer, 1, "protocol {proto}");
            let spans = kinds.iter().filter(|k| k.1).count();
            if proto == 0 {
                // Filled one item at a time: a container whose chunk fills
                // up on the way moves into its node.
                assert!(spans >= 3 * 2500 - 16, "protocol 0: {spans}");
            } else {
                assert_eq!(spans, 3 * 2500, "protocol {proto}: {:?}", &kinds[..6]);
            }
            let r = loaded.root().index(2499).unwrap();
            assert_eq!(r.get("id").unwrap().as_i64(), Some(2499));
            assert_eq!(r.get("tags").unwrap().to_string(), "[1, 2]");
            assert_eq!(r.get("pair").unwrap().to_string(), "(2499, True)");
            let extracted = loaded.extract(r.value());
            assert!(span_kinds(&extracted).iter().all(|k| !k.1));
            assert_eq!(extracted.root().to_string(), r.to_string());
            let mut c = loaded.clone();
            c.set_root(r.value());
            assert!(c.compact() > 0);
            assert_eq!(c.root().to_string(), r.to_string());
            // Changing a span's items moves them into the node.
            let Some(Value::Ref(tags)) = c.root().get("tags").map(|v| v.value()) else {
                panic!("tags")
            };
            c.items_mut(tags).unwrap().push(Value::Int(3));
            assert_eq!(c.root().get("tags").unwrap().to_string(), "[1, 2, 3]");
            assert!(matches!(c.node(tags), Node::List(Items::Own(_))));
        }
    }

    /// A container that takes batches with other containers' items in
    /// between, and one past `SMALL_IN_POOL` items, leave the pool with
    /// their items whole.
    #[test]
    fn containers_filled_in_pieces_keep_every_item() {
        // [[0], [1], ...]: the outer list's APPENDS batches come after
        // inner lists that took the pool's end.
        let mut d = Document::new();
        let inner: Vec<Value> = (0..3000).map(|i| d.list([Value::Int(i)])).collect();
        let root = d.list(inner);
        d.set_root(root);
        // A dict of 5000 pairs (several SETITEMS batches, nothing between).
        let mut d2 = Document::new();
        let pairs: Vec<(Value, Value)> =
            (0..5000).map(|i| (Value::Int(i), Value::Int(-i))).collect();
        let root2 = d2.dict(pairs);
        d2.set_root(root2);
        for proto in 0..=5 {
            for doc in [&d, &d2] {
                let loaded = crate::loads(&crate::dumps(doc, proto).unwrap()).unwrap();
                assert!(&loaded == doc, "protocol {proto}");
            }
        }
    }
}
