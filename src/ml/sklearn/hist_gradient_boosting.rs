//! `HistGradientBoostingClassifier` / `Regressor`: `_baseline_prediction`
//! plus every iteration's `TreePredictor`, on raw (not binned) features,
//! with missing values and categorical splits (bitsets).

use super::batch::{text_for_number, Cell, Input};
use super::preprocessing::OrdinalEncoder;
use super::{
    argmax, data, labels_of, unsupported, Classes, Common, Est, Link, Matrix, Predictions,
};
use crate::error::Result;
use crate::ml::numpy::NdArray;
use crate::value::ValueRef;

/// One node of a [`HistTree`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistNode {
    /// A leaf's value.
    pub(crate) value: f64,
    /// The feature compared.
    pub(crate) feature: usize,
    /// Numeric splits: `x <= num_threshold` goes left.
    pub(crate) num_threshold: f64,
    /// Where NaN (and unknown categories) go.
    pub(crate) missing_go_to_left: bool,
    /// Left child.
    pub(crate) left: usize,
    /// Right child.
    pub(crate) right: usize,
    /// Whether the node is a leaf.
    pub(crate) is_leaf: bool,
    /// Whether the split is categorical.
    pub(crate) is_categorical: bool,
    /// The split's row in [`HistTree::left_cat_bitsets`].
    pub(crate) bitset_idx: usize,
}

impl HistNode {
    /// A leaf's value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The feature compared.
    pub fn feature(&self) -> usize {
        self.feature
    }

    /// Numeric splits: `x <= num_threshold` goes left.
    pub fn num_threshold(&self) -> f64 {
        self.num_threshold
    }

    /// Where NaN (and unknown categories) go.
    pub fn missing_go_to_left(&self) -> bool {
        self.missing_go_to_left
    }

    /// Left child.
    pub fn left(&self) -> usize {
        self.left
    }

    /// Right child.
    pub fn right(&self) -> usize {
        self.right
    }

    /// Whether the node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.is_leaf
    }

    /// Whether the split is categorical.
    pub fn is_categorical(&self) -> bool {
        self.is_categorical
    }

    /// The split's row in [`HistTree::left_cat_bitsets`].
    pub fn bitset_idx(&self) -> usize {
        self.bitset_idx
    }
}

/// A fitted `TreePredictor`.
#[derive(Clone, Debug)]
pub struct HistTree {
    /// The nodes (children after their parent, checked on load).
    pub(crate) nodes: Vec<HistNode>,
    /// `raw_left_cat_bitsets`: the categories that go left, per categorical split.
    pub(crate) left_cat_bitsets: Vec<[u32; 8]>,
}

impl HistTree {
    /// The nodes (children after their parent, checked on load).
    pub fn nodes(&self) -> &[HistNode] {
        &self.nodes
    }

    /// `raw_left_cat_bitsets`: the categories that go left, per categorical split.
    pub fn left_cat_bitsets(&self) -> &[[u32; 8]] {
        &self.left_cat_bitsets
    }
}

fn in_bitset(b: &[u32; 8], v: u8) -> bool {
    (b[usize::from(v / 32)] >> (v % 32)) & 1 == 1
}

