//! Python's `repr` of a float, the text protocol 0's `FLOAT` argument holds
//! (the writer's, so it lives in the codec layer) and what `repr` prints.

use std::fmt::{self, Write};

/// A small fixed buffer that `core::fmt` can write into.
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Write Python's `repr(f)` into `out`, returning the length (at most 32).
pub(crate) fn float_repr_into(f: f64, out: &mut [u8; 32]) -> usize {
    if f.is_nan() {
        out[..3].copy_from_slice(b"nan");
        return 3;
    }
    if f.is_infinite() {
        let s: &[u8] = if f < 0.0 { b"-inf" } else { b"inf" };
        out[..s.len()].copy_from_slice(s);
        return s.len();
    }
    // Shortest round-trip digits, as `{:e}` gives them: "-1.2345e-5".
    let mut sb = StackBuf {
        buf: [0; 40],
        len: 0,
    };
    write!(sb, "{:e}", f).expect("a float's {:e} fits in 40 bytes");
    let s = &sb.buf[..sb.len];
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let epos = s.iter().position(|&c| c == b'e').unwrap_or(s.len());
    let mantissa = &s[..epos];
    let mut exp: i32 = 0;
    let mut exp_neg = false;
    for &c in &s[(epos + 1).min(s.len())..] {
        match c {
            b'-' => exp_neg = true,
            b'0'..=b'9' => exp = exp * 10 + (c - b'0') as i32,
            _ => {}
        }
    }
    if exp_neg {
        exp = -exp;
    }
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &c in mantissa {
        if c.is_ascii_digit() && nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    if nd > 0 && digits[nd - 1] % 2 == 1 && is_upper_tie(f, &digits[..nd], exp) {
        // Rust breaks an exact tie between two shortest candidates upward;
        // Python's dtoa takes the even one. Use it when it round-trips.
        let mut alt = digits;
        alt[nd - 1] -= 1;
        let mut sb = StackBuf {
            buf: [0; 40],
            len: 0,
        };
        let txt = std::str::from_utf8(&alt[..nd]).unwrap_or("0");
        if write!(sb, "{txt}e{}", exp - (nd as i32 - 1)).is_ok()
            && std::str::from_utf8(&sb.buf[..sb.len])
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                == Some(f.abs())
        {
            digits = alt;
        }
    }
    let digits = &digits[..nd];
    let mut n = 0;
    let mut put = |b: u8| {
        out[n] = b;
        n += 1;
    };
    if neg {
        put(b'-');
    }
    // Python's float_repr_style 'short': fixed notation for -4 <= exp < 16.
    if (-4..16).contains(&exp) {
        let decpt = exp + 1;
        if decpt <= 0 {
            put(b'0');
            put(b'.');
            for _ in 0..(-decpt) {
                put(b'0');
            }
            digits.iter().for_each(|&d| put(d));
        } else if (decpt as usize) < digits.len() {
            let d = decpt as usize;
            digits[..d].iter().for_each(|&c| put(c));
            put(b'.');
            digits[d..].iter().for_each(|&c| put(c));
        } else {
            digits.iter().for_each(|&d| put(d));
            for _ in digits.len()..decpt as usize {
                put(b'0');
            }
            put(b'.');
            put(b'0');
        }
    } else {
        put(digits[0]);
        if digits.len() > 1 {
            put(b'.');
            digits[1..].iter().for_each(|&d| put(d));
        }
        put(b'e');
        put(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e >= 100 {
            put(b'0' + (e / 100) as u8);
        }
        put(b'0' + (e / 10 % 10) as u8);
        put(b'0' + (e % 10) as u8);
    }
    n
}

/// True when `|f|` lies exactly halfway between the decimal `digits` x 10^k
/// (the last digit's place, `k = exp - (len - 1)`) and the candidate one unit
/// below it in the last digit.
fn is_upper_tie(f: f64, digits: &[u8], exp: i32) -> bool {
    let bits = f.to_bits();
    let frac = bits & ((1u64 << 52) - 1);
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let (mut m, mut e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return false;
    }
    let tz = m.trailing_zeros();
    m >>= tz;
    e += tz as i32;
    let k = exp - (digits.len() as i32 - 1);
    // The tie value (2D - 1) * 5^k * 2^(k-1), with 2D - 1 odd, equals the
    // odd m times 2^e only if e == k - 1 and the odd parts agree.
    if e != k - 1 || !(-27..=27).contains(&k) {
        return false;
    }
    let d: u128 = digits
        .iter()
        .fold(0u128, |acc, &c| acc * 10 + (c - b'0') as u128);
    let odd = 2 * d - 1;
    let p5 = 5u128.pow(k.unsigned_abs());
    if k >= 0 {
        odd.checked_mul(p5) == Some(m as u128)
    } else {
        (m as u128) * p5 == odd
    }
}
