//! `sklearn.preprocessing`: `StandardScaler`, `MinMaxScaler`,
//! `OneHotEncoder`, and `OrdinalEncoder` (which `HistGradientBoosting*`
//! fitted on categorical features holds).

use super::batch::{Cell, Input};
use super::{data, unsupported, Common, Est, Matrix};
use crate::error::Result;
use crate::ml::numpy::NdArray;
use crate::value::ValueRef;

/// A fitted `StandardScaler`: `(x - mean_) / scale_`.
#[derive(Clone, Debug)]
pub struct StandardScaler {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `mean_`, when `with_mean`.
    pub(crate) mean: Option<Vec<f64>>,
    /// `scale_`, when `with_std`.
    pub(crate) scale: Option<Vec<f64>>,
}

impl StandardScaler {
    /// `mean_`, when `with_mean`.
    pub fn mean(&self) -> Option<&[f64]> {
        self.mean.as_deref()
    }

    /// `scale_`, when `with_std`.
    pub fn scale(&self) -> Option<&[f64]> {
        self.scale.as_deref()
    }
}

fn per_feature(e: &Est<'_>, key: &str, n: usize) -> Result<Vec<f64>> {
    let (v, shape) = e.array(key)?;
    if shape != [n] {
        return Err(data(format!(
            "{}: {key} of shape {shape:?} for {n} features",
            e.name
        )));
    }
    Ok(v)
}

impl StandardScaler {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<StandardScaler> {
        let common = e.common()?;
        let n = common.n_features;
        let mean = if e.bool("with_mean")? {
            Some(per_feature(e, "mean_", n)?)
        } else {
            None
        };
        let scale = if e.bool("with_std")? {
            Some(per_feature(e, "scale_", n)?)
        } else {
            None
        };
        Ok(StandardScaler {
            common,
            mean,
            scale,
        })
    }

    pub(crate) fn transform(&self, x: &[f64], n_rows: usize) -> Matrix {
        let n = self.common.n_features;
        let mut out = x.to_vec();
        if n > 0 {
            for row in out.chunks_exact_mut(n) {
                if let Some(m) = &self.mean {
                    row.iter_mut().zip(m).for_each(|(v, m)| *v -= m);
                }
                if let Some(s) = &self.scale {
                    row.iter_mut().zip(s).for_each(|(v, s)| *v /= s);
                }
            }
        }
        Matrix {
            n_rows,
            n_cols: n,
            data: out,
        }
    }
}

/// A fitted `MinMaxScaler`: `x * scale_ + min_`, clipped to `feature_range` when `clip`.
#[derive(Clone, Debug)]
pub struct MinMaxScaler {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `scale_`.
    pub(crate) scale: Vec<f64>,
    /// `min_`.
    pub(crate) min: Vec<f64>,
    /// `feature_range`, when `clip`.
    pub(crate) clip: Option<(f64, f64)>,
}

impl MinMaxScaler {
    /// `scale_`.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// `min_`.
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// `feature_range`, when `clip`.
    pub fn clip(&self) -> Option<(f64, f64)> {
        self.clip
    }
}

impl MinMaxScaler {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<MinMaxScaler> {
        let common = e.common()?;
        let n = common.n_features;
        let clip = if e.opt("clip").is_some() && e.bool("clip")? {
            let r = e.get("feature_range")?;
            let lo = r.index(0).and_then(super::number);
            let hi = r.index(1).and_then(super::number);
            match (lo, hi) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => return Err(data(format!("{}: feature_range is not a pair", e.name))),
            }
        } else {
            None
        };
        Ok(MinMaxScaler {
            scale: per_feature(e, "scale_", n)?,
            min: per_feature(e, "min_", n)?,
            common,
            clip,
        })
    }

    pub(crate) fn transform(&self, x: &[f64], n_rows: usize) -> Matrix {
        let n = self.common.n_features;
        let mut out = x.to_vec();
        if n > 0 {
            for row in out.chunks_exact_mut(n) {
                for ((v, s), m) in row.iter_mut().zip(&self.scale).zip(&self.min) {
                    *v *= s;
                    *v += m;
                    if let Some((lo, hi)) = self.clip {
                        // np.clip: NaN stays NaN.
                        if *v < lo {
                            *v = lo;
                        }
                        if *v > hi {
                            *v = hi;
                        }
                    }
                }
            }
        }
        Matrix {
            n_rows,
            n_cols: n,
            data: out,
        }
    }
}

