//! Block values as columns: numpy arrays (one column per row of a 2-D
//! block) and pandas' extension arrays (masked `IntegerArray`,
//! `FloatingArray`, `BooleanArray`; `StringArray`; `Categorical`;
//! `DatetimeArray` with or without a time zone; `TimedeltaArray`;
//! `NumpyExtensionArray`), and their dtypes.

use super::column::{Cell, Column, Label, TimeUnit, Values};
use super::{callable, index, pandas_class};
use crate::error::{Error, Result};
use crate::ml::numpy::{is_ndarray, ArrayData, NdArray};
use crate::value::{Kind, ValueRef};

/// The columns a block's values hold: one per row of a 2-D numpy array,
/// one for a 1-D array or an extension array.
pub(crate) fn read_array(v: ValueRef<'_>) -> Result<Vec<Column>> {
    super::nested(|| read_array_inner(v))
}

fn read_array_inner(v: ValueRef<'_>) -> Result<Vec<Column>> {
    if is_ndarray(v) {
        let arr = NdArray::from_value(v)?;
        return numpy_columns(&arr);
    }
    if let Some(cols) = read_extension(v)? {
        return Ok(cols);
    }
    // pandas < 0.24 kept a time zone's datetimes in a block as a
    // `DatetimeIndex`; an Index as values is read as its one column.
    if let Some(ix) = index::try_read_index(v)? {
        return match ix {
            index::Index::Multi(_) => Err(Error::data("a MultiIndex as a block's values")),
            ix => Ok(vec![ix.to_column_checked()?]),
        };
    }
    Err(Error::unsupported(format!(
        "pandas block values of an unknown kind: {}",
        super::describe(v)
    )))
}

/// The one column of a 1-D array value (numpy or extension).
pub(crate) fn read_1d(v: ValueRef<'_>, what: &str) -> Result<Column> {
    let mut cols = read_array(v)?;
    if cols.len() != 1 {
        return Err(Error::data(format!(
            "{what}: expected a 1-D array, got one of {} rows",
            cols.len()
        )));
    }
    Ok(cols.remove(0))
}

pub(crate) fn element_count(arr: &NdArray<'_>) -> Result<usize> {
    arr.shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data("array shape overflows"))
}

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
    let total = element_count(arr)?;
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
fn read_extension(v: ValueRef<'_>) -> Result<Option<Vec<Column>>> {
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
                    (index::read_index(cats)?.to_column_checked()?, ordered)
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
        index::read_index(cats)?.to_column_checked()?
    };
    Ok((cats, ordered))
}

/// `str(StringDtype)`: `"str"` for pandas 3's NaN-semantics string dtype,
/// `"string"` for `pd.NA` ones.
pub(crate) fn string_dtype_name(d: ValueRef<'_>) -> String {
    let args = d
        .as_object()
        .map(|o| d.at(o.args))
        .and_then(|a| a.as_slice().map(|_| a));
    let na = args.and_then(|a| a.index(1)).or_else(|| {
        d.state_dict()
            .and_then(|s| s.get("_na_value").or_else(|| s.get("na_value")))
    });
    match na.map(|n| n.kind()) {
        Some(Kind::Float(f)) if f.is_nan() => "str".into(),
        _ => "string".into(),
    }
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

/// The name pandas prints for a pickled time zone: `datetime.timezone`
/// (`UTC`, `UTC+01:00`), pytz (`UTC`, the zone), `zoneinfo.ZoneInfo`
/// (its key), dateutil (`tzutc()`, its repr otherwise).
pub(crate) fn tz_name(tz: ValueRef<'_>) -> Option<String> {
    if tz.is_none() {
        return None;
    }
    if let Some(s) = tz.as_str() {
        return Some(s.to_string());
    }
    let args = tz.as_object().map(|o| tz.at(o.args));
    let arg = |i: usize| args.and_then(|a| a.index(i));
    if let Some((m, n)) = tz.as_global().or_else(|| tz.class()) {
        match (m, n) {
            ("datetime", "timezone") => {
                if let Some(name) = arg(1).and_then(|x| x.as_str()) {
                    return Some(name.to_string());
                }
                let secs = arg(0).and_then(timedelta_seconds).unwrap_or(0);
                return Some(utc_offset_name(secs));
            }
            ("pytz", "_UTC") | ("pytz", "utc") => return Some("UTC".into()),
            ("pytz", "_p") => return arg(0).and_then(|z| z.as_str()).map(str::to_string),
            ("pytz", "FixedOffset") => {
                let m = arg(0).and_then(|x| x.as_i64()).unwrap_or(0);
                return Some(format!("pytz.FixedOffset({m})"));
            }
            ("dateutil.tz.tz", "tzutc") => return Some("tzutc()".into()),
            _ => {}
        }
    }
    // zoneinfo: `getattr(ZoneInfo, '_unpickle')(key, 1)`.
    if let Some(o) = tz.as_object() {
        let f = tz.at(o.callable);
        if let Some(fo) = f.as_object() {
            let fargs = f.at(fo.args);
            let target = fargs.index(0).and_then(|t| t.as_global());
            if f.at(fo.callable).as_global() == Some(("builtins", "getattr"))
                && matches!(target, Some((_, "ZoneInfo")))
            {
                return arg(0).and_then(|k| k.as_str()).map(str::to_string);
            }
        }
    }
    Some(crate::repr::repr_limited(tz, 200))
}

/// `datetime.timedelta(days, seconds, microseconds)` in whole seconds.
fn timedelta_seconds(td: ValueRef<'_>) -> Option<i64> {
    if callable(td) != Some(("datetime", "timedelta")) {
        return None;
    }
    let a = td.at(td.as_object()?.args);
    let days = a.index(0).and_then(|x| x.as_i64()).unwrap_or(0);
    let secs = a.index(1).and_then(|x| x.as_i64()).unwrap_or(0);
    days.checked_mul(86_400)?.checked_add(secs)
}

/// `str(datetime.timezone(timedelta(seconds=s)))`.
fn utc_offset_name(s: i64) -> String {
    if s == 0 {
        return "UTC".into();
    }
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.unsigned_abs();
    let (h, m, sec) = (a / 3600, a / 60 % 60, a % 60);
    if sec != 0 {
        format!("UTC{sign}{h:02}:{m:02}:{sec:02}")
    } else {
        format!("UTC{sign}{h:02}:{m:02}")
    }
}

/// The offset from UTC, in seconds, of a time zone pandas named
/// `UTC`, `UTC±HH:MM[:SS]` or `pytz.FixedOffset(m)`; `None` for zones
/// whose offset changes.
pub(crate) fn fixed_offset(tz: &str) -> Option<i64> {
    if tz == "UTC" || tz == "tzutc()" {
        return Some(0);
    }
    if let Some(m) = tz
        .strip_prefix("pytz.FixedOffset(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return m
            .parse::<i64>()
            .ok()
            .filter(|m| m.abs() < 24 * 60)
            .map(|m| m * 60);
    }
    let rest = tz.strip_prefix("UTC")?;
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':').map(|p| p.parse::<i64>().ok());
    let h = parts.next()??;
    let m = parts.next()??;
    let s = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}
