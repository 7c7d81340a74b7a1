//! pyarrow-backed columns (`ArrowStringArray`, `ArrowExtensionArray`),
//! read from the buffers pyarrow pickles, without pyarrow.
//!
//! pyarrow reduces an `Array` to `pyarrow.lib._restore_array((type,
//! length, null_count, offset, buffers, children, dictionary))`, each
//! buffer `pyarrow.lib.py_buffer(bytes)` (or `None`: no validity bitmap),
//! and a `ChunkedArray` to `pyarrow.lib.chunked_array([arrays], type)`;
//! the type is `pyarrow.lib.type_for_alias(name)` for the primitive
//! types. Buffers follow Arrow's columnar format: a validity bitmap
//! (least significant bit first, 1 = valid), then the values (a bitmap
//! for bools), or for strings the offsets (`i32`, `i64` for the large
//! types) and the UTF-8 data.

use super::column::{Column, Values};
use super::string_dtype_name;
use crate::error::{Error, Result};
use crate::value::ValueRef;

/// An arrow-backed pandas array: its `_pa_array` and `_dtype`.
pub(crate) fn read_arrow_array(v: ValueRef<'_>, cls: &str) -> Result<Column> {
    let st = v
        .state_dict()
        .ok_or_else(|| Error::data(format!("pandas {cls} without a state dict")))?;
    let pa = st
        .get("_pa_array")
        .or_else(|| st.get("_data"))
        .ok_or_else(|| Error::data(format!("pandas {cls} without `_pa_array`")))?;
    let chunks = chunks_of(pa)?;
    let mut parts = Vec::with_capacity(chunks.len());
    for c in chunks {
        parts.push(restore_array(c)?);
    }
    let ty = match parts.first() {
        Some(p) => p.ty.clone(),
        None => chunked_type(pa).unwrap_or_else(|| "large_string".into()),
    };
    let mut col = concat(&ty, parts)?;
    col.dtype = match st.get("_dtype") {
        Some(d) if super::pandas_class(d).is_some_and(|n| n.ends_with("StringDtype")) => {
            string_dtype_name(d)
        }
        _ if cls.starts_with("ArrowString") => "string".into(),
        _ => format!("{}[pyarrow]", display_type(&ty)),
    };
    Ok(col)
}

