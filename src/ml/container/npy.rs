//! The `.npy` format (`numpy.lib.format`), read as `np.load` reads it.
//!
//! * `\x93NUMPY`, a major and a minor version byte (1.0, 2.0 or 3.0), the
//!   header length (u16 little-endian for 1.0, u32 for 2.0 and 3.0), then
//!   the header: a Python dict literal (latin-1 text for 1.0/2.0, UTF-8 for
//!   3.0), evaluated by numpy with `ast.literal_eval`, with exactly the keys
//!   `descr`, `fortran_order` and `shape`.
//! * `descr` is a dtype string (`'<f8'`, `'|O'`, `'<U5'`, `'<M8[ns]'`), a
//!   `(descr, shape)` subarray, or a list of fields `(name, descr)` /
//!   `(name, descr, shape)` (name a str, or a `(title, name)` tuple; padding
//!   fields `('', '|V4')`), nested to any depth (`descr_to_dtype`).
//! * When the dtype holds objects (`dtype.hasobject`: an `O` type anywhere
//!   in it), the rest of the file is a pickle of the array (`np.save` writes
//!   `pickle.dump(array, protocol=3)`; `np.load(allow_pickle=True)` loads
//!   it). Otherwise it is `prod(shape) * itemsize` raw bytes.
//!
//! Only dtype strings in numpy's own `dtype.str` spelling (and the plain
//! one-letter codes whose size is the same on every platform) are
//! understood; anything else is an error, so an object dtype cannot hide
//! behind a spelling this parser does not know.

use std::io::Read;

use crate::error::{Error, Result};

/// `\x93NUMPY`.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest header read (numpy's default `max_header_size` is 10 000
/// bytes; `allow_pickle=True` lifts it, so this bound is ours).
pub const MAX_HEADER: u64 = 64 << 20;

/// How deep the header literal may nest.
const MAX_DEPTH: usize = 64;

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// Bytes from the start of the file to the data (magic and header included).
    pub data_offset: u64,
    /// Bytes per element.
    pub itemsize: u64,
    /// True when the dtype holds Python objects: the data is a pickle.
    pub has_object: bool,
    /// The shape.
    pub shape: Vec<u64>,
    /// `fortran_order`.
    pub fortran_order: bool,
    /// The `descr` literal, for readers that need the whole dtype
    /// ([`crate::numpy::NpyHeader`]).
    pub descr: Lit,
}

impl Header {
    /// Bytes of raw data after the header (`prod(shape) * itemsize`).
    pub fn data_bytes(&self) -> Result<u64> {
        self.shape
            .iter()
            .try_fold(self.itemsize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| Error::syntax("npy: the array's size overflows"))
    }
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::syntax(format!("npy: {msg}"))
}

/// Read the magic, version, length and header from `r` (which is left at
/// the first data byte). Errors carry the byte offset (from the start of
/// the `.npy`) of what is wrong: 0 for the magic, 6 for the version, 8 for
/// the header length, where the header text stops parsing, or where the
/// header starts for a header that parses but does not describe an array.
pub fn read_header<R: Read + ?Sized>(r: &mut R) -> Result<Header> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|_| bad("shorter than its magic and version").at(0))?;
    if pre[..6] != MAGIC[..] {
        return Err(bad("no \\x93NUMPY magic").at(0));
    }
    let version = (pre[6], pre[7]);
    let (len, pre_len) = match version {
        (1, 0) => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|_| bad("header length cut short").at(8))?;
            (u16::from_le_bytes(b) as u64, 10)
        }
        (2, 0) | (3, 0) => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|_| bad("header length cut short").at(8))?;
            (u32::from_le_bytes(b) as u64, 12)
        }
        (a, b) => return Err(bad(format!("unknown format version {a}.{b}")).at(6)),
    };
    if len > MAX_HEADER {
        return Err(Error::limit(format!(
            "npy: header of {len} bytes, more than the {MAX_HEADER} this reader accepts"
        ))
        .at(8));
    }
    // Read what is there (never more than arrives): the length is a claim.
    let mut raw = Vec::new();
    r.take(len).read_to_end(&mut raw).map_err(Error::io)?;
    if (raw.len() as u64) < len {
        return Err(
            bad(format!("header cut short ({} of {len} bytes)", raw.len()))
                .at(pre_len + raw.len() as u64),
        );
    }
    let text: String = if version.0 == 3 {
        String::from_utf8(raw).map_err(|e| {
            bad("version 3.0 header is not UTF-8").at(pre_len + e.utf8_error().valid_up_to() as u64)
        })?
    } else {
        raw.iter().map(|&b| b as char).collect()
    };
    let mut header = parse_header_text(&text, version.0 < 3).map_err(|e| {
        // An offset into the text (a str index) becomes one into the file:
        // latin-1 text has one byte per char, UTF-8 text as many as it has.
        let at = match e.offset() {
            Some(i) if version.0 < 3 => text
                .get(..i as usize)
                .map_or(i, |t| t.chars().count() as u64),
            Some(i) => i,
            None => 0,
        };
        e.set_offset(pre_len + at)
    })?;
    header.version = version;
    header.data_offset = pre_len + len;
    Ok(header)
}

