//! A frame as an Apache Arrow IPC file (Feather v2, `.arrow`) or stream
//! (feature `arrow-ipc`), laid out as `pyarrow.Table.from_pandas(df)` lays
//! out a frame, so that `pyarrow.feather.read_feather` (and
//! `pd.read_feather`) give the frame back with its index, and polars,
//! DuckDB or DataFusion read its columns.
//!
//! What is written is described on [`DataFrame::write_arrow_ipc`].

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use serde_json::{json, Value as Json};

use super::column::{Column, Label, Values};
use super::index::Index;
use super::record_batch::column_array;
use super::DataFrame;
use crate::error::{Error, Result};

/// `pyarrow.pandas_compat._column_name_to_strings`: a label as a str, a
/// tuple as the `str()` of the tuple of its items' strs; `None` for None.
fn label_string(l: &Label) -> Option<String> {
    match l {
        Label::None => None,
        Label::Tuple(items) => {
            let items = items
                .iter()
                .map(|x| match (x, label_string(x)) {
                    // None and NaN stay themselves inside the tuple.
                    (Label::None, _) => Label::None,
                    (Label::Float(f), _) if f.is_nan() => Label::Float(*f),
                    (_, Some(s)) => Label::Str(s),
                    (_, None) => Label::None,
                })
                .collect();
            Some(Label::Tuple(items).repr())
        }
        l => Some(l.to_string()),
    }
}

/// The Arrow field name of a column labelled `l` (`str()` of the above).
fn field_name(l: &Label) -> String {
    label_string(l).unwrap_or_else(|| "None".into())
}

/// A label as the JSON pyarrow keeps for a `RangeIndex`'s name.
fn label_json(l: &Label) -> Json {
    match l {
        Label::None => Json::Null,
        Label::Bool(b) => json!(b),
        Label::Int(i) => json!(i),
        Label::Float(f) if f.is_finite() => json!(f),
        l => json!(l.to_string()),
    }
}

/// pyarrow's `get_logical_type`: the `pandas_type` of an Arrow type.
fn pandas_type(t: &DataType) -> String {
    match t {
        DataType::Null => "empty".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 => "float16".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Binary | DataType::FixedSizeBinary(_) => "bytes".into(),
        DataType::Utf8 => "unicode".into(),
        DataType::Dictionary(..) => "categorical".into(),
        DataType::List(f) => format!("list[{}]", pandas_type(f.data_type())),
        DataType::Timestamp(_, Some(_)) => "datetimetz".into(),
        DataType::Timestamp(_, None) => "datetime".into(),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "decimal".into(),
        _ => "object".into(),
    }
}

/// The numpy and pandas dtypes whose names `numpy_type` keeps as they are.
const PLAIN_DTYPES: &[&str] = &[
    "bool", "boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "float32", "float64",
    "Float32", "Float64",
];

/// The `numpy_type` and `metadata` of a column's entry: the dtype pandas
/// should give the column back.
fn numpy_type(c: &Column, t: &DataType) -> (String, Json) {
    match (&c.values, t) {
        (
            Values::Categorical {
                categories,
                ordered,
                ..
            },
            DataType::Dictionary(keys, _),
        ) => (
            pandas_type(keys),
            json!({"num_categories": categories.len(), "ordered": ordered}),
        ),
        // pandas' ArrowDtype (`int64[pyarrow]`) takes the Arrow array back.
        _ if c.dtype.ends_with("[pyarrow]") => (c.dtype.clone(), Json::Null),
        (Values::Datetime { unit, .. }, DataType::Timestamp(_, tz)) => {
            let meta = match tz {
                Some(tz) => json!({ "timezone": tz.as_ref() }),
                None => Json::Null,
            };
            (format!("datetime64[{}]", unit.code()), meta)
        }
        (Values::Timedelta { unit, .. }, _) => {
            (format!("timedelta64[{}]", unit.code()), Json::Null)
        }
        (Values::Str(_), _) if c.dtype == "str" || c.dtype == "string" => {
            (c.dtype.clone(), Json::Null)
        }
        (Values::Str(_) | Values::Object(_), _) => ("object".into(), Json::Null),
        _ if PLAIN_DTYPES.contains(&c.dtype.as_str()) => (c.dtype.clone(), Json::Null),
        // float16 (widened), Sparse[..] (densified): what the file holds.
        _ => (pandas_type(t), Json::Null),
    }
}

fn column_entry(c: &Column, field: &str, t: &DataType) -> Json {
    let (numpy, meta) = numpy_type(c, t);
    json!({
        "name": label_string(&c.name),
        "field_name": field,
        "pandas_type": pandas_type(t),
        "numpy_type": numpy,
        "metadata": meta,
    })
}

