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
//!
//! # Safety
//!
//! Loading never imports or calls anything: a `GLOBAL` is a name, a `REDUCE`
//! is a recipe ([`Object`]). No input makes the crate panic, recurse in
//! proportion to its depth, or allocate for a length it does not hold; every
//! limit ([`LoadOptions`]: memo entries, MARK depth, input bytes, line
//! length; [`DeOptions`]: serde recursion, serde unfolding of shared values)
//! has a default and an error naming the opcode and offset. Options are
//! built with setters: `LoadOptions::default().max_memo(1 << 20)`.
//! No `unsafe` code (`#![deny(unsafe_code)]`), save one call in the optional
//! `mmap` feature's module: the memory map of `torch::Checkpoint::mmap` (and
//! `torch::safetensors::Reader::mmap`).
//!
//! # The serde mapping
//!
//! | Rust (serde data model) | Python, written | Python, read |
//! |---|---|---|
//! | `bool` | `bool` | `bool` |
//! | `i8`..`i64`, `u8`..`u32` | `int` | `int` |
//! | `u64` above 2^63, `i128`, `u128` | `int` (`LONG1` at protocol 2+) | `int` up to 128 bits |
//! | `f32`, `f64` | `float` (NaN, ±inf, -0.0 kept) | `float`, and `int` |
//! | `char`, `String`, `&str` | `str` | `str` (`&'de str`/`Cow` borrow from [`from_slice`] input) |
//! | bytes (`serde_bytes`) | `bytes` ([`PyByteArray`]: `bytearray`) | `bytes`, `bytearray` (`&'de [u8]` borrows) |
//! | `Option<T>` | `None` or the value | `None` or the value |
//! | `()`, unit struct | `None` | `None` |
//! | newtype struct | the inner value | the inner value |
//! | `Vec`, slices, any seq | `list` ([`PySet`]: `set`, [`PyFrozenSet`]: `frozenset`) | `list`, `tuple`, `set`, `frozenset`, `deque` |
//! | tuple, tuple struct | `tuple` | `tuple`, `list` |
//! | maps (any key type, order kept) | `dict` | `dict`, `OrderedDict`, `defaultdict`, `Counter`, dict subclasses |
//! | struct | `dict` of field names (names interned, as Python's attribute names) | `dict`, or any class instance: its `__dict__`/slots state, dataclasses, namedtuples (by position) |
//! | enum, unit variant | `'Variant'` | `'Variant'` |
//! | enum, other variants | `{'Variant': value}` (externally tagged; `#[serde(tag/content/untagged)]` work as in serde) | the same |
//! | [`PyObject<S>`] | an instance of `module.name` (`NEWOBJ` + `BUILD(state)`), so Python gets its own class | any instance: class, and state as `S` |
//! | [`PySlotted<S>`] | an instance of a `__slots__` class or `@dataclass(slots=True)` (`NEWOBJ` + `BUILD((None, state))`) | such an instance, or any with a dict state |
//! | [`PyNamedTuple<T>`] | a `NamedTuple`/`namedtuple` instance: `NEWOBJ(cls, *fields)`, fields from a struct's values in order or a tuple | such an instance at any protocol (`copyreg._reconstructor` below 2) |
//! | `String` | – | `datetime`/`date`/`time` as ISO 8601, `Decimal`, `Fraction`, `UUID` (hyphenated), `pathlib` paths |
//! | `(f64, f64)` | – | `complex` |
//! | `f64` | – | `datetime.timedelta`, in seconds |
//! | [`Document`], [`ValueRef`] | the value exactly, as [`dumps`] writes it (`to_vec(&doc) == dumps(&doc, 4)`) | the value exactly, as [`loads`] reads it (`from_slice::<Document>(b) == loads(b)`) |
//!
//! `#[serde(flatten)]`, `#[serde(default)]` and the skip attributes work.
//! Errors say where: `records[3].score: expected f64, got string "x" at byte 1234`.
//!
//! Machine-learning files, read without Python and without executing anything:
//!
//! * [`numpy`]: `numpy.ndarray` and numpy scalars in every pickled form
//!   (protocols 0–5, in-band and out-of-band buffers), written back as numpy
//!   writes them; `NdArray` implements `Deserialize`, so scikit-learn
//!   estimators read into `#[derive(Deserialize)]` structs
//!   (`struct LinearRegression { coef_: NdArray<'static>, intercept_: f64 }`);
//!   numpy's `.npy` and `.npz` files, read and written as `np.save`,
//!   `np.savez` and `np.load` do; structured fields by name (`NdArray::field`).
//! * [`joblib`]: `joblib.dump` files (every compressor with `joblib-compress`).
//! * `torch` (feature `torch`): `torch.save` checkpoints, zip, legacy and
//!   torch < 0.4's tar, with storages read lazily (positional reads, from
//!   any number of threads; zip CRC-32s checked), or borrowed from a memory
//!   map (feature `mmap`); and written (`torch::save`) as `torch.save`
//!   writes them.
//! * `pandas` (feature `pandas`): `DataFrame`s and `Series` from
//!   `to_pickle` files of pandas 0.x to 3.x as columns (values, nulls,
//!   dtype, index), pyarrow-backed ones included, and their CSV export as
//!   `df.to_csv(index=False)` writes it (Arrow record batches with the
//!   `arrow` feature).
//! * `sklearn` (feature `sklearn`): scikit-learn 1.3–1.9 estimators (trees,
//!   forests, gradient boosting, histogram gradient boosting, linear and
//!   logistic models, scalers, `OneHotEncoder` and `OrdinalEncoder` on numeric or
//!   string categories, `Pipeline`) from a pickle
//!   or joblib file, validated once and predicting as scikit-learn does
//!   (`predict`, `predict_proba`, `decision_function`, `transform`).
//! * [`arrays`]: every array in a document with its path in the object tree.
//!
//! ```
//! use pickle_codec::{loads, dumps};
//!
//! // pickle.dumps({"a": [1, 2.5, None]}, protocol=2)
//! let data = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.";
//! let doc = loads(data).unwrap();
//! assert_eq!(doc.root().get("a").unwrap().index(1).unwrap().as_f64(), Some(2.5));
//! assert_eq!(doc.root().to_string(), "{'a': [1, 2.5, None]}");
//! assert_eq!(dumps(&doc, 2).unwrap(), data);
//! ```
// `deny`, not `forbid`: a `forbid` cannot be lifted by an inner `allow`,
// and the `mmap` feature's one module (src/ml/torch/mmap.rs, a memory map
// made by memmap2) needs `#![allow(unsafe_code)]`. Every other module is
// held to no `unsafe` by this line; without `mmap` the crate has none.
#![deny(unsafe_code)]
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
#[cfg(feature = "pandas")]
#[cfg_attr(docsrs, doc(cfg(feature = "pandas")))]
pub use ml::pandas;
#[cfg(feature = "sklearn")]
#[cfg_attr(docsrs, doc(cfg(feature = "sklearn")))]
pub use ml::sklearn;
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
pub use python::types::{PyByteArray, PyFrozenSet, PyNamedTuple, PyObject, PySet, PySlotted};
pub use read::{Arg, Instruction, Instructions};
pub use ser::{to_document, to_vec, to_vec_with, to_writer, to_writer_with};
pub use unpickler::{
    load, loads, loads_all, loads_all_with, loads_with, AfterBuild, Codec, Encoding, Errors,
    LoadOptions, RawInput, Unpickler,
};
pub use value::{
    Buffer, Document, Global, Items, Kind, Node, NodeId, Object, ObjectKind, ObjectOp, Pairs,
    PoolSpan, PyStr, ShortStr, StrRef, Text, TextSpan, Value, ValueRef,
};