/// Parse the header dict (`{'descr': ..., 'fortran_order': ..., 'shape': ...}`).
/// `long_suffix`: accept Python 2's `3L` ints (numpy filters them out of
/// 1.0 and 2.0 headers). A syntax error carries its offset in `text`.
pub fn parse_header_text(text: &str, long_suffix: bool) -> Result<Header> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        long_suffix,
    };
    let lit = p.value(0).map_err(|e| e.at(p.i as u64))?;
    p.ws();
    if p.i != p.s.len() {
        return Err(bad("text after the header dict").at(p.i as u64));
    }
    let Lit::Dict(items) = lit else {
        return Err(bad("the header is not a dict"));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (k, v) in items {
        let Lit::Str(k) = k else {
            return Err(bad("a header key is not a str"));
        };
        let slot = match k.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            k => return Err(bad(format!("unexpected header key {k:?}"))),
        };
        // A repeated key: literal_eval keeps the last.
        *slot = Some(v);
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err(bad("the header lacks 'descr', 'fortran_order' or 'shape'"));
    };
    let Lit::Bool(fortran_order) = fortran else {
        return Err(bad("'fortran_order' is not a bool"));
    };
    let Lit::Tuple(dims) = shape else {
        return Err(bad("'shape' is not a tuple"));
    };
    let shape = dims
        .iter()
        .map(|d| match d {
            Lit::Int(n) => {
                u64::try_from(*n).map_err(|_| bad("a dimension is negative or too large"))
            }
            _ => Err(bad("'shape' holds something other than ints")),
        })
        .collect::<Result<Vec<u64>>>()?;
    let dt = dtype(&descr, 0)?;
    Ok(Header {
        version: (1, 0),
        data_offset: 0,
        itemsize: dt.itemsize,
        has_object: dt.object,
        shape,
        fortran_order,
        descr,
    })
}

struct DType {
    itemsize: u64,
    object: bool,
}

fn shape_count(shape: &Lit) -> Result<u64> {
    match shape {
        Lit::Int(n) => u64::try_from(*n).map_err(|_| bad("a subarray dimension is negative")),
        Lit::Tuple(d) => d.iter().try_fold(1u64, |a, x| {
            a.checked_mul(shape_count_int(x)?)
                .ok_or_else(|| bad("a subarray's size overflows"))
        }),
        _ => Err(bad("a subarray shape is not an int or a tuple of ints")),
    }
}

fn shape_count_int(x: &Lit) -> Result<u64> {
    match x {
        Lit::Int(n) => u64::try_from(*n).map_err(|_| bad("a subarray dimension is negative")),
        _ => Err(bad("a subarray shape holds something other than ints")),
    }
}