/// One `column_indexes` entry: a level of the columns axis, its type
/// inferred from its labels.
fn axis_level(labels: &[&Label], name: &Label) -> Json {
    // Missing labels (None, NaN) are skipped, as `infer_dtype` skips them.
    let known: Vec<&&Label> = labels
        .iter()
        .filter(|l| !matches!(l, Label::None) && !matches!(l, Label::Float(f) if f.is_nan()))
        .collect();
    let all = |f: fn(&Label) -> bool| !known.is_empty() && known.iter().all(|l| f(l));
    let (pandas, numpy) = if known.is_empty() {
        ("empty", "object")
    } else if all(|l| matches!(l, Label::Str(_))) {
        ("unicode", "object")
    } else if all(|l| matches!(l, Label::Int(_))) {
        ("int64", "int64")
    } else if all(|l| matches!(l, Label::Float(_))) {
        ("float64", "float64")
    } else if all(|l| matches!(l, Label::Bool(_))) {
        ("bool", "bool")
    } else {
        ("mixed", "object")
    };
    let meta = if pandas == "unicode" {
        json!({"encoding": "UTF-8"})
    } else {
        Json::Null
    };
    let name = label_string(name);
    json!({
        "name": name,
        "field_name": name,
        "pandas_type": pandas,
        "numpy_type": numpy,
        "metadata": meta,
    })
}

/// `column_indexes`: one entry, or one a level where every label is a
/// tuple of the same length (a `MultiIndex` of columns).
fn column_indexes(df: &DataFrame) -> Vec<Json> {
    let labels: Vec<&Label> = df.columns.iter().map(|c| &c.name).collect();
    let width = match labels.first() {
        Some(Label::Tuple(t)) if !t.is_empty() => t.len(),
        _ => 0,
    };
    let multi = width > 0
        && labels
            .iter()
            .all(|l| matches!(l, Label::Tuple(t) if t.len() == width));
    if !multi {
        return vec![axis_level(&labels, &df.columns_name)];
    }
    let names: Vec<Label> = match &df.columns_name {
        Label::Tuple(t) if t.len() == width => t.clone(),
        _ => vec![Label::None; width],
    };
    (0..width)
        .map(|i| {
            let level: Vec<&Label> = labels
                .iter()
                .map(|l| match l {
                    Label::Tuple(t) => &t[i],
                    l => l,
                })
                .collect();
            axis_level(&level, &names[i])
        })
        .collect()
}

fn field(name: String, a: &ArrayRef, c: &Column) -> Field {
    let f = Field::new(name, a.data_type().clone(), true);
    match &c.values {
        Values::Categorical { ordered: true, .. } => f.with_dict_is_ordered(true),
        _ => f,
    }
}

impl DataFrame {
    /// The record batch [`DataFrame::write_arrow_ipc`] writes: the columns
    /// of [`DataFrame::to_record_batch`] (fields named as pyarrow names
    /// them), then the index levels as columns (none for a `RangeIndex`),
    /// with the `pandas` schema metadata of `pyarrow.Table.from_pandas`
    /// (see [`DataFrame::write_arrow_ipc`] for what each holds). Errors
    /// name the column that cannot be represented.
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow-ipc")))]
    pub fn to_record_batch_with_index(&self) -> Result<RecordBatch> {
        let n = self.columns.len() + self.index.names().len();
        let mut fields = Vec::with_capacity(n);
        let mut arrays = Vec::with_capacity(n);
        let mut entries = Vec::with_capacity(n);
        let mut used: HashSet<String> = HashSet::new();
        for c in &self.columns {
            let a = column_array(c, "column")?;
            let name = field_name(&c.name);
            if !used.insert(name.clone()) {
                return Err(Error::data(format!(
                    "two columns are named {} in Arrow (column {}): \
                     Arrow readers of pandas metadata need unique names",
                    crate::repr::repr_str(name.as_bytes()),
                    c.name.repr()
                )));
            }
            entries.push(column_entry(c, &name, a.data_type()));
            fields.push(field(name, &a, c));
            arrays.push(a);
        }
        let index_columns: Vec<Json> = match &self.index {
            Index::Range {
                start,
                stop,
                step,
                name,
            } => vec![json!({
                "kind": "range",
                "name": label_json(name),
                "start": start,
                "stop": stop,
                "step": step,
            })],
            ix => {
                let mut descriptors = Vec::new();
                for (i, level) in ix.levels().iter().enumerate() {
                    let a = column_array(level, "index level")?;
                    let name = match label_string(&level.name) {
                        Some(s) if !used.contains(&s) => s,
                        _ => {
                            let mut j = i;
                            while used.contains(&format!("__index_level_{j}__")) {
                                j += 1;
                            }
                            format!("__index_level_{j}__")
                        }
                    };
                    used.insert(name.clone());
                    entries.push(column_entry(level, &name, a.data_type()));
                    descriptors.push(json!(name));
                    fields.push(field(name, &a, level));
                    arrays.push(a);
                }
                descriptors
            }
        };
        let pandas = json!({
            "index_columns": index_columns,
            "column_indexes": column_indexes(self),
            "columns": entries,
            "attributes": {},
            "creator": {"library": "pickle-codec", "version": env!("CARGO_PKG_VERSION")},
        });
        let metadata =
            std::collections::HashMap::from([("pandas".to_string(), pandas.to_string())]);
        let schema = Schema::new(fields).with_metadata(metadata);
        let options = RecordBatchOptions::new().with_row_count(Some(self.len()));
        RecordBatch::try_new_with_options(Arc::new(schema), arrays, &options)
            .map_err(|e| Error::data(format!("frame as an Arrow record batch: {e}")))
    }

