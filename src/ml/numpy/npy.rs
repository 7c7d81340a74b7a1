//! `.npy` files (`numpy.lib.format`, what `np.save` writes and `np.load`
//! reads): [`NpyHeader`], [`NdArray::from_npy`], [`NdArray::read_npy`],
//! [`NdArray::to_npy`].
//!
//! A file is the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the header
//! length (u16 for 1.0, u32 after), the header, a Python dict literal
//! (latin-1 text before 3.0, UTF-8 in 3.0) padded with spaces and a newline
//! so that the data starts at a multiple of 64 bytes:
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`. `descr` is
//! a dtype string (`dtype.str`), or for structured dtypes numpy's
//! `dtype.descr`: a list of `(name, descr)` and `(name, descr, shape)`
//! fields with `('', '|V4')` padding, nested to any depth. Then the data:
//! `prod(shape) * itemsize` raw bytes in C or Fortran order, or, when the
//! dtype holds objects, a pickle of the whole array (`pickle.dump(array,
//! protocol=4)` in numpy 2, 3 before), which is loaded here through this
//! crate's unpickler: inert, nothing imported or called.
//!
//! Sizes come from the header but nothing is allocated for them: raw data is
//! read as it arrives and must be as long as the header says (a shorter
//! file is an error that gives the byte offset where the data starts).

use std::borrow::Cow;
use std::io::{Read, Write};

use super::array::{ArrayData, NdArray, Order};
use super::dtype::{DType, Field};
use crate::error::{Category, Error, Result};
use crate::ml::container::npy::{self as format, Lit};
use crate::unpickler::{LoadOptions, Unpickler};
use crate::value::Document;

/// The protocol `np.save` pickles object arrays at (numpy 2; numpy 1.x used 3).
const OBJECT_PROTOCOL: u8 = 4;

/// How deep a `descr` may nest (the header parser bounds it too).
const MAX_DEPTH: usize = 64;

/// The header of a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NpyHeader {
    /// The format version: (1, 0), (2, 0) or (3, 0).
    pub version: (u8, u8),
    /// The dtype `descr` gives, as `numpy.lib.format.descr_to_dtype` builds
    /// it: padding fields dropped, field titles not kept; a `(descr, shape)`
    /// descr is a subarray dtype.
    pub dtype: DType,
    /// The shape.
    pub shape: Vec<usize>,
    /// `fortran_order`: the data is in column-major order.
    pub fortran_order: bool,
    /// Where the data (or the object array's pickle) starts, from the start of the file.
    pub data_offset: u64,
}

