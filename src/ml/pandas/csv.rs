//! `df.to_csv(index=False)`: the header, then each row, every field as
//! pandas formats its column and as `csv.QUOTE_MINIMAL` quotes it.

use std::io::Write;

use super::column::{Cell, Column, Label, TimeUnit, Values};
use super::floats::{numpy_f16, numpy_f32};
use super::tz::{civil, fixed_offset};
use super::DataFrame;
use crate::error::{Error, Result};

/// Options of [`DataFrame::write_csv_with`], built with setters:
/// `CsvOptions::default().numpy_before_2_3(true)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    legacy_float32: bool,
}

impl CsvOptions {
    /// Print float32 values as numpy before 2.3 does (`str(np.float32)`
    /// positional up to 1e16, `123456790.0`), not as numpy 2.3 and later
    /// (scientific from 1e6, `1.2345679e+08`), the default. pandas writes
    /// float32 columns through numpy's `str`, so `to_csv` depends on the
    /// numpy it runs on.
    pub fn numpy_before_2_3(mut self, yes: bool) -> CsvOptions {
        self.legacy_float32 = yes;
        self
    }
}

pub(crate) fn write_frame<W: Write>(df: &DataFrame, out: W, opts: CsvOptions) -> Result<()> {
    let mut out = std::io::BufWriter::new(out);
    let fields: Vec<Vec<String>> = df
        .columns
        .iter()
        .map(|c| format_column(c, opts))
        .collect::<Result<_>>()?;
    // A MultiIndex of columns gives one header row a level.
    let depth = df
        .columns
        .iter()
        .map(|c| match &c.name {
            Label::Tuple(t) => t.len(),
            _ => 1,
        })
        .max()
        .unwrap_or(1);
    for level in 0..depth {
        let header: Vec<String> = df
            .columns
            .iter()
            .map(|c| match &c.name {
                // `str()` of each level's label: a missing one is `nan`.
                Label::Tuple(t) => t.get(level).map_or_else(String::new, |l| l.to_string()),
                l if level == 0 => header_text(l),
                _ => String::new(),
            })
            .collect();
        write_row(&mut out, header.iter().map(String::as_str))?;
    }
    for r in 0..df.len() {
        write_row(&mut out, fields.iter().map(|f| f[r].as_str()))?;
    }
    out.flush().map_err(Error::io)
}

/// A column label in the header: `str(label)`, empty for `None` and NaN
/// (pandas writes a missing label as its `na_rep`).
fn header_text(l: &Label) -> String {
    match l {
        Label::None => String::new(),
        Label::Float(f) if f.is_nan() => String::new(),
        l => l.to_string(),
    }
}

/// One CSV record: `csv.writer`'s QUOTE_MINIMAL quoting, `\n` after it.
fn write_row<'a, W: Write>(out: &mut W, fields: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut line = String::new();
    let mut n = 0;
    for f in fields {
        if n > 0 {
            line.push(',');
        }
        n += 1;
        if f.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    // `csv.writer` quotes a record of one empty field, so that it is not
    // read back as an empty line.
    if n == 1 && line.is_empty() {
        line.push_str("\"\"");
    }
    line.push('\n');
    out.write_all(line.as_bytes()).map_err(Error::io)
}

impl Column {
    /// Every row as `to_csv` writes it, before quoting (nulls empty).
    pub fn csv_fields(&self, options: CsvOptions) -> Result<Vec<String>> {
        format_column(self, options)
    }
}

