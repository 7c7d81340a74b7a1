#!/usr/bin/env python3
"""Checkpoints written by real PyTorch, for the dtypes the fake-torch fixtures
(gen_torch_fixtures.py) cannot make: quantized tensors (`_rebuild_qtensor`,
per tensor and per channel) and the dtypes saved through an `UntypedStorage`
with `_rebuild_tensor_v3` (complex32, uint16/32/64, float8).

    python3 tests/scripts/gen_real_torch_fixtures.py [OUT_DIR]   (needs torch; run by hand, not in CI)

Writes real_torch.pt (zip), real_torch_legacy.pt (_use_new_zipfile_serialization=False)
and real_torch.json: torch's version and per tensor its path, dtype, shape,
stride, storage_offset, the sha256 of its elements' bytes in C order
(quantized: the stored integers, `int_repr()`), and for quantized tensors the
dequantized values.
"""
import hashlib
import json
import os
import sys

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "torch")

g = torch.Generator().manual_seed(18)
x = torch.randn(3, 4, generator=g)
obj = {
    "q_per_tensor": torch.quantize_per_tensor(x, scale=0.05, zero_point=7, dtype=torch.quint8),
    "q_per_channel": torch.quantize_per_channel(
        x, scales=torch.tensor([0.1, 0.02, 0.5], dtype=torch.float64),
        zero_points=torch.tensor([0, -3, 2]), axis=0, dtype=torch.qint8),
    "q_per_channel_axis1": torch.quantize_per_channel(
        x, scales=torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64),
        zero_points=torch.tensor([1, 2, 3, 4]), axis=1, dtype=torch.quint8),
    "q_int32": torch.quantize_per_tensor(x, scale=0.001, zero_point=-5, dtype=torch.qint32),
    "complex32": torch.tensor([1 + 2j, -3.5 + 0.25j, 0 - 1j], dtype=torch.complex32),
    "complex32_t": torch.randn(2, 3, dtype=torch.complex64, generator=g).to(torch.complex32).t(),
    "uint16": torch.tensor([0, 1, 65535], dtype=torch.uint16),
    "uint32": torch.tensor([0, 4000000000], dtype=torch.uint32),
    "uint64": torch.tensor([2**63 + 5], dtype=torch.uint64),
    "float8_e4m3fn": x.to(torch.float8_e4m3fn),
    "float8_e5m2": x.to(torch.float8_e5m2)[1:],
    "bfloat16": x.to(torch.bfloat16),
    "float32": x,
    # torch 2.7+'s sub-byte and bit dtypes, made by views of integers.
    "float8_e8m0fnu": torch.tensor([1, 2, 127, 128, 254], dtype=torch.uint8).view(torch.float8_e8m0fnu),
    "float4_e2m1fn_x2": torch.tensor([[0x12, 0x34, 0x56], [0x78, 0x9A, 0xBC]], dtype=torch.uint8).view(torch.float4_e2m1fn_x2),
    "float4_e2m1fn_x2_col": torch.tensor([[0x12, 0x34, 0x56], [0x78, 0x9A, 0xBC]], dtype=torch.uint8).view(torch.float4_e2m1fn_x2)[:, 1],
    "bits16": torch.tensor([1, -2, 300], dtype=torch.int16).view(torch.bits16),
    "bits8": torch.tensor([7, 8], dtype=torch.uint8).view(torch.bits8),
    "bcomplex32": torch.tensor([0x3F80C000, 0x40000000], dtype=torch.int32).view(torch.bcomplex32),
}


def element_bytes(t):
    if t.is_quantized:
        t = t.int_repr()
    if t.dtype in BYTE_VIEWED:
        # No copy kernels for these dtypes: C order by way of their bytes.
        t = t.view(torch.uint8).contiguous()
    t = t.contiguous()
    if t.dtype == torch.complex32:
        t = t.view(torch.float16)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


BYTE_VIEWED = (torch.float8_e8m0fnu, torch.float4_e2m1fn_x2, torch.bits16, torch.bits8)

tensors = []
for path, t in obj.items():
    entry = {"path": f"[{path!r}]", "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
             "stride": list(t.stride()), "storage_offset": t.storage_offset(),
             "sha256": hashlib.sha256(element_bytes(t)).hexdigest()}
    if t.is_quantized:
        entry["dequantized"] = [float(v) for v in t.dequantize().double().flatten()]
    tensors.append(entry)

os.makedirs(OUT, exist_ok=True)
torch.save(obj, os.path.join(OUT, "real_torch.pt"))
torch.save(obj, os.path.join(OUT, "real_torch_legacy.pt"), _use_new_zipfile_serialization=False)
with open(os.path.join(OUT, "real_torch.json"), "w") as f:
    json.dump({"torch": torch.__version__, "files": ["real_torch.pt", "real_torch_legacy.pt"], "tensors": tensors}, f, indent=1)
    f.write("\n")

# torch.save(pickle_protocol=p) writes every pickle of the file, the legacy
# format's magic number first, at that protocol: readers must know the
# magic number by value, not by its protocol-2 bytes.
small = {"w": x[:2], "n": torch.tensor([1, 2, 3]), "h": x.to(torch.float16)[0]}
for p in (1, 3, 4, 5):
    torch.save(small, os.path.join(OUT, f"legacy_p{p}.pt"), pickle_protocol=p, _use_new_zipfile_serialization=False)
    torch.save(small, os.path.join(OUT, f"zip_p{p}.pt"), pickle_protocol=p)
torch.save(small, os.path.join(OUT, "legacy_p2.pt"), _use_new_zipfile_serialization=False)
