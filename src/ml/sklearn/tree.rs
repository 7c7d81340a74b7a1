//! `sklearn.tree`: the fitted `Tree` (nodes and values) and the
//! `DecisionTree*` / `ExtraTree*` estimators around it.

use super::{
    argmax, data, labels_of, np_sum, unsupported, Classes, Common, Est, Label, Labels, Matrix,
    Predictions,
};
use crate::error::Result;
use crate::ml::numpy::NdArray;
use crate::value::ValueRef;

/// scikit-learn's `TREE_LEAF`.
const LEAF: f64 = -1.0;

/// One node of a [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    /// The left child (`usize::MAX` for a leaf).
    pub(crate) left: usize,
    /// The right child.
    pub(crate) right: usize,
    /// The feature compared.
    pub(crate) feature: usize,
    /// Rows with `x <= threshold` go left.
    pub(crate) threshold: f64,
    /// Where a missing value (NaN) goes.
    pub(crate) missing_go_to_left: bool,
}

impl Node {
    /// The left child (`usize::MAX` for a leaf).
    pub fn left(&self) -> usize {
        self.left
    }

    /// The right child.
    pub fn right(&self) -> usize {
        self.right
    }

    /// The feature compared.
    pub fn feature(&self) -> usize {
        self.feature
    }

    /// Rows with `x <= threshold` go left.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Where a missing value (NaN) goes.
    pub fn missing_go_to_left(&self) -> bool {
        self.missing_go_to_left
    }
}

impl Node {
    /// Whether the node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.left == usize::MAX
    }
}

/// A fitted `sklearn.tree._tree.Tree`: every child index follows its
/// parent's (checked on load), so each walk ends within the node count.
#[derive(Clone, Debug)]
pub struct Tree {
    /// The nodes.
    pub(crate) nodes: Vec<Node>,
    /// `n_outputs`.
    pub(crate) n_outputs: usize,
    /// `max(n_classes)` (1 for regression).
    pub(crate) max_n_classes: usize,
    /// `value[node, output, class]`, flattened.
    pub(crate) values: Vec<f64>,
}

impl Tree {
    /// The nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// `n_outputs`.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// `max(n_classes)` (1 for regression).
    pub fn max_n_classes(&self) -> usize {
        self.max_n_classes
    }

    /// `value[node, output, class]`, flattened.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

impl Tree {
    /// Read a pickled `Tree` of an estimator with `n_features` inputs.
    pub(crate) fn from_value(v: ValueRef<'_>, n_features: usize, what: &str) -> Result<Tree> {
        match v.class() {
            Some(("sklearn.tree._tree", "Tree")) => {}
            other => return Err(data(format!("{what}: tree_ is {other:?}, not a Tree"))),
        }
        let state = v
            .state()
            .ok_or_else(|| data(format!("{what}: tree_ without a state")))?;
        let nodes_v = state
            .get("nodes")
            .ok_or_else(|| data(format!("{what}: tree_ without nodes")))?;
        let nodes = NdArray::from_value(nodes_v).map_err(|e| data(format!("{what}.nodes: {e}")))?;
        let n = nodes.len();
        if nodes.ndim() != 1 {
            return Err(data(format!("{what}: nodes of shape {:?}", nodes.shape)));
        }
        if let Some(count) = state.get("node_count").and_then(super::number) {
            if count != n as f64 {
                return Err(data(format!("{what}: node_count {count} but {n} nodes")));
            }
        }
        if n == 0 {
            return Err(data(format!("{what}: a tree without nodes")));
        }
        let field = |name: &str| -> Result<Vec<f64>> {
            nodes
                .field(name)
                .and_then(|f| f.to_f64_vec())
                .map_err(|e| data(format!("{what}.nodes[{name:?}]: {e}")))
        };
        let left = field("left_child")?;
        let right = field("right_child")?;
        let feature = field("feature")?;
        let threshold = field("threshold")?;
        let missing = if nodes
            .fields()
            .iter()
            .any(|f| f.name == "missing_go_to_left")
        {
            field("missing_go_to_left")?
        } else {
            return Err(unsupported(format!(
                "{what}: nodes without missing_go_to_left (scikit-learn < 1.3)"
            )));
        };
        let values_v = state
            .get("values")
            .ok_or_else(|| data(format!("{what}: tree_ without values")))?;
        let values =
            NdArray::from_value(values_v).map_err(|e| data(format!("{what}.values: {e}")))?;
        if values.ndim() != 3
            || values.shape[0] != n
            || values.shape[1] == 0
            || values.shape[2] == 0
        {
            return Err(data(format!(
                "{what}: values of shape {:?} for {n} nodes",
                values.shape
            )));
        }
        let (n_outputs, max_n_classes) = (values.shape[1], values.shape[2]);
        let values = values
            .to_f64_vec()
            .map_err(|e| data(format!("{what}.values: {e}")))?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let child = |c: f64, side: &str| -> Result<usize> {
                if c.fract() == 0.0 && c > i as f64 && c < n as f64 {
                    Ok(c as usize)
                } else {
                    Err(data(format!(
                        "{what}: node {i}'s {side} child {c} is not a later node of {n}"
                    )))
                }
            };
            let node = if left[i] == LEAF {
                Node {
                    left: usize::MAX,
                    right: usize::MAX,
                    feature: 0,
                    threshold: 0.0,
                    missing_go_to_left: false,
                }
            } else {
                let f = feature[i];
                if !(f >= 0.0 && f < n_features as f64 && f.fract() == 0.0) {
                    return Err(data(format!(
                        "{what}: node {i} splits on feature {f} of {n_features}"
                    )));
                }
                Node {
                    left: child(left[i], "left")?,
                    right: child(right[i], "right")?,
                    feature: f as usize,
                    threshold: threshold[i],
                    missing_go_to_left: missing[i] != 0.0,
                }
            };
            out.push(node);
        }
        Ok(Tree {
            nodes: out,
            n_outputs,
            max_n_classes,
            values,
        })
    }

