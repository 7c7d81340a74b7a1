//! Protocol-0 text arguments: decimal ints, floats, quoted Python 2 string
//! literals (`codecs.escape_decode`) and `raw-unicode-escape` text, plus the
//! two's-complement longs of `LONG1`/`LONG4`. Shared by the reader and writer.

use num_bigint::BigInt;

use crate::error::{Error, Result};

/// An integer read from text or from a two's-complement payload: an `i64`
/// when it fits, as the reader's [`Arg`](crate::codec::read::Arg) holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Int {
    /// Fits an `i64`.
    Small(i64),
    /// Does not.
    Big(BigInt),
}

/// A little-endian two's-complement integer (`LONG1`, `LONG4` payloads).
pub fn long_from_le(bytes: &[u8]) -> Int {
    if bytes.is_empty() {
        return Int::Small(0);
    }
    if bytes.len() <= 8 {
        let fill = if bytes[bytes.len() - 1] & 0x80 != 0 {
            0xff
        } else {
            0
        };
        let mut b = [fill; 8];
        b[..bytes.len()].copy_from_slice(bytes);
        return Int::Small(i64::from_le_bytes(b));
    }
    let big = BigInt::from_signed_bytes_le(bytes);
    match i64::try_from(&big) {
        Ok(i) => Int::Small(i),
        Err(_) => Int::Big(big),
    }
}

/// The value of a `LONG1` payload of `n` bytes (at most 8) held in the low
/// `n` bytes of the little-endian word `word` (the bytes above are not its
/// own): [`long_from_le`] for the loaders that read the payload as one whole
/// word. The payload's top byte is shifted up to bits 56..64, then back
/// with the sign (an arithmetic shift).
#[inline(always)]
pub(crate) fn long_from_le_word(word: u64, n: usize) -> i64 {
    if n == 0 {
        return 0;
    }
    let unused = 64 - 8 * n as u32;
    ((word << unused) as i64) >> unused
}

/// The shortest two's-complement little-endian encoding of `v`, as `pickle.encode_long`.
pub fn long_to_le(v: &BigInt) -> Vec<u8> {
    if v.sign() == num_bigint::Sign::NoSign {
        return Vec::new();
    }
    v.to_signed_bytes_le()
}

/// The shortest two's-complement little-endian encoding of an i64 (empty for 0).
#[cfg(test)]
pub fn i64_to_le(v: i64) -> ([u8; 8], usize) {
    let b = v.to_le_bytes();
    if v == 0 {
        return (b, 0);
    }
    let mut n = 8;
    // drop redundant sign bytes
    while n > 1 {
        let top = b[n - 1];
        let next_sign = b[n - 2] & 0x80;
        if (top == 0 && next_sign == 0) || (top == 0xff && next_sign != 0) {
            n -= 1;
        } else {
            break;
        }
    }
    (b, n)
}

fn trim_ascii(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// How `_pickle.c` reads a protocol-0 integer argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntText {
    /// `INT` (`load_int`): C's `strtol` with base 0 (leading blanks, a sign,
    /// `0x` hex, a leading `0` octal: `I010` is 8), and where that fails or
    /// overflows, Python's `int(s, 0)`.
    Int,
    /// `LONG` (`load_long`): Python's `int(s, 0)` (prefixes `0x`, `0o`,
    /// `0b`; a decimal with a leading zero is refused).
    Long,
    /// `GET`, `PUT` (memo indices): Python's `int(s, 10)` (leading zeros
    /// taken, no prefixes).
    Index,
}

/// The value C's `strtol(s, &end, 0)` reads when it reads all of `s` and
/// the value fits an `i64`; `None` where `load_int` falls back to Python's
/// `int()`.
fn strtol_base0(s: &[u8]) -> Option<i64> {
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut t = s;
    while let Some((&c, rest)) = t.split_first() {
        if !is_space(c) {
            break;
        }
        t = rest;
    }
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = match t {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => {
            (16, rest)
        }
        [b'0', ..] => (8, t),
        _ => (10, t),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix)? as i64;
        v = v.checked_mul(radix as i64)?.checked_add(d)?;
    }
    Some(if neg { -v } else { v })
}

