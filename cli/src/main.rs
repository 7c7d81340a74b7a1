//! `pickle`: convert and inspect Python pickles (protocols 0 to 5) without Python.
//!
//! Exit codes: 0 success; 1 bad data or I/O failure, with exactly one line on
//! stderr that starts with `error:`; 2 usage errors (clap's).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pickle_codec::{dumps, Encoding, Errors, LoadOptions, Unpickler};

mod arrays_cmd;
mod convert_cmd;
mod dis_cmd;
mod frame_cmd;
mod json_cmd;
mod predict_cmd;
mod scan_cmd;

const MAIN_EXAMPLES: &str = "\
Examples:
  pickle convert model.pkl --protocol 2 -o model.p2.pkl
  cat data.pkl | pickle convert - --protocol 5 -o - > data.p5.pkl
  pickle convert py2.pkl --protocol 4 --encoding latin1 -o py3.pkl";

const ARRAYS_EXAMPLES: &str = "\
Examples:
  pickle arrays model.joblib                # path, dtype, shape, stride, offset, size, sha256
  pickle arrays --json checkpoint.pt | jq '.[].shape'
  pickle arrays py2_arrays.pkl --encoding latin1
  pickle arrays model.safetensors            # each tensor by its name
  cat arrays.pkl | pickle arrays -";

const CONVERT_EXAMPLES: &str = "\
Examples:
  # Re-encode every pickle of a stream at protocol 2 (readable by Python 2.7):
  pickle convert model.pkl --protocol 2 -o model.p2.pkl
  # Protocol-5 pickle with two out-of-band buffers: bring them in band:
  pickle convert arrays.pkl --buffer arrays.buf0 --buffer arrays.buf1 --protocol 5 -o arrays.inband.pkl
  # Python 2 pickle holding binary str data (numpy, datetime): decode as latin1:
  pickle convert py2.pkl --encoding latin1 --protocol 4 -o py3.pkl
  # Python 2 pickle of Russian text in KOI8-R, undecodable bytes as U+FFFD:
  pickle convert py2.pkl --encoding koi8-r --errors replace -p 4 -o py3.pkl
  # Filter stdin to stdout:
  cat data.pkl | pickle convert - -p 0 -o -
  # A .npy becomes the pickle of its array (an object array's own pickle,
  # re-encoded), an .npz the pickle of a dict of its arrays:
  pickle convert weights.npy --protocol 4 -o weights.pkl
  # A PyTorch checkpoint's tensors as a safetensors file (names joined by '.',
  # as model.state_dict() names them), and back:
  pickle convert model.pt --to safetensors -o model.safetensors
  pickle convert checkpoint.pt --to safetensors --skip-non-tensors --metadata format=pt -o model.safetensors
  pickle convert model.safetensors --to torch -o model.pt";

/// Convert and inspect Python pickles (protocols 0-5) without Python.
///
/// Nothing in a pickle is ever imported or called: classes, functions and
/// REDUCE calls are kept as inert data and written back as they were.
#[derive(Parser)]
#[command(name = "pickle", version, after_help = MAIN_EXAMPLES, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load every pickle of FILE and write each again at another protocol.
    #[command(after_help = CONVERT_EXAMPLES)]
    Convert(ConvertArgs),
    /// Disassemble a pickle, like `python -m pickletools`.
    #[command(after_help = dis_cmd::EXAMPLES)]
    Dis(dis_cmd::DisArgs),
    /// Tell whether loading pickles would run code, without loading them.
    #[command(after_help = scan_cmd::EXAMPLES)]
    Scan(scan_cmd::ScanArgs),
    /// Print pickles as JSON (lossless: `from-json` turns it back).
    #[command(after_help = json_cmd::JSON_EXAMPLES)]
    Json(json_cmd::JsonArgs),
    /// Write pickles from the JSON that `pickle json` prints.
    #[command(after_help = json_cmd::FROM_JSON_EXAMPLES)]
    FromJson(json_cmd::FromJsonArgs),
    /// List every numpy array and torch tensor in a pickle, joblib file, checkpoint or safetensors file.
    #[command(after_help = ARRAYS_EXAMPLES)]
    Arrays(arrays_cmd::ArraysArgs),
    /// Print a pickled pandas DataFrame or Series, or write it as CSV (`df.to_csv(index=False)`) or as an Arrow IPC (Feather) file.
    #[command(after_help = frame_cmd::EXAMPLES)]
    Frame(frame_cmd::FrameArgs),
    /// Score a CSV with a pickled scikit-learn model: predictions or class probabilities, as CSV.
    #[command(after_help = predict_cmd::EXAMPLES)]
    Predict(predict_cmd::PredictArgs),
}