impl HistTree {
    fn from_value(
        v: ValueRef<'_>,
        n_features: usize,
        categorical: &[bool],
        what: &str,
    ) -> Result<HistTree> {
        let e = Est::object(v)?;
        if e.name != "TreePredictor" {
            return Err(data(format!("{what}: _predictors holds a {}", e.name)));
        }
        let nodes = NdArray::from_value(e.get("nodes")?)
            .map_err(|err| data(format!("{what}.nodes: {err}")))?;
        let n = nodes.len();
        if nodes.ndim() != 1 || n == 0 {
            return Err(data(format!(
                "{what}: predictor nodes of shape {:?}",
                nodes.shape
            )));
        }
        let field = |name: &str| -> Result<Vec<f64>> {
            nodes
                .field(name)
                .and_then(|f| f.to_f64_vec())
                .map_err(|err| data(format!("{what}.nodes[{name:?}]: {err}")))
        };
        let (value, feature, thr, missing, left, right, leaf, cat, bidx) = (
            field("value")?,
            field("feature_idx")?,
            field("num_threshold")?,
            field("missing_go_to_left")?,
            field("left")?,
            field("right")?,
            field("is_leaf")?,
            field("is_categorical")?,
            field("bitset_idx")?,
        );
        let left_cat_bitsets = bitsets(e.get("raw_left_cat_bitsets")?, what)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let is_leaf = leaf[i] != 0.0;
            let mut node = HistNode {
                value: value[i],
                feature: 0,
                num_threshold: thr[i],
                missing_go_to_left: missing[i] != 0.0,
                left: 0,
                right: 0,
                is_leaf,
                is_categorical: cat[i] != 0.0,
                bitset_idx: 0,
            };
            if !is_leaf {
                let child = |c: f64| -> Result<usize> {
                    if c > i as f64 && c < n as f64 && c.fract() == 0.0 {
                        Ok(c as usize)
                    } else {
                        Err(data(format!(
                            "{what}: node {i}'s child {c} is not a later node of {n}"
                        )))
                    }
                };
                node.left = child(left[i])?;
                node.right = child(right[i])?;
                let f = feature[i];
                if !(f >= 0.0 && f < n_features as f64 && f.fract() == 0.0) {
                    return Err(data(format!(
                        "{what}: node {i} splits on feature {f} of {n_features}"
                    )));
                }
                node.feature = f as usize;
                if node.is_categorical {
                    let b = bidx[i];
                    if !(b >= 0.0 && b < left_cat_bitsets.len() as f64 && b.fract() == 0.0) {
                        return Err(data(format!(
                            "{what}: node {i}'s bitset {b} of {}",
                            left_cat_bitsets.len()
                        )));
                    }
                    if !categorical.get(node.feature).copied().unwrap_or(false) {
                        return Err(data(format!(
                            "{what}: node {i} is a categorical split on numeric feature {}",
                            node.feature
                        )));
                    }
                    node.bitset_idx = b as usize;
                }
            }
            out.push(node);
        }
        Ok(HistTree {
            nodes: out,
            left_cat_bitsets,
        })
    }

    /// The leaf value for a (preprocessed) row; `known` holds each
    /// categorical feature's known categories.
    fn predict(&self, row: &[f64], known: &[Option<[u32; 8]>]) -> f64 {
        let mut i = 0;
        for _ in 0..=self.nodes.len() {
            let Some(n) = self.nodes.get(i) else { break };
            if n.is_leaf {
                return n.value;
            }
            let v = row.get(n.feature).copied().unwrap_or(f64::NAN);
            let missing = if n.missing_go_to_left {
                n.left
            } else {
                n.right
            };
            i = if v.is_nan() {
                missing
            } else if n.is_categorical {
                // Values are checked to lie in [0, 256) before the walk.
                let c = if v < 0.0 { None } else { Some(v as u8) };
                match (
                    c,
                    self.left_cat_bitsets.get(n.bitset_idx),
                    known.get(n.feature),
                ) {
                    (None, _, _) => missing,
                    (Some(c), Some(b), _) if in_bitset(b, c) => n.left,
                    (Some(c), _, Some(Some(k))) if in_bitset(k, c) => n.right,
                    _ => missing,
                }
            } else if v <= n.num_threshold {
                n.left
            } else {
                n.right
            };
        }
        f64::NAN
    }
}

fn bitsets(v: ValueRef<'_>, what: &str) -> Result<Vec<[u32; 8]>> {
    let a = NdArray::from_value(v).map_err(|e| data(format!("{what}: bitsets: {e}")))?;
    let flat = a.to_f64_vec()?;
    let rows = match a.shape[..] {
        [r, 8] => r,
        [0] | [0, _] => 0,
        _ => return Err(data(format!("{what}: bitsets of shape {:?}", a.shape))),
    };
    Ok((0..rows)
        .map(|r| {
            let mut b = [0u32; 8];
            for (j, x) in b.iter_mut().enumerate() {
                *x = flat[r * 8 + j] as u32;
            }
            b
        })
        .collect())
}

/// Where a preprocessed column comes from.
#[derive(Clone, Debug)]
enum Column {
    /// An input column as it is.
    Pass(usize),
    /// Input column `input`, encoded by encoder `encoder` as its feature `feature`.
    Ordinal {
        input: usize,
        encoder: usize,
        feature: usize,
    },
}

/// The `ColumnTransformer` scikit-learn ≥ 1.4 fits on categorical features:
/// ordinal-encoded categorical columns first, the numeric ones after.
#[derive(Clone, Debug)]
struct Preprocessor {
    encoders: Vec<OrdinalEncoder>,
    columns: Vec<Column>,
}

