//! Disassembler (being written).
