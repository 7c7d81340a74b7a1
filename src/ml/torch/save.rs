//! Writing checkpoints as `torch.save` writes them (the zip format of
//! PyTorch 2.x): the value tree ([`SaveValue`], [`StateDict`]) and tensors
//! ([`SaveTensor`]) callers build, the pickle torch's pickler would write
//! for them, and the zip layout of torch's writer (miniz's), which is kept
//! here rather than in `container::zip` (that writer writes what Python's
//! `zipfile` writes). The format is documented on [`save`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use super::DType;
use crate::error::{Error, Result};
use crate::ml::container::zip::{self, Crc32};
use crate::ml::numpy::{self, Element, NdArray, Order};
use crate::pickler::{dumps_with, DumpOptions};
use crate::value::{Document, ObjectKind, ObjectOp, Value};

/// A tensor to save: its dtype, shape and elements in C order,
/// little-endian. The bytes are borrowed when the caller has them in that
/// form ([`SaveTensor::from_bytes`] of a slice, [`SaveTensor::from_ndarray`]
/// of a C-order little-endian array), copied otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct SaveTensor<'a> {
    dtype: DType,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
    requires_grad: bool,
    parameter: bool,
}

fn numel_of(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data(format!("tensor shape {shape:?} overflows")))
}

/// The torch dtype with the element layout of a numpy dtype, as
/// `torch.from_numpy` maps them.
fn dtype_of_numpy(np: &numpy::DType) -> Result<DType> {
    let plain = np.fields.is_empty() && np.subarray.is_none();
    let d = match (np.kind, np.itemsize) {
        _ if !plain => None,
        ('b', 1) => Some(DType::Bool),
        ('i', 1) => Some(DType::Int8),
        ('i', 2) => Some(DType::Int16),
        ('i', 4) => Some(DType::Int32),
        ('i', 8) => Some(DType::Int64),
        ('u', 1) => Some(DType::UInt8),
        ('u', 2) => Some(DType::UInt16),
        ('u', 4) => Some(DType::UInt32),
        ('u', 8) => Some(DType::UInt64),
        ('f', 2) => Some(DType::Float16),
        ('f', 4) => Some(DType::Float32),
        ('f', 8) => Some(DType::Float64),
        ('c', 8) => Some(DType::Complex64),
        ('c', 16) => Some(DType::Complex128),
        _ => None,
    };
    d.ok_or_else(|| {
        Error::unsupported(format!(
            "numpy dtype {} has no torch dtype (torch has bool, int8-64, uint8-64, float16/32/64 and complex64/128 of numpy's)",
            np.str()
        ))
    })
}

impl<'a> SaveTensor<'a> {
    /// A tensor of `dtype` and `shape` from its elements' bytes, C order,
    /// little-endian (`numel * itemsize` of them). Borrows a slice, takes a
    /// `Vec`. Quantized dtypes are refused: their scale and zero point are
    /// not given here.
    pub fn from_bytes(
        dtype: DType,
        shape: &[usize],
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Result<SaveTensor<'a>> {
        if dtype.is_quantized() {
            return Err(Error::unsupported(format!(
                "saving a quantized ({}) tensor: its quantizer parameters are not given here",
                dtype.name()
            )));
        }
        let data = data.into();
        let numel = numel_of(shape)?;
        let want = numel
            .checked_mul(dtype.itemsize())
            .ok_or_else(|| Error::data(format!("tensor shape {shape:?} overflows")))?;
        if data.len() != want {
            return Err(Error::data(format!(
                "{} bytes for a {} tensor of shape {shape:?}, which needs {want}",
                data.len(),
                dtype.name()
            )));
        }
        Ok(SaveTensor {
            dtype,
            shape: shape.to_vec(),
            data,
            requires_grad: false,
            parameter: false,
        })
    }

    /// A tensor from elements in C order: `f32` gives float32, `i64`
    /// int64, `u16` uint16, `bool` bool, `[f32; 2]` complex64, ... (the
    /// [`Element`] types, with numpy's dtypes mapped as `torch.from_numpy`
    /// maps them). float16 and bfloat16 come from their bits:
    /// [`SaveTensor::from_bits`].
    pub fn from_slice<T: Element>(shape: &[usize], items: &[T]) -> Result<SaveTensor<'static>> {
        let dtype = dtype_of_numpy(&T::dtype())?;
        let mut data = Vec::with_capacity(items.len().saturating_mul(T::SIZE));
        for &x in items {
            x.write_le(&mut data);
        }
        SaveTensor::from_bytes(dtype, shape, data)
    }

    /// A float16, bfloat16 or complex32 tensor from 16-bit patterns in C
    /// order (complex32: two per element, real part first).
    pub fn from_bits(dtype: DType, shape: &[usize], bits: &[u16]) -> Result<SaveTensor<'static>> {
        if !matches!(dtype, DType::Float16 | DType::BFloat16 | DType::Complex32) {
            return Err(Error::data(format!(
                "from_bits makes float16, bfloat16 and complex32 tensors, not {}",
                dtype.name()
            )));
        }
        let data: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
        SaveTensor::from_bytes(dtype, shape, data)
    }

    /// A tensor from a numpy array, as `torch.from_numpy(a)` gives it (C
    /// order, little-endian: a Fortran-order or big-endian array is
    /// copied). Refused: the dtypes torch lacks (datetimes, strings,
    /// structured, object arrays, float128).
    pub fn from_ndarray(a: &'a NdArray<'_>) -> Result<SaveTensor<'a>> {
        let dtype = dtype_of_numpy(&a.dtype)?;
        let raw = a
            .raw()
            .ok_or_else(|| Error::unsupported("an object array has no torch dtype"))?;
        let data = if (a.order == Order::C || a.ndim() < 2) && !a.dtype.is_big_endian() {
            Cow::Borrowed(raw)
        } else {
            Cow::Owned(a.to_le_bytes()?)
        };
        SaveTensor::from_bytes(dtype, &a.shape, data)
    }

    /// `requires_grad` as saved (default false; only floating point and
    /// complex tensors may, as in torch: saving another is an error).
    #[must_use]
    pub fn requires_grad(mut self, requires_grad: bool) -> Self {
        self.requires_grad = requires_grad;
        self
    }

    /// Saved as an `nn.Parameter` (`torch._utils._rebuild_parameter`),
    /// which `requires_grad` as `nn.Parameter` does by default: call
    /// [`SaveTensor::requires_grad`] after to save a frozen one.
    #[must_use]
    pub fn parameter(mut self) -> Self {
        self.parameter = true;
        self.requires_grad = true;
        self
    }

    /// The same tensor owning its bytes (copied if borrowed).
    pub fn into_owned(self) -> SaveTensor<'static> {
        SaveTensor {
            data: Cow::Owned(self.data.into_owned()),
            dtype: self.dtype,
            shape: self.shape,
            requires_grad: self.requires_grad,
            parameter: self.parameter,
        }
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements' bytes, C order, little-endian.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of its elements (`numel * itemsize`; `data().len()`, but for
    /// a [`SaveTensor::declared`] one).
    fn nbytes(&self) -> usize {
        self.numel() * self.dtype.itemsize()
    }

    /// A tensor of `dtype` and `shape` whose bytes are not here: they are
    /// written by [`Saver::write_streamed`]'s `fill` (`shape` checked
    /// there, quantized dtypes refused).
    #[cfg(feature = "safetensors")]
    pub(super) fn declared(dtype: DType, shape: &[usize]) -> SaveTensor<'static> {
        SaveTensor {
            dtype,
            shape: shape.to_vec(),
            data: Cow::Borrowed(&[]),
            requires_grad: false,
            parameter: false,
        }
    }

    /// Strides of the C-contiguous layout, in elements, as torch gives
    /// them: a dimension of size 0 counts as 1 (`torch.zeros(3, 0, 2)` has
    /// stride `(2, 2, 1)`).
    pub fn stride(&self) -> Vec<usize> {
        let mut stride = vec![1; self.shape.len()];
        for i in (0..self.shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * self.shape[i + 1].max(1);
        }
        stride
    }
}

