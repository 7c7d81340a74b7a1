//! serde serialization: any `T: Serialize` into a [`Document`] or a pickle.
//!
//! [`to_document`] builds a document. The pickle writers ([`to_vec`],
//! [`to_writer`], ...) do not: they walk `T` once, emitting instructions
//! straight into the instruction writer (the `direct` submodule), and write
//! byte for byte what the pickler writes for `to_document`'s document, so typed
//! data pickles exactly as CPython would pickle the equivalent Python object
//! (structs become dicts whose keys are interned like Python attribute names,
//! so a repeated field name is a memo reference).
//!
//! The few shapes the direct walk does not write (the [`crate::PyObject`],
//! [`crate::PySet`], [`crate::PyFrozenSet`] and [`crate::PyByteArray`]
//! wrappers, unhashable dict keys, `Serialize` impls whose announced lengths
//! are wrong, errors of any kind) make it give up; the value is then
//! serialized again through the document, which writes the same bytes or
//! reports the same error as before. Serializing has no side effects, so
//! starting over is safe.

mod direct;
mod document;
mod value;

use serde::Serialize;

use crate::codec::opcodes::DEFAULT_PROTOCOL;
use crate::error::{Error, Result};
use crate::pickler::{self, DumpOptions};
use crate::value::Document;

pub(crate) use document::ValueSerializer;

/// Serialize a `T` into a document.
pub fn to_document<T: Serialize + ?Sized>(value: &T) -> Result<Document> {
    let mut doc = Document::new();
    let root = value.serialize(ValueSerializer::new(&mut doc))?;
    doc.set_root(root);
    Ok(doc)
}

/// Serialize a `T` as a pickle at protocol 4 (CPython 3.8–3.13's default).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    to_vec_with(value, protocol_options(DEFAULT_PROTOCOL))
}

/// Serialize a `T` as a pickle with dump options (protocol 0–5, hooks).
pub fn to_vec_with<T: Serialize + ?Sized>(value: &T, mut options: DumpOptions) -> Result<Vec<u8>> {
    // A buffer callback only sees `Buffer` nodes, which serde values never
    // become, so the options the direct walk needs are protocol and names.
    match direct::to_vec(value, options.protocol, options.fix_imports) {
        Ok(bytes) => Ok(bytes),
        Err(_) => {
            let doc = to_document(value)?;
            pickler::dumps_with(&doc, &mut options)
        }
    }
}

/// The direct walk alone, without the document fallback: an error where
/// [`to_vec_with`] would start over through [`to_document`]. For tests that
/// check the two paths write the same bytes.
#[doc(hidden)]
pub fn to_vec_direct<T: Serialize + ?Sized>(
    value: &T,
    protocol: u8,
    fix_imports: bool,
) -> Result<Vec<u8>> {
    direct::to_vec(value, protocol, fix_imports)
        .map_err(|_| Error::data("the direct serializer does not write this value"))
}

fn protocol_options(protocol: u8) -> DumpOptions {
    DumpOptions {
        protocol,
        ..DumpOptions::default()
    }
}

/// Serialize a `T` as a pickle at protocol 4 into a writer. Repeated calls
/// on one writer make a stream that repeated `pickle.load` reads back.
pub fn to_writer<W: std::io::Write, T: Serialize + ?Sized>(writer: W, value: &T) -> Result<()> {
    to_writer_with(writer, value, protocol_options(DEFAULT_PROTOCOL))
}

/// [`to_writer`] with dump options.
pub fn to_writer_with<W: std::io::Write, T: Serialize + ?Sized>(
    mut writer: W,
    value: &T,
    options: DumpOptions,
) -> Result<()> {
    let bytes = to_vec_with(value, options)?;
    writer.write_all(&bytes).map_err(Error::io)
}
