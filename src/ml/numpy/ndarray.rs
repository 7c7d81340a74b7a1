//! Conversions between [`NdArray`] and `ndarray::ArrayD` (the `ndarray`
//! feature).

use super::array::NdArray;
use super::element::Element;
use crate::error::{Error, Result};

#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
impl NdArray<'_> {
    /// Convert to an `ndarray::ArrayD<T>` (C order, native endianness).
    pub fn to_ndarray<T: Element>(&self) -> Result<::ndarray::ArrayD<T>> {
        let v = self.to_vec::<T>()?;
        ::ndarray::ArrayD::from_shape_vec(::ndarray::IxDyn(&self.shape), v)
            .map_err(|e| Error::data(format!("ndarray: {e}")))
    }

    /// An owned array from an `ndarray::ArrayD<T>`.
    pub fn from_ndarray<T: Element>(a: &::ndarray::ArrayD<T>) -> NdArray<'static> {
        let items: Vec<T> = a.iter().copied().collect();
        NdArray::from_vec(a.shape().to_vec(), &items).expect("shape matches")
    }
}
