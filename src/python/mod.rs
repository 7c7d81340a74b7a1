//! Python's semantics, as data: `repr` of values (and which code points
//! Python prints), the Python 2 ↔ 3 name tables of `_compat_pickle`, and the
//! Rust types that stand for Python ones in the serde mapping
//! (`PySet`, `PyObject`, ...), and CPython's text codecs for Python 2
//! strings. Nothing here runs Python code.

mod codec_names;
pub(crate) mod codecs;
pub mod compat;
pub mod repr;
pub(crate) mod types;
