//! scikit-learn estimators read from a pickle or joblib file into typed
//! models that predict in Rust, as scikit-learn predicts.
//!
//! ```no_run
//! # fn main() -> pickle_codec::Result<()> {
//! use pickle_codec::sklearn::{Model, Predictions};
//!
//! let model = Model::load_path("forest.joblib")?; // joblib.dump or pickle.dump
//! let x = [0.5, 1.0, f64::NAN, 2.0, 0.1, 0.3]; // two rows of three features, row-major
//! match model.predict(&x, 2)? {
//!     Predictions::Labels(labels) => println!("{:?}", labels.labels),
//!     Predictions::Values(values) => println!("{:?}", values.data),
//! }
//! let proba = model.predict_proba(&x, 2)?; // n_rows × n_classes
//! # let _ = proba; Ok(()) }
//! ```
//!
//! A model fitted on text columns (string categories) takes a [`Batch`],
//! column by column, each numbers or text:
//!
//! ```no_run
//! # fn main() -> pickle_codec::Result<()> {
//! use pickle_codec::sklearn::{Batch, Column, Model};
//!
//! // make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression())
//! //     .fit(df[["colour", "size"]], y)
//! let model = Model::load_path("onehot_logreg.joblib")?;
//! assert_eq!(model.text_features(), [true, true]);
//! let batch = Batch::from_columns(vec![
//!     Column::from(&[Some("red"), None, Some("mauve")][..]), // None: missing (NaN)
//!     Column::from(&[Some("S"), Some("XL"), Some("M")][..]),
//! ])?;
//! let labels = model.predict_batch(&batch)?;
//! let proba = model.predict_proba_batch(&batch)?;
//! # let _ = (labels, proba); Ok(()) }
//! ```
//!
//! The estimators, read from their fitted attributes (nothing is imported
//! or run; every array's shape and dtype, every node and feature index is
//! checked once, when the model is built, so prediction cannot panic):
//!
//! | estimator | `predict` | `predict_proba` | `decision_function` | `transform` |
//! | --- | --- | --- | --- | --- |
//! | `DecisionTreeClassifier`, `ExtraTreeClassifier` | classes (multi-output too) | yes | | |
//! | `DecisionTreeRegressor`, `ExtraTreeRegressor` | values (multi-output too) | | | |
//! | `RandomForestClassifier`, `ExtraTreesClassifier` | classes (multi-output too) | yes | | |
//! | `RandomForestRegressor`, `ExtraTreesRegressor` | values (multi-output too) | | | |
//! | `GradientBoostingClassifier` (`log_loss`, `exponential`) | classes | yes | yes | |
//! | `GradientBoostingRegressor` (every loss) | values | | | |
//! | `HistGradientBoostingClassifier` | classes | yes | yes | |
//! | `HistGradientBoostingRegressor` (every loss; log link for poisson/gamma) | values | | | |
//! | `LinearRegression`, `Ridge`, `Lasso`, `ElasticNet` | values (multi-output too) | | | |
//! | `LogisticRegression` (binary, multinomial, old `multi_class='ovr'`) | classes | yes | yes | |
//! | `StandardScaler`, `MinMaxScaler` | | | | yes |
//! | `OneHotEncoder`, `OrdinalEncoder` (numeric or string categories, infrequent ones too) | | | | yes |
//! | `Pipeline` of these (`'passthrough'` steps too) | as its last step | as its last step | as its last step | all steps |
//!
//! Input is a row-major `&[f64]` batch of `n_rows × n_features` (`predict`,
//! `transform`, ...), or a [`Batch`] of columns, each numbers or text
//! (`predict_batch`, `transform_batch`, ...; the same results for the same
//! numbers); `NaN` is a missing value, and so is a text column's `None`.
//! Text reaches what is fitted on string categories: `OneHotEncoder` and
//! `OrdinalEncoder`, alone or first in a pipeline, and
//! `HistGradientBoosting*` fitted with `categorical_features="from_dtype"`
//! on pandas `category` columns of strings, whose `_preprocessor` holds
//! an `OrdinalEncoder` ([`Model::text_features`] says which features take
//! text). A string reaching a numeric feature, or a number reaching string
//! categories, is an error naming its row and feature (scikit-learn's
//! `check_array` cannot convert the one, and `1` never matches `"1"`).
//!
//! Categories are looked up as `_encode` looks them up: numbers by value
//! (`NaN` matches a `NaN` category), strings exactly; `None`, which
//! scikit-learn keeps apart from `NaN` (an object column's categories end
//! `..., None, nan`), is a category no input cell matches: a missing cell
//! is `NaN`, as `pandas.read_csv` makes it. Infrequent categories
//! (`min_frequency`, `max_categories`) are grouped as scikit-learn groups
//! them (`_default_to_infrequent_mappings`; `OneHotEncoder`'s infrequent
//! column last among a feature's, `drop` applied after grouping;
//! `OrdinalEncoder`'s infrequent code after the frequent ones, a `NaN`
//! category kept apart), and an unknown category is encoded as
//! `handle_unknown` says: `error` (an error naming row and feature),
//! `ignore` (zeros), `infrequent_if_exist` and `warn` (the infrequent
//! column where there is one, else zeros), `use_encoded_value`
//! (`unknown_value`; a missing value is `encoded_missing_value`).
//!
//! Trees and forests cast their input to float32 first, as
//! scikit-learn does (`x <= threshold` on the float32 value); missing
//! values go where the tree's `missing_go_to_left` says (gradient boosting
//! sends them right, as its Cython loop does). Sums are taken in
//! scikit-learn's order (forest probabilities tree by tree then divided,
//! boosting stage by stage from the initial raw prediction), so classes are
//! equal and values agree to the last bits, with two exceptions. Linear
//! models: numpy leaves `X @ coef_` to BLAS, whose order depends on the
//! CPU, so their dot products are computed as if exactly and rounded once,
//! which keeps them within BLAS's own rounding error of scikit-learn's.
//! Softmax and logistic outputs: numpy's SIMD `exp` and the `exp` used here
//! may differ in the last bit (probabilities about 1e-16 apart).
//!
//! # Versions
//!
//! Every estimator's `_sklearn_version` (each step of a pipeline, each tree
//! of a forest has its own) must be 1.3 to 1.9 ([`MIN_VERSION`] to
//! [`MAX_VERSION`]; tested with 1.3.2, 1.4.2, 1.5.2, 1.6.1, 1.7.2, 1.8.0 and 1.9.1,
//! models of 1.3.2 and 1.7.2 committed as test fixtures); another version,
//! or a pickle without one, is refused with an error that names it, since
//! fitted attributes change meaning between releases. An estimator class
//! not in the table (a `ColumnTransformer` of the user's own among them;
//! only HGB's own `_preprocessor` is read), a hyperparameter whose effect at
//! prediction is not implemented (a custom `init` for gradient boosting,
//! an encoder's numeric categories with `None` among them,
//! `handle_unknown` values scikit-learn does not have, ...) gives an [`Category::Unsupported`](crate::Category::Unsupported) error
//! that names the estimator and the attribute. Malformed attributes
//! (shapes, out-of-range node or feature indices, cycles, `categories_`
//! unsorted, repeated or mixing strings and numbers, infrequent mappings
//! out of range) give
//! [`Category::Data`](crate::Category::Data) errors.
//!
//! tests/sklearn.rs checks all of this against scikit-learn itself
//! (tests/scripts/gen_sklearn_cases.py trains the models); point
//! `PICKLE_CODEC_SKLEARN_CASES` at more folders that script wrote (other
//! releases, other data) to check those too.