/// Every row of a column as pandas' CSV writer formats it.
fn format_column(c: &Column, opts: CsvOptions) -> Result<Vec<String>> {
    let n = c.len();
    let null = |i: usize| c.is_null(i);
    Ok(match &c.values {
        Values::Bool(v) => (0..n)
            .map(|i| {
                if null(i) {
                    String::new()
                } else {
                    py_bool(v[i]).into()
                }
            })
            .collect(),
        Values::Int(v) => (0..n)
            .map(|i| {
                if null(i) {
                    String::new()
                } else {
                    v[i].to_string()
                }
            })
            .collect(),
        Values::UInt(v) => (0..n)
            .map(|i| {
                if null(i) {
                    String::new()
                } else {
                    v[i].to_string()
                }
            })
            .collect(),
        Values::Float(v) => {
            let half = c.dtype == "float16";
            (0..n)
                .map(|i| {
                    if null(i) {
                        String::new()
                    } else if half {
                        numpy_f16(v[i], opts.legacy_float32)
                    } else {
                        crate::repr::repr_float(v[i])
                    }
                })
                .collect()
        }
        Values::Float32(v) => {
            // numpy float32 and masked `Float32` columns alike.
            (0..n)
                .map(|i| {
                    if null(i) {
                        String::new()
                    } else {
                        numpy_f32(v[i], opts.legacy_float32)
                    }
                })
                .collect()
        }
        Values::Str(v) => (0..n)
            .map(|i| if null(i) { String::new() } else { v[i].clone() })
            .collect(),
        Values::Object(v) => v.iter().map(object_field).collect::<Result<_>>()?,
        Values::Datetime { values, unit, tz } => {
            datetimes(values, *unit, tz.as_deref(), &|i| null(i))?
        }
        Values::Timedelta { values, unit } => timedeltas(values, *unit, &|i| null(i)),
        Values::Categorical { .. } => {
            // Datetime and timedelta categories are taken into an array
            // of their kind and formatted as one; others go through Python
            // objects (`astype(object)`): float32 categories as Python floats.
            let mut cats = c.decoded()?;
            if let Values::Float32(v) = &cats.values {
                cats.values = Values::Float(v.iter().map(|&x| x as f64).collect());
            }
            format_column(&cats, opts)?
        }
    })
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `str(x)` of an object column's item.
fn object_field(c: &Cell) -> Result<String> {
    Ok(match c {
        Cell::Null => String::new(),
        Cell::Bool(b) => py_bool(*b).into(),
        Cell::Int(i) => i.to_string(),
        Cell::UInt(u) => u.to_string(),
        Cell::Float(f) => crate::repr::repr_float(*f),
        Cell::Str(s) | Cell::Object(s) => s.clone(),
        Cell::Datetime(..) | Cell::Timedelta(..) | Cell::Other(_) => {
            return Err(Error::unsupported(format!(
                "CSV of an object column holding {}",
                match c {
                    Cell::Other(r) => r.as_str(),
                    _ => "numpy datetimes",
                }
            )))
        }
    })
}

/// Sub-second digits pandas shows for a column: 0, 3, 6 or 9, from the
/// finest part any value has.
fn fraction_digits(subs_ns: impl Iterator<Item = i64>) -> usize {
    let mut d = 0;
    for ns in subs_ns {
        if ns % 1000 != 0 {
            return 9;
        }
        if ns % 1_000_000 != 0 {
            d = 6;
        } else if ns != 0 && d < 3 {
            d = 3;
        }
    }
    d
}

fn frac(sub_ns: i64, digits: usize) -> String {
    match digits {
        0 => String::new(),
        9 => format!(".{sub_ns:09}"),
        6 => format!(".{:06}", sub_ns / 1000),
        _ => format!(".{:03}", sub_ns / 1_000_000),
    }
}

/// A datetime64 column as pandas writes it: `YYYY-MM-DD` when every value
/// is a midnight (and there is no time zone), else `YYYY-MM-DD HH:MM:SS`
/// with as many sub-second digits as the finest value needs, and the UTC
/// offset (`+01:00`) for a time zone: a fixed one, or a named zone's at
/// that instant from the system's tz database.
fn datetimes(
    values: &[i64],
    unit: TimeUnit,
    tz: Option<&str>,
    null: &dyn Fn(usize) -> bool,
) -> Result<Vec<String>> {
    // The offset of each value: none, one fixed offset, or the zone's.
    let zone = match tz {
        Some(z) if fixed_offset(z).is_none() => Some(super::tz::Zone::load(z)?),
        _ => None,
    };
    let fixed = tz.and_then(fixed_offset).unwrap_or(0);
    let offset_of = |v: i64| -> i128 {
        match &zone {
            Some(zone) => zone.offset_at(v.div_euclid(unit.per_second())) as i128,
            None => fixed as i128,
        }
    };
    let per = unit.per_second() as i128;
    let to_ns = 1_000_000_000 / per;
    // (seconds since the epoch, local time; nanoseconds past the second)
    let split = |v: i64| -> (i128, i64) {
        let w = v as i128;
        (
            w.div_euclid(per) + offset_of(v),
            (w.rem_euclid(per) * to_ns) as i64,
        )
    };
    let live = || {
        (0..values.len())
            .filter(|&i| !null(i))
            .map(|i| split(values[i]))
    };
    let dates_only = tz.is_none() && live().all(|(s, ns)| ns == 0 && s.rem_euclid(86_400) == 0);
    let digits = fraction_digits(live().map(|(_, ns)| ns));
    let off = |offset: i128| -> String {
        if tz.is_none() {
            return String::new();
        }
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.unsigned_abs();
        if a % 60 != 0 {
            format!("{sign}{:02}:{:02}:{:02}", a / 3600, a / 60 % 60, a % 60)
        } else {
            format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
        }
    };
    Ok((0..values.len())
        .map(|i| {
            if null(i) {
                return String::new();
            }
            let (secs, ns) = split(values[i]);
            let (y, m, d) = civil(secs.div_euclid(86_400) as i64);
            if dates_only {
                return format!("{y:04}-{m:02}-{d:02}");
            }
            let sod = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}{}{}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60,
                frac(ns, digits),
                off(offset_of(values[i]))
            )
        })
        .collect())
}

/// A timedelta64 column as pandas writes it: `N days` when every value is
/// whole days, else `N days HH:MM:SS` (`-1 days +23:59:59` below zero),
/// with 6 sub-second digits, or 9 when a value has nanoseconds.
fn timedeltas(values: &[i64], unit: TimeUnit, null: &dyn Fn(usize) -> bool) -> Vec<String> {
    let per = unit.per_second() as i128;
    let day = 86_400 * per;
    let to_ns = 1_000_000_000 / per;
    let live = || {
        (0..values.len())
            .filter(|&i| !null(i))
            .map(|i| values[i] as i128)
    };
    let whole_days = live().all(|v| v.rem_euclid(day) == 0);
    let digits = match fraction_digits(live().map(|v| (v.rem_euclid(per) * to_ns) as i64)) {
        0 => 0,
        9 => 9,
        _ => 6,
    };
    (0..values.len())
        .map(|i| {
            if null(i) {
                return String::new();
            }
            let v = values[i] as i128;
            let days = v.div_euclid(day);
            if whole_days {
                return format!("{days} days");
            }
            let rem = v.rem_euclid(day);
            let secs = rem / per;
            let ns = (rem % per * to_ns) as i64;
            let sign = if v < 0 { " +" } else { " " };
            format!(
                "{days} days{sign}{:02}:{:02}:{:02}{}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                frac(ns, digits)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut out = Vec::new();
        write_row(&mut out, ["a,b", "say \"hi\"", "x\ny", "plain"].into_iter()).unwrap();
        write_row(&mut out, [""].into_iter()).unwrap();
        write_row(&mut out, ["", ""].into_iter()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",plain\n\"\"\n,\n"
        );
    }
}
