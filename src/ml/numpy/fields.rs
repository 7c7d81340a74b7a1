//! Structured arrays: their fields by name, as `a['name']` gives them in
//! numpy ([`NdArray::field`], [`NdArray::fields`]).

use std::borrow::Cow;

use super::array::{ArrayData, NdArray, Order};
use super::dtype::Field;
use crate::error::{Error, Result};

impl NdArray<'_> {
    /// The fields of a structured array's dtype, in order: name, dtype and
    /// byte offset inside an element (empty for other dtypes). The same as
    /// `self.dtype.fields`.
    pub fn fields(&self) -> &[Field] {
        &self.dtype.fields
    }

    /// One field of every element, as numpy's `a['name']`: an array of the
    /// field's dtype and the array's shape, or, for a subarray field
    /// (`('w', '<f4', (2, 3))`), of its base dtype with the subarray's shape
    /// appended (`a.shape + (2, 3)`). The values are copied (numpy gives a
    /// strided view); the result keeps the array's order, and is in C order
    /// when the field is a subarray. A nested structured field is itself a
    /// structured array: `a.field("pos")?.field("x")`.
    ///
    /// ```
    /// use pickle_codec::numpy::{DType, NdArray, Order};
    ///
    /// // np.array([(1, 2.5), (-2, 0.5)], dtype=[('i', '<i4'), ('f', '<f8')])
    /// let dtype = DType::from_npy_descr("[('i', '<i4'), ('f', '<f8')]")?;
    /// let mut data = Vec::new();
    /// for (i, f) in [(1i32, 2.5f64), (-2, 0.5)] {
    ///     data.extend_from_slice(&i.to_le_bytes());
    ///     data.extend_from_slice(&f.to_le_bytes());
    /// }
    /// let a = NdArray::from_bytes(dtype, vec![2], Order::C, data)?;
    /// assert_eq!(a.fields().iter().map(|f| (f.name.as_str(), f.offset)).collect::<Vec<_>>(), [("i", 0), ("f", 4)]);
    /// assert_eq!(a.field("f")?.to_vec::<f64>()?, [2.5, 0.5]);
    /// assert_eq!(a.field("i")?.to_vec::<i32>()?, [1, -2]);
    /// # Ok::<(), pickle_codec::Error>(())
    /// ```
    ///
    /// Errors: a dtype without fields, a name it does not have (the message
    /// lists those it has), an array holding Python objects (its items are
    /// kept as values, not bytes).
    pub fn field(&self, name: &str) -> Result<NdArray<'static>> {
        if self.dtype.fields.is_empty() {
            return Err(Error::data(format!(
                "array of dtype {} has no fields (no field {name:?})",
                self.dtype.str()
            )));
        }
        let f = self
            .dtype
            .fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                let names: Vec<String> = self
                    .dtype
                    .fields
                    .iter()
                    .map(|f| format!("{:?}", f.name))
                    .collect();
                Error::data(format!(
                    "no field {name:?} in the dtype; its fields are {}",
                    names.join(", ")
                ))
            })?;
        let ArrayData::Bytes(_) = &self.data else {
            return Err(Error::unsupported(format!(
                "field {name:?} of an array holding Python objects: its items are values, not bytes"
            )));
        };
        let (start, size, itemsize) = (f.offset, f.dtype.itemsize, self.dtype.itemsize);
        if start.checked_add(size).map_or(true, |end| end > itemsize) {
            return Err(Error::data(format!(
                "field {name:?} (offset {start}, {size} bytes) lies outside the {itemsize}-byte element"
            )));
        }
        let (dtype, shape, order, src) = match &f.dtype.subarray {
            Some((base, sub)) if f.dtype.fields.is_empty() => {
                let mut shape = self.shape.clone();
                shape.extend_from_slice(sub);
                ((**base).clone(), shape, Order::C, self.to_c_bytes()?)
            }
            _ => (
                f.dtype.clone(),
                self.shape.clone(),
                self.order,
                Cow::Borrowed(self.raw().expect("raw data")),
            ),
        };
        let mut out = Vec::with_capacity(self.len().saturating_mul(size));
        if itemsize > 0 {
            for element in src.chunks_exact(itemsize) {
                out.extend_from_slice(&element[start..start + size]);
            }
        }
        NdArray::from_bytes(dtype, shape, order, out)
    }
}
