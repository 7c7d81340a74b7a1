#!/usr/bin/env python3
"""Differential check: CPython loads original and re-encoded pickles and compares them.

Usage: compare.py JOBS_JSON

JOBS_JSON (written by tests/differential.rs):

    {"dir": FIXTURE_DIR,
     "jobs": [{"name": ..., "file": ..., "count": N, "encoding": ...,
               "buffers": [sidecar files], "persistent": bool,
               "reencoded": [{"protocol": P, "path": ABSOLUTE_PATH}, ...]}]}

Prints one JSON report on stdout:

    {"originals": N, "compared": M, "failures": [{"name", "protocol", "error"}]}

The comparison is structural and iterative (no recursion limit): same exact
types, same values (floats by bits, NaN equal to NaN, -0.0 distinct from 0.0),
dict order, and the same sharing: two places that hold the same container
(list, dict, set, bytearray, non-empty tuple/frozenset, instance) in the
original must hold one same container in the copy and vice versa, which also
makes cycles compare. Immutable atoms (str, bytes, int, float) are compared by
value only: CPython caches some of them, so their identity says nothing.
"""

import collections
import datetime
import decimal
import enum
import fractions
import io
import json
import math
import os
import pickle
import struct
import sys
import traceback
import types
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_classes as fc  # noqa: E402

fc.register_extensions()


class PersistentRef:
    """What a persistent id loads as here: the pid, kept for comparison."""

    def __init__(self, pid):
        self.pid = pid


class Loader(pickle.Unpickler):
    def persistent_load(self, pid):
        return PersistentRef(pid)


def load_all(path, encoding="ASCII", buffers=None):
    with open(path, "rb") as f:
        data = f.read()
    stream = io.BytesIO(data)
    out = []
    while stream.tell() < len(data):
        out.append(Loader(stream, encoding=encoding, buffers=buffers).load())
    return out


# --- comparison -------------------------------------------------------------

ATOMS_BY_REPR = (
    datetime.datetime, datetime.date, datetime.time, datetime.timedelta, datetime.timezone,
    decimal.Decimal, fractions.Fraction, uuid.UUID, range, slice,
)


def norm_type(x):
    # A read-only out-of-band buffer loads as a read-only memoryview; in band
    # it is written as bytes.
    if isinstance(x, memoryview):
        return bytes
    if isinstance(x, pickle.PickleBuffer):
        return bytes
    return type(x)


def as_bytes(x):
    if isinstance(x, pickle.PickleBuffer):
        return bytes(x.raw())
    return bytes(x)


def float_same(a, b):
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def tracked(x):
    """Objects whose identity a round trip must keep."""
    if isinstance(x, (list, dict, set, bytearray)):
        return True
    if isinstance(x, (tuple, frozenset)):
        return len(x) > 0
    if isinstance(x, (str, bytes, int, float, complex, type(None), memoryview)):
        return False
    if isinstance(x, (type, types.BuiltinFunctionType, types.FunctionType, enum.Enum)):
        return False
    if isinstance(x, ATOMS_BY_REPR):
        return False
    return hasattr(x, "__dict__") or hasattr(type(x), "__slots__")


def slot_names(cls):
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        names.extend(s for s in slots if s not in ("__dict__", "__weakref__"))
    return names


_MISSING = object()


class Mismatch(Exception):
    pass


def compare(a, b):
    """None if `a` and `b` are alike, else a description of the first difference."""
    seen_a = {}  # id(x) -> (x, y): keeps both alive so ids stay unique
    seen_b = {}
    stack = [(a, b, "$")]
    while stack:
        x, y, path = stack.pop()
        try:
            step(x, y, path, stack, seen_a, seen_b)
        except Mismatch as e:
            return "%s: %s" % (path, e)
    return None