/// Parse a protocol-0 integer argument as `_pickle.c` does for `how`.
///
/// A decimal int of more than `max_digits` digits (0: no limit) is refused,
/// as CPython refuses one of more than `sys.get_int_max_str_digits()`.
pub fn parse_int_as(s: &[u8], how: IntText, max_digits: usize) -> Result<Int> {
    if how == IntText::Int {
        if let Some(v) = strtol_base0(s) {
            return Ok(Int::Small(v));
        }
    }
    parse_py_int(s, how == IntText::Index, max_digits)
}

/// Python's `int(s, 0)`.
#[cfg(test)]
pub fn parse_int(s: &[u8], max_digits: usize) -> Result<Int> {
    parse_py_int(s, false, max_digits)
}

/// Python's `int(s, 0)`, or `int(s, 10)` with `base10`.
fn parse_py_int(s: &[u8], base10: bool, max_digits: usize) -> Result<Int> {
    let t = trim_ascii(s);
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if !base10 && body.len() > 2 && body[0] == b'0' {
        match body[1] {
            b'x' | b'X' => (16, &body[2..]),
            b'o' | b'O' => (8, &body[2..]),
            b'b' | b'B' => (2, &body[2..]),
            _ => (10, body),
        }
    } else {
        (10, body)
    };
    // int(s, 0) takes no leading zero before a nonzero decimal digit
    // (`007`; `0`, `00` and `0_0` are zero).
    if !base10
        && radix == 10
        && digits.first() == Some(&b'0')
        && digits.iter().any(|&c| c != b'0' && c != b'_')
    {
        return Err(Error::syntax(format!(
            "invalid literal for int() with base 0: {:?}",
            String::from_utf8_lossy(s)
        )));
    }
    let bad = || {
        Error::syntax(format!(
            "invalid literal for int(): {:?}",
            String::from_utf8_lossy(s)
        ))
    };
    // Python's int() takes single underscores between digits (and right
    // after a base prefix); CPython's unpickler parses these arguments with
    // it, so `g1_0` fetches memo entry 10.
    let prefixed = radix != 10;
    let owned: Vec<u8>;
    let digits = if digits.contains(&b'_') {
        let ok_placement = digits.last() != Some(&b'_')
            && (prefixed || digits.first() != Some(&b'_'))
            && !digits.windows(2).any(|w| w == b"__");
        if !ok_placement {
            return Err(bad());
        }
        owned = digits.iter().copied().filter(|&c| c != b'_').collect();
        &owned[..]
    } else {
        digits
    };
    if digits.is_empty() || !digits.iter().all(|&c| (c as char).is_digit(radix)) {
        return Err(bad());
    }
    if radix == 10
        && max_digits > 0
        && digits.len() > max_digits
        && digits.iter().any(|&c| c != b'0')
    {
        return Err(Error::limit(format!(
            "Exceeds the limit ({max_digits} digits) for integer string conversion: \
             value has {} digits (LoadOptions::max_int_digits)",
            digits.len()
        )));
    }
    if digits.len() <= 18 && radix == 10 {
        let mut v: i64 = 0;
        for &c in digits {
            v = v * 10 + (c - b'0') as i64;
        }
        return Ok(Int::Small(if neg { -v } else { v }));
    }
    let mut big = BigInt::parse_bytes(digits, radix).ok_or_else(bad)?;
    if neg {
        big = -big;
    }
    Ok(match i64::try_from(&big) {
        Ok(i) => Int::Small(i),
        Err(_) => Int::Big(big),
    })
}

/// Parse a protocol-0 float (`FLOAT` argument), like `float(s)` without underscores.
pub fn parse_float(s: &[u8]) -> Result<f64> {
    let bad = || {
        Error::syntax(format!(
            "could not convert string to float: {:?}",
            String::from_utf8_lossy(s)
        ))
    };
    let t = std::str::from_utf8(trim_ascii(s)).map_err(|_| bad())?;
    let v: f64 = t.parse().map_err(|_| bad())?;
    if v.is_infinite() {
        let lower = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if lower != "inf" && lower != "infinity" {
            return Err(Error::syntax(format!("float out of range: {t}")));
        }
    }
    Ok(v)
}

