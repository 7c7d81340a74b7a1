//! `sklearn.preprocessing`: `StandardScaler`, `MinMaxScaler`,
//! `OneHotEncoder`, and `OrdinalEncoder` (which `HistGradientBoosting*`
//! fitted on categorical features holds).

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

/// Numeric `categories_` (sorted, NaN last) and lookup, as `_encode` does.
#[derive(Clone, Debug)]
pub struct Categories {
    /// Each input feature's categories.
    pub(crate) per_feature: Vec<Vec<f64>>,
}

impl Categories {
    /// Each input feature's categories.
    pub fn per_feature(&self) -> &[Vec<f64>] {
        &self.per_feature
    }
}

impl Categories {
    fn read(e: &Est<'_>, n: usize) -> Result<Categories> {
        let list: Vec<ValueRef<'_>> = e.get("categories_")?.iter().collect();
        if list.len() != n {
            return Err(data(format!(
                "{}: {} categories_ for {n} features",
                e.name,
                list.len()
            )));
        }
        let mut per_feature = Vec::with_capacity(n);
        for (i, c) in list.into_iter().enumerate() {
            let a = NdArray::from_value(c)
                .map_err(|err| data(format!("{}.categories_[{i}]: {err}", e.name)))?;
            let cats = match a.dtype.kind {
                'i' | 'u' | 'f' | 'b' => a.to_f64_vec()?,
                'O' => {
                    let (doc, items) = a.objects().ok_or_else(|| data("object array"))?;
                    let root = doc.root();
                    items
                        .iter()
                        .map(|&v| {
                            super::number(root.at(v)).ok_or_else(|| {
                                unsupported(format!(
                                    "{}: categories_[{i}] holds {} (only numeric categories: the input is f64)",
                                    e.name,
                                    root.at(v).type_name()
                                ))
                            })
                        })
                        .collect::<Result<Vec<f64>>>()?
                }
                _ => {
                    return Err(unsupported(format!(
                    "{}: categories_[{i}] of dtype {} (only numeric categories: the input is f64)",
                    e.name,
                    a.dtype.str()
                )))
                }
            };
            if a.ndim() != 1 {
                return Err(data(format!("{}: categories_[{i}] is not 1-D", e.name)));
            }
            per_feature.push(cats);
        }
        Ok(Categories { per_feature })
    }

    /// The index of `v` among feature `f`'s categories.
    pub fn find(&self, f: usize, v: f64) -> Option<usize> {
        let cats = self.per_feature.get(f)?;
        if v.is_nan() {
            cats.iter().position(|c| c.is_nan())
        } else {
            cats.iter().position(|&c| c == v)
        }
    }
}

fn refuse_infrequent(e: &Est<'_>) -> Result<()> {
    if e.opt("_infrequent_enabled").and_then(|v| v.as_bool()) == Some(true) {
        return Err(unsupported(format!(
            "{}: infrequent categories (min_frequency / max_categories) are not supported",
            e.name
        )));
    }
    Ok(())
}

/// A fitted `OneHotEncoder` on numeric categories (dense output, whatever `sparse_output` says).
#[derive(Clone, Debug)]
pub struct OneHotEncoder {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `categories_`.
    pub(crate) categories: Categories,
    /// `drop_idx_`: the category dropped per feature.
    pub(crate) drop: Vec<Option<usize>>,
    /// Whether an unknown category is an error (`handle_unknown='error'`);
    /// otherwise it encodes as zeros.
    pub(crate) error_on_unknown: bool,
}

impl OneHotEncoder {
    /// `categories_`.
    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    /// `drop_idx_`: the category dropped per feature.
    pub fn drop(&self) -> &[Option<usize>] {
        &self.drop
    }

    /// Whether an unknown category is an error (`handle_unknown='error'`);
    /// otherwise it encodes as zeros.
    pub fn error_on_unknown(&self) -> bool {
        self.error_on_unknown
    }
}

