//! numpy arrays and scalars, read from and written to documents without numpy.
//!
//! [`NdArray::from_value`] recognises a pickled `numpy.ndarray` in every form
//! numpy writes, and gives its [`DType`], shape, memory order and raw data
//! (borrowed from the document when it lies there). Elements come out in C
//! order and native endianness through [`NdArray::to_vec`] and the small
//! [`Element`] trait. [`NdArray::to_value`] writes an array back the way numpy
//! itself does, so `pickle.loads` in Python gives an equal array.
//! [`Scalar::from_value`] reads numpy scalars (`np.float64(1.5)`, ...).
//!
//! Nothing is imported or executed: the recognised recipes are matched by
//! their global names and argument shapes only.
//!
//! # Formats
//!
//! | numpy writes | protocol | recognised |
//! |---|---|---|
//! | `numpy.core.multiarray._reconstruct` + BUILD `(1, shape, dtype, is_fortran, data)` (numpy 1.x) | 0–5 | yes |
//! | `numpy._core.multiarray._reconstruct` + BUILD (numpy 2.x) | 0–5 | yes |
//! | BUILD state without the version, `(shape, dtype, is_fortran, data)` (very old numpy) | any | yes |
//! | data as `bytes` (Python 3, protocol ≥ 3), `_codecs.encode(str, 'latin1')` (Python 3, protocol ≤ 2: the loader turns it into bytes) | 0–5 | yes |
//! | data as a latin1-decoded `str` (Python 2 pickles loaded with [`crate::Encoding::Latin1`]) or `bytes` ([`crate::Encoding::Bytes`]) | 0–2 | yes |
//! | `numpy._core.numeric._frombuffer(buf, dtype, shape, order)` with `bytearray`/`bytes` in band or a [`crate::Node::Buffer`] out of band | 5 | yes |
//! | object arrays (`dtype('O')`): the data is a list of values | any | yes ([`ArrayData::Objects`]) |
//! | `numpy.core.multiarray.scalar(dtype, bytes)` scalars | any | yes ([`Scalar`]) |
//! | `numpy.ma.MaskedArray`, `numpy.matrix` and other subclasses | | the class is kept in [`NdArray::class`]; masks are not interpreted |
//!
//! # dtypes
//!
//! | kind | `dtype.str` | element types ([`Element`]) |
//! |---|---|---|
//! | bool | `\|b1` | `bool` |
//! | signed / unsigned ints | `\|i1` `<i2` `<i4` `<i8`, `\|u1` … `<u8` | `i8` … `i64`, `u8` … `u64` |
//! | floats | `<f2` `<f4` `<f8` | `f32`, `f64`; any numeric kind through [`NdArray::to_f64_vec`] (`f2` included) |
//! | complex | `<c8` `<c16` | `[f32; 2]`, `[f64; 2]` |
//! | datetime64 / timedelta64 with unit | `<M8[D]`, `<m8[ns]`, `<M8[10s]` | `i64` |
//! | fixed-width bytes / unicode | `\|S3`, `<U2` | raw bytes ([`NdArray::to_le_bytes`]) |
//! | structured (fields with names and offsets), void, subarrays | `\|V12` | raw bytes; [`DType::fields`] |
//! | object | `\|O` | [`ArrayData::Objects`] |
//!
//! Both byte orders are read; elements come out native (little-endian hosts
//! assumed by [`NdArray::to_le_bytes`], which is what hashes and tests use).
//!
//! # Not supported yet
//!
//! * `float128`/`complex256` (`f16`, `c32`): parsed, but no element type.
//! * Structured dtypes with titles, `align=True` metadata, and dtype metadata
//!   dicts are read but not written back.
//! * Masked arrays' masks, `numpy.memmap` file references, `numpy.recarray`
//!   field access.
use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::value::{Document, ObjectKind, ObjectOp, Value, ValueRef};

const MULTIARRAY: [&str; 2] = ["numpy.core.multiarray", "numpy._core.multiarray"];
const NUMERIC: [&str; 2] = ["numpy.core.numeric", "numpy._core.numeric"];

/// A numpy data type, as `numpy.dtype` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct DType {
    /// numpy's kind character: `b i u f c M m S U V O`.
    pub kind: char,
    /// Bytes per element.
    pub itemsize: usize,
    /// `'<'`, `'>'` or `'|'` (not applicable).
    pub byteorder: char,
    /// For datetime64/timedelta64: the unit as numpy prints it (`"D"`, `"ns"`, `"10s"`); `None` for generic.
    pub unit: Option<String>,
    /// For structured dtypes: the fields in order.
    pub fields: Vec<Field>,
    /// For subarray dtypes (`('<f4', (2,))`): the base dtype and shape.
    pub subarray: Option<(Box<DType>, Vec<usize>)>,
}

/// A field of a structured dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field name.
    pub name: String,
    /// Its dtype.
    pub dtype: DType,
    /// Byte offset inside an element.
    pub offset: usize,
}

fn py_text(v: ValueRef<'_>) -> Option<String> {
    match v.kind() {
        crate::Kind::Str(s) => Some(s.to_string_lossy().into_owned()),
        crate::Kind::Bytes(b) => Some(b.iter().map(|&c| c as char).collect()),
        _ => None,
    }
}

