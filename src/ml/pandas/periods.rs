//! pandas `PeriodArray` and `IntervalArray` columns, read as `object`
//! columns of the text `str()` gives each period (`2020-03`, `2020Q1`)
//! or interval (`(0, 1]`), under their pandas dtype.

use super::column::{Cell, Column, Values};
use super::{element_count, read_1d};
use crate::error::{Error, Result};
use crate::ml::numpy::NdArray;
use crate::value::ValueRef;

/// A period's text from its ordinal, for the frequencies whose ordinals
/// count calendar units from 1970.
fn period_text(freq: &str, o: i64) -> Result<String> {
    let civil = super::tz::civil;
    let base = freq.split('-').next().unwrap_or(freq);
    // In i128: a hostile ordinal times a unit must not overflow.
    let o = o as i128;
    let sat = |x: i128| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let day = |d: i128| {
        let (y, m, dd) = civil(sat(d));
        format!("{y:04}-{m:02}-{dd:02}")
    };
    let clock = |secs: i128, sub: Option<(i128, usize)>| {
        let (y, m, d) = civil(sat(secs.div_euclid(86_400)));
        let s = secs.rem_euclid(86_400);
        let mut t = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60);
        if let Some((frac, digits)) = sub {
            t.push_str(&format!(":{:02}", s % 60));
            if digits > 0 {
                t.push_str(&format!(".{frac:0digits$}"));
            }
        }
        t
    };
    Ok(match base {
        "D" => day(o),
        "M" => format!("{:04}-{:02}", 1970 + o.div_euclid(12), o.rem_euclid(12) + 1),
        "Y" | "A" => format!("{:04}", 1970 + o),
        "Q" => format!("{:04}Q{}", 1970 + o.div_euclid(4), o.rem_euclid(4) + 1),
        "W" if freq == "W-SUN" || freq == "W" => {
            let end = o * 7 - 4;
            format!("{}/{}", day(end - 6), day(end))
        }
        "h" | "H" => clock(o * 3600, None),
        "min" | "T" => clock(o * 60, None),
        "s" | "S" => clock(o, Some((0, 0))),
        "ms" | "L" => clock(o.div_euclid(1000), Some((o.rem_euclid(1000), 3))),
        "us" | "U" => clock(o.div_euclid(1_000_000), Some((o.rem_euclid(1_000_000), 6))),
        "ns" | "N" => clock(
            o.div_euclid(1_000_000_000),
            Some((o.rem_euclid(1_000_000_000), 9)),
        ),
        _ => {
            return Err(Error::unsupported(format!(
                "pandas periods of frequency {freq}"
            )))
        }
    })
}

/// pandas < 2's `PeriodDtype(offset)`: the offset's frequency string.
fn offset_freq(off: ValueRef<'_>) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let (m, cls) = super::callable(off)?;
    if !m.starts_with("pandas") {
        return None;
    }
    let args = off.at(off.as_object()?.args);
    if args.index(0).and_then(|n| n.as_i64()) != Some(1) {
        return None;
    }
    let third = |names: &[&str], base: usize| -> Option<String> {
        let i = usize::try_from(args.index(2)?.as_i64()?).ok()?;
        names.get(i.checked_sub(base)?).map(|s| s.to_string())
    };
    Some(match cls {
        "Day" => "D".into(),
        "Hour" => "H".into(),
        "Minute" => "T".into(),
        "Second" => "S".into(),
        "Milli" => "L".into(),
        "Micro" => "U".into(),
        "Nano" => "N".into(),
        "MonthEnd" => "M".into(),
        "QuarterEnd" => format!("Q-{}", third(&MONTHS, 1)?),
        "YearEnd" => format!("A-{}", third(&MONTHS, 1)?),
        "Week" => format!("W-{}", third(&DAYS, 0)?),
        _ => return None,
    })
}

/// The frequency of a `PeriodDtype('period[M]')` (pandas 2+) or a
/// `PeriodDtype(MonthEnd(1, False))` (pandas 1).
fn period_freq(d: ValueRef<'_>) -> Result<String> {
    let arg = d.as_object().and_then(|o| d.at(o.args).index(0));
    if let Some(freq) = arg.and_then(offset_freq) {
        return Ok(freq);
    }
    let text = arg.and_then(|a| a.as_str()).ok_or_else(|| {
        Error::unsupported("pandas PeriodDtype of a frequency this crate does not know")
    })?;
    text.strip_prefix("period[")
        .and_then(|r| r.strip_suffix(']'))
        .map(str::to_string)
        .ok_or_else(|| Error::data(format!("pandas PeriodDtype {text:?}")))
}