fn column_indices(v: ValueRef<'_>, n: usize, what: &str) -> Result<Vec<usize>> {
    let vals: Vec<f64> = if let Ok(a) = NdArray::from_value(v) {
        let x = a.to_f64_vec()?;
        if a.dtype.kind == 'b' {
            if x.len() != n {
                return Err(data(format!(
                    "{what}: a column mask of {} for {n} features",
                    x.len()
                )));
            }
            return Ok(x
                .iter()
                .enumerate()
                .filter(|(_, &b)| b != 0.0)
                .map(|(i, _)| i)
                .collect());
        }
        x
    } else if v.as_slice().is_some() {
        let items: Vec<ValueRef<'_>> = v.iter().collect();
        if !items.is_empty()
            && items
                .iter()
                .all(|i| i.as_bool().is_some() && matches!(i.kind(), crate::value::Kind::Bool(_)))
        {
            if items.len() != n {
                return Err(data(format!(
                    "{what}: a column mask of {} for {n} features",
                    items.len()
                )));
            }
            return Ok(items
                .iter()
                .enumerate()
                .filter(|(_, b)| b.as_bool() == Some(true))
                .map(|(i, _)| i)
                .collect());
        }
        items
            .iter()
            .map(|i| super::number(*i).ok_or_else(|| data(format!("{what}: column {i}"))))
            .collect::<Result<_>>()?
    } else {
        return Err(unsupported(format!(
            "{what}: columns given as {}",
            v.type_name()
        )));
    };
    vals.into_iter()
        .map(|c| {
            if c >= 0.0 && c < n as f64 && c.fract() == 0.0 {
                Ok(c as usize)
            } else {
                Err(data(format!("{what}: column {c} of {n}")))
            }
        })
        .collect()
}

impl Preprocessor {
    fn from_value(v: ValueRef<'_>, n_features: usize, what: &str) -> Result<Preprocessor> {
        let ct = Est::new(v)?;
        if ct.name != "ColumnTransformer" {
            return Err(unsupported(format!(
                "{what}: _preprocessor is a {}",
                ct.name
            )));
        }
        let mut encoders = Vec::new();
        let mut columns = Vec::new();
        for t in ct.get("transformers_")?.iter() {
            let (Some(trans), Some(cols)) = (t.index(1), t.index(2)) else {
                return Err(data(format!(
                    "{what}: a transformers_ entry is not a triple"
                )));
            };
            let idx = column_indices(cols, n_features, what)?;
            if let Some(s) = trans.as_str() {
                match s {
                    "drop" => {}
                    "passthrough" => columns.extend(idx.into_iter().map(Column::Pass)),
                    _ => return Err(unsupported(format!("{what}: transformer {s:?}"))),
                }
                continue;
            }
            match trans.class() {
                Some((_, "OrdinalEncoder")) => {
                    let enc = OrdinalEncoder::from_value(trans)?;
                    if enc.common.n_features != idx.len() {
                        return Err(data(format!(
                            "{what}: an OrdinalEncoder of {} features on {} columns",
                            enc.common.n_features,
                            idx.len()
                        )));
                    }
                    let encoder = encoders.len();
                    encoders.push(enc);
                    columns.extend(idx.into_iter().enumerate().map(|(feature, input)| {
                        Column::Ordinal {
                            input,
                            encoder,
                            feature,
                        }
                    }));
                }
                // scikit-learn's own `FunctionTransformer(check_array)` on the numeric columns.
                Some(("sklearn.preprocessing._function_transformer", "FunctionTransformer")) => {
                    columns.extend(idx.into_iter().map(Column::Pass))
                }
                other => return Err(unsupported(format!("{what}: _preprocessor step {other:?}"))),
            }
        }
        Ok(Preprocessor { encoders, columns })
    }

    /// Row `row` of `x`, preprocessed.
    fn transform(&self, x: &Input<'_>, row: usize, out: &mut Vec<f64>, name: &str) -> Result<()> {
        out.clear();
        for c in &self.columns {
            out.push(match *c {
                Column::Pass(i) => match x.cell(row, i) {
                    Cell::Num(v) => v,
                    Cell::Text(s) => return Err(text_for_number(name, s, row, i)),
                },
                Column::Ordinal {
                    input,
                    encoder,
                    feature,
                } => self.encoders[encoder].encode(feature, x.cell(row, input), row, input)?,
            });
        }
        Ok(())
    }
}