fn int_of(v: Option<ValueRef<'_>>) -> Option<i64> {
    v?.as_i64()
}

impl DType {
    /// Parse numpy's `dtype.str` notation: `"<f8"`, `"|b1"`, `">i4"`, `"<M8[D]"`, `"|S3"`, `"<U2"`, `"|O"`.
    /// A missing byte order means little-endian for multi-byte kinds.
    pub fn parse(s: &str) -> Result<DType> {
        let bad = || Error::data(format!("not a numpy dtype string: {s:?}"));
        let mut chars = s.chars().peekable();
        let mut bo = match chars.peek() {
            Some(&c @ ('<' | '>' | '|' | '=')) => {
                chars.next();
                Some(if c == '=' { '<' } else { c })
            }
            _ => None,
        };
        let kind = chars.next().ok_or_else(bad)?;
        let rest: String = chars.collect();
        let (num, unit) = match rest.find('[') {
            Some(i) if rest.ends_with(']') => {
                (&rest[..i], Some(rest[i + 1..rest.len() - 1].to_string()))
            }
            Some(_) => return Err(bad()),
            None => (&rest[..], None),
        };
        let n: usize = if num.is_empty() {
            match kind {
                'b' | 'S' | 'V' => 1,
                'O' | 'M' | 'm' => 8,
                'U' => 1,
                _ => return Err(bad()),
            }
        } else {
            num.parse().map_err(|_| bad())?
        };
        let itemsize = match kind {
            'U' => n * 4,
            'b' | 'i' | 'u' | 'f' | 'c' | 'M' | 'm' | 'S' | 'V' | 'O' => n,
            _ => return Err(bad()),
        };
        if matches!(kind, 'b' | 'S' | 'V' | 'O') || itemsize == 1 && kind != 'U' {
            bo = Some('|');
        }
        Ok(DType {
            kind,
            itemsize,
            byteorder: bo.unwrap_or('<'),
            unit: if matches!(kind, 'M' | 'm') {
                unit
            } else {
                None
            },
            fields: Vec::new(),
            subarray: None,
        })
    }

    /// numpy's `dtype.str`: `"<f8"`, `"|b1"`, `"<M8[D]"`, `"<U2"`, `"|V12"`, `"|O"`.
    pub fn str(&self) -> String {
        match self.kind {
            'O' => "|O".into(),
            'U' => format!("{}U{}", self.byteorder, self.itemsize / 4),
            'M' | 'm' => match &self.unit {
                Some(u) => format!("{}{}{}[{}]", self.byteorder, self.kind, self.itemsize, u),
                None => format!("{}{}{}", self.byteorder, self.kind, self.itemsize),
            },
            k => format!("{}{}{}", self.byteorder, k, self.itemsize),
        }
    }

    /// True for big-endian multi-byte data.
    pub fn is_big_endian(&self) -> bool {
        self.byteorder == '>'
    }

    /// True if any part of an element is a Python object.
    pub fn has_object(&self) -> bool {
        self.kind == 'O'
            || self.fields.iter().any(|f| f.dtype.has_object())
            || self.subarray.as_ref().is_some_and(|(b, _)| b.has_object())
    }

    /// Read a pickled `numpy.dtype` (REDUCE `numpy.dtype(('f8', False, True))` + BUILD state).
    pub fn from_value(v: ValueRef<'_>) -> Result<DType> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::data(format!("expected a numpy.dtype, got {}", v.type_name())))?;
        if v.at(o.callable).as_global() != Some(("numpy", "dtype")) {
            return Err(Error::data("expected a numpy.dtype object"));
        }
        let args = v.at(o.args);
        let typestr = args
            .index(0)
            .and_then(py_text)
            .ok_or_else(|| Error::data("numpy.dtype without a type string"))?;
        let mut dt = DType::from_numpy_str(&typestr)?;
        let Some(state) = v.state() else {
            return Ok(dt);
        };
        let s: Vec<ValueRef<'_>> = state.iter().collect();
        if s.len() < 6 {
            return Err(Error::data(format!(
                "numpy.dtype state of {} items (expected 8 or 9)",
                s.len()
            )));
        }
        if let Some(bo) = py_text(s[1]) {
            dt.byteorder = match bo.as_str() {
                ">" => '>',
                "|" => '|',
                _ => '<',
            };
        }
        if let Some(sub) = s[2].as_slice() {
            if sub.len() == 2 {
                let base = DType::from_value(v.at(sub[0]))?;
                let shape = shape_of(v.at(sub[1]))?;
                dt.subarray = Some((Box::new(base), shape));
            }
        }
        if let (Some(names), true) = (s[3].as_slice(), s[4].as_pairs().is_some()) {
            for &n in names {
                let name =
                    py_text(v.at(n)).ok_or_else(|| Error::data("dtype field name is not a str"))?;
                let spec = s[4]
                    .get(&name)
                    .ok_or_else(|| Error::data(format!("dtype field {name:?} not in fields")))?;
                let fdt = DType::from_value(
                    spec.index(0)
                        .ok_or_else(|| Error::data("dtype field without a dtype"))?,
                )?;
                let offset = int_of(spec.index(1))
                    .and_then(|o| usize::try_from(o).ok())
                    .ok_or_else(|| Error::data("dtype field without an offset"))?;
                dt.fields.push(Field {
                    name,
                    dtype: fdt,
                    offset,
                });
            }
        }
        if let Some(elsize) = s[5].as_i64() {
            if elsize > 0 && matches!(dt.kind, 'S' | 'U' | 'V') {
                dt.itemsize = elsize as usize;
            }
        }
        if matches!(dt.kind, 'M' | 'm') {
            if let Some(meta) = s.get(8) {
                let info = match meta.as_slice() {
                    Some(t) if t.len() == 2 => meta.index(1),
                    Some(t) if t.len() == 4 => Some(*meta),
                    _ => None,
                };
                if let Some(info) = info {
                    let unit = info.index(0).and_then(py_text);
                    let num = int_of(info.index(1)).unwrap_or(1);
                    dt.unit = match unit.as_deref() {
                        Some("generic") | None => None,
                        Some(u) if num == 1 => Some(u.to_string()),
                        Some(u) => Some(format!("{num}{u}")),
                    };
                }
            }
        }
        Ok(dt)
    }

