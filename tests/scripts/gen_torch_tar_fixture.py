#!/usr/bin/env python3
"""A checkpoint in torch < 0.4's tar format, for `torch::Checkpoint`
(tests/torch.rs). torch >= 0.4 no longer writes it but still reads it
(`torch.serialization.legacy_load`), so this script writes the archive the
way torch 0.3's `_save` did and checks that today's torch.load reads it back:

    python3 tests/scripts/gen_torch_tar_fixture.py [OUT_DIR]   (needs torch; run by hand, not in CI)

A PAX tar of four members:

* sys_info: a pickle of {protocol_version: 1001, little_endian, type_sizes};
* pickle: the object, each tensor a persistent id, the str of its key;
* tensors: a pickle of the count, then per tensor a pickle of
  (key, storage key, tensor type) and its metadata: ndim as a little-endian
  int32 and 4 bytes of padding, ndim int64 sizes, ndim int64 strides, the
  int64 storage offset;
* storages: a pickle of the count, then per storage a pickle of
  (key, location, storage type), its element count as a little-endian
  int64 and its raw elements; then a pickle of the storage views,
  (view key, root key, offset, size) tuples.

Writes tar_format.pt and tar_format.json (per tensor its path, dtype, shape,
stride, storage offset and the sha256 of its elements' bytes in C order, as
torch.load gives them).
"""
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tarfile

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "torch")


class Ref:
    """A tensor of the object pickle, saved as the persistent id str(key)."""

    def __init__(self, key):
        self.key = key


# Storages: key -> (storage class, raw little-endian elements).
g = torch.Generator().manual_seed(4)
w = torch.randn(4, 3, generator=g)
seq = torch.arange(12, dtype=torch.int64)
h = torch.randn(5, generator=g).to(torch.float16)
storages = {
    101: (torch.FloatStorage, w.numpy().tobytes()),
    102: (torch.LongStorage, seq.numpy().tobytes()),
    103: (torch.HalfStorage, h.view(torch.int16).numpy().tobytes()),
}
# A view of storage 102 (elements 2..10), as torch 0.3 saved views.
views = [(104, 102, 2, 8)]
# Tensors: key -> (storage key, tensor type, sizes, strides, offset).
tensors = {
    1: (101, torch.FloatTensor, (4, 3), (3, 1), 0),
    2: (101, torch.FloatTensor, (3, 4), (1, 3), 0),  # the transpose, sharing 101
    3: (102, torch.LongTensor, (2, 3), (3, 1), 4),
    4: (104, torch.LongTensor, (4,), (2,), 1),  # through the view: elements 3, 5, 7, 9
    5: (103, torch.HalfTensor, (5,), (1,), 0),
    6: (101, torch.FloatTensor, (), (), 7),
}
obj = {"weight": Ref(1), "weight_t": Ref(2), "nested": [Ref(3), {"view": Ref(4)}],
       "half": Ref(5), "scalar": Ref(6), "epoch": 7}


def dumps(o):
    return pickle.dumps(o, protocol=2)


class P(pickle.Pickler):
    def persistent_id(self, o):
        return str(o.key) if isinstance(o, Ref) else None


def member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


sys_info = dumps({"protocol_version": 1001, "little_endian": True,
                  "type_sizes": {"short": 2, "int": 4, "long": 8}})
pk = io.BytesIO()
P(pk, protocol=2).dump(obj)
tens = io.BytesIO()
tens.write(dumps(len(tensors)))
for key, (sk, ty, sizes, strides, off) in tensors.items():
    tens.write(dumps((key, sk, ty)))
    tens.write(struct.pack("<i", len(sizes)) + b"\0" * 4)
    tens.write(struct.pack(f"<{len(sizes)}q", *sizes) + struct.pack(f"<{len(strides)}q", *strides))
    tens.write(struct.pack("<q", off))
stor = io.BytesIO()
stor.write(dumps(len(storages)))
for key, (ty, raw) in storages.items():
    stor.write(dumps((key, "cpu", ty)))
    itemsize = torch.empty(0, dtype=ty(0).dtype).element_size()
    stor.write(struct.pack("<q", len(raw) // itemsize))
    stor.write(raw)
stor.write(dumps(views))

path = os.path.join(OUT, "tar_format.pt")
with open(path, "wb") as f, tarfile.open(fileobj=f, mode="w:", format=tarfile.PAX_FORMAT) as tar:
    member(tar, "sys_info", sys_info)
    member(tar, "pickle", pk.getvalue())
    member(tar, "tensors", tens.getvalue())
    member(tar, "storages", stor.getvalue())

back = torch.load(path, weights_only=False)
assert torch.equal(back["weight"], w) and torch.equal(back["weight_t"], w.t())
assert back["nested"][1]["view"].tolist() == [3, 5, 7, 9]
flat = {"['weight']": back["weight"], "['weight_t']": back["weight_t"], "['nested'][0]": back["nested"][0],
        "['nested'][1]['view']": back["nested"][1]["view"], "['half']": back["half"], "['scalar']": back["scalar"]}
manifest = {
    "torch": torch.__version__,
    "tensors": [
        {"path": p, "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
         "stride": list(t.stride()), "storage_offset": t.storage_offset(),
         "sha256": hashlib.sha256(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()}
        for p, t in flat.items()
    ],
}
with open(os.path.join(OUT, "tar_format.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