def step(x, y, path, stack, seen_a, seen_b):
    tx, ty = norm_type(x), norm_type(y)
    if tx is not ty:
        raise Mismatch("type %s != %s" % (type(x).__name__, type(y).__name__))
    if tracked(x):
        if id(x) in seen_a:
            if seen_a[id(x)][1] is not y:
                raise Mismatch("sharing differs: the original's object is shared, the copy's is not")
            return
        if id(y) in seen_b:
            raise Mismatch("sharing differs: the copy's object is shared, the original's is not")
        seen_a[id(x)] = (x, y)
        seen_b[id(y)] = (y, x)

    def push(u, v, where):
        stack.append((u, v, path + where))

    if x is None or isinstance(x, (bool, int)) and not isinstance(x, enum.Enum):
        if x != y:
            raise Mismatch("%r != %r" % (x, y))
        if hasattr(x, "__dict__"):
            push(vars(x), vars(y), ".__dict__")
        return
    if isinstance(x, float):
        if not float_same(x, y):
            raise Mismatch("%r != %r" % (x, y))
        return
    if isinstance(x, complex):
        if not (float_same(x.real, y.real) and float_same(x.imag, y.imag)):
            raise Mismatch("%r != %r" % (x, y))
        return
    if tx is bytes:
        if as_bytes(x) != as_bytes(y):
            raise Mismatch("bytes differ: %r != %r" % (as_bytes(x)[:40], as_bytes(y)[:40]))
        return
    if isinstance(x, (str, bytearray)):
        if x != y:
            raise Mismatch("%r != %r" % (x[:40], y[:40]))
        if hasattr(x, "__dict__"):
            push(vars(x), vars(y), ".__dict__")
        return
    if isinstance(x, enum.Enum):
        if x is not y:
            raise Mismatch("%r is not %r" % (x, y))
        return
    if isinstance(x, (type, types.BuiltinFunctionType, types.FunctionType)):
        if x is not y:
            raise Mismatch("%r is not %r" % (x, y))
        return
    if isinstance(x, PersistentRef):
        push(x.pid, y.pid, ".pid")
        return
    if isinstance(x, ATOMS_BY_REPR):
        if repr(x) != repr(y):
            raise Mismatch("%r != %r" % (x, y))
        return
    if isinstance(x, (list, tuple, collections.deque)):
        if len(x) != len(y):
            raise Mismatch("length %d != %d" % (len(x), len(y)))
        if isinstance(x, collections.deque) and x.maxlen != y.maxlen:
            raise Mismatch("maxlen %r != %r" % (x.maxlen, y.maxlen))
        for i in range(len(x) - 1, -1, -1):
            push(x[i], y[i], "[%d]" % i)
        if hasattr(x, "__dict__"):
            push(vars(x), vars(y), ".__dict__")
        return
    if isinstance(x, dict):
        if len(x) != len(y):
            raise Mismatch("length %d != %d" % (len(x), len(y)))
        xi, yi = list(x.items()), list(y.items())
        for i in range(len(xi) - 1, -1, -1):
            push(xi[i][1], yi[i][1], "[value %d]" % i)
            push(xi[i][0], yi[i][0], "[key %d]" % i)
        if isinstance(x, collections.defaultdict):
            push(x.default_factory, y.default_factory, ".default_factory")
        if hasattr(x, "__dict__"):
            push(vars(x), vars(y), ".__dict__")
        return
    if isinstance(x, (set, frozenset)):
        if len(x) != len(y):
            raise Mismatch("length %d != %d" % (len(x), len(y)))
        xs, ys = sorted(x, key=repr), sorted(y, key=repr)
        for i in range(len(xs) - 1, -1, -1):
            push(xs[i], ys[i], "{%d}" % i)
        return
    # Any other instance: its __dict__ and its slots.
    compared = False
    if hasattr(x, "__dict__"):
        push(vars(x), vars(y), ".__dict__")
        compared = True
    for name in slot_names(type(x)):
        push(getattr(x, name, _MISSING), getattr(y, name, _MISSING), "." + name)
        compared = True
    if not compared and x != y and repr(x) != repr(y):
        raise Mismatch("%r != %r" % (x, y))


# --- driver -----------------------------------------------------------------


def run(jobs_path):
    with open(jobs_path) as f:
        spec = json.load(f)
    base = spec["dir"]
    report = {"originals": 0, "compared": 0, "failures": []}

    def fail(job, protocol, error):
        report["failures"].append({"name": job["name"], "protocol": protocol, "error": error})

    for job in spec["jobs"]:
        try:
            buffers = None
            if job["buffers"]:
                buffers = iter([bytearray(open(os.path.join(base, b), "rb").read())
                                for b in job["buffers"]])
            original = load_all(os.path.join(base, job["file"]), job["encoding"], buffers)
        except Exception:
            fail(job, None, "CPython cannot load the original: " + traceback.format_exc(limit=2))
            continue
        report["originals"] += 1
        if len(original) != job["count"]:
            fail(job, None, "original holds %d pickles, manifest says %d" % (len(original), job["count"]))
        for re in job["reencoded"]:
            report["compared"] += 1
            try:
                copy = load_all(re["path"])
            except Exception as e:
                fail(job, re["protocol"], "CPython cannot load the re-encoded pickle: %s: %s"
                     % (type(e).__name__, e))
                continue
            if len(copy) != len(original):
                fail(job, re["protocol"], "%d pickles re-encoded, %d in the original"
                     % (len(copy), len(original)))
                continue
            for i, (a, b) in enumerate(zip(original, copy)):
                try:
                    diff = compare(a, b)
                except Exception:
                    diff = "comparison crashed: " + traceback.format_exc(limit=3)
                if diff:
                    fail(job, re["protocol"], "pickle #%d: %s" % (i + 1, diff))
                    break
    return report


def main(argv):
    if len(argv) != 2:
        print("usage: compare.py JOBS_JSON", file=sys.stderr)
        return 2
    json.dump(run(argv[1]), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
