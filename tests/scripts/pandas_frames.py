"""Write pandas DataFrames and Series of every dtype tests/pandas.rs reads,
with what pandas reports about them.

    python3 tests/scripts/pandas_frames.py OUT_DIR [--protocols 0,1,2,3,4,5,default]

For each case NAME it writes NAME.pNN.pkl (`to_pickle` at protocol NN; NAME.pdefault.pkl
with pandas' default) and NAME.json: the kind (DataFrame or Series), per column
its name, `str(dtype)`, `isna()` and values (tagged strings, see `tag`), the
index (a RangeIndex's start/stop/step, or each level as a column), and
`to_csv(index=False)`. OUT_DIR/manifest.json lists the cases and files.

Also used to make the committed fixtures of other pandas versions
(tests/fixtures/pandas/<version>/, see SOURCES.md there): the `--cases` option
picks cases by name and `--arrow` adds the pyarrow-backed ones.
"""

import datetime
import decimal
import json
import math
import os
import sys

import numpy as np
import pandas as pd

PD_MAJOR = int(pd.__version__.split(".")[0])


def tag(x):
    """One value as a tagged string: s:str, i:int, f:repr(float), b:bool,
    dt:ticks / td:ticks (in the column's unit), or None for a null."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, (bool, np.bool_)):
        return "b:" + str(bool(x))
    if isinstance(x, (int, np.integer)):
        if isinstance(x, int) and not -(2**63) <= x < 2**64:
            return "o:" + str(x)
        return "i:" + str(int(x))
    if isinstance(x, np.generic) and not isinstance(x, (np.bool_, np.integer, np.floating)):
        return "o:" + str(x)
    if isinstance(x, (float, np.floating)):
        if math.isnan(float(x)):
            return None
        return "f:" + repr(float(x))
    if isinstance(x, str):
        return "s:" + x
    if isinstance(x, np.datetime64):
        return "dt:" + str(x.astype("i8"))
    if isinstance(x, np.timedelta64):
        return "td:" + str(x.astype("i8"))
    if isinstance(x, (datetime.date, datetime.time, decimal.Decimal, pd.Timestamp, bytes,
                      list, tuple, dict, set, frozenset, pd.Period, pd.Interval, complex)):
        return "o:" + str(x)
    return "x:" + repr(x)


def label(x):
    if isinstance(x, tuple):
        return [label(v) for v in x]
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return "f:nan"
    return tag(x)


def column_values(s):
    """The values of a Series (or Index) as tagged strings."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        cats = dt.categories
        if cats.dtype.kind in "mM":
            # Datetime categories: ticks, as a datetime column reports them.
            codes = np.asarray(s.cat.codes if isinstance(s, pd.Series) else s.codes)
            taken = column_values(pd.Series(cats.take(np.where(codes < 0, 0, codes))))
            return [None if c < 0 else t for c, t in zip(codes, taken)]
        return [tag(v) for v in s.astype(object)]
    if dt.kind in "mM" and not isinstance(dt, pd.ArrowDtype):
        ticks = np.asarray(s.array._ndarray if hasattr(s.array, "_ndarray") else s.values).view("i8")
        kind = "dt:" if dt.kind == "M" else "td:"
        na = np.asarray(pd.isna(s))
        return [None if n else kind + str(int(t)) for t, n in zip(ticks, na)]
    out = []
    na = np.asarray(pd.isna(s))
    for v, n in zip(s.astype(object) if not isinstance(s, np.ndarray) else s, na):
        # numpy scalars held by an object column: their str(), as CSV writes them.
        if dt == object and isinstance(v, np.generic):
            out.append(None if n else "o:" + str(v))
            continue
        out.append(None if n else tag(v))
    return out


def column(s, name):
    d = {
        "name": label(name),
        "dtype": str(s.dtype),
        "nulls": [bool(b) for b in np.asarray(pd.isna(s))],
        "values": column_values(pd.Series(s) if isinstance(s, pd.Index) else s),
    }
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.dtype.categories
        d["categories"] = column(cats, None)
        d["ordered"] = bool(s.dtype.ordered)
    return d


