//! The pickler. STUB: being written.
use crate::{Document, Result};
/// Options for dumping.
#[derive(Default)]
pub struct DumpOptions {
    /// protocol
    pub protocol: u8,
}
/// A pickler.
pub struct Pickler {}
/// Dump.
pub fn dumps(_doc: &Document, _protocol: u8) -> Result<Vec<u8>> {
    Err(crate::Error::unsupported("stub"))
}
/// Dump.
pub fn dumps_with(_doc: &Document, _o: &mut DumpOptions) -> Result<Vec<u8>> {
    Err(crate::Error::unsupported("stub"))
}
/// Dump.
pub fn dump<W: std::io::Write>(_w: W, _doc: &Document, _protocol: u8) -> Result<()> {
    Err(crate::Error::unsupported("stub"))
}
