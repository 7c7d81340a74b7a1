#!/usr/bin/env python3
"""What real PyTorch makes of the checkpoints `pickle_codec::torch::save`
writes (tests/torch_save.rs, `fixtures`).

    python3 tests/scripts/check_torch_save.py --record [DIR]   (needs torch; by hand, not in CI)
    python3 tests/scripts/check_torch_save.py --check DIR      (run by tests/torch_save.rs where torch imports)

DIR holds the checkpoints (default tests/fixtures/torch/written, written by
`PICKLE_CODEC_WRITE_TORCH_FIXTURES=1 cargo test --features torch --test
torch_save`). For each, the script

* loads it with `torch.load(path, weights_only=True)` and lists, in the
  order a depth-first walk meets them, every container's type (dict,
  OrderedDict, list, tuple), every tensor's dtype, shape, stride, storage
  offset, requires_grad, whether it is an nn.Parameter and the sha256 of its
  bytes (C order), and every other value's repr;
* builds the same object here, from the same definitions as the Rust test
  (`fixtures()` below mirrors `fixtures()` there), saves it with
  `torch.save` under the same file name, and compares the two files byte
  for byte, the serialization id record (random in torch) masked; where
  they differ, it says whether data.pkl does, and where.

--record writes tests/fixtures/torch/written_expect.json; --check compares
with it and exits 1 on any difference.
"""
import collections
import hashlib
import io
import json
import math
import os
import struct
import sys
import tempfile
import zipfile

import warnings

import torch

warnings.filterwarnings("ignore", message="ComplexHalf support is experimental")
warnings.filterwarnings("ignore", message="BComplex32 support is experimental")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "torch")
EXPECT = os.path.join(FIXTURES, "written_expect.json")

DTYPES = [
    (torch.float32, (2, 3)),
    (torch.float64, (4,)),
    (torch.float16, (3, 2)),
    (torch.bfloat16, (5,)),
    (torch.int8, (2, 2, 2)),
    (torch.int16, (3,)),
    (torch.int32, (1, 4)),
    (torch.int64, (2,)),
    (torch.uint8, (7,)),
    (torch.bool, (3, 3)),
    (torch.complex64, (2,)),
    (torch.complex128, (1,)),
    (torch.complex32, (3,)),
    (torch.uint16, (4,)),
    (torch.uint32, (2, 2)),
    (torch.uint64, (3,)),
    (torch.float8_e4m3fn, (6,)),
    (torch.float8_e5m2, (2, 3)),
    (torch.float8_e4m3fnuz, (4,)),
    (torch.float8_e5m2fnuz, (1, 1, 2)),
    (torch.float8_e8m0fnu, (3,)),
    (torch.float4_e2m1fn_x2, (2, 2)),
    (torch.bcomplex32, (2,)),
    (torch.bits8, (3,)),
    (torch.bits16, (2,)),
    (torch.bits1x8, (2,)),
    (torch.bits2x4, (1,)),
    (torch.bits4x2, (4,)),
]


def name(dtype):
    return str(dtype).removeprefix("torch.")


def pattern(n, seed):
    return bytes((i * 31 + seed * 17 + 7) % 251 for i in range(n))


def T(dtype, shape, seed):
    """A tensor of pattern bytes (bools 0 and 1), with a storage of its own."""
    n = math.prod(shape) * dtype.itemsize
    b = pattern(n, seed)
    if dtype == torch.bool:
        b = bytes(x & 1 for x in b)
    u = torch.tensor(list(b), dtype=torch.uint8)
    return u.view(dtype).reshape(shape)


def P(t, requires_grad=True):
    return torch.nn.Parameter(t, requires_grad=requires_grad)