mod batch;
mod ensemble;
mod gradient_boosting;
mod hist_gradient_boosting;
mod linear;
mod pipeline;
mod preprocessing;
mod tree;

pub use batch::{Batch, Cell, Column};
pub use ensemble::Forest;
pub use gradient_boosting::{GradientBoosting, InitEstimator};
pub use hist_gradient_boosting::{HistGradientBoosting, HistNode, HistTree};
pub use linear::{Coefficients, LinearModel, LogisticRegression};
pub use pipeline::{Pipeline, Step};
pub use preprocessing::{
    Categories, FeatureCategories, Infrequent, MinMaxScaler, OneHotEncoder, OrdinalEncoder,
    StandardScaler, UnknownCategory,
};
pub use tree::{DecisionTree, Node as TreeNode, Tree};

use std::path::Path;

use batch::Input;

use crate::error::{Error, Result};
use crate::ml::numpy::{NdArray, Scalar};
use crate::value::{Document, ValueRef};

/// How deep pipelines may nest inside pipelines.
const MAX_NESTING: usize = 32;

/// The oldest scikit-learn release whose estimators are read: 1.3.
pub const MIN_VERSION: (u32, u32) = (1, 3);
/// The newest scikit-learn release whose estimators are read: 1.9.
pub const MAX_VERSION: (u32, u32) = (1, 9);

/// A scikit-learn release, from an estimator's `_sklearn_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// The major number (1).
    pub major: u32,
    /// The minor number.
    pub minor: u32,
    /// The string as pickled (`"1.3.2"`, `"1.6.dev0"`).
    pub text: String,
}

