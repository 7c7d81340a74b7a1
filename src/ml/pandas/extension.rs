//! Block values as columns: numpy arrays (one column per row of a 2-D
//! block) and pandas' extension arrays (masked `IntegerArray`,
//! `FloatingArray`, `BooleanArray`; `StringArray`; `Categorical`;
//! `DatetimeArray` with or without a time zone; `TimedeltaArray`;
//! `NumpyExtensionArray`), and their dtypes.

use super::column::{Cell, Column, Label, TimeUnit, Values};
use super::tz::tz_name;
use super::{callable, pandas_class, string_dtype_name};
use crate::error::{Error, Result};
use crate::ml::numpy::{ArrayData, NdArray};
use crate::value::ValueRef;

/// A numpy array's columns: 1-D is one column, 2-D `(k, n)` is `k`.
pub(crate) fn numpy_columns(arr: &NdArray<'_>) -> Result<Vec<Column>> {
    let (k, n) = match arr.shape[..] {
        [n] => (1, n),
        [k, n] => (k, n),
        _ => {
            return Err(Error::data(format!(
                "pandas block of {} dimensions",
                arr.shape.len()
            )))
        }
    };
    if k > super::MAX_COLUMNS {
        return Err(Error::limit(format!(
            "pandas block of {k} columns (at most {})",
            super::MAX_COLUMNS
        )));
    }
    let total = super::element_count(arr)?;
    let whole = numpy_values(arr, total)?;
    if k == 1 {
        return Ok(vec![whole]);
    }
    let mut out = Vec::with_capacity(k);
    for r in 0..k {
        let positions: Vec<i64> = (r * n..(r + 1) * n).map(|p| p as i64).collect();
        out.push(whole.take(&positions)?);
    }
    Ok(out)
}

/// The flat values of a numpy array (C order) as one column.
fn numpy_values(arr: &NdArray<'_>, total: usize) -> Result<Column> {
    let dt = &arr.dtype;
    if !dt.fields.is_empty() || dt.subarray.is_some() {
        return Err(Error::unsupported(format!(
            "pandas column of the structured numpy dtype {}",
            dt.str()
        )));
    }
    let name = |prefix: &str| format!("{prefix}{}", dt.itemsize * 8);
    Ok(match (dt.kind, dt.itemsize) {
        ('b', 1) => Column::new("bool", Values::Bool(arr.to_vec::<bool>()?)),
        ('i', 1) => Column::new("int8", Values::Int(widen(arr.to_vec::<i8>()?))),
        ('i', 2) => Column::new("int16", Values::Int(widen(arr.to_vec::<i16>()?))),
        ('i', 4) => Column::new("int32", Values::Int(widen(arr.to_vec::<i32>()?))),
        ('i', 8) => Column::new("int64", Values::Int(arr.to_vec::<i64>()?)),
        ('u', 1) => Column::new("uint8", Values::Int(widen(arr.to_vec::<u8>()?))),
        ('u', 2) => Column::new("uint16", Values::Int(widen(arr.to_vec::<u16>()?))),
        ('u', 4) => Column::new("uint32", Values::Int(widen(arr.to_vec::<u32>()?))),
        ('u', 8) => Column::new("uint64", Values::UInt(arr.to_vec::<u64>()?)),
        ('f', 2) => Column::new("float16", Values::Float(arr.to_f64_vec()?)),
        ('f', 4) => Column::new("float32", Values::Float32(arr.to_vec::<f32>()?)),
        ('f', 8) => Column::new("float64", Values::Float(arr.to_vec::<f64>()?)),
        ('M', 8) => {
            let unit = TimeUnit::parse(dt.unit.as_deref().unwrap_or("ns"))?;
            Column::new(
                format!("datetime64[{}]", unit.code()),
                Values::Datetime {
                    values: arr.to_vec::<i64>()?,
                    unit,
                    tz: None,
                },
            )
        }
        ('m', 8) => {
            let unit = TimeUnit::parse(dt.unit.as_deref().unwrap_or("ns"))?;
            Column::new(
                format!("timedelta64[{}]", unit.code()),
                Values::Timedelta {
                    values: arr.to_vec::<i64>()?,
                    unit,
                },
            )
        }
        ('O', _) => {
            let ArrayData::Objects { doc, items } = &arr.data else {
                return Err(Error::data("object array without items"));
            };
            if items.len() != total {
                return Err(Error::data("object array of the wrong length"));
            }
            object_column(items.iter().map(|&x| doc.get(x)))
        }
        ('c', 16) => {
            // Kept as numpy prints each value; a NaN part is a null.
            let cells = arr
                .to_vec::<[f64; 2]>()?
                .into_iter()
                .map(|[re, im]| {
                    if re.is_nan() || im.is_nan() {
                        Cell::Null
                    } else {
                        Cell::Object(super::floats::complex_text(re, im))
                    }
                })
                .collect();
            Column::new("complex128", Values::Object(cells))
        }
        ('c', _) => {
            return Err(Error::unsupported(format!(
                "pandas column of dtype {}",
                name("complex")
            )))
        }
        _ => {
            return Err(Error::unsupported(format!(
                "pandas column of the numpy dtype {}",
                dt.str()
            )))
        }
    })
}

