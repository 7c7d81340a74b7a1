//! `pickle predict MODEL INPUT [-o OUT] [--proba]`: score a CSV with a
//! pickled (or `joblib.dump`ed, compressed too) scikit-learn model, in Rust
//! (issue #21).
//!
//! # Input
//!
//! INPUT is a CSV as Python's `csv` module reads it (the excel dialect):
//! fields separated by `,`, quoted with `"` (a quote inside a quoted field
//! doubled; a quoted field may hold commas and newlines), records ended by
//! LF, CRLF or CR, a trailing newline or none, a leading UTF-8 byte order
//! mark dropped (as `pandas.read_csv` drops it). Blank lines are skipped,
//! as `pandas.read_csv` skips them (so a lone missing value in a one-column
//! file is written `""`). A quoted field left open at the end of the input
//! is an error (Python's non-strict reader would take it as it is).
//!
//! The first record is the header. With a model fitted on a DataFrame
//! (`feature_names_in_`), columns are matched to its features by name,
//! exactly (case and spaces count, as pandas compares them), in any order;
//! a feature missing from the header is an error listing every missing
//! name, and columns the model does not use are left out with a `note:` on
//! stderr. scikit-learn itself refuses such a DataFrame (columns out of
//! order or unseen at fit are a `ValueError`); what `pickle predict`
//! computes is `model.predict(df[model.feature_names_in_])`. A model
//! without feature names takes the columns by position, and the input must
//! have exactly `n_features_in_` of them.
//!
//! A cell of a column that feeds a feature fitted on string categories (a
//! `OneHotEncoder` or `OrdinalEncoder` on text, alone or first in a
//! pipeline, or a `HistGradientBoosting*` fitted on a DataFrame with
//! `category` columns of strings) passes its text as it is, spaces and all,
//! even where it looks like a number (pandas would read a column of digits
//! as numbers, which never match string categories). An empty cell there is
//! a missing value (NaN, as `pandas.read_csv` reads it); the other texts
//! pandas takes as missing by default (`NA`, `null`, `nan`, ...) are text,
//! as with `read_csv(na_values=[""], keep_default_na=False)`. A text unseen
//! at fit is encoded as the model's `handle_unknown` says, or is an error
//! naming its line, row and column. Every other cell is parsed as Python's
//! `float()` parses a string: surrounding
//! whitespace, `_` between digits, `nan`, `inf`, `infinity` (any case, with
//! a sign) are accepted; non-ASCII digits (which `float()` also reads) are
//! not. An empty cell is a missing value (NaN). Anything else is an error
//! naming the line, the data row and the column (1-based) and the text. A
//! record with another number of cells than the header is an error naming
//! its line and row. A value the estimator refuses as scikit-learn's
//! `check_array` would (infinity; NaN for linear models and gradient
//! boosting) is an error naming its line, row and column.
//!
//! # Output
//!
//! A CSV as `pandas.DataFrame.to_csv(index=False)` writes it (lines end in
//! `\n`, fields quoted as `csv.QUOTE_MINIMAL` quotes them, a record of one
//! empty field written `""`), one row per input row:
//!
//! * without `--proba`: one column `prediction`; a multi-output model has
//!   one column per output, `prediction_0`, `prediction_1`, ... Class
//!   labels are written as Python's `str(label)` (ints as ints, strings as
//!   they are, bools as `True`/`False`, floats as `repr`), regression values
//!   as Python's `repr(float)`;
//! * with `--proba`: one column per class, named by its label as above,
//!   holding `predict_proba`'s probabilities as `repr(float)`; for a
//!   multi-output classifier, `output_0_LABEL`, ... for each output in turn.
//!
//! A NaN value is written as an empty cell, as pandas writes it (`na_rep`).
//! An input with a header and no rows gives the output's header alone
//! (scikit-learn refuses an empty batch).
//!
//! The output is written only once everything is computed: a failure leaves
//! an existing OUT as it was.

use std::borrow::Cow;
use std::io::IsTerminal;

use pickle_codec::repr::{repr_float, repr_str};
use pickle_codec::sklearn::{Batch, Classes, Column, Label, Model, Predictions, Step};

use crate::{display_name, read_input, write_output, Failure};