    /// [`pickled_item_layout`] of a pickled `numpy.dtype` object: its type
    /// string and the `__setstate__` state given by its BUILD, if any.
    pub(crate) fn pickled_layout(v: ValueRef<'_>) -> Result<(u64, bool)> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::data(format!("expected a numpy.dtype, got {}", v.type_name())))?;
        if v.at(o.callable).as_global() != Some(("numpy", "dtype")) {
            return Err(Error::data("expected a numpy.dtype object"));
        }
        let typestr = v
            .at(o.args)
            .index(0)
            .and_then(py_text)
            .ok_or_else(|| Error::data("numpy.dtype without a type string"))?;
        let state = match v.state() {
            None => None,
            Some(st) => {
                let items: Vec<ValueRef<'_>> = st.iter().collect();
                Some(DTypeState::from_items(
                    items.len(),
                    |i| items.get(i).and_then(|x| x.as_i64()),
                    |i| items[i].is_none(),
                ))
            }
        };
        pickled_item_layout(&typestr, state.as_ref())
    }

    /// The type string numpy passes to `numpy.dtype(...)` when pickling: `"f8"`, `"U2"`, `"O8"`, `"M8"`.
    fn reduce_str(&self) -> String {
        match self.kind {
            'U' => format!("U{}", self.itemsize / 4),
            'O' => "O8".into(),
            k => format!("{}{}", k, self.itemsize),
        }
    }

    /// Write the dtype as numpy pickles it: `numpy.dtype(str, False, True)` + BUILD state.
    pub fn to_value(&self, doc: &mut Document) -> Value {
        let s = doc.str(&self.reduce_str());
        let obj = doc.reduce("numpy", "dtype", [s, Value::Bool(false), Value::Bool(true)]);
        let bo = doc.str(&self.byteorder.to_string());
        let (mut sub, mut names, mut fields) = (Value::None, Value::None, Value::None);
        let (mut elsize, mut align, mut flags) = (-1i64, -1i64, 0i64);
        match self.kind {
            'S' => (elsize, align) = (self.itemsize as i64, 1),
            'U' => (elsize, align, flags) = (self.itemsize as i64, 4, 8),
            'O' => flags = 63,
            'V' => {
                elsize = self.itemsize as i64;
                align = 1;
                if let Some((base, shape)) = &self.subarray {
                    let b = base.to_value(doc);
                    let dims: Vec<Value> = shape.iter().map(|&d| Value::Int(d as i64)).collect();
                    let t = doc.tuple(dims);
                    sub = doc.tuple([b, t]);
                    align = base.itemsize.clamp(1, 8) as i64;
                }
                if !self.fields.is_empty() {
                    let ns: Vec<Value> = self.fields.iter().map(|f| doc.str(&f.name)).collect();
                    let mut pairs = Vec::new();
                    for (f, &n) in self.fields.iter().zip(&ns) {
                        let fd = f.dtype.to_value(doc);
                        let spec = doc.tuple([fd, Value::Int(f.offset as i64)]);
                        pairs.push((n, spec));
                    }
                    names = doc.tuple(ns);
                    fields = doc.dict(pairs);
                    flags = if self.has_object() { 63 } else { 16 };
                }
            }
            _ => {}
        }
        let mut state = vec![
            Value::Int(3),
            bo,
            sub,
            names,
            fields,
            Value::Int(elsize),
            Value::Int(align),
            Value::Int(flags),
        ];
        if matches!(self.kind, 'M' | 'm') {
            state[0] = Value::Int(4);
            let (num, unit) = match &self.unit {
                Some(u) => {
                    let split = u.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
                    let num = u[..split].parse::<i64>().unwrap_or(1);
                    (num, u[split..].to_string())
                }
                None => (1, "generic".to_string()),
            };
            let ub = doc.bytes(unit.as_bytes());
            let info = doc.tuple([ub, Value::Int(num), Value::Int(1), Value::Int(1)]);
            let meta = doc.tuple([Value::None, info]);
            state.push(meta);
        }
        let st = doc.tuple(state);
        doc.push_op(obj, ObjectOp::Build(st));
        obj
    }
}

