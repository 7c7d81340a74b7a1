//! numpy's data types: [`DType`] and its fields, numpy's type-string rules
//! ([`DType::from_numpy_str`]), and pickled `numpy.dtype` objects, read and
//! written, with the element layout numpy gives them
//! ([`pickled_item_layout`]).

use super::{py_text, shape_of};
use crate::error::{Error, Result};
use crate::value::{Document, ObjectOp, Value, ValueRef};

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
                    // `O4`: an object pointer of a 32-bit build (old pandas
                    // pickles); numpy reads it as `O`.
                    'O' => n == 4 || n == 8,
                    'M' | 'm' => n == 8,
                    'S' | 'V' | 'U' => true,
                    _ => false,
                };
                if !ok {
                    return Err(bad());
                }
                let size = match kind {
                    'U' => n.checked_mul(4).ok_or_else(bad)?,
                    'O' => 8,
                    _ => n,
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

#[cfg(test)]
mod object_sizes {
    use super::DType;

    #[test]
    fn a_32_bit_object_type_is_numpys_object() {
        // numpy.dtype('O4') is dtype('O') (8 bytes here); 'O16' is an error.
        for s in ["O4", "O8", "|O4", "O"] {
            let d = DType::from_numpy_str(s).unwrap();
            assert_eq!(
                (d.kind, d.itemsize, d.str()),
                ('O', 8, "|O".to_string()),
                "{s}"
            );
        }
        assert!(DType::from_numpy_str("O16").is_err());
    }
}
