//! `pickle json` and `pickle from-json`: the lossless JSON mapping of
//! `pickle_codec::json`, both ways.

use std::io::{self, BufWriter, Write};

use clap::Args;
use pickle_codec::json::{from_json_stream, to_json, JsonOptions};
use pickle_codec::{dumps, Unpickler};

use crate::{display_name, read_input, write_output, Failure};

pub(crate) const JSON_EXAMPLES: &str = "\
Examples:
  pickle json model.pkl > model.json
  pickle json --compact data.pkl | jq .
  pickle json model.pkl | pickle from-json - --protocol 4 -o model.p4.pkl
  pickle json weights.npz   # .npy / .npz: the arrays as pickle.dumps writes them

Plain data stays plain JSON; tuples, sets, bytes, big ints, non-str keys,
globals and objects become one-key {\"$tuple\": [...]}-style objects; shared
and cyclic values appear once with \"$id\" and then as {\"$ref\": n}. A stream
of several pickles gives one JSON value per pickle, one after another.";

pub(crate) const FROM_JSON_EXAMPLES: &str = "\
Examples:
  pickle from-json model.json --protocol 4 -o model.pkl
  pickle json old.pkl | pickle from-json - -p 2 -o - > old.p2.pkl";

#[derive(Args)]
pub(crate) struct JsonArgs {
    /// The pickle file (or torch checkpoint, .npy, .npz); `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,
    /// One line per pickle, no spaces.
    #[arg(long)]
    compact: bool,
    #[command(flatten)]
    load: crate::LoadArgs,
}

#[derive(Args)]
pub(crate) struct FromJsonArgs {
    /// The JSON file (one value per pickle); `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,
    /// The protocol to write, 0 to 5.
    #[arg(short, long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=5))]
    protocol: u8,
    /// Where to write; `-` writes stdout. A file is replaced only on success.
    #[arg(short, long = "output", value_name = "OUT")]
    output: String,
}

pub(crate) fn json(args: &JsonArgs) -> Result<(), Failure> {
    let name = display_name(&args.file);
    let data = read_input(&args.file)?;
    // A .npy or .npz: the JSON of the array pickled (DEFAULT_PROTOCOL, as
    // pickle.dumps(array) writes it), or of the dict of an .npz's arrays.
    let mut numpy_options = args.load.options();
    if let Some(doc) = crate::arrays_cmd::numpy_document(&data, name, &mut numpy_options, 4)? {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        let options = JsonOptions::default().compact(args.compact);
        to_json(&doc, &mut out, &options).map_err(|e| format!("{name}: {e}"))?;
        if args.compact {
            out.write_all(b"\n")
                .map_err(|e| format!("cannot write <stdout>: {e}"))?;
        }
        return out
            .flush()
            .map_err(|e| format!("cannot write <stdout>: {e}"));
    }
    let data = crate::checkpoint_pickles(data, name)?;
    let (data, options) =
        crate::joblib_aware(&data, args.load.options(), &args.file, args.load.options())
            .map_err(|e| format!("{name}: {e}"))?;
    let mut unpickler = Unpickler::from_slice(&data, options);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let options = JsonOptions::default().compact(args.compact);
    let mut count = 0usize;
    loop {
        if unpickler.at_end().map_err(|e| format!("{name}: {e}"))?
            || crate::ignored_rest(&data, unpickler.offset(), count, name, args.load.first)
        {
            break;
        }
        let doc = unpickler
            .load()
            .map_err(|e| format!("{name}: pickle #{}: {e}", count + 1))?;
        to_json(&doc, &mut out, &options).map_err(|e| format!("{name}: {e}"))?;
        if args.compact {
            out.write_all(b"\n")
                .map_err(|e| format!("cannot write <stdout>: {e}"))?;
        }
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "{name}: no pickle in the input (it is empty) at byte 0"
        ));
    }
    out.flush()
        .map_err(|e| format!("cannot write <stdout>: {e}"))
}

pub(crate) fn from_json(args: &FromJsonArgs) -> Result<(), Failure> {
    let name = display_name(&args.file);
    let data = read_input(&args.file)?;
    let docs = from_json_stream(&data).map_err(|e| format!("{name}: {e}"))?;
    if docs.is_empty() {
        return Err(format!("{name}: no JSON value in the input"));
    }
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let bytes = dumps(doc, args.protocol).map_err(|e| {
            format!(
                "{name}: value #{} cannot be written at protocol {}: {e}",
                i + 1,
                args.protocol
            )
        })?;
        out.extend_from_slice(&bytes);
    }
    write_output(&args.output, &out)
}
