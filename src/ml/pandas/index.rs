//! pandas indexes: `RangeIndex`, an `Index` of any column dtype
//! (`DatetimeIndex`, `TimedeltaIndex`, `CategoricalIndex`, pandas < 2's
//! `Int64Index` and friends included), and `MultiIndex`.

use super::callable;
use super::column::{Cell, Column, Label, Values};
use super::extension::set_tz;
use super::read_1d;
use super::tz::tz_name;
use crate::error::{Error, Result};
use crate::ml::numpy::NdArray;
use crate::value::ValueRef;

/// A row (or columns) index.
#[derive(Clone, Debug, PartialEq)]
pub enum Index {
    /// `RangeIndex(start, stop, step, name=...)`.
    Range {
        /// First value.
        start: i64,
        /// End (exclusive).
        stop: i64,
        /// Step (not 0).
        step: i64,
        /// The index name.
        name: Label,
    },
    /// Any other single-level index: its values as a column, named by the
    /// index name.
    Column(Column),
    /// A `MultiIndex`: one column a level, expanded from the level's
    /// values by its codes (a code of -1 is a null), named by the level
    /// names.
    Multi(Vec<Column>),
}

/// The longest `RangeIndex` this reader expands into labels or a column
/// (2^31 rows): larger ones in a pickle are refused rather than allocated.
const MAX_RANGE: u64 = 1 << 31;

fn range_len(start: i64, stop: i64, step: i64) -> u64 {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    let n = if step > 0 && stop > start {
        (stop - start + step - 1) / step
    } else if step < 0 && stop < start {
        (start - stop - step - 1) / -step
    } else {
        0
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Index {
    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            Index::Range {
                start, stop, step, ..
            } => usize::try_from(range_len(*start, *stop, *step)).unwrap_or(usize::MAX),
            Index::Column(c) => c.len(),
            Index::Multi(levels) => levels.first().map_or(0, Column::len),
        }
    }

    /// True if the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names (`index.names`): one, or one a level.
    pub fn names(&self) -> Vec<Label> {
        match self {
            Index::Range { name, .. } => vec![name.clone()],
            Index::Column(c) => vec![c.name.clone()],
            Index::Multi(levels) => levels.iter().map(|c| c.name.clone()).collect(),
        }
    }

    /// The index as one column (a `RangeIndex` as `int64` values, a
    /// `MultiIndex` as an `object` column of tuples' reprs).
    pub fn to_column(&self) -> Column {
        match self {
            Index::Range {
                start, step, name, ..
            } => {
                let n = self.len() as i64;
                let values = (0..n).map(|i| start.wrapping_add(i.wrapping_mul(*step)));
                let mut c = Column::new("int64", Values::Int(values.collect()));
                c.name = name.clone();
                c
            }
            Index::Column(c) => c.clone(),
            Index::Multi(_) => {
                let cells = self
                    .labels()
                    .into_iter()
                    .map(|l| Cell::Other(l.repr()))
                    .collect();
                Column::new("object", Values::Object(cells))
            }
        }
    }

    /// [`Index::to_column`], refusing a `RangeIndex` longer than the
    /// reader expands (what a pickle of a few bytes could ask for).
    pub(crate) fn to_column_checked(&self) -> Result<Column> {
        if let Index::Range { .. } = self {
            if self.len() > super::MAX_EXPANDED_RANGE {
                return Err(Error::limit(format!(
                    "RangeIndex of {} values used as values (at most {})",
                    self.len(),
                    super::MAX_EXPANDED_RANGE
                )));
            }
        }
        Ok(self.to_column())
    }

    /// [`Index::labels`], with [`Index::to_column_checked`]'s limit.
    pub(crate) fn labels_checked(&self) -> Result<Vec<Label>> {
        if let Index::Range { .. } = self {
            self.to_column_checked()?;
        }
        Ok(self.labels())
    }

    /// The levels as columns (one for a single-level index).
    pub fn levels(&self) -> Vec<Column> {
        match self {
            Index::Multi(levels) => levels.clone(),
            _ => vec![self.to_column()],
        }
    }

    /// Each entry as a label (a tuple for a `MultiIndex`).
    pub fn labels(&self) -> Vec<Label> {
        match self {
            Index::Range { .. } => match self.to_column().values {
                Values::Int(v) => v.into_iter().map(Label::Int).collect(),
                _ => Vec::new(),
            },
            Index::Column(c) => (0..c.len()).map(|i| cell_label(c, i)).collect(),
            // A missing code is the level's NaN in `MultiIndex.tolist()`.
            Index::Multi(levels) => {
                let n = self.len();
                let label = |l: &Column, i: usize| {
                    if l.is_null(i) {
                        Label::Float(f64::NAN)
                    } else {
                        cell_label(l, i)
                    }
                };
                (0..n)
                    .map(|i| Label::Tuple(levels.iter().map(|l| label(l, i)).collect()))
                    .collect()
            }
        }
    }
}

