//! A disassembler that prints exactly what `python3 -m pickletools` prints.
//!
//! [`disassemble`] follows CPython 3.11's `pickletools.dis` line for line:
//! offsets, opcode bytes as `repr` shows them, indentation by mark depth,
//! arguments decoded by pickletools' own readers and printed with Python's
//! `repr` (so a protocol-0 `STRING` shows as a `str`, `SHORT_BINSTRING` as
//! its latin-1 `str`, `INT 01` as `True`, `GLOBAL` as `'module name'`),
//! `(as N)` after `MEMOIZE`, `(MARK at N)` after opcodes that pop a mark,
//! the annotation column of `pickletools -a`, and the closing
//! `highest protocol among opcodes = N` line.
//!
//! It also makes pickletools' sanity checks (memo keys stored once and
//! before use, marks present where needed, enough items to pop, an empty
//! stack after `STOP`): on a broken pickle it prints the lines pickletools
//! prints before it raises, then returns the error. Frames are not checked,
//! as pickletools does not check them.
//!
//! A file may hold several pickles one after another (a stream written by
//! repeated `pickle.dump`): the listing of each follows the previous one,
//! with offsets counted from the start of the data. The first listing is
//! exactly what pickletools prints for the file.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;

use num_bigint::BigInt;

use crate::codec::float_repr::float_repr_into;
use crate::codec::opcodes::{ArgKind, Opcode};
use crate::codec::text;
use crate::error::{Error, Result};
use crate::python::repr::{write_repr_bytes, write_repr_str};
use crate::unpickler::memo;
use crate::unpickler::DEFAULT_MAX_MEMO;

/// Options of [`disassemble`], named after `python3 -m pickletools`' flags.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DisOptions {
    pub(crate) annotate: bool,
    pub(crate) indent: usize,
    pub(crate) memo: bool,
}

crate::options::setters! {
    DisOptions {
        /// `-a`: add each opcode's one-line description (annotation column 30).
        annotate: bool,
        /// `-l`: blanks per mark level (pickletools' default is 4).
        indent: usize,
        /// `-m`: keep the memo from one pickle of the stream to the next (as
        /// pickletools does across files with `-m`), so a later pickle may
        /// `GET` what an earlier one `PUT`. Without it each pickle starts with
        /// an empty memo.
        memo: bool,
    }
}

impl Default for DisOptions {
    fn default() -> Self {
        DisOptions {
            annotate: false,
            indent: 4,
            memo: false,
        }
    }
}

