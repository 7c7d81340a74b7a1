//! The safetensors layout (Hugging Face's format for tensors, which holds
//! no pickle): an 8-byte little-endian header length, a JSON header of that
//! many bytes naming every tensor's dtype, shape and data offsets, then the
//! data. Shared by `torch::safetensors` (which checks and writes headers
//! with the `safetensors` crate) and the scanner (which must tell such a
//! file from a pickle stream without that feature).

/// The largest header the format allows (the `safetensors` crate's
/// `MAX_HEADER_SIZE`: its reader, and so Python's, refuses larger ones).
pub const MAX_HEADER: u64 = 100_000_000;

/// True if the bytes begin a safetensors file: an 8-byte little-endian
/// header length within the format's limit, then a header starting `{`.
/// 9 bytes of head suffice.
pub fn is_header(head: &[u8]) -> bool {
    let Some(n) = head.get(..8) else {
        return false;
    };
    let n = u64::from_le_bytes(n.try_into().expect("8 bytes"));
    (2..=MAX_HEADER).contains(&n) && head.get(8) == Some(&b'{')
}