/// numpy's `descr_to_dtype`, for size and objects only.
fn dtype(d: &Lit, depth: usize) -> Result<DType> {
    if depth > MAX_DEPTH {
        return Err(Error::limit("npy: dtype nested too deep"));
    }
    match d {
        Lit::Str(s) => typestr(s),
        Lit::Tuple(t) if t.len() == 2 => {
            let base = dtype(&t[0], depth + 1)?;
            let n = shape_count(&t[1])?;
            Ok(DType {
                itemsize: base
                    .itemsize
                    .checked_mul(n)
                    .ok_or_else(|| bad("a subarray's size overflows"))?,
                object: base.object,
            })
        }
        Lit::List(fields) => {
            let mut out = DType {
                itemsize: 0,
                object: false,
            };
            for f in fields {
                let Lit::Tuple(f) = f else {
                    return Err(bad("a field of the dtype is not a tuple"));
                };
                let dt = match f.as_slice() {
                    [name, descr] | [name, descr, _] => {
                        match name {
                            Lit::Str(_) => {}
                            Lit::Tuple(t) if t.len() == 2 => {}
                            _ => return Err(bad("a field name is not a str or (title, name)")),
                        }
                        let base = dtype(descr, depth + 1)?;
                        if let [_, _, shape] = f.as_slice() {
                            let n = shape_count(shape)?;
                            DType {
                                itemsize: base
                                    .itemsize
                                    .checked_mul(n)
                                    .ok_or_else(|| bad("a field's size overflows"))?,
                                object: base.object,
                            }
                        } else {
                            base
                        }
                    }
                    _ => return Err(bad("a field of the dtype is not a 2- or 3-tuple")),
                };
                out.itemsize = out
                    .itemsize
                    .checked_add(dt.itemsize)
                    .ok_or_else(|| bad("the dtype's size overflows"))?;
                out.object |= dt.object;
            }
            Ok(out)
        }
        _ => Err(bad(
            "'descr' is not a dtype string, a (dtype, shape) or a list of fields",
        )),
    }
}

/// A dtype string as `numpy.dtype(s)` reads it: comma-separated fields
/// (`"i4,O"`), each with an optional repeat count or subarray shape
/// (`"2O"`, `"(2,3)f4"`), each type by numpy's own rules (`"object"`,
/// `"float64"`, `"<f8"`; [`crate::numpy::DType::from_numpy_str`], the
/// rules the joblib sizing uses) or in `dtype.str` spelling.
fn typestr(s: &str) -> Result<DType> {
    let fail = || bad(format!("dtype string {s:?} not understood"));
    // Fields are split at commas outside a subarray shape's parentheses.
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
        parts.pop(); // numpy takes "i4," as one field
    }
    let mut out = DType {
        itemsize: 0,
        object: false,
    };
    for part in parts {
        let (count, t) = repeat_prefix(part).ok_or_else(fail)?;
        let base = one_type(t)?;
        out.itemsize = base
            .itemsize
            .checked_mul(count)
            .and_then(|n| n.checked_add(out.itemsize))
            .ok_or_else(fail)?;
        out.object |= base.object;
    }
    Ok(out)
}

/// `"2O"` → (2, "O"); `"(2,3)f4"` → (6, "f4"); `"f4"` → (1, "f4").
fn repeat_prefix(s: &str) -> Option<(u64, &str)> {
    if let Some(rest) = s.strip_prefix('(') {
        let close = rest.find(')')?;
        let mut n: u64 = 1;
        for d in rest[..close]
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            n = n.checked_mul(d.parse().ok()?)?;
        }
        return Some((n, rest[close + 1..].trim_start()));
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &s[digits..];
    // "8" alone, or "O8": the digits belong to the type.
    if digits == 0 || rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Some((1, s));
    }
    Some((s[..digits].parse().ok()?, rest))
}

fn one_type(t: &str) -> Result<DType> {
    if let Ok(d) = crate::ml::numpy::DType::from_numpy_str(t) {
        return Ok(DType {
            itemsize: d.itemsize as u64,
            object: d.kind == 'O',
        });
    }
    if let Ok(d) = dtype_str(t) {
        return Ok(d);
    }
    let bare = t.trim_start_matches(['<', '>', '=', '|']);
    match crate::ml::numpy::PLATFORM_TYPES
        .iter()
        .find(|p| p.0 == bare)
    {
        // Raw data: its size is checked against the file; this platform's.
        Some(&(_, _, sizes)) => Ok(DType {
            itemsize: sizes[0] as u64,
            object: false,
        }),
        None => Err(bad(format!("dtype string {t:?} not understood"))),
    }
}

