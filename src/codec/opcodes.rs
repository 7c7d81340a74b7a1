//! The one table of pickle opcodes (protocols 0–5).
//!
//! Everything that reads, writes or disassembles pickles takes opcode facts
//! from here: the byte, the name `pickletools` prints, the protocol that
//! introduced it, the kind of inline argument that follows it, the first
//! line of its `pickletools` doc and its stack effect as `pickletools`
//! models it ([`Opcode::doc`], [`Opcode::stack_effect`]).
//!
//! The rows of the table (the `opcodes!` invocation between the
//! `@generated` lines) are written by `tests/scripts/gen_opcode_docs.py`
//! from CPython's `pickletools`; the Rust names and variant docs live in that
//! script.

/// The kind of inline argument an opcode carries, named as in `pickletools`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No inline argument.
    None,
    /// One unsigned byte.
    U1,
    /// Two-byte little-endian unsigned integer.
    U2,
    /// Four-byte little-endian signed integer.
    I4,
    /// Four-byte little-endian unsigned integer.
    U4,
    /// Eight-byte little-endian unsigned integer.
    U8,
    /// `long1`: one length byte, then a little-endian two's-complement integer.
    Long1,
    /// `long4`: a four-byte signed length, then a two's-complement integer.
    Long4,
    /// `stringnl`: a quoted Python 2 string literal ended by a newline.
    StringNl,
    /// `stringnl_noescape`: raw text ended by a newline.
    StringNlNoEscape,
    /// `stringnl_noescape_pair`: two newline-ended raw texts (module, name).
    StringNlNoEscapePair,
    /// `string1`: one length byte, then bytes.
    String1,
    /// `string4`: a four-byte signed length, then bytes.
    String4,
    /// `bytes1`: one length byte, then bytes.
    Bytes1,
    /// `bytes4`: a four-byte unsigned length, then bytes.
    Bytes4,
    /// `bytes8`: an eight-byte unsigned length, then bytes.
    Bytes8,
    /// `bytearray8`: an eight-byte unsigned length, then bytes.
    ByteArray8,
    /// `unicodestringnl`: raw-unicode-escaped text ended by a newline.
    UnicodeStringNl,
    /// `unicodestring1`: one length byte, then UTF-8.
    UnicodeString1,
    /// `unicodestring4`: a four-byte unsigned length, then UTF-8.
    UnicodeString4,
    /// `unicodestring8`: an eight-byte unsigned length, then UTF-8.
    UnicodeString8,
    /// `decimalnl_short`: a decimal integer ended by a newline (`00`/`01` are bools).
    DecimalNlShort,
    /// `decimalnl_long`: a decimal integer with an optional `L`, ended by a newline.
    DecimalNlLong,
    /// `floatnl`: a float in `repr` form ended by a newline.
    FloatNl,
    /// `float8`: an eight-byte big-endian IEEE 754 double.
    Float8,
}

impl ArgKind {
    /// The name `pickletools` gives this argument kind.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::None => "none",
            ArgKind::U1 => "uint1",
            ArgKind::U2 => "uint2",
            ArgKind::I4 => "int4",
            ArgKind::U4 => "uint4",
            ArgKind::U8 => "uint8",
            ArgKind::Long1 => "long1",
            ArgKind::Long4 => "long4",
            ArgKind::StringNl => "stringnl",
            ArgKind::StringNlNoEscape => "stringnl_noescape",
            ArgKind::StringNlNoEscapePair => "stringnl_noescape_pair",
            ArgKind::String1 => "string1",
            ArgKind::String4 => "string4",
            ArgKind::Bytes1 => "bytes1",
            ArgKind::Bytes4 => "bytes4",
            ArgKind::Bytes8 => "bytes8",
            ArgKind::ByteArray8 => "bytearray8",
            ArgKind::UnicodeStringNl => "unicodestringnl",
            ArgKind::UnicodeString1 => "unicodestring1",
            ArgKind::UnicodeString4 => "unicodestring4",
            ArgKind::UnicodeString8 => "unicodestring8",
            ArgKind::DecimalNlShort => "decimalnl_short",
            ArgKind::DecimalNlLong => "decimalnl_long",
            ArgKind::FloatNl => "floatnl",
            ArgKind::Float8 => "float8",
        }
    }
}

