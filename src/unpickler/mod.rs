//! The unpickler: a stack machine that turns instructions into a [`Document`].
//!
//! It follows CPython's `_pickle.c` semantics (marks as a separate stack whose
//! top is a fence for pops, `POP` of a mark, `MEMOIZE` indexing by entry
//! count) but never imports or calls anything: globals, calls and states
//! become inert nodes (see [`crate::value`]). The loop is iterative, so input
//! depth costs heap, never native stack. The stack and the memo (`stack.rs`,
//! `memo.rs`) are the scanner's too.

pub(crate) mod memo;
pub(crate) mod stack;

/// Most memo entries a load keeps by default ([`LoadOptions::max_memo`]);
/// the scanner keeps the same.
pub(crate) const DEFAULT_MAX_MEMO: usize = 1 << 26;
/// Most open MARKs by default ([`LoadOptions::max_depth`]); the scanner
/// keeps the same.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 1 << 20;
mod vm;

use std::collections::HashMap;

use crate::codec::read::{InstructionReader, IoRead, Read, SliceRead};
use crate::python::codecs;
use crate::{Document, Error, Result, Value};

/// How Python 2 strings (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) decode,
/// as `pickle.load(encoding=...)`.
///
/// [`Encoding::named`] takes any name CPython's `codecs.lookup` takes for
/// the codecs this crate decodes exactly as CPython does (`"koi8-r"`,
/// `"cp1252"`, `"cp932"`, ...; `"shift_jis"`, whose decoder here would not
/// be exactly CPython's, is refused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Another of CPython's codecs, from [`Encoding::named`].
    Codec(Codec),
}

/// One of CPython's text codecs other than ascii, latin-1 and utf-8, as
/// [`Encoding::named`] finds it: a code page (`cp1251`, `cp932`, `cp949`),
/// an ISO 8859 part, KOI8, a Mac code page, gb18030 and gbk, or UTF-16.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codec(codecs::Id);

impl Codec {
    /// CPython's name of the codec, as `codecs.lookup(name).name`: `"koi8-r"`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Codec({:?})", self.name())
    }
}

impl Encoding {
    /// The encoding CPython's `pickle.load(encoding=name)` would use: `"bytes"`
    /// (exactly, as CPython compares it) or a codec name or alias, looked up
    /// as `codecs.lookup` does (case and punctuation ignored: `"KOI8_R"`,
    /// `"koi8-r"`, `"Latin-1"`, `"utf8"`). An unknown name, a codec that is
    /// not a text encoding, and a codec this crate cannot decode exactly as
    /// CPython does (big5, shift_jis, euc_jp, cp437, ...) are errors that say
    /// which it is and list the codecs there are.
    pub fn named(name: &str) -> Result<Encoding> {
        if name == "bytes" {
            return Ok(Encoding::Bytes);
        }
        let why = match codecs::lookup(name) {
            codecs::Lookup::Ascii => return Ok(Encoding::Ascii),
            codecs::Lookup::Latin1 => return Ok(Encoding::Latin1),
            codecs::Lookup::Utf8 => return Ok(Encoding::Utf8),
            codecs::Lookup::Codec(id) => return Ok(Encoding::Codec(Codec(id))),
            codecs::Lookup::Unsupported(codec) => format!(
                "encoding {name:?}: CPython's '{codec}' codec is not supported \
                 (no decoder here decodes it exactly as CPython does)"
            ),
            codecs::Lookup::NotText(codec) => {
                format!("encoding {name:?}: '{codec}' is not a text encoding")
            }
            codecs::Lookup::Unknown => format!("unknown encoding: {name}"),
        };
        Err(Error::unsupported(format!(
            "{why}; supported: {}",
            codecs::SUPPORTED
        )))
    }

    /// CPython's name of the encoding (`codecs.lookup(...).name`; `"bytes"`
    /// for [`Encoding::Bytes`]).
    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Ascii => "ascii",
            Encoding::Latin1 => "iso8859-1",
            Encoding::Utf8 => "utf-8",
            Encoding::Bytes => "bytes",
            Encoding::Codec(c) => c.name(),
        }
    }
}

/// What to do with Python 2 string bytes the encoding cannot decode,
/// as `pickle.load(errors=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Errors {
    /// Fail (CPython's default).
    #[default]
    Strict,
    /// Put U+FFFD in place of undecodable bytes.
    Replace,
    /// Drop undecodable bytes.
    Ignore,
}