def fixtures():
    sd = collections.OrderedDict()
    for i, (d, shape) in enumerate(DTYPES):
        sd[f"layers.{i}.{name(d)}"] = T(d, shape, i)
    sd["scalar"] = T(torch.float32, (), 30)
    sd["empty"] = T(torch.float32, (0,), 31)
    sd["empty3d"] = T(torch.int64, (3, 0, 2), 32)
    sd["grad"] = T(torch.float32, (2,), 33).requires_grad_(True)
    sd["param"] = P(T(torch.float32, (3,), 34))
    sd["frozen"] = P(T(torch.int64, (2,), 35), requires_grad=False)
    sd["param_bf16"] = P(T(torch.bfloat16, (2,), 36))
    sd["param_u16"] = P(T(torch.uint16, (2,), 37), requires_grad=False)
    sd["np.fortran"] = T(torch.int32, (2, 3), 38)
    sd["np.big"] = T(torch.float64, (3,), 39)
    sd["np.big_fortran"] = T(torch.int16, (3, 2), 40)
    sd["np.f4"] = torch.tensor([1.5, -2.0], dtype=torch.float32)
    sd["half"] = torch.tensor([1.0, -2.0], dtype=torch.float16)

    checkpoint = {
        "epoch": 3,
        "step": 2**40,
        "big": 2**70,
        "neg_big": -(2**70),
        "neg": -5,
        "lr": 1e-3,
        "nan": float("nan"),
        "inf": float("inf"),
        "ninf": float("-inf"),
        "negzero": -0.0,
        "name": "resnet",
        "device": "cpu",
        "storage": "storage",
        "note": "caf\u00e9 \u2615 two words",
        "x": "x",
        "empty_str": "",
        "flags": [True, False, None],
        "shape": (3, 4),
        "single": (1,),
        "empty_list": [],
        "empty_tuple": (),
        "empty_dict": {},
        "empty_od": collections.OrderedDict(),
        "model": collections.OrderedDict(
            [("weight", T(torch.float32, (2, 2), 100)), ("bias", T(torch.float32, (2,), 101))]
        ),
        "history": [T(torch.float64, (2,), 102), (T(torch.int8, (1,), 103), "tag")],
        "nested": {"a": [1, (2, "y")], "od": collections.OrderedDict([("b", 1.5)])},
        "ints": list(range(1500)),
        "wide": collections.OrderedDict((f"k{i}", i) for i in range(1001)),
        "wide_dict": {f"d{i}": i for i in range(1001)},
    }
    many = collections.OrderedDict(
        (f"blocks.{i}.weight", T(torch.float32, (2,), 1000 + i)) for i in range(40)
    )
    list_root = [T(torch.uint16, (2,), 300), T(torch.float8_e5m2, (2,), 301), 1, "a"]
    # A tied weight: two names, two tensors, one storage.
    w = T(torch.float32, (2, 2), 500)
    tied = collections.OrderedDict(
        [("embed.weight", w), ("other", T(torch.float32, (2,), 501)), ("head.weight", w.detach())]
    )
    # An optimizer's state dict: its `state` keyed by parameter index.
    optimizer = {
        "state": {
            0: {"step": T(torch.float32, (), 400), "exp_avg": T(torch.float32, (2,), 401)},
            1: {"step": T(torch.float32, (), 402), "exp_avg": T(torch.float32, (3,), 403)},
        },
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}],
        "odd_keys": {-1: "neg", 2**70: "big", -(2**70): "neg_big", "s": 0, 255: "u8", 65536: "u32"},
    }
    return {
        "state_dict.pt": sd,
        "checkpoint.pt": checkpoint,
        "empty.pt": collections.OrderedDict(),
        "tensor.pt": T(torch.float32, (2, 2), 200),
        "many.pt": many,
        "list_root.pt": list_root,
        "optimizer.pt": optimizer,
        "tied.pt": tied,
    }


def tensor_bytes(t):
    t = t.detach().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


def plain(v):
    return not isinstance(v, (torch.Tensor, dict, list, tuple))


def entries(obj):
    """What torch.load gave, depth first; a container of plain values is
    one entry with its items' reprs."""
    out = []

    def walk(v, path):
        if isinstance(v, torch.Tensor):
            out.append({"path": path, "tensor": {
                "dtype": name(v.dtype), "shape": list(v.shape), "stride": list(v.stride()),
                "storage_offset": v.storage_offset(), "requires_grad": v.requires_grad,
                "parameter": isinstance(v, torch.nn.Parameter),
                "sha256": hashlib.sha256(tensor_bytes(v)).hexdigest()}})
        elif type(v) in (dict, collections.OrderedDict):
            e = {"path": path, "type": type(v).__name__}
            out.append(e)
            if all(plain(x) for x in v.values()):
                e["items"] = [[repr(k), repr(x)] for k, x in v.items()]
            else:
                for k, x in v.items():
                    walk(x, f"{path}[{k!r}]")
        elif type(v) in (list, tuple):
            e = {"path": path, "type": type(v).__name__}
            out.append(e)
            if all(plain(x) for x in v):
                e["items"] = [repr(x) for x in v]
            else:
                for i, x in enumerate(v):
                    walk(x, f"{path}[{i}]")
        else:
            out.append({"path": path, "repr": repr(v)})

    walk(obj, "")
    return out


