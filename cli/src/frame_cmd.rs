//! `pickle frame FILE [--csv OUT | --arrow OUT | --arrow-stream OUT]`: a
//! pickled pandas DataFrame (or Series) read as columns by
//! `pickle_codec::pandas`, printed, written as the CSV
//! `df.to_csv(index=False)` writes, or as an Arrow IPC file or stream with
//! the index and pyarrow's `pandas` metadata (`df.to_feather`'s layout).

use std::io::{self, BufWriter, Write};

use clap::Args;
use pickle_codec::pandas::{self, Cell, Column, CsvOptions, DataFrame, Index, Pickled};

use crate::{display_name, read_input, Failure};

pub(crate) const EXAMPLES: &str = "\
Examples:
  pickle frame sales.pkl                     # columns, dtypes, nulls, index, first rows
  pickle frame sales.pkl --csv sales.csv     # what df.to_csv('sales.csv', index=False) writes
  pickle frame sales.pkl.gz --csv -          # to_pickle's gzip/bz2/xz files; CSV on stdout
  pickle frame sales.pkl --arrow sales.arrow # Feather v2, index kept: pd.read_feather('sales.arrow')
  pickle frame sales.pkl --arrow-stream - | python3 -c \\
      'import sys, pyarrow as pa; print(pa.ipc.open_stream(sys.stdin.buffer).read_pandas())'
  pickle frame py2_frame.pkl --encoding latin1 --head 0
  cat frame.pkl | pickle frame -";

#[derive(Args)]
pub(crate) struct FrameArgs {
    /// The pickle (a `to_pickle` file: plain, gzip, bz2 or xz; or a joblib
    /// file) holding a DataFrame or a Series; `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,

    /// Write the frame as `df.to_csv(OUT, index=False)` writes it; `-`
    /// writes stdout. A file is replaced only on success.
    #[arg(long, value_name = "OUT", group = "export")]
    csv: Option<String>,

    /// Write the frame as an Apache Arrow IPC file (Feather v2, `.arrow`),
    /// laid out as `df.to_feather(OUT)` lays it out: the columns, the index
    /// (a RangeIndex as metadata, other indexes as columns) and pyarrow's
    /// `pandas` schema metadata, so that `pd.read_feather`,
    /// `pyarrow.ipc.open_file` and polars' `read_ipc` read it. `-` writes
    /// the same file format to stdout (redirect it to a file: readers of
    /// the file format need to seek; a pipe wants --arrow-stream). A file
    /// is replaced only on success.
    #[arg(long, value_name = "OUT", group = "export")]
    arrow: Option<String>,

    /// Write what --arrow writes in the Arrow IPC stream format (`.arrows`),
    /// which `pyarrow.ipc.open_stream` and polars' `read_ipc_stream` read
    /// from a pipe; `-` writes stdout.
    #[arg(long, value_name = "OUT", group = "export")]
    arrow_stream: Option<String>,

    /// Rows to print after the column list (without --csv and --arrow).
    #[arg(long, value_name = "N", default_value_t = 5)]
    head: usize,

    /// Write float32 values as numpy before 2.3 prints them (positional up
    /// to 1e16: `123456790.0`) rather than as numpy 2.3 and later do
    /// (`1.2345679e+08`): pandas' `to_csv` follows the numpy it runs on.
    #[arg(long)]
    numpy_before_2_3: bool,

    #[command(flatten)]
    load: crate::LoadArgs,
}