/// Strip the quotes of a `STRING` argument and decode its escapes
/// (`codecs.escape_decode`).
pub fn unquote_string(line: &[u8]) -> Result<Vec<u8>> {
    if line.len() < 2 || line[0] != line[line.len() - 1] || (line[0] != b'\'' && line[0] != b'"') {
        return Err(Error::syntax("the STRING opcode argument must be quoted"));
    }
    escape_decode(&line[1..line.len() - 1])
}

fn hex_val(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// `codecs.escape_decode`: Python 2 string-literal escapes to bytes.
pub fn escape_decode(s: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err(Error::syntax("Trailing \\ in string"));
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let h = s.get(i).and_then(|&c| hex_val(c));
                let l = s.get(i + 1).and_then(|&c| hex_val(c));
                match (h, l) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => {
                        return Err(Error::syntax(format!(
                            "invalid \\x escape at position {}",
                            i - 2
                        )))
                    }
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Append a code point in Python's internal UTF-8 (surrogates allowed, as `surrogatepass`).
pub fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.push(0xc0 | (cp >> 6) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else if cp < 0x10000 {
        out.push(0xe0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else {
        out.push(0xf0 | (cp >> 18) as u8);
        out.push(0x80 | ((cp >> 12) & 0x3f) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    }
}

/// Decode `raw-unicode-escape` text into Python UTF-8 (surrogates allowed).
pub fn raw_unicode_escape(s: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            push_code_point(&mut out, c as u32);
            i += 1;
            continue;
        }
        // A run of backslashes: \u is an escape only after an odd count.
        let run_start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push(b'\\');
            i += 1;
        }
        let odd = (i - run_start) % 2 == 1;
        if !odd || i >= s.len() || (s[i] != b'u' && s[i] != b'U') {
            continue;
        }
        out.pop();
        let count = if s[i] == b'u' { 4 } else { 8 };
        i += 1;
        let mut cp: u32 = 0;
        for k in 0..count {
            match s.get(i + k).and_then(|&c| hex_val(c)) {
                Some(d) => cp = cp.wrapping_mul(16).wrapping_add(d),
                None => {
                    return Err(Error::syntax(if count == 4 {
                        "truncated \\uXXXX escape"
                    } else {
                        "truncated \\UXXXXXXXX escape"
                    }))
                }
            }
        }
        if cp > 0x10ffff {
            return Err(Error::syntax("\\Uxxxxxxxx out of range"));
        }
        i += count;
        push_code_point(&mut out, cp);
    }
    Ok(out)
}

/// Check that `b` is Python UTF-8 with lone surrogates allowed (`surrogatepass`).
/// Returns the byte offset of the first invalid sequence on failure.
pub fn check_surrogatepass(b: &[u8]) -> std::result::Result<(), usize> {
    let mut i = 0;
    while i < b.len() {
        match std::str::from_utf8(&b[i..]) {
            Ok(_) => return Ok(()),
            Err(e) => {
                i += e.valid_up_to();
                // Accept a 3-byte encoded surrogate: ED A0..BF 80..BF
                if i + 2 < b.len()
                    && b[i] == 0xed
                    && (0xa0..=0xbf).contains(&b[i + 1])
                    && (0x80..=0xbf).contains(&b[i + 2])
                {
                    i += 3;
                } else {
                    return Err(i);
                }
            }
        }
    }
    Ok(())
}

/// Iterate the code points of Python UTF-8 (surrogates included).
pub fn code_points(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let c = *b.get(i)?;
        let (len, init) = match c {
            0..=0x7f => (1, c as u32),
            0xc0..=0xdf => (2, (c & 0x1f) as u32),
            0xe0..=0xef => (3, (c & 0x0f) as u32),
            _ => (4, (c & 0x07) as u32),
        };
        let mut cp = init;
        for k in 1..len {
            cp = (cp << 6) | (b.get(i + k).copied().unwrap_or(0x80) & 0x3f) as u32;
        }
        i += len;
        Some(cp)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs() {
        assert_eq!(long_from_le(b""), Int::Small(0));
        assert_eq!(long_from_le(b"\xff"), Int::Small(-1));
        assert_eq!(long_from_le(b"\x00\x80"), Int::Small(-32768));
        assert_eq!(long_from_le(b"\x00\x80\x00"), Int::Small(32768));
        assert_eq!(i64_to_le(255).1, 2);
        assert_eq!(i64_to_le(-128).1, 1);
        assert_eq!(i64_to_le(-129).1, 2);
        assert_eq!(i64_to_le(127).1, 1);
        assert_eq!(i64_to_le(i64::MIN).1, 8);
    }

    #[test]
    fn ints_take_underscores_where_python_does() {
        // CPython's int_max_str_digits: 4300 decimal digits, all zeros
        // aside; 0 is no limit; other bases are not limited.
        let long = vec![b'7'; 4301];
        let e = parse_int(&long, 4300).unwrap_err();
        assert_eq!(e.category(), crate::Category::Limit);
        assert!(e.to_string().contains("value has 4301 digits"), "{e}");
        assert!(matches!(parse_int(&long[..4300], 4300), Ok(Int::Big(_))));
        assert!(parse_int(&long, 0).is_ok());
        assert_eq!(parse_int(&[b'0'; 5000], 4300).unwrap(), Int::Small(0));
        let mut hex = b"0x".to_vec();
        hex.extend(std::iter::repeat(b'f').take(5000));
        assert!(parse_int(&hex, 4300).is_ok());
        assert_eq!(parse_int(b"1_0", 4300).unwrap(), Int::Small(10));
        assert_eq!(
            parse_int(b"-1_000_000", 4300).unwrap(),
            Int::Small(-1_000_000)
        );
        assert_eq!(parse_int(b"0x_1f", 4300).unwrap(), Int::Small(31));
        assert_eq!(parse_int(b"0b1_1", 4300).unwrap(), Int::Small(3));
        for bad in [&b"_1"[..], b"1_", b"1__0", b"_", b"0x", b"1_x"] {
            assert!(parse_int(bad, 4300).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ints_and_floats() {
        assert_eq!(parse_int(b" -42 ", 4300).unwrap(), Int::Small(-42));
        assert_eq!(parse_int(b"0x10", 4300).unwrap(), Int::Small(16));
        assert!(matches!(
            parse_int(b"123456789012345678901234567890", 4300).unwrap(),
            Int::Big(_)
        ));
        assert!(parse_int(b"12x", 4300).is_err());
        assert!(parse_int(b"", 4300).is_err());
        assert_eq!(parse_float(b"1e+16").unwrap(), 1e16);
        assert!(parse_float(b"nan").unwrap().is_nan());
        assert!(parse_float(b"1e999").is_err());
        assert!(parse_float(b"not-a-float").is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape_decode(br"a\n\x41\101\\\'\q").unwrap(),
            b"a\nAA\\'\\q"
        );
        assert!(escape_decode(br"\x4").is_err());
        assert_eq!(
            raw_unicode_escape(br"\u20ac\\u0041\U0001F642").unwrap(),
            "€\\\\u0041🙂".as_bytes()
        );
        assert_eq!(raw_unicode_escape(b"\xe9").unwrap(), "é".as_bytes());
        assert_eq!(raw_unicode_escape(br"\ud800").unwrap(), b"\xed\xa0\x80");
        assert!(raw_unicode_escape(br"\u12").is_err());
    }

    #[test]
    fn surrogates() {
        assert!(check_surrogatepass(b"\xed\xa0\x80abc").is_ok());
        assert_eq!(check_surrogatepass(b"ab\xff"), Err(2));
        let cps: Vec<u32> = code_points("a€🙂".as_bytes()).collect();
        assert_eq!(cps, [0x61, 0x20ac, 0x1f642]);
    }
}
