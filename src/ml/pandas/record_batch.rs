//! A frame as an Apache Arrow `RecordBatch` (feature `arrow`), the column
//! format polars and DataFusion take: one Arrow array a column, nulls as
//! pandas' `isna` sees them in the validity bitmap.
//!
//! The types are listed on [`DataFrame::to_record_batch`].

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, DurationMicrosecondArray, DurationMillisecondArray,
    DurationNanosecondArray, DurationSecondArray, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, Int8Array, LargeStringArray, RecordBatch, RecordBatchOptions,
    StringArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{Field, Schema};

use super::column::{Cell, Column, Label, TimeUnit, Values};
use super::DataFrame;
use crate::error::{Error, Result};

fn validity(c: &Column) -> Option<NullBuffer> {
    c.nulls
        .as_ref()
        .map(|n| NullBuffer::from(n.iter().map(|&null| !null).collect::<Vec<bool>>()))
}

fn narrow<T: TryFrom<i64>>(v: &[i64], c: &Column) -> Result<Vec<T>> {
    v.iter()
        .enumerate()
        .map(|(i, &x)| {
            // A null slot may hold anything: it is not read.
            if c.is_null(i) {
                return T::try_from(0).map_err(|_| Error::data("zero out of range"));
            }
            T::try_from(x)
                .map_err(|_| Error::data(format!("value {x} out of range of {}", c.dtype)))
        })
        .collect()
}

fn strings(texts: Vec<Option<String>>) -> ArrayRef {
    let total: usize = texts
        .iter()
        .map(|t| t.as_ref().map_or(0, String::len))
        .sum();
    if total > i32::MAX as usize {
        Arc::new(LargeStringArray::from(texts))
    } else {
        Arc::new(StringArray::from(texts))
    }
}

/// One column as an Arrow array; an error names the column (`what`:
/// `column`, `index level`).
pub(crate) fn column_array(c: &Column, what: &str) -> Result<ArrayRef> {
    to_array(c).map_err(|e| {
        Error::new(
            e.category(),
            format!(
                "{what} {} ({}) cannot be exported to Arrow: {}",
                c.name.repr(),
                c.dtype,
                e.message()
            ),
        )
    })
}

/// One column as an Arrow array.
fn to_array(c: &Column) -> Result<ArrayRef> {
    let nulls = validity(c);
    let n = c.len();
    Ok(match &c.values {
        Values::Bool(v) => Arc::new(BooleanArray::new(v.clone().into(), nulls)),
        Values::Int(v) => match c.dtype.to_ascii_lowercase().as_str() {
            "int8" => Arc::new(Int8Array::new(narrow::<i8>(v, c)?.into(), nulls)),
            "int16" => Arc::new(Int16Array::new(narrow::<i16>(v, c)?.into(), nulls)),
            "int32" => Arc::new(Int32Array::new(narrow::<i32>(v, c)?.into(), nulls)),
            "uint8" => Arc::new(UInt8Array::new(narrow::<u8>(v, c)?.into(), nulls)),
            "uint16" => Arc::new(UInt16Array::new(narrow::<u16>(v, c)?.into(), nulls)),
            "uint32" => Arc::new(UInt32Array::new(narrow::<u32>(v, c)?.into(), nulls)),
            _ => Arc::new(Int64Array::new(v.clone().into(), nulls)),
        },
        Values::UInt(v) => Arc::new(UInt64Array::new(v.clone().into(), nulls)),
        Values::Float(v) if c.dtype == "float16" => {
            let w: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Arc::new(Float32Array::new(w.into(), nulls))
        }
        Values::Float(v) => Arc::new(Float64Array::new(v.clone().into(), nulls)),
        Values::Float32(v) => Arc::new(Float32Array::new(v.clone().into(), nulls)),
        Values::Str(v) => strings(
            (0..n)
                .map(|i| (!c.is_null(i)).then(|| v[i].clone()))
                .collect(),
        ),
        Values::Object(cells) => {
            if let Some(bad) = cells
                .iter()
                .find(|x| matches!(x, Cell::Other(_) | Cell::Datetime(..) | Cell::Timedelta(..)))
            {
                let what = match bad {
                    Cell::Other(r) => r.as_str(),
                    _ => "numpy datetimes",
                };
                return Err(Error::unsupported(format!(
                    "an object column holding {what}, whose str() this crate does not know"
                )));
            }
            let fields = c.csv_fields(super::CsvOptions::default())?;
            strings(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| (!matches!(c.cell(i), Some(Cell::Null) | None)).then_some(f))
                    .collect(),
            )
        }
        Values::Datetime { values, unit, tz } => {
            let tz: Option<Arc<str>> = tz.as_deref().map(arrow_tz).map(Into::into);
            let v = values.clone().into();
            match unit {
                TimeUnit::Second => {
                    Arc::new(TimestampSecondArray::new(v, nulls).with_timezone_opt(tz))
                }
                TimeUnit::Milli => {
                    Arc::new(TimestampMillisecondArray::new(v, nulls).with_timezone_opt(tz))
                }
                TimeUnit::Micro => {
                    Arc::new(TimestampMicrosecondArray::new(v, nulls).with_timezone_opt(tz))
                }
                TimeUnit::Nano => {
                    Arc::new(TimestampNanosecondArray::new(v, nulls).with_timezone_opt(tz))
                }
            }
        }
        Values::Timedelta { values, unit } => {
            let v = values.clone().into();
            match unit {
                TimeUnit::Second => Arc::new(DurationSecondArray::new(v, nulls)),
                TimeUnit::Milli => Arc::new(DurationMillisecondArray::new(v, nulls)),
                TimeUnit::Micro => Arc::new(DurationMicrosecondArray::new(v, nulls)),
                TimeUnit::Nano => Arc::new(DurationNanosecondArray::new(v, nulls)),
            }
        }
        Values::Categorical {
            codes, categories, ..
        } => {
            let keys: Vec<Option<i32>> = codes
                .iter()
                .map(|&k| {
                    if k < 0 {
                        Ok(None)
                    } else {
                        i32::try_from(k)
                            .map(Some)
                            .map_err(|_| Error::limit("more than 2^31 categories"))
                    }
                })
                .collect::<Result<_>>()?;
            let values = to_array(categories)?;
            let dict = DictionaryArray::<Int32Type>::try_new(keys.into(), values)
                .map_err(|e| Error::data(format!("categorical as Arrow: {e}")))?;
            Arc::new(dict)
        }
    })
}

