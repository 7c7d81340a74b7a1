//! [`Column`]: one column's values, nulls and pandas dtype; [`Label`]:
//! column and index names; [`Cell`]: one value of a column.

use std::fmt;

use crate::error::{Error, Result};
use crate::value::{Kind, ValueRef};

/// A column or index label (`df.columns[i]`, `df.index.name`).
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    /// `None` (no name).
    None,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A tuple (the labels of a `MultiIndex` of columns).
    Tuple(Vec<Label>),
    /// Anything else: a datetime or timedelta label as pandas writes it
    /// in a CSV header (`2020-01-01`), any other value as this crate's
    /// `repr` prints it.
    Other(String),
}

impl Label {
    /// The label a pickled value stands for.
    pub fn from_value(v: ValueRef<'_>) -> Label {
        match v.kind() {
            Kind::None => Label::None,
            Kind::Bool(b) => Label::Bool(b),
            Kind::Int(i) => Label::Int(i),
            Kind::Float(f) => Label::Float(f),
            Kind::Str(s) => Label::Str(s.to_string_lossy().into_owned()),
            Kind::Tuple(t) => Label::Tuple(t.iter().map(|&x| Label::from_value(v.at(x))).collect()),
            _ => Label::Other(crate::repr::repr_limited(v, 200)),
        }
    }

    /// Python's `repr` of the label.
    pub fn repr(&self) -> String {
        match self {
            Label::Str(s) => crate::repr::repr_str(s.as_bytes()),
            Label::Tuple(t) => {
                let items: Vec<String> = t.iter().map(Label::repr).collect();
                if items.len() == 1 {
                    format!("({},)", items[0])
                } else {
                    format!("({})", items.join(", "))
                }
            }
            other => other.to_string(),
        }
    }
}

/// Python's `str` of the label.
impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::None => f.write_str("None"),
            Label::Bool(true) => f.write_str("True"),
            Label::Bool(false) => f.write_str("False"),
            Label::Int(i) => write!(f, "{i}"),
            Label::Float(x) => f.write_str(&crate::repr::repr_float(*x)),
            Label::Str(s) => f.write_str(s),
            Label::Tuple(_) => f.write_str(&self.repr()),
            Label::Other(s) => f.write_str(s),
        }
    }
}

/// The unit of datetime64 and timedelta64 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    Second,
    /// Milliseconds.
    Milli,
    /// Microseconds.
    Micro,
    /// Nanoseconds.
    Nano,
}

impl TimeUnit {
    /// numpy's unit code: `s`, `ms`, `us`, `ns`.
    pub fn code(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Milli => "ms",
            TimeUnit::Micro => "us",
            TimeUnit::Nano => "ns",
        }
    }

    /// Ticks per second.
    pub fn per_second(self) -> i64 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Milli => 1_000,
            TimeUnit::Micro => 1_000_000,
            TimeUnit::Nano => 1_000_000_000,
        }
    }

    pub(crate) fn parse(code: &str) -> Result<TimeUnit> {
        Ok(match code {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Milli,
            "us" => TimeUnit::Micro,
            "ns" => TimeUnit::Nano,
            other => {
                return Err(Error::unsupported(format!(
                    "datetime unit {other:?} (pandas uses s, ms, us and ns)"
                )))
            }
        })
    }
}

/// The values of a column. Slots that are null (see [`Column::nulls`])
/// hold a placeholder: 0, NaN, `""` or NaT as pandas stored them.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `bool`, `boolean`.
    Bool(Vec<bool>),
    /// `int8` … `int64`, `Int8` … `Int64` (and `uint8` … `uint32`, widened).
    Int(Vec<i64>),
    /// `uint64`, `UInt64`.
    UInt(Vec<u64>),
    /// `float64`, `Float64`, and `float16` (widened; `to_csv` prints it
    /// as float16).
    Float(Vec<f64>),
    /// `float32`, `Float32`.
    Float32(Vec<f32>),
    /// Strings: `object` columns of str, `str`, `string`.
    Str(Vec<String>),
    /// `object` columns holding other values.
    Object(Vec<Cell>),
    /// `datetime64[unit]` / `datetime64[unit, tz]`: ticks since the epoch.
    Datetime {
        /// Ticks since 1970-01-01 (UTC for a time zone).
        values: Vec<i64>,
        /// The tick.
        unit: TimeUnit,
        /// The time zone's name (`"UTC"`, `"Europe/Paris"`, `"UTC+01:00"`).
        tz: Option<String>,
    },
    /// `timedelta64[unit]`.
    Timedelta {
        /// Ticks.
        values: Vec<i64>,
        /// The tick.
        unit: TimeUnit,
    },
    /// `category`: codes into the categories (-1 for null).
    Categorical {
        /// One code a row.
        codes: Vec<i64>,
        /// The categories, as a column of their own.
        categories: Box<Column>,
        /// Whether the categories are ordered.
        ordered: bool,
    },
}

