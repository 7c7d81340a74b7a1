//! The public API: [`DumpOptions`], [`Pickler`] and the `dump` functions,
//! each running one [`Engine`] over a document.

use std::io::Write;

use crate::error::Result;
use crate::value::{Buffer, Document};

use super::engine::Engine;

/// A `buffer_callback`: returns false to write the buffer out of band.
pub type BufferCallback = Box<dyn FnMut(&Buffer) -> bool>;

/// Options for dumping, built with setters:
/// `DumpOptions::new(2).fix_imports(false)`.
#[non_exhaustive]
pub struct DumpOptions {
    pub(crate) protocol: u8,
    pub(crate) fix_imports: bool,
    pub(crate) buffer_callback: Option<BufferCallback>,
}

crate::options::setters! {
    DumpOptions {
        /// The protocol, 0 to 5 (default 4, as CPython 3.8–3.13).
        protocol: u8,
        /// Write Python 2 names for globals below protocol 3 (default true).
        fix_imports: bool,
    }
}

impl DumpOptions {
    /// Options for `protocol`, with `fix_imports` on and no buffer callback.
    pub fn new(protocol: u8) -> DumpOptions {
        DumpOptions {
            protocol,
            fix_imports: true,
            buffer_callback: None,
        }
    }

    /// Called with each [`Buffer`] at protocol 5: returning false writes it
    /// out of band (`NEXT_BUFFER`, plus `READONLY_BUFFER` if read-only), as
    /// `pickle`'s `buffer_callback`. Without a callback buffers are in band.
    #[must_use]
    pub fn buffer_callback(mut self, f: impl FnMut(&Buffer) -> bool + 'static) -> Self {
        self.buffer_callback = Some(Box::new(f));
        self
    }
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions::new(crate::codec::opcodes::DEFAULT_PROTOCOL)
    }
}

impl std::fmt::Debug for DumpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpOptions")
            .field("protocol", &self.protocol)
            .field("fix_imports", &self.fix_imports)
            .field("buffer_callback", &self.buffer_callback.is_some())
            .finish()
    }
}

/// Writes documents to an [`std::io::Write`], flushing each frame as it is
/// committed (as `_pickle.c` does when dumping to a file).
pub struct Pickler<W: Write> {
    out: W,
    options: DumpOptions,
}

impl<W: Write> Pickler<W> {
    /// A pickler writing `protocol` to `out`.
    pub fn new(out: W, protocol: u8) -> Pickler<W> {
        Pickler::with_options(out, DumpOptions::new(protocol))
    }

    /// A pickler with options.
    pub fn with_options(out: W, options: DumpOptions) -> Pickler<W> {
        Pickler { out, options }
    }

    /// The options, to change between dumps.
    pub fn options_mut(&mut self) -> &mut DumpOptions {
        &mut self.options
    }

    /// Write one pickle of `doc`.
    pub fn dump(&mut self, doc: &Document) -> Result<()> {
        let out: &mut dyn Write = &mut self.out;
        let mut e = engine(doc, &mut self.options, Some(out))?;
        e.run()?;
        let rest = e.w.into_bytes();
        self.out.write_all(&rest)?;
        self.out.flush()?;
        Ok(())
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The writer, mutably.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Give back the writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `pickle.dumps(doc, protocol)`.
pub fn dumps(doc: &Document, protocol: u8) -> Result<Vec<u8>> {
    dumps_with(doc, &mut DumpOptions::new(protocol))
}

/// `pickle.dumps` with options.
pub fn dumps_with(doc: &Document, options: &mut DumpOptions) -> Result<Vec<u8>> {
    let mut e = engine(doc, options, None)?;
    e.run()?;
    Ok(e.w.into_bytes())
}

/// `pickle.dump(doc, w, protocol)`: frames are written as they are committed.
pub fn dump<W: Write>(w: W, doc: &Document, protocol: u8) -> Result<()> {
    Pickler::new(w, protocol).dump(doc)
}

/// `pickle.dump` with options.
pub fn dump_with<W: Write>(mut w: W, doc: &Document, options: &mut DumpOptions) -> Result<()> {
    let out: &mut dyn Write = &mut w;
    let mut e = engine(doc, options, Some(out))?;
    e.run()?;
    let rest = e.w.into_bytes();
    w.write_all(&rest)?;
    w.flush()?;
    Ok(())
}

/// An [`Engine`] writing `doc` with `options`.
fn engine<'d, 'o>(
    doc: &'d Document,
    options: &'o mut DumpOptions,
    sink: Option<&'o mut dyn Write>,
) -> Result<Engine<'d, 'o>> {
    Engine::new(
        doc,
        options.protocol,
        options.fix_imports,
        options.buffer_callback.as_deref_mut(),
        sink,
    )
}
