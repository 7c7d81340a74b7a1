//! The [`Element`] types an array's data can be read as, and conversions of
//! element bytes (byte order, float16).

use super::dtype::DType;

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
    /// Decode the elements of `b` (whole elements; a partial one at the end
    /// is left) onto `out`. The numeric types decode in a loop the compiler
    /// vectorizes, the byte order chosen once.
    fn extend_from_bytes(out: &mut Vec<Self>, b: &[u8], big_endian: bool) {
        out.extend(
            b.chunks_exact(Self::SIZE)
                .map(|c| Self::read(c, big_endian)),
        );
    }
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
            fn extend_from_bytes(out: &mut Vec<Self>, b: &[u8], big: bool) {
                const N: usize = std::mem::size_of::<$t>();
                let items = b.chunks_exact(N).map(|c| <[u8; N]>::try_from(c).expect("N bytes"));
                if big {
                    out.extend(items.map(<$t>::from_be_bytes));
                } else {
                    out.extend(items.map(<$t>::from_le_bytes));
                }
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
