//! numpy's `str` of floats (float16, float32; float64 is Python's `repr`)
//! and Python's `repr` of complex numbers: the digits pandas writes.

/// numpy's `str(np.float32(x))`: the shortest digits that read back as
/// the same float32, positional from 1e-4 up to 1e6 (1e16 before numpy
/// 2.3: `legacy`), scientific (`1e+06`, `1.5e-05`) outside.
pub(crate) fn numpy_f32(x: f32, legacy: bool) -> String {
    numpy_float(
        x as f64,
        &format!("{:e}", x),
        if legacy { 1e16 } else { 1e6 },
    )
}

/// numpy's `str(np.float16(x))` (`x` a float16 widened): the shortest
/// digits that read back as the same float16, positional from 1e-4 up to
/// 1e3 (1e16 before numpy 2.3).
pub(crate) fn numpy_f16(x: f64, legacy: bool) -> String {
    let top = if legacy { 1e16 } else { 1e3 };
    if !x.is_finite() || x == 0.0 {
        return numpy_float(x, "", top);
    }
    let want = f16_bits(x);
    let sci = (0..17)
        .map(|p| format!("{x:.p$e}"))
        .find(|s| s.parse::<f64>().is_ok_and(|y| f16_bits(y) == want))
        .unwrap_or_else(|| format!("{x:e}"));
    numpy_float(x, &sci, top)
}

/// `x` rounded to the nearest float16 (ties to even), as its bits.
fn f16_bits(x: f64) -> u16 {
    let sign = if x.is_sign_negative() { 0x8000u16 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return 0x7e00;
    }
    let even = |y: f64| -> f64 {
        let f = y.floor();
        let d = y - f;
        if d > 0.5 || d == 0.5 && f % 2.0 != 0.0 {
            f + 1.0
        } else {
            f
        }
    };
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 6.103515625e-05 {
        // Subnormal: multiples of 2^-24.
        return sign | even(a * 16_777_216.0) as u16;
    }
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let m = even((a / 2f64.powi(e) - 1.0) * 1024.0) as u32;
    let (e, m) = if m == 1024 { (e + 1, 0) } else { (e, m) };
    if e + 15 >= 31 {
        return sign | 0x7c00;
    }
    sign | (((e + 15) as u16) << 10) | m as u16
}

/// numpy's float `str` from the shortest digits in Rust's `{:e}` form:
/// positional from 1e-4 up to `top`, scientific outside.
fn numpy_float(x: f64, sci: &str, top: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    // `{:.3e}` may leave trailing zeros (`1.500e0`).
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let a = x.abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (1e-4..top).contains(&a) {
        if exp >= 0 {
            let e = exp as usize;
            if digits.len() > e + 1 {
                out.push_str(&digits[..=e]);
                out.push('.');
                out.push_str(&digits[e + 1..]);
            } else {
                out.push_str(&digits);
                out.extend(std::iter::repeat('0').take(e + 1 - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat('0').take((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// Python's `repr(complex(re, im))` (numpy's `str` of a complex128):
/// `(1+2j)`, `1j`, `(-0-0j)`, `(inf-infj)`; each part as `repr` of a float
/// without a trailing `.0`.
pub(crate) fn complex_text(re: f64, im: f64) -> String {
    let part = |x: f64| {
        let s = crate::repr::repr_float(x);
        match s.strip_suffix(".0") {
            Some(t) => t.to_string(),
            None => s,
        }
    };
    if re == 0.0 && re.is_sign_positive() {
        return format!("{}j", part(im));
    }
    let sign = if im.is_sign_negative() && !im.is_nan() {
        "-"
    } else {
        "+"
    };
    format!("({}{sign}{}j)", part(re), part(im.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_as_numpy_prints_it() {
        let cases: &[(f32, &str)] = &[
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (123456789.0, "1.2345679e+08"),
            (1e-5, "1e-05"),
            (16777216.0, "1.6777216e+07"),
            (1e-4, "1e-04"),
            (0.00012345, "0.00012345"),
            (999999.94, "999999.94"),
            (1e6, "1e+06"),
            (100000.0, "100000.0"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (1e-45, "1e-45"),
        ];
        for &(x, want) in cases {
            assert_eq!(numpy_f32(x, false), want, "{x:e}");
        }
        assert_eq!(numpy_f32(123456789.0, true), "123456790.0");
        assert_eq!(numpy_f32(1e6, true), "1000000.0");
        assert_eq!(numpy_f32(1e16, true), "1e+16");
        assert_eq!(numpy_f32(1e-4, true), "1e-04");
        // float16, as numpy 2.4 and 2.2 print it.
        for (x, new, old) in [
            (1.5, "1.5", "1.5"),
            (0.0999755859375, "0.1", "0.1"),
            (1000.0, "1e+03", "1000.0"),
            (10000.0, "1e+04", "10000.0"),
            (65504.0, "6.55e+04", "65500.0"),
            (0.0001000165939331, "0.0001", "0.0001"),
            (5.960464477539063e-08, "6e-08", "6e-08"),
        ] {
            assert_eq!(numpy_f16(x, false), new, "{x}");
            assert_eq!(numpy_f16(x, true), old, "{x}");
        }
    }

    #[test]
    fn complex_as_python_prints_it() {
        assert_eq!(complex_text(1.0, 2.0), "(1+2j)");
        assert_eq!(complex_text(0.0, 0.0), "0j");
        assert_eq!(complex_text(0.0, -1.0), "-1j");
        assert_eq!(complex_text(1.5, -2.5), "(1.5-2.5j)");
        assert_eq!(complex_text(1e16, 1e-5), "(1e+16+1e-05j)");
        assert_eq!(complex_text(-0.0, -0.0), "(-0-0j)");
        assert_eq!(complex_text(f64::INFINITY, f64::NEG_INFINITY), "(inf-infj)");
    }
}
