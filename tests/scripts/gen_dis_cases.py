#!/usr/bin/env python3
"""Pickles and pickletools' listings of them, for tests/dis_pickletools.rs.

    python3 tests/scripts/gen_dis_cases.py OUT [EXTRA_DIR ...]

Writes OUT/NAME.pkl for many objects at protocols 0-5 plus hand-made and
broken pickles, then, for every *.pkl in OUT and in each EXTRA_DIR, writes
next to OUT/... three files named after it (OUT/<dir-tag>__NAME):
  .dis    what `python3 -m pickletools FILE` prints on stdout
  .disa   the same with -a
  .ok     "1" when pickletools succeeded, "0" when it raised
pickletools.dis is called in-process exactly as its __main__ does for one file.
"""
import collections
import datetime
import decimal
import fractions
import io
import os
import pickle
import pickletools
import sys
import uuid


def objects():
    rec_list = [1]
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict["me"] = rec_dict
    shared = [1, 2]
    big_list = list(range(2500))
    return {
        "none": None,
        "bools": [True, False],
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**63, -2**63 - 1, 2**64, 10**40, -10**40, 2**2000],
        "floats": [0.0, -0.0, 1.5, 1e16, 1e-5, 0.0001, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 123456789.0],
        "strs": ["", "a", "it's", 'say "hi"', "both ' and \"", "back\\slash", "nl\n\r\t", "\x00\x7f\x80\x9f\xa0\xad", "é€🙂", "\ud800", "\udfff\ud83d", "\u2028\u200b\ue000\U000e0001\U0010ffff", "x" * 300],
        "bytes": [b"", b"abc", b"'", b"'\"", b"\x00\xff\x7f\t\n\r\\", b"y" * 300],
        "bytearray": [bytearray(b""), bytearray(b"ab'\x00")],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((),)],
        "dicts": [{}, {"a": 1}, {1: "x", (1, 2): None}, {str(i): i for i in range(1500)}],
        "sets": [set(), {1, 2, 3}, frozenset(), frozenset({1}), set(range(1200))],
        "nested": [[[[[[1]]]]], {"k": [(1, {"z": frozenset({2})})]}],
        "rec_list": rec_list,
        "rec_dict": rec_dict,
        "shared": [shared, shared, (shared,)],
        "big_list": big_list,
        "stdlib": [collections.OrderedDict(a=1, b=2), collections.deque([1, 2]), collections.Counter("aab"),
                   collections.defaultdict(list, {1: [2]}), datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
                   datetime.date(2001, 2, 3), datetime.timedelta(days=1, seconds=2),
                   decimal.Decimal("1.25"), fractions.Fraction(3, 4), complex(1, 2),
                   uuid.UUID(int=12345678901234567890), range(1, 10, 2), slice(1, 2, 3)],
        "globals": [len, dict, collections.OrderedDict, pickle.Pickler],
        "long_str": "z" * 70000,
        "long_bytes": b"w" * 70000,
    }


