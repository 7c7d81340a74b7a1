//! [`NdArray`]: a numpy array's dtype, shape, order and data, read from a
//! pickled `numpy.ndarray` and written back as numpy writes it.

use std::borrow::Cow;

use super::dtype::DType;
use super::element::{f16_to_f64, swap_element_to_le, Element};
use super::strided::gather_c_order;
use super::{data_bytes, py_text, shape_of, MULTIARRAY, NUMERIC};
use crate::error::{Error, Result};
use crate::value::{Document, ObjectOp, Value, ValueRef};

/// Memory order of an array's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Row-major (last index fastest).
    C,
    /// Column-major (first index fastest).
    F,
}

/// The data of an array.
// A `Document` inline (its pools made it pass clippy's size gap): arrays
// are few and short-lived, so the `Bytes` variant's spare room costs little.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ArrayData<'a> {
    /// Raw element bytes in the array's [`Order`] and the dtype's byte order.
    Bytes(Cow<'a, [u8]>),
    /// An object array's items (C order, as numpy pickles them), as handles
    /// into `doc`.
    Objects {
        /// The document the items belong to.
        doc: Cow<'a, Document>,
        /// The items.
        items: Vec<Value>,
    },
}

/// A numpy array read from (or to be written to) a document.
#[derive(Clone, Debug)]
pub struct NdArray<'a> {
    /// The data type.
    pub dtype: DType,
    /// The shape.
    pub shape: Vec<usize>,
    /// The layout of [`ArrayData::Bytes`].
    pub order: Order,
    /// The data.
    pub data: ArrayData<'a>,
    /// The array class `(module, name)` when it is not `numpy.ndarray` (e.g. `numpy.matrix`).
    pub class: Option<(String, String)>,
}

fn element_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data("array shape overflows"))
}

/// True if `v` is the recipe of a pickled numpy array (without checking its parts).
pub fn is_ndarray(v: ValueRef<'_>) -> bool {
    let Some(o) = v.as_object() else { return false };
    matches!(v.at(o.callable).as_global(),
        Some((m, "_reconstruct")) if reconstructs(m))
        || matches!(v.at(o.callable).as_global(), Some((m, "_frombuffer")) if NUMERIC.contains(&m))
}

/// Modules whose `_reconstruct(subtype, shape, dtype)` makes an empty
/// array for BUILD to fill: multiarray's, and numpy 0.x's Python one in
/// `numpy.core._internal` (`ndarray.__new__(subtype, shape, dtype)`),
/// which numpy's own Python 2 test files name.
fn reconstructs(module: &str) -> bool {
    MULTIARRAY.contains(&module) || module == "numpy.core._internal"
}