impl Version {
    /// Parse `"1.3.2"` and the like; `None` if it does not start `MAJOR.MINOR`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor_part = parts.next()?;
        let digits: String = minor_part
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let minor = digits.parse().ok()?;
        Some(Version {
            major,
            minor,
            text: s.to_string(),
        })
    }

    /// `(major, minor)`.
    pub fn pair(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Whether this release is in [`MIN_VERSION`]..=[`MAX_VERSION`].
    pub fn is_supported(&self) -> bool {
        (MIN_VERSION..=MAX_VERSION).contains(&self.pair())
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A class label: `classes_` holds ints, floats, bools or strings.
#[derive(Clone, Debug, PartialEq)]
pub enum Label {
    /// An int label.
    Int(i64),
    /// A float label.
    Float(f64),
    /// A bool label.
    Bool(bool),
    /// A string label.
    Str(String),
}

/// An estimator's `classes_` (for one output).
#[derive(Clone, Debug, PartialEq)]
pub enum Classes {
    /// Int labels (any int dtype).
    Int(Vec<i64>),
    /// Float labels.
    Float(Vec<f64>),
    /// Bool labels.
    Bool(Vec<bool>),
    /// String labels (`<U` arrays, or object arrays of `str`).
    Str(Vec<String>),
}

impl Classes {
    /// The number of classes.
    pub fn len(&self) -> usize {
        match self {
            Classes::Int(v) => v.len(),
            Classes::Float(v) => v.len(),
            Classes::Bool(v) => v.len(),
            Classes::Str(v) => v.len(),
        }
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label at `i` (`None` out of range).
    pub fn label(&self, i: usize) -> Option<Label> {
        Some(match self {
            Classes::Int(v) => Label::Int(*v.get(i)?),
            Classes::Float(v) => Label::Float(*v.get(i)?),
            Classes::Bool(v) => Label::Bool(*v.get(i)?),
            Classes::Str(v) => Label::Str(v.get(i)?.clone()),
        })
    }

    /// Read a `classes_` array.
    pub(crate) fn from_value(v: ValueRef<'_>, what: &str) -> Result<Classes> {
        let a = NdArray::from_value(v)
            .map_err(|e| data(format!("{what}: classes_ is not an array ({e})")))?;
        if a.ndim() != 1 {
            return Err(data(format!("{what}: classes_ of shape {:?}", a.shape)));
        }
        let c = match a.dtype.kind {
            'i' | 'u' => Classes::Int(int_values(&a).map_err(|_| {
                unsupported(format!("{what}: classes_ of dtype {}", a.dtype.str()))
            })?),
            'f' => Classes::Float(a.to_f64_vec()?),
            'b' => Classes::Bool(a.to_f64_vec()?.iter().map(|&x| x != 0.0).collect()),
            'U' => Classes::Str(unicode_strings(&a)?),
            'O' => {
                let (doc, items) = a
                    .objects()
                    .ok_or_else(|| data(format!("{what}: object classes_ without items")))?;
                let root = doc.root();
                let vals: Vec<ValueRef<'_>> = items.iter().map(|&i| root.at(i)).collect();
                if vals.iter().all(|x| x.as_str().is_some()) {
                    Classes::Str(
                        vals.iter()
                            .map(|x| x.as_str().unwrap_or_default().to_string())
                            .collect(),
                    )
                } else if vals
                    .iter()
                    .all(|x| matches!(x.kind(), crate::value::Kind::Bool(_)))
                {
                    Classes::Bool(
                        vals.iter()
                            .map(|x| x.as_bool().unwrap_or_default())
                            .collect(),
                    )
                } else if vals.iter().all(|x| x.as_i64().is_some()) {
                    Classes::Int(
                        vals.iter()
                            .map(|x| x.as_i64().unwrap_or_default())
                            .collect(),
                    )
                } else {
                    return Err(unsupported(format!(
                        "{what}: classes_ holds objects other than all str, all int or all float"
                    )));
                }
            }
            _ => {
                return Err(unsupported(format!(
                    "{what}: classes_ of dtype {}",
                    a.dtype.str()
                )))
            }
        };
        Ok(c)
    }
}

fn int_values(a: &NdArray<'_>) -> Result<Vec<i64>> {
    Ok(match (a.dtype.kind, a.dtype.itemsize) {
        ('i', 8) => a.to_vec::<i64>()?,
        ('i', 4) => a.to_vec::<i32>()?.into_iter().map(i64::from).collect(),
        ('i', 2) => a.to_vec::<i16>()?.into_iter().map(i64::from).collect(),
        ('i', 1) => a.to_vec::<i8>()?.into_iter().map(i64::from).collect(),
        ('u', 4) => a.to_vec::<u32>()?.into_iter().map(i64::from).collect(),
        ('u', 2) => a.to_vec::<u16>()?.into_iter().map(i64::from).collect(),
        ('u', 1) => a.to_vec::<u8>()?.into_iter().map(i64::from).collect(),
        _ => return Err(unsupported(format!("int array of dtype {}", a.dtype.str()))),
    })
}

/// A `<U…` array's strings (UTF-32, NUL-padded).
fn unicode_strings(a: &NdArray<'_>) -> Result<Vec<String>> {
    let bytes = a.to_le_bytes()?;
    let size = a.dtype.itemsize;
    if size == 0 {
        return Ok(vec![String::new(); a.len()]);
    }
    bytes
        .chunks_exact(size)
        .map(|s| {
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .take_while(|&c| c != 0)
                .map(|c| char::from_u32(c).ok_or_else(|| data("a <U string holds a non-character")))
                .collect()
        })
        .collect()
}

/// A row-major matrix of `n_rows × n_cols` values.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub n_rows: usize,
    /// Columns.
    pub n_cols: usize,
    /// `n_rows * n_cols` values, row by row.
    pub data: Vec<f64>,
}

impl Matrix {
    /// Row `i` (`None` out of range).
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        if i >= self.n_rows {
            return None;
        }
        self.data.get(i * self.n_cols..(i + 1) * self.n_cols)
    }

    /// The matrix as an `ndarray` array of shape `(n_rows, n_cols)`.
    #[cfg(feature = "ndarray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
    pub fn to_ndarray(&self) -> ::ndarray::Array2<f64> {
        ::ndarray::Array2::from_shape_vec((self.n_rows, self.n_cols), self.data.clone())
            .unwrap_or_else(|_| ::ndarray::Array2::zeros((0, 0)))
    }
}

/// Predicted class labels, `n_rows × n_outputs`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    /// Rows.
    pub n_rows: usize,
    /// Outputs (1 unless the classifier is multi-output).
    pub n_outputs: usize,
    /// The labels, row by row.
    pub labels: Vec<Label>,
}

/// What [`Model::predict`] returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// A classifier's labels.
    Labels(Labels),
    /// A regressor's values, `n_rows × n_outputs`.
    Values(Matrix),
}