/// Arrow's name for a time zone: IANA names and `+01:00` offsets.
fn arrow_tz(tz: &str) -> String {
    match super::tz::fixed_offset(tz) {
        Some(0) if tz == "UTC" => "UTC".into(),
        Some(off) => super::tz::offset_text(off),
        None => tz.to_string(),
    }
}

/// A column label as an Arrow field name: `str(label)`, a `MultiIndex`'s
/// labels joined by `.`.
fn field_name(l: &Label) -> String {
    match l {
        Label::Tuple(t) => t
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("."),
        l => l.to_string(),
    }
}

impl DataFrame {
    /// The frame as an Arrow `RecordBatch`: one field a column, named by
    /// `str(label)` (a `MultiIndex`'s labels joined by `.`), every field
    /// nullable, of these types:
    ///
    /// | pandas dtype | Arrow type |
    /// |---|---|
    /// | `bool`, `boolean` | `Boolean` |
    /// | `int8` … `int64`, `uint8` … `uint64` (and `Int8` … `UInt64`) | `Int8` … `UInt64` |
    /// | `float16`, `float32`, `Float32` | `Float32` (float16 widened) |
    /// | `float64`, `Float64` | `Float64` |
    /// | `object` of strs, `str`, `string` | `Utf8` (`LargeUtf8` past 2 GiB of text) |
    /// | other `object` columns, `period[..]`, `interval[..]` | `Utf8` of each value's `str()` |
    /// | `datetime64[unit]`, `datetime64[unit, tz]` | `Timestamp(unit, tz)` |
    /// | `timedelta64[unit]` | `Duration(unit)` |
    /// | `category` | `Dictionary(Int32, categories' type)` |
    ///
    /// The index is not part of the batch (as in `to_csv(index=False)`); add
    /// it as a column with [`super::Index::to_column`] when it is wanted
    /// (`to_record_batch_with_index`, feature `arrow-ipc`, adds it as
    /// pyarrow does). Errors where a column cannot be represented (an
    /// `object` column holding values whose `str()` this crate does not
    /// know, an int outside its dtype's range); the error names the column.
    #[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let a = column_array(c, "column")?;
            fields.push(Field::new(field_name(&c.name), a.data_type().clone(), true));
            arrays.push(a);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.len()));
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
            .map_err(|e| Error::data(format!("frame as an Arrow record batch: {e}")))
    }
}