impl<'a> NdArray<'a> {
    /// Read a pickled numpy array.
    pub fn from_value(v: ValueRef<'a>) -> Result<NdArray<'a>> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::data(format!("expected a numpy array, got {}", v.type_name())))?;
        let callable = v.at(o.callable).as_global();
        let args = v.at(o.args);
        match callable {
            Some((m, "_reconstruct")) if reconstructs(m) => {
                let class = match args.index(0).and_then(|c| c.as_global()) {
                    Some(("numpy", "ndarray")) | None => None,
                    Some((m, n)) => Some((m.to_string(), n.to_string())),
                };
                let state = v
                    .state()
                    .ok_or_else(|| Error::data("numpy array without a BUILD state"))?;
                let mut s: Vec<ValueRef<'a>> = state.iter().collect();
                // An ndarray subclass that extends `ndarray.__reduce__`'s
                // state puts the array's state first (old pandas: Series
                // and Index `(array_state, (index, name))`, pandas 0.7's
                // DateRange `((array_state, (None,)), offset, tz)`).
                for _ in 0..4 {
                    if matches!(s.len(), 4 | 5) || s.first().and_then(|f| f.as_slice()).is_none() {
                        break;
                    }
                    s = s[0].iter().collect();
                }
                let s = match s.len() {
                    5 => &s[1..],
                    4 => &s[..],
                    n => return Err(Error::data(format!("numpy array state of {n} items"))),
                };
                let shape = shape_of(s[0])?;
                let dtype = DType::from_value(s[1])?;
                let fortran = s[2].as_bool().unwrap_or(false);
                let order = if fortran { Order::F } else { Order::C };
                let n = element_count(&shape)?;
                let data = if dtype.has_object() {
                    let items = s[3]
                        .as_slice()
                        .ok_or_else(|| Error::data("object array data is not a list"))?;
                    if items.len() != n {
                        return Err(Error::data(format!(
                            "object array of {n} elements holds {} items",
                            items.len()
                        )));
                    }
                    ArrayData::Objects {
                        doc: Cow::Borrowed(v.document()),
                        items: items.to_vec(),
                    }
                } else {
                    ArrayData::Bytes(data_bytes(s[3])?)
                };
                NdArray {
                    dtype,
                    shape,
                    order,
                    data,
                    class,
                }
                .checked()
            }
            Some((m, "_frombuffer")) if NUMERIC.contains(&m) => {
                let a: Vec<ValueRef<'a>> = args.iter().collect();
                if a.len() != 4 {
                    return Err(Error::data("numpy _frombuffer takes 4 arguments"));
                }
                let dtype = DType::from_value(a[1])?;
                let shape = shape_of(a[2])?;
                let order = match py_text(a[3]).as_deref() {
                    Some("F") => Order::F,
                    _ => Order::C,
                };
                NdArray {
                    dtype,
                    shape,
                    order,
                    data: ArrayData::Bytes(data_bytes(a[0])?),
                    class: None,
                }
                .checked()
            }
            _ => Err(Error::data("not a pickled numpy array")),
        }
    }

    fn checked(self) -> Result<Self> {
        let n = element_count(&self.shape)?;
        if let ArrayData::Bytes(b) = &self.data {
            let want = n
                .checked_mul(self.dtype.itemsize)
                .ok_or_else(|| Error::data("array size overflows"))?;
            if b.len() != want {
                return Err(Error::data(format!(
                    "array of shape {:?} and dtype {} needs {want} bytes, data has {}",
                    self.shape,
                    self.dtype.str(),
                    b.len()
                )));
            }
        }
        Ok(self)
    }

    /// An owned C-order array from elements (written little-endian).
    pub fn from_vec<T: Element>(shape: Vec<usize>, items: &[T]) -> Result<NdArray<'static>> {
        if element_count(&shape)? != items.len() {
            return Err(Error::data(format!(
                "{} elements do not fill shape {shape:?}",
                items.len()
            )));
        }
        let mut data = Vec::with_capacity(items.len() * T::SIZE);
        for &x in items {
            x.write_le(&mut data);
        }
        Ok(NdArray {
            dtype: T::dtype(),
            shape,
            order: Order::C,
            data: ArrayData::Bytes(Cow::Owned(data)),
            class: None,
        })
    }

    /// An owned array from raw bytes in `order` and `dtype`'s byte order.
    pub fn from_bytes(
        dtype: DType,
        shape: Vec<usize>,
        order: Order,
        data: Vec<u8>,
    ) -> Result<NdArray<'static>> {
        NdArray {
            dtype,
            shape,
            order,
            data: ArrayData::Bytes(Cow::Owned(data)),
            class: None,
        }
        .checked()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Bytes of data (`arr.nbytes`; object arrays count 8 per item as numpy does).
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype.itemsize
    }

    /// Strides in elements of the data's layout.
    pub fn strides(&self) -> Vec<usize> {
        layout_strides(&self.shape, self.order)
    }

    /// The raw data, in the array's order and the dtype's byte order (`None` for object arrays).
    pub fn raw(&self) -> Option<&[u8]> {
        match &self.data {
            ArrayData::Bytes(b) => Some(b),
            ArrayData::Objects { .. } => None,
        }
    }

    /// For object arrays: the document and the items (C order).
    pub fn objects(&self) -> Option<(&Document, &[Value])> {
        match &self.data {
            ArrayData::Objects { doc, items } => Some((doc, items)),
            ArrayData::Bytes(_) => None,
        }
    }

    /// The data in C order, in the dtype's byte order.
    pub fn to_c_bytes(&self) -> Result<Cow<'_, [u8]>> {
        let raw = self
            .raw()
            .ok_or_else(|| Error::data("object arrays have no raw data"))?;
        if self.order == Order::C || self.ndim() < 2 {
            return Ok(Cow::Borrowed(raw));
        }
        Ok(Cow::Owned(gather_c_order(
            raw,
            &self.shape,
            &self.strides(),
            0,
            self.dtype.itemsize,
        )?))
    }

    /// The data in C order with every value little-endian: numpy's
    /// `ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()`.
    pub fn to_le_bytes(&self) -> Result<Vec<u8>> {
        let mut b = self.to_c_bytes()?.into_owned();
        if self.dtype.itemsize > 0 {
            for chunk in b.chunks_exact_mut(self.dtype.itemsize) {
                swap_element_to_le(&self.dtype, chunk);
            }
        }
        Ok(b)
    }

    /// The elements in C order, as `T` in native endianness.
    /// `T` must match the dtype (e.g. `f64` for `<f8` and `>f8`, `i64` for `<M8[D]`).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if !T::matches(&self.dtype) {
            return Err(Error::data(format!(
                "array of dtype {} cannot be read as {}",
                self.dtype.str(),
                std::any::type_name::<T>()
            )));
        }
        let b = self.to_c_bytes()?;
        let big = self.dtype.is_big_endian();
        Ok(b.chunks_exact(T::SIZE).map(|c| T::read(c, big)).collect())
    }

    /// Any bool, int, uint or float array (float16 included) as f64 in C order.
    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        let b = self.to_c_bytes()?;
        let (k, n, big) = (
            self.dtype.kind,
            self.dtype.itemsize,
            self.dtype.is_big_endian(),
        );
        let conv: fn(&[u8], bool) -> f64 = match (k, n) {
            ('b', 1) => |c, _| (c[0] != 0) as u8 as f64,
            ('i', 1) => |c, b| i8::read(c, b) as f64,
            ('i', 2) => |c, b| i16::read(c, b) as f64,
            ('i', 4) => |c, b| i32::read(c, b) as f64,
            ('i', 8) => |c, b| i64::read(c, b) as f64,
            ('u', 1) => |c, b| u8::read(c, b) as f64,
            ('u', 2) => |c, b| u16::read(c, b) as f64,
            ('u', 4) => |c, b| u32::read(c, b) as f64,
            ('u', 8) => |c, b| u64::read(c, b) as f64,
            ('f', 2) => |c, b| f16_to_f64(u16::read(c, b)),
            ('f', 4) => |c, b| f32::read(c, b) as f64,
            ('f', 8) => |c, b| f64::read(c, b),
            _ => {
                return Err(Error::data(format!(
                    "array of dtype {} is not real-numeric",
                    self.dtype.str()
                )))
            }
        };
        Ok(b.chunks_exact(n).map(|c| conv(c, big)).collect())
    }

    /// An owned copy (object arrays copy their document).
    pub fn into_owned(self) -> NdArray<'static> {
        NdArray {
            dtype: self.dtype,
            shape: self.shape,
            order: self.order,
            data: match self.data {
                ArrayData::Bytes(b) => ArrayData::Bytes(Cow::Owned(b.into_owned())),
                ArrayData::Objects { doc, items } => ArrayData::Objects {
                    doc: Cow::Owned(doc.into_owned()),
                    items,
                },
            },
            class: self.class,
        }
    }

    /// Write the array into `doc` as numpy pickles it at `protocol`:
    /// `numpy.core.multiarray._reconstruct` + BUILD below 5, and at 5
    /// `numpy.core.numeric._frombuffer` with a [`crate::Node::Buffer`] (which
    /// [`crate::DumpOptions::buffer_callback`] may send out of band; in band it
    /// is a `bytearray`, as numpy writes it). Object arrays always use
    /// `_reconstruct` with a list of the items (grafted into `doc`).
    ///
    /// The `numpy.core` names load in numpy 1.x and 2.x; numpy 2 emits a
    /// `DeprecationWarning` for `numpy.core.numeric` (protocol 5 only). Use
    /// [`NdArray::to_value_numpy2`] to write the `numpy._core` names numpy 2
    /// writes (numpy 1.x before 1.26 cannot load those).
    pub fn to_value(&self, doc: &mut Document, protocol: u8) -> Value {
        self.write(doc, protocol, "numpy.core")
    }

    /// [`NdArray::to_value`] with numpy 2's `numpy._core` module names.
    pub fn to_value_numpy2(&self, doc: &mut Document, protocol: u8) -> Value {
        self.write(doc, protocol, "numpy._core")
    }

    fn write(&self, doc: &mut Document, protocol: u8, core: &str) -> Value {
        let fortran = self.order == Order::F
            && !self.is_empty()
            && self.shape.iter().filter(|&&d| d > 1).count() > 1;
        let dims: Vec<Value> = self.shape.iter().map(|&d| Value::Int(d as i64)).collect();
        match &self.data {
            ArrayData::Bytes(b) if protocol >= 5 => {
                let buf = doc.buffer(b.to_vec(), false);
                let dt = self.dtype.to_value(doc);
                let shape = doc.tuple(dims);
                let order = doc.str(if fortran { "F" } else { "C" });
                doc.reduce(
                    &format!("{core}.numeric"),
                    "_frombuffer",
                    [buf, dt, shape, order],
                )
            }
            data => {
                let cls = match &self.class {
                    Some((m, n)) => doc.global(m, n),
                    None => doc.global("numpy", "ndarray"),
                };
                let zero = doc.tuple([Value::Int(0)]);
                let b = doc.bytes(b"b");
                let obj = doc.reduce(
                    &format!("{core}.multiarray"),
                    "_reconstruct",
                    [cls, zero, b],
                );
                let shape = doc.tuple(dims);
                let dt = self.dtype.to_value(doc);
                let payload = match data {
                    ArrayData::Bytes(b) => doc.bytes(b),
                    ArrayData::Objects { doc: src, items } => {
                        let items: Vec<Value> = items.iter().map(|&v| doc.graft(src, v)).collect();
                        doc.list(items)
                    }
                };
                let state = doc.tuple([Value::Int(1), shape, dt, Value::Bool(fortran), payload]);
                doc.push_op(obj, ObjectOp::Build(state));
                obj
            }
        }
    }
}

