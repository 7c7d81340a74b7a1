//! The one table of pickle opcodes (protocols 0–5).
//!
//! Everything that reads, writes or disassembles pickles takes opcode facts
//! from here: the byte, the name `pickletools` prints, the protocol that
//! introduced it and the kind of inline argument that follows it.

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

macro_rules! opcodes {
    ($( $(#[$doc:meta])* $variant:ident = $byte:literal, $name:literal, $proto:literal, $arg:ident; )*) => {
        /// A pickle opcode. The discriminant is the opcode's byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$doc])* $variant = $byte, )*
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
            pub fn byte(self) -> u8 {
                self as u8
            }

            /// The name `pickletools` prints, e.g. `SHORT_BINUNICODE`.
            pub fn name(self) -> &'static str {
                match self { $( Opcode::$variant => $name, )* }
            }

            /// The protocol that introduced the opcode.
            pub fn protocol(self) -> u8 {
                match self { $( Opcode::$variant => $proto, )* }
            }

            /// The kind of inline argument that follows the opcode byte.
            #[inline]
            pub fn arg(self) -> ArgKind {
                ARG_BY_BYTE[self as usize]
            }
        }
    };
}

opcodes! {
    /// Push an int (or bool, spelled `00`/`01`) written in decimal.
    Int = b'I', "INT", 0, DecimalNlShort;
    /// Push a four-byte signed int.
    BinInt = b'J', "BININT", 1, I4;
    /// Push a one-byte unsigned int.
    BinInt1 = b'K', "BININT1", 1, U1;
    /// Push a two-byte unsigned int.
    BinInt2 = b'M', "BININT2", 1, U2;
    /// Push a long written in decimal.
    Long = b'L', "LONG", 0, DecimalNlLong;
    /// Push a long of at most 255 bytes.
    Long1 = 0x8a, "LONG1", 2, Long1;
    /// Push a long of any size.
    Long4 = 0x8b, "LONG4", 2, Long4;
    /// Push a Python 2 string written as a quoted literal.
    String = b'S', "STRING", 0, StringNl;
    /// Push a Python 2 string with a four-byte length.
    BinString = b'T', "BINSTRING", 1, String4;
    /// Push a Python 2 string with a one-byte length.
    ShortBinString = b'U', "SHORT_BINSTRING", 1, String1;
    /// Push bytes with a four-byte length.
    BinBytes = b'B', "BINBYTES", 3, Bytes4;
    /// Push bytes with a one-byte length.
    ShortBinBytes = b'C', "SHORT_BINBYTES", 3, Bytes1;
    /// Push bytes with an eight-byte length.
    BinBytes8 = 0x8e, "BINBYTES8", 4, Bytes8;
    /// Push a bytearray with an eight-byte length.
    ByteArray8 = 0x96, "BYTEARRAY8", 5, ByteArray8;
    /// Push the next out-of-band buffer.
    NextBuffer = 0x97, "NEXT_BUFFER", 5, None;
    /// Make the buffer on top of the stack read-only.
    ReadonlyBuffer = 0x98, "READONLY_BUFFER", 5, None;
    /// Push None.
    None = b'N', "NONE", 0, None;
    /// Push True.
    NewTrue = 0x88, "NEWTRUE", 2, None;
    /// Push False.
    NewFalse = 0x89, "NEWFALSE", 2, None;
    /// Push a str written with raw-unicode-escape.
    Unicode = b'V', "UNICODE", 0, UnicodeStringNl;
    /// Push a str with a one-byte length.
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE", 4, UnicodeString1;
    /// Push a str with a four-byte length.
    BinUnicode = b'X', "BINUNICODE", 1, UnicodeString4;
    /// Push a str with an eight-byte length.
    BinUnicode8 = 0x8d, "BINUNICODE8", 4, UnicodeString8;
    /// Push a float written in decimal.
    Float = b'F', "FLOAT", 0, FloatNl;
    /// Push an eight-byte big-endian float.
    BinFloat = b'G', "BINFLOAT", 1, Float8;
    /// Push an empty list.
    EmptyList = b']', "EMPTY_LIST", 1, None;
    /// Append the top of the stack to the list below it.
    Append = b'a', "APPEND", 0, None;
    /// Extend the list below the mark with the items above it.
    Appends = b'e', "APPENDS", 1, None;
    /// Build a list from the items above the mark.
    List = b'l', "LIST", 0, None;
    /// Push an empty tuple.
    EmptyTuple = b')', "EMPTY_TUPLE", 1, None;
    /// Build a tuple from the items above the mark.
    Tuple = b't', "TUPLE", 0, None;
    /// Build a 1-tuple from the top of the stack.
    Tuple1 = 0x85, "TUPLE1", 2, None;
    /// Build a 2-tuple from the top two items.
    Tuple2 = 0x86, "TUPLE2", 2, None;
    /// Build a 3-tuple from the top three items.
    Tuple3 = 0x87, "TUPLE3", 2, None;
    /// Push an empty dict.
    EmptyDict = b'}', "EMPTY_DICT", 1, None;
    /// Build a dict from the key/value pairs above the mark.
    Dict = b'd', "DICT", 0, None;
    /// Set one key/value pair in the dict below them.
    SetItem = b's', "SETITEM", 0, None;
    /// Set the key/value pairs above the mark in the dict below it.
    SetItems = b'u', "SETITEMS", 1, None;
    /// Push an empty set.
    EmptySet = 0x8f, "EMPTY_SET", 4, None;
    /// Add the items above the mark to the set below it.
    AddItems = 0x90, "ADDITEMS", 4, None;
    /// Build a frozenset from the items above the mark.
    FrozenSet = 0x91, "FROZENSET", 4, None;
    /// Discard the top of the stack.
    Pop = b'0', "POP", 0, None;
    /// Push the top of the stack again.
    Dup = b'2', "DUP", 0, None;
    /// Push a mark.
    Mark = b'(', "MARK", 0, None;
    /// Discard everything down to and including the topmost mark.
    PopMark = b'1', "POP_MARK", 1, None;
    /// Push a memo entry named in decimal.
    Get = b'g', "GET", 0, DecimalNlShort;
    /// Push a memo entry with a one-byte index.
    BinGet = b'h', "BINGET", 1, U1;
    /// Push a memo entry with a four-byte index.
    LongBinGet = b'j', "LONG_BINGET", 1, U4;
    /// Store the top of the stack in the memo at a decimal index.
    Put = b'p', "PUT", 0, DecimalNlShort;
    /// Store the top of the stack in the memo at a one-byte index.
    BinPut = b'q', "BINPUT", 1, U1;
    /// Store the top of the stack in the memo at a four-byte index.
    LongBinPut = b'r', "LONG_BINPUT", 1, U4;
    /// Store the top of the stack at the next memo index.
    Memoize = 0x94, "MEMOIZE", 4, None;
    /// Push an object from the extension registry (one-byte code).
    Ext1 = 0x82, "EXT1", 2, U1;
    /// Push an object from the extension registry (two-byte code).
    Ext2 = 0x83, "EXT2", 2, U2;
    /// Push an object from the extension registry (four-byte code).
    Ext4 = 0x84, "EXT4", 2, I4;
    /// Push a global named by two newline-ended texts.
    Global = b'c', "GLOBAL", 0, StringNlNoEscapePair;
    /// Push a global named by the two strs on top of the stack.
    StackGlobal = 0x93, "STACK_GLOBAL", 4, None;
    /// Call a callable with an argument tuple.
    Reduce = b'R', "REDUCE", 0, None;
    /// Give an object its state (`__setstate__` or `__dict__` update).
    Build = b'b', "BUILD", 0, None;
    /// Build an instance of a named class from the items above the mark.
    Inst = b'i', "INST", 0, StringNlNoEscapePair;
    /// Build an instance of the class above the mark from the items after it.
    Obj = b'o', "OBJ", 1, None;
    /// `cls.__new__(cls, *args)`.
    NewObj = 0x81, "NEWOBJ", 2, None;
    /// `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx = 0x92, "NEWOBJ_EX", 4, None;
    /// Declare the protocol.
    Proto = 0x80, "PROTO", 2, U1;
    /// End of the pickle.
    Stop = b'.', "STOP", 0, None;
    /// Announce a frame of the given length.
    Frame = 0x95, "FRAME", 4, U8;
    /// Push a persistent id written as text.
    PersId = b'P', "PERSID", 0, StringNlNoEscape;
    /// Push a persistent id taken from the stack.
    BinPersId = b'Q', "BINPERSID", 1, None;
}

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
}