/// What [`save`] writes: tensors, plain Python values and containers of
/// them. Dict keys are `str` or `int` ([`SaveKey`]: an optimizer's
/// `state` is keyed by parameter index), in order; a [`StateDict`] is an
/// `OrderedDict` of `str` keys.
/// Build with the `From` impls (`1.5.into()`, `"text".into()`,
/// `tensor.into()`, `vec![...].into()` for a list) and [`SaveValue::dict`],
/// [`SaveValue::ordered_dict`], [`SaveValue::list`], [`SaveValue::tuple`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SaveValue<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`.
    Int(i128),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `torch.Tensor` (or `nn.Parameter`).
    Tensor(SaveTensor<'a>),
    /// A `list`.
    List(Vec<SaveValue<'a>>),
    /// A `tuple`.
    Tuple(Vec<SaveValue<'a>>),
    /// A `dict`, in order (a key given twice is an error).
    Dict(Vec<(SaveKey, SaveValue<'a>)>),
    /// A `collections.OrderedDict` with `str` keys (what
    /// `model.state_dict()` is).
    OrderedDict(Vec<(String, SaveValue<'a>)>),
}

/// A key of a [`SaveValue::Dict`]: a Python `str` or `int`. Built from
/// `&str`, `String` and the integer types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SaveKey {
    /// A `str`.
    Str(String),
    /// An `int`.
    Int(i128),
}

impl From<&str> for SaveKey {
    fn from(k: &str) -> Self {
        SaveKey::Str(k.to_string())
    }
}

impl From<String> for SaveKey {
    fn from(k: String) -> Self {
        SaveKey::Str(k)
    }
}

macro_rules! key_from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for SaveKey {
            fn from(k: $t) -> Self { SaveKey::Int(k as i128) }
        }
    )*};
}
key_from_int!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 usize);

fn pairs<'a, K: Into<T>, T, V: Into<SaveValue<'a>>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Vec<(T, SaveValue<'a>)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

impl<'a> SaveValue<'a> {
    /// A `dict` of `pairs`, in order; keys `str` or `int`
    /// (`SaveValue::dict([(0, state0), (1, state1)])`).
    pub fn dict<K: Into<SaveKey>, V: Into<SaveValue<'a>>>(
        items: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        SaveValue::Dict(pairs(items))
    }

    /// A `collections.OrderedDict` of `pairs`, in order.
    pub fn ordered_dict<K: Into<String>, V: Into<SaveValue<'a>>>(
        items: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        SaveValue::OrderedDict(pairs(items))
    }

    /// A `list`.
    pub fn list<V: Into<SaveValue<'a>>>(items: impl IntoIterator<Item = V>) -> Self {
        SaveValue::List(items.into_iter().map(Into::into).collect())
    }

    /// A `tuple`.
    pub fn tuple<V: Into<SaveValue<'a>>>(items: impl IntoIterator<Item = V>) -> Self {
        SaveValue::Tuple(items.into_iter().map(Into::into).collect())
    }
}

impl<'a> AsRef<SaveValue<'a>> for SaveValue<'a> {
    fn as_ref(&self) -> &SaveValue<'a> {
        self
    }
}

macro_rules! from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for SaveValue<'_> {
            fn from(v: $t) -> Self { SaveValue::Int(v as i128) }
        }
    )*};
}
from_int!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 usize);

impl From<bool> for SaveValue<'_> {
    fn from(v: bool) -> Self {
        SaveValue::Bool(v)
    }
}

impl From<f64> for SaveValue<'_> {
    fn from(v: f64) -> Self {
        SaveValue::Float(v)
    }
}

impl From<f32> for SaveValue<'_> {
    fn from(v: f32) -> Self {
        SaveValue::Float(v as f64)
    }
}

impl From<&str> for SaveValue<'_> {
    fn from(v: &str) -> Self {
        SaveValue::Str(v.to_string())
    }
}

impl From<String> for SaveValue<'_> {
    fn from(v: String) -> Self {
        SaveValue::Str(v)
    }
}

impl From<()> for SaveValue<'_> {
    fn from(_: ()) -> Self {
        SaveValue::None
    }
}

impl<'a, T: Into<SaveValue<'a>>> From<Option<T>> for SaveValue<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(SaveValue::None, Into::into)
    }
}

impl<'a> From<SaveTensor<'a>> for SaveValue<'a> {
    fn from(t: SaveTensor<'a>) -> Self {
        SaveValue::Tensor(t)
    }
}

impl<'a, T: Into<SaveValue<'a>>> From<Vec<T>> for SaveValue<'a> {
    /// A `list`.
    fn from(items: Vec<T>) -> Self {
        SaveValue::list(items)
    }
}

impl<'a> From<StateDict<'a>> for SaveValue<'a> {
    fn from(sd: StateDict<'a>) -> Self {
        sd.value
    }
}

/// An `OrderedDict` of `str` keys, as `model.state_dict()` gives: keys
/// in insertion order, inserting a key again replaces its value in place.
/// Saved by `save(path, &state_dict)`, or put in a larger value with
/// `SaveValue::from(state_dict)`.
#[derive(Clone, Debug, PartialEq)]
pub struct StateDict<'a> {
    /// Always [`SaveValue::OrderedDict`], so that `AsRef` lends it.
    value: SaveValue<'a>,
    index: HashMap<String, usize>,
}