pub const EXAMPLES: &str = "\
Input: a CSV (Python's csv dialect: quoted fields, LF or CRLF) with a header
row. Columns are matched to the model's feature_names_in_ by name, in any
order (extra columns are left out with a note), or taken by position when it
was fitted without names. Cells are read as Python's float() reads them,
except in a column that feeds a feature fitted on string categories (a
OneHotEncoder or OrdinalEncoder on text, HistGradientBoosting on pandas
category columns of strings), whose text is passed as it is. An empty cell is
a missing value (NaN).

Output: the CSV that pandas' to_csv(index=False) writes for the same
predictions, lines ending in \\n: one column `prediction` (class labels as
str(label), values as repr(float); `prediction_0`, ... for multi-output
models), or with --proba one column per class, named by its label.

Examples:
  # Class labels of each row of data.csv, written to preds.csv:
  pickle predict model.joblib data.csv -o preds.csv
  # Probabilities, one column per class, to stdout:
  pickle predict model.pkl data.csv --proba
  # From stdin to stdout:
  printf 'sepal_len,sepal_wid\\n5.1,3.5\\n6.2,\\n' | pickle predict model.joblib - -o -";

/// Arguments of `pickle predict`.
#[derive(clap::Args, Debug, Clone)]
pub struct PredictArgs {
    /// The fitted scikit-learn estimator: a pickle or joblib file
    /// (compressed too); `-` reads stdin.
    #[arg(value_name = "MODEL")]
    pub model: String,
    /// The CSV to score: a header row, then one row per sample; `-` reads stdin.
    #[arg(value_name = "INPUT")]
    pub input: String,
    /// Where to write the CSV of predictions; `-` (the default) writes
    /// stdout. A file is replaced only on success.
    #[arg(short, long = "output", value_name = "OUT", default_value = "-")]
    pub output: String,
    /// Write predict_proba's probabilities, one column per class, instead of predictions.
    #[arg(long)]
    pub proba: bool,
}

/// Rows predicted at a time (the progress bar moves between batches).
const BATCH: usize = 4096;

