//! Format facts about the containers Python's loaders open around pickles,
//! shared by the loaders ([`crate::joblib`]) and the scanner
//! ([`crate::scan`]): each module says which loader reads what, and how.
//!
//! * [`compress`]: the compressed streams joblib opens (zlib, gzip, bz2,
//!   xz, lzma, lz4, joblib < 0.10's `ZF`), as streaming decoders.
//! * [`zip`]: zip archives as torch (miniz) and numpy (`zipfile`) read them.
//! * [`npy`]: the `.npy` header and where its data or pickle starts.
//! * [`tar`]: tar archives as `tarfile` reads them (torch < 0.4).
//! * [`safetensors`]: the safetensors header, which no loader unpickles.

pub mod compress;
pub mod npy;
pub mod safetensors;
pub mod tar;
pub mod zip;
