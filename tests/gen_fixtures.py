#!/usr/bin/env python3
"""Write the differential-test fixtures: pickles made by this CPython.

Usage: gen_fixtures.py OUT_DIR

Writes OUT_DIR/<category>.p<protocol>.pkl for every category at every protocol
CPython can write it at, sidecar buffer files for out-of-band protocol-5
buffers, and OUT_DIR/manifest.json, a list of entries:

    name        file name without .pkl
    file        the pickle file (one pickle, or several concatenated)
    category    what it tests
    protocol    the protocol it was written at
    count       how many pickles the file holds
    exact       true when re-encoding at `protocol` must give the same bytes
                (false for pickletools.optimize'd, fix_imports=False,
                hand-written Python 2 and out-of-band buffer files)
    encoding    how to load Python 2 str data ("ASCII", "latin1", "utf-8", "bytes")
    buffers     sidecar files holding the out-of-band buffers, in order
    persistent  true when the file holds persistent ids
    min_reencode_protocol
                re-encodings below this protocol are not checked (CPython
                itself cannot write the content there without loss)
    note        why it is not exact, when it is not

plus "skipped": what CPython itself refused to write, and why.
Every fixture is loaded back by this CPython before it is listed.
"""

import collections
import datetime
import decimal
import fractions
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_classes as fc  # noqa: E402

PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)


# --- values -----------------------------------------------------------------


def scalars():
    return [None, True, False, 0, 1, -1, 0.5, "", "x", b"", (), [], {}]


def ints():
    out = [0, 1, -1, 0xFF, 0x100, 0xFFFF, 0x10000, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1]
    out += [2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, -(2**64)]
    for k in range(0, 80, 3):
        out += [2**k - 1, -(2**k), 2**k]
    # LONG1 up to 255 bytes, LONG4 beyond
    out += [2**2039 - 1, -(2**2039), 2**2040, -(2**2047), 10**600, -(10**600), 3**5000]
    return out


def floats():
    payload_nan = struct.unpack(">d", b"\x7f\xf8\x00\x00\x00\x00\x00\x01")[0]
    return [
        0.0, -0.0, 1.5, -2.25, 0.1, 1 / 3, 1e16, 1e-7, 123456789.125, 1e308, -1e308,
        5e-324, 2.2250738585072014e-308, float("inf"), float("-inf"), float("nan"),
        payload_nan, 2.0**53, -(2.0**63),
    ]


def strings():
    return [
        "", "a", "hello", "café", "日本語", "\U0001f600 emoji", "tab\tnew\nline\r",
        "back\\slash 'single' \"double\"", "\x00nul", "\x7f\x80\xff", "\u0100\uffff",
        "s" * 255, "m" * 256, "L" * 70000, "\ud800", "\udfff", "a\ud800b\udc00c",
        "\ud83d\ude00", "\\u1234 not an escape", "line\\\nbreak",
    ]


def strings_shared():
    s = "shared string"
    return [s, s, {"k": s}, (s, s)]


def bytes_values():
    return [b"", b"\x00", b"abc", bytes(range(256)), b"x" * 300, b"y" * 70000, b"\xff" * 3]


def bytearrays():
    return [bytearray(), bytearray(b"abc"), bytearray(range(256)), bytearray(b"z" * 70000)]


def tuples():
    return [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((1,), (2, (3, ()))), tuple(range(1500))]


def big_containers():
    return {
        "list": list(range(2500)),
        "strs": [str(i) for i in range(1200)],
        "dict": {i: str(i) for i in range(1500)},
        "set": set(range(1200)),
        "frozenset": frozenset(range(1100)),
        "tuple": tuple(range(1001)),
    }


def dict_order():
    d = {}
    for k in ["zeta", "alpha", "mid", 3, 1, 2.5, None, (1, 2), b"b", True]:
        d[k] = repr(k)
    return d


def nested():
    deep = []
    cur = deep
    for _ in range(300):
        nxt = []
        cur.append(nxt)
        cur = nxt
    cur.append("bottom")
    return {
        "a": [1, {"b": (2, [3, {"c": None}])}],
        "sets": [{1, 2}, frozenset({"x", "y"}), {(1, 2), frozenset()}],
        "deep": deep,
    }