/// A `PeriodArray` block (1-D, or 2-D of several columns).
pub(crate) fn period_columns(arr: &NdArray<'_>, dtype: ValueRef<'_>) -> Result<Vec<Column>> {
    let freq = period_freq(dtype)?;
    if arr.dtype.kind != 'i' || arr.dtype.itemsize != 8 {
        return Err(Error::data("pandas PeriodArray over a non-int64 array"));
    }
    let (k, n) = match arr.shape[..] {
        [n] => (1, n),
        [k, n] => (k, n),
        _ => return Err(Error::data("pandas PeriodArray of more than 2 dimensions")),
    };
    if k > super::MAX_COLUMNS {
        return Err(Error::limit("pandas PeriodArray block of too many columns"));
    }
    element_count(arr)?;
    let ordinals = arr.to_vec::<i64>()?;
    let mut out = Vec::with_capacity(k);
    for r in 0..k {
        let mut cells = Vec::with_capacity(n);
        for &o in &ordinals[r * n..(r + 1) * n] {
            cells.push(if o == i64::MIN {
                Cell::Null
            } else {
                Cell::Object(period_text(&freq, o)?)
            });
        }
        out.push(Column::new(
            format!("period[{freq}]"),
            Values::Object(cells),
        ));
    }
    Ok(out)
}

/// `__pyx_unpickle_IntervalMixin(IntervalArray, checksum, state)`, the
/// state `({"_left": .., "_right": .., "_dtype": IntervalDtype}, )`.
pub(crate) fn interval_array(v: ValueRef<'_>) -> Result<Column> {
    let o = v.as_object().ok_or_else(|| Error::data("IntervalArray"))?;
    let state = match v.at(o.args).index(2) {
        Some(s) if !s.is_none() => s,
        _ => v
            .state()
            .ok_or_else(|| Error::data("pandas IntervalArray without a state"))?,
    };
    let d = if state.as_pairs().is_some() {
        state
    } else {
        state
            .index(0)
            .filter(|d| d.as_pairs().is_some())
            .ok_or_else(|| Error::data("pandas IntervalArray state is not a dict"))?
    };
    let get = |k: &str| {
        d.get(k)
            .ok_or_else(|| Error::data(format!("pandas IntervalArray without {k}")))
    };
    let left = read_1d(get("_left")?, "IntervalArray left")?;
    let right = read_1d(get("_right")?, "IntervalArray right")?;
    let dstate = get("_dtype")?.state_dict();
    let closed = dstate
        .and_then(|s| s.get("closed"))
        .and_then(|c| c.as_str())
        .unwrap_or("right");
    intervals(&left, &right, closed)
}

/// Intervals from their two sides, closed on `closed`.
pub(crate) fn intervals(left: &Column, right: &Column, closed: &str) -> Result<Column> {
    if left.len() != right.len() {
        return Err(Error::data(
            "pandas intervals of sides of different lengths",
        ));
    }
    let (open, close) = match closed {
        "right" => ('(', ']'),
        "left" => ('[', ')'),
        "both" => ('[', ']'),
        "neither" => ('(', ')'),
        other => {
            return Err(Error::data(format!(
                "pandas IntervalArray closed {other:?}"
            )))
        }
    };
    let subtype = left.dtype.clone();
    let ls = endpoint_texts(left)?;
    let rs = endpoint_texts(right)?;
    let cells = (0..left.len())
        .map(|i| match (&ls[i], &rs[i]) {
            (Some(a), Some(b)) => Cell::Object(format!("{open}{a}, {b}{close}")),
            _ => Cell::Null,
        })
        .collect();
    Ok(Column::new(
        format!("interval[{subtype}, {closed}]"),
        Values::Object(cells),
    ))
}

/// `str()` of each endpoint as Python prints the scalar; `None` for a null.
fn endpoint_texts(c: &Column) -> Result<Vec<Option<String>>> {
    (0..c.len())
        .map(|i| {
            Ok(match c.cell(i) {
                None | Some(Cell::Null) => None,
                Some(Cell::Int(v)) => Some(v.to_string()),
                Some(Cell::UInt(v)) => Some(v.to_string()),
                Some(Cell::Float(f)) => Some(crate::repr::repr_float(f)),
                Some(_) => {
                    return Err(Error::unsupported(format!(
                        "pandas intervals of {}",
                        c.dtype
                    )))
                }
            })
        })
        .collect()
}

/// The longest `SparseArray` densified (its length costs nothing in the
/// pickle): 2^26 values.
const MAX_SPARSE: usize = 1 << 26;