impl NpyHeader {
    /// Read a header from `r`, which is left at the first data byte.
    /// Errors give the byte offset of what is wrong (from the start of the file).
    pub fn read<R: Read + ?Sized>(r: &mut R) -> Result<NpyHeader> {
        let h = format::read_header(r)?;
        let header_start = if h.version.0 == 1 { 10 } else { 12 };
        let dtype = descr_dtype(&h.descr, 0).map_err(|e| e.set_offset(header_start))?;
        let shape = h
            .shape
            .iter()
            .map(|&d| {
                usize::try_from(d).map_err(|_| {
                    Error::data(format!("npy: dimension {d} is too large")).at(header_start)
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        let header = NpyHeader {
            version: h.version,
            dtype,
            shape,
            fortran_order: h.fortran_order,
            data_offset: h.data_offset,
        };
        // The scanner sizes the data (and decides whether it is a pickle)
        // with container::npy alone: refuse what it would see otherwise.
        if (header.dtype.itemsize as u64, header.dtype.has_object()) != (h.itemsize, h.has_object) {
            return Err(Error::unsupported(format!(
                "npy: the dtype {} is {} bytes here and {} bytes to the scanner",
                header.dtype.str(),
                header.dtype.itemsize,
                h.itemsize
            ))
            .at(header_start));
        }
        Ok(header)
    }

    /// Read the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<NpyHeader> {
        NpyHeader::read(&mut &data[..])
    }

    /// True when the data is a pickle of the array (the dtype holds objects).
    pub fn has_object(&self) -> bool {
        self.dtype.has_object()
    }

    /// Bytes of raw data after the header: `prod(shape) * itemsize`.
    pub fn data_len(&self) -> Result<u64> {
        self.shape
            .iter()
            .try_fold(self.dtype.itemsize as u64, |a, &d| a.checked_mul(d as u64))
            .ok_or_else(|| Error::data("npy: the array's size overflows").at(self.data_offset))
    }

    /// The shape and element dtype of the array: a subarray dtype's shape
    /// joins the array's, as numpy reads it.
    fn array_layout(&self) -> (DType, Vec<usize>) {
        match &self.dtype.subarray {
            Some((base, sub)) => {
                let mut shape = self.shape.clone();
                shape.extend_from_slice(sub);
                ((**base).clone(), shape)
            }
            None => (self.dtype.clone(), self.shape.clone()),
        }
    }

    fn order(&self) -> Order {
        if self.fortran_order {
            Order::F
        } else {
            Order::C
        }
    }

    fn cut_short(&self, need: u64, have: u64) -> Error {
        Error::new(
            Category::Eof,
            format!(
                "npy: shape {} of dtype {} needs {need} bytes of data after the header, {have} follow",
                shape_repr(&self.shape),
                self.dtype.str()
            ),
        )
        .at(self.data_offset)
    }
}

/// An error of the object array's pickle, placed in the `.npy`.
fn in_pickle(e: Error, start: u64) -> Error {
    let mut out = Error::new(
        e.category(),
        format!("npy: the object array's pickle: {}", e.message()),
    );
    if let Some(op) = e.opcode() {
        out = out.in_opcode(op);
    }
    match e.offset() {
        Some(o) => out.at(start + o),
        None => out,
    }
}

impl<'a> NdArray<'a> {
    /// Read a `.npy` file's bytes (what `np.save` writes). Raw data is
    /// borrowed from `data`; an object array's pickle is loaded with the
    /// default [`LoadOptions`], and the array is the one it holds (as
    /// `np.load` returns it, whatever the header's shape). Bytes after the
    /// array are ignored, as `np.load` ignores them.
    ///
    /// ```
    /// use pickle_codec::numpy::NdArray;
    ///
    /// let a = NdArray::from_vec(vec![2, 2], &[1.0f64, 2.0, 3.0, 4.0])?;
    /// let npy = a.to_npy()?; // np.save's bytes
    /// let b = NdArray::from_npy(&npy)?;
    /// assert_eq!((b.dtype.str(), b.shape.clone()), ("<f8".to_string(), vec![2, 2]));
    /// assert_eq!(b.to_vec::<f64>()?, [1.0, 2.0, 3.0, 4.0]);
    /// # Ok::<(), pickle_codec::Error>(())
    /// ```
    pub fn from_npy(data: &'a [u8]) -> Result<NdArray<'a>> {
        NdArray::from_npy_with(data, LoadOptions::default())
    }

    /// [`NdArray::from_npy`] with the options an object array's pickle is
    /// loaded with: `np.load(encoding=...)` for object arrays that Python 2
    /// saved is [`LoadOptions::encoding`].
    pub fn from_npy_with(data: &'a [u8], options: LoadOptions) -> Result<NdArray<'a>> {
        let h = NpyHeader::parse(data)?;
        let start = h.data_offset as usize; // within data: the header was read from it
        let rest = &data[start..];
        if h.has_object() {
            let mut u = Unpickler::from_slice(rest, options);
            let doc = u.load().map_err(|e| in_pickle(e, h.data_offset))?;
            return NdArray::owned_from_document(doc, &h);
        }
        let need = h.data_len()?;
        if (rest.len() as u64) < need {
            return Err(h.cut_short(need, rest.len() as u64));
        }
        let (dtype, shape) = h.array_layout();
        from_parts(
            dtype,
            shape,
            h.order(),
            ArrayData::Bytes(Cow::Borrowed(&rest[..need as usize])),
        )
    }
}

impl NdArray<'static> {
    /// Read a `.npy` file from `reader` (left after the array's data). The
    /// data is read as it arrives, never allocated from the header's shape
    /// up front: a header that claims more than the stream holds is an
    /// error once the stream ends. An object array's pickle is read through
    /// a buffer, which may take bytes after it from `reader`.
    pub fn read_npy<R: Read>(reader: R) -> Result<NdArray<'static>> {
        NdArray::read_npy_with(reader, LoadOptions::default())
    }

    /// [`NdArray::read_npy`] with the options an object array's pickle is
    /// loaded with (see [`NdArray::from_npy_with`]).
    pub fn read_npy_with<R: Read>(mut reader: R, options: LoadOptions) -> Result<NdArray<'static>> {
        let h = NpyHeader::read(&mut reader)?;
        if h.has_object() {
            let mut u = Unpickler::from_reader(reader, options);
            let doc = u.load().map_err(|e| in_pickle(e, h.data_offset))?;
            return NdArray::owned_from_document(doc, &h);
        }
        let need = h.data_len()?;
        let mut data = Vec::new();
        (&mut reader)
            .take(need)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(e).at(h.data_offset))?;
        if (data.len() as u64) < need {
            return Err(h.cut_short(need, data.len() as u64));
        }
        let (dtype, shape) = h.array_layout();
        from_parts(dtype, shape, h.order(), ArrayData::Bytes(Cow::Owned(data)))
    }

    /// The array an object `.npy`'s pickle holds, owning the document.
    fn owned_from_document(doc: Document, h: &NpyHeader) -> Result<NdArray<'static>> {
        let root = doc.root();
        if !super::is_ndarray(root) {
            return Err(Error::data(format!(
                "npy: the object array's pickle holds a {}, not a numpy array",
                root.type_name()
            ))
            .at(h.data_offset));
        }
        NdArray::from_document(doc).map_err(|e| e.at(h.data_offset))
    }