#[derive(Args)]
struct ConvertArgs {
    /// The pickle file (one pickle or several concatenated); with --to, a
    /// PyTorch checkpoint or a safetensors file; `-` reads stdin.
    #[arg(value_name = "FILE")]
    file: String,

    /// The protocol to write, 0 to 5.
    #[arg(short, long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=5),
          required_unless_present = "to", conflicts_with = "to")]
    protocol: Option<u8>,

    /// Convert a PyTorch checkpoint to a safetensors file (its tensors,
    /// named by their paths joined by '.', as model.state_dict() names
    /// them), or a safetensors file to a PyTorch checkpoint (an
    /// OrderedDict of its tensors, as torch.save writes it).
    #[arg(long, value_name = "FORMAT", value_enum)]
    to: Option<Target>,

    /// With --to safetensors: leave out the values that are not tensors
    /// (epochs, names, ...; a note lists them) instead of refusing the
    /// checkpoint.
    #[arg(long, requires = "to")]
    skip_non_tensors: bool,

    /// With --to safetensors: an entry of the file's __metadata__, KEY=VALUE
    /// (repeat the option; Hugging Face's loaders want format=pt).
    #[arg(long, value_name = "KEY=VALUE", requires = "to", value_parser = parse_metadata)]
    metadata: Vec<(String, String)>,

    /// With --to: do not compare each checkpoint record's CRC-32 as it is
    /// read (by default a damaged record is an error naming it).
    #[arg(long, requires = "to")]
    no_crc_check: bool,

    /// With --to: sync the output to disk before it replaces OUT (`fsync`;
    /// by default it is renamed into place unsynced, as `cp` leaves a copy).
    #[arg(long, requires = "to")]
    sync: bool,

    /// Where to write; `-` writes stdout. A file is replaced only on success.
    #[arg(short, long = "output", value_name = "OUT")]
    output: String,

    /// A protocol-5 out-of-band buffer file, in the order the pickle uses them
    /// (repeat the option). Buffers are written in band.
    #[arg(long = "buffer", value_name = "BUF")]
    buffers: Vec<PathBuf>,

    #[command(flatten)]
    load: LoadArgs,
}

/// What `convert --to` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Target {
    /// A safetensors file, from a PyTorch checkpoint.
    Safetensors,
    /// A PyTorch checkpoint (torch.save's zip), from a safetensors file.
    Torch,
}

