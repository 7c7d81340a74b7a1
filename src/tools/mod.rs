//! Tools built on the layers below: the disassembler, the JSON mapping and
//! the scanner.

pub mod dis;
pub mod json;
pub mod scan;