impl Default for StateDict<'_> {
    fn default() -> Self {
        StateDict {
            value: SaveValue::OrderedDict(Vec::new()),
            index: HashMap::new(),
        }
    }
}

impl<'a> StateDict<'a> {
    /// An empty state dict.
    pub fn new() -> Self {
        StateDict::default()
    }

    fn entries(&self) -> &[(String, SaveValue<'a>)] {
        match &self.value {
            SaveValue::OrderedDict(e) => e,
            _ => unreachable!("a StateDict holds an OrderedDict"),
        }
    }

    /// Set `key` to `value`: a new key goes last, an existing one keeps its
    /// place and gives back its old value.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<SaveValue<'a>>,
    ) -> Option<SaveValue<'a>> {
        let (key, value) = (key.into(), value.into());
        let SaveValue::OrderedDict(entries) = &mut self.value else {
            unreachable!("a StateDict holds an OrderedDict")
        };
        match self.index.get(&key) {
            Some(&i) => Some(std::mem::replace(&mut entries[i].1, value)),
            None => {
                self.index.insert(key.clone(), entries.len());
                entries.push((key, value));
                None
            }
        }
    }

    /// [`StateDict::insert`], by value, for chains.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<SaveValue<'a>>) -> Self {
        self.insert(key, value);
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&SaveValue<'a>> {
        self.index.get(key).map(|&i| &self.entries()[i].1)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The keys and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SaveValue<'a>)> {
        self.entries().iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<'a> AsRef<SaveValue<'a>> for StateDict<'a> {
    fn as_ref(&self) -> &SaveValue<'a> {
        &self.value
    }
}

impl<'a, K: Into<String>, V: Into<SaveValue<'a>>> Extend<(K, V)> for StateDict<'a> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a, K: Into<String>, V: Into<SaveValue<'a>>> FromIterator<(K, V)> for StateDict<'a> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut sd = StateDict::new();
        sd.extend(iter);
        sd
    }
}

/// True for the strings CPython keeps one object of when they are written
/// as literals: the empty string, the one-character strings below U+0100,
/// and the identifier-like constants it interns (ASCII letters, digits and
/// `_`).
fn shared_in_python(s: &str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => true,
        (Some(c), None) => (c as u32) < 0x100,
        _ => s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
    }
}

/// The dtypes torch lets require gradients: floating point and complex.
fn can_require_grad(d: DType) -> bool {
    matches!(
        d,
        DType::Float16
            | DType::Float32
            | DType::Float64
            | DType::BFloat16
            | DType::Complex32
            | DType::Complex64
            | DType::Complex128
            | DType::Float8E4M3Fn
            | DType::Float8E5M2
            | DType::Float8E4M3FnUz
            | DType::Float8E5M2FnUz
            | DType::Float8E8M0Fnu
            | DType::Float4E2M1FnX2
            | DType::BComplex32
    )
}

/// A container whose items [`Emitter::value`] is building.
enum Frame<'r, 'a> {
    Seq {
        items: &'r [SaveValue<'a>],
        tuple: bool,
        out: Vec<Value>,
    },
    Map {
        items: MapItems<'r, 'a>,
        /// Keys with their values; the last value is a placeholder while
        /// it is being built.
        out: Vec<(Value, Value)>,
        seen: HashSet<KeyRef<'r>>,
    },
}

/// The items of a dict ([`SaveValue::Dict`]) or of an `OrderedDict`.
#[derive(Clone, Copy)]
enum MapItems<'r, 'a> {
    Dict(&'r [(SaveKey, SaveValue<'a>)]),
    Ordered(&'r [(String, SaveValue<'a>)]),
}

/// A key as Python compares it (a `str` is never equal to an `int`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum KeyRef<'r> {
    Str(&'r str),
    Int(i128),
}

impl std::fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRef::Str(s) => write!(f, "{s:?}"),
            KeyRef::Int(i) => write!(f, "{i}"),
        }
    }
}

impl<'r, 'a> MapItems<'r, 'a> {
    fn get(self, i: usize) -> Option<(KeyRef<'r>, &'r SaveValue<'a>)> {
        match self {
            MapItems::Dict(items) => items.get(i).map(|(k, v)| {
                let k = match k {
                    SaveKey::Str(s) => KeyRef::Str(s),
                    SaveKey::Int(i) => KeyRef::Int(*i),
                };
                (k, v)
            }),
            MapItems::Ordered(items) => items.get(i).map(|(k, v)| (KeyRef::Str(k), v)),
        }
    }

    fn len(self) -> usize {
        match self {
            MapItems::Dict(items) => items.len(),
            MapItems::Ordered(items) => items.len(),
        }
    }
}

/// Builds the object pickle's document and collects the storages, in the
/// order the pickle names them.
struct Emitter<'r> {
    doc: Document,
    strings: HashMap<&'r str, Value>,
    storages: Vec<&'r [u8]>,
    /// The key of each storage by the bytes it was given (address,
    /// length) and its dtype: tensors that lend the same bytes share it.
    shared: HashMap<(usize, usize, DType), Value>,
}

impl<'r> Emitter<'r> {
    fn str(&mut self, s: &'r str) -> Value {
        if !shared_in_python(s) {
            return self.doc.str(s);
        }
        if let Some(&v) = self.strings.get(s) {
            return v;
        }
        let v = self.doc.str(s);
        self.strings.insert(s, v);
        v
    }

