//! Python's `str()` of the objects an `object` column commonly holds, as
//! pandas' CSV writer prints them: `datetime.date`, `datetime.datetime`,
//! `datetime.time`, `decimal.Decimal`, pandas `Timestamp`s, and lists,
//! tuples, dicts, sets and bytes of plain values (whose `str` is their
//! `repr`).

use super::floats::{complex_text, numpy_f16, numpy_f32};
use super::tz::{civil, fixed_offset, offset_text, tz_name};
use crate::value::{Kind, ValueRef};

/// `str(x)` for the objects above; `None` for anything else.
pub(crate) fn py_str(v: ValueRef<'_>) -> Option<String> {
    match v.kind() {
        Kind::List(_)
        | Kind::Tuple(_)
        | Kind::Dict(_)
        | Kind::Set(_)
        | Kind::FrozenSet(_)
        | Kind::Bytes(_)
        | Kind::ByteArray(_) => return plain_repr(v),
        Kind::Object(_) => {}
        _ => return None,
    }
    if let Some((dtype, scalar)) = crate::ml::numpy::Scalar::from_value(v) {
        return numpy_scalar(&dtype, &scalar);
    }
    let (m, n) = super::callable(v)?;
    let o = v.as_object()?;
    let args = v.at(o.args);
    let arg = |i: usize| args.index(i);
    match (m, n) {
        ("datetime", "date") => {
            let b = arg(0)?.as_bytes()?;
            if b.len() != 4 {
                return None;
            }
            let y = u16::from_be_bytes([b[0], b[1]]);
            Some(format!("{y:04}-{:02}-{:02}", b[2], b[3]))
        }
        ("datetime", "datetime") => {
            let b = arg(0)?.as_bytes()?;
            if b.len() != 10 {
                return None;
            }
            let y = u16::from_be_bytes([b[0], b[1]]);
            let us = u32::from_be_bytes([0, b[7], b[8], b[9]]);
            let tz = match arg(1) {
                None => String::new(),
                Some(tz) => offset_text(tz_offset(tz)?),
            };
            Some(format!(
                "{y:04}-{:02}-{:02} {:02}:{:02}:{:02}{}{tz}",
                b[2] & 0x7f,
                b[3],
                b[4],
                b[5],
                b[6],
                micros(us)
            ))
        }
        ("datetime", "time") => {
            let b = arg(0)?.as_bytes()?;
            if b.len() != 6 {
                return None;
            }
            let us = u32::from_be_bytes([0, b[3], b[4], b[5]]);
            let tz = match arg(1) {
                None => String::new(),
                Some(tz) => offset_text(tz_offset(tz)?),
            };
            Some(format!(
                "{:02}:{:02}:{:02}{}{tz}",
                b[0] & 0x7f,
                b[1],
                b[2],
                micros(us)
            ))
        }
        ("decimal", "Decimal") => arg(0)?.as_str().map(str::to_string),
        (m, "_unpickle_timestamp" | "Timestamp") if m.starts_with("pandas") => {
            // (value, freq, tz[, reso]): reso is numpy's unit code, 10 = ns.
            let value = arg(0)?.as_i64()?;
            let per_second: i64 = match arg(3).map(|r| r.as_i64()) {
                None | Some(Some(10)) => 1_000_000_000,
                Some(Some(7)) => 1,
                Some(Some(8)) => 1_000,
                Some(Some(9)) => 1_000_000,
                Some(_) => return None,
            };
            let tz = arg(2).filter(|t| !t.is_none());
            timestamp(value, per_second, tz)
        }
        _ => None,
    }
}

