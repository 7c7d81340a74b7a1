#!/usr/bin/env python3
"""Write the .npy / .npz / scikit-learn tree fixtures of tests/npy.rs and
examples/sklearn_tree.rs.

    python3 tests/scripts/gen_npy_fixtures.py [OUT_DIR]   (default tests/fixtures/ml/npy)

Needs numpy and scikit-learn. The Rust tests only read the committed output,
so they run without Python. OUT_DIR/manifest.json holds:

  npy: [{file, dtype (dtype.str), descr (repr of numpy's header descr;
         null where it is long),
         shape (of the array np.load gives), fortran_order (the header's),
         version ([major, minor]), sha256 (C-order little-endian values, padding
         bytes of structured dtypes zero; null for object arrays), objects (repr of the items, object arrays
         only), exact (true when np.save of the loaded array must give the
         file's bytes again: false where the file holds what this crate does
         not write back, e.g. field titles or numpy 2's numpy._core names in
         an object array's pickle), encoding ("latin1" when the object
         array's pickle needs it), fields: [[name, sha256], ...] for
         structured arrays (numpy's a[name], as sha256)}]
  npz: [{file, compressed, arrays: [{key, dtype, shape, sha256, objects}]}]
  sklearn: [{file, kind ("classifier" | "regressor"), X, predict,
             classes (classifier only)}]: the pickled estimators and
           their predictions on X (with NaN, read as JSON null).
"""
import hashlib
import io
import json
import os
import pickle
import sys
import warnings

import numpy as np
from numpy.lib import format as npformat
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "ml", "npy")


def copy_fields(dst, src):
    """Copy a structured array field by field: padding bytes stay zero
    (numpy leaves them as they were in memory, or uninitialized when
    np.load reads from a zip)."""
    for n in src.dtype.names:
        if src.dtype[n].names is not None:
            copy_fields(dst[n], src[n])
        elif src.dtype[n].subdtype is not None and src.dtype[n].subdtype[0].names is not None:
            copy_fields(dst[n], src[n])
        else:
            dst[n] = src[n]


def le_sha(a):
    """sha256 of the C-order little-endian values, padding bytes zero."""
    if a.dtype.names is not None:
        z = np.zeros(a.shape, a.dtype)
        copy_fields(z, a)
        a = z
    c = np.ascontiguousarray(a)
    le = c.dtype.newbyteorder("<")
    if le != c.dtype:
        c = c.astype(le)
    return hashlib.sha256(c.tobytes()).hexdigest()


def describe(a):
    e = {"dtype": a.dtype.str, "shape": list(a.shape)}
    if a.dtype.hasobject:
        e["sha256"] = None
        e["objects"] = [repr(x.item() if isinstance(x, np.void) else x) for x in a.ravel()]
    else:
        e["sha256"] = le_sha(a)
    return e