def index(ix):
    if isinstance(ix, pd.RangeIndex):
        return {
            "kind": "range",
            "start": ix.start,
            "stop": ix.stop,
            "step": ix.step,
            "name": label(ix.name),
        }
    if isinstance(ix, pd.MultiIndex):
        return {
            "kind": "multi",
            "levels": [column(ix.get_level_values(i), ix.names[i]) for i in range(ix.nlevels)],
        }
    return {"kind": "column", "levels": [column(ix, ix.name)]}


def report(obj):
    if isinstance(obj, pd.Series):
        cols = [column(obj, obj.name)]
        csv = obj.to_csv(index=False)
        kind = "Series"
    else:
        cols = [column(obj.iloc[:, i], c) for i, c in enumerate(obj.columns)]
        csv = obj.to_csv(index=False)
        kind = "DataFrame"
    return {"kind": kind, "columns": cols, "index": index(obj.index), "csv": csv}


def D(values, unit="ns"):
    """Datetimes in `unit` (pandas < 2 has nanoseconds only)."""
    if PD_MAJOR < 2:
        return pd.to_datetime(values)
    return pd.DatetimeIndex(np.array(values, dtype=f"datetime64[{unit}]"))


def T(values, unit="ns"):
    if PD_MAJOR < 2:
        return pd.to_timedelta(values)
    return pd.to_timedelta(values).as_unit(unit)