fn parse_metadata(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// The options of `pickle.load` and the loader's limits, for every command
/// that loads values.
#[derive(Args, Clone, Debug)]
pub(crate) struct LoadArgs {
    /// How Python 2 `str` data decodes, as `pickle.load(encoding=...)`: a
    /// codec name or alias as Python spells it (ASCII, latin1, utf-8,
    /// koi8-r, cp1252, cp932, gb18030, ...), or `bytes` to keep them as bytes.
    #[arg(long, value_name = "NAME", default_value = "ASCII", value_parser = parse_encoding)]
    pub(crate) encoding: Encoding,

    /// What to do with bytes that --encoding cannot decode, as
    /// `pickle.load(errors=...)`: strict (fail), replace (U+FFFD) or ignore.
    #[arg(long, value_name = "HOW", default_value = "strict", value_parser = parse_errors)]
    pub(crate) errors: Errors,

    /// Most digits of a decimal int in a protocol-0 pickle, as Python's
    /// `sys.set_int_max_str_digits`; 0 lifts the limit.
    #[arg(long, value_name = "N", default_value_t = 4300)]
    pub(crate) max_int_digits: usize,

    /// Read only the first pickle, as `pickle.load` does, and leave what
    /// follows it (a note says how many bytes); without it every pickle of
    /// a stream is read, and bytes after the last that are not padding fail.
    #[arg(long)]
    pub(crate) first: bool,
}

impl Default for LoadArgs {
    fn default() -> LoadArgs {
        LoadArgs {
            encoding: Encoding::Ascii,
            errors: Errors::Strict,
            max_int_digits: 4300,
            first: false,
        }
    }
}

impl LoadArgs {
    /// The loader's options these flags ask for.
    pub(crate) fn options(&self) -> LoadOptions {
        LoadOptions::default()
            .encoding(self.encoding)
            .errors(self.errors)
            .max_int_digits(self.max_int_digits)
    }
}

fn parse_encoding(name: &str) -> Result<Encoding, String> {
    Encoding::named(name).map_err(|e| e.to_string())
}

fn parse_errors(name: &str) -> Result<Errors, String> {
    Errors::named(name).map_err(|e| e.to_string())
}

/// The library's errors name the `LoadOptions` field behind a limit or a
/// decoding failure; on the command line, name the flag instead.
fn flag_names(msg: &str) -> String {
    msg.replace("(LoadOptions::encoding)", "(--encoding, --errors)")
        .replace("(LoadOptions::max_int_digits)", "(--max-int-digits)")
        .replace("(LoadOptions::buffers)", "(--buffer)")
        .replace("(skip_other_values leaves", "(--skip-non-tensors leaves")
}

/// A failure to report: one line, without the `error: ` prefix.
pub(crate) type Failure = String;

fn main() -> ExitCode {
    // The library promises errors, never panics; should one slip through,
    // still keep stderr to one `error:` line (the exit status stays 101).
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: internal error (please report this bug): {}",
            one_line(&info.to_string())
        );
    }));

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => {
            // clap counts `--protocol`'s conflict with `--to` as meeting
            // these options' `requires = "to"`: checked here.
            if args.to.is_none()
                && (args.skip_non_tensors
                    || args.no_crc_check
                    || args.sync
                    || !args.metadata.is_empty())
            {
                use clap::CommandFactory;
                Cli::command()
                    .error(
                        clap::error::ErrorKind::MissingRequiredArgument,
                        "--skip-non-tensors, --metadata, --no-crc-check and --sync go with --to",
                    )
                    .exit();
            }
            convert(&args)
        }
        Command::Dis(args) => dis_cmd::run(&args),
        Command::Json(args) => json_cmd::json(&args),
        Command::FromJson(args) => json_cmd::from_json(&args),
        Command::Arrays(args) => arrays_cmd::run(&args),
        Command::Frame(args) => frame_cmd::run(&args),
        Command::Predict(args) => predict_cmd::run(&args),
        Command::Scan(args) => return ExitCode::from(scan_cmd::run(args).clamp(0, 255) as u8),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {}", one_line(&flag_names(&msg)));
            ExitCode::from(1)
        }
    }
}

/// Keep an error message to a single line.
fn one_line(msg: &str) -> String {
    msg.split(['\n', '\r'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How an input is named in messages.
pub(crate) fn display_name(file: &str) -> &str {
    if file == "-" {
        "<stdin>"
    } else {
        file
    }
}

/// Read all of FILE, or stdin for `-`.
pub(crate) fn read_input(file: &str) -> Result<Vec<u8>, Failure> {
    if file == "-" {
        let mut data = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot read <stdin>: {e}"))?;
        Ok(data)
    } else {
        fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))
    }
}

fn convert(args: &ConvertArgs) -> Result<(), Failure> {
    if let Some(to) = args.to {
        return convert_cmd::run(args, to);
    }
    let protocol = args
        .protocol
        .expect("clap requires --protocol without --to");
    let name = display_name(&args.file);
    let data = read_input(&args.file)?;

    let mut options = args.load.options();
    if !args.buffers.is_empty() {
        let mut bufs = Vec::with_capacity(args.buffers.len());
        for path in &args.buffers {
            let buf = fs::read(path)
                .map_err(|e| format!("cannot read buffer {}: {e}", path.display()))?;
            bufs.push(buf);
        }
        options = options.buffers(bufs);
    }
    if let Some(doc) = arrays_cmd::numpy_document(&data, name, &mut options, protocol)? {
        let bytes = dumps(&doc, protocol)
            .map_err(|e| format!("{name}: cannot be written at protocol {protocol}: {e}"))?;
        return write_output(&args.output, &bytes);
    }
    refuse_checkpoint(&data, name)?;
    if pickle_codec::torch::safetensors::is_safetensors(&data) {
        return Err(format!(
            "{name} is a safetensors file, not a pickle stream: \
             `pickle convert {name} --to torch -o OUT.pt` makes a PyTorch checkpoint of it"
        ));
    }
    let (data, options) = joblib_aware(&data, options, &args.file, args.load.options())
        .map_err(|e| format!("{name}: {e}"))?;

    // Everything is encoded in memory first, so a failure leaves no output.
    let mut out = Vec::new();
    let mut unpickler = Unpickler::from_slice(&data, options);
    let mut count = 0usize;
    let progress = Progress::new(data.len() as u64);
    loop {
        match unpickler.at_end() {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => return Err(format!("{name}: {e}")),
        }
        if ignored_rest(&data, unpickler.offset(), count, name, args.load.first) {
            break;
        }
        progress.phase(unpickler.offset(), "loading");
        let doc = unpickler
            .load()
            .map_err(|e| format!("{name}: pickle #{}: {e}", count + 1))?;
        progress.phase(unpickler.offset(), "writing");
        let bytes = dumps(&doc, protocol).map_err(|e| {
            format!(
                "{name}: pickle #{} cannot be written at protocol {protocol}: {e}",
                count + 1,
            )
        })?;
        out.extend_from_slice(&bytes);
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "{name}: no pickle in the input (it is empty) at byte 0"
        ));
    }
    progress.phase(data.len() as u64, "saving");
    let written = write_output(&args.output, &out);
    progress.finish();
    written
}