def shared_sublists():
    x = [1, 2]
    d = {"k": "v"}
    t = (x, d)
    s = {1, 2}
    return [x, x, {"k": x, "d": d}, (x,), d, t, t, s, [s, d]]


def recursive_list():
    lst = [1]
    lst.append(lst)
    lst.append([lst, lst])
    return lst


def recursive_dict():
    d = {"name": "self"}
    d["self"] = d
    d["nested"] = {"up": d}
    return d


def recursive_tuple():
    lst = []
    t = (lst, "t")
    lst.append(t)
    lst.append(lst)
    return t


def recursive_instance():
    p = fc.Plain()
    p.x = p
    p.y = [p]
    return p


def mutual_recursion():
    a = []
    b = [a]
    a.append(b)
    d1 = {}
    d2 = {"d1": d1}
    d1["d2"] = d2
    return {"a": a, "b": b, "d1": d1}


def dag_bomb():
    x = []
    for _ in range(30):
        x = [x, x]
    y = {}
    for i in range(25):
        y = {"l": y, "r": y, "i": i}
    return [x, y]


def stdlib_objects():
    return [
        collections.OrderedDict([("b", 1), ("a", 2)]),
        collections.defaultdict(list, {"x": [1]}),
        collections.Counter("abracadabra"),
        collections.deque([1, 2, 3], maxlen=5),
        collections.deque(["no", "maxlen"]),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 678),
        datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc),
        datetime.date(1999, 12, 31),
        datetime.time(23, 59, 58, 999),
        datetime.timedelta(days=-1, seconds=5, microseconds=7),
        decimal.Decimal("3.14159"),
        decimal.Decimal("-0"),
        decimal.Decimal("NaN"),
        fractions.Fraction(3, 7),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        complex(1, -2),
        complex(-0.0, float("inf")),
        range(1, 10, 2),
        slice(1, None, 2),
    ]


def user_classes():
    return [
        fc.Plain(1, "two"),
        fc.WithState({"v": 1}),
        fc.Reduced("a", [1, 2]),
        fc.NewArgsEx(1, 2, key="word"),
        fc.NewArgsEx(3),
        fc.MyList([1, 2, 3], tag="mine"),
        fc.MyDict({"a": 1}, tag="dict"),
        fc.Outer.Inner(5),
        fc.Point3(1, 2.5, ["t"]),
        fc.Color.GREEN,
        [fc.Color.RED, fc.Color.RED],
        fc.Pair(1, fc.Pair("l", "r")),
        fc.Plain,
        fc.Outer.Inner,
        len,
        collections.OrderedDict,
    ]


def slots():
    # protocols 0 and 1 cannot write __slots__ without __getstate__
    return [fc.Slots([1], {"b": 2}), fc.Slots("only a")]


def persistent_ids():
    r1 = fc.Ref(1)
    return [r1, fc.Ref("two"), {"again": r1}, "plain"]


def extensions():
    return [fc.ExtA, fc.ExtB, fc.ExtC(), fc.ExtD(), [fc.ExtE, fc.ExtF()]]


def stream():
    return [1, "two", [3, 3.0], {"four": (4,)}, None]


def fix_imports_values():
    return {
        "set": {1, 2},
        "frozenset": frozenset([3]),
        "bytes": b"xy",
        "bytearray": bytearray(b"ba"),
        "exc": ValueError("boom"),
        "od": collections.OrderedDict(a=1),
        "red": fc.Reduced(1, 2),
    }


CATEGORIES = {
    "scalars": scalars,
    "ints": ints,
    "floats": floats,
    "strings": strings,
    "strings_shared": strings_shared,
    "bytes": bytes_values,
    "bytearray": bytearrays,
    "tuples": tuples,
    "big_containers": big_containers,
    "dict_order": dict_order,
    "nested": nested,
    "shared_sublists": shared_sublists,
    "recursive_list": recursive_list,
    "recursive_dict": recursive_dict,
    "recursive_tuple": recursive_tuple,
    "recursive_instance": recursive_instance,
    "mutual_recursion": mutual_recursion,
    "dag_bomb": dag_bomb,
    "stdlib": stdlib_objects,
    "user_classes": user_classes,
    "slots": slots,
}