/// `pickle predict`.
pub fn run(args: &PredictArgs) -> Result<(), Failure> {
    if args.model == "-" && args.input == "-" {
        return Err("MODEL and INPUT cannot both be stdin (-)".to_string());
    }
    let model_name = display_name(&args.model);
    let model = if args.model == "-" {
        Model::from_slice(&read_input("-")?)
    } else {
        Model::load_path(&args.model)
    }
    .map_err(|e| {
        // The library's I/O errors already start with the path.
        if e.to_string().starts_with(&args.model) {
            e.to_string()
        } else {
            format!("{model_name}: {e}")
        }
    })?;
    let estimator = model.estimator_name().to_string();
    if model.n_features_out().is_some() {
        return Err(format!(
            "{model_name}: {estimator} is a transformer: it has no predict"
        ));
    }
    if args.proba && model.output_classes().is_empty() {
        return Err(format!(
            "{model_name}: --proba: {estimator} has no predict_proba (it is not a classifier)"
        ));
    }

    let input_name = display_name(&args.input);
    let bytes = read_input(&args.input)?;
    let progress = Progress::new(bytes.len() as u64);
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| format!("{input_name}: not UTF-8 text (at byte {})", e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let table = read_table(text, &model, input_name, &progress)?;

    progress.start_rows(table.n_rows as u64);
    let out = if args.proba {
        proba_csv(&model, &table, &progress)
    } else {
        predict_csv(&model, &table, &progress)
    }
    .map_err(|(start, e)| {
        progress.finish();
        located(&model, &table, args.proba, start, &e)
            .map(|(row, msg)| {
                format!(
                    "{input_name}: line {} (row {}): {model_name}: {msg}",
                    table.lines[row],
                    row + 1
                )
            })
            .unwrap_or_else(|| format!("{model_name}: {e}"))
    })?;
    progress.finish();
    write_output(&args.output, out.as_bytes())
}

/// The input's cells in the model's feature order.
struct Table {
    n_rows: usize,
    x: Batch,
    /// The line each row starts on.
    lines: Vec<usize>,
    /// For each feature, its column (1-based) and header name.
    columns: Vec<(usize, String)>,
}

fn read_table(
    text: &str,
    model: &Model,
    name: &str,
    progress: &Progress,
) -> Result<Table, Failure> {
    let mut reader = CsvReader::new(text);
    let (_, header) = reader
        .next_record()
        .map_err(|e| format!("{name}: {e}"))?
        .ok_or_else(|| format!("{name}: no header row (the input is empty)"))?;
    let n_features = model.n_features();
    // columns[j]: the input column of the model's feature j.
    let columns: Vec<usize> = match model.feature_names() {
        Some(names) => {
            let mut columns = Vec::with_capacity(names.len());
            let mut missing = Vec::new();
            for feature in names {
                let mut at = header.iter().enumerate().filter(|(_, h)| *h == feature);
                match (at.next(), at.next()) {
                    (Some((i, _)), None) => columns.push(i),
                    (Some(_), Some(_)) => {
                        return Err(format!(
                            "{name}: the header names column {} more than once",
                            repr_str(feature.as_bytes())
                        ))
                    }
                    (None, _) => missing.push(repr_str(feature.as_bytes())),
                }
            }
            if !missing.is_empty() {
                return Err(format!(
                    "{name}: the header lacks {} of the model's features: {}",
                    missing.len(),
                    missing.join(", ")
                ));
            }
            let extra: Vec<String> = header
                .iter()
                .enumerate()
                .filter(|(i, _)| !columns.contains(i))
                .map(|(_, h)| repr_str(h.as_bytes()))
                .collect();
            if !extra.is_empty() {
                eprintln!(
                    "note: {name}: left out {} column(s) the model does not use: {}",
                    extra.len(),
                    extra.join(", ")
                );
            }
            columns
        }
        None => {
            if header.len() != n_features {
                return Err(format!(
                    "{name}: {} columns, but the model (fitted without feature names) takes \
                     {n_features}, by position",
                    header.len()
                ));
            }
            (0..n_features).collect()
        }
    };

    // A feature fitted on string categories takes the cell's text.
    let text = model.text_features();
    let mut x: Vec<Column> = (0..n_features)
        .map(|f| {
            if text.get(f).copied().unwrap_or(false) {
                Column::Text(Vec::new())
            } else {
                Column::Num(Vec::new())
            }
        })
        .collect();
    let mut lines = Vec::new();
    let mut n_rows = 0usize;
    let mut next_update = BATCH;
    while let Some((line, record)) = reader.next_record().map_err(|e| format!("{name}: {e}"))? {
        n_rows += 1;
        lines.push(line);
        if record.len() != header.len() {
            return Err(format!(
                "{name}: line {line} (row {n_rows}) has {} cells, the header has {}",
                record.len(),
                header.len()
            ));
        }
        for (&c, column) in columns.iter().zip(x.iter_mut()) {
            let cell = &record[c];
            let column = match column {
                Column::Text(v) => {
                    v.push((!cell.is_empty()).then(|| cell.to_string()));
                    continue;
                }
                Column::Num(v) => v,
            };
            let value = if cell.is_empty() {
                f64::NAN
            } else {
                python_float(cell).ok_or_else(|| {
                    format!(
                        "{name}: line {line} (row {n_rows}), column {} ({}): \
                         could not convert string to float: {}",
                        c + 1,
                        repr_str(header[c].as_bytes()),
                        repr_str(cell.as_bytes())
                    )
                })?
            };
            column.push(value);
        }
        if n_rows == next_update {
            progress.set(reader.pos as u64);
            next_update += BATCH;
        }
    }
    let x = Batch::from_columns(x).map_err(|e| format!("{name}: {e}"))?;
    Ok(Table {
        n_rows,
        x,
        lines,
        columns: columns
            .iter()
            .map(|&c| (c + 1, header[c].to_string()))
            .collect(),
    })
}

/// What Python's `float(s)` gives for a string, or `None` where it raises
/// `ValueError` (but for non-ASCII digits, which are refused here).
pub(crate) fn python_float(s: &str) -> Option<f64> {
    // str.strip()'s whitespace: Unicode White_Space and the separators
    // U+001C..U+001F, which Python counts as space.
    let s = s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    let b = s.as_bytes();
    let digits_and_signs = |c: &u8| c.is_ascii_digit() || b"+-.eE_".contains(c);
    if !b.is_empty() && b.iter().all(digits_and_signs) {
        // A decimal: `_` only between two digits (PEP 515).
        let mut clean = String::with_capacity(s.len());
        for (i, &c) in b.iter().enumerate() {
            if c == b'_' {
                let before = i > 0 && b[i - 1].is_ascii_digit();
                let after = b.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !(before && after) {
                    return None;
                }
            } else {
                clean.push(c as char);
            }
        }
        return clean.parse().ok();
    }
    let (sign, word) = match b.first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
        Some(sign * f64::INFINITY)
    } else if word.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// A record's first line (1-based) and its fields.
type Record<'a> = (usize, Vec<Cow<'a, str>>);