    /// The document value of `root`, built without recursion (so any depth
    /// is fine: Python's unpickler is not recursive either), tensors given
    /// their storage keys in the order the pickle names them.
    fn value(&mut self, root: &'r SaveValue<'_>) -> Result<Value> {
        let mut stack: Vec<Frame<'r, '_>> = Vec::new();
        let mut cur = root;
        loop {
            let mut done = match cur {
                SaveValue::List(items) | SaveValue::Tuple(items) => {
                    stack.push(Frame::Seq {
                        items,
                        tuple: matches!(cur, SaveValue::Tuple(_)),
                        out: Vec::with_capacity(items.len()),
                    });
                    None
                }
                SaveValue::Dict(_) | SaveValue::OrderedDict(_) => {
                    let items = match cur {
                        SaveValue::Dict(items) => MapItems::Dict(items),
                        SaveValue::OrderedDict(items) => MapItems::Ordered(items),
                        _ => unreachable!("matched above"),
                    };
                    stack.push(Frame::Map {
                        items,
                        out: Vec::with_capacity(items.len()),
                        seen: HashSet::with_capacity(items.len()),
                    });
                    None
                }
                SaveValue::None => Some(Value::None),
                SaveValue::Bool(b) => Some(Value::Bool(*b)),
                SaveValue::Int(i) => Some(self.int(*i)),
                SaveValue::Float(f) => Some(Value::Float(*f)),
                SaveValue::Str(s) => Some(self.str(s)),
                SaveValue::Tensor(t) => Some(self.tensor(t)?),
            };
            // Hand the value up, and go down the next child there is.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(done.expect("the root's value"));
                };
                let next = match top {
                    Frame::Seq { items, out, .. } => {
                        out.extend(done.take());
                        items.get(out.len())
                    }
                    Frame::Map {
                        items, out, seen, ..
                    } => {
                        if let Some(v) = done.take() {
                            out.last_mut().expect("a key before its value").1 = v;
                        }
                        match items.get(out.len()) {
                            Some((k, v)) => {
                                if !seen.insert(k) {
                                    return Err(Error::data(format!(
                                        "dict key {k} is given twice (a Python dict holds it once)"
                                    )));
                                }
                                let key = match k {
                                    KeyRef::Str(k) => self.str(k),
                                    KeyRef::Int(i) => self.int(i),
                                };
                                out.push((key, Value::None));
                                Some(v)
                            }
                            None => None,
                        }
                    }
                };
                if let Some(child) = next {
                    cur = child;
                    break;
                }
                done = Some(match stack.pop().expect("the top frame") {
                    Frame::Seq {
                        tuple: false, out, ..
                    } => self.doc.list(out),
                    Frame::Seq {
                        tuple: true, out, ..
                    } => self.doc.tuple(out),
                    Frame::Map {
                        items: MapItems::Dict(_),
                        out,
                        ..
                    } => self.doc.dict(out),
                    Frame::Map {
                        items: MapItems::Ordered(_),
                        out,
                        ..
                    } => {
                        let od = self.ordered_dict();
                        for (k, v) in out {
                            self.doc.push_op(od, ObjectOp::SetItem(k, v));
                        }
                        od
                    }
                });
            }
        }
    }

    fn int(&mut self, i: i128) -> Value {
        match i64::try_from(i) {
            Ok(i) => Value::Int(i),
            Err(_) => self.doc.int(i.into()),
        }
    }

    /// `collections.OrderedDict()`, as `OrderedDict.__reduce__` pickles it.
    fn ordered_dict(&mut self) -> Value {
        let cls = self.doc.global("collections", "OrderedDict");
        let args = self.doc.tuple([]);
        self.doc.object(ObjectKind::Reduce, cls, args)
    }

    fn ints(&mut self, v: &[usize]) -> Value {
        let items: Vec<Value> = v.iter().map(|&d| Value::Int(d as i64)).collect();
        self.doc.tuple(items)
    }

    fn tensor(&mut self, t: &'r SaveTensor<'_>) -> Result<Value> {
        if t.requires_grad && !can_require_grad(t.dtype) {
            return Err(Error::data(format!(
                "a {} tensor that requires grad: torch lets only floating point and complex tensors require gradients, and would not load it",
                t.dtype.name()
            )));
        }
        // `Parameter.__reduce_ex__`'s global is written before its data.
        let parameter = t
            .parameter
            .then(|| self.doc.global("torch._utils", "_rebuild_parameter"));
        let class = t.dtype.storage_class();
        let rebuild = self.doc.global(
            "torch._utils",
            if class.is_some() {
                "_rebuild_tensor_v2"
            } else {
                "_rebuild_tensor_v3"
            },
        );
        let tag = self.str("storage");
        let (storage_type, size) = match class {
            Some(c) => (self.doc.global("torch", c), t.numel()),
            None => (
                self.doc.global("torch.storage", "UntypedStorage"),
                t.nbytes(),
            ),
        };
        // `id_map.setdefault(storage._cdata, str(len(id_map)))`: a new
        // string for each new storage, the same one again for a storage
        // already saved (written once, named by a memo GET). Tensors share
        // a storage when they lend the very same bytes, as two names of a
        // tied weight do (empty ones never: all empty slices may share an
        // address).
        let id = (t.data.as_ptr() as usize, t.data.len(), t.dtype);
        let key = match self.shared.get(&id) {
            Some(&key) if !t.data.is_empty() => key,
            _ => {
                let key = self.doc.str(&self.storages.len().to_string());
                self.storages.push(&t.data);
                if !t.data.is_empty() {
                    self.shared.insert(id, key);
                }
                key
            }
        };
        let cpu = self.str("cpu");
        let pid = self
            .doc
            .tuple([tag, storage_type, key, cpu, Value::Int(size as i64)]);
        let storage = self.doc.persistent_id(pid);
        let shape = self.ints(&t.shape);
        let stride = self.ints(&t.stride());
        let hooks = self.ordered_dict();
        let mut args = vec![
            storage,
            Value::Int(0),
            shape,
            stride,
            Value::Bool(t.requires_grad && !t.parameter),
            hooks,
        ];
        if class.is_none() {
            args.push(self.doc.global("torch", t.dtype.name()));
        }
        let args = self.doc.tuple(args);
        let tensor = self.doc.object(ObjectKind::Reduce, rebuild, args);
        Ok(match parameter {
            None => tensor,
            Some(rebuild) => {
                let hooks = self.ordered_dict();
                let args = self
                    .doc
                    .tuple([tensor, Value::Bool(t.requires_grad), hooks]);
                self.doc.object(ObjectKind::Reduce, rebuild, args)
            }
        })
    }
}

/// The object pickle of `obj` (protocol 2, as `torch.save` writes it) and
/// the storages it names, key by key.
fn pickle<'r>(obj: &'r SaveValue<'_>) -> Result<(Vec<u8>, Vec<&'r [u8]>)> {
    let mut e = Emitter {
        doc: Document::new(),
        strings: HashMap::new(),
        storages: Vec::new(),
        shared: HashMap::new(),
    };
    let root = e.value(obj)?;
    e.doc.set_root(root);
    let pkl = dumps_with(&e.doc, &mut DumpOptions::new(2))?;
    Ok((pkl, e.storages))
}

/// Sizes and offsets from this on go to zip64 fields (miniz's test is
/// `>= MZ_UINT32_MAX`).
const ZIP64_FROM: u64 = 0xFFFF_FFFF;

/// Where torch starts every record's data: a multiple of this.
const ALIGNMENT: u64 = 64;

