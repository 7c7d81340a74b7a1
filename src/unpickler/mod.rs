//! The unpickler. STUB: being written.
use crate::{Document, Result};
/// Encoding.
pub enum Encoding {
    /// ascii
    Ascii,
}
/// Options.
#[derive(Default)]
pub struct LoadOptions {}
/// Unpickler.
pub struct Unpickler {}
/// Load.
pub fn loads(_b: &[u8]) -> Result<Document> {
    Err(crate::Error::unsupported("stub"))
}
/// Load all.
pub fn loads_all(_b: &[u8]) -> Result<Vec<Document>> {
    Err(crate::Error::unsupported("stub"))
}
/// Load.
pub fn load<R: std::io::Read>(_r: R) -> Result<Document> {
    Err(crate::Error::unsupported("stub"))
}
