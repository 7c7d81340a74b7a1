//! `pickle convert FILE --to safetensors|torch -o OUT`: a PyTorch
//! checkpoint's tensors as a safetensors file, or a safetensors file as a
//! checkpoint (`pickle_codec::torch::safetensors`). A file is read as it is
//! converted, with positional reads (tensors that lie in it as they are
//! copied by a few threads with positional writes,
//! `Writer::write_file`); stdin (`-`) is read first. The output replaces
//! OUT only on success, like every `convert`.

use std::fs;
use std::io::{self, BufWriter, Cursor, Read, Seek, Write};
use std::path::Path;

use pickle_codec::torch::safetensors::{self, Reader, Writer, Written};
use pickle_codec::torch::{self, Checkpoint, Saver};

use crate::{display_name, ConvertArgs, Failure, Target};

/// A file written front to back into any writer.
trait Job {
    type Done;
    fn write<W: Write>(&self, w: W) -> pickle_codec::Result<(W, Self::Done)>;

    /// Into a new, empty file: through a buffer, unless the job does
    /// better. A writing error is an I/O error.
    fn write_file(&self, f: &fs::File) -> pickle_codec::Result<Self::Done> {
        let (w, done) = self.write(BufWriter::with_capacity(1 << 20, f))?;
        w.into_inner()
            .map_err(|e| pickle_codec::Error::from(e.into_error()))?;
        Ok(done)
    }
}

/// A checkpoint's tensors as a safetensors file.
struct ToSafetensors<'a, R>(&'a Checkpoint<R>, &'a Writer);

impl<R: Read + Seek> Job for ToSafetensors<'_, R> {
    type Done = Written;
    fn write<W: Write>(&self, w: W) -> pickle_codec::Result<(W, Written)> {
        self.1.write(self.0, w)
    }

    /// With positional writes, by several threads where the tensors lie
    /// in the checkpoint as they are written (`Writer::write_file`).
    fn write_file(&self, f: &fs::File) -> pickle_codec::Result<Written> {
        self.1.write_file(self.0, f)
    }
}

/// A safetensors file's tensors as a checkpoint.
struct ToTorch<'a, R>(&'a Reader<R>, Saver);

impl<R: Read + Seek> Job for ToTorch<'_, R> {
    type Done = ();
    fn write<W: Write>(&self, w: W) -> pickle_codec::Result<(W, ())> {
        Ok((self.0.write_checkpoint(&self.1, w)?, ()))
    }
}

/// Run `job` into OUT: stdout for `-`, else a temporary file beside OUT
/// renamed over it once written (and synced with `--sync`; removed on
/// failure), by the job's `write_file`.
fn emit<J: Job>(out: &str, sync: bool, name: &str, job: &J) -> Result<J::Done, Failure> {
    let fail = |e: pickle_codec::Error| format!("{name}: {e}");
    if out == "-" {
        let w = BufWriter::with_capacity(1 << 20, io::stdout().lock());
        let (w, done) = job.write(w).map_err(fail)?;
        w.into_inner()
            .map(drop)
            .map_err(|e| format!("cannot write <stdout>: {}", e.error()))?;
        return Ok(done);
    }
    let path = Path::new(out);
    let (tmp, file) = crate::create_temp_beside(path)?;
    let result = job.write_file(&file).map_err(fail).and_then(|done| {
        (if sync { file.sync_all() } else { Ok(()) })
            .and_then(|()| fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {out}: {e}"))?;
        Ok(done)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Convert a checkpoint, however opened.
fn checkpoint_to_safetensors<R: Read + Seek>(
    ck: Checkpoint<R>,
    args: &ConvertArgs,
    name: &str,
) -> Result<(), Failure> {
    let ck = ck.with_crc_check(!args.no_crc_check);
    let mut writer = Writer::new().skip_other_values(args.skip_non_tensors);
    for (k, v) in &args.metadata {
        writer = writer.metadata(k, v);
    }
    let written = emit(&args.output, args.sync, name, &ToSafetensors(&ck, &writer))?;
    if !written.skipped.is_empty() {
        const SHOWN: usize = 5;
        let mut list: Vec<String> = written
            .skipped
            .iter()
            .take(SHOWN)
            .map(|s| format!("{} ({})", s.path, s.what))
            .collect();
        if written.skipped.len() > SHOWN {
            list.push(format!("and {} more", written.skipped.len() - SHOWN));
        }
        eprintln!(
            "note: {name}: left out {} values that are not tensors (--skip-non-tensors): {}",
            written.skipped.len(),
            list.join(", ")
        );
    }
    Ok(())
}

/// Convert a safetensors file, however opened.
fn safetensors_to_checkpoint<R: Read + Seek>(
    st: Reader<R>,
    args: &ConvertArgs,
    name: &str,
) -> Result<(), Failure> {
    // The archive is named after OUT, as torch.save names it, not after
    // the temporary file it is written to.
    let archive = if args.output == "-" {
        "archive".to_string()
    } else {
        torch::archive_name(&args.output).map_err(|e| format!("{}: {e}", args.output))?
    };
    emit(
        &args.output,
        args.sync,
        name,
        &ToTorch(&st, Saver::new().archive_name(archive)),
    )
}

/// `convert --to`.
pub(crate) fn run(args: &ConvertArgs, to: Target) -> Result<(), Failure> {
    let name = display_name(&args.file);
    let fail = |e: pickle_codec::Error| format!("{name}: {e}");
    // The input's head says what it is; a file stays open for the reader.
    let (file, stdin, head) = if args.file == "-" {
        let data = crate::read_input("-")?;
        let head = data[..data.len().min(512)].to_vec();
        (None, Some(Cursor::new(data)), head)
    } else {
        let mut head = Vec::with_capacity(512);
        fs::File::open(&args.file)
            .and_then(|f| f.take(512).read_to_end(&mut head))
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        (Some(&args.file), None, head)
    };
    let is_st = safetensors::is_safetensors(&head);
    let is_ck = torch::format_of(&head).is_some();
    match to {
        Target::Safetensors if !is_ck => Err(if is_st {
            format!("{name} is a safetensors file already: `--to torch` makes a PyTorch checkpoint of it")
        } else {
            format!("{name} is not a PyTorch checkpoint (zip, legacy or tar): `--to safetensors` converts one")
        }),
        Target::Torch if !is_st => Err(if is_ck {
            format!("{name} is a PyTorch checkpoint already: `--to safetensors` converts its tensors to a safetensors file")
        } else {
            format!("{name} is not a safetensors file (an 8-byte header length, then a JSON header starting with '{{'): `--to torch` converts one")
        }),
        Target::Safetensors => match (file, stdin) {
            (Some(path), _) => {
                checkpoint_to_safetensors(Checkpoint::open(path).map_err(fail)?, args, name)
            }
            (_, Some(c)) => {
                checkpoint_to_safetensors(Checkpoint::from_reader(c).map_err(fail)?, args, name)
            }
            _ => unreachable!("an input"),
        },
        Target::Torch => match (file, stdin) {
            (Some(path), _) => {
                safetensors_to_checkpoint(Reader::open(path).map_err(fail)?, args, name)
            }
            (_, Some(c)) => {
                safetensors_to_checkpoint(Reader::from_reader(c).map_err(fail)?, args, name)
            }
            _ => unreachable!("an input"),
        },
    }
}