/// A CSV reader with Python's `csv` excel dialect (non-strict), over text.
struct CsvReader<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
}

impl<'a> CsvReader<'a> {
    fn new(text: &'a str) -> CsvReader<'a> {
        CsvReader {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The next non-blank record and the line it starts on; `None` at the end.
    fn next_record(&mut self) -> Result<Option<Record<'a>>, String> {
        let bytes = self.text.as_bytes();
        // Blank lines (a record without fields) are skipped.
        while let Some(&c) = bytes.get(self.pos) {
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                }
                b'\r' => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                }
                _ => break,
            }
        }
        if self.pos >= bytes.len() {
            return Ok(None);
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        loop {
            // At the start of a field.
            if bytes.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                let mut field = String::new();
                loop {
                    let rest = &self.text[self.pos..];
                    let Some(q) = rest.find('"') else {
                        return Err(format!(
                            "line {start_line}: a quoted field is not closed at the end of the input"
                        ));
                    };
                    let inside = &rest[..q];
                    self.line += inside.matches('\n').count() + inside.matches('\r').count()
                        - inside.matches("\r\n").count();
                    field.push_str(inside);
                    self.pos += q + 1;
                    if bytes.get(self.pos) == Some(&b'"') {
                        field.push('"');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                // After the closing quote, the non-strict reader keeps what
                // follows up to the delimiter as part of the field.
                let end = self.unquoted_end();
                field.push_str(&self.text[self.pos..end]);
                self.pos = end;
                fields.push(Cow::Owned(field));
            } else {
                let end = self.unquoted_end();
                fields.push(Cow::Borrowed(&self.text[self.pos..end]));
                self.pos = end;
            }
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => break, // the end of the input
            }
        }
        Ok(Some((start_line, fields)))
    }

    /// Where the unquoted text from `pos` ends: at a delimiter, a line end or the end.
    fn unquoted_end(&self) -> usize {
        self.text.as_bytes()[self.pos..]
            .iter()
            .position(|c| matches!(c, b',' | b'\r' | b'\n'))
            .map_or(self.text.len(), |i| self.pos + i)
    }
}

/// One CSV record as `csv.writer` (QUOTE_MINIMAL, `\n`) writes it.
fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    if let [only] = fields {
        if only.as_ref().is_empty() {
            // A lone empty field is quoted, or the record would be a blank line.
            out.push_str("\"\"\n");
            return;
        }
    }
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let f = f.as_ref();
        if f.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
}

/// A float as pandas' `to_csv` writes it: `repr`, NaN as an empty cell.
fn float_cell(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        repr_float(x)
    }
}

/// Python's `str(label)`.
fn label_text(label: &Label) -> String {
    match label {
        Label::Int(i) => i.to_string(),
        Label::Float(f) => repr_float(*f),
        Label::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Label::Str(s) => s.clone(),
    }
}

fn class_names(classes: &Classes) -> Vec<String> {
    (0..classes.len())
        .filter_map(|i| classes.label(i))
        .map(|l| label_text(&l))
        .collect()
}

/// A failure of the batch that starts at a row (0-based).
type BatchError = (usize, pickle_codec::Error);