/// A decoded argument, typed as pickletools' readers type it.
enum DArg<'a> {
    None,
    Bool(bool),
    Int(i64),
    U64(u64),
    Big(BigInt),
    Float(f64),
    /// A `str`, in Python UTF-8.
    Str(Cow<'a, [u8]>),
    /// A `str` decoded from latin-1 bytes.
    Latin1(&'a [u8]),
    Bytes(&'a [u8]),
    ByteArray(&'a [u8]),
}

/// A memo key: a Python int (bools are 0 and 1, as dict keys).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Small(i64),
    Big(BigInt),
}

/// pickletools' memo: which keys were stored (no value is ever needed).
/// Keys that are memo indices (non-negative, within `u64`) live in the
/// unpickler's [`memo::Memo`], with its limit; the others (`PUT` takes any
/// Python int in protocol 0, and pickletools stores `p-1` where `_pickle.c`
/// refuses it) in a set beside it.
struct Memo {
    indices: memo::Memo<()>,
    others: HashSet<Key>,
}

impl Memo {
    fn new() -> Memo {
        Memo {
            indices: memo::Memo::new(DEFAULT_MAX_MEMO),
            others: HashSet::new(),
        }
    }

    fn index(k: &Key) -> Option<u64> {
        match k {
            Key::Small(i) => u64::try_from(*i).ok(),
            Key::Big(_) => None,
        }
    }

    fn len(&self) -> usize {
        self.indices.len() + self.others.len()
    }

    fn contains(&self, k: &Key) -> bool {
        match Memo::index(k) {
            Some(i) => self.indices.get_ref(i).is_some(),
            None => self.others.contains(k),
        }
    }

    fn insert(&mut self, k: Key) -> Result<()> {
        match Memo::index(&k) {
            Some(i) => self.indices.put(i, ()),
            None => {
                self.others.insert(k);
                Ok(())
            }
        }
    }
}

fn err(msg: impl Into<String>) -> Error {
    Error::syntax(msg)
}

/// Reads arguments the way pickletools' `read_*` functions do.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(err(format!(
                "expected {n} bytes in a {what}, but only {left} remain"
            )));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        if self.data.len() - self.pos < N {
            return Err(err(format!("not enough data in stream to read {what}")));
        }
        let mut b = [0u8; N];
        b.copy_from_slice(&self.data[self.pos..self.pos + N]);
        self.pos += N;
        Ok(b)
    }

    /// `f.readline()` that must end with a newline; returned without it.
    fn line(&mut self, what: &str) -> Result<&'a [u8]> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(err(format!("no newline found when trying to read {what}"))),
        }
    }

    fn read(&mut self, kind: ArgKind) -> Result<DArg<'a>> {
        Ok(match kind {
            ArgKind::None => DArg::None,
            ArgKind::U1 => DArg::Int(self.fixed::<1>("uint1")?[0] as i64),
            ArgKind::U2 => DArg::Int(u16::from_le_bytes(self.fixed("uint2")?) as i64),
            ArgKind::I4 => DArg::Int(i32::from_le_bytes(self.fixed("int4")?) as i64),
            ArgKind::U4 => DArg::Int(u32::from_le_bytes(self.fixed("uint4")?) as i64),
            ArgKind::U8 => DArg::U64(u64::from_le_bytes(self.fixed("uint8")?)),
            ArgKind::Float8 => DArg::Float(f64::from_be_bytes(self.fixed("float8")?)),
            ArgKind::Long1 => {
                let n = self.fixed::<1>("long1")?[0];
                let b = self
                    .take(n as u64, "long1")
                    .map_err(|_| err("not enough data in stream to read long1"))?;
                long(b)
            }
            ArgKind::Long4 => {
                let n = i32::from_le_bytes(self.fixed("int4")?);
                if n < 0 {
                    return Err(err(format!("long4 byte count < 0: {n}")));
                }
                let b = self
                    .take(n as u64, "long4")
                    .map_err(|_| err("not enough data in stream to read long4"))?;
                long(b)
            }
            ArgKind::String1 => {
                let n = self.fixed::<1>("uint1")?[0];
                DArg::Latin1(self.take(n as u64, "string1")?)
            }
            ArgKind::String4 => {
                let n = i32::from_le_bytes(self.fixed("int4")?);
                if n < 0 {
                    return Err(err(format!("string4 byte count < 0: {n}")));
                }
                DArg::Latin1(self.take(n as u64, "string4")?)
            }
            ArgKind::Bytes1 => {
                let n = self.fixed::<1>("uint1")?[0];
                DArg::Bytes(self.take(n as u64, "bytes1")?)
            }
            ArgKind::Bytes4 => {
                let n = u32::from_le_bytes(self.fixed("uint4")?);
                DArg::Bytes(self.take(n as u64, "bytes4")?)
            }
            ArgKind::Bytes8 => {
                let n = self.len8("bytes8")?;
                DArg::Bytes(self.take(n, "bytes8")?)
            }
            ArgKind::ByteArray8 => {
                let n = self.len8("bytearray8")?;
                // (bytearray's repr escapes every single quote, unlike bytes')
                DArg::ByteArray(self.take(n, "bytearray8")?)
            }
            ArgKind::UnicodeString1 => {
                let n = self.fixed::<1>("uint1")?[0];
                utf8(self.take(n as u64, "unicodestring1")?)?
            }
            ArgKind::UnicodeString4 => {
                let n = u32::from_le_bytes(self.fixed("uint4")?);
                utf8(self.take(n as u64, "unicodestring4")?)?
            }
            ArgKind::UnicodeString8 => {
                let n = self.len8("unicodestring8")?;
                utf8(self.take(n, "unicodestring8")?)?
            }
            ArgKind::UnicodeStringNl => {
                let line = self.line("unicodestringnl")?;
                DArg::Str(Cow::Owned(text::raw_unicode_escape(line)?))
            }
            ArgKind::StringNl => {
                let line = self.line("stringnl")?;
                let inner = strip_quotes(line)?;
                DArg::Str(Cow::Owned(ascii(text::escape_decode(inner)?)?))
            }
            ArgKind::StringNlNoEscape => {
                let line = self.line("stringnl")?;
                DArg::Str(Cow::Owned(ascii(text::escape_decode(line)?)?))
            }
            ArgKind::StringNlNoEscapePair => {
                let a = self.line("stringnl")?;
                let mut s = ascii(text::escape_decode(a)?)?;
                let b = self.line("stringnl")?;
                s.push(b' ');
                s.extend(ascii(text::escape_decode(b)?)?);
                DArg::Str(Cow::Owned(s))
            }
            ArgKind::DecimalNlShort => {
                let line = self.line("stringnl")?;
                match line {
                    b"00" => DArg::Bool(false),
                    b"01" => DArg::Bool(true),
                    _ => py_int(line)?,
                }
            }
            ArgKind::DecimalNlLong => {
                let line = self.line("stringnl")?;
                py_int(line.strip_suffix(b"L").unwrap_or(line))?
            }
            ArgKind::FloatNl => DArg::Float(py_float(self.line("stringnl")?)?),
        })
    }

    fn len8(&mut self, what: &str) -> Result<u64> {
        let n = u64::from_le_bytes(self.fixed("uint8")?);
        if n > i64::MAX as u64 {
            return Err(err(format!("{what} byte count > sys.maxsize: {n}")));
        }
        Ok(n)
    }
}

