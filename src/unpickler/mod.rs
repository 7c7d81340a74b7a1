//! The unpickler: a stack machine that turns instructions into a [`Document`].
//!
//! It follows CPython's `_pickle.c` semantics (marks as a separate stack whose
//! top is a fence for pops, `POP` of a mark, `MEMOIZE` indexing by entry
//! count) but never imports or calls anything: globals, calls and states
//! become inert nodes (see [`crate::value`]). The loop is iterative, so input
//! depth costs heap, never native stack. The memo is in [`memo`].

pub mod memo;
mod vm;

use std::collections::HashMap;

use crate::read::{InstructionReader, IoRead, Read, SliceRead};
use crate::{Document, Error, Result, Value};

/// How Python 2 strings (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) decode,
/// as `pickle.load(encoding=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// `encoding="ASCII"` (CPython's default).
    #[default]
    Ascii,
    /// `encoding="latin1"`: every byte is a code point (numpy arrays from Python 2).
    Latin1,
    /// `encoding="utf-8"`.
    Utf8,
    /// `encoding="bytes"`: keep them as `bytes`.
    Bytes,
}

/// What to do with Python 2 string bytes the encoding cannot decode,
/// as `pickle.load(errors=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Errors {
    /// Fail (CPython's default).
    #[default]
    Strict,
    /// Put U+FFFD in place of undecodable bytes.
    Replace,
    /// Drop undecodable bytes.
    Ignore,
}

/// Resolves a persistent id: gets the document and the pid, returns the object.
pub type PersistentLoad = Box<dyn FnMut(&mut Document, Value) -> Result<Value>>;

/// Options of the unpickler. Every limit has a default and an error naming
/// the opcode and byte offset where it was hit.
pub struct LoadOptions {
    /// Decoding of Python 2 strings.
    pub encoding: Encoding,
    /// Error handling of that decoding.
    pub errors: Errors,
    /// Map Python 2 module names to Python 3 for protocol 0–2 pickles (default true).
    pub fix_imports: bool,
    /// Out-of-band buffers for `NEXT_BUFFER`, in order (`None`: the pickle may not use any).
    pub buffers: Option<Vec<Vec<u8>>>,
    /// Resolves persistent ids; without it they stay inert [`crate::Node::PersistentId`] nodes.
    pub persistent_load: Option<PersistentLoad>,
    /// Extension registry (`copyreg.add_extension`): code → (module, name).
    /// Codes not found stay inert [`crate::Node::Extension`] nodes.
    pub extensions: HashMap<i32, (String, String)>,
    /// Most memo entries (default 2^26).
    pub max_memo: usize,
    /// Deepest nesting of open MARKs (default 2^20).
    pub max_depth: usize,
    /// Most bytes read from the input (default unlimited).
    pub max_input: u64,
    /// Longest protocol-0 text line (default 64 MiB).
    pub max_line: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            encoding: Encoding::Ascii,
            errors: Errors::Strict,
            fix_imports: true,
            buffers: None,
            persistent_load: None,
            extensions: HashMap::new(),
            max_memo: 1 << 26,
            max_depth: 1 << 20,
            max_input: u64::MAX,
            max_line: crate::read::DEFAULT_MAX_LINE,
        }
    }
}

/// Loads pickles one after another from a source.
pub struct Unpickler<R> {
    reader: InstructionReader<R>,
    options: LoadOptions,
}

impl<'a> Unpickler<SliceRead<'a>> {
    /// An unpickler over a byte slice.
    pub fn from_slice(data: &'a [u8], options: LoadOptions) -> Self {
        Unpickler::new(SliceRead::new(data), options)
    }
}

impl<R: std::io::Read> Unpickler<IoRead<R>> {
    /// An unpickler over a reader (buffered internally: keep it for the whole stream).
    pub fn from_reader(reader: R, options: LoadOptions) -> Self {
        Unpickler::new(IoRead::new(reader), options)
    }
}

impl<R: Read> Unpickler<R> {
    /// An unpickler over any [`Read`] source.
    pub fn new(src: R, options: LoadOptions) -> Self {
        let mut reader = InstructionReader::new(src);
        reader.set_max_line(options.max_line);
        Unpickler { reader, options }
    }

    /// The options (e.g. to hand more buffers between loads).
    pub fn options_mut(&mut self) -> &mut LoadOptions {
        &mut self.options
    }

    /// Byte offset of the next pickle in the stream.
    pub fn offset(&self) -> u64 {
        self.reader.offset()
    }

    /// Load the next pickle of the stream.
    pub fn load(&mut self) -> Result<Document> {
        self.reader.reset_frames();
        if self.reader.at_end()? {
            return Err(Error::eof().at(self.reader.offset()));
        }
        vm::run(&mut self.reader, &mut self.options)
    }

    /// True when the stream holds no more bytes.
    pub fn at_end(&mut self) -> Result<bool> {
        self.reader.at_end()
    }

    /// The source back.
    pub fn into_inner(self) -> R {
        self.reader.into_inner()
    }
}

/// Load one pickle from a byte slice; bytes after its STOP are an error
/// (`pickle.loads` ignores them; [`Unpickler`] reads streams).
pub fn loads(data: &[u8]) -> Result<Document> {
    loads_with(data, LoadOptions::default())
}

/// [`loads`] with options.
pub fn loads_with(data: &[u8], options: LoadOptions) -> Result<Document> {
    let mut u = Unpickler::from_slice(data, options);
    let doc = u.load()?;
    if !u.at_end()? {
        return Err(Error::syntax("trailing data after STOP").at(u.offset()));
    }
    Ok(doc)
}

/// Load every pickle of a byte slice, one after another.
pub fn loads_all(data: &[u8]) -> Result<Vec<Document>> {
    loads_all_with(data, LoadOptions::default())
}

/// [`loads_all`] with options.
pub fn loads_all_with(data: &[u8], options: LoadOptions) -> Result<Vec<Document>> {
    let mut u = Unpickler::from_slice(data, options);
    let mut out = Vec::new();
    loop {
        out.push(u.load()?);
        if u.at_end()? {
            return Ok(out);
        }
    }
}

/// Load one pickle from a reader (reading may go past its STOP).
pub fn load<R: std::io::Read>(reader: R) -> Result<Document> {
    Unpickler::from_reader(reader, LoadOptions::default()).load()
}