/// One feature's `categories_`, as `_encode` looks values up in them.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureCategories {
    /// Numbers, sorted, `NaN` last when missing values were seen at fit.
    Num(Vec<f64>),
    /// Strings (in `categories_`' order, which a user may have given
    /// unsorted), then Python's `None`, then `NaN`, when seen at fit.
    Text {
        /// The strings.
        values: Vec<String>,
        /// Whether `None` follows them.
        none: bool,
        /// Whether `NaN` comes last.
        nan: bool,
    },
}

impl FeatureCategories {
    /// The number of categories (`None` and `NaN` included).
    pub fn len(&self) -> usize {
        match self {
            FeatureCategories::Num(v) => v.len(),
            FeatureCategories::Text { values, none, nan } => {
                values.len() + usize::from(*none) + usize::from(*nan)
            }
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the categories are strings.
    pub fn is_text(&self) -> bool {
        matches!(self, FeatureCategories::Text { .. })
    }

    /// The index of the `NaN` category (always the last), if there is one.
    pub fn nan_index(&self) -> Option<usize> {
        let last = self.len().checked_sub(1)?;
        match self {
            FeatureCategories::Num(v) if v[last].is_nan() => Some(last),
            FeatureCategories::Text { nan: true, .. } => Some(last),
            _ => None,
        }
    }
}

/// Why a cell has no category.
pub(crate) enum Lookup {
    /// Not among the categories.
    Unknown,
    /// A string for numeric categories, or a number for string ones.
    WrongKind,
}

/// `categories_`: each input feature's categories, and lookup as `_encode` does it.
#[derive(Clone, Debug)]
pub struct Categories {
    /// Each input feature's categories.
    pub(crate) per_feature: Vec<FeatureCategories>,
    /// For string categories, their indices by string.
    index: Vec<std::collections::HashMap<String, usize>>,
}

impl Categories {
    /// Each input feature's categories.
    pub fn per_feature(&self) -> &[FeatureCategories] {
        &self.per_feature
    }
}

/// One item of an object `categories_` array.
enum Item {
    Str(String),
    Num(f64),
    None,
}

impl Categories {
    fn read(e: &Est<'_>, n: usize) -> Result<Categories> {
        let cats = e.get("categories_")?;
        if cats.as_slice().is_none() {
            return Err(data(format!(
                "{}: categories_ is a {}, not a list",
                e.name,
                cats.type_name()
            )));
        }
        let list: Vec<ValueRef<'_>> = cats.iter().collect();
        if list.len() != n {
            return Err(data(format!(
                "{}: {} categories_ for {n} features",
                e.name,
                list.len()
            )));
        }
        let mut per_feature = Vec::with_capacity(n);
        let mut index = Vec::with_capacity(n);
        for (i, c) in list.into_iter().enumerate() {
            let what = format!("{}.categories_[{i}]", e.name);
            let a = NdArray::from_value(c).map_err(|err| data(format!("{what}: {err}")))?;
            if a.ndim() != 1 {
                return Err(data(format!("{what} is not 1-D")));
            }
            let cats = match a.dtype.kind {
                'i' | 'u' | 'f' | 'b' => FeatureCategories::Num(
                    a.to_f64_vec()
                        .map_err(|err| data(format!("{what}: {err}")))?,
                ),
                'U' => FeatureCategories::Text {
                    values: super::unicode_strings(&a)
                        .map_err(|err| data(format!("{what}: {err}")))?,
                    none: false,
                    nan: false,
                },
                'O' => {
                    let (doc, items) = a
                        .objects()
                        .ok_or_else(|| data(format!("{what}: an object array without items")))?;
                    let root = doc.root();
                    let items: Vec<Item> = items
                        .iter()
                        .map(|&v| {
                            let v = root.at(v);
                            if let Some(s) = v.as_str() {
                                Ok(Item::Str(s.to_string()))
                            } else if v.is_none() {
                                Ok(Item::None)
                            } else if let Some(x) = super::number(v) {
                                Ok(Item::Num(x))
                            } else {
                                Err(data(format!("{what} holds a {}", v.type_name())))
                            }
                        })
                        .collect::<Result<_>>()?;
                    object_categories(items, &what)?
                }
                _ => return Err(unsupported(format!("{what} of dtype {}", a.dtype.str()))),
            };
            let mut map = std::collections::HashMap::new();
            match &cats {
                FeatureCategories::Num(v) => {
                    let body = &v[..cats.nan_index().unwrap_or(v.len())];
                    if body.iter().any(|x| x.is_nan()) || body.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(data(format!(
                            "{what}: numeric categories not sorted, unique and NaN only last"
                        )));
                    }
                }
                FeatureCategories::Text { values, .. } => {
                    for (k, s) in values.iter().enumerate() {
                        if map.insert(s.clone(), k).is_some() {
                            return Err(data(format!("{what}: category {s:?} twice")));
                        }
                    }
                }
            }
            per_feature.push(cats);
            index.push(map);
        }
        Ok(Categories { per_feature, index })
    }

    /// The index of a cell among feature `f`'s categories.
    pub(crate) fn lookup(&self, f: usize, cell: Cell<'_>) -> std::result::Result<usize, Lookup> {
        let cats = self.per_feature.get(f).ok_or(Lookup::Unknown)?;
        match (cats, cell) {
            (_, Cell::Num(v)) if v.is_nan() => cats.nan_index().ok_or(Lookup::Unknown),
            (FeatureCategories::Num(c), Cell::Num(v)) => {
                c.iter().position(|&c| c == v).ok_or(Lookup::Unknown)
            }
            (FeatureCategories::Text { .. }, Cell::Text(s)) => self
                .index
                .get(f)
                .and_then(|m| m.get(s))
                .copied()
                .ok_or(Lookup::Unknown),
            _ => Err(Lookup::WrongKind),
        }
    }

    /// The index of `v` among feature `f`'s categories (numeric categories).
    pub fn find(&self, f: usize, v: f64) -> Option<usize> {
        self.lookup(f, Cell::Num(v)).ok()
    }

    /// The index of `s` among feature `f`'s categories (string categories).
    pub fn find_text(&self, f: usize, s: &str) -> Option<usize> {
        self.lookup(f, Cell::Text(s)).ok()
    }
}

/// An object array's categories: all numbers or all strings, `None` and
/// `NaN` (in that order) only last, as `_unique` sorts them.
fn object_categories(items: Vec<Item>, what: &str) -> Result<FeatureCategories> {
    let is_nan = |i: &Item| matches!(i, Item::Num(x) if x.is_nan());
    let mut n = items.len();
    let nan = n > 0 && is_nan(&items[n - 1]);
    n -= usize::from(nan);
    let none = n > 0 && matches!(items[n - 1], Item::None);
    n -= usize::from(none);
    let body = &items[..n];
    if body.iter().any(|i| matches!(i, Item::Str(_))) {
        let values = body
            .iter()
            .map(|i| match i {
                Item::Str(s) => Ok(s.clone()),
                _ => Err(data(format!(
                    "{what}: strings mixed with numbers, or None / NaN not last"
                ))),
            })
            .collect::<Result<_>>()?;
        return Ok(FeatureCategories::Text { values, none, nan });
    }
    if none {
        return Err(unsupported(format!(
            "{what}: numeric categories with None (only NaN is a missing number here)"
        )));
    }
    let mut values = body
        .iter()
        .map(|i| match i {
            Item::Num(x) => Ok(*x),
            _ => Err(data(format!("{what}: None among numeric categories"))),
        })
        .collect::<Result<Vec<f64>>>()?;
    if nan {
        values.push(f64::NAN);
    }
    Ok(FeatureCategories::Num(values))
}

/// An optional per-feature index list (`drop_idx_`, `_drop_idx_after_grouping`):
/// `None`, or an array (object or int) of `None` or indices.
fn optional_indices(v: Option<ValueRef<'_>>, n: usize, what: &str) -> Result<Vec<Option<usize>>> {
    let Some(v) = v else {
        return Ok(vec![None; n]);
    };
    let a = NdArray::from_value(v).map_err(|err| data(format!("{what}: {err}")))?;
    let vals: Vec<Option<f64>> = if a.dtype.kind == 'O' {
        let (doc, items) = a
            .objects()
            .ok_or_else(|| data(format!("{what}: an object array without items")))?;
        items
            .iter()
            .map(|&i| {
                let x = doc.root().at(i);
                if x.is_none() {
                    Ok(None)
                } else {
                    super::number(x)
                        .map(Some)
                        .ok_or_else(|| data(format!("{what} holds a {}", x.type_name())))
                }
            })
            .collect::<Result<_>>()?
    } else {
        a.to_f64_vec()
            .map_err(|err| data(format!("{what}: {err}")))?
            .into_iter()
            .map(Some)
            .collect()
    };
    if vals.len() != n {
        return Err(data(format!("{what} of {} for {n} features", vals.len())));
    }
    vals.into_iter()
        .map(|d| match d {
            None => Ok(None),
            Some(d) if d >= 0.0 && d.fract() == 0.0 && d < 1e15 => Ok(Some(d as usize)),
            Some(d) => Err(data(format!("{what} holds {d}"))),
        })
        .collect()
}

/// One feature's infrequent categories (`min_frequency` / `max_categories`).
#[derive(Clone, Debug, PartialEq)]
pub struct Infrequent {
    /// `_default_to_infrequent_mappings[i]`: each category's index once the
    /// infrequent ones are grouped (they all map to the last index).
    pub(crate) mapping: Vec<usize>,
    /// `_infrequent_indices[i]`: the infrequent categories' indices in `categories_`.
    pub(crate) indices: Vec<usize>,
}

impl Infrequent {
    /// Each category's index once the infrequent ones are grouped.
    pub fn mapping(&self) -> &[usize] {
        &self.mapping
    }