fn long(b: &[u8]) -> DArg<'_> {
    match text::long_from_le(b) {
        text::Int::Small(i) => DArg::Int(i),
        text::Int::Big(big) => DArg::Big(big),
    }
}

fn utf8(b: &[u8]) -> Result<DArg<'_>> {
    text::check_surrogatepass(b).map_err(|at| {
        err(format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {at}",
            b[at]
        ))
    })?;
    Ok(DArg::Str(Cow::Borrowed(b)))
}

fn ascii(b: Vec<u8>) -> Result<Vec<u8>> {
    match b.iter().position(|&c| c >= 0x80) {
        None => Ok(b),
        Some(at) => Err(err(format!(
            "'ascii' codec can't decode byte 0x{:02x} in position {at}",
            b[at]
        ))),
    }
}

fn strip_quotes(data: &[u8]) -> Result<&[u8]> {
    for q in [b'"', b'\''] {
        if data.first() == Some(&q) {
            if data.last() != Some(&q) {
                return Err(err(format!(
                    "strinq quote {} not found at both ends of {}",
                    crate::python::repr::repr_bytes(&[q]),
                    crate::python::repr::repr_bytes(data)
                )));
            }
            // A lone quote is both ends: Python's data[1:-1] is empty.
            return Ok(if data.len() >= 2 {
                &data[1..data.len() - 1]
            } else {
                &[]
            });
        }
    }
    Err(err(format!(
        "no string quotes around {}",
        crate::python::repr::repr_bytes(data)
    )))
}

