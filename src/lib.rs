//! # pickle-codec
//!
//! A pure-Rust codec for Python's pickle format, protocols 0 to 5: read what
//! `pickle.dump` wrote, write what `pickle.load` reads, and never import or
//! call anything.
//!
//! The crate has three layers, each in modules named for it:
//!
//! 1. **Opcodes** ([`opcodes`], [`read`], [`write`](mod@write), [`framing`], [`text`]):
//!    one table of the 68 opcodes, an instruction reader over slices and
//!    `io::Read`, and an instruction writer that picks the shortest encoding.
//!    No values, no serde.
//! 2. **Unpickler** ([`unpickler`], with the memo in [`unpickler::memo`]):
//!    a stack machine that turns instructions into an inert [`Document`]
//!    (see [`value`] for the model: an arena with real sharing and cycles).
//! 3. **Pickler** ([`pickler`]): any [`Document`] back to bytes at any
//!    protocol, matching CPython 3.11's output byte for byte.
//!
//! On top: the **serde layer** ([`de`], [`ser`], helpers in [`py`]):
//! [`from_slice`], [`from_reader`], [`to_vec`], [`to_writer`] and
//! [`to_value`]/[`from_value`], so Rust types dump and load like
//! `pickle.dump`/`pickle.load`. Python's `repr` of values lives in [`repr`];
//! `Display` on [`ValueRef`] uses it. [`json`] maps documents to JSON and back.
//!
//! # Safety
//!
//! Loading never imports or calls anything: a `GLOBAL` is a name, a `REDUCE`
//! is a recipe ([`Object`]). No input makes the crate panic, recurse in
//! proportion to its depth, or allocate for a length it does not hold; every
//! limit ([`LoadOptions`]: memo entries, MARK depth, input bytes, line length,
//! serde recursion, serde unfolding of shared values) has a default and an
//! error naming the opcode and offset.
//! `#![forbid(unsafe_code)]`.
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
//! | `String` | – | `datetime`/`date`/`time` as ISO 8601, `Decimal`, `Fraction`, `UUID` (hyphenated), `pathlib` paths |
//! | `(f64, f64)` | – | `complex` |
//! | `f64` | – | `datetime.timedelta`, in seconds |
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
//!   (`struct LinearRegression { coef_: NdArray<'static>, intercept_: f64 }`).
//! * [`joblib`]: `joblib.dump` files (zlib/gzip with `joblib-compress`).
//! * `torch` (feature `torch`): `torch.save` checkpoints, zip and legacy,
//!   with storages read lazily.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arrays;
pub mod compat;
pub(crate) mod container;
pub mod de;
pub mod dis;
pub mod error;
pub mod framing;
pub mod joblib;
pub mod json;
pub mod numpy;
pub mod opcodes;
pub mod pickler;
pub mod py;
pub mod read;
pub mod repr;
pub mod scan;
pub mod ser;
pub mod text;
#[cfg(feature = "torch")]
pub mod torch;
pub mod unpickler;
pub mod value;
pub mod write;

pub use de::{from_reader, from_slice, from_slice_with, from_value, from_value_ref};
pub use error::{Category, Error, Result};
pub use opcodes::{ArgKind, Opcode, HIGHEST_PROTOCOL};
pub use pickler::{dump, dump_with, dumps, dumps_with, DumpOptions, Pickler};
pub use py::{PyByteArray, PyFrozenSet, PyObject, PySet};
pub use read::{Arg, Instruction, Instructions};
pub use ser::{to_value, to_vec, to_vec_with, to_writer, to_writer_with};
pub use unpickler::{
    load, loads, loads_all, loads_all_with, loads_with, AfterBuild, Encoding, Errors, LoadOptions,
    RawInput, Unpickler,
};
pub use value::{
    Buffer, Document, Global, Kind, Node, NodeId, Object, ObjectKind, ObjectOp, PyStr, ShortStr,
    Value, ValueRef,
};

/// The protocol `pickle.dumps` uses by default in CPython 3.8 to 3.13.
pub const DEFAULT_PROTOCOL: u8 = 4;