/// What follows the last pickle of a stream. `pickle.load` and pickletools
/// stop at the first STOP; `convert`, `json` and `arrays` go on to every
/// pickle of a stream. After at least one complete pickle, a rest of only
/// whitespace and NUL bytes (a trailing newline, padding: numpy's
/// `numpy_2_0_array.pkl` ends in one) is not read: a note on stderr says
/// what was left. Any other rest is read as the next pickle, so garbage
/// after a STOP (`N.\xff\xff`) fails as a broken pickle would rather than
/// pass unseen. True when the rest is left.
pub(crate) fn ignored_rest(
    data: &[u8],
    offset: u64,
    loaded: usize,
    name: &str,
    first: bool,
) -> bool {
    let Some(rest) = usize::try_from(offset).ok().and_then(|o| data.get(o..)) else {
        return false;
    };
    if first && loaded > 0 {
        if !rest.is_empty() {
            eprintln!(
                "note: {name}: --first: left the {} bytes after pickle #1 (from byte {offset})",
                rest.len()
            );
        }
        return true;
    }
    let padding = |b: &u8| matches!(b, b'\n' | b'\r' | b'\t' | b' ' | b'\0');
    if loaded == 0 || rest.is_empty() || !rest.iter().all(padding) {
        return false;
    }
    eprintln!(
        "note: {name}: ignored the {} bytes of whitespace or NUL padding after pickle #{loaded} (from byte {offset})",
        rest.len()
    );
    true
}

/// `convert` rewrites pickle streams; a checkpoint is more than its
/// pickles (a zip of records, or storages after the pickles), and
/// rewriting its pickles alone would lose the tensors. A zip is never a
/// pickle stream (its first byte is no opcode the loader would get far
/// with): say what it is rather than fail on its header as opcodes.
fn refuse_checkpoint(data: &[u8], name: &str) -> Result<(), Failure> {
    if data.starts_with(b"PK\x03\x04") {
        let what = match pickle_codec::torch::pickle_part(data) {
            Ok(Some(_)) => "a PyTorch checkpoint (torch.save): a zip archive",
            _ => "a zip archive",
        };
        let to = if what.starts_with("a PyTorch") {
            "; `--to safetensors` converts its tensors to a safetensors file"
        } else {
            ""
        };
        return Err(format!(
            "{name} is {what}, not a pickle stream: convert does not rewrite archives; \
             `pickle json`, `pickle dis` and `pickle scan` read a checkpoint's data.pkl, \
             `pickle arrays` lists its tensors{to}"
        ));
    }
    if pickle_codec::torch::format_of(data) == Some(pickle_codec::torch::Format::Tar) {
        return Err(format!(
            "{name} is a tar archive (torch < 0.4's checkpoint format): its tensors are in \
             other members, which convert cannot carry over as a pickle; `pickle json` and \
             `pickle dis` show its pickle, `pickle arrays` lists its tensors, `--to safetensors` \
             converts them to a safetensors file"
        ));
    }
    if pickle_codec::torch::is_checkpoint(data) {
        return Err(format!(
            "{name} is a legacy PyTorch checkpoint (torch.save with \
             _use_new_zipfile_serialization=False): its pickles are followed by raw tensor \
             storages, which convert cannot carry over as pickles; `pickle json` and \
             `pickle dis` show its pickles, `pickle arrays` lists its tensors, \
             `--to safetensors` converts them to a safetensors file"
        ));
    }
    Ok(())
}