    /// The infrequent categories' indices in `categories_`.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The number of categories once grouped (the infrequent one last).
    pub fn n_grouped(&self) -> usize {
        self.mapping.iter().max().map_or(0, |m| m + 1)
    }

    /// The grouped index of the infrequent category.
    fn group(&self) -> usize {
        self.n_grouped().saturating_sub(1)
    }
}

/// `_infrequent_indices` and `_default_to_infrequent_mappings` when
/// `_infrequent_enabled`; each mapping covers `n_mapped[i]` categories (all
/// of them; for `OrdinalEncoder`, all but a last `NaN`).
fn read_infrequent(e: &Est<'_>, n_mapped: &[usize]) -> Result<Vec<Option<Infrequent>>> {
    let n = n_mapped.len();
    let enabled = match e.opt("_infrequent_enabled") {
        None => false,
        Some(v) => v
            .as_bool()
            .or_else(|| super::number(v).map(|x| x != 0.0))
            .ok_or_else(|| data(format!("{}: _infrequent_enabled is not a bool", e.name)))?,
    };
    if !enabled {
        return Ok(vec![None; n]);
    }
    let list = |key: &str| -> Result<Vec<Option<Vec<f64>>>> {
        let v = e.get(key)?;
        if v.as_slice().is_none() {
            return Err(data(format!("{}: {key} is not a list", e.name)));
        }
        let items: Vec<ValueRef<'_>> = v.iter().collect();
        if items.len() != n {
            return Err(data(format!(
                "{}: {key} of {} for {n} features",
                e.name,
                items.len()
            )));
        }
        items
            .into_iter()
            .map(|x| {
                if x.is_none() {
                    return Ok(None);
                }
                let (vals, shape) = super::array_f64(x, &format!("{}.{key}", e.name))?;
                if shape.len() != 1 {
                    return Err(data(format!("{}: {key} holds a {shape:?} array", e.name)));
                }
                Ok(Some(vals))
            })
            .collect()
    };
    let indices = list("_infrequent_indices")?;
    let mappings = list("_default_to_infrequent_mappings")?;
    let index = |x: f64, below: usize, what: &str| -> Result<usize> {
        if x >= 0.0 && x.fract() == 0.0 && x < below as f64 {
            Ok(x as usize)
        } else {
            Err(data(format!("{}: {what} holds {x} (of {below})", e.name)))
        }
    };
    let mut out = Vec::with_capacity(n);
    for (f, (idx, map)) in indices.into_iter().zip(mappings).enumerate() {
        let m = n_mapped[f];
        let info = match (idx, map) {
            (None, None) => None,
            (Some(idx), Some(map)) => {
                if map.len() != m || idx.is_empty() {
                    return Err(data(format!(
                        "{}: feature {f}'s infrequent mapping of {} for {m} categories ({} infrequent)",
                        e.name,
                        map.len(),
                        idx.len()
                    )));
                }
                let mapping = map
                    .into_iter()
                    .map(|x| index(x, m, "_default_to_infrequent_mappings"))
                    .collect::<Result<Vec<_>>>()?;
                let indices = idx
                    .into_iter()
                    .map(|x| index(x, m, "_infrequent_indices"))
                    .collect::<Result<Vec<_>>>()?;
                let info = Infrequent { mapping, indices };
                let group = info.group();
                if info.indices.iter().any(|&i| info.mapping[i] != group) {
                    return Err(data(format!(
                        "{}: feature {f}'s infrequent categories are not mapped to the infrequent group",
                        e.name
                    )));
                }
                Some(info)
            }
            _ => {
                return Err(data(format!(
                    "{}: feature {f} has infrequent indices or a mapping, not both",
                    e.name
                )))
            }
        };
        out.push(info);
    }
    Ok(out)
}

/// How `OneHotEncoder` encodes a category unseen at fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownCategory {
    /// `handle_unknown='error'`: an error.
    Error,
    /// `'ignore'`: all zeros.
    Ignore,
    /// `'infrequent_if_exist'` (and `'warn'`): the feature's infrequent
    /// category if it has one, else all zeros.
    InfrequentIfExist,
}