/// One value of a column (an `object` column's items, or what
/// [`Column::cell`] gives).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A null: `None`, `NaN`, `NaT`, `pd.NA`, a masked slot.
    Null,
    /// A bool.
    Bool(bool),
    /// A signed int.
    Int(i64),
    /// An unsigned int above `i64::MAX` (or any `uint64`).
    UInt(u64),
    /// A float (float32 widened).
    Float(f64),
    /// A str.
    Str(String),
    /// A datetime: ticks since the epoch and their unit.
    Datetime(i64, TimeUnit),
    /// A timedelta: ticks and their unit.
    Timedelta(i64, TimeUnit),
    /// A Python object of an `object` column whose `str()` this crate
    /// knows (`datetime.date`/`datetime`/`time`, `decimal.Decimal`, pandas
    /// `Timestamp`, bytes, and lists, tuples, dicts and sets of plain
    /// values): that text, which `to_csv` writes.
    Object(String),
    /// Any other Python value of an `object` column, as this crate's
    /// `repr` prints its recipe (`to_csv` refuses it).
    Other(String),
}

impl Cell {
    pub(crate) fn from_object(v: ValueRef<'_>) -> Cell {
        match v.kind() {
            Kind::None => Cell::Null,
            Kind::Bool(b) => Cell::Bool(b),
            Kind::Int(i) => Cell::Int(i),
            Kind::Float(f) if f.is_nan() => Cell::Null,
            Kind::Float(f) => Cell::Float(f),
            Kind::Str(s) => Cell::Str(s.to_string_lossy().into_owned()),
            // An int beyond 64 bits: its decimal digits are its str().
            Kind::BigInt(b) => Cell::Object(b.to_string()),
            _ if is_na(v) => Cell::Null,
            _ => match super::pyobj::py_str(v) {
                Some(s) => Cell::Object(s),
                None => Cell::Other(crate::repr::repr_limited(v, 1000)),
            },
        }
    }
}

/// `pd.NA` and `pd.NaT`, as globals or as the objects pandas pickles.
pub(crate) fn is_na(v: ValueRef<'_>) -> bool {
    let name = v.as_global().or_else(|| v.class());
    matches!(
        name,
        Some((m, "NA" | "NAType" | "NaT" | "NaTType" | "__nat_unpickle" | "_nat_unpickle")) if m.starts_with("pandas")
    )
}

/// A column: its label, pandas dtype, values and nulls.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The column label (the series name, an index level's name).
    pub name: Label,
    /// The dtype as pandas prints it: `int64`, `Int64`, `float32`, `bool`,
    /// `boolean`, `object`, `str`, `string`, `category`,
    /// `datetime64[ns]`, `datetime64[us, UTC]`, `timedelta64[ns]`.
    pub dtype: String,
    /// The values.
    pub values: Values,
    /// Which rows are null (`isna`), when any can be.
    pub nulls: Option<Vec<bool>>,
}

