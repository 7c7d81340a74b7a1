//! `Pipeline`: transformers, then a final estimator.

use super::batch::Input;
use super::{data, unsupported, Common, Est, Matrix, Model, Predictions};
use crate::error::Result;

/// One step of a [`Pipeline`].
#[derive(Clone, Debug)]
pub enum Step {
    /// An estimator.
    Model(Box<Model>),
    /// `'passthrough'` or `None`: the input as it is.
    Passthrough,
}

/// A fitted `Pipeline`.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Name, version, inputs (the first step's).
    pub(crate) common: Common,
    /// `(name, step)`, in order.
    pub(crate) steps: Vec<(String, Step)>,
}

impl Pipeline {
    /// `(name, step)`, in order.
    pub fn steps(&self) -> &[(String, Step)] {
        &self.steps
    }
}

impl Pipeline {
    pub(crate) fn from_est(e: &Est<'_>, depth: usize) -> Result<Pipeline> {
        let version = e.version()?;
        let mut steps = Vec::new();
        for s in e.get("steps")?.iter() {
            let (Some(name), Some(est)) = (s.index(0), s.index(1)) else {
                return Err(data("Pipeline: a step is not a (name, estimator) pair"));
            };
            let name = name.as_str().unwrap_or_default().to_string();
            let step = if est.is_none() || est.as_str() == Some("passthrough") {
                Step::Passthrough
            } else {
                Step::Model(Box::new(Model::from_value_at(est, depth + 1)?))
            };
            steps.push((name, step));
        }
        let models: Vec<&Model> = steps
            .iter()
            .filter_map(|(_, s)| match s {
                Step::Model(m) => Some(&**m),
                Step::Passthrough => None,
            })
            .collect();
        let Some(first) = models.first() else {
            return Err(unsupported("Pipeline: no estimator in its steps"));
        };
        // Each transformer's output must be the next step's input.
        let mut width = first.n_features();
        for (i, m) in models.iter().enumerate() {
            if m.n_features() != width {
                return Err(data(format!(
                    "Pipeline: {} takes {} features but gets {width}",
                    m.estimator_name(),
                    m.n_features()
                )));
            }
            match m.n_features_out() {
                Some(w) => width = w,
                None if i + 1 == models.len() => {}
                None => {
                    return Err(unsupported(format!(
                        "Pipeline: {} is not a transformer but is not the last step",
                        m.estimator_name()
                    )))
                }
            }
        }
        let common = Common {
            name: e.name.to_string(),
            version,
            n_features: first.n_features(),
            feature_names: first.feature_names().map(<[String]>::to_vec),
        };
        Ok(Pipeline { common, steps })
    }

    fn models(&self) -> impl Iterator<Item = &Model> {
        self.steps.iter().filter_map(|(_, s)| match s {
            Step::Model(m) => Some(&**m),
            Step::Passthrough => None,
        })
    }

    /// The final estimator (the last non-passthrough step).
    pub fn last(&self) -> Option<&Model> {
        self.models().last()
    }

    /// The first estimator (the first non-passthrough step), which takes the input.
    pub fn first(&self) -> Option<&Model> {
        self.models().next()
    }

    /// The number of columns the pipeline's transform gives, if every step transforms.
    pub fn n_features_out(&self) -> Option<usize> {
        self.last().and_then(Model::n_features_out)
    }

    /// Every step but the final estimator applied to `x` (`None`: there
    /// are none, the final estimator takes `x` itself).
    fn transform_head(&self, x: &Input<'_>) -> Result<(Option<Matrix>, &Model)> {
        let models: Vec<&Model> = self.models().collect();
        let (last, head) = models
            .split_last()
            .ok_or_else(|| unsupported("Pipeline: no estimator in its steps"))?;
        let Some((first, rest)) = head.split_first() else {
            return Ok((None, last));
        };
        let mut m = first.transform_input(x)?;
        for t in rest {
            m = t.transform(&m.data, m.n_rows)?;
        }
        Ok((Some(m), last))
    }

    pub(crate) fn predict(&self, x: &Input<'_>) -> Result<Predictions> {
        match self.transform_head(x)? {
            (Some(m), last) => last.predict(&m.data, m.n_rows),
            (None, last) => last.predict_input(x),
        }
    }

    pub(crate) fn predict_proba_outputs(&self, x: &Input<'_>) -> Result<Vec<Matrix>> {
        match self.transform_head(x)? {
            (Some(m), last) => last.predict_proba_outputs(&m.data, m.n_rows),
            (None, last) => last.predict_proba_outputs_input(x),
        }
    }

    pub(crate) fn decision_function(&self, x: &Input<'_>) -> Result<Matrix> {
        match self.transform_head(x)? {
            (Some(m), last) => last.decision_function(&m.data, m.n_rows),
            (None, last) => last.decision_function_input(x),
        }
    }

    pub(crate) fn transform(&self, x: &Input<'_>) -> Result<Matrix> {
        match self.transform_head(x)? {
            (Some(m), last) => last.transform(&m.data, m.n_rows),
            (None, last) => last.transform_input(x),
        }
    }
}