/// Row `i` of a column as a label.
fn cell_label(c: &Column, i: usize) -> Label {
    match c.cell(i) {
        Some(Cell::Bool(b)) => Label::Bool(b),
        Some(Cell::Int(v)) => Label::Int(v),
        Some(Cell::UInt(v)) => i64::try_from(v).map_or(Label::Other(v.to_string()), Label::Int),
        Some(Cell::Float(f)) => Label::Float(f),
        Some(Cell::Str(s)) => Label::Str(s),
        // pandas 3's `str` dtype holds NaN for its nulls.
        Some(Cell::Null) | None => match c.values {
            Values::Float(_) | Values::Float32(_) => Label::Float(f64::NAN),
            Values::Str(_) if c.dtype == "str" => Label::Float(f64::NAN),
            _ => Label::None,
        },
        Some(Cell::Other(s)) | Some(Cell::Object(s)) => Label::Other(s),
        Some(Cell::Datetime(v, u)) => Label::Other(format!("datetime64({v}, '{}')", u.code())),
        Some(Cell::Timedelta(v, u)) => Label::Other(format!("timedelta64({v}, '{}')", u.code())),
    }
}

/// Read a pickled pandas index.
pub(crate) fn read_index(v: ValueRef<'_>) -> Result<Index> {
    super::nested(|| try_read_index(v))?.ok_or_else(|| {
        Error::data(format!(
            "expected a pandas Index, got {}",
            super::describe(v)
        ))
    })
}

fn int_or(d: ValueRef<'_>, key: &str, default: Option<i64>) -> Result<i64> {
    match d.get(key) {
        Some(x) if !x.is_none() => x
            .as_i64()
            .ok_or_else(|| Error::data(format!("RangeIndex {key} is not an int"))),
        _ => default.ok_or_else(|| Error::data(format!("RangeIndex without {key}"))),
    }
}

fn range(start: i64, stop: i64, step: i64, name: Label) -> Result<Index> {
    if step == 0 {
        return Err(Error::data("RangeIndex step of 0"));
    }
    if range_len(start, stop, step) > MAX_RANGE {
        return Err(Error::limit(format!(
            "RangeIndex({start}, {stop}, {step}) longer than {MAX_RANGE}"
        )));
    }
    Ok(Index::Range {
        start,
        stop,
        step,
        name,
    })
}

fn name_of(d: ValueRef<'_>) -> Label {
    d.get("name").map_or(Label::None, Label::from_value)
}

/// An index, if `v` is one.
pub(crate) fn try_read_index(v: ValueRef<'_>) -> Result<Option<Index>> {
    // `_new_Index(cls, d)`, `_new_DatetimeIndex(cls, d)`, ...: pandas 0.15+.
    if let Some((m, f)) = callable(v) {
        if m.starts_with("pandas") && f.starts_with("_new_") && f.ends_with("Index") {
            let o = v.as_object().ok_or_else(|| Error::data("index recipe"))?;
            let args = v.at(o.args);
            let cls = args
                .index(0)
                .and_then(|c| c.as_global())
                .map(|(_, n)| n.rsplit('.').next().unwrap_or(n))
                .ok_or_else(|| Error::data(format!("{f} without a class")))?;
            let d = args
                .index(1)
                .filter(|d| d.as_pairs().is_some())
                .ok_or_else(|| Error::data(format!("{f} without a dict of attributes")))?;
            return from_dict(cls, d).map(Some);
        }
    }
    // pandas < 0.15: an ndarray subclass, BUILD state
    // `(ndarray_state, name)` (MultiIndex: `(.., levels, labels, sortorder, names)`).
    match super::legacy_ndarray_class(v) {
        Some(cls) if cls.ends_with("Index") => legacy(v, cls).map(Some),
        _ => Ok(None),
    }
}