/// A fitted scikit-learn estimator.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Model {
    /// `DecisionTreeClassifier` / `Regressor`, `ExtraTreeClassifier` / `Regressor`.
    DecisionTree(DecisionTree),
    /// `RandomForest*`, `ExtraTrees*`.
    Forest(Forest),
    /// `GradientBoostingClassifier` / `Regressor`.
    GradientBoosting(GradientBoosting),
    /// `HistGradientBoostingClassifier` / `Regressor`.
    HistGradientBoosting(HistGradientBoosting),
    /// `LinearRegression`, `Ridge`, `Lasso`, `ElasticNet`.
    Linear(LinearModel),
    /// `LogisticRegression`.
    LogisticRegression(LogisticRegression),
    /// `StandardScaler`.
    StandardScaler(StandardScaler),
    /// `MinMaxScaler`.
    MinMaxScaler(MinMaxScaler),
    /// `OneHotEncoder`.
    OneHotEncoder(OneHotEncoder),
    /// `OrdinalEncoder`.
    OrdinalEncoder(OrdinalEncoder),
    /// `Pipeline`.
    Pipeline(Pipeline),
}

impl Model {
    /// The estimator a document's root is.
    pub fn from_document(doc: &Document) -> Result<Model> {
        Model::from_value(doc.root())
    }

    /// Read a pickle (or a `joblib.dump` file) from memory.
    pub fn from_slice(data: &[u8]) -> Result<Model> {
        Model::from_document(&crate::ml::joblib::load(data)?)
    }

    /// Read a `pickle.dump` or `joblib.dump` file (compressed ones need the
    /// `joblib-compress` feature).
    pub fn load_path(path: impl AsRef<Path>) -> Result<Model> {
        Model::from_document(&crate::ml::joblib::load_path(path)?)
    }

    /// The estimator `v` is.
    pub fn from_value(v: ValueRef<'_>) -> Result<Model> {
        Model::from_value_at(v, 0)
    }

    /// [`Model::from_value`] for an estimator nested `depth` pipelines deep
    /// (bounded: a pickle may hold a pipeline that contains itself).
    pub(crate) fn from_value_at(v: ValueRef<'_>, depth: usize) -> Result<Model> {
        if depth > MAX_NESTING {
            return Err(data(format!(
                "pipelines nested more than {MAX_NESTING} deep (a pipeline inside itself?)"
            )));
        }
        let est = Est::new(v)?;
        Ok(match est.name {
            "DecisionTreeClassifier"
            | "DecisionTreeRegressor"
            | "ExtraTreeClassifier"
            | "ExtraTreeRegressor" => Model::DecisionTree(DecisionTree::from_est(&est)?),
            "RandomForestClassifier"
            | "RandomForestRegressor"
            | "ExtraTreesClassifier"
            | "ExtraTreesRegressor" => Model::Forest(Forest::from_est(&est)?),
            "GradientBoostingClassifier" | "GradientBoostingRegressor" => {
                Model::GradientBoosting(GradientBoosting::from_est(&est)?)
            }
            "HistGradientBoostingClassifier" | "HistGradientBoostingRegressor" => {
                Model::HistGradientBoosting(HistGradientBoosting::from_est(&est)?)
            }
            "LinearRegression" | "Ridge" | "Lasso" | "ElasticNet" => {
                Model::Linear(LinearModel::from_est(&est)?)
            }
            "LogisticRegression" => Model::LogisticRegression(LogisticRegression::from_est(&est)?),
            "StandardScaler" => Model::StandardScaler(StandardScaler::from_est(&est)?),
            "MinMaxScaler" => Model::MinMaxScaler(MinMaxScaler::from_est(&est)?),
            "OneHotEncoder" => Model::OneHotEncoder(OneHotEncoder::from_est(&est)?),
            "OrdinalEncoder" => Model::OrdinalEncoder(OrdinalEncoder::from_est(&est)?),
            "Pipeline" => Model::Pipeline(Pipeline::from_est(&est, depth)?),
            other => {
                return Err(unsupported(format!(
                    "scikit-learn estimator {}.{other} is not supported",
                    est.module
                )))
            }
        })
    }

    /// The estimator's class name (`"RandomForestClassifier"`).
    pub fn estimator_name(&self) -> &str {
        &self.common().name
    }

    /// The `_sklearn_version` it was pickled with.
    pub fn sklearn_version(&self) -> &Version {
        &self.common().version
    }

    /// The number of input features (`n_features_in_`; for a pipeline, its first step's).
    pub fn n_features(&self) -> usize {
        self.common().n_features
    }