    /// Write the frame as an Arrow IPC file (Feather v2, what
    /// `pyarrow.feather.read_table`, `pyarrow.ipc.open_file`,
    /// `pd.read_feather` and polars' `read_ipc` read): the batch of
    /// [`DataFrame::to_record_batch_with_index`], uncompressed. The file
    /// format is written front to back, so `out` need not be seekable
    /// (its readers need the whole file). Errors name the column that
    /// cannot be represented; a failing `out` is an `Io` error.
    ///
    /// What is written:
    ///
    /// * The frame's columns, in order, as [`DataFrame::to_record_batch`]
    ///   makes them (the same Arrow types, values and validity bitmaps),
    ///   each field nullable and named as pyarrow names it: `str(label)`,
    ///   `"None"` for an unnamed column, and a tuple label (a `MultiIndex`
    ///   of columns) as `str(tuple(str(x) for x in label))`: `"('a', '1')"`
    ///   (where `to_record_batch` writes `a.1`). An ordered categorical's
    ///   dictionary field is marked ordered. Two columns whose field names
    ///   would be equal are an error (pyarrow refuses duplicate labels).
    /// * The row index: a `RangeIndex` only as metadata (no column), as
    ///   pyarrow does; any other index as one column a level after the data
    ///   columns, named by the level's name, or `__index_level_{i}__` when the
    ///   level is unnamed or its name is already a field's.
    /// * Schema metadata `pandas`: the JSON pyarrow writes (`index_columns`,
    ///   `column_indexes`, `columns`, `attributes`, `creator`). Each entry of
    ///   `columns` (data columns, then index levels) holds `name`,
    ///   `field_name`, `pandas_type` (pyarrow's logical name of the Arrow
    ///   type: `int64`, `unicode`, `datetimetz`, `categorical`, `object` for
    ///   large strings and durations), `numpy_type` (the pandas dtype, so
    ///   that `Int64`, `boolean`, `string` and `str` columns are read back as
    ///   those dtypes; `object` for the columns written as the `str()` of
    ///   their values; a categorical's key type; `datetime64[unit]` for a
    ///   zoned column) and `metadata` (`{"timezone": ..}` for a zoned column,
    ///   `{"num_categories": .., "ordered": ..}` for a categorical).
    ///   `column_indexes` describes the columns axis (one entry a level; its
    ///   type inferred from the labels, as `pd.api.types.infer_dtype` would:
    ///   `unicode`, `int64`, `float64`, `bool`, `mixed`, `empty`).
    ///   `attributes` is `{}` (`df.attrs` is not read from pickles), `creator`
    ///   names this crate and its version, and `pandas_version` is left out
    ///   (the pickle does not say which pandas wrote it).
    ///
    /// One record batch holds every row; nothing is compressed. Where this
    /// differs from pyarrow's own conversion: strings are `Utf8` where
    /// pyarrow makes pandas 3's `str` columns `LargeUtf8`, a categorical's
    /// keys are `Int32` where pyarrow keeps the codes' width (`Int8`),
    /// `float16` is widened to `Float32`; periods and intervals (which
    /// pyarrow writes as pandas' extension types), `object` columns of
    /// values other than strs (which pyarrow converts: dates to `Date32`,
    /// Decimals to `Decimal128`, ints to `Int64`, an empty or all-null
    /// column to `Null`), complex numbers and mixed `object` columns (which
    /// pyarrow refuses) are `Utf8` of each value's `str()`, read back as
    /// strings; sparse columns (which pyarrow refuses) are densified.
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow-ipc")))]
    pub fn write_arrow_ipc<W: Write>(&self, out: W) -> Result<()> {
        let batch = self.to_record_batch_with_index()?;
        let mut out = std::io::BufWriter::new(out);
        let mut w = FileWriter::try_new(&mut out, batch.schema_ref()).map_err(arrow_error)?;
        w.write(&batch).map_err(arrow_error)?;
        w.finish().map_err(arrow_error)?;
        drop(w);
        out.flush().map_err(Error::io)
    }

    /// [`DataFrame::write_arrow_ipc`] in the Arrow IPC stream format
    /// (`.arrows`, what `pyarrow.ipc.open_stream` and polars'
    /// `read_ipc_stream` read, from a pipe too): the same schema, metadata
    /// and batch, without the file format's footer.
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow-ipc")))]
    pub fn write_arrow_ipc_stream<W: Write>(&self, out: W) -> Result<()> {
        let batch = self.to_record_batch_with_index()?;
        let mut out = std::io::BufWriter::new(out);
        let mut w = StreamWriter::try_new(&mut out, batch.schema_ref()).map_err(arrow_error)?;
        w.write(&batch).map_err(arrow_error)?;
        w.finish().map_err(arrow_error)?;
        drop(w);
        out.flush().map_err(Error::io)
    }
}

fn arrow_error(e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, io) => Error::io(io),
        e => Error::data(format!("Arrow IPC: {e}")),
    }
}
