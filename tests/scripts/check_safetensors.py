#!/usr/bin/env python3
"""Real PyTorch and Python's safetensors against `pickle_codec::torch::safetensors`
(tests/safetensors.rs).

    python3 tests/scripts/check_safetensors.py --generate       (needs torch and safetensors; by hand)
    python3 tests/scripts/check_safetensors.py --generate-subbyte   (subbyte.pt and .safetensors only)
    python3 tests/scripts/check_safetensors.py --record DIR     (by hand, after the Rust test wrote DIR)
    python3 tests/scripts/check_safetensors.py --check DIR      (run by tests/safetensors.rs where both import)

--generate writes, in tests/fixtures/safetensors/:

* from_torch.pt: `torch.save` of a nested checkpoint: a module's
  `state_dict()` (with tied weights, a batch norm's buffers, and the
  `_metadata` attribute torch gives it), views (a transpose, slices with a
  storage offset and a step, an expanded row), every dtype safetensors and
  torch share, lists, a scalar and empty tensors;
* python.safetensors: `safetensors.torch.save_file` of that checkpoint
  flattened as `state_dict()` names (keys joined by '.', list indices as
  numbers), each tensor `.contiguous().clone()` (save_file refuses shared
  memory);
* python_meta.safetensors: the same with `metadata={"format": "pt"}`;
* and the "python" part of expect.json: every tensor's name, safetensors
  dtype, shape and the sha256 of its bytes, in the order of the file.

DIR holds what the Rust test wrote: ours.safetensors (from_torch.pt
converted) and ours.pt (python.safetensors converted). --record and --check
have `safetensors.torch.load_file` read ours.safetensors and compare every
tensor with the checkpoint's own (torch.equal, dtype, shape, the set of
names), compare its bytes with python.safetensors, and have
`torch.load(weights_only=True)` read ours.pt: an OrderedDict of
load_file's tensors in the order of the file, and the bytes `torch.save`
writes for it (the random serialization id masked). --record writes that
verdict with the sha256 of both files to the "ours" part of expect.json;
--check compares with it and exits 1 on any difference.
"""
import collections
import hashlib
import json
import os
import sys
import tempfile
import zipfile

import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "safetensors")
EXPECT = os.path.join(FIXTURES, "expect.json")

# torch's dtypes that safetensors has, with a shape each.
DTYPES = [
    (torch.float64, (4,)),
    (torch.float32, (2, 3)),
    (torch.float16, (3, 2)),
    (torch.bfloat16, (5,)),
    (torch.int64, (2,)),
    (torch.int32, (1, 4)),
    (torch.int16, (3,)),
    (torch.int8, (2, 2, 2)),
    (torch.uint8, (7,)),
    (torch.bool, (3, 3)),
    (torch.uint16, (4,)),
    (torch.uint32, (2, 2)),
    (torch.uint64, (3,)),
    (torch.complex64, (2,)),
    (torch.float8_e4m3fn, (6,)),
    (torch.float8_e5m2, (2, 3)),
    (torch.float8_e4m3fnuz, (4,)),
    (torch.float8_e5m2fnuz, (1, 1, 2)),
]


def name(dtype):
    return str(dtype).removeprefix("torch.")


def pattern(n, seed):
    return bytes((i * 31 + seed * 17 + 7) % 251 for i in range(n))


def T(dtype, shape, seed):
    """A tensor of pattern bytes (bools 0 and 1)."""
    n = 1
    for d in shape:
        n *= d
    size = torch.empty((), dtype=dtype).element_size()
    b = bytearray(pattern(n * size, seed))
    if dtype == torch.bool:
        b = bytearray(x & 1 for x in b)
    return torch.frombuffer(b, dtype=torch.uint8).view(dtype).reshape(shape).clone() if n else torch.empty(shape, dtype=dtype)


def checkpoint():
    torch.manual_seed(19)
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.BatchNorm1d(4))
    m[2].weight = m[0].weight  # tied: two state-dict tensors, one storage
    x = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    return {
        "model": m.state_dict(),
        "views": {
            "t": x.t(),
            "slice": x[1:, 2:],
            "step": x[::2],
            "row": x[2],
            "expand": x[0].expand(3, 5),
            "whole": x,
        },
        "dtypes": collections.OrderedDict((name(d), T(d, s, i)) for i, (d, s) in enumerate(DTYPES)),
        "layers": [T(torch.float32, (2,), 40), (T(torch.int64, (1,), 41), T(torch.float16, (2, 1), 42))],
        "shapes": {"scalar": torch.tensor(3.5), "empty": torch.zeros(0), "empty3d": torch.zeros(3, 0, 2, dtype=torch.int32)},
        7: T(torch.uint8, (2,), 43),
    }


