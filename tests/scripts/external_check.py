#!/usr/bin/env python3
"""Run every `pickle` command over real files other projects wrote, against CPython.

    python3 tests/scripts/external_check.py --cli PICKLE_BINARY --out RESULTS.json \
        [--base DIR] ROOT...

Every file under each ROOT (tests/fixtures/external and
tests/fixtures/hard_negatives/external; see tests/fixtures/external/SOURCES.md)
gets these checks, each with a result `pass`, `fail` or `na` (not applicable
to this kind of file) and a one-line detail:

  convert-p2, convert-p4, convert-p5
        `pickle convert FILE --protocol P -o OUT` (with `--encoding latin1`
        where CPython needs it, as pandas and numpy load Python 2 files), and
        CPython loads OUT equal to what it loads from FILE.
  json  `pickle json FILE`, then `pickle from-json --protocol 4`, and CPython
        loads the result equal to what it loads from FILE.
  dis   `pickle dis FILE` prints what `python3 -m pickletools` prints for the
        pickle the file holds (for a compressed file: the decompressed pickle;
        for an object `.npy`: the pickle after the header). Where pickletools
        fails, `pickle dis` must fail too, after printing the same lines.
  arrays `pickle arrays FILE --json` lists the arrays numpy sees: the same
        paths, dtypes, shapes, strides, sizes and sha256 of the values.
  scan  `pickle scan FILE` does not call the file dangerous and reads it to
        its end (verdict `safe` or `unknown`).

What "CPython loads" means, per kind of file:

  * a pickle (or a gzip/bz2/xz/lzma/zlib-compressed one): CPython's own
    unpickler, twice. Once inert: every global outside the builtins data
    types, copyreg, _codecs and numpy's array rebuilders becomes a recording
    stand-in (calls, NEWOBJ, BUILD states, SETITEMS, APPENDS and ADDITEMS
    are recorded), so files whose classes no longer exist (pandas 0.x,
    gensim) are still compared as CPython reads them; then with the real
    classes (`pickle.load`, or `pandas.read_pickle` for old pandas names)
    where that works, importing only from the data stack (numpy, pandas,
    datetime, pytz...), never `__main__` or anything else a pickle names.
    A real load that does not give the same objects twice is not used
    (numpy 2 gives the bit generator of an old Generator pickle a fresh,
    random SeedSequence).
  * a joblib file (a pickle naming joblib's array wrappers; any version,
    side files included): joblib's own unpickler, arrays kept in their
    stored byte order.
  * `.npy` / `.npz`: `numpy.load(allow_pickle=True)` (a `.npz` as a dict of
    its arrays in member order).

Python 2 files: CPython's default (ASCII) is tried first; where it fails the
file is read with encoding='latin1', what pandas and numpy do, and the
commands get `--encoding latin1`.
"""
import argparse
import bz2
import concurrent.futures
import copyreg
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import pickle
import pickletools
import subprocess
import sys
import tempfile
import threading
import types
import warnings
import zlib
import _compat_pickle

warnings.simplefilter("ignore")

import numpy as np  # noqa: E402

TIMEOUT = 120
CHECKS = ["convert-p2", "convert-p4", "convert-p5", "json", "dis", "arrays", "scan"]


# ---------------------------------------------------------------- file kinds

NPY_MAGIC = b"\x93NUMPY"
COMPRESSED = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"ZF", "zf"),
    (b"\x78", "zlib"),
]


def compression(data):
    for magic, name in COMPRESSED:
        if data.startswith(magic):
            return name
    return None


def decompress(data, how):
    if how == "gzip":
        return gzip.decompress(data)
    if how == "bz2":
        return bz2.decompress(data)
    if how in ("xz", "lzma"):
        return lzma.decompress(data)
    if how == "zlib":
        return zlib.decompress(data)
    if how == "lz4":
        import lz4.frame

        return lz4.frame.decompress(data)
    if how == "zf":
        from joblib.numpy_pickle_compat import read_zfile

        return read_zfile(io.BytesIO(data))
    raise ValueError(how)


def npy_pickle(data):
    """The pickle inside an object-array .npy, or None."""
    from numpy.lib import format as npformat

    f = io.BytesIO(data)
    version = npformat.read_magic(f)
    read = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
    _, _, dtype = read(f)
    return data[f.tell() :] if dtype.hasobject else None


def is_joblib(pickle_bytes):
    return any(
        n in pickle_bytes for n in (b"NumpyArrayWrapper", b"NDArrayWrapper", b"ZNDArrayWrapper")
    )


# ----------------------------------------------------------- inert loading