    /// The array at the root of `doc`, owning it (object arrays keep their
    /// items in it: no copy).
    pub(crate) fn from_document(doc: Document) -> Result<NdArray<'static>> {
        let (dtype, shape, order, class, data) = {
            let a = NdArray::from_value(doc.root())?;
            let data = match a.data {
                ArrayData::Objects { items, .. } => Ok(items),
                ArrayData::Bytes(b) => Err(b.into_owned()),
            };
            (a.dtype, a.shape, a.order, a.class, data)
        };
        let data = match data {
            Ok(items) => ArrayData::Objects {
                doc: Cow::Owned(doc),
                items,
            },
            Err(bytes) => ArrayData::Bytes(Cow::Owned(bytes)),
        };
        Ok(NdArray {
            dtype,
            shape,
            order,
            data,
            class,
        })
    }
}

impl NdArray<'_> {
    /// The array as a `.npy` file, byte for byte what `np.save` writes for
    /// it: the oldest format version that holds the header (1.0; 2.0 for a
    /// header over 64 KiB; 3.0 when a field name is not latin-1), the
    /// header's keys, spacing and padding as numpy writes them, the data in
    /// the array's order (`fortran_order` when the data is Fortran-ordered
    /// and not also C-contiguous). Object arrays are pickled at protocol 4
    /// as numpy 2 pickles them, with the `numpy.core` names that numpy 1.x
    /// and 2.x both load (numpy 2 itself writes `numpy._core`).
    ///
    /// Errors: a structured dtype whose fields overlap or are out of offset
    /// order (numpy cannot save it either), data that does not match the
    /// dtype.
    pub fn to_npy(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_npy(&mut out)?;
        Ok(out)
    }

    /// [`NdArray::to_npy`] into a writer.
    pub fn write_npy<W: Write>(&self, mut w: W) -> Result<()> {
        // A subarray dtype at the top: numpy has no such array (its shape
        // takes the subarray's), so write it that way, in C order.
        let (dtype, shape, data) = match (&self.dtype.subarray, &self.data) {
            (Some((base, sub)), ArrayData::Bytes(_)) => {
                let mut shape = self.shape.clone();
                shape.extend_from_slice(sub);
                (&**base, shape, Some(self.to_c_bytes()?))
            }
            (_, ArrayData::Bytes(b)) => {
                (&self.dtype, self.shape.clone(), Some(Cow::Borrowed(&b[..])))
            }
            (_, ArrayData::Objects { .. }) => (&self.dtype, self.shape.clone(), None),
        };
        if dtype.has_object() != data.is_none() {
            return Err(Error::data(format!(
                "npy: an array of dtype {} with {} data",
                dtype.str(),
                if data.is_none() { "object" } else { "raw" }
            )));
        }
        let fortran = data.is_some()
            && self.order == Order::F
            && self.dtype.subarray.is_none()
            && !self.is_empty()
            && shape.iter().filter(|&&d| d > 1).count() > 1;
        let header = header_bytes(&dtype.to_npy_descr()?, fortran, &shape)?;
        w.write_all(&header).map_err(Error::io)?;
        match data {
            Some(d) => w.write_all(&d).map_err(Error::io),
            None => {
                let mut doc = Document::new();
                let v = self.to_value(&mut doc, OBJECT_PROTOCOL);
                doc.set_root(v);
                crate::pickler::dump(&mut w, &doc, OBJECT_PROTOCOL)
            }
        }
    }
}