/// A progress bar on stderr for inputs over 64 MiB, when stderr is a terminal.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    const THRESHOLD: u64 = 64 << 20;

    fn new(total: u64) -> Progress {
        use std::io::IsTerminal;
        if total <= Self::THRESHOLD || !io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg:8} [{bar:40}] {bytes}/{total_bytes} ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn phase(&self, position: u64, what: &'static str) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
            bar.set_message(what);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A PyTorch checkpoint (`.pt`, zip or legacy format) is shown through its
/// pickles: the zip's `data.pkl`, or the legacy file's five leading pickles.
/// Anything else is returned as it is.
pub(crate) fn checkpoint_pickles(data: Vec<u8>, name: &str) -> Result<Vec<u8>, Failure> {
    if pickle_codec::torch::safetensors::is_safetensors(&data) {
        return Err(format!(
            "{name} is a safetensors file, which holds no pickle: `pickle arrays` lists its \
             tensors, `pickle scan` checks its header, `pickle convert {name} --to torch -o OUT.pt` \
             makes a PyTorch checkpoint of it"
        ));
    }
    match pickle_codec::torch::pickle_part(&data) {
        Ok(Some(pickles)) => Ok(pickles),
        Ok(None) => Ok(data),
        Err(e) => Err(format!("{name}: not a readable PyTorch checkpoint: {e}")),
    }
}

/// `joblib.dump` files: decompress compressed ones, and when the stream
/// holds joblib's array wrappers, read the raw array data that follows each
/// one, or for joblib < 0.10 the side file each names, next to `file`
/// (loaded with `side_options`; from stdin there is no folder to look in:
/// such a wrapper is an error). The loaded document then holds ordinary
/// numpy arrays.
pub(crate) fn joblib_aware<'a>(
    data: &'a [u8],
    mut options: LoadOptions,
    file: &str,
    side_options: LoadOptions,
) -> pickle_codec::Result<(std::borrow::Cow<'a, [u8]>, LoadOptions)> {
    use pickle_codec::joblib;
    let plain = decompressed(data)?;
    let holds = |w: &[u8]| plain.windows(w.len()).any(|x| x == w);
    if holds(b"NDArrayWrapper") && file != "-" {
        let dir = Path::new(file)
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let side = joblib::side_files_in(dir, u64::MAX);
        options = options.after_build(joblib::hook_with_side_files(side, side_options));
    } else if holds(b"ArrayWrapper") {
        options = options.after_build(joblib::hook());
    }
    Ok((plain, options))
}

/// A compressed `joblib.dump` file (zlib, gzip, bz2, xz, lzma, lz4, joblib
/// < 0.10's `ZF`) decompressed; anything else as it is.
pub(crate) fn decompressed(data: &[u8]) -> pickle_codec::Result<std::borrow::Cow<'_, [u8]>> {
    use pickle_codec::joblib;
    match joblib::compression(data) {
        joblib::Compression::None => Ok(std::borrow::Cow::Borrowed(data)),
        // The CLI reads whole files: no input limit beyond memory.
        _ => joblib::decompress(data, u64::MAX),
    }
}

/// Write `data` to stdout (`-`) or atomically replace the file `out`.
pub(crate) fn write_output(out: &str, data: &[u8]) -> Result<(), Failure> {
    if out == "-" {
        let mut stdout = io::stdout().lock();
        return stdout
            .write_all(data)
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write <stdout>: {e}"));
    }
    let path = Path::new(out);
    let (tmp_path, mut file) = create_temp_beside(path)?;
    let written = file
        .write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {out}: {e}"));
    drop(file);
    let result = written
        .and_then(|()| fs::rename(&tmp_path, path).map_err(|e| format!("cannot write {out}: {e}")));
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// Create a new, unique temporary file in the directory of `path`, so that
/// the final rename stays on one file system.
pub(crate) fn create_temp_beside(path: &Path) -> Result<(PathBuf, fs::File), Failure> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("cannot write {}: not a file name", path.display()))?;
    let pid = std::process::id();
    let mut last_err = None;
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{base}.{pid}.{attempt}.tmp"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    Err(format!(
        "cannot write {}: no free temporary name ({})",
        path.display(),
        last_err.map_or_else(String::new, |e| e.to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn errors_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a b c");
    }
}