    /// The input feature names (`feature_names_in_`), when fitted on a DataFrame.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.common().feature_names.as_deref()
    }

    /// A classifier's `classes_` (the first output's); `None` for regressors and transformers.
    pub fn classes(&self) -> Option<&Classes> {
        self.output_classes().first()
    }

    /// A classifier's classes, one entry per output (empty for regressors and transformers).
    pub fn output_classes(&self) -> &[Classes] {
        match self {
            Model::DecisionTree(m) => &m.classes,
            Model::Forest(m) => &m.classes,
            Model::GradientBoosting(m) => m.classes.as_slice(),
            Model::HistGradientBoosting(m) => m.classes.as_slice(),
            Model::LogisticRegression(m) => std::slice::from_ref(&m.classes),
            Model::Pipeline(p) => p.last().map_or(&[][..], |m| m.output_classes()),
            _ => &[],
        }
    }

    pub(crate) fn common(&self) -> &Common {
        match self {
            Model::DecisionTree(m) => &m.common,
            Model::Forest(m) => &m.common,
            Model::GradientBoosting(m) => &m.common,
            Model::HistGradientBoosting(m) => &m.common,
            Model::Linear(m) => &m.common,
            Model::LogisticRegression(m) => &m.common,
            Model::StandardScaler(m) => &m.common,
            Model::MinMaxScaler(m) => &m.common,
            Model::OneHotEncoder(m) => &m.common,
            Model::OrdinalEncoder(m) => &m.common,
            Model::Pipeline(m) => &m.common,
        }
    }

    /// The number of columns [`Model::transform`] gives (transformers only).
    pub fn n_features_out(&self) -> Option<usize> {
        match self {
            Model::StandardScaler(m) => Some(m.common.n_features),
            Model::MinMaxScaler(m) => Some(m.common.n_features),
            Model::OneHotEncoder(m) => Some(m.n_features_out()),
            Model::OrdinalEncoder(m) => Some(m.common.n_features),
            Model::Pipeline(p) => p.n_features_out(),
            _ => None,
        }
    }

    /// `predict` on `n_rows` rows of `x` (row-major, `n_rows × n_features`).
    pub fn predict(&self, x: &[f64], n_rows: usize) -> Result<Predictions> {
        self.predict_input(&self.rows(x, n_rows)?)
    }

    /// `predict_proba`: `n_rows × n_classes` probabilities (single-output classifiers).
    pub fn predict_proba(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        self.predict_proba_input(&self.rows(x, n_rows)?)
    }

    /// `predict_proba` of a classifier with any number of outputs: one
    /// `n_rows × n_classes` matrix per output.
    pub fn predict_proba_outputs(&self, x: &[f64], n_rows: usize) -> Result<Vec<Matrix>> {
        self.predict_proba_outputs_input(&self.rows(x, n_rows)?)
    }

    /// `decision_function`: `n_rows × 1` for binary classifiers (scikit-learn's 1-D
    /// array), `n_rows × n_classes` otherwise.
    pub fn decision_function(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        self.decision_function_input(&self.rows(x, n_rows)?)
    }

    /// `transform` of a transformer (a pipeline: every step, the last one a transformer).
    pub fn transform(&self, x: &[f64], n_rows: usize) -> Result<Matrix> {
        self.transform_input(&self.rows(x, n_rows)?)
    }

    /// [`Model::predict`] on a [`Batch`], whose columns may hold text
    /// (string categories); a string reaching a numeric feature, or a
    /// number reaching string categories, is an error naming its row and
    /// feature.
    pub fn predict_batch(&self, x: &Batch) -> Result<Predictions> {
        self.predict_input(&Input::Batch(x))
    }

    /// [`Model::predict_proba`] on a [`Batch`].
    pub fn predict_proba_batch(&self, x: &Batch) -> Result<Matrix> {
        self.predict_proba_input(&Input::Batch(x))
    }

    /// [`Model::predict_proba_outputs`] on a [`Batch`].
    pub fn predict_proba_outputs_batch(&self, x: &Batch) -> Result<Vec<Matrix>> {
        self.predict_proba_outputs_input(&Input::Batch(x))
    }

    /// [`Model::decision_function`] on a [`Batch`].
    pub fn decision_function_batch(&self, x: &Batch) -> Result<Matrix> {
        self.decision_function_input(&Input::Batch(x))
    }

    /// [`Model::transform`] on a [`Batch`].
    pub fn transform_batch(&self, x: &Batch) -> Result<Matrix> {
        self.transform_input(&Input::Batch(x))
    }

    /// Whether some input feature is fitted on string categories (so a
    /// [`Batch`] with text columns is what it takes there), and which.
    pub fn text_features(&self) -> Vec<bool> {
        let n = self.n_features();
        match self {
            Model::OneHotEncoder(m) => m
                .categories
                .per_feature
                .iter()
                .map(FeatureCategories::is_text)
                .collect(),
            Model::OrdinalEncoder(m) => m
                .categories
                .per_feature
                .iter()
                .map(FeatureCategories::is_text)
                .collect(),
            Model::HistGradientBoosting(m) => m.text_features(),
            Model::Pipeline(p) => p.first().map_or(vec![false; n], Model::text_features),
            _ => vec![false; n],
        }
    }

    /// Row-major input of `n_rows` rows, its length checked.
    fn rows<'a>(&self, x: &'a [f64], n_rows: usize) -> Result<Input<'a>> {
        let n = self.n_features();
        match n_rows.checked_mul(n) {
            Some(len) if len == x.len() => Ok(Input::Rows {
                x,
                n_rows,
                n_features: n,
            }),
            _ => Err(data(format!(
                "{}: {} values are not {n_rows} rows of {n} features",
                self.estimator_name(),
                x.len()
            ))),
        }
    }

    pub(crate) fn predict_input(&self, x: &Input<'_>) -> Result<Predictions> {
        self.check_input(x)?;
        let n_rows = x.n_rows();
        let num = || x.numeric(self.estimator_name());
        match self {
            Model::DecisionTree(m) => Ok(m.predict(&num()?, n_rows)),
            Model::Forest(m) => Ok(m.predict(&num()?, n_rows)),
            Model::GradientBoosting(m) => Ok(m.predict(&num()?, n_rows)),
            Model::HistGradientBoosting(m) => m.predict(x),
            Model::Linear(m) => m.predict(&num()?, n_rows).map(Predictions::Values),
            Model::LogisticRegression(m) => m.predict(&num()?, n_rows).map(Predictions::Labels),
            Model::Pipeline(p) => p.predict(x),
            _ => Err(self.no_method("predict")),
        }
    }

    fn predict_proba_input(&self, x: &Input<'_>) -> Result<Matrix> {
        let mut all = self.predict_proba_outputs_input(x)?;
        if all.len() != 1 {
            return Err(unsupported(format!(
                "{}: {} outputs; use predict_proba_outputs",
                self.estimator_name(),
                all.len()
            )));
        }
        Ok(all.remove(0))
    }

    pub(crate) fn predict_proba_outputs_input(&self, x: &Input<'_>) -> Result<Vec<Matrix>> {
        self.check_input(x)?;
        let n_rows = x.n_rows();
        let num = || x.numeric(self.estimator_name());
        match self {
            Model::DecisionTree(m) if m.is_classifier() => Ok(m.predict_proba(&num()?, n_rows)),
            Model::Forest(m) if m.is_classifier() => Ok(m.predict_proba(&num()?, n_rows)),
            Model::GradientBoosting(m) if m.classes.is_some() => {
                Ok(vec![m.predict_proba(&num()?, n_rows)])
            }
            Model::HistGradientBoosting(m) if m.classes.is_some() => Ok(vec![m.predict_proba(x)?]),
            Model::LogisticRegression(m) => Ok(vec![m.predict_proba(&num()?, n_rows)?]),
            Model::Pipeline(p) => p.predict_proba_outputs(x),
            _ => Err(self.no_method("predict_proba")),
        }
    }

    pub(crate) fn decision_function_input(&self, x: &Input<'_>) -> Result<Matrix> {
        self.check_input(x)?;
        let n_rows = x.n_rows();
        let num = || x.numeric(self.estimator_name());
        match self {
            Model::GradientBoosting(m) if m.classes.is_some() => Ok(m.raw_predict(&num()?, n_rows)),
            Model::HistGradientBoosting(m) if m.classes.is_some() => m.raw_predict(x),
            Model::LogisticRegression(m) => m.decision_function(&num()?, n_rows),
            Model::Pipeline(p) => p.decision_function(x),
            _ => Err(self.no_method("decision_function")),
        }
    }

    pub(crate) fn transform_input(&self, x: &Input<'_>) -> Result<Matrix> {
        self.check_input(x)?;
        let n_rows = x.n_rows();
        let num = || x.numeric(self.estimator_name());
        match self {
            Model::StandardScaler(m) => Ok(m.transform(&num()?, n_rows)),
            Model::MinMaxScaler(m) => Ok(m.transform(&num()?, n_rows)),
            Model::OneHotEncoder(m) => m.transform(x),
            Model::OrdinalEncoder(m) => m.transform(x),
            Model::Pipeline(p) => p.transform(x),
            _ => Err(self.no_method("transform")),
        }
    }

    /// [`Model::predict`] on an `ndarray` array of shape `(n_rows, n_features)`.
    #[cfg(feature = "ndarray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
    pub fn predict_ndarray(&self, x: ::ndarray::ArrayView2<'_, f64>) -> Result<Predictions> {
        let rows = x.nrows();
        let flat: Vec<f64> = x.iter().copied().collect();
        self.predict(&flat, rows)
    }

    /// [`Model::predict_proba`] on an `ndarray` array of shape `(n_rows, n_features)`.
    #[cfg(feature = "ndarray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
    pub fn predict_proba_ndarray(
        &self,
        x: ::ndarray::ArrayView2<'_, f64>,
    ) -> Result<::ndarray::Array2<f64>> {
        let rows = x.nrows();
        let flat: Vec<f64> = x.iter().copied().collect();
        Ok(self.predict_proba(&flat, rows)?.to_ndarray())
    }

    fn no_method(&self, method: &str) -> Error {
        unsupported(format!(
            "{} has no {method} (or it is not supported here)",
            self.estimator_name()
        ))
    }

    /// The input's width, and the values scikit-learn's `check_array`
    /// refuses for this estimator: infinity (for float32 estimators,
    /// anything that overflows float32) and, where not accepted, NaN (a
    /// text column's missing cell is NaN too).
    fn check_input(&self, x: &Input<'_>) -> Result<()> {
        let n = self.n_features();
        if x.n_features() != n {
            return Err(data(format!(
                "{}: {} features given, it takes {n}",
                self.estimator_name(),
                x.n_features()
            )));
        }
        // (float32 input, NaN accepted)
        let (f32_input, nan_ok) = match self {
            Model::DecisionTree(m) => (true, m.allow_nan),
            Model::Forest(m) => (true, m.allow_nan()),
            // Gradient boosting checks its input as finite before its trees see it.
            Model::GradientBoosting(_) => (true, false),
            Model::Linear(_) | Model::LogisticRegression(_) => (false, false),
            Model::StandardScaler(_)
            | Model::MinMaxScaler(_)
            | Model::OneHotEncoder(_)
            | Model::OrdinalEncoder(_) => (false, true),
            // HGB takes anything (NaN is missing, infinity a value); a
            // pipeline's steps check their own input.
            _ => return Ok(()),
        };
        for row in 0..x.n_rows() {
            for col in 0..n {
                let Cell::Num(v) = x.cell(row, col) else {
                    continue;
                };
                let bad = if v.is_nan() {
                    !nan_ok
                } else if f32_input {
                    (v as f32).is_infinite()
                } else {
                    v.is_infinite()
                };
                if bad {
                    return Err(data(format!(
                        "{} ({}): input contains {v} (row {row}, feature {col}), which scikit-learn refuses for this estimator{}",
                        self.estimator_name(),
                        self.sklearn_version(),
                        if f32_input { " (its input is cast to float32)" } else { "" }
                    )));
                }
            }
        }
        Ok(())
    }
}

