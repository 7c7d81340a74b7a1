//! numpy arrays and scalars, read from and written to documents without numpy.
//!
//! [`NdArray::from_value`] recognises a pickled `numpy.ndarray` in every form
//! numpy writes, and gives its [`DType`], shape, memory order and raw data
//! (borrowed from the document when it lies there). Elements come out in C
//! order and native endianness through [`NdArray::to_vec`] and the small
//! [`Element`] trait. [`NdArray::to_value`] writes an array back the way numpy
//! itself does, so `pickle.loads` in Python gives an equal array.
//! [`Scalar::from_value`] reads numpy scalars (`np.float64(1.5)`, ...).
//!
//! The files numpy writes itself are read and written too: `.npy`
//! ([`NdArray::from_npy`], [`NdArray::read_npy`], [`NdArray::to_npy`], which
//! is `np.save` byte for byte; [`NpyHeader`] for the header alone) and `.npz`
//! ([`NpzReader`], [`NpzWriter`], [`read_npz`]). Structured arrays give
//! their fields by name: [`NdArray::field`], [`NdArray::fields`].
//!
//! Nothing is imported or executed: the recognised recipes are matched by
//! their global names and argument shapes only.
//!
//! # Formats
//!
//! | numpy writes | protocol | recognised |
//! |---|---|---|
//! | `numpy.core.multiarray._reconstruct` + BUILD `(1, shape, dtype, is_fortran, data)` (numpy 1.x) | 0–5 | yes |
//! | `numpy._core.multiarray._reconstruct` + BUILD (numpy 2.x) | 0–5 | yes |
//! | BUILD state without the version, `(shape, dtype, is_fortran, data)` (very old numpy) | any | yes |
//! | data as `bytes` (Python 3, protocol ≥ 3), `_codecs.encode(str, 'latin1')` (Python 3, protocol ≤ 2: the loader turns it into bytes) | 0–5 | yes |
//! | data as a latin1-decoded `str` (Python 2 pickles loaded with [`crate::Encoding::Latin1`]) or `bytes` ([`crate::Encoding::Bytes`]) | 0–2 | yes |
//! | `numpy._core.numeric._frombuffer(buf, dtype, shape, order)` with `bytearray`/`bytes` in band or a [`crate::Node::Buffer`] out of band | 5 | yes |
//! | object arrays (`dtype('O')`): the data is a list of values | any | yes ([`ArrayData::Objects`]) |
//! | `numpy.core.multiarray.scalar(dtype, bytes)` scalars | any | yes ([`Scalar`]) |
//! | `numpy.ma.MaskedArray`, `numpy.matrix` and other subclasses | | the class is kept in [`NdArray::class`]; masks are not interpreted |
//! | `np.save`: `.npy` format 1.0, 2.0 and 3.0, C and Fortran order, any dtype `descr` (structured, nested, subarrays, padding, titles) | | read ([`NdArray::from_npy`]); written as `np.save` writes it ([`NdArray::to_npy`]), field titles aside |
//! | `np.save` of an object array: the header, then `pickle.dump(array, protocol=4)` (3 before numpy 2) | 2–5 | read through this crate's loader, with [`crate::LoadOptions`] (Python 2 encodings); written at protocol 4 |
//! | `np.savez`, `np.savez_compressed`: a zip of `.npy` members | | read as `zipfile` reads it ([`NpzReader`]; deflate, bzip2, lzma with `joblib-compress`); written stored, or deflated with `joblib-compress` ([`NpzWriter`]) |
//!
//! # dtypes
//!
//! | kind | `dtype.str` | element types ([`Element`]) |
//! |---|---|---|
//! | bool | `\|b1` | `bool` |
//! | signed / unsigned ints | `\|i1` `<i2` `<i4` `<i8`, `\|u1` … `<u8` | `i8` … `i64`, `u8` … `u64` |
//! | floats | `<f2` `<f4` `<f8` | `f32`, `f64`; any numeric kind through [`NdArray::to_f64_vec`] (`f2` included) |
//! | complex | `<c8` `<c16` | `[f32; 2]`, `[f64; 2]` |
//! | datetime64 / timedelta64 with unit | `<M8[D]`, `<m8[ns]`, `<M8[10s]` | `i64` |
//! | fixed-width bytes / unicode | `\|S3`, `<U2` | raw bytes ([`NdArray::to_le_bytes`]) |
//! | structured (fields with names and offsets), void, subarrays | `\|V12` | raw bytes; each field as an array of its own with [`NdArray::field`] |
//! | object | `\|O` | [`ArrayData::Objects`] |
//!
//! Both byte orders are read: [`NdArray::to_vec`] gives native values,
//! [`NdArray::to_le_bytes`] little-endian bytes whatever the dtype's order.
//!
//! # Not supported yet
//!
//! * `float128`/`complex256` (`f16`, `c32`): parsed, but no element type.
//! * Structured dtypes with titles, `align=True` metadata, and dtype metadata
//!   dicts are read but not written back (a field's title is dropped).
//! * Masked arrays' masks, `numpy.memmap` file references.
//! * `.npy` type strings whose size depends on the platform (`'<l'`,
//!   `'<g'`): numpy never writes them (it writes `dtype.str`, `'<i8'`), and
//!   they are refused rather than guessed.

