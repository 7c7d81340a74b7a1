//! Write a DataFrame with pandas, read its columns in Rust, export CSV.
//!
//! ```text
//! pip install pandas
//! cargo run --example dataframe --features pandas
//! ```
//!
//! pandas pickles a frame as a `BlockManager` of numpy and extension
//! arrays; `pickle_codec::pandas` reads it into one `Column` per column
//! (values, nulls, the dtype pandas prints) and an `Index`, and writes the
//! CSV `df.to_csv(index=False)` writes. The example checks that CSV
//! against pandas' own. Without python3 and pandas it prints why and
//! exits 0.

use pickle_codec::pandas::{Cell, DataFrame, Index};

const WRITE: &str = r#"
import sys
import numpy as np, pandas as pd
df = pd.DataFrame({
    "city": ["Lyon", "Oslo", None, "Lima, Peru"],
    "population": pd.array([522250, 709037, None, 10092000], dtype="Int64"),
    "area_km2": [47.87, 454.0, np.nan, 2672.3],
    "coastal": [False, True, False, True],
    "kind": pd.Categorical(["city", "capital", "city", "capital"]),
    "founded": pd.to_datetime(["0043-01-01", "1048-01-01", None, "1535-01-18"], format="ISO8601").as_unit("s"),
}, index=pd.Index(["fr", "no", "xx", "pe"], name="code"))
df.to_pickle(sys.argv[1] + "/cities.pkl")
sys.stdout.write(df.to_csv(index=False))
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("pandas-dataframe-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let out = match std::process::Command::new("python3")
        .arg("-c")
        .arg(WRITE)
        .arg(&dir)
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!(
                "skipped: python3 could not write the frame (pip install pandas):\n{}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return Ok(());
        }
        Err(e) => {
            println!("skipped: python3 not found ({e})");
            return Ok(());
        }
    };
    // `to_pickle("x.pkl.gz")` (and .bz2, .xz) files are read too, with the
    // `joblib-compress` feature.
    let df = DataFrame::load_path(dir.join("cities.pkl"))?;

    if let Index::Column(ix) = &df.index {
        println!("index {} ({}), {} rows", ix.name, ix.dtype, df.len());
    }
    for c in &df.columns {
        let first = match c.cell(0) {
            Some(Cell::Str(s)) => format!("{s:?}"),
            Some(other) => format!("{other:?}"),
            None => "-".into(),
        };
        println!(
            "{:>10}  {:<14} {} null(s), first {first}",
            c.name.to_string(),
            c.dtype,
            c.null_count()
        );
    }

    let csv = df.to_csv()?;
    print!("\n{csv}");
    let pandas_csv = String::from_utf8(out.stdout)?;
    assert_eq!(csv, pandas_csv, "CSV differs from pandas' to_csv");
    println!("\nCSV identical to df.to_csv(index=False)");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