class Stub:
    """What a global outside the real set becomes: calls, NEWOBJ and the
    later BUILD / SETITEMS / APPENDS / ADDITEMS are recorded, nothing runs."""

    def __new__(cls, *args, **kwargs):
        o = object.__new__(cls)
        d = o.__dict__
        d["_args"] = args
        d["_kwargs"] = kwargs
        d["_init"] = False
        d["_ops"] = []
        d["_recon"] = None  # (base, state) of copyreg._reconstructor
        d["_newobj_reduce"] = False  # made by REDUCE of copyreg.__newobj__
        d["_nd"] = None  # numpy _reconstruct(subclass, shape, typecode)
        d["_array"] = None  # the ndarray numpy builds from that state
        return o

    def __init__(self, *args, **kwargs):
        self.__dict__["_init"] = True

    def __setstate__(self, state):
        self._ops.append(("build", state))
        if self._nd is not None:
            self.__dict__["_array"] = ndarray_of_subclass_state(state)

    def __setitem__(self, k, v):
        self._ops.append(("setitem", k, v))

    def extend(self, items):
        for x in items:
            self._ops.append(("append", x))

    def append(self, x):
        self._ops.append(("append", x))

    def add(self, x):
        self._ops.append(("add", x))

    def __repr__(self):
        return "<stub %s.%s>" % (type(self).__module__, type(self).__qualname__)


_STUBS = {}


def stub_class(module, name):
    key = (module, name)
    if key not in _STUBS:
        _STUBS[key] = type(name.rsplit(".", 1)[-1], (Stub,), {"__module__": module, "__qualname__": name})
    return _STUBS[key]


def ndarray_of_subclass_state(state):
    """numpy's array for the state of an ndarray subclass pickled by an old
    library (pandas 0.x Index: `(ndarray_state, own_state)`; pandas 0.7's
    DateRange: `((ndarray_state, (None,)), offset, tz)`): the first part,
    as deep as it goes."""
    candidates, s = [], state
    for _ in range(5):
        candidates.append(s)
        if not (isinstance(s, tuple) and s and isinstance(s[0], tuple)):
            break
        s = s[0]
    for s in candidates:
        if isinstance(s, tuple) and len(s) in (4, 5):
            try:
                a = np.ndarray.__new__(np.ndarray, (0,), "b")
                a.__setstate__(s)
                return a
            except Exception:
                pass
    return None


def _np_reconstruct_factory(real):
    def _reconstruct(subtype, shape, typecode):
        if isinstance(subtype, type) and issubclass(subtype, Stub):
            o = subtype.__new__(subtype)
            o.__dict__["_nd"] = (shape, typecode)
            return o
        return real(subtype, shape, typecode)

    return _reconstruct


def _reconstructor(cls, base, state):
    if isinstance(cls, type) and issubclass(cls, Stub):
        o = cls.__new__(cls)
        o.__dict__["_recon"] = (base, state)
        return o
    return copyreg._reconstructor(cls, base, state)


def _newobj(cls, *args):
    o = cls.__new__(cls, *args)
    if isinstance(o, Stub):
        o.__dict__["_newobj_reduce"] = True
    return o


# numpy's array, dtype and scalar rebuilders run for real (numpy's view of
# the arrays); the rest of numpy (random generators...) is recorded.
REAL_NUMPY = {"_reconstruct", "scalar", "ndarray", "dtype", "_frombuffer", "matrix", "_mareconstruct", "MaskedArray"}

def restricted_getattr(obj, name):
    """builtins.getattr as protocol-2 pickles of NEWOBJ_EX use it:
    `functools.partial(getattr(cls, '__new__'), cls, ...)`, and nothing else."""
    if name != "__new__" or not isinstance(obj, type):
        raise pickle.UnpicklingError("getattr(%r, %r) is not run here" % (obj, name))
    return obj.__new__


REAL_BUILTINS = {
    "set", "frozenset", "bytearray", "bytes", "complex", "slice", "range", "object",
    "list", "dict", "tuple", "int", "float", "str", "bool",
}


class Persistent:
    def __init__(self, pid):
        self.pid = pid

    def __repr__(self):
        return "Persistent(%r)" % (self.pid,)


def protocol_at(f):
    """The protocol of the pickle starting at f's position (0 without PROTO)."""
    pos = f.tell()
    head = f.read(2)
    f.seek(pos)
    return head[1] if len(head) == 2 and head[0] == 0x80 else 0


_LOOKED_UP = threading.local()


def looked_up():
    """The (module, name) pairs this thread's inert loads looked up."""
    if not hasattr(_LOOKED_UP, "names"):
        _LOOKED_UP.names = set()
    return _LOOKED_UP.names


