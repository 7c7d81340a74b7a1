//! Machine-learning files: numpy arrays and scalars, joblib files, torch
//! checkpoints, and the array finder; `container` holds the facts of the
//! file formats around pickles (zip, tar, `.npy`, compressors) that the
//! loaders here and the scanner share, and `torch_facts` torch's storage
//! classes (built without the `torch` feature: the scanner needs them).

pub mod arrays;
pub(crate) mod container;
pub mod joblib;
pub mod numpy;
#[cfg(feature = "pandas")]
#[cfg_attr(docsrs, doc(cfg(feature = "pandas")))]
pub mod pandas;
#[cfg(feature = "sklearn")]
#[cfg_attr(docsrs, doc(cfg(feature = "sklearn")))]
pub mod sklearn;
#[cfg(feature = "torch")]
#[cfg_attr(docsrs, doc(cfg(feature = "torch")))]
pub mod torch;
pub(crate) mod torch_facts;
