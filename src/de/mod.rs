//! serde deserialization: a pickle (or a [`Document`]) into any `T: Deserialize`.
//!
//! * Borrowing: [`from_slice`] lends strs and bytes from the input
//!   (`&'de str`, `&'de [u8]`, `Cow::Borrowed`) where their bytes lie in it
//!   as they are; [`from_document`] and [`from_value_ref`] lend them from the
//!   document. [`from_reader`] and [`Unpickler::deserialize`] give owned
//!   values.
//! * Side effects: [`from_slice`] (and [`from_reader`], which uses it) may
//!   stop a first, faster attempt partway and start over from the beginning
//!   of the pickle, so a `Deserialize` implementation with side effects may
//!   see part of the input twice. The value is the same either way.
//! * Errors: an error in the pickle is the loader's ([`crate::loads`]), with
//!   its message, opcode and byte offset.
//!
//! See the crate docs for the type mapping.

// Two paths give the same result:
//
// * the stream path (`stream.rs`): for plain data in the form CPython
//   writes it (numbers, str, bytes, lists, dicts, sets, tuples, memo
//   references), the instructions are walked straight from the input while
//   the visitor builds `T`: no document is built, and strs and bytes are
//   lent from the input.
// * the document path (`document.rs`): everything else (objects, globals,
//   protocol 0 text, hooks, and every error, so messages and offsets are
//   the loader's) is loaded by the unpickler into a document first (a
//   pickle is a stack program: a tuple is made after its items), then
//   walked; `from_slice` tracks node origins, so strs and bytes whose
//   payload lies in the input are lent from it here too.
//
// The stream path gives up at the first thing it does not handle or any
// error, and the document path runs from the start (hence the side effects
// seen twice that the module docs warn of).

mod document;

mod handover;
mod stream;
mod value;

use serde::de::{self, DeserializeOwned};

pub(crate) use crate::python::types::SUBVALUE_TOKEN;
use document::{Budget, Deserializer, DocBorrow, SliceBorrow};
use handover::Handover;

use crate::error::{Category, Error, Result};
use crate::unpickler::{LoadOptions, Unpickler};
use crate::value::{Document, ValueRef};

/// The serde layer's limits, apart from the loader's ([`LoadOptions`]):
/// `Deserialize` implementations recurse, and a value reached through
/// several references is deserialized each time.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeOptions {
    pub(crate) recursion_limit: usize,
    pub(crate) max_unfold: u64,
}

impl Default for DeOptions {
    fn default() -> Self {
        DeOptions {
            recursion_limit: 128,
            max_unfold: 64,
        }
    }
}

crate::options::setters! {
    DeOptions {
        /// Deepest nesting the walk goes into (default 128).
        recursion_limit: usize,
        /// How far the walk unfolds sharing (default 64): one walk may visit
        /// at most this many times the document's values (nodes and their
        /// items), beyond a first 2^16. A few hundred bytes describing a DAG
        /// of 2^30 leaves are refused instead of filling memory; raise it for
        /// documents that share large values very many times.
        max_unfold: u64,
    }
}

/// Deserialize a `T` from a pickle in a byte slice, borrowing strs and bytes from it.
/// Bytes after the pickle's STOP are an error.
pub fn from_slice<'de, T: de::Deserialize<'de>>(data: &'de [u8]) -> Result<T> {
    from_slice_with(data, LoadOptions::default(), &DeOptions::default())
}

/// [`from_slice`] with load options (encoding, limits, buffers, hooks) and
/// the serde layer's limits.
pub fn from_slice_with<'de, T: de::Deserialize<'de>>(
    data: &'de [u8],
    options: LoadOptions,
    de_options: &DeOptions,
) -> Result<T> {
    if let Some(t) = stream::from_slice(data, &options, de_options) {
        return Ok(t);
    }
    via_document(data, options, de_options)
}

/// The document path of [`from_slice_with`].
fn via_document<'de, T: de::Deserialize<'de>>(
    data: &'de [u8],
    options: LoadOptions,
    de_options: &DeOptions,
) -> Result<T> {
    let limit = de_options.recursion_limit;
    let budget = Budget::new(de_options.max_unfold);
    let mut u = Unpickler::from_slice(data, options);
    let doc = u.load_tracked()?;
    if !u.at_end()? {
        return Err(Error::syntax("trailing data after STOP").at(u.offset()));
    }
    T::deserialize(Deserializer::new(
        &doc,
        doc.root_value(),
        SliceBorrow { input: data },
        limit,
        &budget,
        None,
    ))
}

