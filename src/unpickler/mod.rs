//! The unpickler: a stack machine that turns instructions into a [`Document`].
//! STUB: the VM is being written; the API below is final.

use std::collections::HashMap;

use crate::read::{IoRead, Read, SliceRead};
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
    src: R,
    options: LoadOptions,
}

impl<'a> Unpickler<SliceRead<'a>> {
    /// An unpickler over a byte slice.
    pub fn from_slice(data: &'a [u8], options: LoadOptions) -> Self {
        Unpickler { src: SliceRead::new(data), options }
    }
}

impl<R: std::io::Read> Unpickler<IoRead<R>> {
    /// An unpickler over a reader (buffered internally: keep it for the whole stream).
    pub fn from_reader(reader: R, options: LoadOptions) -> Self {
        Unpickler { src: IoRead::new(reader), options }
    }
}

impl<R: Read> Unpickler<R> {
    /// Load the next pickle of the stream.
    pub fn load(&mut self) -> Result<Document> {
        let _ = (&mut self.src, &mut self.options);
        Err(Error::unsupported("stub"))
    }

    /// True when the stream holds no more bytes.
    pub fn at_end(&mut self) -> Result<bool> {
        self.src.at_end()
    }
}

/// Load one pickle from a byte slice; bytes after its STOP are an error.
pub fn loads(data: &[u8]) -> Result<Document> {
    let mut u = Unpickler::from_slice(data, LoadOptions::default());
    u.load()
}

/// Load every pickle of a byte slice, one after another.
pub fn loads_all(data: &[u8]) -> Result<Vec<Document>> {
    let _ = data;
    Err(Error::unsupported("stub"))
}

/// Load one pickle from a reader.
pub fn load<R: std::io::Read>(reader: R) -> Result<Document> {
    Unpickler::from_reader(reader, LoadOptions::default()).load()
}
