#!/usr/bin/env python3
"""Damaged checkpoints written by real PyTorch, for the CRC-32 checks of
`torch::Checkpoint` (tests/torch.rs):

    python3 tests/scripts/gen_torch_damaged_fixtures.py [OUT_DIR]   (needs torch; run by hand, not in CI)

torch.save writes one small state dict (a storage shared by a tensor and its
transpose among them); then

* damaged_data.pt: one byte of the storage record `<archive>/data/<key>` of
  the `weight` tensor flipped (its CRC-32 no longer matches);
* damaged_crc.pt: the data intact, the CRC-32 of the `bias` tensor's record
  changed in the central directory and the local header;

and damaged.json: per tensor its path, dtype, shape and the sha256 of its
elements' bytes (C order) as saved, and per file the member damaged and the
tensor whose storage it holds. torch itself (miniz built without CRC checks)
loads both files, the first with one wrong value.
"""
import hashlib
import json
import os
import struct
import sys
import zipfile

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "torch")

g = torch.Generator().manual_seed(19)
base = torch.randn(3, 5, generator=g)
obj = {
    "weight": torch.randn(4, 3, generator=g),
    "bias": torch.randn(4, generator=g),
    "base": base,
    "base_t": base.t(),
    "half": torch.randn(6, generator=g).to(torch.bfloat16),
}


def element_bytes(t):
    return t.contiguous().view(torch.uint8).numpy().tobytes()


def storage_member(data, tensor_name):
    """The zip member holding a tensor's storage: load the pickle and read the key."""
    import pickle

    with zipfile.ZipFile(data) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        keys = {}

        class U(pickle.Unpickler):
            def persistent_load(self, pid):
                return pid[2]

            def find_class(self, mod, name):
                if name == "_rebuild_tensor_v2":
                    return lambda key, *a: key
                return super().find_class(mod, name)

        with z.open(pkl) as f:
            keys = U(f).load()
        return pkl.rsplit("/", 1)[0] + "/data/" + keys[tensor_name]


path = os.path.join(OUT, "damaged_data.pt")
torch.save(obj, path)
raw = bytearray(open(path, "rb").read())

with zipfile.ZipFile(path) as z:
    flipped = storage_member(path, "weight")
    info = z.getinfo(flipped)
    corrupted = storage_member(path, "bias")
    info_crc = z.getinfo(corrupted)
    cd = z.start_dir


def data_offset(info):
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


damaged = bytearray(raw)
damaged[data_offset(info) + 5] ^= 0x40
open(path, "wb").write(damaged)

# The CRC of `bias`'s record, changed where zip keeps it: the local header
# (offset 14) and its central directory entry (offset 16).
bad = bytearray(raw)
new_crc = struct.pack("<I", info_crc.CRC ^ 0x1)
bad[info_crc.header_offset + 14:info_crc.header_offset + 18] = new_crc
i = cd
while True:
    assert bad[i:i + 4] == b"PK\x01\x02"
    n, e, c = struct.unpack("<HHH", bad[i + 28:i + 34])
    if bad[i + 46:i + 46 + n].decode() == corrupted:
        bad[i + 16:i + 20] = new_crc
        break
    i += 46 + n + e + c
open(os.path.join(OUT, "damaged_crc.pt"), "wb").write(bad)

# torch reads both (its miniz does not check CRC-32s).
assert torch.equal(torch.load(os.path.join(OUT, "damaged_crc.pt"))["bias"], obj["bias"])
assert not torch.equal(torch.load(path)["weight"], obj["weight"])

manifest = {
    "torch": torch.__version__,
    "tensors": [
        {"path": f"[{k!r}]", "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
         "sha256": hashlib.sha256(element_bytes(t)).hexdigest()}
        for k, t in obj.items()
    ],
    "files": {
        "damaged_data.pt": {"member": flipped, "tensor": "['weight']"},
        "damaged_crc.pt": {"member": corrupted, "tensor": "['bias']"},
    },
}
with open(os.path.join(OUT, "damaged.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