/// An array from its parts, its data checked against dtype and shape.
fn from_parts(
    dtype: DType,
    shape: Vec<usize>,
    order: Order,
    data: ArrayData<'_>,
) -> Result<NdArray<'_>> {
    let want = shape
        .iter()
        .try_fold(dtype.itemsize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data("npy: the array's size overflows"))?;
    if let ArrayData::Bytes(b) = &data {
        if b.len() != want {
            return Err(Error::data(format!(
                "npy: {} bytes of data for {want}",
                b.len()
            )));
        }
    }
    Ok(NdArray {
        dtype,
        shape,
        order,
        data,
        class: None,
    })
}

/// Python's repr of a shape tuple: `()`, `(3,)`, `(3, 4)`.
fn shape_repr(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// numpy's `ARRAY_ALIGN`: the data starts at a multiple of it.
const ARRAY_ALIGN: usize = 64;
/// numpy's `GROWTH_AXIS_MAX_DIGITS`: room left in the header for the
/// growing axis' length to be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// The magic, version, length and padded header `np.save` writes
/// (`_write_array_header` with the version guessed).
fn header_bytes(descr: &str, fortran: bool, shape: &[usize]) -> Result<Vec<u8>> {
    let mut text = format!(
        "{{'descr': {descr}, 'fortran_order': {}, 'shape': {}, }}",
        if fortran { "True" } else { "False" },
        shape_repr(shape)
    );
    if !shape.is_empty() {
        let axis = if fortran {
            shape[shape.len() - 1]
        } else {
            shape[0]
        };
        let digits = axis.to_string().len();
        text.extend(std::iter::repeat(' ').take(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    let latin1 = text.chars().all(|c| (c as u32) < 256);
    let encoded: Vec<u8> = if latin1 {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.into_bytes()
    };
    let padded = |len_size: usize| {
        let hlen = encoded.len() + 1;
        let pad = ARRAY_ALIGN - (8 + len_size + hlen) % ARRAY_ALIGN;
        hlen + pad
    };
    let (version, total) = if latin1 && padded(2) <= u16::MAX as usize {
        (1u8, padded(2))
    } else {
        (if latin1 { 2 } else { 3 }, padded(4))
    };
    let mut out = Vec::with_capacity(12 + total);
    out.extend_from_slice(format::MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(total as u16).to_le_bytes());
    } else {
        let t = u32::try_from(total)
            .map_err(|_| Error::data("npy: the header is larger than 4 GiB"))?;
        out.extend_from_slice(&t.to_le_bytes());
    }
    out.extend_from_slice(&encoded);
    out.resize(out.len() + total - encoded.len() - 1, b' ');
    out.push(b'\n');
    Ok(out)
}

impl DType {
    /// The `descr` `np.save` writes in a `.npy` header for this dtype, as
    /// Python source: `'<f8'` (`dtype.str`), or for a structured dtype
    /// numpy's `dtype.descr`, `[('a', '<i8'), ('b', '<f4', (2,)), ('', '|V4')]`
    /// (fields in order, padding where their offsets leave gaps). Fields
    /// that overlap or are out of offset order are an error, as in numpy.
    pub fn to_npy_descr(&self) -> Result<String> {
        let mut out = String::new();
        write_descr(self, &mut out, 0)?;
        Ok(out)
    }

    /// The dtype a `.npy` header's `descr` stands for, given as Python
    /// source (`"'<f8'"`, `"[('x', '<i4'), ('y', '<f8', (3,))]"`), as
    /// `numpy.lib.format.descr_to_dtype` builds it.
    pub fn from_npy_descr(descr: &str) -> Result<DType> {
        let text = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': ()}}");
        let h = format::parse_header_text(&text, false)?;
        descr_dtype(&h.descr, 0)
    }
}

fn write_descr(dt: &DType, out: &mut String, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::limit("npy: dtype nested too deep"));
    }
    if dt.fields.is_empty() {
        if let Some((base, shape)) = &dt.subarray {
            out.push('(');
            write_descr(base, out, depth + 1)?;
            out.push_str(", ");
            out.push_str(&shape_repr(shape));
            out.push(')');
        } else {
            out.push_str(&crate::python::repr::repr_str(dt.str().as_bytes()));
        }
        return Ok(());
    }
    out.push('[');
    let mut offset = 0usize;
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !std::mem::take(&mut first) {
            out.push_str(", ");
        }
    };
    for f in &dt.fields {
        if f.offset > offset {
            sep(out);
            out.push_str(&format!("('', '|V{}')", f.offset - offset));
            offset = f.offset;
        } else if f.offset < offset {
            return Err(Error::data(format!(
                "npy: field {:?} at offset {} overlaps the one before it or is out of order (numpy cannot save such a dtype either)",
                f.name, f.offset
            )));
        }
        sep(out);
        out.push('(');
        out.push_str(&crate::python::repr::repr_str(f.name.as_bytes()));
        out.push_str(", ");
        match (&f.dtype.subarray, f.dtype.fields.is_empty()) {
            (Some((base, shape)), true) => {
                write_descr(base, out, depth + 1)?;
                out.push_str(", ");
                out.push_str(&shape_repr(shape));
            }
            _ => write_descr(&f.dtype, out, depth + 1)?,
        }
        out.push(')');
        offset += f.dtype.itemsize;
    }
    if dt.itemsize > offset {
        sep(out);
        out.push_str(&format!("('', '|V{}')", dt.itemsize - offset));
    }
    out.push(']');
    Ok(())
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::syntax(format!("npy: {msg}"))
}