/// A zip archive written as torch's `PyTorchStreamWriter` (miniz) writes
/// one: version fields, times and dates zero; flags 0x0808 (a data
/// descriptor follows the data, names are UTF-8; 0x0800 and no descriptor
/// for an empty record); the local extra field
/// padding the data to [`ALIGNMENT`]; central entries without extra
/// fields but zip64 ones.
struct TorchZip<W> {
    w: W,
    pos: u64,
    central: Vec<u8>,
    count: u64,
    prefix: String,
    /// Each record's name, size and CRC-32, for the serialization id.
    digest: Fnv,
    zip64_from: u64,
}

/// FNV-1a, 64 bits.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl<W: Write> TorchZip<W> {
    fn new(w: W, archive: &str) -> Self {
        TorchZip {
            w,
            pos: 0,
            central: Vec::new(),
            count: 0,
            prefix: format!("{archive}/"),
            digest: Fnv(0xcbf2_9ce4_8422_2325),
            zip64_from: ZIP64_FROM,
        }
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(Error::io)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn record(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.record_with(name, data.len() as u64, |sink| sink.write(data))
    }

    /// A record of `size` bytes, which `fill` hands to the sink (in any
    /// number of pieces; the CRC-32 is computed as they pass, for the data
    /// descriptor after them).
    fn record_with(
        &mut self,
        name: &str,
        size: u64,
        fill: impl FnOnce(&mut RecordSink<'_, W>) -> Result<()>,
    ) -> Result<()> {
        let name = format!("{}{name}", self.prefix);
        let n = name.len();
        if n > u16::MAX as usize {
            return Err(Error::data(format!(
                "zip: a record name of {n} bytes (at most 65535)"
            )));
        }
        let offset = self.pos;
        let big_size = size >= self.zip64_from;
        let big_offset = offset >= self.zip64_from;
        let mut zip64 = Vec::new();
        if big_size {
            zip64.extend_from_slice(&size.to_le_bytes());
            // miniz writes the local header before it has compressed:
            // the compressed size is still 0 there.
            zip64.extend_from_slice(&0u64.to_le_bytes());
        }
        if big_offset {
            zip64.extend_from_slice(&offset.to_le_bytes());
        }
        let mut extra = Vec::new();
        if !zip64.is_empty() {
            extra.extend_from_slice(&1u16.to_le_bytes());
            extra.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
            extra.extend_from_slice(&zip64);
        }
        let start = offset + 30 + n as u64 + extra.len() as u64 + 4;
        let pad = (ALIGNMENT - start % ALIGNMENT) % ALIGNMENT;
        extra.extend_from_slice(b"FB");
        extra.extend_from_slice(&(pad as u16).to_le_bytes());
        extra.resize(extra.len() + pad as usize, b'Z');

        // An empty record is written whole at once: no data descriptor
        // (flag bit 3) after it.
        let descriptor = size > 0;
        let flags: u16 = if descriptor { 0x0808 } else { 0x0800 };
        let mut local = Vec::with_capacity(30 + n + extra.len());
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&0u16.to_le_bytes()); // version needed
        local.extend_from_slice(&flags.to_le_bytes());
        local.extend_from_slice(&[0; 22]); // method, time, date, CRC, sizes
        local[26..28].copy_from_slice(&(n as u16).to_le_bytes());
        local[28..30].copy_from_slice(&(extra.len() as u16).to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(&extra);
        self.put(&local)?;
        let mut sink = RecordSink {
            zip: self,
            crc: Crc32::default(),
            written: 0,
        };
        fill(&mut sink)?;
        let (crc, written) = (sink.crc.value(), sink.written);
        if written != size {
            return Err(Error::data(format!(
                "zip: record {name} was given {written} bytes, {size} were declared"
            )));
        }

        if descriptor {
            // 64-bit sizes once a zip64 field was written.
            let mut dd = b"PK\x07\x08".to_vec();
            dd.extend_from_slice(&crc.to_le_bytes());
            if zip64.is_empty() {
                dd.extend_from_slice(&(size as u32).to_le_bytes());
                dd.extend_from_slice(&(size as u32).to_le_bytes());
            } else {
                dd.extend_from_slice(&size.to_le_bytes());
                dd.extend_from_slice(&size.to_le_bytes());
            }
            self.put(&dd)?;
        }

        // Stored records: the compressed size is the size.
        let cextra = zip::zip64_central_extra(
            big_size.then_some((size, size)),
            big_offset.then_some(offset),
        );
        let clamp = |v: u64, big: bool| if big { u32::MAX } else { v as u32 };
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02");
        c.extend_from_slice(&[0; 4]); // made by, needed
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&[0; 6]); // method, time, date
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&clamp(size, big_size).to_le_bytes());
        c.extend_from_slice(&clamp(size, big_size).to_le_bytes());
        c.extend_from_slice(&(n as u16).to_le_bytes());
        c.extend_from_slice(&(cextra.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 10]); // comment, disk, attributes
        c.extend_from_slice(&clamp(offset, big_offset).to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        c.extend_from_slice(&cextra);
        self.count += 1;

        self.digest.update(name.as_bytes());
        self.digest.update(&size.to_le_bytes());
        self.digest.update(&crc.to_le_bytes());
        Ok(())
    }

    /// The central directory, the zip64 end record and locator, the end record.
    fn finish(mut self) -> Result<W> {
        let cd_offset = self.pos;
        let central = std::mem::take(&mut self.central);
        self.put(&central)?;
        let cd_size = central.len() as u64;
        let n = self.count;
        // made by: Unix, 3.0
        let mut end = zip::zip64_end(0x031e, n, cd_size, cd_offset, self.pos);
        let n16 = n.min(0xFFFF) as u16;
        let from = self.zip64_from;
        let clamp = |v: u64| if v >= from { u32::MAX } else { v as u32 };
        end.extend_from_slice(b"PK\x05\x06");
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&n16.to_le_bytes());
        end.extend_from_slice(&n16.to_le_bytes());
        end.extend_from_slice(&clamp(cd_size).to_le_bytes());
        end.extend_from_slice(&clamp(cd_offset).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes()); // no comment
        self.put(&end)?;
        self.w.flush().map_err(Error::io)?;
        Ok(self.w)
    }
}

/// Where a record's bytes go ([`TorchZip::record_with`]): to the writer,
/// through the CRC-32.
pub(super) struct RecordSink<'z, W> {
    zip: &'z mut TorchZip<W>,
    crc: Crc32,
    written: u64,
}

impl<W: Write> RecordSink<'_, W> {
    /// Write the next bytes of the record.
    pub(super) fn write(&mut self, b: &[u8]) -> Result<()> {
        self.crc.update(b);
        self.written += b.len() as u64;
        self.zip.put(b)
    }
}

