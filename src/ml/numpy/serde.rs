//! serde: reading an [`NdArray`] as a field of a `#[derive(Deserialize)]`
//! struct.

use std::borrow::Cow;

use super::array::{ArrayData, NdArray};

/// Reads an array inside any `#[derive(Deserialize)]` struct loaded by this
/// crate ([`crate::from_slice`], [`crate::from_document`], ...): the field's
/// value must be a pickled numpy array (`coef_: NdArray<'static>`). Other
/// serde formats may give it the bytes of a pickle holding the array.
impl<'de> ::serde::Deserialize<'de> for NdArray<'static> {
    fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> ::serde::de::Visitor<'de> for V {
            type Value = NdArray<'static>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a pickled numpy array")
            }
            fn visit_bytes<E: ::serde::de::Error>(
                self,
                b: &[u8],
            ) -> std::result::Result<Self::Value, E> {
                let doc = crate::loads(b).map_err(E::custom)?;
                let arr = NdArray::from_value(doc.root()).map_err(E::custom)?;
                // Object arrays keep their items' document: move it in.
                Ok(match arr.data {
                    ArrayData::Objects { items, .. } => NdArray {
                        dtype: arr.dtype,
                        shape: arr.shape,
                        order: arr.order,
                        class: arr.class,
                        data: ArrayData::Objects {
                            doc: Cow::Owned(doc.clone()),
                            items,
                        },
                    },
                    ArrayData::Bytes(b) => NdArray {
                        dtype: arr.dtype,
                        shape: arr.shape,
                        order: arr.order,
                        class: arr.class,
                        data: ArrayData::Bytes(Cow::Owned(b.into_owned())),
                    },
                })
            }
            fn visit_newtype_struct<D: ::serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Self::Value, D::Error> {
                d.deserialize_bytes(self)
            }
        }
        // This crate's deserializers answer the token with the value as a
        // standalone pickle (`visit_bytes` above).
        d.deserialize_newtype_struct(crate::python::types::SUBVALUE_TOKEN, V)
    }
}