def arrays():
    """(name, array, exact)"""
    yield "b1", np.array([[True, False, True], [False, False, True]]), True
    for t in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
        info = np.iinfo(t)
        yield t, np.array([[info.min, 0, 1], [2, info.max, 7]], dtype=t), True
    for t in ["f2", "f4", "f8"]:
        yield t, (np.arange(6, dtype=t).reshape(2, 3) / 3).astype(t), True
    yield "c8", np.array([1 + 2j, -0.5j, 3], dtype="c8"), True
    yield "c16", np.array([[1 + 2j, -0.5j], [np.inf, -1e-300j]], dtype="c16"), True
    yield "be_i4", np.arange(-3, 3, dtype=">i4").reshape(2, 3), True
    yield "be_f8", np.linspace(-1, 1, 5).astype(">f8"), True
    yield "be_c16", np.array([1 + 2j, 3 - 4j], dtype=">c16"), True
    yield "U3", np.array(["ab", "xyz", "\u00e9\u20ac"], dtype="<U3"), True
    yield "be_U2", np.array(["a", "bc"], dtype=">U2"), True
    yield "S4", np.array([b"ab", b"wxyz", b""], dtype="S4"), True
    yield "V5", np.array([b"\x01\x02\x03\x04\x05", b"abcde"], dtype="V5"), True
    yield "M8ns", np.array(["2024-01-01T00:00:00.000000001", "NaT"], dtype="M8[ns]"), True
    yield "m8D", np.array([1, -2, 3], dtype="m8[D]"), True
    yield "M8_10s", np.array([0, 5], dtype="M8[10s]"), True
    yield "M8_generic", np.array(["NaT", "NaT"], dtype="M8"), True
    yield "fortran_f8", np.asfortranarray(np.arange(12.0).reshape(3, 4)), True
    yield "fortran_i2_3d", np.asfortranarray(np.arange(24, dtype="i2").reshape(2, 3, 4)), True
    yield "fortran_column", np.asfortranarray(np.arange(3.0).reshape(3, 1)), True
    yield "noncontig", np.arange(20.0).reshape(4, 5)[:, ::2], True
    yield "zero_dim", np.array(3.5), True
    yield "empty", np.zeros((0, 3)), True
    yield "long_axis", np.zeros((123456, 0), dtype="u1"), True
    yield "struct", np.array([(1, 2.5, b"ab"), (-2, -0.5, b"c")], dtype=[("i", "<i8"), ("f", ">f4"), ("s", "S2")]), True
    padded = np.dtype({"names": ["a", "b"], "formats": ["u1", "<f8"], "offsets": [0, 8], "itemsize": 24})
    yield "struct_padded", np.array([(1, 1.5), (2, -2.5)], dtype=padded), True
    nested = np.dtype([("pos", [("x", "<f4"), ("y", ">f4")]), ("w", "<f8", (2, 3)), ("tag", "<U2"), ("pts", [("p", "<i2")], (2,))])
    a = np.zeros(3, dtype=nested)
    a["pos"]["x"] = [1, 2, 3]
    a["pos"]["y"] = [-1, -2, -3]
    a["w"] = np.arange(18.0).reshape(3, 2, 3)
    a["tag"] = ["a", "\u00e9z", ""]
    a["pts"]["p"] = [[1, 2], [3, 4], [5, 6]]
    yield "struct_nested", a, True
    yield "struct_title", np.array([(1, 2)], dtype=[(("a title", "t"), "<i4"), ("u", "<i2")]), False
    yield "struct_euro", np.array([(1.5,)], dtype=[("\u20ac", "<f8")]), True
    many = np.dtype([("field_%05d" % i, "<u1") for i in range(3000)])
    yield "struct_wide", np.zeros(2, dtype=many), True
    yield "object", np.array([1, "two", None, 2.5, [3]], dtype=object), False
    yield "object_2d", np.array([["a", 1], [None, b"b"]], dtype=object), False
    yield "struct_object", np.array([(1, "x"), (2, None)], dtype=[("n", "<i4"), ("o", "O")]), False