/// What numpy's `dtype.__setstate__` is given, reduced to what decides an
/// element's size and whether it holds objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DTypeState {
    /// Items in the state tuple (numpy writes 8, or 9 with datetime metadata).
    pub len: usize,
    /// The state's version (numpy writes 3, or 4 with metadata).
    pub version: i64,
    /// The `elsize` item; numpy applies it to flexible kinds (`S`, `U`, `V`) only.
    pub elsize: Option<i64>,
    /// The `flags` item (states of 8 or 9 items); bit 0 is `NPY_ITEM_HASOBJECT`.
    pub flags: Option<i64>,
    /// The state names a subarray or fields (not `None`).
    pub nested: bool,
}

impl DTypeState {
    /// The index of `elsize` and `flags` in a state of `len` items, as numpy's
    /// `arraydescr_setstate` parses them: `(version, endian, subarray, names,
    /// fields, elsize, alignment, flags[, metadata])` for 8 and 9 items,
    /// without flags for 7, without names for 6.
    pub(crate) fn positions(len: usize) -> Option<(usize, Option<usize>)> {
        match len {
            8 | 9 => Some((5, Some(7))),
            7 => Some((5, None)),
            6 => Some((4, None)),
            _ => None,
        }
    }

    /// The state from its `len` items, given how to read an item as an int
    /// and whether one is `None` (the loader reads a document, the scanner
    /// its abstract values).
    pub(crate) fn from_items(
        len: usize,
        int: impl Fn(usize) -> Option<i64>,
        is_none: impl Fn(usize) -> bool,
    ) -> DTypeState {
        let (e, f) = DTypeState::positions(len).unwrap_or((usize::MAX, None));
        DTypeState {
            len,
            version: int(0).unwrap_or(-1),
            elsize: int(e),
            flags: f.and_then(&int),
            // subarray, names and fields sit between the byte order and elsize.
            nested: (2..e.min(len)).any(|i| !is_none(i)),
        }
    }
}

/// The bytes an element takes and whether numpy treats the dtype as holding
/// objects (`dtype.hasobject`, which is what joblib reads to decide between
/// raw data and a nested pickle), for `numpy.dtype(typestr, ...)` followed
/// by `__setstate__(state)`, exactly as numpy computes them:
///
/// * the type string by numpy's rules ([`DType::from_numpy_str`]), so
///   `"float64"` is 8 bytes, not 64;
/// * `elsize` replaces the size of flexible kinds (`S`, `U`, `V`) only;
/// * from state version 3 on, `hasobject` is bit 0 of the pickled `flags`,
///   whatever the kind says; before, numpy recomputes it from the fields.
///
/// Both the joblib loader and the scanner size raw array data with this, so
/// they cannot disagree on where an array ends. A state numpy would refuse,
/// or one this cannot follow (a version-2 state with fields), is an error.
pub(crate) fn pickled_item_layout(
    typestr: &str,
    state: Option<&DTypeState>,
) -> Result<(u64, bool)> {
    let (sizes, hasobject) = pickled_item_layouts(typestr, state)?;
    match sizes[..] {
        [one] => Ok((one, hasobject)),
        _ => Err(Error::data(format!(
            "numpy dtype {typestr:?}: its item size depends on the platform ({sizes:?} bytes)"
        ))),
    }
}

/// [`pickled_item_layout`], for a type string whose size numpy takes from
/// the platform's C types too: every size it has somewhere, the one of
/// 64-bit Linux on x86-64 first (see [`PLATFORM_TYPES`]).
pub(crate) fn pickled_item_layouts(
    typestr: &str,
    state: Option<&DTypeState>,
) -> Result<(Vec<u64>, bool)> {
    let (kind, sizes): (char, Vec<i64>) = match DType::from_numpy_str(typestr) {
        Ok(dt) => (dt.kind, vec![dt.itemsize as i64]),
        Err(e) => {
            let bare = typestr.trim_start_matches(['<', '>', '=', '|']);
            let &(_, kind, sizes) = PLATFORM_TYPES.iter().find(|t| t.0 == bare).ok_or(e)?;
            (kind, sizes.iter().map(|&n| n as i64).collect())
        }
    };
    let mut sizes = sizes;
    let mut hasobject = kind == 'O';
    if let Some(st) = state {
        if DTypeState::positions(st.len).is_none() || !(0..=4).contains(&st.version) {
            return Err(Error::data(format!(
                "numpy.dtype state of {} items, version {}: numpy refuses it",
                st.len, st.version
            )));
        }
        if matches!(kind, 'S' | 'U' | 'V') {
            if let Some(e) = st.elsize {
                sizes = vec![e];
            }
        }
        if st.version >= 3 {
            let flags = st
                .flags
                .ok_or_else(|| Error::data("numpy.dtype state of version 3 without flags"))?;
            hasobject = flags & 1 != 0;
        } else if st.nested {
            return Err(Error::unsupported(
                "numpy.dtype state before version 3 with fields or a subarray",
            ));
        }
    }
    let sizes = sizes
        .into_iter()
        .map(|n| {
            u64::try_from(n)
                .map_err(|_| Error::data(format!("numpy.dtype item size {n} is negative")))
        })
        .collect::<Result<Vec<u64>>>()?;
    Ok((sizes, hasobject))
}

