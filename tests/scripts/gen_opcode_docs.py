#!/usr/bin/env python3
"""Write the opcode table of src/codec/opcodes.rs from CPython's pickletools.

The crate keeps one table of opcodes: the `opcodes! { ... }` invocation in
src/codec/opcodes.rs, between the lines `// @generated begin` and
`// @generated end`. This script writes that part (and only it) from
`pickletools.opcodes`, one row per opcode in pickletools' order:

    /// The Rust doc of the variant (RUST below).
    Variant = byte, "NAME", protocol, ArgKind,
        StackEffect { pops: .., mark_at: .., pushes: .., pushes_mark: .. },
        "The first line of pickletools' doc of the opcode.";

The byte, name, protocol and argument kind are pickletools' `code`, `name`,
`proto` and `arg`; the doc line is what `pickletools -a` prints; the stack
effect is pickletools' model of it: `len(stack_before)`, the index of
`markobject` in `stack_before`, `len(stack_after)` and whether
`stack_after` holds `markobject`. The Rust variant names and their doc
comments are the crate's own, kept in RUST below.

    python3 tests/scripts/gen_opcode_docs.py            # rewrite src/codec/opcodes.rs
    python3 tests/scripts/gen_opcode_docs.py --check    # exit 1 if it would change
    python3 tests/scripts/gen_opcode_docs.py PATH       # another copy of opcodes.rs

Run with CPython 3.11 (the committed table is 3.11.7's); the output is
committed.
"""
import os
import pickletools
import sys

BEGIN = "// @generated begin"
END = "// @generated end"

# pickletools' name -> (the Rust variant, its doc comment), in pickletools' order.
RUST = {
    "INT": ("Int", "Push an int (or bool, spelled `00`/`01`) written in decimal."),
    "BININT": ("BinInt", "Push a four-byte signed int."),
    "BININT1": ("BinInt1", "Push a one-byte unsigned int."),
    "BININT2": ("BinInt2", "Push a two-byte unsigned int."),
    "LONG": ("Long", "Push a long written in decimal."),
    "LONG1": ("Long1", "Push a long of at most 255 bytes."),
    "LONG4": ("Long4", "Push a long of any size."),
    "STRING": ("String", "Push a Python 2 string written as a quoted literal."),
    "BINSTRING": ("BinString", "Push a Python 2 string with a four-byte length."),
    "SHORT_BINSTRING": ("ShortBinString", "Push a Python 2 string with a one-byte length."),
    "BINBYTES": ("BinBytes", "Push bytes with a four-byte length."),
    "SHORT_BINBYTES": ("ShortBinBytes", "Push bytes with a one-byte length."),
    "BINBYTES8": ("BinBytes8", "Push bytes with an eight-byte length."),
    "BYTEARRAY8": ("ByteArray8", "Push a bytearray with an eight-byte length."),
    "NEXT_BUFFER": ("NextBuffer", "Push the next out-of-band buffer."),
    "READONLY_BUFFER": ("ReadonlyBuffer", "Make the buffer on top of the stack read-only."),
    "NONE": ("None", "Push None."),
    "NEWTRUE": ("NewTrue", "Push True."),
    "NEWFALSE": ("NewFalse", "Push False."),
    "UNICODE": ("Unicode", "Push a str written with raw-unicode-escape."),
    "SHORT_BINUNICODE": ("ShortBinUnicode", "Push a str with a one-byte length."),
    "BINUNICODE": ("BinUnicode", "Push a str with a four-byte length."),
    "BINUNICODE8": ("BinUnicode8", "Push a str with an eight-byte length."),
    "FLOAT": ("Float", "Push a float written in decimal."),
    "BINFLOAT": ("BinFloat", "Push an eight-byte big-endian float."),
    "EMPTY_LIST": ("EmptyList", "Push an empty list."),
    "APPEND": ("Append", "Append the top of the stack to the list below it."),
    "APPENDS": ("Appends", "Extend the list below the mark with the items above it."),
    "LIST": ("List", "Build a list from the items above the mark."),
    "EMPTY_TUPLE": ("EmptyTuple", "Push an empty tuple."),
    "TUPLE": ("Tuple", "Build a tuple from the items above the mark."),
    "TUPLE1": ("Tuple1", "Build a 1-tuple from the top of the stack."),
    "TUPLE2": ("Tuple2", "Build a 2-tuple from the top two items."),
    "TUPLE3": ("Tuple3", "Build a 3-tuple from the top three items."),
    "EMPTY_DICT": ("EmptyDict", "Push an empty dict."),
    "DICT": ("Dict", "Build a dict from the key/value pairs above the mark."),
    "SETITEM": ("SetItem", "Set one key/value pair in the dict below them."),
    "SETITEMS": ("SetItems", "Set the key/value pairs above the mark in the dict below it."),
    "EMPTY_SET": ("EmptySet", "Push an empty set."),
    "ADDITEMS": ("AddItems", "Add the items above the mark to the set below it."),
    "FROZENSET": ("FrozenSet", "Build a frozenset from the items above the mark."),
    "POP": ("Pop", "Discard the top of the stack."),
    "DUP": ("Dup", "Push the top of the stack again."),
    "MARK": ("Mark", "Push a mark."),
    "POP_MARK": ("PopMark", "Discard everything down to and including the topmost mark."),
    "GET": ("Get", "Push a memo entry named in decimal."),
    "BINGET": ("BinGet", "Push a memo entry with a one-byte index."),
    "LONG_BINGET": ("LongBinGet", "Push a memo entry with a four-byte index."),
    "PUT": ("Put", "Store the top of the stack in the memo at a decimal index."),
    "BINPUT": ("BinPut", "Store the top of the stack in the memo at a one-byte index."),
    "LONG_BINPUT": ("LongBinPut", "Store the top of the stack in the memo at a four-byte index."),
    "MEMOIZE": ("Memoize", "Store the top of the stack at the next memo index."),
    "EXT1": ("Ext1", "Push an object from the extension registry (one-byte code)."),
    "EXT2": ("Ext2", "Push an object from the extension registry (two-byte code)."),
    "EXT4": ("Ext4", "Push an object from the extension registry (four-byte code)."),
    "GLOBAL": ("Global", "Push a global named by two newline-ended texts."),
    "STACK_GLOBAL": ("StackGlobal", "Push a global named by the two strs on top of the stack."),
    "REDUCE": ("Reduce", "Call a callable with an argument tuple."),
    "BUILD": ("Build", "Give an object its state (`__setstate__` or `__dict__` update)."),
    "INST": ("Inst", "Build an instance of a named class from the items above the mark."),
    "OBJ": ("Obj", "Build an instance of the class above the mark from the items after it."),
    "NEWOBJ": ("NewObj", "`cls.__new__(cls, *args)`."),
    "NEWOBJ_EX": ("NewObjEx", "`cls.__new__(cls, *args, **kwargs)`."),
    "PROTO": ("Proto", "Declare the protocol."),
    "STOP": ("Stop", "End of the pickle."),
    "FRAME": ("Frame", "Announce a frame of the given length."),
    "PERSID": ("PersId", "Push a persistent id written as text."),
    "BINPERSID": ("BinPersId", "Push a persistent id taken from the stack."),
}