impl Errors {
    /// The handler of that name, as `pickle.load(errors=name)`: `"strict"`,
    /// `"replace"` or `"ignore"`; CPython's other handlers and unknown
    /// names are errors.
    pub fn named(name: &str) -> Result<Errors> {
        match name {
            "strict" => Ok(Errors::Strict),
            "replace" => Ok(Errors::Replace),
            "ignore" => Ok(Errors::Ignore),
            "surrogateescape" | "backslashreplace" | "surrogatepass" => {
                Err(Error::unsupported(format!(
                    "error handler '{name}' is not supported (its result is not always \
                     valid Unicode, or not yet done here); supported: strict, replace, ignore"
                )))
            }
            _ => Err(Error::unsupported(format!(
                "unknown error handler name '{name}'; supported: strict, replace, ignore"
            ))),
        }
    }
}

/// Resolves a persistent id: gets the document and the pid, returns the object.
pub type PersistentLoad = Box<dyn FnMut(&mut Document, Value) -> Result<Value>>;

/// Raw access to the input, lent to an [`AfterBuild`] hook.
///
/// Some writers put data that is not pickle opcodes in the middle of a
/// stream: joblib writes each numpy array's bytes right after the `BUILD` of
/// its `NumpyArrayWrapper` (and a whole nested pickle for object arrays), and
/// its unpickler reads them from the file there. This is the reading half of
/// that, without forking the VM.
pub trait RawInput {
    /// Offset of the next byte of the input.
    fn offset(&self) -> u64;
    /// Consume exactly `n` bytes (an EOF error if they are not there; never
    /// allocates for bytes that have not arrived).
    fn read_raw(&mut self, n: u64) -> Result<Vec<u8>>;
    /// Load a complete pickle that starts here, with its own stack, memo and
    /// frames, and the same encoding and limits (no hooks, no buffers).
    fn load_nested(&mut self) -> Result<Document>;
}

/// Called after every `BUILD` (with the built object, which is on top of the
/// stack, and the raw input): may read raw bytes, add nodes, and return a
/// value that replaces the object on the stack (as joblib's `load_build` does).
/// Returning `None` leaves the stack alone.
pub type AfterBuild =
    Box<dyn FnMut(&mut Document, Value, &mut dyn RawInput) -> Result<Option<Value>>>;

/// Options of the unpickler, built with setters:
/// `LoadOptions::default().encoding(Encoding::Latin1).max_memo(1 << 20)`.
/// Every limit has a default and an error naming the opcode and byte offset
/// where it was hit. The serde layer's own limits are in
/// [`DeOptions`](crate::de::DeOptions).
#[non_exhaustive]
pub struct LoadOptions {
    pub(crate) encoding: Encoding,
    pub(crate) errors: Errors,
    pub(crate) fix_imports: bool,
    pub(crate) buffers: Option<Vec<Vec<u8>>>,
    pub(crate) persistent_load: Option<PersistentLoad>,
    pub(crate) after_build: Option<AfterBuild>,
    pub(crate) extensions: HashMap<i32, (String, String)>,
    pub(crate) max_memo: usize,
    pub(crate) max_depth: usize,
    pub(crate) max_input: u64,
    pub(crate) max_line: usize,
    pub(crate) max_int_digits: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            encoding: Encoding::Ascii,
            errors: Errors::Strict,
            fix_imports: true,
            buffers: None,
            persistent_load: None,
            after_build: None,
            extensions: HashMap::new(),
            max_memo: DEFAULT_MAX_MEMO,
            max_depth: DEFAULT_MAX_DEPTH,
            max_input: u64::MAX,
            max_line: crate::codec::read::DEFAULT_MAX_LINE,
            max_int_digits: crate::codec::read::DEFAULT_MAX_INT_DIGITS,
        }
    }
}

impl LoadOptions {
    /// The same decoding and limits, without the hooks and buffers (for a
    /// pickle read on the side, such as an `.npy` file's object array).
    pub(crate) fn plain_copy(&self) -> LoadOptions {
        LoadOptions {
            encoding: self.encoding,
            errors: self.errors,
            fix_imports: self.fix_imports,
            buffers: None,
            persistent_load: None,
            after_build: None,
            extensions: self.extensions.clone(),
            max_memo: self.max_memo,
            max_depth: self.max_depth,
            max_input: self.max_input,
            max_line: self.max_line,
            max_int_digits: self.max_int_digits,
        }
    }
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("encoding", &self.encoding)
            .field("errors", &self.errors)
            .field("fix_imports", &self.fix_imports)
            .field("buffers", &self.buffers.as_ref().map(Vec::len))
            .field("persistent_load", &self.persistent_load.is_some())
            .field("after_build", &self.after_build.is_some())
            .field("extensions", &self.extensions)
            .field("max_memo", &self.max_memo)
            .field("max_depth", &self.max_depth)
            .field("max_input", &self.max_input)
            .field("max_line", &self.max_line)
            .field("max_int_digits", &self.max_int_digits)
            .finish()
    }
}