/// Type strings whose item size numpy takes from the platform's C types:
/// `(string, kind, sizes)`, the size on 64-bit Linux for x86-64 first. `long`
/// is 8 bytes there and on macOS, 4 on Windows (and numpy 1.x's default
/// `int` with it); `long double` is 16 bytes on x86-64 and ARM Linux, 8 on
/// Windows and Apple silicon, 12 on 32-bit x86.
pub(crate) const PLATFORM_TYPES: &[(&str, char, &[usize])] = &[
    ("l", 'i', &[8, 4]),
    ("L", 'u', &[8, 4]),
    ("long", 'i', &[8, 4]),
    ("ulong", 'u', &[8, 4]),
    ("int", 'i', &[8, 4]),
    ("int_", 'i', &[8, 4]),
    ("uint", 'u', &[8, 4]),
    ("int0", 'i', &[8, 4]),
    ("uint0", 'u', &[8, 4]),
    ("g", 'f', &[16, 8, 12]),
    ("longdouble", 'f', &[16, 8, 12]),
    ("longfloat", 'f', &[16, 8, 12]),
    ("G", 'c', &[32, 16, 24]),
    ("clongdouble", 'c', &[32, 16, 24]),
    ("clongfloat", 'c', &[32, 16, 24]),
    ("longcomplex", 'c', &[32, 16, 24]),
];

/// numpy's one-letter type codes on a 64-bit little-endian Linux build:
/// `(code, kind, itemsize)`. The codes whose size differs between platforms
/// (`l`, `L`, `g`, `G`, ...) are refused by [`DType::from_numpy_str`] rather
/// than guessed.
const TYPE_CODES: &[(char, char, usize)] = &[
    ('?', 'b', 1),
    ('b', 'i', 1),
    ('B', 'u', 1),
    ('h', 'i', 2),
    ('H', 'u', 2),
    ('i', 'i', 4),
    ('I', 'u', 4),
    ('q', 'i', 8),
    ('Q', 'u', 8),
    ('p', 'i', 8),
    ('P', 'u', 8),
    ('e', 'f', 2),
    ('f', 'f', 4),
    ('d', 'f', 8),
    ('F', 'c', 8),
    ('D', 'c', 16),
    ('O', 'O', 8),
    ('S', 'S', 0),
    ('a', 'S', 0),
    ('U', 'U', 0),
    ('V', 'V', 0),
    ('c', 'S', 1),
    ('M', 'M', 8),
    ('m', 'm', 8),
];

/// numpy's type names that mean the same on every platform: `(name, kind, itemsize)`.
const TYPE_NAMES: &[(&str, char, usize)] = &[
    ("bool", 'b', 1),
    ("bool_", 'b', 1),
    ("bool8", 'b', 1),
    ("int8", 'i', 1),
    ("int16", 'i', 2),
    ("int32", 'i', 4),
    ("int64", 'i', 8),
    ("uint8", 'u', 1),
    ("uint16", 'u', 2),
    ("uint32", 'u', 4),
    ("uint64", 'u', 8),
    ("byte", 'i', 1),
    ("ubyte", 'u', 1),
    ("short", 'i', 2),
    ("ushort", 'u', 2),
    ("intc", 'i', 4),
    ("uintc", 'u', 4),
    ("longlong", 'i', 8),
    ("ulonglong", 'u', 8),
    ("intp", 'i', 8),
    ("uintp", 'u', 8),
    ("float16", 'f', 2),
    ("float32", 'f', 4),
    ("float64", 'f', 8),
    ("half", 'f', 2),
    ("single", 'f', 4),
    ("double", 'f', 8),
    ("float", 'f', 8),
    ("float_", 'f', 8),
    ("complex64", 'c', 8),
    ("complex128", 'c', 16),
    // Only defined where long double has this size.
    ("float96", 'f', 12),
    ("float128", 'f', 16),
    ("complex192", 'c', 24),
    ("complex256", 'c', 32),
    ("csingle", 'c', 8),
    ("singlecomplex", 'c', 8),
    ("cdouble", 'c', 16),
    ("cfloat", 'c', 16),
    ("complex", 'c', 16),
    ("complex_", 'c', 16),
    ("object", 'O', 8),
    ("object_", 'O', 8),
    ("object0", 'O', 8),
    ("str", 'U', 0),
    ("str_", 'U', 0),
    ("unicode", 'U', 0),
    ("unicode_", 'U', 0),
    ("bytes", 'S', 0),
    ("bytes_", 'S', 0),
    ("string_", 'S', 0),
    ("void", 'V', 0),
    ("datetime64", 'M', 8),
    ("timedelta64", 'm', 8),
];