/// How an opcode changes the unpickler's stack, as `pickletools` models it
/// (its `stack_before` and `stack_after` lists): what the disassembler
/// (`dis`) checks pickles against.
///
/// An opcode that works on a mark pops the mark and the slice of items above
/// it as two entries of `pops`: `APPENDS` (`list, mark, items` → `list`) is
/// `pops: 3, mark_at: Some(1), pushes: 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StackEffect {
    /// How many entries the opcode pops (`len(stack_before)`); a mark and
    /// the slice of items above it count one each.
    pub pops: u8,
    /// Where the mark is among the popped entries, counted from the deepest
    /// (`stack_before.index(markobject)`), for an opcode that pops down to
    /// the topmost mark; `None` for the others.
    pub mark_at: Option<u8>,
    /// How many items the opcode pushes (`len(stack_after)`).
    pub pushes: u8,
    /// Whether what it pushes is a mark (only `MARK`).
    pub pushes_mark: bool,
}

/// Writes [`Opcode`] and its accessors from the table's rows, one per opcode:
///
/// ```text
/// /// The variant's doc.
/// Variant = byte, "NAME", protocol, ArgKind,
///     StackEffect { pops: .., mark_at: .., pushes: .., pushes_mark: .. },
///     "pickletools' first doc line";
/// ```
macro_rules! opcodes {
    ($(
        $(#[$attr:meta])*
        $variant:ident = $byte:literal, $name:literal, $proto:literal, $arg:ident,
            $stack:expr, $doc:literal;
    )*) => {
        /// A pickle opcode. The discriminant is the opcode's byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$attr])* $variant = $byte, )*
        }

        /// Every opcode, in `pickletools.opcodes` order.
        pub const ALL: &[Opcode] = &[ $( Opcode::$variant, )* ];

        /// Each opcode's byte as a constant, named like its [`Opcode`]
        /// variant, for `match`es on raw bytes in the decoders' hot loops
        /// (`byte::BinInt1` where a pattern cannot say `Opcode::BinInt1 as u8`).
        #[allow(non_upper_case_globals, dead_code)]
        pub(crate) mod byte {
            $( pub(crate) const $variant: u8 = $byte; )*
        }

        static BY_BYTE: [Option<Opcode>; 256] = {
            let mut t = [None; 256];
            $( t[$byte as usize] = Some(Opcode::$variant); )*
            t
        };

        static ARG_BY_BYTE: [ArgKind; 256] = {
            let mut t = [ArgKind::None; 256];
            $( t[$byte as usize] = ArgKind::$arg; )*
            t
        };

        impl Opcode {
            /// The opcode for a byte, if the byte is one.
            #[inline]
            pub fn from_byte(b: u8) -> Option<Opcode> {
                BY_BYTE[b as usize]
            }

            /// The opcode's byte.
            #[inline]
            pub const fn byte(self) -> u8 {
                self as u8
            }

            /// The name `pickletools` prints, e.g. `SHORT_BINUNICODE`.
            pub const fn name(self) -> &'static str {
                match self { $( Opcode::$variant => $name, )* }
            }

            /// The protocol that introduced the opcode.
            pub const fn protocol(self) -> u8 {
                match self { $( Opcode::$variant => $proto, )* }
            }

            /// The kind of inline argument that follows the opcode byte.
            #[inline]
            pub fn arg(self) -> ArgKind {
                ARG_BY_BYTE[self as usize]
            }

            /// The first line of the opcode's doc in `pickletools` (what
            /// `pickletools -a` prints beside it), e.g. `"Push an integer or
            /// bool."` for `INT`.
            pub const fn doc(self) -> &'static str {
                match self { $( Opcode::$variant => $doc, )* }
            }

            /// How the opcode changes the stack, as `pickletools` models it.
            #[inline]
            pub const fn stack_effect(self) -> StackEffect {
                match self { $( Opcode::$variant => $stack, )* }
            }
        }
    };
}

