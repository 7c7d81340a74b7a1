//! numpy scalars (`np.float64(1.5)`, ...): [`Scalar`], read and written.

use super::dtype::DType;
use super::element::{f16_to_f64, Element};
use super::{data_bytes, MULTIARRAY};
use crate::value::{Document, ObjectKind, Value, ValueRef};

/// A numpy scalar (`numpy.core.multiarray.scalar(dtype, data)`), decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `numpy.bool_`.
    Bool(bool),
    /// Signed ints, and datetime64/timedelta64 counts (the [`DType`] returned with it says which).
    Int(i64),
    /// Unsigned ints.
    UInt(u64),
    /// Floats (float16 and float32 widened).
    Float(f64),
    /// Complex numbers (real, imaginary).
    Complex(f64, f64),
    /// `numpy.bytes_` (trailing NULs removed, as numpy does).
    Bytes(Vec<u8>),
    /// `numpy.str_` (trailing NULs removed).
    Str(String),
    /// Anything else: the dtype's raw element bytes (structured, void, float128) or an object.
    Raw(Vec<u8>),
}

impl Scalar {
    /// Read a numpy scalar; `None` if `v` is not one.
    pub fn from_value(v: ValueRef<'_>) -> Option<(DType, Scalar)> {
        let o = v.as_object()?;
        if o.kind != ObjectKind::Reduce {
            return None;
        }
        match v.at(o.callable).as_global()? {
            (m, "scalar") if MULTIARRAY.contains(&m) => {}
            _ => return None,
        }
        let args = v.at(o.args);
        let dt = DType::from_value(args.index(0)?).ok()?;
        let data = data_bytes(args.index(1)?).ok()?;
        if data.len() != dt.itemsize {
            return None;
        }
        let big = dt.is_big_endian();
        let b = &data[..];
        let s = match (dt.kind, dt.itemsize) {
            ('b', 1) => Scalar::Bool(b[0] != 0),
            ('i', 1) => Scalar::Int(i8::read(b, big) as i64),
            ('i', 2) => Scalar::Int(i16::read(b, big) as i64),
            ('i', 4) => Scalar::Int(i32::read(b, big) as i64),
            ('i' | 'M' | 'm', 8) => Scalar::Int(i64::read(b, big)),
            ('u', 1) => Scalar::UInt(u8::read(b, big) as u64),
            ('u', 2) => Scalar::UInt(u16::read(b, big) as u64),
            ('u', 4) => Scalar::UInt(u32::read(b, big) as u64),
            ('u', 8) => Scalar::UInt(u64::read(b, big)),
            ('f', 2) => Scalar::Float(f16_to_f64(u16::read(b, big))),
            ('f', 4) => Scalar::Float(f32::read(b, big) as f64),
            ('f', 8) => Scalar::Float(f64::read(b, big)),
            ('c', 8) => Scalar::Complex(f32::read(b, big) as f64, f32::read(&b[4..], big) as f64),
            ('c', 16) => Scalar::Complex(f64::read(b, big), f64::read(&b[8..], big)),
            ('S', _) => {
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                Scalar::Bytes(b[..end].to_vec())
            }
            ('U', _) => {
                let mut out = String::new();
                for c in b.chunks_exact(4) {
                    let cp = u32::read(c, big);
                    if cp == 0 {
                        break;
                    }
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                Scalar::Str(out)
            }
            _ => Scalar::Raw(b.to_vec()),
        };
        Some((dt, s))
    }

    /// Write a numpy scalar of `dtype` holding `data` (its element bytes, in the dtype's byte order).
    pub fn to_value(doc: &mut Document, dtype: &DType, data: &[u8]) -> Value {
        let dt = dtype.to_value(doc);
        let b = doc.bytes(data);
        doc.reduce("numpy.core.multiarray", "scalar", [dt, b])
    }
}