def cases(arrow=False):
    c = {}
    f64 = [0.1, np.nan, 1e16, -0.0, np.inf, 123456789.0, 1e-5, 2.5]
    n = len(f64)
    c["numeric"] = pd.DataFrame(
        {
            "i8": np.array([-128, 127, 0, 1, -1, 5, 6, 7], dtype="int8"),
            "i16": np.arange(n, dtype="int16") * -300,
            "i32": np.arange(n, dtype="int32") * 70000,
            "i64": np.array([2**63 - 1, -(2**63), 0, 1, 2, 3, 4, 5], dtype="int64"),
            "u8": np.arange(n, dtype="uint8") + 250,
            "u16": np.arange(n, dtype="uint16") * 9000,
            "u32": np.arange(n, dtype="uint32") * 600000000,
            "u64": np.array([2**64 - 1, 0, 1, 2, 3, 4, 5, 2**63], dtype="uint64"),
            "f32": np.array([0.1, np.nan, 1e20, -0.0, 123456789.0, 1e-5, 16777216.0, -np.inf], dtype="float32"),
            "f64": f64,
            "b": [True, False, True, True, False, False, True, False],
            "f64b": np.linspace(-1, 1, n),
        }
    )
    c["strings"] = pd.DataFrame(
        {
            "obj": np.array(["a", None, "b,c", 'say "hi"', "", "x\ny", "é✓", np.nan], dtype=object),
            "default": ["a", None, "b,c", 'q"', "", "line\r\nbreak", " lead", "tail "],
            "pystr": pd.array(["a", None, "b", "c", pd.NA, "", "ü", "z"], dtype=pd.StringDtype("python")),
        },
        index=pd.Index(["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"], name="row"),
    )
    c["nullable"] = pd.DataFrame(
        {
            "I8": pd.array([1, None, -3], dtype="Int8"),
            "I16": pd.array([None, 2, 3], dtype="Int16"),
            "I32": pd.array([1, 2, None], dtype="Int32"),
            "I64": pd.array([2**62, None, -5], dtype="Int64"),
            "U8": pd.array([255, None, 0], dtype="UInt8"),
            "U16": pd.array([1, 2, 3], dtype="UInt16"),
            "U32": pd.array([None, None, 7], dtype="UInt32"),
            "U64": pd.array([2**64 - 1, None, 1], dtype="UInt64"),
            "F32": pd.array([0.5, None, 0.1], dtype="Float32"),
            "F64": pd.array([0.1, None, 1e300], dtype="Float64"),
            "B": pd.array([True, None, False], dtype="boolean"),
        },
        index=pd.Index([10, 20, 30], name="id"),
    )
    c["categorical"] = pd.DataFrame(
        {
            "s": pd.Categorical(["a", "b", None, "a"]),
            "o": pd.Categorical([3, 1, 2, None], categories=[3, 2, 1], ordered=True),
            "f": pd.Categorical([1.5, 2.0, 1.5, np.nan]),
            "unused": pd.Categorical(["x", "x", "x", "x"], categories=["y", "x", "z"]),
        }
    )
    c["datetimes"] = pd.DataFrame(
        {
            "ns": D(["2020-01-01", "2020-01-02 03:04:05.000000001", None, "1677-09-22"], "ns"),
            "us": D(["2020-01-01", "2020-01-02 03:04:05.5", None, "1900-01-01"], "us"),
            "ms": D(["2020-01-01", "2020-01-02 00:00:00.123", None, "2262-01-01"], "ms"),
            "s": D(["0001-01-01" if PD_MAJOR >= 2 else "1970-01-01", "2020-01-02", None,
                    "9999-12-31" if PD_MAJOR >= 2 else "2200-01-01"], "s"),
            "dates": D(["2020-01-01", "2021-02-28", None, "1969-12-31"], "us"),
            "utc": D(["2020-01-01", "2020-07-02 03:04:05", None, "1950-01-01"], "ns").tz_localize("UTC"),
            "plus1": D(["2020-01-01", "2020-07-02 03:04:05.25", None, "1950-01-01"], "us").tz_localize(
                __import__("datetime").timezone(__import__("datetime").timedelta(hours=1))
            ),
        },
        index=pd.date_range("2021-03-01", periods=4, freq="D", name="day"),
    )
    instants = ["2020-01-01", "2020-07-02 03:04:05", None, "2021-03-28 00:59:59",
                "2021-03-28 01:00:00", "1850-06-01 12:00", "2100-07-01 12:00:00.5"]
    c["zoned"] = pd.DataFrame(
        {
            "paris": D(instants, "ns").tz_localize("UTC").tz_convert("Europe/Paris"),
            "new_york": D(instants, "us").tz_localize("UTC").tz_convert("America/New_York"),
            "sydney": D(instants, "us").tz_localize("UTC").tz_convert("Australia/Sydney"),
            "kolkata": D(instants, "ns").tz_localize("UTC").tz_convert("Asia/Kolkata"),
            "st_johns": D(instants, "s").tz_localize("UTC").tz_convert("America/St_Johns"),
        },
        index=pd.date_range("2021-03-27", periods=7, freq="D", tz="Europe/Paris", name="when"),
    )
    c["timedeltas"] = pd.DataFrame(
        {
            "ns": T(["1 days", "2 days 3s", None, "-1ns"], "ns"),
            "us": T(["1 days", "-2 days 3s", None, "0s"], "us"),
            "ms": T(["25h", "1ms", None, "100 days"], "ms"),
            "s": T(["1 days", "2 days", None, "-1 days"], "s"),
        },
        index=pd.TimedeltaIndex(T(["1s", "2s", "3s", "4s"]), name="after"),
    )
    c["multiindex"] = pd.DataFrame(
        {"v": [1.5, 2.5, 3.5, 4.5], "w": ["a", "b", "c", "d"]},
        index=pd.MultiIndex.from_tuples(
            [("a", 1), ("a", 2), ("b", 1), (None, 2)], names=["key", "n"]
        ),
    )
    c["mixed_object"] = pd.DataFrame(
        {"m": pd.Series([1, "a", None, 2.5, True, np.nan], dtype=object), "k": np.arange(6)}
    )
    c["objects"] = pd.DataFrame(
        {
            "dates": np.array([datetime.date(2020, 1, 2), None, datetime.date(1, 1, 1), datetime.date(9999, 12, 31)], dtype=object),
            "datetimes": np.array([
                datetime.datetime(2020, 1, 2, 3, 4, 5), datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
                None, datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
            ], dtype=object),
            "times": np.array([datetime.time(1, 2, 3), datetime.time(23, 59, 59, 999999), None, datetime.time(0)], dtype=object),
            "decimals": np.array([decimal.Decimal("1.50"), None, decimal.Decimal("-0"), decimal.Decimal("1E+2")], dtype=object),
            "stamps": np.array([pd.Timestamp("2020-01-01 00:00:01.5"), pd.Timestamp("2020-01-01", tz="UTC"),
                                pd.Timestamp("2021-06-01 12:00", tz="Europe/Paris"), pd.NaT], dtype=object),
            "containers": np.array([[1, 2.5], (3,), {"a": None, "b": [True]}, b"\x00'"], dtype=object),
            "bigints": np.array([2**70, -(2**64), 5, None], dtype=object),
        }
    )
    c["labels"] = pd.DataFrame([[1, 2, 3, 4]], columns=pd.Index([None, 1.5, True, "x,y"], dtype=object))
    c["multi_columns"] = pd.DataFrame(
        [[1, 2.5, "a"], [3, 4.5, None]],
        columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"), ("b", None)], names=["l0", "l1"]),
    )
    c["periods"] = pd.DataFrame(
        {
            f: pd.PeriodIndex(pd.period_range("2019-12-30 22:59:58", periods=3, freq=f).insert(1, pd.NaT))
            for f in (
                ["D", "M", "Y", "Q", "Q-NOV", "Y-JUN", "h", "min", "s", "ms", "us", "ns", "W"]
                if PD_MAJOR >= 3
                # pandas < 2.2's aliases
                else ["D", "M", "A", "Q", "Q-NOV", "A-JUN", "H", "T", "S", "L", "U", "N", "W"]
            )
        },
        index=pd.period_range("2020-01", periods=4, freq="M"),
    )
    c["intervals"] = pd.DataFrame(
        {
            "ints": pd.interval_range(0, 4),
            "floats": pd.arrays.IntervalArray.from_breaks([0.5, 1.5, 2.5, 1e16, np.inf], closed="left"),
            "gaps": pd.arrays.IntervalArray.from_tuples([(0, 1), None, (2, 3), (4, 5)], closed="both"),
        },
        index=pd.interval_range(0, 4, name="bins"),
    )
    c["complex_and_scalars"] = pd.DataFrame(
        {
            "c": np.array([1 + 2j, 0j, 1.5 - 2.5j, 1e16 + 1e-5j, complex(0, -1), complex(-0.0, -0.0),
                           complex(np.inf, -np.inf), complex(1, np.nan)], dtype="complex128"),
            "np_scalars": np.array([np.float64(1.5), np.int64(3), np.float32(0.1), np.bool_(True),
                                    np.uint8(7), np.str_("s"), np.float16(0.1), None], dtype=object),
            "cat_dates": pd.Categorical(pd.DatetimeIndex(np.array(
                ["2020-01-01", None, "2020-01-02", "2020-01-01", None, "2020-01-02", "2020-01-01", None],
                dtype="datetime64[ns]"))),
            "cat_f32": pd.Categorical(np.array([0.1, 1e7, np.nan, 0.1, 0.1, 0.1, 0.1, 0.1], dtype="float32")),
        }
    )
    c["sparse"] = pd.DataFrame(
        {
            "f": pd.arrays.SparseArray([0, 0, 1.5, np.nan, 0, 2.5]),
            "i": pd.arrays.SparseArray([0, 3, 0, 0, 7, 0], fill_value=0),
            "blocks": pd.arrays.SparseArray([1, 1, 2, 3, 1, 4], fill_value=1, kind="block"),
            "b": pd.arrays.SparseArray([False, True, False, False, True, True], fill_value=False),
        }
    )
    # Frames as analysis code makes them: MultiIndex columns from groupby,
    # a pivot table, a resampled DatetimeIndex.
    c["groupby"] = pd.DataFrame({"k": list("aabbc"), "v": range(5)}).groupby("k").agg(["sum", "mean"])
    c["pivot"] = pd.DataFrame({"a": ["x", "y", "x"], "b": ["p", "p", "q"], "v": [1.0, 2.0, 3.0]}).pivot_table(
        index="a", columns="b", values="v"
    )
    c["resample"] = (
        pd.DataFrame({"v": range(10)}, index=pd.date_range("2020", periods=10, freq="D")).resample("3D").sum()
    )
    c["float16"] = pd.DataFrame({"h": np.array([1.5, 0.1, np.nan, 1000.0, 65504, 1e-4, 6e-8, -2.0], dtype="float16")})
    wide = pd.DataFrame(np.arange(20).reshape(4, 5), columns=["a", "b", "c", "d", "e"])
    wide["f"] = [0.5, 1.5, 2.5, 3.5]
    wide = wide.drop(columns=["b"])
    wide.insert(1, "g", ["p", "q", "r", "s"])
    c["placements"] = wide
    c["int_labels"] = pd.DataFrame(np.arange(6).reshape(3, 2) * 1.5)
    c["empty"] = pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype=object)})
    c["one_column"] = pd.DataFrame({"only": ["x", None, "", "y"]})
    c["series"] = pd.Series([1.5, None, 3.0], index=pd.Index(["a", "b", "c"], name="k"), name="vals")
    c["series_dt"] = pd.Series(
        pd.array([1, None, 3], dtype="Int64"),
        index=pd.date_range("2020-01-01", periods=3, freq="h", name="t"),
        name="n",
    )
    c["series_unnamed"] = pd.Series(["a", "b,c", None])
    if arrow:
        c["arrow"] = pd.DataFrame(
            {
                "str": pd.array(["x", None, "zz", ""], dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                "string": pd.array(["a", None, "b,c", "d"], dtype=pd.StringDtype("pyarrow")),
                "i64": pd.array([1, None, 3, -4], dtype="int64[pyarrow]"),
                "f64": pd.array([0.5, None, 1e16, 0.1], dtype="double[pyarrow]"),
                "b": pd.array([True, None, False, True], dtype="bool[pyarrow]"),
            },
            index=pd.Index(["r0", "r1", "r2", "r3"], dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
        )
        chunked = pd.concat([pd.Series(["a", None]), pd.Series(["b", "c"])], ignore_index=True).astype(
            pd.StringDtype("pyarrow")
        )
        c["arrow_chunked"] = pd.DataFrame({"s": chunked})
        c["arrow_sliced"] = c["arrow"].iloc[1:]
    return c


class ChunksKept:
    """While active, pandas' arrow arrays pickle their ChunkedArray as it
    is (pyarrow's `chunked_array([...], type)`), as pandas 2.x did before it
    combined the chunks in `__getstate__`."""

    def __enter__(self):
        from pandas.core.arrays.arrow.array import ArrowExtensionArray

        self.cls = ArrowExtensionArray
        self.saved = ArrowExtensionArray.__getstate__
        ArrowExtensionArray.__getstate__ = lambda a: a.__dict__.copy()

    def __exit__(self, *exc):
        self.cls.__getstate__ = self.saved


def main():
    out = sys.argv[1]
    protocols = ["0", "1", "2", "3", "4", "5", "default"]
    only = None
    arrow = False
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--protocols":
            protocols = args.pop(0).split(",")
        elif a == "--cases":
            only = set(args.pop(0).split(","))
        elif a == "--arrow":
            arrow = True
    os.makedirs(out, exist_ok=True)
    manifest = {"pandas": pd.__version__, "numpy": np.__version__, "cases": []}
    for name, obj in cases(arrow).items():
        if only is not None and name not in only:
            continue
        files = []
        keep = ChunksKept() if name == "arrow_chunked" else None
        if keep:
            keep.__enter__()
        for p in protocols:
            fname = f"{name}.p{p}.pkl"
            if p == "default":
                obj.to_pickle(os.path.join(out, fname))
            else:
                obj.to_pickle(os.path.join(out, fname), protocol=int(p))
            files.append(fname)
        if keep:
            keep.__exit__()
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(report(obj), f, indent=1, ensure_ascii=False)
        manifest["cases"].append({"name": name, "files": files})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