class InertUnpickler(pickle.Unpickler):
    def __init__(self, f, **kw):
        self.proto = protocol_at(f)
        super().__init__(f, **kw)

    def persistent_load(self, pid):
        return Persistent(pid)

    def find_class(self, module, name):
        looked_up().add((module, name))
        # Python 2 names, mapped as CPython maps them (protocols 0-2)
        m, n = module, name
        if self.proto < 3:
            if (m, n) in _compat_pickle.NAME_MAPPING:
                m, n = _compat_pickle.NAME_MAPPING[(m, n)]
            elif m in _compat_pickle.IMPORT_MAPPING:
                m = _compat_pickle.IMPORT_MAPPING[m]
        if m == "copyreg" and n == "_reconstructor":
            super().find_class(module, name)  # fails where CPython would
            return _reconstructor
        if m == "builtins" and n == "getattr":
            return restricted_getattr
        if m == "copyreg" and n == "__newobj__":
            super().find_class(module, name)
            return _newobj
        real = (
            (m == "builtins" and n in REAL_BUILTINS)
            or (m == "copyreg" and n == "__newobj_ex__")
            or (m == "_codecs" and n == "encode")
            or (m == "collections" and n == "OrderedDict")
            or (m == "functools" and n == "partial")
            or (m == "numpy" or m.startswith("numpy.")) and n in REAL_NUMPY
        )
        if not real:
            return stub_class(m, n)
        obj = super().find_class(module, name)
        if n == "_reconstruct" and m.startswith("numpy"):
            return _np_reconstruct_factory(obj)
        return obj


def load_stream(data, make):
    """Every pickle of a stream, as CPython reads them one after another;
    bytes after the last one that loads are left, as pickle.load leaves them."""
    f = io.BytesIO(data)
    out = []
    while f.tell() < len(data):
        start = f.tell()
        try:
            out.append(make(f).load())
        except Exception:
            if not out:
                raise
            f.seek(start)
            break
    return out, len(data) - f.tell()


def inert_load(data, encoding="ASCII"):
    return load_stream(data, lambda f: InertUnpickler(f, encoding=encoding))[0]


# The packages whose classes the real loads may import: the data stack these
# files come from. Anything else (`__main__`, `os`...) fails the real load,
# and the file is compared through the inert load only.
REAL_PACKAGES = {"collections", "datetime", "decimal", "fractions", "numpy", "pandas", "pytz", "dateutil"}


class RealUnpickler(pickle.Unpickler):
    def __init__(self, f, **kw):
        self.proto = protocol_at(f)
        super().__init__(f, **kw)

    def persistent_load(self, pid):
        return Persistent(pid)

    def find_class(self, module, name):
        m, n = module, name
        if self.proto < 3:
            if (m, n) in _compat_pickle.NAME_MAPPING:
                m, n = _compat_pickle.NAME_MAPPING[(m, n)]
            elif m in _compat_pickle.IMPORT_MAPPING:
                m = _compat_pickle.IMPORT_MAPPING[m]
        if m == "builtins" and n == "getattr":
            return restricted_getattr
        allowed = (
            (m == "builtins" and n in REAL_BUILTINS)
            or (m == "copyreg" and n in ("_reconstructor", "__newobj__", "__newobj_ex__"))
            or (m == "_codecs" and n == "encode")
            or (m == "functools" and n == "partial")
            or m.split(".")[0] in REAL_PACKAGES
        )
        if not allowed:
            raise pickle.UnpicklingError("%s.%s is not imported here" % (module, name))
        return super().find_class(module, name)


def real_load(data, encoding="ASCII"):
    return load_stream(data, lambda f: RealUnpickler(f, encoding=encoding))[0]


def pandas_load(path_or_bytes):
    import pandas as pd

    if isinstance(path_or_bytes, bytes):
        path_or_bytes = io.BytesIO(path_or_bytes)
    return [pd.read_pickle(path_or_bytes, compression=None)]


def _keep_subclass(cls):
    """joblib >= 1.0 under numpy 2 drops a wrapped array's subclass (it
    rebuilds one through `__array_prepare__`, which numpy 2 removed), so an
    np.matrix that the file records comes back a plain ndarray; the joblib
    that wrote these files gave the subclass back. Restore it, as a view."""
    read = cls.read

    def keep(self, unpickler, *args, **kwargs):
        arr = read(self, unpickler, *args, **kwargs)
        sub = getattr(self, "subclass", None)
        if type(arr) is np.ndarray and isinstance(sub, type) and issubclass(sub, np.ndarray) \
                and sub not in (np.ndarray, np.memmap):
            arr = arr.view(sub)
        return arr

    if not getattr(read, "_keeps_subclass", False):
        keep._keeps_subclass = True
        cls.read = keep


def joblib_load(path, encoding="ASCII"):
    """joblib.load, but with `encoding` (joblib refuses Python 2 files under
    Python 3; CPython reads them with latin1) and arrays in stored byte order."""
    from joblib import numpy_pickle as npk
    from joblib import numpy_pickle_compat as compat
    from joblib.numpy_pickle_compat import ZipNumpyUnpickler

    _keep_subclass(npk.NumpyArrayWrapper)
    _keep_subclass(compat.NDArrayWrapper)

    with open(path, "rb") as f:
        with npk._validate_fileobject_and_memmap(f, path, None) as (fobj, _):
            if isinstance(fobj, str):
                with open(path, "rb") as fh:
                    u = ZipNumpyUnpickler(path, file_handle=fh)
                    u.encoding = encoding
                    return [u.load()]
            u = npk.NumpyUnpickler(path, fobj, ensure_native_byte_order=False)
            u.encoding = encoding
            return [u.load()]


