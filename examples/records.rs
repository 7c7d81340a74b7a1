//! Stream records to one file with repeated `to_writer`, then read them back
//! one at a time, like repeated `pickle.dump` / `pickle.load` on one file.
//!
//!     cargo run --example records

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use pickle_codec::{LoadOptions, Unpickler};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Record {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join("pickle_codec_records.pkl");
    let records: Vec<Record> = (0..5)
        .map(|i| Record {
            id: i,
            name: format!("user{i}"),
            score: i as f64 * 0.5,
            tags: vec!["a".into(), "b".into()],
        })
        .collect();

    let mut out = BufWriter::new(File::create(&path)?);
    for r in &records {
        pickle_codec::to_writer(&mut out, r)?; // one pickle per record
    }
    out.flush()?;
    drop(out);
    println!("wrote {} records to {}", records.len(), path.display());

    // One unpickler for the whole stream: it keeps its read buffer between loads.
    let mut u = Unpickler::from_reader(BufReader::new(File::open(&path)?), LoadOptions::default());
    let mut back = Vec::new();
    while !u.at_end()? {
        let r: Record = u.deserialize()?;
        println!("read {r:?}");
        back.push(r);
    }
    assert_eq!(back, records);

    // Python reads the same stream with repeated pickle.load.
    let script = "import pickle,sys\nf=open(sys.argv[1],'rb')\nn=0\nwhile True:\n    try: r=pickle.load(f)\n    except EOFError: break\n    n+=1\nprint('python3 read', n, 'records; last:', r)";
    match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
    {
        Ok(o) if o.status.success() => print!("{}", String::from_utf8_lossy(&o.stdout)),
        Ok(o) => {
            return Err(format!("python3 failed: {}", String::from_utf8_lossy(&o.stderr)).into())
        }
        Err(_) => println!("python3 not found: skipped reading the file from Python"),
    }
    std::fs::remove_file(&path)?;
    Ok(())
}