/// Strides (in elements) of a contiguous layout.
pub fn layout_strides(shape: &[usize], order: Order) -> Vec<usize> {
    let mut st = vec![0; shape.len()];
    let mut acc = 1usize;
    let idx: Vec<usize> = match order {
        Order::C => (0..shape.len()).rev().collect(),
        Order::F => (0..shape.len()).collect(),
    };
    for i in idx {
        st[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    st
}

#[cfg(test)]
mod subclass_state {
    use super::NdArray;

    #[test]
    fn an_extended_subclass_state_reads_its_array_part() {
        // An ndarray subclass whose `__reduce__` extends the array's state
        // as old pandas' Series did: `(array_state, ('idx', 'name'))`.
        let b = b"\x80\x02cnumpy\x2e\x5fcore\x2emultiarray\x0a\x5freconstruct\x0acoldpd\x0aSub\x0aK\x00\x85c\x5fcodecs\x0aencode\x0aq\x00X\x01\x00\x00\x00bX\x06\x00\x00\x00latin1q\x01\x86R\x87R\x28K\x01K\x02\x85cnumpy\x0adtype\x0aX\x02\x00\x00\x00i2\x89\x88\x87R\x28K\x03X\x01\x00\x00\x00\x3cNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89h\x00X\x04\x00\x00\x00\x00\x00\x01\x00h\x01\x86RtX\x03\x00\x00\x00idxX\x04\x00\x00\x00name\x86\x86b\x2e";
        let doc = crate::loads(b).unwrap();
        let a = NdArray::from_value(doc.root()).unwrap();
        assert_eq!(a.shape, [2]);
        assert_eq!(a.class, Some(("oldpd".to_string(), "Sub".to_string())));
        assert_eq!(a.to_vec::<i16>().unwrap(), [0, 1]);
        // pandas 0.7's DateRange: `((array_state, (None,)), offset, tz)`.
        let b = b"\x80\x02cnumpy\x2e\x5fcore\x2emultiarray\x0a\x5freconstruct\x0acoldpd\x0aSub\x0aK\x00\x85c\x5fcodecs\x0aencode\x0aq\x00X\x01\x00\x00\x00bX\x06\x00\x00\x00latin1q\x01\x86R\x87R\x28K\x01K\x02\x85cnumpy\x0adtype\x0aX\x02\x00\x00\x00i2\x89\x88\x87R\x28K\x03X\x01\x00\x00\x00\x3cNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89h\x00X\x04\x00\x00\x00\x00\x00\x01\x00h\x01\x86RtN\x85\x86X\x04\x00\x00\x00BDayN\x87b\x2e";
        let doc = crate::loads(b).unwrap();
        let a = NdArray::from_value(doc.root()).unwrap();
        assert_eq!(a.to_vec::<i16>().unwrap(), [0, 1]);
    }
}
