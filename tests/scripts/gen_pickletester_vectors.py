#!/usr/bin/env python3
"""CPython's own unpickler test vectors (Lib/test/pickletester.py), as files.

    python3 tests/scripts/gen_pickletester_vectors.py [OUT_DIR]
    (default tests/fixtures/external/cpython-pickletester)

Every bytes literal of pickletester.py is tried with pickle.loads (encoding
ASCII, then latin1, then bytes, as a Python 2 pickle needs):

* those CPython loads are written as L<line>.pkl, where cli/tests/external_files.rs
  runs every command over them against CPython; those it loads leaving bytes
  after the STOP (`((Kdtp0\nh\x00l.))`: pickle.loads reads one pickle) go to
  one_pickle.json ({line, hex, end}) instead, for tests/pickletester_refused.rs
  to check that `Unpickler::load` reads the one pickle and stops where CPython
  stops (the CLI reads streams, so such a rest is a second pickle there);
* those CPython refuses as a malformed pickle (UnpicklingError, EOFError,
  ValueError: the bad-stack, bad-mark, truncation and bad-argument tests)
  go to refused.json ({line, hex, error}), which tests/pickletester_refused.rs
  checks our loader refuses too. Refusals for a class that cannot be
  imported or called (AttributeError, ModuleNotFoundError, TypeError) are
  left out: an inert loader builds those without importing anything.
"""
import ast
import io
import json
import os
import pickle
import sys

import test.pickletester as pt

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "fixtures", "external", "cpython-pickletester")

tree = ast.parse(open(pt.__file__, encoding="utf-8").read())
seen = {}
for node in ast.walk(tree):
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes) and len(node.value) >= 2:
        seen.setdefault(node.value, node.lineno)

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    if f.endswith(".pkl"):
        os.remove(os.path.join(OUT, f))
refused = []
one_pickle = []
for data, line in sorted(seen.items(), key=lambda kv: kv[1]):
    loaded, error, end = False, None, None
    for enc in ("ASCII", "latin1", "bytes"):
        try:
            f = io.BytesIO(data)
            pickle.Unpickler(f, encoding=enc).load()
            loaded, end = True, f.tell()
            break
        except Exception as e:  # noqa: BLE001 - CPython's verdict is the point
            error = e
    if loaded and end != len(data):
        one_pickle.append({"line": line, "hex": data.hex(), "end": end})
    elif loaded:
        name = f"L{line}.pkl"
        n = 2
        while os.path.exists(os.path.join(OUT, name)):
            name, n = f"L{line}_{n}.pkl", n + 1
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    elif isinstance(error, (pickle.UnpicklingError, EOFError, ValueError)):
        refused.append({"line": line, "hex": data.hex(), "error": f"{type(error).__name__}: {error}"})
with open(os.path.join(OUT, "refused.json"), "w") as f:
    json.dump({"python": sys.version.split()[0], "refused": refused}, f, indent=1)
    f.write("\n")
with open(os.path.join(OUT, "one_pickle.json"), "w") as f:
    json.dump({"python": sys.version.split()[0], "one_pickle": one_pickle}, f, indent=1)
    f.write("\n")
print(f"{len(os.listdir(OUT)) - 2} loadable vectors, {len(one_pickle)} with bytes after, {len(refused)} refused")