def py2_object_npy():
    """An object .npy as numpy under Python 2 saved it: `L` ints in the
    header, a protocol-2 pickle whose str items are BINSTRINGs."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (2L,), }"
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    out = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")
    out += b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85U\x01b\x87Rq\x03("
    out += b"K\x01K\x02\x85cnumpy\ndtype\nq\x04U\x02O8K\x00K\x01\x87Rq\x05(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89"
    out += b"]q\x06(U\x04caf\xe9K\x07etb."
    back = np.load(io.BytesIO(out), allow_pickle=True, encoding="latin1")
    assert back.tolist() == ["caf\u00e9", 7], back
    return out, back


def sklearn_trees():
    rng = np.random.RandomState(7)
    X = rng.rand(80, 4)
    X[::9, 2] = np.nan  # trees learn where missing values go
    y_cls = np.where(X[:, 0] + np.nan_to_num(X[:, 2]) > 0.9, "yes", "no").astype("U5")
    y_cls[X[:, 1] > 0.8] = "maybe"
    y_reg = 3 * X[:, 0] - 2 * X[:, 1] + np.nan_to_num(X[:, 2], nan=0.5)
    Xt = rng.rand(12, 4)
    Xt[::4, 2] = np.nan
    Xt[1, 0] = X[3, 0]  # on a threshold's side exactly as sklearn compares (float32)
    clf = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y_cls)
    reg = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y_reg)
    rows = [[None if np.isnan(v) else float(v) for v in r] for r in Xt]
    return [
        ("sklearn_tree_classifier.p4.pkl", clf, {"kind": "classifier", "X": rows,
                                                 "predict": clf.predict(Xt).tolist(), "classes": clf.classes_.tolist()}),
        ("sklearn_tree_regressor.p5.pkl", reg, {"kind": "regressor", "X": rows, "predict": reg.predict(Xt).tolist()}),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    warnings.simplefilter("ignore")  # format 2.0 / 3.0 notes
    npy = []
    for name, a, exact in arrays():
        buf = io.BytesIO()
        np.save(buf, a)
        data = buf.getvalue()
        with open(os.path.join(OUT, name + ".npy"), "wb") as f:
            f.write(data)
        back = np.load(io.BytesIO(data), allow_pickle=True)
        assert back.dtype == a.dtype and back.shape == a.shape
        version = list(data[6:8])
        hbuf = io.BytesIO(data)
        npformat.read_magic(hbuf)
        read_header = npformat.read_array_header_1_0 if version == [1, 0] else npformat.read_array_header_2_0
        shape, fortran, _ = read_header(hbuf, max_header_size=1 << 30)
        descr = repr(npformat.dtype_to_descr(a.dtype))
        e = {"file": name + ".npy", "descr": descr if len(descr) < 1000 else None,
             "fortran_order": bool(fortran), "version": version, "exact": exact}
        e.update(describe(back))
        if back.dtype.names and not back.dtype.hasobject and len(back.dtype.names) < 10:
            e["fields"] = [[n, le_sha(back[n])] for n in back.dtype.names]
        npy.append(e)

    data, back = py2_object_npy()
    with open(os.path.join(OUT, "py2_object.npy"), "wb") as f:
        f.write(data)
    e = {"file": "py2_object.npy", "descr": "'|O'", "fortran_order": False, "version": [1, 0],
         "exact": False, "encoding": "latin1"}
    e.update(describe(back))
    npy.append(e)

    # The nodes of a fitted tree: a structured |V64 dtype with trailing padding.
    trees = sklearn_trees()
    nodes = trees[0][1].tree_.__getstate__()["nodes"]
    buf = io.BytesIO()
    np.save(buf, nodes)
    with open(os.path.join(OUT, "tree_nodes.npy"), "wb") as f:
        f.write(buf.getvalue())
    e = {"file": "tree_nodes.npy", "descr": repr(npformat.dtype_to_descr(nodes.dtype)),
         "fortran_order": False, "version": [1, 0], "exact": True,
         "fields": [[n, le_sha(nodes[n])] for n in nodes.dtype.names]}
    e.update(describe(nodes))
    npy.append(e)

    npz = []
    members = {"weights": np.arange(12, dtype="<f4").reshape(3, 4),
               "fortran": np.asfortranarray(np.arange(6, dtype=">i8").reshape(2, 3)),
               "objs": np.array(["x", 1, None], dtype=object),
               "nodes": nodes}
    for fname, save, compressed in [("savez.npz", np.savez, False), ("savez_compressed.npz", np.savez_compressed, True)]:
        path = os.path.join(OUT, fname)
        save(path, np.arange(3), members["weights"], fortran=members["fortran"], objs=members["objs"], nodes=nodes)
        with np.load(path, allow_pickle=True) as z:
            listed = []
            for k in z.files:
                listed.append(dict(key=k, **describe(z[k])))
        npz.append({"file": fname, "compressed": compressed, "arrays": listed})

    sk = []
    for fname, est, info in trees:
        with open(os.path.join(OUT, fname), "wb") as f:
            f.write(pickle.dumps(est, int(fname.split(".p")[1][0])))
        sk.append(dict(file=fname, **info))

    versions = {"python": sys.version.split()[0], "numpy": np.__version__,
                "sklearn": __import__("sklearn").__version__}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"versions": versions, "npy": npy, "npz": npz, "sklearn": sk}, f, indent=1, sort_keys=True)
    print("wrote %d .npy, %d .npz, %d sklearn fixtures to %s" % (len(npy), len(npz), len(sk), OUT))


if __name__ == "__main__":
    main()