/// Run `f` on batches of rows, moving the progress bar.
fn batches(
    table: &Table,
    progress: &Progress,
    mut f: impl FnMut(&Batch) -> pickle_codec::Result<()>,
) -> Result<(), BatchError> {
    let mut done = 0usize;
    while done < table.n_rows {
        let chunk = table.x.rows(done, done + BATCH);
        f(&chunk).map_err(|e| (done, e))?;
        done += chunk.n_rows();
        progress.set(done as u64);
    }
    Ok(())
}

/// The library names a refused value by its row and feature in the batch
/// (`(row 3, feature 1)`, from 0): find the first such row of the batch
/// that failed, from `start`, and the message with the feature named by the
/// input's column (for a pipeline, whose later steps check their own
/// input, the feature is left as the library names it). `None` when the
/// failure is not about one row.
fn located(
    model: &Model,
    table: &Table,
    proba: bool,
    start: usize,
    batch_error: &pickle_codec::Error,
) -> Option<(usize, String)> {
    if !batch_error.to_string().contains("(row ") {
        return None;
    }
    let end = (start + BATCH).min(table.n_rows);
    (start..end).find_map(|row| {
        let x = table.x.rows(row, row + 1);
        let e = if proba {
            model.predict_proba_outputs_batch(&x).err()?
        } else {
            model.predict_batch(&x).err()?
        };
        let msg = e.to_string();
        let at = msg.find("(row 0, feature ")?;
        let rest = &msg[at + "(row 0, feature ".len()..];
        let digits = rest.find(')')?;
        let feature: usize = rest[..digits].parse().ok()?;
        // A pipeline's first step names the input's features; a later one
        // its own input's (told apart by the estimator's name, when no
        // later step has the same).
        let input_feature = match model {
            Model::Pipeline(p) => {
                let names: Vec<&str> = p
                    .steps()
                    .iter()
                    .filter_map(|(_, s)| match s {
                        Step::Model(m) => Some(m.estimator_name()),
                        Step::Passthrough => None,
                    })
                    .collect();
                names.split_first().is_some_and(|(first, rest)| {
                    !rest.contains(first)
                        && (msg.starts_with(&format!("{first}:"))
                            || msg.starts_with(&format!("{first} (")))
                })
            }
            _ => true,
        };
        let named = match (input_feature, table.columns.get(feature)) {
            (false, _) | (_, None) => format!("(feature {feature})"),
            (_, Some((column, name))) => {
                format!("(column {column}, {})", repr_str(name.as_bytes()))
            }
        };
        Some((row, format!("{}{named}{}", &msg[..at], &rest[digits + 1..])))
    })
}