/// A subarray dtype of `base` and `shape`, as `numpy.dtype((base, shape))`
/// builds it: no subarray for `()`, and a subarray base's shape appended.
fn subarray(base: DType, shape: Vec<usize>) -> Result<DType> {
    if shape.is_empty() {
        return Ok(base);
    }
    let (base, shape) = match base.subarray {
        Some((inner, inner_shape)) => {
            let mut s = shape;
            s.extend(inner_shape);
            (*inner, s)
        }
        None => (base, shape),
    };
    let itemsize = shape
        .iter()
        .try_fold(base.itemsize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("a subarray's size overflows"))?;
    Ok(DType {
        kind: 'V',
        itemsize,
        byteorder: '|',
        unit: None,
        fields: Vec::new(),
        subarray: Some((Box::new(base), shape)),
    })
}

fn lit_shape(l: &Lit) -> Result<Vec<usize>> {
    let dim = |x: &Lit| match x {
        Lit::Int(n) => usize::try_from(*n).map_err(|_| bad("a subarray dimension is negative")),
        _ => Err(bad("a subarray shape holds something other than ints")),
    };
    match l {
        Lit::Int(_) => Ok(vec![dim(l)?]),
        Lit::Tuple(d) => d.iter().map(dim).collect(),
        _ => Err(bad("a subarray shape is not an int or a tuple of ints")),
    }
}