impl DType {
    /// What `numpy.dtype(s)` makes of a type string, by numpy's rules on a
    /// 64-bit little-endian build: an optional byte order (`<>=|`), then a
    /// kind and size (`f8`, `U3`, `S5`, `V16`, `M8[ns]`), a one-letter type
    /// code (`d`, `?`, `B`), or a type name (`float64`, `uint8`, `object`).
    /// Strings whose meaning depends on the platform (`long`, `l`,
    /// `longdouble`, `float128`, ...) and comma-separated or repeated forms
    /// (`"i4,f8"`, `"3i4"`) are refused: a caller that must agree with numpy
    /// on sizes fails rather than guesses.
    pub fn from_numpy_str(s: &str) -> Result<DType> {
        let bad = || {
            Error::data(format!(
                "numpy dtype string numpy's rules here do not cover: {s:?}"
            ))
        };
        let (bo, body) = match s.chars().next() {
            Some(c @ ('<' | '>' | '|' | '=')) => (Some(if c == '=' { '<' } else { c }), &s[1..]),
            _ => (None, s),
        };
        let (head, unit) = match body.find('[') {
            Some(i) if body.ends_with(']') => (&body[..i], Some(&body[i + 1..body.len() - 1])),
            Some(_) => return Err(bad()),
            None => (body, None),
        };
        let split = head
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(head.len());
        let (letters, digits) = head.split_at(split);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (kind, itemsize) = if let Some(&(_, k, n)) = TYPE_NAMES.iter().find(|t| t.0 == head) {
            (k, n)
        } else {
            let mut cs = letters.chars();
            let (Some(code), None) = (cs.next(), cs.next()) else {
                return Err(bad());
            };
            if digits.is_empty() {
                let &(_, k, n) = TYPE_CODES.iter().find(|t| t.0 == code).ok_or_else(bad)?;
                (k, n)
            } else {
                let n: usize = digits.parse().map_err(|_| bad())?;
                let kind = match code {
                    'a' => 'S',
                    c => c,
                };
                let ok = match kind {
                    'b' => n == 1,
                    'i' | 'u' => matches!(n, 1 | 2 | 4 | 8),
                    // 16 and 32: long double on x86-64, where numpy accepts them.
                    'f' => matches!(n, 2 | 4 | 8 | 16),
                    'c' => matches!(n, 8 | 16 | 32),
                    'O' | 'M' | 'm' => n == 8,
                    'S' | 'V' | 'U' => true,
                    _ => false,
                };
                if !ok {
                    return Err(bad());
                }
                let size = if kind == 'U' {
                    n.checked_mul(4).ok_or_else(bad)?
                } else {
                    n
                };
                (kind, size)
            }
        };
        if unit.is_some() && !matches!(kind, 'M' | 'm') {
            return Err(bad());
        }
        let byteorder = if matches!(kind, 'b' | 'S' | 'V' | 'O') || itemsize == 1 && kind != 'U' {
            '|'
        } else {
            bo.filter(|&b| b != '|').unwrap_or('<')
        };
        Ok(DType {
            kind,
            itemsize,
            byteorder,
            unit: unit
                .filter(|u| !u.is_empty() && *u != "generic")
                .map(str::to_string),
            fields: Vec::new(),
            subarray: None,
        })
    }
}

/// Memory order of an array's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Row-major (last index fastest).
    C,
    /// Column-major (first index fastest).
    F,
}

/// The data of an array.
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

fn shape_of(v: ValueRef<'_>) -> Result<Vec<usize>> {
    if let Some(i) = v.as_i64() {
        return usize::try_from(i)
            .map(|d| vec![d])
            .map_err(|_| Error::data("negative dimension"));
    }
    let items = v
        .as_slice()
        .ok_or_else(|| Error::data(format!("shape is a {}, not a tuple", v.type_name())))?;
    items
        .iter()
        .map(|&d| {
            v.at(d)
                .as_i64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| Error::data("shape holds a value that is not a dimension"))
        })
        .collect()
}