def flatten(obj, prefix=None):
    """(name, tensor) as state_dict() names: dict keys and list indices joined by '.'."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
        return
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        yield from flatten(v, str(k) if prefix is None else f"{prefix}.{k}")


def tensor_bytes(t):
    t = t.contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


def sha(b):
    return hashlib.sha256(b).hexdigest()


def describe(path):
    """Every tensor of a safetensors file, in the order of its bytes."""
    out = []
    with safe_open(path, framework="pt") as f:
        header_len = int.from_bytes(open(path, "rb").read(8), "little")
        header = json.loads(open(path, "rb").read(8 + header_len)[8:])
        header.pop("__metadata__", None)
        for k in sorted(header, key=lambda k: header[k]["data_offsets"]):
            t = f.get_tensor(k)
            out.append({"name": k, "dtype": header[k]["dtype"], "shape": list(t.shape), "sha256": sha(tensor_bytes(t))})
        meta = f.metadata()
    return out, meta


def load_expect():
    if os.path.exists(EXPECT):
        with open(EXPECT) as f:
            return json.load(f)
    return {}


def save_expect(e):
    with open(EXPECT, "w") as f:
        json.dump(e, f, indent=1, sort_keys=True)
        f.write("\n")


def generate():
    os.makedirs(FIXTURES, exist_ok=True)
    ck = checkpoint()
    torch.save(ck, os.path.join(FIXTURES, "from_torch.pt"))
    flat = {k: v.contiguous().clone() for k, v in flatten(ck)}
    save_file(flat, os.path.join(FIXTURES, "python.safetensors"))
    save_file(flat, os.path.join(FIXTURES, "python_meta.safetensors"), metadata={"format": "pt"})
    tensors, _ = describe(os.path.join(FIXTURES, "python.safetensors"))
    _, meta = describe(os.path.join(FIXTURES, "python_meta.safetensors"))
    e = load_expect()
    e["python"] = {"torch": torch.__version__, "safetensors": __import__("safetensors").__version__,
                   "tensors": tensors, "metadata": meta}
    save_expect(e)
    print(f"wrote {len(tensors)} tensors")


def masked(path):
    """A checkpoint's records, the serialization id's bytes masked."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, i.header_offset, z.read(i) if not i.filename.endswith("serialization_id") else None)
                for i in z.infolist()]


def verdict(d):
    ours_st = os.path.join(d, "ours.safetensors")
    ours_pt = os.path.join(d, "ours.pt")
    python_st = os.path.join(FIXTURES, "python.safetensors")
    problems = []

    # Our safetensors file, read by Python's safetensors.
    want = dict(flatten(torch.load(os.path.join(FIXTURES, "from_torch.pt"), weights_only=True)))
    got = load_file(ours_st)
    if sorted(got) != sorted(want):
        problems.append(f"names differ: {sorted(set(got) ^ set(want))}")
    for k in want:
        if k in got and not (got[k].dtype == want[k].dtype and got[k].shape == want[k].shape
                             and tensor_bytes(got[k]) == tensor_bytes(want[k])):
            problems.append(f"tensor {k} differs")
    same_as_save_file = open(ours_st, "rb").read() == open(python_st, "rb").read()

    # Our checkpoint, read by torch.
    sd = torch.load(ours_pt, weights_only=True)
    order = [t["name"] for t in describe(python_st)[0]]
    ref = load_file(python_st)
    if type(sd) is not collections.OrderedDict:
        problems.append(f"ours.pt holds a {type(sd).__name__}")
    if list(sd) != order:
        problems.append("ours.pt's keys are not the file's order")
    for k in order:
        if k in sd and not (sd[k].dtype == ref[k].dtype and sd[k].shape == ref[k].shape
                            and tensor_bytes(sd[k]) == tensor_bytes(ref[k])):
            problems.append(f"ours.pt: tensor {k} differs")
    with tempfile.TemporaryDirectory() as tmp:
        theirs = os.path.join(tmp, "ours.pt")
        torch.save(collections.OrderedDict((k, ref[k].clone()) for k in order), theirs)
        same_as_torch_save = masked(theirs) == masked(ours_pt)

    return {
        "problems": problems,
        "same_as_save_file": same_as_save_file,
        "same_as_torch_save": same_as_torch_save,
        "ours.safetensors": sha(open(ours_st, "rb").read()),
        "ours.pt": sha(open(ours_pt, "rb").read()),
        "torch": torch.__version__,
        "safetensors": __import__("safetensors").__version__,
    }


def generate_subbyte():
    """subbyte.pt and subbyte.safetensors: the dtypes whose safetensors
    names this safetensors can write but its load_file cannot read
    (F8_E8M0, and F4, whose shape counts 4-bit values: torch's last
    dimension doubled), kept apart from the files --record loads."""
    sd = collections.OrderedDict([
        ("e8m0", T(torch.float8_e8m0fnu, (3,), 50)),
        ("f4", T(torch.float4_e2m1fn_x2, (2, 3), 51)),
        ("f4.row", T(torch.float4_e2m1fn_x2, (5,), 52)),
        ("f32", T(torch.float32, (2,), 53)),
    ])
    torch.save(sd, os.path.join(FIXTURES, "subbyte.pt"))
    save_file(sd, os.path.join(FIXTURES, "subbyte.safetensors"))


def main():
    if sys.argv[1:2] == ["--generate"]:
        generate()
        generate_subbyte()
        return 0
    if sys.argv[1:2] == ["--generate-subbyte"]:
        generate_subbyte()
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in ("--record", "--check"):
        print(__doc__)
        return 2
    v = verdict(sys.argv[2])
    if sys.argv[1] == "--record":
        e = load_expect()
        e["ours"] = v
        save_expect(e)
        print(json.dumps(v, indent=1))
        return 0 if not v["problems"] else 1
    want = load_expect()["ours"]
    keys = ("problems", "same_as_save_file", "same_as_torch_save", "ours.safetensors", "ours.pt")
    diff = [k for k in keys if v[k] != want[k]]
    if diff or v["problems"]:
        print(json.dumps({"got": v, "recorded": want, "differ": diff}, indent=1))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