/// The archive name `torch.save(obj, path)` gives the file at `path` (and
/// [`save`] does): the file's name after the last `/` or `\`, up to its
/// last `.` (`model` for `checkpoints/model.pt`); `archive` for a path that
/// is not ASCII (torch then writes through a Python file object). An error
/// for a name that leaves nothing (`.pt`), which torch refuses. For a
/// program that writes a checkpoint to a temporary file and renames it:
/// `Saver::new().archive_name(archive_name(final_path)?)`.
pub fn archive_name(path: impl AsRef<Path>) -> Result<String> {
    archive_name_of(path.as_ref())
}

fn archive_name_of(path: &Path) -> Result<String> {
    let Some(s) = path.to_str().filter(|s| s.is_ascii()) else {
        return Ok("archive".into());
    };
    let base = s.rsplit(['/', '\\']).next().unwrap_or(s);
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    if stem.is_empty() {
        return Err(Error::data(format!(
            "invalid file name {s:?}: torch names the archive after the file, up to its last '.', and this leaves nothing"
        )));
    }
    Ok(stem.to_string())
}

/// How [`save`] writes: the archive name and the serialization id.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Saver {
    archive_name: Option<String>,
    serialization_id: Option<String>,
}

impl Saver {
    /// torch's defaults: the archive named after the file (`archive` for a
    /// writer), a serialization id digested from the records.
    pub fn new() -> Self {
        Saver::default()
    }

    /// The folder every record is in (`<name>/data.pkl`), whatever the
    /// file's name. Not empty, without `/`.
    #[must_use]
    pub fn archive_name(mut self, name: impl Into<String>) -> Self {
        self.archive_name = Some(name.into());
        self
    }

    /// The `.data/serialization_id` record's text (`torch.load` hands it
    /// to its logging hooks only). torch writes 40 random digits; by
    /// default this writer writes 40 digits of a digest of every other
    /// record's name, size and CRC-32, so the same object gives the same
    /// file.
    #[must_use]
    pub fn serialization_id(mut self, id: impl Into<String>) -> Self {
        self.serialization_id = Some(id.into());
        self
    }

    /// Write `obj` to the file at `path` (created or truncated). The
    /// object is checked and pickled before the file is touched.
    pub fn save<'a>(
        &self,
        path: impl AsRef<Path>,
        obj: &(impl AsRef<SaveValue<'a>> + ?Sized),
    ) -> Result<()> {
        let path = path.as_ref();
        let name = self.archive(|| archive_name_of(path))?;
        let (pkl, storages) = pickle(obj.as_ref())?;
        let f = std::fs::File::create(path).map_err(Error::io)?;
        let w = std::io::BufWriter::with_capacity(1 << 20, f);
        self.write_parts(w, &name, &pkl, &storages)?
            .into_inner()
            .map_err(|e| Error::io(e.into_error()))
            .map(drop)
    }

    /// Write `obj` to `w` (archive name `archive` unless set), front to
    /// back without seeking; gives `w` back, flushed.
    pub fn write<'a, W: Write>(
        &self,
        w: W,
        obj: &(impl AsRef<SaveValue<'a>> + ?Sized),
    ) -> Result<W> {
        let name = self.archive(|| Ok("archive".into()))?;
        let (pkl, storages) = pickle(obj.as_ref())?;
        self.write_parts(w, &name, &pkl, &storages)
    }

