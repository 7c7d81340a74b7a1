#!/usr/bin/env python3
"""Write the numpy / scikit-learn / joblib fixtures of tests/ml.rs.

    python3 tests/scripts/gen_ml_fixtures.py [OUT_DIR]   (default tests/fixtures/ml)

Needs numpy, scikit-learn and joblib. The Rust tests only read the committed
output, so they run without Python. manifest.json lists every file:
  file, format ("pickle" | "joblib"), protocol, buffers (out-of-band buffer
  files, in order), encoding ("latin1" for the Python 2 style pickle),
  arrays: [{path, dtype, shape, order, sha256 (C-order little-endian values;
  null for object arrays), objects (repr of items, object arrays only)}],
  scalars: [{dtype, value}], predict: {X, y} for the scikit-learn models.
"""
import hashlib
import json
import os
import pickle
import struct
import sys

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "ml")


def order(a):
    return "F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C"


def expect(path, a):
    e = {"path": path, "dtype": a.dtype.str, "shape": list(a.shape), "order": order(a)}
    if a.dtype.hasobject:
        e["sha256"] = None
        e["objects"] = [repr(x) for x in a.ravel()]
    else:
        c = np.ascontiguousarray(a)
        le = c.astype(c.dtype.newbyteorder("<"))
        e["sha256"] = hashlib.sha256(le.tobytes()).hexdigest()
    return e


def arrays():
    yield "b1", np.array([[True, False, True], [False, False, True]])
    for t in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
        info = np.iinfo(t)
        yield t, np.array([[info.min, 0, 1], [2, info.max, 7]], dtype=t)
    for t in ["f2", "f4", "f8"]:
        yield t, (np.arange(6, dtype=t).reshape(2, 3) / 3).astype(t)
    yield "c8", np.array([1 + 2j, -0.5j, 3], dtype="c8")
    yield "c16", np.array([[1 + 2j, -0.5j], [np.inf, -1e-300j]], dtype="c16")
    yield "be_i4", np.arange(-3, 3, dtype=">i4").reshape(2, 3)
    yield "be_f8", np.linspace(-1, 1, 5).astype(">f8")
    yield "be_u2", np.array([1, 258, 65535], dtype=">u2")
    yield "be_c16", np.array([1 + 2j, 3 - 4j], dtype=">c16")
    yield "be_U3", np.array(["ab", "xyz", "é"], dtype=">U3")
    yield "be_M8s", np.array(["2024-01-01T00:00:01", "1970-01-01"], dtype=">M8[s]")
    yield "M8D", np.array(["2024-01-01", "2025-06-30", "NaT"], dtype="M8[D]")
    yield "m8ns", np.array([1, -2, 3_000_000_000], dtype="m8[ns]")
    yield "M8_10s", np.array([0, 5], dtype="M8[10s]")
    yield "S3", np.array([b"ab", b"xyz", b""], dtype="S3")
    yield "U2", np.array([["a", "bc"], ["\u20ac", ""]], dtype="U2")
    yield "struct", np.array([(1, 2.5, b"ab"), (-2, -0.5, b"c")], dtype=[("i", "<i8"), ("f", ">f4"), ("s", "S2")])
    yield "object", np.array([1, "two", None, 2.5], dtype=object)
    yield "fortran_f8", np.asfortranarray(np.arange(12.0).reshape(3, 4))
    yield "fortran_i4_3d", np.asfortranarray(np.arange(24, dtype="i4").reshape(2, 3, 4))
    yield "zero_dim", np.array(3.5)
    yield "empty", np.zeros((0, 3))
    yield "noncontig", np.arange(20.0).reshape(4, 5)[:, ::2]


