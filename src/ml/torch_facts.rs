//! What torch's storage classes are, for the torch loader ([`crate::torch`],
//! behind the `torch` feature) and the scanner (always built), which must
//! agree on them: the element type a storage class
//! (`torch.FloatStorage`, ...) holds, and its size in bytes, which is how
//! both find where a legacy file's raw storages end.
//!
//! The loader's [`DType`] covers the classes it reads;
//! [`storage_itemsize`] also knows those it does not (quantized and
//! untyped storages), whose bytes a checkpoint may still hold.

/// A tensor element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
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
}

/// Storage classes with no [`DType`] (the loader refuses their tensors),
/// with their element sizes: `torch.qint32`, `qint8`, `quint8`, the packed
/// `quint4x2` and `quint2x4` (a byte per element), and untyped storages
/// (bytes).
const OTHER_STORAGES: [(&str, u64); 6] = [
    ("QInt32Storage", 4),
    ("QInt8Storage", 1),
    ("QUInt8Storage", 1),
    ("QUInt4x2Storage", 1),
    ("QUInt2x4Storage", 1),
    ("UntypedStorage", 1),
];

/// Bytes per element of a storage class, by its name with or without its
/// module (`"FloatStorage"`, `"torch.FloatStorage"`); `None` for a name
/// that is not a storage class torch has.
pub(crate) fn storage_itemsize(class: &str) -> Option<u64> {
    let name = class.rsplit('.').next()?;
    match DType::from_storage(name) {
        Some(d) => Some(d.itemsize() as u64),
        None => OTHER_STORAGES
            .iter()
            .find(|&&(n, _)| n == name)
            .map(|&(_, size)| size),
    }
}

impl DType {
    /// torch's name: `"float32"`, `"bfloat16"`, ...
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Float16 => "float16",
            DType::BFloat16 => "bfloat16",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt8 => "uint8",
            DType::Bool => "bool",
            DType::Complex64 => "complex64",
            DType::Complex128 => "complex128",
        }
    }

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Int8 | DType::UInt8 | DType::Bool => 1,
            DType::Float16 | DType::BFloat16 | DType::Int16 => 2,
            DType::Float32 | DType::Int32 => 4,
            DType::Float64 | DType::Int64 | DType::Complex64 => 8,
            DType::Complex128 => 16,
        }
    }

    /// The dtype of a storage class name (`"FloatStorage"`).
    pub fn from_storage(name: &str) -> Option<DType> {
        Some(match name {
            "FloatStorage" => DType::Float32,
            "DoubleStorage" => DType::Float64,
            "HalfStorage" => DType::Float16,
            "BFloat16Storage" => DType::BFloat16,
            "CharStorage" => DType::Int8,
            "ShortStorage" => DType::Int16,
            "IntStorage" => DType::Int32,
            "LongStorage" => DType::Int64,
            "ByteStorage" => DType::UInt8,
            "BoolStorage" => DType::Bool,
            "ComplexFloatStorage" => DType::Complex64,
            "ComplexDoubleStorage" => DType::Complex128,
            _ => return None,
        })
    }

    /// The numpy dtype with the same element layout (little-endian); none for bfloat16.
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
        };
        crate::ml::numpy::DType::parse(s).ok()
    }

    /// The unit whose bytes swap with the byte order (complex: each half).
    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub(crate) fn swap_unit(self) -> usize {
        match self {
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
        assert_eq!(storage_itemsize("FloatTensor"), None);
        for (name, _) in OTHER_STORAGES {
            assert_eq!(DType::from_storage(name), None, "{name}");
        }
    }
}