fn legacy(v: ValueRef<'_>, cls: &str) -> Result<Index> {
    let state = v
        .state()
        .ok_or_else(|| Error::data(format!("pandas {cls} without a state")))?;
    let items: Vec<ValueRef<'_>> = state.iter().collect();
    if cls == "MultiIndex" {
        // (ndarray_state, (levels, labels, sortorder, names)), or the
        // four flattened after the array's state.
        let parts: Vec<ValueRef<'_>> = match &items[..] {
            [_, rest] => rest.iter().collect(),
            [_, rest @ ..] => rest.to_vec(),
            [] => Vec::new(),
        };
        if parts.len() < 4 {
            return Err(Error::data("legacy MultiIndex state too short"));
        }
        return multi(parts[0], parts[1], Some(parts[3]));
    }
    let arr = NdArray::from_value(v)?;
    let mut col = super::extension::numpy_columns(&arr)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::data("empty index array"))?;
    if let Some(rest) = items.get(1) {
        // `(ndarray_state, name)`, or DatetimeIndex's `(.., (name, freq, tz))`.
        let name = match rest.as_slice() {
            Some(_) if !matches!(rest.kind(), crate::Kind::Tuple(_)) => Label::None,
            Some(_) => rest.index(0).map_or(Label::None, Label::from_value),
            None => Label::from_value(*rest),
        };
        col.name = name;
    }
    if cls == "DatetimeIndex" {
        let tz = items.get(1).and_then(|r| r.index(2)).and_then(tz_name);
        set_tz(&mut col, tz)?;
    }
    Ok(Index::Column(col))
}

fn from_dict(cls: &str, d: ValueRef<'_>) -> Result<Index> {
    match cls {
        "RangeIndex" => {
            let stop = int_or(d, "stop", None)?;
            range(
                int_or(d, "start", Some(0))?,
                stop,
                int_or(d, "step", Some(1))?,
                name_of(d),
            )
        }
        "MultiIndex" => {
            let levels = d
                .get("levels")
                .ok_or_else(|| Error::data("MultiIndex without levels"))?;
            let codes = d
                .get("codes")
                .or_else(|| d.get("labels"))
                .ok_or_else(|| Error::data("MultiIndex without codes"))?;
            multi(levels, codes, d.get("names"))
        }
        "IntervalIndex" if d.get("data").is_none() => {
            // `{"left": Index, "right": Index, "closed": .., "name": ..}`
            let side = |k: &str| -> Result<Column> {
                let ix = d
                    .get(k)
                    .ok_or_else(|| Error::data(format!("IntervalIndex without {k}")))?;
                read_index(ix)?.to_column_checked()
            };
            let closed = d.get("closed").and_then(|c| c.as_str()).unwrap_or("right");
            let mut col = super::periods::intervals(&side("left")?, &side("right")?, closed)?;
            col.name = name_of(d);
            Ok(Index::Column(col))
        }
        _ => {
            let data = d
                .get("data")
                .ok_or_else(|| Error::data(format!("pandas {cls} without data")))?;
            let mut col = read_1d(data, cls)?;
            if cls == "DatetimeIndex" {
                if let Some(tz) = d.get("tz").and_then(tz_name) {
                    if matches!(col.values, Values::Datetime { tz: None, .. }) {
                        set_tz(&mut col, Some(tz))?;
                    }
                }
            }
            if cls == "CategoricalIndex" && !matches!(col.values, Values::Categorical { .. }) {
                return Err(Error::data("CategoricalIndex over a non-categorical array"));
            }
            col.name = name_of(d);
            Ok(Index::Column(col))
        }
    }
}

fn multi(levels: ValueRef<'_>, codes: ValueRef<'_>, names: Option<ValueRef<'_>>) -> Result<Index> {
    let levels: Vec<ValueRef<'_>> = levels.iter().collect();
    let codes: Vec<ValueRef<'_>> = codes.iter().collect();
    if levels.len() != codes.len() || levels.is_empty() {
        return Err(Error::data(format!(
            "MultiIndex of {} levels and {} code arrays",
            levels.len(),
            codes.len()
        )));
    }
    let names: Vec<Label> = names
        .map(|n| n.iter().map(Label::from_value).collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(levels.len());
    let mut len = None;
    for (i, (lv, cv)) in levels.iter().zip(&codes).enumerate() {
        // Levels are indexes; pandas < 0.15 pickled them as plain arrays.
        let level = match super::nested(|| try_read_index(*lv))? {
            Some(ix) => ix.to_column_checked()?,
            None => read_1d(*lv, "MultiIndex level")?,
        };
        let codes = read_1d(*cv, "MultiIndex codes")?;
        let codes = match codes.values {
            Values::Int(c) => c,
            _ => return Err(Error::data("MultiIndex codes are not ints")),
        };
        if *len.get_or_insert(codes.len()) != codes.len() {
            return Err(Error::data("MultiIndex code arrays of different lengths"));
        }
        let mut col = if matches!(level.values, Values::Categorical { .. }) {
            level.decoded()?.take(&codes)?
        } else {
            level.take(&codes)?
        };
        col.name = names.get(i).cloned().unwrap_or(Label::None);
        out.push(col);
    }
    Ok(Index::Multi(out))
}