fn predict_csv(model: &Model, table: &Table, progress: &Progress) -> Result<String, BatchError> {
    let mut out = String::new();
    let mut header_written = false;
    let mut header = |out: &mut String, n_outputs: usize| {
        if header_written {
            return;
        }
        header_written = true;
        if n_outputs == 1 {
            write_record(out, &["prediction"]);
        } else {
            let names: Vec<String> = (0..n_outputs).map(|i| format!("prediction_{i}")).collect();
            write_record(out, &names);
        }
    };
    let known_outputs = match model.output_classes().len() {
        0 => None,
        n => Some(n),
    };
    if table.n_rows == 0 {
        header(&mut out, known_outputs.unwrap_or(1));
        return Ok(out);
    }
    let mut row = Vec::new();
    batches(table, progress, |x| {
        match model.predict_batch(x)? {
            Predictions::Labels(labels) => {
                let k = labels.n_outputs.max(1);
                header(&mut out, k);
                for r in labels.labels.chunks(k) {
                    row.clear();
                    row.extend(r.iter().map(label_text));
                    write_record(&mut out, &row);
                }
            }
            Predictions::Values(values) => {
                let k = values.n_cols.max(1);
                header(&mut out, k);
                for r in values.data.chunks(k) {
                    row.clear();
                    row.extend(r.iter().map(|&v| float_cell(v)));
                    write_record(&mut out, &row);
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

fn proba_csv(model: &Model, table: &Table, progress: &Progress) -> Result<String, BatchError> {
    let outputs = model.output_classes();
    let mut names = Vec::new();
    if let [classes] = outputs {
        names = class_names(classes);
    } else {
        for (i, classes) in outputs.iter().enumerate() {
            names.extend(
                class_names(classes)
                    .into_iter()
                    .map(|l| format!("output_{i}_{l}")),
            );
        }
    }
    let mut out = String::new();
    write_record(&mut out, &names);
    let mut row = Vec::with_capacity(names.len());
    batches(table, progress, |x| {
        let per_output = model.predict_proba_outputs_batch(x)?;
        for i in 0..x.n_rows() {
            row.clear();
            for m in &per_output {
                if let Some(r) = m.row(i) {
                    row.extend(r.iter().map(|&p| float_cell(p)));
                }
            }
            write_record(&mut out, &row);
        }
        Ok(())
    })?;
    Ok(out)
}

/// A progress bar on stderr for inputs over 16 MiB, when stderr is a
/// terminal: bytes while the CSV is read, then rows while they are scored.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    const THRESHOLD: u64 = 16 << 20;

    fn new(total: u64) -> Progress {
        if total <= Self::THRESHOLD || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} reading [{bar:40}] {bytes}/{total_bytes} ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn start_rows(&self, rows: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(rows);
            bar.set_position(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} scoring [{bar:40}] {pos}/{len} rows ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        }
    }

    fn set(&self, position: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
        let mut r = CsvReader::new(text);
        let mut all = Vec::new();
        while let Some((line, rec)) = r.next_record()? {
            all.push((line, rec.into_iter().map(|c| c.into_owned()).collect()));
        }
        Ok(all)
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn csv_reads_as_pythons_csv_module() {
        // list(csv.reader(io.StringIO(t, newline=''))), blank records skipped.
        let got = records("a,b\n\n\"x\"y,2\r\n\"q\"\"\",\"\"\r3,\n").unwrap();
        assert_eq!(
            got,
            vec![
                (1, strs(&["a", "b"])),
                (3, strs(&["xy", "2"])),
                (4, strs(&["q\"", ""])),
                (5, strs(&["3", ""])),
            ]
        );
        let got = records("a,\"b\nc\"\n1,2").unwrap();
        assert_eq!(got, vec![(1, strs(&["a", "b\nc"])), (3, strs(&["1", "2"]))]);
        assert_eq!(
            records("x\"y,z\na, \"b\"\n").unwrap(),
            vec![(1, strs(&["x\"y", "z"])), (2, strs(&["a", " \"b\""]))]
        );
        assert_eq!(records("a\n\"\"\n").unwrap()[1].1, strs(&[""]));
        assert_eq!(records("").unwrap(), vec![]);
        assert!(records("a,\"b\n").unwrap_err().contains("line 1"));
    }

    #[test]
    fn floats_parse_as_python_float_does() {
        let ok = [
            ("1_0", 10.0),
            (" 1e5 ", 1e5),
            ("-iNfinity", f64::NEG_INFINITY),
            ("+inf", f64::INFINITY),
            ("1.", 1.0),
            (".5", 0.5),
            ("\t2\n", 2.0),
            ("\u{a0}1", 1.0),
            ("1_0.5_5e1_0", 105500000000.0),
            ("-0", -0.0),
        ];
        for (s, want) in ok {
            assert_eq!(python_float(s), Some(want), "{s:?}");
        }
        assert!(python_float("+nan").unwrap().is_nan());
        assert!(python_float("-NaN").unwrap().is_nan());
        for bad in [
            "1__0", "_1", "1_", "0x10", "1e_5", "", " ", "abc", "1,5", "nan1", "e5", ".", "--1",
            "infinit",
        ] {
            assert_eq!(python_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn records_are_written_as_csv_writer_writes_them() {
        let mut out = String::new();
        write_record(&mut out, &["a,b", "x\"y", "", "é", " s", "l\nm"]);
        write_record(&mut out, &[""]);
        write_record(&mut out, &["", ""]);
        assert_eq!(out, "\"a,b\",\"x\"\"y\",,é, s,\"l\nm\"\n\"\"\n,\n");
        assert_eq!(float_cell(f64::NAN), "");
        assert_eq!(float_cell(1e16), "1e+16");
        assert_eq!(label_text(&Label::Bool(true)), "True");
        assert_eq!(label_text(&Label::Float(1.0)), "1.0");
    }
}