RAW = {
    # Protocol-0 oddities pickletools must print as it reads them.
    "raw_int_bools": b"(I01\nI00\nI-5\nI+7\nI 12 \nI1_000\nL123L\nL-99999999999999999999999L\nt.",
    "raw_string": b"(S'a\\n\\x41\\101\\''\nS\"q'\"\nS''\nS'\\q'\nt.",
    "raw_unicode": b"(V\\u20ac\\U0001f642x\\\\u0041\nV\xe9\nVa\\ud800\nt.",
    "raw_float": b"(F1.5\nF1e16\nF-0.0\nFnan\nFinf\nF1_0.5\nF 2.5 \nt.",
    "raw_global": b"cos\nsystem\n(S'ls'\ntR.",
    "raw_persid": b"Pabc\nPx\\x41\n(lp0\nPid\nag0\n0.",
    "raw_binstring": b"\x80\x01(U\x03a\xe9\xa0T\x02\x00\x00\x00\xad\x85t.",
    "raw_memo_get": b"\x80\x02]q\x05h\x05a.",
    "raw_pop_mark": b"(I1\n1N.",
    "raw_pop_mark2": b"(0N.",
    "raw_dup": b"I1\n2t.",
    "raw_ext": b"\x80\x02\x82\x01\x83\x01\x01\x84\x01\x00\x00\x00\x87.",
    "raw_pers_bin": b"\x80\x02K\x01Q.",
    "raw_inst_obj": b"(I1\nimod\nname\n(cmod\nC\nI2\no\x86.",
    "raw_frame_bad": b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.",
    "raw_newobj_ex": b"\x80\x04\x8c\x01m\x8c\x01C\x93)}\x92.",
    "raw_buffers": b"\x80\x05\x97\x98\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x86.",
    "raw_memoize_many": b"\x80\x04N\x94N\x94N\x94h\x01\x87.",
    "raw_indent_deep": b"((((I1\nttttN0.",
    # Broken pickles: pickletools prints up to the fault, then raises.
    "bad_empty": b"",
    "bad_no_stop": b"\x80\x02K\x01",
    "bad_unknown_op": b"\x80\x02K\x01\xff.",
    "bad_truncated_arg": b"\x80\x02J\x01\x00",
    "bad_no_mark": b"\x80\x02]K\x01e.",
    "bad_memo_redefined": b"\x80\x02Nq\x00q\x00.",
    "bad_memo_never": b"\x80\x02h\x03.",
    "bad_memoize_empty": b"\x80\x04\x94.",
    "bad_put_mark": b"(p0\n.",
    "bad_stack_left": b"\x80\x02K\x01K\x02.",
    "bad_underflow": b"\x80\x02a.",
    "bad_stop_empty": b".",
    "bad_string_quotes": b"S'abc\n.",
    "bad_string_noquote": b"Sabc\n.",
    "bad_string_nonascii": b"S'\xe9'\n.",
    "bad_unicode_utf8": b"\x80\x03X\x01\x00\x00\x00\xff.",
    "bad_int_literal": b"I0x10\n.",
    "bad_float_literal": b"Fabc\n.",
    "bad_long4_neg": b"\x80\x02\x8b\xff\xff\xff\xff.",
    "bad_no_newline": b"I12",
    "bad_mark_lost": b"\x80\x02](K\x01a]K\x01K\x02e.",
    "bad_huge_int": b"I" + b"9" * 4301 + b"\n.",
}

STREAMS = {
    "stream_mixed": [pickle.dumps([1, 2], 2), pickle.dumps("x", 0), pickle.dumps({"a": (1,)}, 4), pickle.dumps(None, 5)],
}


def write_cases(out):
    for name, obj in objects().items():
        for proto in range(6):
            data = pickle.dumps(obj, proto)
            with open(os.path.join(out, "%s.p%d.pkl" % (name, proto)), "wb") as f:
                f.write(data)
            if proto in (0, 2, 4):
                with open(os.path.join(out, "%s.p%d.opt.pkl" % (name, proto)), "wb") as f:
                    f.write(pickletools.optimize(data))
    for name, data in RAW.items():
        with open(os.path.join(out, name + ".pkl"), "wb") as f:
            f.write(data)
    for name, parts in STREAMS.items():
        with open(os.path.join(out, name + ".pkl"), "wb") as f:
            f.write(b"".join(parts))


def listing(path, annotate):
    buf = io.StringIO()
    ok = True
    with open(path, "rb") as f:
        try:
            pickletools.dis(f, buf, None, 4, 30 if annotate else 0)
        except Exception:
            ok = False
    return buf.getvalue(), ok


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_cases(out)
    sys.setrecursionlimit(10000)
    dirs = [("own", out)] + [("x%d" % i, d) for i, d in enumerate(sys.argv[2:])]
    for tag, d in dirs:
        for name in sorted(os.listdir(d)):
            if not name.endswith(".pkl"):
                continue
            path = os.path.join(d, name)
            base = os.path.join(out, "%s__%s" % (tag, name))
            plain, ok = listing(path, False)
            anno, _ = listing(path, True)
            with open(base + ".src", "w") as f:
                f.write(path)
            with open(base + ".dis", "w", encoding="utf-8", newline="\n") as f:
                f.write(plain)
            with open(base + ".disa", "w", encoding="utf-8", newline="\n") as f:
                f.write(anno)
            with open(base + ".ok", "w") as f:
                f.write("1" if ok else "0")


if __name__ == "__main__":
    main()