pub(crate) fn run(args: &FrameArgs) -> Result<(), Failure> {
    let name = display_name(&args.file);
    let data = read_input(&args.file)?;
    let pickled =
        pandas::load_with(&data, args.load.options()).map_err(|e| format!("{name}: {e}"))?;
    let kind = match pickled {
        Pickled::DataFrame(_) => "DataFrame",
        Pickled::Series(_) => "Series",
    };
    let df = pickled.into_frame();
    if let Some(out) = &args.csv {
        let mut csv = Vec::new();
        let options = CsvOptions::default().numpy_before_2_3(args.numpy_before_2_3);
        df.write_csv_with(&mut csv, options)
            .map_err(|e| format!("{name}: {e}"))?;
        return crate::write_output(out, &csv);
    }
    if let Some(out) = &args.arrow {
        let mut ipc = Vec::new();
        df.write_arrow_ipc(&mut ipc)
            .map_err(|e| format!("{name}: {e}"))?;
        return crate::write_output(out, &ipc);
    }
    if let Some(out) = &args.arrow_stream {
        let mut ipc = Vec::new();
        df.write_arrow_ipc_stream(&mut ipc)
            .map_err(|e| format!("{name}: {e}"))?;
        return crate::write_output(out, &ipc);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    print_frame(&mut out, kind, &df, args.head)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write <stdout>: {e}"))
}

fn print_frame(out: &mut impl Write, kind: &str, df: &DataFrame, head: usize) -> io::Result<()> {
    writeln!(
        out,
        "{kind}: {} rows x {} columns",
        df.len(),
        df.columns.len()
    )?;
    writeln!(out, "index: {}", describe_index(&df.index))?;
    let width = df
        .columns
        .iter()
        .map(|c| c.name.to_string().chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let dwidth = df
        .columns
        .iter()
        .map(|c| c.dtype.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(out, "{:<width$}  {:<dwidth$}  nulls", "column", "dtype")?;
    for c in &df.columns {
        writeln!(
            out,
            "{:<width$}  {:<dwidth$}  {}",
            c.name.to_string(),
            c.dtype,
            c.null_count()
        )?;
    }
    let rows = head.min(df.len());
    if rows > 0 && !df.columns.is_empty() {
        writeln!(out)?;
        let header: Vec<String> = df.columns.iter().map(|c| c.name.to_string()).collect();
        writeln!(out, "{}", header.join("\t"))?;
        // Each column as to_csv writes it (datetimes and floats as pandas
        // formats them), strings as Python's repr, nulls as <NA>.
        let fields: Vec<Option<Vec<String>>> = df
            .columns
            .iter()
            .map(|c| c.csv_fields(CsvOptions::default()).ok())
            .collect();
        for r in 0..rows {
            let row: Vec<String> = df
                .columns
                .iter()
                .zip(&fields)
                .map(|(c, f)| match (c.cell(r), f) {
                    (None | Some(Cell::Null), _) => "<NA>".into(),
                    (Some(Cell::Str(s)), _) => pickle_codec::repr::repr_str(s.as_bytes()),
                    (_, Some(f)) => f[r].clone(),
                    (_, None) => cell(c, r),
                })
                .collect();
            writeln!(out, "{}", row.join("\t"))?;
        }
        if rows < df.len() {
            writeln!(out, "... {} more rows", df.len() - rows)?;
        }
    }
    Ok(())
}

fn describe_index(ix: &Index) -> String {
    match ix {
        Index::Range {
            start,
            stop,
            step,
            name,
        } => format!(
            "RangeIndex(start={start}, stop={stop}, step={step}, name={})",
            name.repr()
        ),
        Index::Column(c) => format!("{} ({}), name={}", "Index", c.dtype, c.name.repr()),
        Index::Multi(levels) => {
            let parts: Vec<String> = levels
                .iter()
                .map(|l| format!("{} ({})", l.name.repr(), l.dtype))
                .collect();
            format!(
                "MultiIndex of {} levels: {}",
                levels.len(),
                parts.join(", ")
            )
        }
    }
}

/// One value for the terminal: Python's `repr` of strings, `<NA>` for nulls.
fn cell(c: &Column, r: usize) -> String {
    match c.cell(r) {
        None | Some(Cell::Null) => "<NA>".into(),
        Some(Cell::Bool(b)) => if b { "True" } else { "False" }.into(),
        Some(Cell::Int(i)) => i.to_string(),
        Some(Cell::UInt(u)) => u.to_string(),
        Some(Cell::Float(f)) => pickle_codec::repr::repr_float(f),
        Some(Cell::Str(s)) => pickle_codec::repr::repr_str(s.as_bytes()),
        Some(Cell::Datetime(t, u)) => format!("datetime64({t}, '{}')", u.code()),
        Some(Cell::Timedelta(t, u)) => format!("timedelta64({t}, '{}')", u.code()),
        Some(Cell::Other(s)) | Some(Cell::Object(s)) => s,
    }
}
