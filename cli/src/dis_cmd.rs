//! `pickle dis`: the CLI side of `pickle_codec::dis::disassemble`.

use std::io::{self, BufWriter, Write};

use clap::Args;
use pickle_codec::dis::{disassemble, DisOptions};

use crate::{display_name, read_input, Failure};

pub(crate) const EXAMPLES: &str = "\
Examples:
  pickle dis model.pkl
  pickle dis model.pkl --annotate --memo
  pickle dis model.joblib.gz                # compressed joblib files are decompressed first
  python3 -c 'import pickle,sys; sys.stdout.buffer.write(pickle.dumps([1,2]))' | pickle dis -";

#[derive(Args)]
pub(crate) struct DisArgs {
    /// The pickle file; `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,

    /// Add a short description of each opcode.
    #[arg(long)]
    annotate: bool,

    /// Spaces of indentation per open MARK.
    #[arg(long, value_name = "N", default_value_t = 4)]
    indent: usize,

    /// Show the memo: what each PUT stores and each GET fetches.
    #[arg(long)]
    memo: bool,
}

pub(crate) fn run(args: &DisArgs) -> Result<(), Failure> {
    let name = display_name(&args.file);
    let data = crate::checkpoint_pickles(read_input(&args.file)?, name)?;
    // A compressed joblib file is shown as what it decompresses to.
    let data = crate::decompressed(&data).map_err(|e| format!("{name}: {e}"))?;
    // An object array's .npy holds a pickle after its header: that is
    // listed (offsets from the pickle's start, as pickletools on it gives).
    let data = match npy_pickle(&data).map_err(|e| format!("{name}: {e}"))? {
        Some(start) => std::borrow::Cow::Owned(data[start..].to_vec()),
        None => data,
    };
    let options = DisOptions::default()
        .annotate(args.annotate)
        .indent(args.indent)
        .memo(args.memo);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = disassemble(&data, &mut out, &options);
    // Flush what was disassembled before the error line, as pickletools does.
    let flushed = out.flush();
    result.map_err(|e| format!("{name}: {e}"))?;
    flushed.map_err(|e| format!("cannot write <stdout>: {e}"))
}

/// Where the pickle of an object array's `.npy` starts; `None` for what is
/// not a `.npy`, an error for a `.npy` of raw data (no pickle in it).
fn npy_pickle(data: &[u8]) -> Result<Option<usize>, String> {
    if !data.starts_with(b"\x93NUMPY") {
        return Ok(None);
    }
    let h = pickle_codec::numpy::NpyHeader::parse(data).map_err(|e| e.to_string())?;
    if !h.has_object() {
        return Err(format!(
            "a .npy of raw {} data holds no pickle to disassemble (`pickle arrays` lists it) at byte 0",
            h.dtype.str()
        ));
    }
    usize::try_from(h.data_offset)
        .map(Some)
        .map_err(|e| e.to_string())
}
