//! `GradientBoostingClassifier` / `Regressor`: an initial raw prediction
//! (`init_`) plus `learning_rate` times each stage's regression trees.

use super::tree::Tree;
use super::{
    argmax, data, labels_of, logit, np_sum, unsupported, Classes, Common, Est, Link, Matrix,
    Predictions,
};
use crate::error::Result;
use crate::ml::numpy::NdArray;

/// What a gradient boosting model starts from (`init_`).
#[derive(Clone, Debug, PartialEq)]
pub enum InitEstimator {
    /// `init='zero'`: raw predictions start at 0.
    Zero,
    /// A `DummyClassifier` (`prior`, `most_frequent`, `uniform`, `constant`)
    /// or `DummyRegressor`: a constant raw prediction per tree of a stage.
    Constant(Vec<f64>),
}

/// A fitted `GradientBoostingClassifier` or `GradientBoostingRegressor`.
#[derive(Clone, Debug)]
pub struct GradientBoosting {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// `estimators_`: `stages[i][k]`, one regression tree per class (one for
    /// binary classification and regression).
    pub(crate) stages: Vec<Vec<Tree>>,
    /// `learning_rate`.
    pub(crate) learning_rate: f64,
    /// The initial raw prediction.
    pub(crate) init: InitEstimator,
    /// How raw predictions become probabilities or values.
    pub(crate) link: Link,
    /// A classifier's `classes_`.
    pub(crate) classes: Option<Classes>,
    /// Trees per stage.
    pub(crate) k: usize,
    /// scikit-learn < 1.4's own losses (`sklearn.ensemble._gb_losses`):
    /// multiclass starts from `log(prior)` and uses `exp(raw - logsumexp)`,
    /// binary predicts the argmax of the probabilities.
    pub(crate) legacy_losses: bool,
}

impl GradientBoosting {
    /// `estimators_`: `stages[i][k]`, one regression tree per class (one for
    /// binary classification and regression).
    pub fn stages(&self) -> &[Vec<Tree>] {
        &self.stages
    }

    /// `learning_rate`.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// The initial raw prediction.
    pub fn init(&self) -> &InitEstimator {
        &self.init
    }

    /// How raw predictions become probabilities or values.
    pub fn link(&self) -> Link {
        self.link
    }

    /// A classifier's `classes_`.
    pub fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }

    /// Trees per stage.
    pub fn k(&self) -> usize {
        self.k
    }

    /// scikit-learn < 1.4's own losses (`sklearn.ensemble._gb_losses`):
    /// multiclass starts from `log(prior)` and uses `exp(raw - logsumexp)`,
    /// binary predicts the argmax of the probabilities.
    pub fn legacy_losses(&self) -> bool {
        self.legacy_losses
    }
}

impl GradientBoosting {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<GradientBoosting> {
        let common = e.common()?;
        let classifier = e.name.ends_with("Classifier");
        let classes = if classifier {
            Some(Classes::from_value(e.get("classes_")?, e.name)?)
        } else {
            None
        };
        let n_classes = classes.as_ref().map_or(1, Classes::len);
        let k = if n_classes <= 2 { 1 } else { n_classes };
        let loss = e.str("loss")?;
        let link = match (classifier, loss) {
            (true, "log_loss") if k == 1 => Link::Logit,
            (true, "log_loss") => Link::Multinomial,
            (true, "exponential") if k == 1 => Link::HalfLogit,
            (false, "squared_error" | "absolute_error" | "huber" | "quantile") => Link::Identity,
            _ => return Err(unsupported(format!("{}: loss={loss:?}", e.name))),
        };
        if classifier && n_classes < 2 {
            return Err(data(format!("{}: {n_classes} classes", e.name)));
        }
        let est = NdArray::from_value(e.get("estimators_")?)
            .map_err(|err| data(format!("{}.estimators_: {err}", e.name)))?;
        if est.ndim() != 2 || est.shape[1] != k || est.shape[0] == 0 {
            return Err(data(format!(
                "{}: estimators_ of shape {:?} for {k} trees per stage",
                e.name, est.shape
            )));
        }
        let (doc, items) = est
            .objects()
            .ok_or_else(|| data(format!("{}: estimators_ is not an object array", e.name)))?;
        let mut stages = Vec::with_capacity(est.shape[0]);