/// Deserialize a `T` from the next pickle of a reader.
///
/// The pickle's bytes are read first (up to its STOP, finding it by the
/// instructions' lengths: a frame is read whole), then deserialized as
/// [`from_slice`] does, so plain data takes the stream path here too. A
/// pickle with a large payload (a str or bytes of 1 MiB or more, which
/// CPython writes outside frames) is loaded as [`Unpickler::deserialize`]
/// does instead, which reads the payload once, into the vector the value
/// keeps. Bytes after the pickle may be consumed; to read several pickles
/// from one stream keep one [`Unpickler`] and call
/// [`Unpickler::deserialize`] repeatedly.
pub fn from_reader<R: std::io::Read, T: DeserializeOwned>(reader: R) -> Result<T> {
    use std::io::{Cursor, Read};
    // The loader reading what was read and then the rest of the input: the
    // stream itself.
    let as_stream = |read: Vec<u8>, rest: R| {
        Unpickler::from_reader(Cursor::new(read).chain(rest), LoadOptions::default()).deserialize()
    };
    use crate::codec::extent::{self, Limits};
    let options = LoadOptions::default();
    let limits = Limits {
        max_input: options.max_input,
        max_line: options.max_line,
    };
    match extent::read_pickle(reader, limits) {
        extent::Extent::Whole(bytes, stop, rest) => match from_slice(&bytes[..stop]) {
            // The walk skips the inside of frames that cannot end the
            // pickle: an instruction running past one of them meets the
            // end of these bytes, where the stream may hold more.
            Err(e) if e.category() == Category::Eof => as_stream(bytes, rest),
            r => r,
        },
        // Short of a STOP, the whole input: the stream's error.
        extent::Extent::Ended(bytes) => from_slice(&bytes),
        extent::Extent::Stopped(read, rest) | extent::Extent::Large(read, rest) => {
            as_stream(read, rest)
        }
        extent::Extent::Io(e, at) => Err(Error::io(e).at(at as u64)),
    }
}

/// Deserialize a `T` from a document, borrowing strs and bytes from it.
pub fn from_document<'a, T: de::Deserialize<'a>>(doc: &'a Document) -> Result<T> {
    from_value_ref(doc.root())
}

/// Deserialize a `T` from any value of a document.
pub fn from_value_ref<'a, T: de::Deserialize<'a>>(v: ValueRef<'a>) -> Result<T> {
    from_value_ref_with(v, &DeOptions::default())
}

/// [`from_value_ref`] with the serde layer's limits.
pub fn from_value_ref_with<'a, T: de::Deserialize<'a>>(
    v: ValueRef<'a>,
    de_options: &DeOptions,
) -> Result<T> {
    T::deserialize(Deserializer::new(
        v.document(),
        v.value(),
        DocBorrow,
        de_options.recursion_limit,
        &Budget::new(de_options.max_unfold),
        None,
    ))
}

impl<R: crate::codec::read::Read> Unpickler<R> {
    /// Load the next pickle of the stream and deserialize it into a `T`.
    ///
    /// Large strs and bytes (from 1 MiB) that the value holds once are
    /// moved into it, not copied: the load never holds two copies of them.
    pub fn deserialize<T: DeserializeOwned>(&mut self) -> Result<T> {
        self.deserialize_with(&DeOptions::default())
    }

    /// [`Unpickler::deserialize`] with the serde layer's limits.
    pub fn deserialize_with<T: DeserializeOwned>(&mut self, de_options: &DeOptions) -> Result<T> {
        let limit = de_options.recursion_limit;
        let budget = Budget::new(de_options.max_unfold);
        let mut doc = self.load_with_offsets()?;
        let handover = Handover::take_from(&mut doc);
        T::deserialize(Deserializer::new(
            &doc,
            doc.root_value(),
            DocBorrow,
            limit,
            &budget,
            handover.as_ref(),
        ))
    }
}

/// The two deserialization paths one at a time, for tests and fuzzing that
/// check they agree. Not part of the stable API.
#[doc(hidden)]
pub mod paths {
    use super::*;

    /// The streaming path alone: `None` where it hands over to the document path.
    pub fn stream<'de, T: de::Deserialize<'de>>(data: &'de [u8]) -> Option<T> {
        stream::from_slice(data, &LoadOptions::default(), &DeOptions::default())
    }

    /// The document path alone.
    pub fn document<'de, T: de::Deserialize<'de>>(data: &'de [u8]) -> Result<T> {
        via_document(data, LoadOptions::default(), &DeOptions::default())
    }
}