def py2_latin1_pickle():
    """A protocol-2 pickle as numpy under Python 2 wrote it: str (BINSTRING) data."""
    data = np.array([1.0, -2.5, 1e300]).tobytes()

    def binstring(b):
        return b"U" + bytes([len(b)]) if len(b) < 256 else b"T" + struct.pack("<i", len(b))

    out = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85U\x01b\x87Rq\x03("
    out += b"K\x01K\x03\x85cnumpy\ndtype\nq\x04U\x02f8K\x00K\x01\x87Rq\x05(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
    out += binstring(data) + data + b"tb."
    back = pickle.loads(out, encoding="latin1")
    assert back.dtype == np.float64 and back.tolist() == [1.0, -2.5, 1e300], back
    return out, back


def main():
    os.makedirs(OUT, exist_ok=True)
    files = []

    def write(name, data):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)

    def add(name, data, **info):
        write(name, data)
        entry = {"file": name, "format": "pickle"}
        entry.update(info)
        files.append(entry)

    for name, a in arrays():
        for p in (2, 4, 5):
            add("%s.p%d.pkl" % (name, p), pickle.dumps(a, p), protocol=p, arrays=[expect("", a)])
        if not a.dtype.hasobject:
            bufs = []
            data = pickle.dumps(a, 5, buffer_callback=bufs.append)
            names = []
            for i, b in enumerate(bufs):
                names.append("%s.oob.buf%d.bin" % (name, i))
                write(names[-1], bytes(b.raw()))
            add("%s.oob.p5.pkl" % name, data, protocol=5, buffers=names, arrays=[expect("", a)])

    data, back = py2_latin1_pickle()
    add("py2_latin1.p2.pkl", data, protocol=2, encoding="latin1", arrays=[expect("", back)])

    scalars = [np.float64(1.5), np.int64(-7), np.bool_(True), np.float32(0.25), np.uint8(200),
               np.float16(0.5), np.int32(-3), np.complex128(1 - 2j), np.str_("hé"), np.bytes_(b"ab"),
               np.datetime64("2024-01-02", "D")]
    exp = []
    for s in scalars:
        v = s.item()
        if isinstance(v, complex):
            v = [v.real, v.imag]
        elif isinstance(v, bytes):
            v = list(v)
        elif not isinstance(v, (bool, int, float, str)):
            v = int(s.astype("i8"))
        exp.append({"dtype": s.dtype.str, "value": v})
    for p in (2, 4):
        add("scalars.p%d.pkl" % p, pickle.dumps(scalars, p), protocol=p, scalars=exp)

    # Nested containers with shared arrays: paths.
    shared = np.arange(3, dtype="i2")
    nested = {"a": [shared, {"b": shared.astype("f4")}], "c": (np.ones(2), shared)}
    add("nested.p4.pkl", pickle.dumps(nested, 4), protocol=4,
        arrays=[expect("['a'][0]", shared), expect("['a'][1]['b']", nested["a"][1]["b"]), expect("['c'][0]", nested["c"][0])])

    # scikit-learn models with predictions on fixed inputs.
    X = np.array([[(i * 7 % 11) / 11, (i * 5 % 13) / 13 - 0.5, (i % 4) * 0.25] for i in range(40)])
    y = X @ np.array([0.5, -1.2, 0.8]) + 2.1
    labels = (y > np.median(y)).astype(int)
    Xt = X[:5] + 0.01
    lr = LinearRegression().fit(X, y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
    add("sklearn_linreg.p4.pkl", pickle.dumps(lr, 4), protocol=4,
        arrays=[expect(".coef_", lr.coef_), expect(".singular_", lr.singular_)], predict={"X": Xt.tolist(), "y": lr.predict(Xt).tolist()})
    add("sklearn_pipeline.p5.pkl", pickle.dumps(pipe, 5), protocol=5,
        arrays=[expect(".steps[0][1].%s" % k, getattr(pipe[0], k)) for k in ("mean_", "var_", "scale_")]
        + [expect(".steps[0][1].n_samples_seen_", pipe[0].n_samples_seen_)] * isinstance(pipe[0].n_samples_seen_, np.ndarray)
        + [expect(".steps[1][1].%s" % k, getattr(pipe[1], k)) for k in ("classes_", "coef_", "intercept_", "n_iter_")],
        predict={"X": Xt.tolist(), "y": pipe.predict_proba(Xt)[:, 1].tolist()})

    # joblib: arrays written raw after each wrapper; object arrays as nested pickles.
    blob = {"weights": np.arange(12, dtype=np.float32).reshape(3, 4), "bias": np.array([0.1, 0.2, 0.3]),
            "fortran": np.asfortranarray(np.arange(6, dtype=">i8").reshape(2, 3)), "objs": np.array(["x", 1], dtype=object),
            "scalar": np.array(2.5), "meta": {"epochs": 3, "nested": [np.arange(2, dtype="u1")]}}
    jexp = [expect("['weights']", blob["weights"]), expect("['bias']", blob["bias"]), expect("['fortran']", blob["fortran"]),
            expect("['objs']", blob["objs"]), expect("['scalar']", blob["scalar"]), expect("['meta']['nested'][0]", blob["meta"]["nested"][0])]
    for name, kw in [("plain", {}), ("p2", {"protocol": 2}), ("zlib", {"compress": ("zlib", 3)}), ("gzip", {"compress": ("gzip", 3)})]:
        path = os.path.join(OUT, "joblib_%s.joblib" % name)
        joblib.dump(blob, path, **kw)
        back = joblib.load(path)
        assert np.array_equal(back["weights"], blob["weights"])
        files.append({"file": "joblib_%s.joblib" % name, "format": "joblib", "protocol": kw.get("protocol", pickle.DEFAULT_PROTOCOL),
                      "compressed": "compress" in kw, "arrays": jexp})

    files.sort(key=lambda e: e["file"])
    versions = {"python": sys.version.split()[0], "numpy": np.__version__, "joblib": joblib.__version__}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"versions": versions, "files": files}, f, indent=1, sort_keys=True)
    print("wrote %d fixtures to %s" % (len(files), OUT))


if __name__ == "__main__":
    main()