fn widen<T: Into<i64>>(v: Vec<T>) -> Vec<i64> {
    v.into_iter().map(Into::into).collect()
}

/// An `object` column: `Str` when every item is a str or a null.
fn object_column<'a>(items: impl Iterator<Item = ValueRef<'a>>) -> Column {
    let cells: Vec<Cell> = items.map(Cell::from_object).collect();
    if cells.iter().all(|c| matches!(c, Cell::Str(_) | Cell::Null)) {
        strings_column("object", cells)
    } else {
        Column::new("object", Values::Object(cells))
    }
}

fn strings_column(dtype: &str, cells: Vec<Cell>) -> Column {
    let mut nulls = Vec::with_capacity(cells.len());
    let values = cells
        .into_iter()
        .map(|c| match c {
            Cell::Str(s) => {
                nulls.push(false);
                s
            }
            _ => {
                nulls.push(true);
                String::new()
            }
        })
        .collect();
    let mut col = Column::new(dtype, Values::Str(values));
    if nulls.iter().any(|&b| b) {
        col.nulls = Some(nulls);
    }
    col
}

/// The last part of a pandas class name (`pandas.core.arrays.integer.IntegerArray`
/// and `pandas.arrays.IntegerArray` both give `IntegerArray`).
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// An extension array's columns (one, or one a row of a 2-D
/// `DatetimeArray` / `TimedeltaArray` block), if `v` is one.
pub(crate) fn read_extension(v: ValueRef<'_>) -> Result<Option<Vec<Column>>> {
    // `__pyx_unpickle_NDArrayBacked(cls, checksum, state)`: Cython's
    // pickle of pandas' NDArrayBacked arrays, the state given here or by
    // a BUILD after it.
    if let Some((m, "__pyx_unpickle_IntervalMixin")) = callable(v) {
        if m.starts_with("pandas") {
            return super::periods::interval_array(v).map(|c| Some(vec![c]));
        }
    }
    if let Some((m, "__pyx_unpickle_NDArrayBacked")) = callable(v) {
        if !m.starts_with("pandas") {
            return Ok(None);
        }
        let Some(o) = v.as_object() else {
            return Ok(None);
        };
        let args = v.at(o.args);
        let cls = args
            .index(0)
            .and_then(|c| c.as_global())
            .map(|(_, n)| short(n))
            .ok_or_else(|| Error::data("NDArrayBacked pickle without a class"))?;
        let state = match args.index(2) {
            Some(s) if !s.is_none() => s,
            _ => v
                .state()
                .ok_or_else(|| Error::data(format!("pandas {cls} without a state")))?,
        };
        return backed(cls, state).map(Some);
    }
    let one = |c: Result<Column>| c.map(|c| Some(vec![c]));
    let Some(cls) = pandas_class(v) else {
        return Ok(None);
    };
    let cls = short(cls);
    match cls {
        "IntegerArray" | "FloatingArray" | "BooleanArray" => one(masked(v, cls)),
        "SparseArray" => one(super::periods::sparse_array(v)),
        "ArrowStringArray"
        | "ArrowStringArrayNumpySemantics"
        | "ArrowExtensionArray"
        | "ArrowStringArrayNumpy" => one(super::arrow::read_arrow_array(v, cls)),
        "StringArray"
        | "Categorical"
        | "DatetimeArray"
        | "TimedeltaArray"
        | "NumpyExtensionArray"
        | "PandasArray" => {
            let state = v
                .state()
                .ok_or_else(|| Error::data(format!("pandas {cls} without a state")))?;
            backed(cls, state).map(Some)
        }
        _ => Ok(None),
    }
}