# Hand-written pickles as Python 2.7 wrote them (CPython 3 never writes the
# STRING opcodes): (name, protocol, bytes, encoding to load with).
def _binstring(data):
    return b"T" + struct.pack("<i", len(data)) + data


PY2_PICKLES = [
    ("py2_dict", 0, b"(dp0\nS'key'\np1\nS'value'\np2\nsS'num'\np3\nI42\nsS'neg'\np4\nI-7\ns.", "ASCII"),
    ("py2_list", 0, b"(lp0\nI1\naI01\naI00\naL123456789012345678901234567890L\naF1.5\naNa.", "ASCII"),
    ("py2_unicode", 0, b"(lp0\nVcaf\xe9\np1\naV\\u65e5\\u672c\np2\naS'caf\\xc3\\xa9'\np3\na.", "utf-8"),
    ("py2_escapes", 0, b"(S'it\\'s'\np0\nS\"dq\"\np1\nS'\\n\\t\\x00'\np2\ntp3\n.", "ASCII"),
    (
        "py2_instance",
        0,
        b"(ifixture_classes\nPlain\np0\n(dp1\nS'x'\np2\nI1\nsS'y'\np3\nS'why'\np4\nsb.",
        "ASCII",
    ),
    ("py2_proto1", 1, b"]q\x00(K\x01U\x03abcq\x01h\x01" + _binstring(b"B" * 300) + b"e.", "ASCII"),
    (
        "py2_datetime",
        2,
        b"\x80\x02cdatetime\ndatetime\nq\x00U\n\x07\xd0\x01\x01\x0c\x22\x38\x00\x00\x00\x85q\x01Rq\x02.",
        "latin1",
    ),
    ("py2_set", 2, b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.", "ASCII"),
    ("py2_bytes", 2, b"\x80\x02]q\x00(U\x05helloq\x01U\x02\xff\x00q\x02e.", "bytes"),
    (
        "py2_dict_p2",
        2,
        b"\x80\x02}q\x00(U\x03keyq\x01U\x05valueq\x02U\x03numq\x03K*U\x04longq\x04\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01u.",
        "ASCII",
    ),
]


# --- writing ----------------------------------------------------------------


class FixturePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return fc.persistent_id_for(obj, self.proto)


def dumps(value, protocol, **kw):
    f = io.BytesIO()
    p = FixturePickler(f, protocol=protocol, **kw)
    p.proto = protocol
    p.dump(value)
    return f.getvalue()


class FixtureUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        return ("persistent", pid)


def load_all(data, encoding="ASCII", buffers=None):
    f = io.BytesIO(data)
    out = []
    while f.tell() < len(data):
        out.append(FixtureUnpickler(f, encoding=encoding, buffers=buffers).load())
    return out


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.entries = []
        self.skipped = []

    def add(self, category, protocol, data, count=1, exact=True, encoding="ASCII",
            buffers=(), persistent=False, note=None, name=None, min_reencode=0):
        name = name or "%s.p%d" % (category, protocol)
        buf_files = []
        for i, b in enumerate(buffers):
            bname = "%s.buf%d" % (name, i)
            with open(os.path.join(self.out_dir, bname), "wb") as f:
                f.write(bytes(b))
            buf_files.append(bname)
        # The fixture must load in CPython, with the same number of pickles.
        loaded = load_all(data, encoding, iter([bytearray(b) for b in buffers]) if buffers else None)
        assert len(loaded) == count, (name, len(loaded), count)
        with open(os.path.join(self.out_dir, name + ".pkl"), "wb") as f:
            f.write(data)
        entry = {
            "name": name,
            "file": name + ".pkl",
            "category": category,
            "protocol": protocol,
            "count": count,
            "exact": exact,
            "encoding": encoding,
            "buffers": buf_files,
            "persistent": persistent,
            "min_reencode_protocol": min_reencode,
        }
        if note:
            entry["note"] = note
        self.entries.append(entry)

    def skip(self, category, protocol, why):
        self.skipped.append({"category": category, "protocol": protocol, "why": why})

    def try_dump(self, category, value, protocol, **kw):
        try:
            return dumps(value, protocol, **kw)
        except Exception as e:  # CPython cannot write it at this protocol
            self.skip(category, protocol, "%s: %s" % (type(e).__name__, e))
            return None


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    w = Writer(out_dir)

    for category, make in CATEGORIES.items():
        for p in PROTOCOLS:
            data = w.try_dump(category, make(), p)
            if data is not None:
                w.add(category, p, data)

    for p in PROTOCOLS:
        data = w.try_dump("persistent", persistent_ids(), p)
        if data is not None:
            # CPython writes a tuple pid at protocol 0 as its str(): lossy.
            w.add("persistent", p, data, persistent=True, min_reencode=min(p, 1),
                  note=None if p == 0 else "tuple pids cannot be written at protocol 0")

    fc.register_extensions()
    try:
        for p in PROTOCOLS:
            data = w.try_dump("extensions", extensions(), p)
            if data is not None:
                w.add("extensions", p, data)
    finally:
        fc.unregister_extensions()

    for p in PROTOCOLS:
        items = stream()
        data = b"".join(dumps(v, p) for v in items)
        w.add("stream", p, data, count=len(items))
        # a stream mixing every protocol up to p
        mixed = b"".join(dumps(["mixed", q], q) for q in range(p + 1))
        w.add("stream_mixed", p, mixed, count=p + 1, exact=(p == 0),
              note=None if p == 0 else "pickles of protocols 0..p: all re-encoded at p")

    # Protocol 5 buffers.
    inband = [pickle.PickleBuffer(bytearray(b"writable")), pickle.PickleBuffer(b"read-only"),
              pickle.PickleBuffer(bytearray(70000))]
    w.add("buffers_inband", 5, dumps(inband, 5))
    oob_values = [pickle.PickleBuffer(bytearray(b"out-of-band writable")),
                  pickle.PickleBuffer(b"out-of-band read-only"), "between",
                  pickle.PickleBuffer(bytearray(b"")), {"k": pickle.PickleBuffer(b"x" * 5000)}]
    bufs = []
    data = dumps(oob_values, 5, buffer_callback=bufs.append)
    w.add("buffers_oob", 5, data, exact=False, buffers=[b.raw() for b in bufs],
          note="out-of-band buffers are written in band on re-encoding")

    # Python 3 names at protocols 0-2 (CPython maps them to Python 2 names by default).
    for p in range(0, 3):
        data = w.try_dump("fix_imports_false", fix_imports_values(), p, fix_imports=False)
        if data is not None:
            w.add("fix_imports_false", p, data, exact=False,
                  note="written with fix_imports=False: re-encoding maps names to Python 2")
        data = w.try_dump("fix_imports_true", fix_imports_values(), p)
        if data is not None:
            w.add("fix_imports_true", p, data)

    # pickletools.optimize drops the PUTs nothing GETs.
    for p in PROTOCOLS:
        data = pickletools.optimize(dumps(shared_sublists(), p))
        w.add("optimized", p, data, exact=False,
              note="pickletools.optimize'd: CPython's own output has more PUTs")
        data = pickletools.optimize(dumps(recursive_dict(), p))
        w.add("optimized_recursive", p, data, exact=False,
              note="pickletools.optimize'd: CPython's own output has more PUTs")

    for name, p, data, encoding in PY2_PICKLES:
        w.add("python2", p, data, exact=False, encoding=encoding, name="%s.p%d" % (name, p),
              note="written by hand as Python 2.7 did: STRING opcodes are re-encoded as str")

    manifest = {
        "python": sys.version.split()[0],
        "fixtures": w.entries,
        "skipped": w.skipped,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    manifest = generate(argv[1])
    print("wrote %d fixtures (%d skipped) to %s"
          % (len(manifest["fixtures"]), len(manifest["skipped"]), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
