"""Compare the Arrow IPC files `pickle frame --arrow` wrote with what pyarrow
makes of the same frames.

    python3 tests/scripts/arrow_compare.py DIR

DIR holds NAME.p5.pkl (tests/scripts/pandas_frames.py) and NAME.arrow (the
CLI's export of it). For each NAME.arrow, the frame is read with pandas and
converted with `pyarrow.Table.from_pandas`; the file is read with
`pyarrow.ipc.open_file` and, column by column (index columns included),
must have pyarrow's field names, types, nulls and values. Types may differ
only as pickle-codec documents: `string` for `large_string`, dictionary keys
int32 for pyarrow's int8/int16, `float` for `halffloat`; pandas extension
types pyarrow writes (periods, intervals), `object` columns pyarrow converts
to other types (dates, Decimals, ints, an empty column's `null`) and columns
pyarrow refuses are `string` columns of each value's `str()`. The `pandas` metadata must have
pyarrow's `index_columns` and `column_indexes` (the dtype of the columns
axis aside), and `pd.read_feather` of the file must give the frame that
`pd.read_feather` of pyarrow's own file gives, dtypes included where the
types are the same.

Prints one line a case, `ok NAME` or `FAIL NAME: why`, then `checked N`,
and exits 1 if any case failed.
"""

import json
import math
import os
import sys
import tempfile
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc

warnings.simplefilter("ignore")


# What pyarrow raises for a frame or column it cannot convert.
REFUSED = (pa.ArrowException, TypeError, ValueError, OverflowError)


def same_type(mine, theirs):
    if mine == theirs:
        return True
    if pa.types.is_string(mine) and pa.types.is_large_string(theirs):
        return True
    if pa.types.is_float32(mine) and pa.types.is_float16(theirs):
        return True
    if pa.types.is_dictionary(mine) and pa.types.is_dictionary(theirs):
        return (
            mine.index_type == pa.int32()
            and pa.types.is_signed_integer(theirs.index_type)
            and same_type(mine.value_type, theirs.value_type)
            and mine.ordered == theirs.ordered
        )
    return False