/// A dtype string in numpy's `dtype.str` spelling: `[<>|=]` then a kind
/// letter and a size, or a one-letter code of fixed size.
fn dtype_str(s: &str) -> Result<DType> {
    let fail = || bad(format!("dtype string {s:?} not understood"));
    let body = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    let mut chars = body.chars();
    let kind = chars.next().ok_or_else(fail)?;
    let rest = chars.as_str();
    let (digits, unit) = match rest.find('[') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 18 {
        return Err(fail());
    }
    let n: Option<u64> = if digits.is_empty() {
        None
    } else {
        Some(digits.parse().map_err(|_| fail())?)
    };
    if let Some(u) = unit {
        // datetime64 / timedelta64 units: [ns], [10ms], [D], [generic]
        let inner = u
            .strip_prefix('[')
            .and_then(|u| u.strip_suffix(']'))
            .ok_or_else(fail)?;
        if !matches!(kind, 'M' | 'm')
            || inner.is_empty()
            || !inner.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(fail());
        }
    }
    let size = |v: u64| {
        Ok(DType {
            itemsize: v,
            object: false,
        })
    };
    match (kind, n) {
        ('O', None | Some(8) | Some(4)) => Ok(DType {
            itemsize: 8,
            object: true,
        }),
        ('b', Some(1)) | ('?', None | Some(1)) => size(1),
        ('i' | 'u', Some(v @ (1 | 2 | 4 | 8))) => size(v),
        ('f', Some(v @ (2 | 4 | 8 | 12 | 16))) => size(v),
        ('c', Some(v @ (8 | 16 | 24 | 32))) => size(v),
        ('S' | 'a' | 'V', Some(v)) => size(v),
        ('S' | 'a' | 'V', None) => size(0),
        ('U', Some(v)) => size(v.checked_mul(4).ok_or_else(fail)?),
        ('U', None) => size(0),
        ('M' | 'm', Some(8) | None) => size(8),
        ('b' | 'B', None) => size(1),
        ('h' | 'H' | 'e', None) => size(2),
        ('i' | 'I' | 'f', None) => size(4),
        ('q' | 'Q' | 'd' | 'F', None) => size(8),
        ('D', None) => size(16),
        _ => Err(fail()),
    }
}

