//! Whether a short byte string is valid UTF-8, decided by a shift-based
//! automaton: one table load and one shift a byte, and the load does not
//! wait on the state, so the bytes are checked at about a cycle each.
//! std's check goes byte by byte through branches below 16 bytes (some 10
//! instructions a byte on non-ASCII text); the loader uses this one for the
//! strs it keeps inline ([`super::ShortStr`]), where a `&str` is not needed
//! yet. It accepts exactly what `std::str::from_utf8` accepts (the tests
//! compare them on every sequence of one or two bytes, on every lead byte
//! followed by every second byte and chosen third and fourth bytes, and on
//! mutations and cuts of mixed text).
//!
//! Each state is a bit offset into a 64-bit row; the row of a byte holds, at
//! each state's offset, the state that byte leads to.

/// `std::str::from_utf8`, with the check done by simdutf8 (SIMD: tens of
/// bytes a cycle on non-ASCII text, where std's goes about a byte a cycle
/// and took 46% of loading 100,000 strings of 240 bytes, `"%06d·%s" % (i,
/// "ä€漢" * 30)`). Its fast check gives no position, so on an error std's
/// runs again for one: an error costs two passes, valid text one.
#[inline]
pub(crate) fn from_utf8(b: &[u8]) -> Result<&str, std::str::Utf8Error> {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(_) => std::str::from_utf8(b),
    }
}

/// The states, as bit offsets (6 bits each).
const ACCEPT: u32 = 0;
const REJECT: u32 = 6;
/// One, two or three continuation bytes (`80..=BF`) to come.
const MORE1: u32 = 12;
const MORE2: u32 = 18;
const MORE3: u32 = 24;
/// After `E0` (next `A0..=BF`: no overlong), `ED` (next `80..=9F`: no
/// surrogate), `F0` (next `90..=BF`: no overlong), `F4` (next `80..=8F`: not
/// beyond U+10FFFF).
const AFTER_E0: u32 = 30;
const AFTER_ED: u32 = 36;
const AFTER_F0: u32 = 42;
const AFTER_F4: u32 = 48;

const STATES: [u32; 9] = [
    ACCEPT, REJECT, MORE1, MORE2, MORE3, AFTER_E0, AFTER_ED, AFTER_F0, AFTER_F4,
];

/// The state byte `b` leads to from `state`.
const fn next(state: u32, b: u8) -> u32 {
    let cont = matches!(b, 0x80..=0xbf);
    match state {
        ACCEPT => match b {
            0x00..=0x7f => ACCEPT,
            0xc2..=0xdf => MORE1,
            0xe0 => AFTER_E0,
            0xed => AFTER_ED,
            0xe1..=0xef => MORE2,
            0xf0 => AFTER_F0,
            0xf4 => AFTER_F4,
            0xf1..=0xf3 => MORE3,
            _ => REJECT,
        },
        MORE1 if cont => ACCEPT,
        MORE2 if cont => MORE1,
        MORE3 if cont => MORE2,
        AFTER_E0 if matches!(b, 0xa0..=0xbf) => MORE1,
        AFTER_ED if matches!(b, 0x80..=0x9f) => MORE1,
        AFTER_F0 if matches!(b, 0x90..=0xbf) => MORE2,
        AFTER_F4 if matches!(b, 0x80..=0x8f) => MORE2,
        _ => REJECT,
    }
}

/// `ROWS[b]`: for every state `s`, `next(s, b)` at bits `s..s + 6`.
static ROWS: [u64; 256] = {
    let mut rows = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < STATES.len() {
            rows[b] |= (next(STATES[i], b as u8) as u64) << STATES[i];
            i += 1;
        }
        b += 1;
    }
    rows
};

/// True if `b` is valid UTF-8 (meant for short strings: it does not skip
/// ASCII words, the caller tests those first).
#[inline]
pub(crate) fn is_utf8(b: &[u8]) -> bool {
    let mut state = ACCEPT as u64;
    for &byte in b {
        state = (ROWS[byte as usize] >> state) & 63;
    }
    state == ACCEPT as u64
}

#[cfg(test)]
mod tests {
    use super::is_utf8;

    #[test]
    fn agrees_with_std_on_every_short_sequence() {
        for a in 0..=255u8 {
            assert_eq!(is_utf8(&[a]), std::str::from_utf8(&[a]).is_ok(), "{a:02x}");
            for b in 0..=255u8 {
                let s = [a, b];
                assert_eq!(is_utf8(&s), std::str::from_utf8(&s).is_ok(), "{s:02x?}");
                // Three-byte sequences from the lead bytes that start one, and
                // every lead followed by every pair of its interesting bytes.
                if a >= 0xc0 {
                    for c in [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff] {
                        let s = [a, b, c];
                        assert_eq!(is_utf8(&s), std::str::from_utf8(&s).is_ok(), "{s:02x?}");
                        for d in [0x41, 0x80, 0xbf, 0xc0] {
                            let s = [a, b, c, d];
                            assert_eq!(is_utf8(&s), std::str::from_utf8(&s).is_ok(), "{s:02x?}");
                        }
                    }
                }
            }
        }
        assert!(is_utf8(b""));
    }

    #[test]
    fn agrees_with_std_on_text_and_its_mutations() {
        let texts = [
            "é1ж漢字🙂7",
            "user123",
            "\u{10ffff}\u{7ff}\u{800}\u{ffff}\u{10000}",
            "ab\u{d7ff}\u{e000}",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for t in texts {
            let b = t.as_bytes();
            assert!(is_utf8(b));
            for _ in 0..20_000 {
                let mut m = b.to_vec();
                let r = rand();
                let i = (r as usize) % m.len();
                m[i] = (r >> 32) as u8;
                let cut = (r >> 48) as usize % (m.len() + 1);
                for s in [&m[..], &m[..cut]] {
                    assert_eq!(is_utf8(s), std::str::from_utf8(s).is_ok(), "{s:02x?}");
                }
            }
        }
    }
}