/// What every estimator has: its name, version and inputs.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    /// The class name.
    pub(crate) name: String,
    /// `_sklearn_version`.
    pub(crate) version: Version,
    /// `n_features_in_`.
    pub(crate) n_features: usize,
    /// `feature_names_in_`.
    pub(crate) feature_names: Option<Vec<String>>,
}

pub(crate) fn unsupported(msg: impl Into<String>) -> Error {
    Error::unsupported(msg)
}

pub(crate) fn data(msg: impl Into<String>) -> Error {
    Error::data(msg)
}

/// A pickled estimator: its class and `__dict__`, with typed getters whose
/// errors name the estimator and the attribute.
pub(crate) struct Est<'a> {
    pub(crate) name: &'a str,
    pub(crate) module: &'a str,
    pub(crate) state: ValueRef<'a>,
}

impl<'a> Est<'a> {
    /// Any object with a dict state (no version check).
    pub(crate) fn object(v: ValueRef<'a>) -> Result<Est<'a>> {
        let (module, name) = v.class().ok_or_else(|| {
            data(format!(
                "expected a scikit-learn estimator, got a {}",
                v.type_name()
            ))
        })?;
        let state = v
            .state_dict()
            .ok_or_else(|| data(format!("{module}.{name} without a __dict__ state")))?;
        Ok(Est {
            name,
            module,
            state,
        })
    }

    /// A scikit-learn estimator: a `sklearn.` class with a supported `_sklearn_version`.
    pub(crate) fn new(v: ValueRef<'a>) -> Result<Est<'a>> {
        let e = Est::object(v)?;
        if e.module != "sklearn" && !e.module.starts_with("sklearn.") {
            return Err(unsupported(format!(
                "{}.{} is not a scikit-learn estimator",
                e.module, e.name
            )));
        }
        e.version()?;
        Ok(e)
    }

    pub(crate) fn version(&self) -> Result<Version> {
        let text = self
            .opt("_sklearn_version")
            .ok_or_else(|| {
                unsupported(format!(
                    "{}: no _sklearn_version (pickled by scikit-learn older than 0.18?); \
                     supported are {}.{} to {}.{}",
                    self.name, MIN_VERSION.0, MIN_VERSION.1, MAX_VERSION.0, MAX_VERSION.1
                ))
            })?
            .as_str()
            .ok_or_else(|| data(format!("{}: _sklearn_version is not a str", self.name)))?;
        let v = Version::parse(text)
            .ok_or_else(|| data(format!("{}: _sklearn_version {text:?}", self.name)))?;
        if !v.is_supported() {
            return Err(unsupported(format!(
                "{} pickled by scikit-learn {text}: supported are {}.{} to {}.{}",
                self.name, MIN_VERSION.0, MIN_VERSION.1, MAX_VERSION.0, MAX_VERSION.1
            )));
        }
        Ok(v)
    }

    /// The attribute, unless missing or `None`.
    pub(crate) fn opt(&self, key: &str) -> Option<ValueRef<'a>> {
        self.state.get(key).filter(|v| !v.is_none())
    }

    pub(crate) fn get(&self, key: &str) -> Result<ValueRef<'a>> {
        self.opt(key)
            .ok_or_else(|| data(format!("{}: no {key} (not fitted?)", self.name)))
    }