    /// The leaf `row` lands in, as `DecisionTree*.apply` finds it: the
    /// feature cast to float32, NaN sent by `missing_go_to_left`.
    pub fn apply(&self, row: &[f64]) -> usize {
        let mut i = 0;
        for _ in 0..=self.nodes.len() {
            let Some(n) = self.nodes.get(i) else { break };
            if n.is_leaf() {
                return i;
            }
            let x = row.get(n.feature).copied().unwrap_or(f64::NAN) as f32;
            i = if x.is_nan() {
                if n.missing_go_to_left {
                    n.left
                } else {
                    n.right
                }
            } else if f64::from(x) <= n.threshold {
                n.left
            } else {
                n.right
            };
        }
        0
    }

    /// The leaf as gradient boosting's `predict_stages` finds it: float32
    /// features, `x <= threshold` (so NaN goes right).
    pub fn apply_boosting(&self, row: &[f64]) -> usize {
        let mut i = 0;
        for _ in 0..=self.nodes.len() {
            let Some(n) = self.nodes.get(i) else { break };
            if n.is_leaf() {
                return i;
            }
            let x = row.get(n.feature).copied().unwrap_or(f64::NAN) as f32;
            i = if f64::from(x) <= n.threshold {
                n.left
            } else {
                n.right
            };
        }
        0
    }

    /// `value[leaf]`: `n_outputs × max_n_classes` values.
    pub fn leaf_values(&self, leaf: usize) -> &[f64] {
        let per = self.n_outputs * self.max_n_classes;
        self.values.get(leaf * per..(leaf + 1) * per).unwrap_or(&[])
    }
}

/// A fitted `DecisionTreeClassifier`, `DecisionTreeRegressor`,
/// `ExtraTreeClassifier` or `ExtraTreeRegressor`.
#[derive(Clone, Debug)]
pub struct DecisionTree {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// The tree.
    pub(crate) tree: Tree,
    /// A classifier's classes per output (empty for a regressor).
    pub(crate) classes: Vec<Classes>,
    /// Whether `predict_proba` divides each leaf's values by their sum
    /// (scikit-learn < 1.4 stores weighted counts; later releases store
    /// fractions and return them as they are).
    pub(crate) normalize: bool,
    /// Whether scikit-learn accepts missing values (NaN) in this tree's
    /// input (it refuses them otherwise, and so does [`Model::predict`](super::Model::predict)).
    pub(crate) allow_nan: bool,
    /// How multi-output labels take the first output's dtype.
    pub(crate) cast: LabelCast,
}

impl DecisionTree {
    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// A classifier's classes per output (empty for a regressor).
    pub fn classes(&self) -> &[Classes] {
        &self.classes
    }

    /// Whether `predict_proba` divides each leaf's values by their sum
    /// (scikit-learn < 1.4 stores weighted counts; later releases store
    /// fractions and return them as they are).
    pub fn normalize(&self) -> bool {
        self.normalize
    }