        for chunk in items.chunks_exact(k) {
            let mut stage = Vec::with_capacity(k);
            for &t in chunk {
                let te = Est::new(doc.root().at(t))?;
                if te.name != "DecisionTreeRegressor" {
                    return Err(data(format!("{}: estimators_ holds a {}", e.name, te.name)));
                }
                let tree = Tree::from_value(te.get("tree_")?, common.n_features, te.name)?;
                if tree.n_outputs != 1 || tree.max_n_classes != 1 {
                    return Err(data(format!(
                        "{}: a stage tree with {} outputs",
                        e.name, tree.n_outputs
                    )));
                }
                stage.push(tree);
            }
            stages.push(stage);
        }
        let legacy_losses = e
            .opt("_loss")
            .and_then(|l| l.class())
            .is_some_and(|(m, _)| m.starts_with("sklearn.ensemble._gb_losses"));
        // float32's eps up to 1.7, float64's from 1.8.
        let eps = if common.version.pair() < (1, 8) {
            f64::from(f32::EPSILON)
        } else {
            f64::EPSILON
        };
        let init = Self::read_init(e, classifier, n_classes, k, link, legacy_losses, eps)?;
        Ok(GradientBoosting {
            learning_rate: e.f64("learning_rate")?,
            common,
            stages,
            init,
            link,
            classes,
            k,
            legacy_losses,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn read_init(
        e: &Est<'_>,
        classifier: bool,
        n_classes: usize,
        k: usize,
        link: Link,
        legacy: bool,
        eps: f64,
    ) -> Result<InitEstimator> {
        let v = e.get("init_")?;
        if v.as_str() == Some("zero") {
            return Ok(InitEstimator::Zero);
        }
        let d = Est::new(v)?;
        let strategy = d
            .opt_str("_strategy")
            .or_else(|| d.opt_str("strategy"))
            .unwrap_or("");
        match (classifier, d.name) {
            (true, "DummyClassifier") => {
                let prior = d.array("class_prior_")?.0;
                if prior.len() != n_classes {
                    return Err(data(format!(
                        "{}: class_prior_ of {} for {n_classes} classes",
                        d.name,
                        prior.len()
                    )));
                }
                let one_hot = |i: usize| {
                    (0..n_classes)
                        .map(|j| f64::from(u8::from(i == j)))
                        .collect()
                };
                let proba: Vec<f64> = match strategy {
                    "prior" => prior,
                    "most_frequent" => one_hot(argmax(&prior)),
                    "uniform" => vec![1.0 / n_classes as f64; n_classes],
                    other => {
                        return Err(unsupported(format!(
                            "{}: init_ DummyClassifier(strategy={other:?})",
                            e.name
                        )))
                    }
                };
                let clip = |p: f64| p.clamp(eps, 1.0 - eps);
                let raw = if k == 1 {
                    let p = clip(proba[1]);
                    let l = if legacy {
                        (p / (1.0 - p)).ln()
                    } else {
                        logit(p)
                    };
                    vec![match link {
                        Link::HalfLogit => 0.5 * l,
                        _ => l,
                    }]
                } else if legacy {
                    proba.into_iter().map(|p| clip(p).ln()).collect()
                } else {
                    let p: Vec<f64> = proba.into_iter().map(clip).collect();
                    let logs: Vec<f64> = p.iter().map(|x| x.ln()).collect();
                    let gm = (np_sum(&logs) / k as f64).exp();
                    p.iter().map(|x| (x / gm).ln()).collect()
                };
                Ok(InitEstimator::Constant(raw))
            }
            (false, "DummyRegressor") => {
                let (c, _) = d.array("constant_")?;
                if c.len() != 1 {
                    return Err(data(format!("{}: constant_ of {} values", d.name, c.len())));
                }
                Ok(InitEstimator::Constant(c))
            }
            (_, other) => Err(unsupported(format!(
                "{}: init_ is a {other}; only 'zero' and the default Dummy estimator are supported",
                e.name
            ))),
        }
    }

    /// The raw predictions (`decision_function` for a classifier), `n_rows × k`.
    pub(crate) fn raw_predict(&self, x: &[f64], n_rows: usize) -> Matrix {
        let nf = self.common.n_features;
        let k = self.k;
        let mut out = Vec::with_capacity(n_rows * k);
        for i in 0..n_rows {
            let row = &x[i * nf..(i + 1) * nf];
            let mut raw = match &self.init {
                InitEstimator::Zero => vec![0.0; k],
                InitEstimator::Constant(c) => c.clone(),
            };
            for stage in &self.stages {
                for (r, t) in raw.iter_mut().zip(stage) {
                    let v = t.leaf_values(t.apply_boosting(row));
                    *r += self.learning_rate * v.first().copied().unwrap_or(0.0);
                }
            }
            out.extend_from_slice(&raw);
        }
        Matrix {
            n_rows,
            n_cols: k,
            data: out,
        }
    }

    pub(crate) fn predict_proba(&self, x: &[f64], n_rows: usize) -> Matrix {
        let raw = self.raw_predict(x, n_rows);
        if self.legacy_losses && self.link == Link::Multinomial {
            let mut m = raw;
            for row in m.data.chunks_exact_mut(m.n_cols.max(1)) {
                // scipy's logsumexp: max + log(sum(exp(x - max))).
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|x| (x - max).exp()).collect();
                let lse = np_sum(&e).ln() + max;
                for x in row.iter_mut() {
                    let p = (*x - lse).exp();
                    *x = if p.is_nan() { 0.0 } else { p };
                }
            }
            return m;
        }
        self.link.predict_proba(&raw)
    }

    pub(crate) fn predict(&self, x: &[f64], n_rows: usize) -> Predictions {
        let raw = self.raw_predict(x, n_rows);
        match &self.classes {
            Some(c) => {
                let idx: Vec<usize> =
                    if raw.n_cols == 1 && self.legacy_losses && self.link == Link::Logit {
                        raw.data
                            .iter()
                            .map(|&r| {
                                let p = self.link.inverse(r);
                                usize::from(p > 1.0 - p)
                            })
                            .collect()
                    } else if raw.n_cols == 1 {
                        raw.data.iter().map(|&r| usize::from(r >= 0.0)).collect()
                    } else {
                        raw.data.chunks_exact(raw.n_cols).map(argmax).collect()
                    };
                Predictions::Labels(labels_of(std::slice::from_ref(c), &idx, n_rows))
            }
            None => Predictions::Values(raw),
        }
    }
}