    pub(crate) fn str(&self, key: &str) -> Result<&'a str> {
        self.get(key)?
            .as_str()
            .ok_or_else(|| data(format!("{}: {key} is not a str", self.name)))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Option<&'a str> {
        self.opt(key).and_then(|v| v.as_str())
    }

    pub(crate) fn f64(&self, key: &str) -> Result<f64> {
        number(self.get(key)?).ok_or_else(|| data(format!("{}: {key} is not a number", self.name)))
    }

    pub(crate) fn bool(&self, key: &str) -> Result<bool> {
        let v = self.get(key)?;
        v.as_bool()
            .or_else(|| number(v).map(|x| x != 0.0))
            .ok_or_else(|| data(format!("{}: {key} is not a bool", self.name)))
    }

    pub(crate) fn usize(&self, key: &str) -> Result<usize> {
        let x = self.f64(key)?;
        if x >= 0.0 && x.fract() == 0.0 && x < 1e15 {
            Ok(x as usize)
        } else {
            Err(data(format!("{}: {key} = {x} is not a count", self.name)))
        }
    }

    /// A real-numeric array attribute as f64, with its shape.
    pub(crate) fn array(&self, key: &str) -> Result<(Vec<f64>, Vec<usize>)> {
        array_f64(self.get(key)?, &format!("{}.{key}", self.name))
    }

    /// The fields every estimator has.
    pub(crate) fn common(&self) -> Result<Common> {
        let n_features = self.usize("n_features_in_")?;
        if n_features == 0 {
            return Err(data(format!("{}: n_features_in_ is 0", self.name)));
        }
        Ok(Common {
            name: self.name.to_string(),
            version: self.version()?,
            n_features,
            feature_names: self.feature_names()?,
        })
    }

    fn feature_names(&self) -> Result<Option<Vec<String>>> {
        let Some(v) = self.opt("feature_names_in_") else {
            return Ok(None);
        };
        let what = format!("{}.feature_names_in_", self.name);
        let a = NdArray::from_value(v).map_err(|e| data(format!("{what}: {e}")))?;
        match Classes::from_value(v, &what)? {
            Classes::Str(s) if s.len() == a.len() => Ok(Some(s)),
            _ => Err(data(format!("{what} is not an array of str"))),
        }
    }
}

/// A Python or numpy number as f64.
pub(crate) fn number(v: ValueRef<'_>) -> Option<f64> {
    if let Some(b) = v.as_bool() {
        return Some(if b { 1.0 } else { 0.0 });
    }
    if let Some(x) = v.as_f64() {
        return Some(x);
    }
    match Scalar::from_value(v)?.1 {
        Scalar::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        Scalar::Int(i) => Some(i as f64),
        Scalar::UInt(u) => Some(u as f64),
        Scalar::Float(f) => Some(f),
        _ => None,
    }
}