impl Column {
    /// A column of `values`, its nulls as pandas sees them in the values
    /// themselves (NaN floats, NaT, code -1).
    pub(crate) fn new(dtype: impl Into<String>, values: Values) -> Column {
        let nulls = match &values {
            Values::Float(v) => any_null(v.iter().map(|x| x.is_nan())),
            Values::Float32(v) => any_null(v.iter().map(|x| x.is_nan())),
            Values::Datetime { values, .. } | Values::Timedelta { values, .. } => {
                any_null(values.iter().map(|&x| x == i64::MIN))
            }
            Values::Categorical { codes, .. } => any_null(codes.iter().map(|&c| c < 0)),
            Values::Object(v) => any_null(v.iter().map(|c| *c == Cell::Null)),
            _ => None,
        };
        Column {
            name: Label::None,
            dtype: dtype.into(),
            values,
            nulls,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Bool(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::UInt(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Float32(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::Object(v) => v.len(),
            Values::Datetime { values, .. } | Values::Timedelta { values, .. } => values.len(),
            Values::Categorical { codes, .. } => codes.len(),
        }
    }

    /// True if the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls
            .as_ref()
            .is_some_and(|n| n.get(i).copied().unwrap_or(false))
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        self.nulls
            .as_ref()
            .map_or(0, |n| n.iter().filter(|&&b| b).count())
    }

    /// Row `i` (categoricals give their category), `None` past the end.
    pub fn cell(&self, i: usize) -> Option<Cell> {
        if i >= self.len() {
            return None;
        }
        if self.is_null(i) {
            return Some(Cell::Null);
        }
        Some(match &self.values {
            Values::Bool(v) => Cell::Bool(v[i]),
            Values::Int(v) => Cell::Int(v[i]),
            Values::UInt(v) => Cell::UInt(v[i]),
            Values::Float(v) => Cell::Float(v[i]),
            Values::Float32(v) => Cell::Float(v[i] as f64),
            Values::Str(v) => Cell::Str(v[i].clone()),
            Values::Object(v) => v[i].clone(),
            Values::Datetime { values, unit, .. } => Cell::Datetime(values[i], *unit),
            Values::Timedelta { values, unit } => Cell::Timedelta(values[i], *unit),
            Values::Categorical {
                codes, categories, ..
            } => {
                let c = usize::try_from(codes[i]).ok()?;
                categories.cell(c)?
            }
        })
    }

    /// The rows at `positions` (-1: a null row), as `Index.take` with
    /// `allow_fill`: how a `MultiIndex` level or a categorical is expanded.
    pub fn take(&self, positions: &[i64]) -> Result<Column> {
        let n = self.len();
        let mut idx = Vec::with_capacity(positions.len());
        for &p in positions {
            if p < -1 || p >= n as i64 {
                return Err(Error::data(format!(
                    "code {p} outside the {n} values it indexes"
                )));
            }
            idx.push(usize::try_from(p).ok());
        }
        fn pick<T: Clone>(v: &[T], idx: &[Option<usize>], fill: T) -> Vec<T> {
            idx.iter()
                .map(|i| i.map_or_else(|| fill.clone(), |i| v[i].clone()))
                .collect()
        }
        let mut nulls: Vec<bool> = idx
            .iter()
            .map(|i| i.map_or(true, |i| self.is_null(i)))
            .collect();
        let values = match &self.values {
            Values::Bool(v) => Values::Bool(pick(v, &idx, false)),
            Values::Int(v) => Values::Int(pick(v, &idx, 0)),
            Values::UInt(v) => Values::UInt(pick(v, &idx, 0)),
            Values::Float(v) => Values::Float(pick(v, &idx, f64::NAN)),
            Values::Float32(v) => Values::Float32(pick(v, &idx, f32::NAN)),
            Values::Str(v) => Values::Str(pick(v, &idx, String::new())),
            Values::Object(v) => Values::Object(pick(v, &idx, Cell::Null)),
            Values::Datetime { values, unit, tz } => Values::Datetime {
                values: pick(values, &idx, i64::MIN),
                unit: *unit,
                tz: tz.clone(),
            },
            Values::Timedelta { values, unit } => Values::Timedelta {
                values: pick(values, &idx, i64::MIN),
                unit: *unit,
            },
            Values::Categorical {
                codes,
                categories,
                ordered,
            } => Values::Categorical {
                codes: pick(codes, &idx, -1),
                categories: categories.clone(),
                ordered: *ordered,
            },
        };
        if !nulls.iter().any(|&b| b) {
            nulls.clear();
        }
        Ok(Column {
            name: self.name.clone(),
            dtype: self.dtype.clone(),
            values,
            nulls: if nulls.is_empty() { None } else { Some(nulls) },
        })
    }

    /// A categorical column's values decoded through its categories (any
    /// other column as it is).
    pub fn decoded(&self) -> Result<Column> {
        match &self.values {
            Values::Categorical {
                codes, categories, ..
            } => {
                let mut c = categories.take(codes)?;
                c.name = self.name.clone();
                Ok(c)
            }
            _ => Ok(self.clone()),
        }
    }
}

fn any_null(it: impl Iterator<Item = bool>) -> Option<Vec<bool>> {
    let v: Vec<bool> = it.collect();
    if v.iter().any(|&b| b) {
        Some(v)
    } else {
        None
    }
}