fn data_bytes(v: ValueRef<'_>) -> Result<Cow<'_, [u8]>> {
    match v.kind() {
        crate::Kind::Bytes(b) | crate::Kind::ByteArray(b) => Ok(Cow::Borrowed(b)),
        crate::Kind::Buffer(b) => Ok(Cow::Borrowed(&b.data)),
        crate::Kind::Str(s) => {
            // Python 2 `str` data decoded as latin1: every code point is a byte.
            let mut out = Vec::new();
            for cp in crate::codec::text::code_points(s.as_bytes()) {
                out.push(u8::try_from(cp).map_err(|_| {
                    Error::data("array data is a str with code points above 255 (load with Encoding::Latin1)")
                })?);
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(Error::data(format!("array data is a {}", v.type_name()))),
    }
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
        Some((m, "_reconstruct")) if MULTIARRAY.contains(&m))
        || matches!(v.at(o.callable).as_global(), Some((m, "_frombuffer")) if NUMERIC.contains(&m))
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
            Some((m, "_reconstruct")) if MULTIARRAY.contains(&m) => {
                let class = match args.index(0).and_then(|c| c.as_global()) {
                    Some(("numpy", "ndarray")) | None => None,
                    Some((m, n)) => Some((m.to_string(), n.to_string())),
                };
                let state = v
                    .state()
                    .ok_or_else(|| Error::data("numpy array without a BUILD state"))?;
                let s: Vec<ValueRef<'a>> = state.iter().collect();
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

    /// Convert to an `ndarray::ArrayD<T>` (C order, native endianness).
    #[cfg(feature = "ndarray")]
    pub fn to_ndarray<T: Element>(&self) -> Result<ndarray::ArrayD<T>> {
        let v = self.to_vec::<T>()?;
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape), v)
            .map_err(|e| Error::data(format!("ndarray: {e}")))
    }

    /// An owned array from an `ndarray::ArrayD<T>`.
    #[cfg(feature = "ndarray")]
    pub fn from_ndarray<T: Element>(a: &ndarray::ArrayD<T>) -> NdArray<'static> {
        let items: Vec<T> = a.iter().copied().collect();
        NdArray::from_vec(a.shape().to_vec(), &items).expect("shape matches")
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

/// Copy the elements of a strided view (`strides` and `offset` in elements)
/// of `src` into a new C-order buffer.
pub fn gather_c_order(
    src: &[u8],
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    itemsize: usize,
) -> Result<Vec<u8>> {
    let n = element_count(shape)?;
    let mut out = Vec::with_capacity(n.saturating_mul(itemsize).min(1 << 30));
    if n == 0 {
        return Ok(out);
    }
    let oob = || Error::data("array view reaches outside its storage");
    let mut idx = vec![0usize; shape.len()];
    let mut pos = offset;
    for _ in 0..n {
        let at = pos.checked_mul(itemsize).ok_or_else(oob)?;
        out.extend_from_slice(src.get(at..at + itemsize).ok_or_else(oob)?);
        // Advance the multi-index, last dimension fastest.
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            pos += strides[d];
            if idx[d] < shape[d] {
                break;
            }
            pos -= strides[d] * shape[d];
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// Put one element of `dtype` into little-endian byte order in place.
pub fn swap_element_to_le(dtype: &DType, b: &mut [u8]) {
    if let Some((base, _)) = &dtype.subarray {
        if base.itemsize > 0 {
            for c in b.chunks_exact_mut(base.itemsize) {
                swap_element_to_le(base, c);
            }
        }
        return;
    }
    if !dtype.fields.is_empty() {
        for f in &dtype.fields {
            if let Some(part) = b.get_mut(f.offset..f.offset + f.dtype.itemsize) {
                swap_element_to_le(&f.dtype, part);
            }
        }
        return;
    }
    if dtype.byteorder != '>' {
        return;
    }
    let unit = match dtype.kind {
        'c' => dtype.itemsize / 2,
        'U' => 4,
        'b' | 'i' | 'u' | 'f' | 'M' | 'm' => dtype.itemsize,
        _ => return,
    };
    if unit > 1 {
        for c in b.chunks_exact_mut(unit) {
            c.reverse();
        }
    }
}

/// IEEE half precision bits to f64.
pub fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// An element type an array can be read as.
pub trait Element: Copy + 'static {
    /// Bytes per element.
    const SIZE: usize;
    /// Whether arrays of `dtype` hold this type.
    fn matches(dtype: &DType) -> bool;
    /// Decode one element.
    fn read(b: &[u8], big_endian: bool) -> Self;
    /// Append the element little-endian.
    fn write_le(self, out: &mut Vec<u8>);
    /// The little-endian dtype written for this type.
    fn dtype() -> DType;
}

macro_rules! element {
    ($($t:ty => $kind:literal $($alt:literal)*;)*) => {$(
        impl Element for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn matches(d: &DType) -> bool {
                d.itemsize == Self::SIZE && d.fields.is_empty() && d.subarray.is_none()
                    && (d.kind == $kind $(|| d.kind == $alt)*)
            }
            fn read(b: &[u8], big: bool) -> Self {
                let a: [u8; std::mem::size_of::<$t>()] = b[..Self::SIZE].try_into().expect("size");
                if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
            }
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn dtype() -> DType {
                DType::parse(&format!("<{}{}", $kind, Self::SIZE)).expect("valid dtype")
            }
        }
    )*};
}
element! {
    i8 => 'i'; i16 => 'i'; i32 => 'i'; i64 => 'i' 'M' 'm';
    u8 => 'u'; u16 => 'u'; u32 => 'u'; u64 => 'u';
    f32 => 'f'; f64 => 'f';
}

impl Element for bool {
    const SIZE: usize = 1;
    fn matches(d: &DType) -> bool {
        d.kind == 'b' && d.itemsize == 1
    }
    fn read(b: &[u8], _: bool) -> Self {
        b[0] != 0
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
    fn dtype() -> DType {
        DType::parse("|b1").expect("valid dtype")
    }
}

macro_rules! complex {
    ($($t:ty, $n:literal;)*) => {$(
        impl Element for [$t; 2] {
            const SIZE: usize = 2 * $n;
            fn matches(d: &DType) -> bool {
                d.kind == 'c' && d.itemsize == Self::SIZE && d.subarray.is_none()
            }
            fn read(b: &[u8], big: bool) -> Self {
                [<$t>::read(&b[..$n], big), <$t>::read(&b[$n..2 * $n], big)]
            }
            fn write_le(self, out: &mut Vec<u8>) {
                self[0].write_le(out);
                self[1].write_le(out);
            }
            fn dtype() -> DType {
                DType::parse(&format!("<c{}", Self::SIZE)).expect("valid dtype")
            }
        }
    )*};
}
complex! { f32, 4; f64, 8; }

/// A numpy scalar (`numpy.core.multiarray.scalar(dtype, data)`), decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `numpy.bool_`.
    Bool(bool),
    /// Signed ints, and datetime64/timedelta64 counts (see `Scalar::dtype`).
    Int(i64),
    /// Unsigned ints.
    UInt(u64),
    /// Floats (float16 and float32 widened).
    Float(f64),
    /// Complex numbers (real, imaginary).
    Complex(f64, f64),
    /// `numpy.bytes_` (trailing NULs removed, as numpy does).
    Bytes(Vec<u8>),
    /// `numpy.str_` (trailing NULs removed).
    Str(String),
    /// Anything else: the dtype's raw element bytes (structured, void, float128) or an object.
    Raw(Vec<u8>),
}

impl Scalar {
    /// Read a numpy scalar; `None` if `v` is not one.
    pub fn from_value(v: ValueRef<'_>) -> Option<(DType, Scalar)> {
        let o = v.as_object()?;
        if o.kind != ObjectKind::Reduce {
            return None;
        }
        match v.at(o.callable).as_global()? {
            (m, "scalar") if MULTIARRAY.contains(&m) => {}
            _ => return None,
        }
        let args = v.at(o.args);
        let dt = DType::from_value(args.index(0)?).ok()?;
        let data = data_bytes(args.index(1)?).ok()?;
        if data.len() != dt.itemsize {
            return None;
        }
        let big = dt.is_big_endian();
        let b = &data[..];
        let s = match (dt.kind, dt.itemsize) {
            ('b', 1) => Scalar::Bool(b[0] != 0),
            ('i', 1) => Scalar::Int(i8::read(b, big) as i64),
            ('i', 2) => Scalar::Int(i16::read(b, big) as i64),
            ('i', 4) => Scalar::Int(i32::read(b, big) as i64),
            ('i' | 'M' | 'm', 8) => Scalar::Int(i64::read(b, big)),
            ('u', 1) => Scalar::UInt(u8::read(b, big) as u64),
            ('u', 2) => Scalar::UInt(u16::read(b, big) as u64),
            ('u', 4) => Scalar::UInt(u32::read(b, big) as u64),
            ('u', 8) => Scalar::UInt(u64::read(b, big)),
            ('f', 2) => Scalar::Float(f16_to_f64(u16::read(b, big))),
            ('f', 4) => Scalar::Float(f32::read(b, big) as f64),
            ('f', 8) => Scalar::Float(f64::read(b, big)),
            ('c', 8) => Scalar::Complex(f32::read(b, big) as f64, f32::read(&b[4..], big) as f64),
            ('c', 16) => Scalar::Complex(f64::read(b, big), f64::read(&b[8..], big)),
            ('S', _) => {
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                Scalar::Bytes(b[..end].to_vec())
            }
            ('U', _) => {
                let mut out = String::new();
                for c in b.chunks_exact(4) {
                    let cp = u32::read(c, big);
                    if cp == 0 {
                        break;
                    }
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                Scalar::Str(out)
            }
            _ => Scalar::Raw(b.to_vec()),
        };
        Some((dt, s))
    }

    /// Write a numpy scalar of `dtype` holding `data` (its element bytes, in the dtype's byte order).
    pub fn to_value(doc: &mut Document, dtype: &DType, data: &[u8]) -> Value {
        let dt = dtype.to_value(doc);
        let b = doc.bytes(data);
        doc.reduce("numpy.core.multiarray", "scalar", [dt, b])
    }
}

/// Reads an array inside any `#[derive(Deserialize)]` struct loaded by this
/// crate ([`crate::from_slice`], [`crate::from_value`], ...): the field's
/// value must be a pickled numpy array (`coef_: NdArray<'static>`).
///
/// It asks the deserializer for the value as a standalone pickle (a
/// newtype-struct token only this crate's deserializer answers, see
/// `de::SUBVALUE_TOKEN`), then reads the array from it; other serde formats
/// may hand it the bytes of such a pickle.
impl<'de> serde::Deserialize<'de> for NdArray<'static> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = NdArray<'static>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a pickled numpy array")
            }
            fn visit_bytes<E: serde::de::Error>(
                self,
                b: &[u8],
            ) -> std::result::Result<Self::Value, E> {
                let doc = crate::loads(b).map_err(E::custom)?;
                let arr = NdArray::from_value(doc.root()).map_err(E::custom)?;
                // Object arrays keep their items' document: move it in.
                Ok(match arr.data {
                    ArrayData::Objects { items, .. } => NdArray {
                        dtype: arr.dtype,
                        shape: arr.shape,
                        order: arr.order,
                        class: arr.class,
                        data: ArrayData::Objects {
                            doc: Cow::Owned(doc.clone()),
                            items,
                        },
                    },
                    ArrayData::Bytes(b) => NdArray {
                        dtype: arr.dtype,
                        shape: arr.shape,
                        order: arr.order,
                        class: arr.class,
                        data: ArrayData::Bytes(Cow::Owned(b.into_owned())),
                    },
                })
            }
            fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Self::Value, D::Error> {
                d.deserialize_bytes(self)
            }
        }
        d.deserialize_newtype_struct(crate::python::types::SUBVALUE_TOKEN, V)
    }
}