/// `IntegerArray`, `FloatingArray`, `BooleanArray`: `_data` and `_mask`.
fn masked(v: ValueRef<'_>, cls: &str) -> Result<Column> {
    let state = v
        .state_dict()
        .ok_or_else(|| Error::data(format!("pandas {cls} without a state dict")))?;
    let data = state
        .get("_data")
        .ok_or_else(|| Error::data(format!("pandas {cls} without `_data`")))?;
    let mask = state
        .get("_mask")
        .ok_or_else(|| Error::data(format!("pandas {cls} without `_mask`")))?;
    let data = NdArray::from_value(data)?;
    let mask = NdArray::from_value(mask)?;
    if data.shape.len() != 1 || mask.shape != data.shape {
        return Err(Error::data(format!(
            "pandas {cls}: data of shape {:?} and mask of shape {:?}",
            data.shape, mask.shape
        )));
    }
    let mask = mask.to_vec::<bool>()?;
    let mut col = numpy_values(&data, data.shape[0])?;
    let bits = data.dtype.itemsize * 8;
    col.dtype = match (cls, data.dtype.kind) {
        ("IntegerArray", 'i') => format!("Int{bits}"),
        ("IntegerArray", 'u') => format!("UInt{bits}"),
        ("FloatingArray", 'f') => format!("Float{bits}"),
        ("BooleanArray", 'b') => "boolean".into(),
        _ => {
            return Err(Error::data(format!(
                "pandas {cls} holding {} data",
                data.dtype.str()
            )))
        }
    };
    col.nulls = if mask.iter().any(|&b| b) {
        Some(mask)
    } else {
        None
    };
    Ok(col)
}

/// The `(dtype, ndarray)` of an NDArrayBacked state: a tuple
/// `(dtype, ndarray[, attrs])`, or a dict of pandas 1.x attributes.
fn backed_parts<'a>(
    cls: &str,
    state: ValueRef<'a>,
) -> Result<(Option<ValueRef<'a>>, ValueRef<'a>, Option<ValueRef<'a>>)> {
    if state.as_pairs().is_some() {
        let data = ["_ndarray", "_data", "_codes", "codes"]
            .iter()
            .find_map(|k| state.get(k))
            .ok_or_else(|| Error::data(format!("pandas {cls} state without its array")))?;
        let dtype = ["_dtype", "dtype"].iter().find_map(|k| state.get(k));
        return Ok((dtype, data, Some(state)));
    }
    let items: Vec<ValueRef<'a>> = state.iter().collect();
    match items.len() {
        2 | 3 => Ok((Some(items[0]), items[1], items.get(2).copied())),
        n => Err(Error::data(format!("pandas {cls} state of {n} items"))),
    }
}