/// The error for a cell an encoder cannot encode.
/// `(f, col)`: the encoder's feature, and the input column it is shown as.
fn cell_error(
    name: &str,
    cats: &Categories,
    (f, col): (usize, usize),
    cell: Cell<'_>,
    why: Lookup,
    row: usize,
) -> crate::error::Error {
    let shown = match cell {
        Cell::Num(v) => crate::python::repr::repr_float(v),
        Cell::Text(s) => crate::python::repr::repr_str(s.as_bytes()),
    };
    match why {
        Lookup::Unknown => data(format!(
            "{name}: found unknown category {shown} (row {row}, feature {col}) during transform"
        )),
        Lookup::WrongKind => {
            let want = if cats
                .per_feature
                .get(f)
                .is_some_and(FeatureCategories::is_text)
            {
                "string categories: a number"
            } else {
                "numeric categories: a string"
            };
            data(format!(
                "{name}: {shown} (row {row}, feature {col}) for a feature of {want} never matches, \
                 and scikit-learn cannot compare the two"
            ))
        }
    }
}

/// A fitted `OneHotEncoder` (dense output, whatever `sparse_output` says),
/// numeric or string categories, infrequent ones grouped.
#[derive(Clone, Debug)]
pub struct OneHotEncoder {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `categories_`.
    pub(crate) categories: Categories,
    /// `drop_idx_`: the category dropped per feature (an index in `categories_`).
    pub(crate) drop: Vec<Option<usize>>,
    /// `_drop_idx_after_grouping`: the output column dropped per feature,
    /// counted once infrequent categories are grouped.
    drop_grouped: Vec<Option<usize>>,
    /// Each feature's infrequent categories.
    pub(crate) infrequent: Vec<Option<Infrequent>>,
    /// `handle_unknown`.
    pub(crate) unknown: UnknownCategory,
    /// Each feature's number of output columns (`_n_features_outs`).
    widths: Vec<usize>,
}