/// numpy's `descr_to_dtype`.
fn descr_dtype(d: &Lit, depth: usize) -> Result<DType> {
    if depth > MAX_DEPTH {
        return Err(Error::limit("npy: dtype nested too deep"));
    }
    match d {
        Lit::Str(s) => type_string(s),
        Lit::Tuple(t) if t.len() == 2 => {
            subarray(descr_dtype(&t[0], depth + 1)?, lit_shape(&t[1])?)
        }
        Lit::List(items) => {
            let mut fields: Vec<Field> = Vec::new();
            let mut offset = 0usize;
            for f in items {
                let Lit::Tuple(f) = f else {
                    return Err(bad("a field of the dtype is not a tuple"));
                };
                let (name, dt) = match f.as_slice() {
                    [name, descr] => (name, descr_dtype(descr, depth + 1)?),
                    [name, descr, shape] => (
                        name,
                        subarray(descr_dtype(descr, depth + 1)?, lit_shape(shape)?)?,
                    ),
                    _ => return Err(bad("a field of the dtype is not a 2- or 3-tuple")),
                };
                let name = match name {
                    Lit::Str(n) => n,
                    // (title, name): the title is not kept.
                    Lit::Tuple(t) if t.len() == 2 => match &t[1] {
                        Lit::Str(n) => n,
                        _ => return Err(bad("a field name is not a str")),
                    },
                    _ => return Err(bad("a field name is not a str or (title, name)")),
                };
                let size = dt.itemsize;
                let padding = name.is_empty() && dt.kind == 'V' && dt.fields.is_empty();
                if !padding {
                    if fields.iter().any(|g| g.name == *name) {
                        return Err(bad(format!("field name {name:?} appears twice")));
                    }
                    fields.push(Field {
                        name: name.clone(),
                        dtype: dt,
                        offset,
                    });
                }
                offset = offset
                    .checked_add(size)
                    .ok_or_else(|| bad("the dtype's size overflows"))?;
            }
            Ok(DType {
                kind: 'V',
                itemsize: offset,
                byteorder: '|',
                unit: None,
                fields,
                subarray: None,
            })
        }
        _ => Err(bad(
            "'descr' is not a dtype string, a (dtype, shape) or a list of fields",
        )),
    }
}

/// A dtype string as `numpy.dtype(s)` reads it: one type by numpy's rules
/// ([`DType::from_numpy_str`]), with a repeat count or subarray shape
/// before it (`"3i4"`, `"(2,3)f4"`), or several separated by commas
/// (`"i4,f8"`: fields `f0`, `f1`, ... packed).
fn type_string(s: &str) -> Result<DType> {
    let mut parts: Vec<&str> = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop(); // "i4," is one field
    }
    if parts.len() == 1 {
        return one_type(parts[0]);
    }
    let mut fields = Vec::new();
    let mut offset = 0usize;
    for (i, p) in parts.iter().enumerate() {
        let dtype = one_type(p)?;
        let size = dtype.itemsize;
        fields.push(Field {
            name: format!("f{i}"),
            dtype,
            offset,
        });
        offset = offset
            .checked_add(size)
            .ok_or_else(|| bad("the dtype's size overflows"))?;
    }
    Ok(DType {
        kind: 'V',
        itemsize: offset,
        byteorder: '|',
        unit: None,
        fields,
        subarray: None,
    })
}