/// The arrays of a `ChunkedArray`, or the one `Array`.
fn chunks_of(pa: ValueRef<'_>) -> Result<Vec<ValueRef<'_>>> {
    match super::callable(pa) {
        Some(("pyarrow.lib", "chunked_array")) => {
            let o = pa.as_object().ok_or_else(|| Error::data("chunked_array"))?;
            let list = pa
                .at(o.args)
                .index(0)
                .ok_or_else(|| Error::data("pyarrow chunked_array without chunks"))?;
            Ok(list.iter().collect())
        }
        Some(("pyarrow.lib", "_restore_array")) => Ok(vec![pa]),
        _ => Err(Error::unsupported(format!(
            "pyarrow data pickled as {}",
            super::describe(pa)
        ))),
    }
}

fn chunked_type(pa: ValueRef<'_>) -> Option<String> {
    let o = pa.as_object()?;
    type_name(pa.at(o.args).index(1)?).ok()
}

/// One restored array's parts.
struct Part {
    ty: String,
    len: usize,
    offset: usize,
    validity: Option<Vec<u8>>,
    buffers: Vec<Vec<u8>>,
}

fn type_name(t: ValueRef<'_>) -> Result<String> {
    match super::callable(t) {
        Some(("pyarrow.lib", "type_for_alias")) => {
            let o = t.as_object().ok_or_else(|| Error::data("type_for_alias"))?;
            t.at(o.args)
                .index(0)
                .and_then(|a| a.as_str())
                .map(str::to_string)
                .ok_or_else(|| Error::data("pyarrow type_for_alias without a name"))
        }
        _ => Err(Error::unsupported(format!(
            "pyarrow type pickled as {}",
            super::describe(t)
        ))),
    }
}

fn usize_of(v: Option<ValueRef<'_>>, what: &str) -> Result<usize> {
    v.and_then(|x| x.as_i64())
        .and_then(|x| usize::try_from(x).ok())
        .ok_or_else(|| Error::data(format!("pyarrow array {what} is not a size")))
}

fn buffer(b: ValueRef<'_>) -> Result<Option<Vec<u8>>> {
    if b.is_none() {
        return Ok(None);
    }
    if let Some(bytes) = b.as_bytes() {
        return Ok(Some(bytes.to_vec()));
    }
    match super::callable(b) {
        Some(("pyarrow.lib", "py_buffer")) => {
            let o = b.as_object().ok_or_else(|| Error::data("py_buffer"))?;
            let inner = b
                .at(o.args)
                .index(0)
                .ok_or_else(|| Error::data("pyarrow py_buffer without bytes"))?;
            match inner.as_bytes() {
                Some(bytes) => Ok(Some(bytes.to_vec())),
                None if crate::ml::numpy::is_ndarray(inner) => {
                    let arr = crate::ml::numpy::NdArray::from_value(inner)?;
                    Ok(Some(arr.to_le_bytes()?))
                }
                None => Err(Error::data("pyarrow py_buffer of something not bytes")),
            }
        }
        _ => Err(Error::unsupported(format!(
            "pyarrow buffer pickled as {}",
            super::describe(b)
        ))),
    }
}

/// `_restore_array((type, length, null_count, offset, buffers, children, dictionary))`.
fn restore_array(a: ValueRef<'_>) -> Result<Part> {
    if super::callable(a) != Some(("pyarrow.lib", "_restore_array")) {
        return Err(Error::unsupported(format!(
            "pyarrow array pickled as {}",
            super::describe(a)
        )));
    }
    let o = a.as_object().ok_or_else(|| Error::data("_restore_array"))?;
    let t = a
        .at(o.args)
        .index(0)
        .ok_or_else(|| Error::data("pyarrow _restore_array without its state"))?;
    let ty = type_name(
        t.index(0)
            .ok_or_else(|| Error::data("pyarrow array without a type"))?,
    )?;
    let len = usize_of(t.index(1), "length")?;
    let offset = usize_of(t.index(3), "offset")?;
    let bufs = t
        .index(4)
        .ok_or_else(|| Error::data("pyarrow array without buffers"))?;
    if t.index(5).is_some_and(|c| !c.is_empty()) {
        return Err(Error::unsupported(format!(
            "pyarrow {ty} arrays with child arrays"
        )));
    }
    let mut it = bufs.iter();
    let validity = match it.next() {
        Some(b) => buffer(b)?,
        None => None,
    };
    let mut buffers = Vec::new();
    for b in it {
        buffers.push(buffer(b)?.unwrap_or_default());
    }
    Ok(Part {
        ty,
        len,
        offset,
        validity,
        buffers,
    })
}

fn bit(bitmap: &[u8], i: usize) -> Result<bool> {
    bitmap
        .get(i / 8)
        .map(|b| b >> (i % 8) & 1 == 1)
        .ok_or_else(|| Error::data("pyarrow bitmap shorter than its array"))
}

fn fixed<const N: usize>(data: &[u8], i: usize) -> Result<[u8; N]> {
    let start = i
        .checked_mul(N)
        .ok_or_else(|| Error::data("pyarrow array offset overflows"))?;
    data.get(start..start + N)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or_else(|| Error::data("pyarrow values buffer shorter than its array"))
}

/// `str(pa.DataType)` for the aliases `type_for_alias` is given.
fn display_type(ty: &str) -> &str {
    match ty {
        "float" | "float32" => "float",
        "double" | "float64" => "double",
        "utf8" => "string",
        "large_utf8" => "large_string",
        "boolean" => "bool",
        t => t,
    }
}

impl Part {
    /// Whether value `i` (a position in the buffers) is null: its bit in
    /// the validity bitmap is clear; no bitmap, no nulls.
    fn is_null(&self, i: usize) -> Result<bool> {
        match &self.validity {
            Some(v) => Ok(!bit(v, i)?),
            None => Ok(false),
        }
    }

    /// The positions of this array's values in its buffers, checked
    /// against the validity bitmap's length.
    fn rows(&self) -> Result<std::ops::Range<usize>> {
        let end = self
            .offset
            .checked_add(self.len)
            .ok_or_else(|| Error::data("pyarrow array offset and length overflow"))?;
        if let Some(v) = &self.validity {
            if v.len() < end.div_ceil(8) {
                return Err(Error::data(
                    "pyarrow validity bitmap shorter than its array",
                ));
            }
        }
        Ok(self.offset..end)
    }
}

fn concat(ty: &str, parts: Vec<Part>) -> Result<Column> {
    let mut nulls = Vec::new();
    macro_rules! numbers {
        ($t:ty, $n:literal, $variant:ident, $conv:expr) => {{
            let mut out = Vec::new();
            for p in &parts {
                if p.ty != ty {
                    return Err(Error::data("pyarrow chunks of different types"));
                }
                let data = p
                    .buffers
                    .first()
                    .ok_or_else(|| Error::data("pyarrow array without values"))?;
                let rows = p.rows()?;
                if data.len() / $n < rows.end {
                    return Err(Error::data("pyarrow values buffer shorter than its array"));
                }
                for i in rows {
                    nulls.push(p.is_null(i)?);
                    let raw = <$t>::from_le_bytes(fixed::<$n>(data, i)?);
                    out.push($conv(raw));
                }
            }
            Values::$variant(out)
        }};
    }
    let (values, dtype) = match ty {
        "string" | "utf8" | "large_string" | "large_utf8" => {
            let large = ty.starts_with("large");
            let mut out = Vec::new();
            for p in &parts {
                if p.ty != ty {
                    return Err(Error::data("pyarrow chunks of different types"));
                }
                let (offs, data) = match &p.buffers[..] {
                    [o, d, ..] => (o, d),
                    [o] => (o, &Vec::new()),
                    [] => return Err(Error::data("pyarrow string array without offsets")),
                };
                let off = |i: usize| -> Result<usize> {
                    let v = if large {
                        i64::from_le_bytes(fixed::<8>(offs, i)?)
                    } else {
                        i32::from_le_bytes(fixed::<4>(offs, i)?) as i64
                    };
                    usize::try_from(v).map_err(|_| Error::data("negative pyarrow string offset"))
                };
                let rows = p.rows()?;
                let width = if large { 8 } else { 4 };
                if offs.len() / width <= rows.end {
                    return Err(Error::data("pyarrow offsets buffer shorter than its array"));
                }
                for i in rows {
                    let null = p.is_null(i)?;
                    nulls.push(null);
                    if null {
                        out.push(String::new());
                        continue;
                    }
                    let (a, b) = (off(i)?, off(i + 1)?);
                    let s = data
                        .get(a..b)
                        .filter(|_| a <= b)
                        .ok_or_else(|| Error::data("pyarrow string offsets outside the data"))?;
                    let s = std::str::from_utf8(s)
                        .map_err(|_| Error::data("pyarrow string array holds invalid UTF-8"))?;
                    out.push(s.to_string());
                }
            }
            (Values::Str(out), "string")
        }
        "bool" | "boolean" => {
            let mut out = Vec::new();
            for p in &parts {
                if p.ty != ty {
                    return Err(Error::data("pyarrow chunks of different types"));
                }
                let data = p
                    .buffers
                    .first()
                    .ok_or_else(|| Error::data("pyarrow array without values"))?;
                let rows = p.rows()?;
                if data.len() < rows.end.div_ceil(8) {
                    return Err(Error::data("pyarrow values bitmap shorter than its array"));
                }
                for i in rows {
                    nulls.push(p.is_null(i)?);
                    out.push(bit(data, i)?);
                }
            }
            (Values::Bool(out), "bool")
        }
        "int8" => (numbers!(i8, 1, Int, i64::from), "int8"),
        "int16" => (numbers!(i16, 2, Int, i64::from), "int16"),
        "int32" => (numbers!(i32, 4, Int, i64::from), "int32"),
        "int64" => (numbers!(i64, 8, Int, |x| x), "int64"),
        "uint8" => (numbers!(u8, 1, Int, i64::from), "uint8"),
        "uint16" => (numbers!(u16, 2, Int, i64::from), "uint16"),
        "uint32" => (numbers!(u32, 4, Int, i64::from), "uint32"),
        "uint64" => (numbers!(u64, 8, UInt, |x| x), "uint64"),
        "float" | "float32" => (numbers!(f32, 4, Float32, |x| x), "float"),
        "double" | "float64" => (numbers!(f64, 8, Float, |x| x), "double"),
        other => {
            return Err(Error::unsupported(format!(
                "pyarrow-backed column of type {other}"
            )))
        }
    };
    let mut col = Column::new(dtype, values);
    // Arrow's nulls are its validity bitmap alone (a NaN float is a value).
    col.nulls = if nulls.iter().any(|&b| b) {
        Some(nulls)
    } else {
        None
    };
    Ok(col)
}