impl OneHotEncoder {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<OneHotEncoder> {
        let common = e.common()?;
        refuse_infrequent(e)?;
        let n = common.n_features;
        let categories = Categories::read(e, n)?;
        let error_on_unknown = match e.opt_str("handle_unknown").unwrap_or("error") {
            "error" => true,
            "ignore" | "infrequent_if_exist" | "warn" => false,
            other => return Err(unsupported(format!("{}: handle_unknown={other:?}", e.name))),
        };
        let drop = match e.opt("drop_idx_") {
            None => vec![None; n],
            Some(v) => {
                let a = NdArray::from_value(v)
                    .map_err(|err| data(format!("{}.drop_idx_: {err}", e.name)))?;
                let vals: Vec<Option<f64>> = if a.dtype.kind == 'O' {
                    let (doc, items) = a.objects().ok_or_else(|| data("object array"))?;
                    items
                        .iter()
                        .map(|&i| super::number(doc.root().at(i)))
                        .collect()
                } else {
                    a.to_f64_vec()?.into_iter().map(Some).collect()
                };
                if vals.len() != n {
                    return Err(data(format!(
                        "{}: drop_idx_ of {} for {n} features",
                        e.name,
                        vals.len()
                    )));
                }
                vals.into_iter()
                    .enumerate()
                    .map(|(i, d)| match d {
                        None => Ok(None),
                        Some(d)
                            if d >= 0.0
                                && d.fract() == 0.0
                                && (d as usize) < categories.per_feature[i].len() =>
                        {
                            Ok(Some(d as usize))
                        }
                        Some(d) => Err(data(format!("{}: drop_idx_[{i}] = {d}", e.name))),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        Ok(OneHotEncoder {
            common,
            categories,
            drop,
            error_on_unknown,
        })
    }

    /// The number of output columns.
    pub fn n_features_out(&self) -> usize {
        self.categories
            .per_feature
            .iter()
            .zip(&self.drop)
            .map(|(c, d)| c.len() - usize::from(d.is_some()))
            .sum()
    }

    pub(crate) fn transform(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        let n = self.common.n_features;
        let width = self.n_features_out();
        let mut out = vec![0.0; n_rows * width];
        for i in 0..n_rows {
            let mut col = i * width;
            for f in 0..n {
                let v = x[i * n + f];
                let cats = self.categories.per_feature[f].len();
                let drop = self.drop[f];
                match self.categories.find(f, v) {
                    Some(k) if drop == Some(k) => {}
                    Some(k) => {
                        let k = if drop.is_some_and(|d| k > d) {
                            k - 1
                        } else {
                            k
                        };
                        out[col + k] = 1.0;
                    }
                    None if self.error_on_unknown => {
                        return Err(data(format!(
                            "{}: found unknown category {v} in column {f} during transform",
                            self.common.name
                        )))
                    }
                    None => {}
                }
                col += cats - usize::from(drop.is_some());
            }
        }
        Ok(Matrix {
            n_rows,
            n_cols: width,
            data: out,
        })
    }
}

/// A fitted `OrdinalEncoder` on numeric categories: each value's index
/// in `categories_`, `encoded_missing_value` for NaN, `unknown_value` for
/// unknown ones (`handle_unknown='use_encoded_value'`).
#[derive(Clone, Debug)]
pub struct OrdinalEncoder {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `categories_`.
    pub(crate) categories: Categories,
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
        let common = e.common()?;
        refuse_infrequent(&e)?;
        let categories = Categories::read(&e, common.n_features)?;
        let unknown_value = match e.opt_str("handle_unknown").unwrap_or("error") {
            "error" => None,
            "use_encoded_value" => Some(e.f64("unknown_value")?),
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
            unknown_value,
            encoded_missing_value,
        })
    }

    /// The code of value `v` of feature `f`.
    pub(crate) fn encode(&self, f: usize, v: f64) -> Result<f64> {
        match self.categories.find(f, v) {
            Some(_) if v.is_nan() => Ok(self.encoded_missing_value),
            Some(k) => Ok(k as f64),
            None => self.unknown_value.ok_or_else(|| {
                data(format!(
                    "{}: found unknown category {v} in column {f} during transform",
                    self.common.name
                ))
            }),
        }
    }
}