    /// Whether scikit-learn accepts missing values (NaN) in this tree's
    /// input (it refuses them otherwise, and so does [`Model::predict`](super::Model::predict)).
    pub fn allow_nan(&self) -> bool {
        self.allow_nan
    }
}

/// Whether a tree estimator's `_support_missing_values` holds, as
/// scikit-learn `version` decides it (read in the source of 1.3, 1.5, 1.6,
/// 1.7, 1.8 and 1.9):
///
/// * up to 1.5: `splitter='best'` and a criterion of gini, log_loss,
///   entropy, squared_error, friedman_mse or poisson (and, from 1.4, no
///   `monotonic_cst`);
/// * 1.6 to 1.8: the same criteria and no `monotonic_cst`, with `best` or
///   `random` splitters for `DecisionTree*`, `random` only for `ExtraTree*`;
/// * from 1.9: every `DecisionTree*`, and `ExtraTree*` with `splitter='random'`.
pub(crate) fn tree_allows_nan(e: &Est<'_>, version: (u32, u32)) -> bool {
    let splitter = e.opt_str("splitter").unwrap_or("best");
    let criterion = e.opt_str("criterion").unwrap_or("");
    let extra = e.name.starts_with("ExtraTree");
    let criterion_ok = matches!(
        criterion,
        "gini" | "log_loss" | "entropy" | "squared_error" | "friedman_mse" | "poisson"
    );
    let monotonic = e.opt("monotonic_cst").is_some();
    if version <= (1, 5) {
        splitter == "best" && criterion_ok && (version < (1, 4) || !monotonic)
    } else if version <= (1, 8) {
        let splitter_ok = if extra {
            splitter == "random"
        } else {
            matches!(splitter, "best" | "random")
        };
        splitter_ok && criterion_ok && !monotonic
    } else if extra {
        splitter == "random"
    } else {
        true
    }
}

impl DecisionTree {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<DecisionTree> {
        let common = e.common()?;
        let tree = Tree::from_value(e.get("tree_")?, common.n_features, e.name)?;
        let n_outputs = e.usize("n_outputs_")?;
        if n_outputs != tree.n_outputs {
            return Err(data(format!(
                "{}: n_outputs_ {n_outputs} but tree values for {}",
                e.name, tree.n_outputs
            )));
        }
        let classifier = e.name.ends_with("Classifier");
        let (classes, cast) = if classifier {
            read_classes(e, n_outputs, tree.max_n_classes)?
        } else {
            if tree.max_n_classes != 1 {
                return Err(data(format!(
                    "{}: regression values of width {}",
                    e.name, tree.max_n_classes
                )));
            }
            (Vec::new(), LabelCast::None)
        };
        Ok(DecisionTree {
            cast,
            normalize: common.version.pair() < (1, 4),
            allow_nan: tree_allows_nan(e, common.version.pair()),
            common,
            tree,
            classes,
        })
    }

    /// Whether this is a classifier.
    pub fn is_classifier(&self) -> bool {
        !self.classes.is_empty()
    }

    /// This tree's `predict_proba` for one row, added onto `out` (one slice per output).
    pub(crate) fn add_proba(&self, row: &[f64], out: &mut [Vec<f64>], at: usize) {
        let v = self.tree.leaf_values(self.tree.apply(row));
        for (k, (c, o)) in self.classes.iter().zip(out.iter_mut()).enumerate() {
            let n = c.len();
            let vals = &v[k * self.tree.max_n_classes..k * self.tree.max_n_classes + n];
            let norm = if self.normalize {
                let s = np_sum(vals);
                if s == 0.0 {
                    1.0
                } else {
                    s
                }
            } else {
                1.0
            };
            for (j, &x) in vals.iter().enumerate() {
                let p = if self.normalize { x / norm } else { x };
                o[at * n + j] += p;
            }
        }
    }

    /// `predict_proba`: one `n_rows × n_classes` matrix per output.
    pub(crate) fn predict_proba(&self, x: &[f64], n_rows: usize) -> Vec<Matrix> {
        let nf = self.common.n_features;
        let mut out: Vec<Vec<f64>> = self
            .classes
            .iter()
            .map(|c| vec![0.0; n_rows * c.len()])
            .collect();
        for i in 0..n_rows {
            self.add_proba(&x[i * nf..(i + 1) * nf], &mut out, i);
        }
        to_matrices(out, &self.classes, n_rows)
    }

