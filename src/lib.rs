//! # pickle-codec
//!
//! A pure-Rust codec for Python's pickle format, protocols 0 to 5: read what
//! `pickle.dump` wrote, write what `pickle.load` reads, and never import or
//! call anything.
//!
//! The crate is built in layers, bottom up, one folder each; a module names
//! only its own folder and the layers below it (`tests/layers.rs` checks it):
//!
//! 1. **`codec/`** ([`opcodes`], [`read`], [`write`](mod@write)): bytes to
//!    instructions and back. One table of the 68 opcodes, an instruction
//!    reader over slices and `io::Read`, an instruction writer that picks the
//!    shortest encoding, frames, and the text forms of protocol 0 arguments.
//!    No values, no serde. [`error`] sits just above the opcode table.
//! 2. **`value/`** ([`value`]): the inert model, a [`Document`] arena with
//!    real sharing and cycles, and its views ([`ValueRef`]).
//! 3. **`python/`** ([`repr`], [`compat`]): Python's semantics as data:
//!    `repr`, the Python 2 names, the Rust types that stand for Python ones
//!    ([`PySet`], [`PyObject`], ...).
//! 4. **`unpickler/`** ([`unpickler`]) and **`pickler/`** ([`pickler`]):
//!    instructions to a [`Document`], a [`Document`] to bytes at any protocol
//!    (CPython 3.11's bytes).
//! 5. **`ml/`** ([`numpy`], [`joblib`], `torch`, [`arrays`]): numpy arrays
//!    and scalars, joblib files, torch checkpoints, read from documents.
//! 6. **`de/`** and **`ser/`** ([`de`], [`ser`]): serde both ways,
//!    [`from_slice`], [`from_reader`], [`to_vec`], [`to_writer`], each with
//!    a fast path that skips the [`Document`].
//! 7. **`tools/`** ([`dis`], [`json`], [`scan`]): the disassembler, the JSON
//!    mapping and the scanner.
//!
//! `Display` on [`ValueRef`] prints Python's `repr`.

//! # Safety
//!
//! Loading never imports or calls anything: a `GLOBAL` is a name, a `REDUCE`
//! is a recipe ([`Object`]). No input makes the crate panic, recurse in
//! proportion to its depth, or allocate for a length it does not hold; every
//! limit ([`LoadOptions`]: memo entries, MARK depth, input bytes, line length,
//! serde recursion, serde unfolding of shared values) has a default and an
//! error naming the opcode and offset.
//! `#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers are listed bottom up in the docs above; tests/layers.rs holds
// the code to them.
mod codec;
pub mod de;
pub mod error;
mod ml;
mod options;
pub mod pickler;
mod python;
pub mod ser;
mod tools;
pub mod unpickler;
pub mod value;

pub use codec::{opcodes, read, write};
#[cfg(feature = "torch")]
#[cfg_attr(docsrs, doc(cfg(feature = "torch")))]
pub use ml::torch;
pub use ml::{arrays, joblib, numpy};
pub use python::{compat, repr};
pub use tools::{dis, json, scan};

pub use de::{
    from_document, from_reader, from_slice, from_slice_with, from_value_ref, from_value_ref_with,
    DeOptions,
};
pub use error::{Category, Error, Result};
pub use opcodes::{ArgKind, Opcode, StackEffect, DEFAULT_PROTOCOL, HIGHEST_PROTOCOL};
pub use pickler::{dump, dump_with, dumps, dumps_with, DumpOptions, Pickler};
pub use python::types::{PyByteArray, PyFrozenSet, PyObject, PySet};
pub use read::{Arg, Instruction, Instructions};
pub use ser::{to_document, to_vec, to_vec_with, to_writer, to_writer_with};
pub use unpickler::{
    load, loads, loads_all, loads_all_with, loads_with, AfterBuild, Encoding, Errors, LoadOptions,
    RawInput, Unpickler,
};
pub use value::{
    Buffer, Document, Global, Kind, Node, NodeId, Object, ObjectKind, ObjectOp, PyStr, ShortStr,
    Value, ValueRef,
};