def masked(data):
    """The file with the serialization id record's data and CRC-32s zeroed."""
    data = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    for info in z.infolist():
        if not info.filename.endswith("/.data/serialization_id"):
            continue
        off = info.header_offset
        name_len, extra_len = struct.unpack("<HH", data[off + 26:off + 30])
        start = off + 30 + name_len + extra_len
        data[start:start + info.file_size] = bytes(info.file_size)
        crc = struct.pack("<I", info.CRC)
        end = start + info.file_size
        if data[end:end + 4] == b"PK\x07\x08" and data[end + 4:end + 8] == crc:
            data[end + 4:end + 8] = bytes(4)
        # The central entry (the last member's name last): its CRC at +16.
        at = data.rfind(info.filename.encode())
        entry = at - 46
        assert data[entry:entry + 4] == b"PK\x01\x02", info.filename
        data[entry + 16:entry + 20] = bytes(4)
    return bytes(data)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else None


def compare_with_torch(path, obj, notes):
    ours = open(path, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        theirs_path = os.path.join(tmp, os.path.basename(path))
        torch.save(obj, theirs_path)
        theirs = open(theirs_path, "rb").read()
    same = masked(ours) == masked(theirs)
    if not same:
        zo, zt = zipfile.ZipFile(io.BytesIO(ours)), zipfile.ZipFile(io.BytesIO(theirs))
        no, nt = zo.namelist(), zt.namelist()
        if no != nt:
            notes.append(f"members differ: ours {no}, torch {nt}")
        pkl = [n for n in no if n.endswith("/data.pkl")][0]
        po, pt = zo.read(pkl), zt.read(pkl) if pkl in nt else b""
        if po != pt:
            notes.append(f"data.pkl differs from byte {first_difference(po, pt)} (ours {len(po)} bytes, torch {len(pt)})")
        else:
            notes.append(f"data.pkl is the same; the files differ from byte {first_difference(masked(ours), masked(theirs))}")
    return same


def survey(directory):
    objs = fixtures()
    result = {}
    problems = []
    for file, obj in objs.items():
        path = os.path.join(directory, file)
        loaded = torch.load(path, weights_only=True)
        notes = []
        same = compare_with_torch(path, obj, notes)
        problems.extend(f"{file}: {n}" for n in notes)
        result[file] = {"same_as_torch_save": same, "entries": entries(loaded)}
        # torch.load gives back what was built here.
        if entries(loaded) != entries(obj):
            problems.append(f"{file}: torch.load gives another object than the one built in Python")
    return result, problems


def write_expectation(doc, f):
    """JSON with an entry a line."""
    f.write("{\n")
    f.write(f' "torch": {json.dumps(doc["torch"])},\n "python": {json.dumps(doc["python"])},\n "files": {{\n')
    files = list(doc["files"].items())
    for i, (file, r) in enumerate(files):
        f.write(f'  {json.dumps(file)}: {{"same_as_torch_save": {json.dumps(r["same_as_torch_save"])}, "entries": [\n')
        f.write(",\n".join("   " + json.dumps(e, ensure_ascii=False) for e in r["entries"]))
        f.write("\n  ]}" + ("," if i + 1 < len(files) else "") + "\n")
    f.write(" }\n}\n")


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("--record", "--check"):
        sys.exit(__doc__)
    mode = args[0]
    directory = args[1] if len(args) > 1 else os.path.join(FIXTURES, "written")
    files, problems = survey(directory)
    for p in problems:
        print("note:", p)
    doc = {"torch": torch.__version__, "python": sys.version.split()[0], "files": files}
    if mode == "--record":
        with open(EXPECT, "w") as f:
            write_expectation(doc, f)
        print(f"wrote {EXPECT}")
        return
    want = json.load(open(EXPECT))
    bad = 0
    for file, got in files.items():
        w = want["files"].get(file)
        if w != got:
            bad += 1
            print(f"{file}: torch {torch.__version__} reads it otherwise than {want['torch']} did")
            if w:
                for i, (a, b) in enumerate(zip(got["entries"], w["entries"])):
                    if a != b:
                        print(f"  entry {i}: now {a}, recorded {b}")
                        break
    if set(files) != set(want["files"]):
        bad += 1
        print(f"files: now {sorted(files)}, recorded {sorted(want['files'])}")
    if bad:
        sys.exit(1)
    print(f"{len(files)} checkpoints read by torch {torch.__version__} as recorded")


if __name__ == "__main__":
    main()
