//! Linear models: `LinearRegression`, `Ridge`, `Lasso`, `ElasticNet` and
//! `LogisticRegression`.

use super::{
    argmax, data, expit, labels_of, np_sum, softmax, Classes, Common, Est, Labels, Matrix,
};
use crate::error::Result;

/// `coef_` as `n_targets × n_features` rows and `intercept_` per target.
#[derive(Clone, Debug)]
pub struct Coefficients {
    /// `coef_`, row by row (one row per target or class).
    pub(crate) coef: Vec<f64>,
    /// `intercept_`, one per row.
    pub(crate) intercept: Vec<f64>,
    /// The number of rows of `coef_`.
    pub(crate) n_targets: usize,
    /// Whether `coef_` is 1-D (the prediction is then 1-D as well).
    pub(crate) one_dimensional: bool,
}

impl Coefficients {
    /// `coef_`, row by row (one row per target or class).
    pub fn coef(&self) -> &[f64] {
        &self.coef
    }

    /// `intercept_`, one per row.
    pub fn intercept(&self) -> &[f64] {
        &self.intercept
    }

    /// The number of rows of `coef_`.
    pub fn n_targets(&self) -> usize {
        self.n_targets
    }

    /// Whether `coef_` is 1-D (the prediction is then 1-D as well).
    pub fn one_dimensional(&self) -> bool {
        self.one_dimensional
    }
}

impl Coefficients {
    fn read(e: &Est<'_>, n_features: usize) -> Result<Coefficients> {
        let (coef, shape) = e.array("coef_")?;
        let (n_targets, one_dimensional) = match shape[..] {
            [n] if n == n_features => (1, true),
            [t, n] if n == n_features && t > 0 => (t, false),
            _ => {
                return Err(data(format!(
                    "{}: coef_ of shape {shape:?} for {n_features} features",
                    e.name
                )))
            }
        };
        let intercept = match e.opt("intercept_") {
            None => vec![0.0; n_targets],
            Some(_) => {
                let (b, bshape) = e.array("intercept_")?;
                if b.len() == 1 && bshape.len() <= 1 {
                    vec![b[0]; n_targets]
                } else if b.len() == n_targets && bshape.len() == 1 {
                    b
                } else {
                    return Err(data(format!(
                        "{}: intercept_ of shape {bshape:?} for coef_ {shape:?}",
                        e.name
                    )));
                }
            }
        };
        Ok(Coefficients {
            coef,
            intercept,
            n_targets,
            one_dimensional,
        })
    }

    /// `X @ coef_.T + intercept_`, each dot product nearly correctly rounded.
    fn scores(&self, x: &[f64], n_rows: usize, nf: usize) -> Result<Matrix> {
        let t = self.n_targets;
        let mut out = Vec::with_capacity(n_rows * t);
        for i in 0..n_rows {
            let row = &x[i * nf..(i + 1) * nf];
            for k in 0..t {
                let w = &self.coef[k * nf..(k + 1) * nf];
                out.push(dot(row, w) + self.intercept[k]);
            }
        }
        Ok(Matrix {
            n_rows,
            n_cols: t,
            data: out,
        })
    }
}

/// A dot product as if computed exactly and rounded once (products split
/// by `mul_add`, sums compensated as Neumaier does): numpy hands `X @ coef_`
/// to BLAS, whose summation order depends on the CPU's kernel and cannot
/// be repeated here, so the next best is the exact value, which is within
/// BLAS's own rounding error of what scikit-learn gets.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (mut sum, mut err) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let p = x * y;
        let p_err = x.mul_add(y, -p);
        let t = sum + p;
        let t_err = if sum.abs() >= p.abs() {
            (sum - t) + p
        } else {
            (p - t) + sum
        };
        sum = t;
        err += t_err + p_err;
    }
    sum + err
}

/// A fitted `LinearRegression`, `Ridge`, `Lasso` or `ElasticNet`.
#[derive(Clone, Debug)]
pub struct LinearModel {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// The coefficients.
    pub(crate) coefficients: Coefficients,
}

impl LinearModel {
    /// The coefficients.
    pub fn coefficients(&self) -> &Coefficients {
        &self.coefficients
    }
}

impl LinearModel {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<LinearModel> {
        let common = e.common()?;
        let coefficients = Coefficients::read(e, common.n_features)?;
        Ok(LinearModel {
            common,
            coefficients,
        })
    }

