//! `RandomForest*` and `ExtraTrees*`: the mean of their trees.

use super::tree::{labels_from_proba, read_classes, to_matrices, DecisionTree, LabelCast};
use super::{data, Classes, Common, Est, Matrix, Predictions};
use crate::error::Result;

/// A fitted `RandomForestClassifier`, `RandomForestRegressor`,
/// `ExtraTreesClassifier` or `ExtraTreesRegressor`.
#[derive(Clone, Debug)]
pub struct Forest {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `estimators_`, in order.
    pub(crate) trees: Vec<DecisionTree>,
    /// A classifier's classes per output (empty for a regressor).
    pub(crate) classes: Vec<Classes>,
    /// `n_outputs_`.
    pub(crate) n_outputs: usize,
    /// How multi-output labels take the first output's dtype.
    pub(crate) cast: LabelCast,
}

impl Forest {
    /// `estimators_`, in order.
    pub fn trees(&self) -> &[DecisionTree] {
        &self.trees
    }

    /// A classifier's classes per output (empty for a regressor).
    pub fn classes(&self) -> &[Classes] {
        &self.classes
    }

    /// `n_outputs_`.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }
}

impl Forest {
    /// Whether scikit-learn accepts NaN in the input: never before 1.4,
    /// then as its first tree does.
    pub fn allow_nan(&self) -> bool {
        self.common.version.pair() >= (1, 4) && self.trees.first().is_some_and(|t| t.allow_nan)
    }
}

impl Forest {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<Forest> {
        let common = e.common()?;
        let n_outputs = e.usize("n_outputs_")?;
        let classifier = e.name.ends_with("Classifier");
        let mut trees = Vec::new();
        for t in e.get("estimators_")?.iter() {
            let te = Est::new(t)?;
            let want = if classifier {
                ["DecisionTreeClassifier", "ExtraTreeClassifier"]
            } else {
                ["DecisionTreeRegressor", "ExtraTreeRegressor"]
            };
            if !want.contains(&te.name) {
                return Err(data(format!("{}: estimators_ holds a {}", e.name, te.name)));
            }
            let tree = DecisionTree::from_est(&te)?;
            if tree.common.n_features != common.n_features || tree.tree.n_outputs != n_outputs {
                return Err(data(format!(
                    "{}: a tree of {} features and {} outputs in a forest of {} and {n_outputs}",
                    e.name, tree.common.n_features, tree.tree.n_outputs, common.n_features
                )));
            }
            trees.push(tree);
        }
        if trees.is_empty() {
            return Err(data(format!("{}: no estimators_", e.name)));
        }
        let mut label_cast = LabelCast::None;
        let classes = if classifier {
            let max = trees
                .iter()
                .map(|t| t.tree.max_n_classes)
                .min()
                .unwrap_or(0);
            let (c, cast) = read_classes(e, n_outputs, max)?;
            for t in &trees {
                if t.classes
                    .iter()
                    .map(Classes::len)
                    .ne(c.iter().map(Classes::len))
                {
                    return Err(data(format!(
                        "{}: a tree's classes differ from the forest's",
                        e.name
                    )));
                }
            }
            label_cast = cast;
            c
        } else {
            Vec::new()
        };
        Ok(Forest {
            common,
            trees,
            classes,
            n_outputs,
            cast: label_cast,
        })
    }

    /// Whether this is a classifier.
    pub fn is_classifier(&self) -> bool {
        !self.classes.is_empty()
    }

    /// `predict_proba`: the trees' probabilities summed in order, then divided by their number.
    pub(crate) fn predict_proba(&self, x: &[f64], n_rows: usize) -> Vec<Matrix> {
        let nf = self.common.n_features;
        let mut out: Vec<Vec<f64>> = self
            .classes
            .iter()
            .map(|c| vec![0.0; n_rows * c.len()])
            .collect();
        for t in &self.trees {
            for i in 0..n_rows {
                t.add_proba(&x[i * nf..(i + 1) * nf], &mut out, i);
            }
        }
        let n = self.trees.len() as f64;
        for o in &mut out {
            for p in o.iter_mut() {
                *p /= n;
            }
        }
        to_matrices(out, &self.classes, n_rows)
    }

    /// `predict`.
    pub(crate) fn predict(&self, x: &[f64], n_rows: usize) -> Predictions {
        if self.is_classifier() {
            let p = self.predict_proba(x, n_rows);
            return Predictions::Labels(self.cast.apply(labels_from_proba(
                &p,
                &self.classes,
                n_rows,
            )));
        }
        let nf = self.common.n_features;
        let mut y = vec![0.0; n_rows * self.n_outputs];
        for t in &self.trees {
            for i in 0..n_rows {
                let v = t.tree.leaf_values(t.tree.apply(&x[i * nf..(i + 1) * nf]));
                for (o, &val) in y[i * self.n_outputs..(i + 1) * self.n_outputs]
                    .iter_mut()
                    .zip(v)
                {
                    *o += val;
                }
            }
        }
        let n = self.trees.len() as f64;
        for v in &mut y {
            *v /= n;
        }
        Predictions::Values(Matrix {
            n_rows,
            n_cols: self.n_outputs,
            data: y,
        })
    }
}