/// A fitted `HistGradientBoostingClassifier` or `HistGradientBoostingRegressor`.
#[derive(Clone, Debug)]
pub struct HistGradientBoosting {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `_predictors[iteration][k]`.
    pub(crate) predictors: Vec<Vec<HistTree>>,
    /// `_baseline_prediction`, one per tree of an iteration.
    pub(crate) baseline: Vec<f64>,
    /// How raw predictions become probabilities or values.
    pub(crate) link: Link,
    /// A classifier's `classes_`.
    pub(crate) classes: Option<Classes>,
    /// Known categories per (preprocessed) feature: `None` for numeric features.
    known: Vec<Option<[u32; 8]>>,
    preprocessor: Option<Preprocessor>,
    /// scikit-learn < 1.4 predicted the argmax of `predict_proba` (a tie
    /// at raw 0 goes to the first class); later releases `raw > 0`.
    argmax_proba: bool,
}

impl HistGradientBoosting {
    /// `_predictors[iteration][k]`.
    pub fn predictors(&self) -> &[Vec<HistTree>] {
        &self.predictors
    }

    /// `_baseline_prediction`, one per tree of an iteration.
    pub fn baseline(&self) -> &[f64] {
        &self.baseline
    }

    /// How raw predictions become probabilities or values.
    pub fn link(&self) -> Link {
        self.link
    }

    /// A classifier's `classes_`.
    pub fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }
}

impl HistGradientBoosting {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<HistGradientBoosting> {
        let common = e.common()?;
        let nf = common.n_features;
        let classifier = e.name.ends_with("Classifier");
        let classes = if classifier {
            Some(Classes::from_value(e.get("classes_")?, e.name)?)
        } else {
            None
        };
        let k = e.usize("n_trees_per_iteration_")?;
        let loss = e.str("loss")?;
        let link = match (classifier, loss) {
            (true, "log_loss") if k == 1 => Link::Logit,
            (true, "log_loss") => Link::Multinomial,
            (false, "squared_error" | "absolute_error" | "quantile") => Link::Identity,
            (false, "poisson" | "gamma") => Link::Log,
            _ => return Err(unsupported(format!("{}: loss={loss:?}", e.name))),
        };
        if let Some(c) = &classes {
            let want = if c.len() <= 2 { 1 } else { c.len() };
            if c.len() < 2 || want != k {
                return Err(data(format!(
                    "{}: {} trees per iteration for {} classes",
                    e.name,
                    k,
                    c.len()
                )));
            }
        } else if k != 1 {
            return Err(data(format!("{}: {k} trees per iteration", e.name)));
        }
        let (baseline, _) = e.array("_baseline_prediction")?;
        if baseline.len() != k {
            return Err(data(format!(
                "{}: _baseline_prediction of {} for {k} trees",
                e.name,
                baseline.len()
            )));
        }
        let preprocessor = match e.opt("_preprocessor") {
            Some(p) => Some(Preprocessor::from_value(p, nf, e.name)?),
            None => None,
        };
        let n_internal = preprocessor.as_ref().map_or(nf, |p| p.columns.len());
        // The bin mapper's categorical features and their known categories.
        let bm = Est::new(e.get("_bin_mapper")?)?;
        let mut known: Vec<Option<[u32; 8]>> = vec![None; n_internal];
        if let Some(isc) = bm.opt("is_categorical_") {
            let (flags, _) = super::array_f64(isc, "_bin_mapper.is_categorical_")?;
            if flags.len() != n_internal {
                return Err(data(format!(
                    "{}: is_categorical_ of {} for {n_internal} features",
                    e.name,
                    flags.len()
                )));
            }
            let thresholds: Vec<ValueRef<'_>> = bm.get("bin_thresholds_")?.iter().collect();
            for (f, &flag) in flags.iter().enumerate() {
                if flag == 0.0 {
                    continue;
                }
                let t = thresholds.get(f).ok_or_else(|| {
                    data(format!("{}: no bin_thresholds_ for feature {f}", e.name))
                })?;
                let (cats, _) = super::array_f64(*t, "bin_thresholds_")?;
                let mut b = [0u32; 8];
                for c in cats {
                    if !(0.0..256.0).contains(&c) {
                        return Err(data(format!(
                            "{}: known category {c} out of [0, 256)",
                            e.name
                        )));
                    }
                    let c = c as u8;
                    b[usize::from(c / 32)] |= 1 << (c % 32);
                }
                known[f] = Some(b);
            }
        }
        let categorical: Vec<bool> = known.iter().map(Option::is_some).collect();
        let mut predictors = Vec::new();
        for it in e.get("_predictors")?.iter() {
            let trees: Vec<HistTree> = it
                .iter()
                .map(|p| HistTree::from_value(p, n_internal, &categorical, e.name))
                .collect::<Result<_>>()?;
            if trees.len() != k {
                return Err(data(format!(
                    "{}: an iteration of {} predictors for {k}",
                    e.name,
                    trees.len()
                )));
            }
            predictors.push(trees);
        }
        Ok(HistGradientBoosting {
            argmax_proba: common.version.pair() < (1, 4),
            common,
            predictors,
            baseline,
            link,
            classes,
            known,
            preprocessor,
        })
    }

