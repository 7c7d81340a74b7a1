//! The crate's one `unsafe` block: a read-only memory map of a checkpoint
//! file ([`super::Checkpoint::mmap`], feature `mmap`; a safetensors file's
//! for `safetensors::Reader::mmap`), made by the `memmap2` crate.
//!
//! # Contract
//!
//! The file must not change, by this process or another, while it is
//! mapped: a write shows through the map (torch's own `mmap=True` has the
//! same rule), and a truncation makes reading the lost pages raise
//! `SIGBUS`. Checkpoints are written once and read many times, so the rule
//! is the ordinary case; where it cannot be promised, use
//! [`super::Checkpoint::open`], which copies what it reads.
#![allow(unsafe_code)]

use crate::error::{Error, Result};

/// A read-only map of a whole file.
pub(super) struct Map {
    map: memmap2::Mmap,
}

impl Map {
    /// Map `file` read-only.
    pub(super) fn new(file: &std::fs::File) -> Result<Map> {
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes can change
        // under a `&[u8]` if the file is modified, or vanish (SIGBUS) if it
        // is truncated, while mapped. The map is read-only and private to
        // this `Map`; only shared slices of it are handed out, and every
        // read of them is bounds-checked safe code. That the file stays as
        // it is while mapped is the documented contract of
        // `Checkpoint::mmap` (this module's docs), which its caller accepts.
        let map = unsafe { memmap2::Mmap::map(file) }.map_err(Error::io)?;
        Ok(Map { map })
    }

    /// The file's bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
