//! The crate's one error type: a category, a message, and where it happened.

use std::fmt;

use crate::codec::opcodes::Opcode;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Reading or writing the underlying stream failed.
    Io,
    /// The input ended in the middle of a pickle.
    Eof,
    /// The bytes are not a valid pickle (bad opcode, bad argument, stack misuse...).
    Syntax,
    /// The pickle is valid but exceeds a configured limit (depth, memo, size).
    Limit,
    /// The pickle (or value) uses something this crate does not support.
    Unsupported,
    /// A value could not be converted or written (e.g. a type mismatch).
    Data,
}

struct ErrorImpl {
    category: Category,
    message: String,
    offset: Option<u64>,
    opcode: Option<Opcode>,
    /// Where in the value tree (serde layer): `records[3].score`.
    path: String,
    source: Option<std::io::Error>,
}

/// An error from reading, loading or writing a pickle.
///
/// It carries a [`Category`], a message, and, when it comes from input, the
/// byte offset of the opcode at fault and that opcode. It is one pointer wide.
pub struct Error(Box<ErrorImpl>);

/// `Result<T, pickle_codec::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(category: Category, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorImpl {
            category,
            message: message.into(),
            offset: None,
            opcode: None,
            path: String::new(),
            source: None,
        }))
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Error {
        Error::new(Category::Syntax, message)
    }

    pub(crate) fn eof() -> Error {
        Error::new(Category::Eof, "unexpected end of input")
    }

    pub(crate) fn limit(message: impl Into<String>) -> Error {
        Error::new(Category::Limit, message)
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Error {
        Error::new(Category::Unsupported, message)
    }

    #[allow(dead_code)] // used by the pickler
    pub(crate) fn data(message: impl Into<String>) -> Error {
        Error::new(Category::Data, message)
    }

    pub(crate) fn io(err: std::io::Error) -> Error {
        if err.kind() == std::io::ErrorKind::UnexpectedEof {
            return Error::eof();
        }
        let mut e = Error::new(Category::Io, err.to_string());
        e.0.source = Some(err);
        e
    }

    /// Attach a byte offset unless one is already set.
    pub(crate) fn at(mut self, offset: u64) -> Error {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
        }
        self
    }

    /// Set the byte offset, replacing any (an error found in a part of the
    /// input that starts elsewhere: a `.npy` header, an embedded pickle).
    pub(crate) fn set_offset(mut self, offset: u64) -> Error {
        self.0.offset = Some(offset);
        self
    }

    /// Attach the opcode at fault unless one is already set.
    pub(crate) fn in_opcode(mut self, op: Opcode) -> Error {
        if self.0.opcode.is_none() {
            self.0.opcode = Some(op);
        }
        self
    }

    /// Prepend a path segment (`[3]`, `.score`, `['key']`) to the error's path.
    pub(crate) fn in_path(mut self, segment: &str) -> Error {
        self.0.path.insert_str(0, segment);
        self
    }

    /// Where in the value the error happened, like `records[3].score` (serde layer).
    pub fn path(&self) -> &str {
        self.0.path.trim_start_matches('.')
    }

    /// The kind of failure.
    pub fn category(&self) -> Category {
        self.0.category
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The byte offset (from the start of the input) of the opcode at fault.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// The opcode at fault, when one was being read or executed.
    pub fn opcode(&self) -> Option<Opcode> {
        self.0.opcode
    }

    /// True if the input ended too early.
    pub fn is_eof(&self) -> bool {
        self.0.category == Category::Eof
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.path.is_empty() {
            write!(f, "{}: ", self.path())?;
        }
        f.write_str(&self.0.message)?;
        if let Some(op) = self.0.opcode {
            write!(f, " in {}", op.name())?;
        }
        if let Some(off) = self.0.offset {
            write!(f, " at byte {off}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, \"{}\")", self.0.category, self)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(Category::Data, msg.to_string())
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Error {
        Error::new(Category::Data, format!("expected {exp}, got {unexp}"))
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Error {
        Error::new(
            Category::Data,
            format!("invalid value {unexp}, expected {exp}"),
        )
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(Category::Data, msg.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Error {
        Error::io(err)
    }
}

/// A fast path's "not here": the caller takes the general path, which
/// reports any error itself (the serde layer's stream and direct paths give
/// up this way). Not an [`Error`], so it cannot reach a user as one, and
/// giving up allocates nothing. It holds no data; its one field is a
/// never-null reference only so that `Result<T, GiveUp>` has the layout of
/// `Result<T, Error>` (a zero-sized type made the typed loads run 3-5% more
/// instructions, see benches/README.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GiveUp {
    _not_null: &'static (),
}

/// The one value of [`GiveUp`], named like a unit struct's.
#[allow(non_upper_case_globals)]
pub(crate) const GiveUp: GiveUp = GiveUp { _not_null: &() };

impl From<Error> for GiveUp {
    fn from(_: Error) -> GiveUp {
        GiveUp
    }
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not on the fast path")
    }
}

impl std::error::Error for GiveUp {}

impl serde::de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

impl serde::ser::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_opcode_and_offset() {
        let e = Error::syntax("stack underflow")
            .in_opcode(Opcode::Append)
            .at(7);
        assert_eq!(e.to_string(), "stack underflow in APPEND at byte 7");
        assert_eq!(e.category(), Category::Syntax);
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