    /// Which input features are ordinal-encoded from string categories.
    pub(crate) fn text_features(&self) -> Vec<bool> {
        let mut out = vec![false; self.common.n_features];
        if let Some(p) = &self.preprocessor {
            for c in &p.columns {
                if let Column::Ordinal {
                    input,
                    encoder,
                    feature,
                } = *c
                {
                    let text = p.encoders[encoder]
                        .categories
                        .per_feature
                        .get(feature)
                        .is_some_and(|c| c.is_text());
                    if let Some(o) = out.get_mut(input) {
                        *o = text;
                    }
                }
            }
        }
        out
    }

    /// Raw predictions (`decision_function`), `n_rows × n_trees_per_iteration`.
    pub(crate) fn raw_predict(&self, x: &Input<'_>) -> Result<Matrix> {
        let nf = self.common.n_features;
        let n_rows = x.n_rows();
        let k = self.baseline.len();
        let mut out = Vec::with_capacity(n_rows * k);
        let mut buf = Vec::new();
        let numeric = match self.preprocessor {
            Some(_) => None,
            None => Some(x.numeric(&self.common.name)?),
        };
        for i in 0..n_rows {
            let row: &[f64] = match (&self.preprocessor, &numeric) {
                (Some(p), _) => {
                    p.transform(x, i, &mut buf, &self.common.name)?;
                    &buf
                }
                (None, Some(x)) => &x[i * nf..(i + 1) * nf],
                (None, None) => &[],
            };
            for (f, kn) in self.known.iter().enumerate() {
                let v = row.get(f).copied().unwrap_or(f64::NAN);
                if kn.is_some() && v >= 256.0 {
                    return Err(unsupported(format!(
                        "{}: categorical value {v} of feature {f} is not below 256 (scikit-learn's cast is undefined there)",
                        self.common.name
                    )));
                }
            }
            let mut raw = self.baseline.clone();
            for it in &self.predictors {
                for (r, t) in raw.iter_mut().zip(it) {
                    *r += t.predict(row, &self.known);
                }
            }
            out.extend_from_slice(&raw);
        }
        Ok(Matrix {
            n_rows,
            n_cols: k,
            data: out,
        })
    }

    pub(crate) fn predict_proba(&self, x: &Input<'_>) -> Result<Matrix> {
        Ok(self.link.predict_proba(&self.raw_predict(x)?))
    }

    pub(crate) fn predict(&self, x: &Input<'_>) -> Result<Predictions> {
        let n_rows = x.n_rows();
        let raw = self.raw_predict(x)?;
        Ok(match &self.classes {
            Some(c) => {
                let idx: Vec<usize> = if self.argmax_proba {
                    let p = self.link.predict_proba(&raw);
                    p.data.chunks_exact(p.n_cols).map(argmax).collect()
                } else if raw.n_cols == 1 {
                    raw.data.iter().map(|&r| usize::from(r > 0.0)).collect()
                } else {
                    raw.data.chunks_exact(raw.n_cols).map(argmax).collect()
                };
                Predictions::Labels(labels_of(std::slice::from_ref(c), &idx, n_rows))
            }
            None => {
                let data = raw.data.iter().map(|&r| self.link.inverse(r)).collect();
                Predictions::Values(Matrix {
                    n_rows,
                    n_cols: 1,
                    data,
                })
            }
        })
    }
}