impl OneHotEncoder {
    /// `categories_`.
    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    /// `drop_idx_`: the category dropped per feature (an index in `categories_`).
    pub fn drop(&self) -> &[Option<usize>] {
        &self.drop
    }

    /// Each feature's infrequent categories (`None`: none, or not enabled).
    pub fn infrequent(&self) -> &[Option<Infrequent>] {
        &self.infrequent
    }

    /// What an unknown category encodes as.
    pub fn handle_unknown(&self) -> UnknownCategory {
        self.unknown
    }

    /// Whether an unknown category is an error (`handle_unknown='error'`).
    pub fn error_on_unknown(&self) -> bool {
        self.unknown == UnknownCategory::Error
    }
}

impl OneHotEncoder {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<OneHotEncoder> {
        let common = e.common()?;
        let n = common.n_features;
        let categories = Categories::read(e, n)?;
        let unknown = match e.opt_str("handle_unknown").unwrap_or("error") {
            "error" => UnknownCategory::Error,
            "ignore" => UnknownCategory::Ignore,
            "infrequent_if_exist" | "warn" => UnknownCategory::InfrequentIfExist,
            other => return Err(unsupported(format!("{}: handle_unknown={other:?}", e.name))),
        };
        let n_cats: Vec<usize> = categories
            .per_feature
            .iter()
            .map(FeatureCategories::len)
            .collect();
        let infrequent = read_infrequent(e, &n_cats)?;
        let grouped: Vec<usize> = infrequent
            .iter()
            .zip(&n_cats)
            .map(|(inf, &c)| inf.as_ref().map_or(c, Infrequent::n_grouped))
            .collect();
        let what = format!("{}.drop_idx_", e.name);
        let drop = optional_indices(e.opt("drop_idx_"), n, &what)?;
        for (f, d) in drop.iter().enumerate() {
            if d.is_some_and(|d| d >= n_cats[f]) {
                return Err(data(format!("{what}[{f}] of {} categories", n_cats[f])));
            }
        }
        // scikit-learn >= 1.2 pickles the drop after grouping; else it is
        // the grouped index of drop_idx_.
        let drop_grouped = if e.state.get("_drop_idx_after_grouping").is_some() {
            let what = format!("{}._drop_idx_after_grouping", e.name);
            let d = optional_indices(e.opt("_drop_idx_after_grouping"), n, &what)?;
            for (f, g) in d.iter().enumerate() {
                if g.is_some_and(|g| g >= grouped[f]) {
                    return Err(data(format!("{what}[{f}] of {} columns", grouped[f])));
                }
            }
            d
        } else {
            drop.iter()
                .zip(&infrequent)
                .map(|(d, inf)| match (d, inf) {
                    (Some(d), Some(inf)) => inf.mapping.get(*d).copied(),
                    (d, _) => *d,
                })
                .collect()
        };
        let widths: Vec<usize> = grouped
            .iter()
            .zip(&drop_grouped)
            .map(|(g, d)| g - usize::from(d.is_some()))
            .collect();
        if let Some(v) = e.opt("_n_features_outs") {
            let pickled: Vec<f64> = v.iter().filter_map(super::number).collect();
            if pickled.len() != n || pickled.iter().zip(&widths).any(|(p, &w)| *p != w as f64) {
                return Err(data(format!(
                    "{}: _n_features_outs is not what categories_, the infrequent categories and drop give ({widths:?})",
                    e.name
                )));
            }
        }
        Ok(OneHotEncoder {
            common,
            categories,
            drop,
            drop_grouped,
            infrequent,
            unknown,
            widths,
        })
    }

