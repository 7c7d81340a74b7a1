"""What pandas' legacy test pickles (tests/fixtures/external/pandas/legacy_pickle,
written by pandas 0.10 to 0.19 with pandas' own
pandas/tests/io/generate_legacy_storage_files.py) hold: that script's
`create_data()`, run by the pandas it ships with, and each of its frames and
series reported as tests/scripts/pandas_frames.py reports one.

    python3 tests/scripts/pandas_legacy_known.py OUT.json

Needs a pandas whose wheel holds its tests (1.5.3 was used, with numpy 1.26;
see tests/fixtures/pandas/SOURCES.md). The generator is imported from the
installed pandas, not copied.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import importlib.util  # noqa: E402

import pandas  # noqa: E402
import pandas_frames  # noqa: E402

# Loaded by path: importing `pandas.tests.io` would need pytest.
path = os.path.join(os.path.dirname(pandas.__file__), "tests/io/generate_legacy_storage_files.py")
spec = importlib.util.spec_from_file_location("generate_legacy_storage_files", path)
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

data = gen.create_data()
out = {}
for kind in ["frame", "series"]:
    for key, obj in data[kind].items():
        rep = pandas_frames.report(obj)
        del rep["csv"]
        out[f"{kind}/{key}"] = rep
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