// @generated begin by tests/scripts/gen_opcode_docs.py from CPython 3.11.7's pickletools.
// Edit the script, not the rows: it rewrites everything up to `@generated end`.
opcodes! {
    /// Push an int (or bool, spelled `00`/`01`) written in decimal.
    Int = b'I', "INT", 0, DecimalNlShort,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an integer or bool.";
    /// Push a four-byte signed int.
    BinInt = b'J', "BININT", 1, I4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a four-byte signed integer.";
    /// Push a one-byte unsigned int.
    BinInt1 = b'K', "BININT1", 1, U1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a one-byte unsigned integer.";
    /// Push a two-byte unsigned int.
    BinInt2 = b'M', "BININT2", 1, U2,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a two-byte unsigned integer.";
    /// Push a long written in decimal.
    Long = b'L', "LONG", 0, DecimalNlLong,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a long integer.";
    /// Push a long of at most 255 bytes.
    Long1 = 0x8a, "LONG1", 2, Long1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Long integer using one-byte length.";
    /// Push a long of any size.
    Long4 = 0x8b, "LONG4", 2, Long4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Long integer using found-byte length.";
    /// Push a Python 2 string written as a quoted literal.
    String = b'S', "STRING", 0, StringNl,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python string object.";
    /// Push a Python 2 string with a four-byte length.
    BinString = b'T', "BINSTRING", 1, String4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python string object.";
    /// Push a Python 2 string with a one-byte length.
    ShortBinString = b'U', "SHORT_BINSTRING", 1, String1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python string object.";
    /// Push bytes with a four-byte length.
    BinBytes = b'B', "BINBYTES", 3, Bytes4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python bytes object.";
    /// Push bytes with a one-byte length.
    ShortBinBytes = b'C', "SHORT_BINBYTES", 3, Bytes1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python bytes object.";
    /// Push bytes with an eight-byte length.
    BinBytes8 = 0x8e, "BINBYTES8", 4, Bytes8,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python bytes object.";
    /// Push a bytearray with an eight-byte length.
    ByteArray8 = 0x96, "BYTEARRAY8", 5, ByteArray8,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python bytearray object.";
    /// Push the next out-of-band buffer.
    NextBuffer = 0x97, "NEXT_BUFFER", 5, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an out-of-band buffer object.";
    /// Make the buffer on top of the stack read-only.
    ReadonlyBuffer = 0x98, "READONLY_BUFFER", 5, None,
        StackEffect { pops: 1, mark_at: None, pushes: 1, pushes_mark: false },
        "Make an out-of-band buffer object read-only.";
    /// Push None.
    None = b'N', "NONE", 0, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push None on the stack.";
    /// Push True.
    NewTrue = 0x88, "NEWTRUE", 2, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push True onto the stack.";
    /// Push False.
    NewFalse = 0x89, "NEWFALSE", 2, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push False onto the stack.";
    /// Push a str written with raw-unicode-escape.
    Unicode = b'V', "UNICODE", 0, UnicodeStringNl,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python Unicode string object.";
    /// Push a str with a one-byte length.
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE", 4, UnicodeString1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python Unicode string object.";
    /// Push a str with a four-byte length.
    BinUnicode = b'X', "BINUNICODE", 1, UnicodeString4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python Unicode string object.";
    /// Push a str with an eight-byte length.
    BinUnicode8 = 0x8d, "BINUNICODE8", 4, UnicodeString8,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a Python Unicode string object.";
    /// Push a float written in decimal.
    Float = b'F', "FLOAT", 0, FloatNl,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Newline-terminated decimal float literal.";
    /// Push an eight-byte big-endian float.
    BinFloat = b'G', "BINFLOAT", 1, Float8,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Float stored in binary form, with 8 bytes of data.";
    /// Push an empty list.
    EmptyList = b']', "EMPTY_LIST", 1, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an empty list.";
    /// Append the top of the stack to the list below it.
    Append = b'a', "APPEND", 0, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Append an object to a list.";
    /// Extend the list below the mark with the items above it.
    Appends = b'e', "APPENDS", 1, None,
        StackEffect { pops: 3, mark_at: Some(1), pushes: 1, pushes_mark: false },
        "Extend a list by a slice of stack objects.";
    /// Build a list from the items above the mark.
    List = b'l', "LIST", 0, None,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a list out of the topmost stack slice, after markobject.";
    /// Push an empty tuple.
    EmptyTuple = b')', "EMPTY_TUPLE", 1, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an empty tuple.";
    /// Build a tuple from the items above the mark.
    Tuple = b't', "TUPLE", 0, None,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a tuple out of the topmost stack slice, after markobject.";
    /// Build a 1-tuple from the top of the stack.
    Tuple1 = 0x85, "TUPLE1", 2, None,
        StackEffect { pops: 1, mark_at: None, pushes: 1, pushes_mark: false },
        "Build a one-tuple out of the topmost item on the stack.";
    /// Build a 2-tuple from the top two items.
    Tuple2 = 0x86, "TUPLE2", 2, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Build a two-tuple out of the top two items on the stack.";
    /// Build a 3-tuple from the top three items.
    Tuple3 = 0x87, "TUPLE3", 2, None,
        StackEffect { pops: 3, mark_at: None, pushes: 1, pushes_mark: false },
        "Build a three-tuple out of the top three items on the stack.";
    /// Push an empty dict.
    EmptyDict = b'}', "EMPTY_DICT", 1, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an empty dict.";
    /// Build a dict from the key/value pairs above the mark.
    Dict = b'd', "DICT", 0, None,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a dict out of the topmost stack slice, after markobject.";
    /// Set one key/value pair in the dict below them.
    SetItem = b's', "SETITEM", 0, None,
        StackEffect { pops: 3, mark_at: None, pushes: 1, pushes_mark: false },
        "Add a key+value pair to an existing dict.";
    /// Set the key/value pairs above the mark in the dict below it.
    SetItems = b'u', "SETITEMS", 1, None,
        StackEffect { pops: 3, mark_at: Some(1), pushes: 1, pushes_mark: false },
        "Add an arbitrary number of key+value pairs to an existing dict.";
    /// Push an empty set.
    EmptySet = 0x8f, "EMPTY_SET", 4, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an empty set.";
    /// Add the items above the mark to the set below it.
    AddItems = 0x90, "ADDITEMS", 4, None,
        StackEffect { pops: 3, mark_at: Some(1), pushes: 1, pushes_mark: false },
        "Add an arbitrary number of items to an existing set.";
    /// Build a frozenset from the items above the mark.
    FrozenSet = 0x91, "FROZENSET", 4, None,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a frozenset out of the topmost slice, after markobject.";
    /// Discard the top of the stack.
    Pop = b'0', "POP", 0, None,
        StackEffect { pops: 1, mark_at: None, pushes: 0, pushes_mark: false },
        "Discard the top stack item, shrinking the stack by one item.";
    /// Push the top of the stack again.
    Dup = b'2', "DUP", 0, None,
        StackEffect { pops: 1, mark_at: None, pushes: 2, pushes_mark: false },
        "Push the top stack item onto the stack again, duplicating it.";
    /// Push a mark.
    Mark = b'(', "MARK", 0, None,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: true },
        "Push markobject onto the stack.";
    /// Discard everything down to and including the topmost mark.
    PopMark = b'1', "POP_MARK", 1, None,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 0, pushes_mark: false },
        "Pop all the stack objects at and above the topmost markobject.";
    /// Push a memo entry named in decimal.
    Get = b'g', "GET", 0, DecimalNlShort,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Read an object from the memo and push it on the stack.";
    /// Push a memo entry with a one-byte index.
    BinGet = b'h', "BINGET", 1, U1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Read an object from the memo and push it on the stack.";
    /// Push a memo entry with a four-byte index.
    LongBinGet = b'j', "LONG_BINGET", 1, U4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Read an object from the memo and push it on the stack.";
    /// Store the top of the stack in the memo at a decimal index.
    Put = b'p', "PUT", 0, DecimalNlShort,
        StackEffect { pops: 0, mark_at: None, pushes: 0, pushes_mark: false },
        "Store the stack top into the memo.  The stack is not popped.";
    /// Store the top of the stack in the memo at a one-byte index.
    BinPut = b'q', "BINPUT", 1, U1,
        StackEffect { pops: 0, mark_at: None, pushes: 0, pushes_mark: false },
        "Store the stack top into the memo.  The stack is not popped.";
    /// Store the top of the stack in the memo at a four-byte index.
    LongBinPut = b'r', "LONG_BINPUT", 1, U4,
        StackEffect { pops: 0, mark_at: None, pushes: 0, pushes_mark: false },
        "Store the stack top into the memo.  The stack is not popped.";
    /// Store the top of the stack at the next memo index.
    Memoize = 0x94, "MEMOIZE", 4, None,
        StackEffect { pops: 1, mark_at: None, pushes: 1, pushes_mark: false },
        "Store the stack top into the memo.  The stack is not popped.";
    /// Push an object from the extension registry (one-byte code).
    Ext1 = 0x82, "EXT1", 2, U1,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Extension code.";
    /// Push an object from the extension registry (two-byte code).
    Ext2 = 0x83, "EXT2", 2, U2,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Extension code.";
    /// Push an object from the extension registry (four-byte code).
    Ext4 = 0x84, "EXT4", 2, I4,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Extension code.";
    /// Push a global named by two newline-ended texts.
    Global = b'c', "GLOBAL", 0, StringNlNoEscapePair,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a global object (module.attr) on the stack.";
    /// Push a global named by the two strs on top of the stack.
    StackGlobal = 0x93, "STACK_GLOBAL", 4, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Push a global object (module.attr) on the stack.";
    /// Call a callable with an argument tuple.
    Reduce = b'R', "REDUCE", 0, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an object built from a callable and an argument tuple.";
    /// Give an object its state (`__setstate__` or `__dict__` update).
    Build = b'b', "BUILD", 0, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Finish building an object, via __setstate__ or dict update.";
    /// Build an instance of a named class from the items above the mark.
    Inst = b'i', "INST", 0, StringNlNoEscapePair,
        StackEffect { pops: 2, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a class instance.";
    /// Build an instance of the class above the mark from the items after it.
    Obj = b'o', "OBJ", 1, None,
        StackEffect { pops: 3, mark_at: Some(0), pushes: 1, pushes_mark: false },
        "Build a class instance.";
    /// `cls.__new__(cls, *args)`.
    NewObj = 0x81, "NEWOBJ", 2, None,
        StackEffect { pops: 2, mark_at: None, pushes: 1, pushes_mark: false },
        "Build an object instance.";
    /// `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx = 0x92, "NEWOBJ_EX", 4, None,
        StackEffect { pops: 3, mark_at: None, pushes: 1, pushes_mark: false },
        "Build an object instance.";
    /// Declare the protocol.
    Proto = 0x80, "PROTO", 2, U1,
        StackEffect { pops: 0, mark_at: None, pushes: 0, pushes_mark: false },
        "Protocol version indicator.";
    /// End of the pickle.
    Stop = b'.', "STOP", 0, None,
        StackEffect { pops: 1, mark_at: None, pushes: 0, pushes_mark: false },
        "Stop the unpickling machine.";
    /// Announce a frame of the given length.
    Frame = 0x95, "FRAME", 4, U8,
        StackEffect { pops: 0, mark_at: None, pushes: 0, pushes_mark: false },
        "Indicate the beginning of a new frame.";
    /// Push a persistent id written as text.
    PersId = b'P', "PERSID", 0, StringNlNoEscape,
        StackEffect { pops: 0, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an object identified by a persistent ID.";
    /// Push a persistent id taken from the stack.
    BinPersId = b'Q', "BINPERSID", 1, None,
        StackEffect { pops: 1, mark_at: None, pushes: 1, pushes_mark: false },
        "Push an object identified by a persistent ID.";
}
// @generated end

/// The highest protocol this crate reads and writes.
pub const HIGHEST_PROTOCOL: u8 = 5;

/// The protocol `pickle.dumps` uses by default in CPython 3.8 to 3.13.
pub const DEFAULT_PROTOCOL: u8 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_consistent() {
        assert_eq!(ALL.len(), 68);
        let mut seen = [false; 256];
        for &op in ALL {
            assert!(
                !seen[op.byte() as usize],
                "duplicate byte for {}",
                op.name()
            );
            seen[op.byte() as usize] = true;
            assert_eq!(Opcode::from_byte(op.byte()), Some(op));
            assert!(op.protocol() <= HIGHEST_PROTOCOL);
        }
        assert_eq!(Opcode::from_byte(0xff), None);
        assert_eq!(Opcode::ShortBinUnicode.name(), "SHORT_BINUNICODE");
        assert_eq!(Opcode::Frame.arg(), ArgKind::U8);
    }

    #[test]
    fn docs_are_pickletools_first_lines() {
        for &op in ALL {
            let doc = op.doc();
            assert!(!doc.is_empty() && !doc.contains('\n'), "{}", op.name());
        }
        assert_eq!(Opcode::Int.doc(), "Push an integer or bool.");
        assert_eq!(Opcode::Mark.doc(), "Push markobject onto the stack.");
        const DOC: &str = Opcode::Stop.doc();
        assert_eq!(DOC, "Stop the unpickling machine.");
    }

    #[test]
    fn stack_effects_are_consistent() {
        let pops_to_mark = [
            Opcode::Appends,
            Opcode::List,
            Opcode::Tuple,
            Opcode::Dict,
            Opcode::SetItems,
            Opcode::AddItems,
            Opcode::FrozenSet,
            Opcode::PopMark,
            Opcode::Inst,
            Opcode::Obj,
        ];
        for &op in ALL {
            let fx = op.stack_effect();
            // The mark and the slice of items above it are two popped entries.
            if let Some(at) = fx.mark_at {
                assert!(at + 2 <= fx.pops, "{}", op.name());
            }
            assert_eq!(
                fx.mark_at.is_some(),
                pops_to_mark.contains(&op),
                "{}",
                op.name()
            );
            assert_eq!(fx.pushes_mark, op == Opcode::Mark, "{}", op.name());
            assert!(fx.pushes <= 2, "{}", op.name());
        }
        let appends = StackEffect {
            pops: 3,
            mark_at: Some(1),
            pushes: 1,
            pushes_mark: false,
        };
        assert_eq!(Opcode::Appends.stack_effect(), appends);
        assert_eq!(Opcode::Mark.stack_effect().pushes, 1);
        assert_eq!(Opcode::Dup.stack_effect().pushes, 2);
        assert_eq!(Opcode::Stop.stack_effect().pops, 1);
        const OBJ: StackEffect = Opcode::Obj.stack_effect();
        assert_eq!((OBJ.pops, OBJ.mark_at), (3, Some(0)));
    }
}