/// A Python literal, as much of `ast.literal_eval` as npy headers use.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// `'text'` (`u'text'` too, as Python 2 wrote unicode field names).
    Str(String),
    /// A plain decimal int (`3`, Python 2's `3L`).
    Int(i128),
    /// `True`, `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `(a, b)`.
    Tuple(Vec<Lit>),
    /// `[a, b]`.
    List(Vec<Lit>),
    /// `{k: v}`, in order, repeated keys kept.
    Dict(Vec<(Lit, Lit)>),
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    long_suffix: bool,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len()
            && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
        {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Lit> {
        if depth > MAX_DEPTH {
            return Err(Error::limit("npy: header nested too deep"));
        }
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return Err(bad("expected ':' in the header dict"));
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if !self.eat(b',') {
                        if self.eat(b'}') {
                            return Ok(Lit::Dict(items));
                        }
                        return Err(bad("expected ',' or '}' in the header dict"));
                    }
                }
            }
            Some(open @ (b'(' | b'[')) => {
                self.i += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    comma = self.eat(b',');
                    if !comma {
                        if self.eat(close) {
                            break;
                        }
                        return Err(bad("expected ',' or a closing bracket in the header"));
                    }
                }
                if open == b'[' {
                    Ok(Lit::List(items))
                } else if items.len() == 1 && !comma {
                    // (x) is x, not a tuple.
                    Ok(items.pop().expect("one item"))
                } else {
                    Ok(Lit::Tuple(items))
                }
            }
            Some(q @ (b'\'' | b'"')) => self.string(q),
            // Python 2's unicode literals (`u'name'`), which literal_eval reads.
            Some(b'u' | b'U') if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {
                self.i += 1;
                let q = self.s[self.i];
                self.string(q)
            }
            Some(b'b' | b'B') if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {
                Err(bad("bytes literals are not dtypes numpy writes"))
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let n: i128 = self.text[start..self.i]
                    .parse()
                    .map_err(|_| bad("an int in the header is too large"))?;
                if self.long_suffix && matches!(self.s.get(self.i), Some(b'L' | b'l')) {
                    self.i += 1;
                }
                if self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_')
                {
                    return Err(bad("a number in the header is not a plain int"));
                }
                if start + 1 < self.i && self.s[start] == b'0' {
                    return Err(bad("an int in the header has a leading zero"));
                }
                Ok(Lit::Int(n))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                match &self.text[start..self.i] {
                    "True" => Ok(Lit::Bool(true)),
                    "False" => Ok(Lit::Bool(false)),
                    "None" => Ok(Lit::None),
                    w => Err(bad(format!("{w:?} in the header is not a literal"))),
                }
            }
            _ => Err(bad("unexpected character in the header")),
        }
    }

    fn string(&mut self, q: u8) -> Result<Lit> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.i..];
            let mut it = rest.char_indices();
            let Some((_, c)) = it.next() else {
                return Err(bad("unterminated str in the header"));
            };
            self.i += c.len_utf8();
            match c {
                c if c as u32 == q as u32 => return Ok(Lit::Str(out)),
                '\n' => return Err(bad("newline inside a str in the header")),
                '\\' => {
                    let Some(e) = self.text[self.i..].chars().next() else {
                        return Err(bad("unterminated str in the header"));
                    };
                    self.i += e.len_utf8();
                    let hex = |p: &mut Self, n: usize| -> Result<char> {
                        let h = p
                            .text
                            .get(p.i..p.i + n)
                            .ok_or_else(|| bad("short escape in a header str"))?;
                        p.i += n;
                        u32::from_str_radix(h, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| bad("bad escape in a header str"))
                    };
                    match e {
                        '\\' => out.push('\\'),
                        '\'' => out.push('\''),
                        '"' => out.push('"'),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        'x' => out.push(hex(self, 2)?),
                        'u' => out.push(hex(self, 4)?),
                        'U' => out.push(hex(self, 8)?),
                        '\n' => {}
                        _ => {
                            return Err(bad("an escape in a header str this reader does not know"))
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Result<Header> {
        parse_header_text(s, true)
    }

    #[test]
    fn headers_numpy_writes() {
        let x =
            h("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }          \n").unwrap();
        assert_eq!(
            (x.itemsize, x.has_object, x.shape.clone()),
            (8, false, vec![3, 4])
        );
        assert_eq!(x.data_bytes().unwrap(), 96);
        let x = h("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }").unwrap();
        assert!(x.has_object);
        let x = h("{'descr': [('a', '<i4'), ('b', [('c', '|O')], (2,)), ('', '|V4')], 'fortran_order': True, 'shape': ()}").unwrap();
        assert!(x.has_object);
        assert_eq!(x.itemsize, 4 + 16 + 4);
        let x = h("{'descr': '<U3', 'fortran_order': False, 'shape': (5L,)}").unwrap();
        assert_eq!(x.data_bytes().unwrap(), 60);
        let x = h("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,)}").unwrap();
        assert_eq!(x.itemsize, 8);
    }

    #[test]
    fn malformed_headers_are_errors() {
        for s in [
            "{'descr': '<f8', 'fortran_order': False}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f8', 'fortran_order': 0, 'shape': ()}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 1}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': ()} junk",
            "{'descr': 'nonsense', 'fortran_order': False, 'shape': ()}",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1e3,)}",
            &"[".repeat(10_000),
        ] {
            assert!(h(s).is_err(), "{s}");
        }
    }
}