    /// `predict`.
    pub(crate) fn predict(&self, x: &[f64], n_rows: usize) -> Predictions {
        let nf = self.common.n_features;
        let t = &self.tree;
        if self.is_classifier() {
            let mut idx = Vec::with_capacity(n_rows * t.n_outputs);
            for i in 0..n_rows {
                let v = t.leaf_values(t.apply(&x[i * nf..(i + 1) * nf]));
                for (k, c) in self.classes.iter().enumerate() {
                    let base = k * t.max_n_classes;
                    idx.push(argmax(&v[base..base + c.len()]));
                }
            }
            Predictions::Labels(self.cast.apply(labels_of(&self.classes, &idx, n_rows)))
        } else {
            let mut data = Vec::with_capacity(n_rows * t.n_outputs);
            for i in 0..n_rows {
                data.extend_from_slice(t.leaf_values(t.apply(&x[i * nf..(i + 1) * nf])));
            }
            Predictions::Values(Matrix {
                n_rows,
                n_cols: t.n_outputs,
                data,
            })
        }
    }
}

pub(crate) fn to_matrices(out: Vec<Vec<f64>>, classes: &[Classes], n_rows: usize) -> Vec<Matrix> {
    out.into_iter()
        .zip(classes)
        .map(|(data, c)| Matrix {
            n_rows,
            n_cols: c.len(),
            data,
        })
        .collect()
}

/// How a multi-output classifier's labels come out: scikit-learn fills
/// an array of the first output's `classes_` dtype with every output's
/// labels, so later outputs take that dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelCast {
    /// Labels as they are (one output, the same kinds, or an object array first).
    None,
    /// The first output is a `<U{n}` array: longer strings are cut to `n` characters.
    Chars(usize),
    /// The first output is float: int labels become floats.
    ToFloat,
}

impl LabelCast {
    pub(crate) fn apply(self, mut labels: Labels) -> Labels {
        if self == LabelCast::None {
            return labels;
        }
        for l in &mut labels.labels {
            match (self, &mut *l) {
                (LabelCast::Chars(n), Label::Str(s)) => {
                    if let Some((at, _)) = s.char_indices().nth(n) {
                        s.truncate(at);
                    }
                }
                (LabelCast::ToFloat, Label::Int(i)) => *l = Label::Float(*i as f64),
                _ => {}
            }
        }
        labels
    }
}

/// `classes_` of a classifier with `n_outputs` outputs (a list of arrays
/// when multi-output), each at most `max_n_classes` long, and how its
/// labels are cast.
pub(crate) fn read_classes(
    e: &Est<'_>,
    n_outputs: usize,
    max_n_classes: usize,
) -> Result<(Vec<Classes>, LabelCast)> {
    let v = e.get("classes_")?;
    let mut cast = LabelCast::None;
    let classes = if n_outputs == 1 {
        vec![Classes::from_value(v, e.name)?]
    } else {
        let list: Vec<ValueRef<'_>> = v.iter().collect();
        if list.len() != n_outputs {
            return Err(data(format!(
                "{}: {} classes_ arrays for {n_outputs} outputs",
                e.name,
                list.len()
            )));
        }
        let classes = list
            .iter()
            .map(|c| Classes::from_value(*c, e.name))
            .collect::<Result<Vec<_>>>()?;
        let first = NdArray::from_value(list[0])?;
        for (k, c) in classes.iter().enumerate().skip(1) {
            let same = std::mem::discriminant(c) == std::mem::discriminant(&classes[0]);
            match (&classes[0], c) {
                _ if first.dtype.kind == 'O' => {}
                (Classes::Float(_), Classes::Int(_)) => cast = LabelCast::ToFloat,
                _ if same => {}
                _ => {
                    return Err(unsupported(format!(
                        "{}: output {k}'s classes_ are not of output 0's kind \
                         (scikit-learn casts them to dtype {})",
                        e.name,
                        first.dtype.str()
                    )))
                }
            }
        }
        if first.dtype.kind == 'U' {
            cast = LabelCast::Chars(first.dtype.itemsize / 4);
        }
        classes
    };
    for c in &classes {
        if c.is_empty() || c.len() > max_n_classes {
            return Err(data(format!(
                "{}: {} classes for values of width {max_n_classes}",
                e.name,
                c.len()
            )));
        }
    }
    Ok((classes, cast))
}

pub(crate) fn labels_from_proba(probas: &[Matrix], classes: &[Classes], n_rows: usize) -> Labels {
    let mut idx = Vec::with_capacity(n_rows * probas.len());
    for i in 0..n_rows {
        for p in probas {
            idx.push(p.row(i).map_or(0, argmax));
        }
    }
    labels_of(classes, &idx, n_rows)
}