/// `"f8"`, `"3i4"` (a subarray of 3), `"(2,3)f4"`.
fn one_type(t: &str) -> Result<DType> {
    let fail = || bad(format!("dtype string {t:?} not understood"));
    if let Some(rest) = t.strip_prefix('(') {
        let close = rest.find(')').ok_or_else(fail)?;
        let shape = rest[..close]
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.parse::<usize>().map_err(|_| fail()))
            .collect::<Result<Vec<usize>>>()?;
        return subarray(one_type(rest[close + 1..].trim_start())?, shape);
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &t[digits..];
    if digits > 0 && !rest.is_empty() {
        let n: usize = t[..digits].parse().map_err(|_| fail())?;
        return subarray(one_type(rest)?, vec![n]);
    }
    DType::from_numpy_str(t).map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_is_numpys() {
        // np.save(f, np.arange(3.0)): 118 header bytes, data at 128.
        let h = header_bytes("'<f8'", false, &[3]).unwrap();
        let want =
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
        assert_eq!(&h[..want.len()], &want[..]);
        assert_eq!(h.len(), 128);
        assert_eq!(h.last(), Some(&b'\n'));
        // A 0-d array: no growth padding.
        let h = header_bytes("'<f8'", false, &[]).unwrap();
        let head = b"{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
        assert!(h[10..].starts_with(head));
        assert!(h[10 + head.len()..127].iter().all(|&b| b == b' '));
        assert_eq!(h.len(), 128);
        // A name outside latin-1: version 3.0, UTF-8.
        let h = header_bytes("[('\u{20ac}', '<f8')]", false, &[1]).unwrap();
        assert_eq!(&h[6..8], &[3, 0]);
        assert_eq!(h.len() % 64, 0);
    }

    #[test]
    fn descr_round_trips() {
        for d in [
            "'<f8'",
            "'|O'",
            "'<M8[ns]'",
            "'>U3'",
            "[('a', '<i8'), ('b', '|u1'), ('', '|V7')]",
            "[('x', '<f4', (2, 3)), ('n', [('p', '>i2'), ('q', '|S3')], (2,))]",
        ] {
            let dt = DType::from_npy_descr(d).unwrap();
            assert_eq!(dt.to_npy_descr().unwrap(), d, "{d}");
        }
        let dt = DType::from_npy_descr("'i4,3f8'").unwrap();
        assert_eq!(
            dt.to_npy_descr().unwrap(),
            "[('f0', '<i4'), ('f1', '<f8', (3,))]"
        );
        let dt = DType::from_npy_descr("[(('title', 'name'), '<i4'), ('', '<i4')]").unwrap();
        assert_eq!(dt.fields[0].name, "name");
        assert_eq!(dt.fields[1].name, "");
        assert!(DType::from_npy_descr("[('a', '<i4'), ('a', '<i4')]").is_err());
        // Python 2 wrote unicode field names as u'...'; literal_eval reads them.
        let dt = DType::from_npy_descr("[(u'caf\\xe9', '<i4')]").unwrap();
        assert_eq!(dt.fields[0].name, "caf\u{e9}");
        assert!(DType::from_npy_descr("'<l'").is_err());
    }

    #[test]
    fn sizes_agree_with_the_scanners() {
        // The scanner sizes raw data with container::npy; the reader with the
        // whole dtype: both must agree wherever the reader reads.
        for d in [
            "'<f8'",
            "'|O'",
            "('<f4', (2, 3))",
            "[('a', '<i8'), ('b', [('c', '|O')], (2,)), ('', '|V4')]",
            "'i4,(2,3)f8,O'",
            "'3U2'",
        ] {
            let text = format!("{{'descr': {d}, 'fortran_order': False, 'shape': (2,)}}");
            let h = format::parse_header_text(&text, false).unwrap();
            let dt = descr_dtype(&h.descr, 0).unwrap();
            assert_eq!(
                (dt.itemsize as u64, dt.has_object()),
                (h.itemsize, h.has_object),
                "{d}"
            );
        }
    }

    #[test]
    fn errors_give_the_byte_offset() {
        let a = NdArray::from_vec(vec![3], &[1.0f64, 2.0, 3.0]).unwrap();
        let npy = a.to_npy().unwrap();
        let e = NdArray::from_npy(&npy[..100]).unwrap_err();
        assert_eq!(e.offset(), Some(100), "{e}");
        let e = NdArray::from_npy(&npy[..130]).unwrap_err();
        assert_eq!(e.offset(), Some(128), "{e}");
        assert!(e.is_eof());
        let mut bad_header = npy.clone();
        bad_header[20] = b'#';
        let e = NdArray::from_npy(&bad_header).unwrap_err();
        assert_eq!(e.offset(), Some(20), "{e}");
        let e = NdArray::from_npy(b"\x93NUMPY\x04\x00").unwrap_err();
        assert_eq!(e.offset(), Some(6), "{e}");
    }
}
