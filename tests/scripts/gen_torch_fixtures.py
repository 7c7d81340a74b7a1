#!/usr/bin/env python3
"""Write PyTorch checkpoint fixtures without PyTorch (tests/torch.rs).

    python3 tests/scripts/gen_torch_fixtures.py [OUT_DIR]   (default tests/fixtures/torch)

Needs numpy only. torch.save's two formats are reproduced the way
torch/serialization.py writes them: a pickle Pickler at protocol 2 whose
persistent_id turns storages into ('storage', torch.<T>Storage, key, location,
numel) tuples (legacy: plus a view_metadata item), and tensors that reduce to
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
OrderedDict()) (parameters: torch._utils._rebuild_parameter(tensor,
requires_grad, OrderedDict())). Fake `torch` / `torch._utils` modules make the
globals pickle by name.

* zip: <archive>/data.pkl, <archive>/byteorder, <archive>/data/<key>,
  <archive>/version, <archive>/.format_version, <archive>/.data/serialization_id
* legacy: magic number, protocol version 1001 and sys info pickles, the object
  pickle, the sorted storage keys pickle, then each storage as an 8-byte
  little-endian element count and its bytes.

manifest.json: per file, tensors [{path, dtype, shape, stride, storage_offset,
nbytes, sha256 (C-order little-endian values)}] and storage_bytes (sum).
"""
import collections
import hashlib
import io
import json
import os
import pickle
import sys
import types
import zipfile

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "torch")

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
torch._utils = utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils


def _fn(name):
    def f(*args):
        raise RuntimeError("fake")
    f.__module__, f.__name__, f.__qualname__ = "torch._utils", name, name
    setattr(utils, name, f)
    return f


rebuild_tensor_v2 = _fn("_rebuild_tensor_v2")
rebuild_parameter = _fn("_rebuild_parameter")

# torch dtype name -> (storage class, numpy dtype used to make and hash values)
DTYPES = {
    "float32": ("FloatStorage", "<f4"), "float64": ("DoubleStorage", "<f8"), "float16": ("HalfStorage", "<f2"),
    "bfloat16": ("BFloat16Storage", "<u2"), "int8": ("CharStorage", "|i1"), "int16": ("ShortStorage", "<i2"),
    "int32": ("IntStorage", "<i4"), "int64": ("LongStorage", "<i8"), "uint8": ("ByteStorage", "|u1"),
    "bool": ("BoolStorage", "|b1"), "complex64": ("ComplexFloatStorage", "<c8"), "complex128": ("ComplexDoubleStorage", "<c16"),
}
for _name, (_cls, _) in DTYPES.items():
    c = type(_cls, (), {})
    c.__module__ = "torch"
    setattr(torch, _cls, c)


class Storage:
    def __init__(self, dtype, values):
        self.dtype = dtype
        self.values = np.ascontiguousarray(values, dtype=DTYPES[dtype][1]).ravel()


class Tensor:
    def __init__(self, storage, offset, shape, stride, requires_grad=False):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)
        self.requires_grad = requires_grad

    def __reduce_ex__(self, proto):
        return (rebuild_tensor_v2, (self.storage, self.offset, self.shape, self.stride, self.requires_grad, collections.OrderedDict()))

    def view(self):
        v = self.storage.values
        return np.lib.stride_tricks.as_strided(v[self.offset:], self.shape, [s * v.itemsize for s in self.stride])


class Parameter:
    def __init__(self, t, requires_grad=True):
        self.t, self.requires_grad = t, requires_grad

    def __reduce_ex__(self, proto):
        return (rebuild_parameter, (self.t, self.requires_grad, collections.OrderedDict()))


def tensor(dtype, values, shape=None):
    st = Storage(dtype, values)
    shape = tuple(np.shape(values)) if shape is None else shape
    stride = tuple(int(s) for s in (np.cumprod((list(shape[1:]) + [1])[::-1])[::-1] if shape else ()))
    return Tensor(st, 0, shape, stride)


def values_for(dtype, n, rng):
    if dtype == "bool":
        return rng.random(n) > 0.5
    if dtype == "bfloat16":
        f = rng.standard_normal(n).astype("<f4")
        return (f.view("<u4") >> 16).astype("<u2")
    npd = np.dtype(DTYPES[dtype][1])
    if npd.kind in "iu":
        info = np.iinfo(npd)
        return rng.integers(info.min, info.max, n, dtype=npd, endpoint=True)
    if npd.kind == "c":
        return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(npd)
    return rng.standard_normal(n).astype(npd)