    /// The checkpoint's bytes (archive name `archive` unless set).
    pub fn to_vec<'a>(&self, obj: &(impl AsRef<SaveValue<'a>> + ?Sized)) -> Result<Vec<u8>> {
        self.write(Vec::new(), obj)
    }

    /// The archive name set, checked, or `default`'s.
    fn archive(&self, default: impl FnOnce() -> Result<String>) -> Result<String> {
        match &self.archive_name {
            Some(name) if name.is_empty() || name.contains('/') => Err(Error::data(format!(
                "archive name {name:?}: torch reads records under the first member's folder, so it must be a non-empty name without '/'"
            ))),
            Some(name) => Ok(name.clone()),
            None => default(),
        }
    }

    fn write_parts<W: Write>(
        &self,
        w: W,
        archive: &str,
        pkl: &[u8],
        storages: &[&[u8]],
    ) -> Result<W> {
        let sizes: Vec<u64> = storages.iter().map(|s| s.len() as u64).collect();
        self.write_records(w, archive, pkl, &sizes, |key, sink| {
            sink.write(storages[key])
        })
    }

    /// A state dict of `tensors` (an `OrderedDict`, in order) whose
    /// elements `fill(i, sink)` writes for tensor `i`, C order,
    /// little-endian, `numel * itemsize` bytes of them, in pieces of any
    /// size: the archive is written front to back without holding a
    /// tensor's bytes ([`crate::torch::safetensors`] streams them from a
    /// file). The archive is named `default_archive` unless
    /// [`Saver::archive_name`] named it.
    #[cfg(feature = "safetensors")]
    pub(super) fn write_streamed<W: Write>(
        &self,
        w: W,
        default_archive: &str,
        tensors: &[(String, DType, Vec<usize>)],
        fill: impl FnMut(usize, &mut RecordSink<'_, W>) -> Result<()>,
    ) -> Result<W> {
        let mut sizes = Vec::with_capacity(tensors.len());
        let mut sd = StateDict::new();
        for (key, dtype, shape) in tensors {
            if dtype.is_quantized() {
                return Err(Error::unsupported(format!(
                    "tensor {key:?}: saving a quantized ({}) tensor: its quantizer parameters are not given here",
                    dtype.name()
                )));
            }
            let n = numel_of(shape)?
                .checked_mul(dtype.itemsize())
                .ok_or_else(|| Error::data(format!("tensor shape {shape:?} overflows")))?;
            sizes.push(n as u64);
            if sd
                .insert(key.clone(), SaveTensor::declared(*dtype, shape))
                .is_some()
            {
                return Err(Error::data(format!(
                    "tensor {key:?} is given twice (a state dict holds it once)"
                )));
            }
        }
        let archive = self.archive(|| Ok(default_archive.to_string()))?;
        let (pkl, _) = pickle(sd.as_ref())?;
        self.write_records(w, &archive, &pkl, &sizes, fill)
    }

    /// The records of a checkpoint: the pickle, torch's small records,
    /// storage `key` of `sizes[key]` bytes written by `fill(key, sink)`,
    /// the version and the serialization id.
    fn write_records<W: Write>(
        &self,
        w: W,
        archive: &str,
        pkl: &[u8],
        sizes: &[u64],
        mut fill: impl FnMut(usize, &mut RecordSink<'_, W>) -> Result<()>,
    ) -> Result<W> {
        let mut z = TorchZip::new(w, archive);
        z.record("data.pkl", pkl)?;
        z.record(".format_version", b"1")?;
        z.record(".storage_alignment", ALIGNMENT.to_string().as_bytes())?;
        z.record("byteorder", b"little")?;
        for (key, &size) in sizes.iter().enumerate() {
            z.record_with(&format!("data/{key}"), size, |sink| fill(key, sink))?;
        }
        z.record("version", b"3\n")?;
        let id = match &self.serialization_id {
            Some(id) => id.clone(),
            None => {
                let a = z.digest;
                let mut b = Fnv(a.0 ^ 0x9e37_79b9_7f4a_7c15);
                b.update(&a.0.to_le_bytes());
                format!("{:020}{:020}", a.0, b.0)
            }
        };
        z.record(".data/serialization_id", id.as_bytes())?;
        z.finish()
    }
}

/// `torch.save(obj, path)`: write `obj` (a [`StateDict`], a [`SaveValue`])
/// to the file at `path`, which `torch.load(path, weights_only=True)` reads.
/// The object is checked and pickled before the file is created;
/// [`save_to`] writes to any writer, [`Saver`] sets the archive name and
/// the serialization id.
///
/// The file is what `torch.save(obj, path)` writes (PyTorch 2.x, the zip
/// format), byte for byte but for the `.data/serialization_id` record,
/// which torch draws at random and which is here a digest of the other
/// records (or the caller's, [`Saver::serialization_id`]):
///
/// | record, in order | holds |
/// |---|---|
/// | `<archive>/data.pkl` | the object, pickle protocol 2 |
/// | `<archive>/.format_version` | `1` |
/// | `<archive>/.storage_alignment` | `64` |
/// | `<archive>/byteorder` | `little` |
/// | `<archive>/data/0`, `data/1`, … | each tensor's elements, little-endian, in the order the pickle names them |
/// | `<archive>/version` | `3` and a newline |
/// | `<archive>/.data/serialization_id` | 40 digits |
///
/// `<archive>` is the file's name up to its last `.` (`model` for
/// `checkpoints/model.pt`), or `archive` for a writer or a name that is not
/// ASCII, as torch names it ([`Saver::archive_name`] sets another).
///
/// The archive is laid out as torch's writer (miniz) lays it out: records
/// stored, each followed by a data descriptor (so the file is written front
/// to back, without seeking), every record's data starting at a multiple of
/// 64 bytes in the file (the local header's extra field pads it: `FB`, a
/// length, `Z`s), zip64 fields for sizes and offsets of 4 GiB and more, and
/// a zip64 end record always.
///
/// A tensor is pickled as torch pickles it:
/// `torch._utils._rebuild_tensor_v2(persistent_id(('storage',
/// torch.FloatStorage, '0', 'cpu', numel)), 0, size, stride, requires_grad,
/// collections.OrderedDict())`, or `_rebuild_tensor_v3` with a
/// `torch.storage.UntypedStorage` whose size counts bytes and the dtype
/// after the hooks, for the dtypes without a storage class (uint16, uint32,
/// uint64, complex32, float8, float4, bits); an `nn.Parameter`
/// ([`SaveTensor::parameter`]) is
/// `torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict())`.
/// Storages are C-contiguous from offset 0. Tensors of one dtype that lend
/// the very same bytes (the same slice: a tied weight under two names, or
/// two tensors borrowed from one storage of a memory-mapped
/// [`Checkpoint`](super::Checkpoint))
/// share one storage, as torch saves tied weights, and `torch.load` gives
/// them one storage again; any other tensor has a storage of its own
/// (views of a larger storage are written as their own copies). Quantized
/// tensors are refused.
///
/// The pickle's memo follows Python's object identities as torch's pickler
/// meets them: torch's own `'storage'` and `'cpu'`, every global, and the
/// strings Python shares when they are written as literals (interned
/// identifier-like strings such as `"weight"`, one-character and empty
/// strings) are written once and fetched from the memo afterwards; other
/// strings are written each time. So a state dict built here pickles to the
/// bytes torch writes for the same dict built in Python.
///
/// ```
/// use pickle_codec::torch::{self, SaveTensor, StateDict};
///
/// # fn main() -> Result<(), pickle_codec::Error> {
/// let mut sd = StateDict::new();
/// sd.insert("fc.weight", SaveTensor::from_slice(&[2, 3], &[1f32, 2., 3., 4., 5., 6.])?);
/// sd.insert("fc.bias", SaveTensor::from_slice(&[2], &[0.5f32, -0.5])?);
/// let bytes = torch::Saver::new().archive_name("model").to_vec(&sd)?;
///
/// let ck = torch::Checkpoint::from_reader(std::io::Cursor::new(bytes))?;
/// let (path, t) = ck.tensors().remove(0);
/// assert_eq!(path, "['fc.weight']");
/// assert_eq!(ck.read::<f32>(&t?)?, [1., 2., 3., 4., 5., 6.]);
/// # Ok(())
/// # }
/// ```
pub fn save<'a>(path: impl AsRef<Path>, obj: &(impl AsRef<SaveValue<'a>> + ?Sized)) -> Result<()> {
    Saver::new().save(path, obj)
}