    /// The number of output columns.
    pub fn n_features_out(&self) -> usize {
        self.widths.iter().sum()
    }

    pub(crate) fn transform(&self, x: &Input<'_>) -> Result<Matrix> {
        let n = self.common.n_features;
        let n_rows = x.n_rows();
        let width = self.n_features_out();
        let mut out = vec![0.0; n_rows * width];
        for i in 0..n_rows {
            let mut col = i * width;
            for f in 0..n {
                let cell = x.cell(i, f);
                let inf = self.infrequent[f].as_ref();
                let grouped = match self.categories.lookup(f, cell) {
                    Ok(k) => Some(inf.map_or(k, |inf| inf.mapping[k])),
                    Err(Lookup::Unknown) => match self.unknown {
                        UnknownCategory::Error => {
                            return Err(cell_error(
                                &self.common.name,
                                &self.categories,
                                (f, f),
                                cell,
                                Lookup::Unknown,
                                i,
                            ))
                        }
                        UnknownCategory::Ignore => None,
                        UnknownCategory::InfrequentIfExist => inf.map(Infrequent::group),
                    },
                    Err(why) => {
                        return Err(cell_error(
                            &self.common.name,
                            &self.categories,
                            (f, f),
                            cell,
                            why,
                            i,
                        ))
                    }
                };
                let drop = self.drop_grouped[f];
                if let Some(g) = grouped {
                    if drop != Some(g) {
                        let g = if drop.is_some_and(|d| g > d) {
                            g - 1
                        } else {
                            g
                        };
                        out[col + g] = 1.0;
                    }
                }
                col += self.widths[f];
            }
        }
        Ok(Matrix {
            n_rows,
            n_cols: width,
            data: out,
        })
    }
}

