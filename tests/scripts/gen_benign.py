#!/usr/bin/env python3
"""Write the benign fixture set for `pickle scan` (no file may be flagged dangerous).

    python3 tests/scripts/gen_benign.py [OUT_DIR]   (default tests/fixtures/benign)

Takes the small files (under 4 KiB) of ../shared/conformance/gen_corpus.py's public
set and, when numpy/pandas/scikit-learn/joblib are installed, of gen_ml.py's public
and variant sets, so the no-false-alarm test runs without numpy. Adds torch-style
files assembled opcode by opcode (torch need not be installed): a zip checkpoint
whose archive/data.pkl rebuilds tensors from persistent storage ids, and a legacy
(non-zip) checkpoint with its five pickles and raw storages; and a joblib file
holding an object array (a nested pickle inside the stream).
"""
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE = os.path.join(HERE, "..", "..", "..", "shared", "conformance")
LIMIT = 4096


def uni2(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def glob0(m, n):
    return b"c" + m.encode() + b"\n" + n.encode() + b"\n"


def tensor(key, numel, shape):
    """torch._utils._rebuild_tensor_v2(pid, 0, shape, stride, False, OrderedDict()) at protocol 2."""
    pid = b"(" + uni2("storage") + glob0("torch", "FloatStorage") + uni2(key) + uni2("cpu") + b"K" + bytes([numel]) + b"tQ"
    stride = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        stride[i] = stride[i + 1] * shape[i + 1]
    tup = lambda xs: b"(" + b"".join(b"K" + bytes([x]) for x in xs) + b"t"
    return (glob0("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + b"K\x00" + tup(shape) + tup(stride)
            + b"\x89" + glob0("collections", "OrderedDict") + b")Rt" + b"R")


def state_dict():
    return (b"\x80\x02" + glob0("collections", "OrderedDict") + b")R(" + uni2("fc.weight") + tensor("0", 6, [2, 3])
            + uni2("fc.bias") + tensor("1", 2, [2]) + b"u.")


def torch_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", state_dict())
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/data/0", struct.pack("<6f", *range(6)))
        z.writestr("archive/data/1", struct.pack("<2f", 0.5, -0.5))
        z.writestr("archive/version", b"3\n")
    return buf.getvalue()


def legacy_torch():
    out = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # magic number
    out += b"\x80\x02M\xe9\x03."  # protocol version 1001
    out += (b"\x80\x02}(" + uni2("protocol_version") + b"M\xe9\x03" + uni2("little_endian") + b"\x88"
            + uni2("type_sizes") + b"}(" + uni2("short") + b"K\x02" + uni2("int") + b"K\x04" + uni2("long") + b"K\x04uu.")
    out += state_dict()
    out += b"\x80\x02(" + uni2("0") + uni2("1") + b"l."  # storage keys
    out += struct.pack("<Q", 6) + struct.pack("<6f", *range(6))
    out += struct.pack("<Q", 2) + struct.pack("<2f", 0.5, -0.5)
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures", "benign")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    tmp = tempfile.mkdtemp()
    try:
        runs = [("corpus", "gen_corpus.py", [])]
        try:
            import joblib  # noqa: F401
            import numpy  # noqa: F401
            import pandas  # noqa: F401
            import sklearn  # noqa: F401
            runs += [("ml", "gen_ml.py", []), ("mlv", "gen_ml.py", ["--set", "variant", "--seed", "7"])]
        except ImportError:
            print("numpy/pandas/scikit-learn/joblib missing: no ML fixtures")
        for prefix, script, extra in runs:
            d = os.path.join(tmp, prefix)
            subprocess.run([sys.executable, os.path.join(CONFORMANCE, script), d] + extra, check=True, stdout=subprocess.DEVNULL)
            for name in sorted(os.listdir(d)):
                p = os.path.join(d, name)
                if name.endswith((".pkl", ".joblib")) and os.path.getsize(p) < LIMIT:
                    shutil.copy(p, os.path.join(out, "%s_%s" % (prefix, name)))
        try:
            import joblib
            import numpy as np
            p = os.path.join(out, "joblib_object_array.joblib")
            joblib.dump({"objects": np.array([1, "two", None], dtype=object), "floats": np.arange(3.0)}, p)
        except ImportError:
            pass
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(out, "torch_state_dict.pt"), "wb") as f:
        f.write(torch_zip())
    with open(os.path.join(out, "torch_legacy_state_dict.pt"), "wb") as f:
        f.write(legacy_torch())
    print("wrote %d benign files to %s" % (len(os.listdir(out)), out))


if __name__ == "__main__":
    main()