    /// `predict`: `n_rows × n_targets`.
    pub(crate) fn predict(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        self.coefficients.scores(x, n_rows, self.common.n_features)
    }
}

/// A fitted `LogisticRegression`.
#[derive(Clone, Debug)]
pub struct LogisticRegression {
    /// Name, version, inputs.
    pub(crate) common: Common,
    /// The coefficients (one row for a binary problem).
    pub(crate) coefficients: Coefficients,
    /// `classes_`.
    pub(crate) classes: Classes,
    /// Whether `predict_proba` is one-vs-rest (normalized `expit`s) rather than softmax.
    pub(crate) ovr: bool,
}

impl LogisticRegression {
    /// The coefficients (one row for a binary problem).
    pub fn coefficients(&self) -> &Coefficients {
        &self.coefficients
    }

    /// `classes_`.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// Whether `predict_proba` is one-vs-rest (normalized `expit`s) rather than softmax.
    pub fn ovr(&self) -> bool {
        self.ovr
    }
}

impl LogisticRegression {
    pub(crate) fn from_est(e: &Est<'_>) -> Result<LogisticRegression> {
        let common = e.common()?;
        let coefficients = Coefficients::read(e, common.n_features)?;
        let classes = Classes::from_value(e.get("classes_")?, e.name)?;
        let n = classes.len();
        let rows_ok = if n <= 2 {
            coefficients.n_targets == 1 && !coefficients.one_dimensional
        } else {
            coefficients.n_targets == n
        };
        if n < 2 || !rows_ok {
            return Err(data(format!(
                "{}: coef_ of {} rows for {n} classes",
                e.name, coefficients.n_targets
            )));
        }
        // scikit-learn < 1.8 had `multi_class`; 'auto' (and 1.5's
        // 'deprecated') meant one-vs-rest for binary problems and liblinear.
        let ovr = match e.opt_str("multi_class") {
            Some("ovr" | "warn") => true,
            Some("multinomial") => false,
            Some("auto" | "deprecated") => n <= 2 || e.opt_str("solver") == Some("liblinear"),
            Some(other) => {
                return Err(super::unsupported(format!(
                    "{}: multi_class={other:?}",
                    e.name
                )))
            }
            None => n <= 2,
        };
        Ok(LogisticRegression {
            common,
            coefficients,
            classes,
            ovr,
        })
    }

    /// `decision_function`: `n_rows × 1` when binary, else `n_rows × n_classes`.
    pub(crate) fn decision_function(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        self.coefficients.scores(x, n_rows, self.common.n_features)
    }

    /// `predict`.
    pub(crate) fn predict(&self, x: &[f64], n_rows: usize) -> Result<Labels> {
        let s = self.decision_function(x, n_rows)?;
        let idx: Vec<usize> = if s.n_cols == 1 {
            s.data.iter().map(|&v| usize::from(v > 0.0)).collect()
        } else {
            s.data.chunks_exact(s.n_cols).map(argmax).collect()
        };
        Ok(labels_of(std::slice::from_ref(&self.classes), &idx, n_rows))
    }

    /// `predict_proba`.
    pub(crate) fn predict_proba(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        let s = self.decision_function(x, n_rows)?;
        if self.ovr {
            if s.n_cols == 1 {
                let mut data = Vec::with_capacity(n_rows * 2);
                for &v in &s.data {
                    let p = expit(v);
                    data.push(1.0 - p);
                    data.push(p);
                }
                return Ok(Matrix {
                    n_rows,
                    n_cols: 2,
                    data,
                });
            }
            let mut m = s;
            let n = m.n_cols;
            for row in m.data.chunks_exact_mut(n) {
                for v in row.iter_mut() {
                    *v = expit(*v);
                }
                let mut sum = np_sum(row);
                if sum == 0.0 {
                    row.iter_mut().for_each(|v| *v = 1.0);
                    sum = n as f64;
                }
                row.iter_mut().for_each(|v| *v /= sum);
            }
            return Ok(m);
        }
        let mut m = if s.n_cols == 1 {
            Matrix {
                n_rows,
                n_cols: 2,
                data: s.data.iter().flat_map(|&d| [-d, d]).collect(),
            }
        } else {
            s
        };
        softmax(&mut m);
        Ok(m)
    }
}