def same_value(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            return False
        return x == y or (math.isnan(x) and math.isnan(y))
    return a == b


def strs(values):
    """Each value's str(), None for nulls as `pd.isna` sees them (what the
    crate writes for the columns it keeps as text)."""
    return [None if pd.api.types.is_scalar(v) and pd.isna(v) else str(v) for v in values]


def as_text(theirs_type, pandas_dtype):
    """Whether the crate writes the column as each value's str(): pyarrow
    refuses it, writes a pandas extension type (periods, intervals), or
    converts the objects of an `object` column (dates, Decimals, ints) to
    another type."""
    if theirs_type is None or isinstance(theirs_type, pa.ExtensionType):
        return True
    return pandas_dtype == object and not (
        pa.types.is_string(theirs_type) or pa.types.is_large_string(theirs_type)
    )


def check_column(name, mine, theirs_type, theirs_values, pandas_values, pandas_dtype):
    """Why the column differs, or None."""
    if as_text(theirs_type, pandas_dtype):
        if not pa.types.is_string(mine.type):
            return f"{name}: type {mine.type}, expected string"
        got = mine.to_pylist()
        want = strs(pandas_values)
        if [g is None for g in got] != [w is None for w in want]:
            return f"{name}: nulls {got} != {want}"
        return None
    if not same_type(mine.type, theirs_type):
        return f"{name}: type {mine.type} != pyarrow's {theirs_type}"
    got = mine.to_pylist()
    if len(got) != len(theirs_values):
        return f"{name}: {len(got)} rows != {len(theirs_values)}"
    for i, (g, w) in enumerate(zip(got, theirs_values)):
        if not same_value(g, w):
            return f"{name} row {i}: {g!r} != pyarrow's {w!r}"
    return None


def compare(pkl, arrow):
    df = pd.read_pickle(pkl)
    if isinstance(df, pd.Series):
        df = df.to_frame()
    with open(arrow, "rb") as f:
        data = f.read()
    mine = ipc.open_file(pa.BufferReader(data)).read_all()
    try:
        theirs = pa.Table.from_pandas(df)
    except REFUSED:
        theirs = None
    errors = []
    if theirs is None:
        # Per column, so that the columns pyarrow converts are compared.
        fields = list(mine.schema.names)
        meta = json.loads(mine.schema.metadata[b"pandas"])
        n_data = len(df.columns)
        for i in range(n_data):
            col = df.iloc[:, i]
            if isinstance(col.dtype, pd.SparseDtype):
                # pyarrow refuses sparse columns; the crate densifies them.
                col = col.sparse.to_dense()
            try:
                t = pa.Table.from_pandas(col.to_frame(name="c"), preserve_index=False)
                ttype, tvals = t.schema.field(0).type, t.column(0).to_pylist()
            except REFUSED:
                ttype, tvals = None, None
            e = check_column(
                fields[i], mine.column(i), ttype, tvals, list(col.astype(object)), col.dtype
            )
            if e:
                errors.append(e)
        if meta["columns"][0]["name"] is None and df.columns[0] is not None:
            errors.append("metadata names a named column None")
        return errors
    if mine.schema.names != theirs.schema.names:
        return [f"field names {mine.schema.names} != pyarrow's {theirs.schema.names}"]
    if mine.num_rows != theirs.num_rows:
        return [f"{mine.num_rows} rows != {theirs.num_rows}"]
    columns = list(df.columns)
    as_str = set()
    for i, name in enumerate(mine.schema.names):
        ttype = theirs.schema.field(i).type
        if i < len(columns):
            values = df.iloc[:, i]
        else:
            values = df.index.get_level_values(i - len(columns))
        if as_text(ttype, values.dtype):
            as_str.add(name)
        e = check_column(
            name,
            mine.column(i),
            ttype,
            theirs.column(i).to_pylist(),
            list(values.astype(object)),
            values.dtype,
        )
        if e:
            errors.append(e)
    mm = json.loads(mine.schema.metadata[b"pandas"])
    tm = json.loads(theirs.schema.metadata[b"pandas"])
    if mm["index_columns"] != tm["index_columns"]:
        errors.append(f"index_columns {mm['index_columns']} != pyarrow's {tm['index_columns']}")
    strip = lambda cs: [{k: c[k] for k in ("name", "field_name", "pandas_type")} for c in cs]
    if strip(mm["column_indexes"]) != strip(tm["column_indexes"]):
        errors.append(f"column_indexes {mm['column_indexes']} != pyarrow's {tm['column_indexes']}")
    for m, t in zip(mm["columns"], tm["columns"]):
        if (m["name"], m["field_name"]) != (t["name"], t["field_name"]):
            errors.append(f"metadata column {m} != pyarrow's {t}")
        # numpy_type gives the dtype back: the same as pyarrow's, except a
        # categorical's codes, float16 (widened) and the columns of str().
        if (
            t["pandas_type"] not in ("categorical", "float16")
            and t["field_name"] not in as_str
            and m["numpy_type"] != t["numpy_type"]
        ):
            errors.append(f"numpy_type of {m['field_name']}: {m['numpy_type']} != {t['numpy_type']}")
        if t["pandas_type"] == "categorical" and m["metadata"] != t["metadata"]:
            errors.append(f"metadata of {m['field_name']}: {m['metadata']} != {t['metadata']}")
        if t["pandas_type"] == "datetimetz" and m["metadata"] != t["metadata"]:
            errors.append(f"metadata of {m['field_name']}: {m['metadata']} != {t['metadata']}")
    # What pandas reads back: the same frame as from pyarrow's own file
    # (the columns of str() aside; all of it when the index is one).
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "theirs.arrow")
        feather.write_feather(df, path, compression="uncompressed")
        try:
            want = pd.read_feather(path)
        except Exception:  # noqa: BLE001 - pyarrow cannot read its own file back
            return errors
    back = pd.read_feather(pa.BufferReader(data))
    index_fields = [i for i in tm["index_columns"] if isinstance(i, str)]
    if as_str & set(index_fields):
        return errors
    widened = {t["field_name"] for t in tm["columns"] if t["pandas_type"] == "float16"}
    keep = [i for i, n in enumerate(theirs.schema.names[: len(columns)]) if n not in as_str]
    try:
        pd.testing.assert_frame_equal(
            back.iloc[:, keep], want.iloc[:, keep], check_dtype=not widened, check_categorical=True
        )
    except AssertionError as e:
        errors.append(f"pd.read_feather differs from pyarrow's own file: {e}")
    return errors


def main():
    d = sys.argv[1]
    failed = 0
    checked = 0
    for f in sorted(os.listdir(d)):
        if not f.endswith(".arrow"):
            continue
        name = f[: -len(".arrow")]
        try:
            errors = compare(os.path.join(d, name + ".p5.pkl"), os.path.join(d, f))
        except Exception as e:  # noqa: BLE001 - a crash is a failure to report
            errors = [f"{type(e).__name__}: {e}"]
        checked += 1
        if errors:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(errors))
        else:
            print(f"ok {name}")
    print(f"checked {checked}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