def npy_load(path, encoding="ASCII"):
    with open(path, "rb") as f:
        head = f.read(6)
    r = np.load(path, allow_pickle=True, encoding=encoding)
    if head == NPY_MAGIC:
        return [r]
    with r:
        return [{k: r[k] for k in r.files}]


def with_encoding(load, *args):
    """(objects, encoding): CPython's default first, latin1 where it fails to
    decode a Python 2 string (joblib and numpy wrap that error in their own)."""
    try:
        return load(*args, encoding="ASCII"), "ASCII"
    except Exception as e:
        chain, x = [], e
        while x is not None and len(chain) < 5:
            chain.append(x)
            x = x.__cause__ or x.__context__
        if not any(isinstance(x, UnicodeError) or "codec can't decode" in str(x) for x in chain):
            raise
    return load(*args, encoding="latin1"), "latin1"


# ------------------------------------------------------------- comparison


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


class Differ(Exception):
    pass


class Equiv:
    """Structural equality that also requires the same sharing and cycles
    (the rules of ../shared/conformance/check.py, plus the inert stand-ins)."""

    def __init__(self):
        self.left = {}
        self.right = {}

    def fail(self, path, msg):
        raise Differ("%s: %s" % (path or "(root)", msg[:300]))

    def eq(self, a, b, path=""):
        if type(a) is not type(b):
            self.fail(path, "type %s != %s" % (type(a).__name__, type(b).__name__))
        if isinstance(a, float):
            if not same_float(a, b):
                self.fail(path, "%r != %r" % (a, b))
            return
        if isinstance(a, complex):
            if not (same_float(a.real, b.real) and same_float(a.imag, b.imag)):
                self.fail(path, "%r != %r" % (a, b))
            return
        if isinstance(a, (type(None), bool, int, str, bytes)):
            if a != b:
                self.fail(path, "%r != %r" % (a, b))
            return
        if isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType)):
            if a is not b:
                self.fail(path, "%r is not %r" % (a, b))
            return
        ia, ib = id(a), id(b)
        if ia in self.left or ib in self.right:
            if self.left.get(ia) != ib or self.right.get(ib) != ia:
                self.fail(path, "sharing differs (an object shared on one side is not on the other)")
            return
        self.left[ia] = ib
        self.right[ib] = ia
        if isinstance(a, Persistent):
            return self.eq(a.pid, b.pid, path + ".pid")
        if isinstance(a, Stub):
            da, db = a.__dict__, b.__dict__
            for k in ("_init", "_args", "_kwargs", "_recon", "_nd"):
                self.eq(da[k], db[k], "%s.%s" % (path, k))
            if len(a._ops) != len(b._ops):
                self.fail(path, "%d recorded operations != %d" % (len(a._ops), len(b._ops)))
            for i, (x, y) in enumerate(zip(a._ops, b._ops)):
                self.eq(x, y, "%s._ops[%d]" % (path, i))
            return
        if isinstance(a, (list, tuple)):
            if len(a) != len(b):
                self.fail(path, "length %d != %d" % (len(a), len(b)))
            for i, (x, y) in enumerate(zip(a, b)):
                self.eq(x, y, "%s[%d]" % (path, i))
            if type(a) not in (list, tuple) and hasattr(a, "__dict__"):
                self.eq(vars(a), vars(b), path + ".__dict__")
            return
        if isinstance(a, dict):
            if len(a) != len(b):
                self.fail(path, "%d keys != %d keys" % (len(a), len(b)))
            ka, kb = list(a.keys()), list(b.keys())
            for i, (x, y) in enumerate(zip(ka, kb)):
                self.eq(x, y, "%s.keys()[%d]" % (path, i))
            for x, y in zip(ka, kb):
                self.eq(a[x], b[y], "%s[%r]" % (path, x))
            if type(a) is not dict and hasattr(a, "__dict__"):
                self.eq(vars(a), vars(b), path + ".__dict__")
            return
        if isinstance(a, (set, frozenset)):
            if a != b:
                ra, rb = sorted(map(repr, a)), sorted(map(repr, b))
                if ra != rb:
                    self.fail(path, "%r != %r" % (a, b))
            return
        if isinstance(a, bytearray):
            if a != b:
                self.fail(path, "%r != %r" % (a, b))
            return
        if isinstance(a, np.ndarray):
            if a.dtype != b.dtype or a.shape != b.shape:
                self.fail(path, "ndarray %s%s != %s%s" % (a.dtype, a.shape, b.dtype, b.shape))
            if a.dtype.str != b.dtype.str:
                self.fail(path, "ndarray dtype %s != %s" % (a.dtype.str, b.dtype.str))
            if a.size > 1 and a.ndim > 1 and a.flags.f_contiguous != b.flags.f_contiguous:
                self.fail(path, "memory order differs")
            if a.dtype.hasobject:
                for i, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                    self.eq(x, y, "%s.flat[%d]" % (path, i))
            elif a.tobytes() != b.tobytes() and not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
                self.fail(path, "ndarray values differ")
            if type(a) is not np.ndarray and hasattr(a, "__dict__"):
                self.eq(vars(a), vars(b), path + ".__dict__")
            return
        if isinstance(a, np.generic):
            if a.tobytes() != b.tobytes() or a.dtype != b.dtype:
                self.fail(path, "numpy scalar %r != %r" % (a, b))
            return
        if isinstance(a, np.dtype):
            if a != b or a.str != b.str or a.metadata != b.metadata:
                self.fail(path, "dtype %r != %r" % (a, b))
            return
        if type(a).__module__.startswith("pandas"):
            return self.eq_pandas(a, b, path)
        if hasattr(a, "__dict__") and type(a).__eq__ is object.__eq__:
            self.eq(vars(a), vars(b), path + ".__dict__")
            return
        try:
            same = a == b
            if isinstance(same, np.ndarray):
                same = bool(same.all())
        except Exception:
            same = False
        if not same:
            try:
                ra, rb = a.__reduce_ex__(4), b.__reduce_ex__(4)
            except Exception:
                self.fail(path, "%r != %r" % (a, b))
            inner = Equiv()
            inner.eq(list(ra), list(rb), path + ".__reduce_ex__(4)")

    def eq_pandas(self, a, b, path):
        if pickle.dumps(a, 4) == pickle.dumps(b, 4):
            return
        import pandas.testing as tm
        import pandas as pd

        try:
            if isinstance(a, pd.DataFrame):
                tm.assert_frame_equal(a, b, check_exact=True)
            elif isinstance(a, pd.Series):
                tm.assert_series_equal(a, b, check_exact=True)
            elif isinstance(a, pd.Index):
                tm.assert_index_equal(a, b, exact=True)
            elif not a.equals(b):
                raise AssertionError("not equal")
        except Exception as e:
            self.fail(path, "pandas object differs: %s" % str(e).replace("\n", " "))