fn is_py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn py_strip(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_py_space(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| !is_py_space(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// CPython's limit on the digits of an int converted from or to decimal.
const MAX_STR_DIGITS: usize = 4300;

/// `int(s)` for bytes `s`, base 10.
fn py_int(s: &[u8]) -> Result<DArg<'static>> {
    let bad = || {
        err(format!(
            "invalid literal for int() with base 10: {}",
            crate::python::repr::repr_bytes(s)
        ))
    };
    let t = py_strip(s);
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    // Digits with single underscores between them.
    if body.is_empty() || !body[0].is_ascii_digit() || !body[body.len() - 1].is_ascii_digit() {
        return Err(bad());
    }
    let mut digits = Vec::with_capacity(body.len());
    let mut prev_us = false;
    for &c in body {
        if c == b'_' {
            if prev_us {
                return Err(bad());
            }
            prev_us = true;
        } else if c.is_ascii_digit() {
            prev_us = false;
            digits.push(c);
        } else {
            return Err(bad());
        }
    }
    if digits.len() > MAX_STR_DIGITS {
        return Err(err(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: \
             value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    if digits.len() <= 18 {
        let mut v: i64 = 0;
        for &c in &digits {
            v = v * 10 + (c - b'0') as i64;
        }
        return Ok(DArg::Int(if neg { -v } else { v }));
    }
    let mut big = BigInt::parse_bytes(&digits, 10).ok_or_else(bad)?;
    if neg {
        big = -big;
    }
    Ok(match i64::try_from(&big) {
        Ok(i) => DArg::Int(i),
        Err(_) => DArg::Big(big),
    })
}

/// `float(s)` for bytes `s`.
fn py_float(s: &[u8]) -> Result<f64> {
    let bad = || {
        err(format!(
            "could not convert string to float: {}",
            crate::python::repr::repr_bytes(s)
        ))
    };
    let owned: Vec<u8>;
    let mut t = s;
    if t.contains(&b'_') {
        // Underscores are allowed only between two digits.
        let mut v = Vec::with_capacity(t.len());
        for (i, &c) in t.iter().enumerate() {
            if c == b'_' {
                let before = i > 0 && t[i - 1].is_ascii_digit();
                let after = t.get(i + 1).is_some_and(|c| c.is_ascii_digit());
                if !(before && after) {
                    return Err(bad());
                }
            } else {
                v.push(c);
            }
        }
        owned = v;
        t = &owned;
    }
    let t = std::str::from_utf8(py_strip(t)).map_err(|_| bad())?;
    // Rust accepts what Python's float() accepts here, except a few spellings
    // Rust alone knows; reject anything outside Python's grammar characters.
    if t.is_empty()
        || !t
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'))
    {
        return Err(bad());
    }
    t.parse::<f64>().map_err(|_| bad())
}

/// Appends `n` in decimal.
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `"%5d:"` and the space after it.
fn push_pos(buf: &mut Vec<u8>, pos: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut n = pos;
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = tmp.len() - i;
    for _ in digits..5 {
        buf.push(b' ');
    }
    buf.extend_from_slice(&tmp[i..]);
    buf.extend_from_slice(b": ");
}

/// Python's `repr` of a big int, with CPython's 4300-digit limit.
fn push_big(buf: &mut Vec<u8>, b: &BigInt) -> Result<()> {
    let s = b.to_string();
    let digits = s.len() - usize::from(s.starts_with('-'));
    if digits > MAX_STR_DIGITS {
        return Err(err(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; \
             use sys.set_int_max_str_digits() to increase the limit"
        )));
    }
    buf.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Append `repr(arg)`.
fn push_arg(buf: &mut Vec<u8>, scratch: &mut String, arg: &DArg<'_>) -> Result<()> {
    match arg {
        DArg::None => buf.extend_from_slice(b"None"),
        DArg::Bool(true) => buf.extend_from_slice(b"True"),
        DArg::Bool(false) => buf.extend_from_slice(b"False"),
        DArg::Int(i) => push_i64(buf, *i),
        DArg::U64(u) => push_u64(buf, *u),
        DArg::Big(b) => push_big(buf, b)?,
        DArg::Float(f) => {
            let mut tmp = [0u8; 32];
            let n = float_repr_into(*f, &mut tmp);
            buf.extend_from_slice(&tmp[..n]);
        }
        DArg::Str(s) => {
            scratch.clear();
            write_repr_str(scratch, s);
            buf.extend_from_slice(scratch.as_bytes());
        }
        DArg::Latin1(b) => {
            let mut utf = Vec::with_capacity(b.len() * 2);
            for &c in *b {
                text::push_code_point(&mut utf, c as u32);
            }
            scratch.clear();
            write_repr_str(scratch, &utf);
            buf.extend_from_slice(scratch.as_bytes());
        }
        DArg::Bytes(b) => {
            scratch.clear();
            write_repr_bytes(scratch, b);
            buf.extend_from_slice(scratch.as_bytes());
        }
        DArg::ByteArray(b) => {
            scratch.clear();
            scratch.push_str("bytearray(");
            crate::python::repr::write_repr_bytes_as(scratch, b, true);
            scratch.push(')');
            buf.extend_from_slice(scratch.as_bytes());
        }
    }
    Ok(())
}

fn memo_key(arg: &DArg<'_>) -> Key {
    match arg {
        DArg::Bool(b) => Key::Small(*b as i64),
        DArg::Int(i) => Key::Small(*i),
        DArg::U64(u) => match i64::try_from(*u) {
            Ok(i) => Key::Small(i),
            Err(_) => Key::Big(BigInt::from(*u)),
        },
        DArg::Big(b) => Key::Big(b.clone()),
        _ => Key::Small(-1),
    }
}

fn arg_repr_for_msg(arg: &DArg<'_>) -> String {
    let mut buf = Vec::new();
    let mut scratch = String::new();
    let _ = push_arg(&mut buf, &mut scratch, arg);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Per opcode byte: the opcode and its line head (`"\x80 "` padded as `%-4s `).
struct Head {
    op: Opcode,
    code: [u8; 5],
}

fn heads() -> Vec<Option<Head>> {
    (0..=255u8)
        .map(|b| {
            let op = Opcode::from_byte(b)?;
            let r = crate::python::repr::repr_latin1(&[b]);
            let inner = &r.as_bytes()[1..r.len() - 1];
            let mut code = [b' '; 5];
            code[..inner.len().min(4)].copy_from_slice(&inner[..inner.len().min(4)]);
            Some(Head { op, code })
        })
        .collect()
}

const FLUSH_AT: usize = 1 << 16;

/// The least output [`disassemble`] allows before it gives up: 256 MiB.
pub const MIN_OUTPUT_LIMIT: u64 = 256 << 20;

/// The output limit [`disassemble`] uses for `input_len` bytes of input:
/// `max(256 MiB, 256 * input_len)`.
///
/// pickletools indents each line by the number of open marks, so its
/// listing grows with the square of the nesting: 400 KB of nested `MARK`s
/// would print 160 GB. Real pickles stay far below this limit.
pub fn default_output_limit(input_len: usize) -> u64 {
    MIN_OUTPUT_LIMIT.max(256u64.saturating_mul(input_len as u64))
}

/// Disassemble every pickle of `data` into `out`, as `python3 -m pickletools`
/// does (see the [module docs](self)). Output is buffered internally; `out`
/// gets large writes. On a broken pickle, the lines before the fault are
/// written and the error is returned.
///
/// After a complete pickle, bytes that cannot begin another (the first is
/// no opcode: a trailing newline, padding) end the listing, as they end
/// `pickle.load` and pickletools, which read one pickle; bytes that begin
/// with an opcode are listed as the next pickle, and fail as any broken one.
///
/// The listing stops with an error (category [`crate::Category::Limit`])
/// once it exceeds [`default_output_limit`]; see [`disassemble_with_limit`].
pub fn disassemble<W: Write>(data: &[u8], out: &mut W, opts: &DisOptions) -> Result<()> {
    disassemble_with_limit(data, out, opts, default_output_limit(data.len()))
}

/// [`disassemble`] with an explicit limit on the bytes written: once the
/// listing passes `max_output` bytes (the line being printed is finished
/// first), it stops with a [`crate::Category::Limit`] error.
pub fn disassemble_with_limit<W: Write>(
    data: &[u8],
    out: &mut W,
    opts: &DisOptions,
    max_output: u64,
) -> Result<()> {
    let mut d = Dis {
        heads: heads(),
        buf: Vec::with_capacity(FLUSH_AT + 4096),
        scratch: String::new(),
        memo: Memo::new(),
        indent: vec![b' '; opts.indent],
        annotate: if opts.annotate { 30 } else { 0 },
        flushed: 0,
        max_output,
    };
    let mut cur = Cursor { data, pos: 0 };
    let result = loop {
        if !opts.memo {
            d.memo = Memo::new();
        }
        let r = d.one(&mut cur, out);
        let next = data.get(cur.pos).copied();
        if r.is_err() || next.map_or(true, |b| Opcode::from_byte(b).is_none()) {
            break r;
        }
    };
    out.write_all(&d.buf).map_err(Error::io)?;
    out.flush().map_err(Error::io)?;
    result
}

struct Dis {
    heads: Vec<Option<Head>>,
    buf: Vec<u8>,
    scratch: String,
    memo: Memo,
    indent: Vec<u8>,
    annotate: usize,
    /// Bytes already written to `out`.
    flushed: u64,
    max_output: u64,
}

impl Dis {
    /// One pickle, through its STOP and the "highest protocol" line.
    fn one<W: Write>(&mut self, cur: &mut Cursor<'_>, out: &mut W) -> Result<()> {
        // pickletools' stack emulation: true is a mark.
        let mut stack: Vec<bool> = Vec::new();
        let mut markstack: Vec<u64> = Vec::new();
        let mut maxproto: i32 = -1;
        let mut annocol = self.annotate;
        loop {
            if self.buf.len() >= FLUSH_AT {
                out.write_all(&self.buf).map_err(Error::io)?;
                self.flushed += self.buf.len() as u64;
                self.buf.clear();
            }
            if self.flushed + self.buf.len() as u64 > self.max_output {
                return Err(Error::limit(format!(
                    "listing longer than {} bytes (deeply nested marks?); stopped",
                    self.max_output
                ))
                .at(cur.pos as u64));
            }
            let pos = cur.pos as u64;
            let Some(&byte) = cur.data.get(cur.pos) else {
                return Err(err("pickle exhausted before seeing STOP").at(pos));
            };
            let Some(head) = &self.heads[byte as usize] else {
                return Err(err(format!(
                    "opcode {} unknown",
                    crate::python::repr::repr_bytes(&[byte])
                ))
                .at(pos));
            };
            let op = head.op;
            let fx = op.stack_effect();
            cur.pos += 1;
            let arg = cur.read(op.arg()).map_err(|e| e.in_opcode(op).at(pos))?;
            let has_arg = op.arg() != ArgKind::None;

            // pickletools prints the offset before it checks anything.
            push_pos(&mut self.buf, pos);
            let line_start = self.buf.len();
            maxproto = maxproto.max(op.protocol() as i32);
            // pickletools indents by the marks open before this opcode.
            let depth = markstack.len();
            let mut numtopop = fx.pops as usize;
            let mut errormsg: Option<String> = None;
            // Whether the markmsg is "(MARK at N)" (Some(N)), "(as N)" or an error.
            let mut markmsg: Option<String> = None;
            if fx.mark_at.is_some() || (op == Opcode::Pop && stack.last() == Some(&true)) {
                if let Some(markpos) = markstack.pop() {
                    markmsg = Some(format!("(MARK at {markpos})"));
                    loop {
                        match stack.pop() {
                            Some(true) => break,
                            Some(false) => {}
                            None => return Err(err("pop from empty list").in_opcode(op).at(pos)),
                        }
                    }
                    numtopop = fx.mark_at.unwrap_or(0) as usize;
                } else {
                    errormsg = Some("no MARK exists on stack".into());
                    markmsg = errormsg.clone();
                }
            }

            match op {
                Opcode::Put | Opcode::BinPut | Opcode::LongBinPut | Opcode::Memoize => {
                    let key = if op == Opcode::Memoize {
                        markmsg = Some(format!("(as {})", self.memo.len()));
                        Key::Small(self.memo.len() as i64)
                    } else {
                        memo_key(&arg)
                    };
                    if self.memo.contains(&key) {
                        errormsg = Some(format!(
                            "memo key {} already defined",
                            arg_repr_for_msg(&arg)
                        ));
                    } else if stack.is_empty() {
                        errormsg = Some("stack is empty -- can't store into memo".into());
                    } else if stack.last() == Some(&true) {
                        errormsg = Some("can't store markobject in the memo".into());
                    } else if let Err(e) = self.memo.insert(key) {
                        errormsg = Some(e.to_string());
                    }
                }
                Opcode::Get | Opcode::BinGet | Opcode::LongBinGet
                    if !self.memo.contains(&memo_key(&arg)) =>
                {
                    // The loader's wording (CPython's `_pickle.c`), then
                    // pickletools' own.
                    let key = arg_repr_for_msg(&arg);
                    errormsg = Some(format!(
                        "Memo value not found at index {key} \
                         (pickletools: memo key {key} has never been stored into)"
                    ));
                }
                _ => {}
            }

            // The line.
            let buf = &mut self.buf;
            buf.extend_from_slice(&head.code);
            for _ in 0..depth {
                buf.extend_from_slice(&self.indent);
            }
            buf.extend_from_slice(op.name().as_bytes());
            if has_arg || markmsg.is_some() {
                for _ in op.name().len()..10 {
                    buf.push(b' ');
                }
                if has_arg {
                    buf.push(b' ');
                    if let Err(e) = push_arg(buf, &mut self.scratch, &arg) {
                        // repr(arg) raised: only the offset was printed.
                        buf.truncate(line_start);
                        return Err(e.in_opcode(op).at(pos));
                    }
                }
                if let Some(m) = &markmsg {
                    buf.push(b' ');
                    buf.extend_from_slice(m.as_bytes());
                }
            }
            if self.annotate > 0 {
                let len = chars(&buf[line_start..]);
                for _ in len..annocol {
                    buf.push(b' ');
                }
                annocol = len.max(annocol);
                if annocol > 50 {
                    annocol = self.annotate;
                }
                buf.push(b' ');
                buf.extend_from_slice(op.doc().as_bytes());
            }
            buf.push(b'\n');

            if let Some(m) = errormsg {
                return Err(err(m).in_opcode(op).at(pos));
            }
            if stack.len() < numtopop {
                return Err(err(format!(
                    "tries to pop {numtopop} items from stack with only {} items",
                    stack.len()
                ))
                .in_opcode(op)
                .at(pos));
            }
            stack.truncate(stack.len() - numtopop);
            if fx.pushes_mark {
                markstack.push(pos);
            }
            for _ in 0..fx.pushes {
                stack.push(fx.pushes_mark);
            }
            if op == Opcode::Stop {
                break;
            }
        }
        self.buf
            .extend_from_slice(b"highest protocol among opcodes = ");
        push_i64(&mut self.buf, maxproto as i64);
        self.buf.push(b'\n');
        if !stack.is_empty() {
            let items: Vec<&str> = stack
                .iter()
                .map(|&m| if m { "markobject" } else { "any" })
                .collect();
            return Err(err(format!(
                "stack not empty after STOP: [{}]",
                items.join(", ")
            ))
            .at(cur.pos as u64 - 1));
        }
        Ok(())
    }
}

/// Number of code points in UTF-8 bytes.
fn chars(b: &[u8]) -> usize {
    b.iter().filter(|&&c| (c & 0xc0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(data: &[u8], opts: &DisOptions) -> (String, Result<()>) {
        let mut out = Vec::new();
        let r = disassemble(data, &mut out, opts);
        (String::from_utf8(out).unwrap(), r)
    }

    #[test]
    fn bytes_after_a_pickle_that_begin_none_end_the_listing() {
        let one =
            "    0: K    BININT1    1\n    2: .    STOP\nhighest protocol among opcodes = 1\n";
        for rest in [&b"\n"[..], b"\n\n", b"\x00\x00", b" "] {
            let data = [&b"K\x01."[..], rest].concat();
            let (out, r) = listing(&data, &DisOptions::default());
            r.unwrap();
            assert_eq!(out, one, "{rest:?}");
        }
        // A rest that begins with an opcode is the next pickle.
        let (out, r) = listing(b"K\x01.K", &DisOptions::default());
        assert!(r.is_err());
        assert!(out.starts_with(one), "{out}");
    }

    #[test]
    fn protocol_2_list() {
        let (out, r) = listing(b"\x80\x02]q\x00(K\x01K\x02e.", &DisOptions::default());
        r.unwrap();
        assert_eq!(
            out,
            "    0: \\x80 PROTO      2\n\
             \x20   2: ]    EMPTY_LIST\n\
             \x20   3: q    BINPUT     0\n\
             \x20   5: (    MARK\n\
             \x20   6: K        BININT1    1\n\
             \x20   8: K        BININT1    2\n\
             \x20  10: e        APPENDS    (MARK at 5)\n\
             \x20  11: .    STOP\n\
             highest protocol among opcodes = 2\n"
        );
    }

    #[test]
    fn annotations_and_protocol_0_args() {
        let opts = DisOptions {
            annotate: true,
            ..DisOptions::default()
        };
        let (out, r) = listing(b"(I01\ncos\nsystem\nS'a'\ntp0\n.", &opts);
        r.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "    0: (    MARK                      Push markobject onto the stack."
        );
        assert_eq!(
            lines[1],
            "    1: I        INT        True       Push an integer or bool."
        );
        assert_eq!(
            lines[2],
            "    5: c        GLOBAL     'os system' Push a global object (module.attr) on the stack."
        );
        assert!(lines[4].starts_with("   21: t        TUPLE      (MARK at 0) Build a tuple"));
        assert!(lines[5].starts_with("   22: p    PUT        0               Store"));
    }

    #[test]
    fn errors_after_printing_the_faulty_line() {
        let (out, r) = listing(b"\x80\x02h\x03.", &DisOptions::default());
        assert_eq!(out, "    0: \\x80 PROTO      2\n    2: h    BINGET     3\n");
        let e = r.unwrap_err();
        assert_eq!(
            e.message(),
            "Memo value not found at index 3 (pickletools: memo key 3 has never been stored into)"
        );
        assert_eq!(e.offset(), Some(2));
        let (out, r) = listing(b"", &DisOptions::default());
        assert_eq!(out, "");
        assert!(r.is_err());
        let (out, r) = listing(b"K\x01K\x02.", &DisOptions::default());
        assert!(out.ends_with("highest protocol among opcodes = 1\n"));
        assert!(r
            .unwrap_err()
            .message()
            .starts_with("stack not empty after STOP"));
    }

    #[test]
    fn python_int_and_float_parsing() {
        assert!(matches!(py_int(b" +1_000 ").unwrap(), DArg::Int(1000)));
        assert!(py_int(b"0x10").is_err());
        assert!(py_int(b"1__0").is_err());
        assert!(py_int(b"_1").is_err());
        assert!(matches!(
            py_int(b"-99999999999999999999").unwrap(),
            DArg::Big(_)
        ));
        assert_eq!(py_float(b" 1_0.5 ").unwrap(), 10.5);
        assert!(py_float(b"1e999").unwrap().is_infinite());
        assert!(py_float(b"-Infinity").unwrap().is_infinite());
        assert!(py_float(b"1_").is_err());
        assert!(py_float(b"").is_err());
    }
}