fn backed(cls: &str, state: ValueRef<'_>) -> Result<Vec<Column>> {
    let (dtype, data, attrs) = backed_parts(cls, state)?;
    match cls {
        "StringArray" => {
            let arr = NdArray::from_value(data)?;
            let ArrayData::Objects { doc, items } = &arr.data else {
                return Err(Error::data("pandas StringArray over a non-object array"));
            };
            if arr.shape.len() != 1 {
                return Err(Error::data("pandas StringArray of more than 1 dimension"));
            }
            let cells: Vec<Cell> = items
                .iter()
                .map(|&x| Cell::from_object(doc.get(x)))
                .collect();
            if let Some(bad) = cells
                .iter()
                .find(|c| !matches!(c, Cell::Str(_) | Cell::Null))
            {
                return Err(Error::data(format!(
                    "pandas StringArray holding a non-str value {bad:?}"
                )));
            }
            let name = match dtype {
                Some(d) => string_dtype_name(d),
                None => "string".into(),
            };
            Ok(vec![strings_column(&name, cells)])
        }
        "Categorical" => {
            let codes = NdArray::from_value(data)?;
            if codes.shape.len() != 1 || !matches!(codes.dtype.kind, 'i' | 'u') {
                return Err(Error::data(
                    "pandas Categorical codes are not a 1-D int array",
                ));
            }
            let codes = numpy_values(&codes, codes.shape[0])?;
            let codes = match codes.values {
                Values::Int(c) => c,
                _ => return Err(Error::data("pandas Categorical codes are not ints")),
            };
            let (categories, ordered) = match dtype {
                Some(d) if !d.is_none() => categorical_dtype(d)?,
                _ => {
                    let attrs = attrs.ok_or_else(|| {
                        Error::data("pandas Categorical without a dtype or categories")
                    })?;
                    let cats = attrs.get("_categories").ok_or_else(|| {
                        Error::data("pandas Categorical without a dtype or categories")
                    })?;
                    let ordered = attrs
                        .get("_ordered")
                        .and_then(|o| o.as_bool())
                        .unwrap_or(false);
                    (super::read_index(cats)?.to_column_checked()?, ordered)
                }
            };
            categorical(codes, categories, ordered).map(|c| vec![c])
        }
        "PeriodArray" => {
            let arr = NdArray::from_value(data)?;
            let dtype = dtype.ok_or_else(|| Error::data("pandas PeriodArray without a dtype"))?;
            super::periods::period_columns(&arr, dtype)
        }
        "DatetimeArray" | "TimedeltaArray" | "NumpyExtensionArray" | "PandasArray" => {
            let arr = NdArray::from_value(data)?;
            let mut cols = numpy_columns(&arr)?;
            let tz = match dtype {
                Some(d) if pandas_class(d).is_some_and(|n| n.ends_with("DatetimeTZDtype")) => {
                    datetime_tz(d)?
                }
                _ => attrs.and_then(|a| a.get("_tz")).and_then(tz_name),
            };
            for col in &mut cols {
                if cls == "DatetimeArray" {
                    set_tz(col, tz.clone())?;
                } else if cls == "TimedeltaArray" && !matches!(col.values, Values::Timedelta { .. })
                {
                    return Err(Error::data("pandas TimedeltaArray over a non-m8 array"));
                }
            }
            Ok(cols)
        }
        _ => Err(Error::unsupported(format!("pandas {cls} arrays"))),
    }
}

/// Give a datetime column its time zone.
pub(crate) fn set_tz(col: &mut Column, tz: Option<String>) -> Result<()> {
    let Values::Datetime { unit, tz: slot, .. } = &mut col.values else {
        return Err(Error::data("pandas DatetimeArray over a non-M8 array"));
    };
    if let Some(tz) = tz {
        col.dtype = format!("datetime64[{}, {tz}]", unit.code());
        *slot = Some(tz);
    }
    Ok(())
}

/// A categorical column, its codes checked against its categories.
pub(crate) fn categorical(codes: Vec<i64>, categories: Column, ordered: bool) -> Result<Column> {
    let n = categories.len() as i64;
    if let Some(&bad) = codes.iter().find(|&&c| c < -1 || c >= n) {
        return Err(Error::data(format!(
            "pandas Categorical code {bad} outside its {n} categories"
        )));
    }
    let mut categories = categories;
    categories.name = Label::None;
    Ok(Column::new(
        "category",
        Values::Categorical {
            codes,
            categories: Box::new(categories),
            ordered,
        },
    ))
}

/// `CategoricalDtype`: its categories (an Index) and `ordered`.
fn categorical_dtype(d: ValueRef<'_>) -> Result<(Column, bool)> {
    let st = d
        .state_dict()
        .ok_or_else(|| Error::data("pandas CategoricalDtype without a state"))?;
    let cats = st
        .get("categories")
        .or_else(|| st.get("_categories"))
        .ok_or_else(|| Error::data("pandas CategoricalDtype without categories"))?;
    let ordered = st
        .get("ordered")
        .or_else(|| st.get("_ordered"))
        .and_then(|o| o.as_bool())
        .unwrap_or(false);
    let cats = if cats.is_none() {
        Column::new("object", Values::Str(Vec::new()))
    } else {
        super::read_index(cats)?.to_column_checked()?
    };
    Ok((cats, ordered))
}

/// `DatetimeTZDtype`: its time zone's name (the unit comes with the data).
fn datetime_tz(d: ValueRef<'_>) -> Result<Option<String>> {
    let st = d
        .state_dict()
        .ok_or_else(|| Error::data("pandas DatetimeTZDtype without a state"))?;
    let tz = st
        .get("tz")
        .or_else(|| st.get("_tz"))
        .ok_or_else(|| Error::data("pandas DatetimeTZDtype without a time zone"))?;
    Ok(tz_name(tz))
}