# pickletools' argument descriptor names -> `ArgKind` variants.
ARG_KINDS = {
    "none": "None",
    "uint1": "U1",
    "uint2": "U2",
    "int4": "I4",
    "uint4": "U4",
    "uint8": "U8",
    "long1": "Long1",
    "long4": "Long4",
    "stringnl": "StringNl",
    "stringnl_noescape": "StringNlNoEscape",
    "stringnl_noescape_pair": "StringNlNoEscapePair",
    "string1": "String1",
    "string4": "String4",
    "bytes1": "Bytes1",
    "bytes4": "Bytes4",
    "bytes8": "Bytes8",
    "bytearray8": "ByteArray8",
    "unicodestringnl": "UnicodeStringNl",
    "unicodestring1": "UnicodeString1",
    "unicodestring4": "UnicodeString4",
    "unicodestring8": "UnicodeString8",
    "decimalnl_short": "DecimalNlShort",
    "decimalnl_long": "DecimalNlLong",
    "floatnl": "FloatNl",
    "float8": "Float8",
}

mark = pickletools.markobject


def rust_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


def rust_byte(code):
    if 0x20 < code < 0x7F and chr(code) not in "'\\":
        return "b'%c'" % code
    return "0x%02x" % code


def table():
    names = [op.name for op in pickletools.opcodes]
    if names != list(RUST):
        sys.exit("pickletools' opcodes are not RUST's: %s" % sorted(set(names) ^ set(RUST)))
    lines = [
        BEGIN + " by tests/scripts/gen_opcode_docs.py from CPython %s's pickletools."
        % sys.version.split()[0],
        "// Edit the script, not the rows: it rewrites everything up to `@generated end`.",
        "opcodes! {",
    ]
    for op in pickletools.opcodes:
        variant, doc = RUST[op.name]
        before, after = op.stack_before, op.stack_after
        assert before.count(mark) <= 1 and after.count(mark) <= 1
        assert mark not in after or after == [mark], op.name
        mark_at = "Some(%d)" % before.index(mark) if mark in before else "None"
        arg = ARG_KINDS[op.arg.name if op.arg is not None else "none"]
        effect = "StackEffect { pops: %d, mark_at: %s, pushes: %d, pushes_mark: %s }" % (
            len(before),
            mark_at,
            len(after),
            "true" if mark in after else "false",
        )
        lines.append("    /// %s" % doc)
        lines.append(
            "    %s = %s, %s, %d, %s,"
            % (variant, rust_byte(op.code.encode("latin-1")[0]), rust_str(op.name), op.proto, arg)
        )
        lines.append("        %s," % effect)
        lines.append("        %s;" % rust_str(op.doc.split("\n", 1)[0]))
    lines.append("}")
    lines.append(END)
    return lines


def splice(text, rows):
    lines = text.split("\n")
    begin = [i for i, l in enumerate(lines) if l.startswith(BEGIN)]
    end = [i for i, l in enumerate(lines) if l == END]
    if len(begin) != 1 or len(end) != 1 or begin[0] > end[0]:
        sys.exit("expected one %r line and, after it, one %r line" % (BEGIN, END))
    return "\n".join(lines[: begin[0]] + rows + lines[end[0] + 1 :])


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = args[0] if args else os.path.join(root, "src", "codec", "opcodes.rs")
    with open(path, encoding="utf-8", newline="") as f:
        old = f.read()
    new = splice(old, table())
    if check:
        if new != old:
            sys.exit("%s: the opcode table is not what %s writes" % (path, sys.argv[0]))
        return
    if new != old:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(new)


if __name__ == "__main__":
    main()