def equal(xs, ys):
    if len(xs) != len(ys):
        raise Differ("%d pickles in the stream, expected %d" % (len(ys), len(xs)))
    e = Equiv()
    for i, (x, y) in enumerate(zip(xs, ys)):
        e.eq(x, y, "" if len(xs) == 1 else "#%d" % i)


# ------------------------------------------------------- arrays as numpy sees them


def short_repr(k):
    """A dict key as `pickle arrays` writes it in a path (src/ml/arrays.rs:
    Python's repr for str, bytes, int, float, bool and None, but only
    control characters escaped; `<type>` otherwise)."""
    if isinstance(k, str):
        q = '"' if "'" in k and '"' not in k else "'"
        out = []
        for c in k:
            if c == "\\":
                out.append("\\\\")
            elif c in "\n\r\t":
                out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
            elif c == q:
                out.append("\\" + c)
            elif ord(c) < 0x20 or ord(c) == 0x7F:
                out.append("\\x%02x" % ord(c))
            else:
                out.append(c)
        return q + "".join(out) + q
    if isinstance(k, bytes):
        out = []
        for c in k:
            if c in b"\\'":
                out.append("\\" + chr(c))
            elif 0x20 <= c <= 0x7E:
                out.append(chr(c))
            else:
                out.append("\\x%02x" % c)
        return "b'" + "".join(out) + "'"
    if isinstance(k, (bool, int, float, type(None))) and not isinstance(k, np.generic):
        return repr(k)
    return "<%s>" % type(k).__name__


def is_identifier(s):
    return (s[:1].isalpha() or s[:1] == "_") and all(c.isalnum() or c == "_" for c in s)