/// `SparseArray`: `_sparse_values` at the positions of `_sparse_index`
/// (`IntIndex(length, indices)` or `BlockIndex(length, starts, lengths)`),
/// `_fill_value` elsewhere; densified, under pandas' `Sparse[..]` dtype.
pub(crate) fn sparse_array(v: ValueRef<'_>) -> Result<Column> {
    let st = v
        .state_dict()
        .ok_or_else(|| Error::data("pandas SparseArray without a state dict"))?;
    let get = |k: &str| {
        st.get(k)
            .ok_or_else(|| Error::data(format!("pandas SparseArray without {k}")))
    };
    let values = read_1d(get("_sparse_values")?, "SparseArray values")?;
    let index = get("_sparse_index")?;
    let (kind, args) = match super::callable(index) {
        Some((m, k @ ("IntIndex" | "BlockIndex"))) if m.starts_with("pandas") => (
            k,
            index.at(index.as_object().map(|o| o.args).unwrap_or(index.value())),
        ),
        _ => {
            return Err(Error::data(
                "pandas SparseArray index is not an IntIndex or BlockIndex",
            ))
        }
    };
    let length = args
        .index(0)
        .and_then(|l| l.as_i64())
        .and_then(|l| usize::try_from(l).ok())
        .ok_or_else(|| Error::data("pandas sparse index without a length"))?;
    if length > MAX_SPARSE {
        return Err(Error::limit(format!(
            "pandas SparseArray of {length} values (at most {MAX_SPARSE})"
        )));
    }
    let ints = |i: usize| -> Result<Vec<i64>> {
        let a = args
            .index(i)
            .ok_or_else(|| Error::data("pandas sparse index without its arrays"))?;
        match read_1d(a, "sparse index")?.values {
            Values::Int(v) => Ok(v),
            _ => Err(Error::data("pandas sparse index of non-ints")),
        }
    };
    let mut at: Vec<usize> = Vec::with_capacity(values.len());
    let mut push = |p: i64| -> Result<()> {
        let p = usize::try_from(p)
            .ok()
            .filter(|&p| p < length && at.last().map_or(true, |&q| q < p))
            .ok_or_else(|| Error::data("pandas sparse index out of order or range"))?;
        at.push(p);
        Ok(())
    };
    if kind == "IntIndex" {
        for p in ints(1)? {
            push(p)?;
        }
    } else {
        let (starts, lens) = (ints(1)?, ints(2)?);
        if starts.len() != lens.len() {
            return Err(Error::data("pandas BlockIndex of mismatched blocks"));
        }
        for (s, l) in starts.into_iter().zip(lens) {
            if l < 0 || l as u64 > length as u64 {
                return Err(Error::data("pandas BlockIndex block out of range"));
            }
            for p in s..s.saturating_add(l) {
                push(p)?;
            }
        }
    }
    if at.len() != values.len() {
        return Err(Error::data(format!(
            "pandas SparseArray of {} values at {} positions",
            values.len(),
            at.len()
        )));
    }
    let dstate = get("_dtype")?.state_dict();
    let fill = dstate.and_then(|d| d.get("_fill_value").or_else(|| d.get("fill_value")));
    let fill_repr = fill.map_or_else(|| "nan".to_string(), |f| crate::repr::repr_limited(f, 100));
    // The values with the fill value after them; every row takes one.
    let k = values.len() as i64;
    let with_fill = append(&values, fill)?;
    let mut positions = vec![k; length];
    for (j, &p) in at.iter().enumerate() {
        positions[p] = j as i64;
    }
    let mut dense = with_fill.take(&positions)?;
    dense.dtype = format!("Sparse[{}, {fill_repr}]", values.dtype);
    Ok(dense)
}

/// `c` with one more value: the fill value, converted to its type.
fn append(c: &Column, fill: Option<ValueRef<'_>>) -> Result<Column> {
    let bad = || Error::unsupported(format!("pandas SparseArray of {} values", c.dtype));
    let f = fill.map(|f| f.kind());
    use crate::value::Kind;
    let values = match (&c.values, f) {
        (Values::Float(v), None) => Values::Float([&v[..], &[f64::NAN]].concat()),
        (Values::Float(v), Some(Kind::Float(x))) => Values::Float([&v[..], &[x]].concat()),
        (Values::Float(v), Some(Kind::Int(x))) => Values::Float([&v[..], &[x as f64]].concat()),
        (Values::Float32(v), Some(Kind::Float(x))) => {
            Values::Float32([&v[..], &[x as f32]].concat())
        }
        (Values::Int(v), Some(Kind::Int(x))) => Values::Int([&v[..], &[x]].concat()),
        (Values::UInt(v), Some(Kind::Int(x))) if x >= 0 => {
            Values::UInt([&v[..], &[x as u64]].concat())
        }
        (Values::Bool(v), Some(Kind::Bool(x))) => Values::Bool([&v[..], &[x]].concat()),
        _ => return Err(bad()),
    };
    Ok(Column::new(c.dtype.clone(), values))
}