mod array;
mod dtype;
mod element;
mod fields;
#[cfg(feature = "ndarray")]
mod ndarray;
mod npy;
mod npz;
mod scalar;
mod serde;
mod strided;

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::value::ValueRef;

#[cfg(feature = "torch")]
pub(crate) use self::array::layout_strides;
pub use self::array::{is_ndarray, ArrayData, NdArray, Order};
pub(crate) use self::dtype::{pickled_item_layouts, DTypeState, PLATFORM_TYPES};
pub use self::dtype::{DType, Field};
pub use self::element::Element;
pub use self::npy::NpyHeader;
pub use self::npz::{read_npz, NpzReader, NpzWriter};
pub use self::scalar::Scalar;
#[cfg(feature = "torch")]
pub(crate) use self::strided::{gather_c_order, gather_elements, swap_units};

// The modules numpy's recipes name, in numpy 1.x and 2.x: `multiarray` for
// arrays (`_reconstruct`) and scalars, `numeric` for protocol-5 arrays.
const MULTIARRAY: [&str; 2] = ["numpy.core.multiarray", "numpy._core.multiarray"];
const NUMERIC: [&str; 2] = ["numpy.core.numeric", "numpy._core.numeric"];

// Reading the parts of numpy's recipes, shared by the dtype, array and
// scalar readers.

fn py_text(v: ValueRef<'_>) -> Option<String> {
    match v.kind() {
        crate::Kind::Str(s) => Some(s.to_string_lossy().into_owned()),
        crate::Kind::Bytes(b) => Some(b.iter().map(|&c| c as char).collect()),
        _ => None,
    }
}

fn shape_of(v: ValueRef<'_>) -> Result<Vec<usize>> {
    if let Some(i) = v.as_i64() {
        return usize::try_from(i)
            .map(|d| vec![d])
            .map_err(|_| Error::data("negative dimension"));
    }
    let items = v
        .as_slice()
        .ok_or_else(|| Error::data(format!("shape is a {}, not a tuple", v.type_name())))?;
    items
        .iter()
        .map(|&d| {
            v.at(d)
                .as_i64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| Error::data("shape holds a value that is not a dimension"))
        })
        .collect()
}

fn data_bytes(v: ValueRef<'_>) -> Result<Cow<'_, [u8]>> {
    match v.kind() {
        crate::Kind::Bytes(b) | crate::Kind::ByteArray(b) => Ok(Cow::Borrowed(b)),
        crate::Kind::Buffer(b) => Ok(Cow::Borrowed(&b.data)),
        crate::Kind::Str(s) => {
            // Python 2 `str` data decoded as latin1: every code point is a byte.
            let mut out = Vec::new();
            for cp in crate::codec::text::code_points(s.as_bytes()) {
                out.push(u8::try_from(cp).map_err(|_| {
                    Error::data("array data is a str with code points above 255 (load with Encoding::Latin1)")
                })?);
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(Error::data(format!("array data is a {}", v.type_name()))),
    }
}