/// A fitted `OrdinalEncoder`, numeric or string categories: each value's
/// index in `categories_` (infrequent ones grouped into one index after
/// the frequent ones), `encoded_missing_value` for a missing value, and
/// `unknown_value` for unknown ones (`handle_unknown='use_encoded_value'`).
#[derive(Clone, Debug)]
pub struct OrdinalEncoder {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `categories_`.
    pub(crate) categories: Categories,
    /// Each feature's infrequent categories (a last `NaN` category is never one).
    pub(crate) infrequent: Vec<Option<Infrequent>>,
    /// `unknown_value`, or `None` when unknown categories are an error.
    pub(crate) unknown_value: Option<f64>,
    /// `encoded_missing_value`.
    pub(crate) encoded_missing_value: f64,
}

impl OrdinalEncoder {
    /// `categories_`.
    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    /// Each feature's infrequent categories (`None`: none, or not enabled).
    pub fn infrequent(&self) -> &[Option<Infrequent>] {
        &self.infrequent
    }

    /// `unknown_value`, or `None` when unknown categories are an error.
    pub fn unknown_value(&self) -> Option<f64> {
        self.unknown_value
    }

    /// `encoded_missing_value`.
    pub fn encoded_missing_value(&self) -> f64 {
        self.encoded_missing_value
    }
}

impl OrdinalEncoder {
    pub(crate) fn from_value(v: ValueRef<'_>) -> Result<OrdinalEncoder> {
        let e = Est::new(v)?;
        if e.name != "OrdinalEncoder" {
            return Err(unsupported(format!(
                "{} where an OrdinalEncoder was expected",
                e.name
            )));
        }
        OrdinalEncoder::from_est(&e)
    }

