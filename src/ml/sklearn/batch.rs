//! [`Batch`]: rows whose columns are numbers or text, for estimators whose
//! input holds string categories (`OneHotEncoder`, `OrdinalEncoder`,
//! `HistGradientBoosting*` fitted on a DataFrame with `category` columns of
//! strings, pipelines that start with them).

use std::borrow::Cow;

use super::data;
use crate::error::Result;

/// One column of a [`Batch`].
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` is a missing value.
    Num(Vec<f64>),
    /// Text; `None` is a missing value (scikit-learn sees `NaN`, as
    /// `pandas.read_csv` makes an empty cell).
    Text(Vec<Option<String>>),
}

impl Column {
    /// The number of cells.
    pub fn len(&self) -> usize {
        match self {
            Column::Num(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Whether the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `row` (`None` out of range).
    pub fn cell(&self, row: usize) -> Option<Cell<'_>> {
        Some(match self {
            Column::Num(v) => Cell::Num(*v.get(row)?),
            Column::Text(v) => match v.get(row)? {
                Some(s) => Cell::Text(s),
                None => Cell::Num(f64::NAN),
            },
        })
    }
}

impl From<Vec<f64>> for Column {
    fn from(v: Vec<f64>) -> Column {
        Column::Num(v)
    }
}

impl From<Vec<Option<String>>> for Column {
    fn from(v: Vec<Option<String>>) -> Column {
        Column::Text(v)
    }
}

impl From<Vec<String>> for Column {
    fn from(v: Vec<String>) -> Column {
        Column::Text(v.into_iter().map(Some).collect())
    }
}

impl From<Vec<&str>> for Column {
    fn from(v: Vec<&str>) -> Column {
        Column::from(&v[..])
    }
}

impl From<Vec<Option<&str>>> for Column {
    fn from(v: Vec<Option<&str>>) -> Column {
        Column::from(&v[..])
    }
}

impl From<&[&str]> for Column {
    fn from(v: &[&str]) -> Column {
        Column::Text(v.iter().map(|s| Some(s.to_string())).collect())
    }
}

impl From<&[Option<&str>]> for Column {
    fn from(v: &[Option<&str>]) -> Column {
        Column::Text(v.iter().map(|s| s.map(str::to_string)).collect())
    }
}

/// One cell of a [`Batch`]: a number (`NaN`: missing, a text column's
/// missing cells too) or a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// A number; `NaN` is a missing value.
    Num(f64),
    /// A string.
    Text(&'a str),
}

/// `n_rows × n_features` cells, column by column, each column numbers or
/// text: what a pandas DataFrame with `float` and `object` / `category`
/// columns gives scikit-learn.
///
/// ```
/// # fn main() -> pickle_codec::Result<()> {
/// use pickle_codec::sklearn::{Batch, Column};
///
/// let batch = Batch::from_columns(vec![
///     Column::Num(vec![1.5, f64::NAN]),
///     Column::from(&[Some("red"), None][..]),
/// ])?;
/// assert_eq!((batch.n_rows(), batch.n_features()), (2, 2));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    n_rows: usize,
    columns: Vec<Column>,
}

impl Batch {
    /// A batch of these columns, all of one length (the number of rows).
    pub fn from_columns(columns: Vec<Column>) -> Result<Batch> {
        let n_rows = columns.first().map_or(0, Column::len);
        if let Some((i, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != n_rows) {
            return Err(data(format!(
                "batch column {i} has {} cells, column 0 has {n_rows}",
                c.len()
            )));
        }
        Ok(Batch { n_rows, columns })
    }

    /// A numeric batch from a row-major `n_rows × n_features` slice.
    pub fn from_rows(x: &[f64], n_rows: usize) -> Result<Batch> {
        if n_rows == 0 {
            return if x.is_empty() {
                Ok(Batch {
                    n_rows: 0,
                    columns: Vec::new(),
                })
            } else {
                Err(data(format!("{} values are not 0 rows", x.len())))
            };
        }
        if x.len() % n_rows != 0 {
            return Err(data(format!("{} values are not {n_rows} rows", x.len())));
        }
        let n = x.len() / n_rows;
        let columns = (0..n)
            .map(|f| Column::Num(x.iter().skip(f).step_by(n).copied().collect()))
            .collect();
        Ok(Batch { n_rows, columns })
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The number of columns (features).
    pub fn n_features(&self) -> usize {
        self.columns.len()
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The cell at `row` of column `col` (`None` out of range).
    pub fn cell(&self, row: usize, col: usize) -> Option<Cell<'_>> {
        self.columns.get(col)?.cell(row)
    }

    /// Rows `start..end` (clamped to the batch) as a batch of their own.
    pub fn rows(&self, start: usize, end: usize) -> Batch {
        let end = end.min(self.n_rows);
        let start = start.min(end);
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Num(v) => Column::Num(v[start..end].to_vec()),
                Column::Text(v) => Column::Text(v[start..end].to_vec()),
            })
            .collect();
        Batch {
            n_rows: end - start,
            columns,
        }
    }
}

/// What an estimator is given: a row-major `&[f64]` or a [`Batch`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Input<'a> {
    /// `n_rows × n_features`, row-major.
    Rows {
        x: &'a [f64],
        n_rows: usize,
        n_features: usize,
    },
    /// Columns of numbers or text.
    Batch(&'a Batch),
}

impl<'a> Input<'a> {
    pub(crate) fn n_rows(&self) -> usize {
        match self {
            Input::Rows { n_rows, .. } => *n_rows,
            Input::Batch(b) => b.n_rows,
        }
    }

    pub(crate) fn n_features(&self) -> usize {
        match self {
            Input::Rows { n_features, .. } => *n_features,
            Input::Batch(b) => b.columns.len(),
        }
    }

    /// The cell at (`row`, `col`); the caller keeps to the shape.
    pub(crate) fn cell(&self, row: usize, col: usize) -> Cell<'a> {
        match self {
            Input::Rows { x, n_features, .. } => {
                Cell::Num(x.get(row * n_features + col).copied().unwrap_or(f64::NAN))
            }
            Input::Batch(b) => b.cell(row, col).unwrap_or(Cell::Num(f64::NAN)),
        }
    }

    /// The input as row-major numbers: a string cell is an error naming
    /// its row and feature, as scikit-learn's `check_array` fails on it.
    pub(crate) fn numeric(&self, estimator: &str) -> Result<Cow<'a, [f64]>> {
        match self {
            Input::Rows { x, .. } => Ok(Cow::Borrowed(x)),
            Input::Batch(b) => {
                let n = b.columns.len();
                let mut out = vec![0.0; b.n_rows * n];
                for (f, c) in b.columns.iter().enumerate() {
                    match c {
                        Column::Num(v) => {
                            for (r, &x) in v.iter().enumerate() {
                                out[r * n + f] = x;
                            }
                        }
                        Column::Text(v) => {
                            for (r, s) in v.iter().enumerate() {
                                out[r * n + f] = match s {
                                    None => f64::NAN,
                                    Some(s) => return Err(text_for_number(estimator, s, r, f)),
                                };
                            }
                        }
                    }
                }
                Ok(Cow::Owned(out))
            }
        }
    }
}

/// A string where the estimator takes a number.
pub(crate) fn text_for_number(
    estimator: &str,
    s: &str,
    row: usize,
    feature: usize,
) -> crate::error::Error {
    data(format!(
        "{estimator}: a string, {}, where a number is expected (row {row}, feature {feature}); \
         scikit-learn's check_array could not convert it to float",
        crate::python::repr::repr_str(s.as_bytes())
    ))
}