crate::options::setters! {
    LoadOptions {
        /// How Python 2 strings decode (default [`Encoding::Ascii`], as CPython).
        encoding: Encoding,
        /// Error handling of that decoding (default [`Errors::Strict`]).
        errors: Errors,
        /// Map Python 2 module names to Python 3 in protocol 0–2 pickles
        /// (default true, as CPython).
        fix_imports: bool,
        /// Extension registry (`copyreg.add_extension`): code → (module,
        /// name). Codes not found stay inert [`crate::Node::Extension`] nodes.
        extensions: HashMap<i32, (String, String)>,
        /// Most memo entries (default 2^26).
        max_memo: usize,
        /// Deepest nesting of open MARKs (default 2^20).
        max_depth: usize,
        /// Most bytes read from the input (default unlimited).
        max_input: u64,
        /// Longest protocol-0 text line (default 64 MiB).
        max_line: usize,
        /// Most digits of a decimal int in protocol 0 (`INT`, `LONG`, memo
        /// indices): 4300 by default, CPython's `sys.get_int_max_str_digits()`;
        /// 0 for no limit, as `sys.set_int_max_str_digits(0)`. Parsing such a
        /// number costs time quadratic in its length.
        max_int_digits: usize,
    }
}

impl LoadOptions {
    /// Out-of-band buffers for `NEXT_BUFFER`, in order, as
    /// `pickle.load(buffers=...)`. Without them a pickle that uses one is
    /// an error.
    #[must_use]
    pub fn buffers(mut self, buffers: Vec<Vec<u8>>) -> Self {
        self.buffers = Some(buffers);
        self
    }

    /// Resolve persistent ids (`persistent_load`); without it they stay
    /// inert [`crate::Node::PersistentId`] nodes.
    #[must_use]
    pub fn persistent_load(
        mut self,
        f: impl FnMut(&mut Document, Value) -> Result<Value> + 'static,
    ) -> Self {
        self.persistent_load = Some(Box::new(f));
        self
    }

    /// A hook run after each `BUILD` (see [`AfterBuild`]; [`crate::joblib`]
    /// uses it).
    #[must_use]
    pub fn after_build(mut self, hook: AfterBuild) -> Self {
        self.after_build = Some(hook);
        self
    }
}

impl LoadOptions {
    /// The same decoding and limits, without hooks or buffers (for nested pickles).
    pub(crate) fn nested(&self) -> LoadOptions {
        LoadOptions {
            encoding: self.encoding,
            errors: self.errors,
            fix_imports: self.fix_imports,
            extensions: self.extensions.clone(),
            max_memo: self.max_memo,
            max_depth: self.max_depth,
            max_input: self.max_input,
            max_line: self.max_line,
            max_int_digits: self.max_int_digits,
            ..LoadOptions::default()
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

    /// Load the next pickle, recording where each node came from in the
    /// input (for zero-copy deserialization and error offsets).
    pub(crate) fn load_tracked(&mut self) -> Result<Document> {
        let input = self.reader.get_ref().input();
        self.load_with(Some(input))
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
        reader.set_max_int_digits(options.max_int_digits);
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
        self.load_with(None)
    }

    /// [`Unpickler::load`], recording each node's offset (the serde layer's
    /// error offsets; payload positions only where [`Unpickler::load_tracked`]
    /// has the input slice).
    pub(crate) fn load_with_offsets(&mut self) -> Result<Document> {
        self.load_with(Some(&[]))
    }

    /// Load the next pickle, tracking node origins in `track` (see `vm::run`).
    fn load_with(&mut self, track: Option<&[u8]>) -> Result<Document> {
        self.reader.reset_frames();
        if self.reader.at_end()? {
            return Err(Error::eof().at(self.reader.offset()));
        }
        vm::run(&mut self.reader, &mut self.options, track)
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
