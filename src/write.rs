//! The instruction writer (opcode layer). STUB: being written.