/// A real-numeric array (or a number: shape `[]`) as f64 in C order.
pub(crate) fn array_f64(v: ValueRef<'_>, what: &str) -> Result<(Vec<f64>, Vec<usize>)> {
    if let Some(x) = number(v) {
        return Ok((vec![x], Vec::new()));
    }
    let a = NdArray::from_value(v).map_err(|e| data(format!("{what}: {e}")))?;
    let vals = a.to_f64_vec().map_err(|e| data(format!("{what}: {e}")))?;
    Ok((vals, a.shape.clone()))
}

/// numpy's pairwise summation of contiguous float64 (`np.sum` along a row).
pub(crate) fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        np_sum(&a[..n2]) + np_sum(&a[n2..])
    }
}

/// numpy's argmax: the first maximum (the first NaN if any).
pub(crate) fn argmax(a: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in a.iter().enumerate() {
        if x.is_nan() {
            return i;
        }
        if x > a[best] {
            best = i;
        }
    }
    best
}

/// scipy's `expit`.
pub(crate) fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// scipy's `logit`.
pub(crate) fn logit(p: f64) -> f64 {
    if (0.3..0.7).contains(&p) {
        let s = 2.0 * (p - 0.5);
        s.ln_1p() - (-s).ln_1p()
    } else {
        (p / (1.0 - p)).ln()
    }
}

/// `sklearn.utils.extmath.softmax`, in place on each row of `m`.
pub(crate) fn softmax(m: &mut Matrix) {
    let n = m.n_cols;
    if n == 0 {
        return;
    }
    for row in m.data.chunks_exact_mut(n) {
        // np.max propagates NaN.
        let mut max = row[0];
        for &x in row.iter() {
            if x.is_nan() || x > max {
                max = x;
                if x.is_nan() {
                    break;
                }
            }
        }
        for x in row.iter_mut() {
            *x = (*x - max).exp();
        }
        let s = np_sum(row);
        for x in row.iter_mut() {
            *x /= s;
        }
    }
}

/// The inverse links of scikit-learn's losses (`sklearn._loss.link`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `IdentityLink`.
    Identity,
    /// `LogLink`: `exp`.
    Log,
    /// `LogitLink`: `expit`.
    Logit,
    /// `HalfLogitLink`: `expit(2 x)`.
    HalfLogit,
    /// `MultinomialLogit`: softmax.
    Multinomial,
}

impl Link {
    /// A binary classifier's probabilities `[1 - p, p]` from raw scores
    /// (one column), or a multiclass one's softmax.
    pub(crate) fn predict_proba(self, raw: &Matrix) -> Matrix {
        match self {
            Link::Multinomial => {
                let mut m = raw.clone();
                softmax(&mut m);
                m
            }
            _ => {
                let mut data = Vec::with_capacity(raw.n_rows * 2);
                for &r in &raw.data {
                    let p = self.inverse(r);
                    data.push(1.0 - p);
                    data.push(p);
                }
                Matrix {
                    n_rows: raw.n_rows,
                    n_cols: 2,
                    data,
                }
            }
        }
    }

    /// The inverse link of one value (not for [`Link::Multinomial`]).
    pub(crate) fn inverse(self, r: f64) -> f64 {
        match self {
            Link::Identity | Link::Multinomial => r,
            Link::Log => r.exp(),
            Link::Logit => expit(r),
            Link::HalfLogit => expit(2.0 * r),
        }
    }
}

/// Labels from class indices.
pub(crate) fn labels_of(classes: &[Classes], idx: &[usize], n_rows: usize) -> Labels {
    let n_outputs = classes.len().max(1);
    let labels = idx
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            classes
                .get(i % n_outputs)
                .and_then(|c| c.label(k))
                .unwrap_or(Label::Int(0))
        })
        .collect();
    Labels {
        n_rows,
        n_outputs,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f64 / 997.0 + 1e-3 * i as f64)
            .collect()
    }

    #[test]
    fn np_sum_is_numpys_pairwise_sum() {
        // numpy 2.4's np.sum of the same series (200 differs from a
        // left-to-right sum in the last bit).
        assert_eq!(np_sum(&series(5)), 3.2095987963891677);
        assert_eq!(np_sum(&series(20)), 10.831925777331996);
        assert_eq!(np_sum(&series(200)), 119.29819458375125);
        assert_eq!(np_sum(&series(1000)), 1000.5030090270812);
        assert_eq!(np_sum(&[]), 0.0);
    }

    #[test]
    fn argmax_takes_the_first_maximum_or_nan() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[0.2, f64::NAN, 0.9]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn versions_parse_and_range() {
        let v = Version::parse("1.6.dev0").unwrap();
        assert_eq!(v.pair(), (1, 6));
        assert!(v.is_supported());
        assert!(!Version::parse("1.2.2").unwrap().is_supported());
        assert!(!Version::parse("1.10.0").unwrap().is_supported());
        assert!(Version::parse("one").is_none());
    }

    #[test]
    fn links_invert_as_scipy_does() {
        assert_eq!(expit(0.0), 0.5);
        assert!((logit(expit(0.3)) - 0.3).abs() < 1e-15);
        let mut m = Matrix {
            n_rows: 1,
            n_cols: 3,
            data: vec![1.0, 2.0, 3.0],
        };
        softmax(&mut m);
        assert!((m.data.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(m.data[2] > m.data[1] && m.data[1] > m.data[0]);
    }
}