    pub(crate) fn from_est(e: &Est<'_>) -> Result<OrdinalEncoder> {
        let common = e.common()?;
        let categories = Categories::read(e, common.n_features)?;
        // A last NaN category is kept out of the infrequent mapping
        // (`_missing_indices`).
        let n_mapped: Vec<usize> = categories
            .per_feature
            .iter()
            .map(|c| c.len() - usize::from(c.nan_index().is_some()))
            .collect();
        let infrequent = read_infrequent(e, &n_mapped)?;
        let unknown_value = match e.opt_str("handle_unknown").unwrap_or("error") {
            "error" => None,
            "use_encoded_value" => Some(
                e.state
                    .get("unknown_value")
                    .and_then(super::number)
                    .ok_or_else(|| data(format!("{}: unknown_value is not a number", e.name)))?,
            ),
            other => return Err(unsupported(format!("{}: handle_unknown={other:?}", e.name))),
        };
        let encoded_missing_value = match e.state.get("encoded_missing_value") {
            None => f64::NAN,
            Some(v) => super::number(v)
                .ok_or_else(|| data(format!("{}: encoded_missing_value", e.name)))?,
        };
        Ok(OrdinalEncoder {
            common,
            categories,
            infrequent,
            unknown_value,
            encoded_missing_value,
        })
    }

    /// The code of a cell of feature `f` (in row `row`, for errors).
    pub(crate) fn encode(&self, f: usize, cell: Cell<'_>, row: usize, col: usize) -> Result<f64> {
        match self.categories.lookup(f, cell) {
            Ok(k) if self.categories.per_feature[f].nan_index() == Some(k) => {
                Ok(self.encoded_missing_value)
            }
            Ok(k) => Ok(match &self.infrequent[f] {
                Some(inf) => inf.mapping[k],
                None => k,
            } as f64),
            Err(Lookup::Unknown) if self.unknown_value.is_some() => {
                Ok(self.unknown_value.unwrap_or(f64::NAN))
            }
            Err(why) => Err(cell_error(
                &self.common.name,
                &self.categories,
                (f, col),
                cell,
                why,
                row,
            )),
        }
    }

    pub(crate) fn transform(&self, x: &Input<'_>) -> Result<Matrix> {
        let n = self.common.n_features;
        let n_rows = x.n_rows();
        let mut out = Vec::with_capacity(n_rows * n);
        for i in 0..n_rows {
            for f in 0..n {
                out.push(self.encode(f, x.cell(i, f), i, f)?);
            }
        }
        Ok(Matrix {
            n_rows,
            n_cols: n,
            data: out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Item {
        Item::Str(x.to_string())
    }

    #[test]
    fn object_categories_are_strings_or_numbers_missing_last() {
        let c =
            object_categories(vec![s("b"), s("a"), Item::None, Item::Num(f64::NAN)], "c").unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c.nan_index(), Some(3));
        assert!(c.is_text());
        let c = object_categories(vec![Item::Num(1.0), Item::Num(f64::NAN)], "c").unwrap();
        assert_eq!(c.nan_index(), Some(1));
        assert!(!c.is_text());
        let c = object_categories(vec![s("a"), Item::None], "c").unwrap();
        assert_eq!(c.nan_index(), None);
        for bad in [
            vec![s("a"), Item::Num(1.0)],
            vec![s("a"), Item::None, s("b")],
            vec![Item::Num(f64::NAN), s("a")],
        ] {
            let e = object_categories(bad, "c").map(|_| ()).unwrap_err();
            assert_eq!(e.category(), crate::Category::Data, "{e}");
        }
        let e = object_categories(vec![Item::Num(1.0), Item::None], "c")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.category(), crate::Category::Unsupported, "{e}");
    }
}