def array_entry(path, a):
    sha = None
    if not a.dtype.hasobject:
        c = np.array(a, order="C", copy=True)
        le = c.dtype.newbyteorder("<") if c.dtype.byteorder == ">" or c.dtype.fields else c.dtype
        sha = hashlib.sha256(c.astype(le).tobytes()).hexdigest()
    item = a.dtype.itemsize
    return {
        "path": path,
        "dtype": a.dtype.str,
        "shape": list(a.shape),
        "stride": [s // item for s in a.strides] if item else None,
        "nbytes": int(a.nbytes),
        "sha256": sha,
    }


def find_arrays(root):
    """Every ndarray reachable from root, with the path `pickle arrays` gives
    it (src/ml/arrays.rs: depth first, stream order, each object once)."""
    out = []
    seen = set()
    stack = [("", root)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, (type(None), bool, int, float, complex, str, bytes, type)) or isinstance(v, np.generic):
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        kids = []
        if isinstance(v, np.ndarray):
            out.append(array_entry(path, v))
            continue
        if isinstance(v, Stub):
            if v._nd is not None:
                if v._array is not None:
                    out.append(array_entry(path, v._array))
                else:
                    out.append({"path": path, "error": "no ndarray state"})
                continue
            args = list(v._args)
            if v._recon is not None:
                args = [type(v), v._recon[0], v._recon[1]]
            elif v._newobj_reduce:
                args = [type(v)] + args
            for i, a in enumerate(args):
                kids.append(("%s.__args__[%d]" % (path, i), a))
            n = 0
            state = None
            for op in v._ops:
                if op[0] == "setitem":
                    kids.append(("%s[%s]" % (path, short_repr(op[1])), op[2]))
                elif op[0] in ("append", "add"):
                    kids.append(("%s[%d]" % (path, n), op[1]))
                    n += 1
                else:
                    state = op[1]
            if state is not None:
                d, slots = None, None
                if isinstance(state, dict) and type(state) is dict:
                    d = state
                elif isinstance(state, tuple) and len(state) == 2 and type(state[0]) is dict:
                    d, slots = state
                if d is None:
                    kids.append(("%s.__state__" % path, state))
                else:
                    for k, c in d.items():
                        seg = ".%s" % k if isinstance(k, str) and is_identifier(k) else ".__dict__[%s]" % short_repr(k)
                        kids.append((path + seg, c))
                    if isinstance(slots, dict):
                        for k, c in slots.items():
                            kids.append(("%s.%s" % (path, k), c))
        elif isinstance(v, dict):
            for k, c in v.items():
                kids.append(("%s[%s]" % (path, short_repr(k)), c))
        elif isinstance(v, (list, tuple)):
            for i, c in enumerate(v):
                kids.append(("%s[%d]" % (path, i), c))
        elif isinstance(v, (set, frozenset)):
            for i, c in enumerate(v):
                kids.append(("%s{%d}" % (path, i), c))
        elif isinstance(v, Persistent):
            kids.append((path + ".__pid__", v.pid))
        elif hasattr(v, "__dict__"):
            for k, c in vars(v).items():
                kids.append(("%s.%s" % (path, k), c))
        stack.extend(reversed(kids))
    return out


# ------------------------------------------------------------ running the CLI


def run(cmd, timeout=TIMEOUT):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout after %ds" % timeout
    return p.returncode, p.stdout, p.stderr


def err_line(rc, err):
    text = err.decode("utf-8", "replace").strip().splitlines()
    return "exit %s: %s" % (rc, text[-1][:300] if text else "(no message)")


def pickletools_listing(data):
    out = io.StringIO()
    try:
        pickletools.dis(io.BytesIO(data), out)
        return out.getvalue(), None
    except Exception as e:
        return out.getvalue(), "%s: %s" % (type(e).__name__, e)


def first_diff(ours, want):
    a, b = ours.splitlines(), want.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "line %d: ours %r, pickletools %r" % (i + 1, x[:120], y[:120])
    return "ours has %d lines, pickletools %d" % (len(a), len(b))


class Reference:
    """What CPython makes of one file, and how to load what the CLI writes."""

    def __init__(self, path):
        self.path = path
        self.data = open(path, "rb").read()
        self.kind = "pickle"
        self.pickle = self.data  # the pickle bytes the file holds (None: none)
        self.encoding = "ASCII"
        self.inert = None  # objects of the inert load
        self.real = None  # objects of the real load
        self.real_how = None  # "pickle", "pandas", "joblib", "numpy"
        self.problems = []
        self.text_unsafe_globals = []
        if self.data.startswith(NPY_MAGIC):
            self.kind = "npy"
            self.pickle = npy_pickle(self.data)
        elif self.data.startswith(b"PK\x03\x04"):
            self.kind = "npz"
            self.pickle = None
        else:
            how = compression(self.data)
            if how is not None and how != "zlib" or how == "zlib" and self._zlib_ok():
                self.kind = "compressed"
                try:
                    self.pickle = decompress(self.data, how)
                except Exception as e:
                    self.problems.append("cannot decompress (%s): %s" % (how, e))
                    self.pickle = None
        if self.kind in ("npy", "npz"):
            self._try("numpy", lambda: with_encoding(npy_load, path))
        elif self.pickle is not None and is_joblib(self.pickle):
            self.kind += "/joblib"
            self._try("joblib", lambda: with_encoding(joblib_load, path))
        elif self.pickle is not None:
            try:
                looked_up().clear()
                self.inert, self.encoding = with_encoding(inert_load, self.pickle)
                self.text_unsafe_globals = sorted(g for g in looked_up() if "\n" in g[0] + g[1])
            except Exception as e:
                self.problems.append("CPython's inert load failed: %s: %s" % (type(e).__name__, e))
            if not self._try("pickle", lambda: (real_load(self.pickle, self.encoding), self.encoding), quiet=True):
                self._try("pandas", lambda: (pandas_load(self.pickle), self.encoding), quiet=True)

    def _zlib_ok(self):
        try:
            zlib.decompressobj().decompress(self.data[:64])
            return True
        except zlib.error:
            return False

    def _try(self, how, f, quiet=False):
        try:
            self.real, enc = f()
            self.encoding = enc
            self.real_how = how
            try:
                equal(self.real, f()[0])
            except Differ as e:
                # numpy 2 gives an old bit generator pickle a random SeedSequence
                self.problems.append("CPython's %s load is not reproducible (%s): compared inert only" % (how, e))
                self.real = None
            return True
        except Exception as e:
            if not quiet:
                self.problems.append("CPython's %s load failed: %s: %s" % (how, type(e).__name__, str(e)[:200]))
            return False

    def compare_output(self, out_path):
        """None when CPython loads out_path equal to the original, else why not."""
        produced = open(out_path, "rb").read()
        if self.inert is None and self.real is None:
            return "no reference: " + "; ".join(self.problems)
        if self.inert is not None:
            try:
                again = inert_load(produced)
            except Exception as e:
                return "CPython cannot load the output (inert): %s: %s" % (type(e).__name__, str(e)[:200])
            try:
                equal(self.inert, again)
            except Differ as e:
                return "differs (inert load): %s" % e
        if self.real is not None:
            try:
                if self.real_how == "pandas":
                    again = pandas_load(produced)
                else:
                    again = real_load(produced)
            except Exception as e:
                return "CPython cannot load the output (%s): %s: %s" % (self.real_how, type(e).__name__, str(e)[:200])
            try:
                equal(self.real, again)
            except Differ as e:
                return "differs (%s load): %s" % (self.real_how, e)
        return None

    def expected_arrays(self):
        root = self.inert if self.inert is not None else self.real
        if root is None:
            return None
        if self.kind == "npy":
            return find_arrays(root[0])
        if len(root) == 1:
            return find_arrays(root[0])
        out = []
        for i, r in enumerate(root):
            for e in find_arrays(r):
                e["path"] = "#%d%s" % (i, e["path"])
                out.append(e)
        return out


def missing_module(path):
    """The Python module CPython needs for this file and does not have, or None."""
    with open(path, "rb") as f:
        if compression(f.read(8)) == "lz4":
            try:
                import lz4.frame  # noqa: F401
            except ImportError:
                return "lz4"
    return None


def check_file(cli, path, rel, tmp):
    results = {}
    missing = missing_module(path)
    if missing:
        why = "python3 has no %s module (pip install %s) to read this file" % (missing, missing)
        return {"file": rel, "kind": "?", "problems": [why],
                "checks": {c: {"status": "skip", "detail": why} for c in CHECKS}}
    ref = Reference(path)
    enc = ["--encoding", "latin1"] if ref.encoding == "latin1" else []
    base = os.path.join(tmp, rel.replace("/", "_"))

    def put(check, status, detail=""):
        results[check] = {"status": status, "detail": detail}

    for p in (2, 4, 5):
        out = base + ".p%d.pkl" % p
        rc, so, se = run([cli, "convert", path, "--protocol", str(p), "-o", out] + enc)
        if p < 4 and ref.text_unsafe_globals:
            # GLOBAL is two text lines: such a name cannot be written below protocol 4
            ok = rc == 1 and not os.path.exists(out)
            put("convert-p%d" % p, "pass" if ok else "fail", "%s a global named %r" % (
                "refused, as it must:" if ok else "wrote (exit %s)" % rc, ref.text_unsafe_globals[0]))
            continue
        if rc != 0 or not os.path.exists(out):
            put("convert-p%d" % p, "fail", err_line(rc, se))
            continue
        why = ref.compare_output(out)
        put("convert-p%d" % p, "fail" if why else "pass", why or "")

    js = base + ".json"
    rc, so, se = run([cli, "json", path] + enc)
    if rc != 0:
        put("json", "fail", "json " + err_line(rc, se))
    else:
        open(js, "wb").write(so)
        out = base + ".fromjson.pkl"
        rc, so, se = run([cli, "from-json", js, "--protocol", "4", "-o", out])
        if rc != 0:
            put("json", "fail", "from-json " + err_line(rc, se))
        else:
            why = ref.compare_output(out)
            put("json", "fail" if why else "pass", why or "")

    if ref.pickle is None:
        put("dis", "na", "the file holds no pickle" if not ref.problems else "; ".join(ref.problems))
    else:
        want, want_err = pickletools_listing(ref.pickle)
        rc, so, se = run([cli, "dis", path])
        ours = so.decode("utf-8", "replace")
        if want_err is None:
            stream = ours.count("highest protocol among opcodes") > 1
            if rc == 0 and (ours == want or stream and ours.startswith(want)):
                put("dis", "pass")
            elif rc != 0:
                put("dis", "fail", err_line(rc, se))
            else:
                put("dis", "fail", first_diff(ours, want))
        elif rc not in (0, None, 101) and rc > 0 and ours == want:
            put("dis", "pass", "pickletools fails too (%s)" % want_err[:100])
        else:
            put("dis", "fail", "pickletools fails (%s); ours: exit %s, %s" % (
                want_err[:100], rc, "same lines" if ours == want else first_diff(ours, want)))

    want = ref.expected_arrays()
    rc, so, se = run([cli, "arrays", path, "--json"] + enc)
    if want is None:
        put("arrays", "fail", "no reference: " + "; ".join(ref.problems))
    elif rc != 0:
        put("arrays", "fail", err_line(rc, se))
    else:
        got = json.loads(so)
        put("arrays", *compare_arrays(got, want))

    rc, so, se = run([cli, "scan", "--format", "json", path])
    try:
        verdict = json.loads(so)["verdict"]
    except Exception:
        verdict = None
    if verdict in ("safe", "unknown"):
        put("scan", "pass", verdict)
    else:
        put("scan", "fail", "verdict %s (%s)" % (verdict, err_line(rc, se)))
    return {"file": rel, "kind": ref.kind, "encoding": ref.encoding, "reference": ref.real_how or "inert",
            "problems": ref.problems, "checks": results}


def compare_arrays(got, want):
    if any("error" in w for w in want):
        return "fail", "numpy reads no array at %s" % [w["path"] for w in want if "error" in w]
    g = {e["path"]: e for e in got}
    w = {e["path"]: e for e in want}
    if len(g) != len(got):
        return "fail", "a path is listed twice"
    if set(g) != set(w):
        missing = sorted(set(w) - set(g))[:5]
        extra = sorted(set(g) - set(w))[:5]
        return "fail", "%d arrays listed, numpy sees %d; missing %s, unexpected %s" % (
            len(got), len(want), missing, extra)
    for p, we in w.items():
        ge = g[p]
        for k in ("dtype", "shape", "stride", "nbytes", "sha256"):
            # An empty array has no layout to compare (numpy's np.load
            # gives a (0,) array strides (0,), np.empty(0) gives (8,)).
            if k == "stride" and (we[k] is None or 0 in we["shape"]):
                continue
            if ge.get(k) != we[k]:
                return "fail", "%s: %s %r, numpy %r" % (p or "(root)", k, ge.get(k), we[k])
    return "pass", "%d arrays" % len(want)


def side_files(names):
    """joblib < 0.10 side files (`x.pkl_01.npy`, `x.gz_01.npy.z`): read with their pickle."""
    side = set()
    for n in names:
        for m in names:
            rest = m[len(n) + 1:] if m != n and m.startswith(n + "_") else ""
            # joblib's own spelling only: `<main>_NN.npy` or `<main>_NN.npy.z`
            # (gensim's `model_4` or `fasttext_old_sep` are files of their own).
            num = rest.split(".", 1)
            if len(num) == 2 and num[0].isdigit() and num[1] in ("npy", "npy.z"):
                side.add(m)
    return side


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=".", help="paths in the results are relative to this folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("roots", nargs="+")
    args = ap.parse_args()
    sys.setrecursionlimit(20000)
    files = []
    for root in args.roots:
        for d, _, names in os.walk(root):
            side = side_files(names)
            for n in sorted(names):
                if n in side or n.endswith((".md", ".json")):
                    continue
                files.append(os.path.join(d, n))
    files.sort()
    tmp = tempfile.mkdtemp(prefix="external-check-")
    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        futs = {ex.submit(check_file, args.cli, f, os.path.relpath(f, args.base), tmp): f for f in files}
        for fut in concurrent.futures.as_completed(futs):
            try:
                results.append(fut.result())
            except Exception as e:
                rel = os.path.relpath(futs[fut], args.base)
                results.append({"file": rel, "kind": "?", "problems": ["checker crashed: %r" % e],
                                "checks": {c: {"status": "fail", "detail": "checker crashed: %r" % e} for c in CHECKS}})
    results.sort(key=lambda r: r["file"])
    with open(args.out, "w") as f:
        json.dump({"files": results}, f, indent=1)
    n = {"pass": 0, "fail": 0, "na": 0, "skip": 0}
    for r in results:
        for c in r["checks"].values():
            n[c["status"]] += 1
    print("%d files: %d checks pass, %d fail, %d not applicable, %d without a reference" % (
        len(results), n["pass"], n["fail"], n["na"], n["skip"]))


if __name__ == "__main__":
    main()