def checkpoint(rng, big_storage=0):
    w = tensor("float32", rng.standard_normal((4, 3)).astype("<f4"))
    b = tensor("float32", rng.standard_normal(4).astype("<f4"))
    nbt = tensor("int64", np.array(7, dtype="<i8"), shape=())
    base = tensor("float64", np.arange(24, dtype="<f8"))
    base.shape, base.stride = (4, 6), (6, 1)
    views = [
        base,
        Tensor(base.storage, 6, (3, 6), (6, 1)),   # rows 1..3
        Tensor(base.storage, 0, (6, 4), (1, 6)),   # transpose
        Tensor(base.storage, 1, (4, 3), (6, 2)),   # every other column from 1
        Tensor(base.storage, 23, (), ()),          # one element
        Tensor(base.storage, 5, (0, 2), (2, 1)),   # empty
    ]
    model = collections.OrderedDict([
        ("fc.weight", Parameter(w)), ("fc.bias", b), ("bn.num_batches_tracked", nbt),
    ])
    opt = {"state": {0: {"step": tensor("float32", np.array(5.0, dtype="<f4"), shape=()), "exp_avg": tensor("float32", np.zeros((4, 3), "<f4"))}},
           "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1]}]}
    dtypes = collections.OrderedDict((d, tensor(d, values_for(d, 5, rng)).__class__(Storage(d, values_for(d, 6, rng)), 0, (2, 3), (3, 1))) for d in DTYPES)
    obj = {"epoch": 3, "model": model, "optimizer": opt, "dtypes": dtypes, "views": views}
    if big_storage:
        obj["big"] = tensor("float32", np.zeros(big_storage, "<f4"))
    return obj


def collect(obj, path, out, seen):
    if isinstance(obj, Parameter):
        obj = obj.t
    if isinstance(obj, Tensor):
        v = obj.view()
        le = np.ascontiguousarray(v)
        out.append({"path": path, "dtype": obj.storage.dtype, "shape": list(obj.shape), "stride": list(obj.stride),
                    "storage_offset": obj.offset, "nbytes": int(le.nbytes), "sha256": hashlib.sha256(le.tobytes()).hexdigest()})
    elif isinstance(obj, dict):
        for k, v in obj.items():
            collect(v, "%s[%r]" % (path, k), out, seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            collect(v, "%s[%d]" % (path, i), out, seen)


def pickle_obj(obj, f, legacy):
    storages = collections.OrderedDict()

    def persistent_id(o):
        if isinstance(o, Storage):
            key = storages.setdefault(id(o), (str(len(storages)), o))[0]
            cls = getattr(torch, DTYPES[o.dtype][0])
            pid = ("storage", cls, key, "cpu", len(o.values))
            return pid + (None,) if legacy else pid
        return None

    p = pickle.Pickler(f, protocol=2)
    p.persistent_id = persistent_id
    p.dump(obj)
    return [s for _, s in storages.values()]


def save_zip(obj, path, archive, big_endian=False):
    buf = io.BytesIO()
    storages = pickle_obj(obj, buf, legacy=False)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(archive + "/data.pkl", buf.getvalue())
        z.writestr(archive + "/.format_version", "1")
        z.writestr(archive + "/.storage_alignment", "64")
        z.writestr(archive + "/byteorder", "big" if big_endian else "little")
        for key, st in enumerate(storages):
            v = st.values
            if big_endian:
                v = v.astype(v.dtype.newbyteorder(">")) if st.dtype != "complex64" and st.dtype != "complex128" else v.astype(v.dtype.newbyteorder(">"))
            z.writestr("%s/data/%d" % (archive, key), v.tobytes())
        z.writestr(archive + "/version", "3\n")
        z.writestr(archive + "/.data/serialization_id", "0123456789")
    return storages


def save_legacy(obj, path):
    with open(path, "wb") as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4)), f, protocol=2)
        storages = pickle_obj(obj, f, legacy=True)
        keyed = {str(i): s for i, s in enumerate(storages)}
        keys = sorted(keyed)
        pickle.dump(keys, f, protocol=2)
        for k in keys:
            v = keyed[k].values
            f.write(len(v).to_bytes(8, "little"))
            f.write(v.tobytes())
    return storages


def main():
    os.makedirs(OUT, exist_ok=True)
    files = []
    for name, saver in [
        ("checkpoint_zip.pt", lambda o, p: save_zip(o, p, "checkpoint_zip")),
        ("checkpoint_archive.pt", lambda o, p: save_zip(o, p, "archive")),
        ("checkpoint_big_endian.pt", lambda o, p: save_zip(o, p, "archive", big_endian=True)),
        ("checkpoint_legacy.pt", save_legacy),
        ("lazy_zip.pt", lambda o, p: save_zip(o, p, "archive")),
        ("lazy_legacy.pt", save_legacy),
    ]:
        rng = np.random.default_rng(len(files))
        obj = checkpoint(rng, big_storage=16384 if name.startswith("lazy") else 0)
        storages = saver(obj, os.path.join(OUT, name))
        out = []
        collect(obj, "", out, set())
        files.append({"file": name, "tensors": out, "storage_bytes": sum(s.values.nbytes for s in storages)})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"files": files}, f, indent=1, sort_keys=True)
    print("wrote %d checkpoints to %s" % (len(files), OUT))


if __name__ == "__main__":
    main()
