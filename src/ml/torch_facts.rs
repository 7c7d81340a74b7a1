//! What torch's storage classes are, for the torch loader ([`crate::torch`],
//! behind the `torch` feature) and the scanner (always built), which must
//! agree on them: the element type a storage class
//! (`torch.FloatStorage`, ...) holds, and its size in bytes, which is how
//! both find where a legacy file's raw storages end.
//!
//! The loader's [`DType`] covers the classes it reads;
//! [`storage_itemsize`] also knows those it does not (quantized and
//! untyped storages), whose bytes a checkpoint may still hold.

/// The legacy format's magic number, `0x1950a86a20f9469cfc6c`, as
/// little-endian bytes (what `LONG1` carries at protocol 2 and up).
pub(crate) const LEGACY_MAGIC_LE: [u8; 10] =
    [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// True if `v` is the legacy format's magic number.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) fn is_legacy_magic(v: crate::value::ValueRef<'_>) -> bool {
    let want = num_bigint::BigInt::from_bytes_le(num_bigint::Sign::Plus, &LEGACY_MAGIC_LE);
    v.as_bigint().is_some_and(|b| *b == want)
}

/// True if `head` begins with a legacy checkpoint: its first pickle is the
/// magic number, at whatever protocol `torch.save(pickle_protocol=...)`
/// wrote it (`L1195...L` at 1, `LONG1` at 2 and 3, framed at 4 and 5).
/// 64 bytes of head suffice.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) fn starts_legacy(head: &[u8]) -> bool {
    let mut u = crate::Unpickler::from_slice(head, crate::LoadOptions::default());
    u.load().is_ok_and(|d| is_legacy_magic(d.root()))
}

/// A tensor element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum DType {
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    Bool,
    Complex64,
    Complex128,
    /// `torch.complex32` (`chalf`): two float16 halves.
    Complex32,
    UInt16,
    UInt32,
    UInt64,
    Float8E4M3Fn,
    Float8E5M2,
    Float8E4M3FnUz,
    Float8E5M2FnUz,
    /// `torch.float8_e8m0fnu`: an 8-bit exponent (MX scales).
    Float8E8M0Fnu,
    /// `torch.float4_e2m1fn_x2`: two 4-bit floats packed in a byte.
    Float4E2M1FnX2,
    /// `torch.bcomplex32`: two bfloat16 halves.
    BComplex32,
    /// `torch.bits8`, `bits16`, `bits1x8`, `bits2x4`, `bits4x2`: raw bits
    /// of 1 or 2 bytes, with no arithmetic.
    Bits8,
    Bits16,
    Bits1x8,
    Bits2x4,
    Bits4x2,
    /// Quantized types: the stored integers (see `torch::Quantization`).
    QInt8,
    QUInt8,
    QInt32,
    /// Two 4-bit values packed in a byte.
    QUInt4x2,
    /// Four 2-bit values packed in a byte.
    QUInt2x4,
}

/// Every dtype, with torch's name (`torch.<name>`, and what
/// `_rebuild_tensor_v3` is given), its size in bytes, and its storage
/// class when it has one (dtypes without one are saved in an
/// `UntypedStorage` with `_rebuild_tensor_v3`).
const DTYPES: [(DType, &str, usize, Option<&str>); 33] = [
    (DType::Float32, "float32", 4, Some("FloatStorage")),
    (DType::Float64, "float64", 8, Some("DoubleStorage")),
    (DType::Float16, "float16", 2, Some("HalfStorage")),
    (DType::BFloat16, "bfloat16", 2, Some("BFloat16Storage")),
    (DType::Int8, "int8", 1, Some("CharStorage")),
    (DType::Int16, "int16", 2, Some("ShortStorage")),
    (DType::Int32, "int32", 4, Some("IntStorage")),
    (DType::Int64, "int64", 8, Some("LongStorage")),
    (DType::UInt8, "uint8", 1, Some("ByteStorage")),
    (DType::Bool, "bool", 1, Some("BoolStorage")),
    (
        DType::Complex64,
        "complex64",
        8,
        Some("ComplexFloatStorage"),
    ),
    (
        DType::Complex128,
        "complex128",
        16,
        Some("ComplexDoubleStorage"),
    ),
    (DType::Complex32, "complex32", 4, None),
    (DType::UInt16, "uint16", 2, None),
    (DType::UInt32, "uint32", 4, None),
    (DType::UInt64, "uint64", 8, None),
    (DType::Float8E4M3Fn, "float8_e4m3fn", 1, None),
    (DType::Float8E5M2, "float8_e5m2", 1, None),
    (DType::Float8E4M3FnUz, "float8_e4m3fnuz", 1, None),
    (DType::Float8E5M2FnUz, "float8_e5m2fnuz", 1, None),
    (DType::Float8E8M0Fnu, "float8_e8m0fnu", 1, None),
    (DType::Float4E2M1FnX2, "float4_e2m1fn_x2", 1, None),
    (DType::BComplex32, "bcomplex32", 4, None),
    (DType::Bits8, "bits8", 1, None),
    (DType::Bits16, "bits16", 2, None),
    (DType::Bits1x8, "bits1x8", 1, None),
    (DType::Bits2x4, "bits2x4", 1, None),
    (DType::Bits4x2, "bits4x2", 1, None),
    (DType::QInt8, "qint8", 1, Some("QInt8Storage")),
    (DType::QUInt8, "quint8", 1, Some("QUInt8Storage")),
    (DType::QInt32, "qint32", 4, Some("QInt32Storage")),
    (DType::QUInt4x2, "quint4x2", 1, Some("QUInt4x2Storage")),
    (DType::QUInt2x4, "quint2x4", 1, Some("QUInt2x4Storage")),
];

