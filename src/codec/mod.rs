//! The codec layer: bytes to instructions and back. No values, no serde.
//!
//! [`opcodes`] is the one table of the 68 opcodes; [`read`] reads
//! instructions from slices and `io::Read`; [`write`] writes them with the
//! shortest encoding; `framing` tracks and writes protocol 4 frames; `text`
//! holds the text forms of protocol 0 arguments (decimal ints, `repr` floats,
//! quoted strings, raw-unicode-escape); `extent` finds where one pickle ends
//! without building anything; `utf8` is the short-string UTF-8 check.

pub(crate) mod extent;
pub(crate) mod float_repr;
pub(crate) mod framing;
pub mod opcodes;
pub mod read;
pub(crate) mod text;
pub(crate) mod utf8;
pub mod write;