/// `str()` of a numpy scalar (`np.float32(0.1)` is `0.1`).
fn numpy_scalar(dtype: &crate::ml::numpy::DType, s: &crate::ml::numpy::Scalar) -> Option<String> {
    use crate::ml::numpy::Scalar;
    Some(match (s, dtype.kind, dtype.itemsize) {
        (Scalar::Bool(b), _, _) => if *b { "True" } else { "False" }.to_string(),
        (Scalar::Int(i), 'i', _) => i.to_string(),
        (Scalar::UInt(u), 'u', _) => u.to_string(),
        (Scalar::Float(f), 'f', 8) => crate::repr::repr_float(*f),
        (Scalar::Float(f), 'f', 4) => numpy_f32(*f as f32, false),
        (Scalar::Float(f), 'f', 2) => numpy_f16(*f, false),
        (Scalar::Complex(re, im), 'c', 16) => complex_text(*re, *im),
        (Scalar::Str(t), _, _) => t.clone(),
        (Scalar::Bytes(b), _, _) => crate::repr::repr_bytes(b),
        _ => return None,
    })
}

fn micros(us: u32) -> String {
    if us == 0 {
        String::new()
    } else {
        format!(".{us:06}")
    }
}

/// A time zone's fixed offset in seconds: `datetime.timezone`, pytz's UTC.
fn tz_offset(tz: ValueRef<'_>) -> Option<i64> {
    if tz.is_none() {
        return None;
    }
    let name = tz_name(tz)?;
    fixed_offset(&name)
}

/// `str(pd.Timestamp)`: `YYYY-MM-DD HH:MM:SS`, `.ffffff` when it has
/// microseconds and three more digits when it has nanoseconds, the offset
/// for a time zone.
fn timestamp(value: i64, per_second: i64, tz: Option<ValueRef<'_>>) -> Option<String> {
    let per = per_second as i128;
    let v = value as i128;
    let utc = v.div_euclid(per);
    let ns = (v.rem_euclid(per) * (1_000_000_000 / per)) as i64;
    let (offset, off_text) = match tz {
        None => (0, String::new()),
        Some(tz) => {
            let name = tz_name(tz)?;
            let off = match fixed_offset(&name) {
                Some(o) => o,
                None => super::tz::Zone::load(&name)
                    .ok()?
                    .offset_at(i64::try_from(utc).ok()?),
            };
            (off, offset_text(off))
        }
    };
    let secs = utc + offset as i128;
    let (y, m, d) = civil(i64::try_from(secs.div_euclid(86_400)).ok()?);
    let sod = secs.rem_euclid(86_400);
    let frac = if ns % 1000 != 0 {
        format!(".{ns:09}")
    } else if ns != 0 {
        format!(".{:06}", ns / 1000)
    } else {
        String::new()
    };
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}{frac}{off_text}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    ))
}

/// The repr of a container of plain values (None, bools, ints, floats,
/// strs, bytes and containers of them), which is Python's exactly; `None`
/// when it holds anything else, nests deeper than 16 or holds more than
/// 100 000 values.
fn plain_repr(v: ValueRef<'_>) -> Option<String> {
    let mut budget = 100_000usize;
    if !is_plain(v, 16, &mut budget) {
        return None;
    }
    let s = crate::repr::repr_limited(v, 1 << 24);
    if s.len() >= 1 << 24 {
        return None;
    }
    Some(s)
}

fn is_plain(v: ValueRef<'_>, depth: u32, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match v.kind() {
        Kind::None
        | Kind::Bool(_)
        | Kind::Int(_)
        | Kind::BigInt(_)
        | Kind::Float(_)
        | Kind::Str(_)
        | Kind::Bytes(_)
        | Kind::ByteArray(_) => true,
        Kind::List(items) | Kind::Tuple(items) | Kind::Set(items) | Kind::FrozenSet(items) => {
            depth > 0 && items.iter().all(|&x| is_plain(v.at(x), depth - 1, budget))
        }
        Kind::Dict(pairs) => {
            depth > 0
                && pairs.iter().all(|&(k, x)| {
                    is_plain(v.at(k), depth - 1, budget) && is_plain(v.at(x), depth - 1, budget)
                })
        }
        _ => false,
    }
}