/// The storage class of bytes: its tensors' dtype is given apart
/// (`_rebuild_tensor_v3`), and its size counts bytes.
pub(crate) const UNTYPED_STORAGE: &str = "UntypedStorage";

fn row(d: DType) -> &'static (DType, &'static str, usize, Option<&'static str>) {
    DTYPES
        .iter()
        .find(|r| r.0 == d)
        .expect("every dtype has a row")
}

/// Bytes per element of a storage class, by its name with or without its
/// module (`"FloatStorage"`, `"torch.FloatStorage"`); `None` for a name
/// that is not a storage class torch has.
pub(crate) fn storage_itemsize(class: &str) -> Option<u64> {
    let name = class.rsplit('.').next()?;
    match DType::from_storage(name) {
        Some(d) => Some(d.itemsize() as u64),
        None => (name == UNTYPED_STORAGE).then_some(1),
    }
}

impl DType {
    /// torch's name: `"float32"`, `"bfloat16"`, ...
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub fn name(self) -> &'static str {
        row(self).1
    }

    /// The dtype named `torch.<name>` (`"float32"`, `"complex32"`), as
    /// `_rebuild_tensor_v3` is given it.
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub fn from_name(name: &str) -> Option<DType> {
        DTYPES.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// Bytes per element (a byte for the packed quantized types).
    pub fn itemsize(self) -> usize {
        row(self).2
    }

    /// The storage class (`"FloatStorage"`, module `torch`) a tensor of
    /// this dtype is saved in; `None` for the dtypes saved in an
    /// `UntypedStorage` with `_rebuild_tensor_v3`.
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub(crate) fn storage_class(self) -> Option<&'static str> {
        row(self).3
    }

    /// The dtype of a storage class name (`"FloatStorage"`).
    pub fn from_storage(name: &str) -> Option<DType> {
        DTYPES.iter().find(|r| r.3 == Some(name)).map(|r| r.0)
    }

    /// True for the quantized types.
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub fn is_quantized(self) -> bool {
        matches!(
            self,
            DType::QInt8 | DType::QUInt8 | DType::QInt32 | DType::QUInt4x2 | DType::QUInt2x4
        )
    }

    /// The numpy dtype with the same element layout (little-endian); none
    /// for the types numpy lacks (bfloat16, complex32, float8) and the
    /// packed quantized ones; a quantized type's stored integers otherwise.
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub fn numpy(self) -> Option<crate::ml::numpy::DType> {
        let s = match self {
            DType::Float32 => "<f4",
            DType::Float64 => "<f8",
            DType::Float16 => "<f2",
            DType::BFloat16 => return None,
            DType::Int8 => "|i1",
            DType::Int16 => "<i2",
            DType::Int32 => "<i4",
            DType::Int64 => "<i8",
            DType::UInt8 => "|u1",
            DType::Bool => "|b1",
            DType::Complex64 => "<c8",
            DType::Complex128 => "<c16",
            DType::UInt16 => "<u2",
            DType::UInt32 => "<u4",
            DType::UInt64 => "<u8",
            DType::QInt8 => "|i1",
            DType::QUInt8 => "|u1",
            DType::QInt32 => "<i4",
            DType::Complex32
            | DType::BComplex32
            | DType::Float8E4M3Fn
            | DType::Float8E5M2
            | DType::Float8E4M3FnUz
            | DType::Float8E5M2FnUz
            | DType::Float8E8M0Fnu
            | DType::Float4E2M1FnX2
            | DType::Bits8
            | DType::Bits16
            | DType::Bits1x8
            | DType::Bits2x4
            | DType::Bits4x2
            | DType::QUInt4x2
            | DType::QUInt2x4 => return None,
        };
        crate::ml::numpy::DType::parse(s).ok()
    }

    /// The unit whose bytes swap with the byte order (complex: each half).
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub(crate) fn swap_unit(self) -> usize {
        match self {
            DType::Complex32 | DType::BComplex32 => 2,
            DType::Complex64 => 4,
            DType::Complex128 => 8,
            d => d.itemsize(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_storage_class_has_one_size() {
        assert_eq!(storage_itemsize("torch.FloatStorage"), Some(4));
        assert_eq!(storage_itemsize("BFloat16Storage"), Some(2));
        assert_eq!(storage_itemsize("torch.ComplexDoubleStorage"), Some(16));
        assert_eq!(storage_itemsize("torch.QInt32Storage"), Some(4));
        assert_eq!(storage_itemsize("torch.storage.UntypedStorage"), Some(1));
        assert_eq!(storage_itemsize("torch.TypedStorage"), None);
        for &(d, name, size, storage) in &DTYPES {
            assert_eq!(DType::from_name(name), Some(d));
            assert_eq!(d.itemsize(), size);
            if let Some(s) = storage {
                assert_eq!(DType::from_storage(s), Some(d));
            }
            assert!(d.swap_unit() >= 1 && d.itemsize() % d.swap_unit() == 0);
        }
        assert_eq!(storage_itemsize("FloatTensor"), None);
        assert_eq!(DType::from_storage(UNTYPED_STORAGE), None);
    }
}