/// `torch.save(obj, f)` for a writer: archive name `archive`; gives `w` back.
pub fn save_to<'a, W: Write>(w: W, obj: &(impl AsRef<SaveValue<'a>> + ?Sized)) -> Result<W> {
    Saver::new().write(w, obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::container::zip;
    use crate::torch::Checkpoint;
    use std::io::Cursor;

    #[test]
    fn archive_names_follow_torch() {
        let name = |p: &str| archive_name_of(Path::new(p));
        assert_eq!(name("a.pt").unwrap(), "a");
        assert_eq!(name("dir/a.b.pt").unwrap(), "a.b");
        assert_eq!(name("noext").unwrap(), "noext");
        assert_eq!(name("x.").unwrap(), "x");
        assert_eq!(name("x.tar.gz").unwrap(), "x.tar");
        assert_eq!(name("dir\\b.c.pt").unwrap(), "b.c");
        assert_eq!(name("\u{e9}.pt").unwrap(), "archive");
        assert!(name(".hidden")
            .unwrap_err()
            .to_string()
            .contains("invalid file name"));
        assert!(name("dir/").is_err());
    }

    #[test]
    fn strings_shared_as_python_shares_literals() {
        assert!(shared_in_python(""));
        assert!(shared_in_python("."));
        assert!(shared_in_python("\u{e9}"));
        assert!(!shared_in_python("\u{100}"));
        assert!(shared_in_python("weight_2"));
        assert!(!shared_in_python("fc.weight"));
        assert!(!shared_in_python("caf\u{e9}"));
    }

    #[test]
    fn every_record_is_aligned_and_zip64_fields_read_back() {
        let t = SaveTensor::from_slice(&[3], &[1i32, 2, 3]).unwrap();
        let sd = StateDict::new()
            .with("a", t.clone())
            .with("b", SaveTensor::from_slice(&[2], &[0.5f64, 1.5]).unwrap());
        for zip64_from in [ZIP64_FROM, 0, 700] {
            let (pkl, storages) = pickle(sd.as_ref()).unwrap();
            let mut z = TorchZip::new(Vec::new(), "m");
            z.zip64_from = zip64_from;
            z.record("data.pkl", &pkl).unwrap();
            for (i, s) in storages.iter().enumerate() {
                z.record(&format!("data/{i}"), s).unwrap();
            }
            let bytes = z.finish().unwrap();
            let mut c = Cursor::new(&bytes[..]);
            let len = bytes.len() as u64;
            let end = zip::end_record(&mut c, len).unwrap();
            assert_eq!(end.concat, 0);
            let members = zip::directory(&mut c, len, &end, 0).unwrap();
            assert_eq!(members.len(), 3);
            for m in &members {
                let loc = zip::locate(&mut c, len, m).unwrap();
                assert_eq!(
                    loc.data_start % ALIGNMENT,
                    0,
                    "{} from {zip64_from}",
                    m.name
                );
                let data = zip::with_data(&mut c, m, &loc, |r| {
                    let mut out = Vec::new();
                    zip::CrcChecked::new(r, m).read_to_end(&mut out)?;
                    Ok(out)
                })
                .unwrap();
                assert_eq!(data.len() as u64, m.size);
            }
            let ck = Checkpoint::from_reader(Cursor::new(bytes)).unwrap();
            let (_, t0) = ck.tensors().remove(0);
            assert_eq!(ck.read::<i32>(&t0.unwrap()).unwrap(), [1, 2, 3]);
        }
    }

    use std::io::Read;

    /// The zip64 fields as PyTorch 2.15 wrote them for a 4 GiB record and
    /// the records after it (byte for byte what this writer wrote for the
    /// same state dict, the serialization id aside), here with the
    /// threshold lowered.
    #[test]
    fn zip64_fields_are_where_torch_puts_them() {
        let mut z = TorchZip::new(Vec::new(), "big");
        z.zip64_from = 100;
        z.record("data/0", &[1; 12]).unwrap();
        let at = z.pos;
        z.record("data/1", &[0; 100]).unwrap();
        let after = z.pos;
        z.record("data/2", &[2; 12]).unwrap();
        let end = z.pos;
        let bytes = z.finish().unwrap();
        let field = |from: u64| {
            let h = &bytes[from as usize..];
            let (n, e) = (
                u16::from_le_bytes([h[26], h[27]]) as usize,
                u16::from_le_bytes([h[28], h[29]]) as usize,
            );
            (h[30 + n..30 + n + e].to_vec(), from as usize + 30 + n + e)
        };
        // A big record: its size, and 0 for the compressed size, before the
        // padding; a descriptor with 64-bit sizes.
        let (extra, data) = field(at);
        assert_eq!(
            extra[..20],
            [[1, 0, 16, 0], [100, 0, 0, 0], [0; 4], [0; 4], [0; 4]].concat()
        );
        assert_eq!(&extra[20..22], b"FB");
        assert_eq!(&bytes[data + 100..data + 104], b"PK\x07\x08");
        assert_eq!(data + 100 + 24, after as usize);
        // Past the threshold: the offset, and 64-bit sizes in the descriptor.
        let (extra, data) = field(after);
        assert_eq!(extra[..4], [1, 0, 8, 0]);
        assert_eq!(extra[4..12], after.to_le_bytes());
        assert_eq!(&extra[12..14], b"FB");
        assert_eq!(data + 12 + 24, end as usize);
        // The end records: counts and size as they are, the offset clamped.
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(eocd[8..10], [3, 0]);
        assert_eq!(eocd[16..20], [0xff; 4]);
    }

    #[test]
    fn deep_values_are_built_without_recursion() {
        let t = SaveTensor::from_slice(&[1], &[7u8]).unwrap();
        let mut deep = SaveValue::dict([("t", t)]);
        for i in 0..3000 {
            deep = if i % 2 == 0 {
                SaveValue::List(vec![deep])
            } else {
                SaveValue::tuple([SaveValue::None, deep])
            };
        }
        let bytes = save_to(Vec::new(), &deep).unwrap();
        let ck = Checkpoint::from_reader(Cursor::new(bytes)).unwrap();
        let tensors = ck.tensors();
        assert_eq!(tensors.len(), 1);
        assert!(tensors[0].0.ends_with("['t']"));
        let t = tensors[0].1.as_ref().unwrap();
        assert_eq!(ck.read::<u8>(t).unwrap(), [7]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = SaveTensor::from_bytes(DType::Float32, &[3], vec![0u8; 8]).unwrap_err();
        assert!(e.to_string().contains("needs 12"), "{e}");
        let e = SaveTensor::from_bytes(DType::QInt8, &[1], vec![0u8]).unwrap_err();
        assert!(e.to_string().contains("quantized"), "{e}");
        let e = SaveTensor::from_bits(DType::Float32, &[1], &[0]).unwrap_err();
        assert!(e.to_string().contains("from_bits"), "{e}");
        let dt = NdArray::from_bytes(
            numpy::DType::parse("<M8[D]").unwrap(),
            vec![1],
            Order::C,
            vec![0; 8],
        )
        .unwrap();
        let e = SaveTensor::from_ndarray(&dt).unwrap_err();
        assert!(e.to_string().contains("<M8[D]"), "{e}");
        let dup = SaveValue::dict([("k", 1), ("k", 2)]);
        let e = save_to(Vec::new(), &dup).unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let ints = SaveTensor::from_slice(&[1], &[1i64]).unwrap().parameter();
        let e = save_to(Vec::new(), &SaveValue::from(ints)).unwrap_err();
        assert!(e.to_string().contains("require gradients"), "{e}");
        let e = Saver::new()
            .archive_name("a/b")
            .to_vec(&SaveValue::None)
            .unwrap_err();
        assert!(e.to_string().contains("'/'"), "{e}");
    }
}
