//! CPython's text codecs, for Python 2 strings (`pickle.load(encoding=...)`).
//!
//! A name is looked up as `codecs.lookup` does: lowercased, every run of
//! characters other than ASCII letters, digits and `.` made one `_`, then
//! `encodings.aliases`, then a module of `encodings` by that name.
//!
//! The decoding tables are encoding_rs's (the WHATWG Encoding Standard's),
//! taken only for the codecs whose WHATWG decoder agrees with CPython's,
//! corrected byte by byte where the tables differ (`tests/codecs.rs` decodes
//! every byte of each single-byte codec, every one- and two-byte sequence of
//! the multi-byte ones and a sample of longer ones with CPython and with this
//! module, and compares the text and the errors' positions):
//!
//! * the windows code pages: WHATWG decodes the bytes Microsoft left
//!   undefined in 0x80–0x9F (cp1252's 0x81, 0x8D, 0x8F, 0x90, 0x9D, ...) to
//!   the C1 control of the same number; CPython refuses them, and cp1255's
//!   0xCA too;
//! * WHATWG's ISO-8859-9 and ISO-8859-11 are windows-1254 and windows-874,
//!   whose 0x80–0x9F CPython's iso8859_9, iso8859_11 and tis_620 decode as
//!   C1 controls (tis_620 has no 0xA0);
//! * WHATWG's KOI8-U is KOI8-RU: 0xAE and 0xBE are Ў ў there, ╝ ╬ in CPython;
//! * WHATWG's Shift_JIS is cp932 less the four single bytes CPython maps to
//!   U+F8F0–U+F8F3 (0xA0, 0xFD–0xFF);
//! * WHATWG's gb18030 has the 2005/2022 mappings of 21 sequences that
//!   CPython's (GB 18030-2000) maps to the private use area, and decodes
//!   0x80 as the euro sign, which CPython refuses; CPython's gbk is the
//!   two-byte half of its gb18030 less the private use area and a few rows
//!   (A2E3, A8BF, A989–A995, FE50–FE9F);
//! * the multi-byte decoders recover from an error as CPython's do: one byte
//!   is refused and decoding resumes at the next, and a sequence cut short by
//!   the end of the input is one error to the end.
//!
//! The codecs whose WHATWG decoder differs more (big5 and big5hkscs,
//! shift_jis, euc_jp, euc_kr, gb2312, the iso2022 family, hz, ...) and those
//! without one (cp437, mac_greek, utf_32, ...) are refused by name. UTF-16
//! and utf-8-sig are written here: they are short, and their error positions
//! must be CPython's.

use std::sync::OnceLock;

use super::codec_names::{ALIASES, MODULES};

/// A codec this crate decodes exactly as CPython does, other than ascii,
/// latin-1 and utf-8 (which the unpickler handles itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Id {
    Single(usize),
    Cp932,
    Cp949,
    Gb18030,
    Gbk,
    Utf16,
    Utf16Le,
    Utf16Be,
    Utf8Sig,
}

/// How a single-byte codec's 0x80–0x9F differ from its WHATWG table.
#[derive(Clone, Copy)]
enum C1 {
    /// As WHATWG.
    Keep,
    /// The bytes WHATWG decodes to the C1 control of the same number are undefined.
    Undefined,
    /// All of 0x80–0x9F are the C1 controls.
    Controls,
}

struct Single {
    module: &'static str,
    c1: C1,
    fixes: &'static [(u8, Option<char>)],
}

/// The single-byte codecs, by CPython module; `whatwg` gives each its table.
const SINGLE: &[Single] = &[
    single("cp866", C1::Keep, &[]),
    single("cp874", C1::Undefined, &[]),
    single("cp1250", C1::Undefined, &[]),
    single("cp1251", C1::Undefined, &[]),
    single("cp1252", C1::Undefined, &[]),
    single("cp1253", C1::Undefined, &[]),
    single("cp1254", C1::Undefined, &[]),
    single("cp1255", C1::Undefined, &[(0xCA, None)]),
    single("cp1256", C1::Undefined, &[]),
    single("cp1257", C1::Undefined, &[]),
    single("cp1258", C1::Undefined, &[]),
    single("iso8859_2", C1::Keep, &[]),
    single("iso8859_3", C1::Keep, &[]),
    single("iso8859_4", C1::Keep, &[]),
    single("iso8859_5", C1::Keep, &[]),
    single("iso8859_6", C1::Keep, &[]),
    single("iso8859_7", C1::Keep, &[]),
    single("iso8859_8", C1::Keep, &[]),
    single("iso8859_9", C1::Controls, &[]),
    single("iso8859_10", C1::Keep, &[]),
    single("iso8859_11", C1::Controls, &[]),
    single("iso8859_13", C1::Keep, &[]),
    single("iso8859_14", C1::Keep, &[]),
    single("iso8859_15", C1::Keep, &[]),
    single("iso8859_16", C1::Keep, &[]),
    single("koi8_r", C1::Keep, &[]),
    single(
        "koi8_u",
        C1::Keep,
        &[(0xAE, Some('\u{255D}')), (0xBE, Some('\u{256C}'))],
    ),
    single("mac_cyrillic", C1::Keep, &[]),
    single("mac_roman", C1::Keep, &[]),
    single("tis_620", C1::Controls, &[(0xA0, None)]),
];

const fn single(module: &'static str, c1: C1, fixes: &'static [(u8, Option<char>)]) -> Single {
    Single { module, c1, fixes }
}

/// The WHATWG encoding whose table a single-byte codec starts from.
fn whatwg(module: &str) -> &'static encoding_rs::Encoding {
    use encoding_rs as e;
    match module {
        "cp866" => e::IBM866,
        "cp874" | "iso8859_11" | "tis_620" => e::WINDOWS_874,
        "cp1250" => e::WINDOWS_1250,
        "cp1251" => e::WINDOWS_1251,
        "cp1252" => e::WINDOWS_1252,
        "cp1253" => e::WINDOWS_1253,
        "cp1254" | "iso8859_9" => e::WINDOWS_1254,
        "cp1255" => e::WINDOWS_1255,
        "cp1256" => e::WINDOWS_1256,
        "cp1257" => e::WINDOWS_1257,
        "cp1258" => e::WINDOWS_1258,
        "iso8859_2" => e::ISO_8859_2,
        "iso8859_3" => e::ISO_8859_3,
        "iso8859_4" => e::ISO_8859_4,
        "iso8859_5" => e::ISO_8859_5,
        "iso8859_6" => e::ISO_8859_6,
        "iso8859_7" => e::ISO_8859_7,
        "iso8859_8" => e::ISO_8859_8,
        "iso8859_10" => e::ISO_8859_10,
        "iso8859_13" => e::ISO_8859_13,
        "iso8859_14" => e::ISO_8859_14,
        "iso8859_15" => e::ISO_8859_15,
        "iso8859_16" => e::ISO_8859_16,
        "koi8_r" => e::KOI8_R,
        "koi8_u" => e::KOI8_U,
        "mac_cyrillic" => e::X_MAC_CYRILLIC,
        "mac_roman" => e::MACINTOSH,
        _ => unreachable!("no WHATWG table for {module}"),
    }
}

/// What a name is to CPython.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Ascii,
    Latin1,
    Utf8,
    Codec(Id),
    /// A text codec this crate does not decode: its `codecs.lookup` name.
    Unsupported(&'static str),
    /// A codec that does not decode bytes to str (base64, zlib, rot13, ...).
    NotText(&'static str),
    Unknown,
}

/// `codecs.lookup`'s normalization: ASCII lowercase, every run of other
/// characters than ASCII letters, digits and `.` one `_` (none at the ends).
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut punct = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if punct && !out.is_empty() {
                out.push('_');
            }
            punct = false;
            out.push(c.to_ascii_lowercase());
        } else {
            punct = true;
        }
    }
    out
}

/// The codec CPython finds for `name`.
pub(crate) fn lookup(name: &str) -> Lookup {
    let norm = normalize(name);
    let alias = |n: &str| {
        ALIASES
            .binary_search_by(|(a, _)| (*a).cmp(n))
            .ok()
            .map(|i| ALIASES[i].1)
    };
    let candidates = [
        alias(&norm).or_else(|| alias(&norm.replace('.', "_"))),
        Some(&*norm),
    ];
    for module in candidates.into_iter().flatten() {
        if module.is_empty() || module.contains('.') {
            continue;
        }
        let Ok(i) = MODULES.binary_search_by(|(m, _, _)| (*m).cmp(module)) else {
            continue;
        };
        let (module, name, text) = MODULES[i];
        if !text {
            return Lookup::NotText(name);
        }
        return match module {
            "ascii" => Lookup::Ascii,
            "latin_1" => Lookup::Latin1,
            "utf_8" => Lookup::Utf8,
            "cp932" => Lookup::Codec(Id::Cp932),
            "cp949" => Lookup::Codec(Id::Cp949),
            "gb18030" => Lookup::Codec(Id::Gb18030),
            "gbk" => Lookup::Codec(Id::Gbk),
            "utf_16" => Lookup::Codec(Id::Utf16),
            "utf_16_le" => Lookup::Codec(Id::Utf16Le),
            "utf_16_be" => Lookup::Codec(Id::Utf16Be),
            "utf_8_sig" => Lookup::Codec(Id::Utf8Sig),
            m => match SINGLE.iter().position(|s| s.module == m) {
                Some(i) => Lookup::Codec(Id::Single(i)),
                None => Lookup::Unsupported(name),
            },
        };
    }
    Lookup::Unknown
}

impl Id {
    /// CPython's name of the codec (`codecs.lookup(...).name`).
    pub(crate) fn name(self) -> &'static str {
        let module = match self {
            Id::Single(i) => SINGLE[i].module,
            Id::Cp932 => "cp932",
            Id::Cp949 => "cp949",
            Id::Gb18030 => "gb18030",
            Id::Gbk => "gbk",
            Id::Utf16 => "utf_16",
            Id::Utf16Le => "utf_16_le",
            Id::Utf16Be => "utf_16_be",
            Id::Utf8Sig => "utf_8_sig",
        };
        MODULES
            .binary_search_by(|(m, _, _)| (*m).cmp(module))
            .map_or(module, |i| MODULES[i].1)
    }
}

/// The codecs [`lookup`] decodes, in words, for error messages.
pub(crate) const SUPPORTED: &str = "ascii, latin-1, utf-8, utf-8-sig, utf-16, utf-16-le, \
utf-16-be, cp866, cp874, cp932, cp949, cp1250 to cp1258, gb18030, gbk, iso8859-2 to \
iso8859-11, iso8859-13 to iso8859-16, koi8-r, koi8-u, mac-cyrillic, mac-roman, tis-620 \
(and their aliases), or bytes";

/// What to do with bytes a codec cannot decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Strict,
    Replace,
    Ignore,
}

/// The first undecodable bytes under [`Mode::Strict`], as CPython's
/// `UnicodeDecodeError`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Undecodable {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) reason: &'static str,
}

/// Decode `bytes` with `id` as CPython does with `mode`.
pub(crate) fn decode(id: Id, bytes: &[u8], mode: Mode) -> Result<String, Undecodable> {
    let mut out = String::with_capacity(bytes.len());
    let step: fn(&[u8], usize) -> Step = match id {
        Id::Single(i) => {
            let table = single_table(i);
            for (p, &b) in bytes.iter().enumerate() {
                match table[b as usize] {
                    Some(c) => out.push(c),
                    None => on_error(&mut out, mode, p, p + 1, "character maps to <undefined>")?,
                }
            }
            return Ok(out);
        }
        Id::Utf8Sig => {
            // CPython decodes what follows the BOM, positions included.
            let rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            return decode_utf8(rest, mode);
        }
        Id::Utf16 => {
            // The BOM says the order; without one, little-endian (CPython
            // takes the machine's order, little on every platform it is
            // commonly run on).
            return match bytes {
                [0xFE, 0xFF, ..] => run(&bytes[2..], mode, utf16_be).map_err(|e| e.shift(2)),
                [0xFF, 0xFE, ..] => run(&bytes[2..], mode, utf16_le).map_err(|e| e.shift(2)),
                _ => run(bytes, mode, utf16_le),
            };
        }
        Id::Utf16Le => utf16_le,
        Id::Utf16Be => utf16_be,
        Id::Cp932 => cp932,
        Id::Cp949 => cp949,
        Id::Gb18030 => gb18030,
        Id::Gbk => gbk,
    };
    run(bytes, mode, step)
}

impl Undecodable {
    fn shift(self, by: usize) -> Undecodable {
        Undecodable {
            start: self.start + by,
            end: self.end + by,
            reason: self.reason,
        }
    }
}

fn on_error(
    out: &mut String,
    mode: Mode,
    start: usize,
    end: usize,
    reason: &'static str,
) -> Result<(), Undecodable> {
    match mode {
        Mode::Strict => Err(Undecodable { start, end, reason }),
        Mode::Replace => {
            out.push('\u{FFFD}');
            Ok(())
        }
        Mode::Ignore => Ok(()),
    }
}

/// UTF-8 as CPython decodes it: an error is a maximal subpart (as std's
/// `from_utf8_lossy` replaces).
pub(crate) fn decode_utf8(bytes: &[u8], mode: Mode) -> Result<String, Undecodable> {
    let mut out = String::with_capacity(bytes.len());
    let mut p = 0;
    while p < bytes.len() {
        match std::str::from_utf8(&bytes[p..]) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.push_str(std::str::from_utf8(&bytes[p..p + good]).unwrap_or_default());
                let start = p + good;
                let (end, reason) = match e.error_len() {
                    None => (bytes.len(), "unexpected end of data"),
                    Some(n) => {
                        let lead = bytes[start];
                        let reason = if n == 1 && !(0xC2..=0xF4).contains(&lead) {
                            "invalid start byte"
                        } else {
                            "invalid continuation byte"
                        };
                        (start + n, reason)
                    }
                };
                on_error(&mut out, mode, start, end, reason)?;
                p = end;
            }
        }
    }
    Ok(out)
}

/// One step of a multi-byte decoder at a position.
enum Step {
    /// A character and the bytes it took.
    Char(char, usize),
    /// An error of `len` bytes, decoding resumes after it.
    Error(usize, &'static str),
    /// The input ends inside a sequence: one error to the end.
    Incomplete(&'static str),
}

fn run(bytes: &[u8], mode: Mode, step: fn(&[u8], usize) -> Step) -> Result<String, Undecodable> {
    let mut out = String::with_capacity(bytes.len());
    let mut p = 0;
    while p < bytes.len() {
        match step(bytes, p) {
            Step::Char(c, n) => {
                out.push(c);
                p += n;
            }
            Step::Error(n, reason) => {
                on_error(&mut out, mode, p, p + n, reason)?;
                p += n;
            }
            Step::Incomplete(reason) => {
                on_error(&mut out, mode, p, bytes.len(), reason)?;
                break;
            }
        }
    }
    Ok(out)
}

const ILLEGAL: &str = "illegal multibyte sequence";
const INCOMPLETE: &str = "incomplete multibyte sequence";

/// The one character encoding_rs decodes `seq` to, strictly.
fn whole(enc: &'static encoding_rs::Encoding, seq: &[u8]) -> Option<char> {
    let text = enc.decode_without_bom_handling_and_without_replacement(seq)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// CPython's cp932: single bytes up to 0x80, 0xA0–0xDF and 0xFD–0xFF, the
/// rest a lead byte of two.
fn cp932(b: &[u8], p: usize) -> Step {
    let c = b[p];
    match c {
        0x00..=0x80 => Step::Char(c as char, 1),
        0xA0 => Step::Char('\u{F8F0}', 1),
        0xFD..=0xFF => Step::Char(
            char::from_u32(0xF8F1 + u32::from(c - 0xFD)).unwrap_or('\u{FFFD}'),
            1,
        ),
        0xA1..=0xDF => Step::Char(
            char::from_u32(0xFEC0 + u32::from(c)).unwrap_or('\u{FFFD}'),
            1,
        ),
        _ if p + 2 > b.len() => Step::Incomplete(INCOMPLETE),
        _ => match whole(encoding_rs::SHIFT_JIS, &b[p..p + 2]) {
            Some(ch) => Step::Char(ch, 2),
            None => Step::Error(1, ILLEGAL),
        },
    }
}

/// CPython's cp949 (Unified Hangul Code): every byte from 0x80 leads two.
fn cp949(b: &[u8], p: usize) -> Step {
    let c = b[p];
    if c < 0x80 {
        return Step::Char(c as char, 1);
    }
    if p + 2 > b.len() {
        return Step::Incomplete(INCOMPLETE);
    }
    match whole(encoding_rs::EUC_KR, &b[p..p + 2]) {
        Some(ch) => Step::Char(ch, 2),
        None => Step::Error(1, ILLEGAL),
    }
}

/// The two-byte sequences CPython's gb18030 (GB 18030-2000) maps to the
/// private use area where WHATWG's table has the later standards' characters.
const GB18030_PUA: &[([u8; 2], char)] = &[
    ([0xA3, 0xA0], '\u{E5E5}'),
    ([0xA6, 0xD9], '\u{E78D}'),
    ([0xA6, 0xDA], '\u{E78E}'),
    ([0xA6, 0xDB], '\u{E78F}'),
    ([0xA6, 0xDC], '\u{E790}'),
    ([0xA6, 0xDD], '\u{E791}'),
    ([0xA6, 0xDE], '\u{E792}'),
    ([0xA6, 0xDF], '\u{E793}'),
    ([0xA6, 0xEC], '\u{E794}'),
    ([0xA6, 0xED], '\u{E795}'),
    ([0xA6, 0xF3], '\u{E796}'),
    ([0xA8, 0xBC], '\u{E7C7}'),
    ([0xFE, 0x59], '\u{E81E}'),
    ([0xFE, 0x61], '\u{E826}'),
    ([0xFE, 0x66], '\u{E82B}'),
    ([0xFE, 0x67], '\u{E82C}'),
    ([0xFE, 0x6D], '\u{E832}'),
    ([0xFE, 0x7E], '\u{E843}'),
    ([0xFE, 0x90], '\u{E854}'),
    ([0xFE, 0xA0], '\u{E864}'),
];

/// CPython's gb18030 two-byte form (the one gbk shares).
fn gb_two(b: &[u8], p: usize) -> Step {
    let (c, c2) = (b[p], b[p + 1]);
    if c == 0x80 || c == 0xFF {
        return Step::Error(1, ILLEGAL);
    }
    if let Some((_, ch)) = GB18030_PUA.iter().find(|(s, _)| *s == [c, c2]) {
        return Step::Char(*ch, 2);
    }
    match whole(encoding_rs::GB18030, &b[p..p + 2]) {
        Some(ch) => Step::Char(ch, 2),
        None => Step::Error(1, ILLEGAL),
    }
}

fn gb18030(b: &[u8], p: usize) -> Step {
    let c = b[p];
    if c < 0x80 {
        return Step::Char(c as char, 1);
    }
    if p + 2 > b.len() {
        return Step::Incomplete(INCOMPLETE);
    }
    if !(0x30..=0x39).contains(&b[p + 1]) {
        return gb_two(b, p);
    }
    if p + 4 > b.len() {
        return Step::Incomplete(INCOMPLETE);
    }
    let seq = &b[p..p + 4];
    if !(0x81..=0xFE).contains(&c)
        || !(0x81..=0xFE).contains(&seq[2])
        || !(0x30..=0x39).contains(&seq[3])
    {
        return Step::Error(1, ILLEGAL);
    }
    // U+1E3F: WHATWG moved it to A8BC (which CPython has in the private use area).
    if seq == [0x81, 0x35, 0xF4, 0x37] {
        return Step::Char('\u{1E3F}', 4);
    }
    match whole(encoding_rs::GB18030, seq) {
        Some(ch) => Step::Char(ch, 4),
        None => Step::Error(1, ILLEGAL),
    }
}

/// CPython's gbk: gb18030's two-byte form less the private use area and the
/// rows GBK never had.
fn gbk(b: &[u8], p: usize) -> Step {
    let c = b[p];
    if c < 0x80 {
        return Step::Char(c as char, 1);
    }
    if p + 2 > b.len() {
        return Step::Incomplete(INCOMPLETE);
    }
    let pair = u16::from_be_bytes([c, b[p + 1]]);
    if matches!(pair, 0xA2E3 | 0xA8BF | 0xA989..=0xA995 | 0xFE50..=0xFE9F) {
        return Step::Error(1, ILLEGAL);
    }
    match gb_two(b, p) {
        Step::Char(ch, _) if ('\u{E000}'..='\u{F8FF}').contains(&ch) => Step::Error(1, ILLEGAL),
        s => s,
    }
}

fn utf16_le(b: &[u8], p: usize) -> Step {
    utf16(b, p, u16::from_le_bytes)
}

fn utf16_be(b: &[u8], p: usize) -> Step {
    utf16(b, p, u16::from_be_bytes)
}

/// CPython's UTF-16 decoder: a lone byte at the end is "truncated data", a
/// high surrogate at the end "unexpected end of data" (both to the end), a
/// lone low surrogate "illegal encoding" and a high one not followed by a
/// low one "illegal UTF-16 surrogate" (both two bytes).
fn utf16(b: &[u8], p: usize, unit: fn([u8; 2]) -> u16) -> Step {
    if p + 2 > b.len() {
        return Step::Incomplete("truncated data");
    }
    let u = unit([b[p], b[p + 1]]);
    match u {
        0xD800..=0xDBFF => {
            if p + 4 > b.len() {
                return Step::Incomplete("unexpected end of data");
            }
            let low = unit([b[p + 2], b[p + 3]]);
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Step::Error(2, "illegal UTF-16 surrogate");
            }
            let cp = 0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            Step::Char(char::from_u32(cp).unwrap_or('\u{FFFD}'), 4)
        }
        0xDC00..=0xDFFF => Step::Error(2, "illegal encoding"),
        _ => Step::Char(char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'), 2),
    }
}

/// A single-byte codec's table: WHATWG's, corrected as [`SINGLE`] says.
fn single_table(i: usize) -> &'static [Option<char>; 256] {
    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: OnceLock<[Option<char>; 256]> = OnceLock::new();
    static TABLES: [OnceLock<[Option<char>; 256]>; SINGLE.len()] = [EMPTY; SINGLE.len()];
    TABLES[i].get_or_init(|| {
        let spec = &SINGLE[i];
        let enc = whatwg(spec.module);
        let mut table = [None; 256];
        for (b, slot) in table.iter_mut().enumerate() {
            let byte = b as u8;
            let mut c = whole(enc, &[byte]);
            if (0x80..=0x9F).contains(&byte) {
                match spec.c1 {
                    C1::Keep => {}
                    C1::Undefined => {
                        if c == Some(byte as char) {
                            c = None;
                        }
                    }
                    C1::Controls => c = Some(byte as char),
                }
            }
            if let Some((_, fixed)) = spec.fixes.iter().find(|(f, _)| *f == byte) {
                c = *fixed;
            }
            *slot = c;
        }
        table
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_as_codecs_lookup() {
        assert_eq!(normalize("KOI8-R"), "koi8_r");
        assert_eq!(normalize("  utf 8 "), "utf_8");
        assert_eq!(normalize("Latin--1"), "latin_1");
        assert_eq!(normalize("iso8859.1"), "iso8859.1");
        assert_eq!(lookup("koi8-r"), Lookup::Codec(Id::Single(25)));
        assert_eq!(lookup("KOI8_R"), lookup("koi8 r"));
        assert_eq!(lookup("Latin-1"), Lookup::Latin1);
        assert_eq!(lookup("ISO-8859-1"), Lookup::Latin1);
        assert_eq!(lookup("U8"), Lookup::Utf8);
        assert_eq!(lookup("big5"), Lookup::Unsupported("big5"));
        assert_eq!(lookup("base64"), Lookup::NotText("base64"));
        assert_eq!(lookup("no-such-codec"), Lookup::Unknown);
        assert_eq!(lookup("aliases"), Lookup::Unknown);
    }

    #[test]
    fn the_whatwg_tables_are_corrected() {
        let cp1252 = match lookup("cp1252") {
            Lookup::Codec(id) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            decode(cp1252, b"a\x81", Mode::Strict),
            Err(Undecodable {
                start: 1,
                end: 2,
                reason: "character maps to <undefined>"
            })
        );
        assert_eq!(
            decode(cp1252, b"\x80\x81", Mode::Replace).unwrap(),
            "\u{20AC}\u{FFFD}"
        );
        assert_eq!(
            decode(cp1252, b"\x80\x81", Mode::Ignore).unwrap(),
            "\u{20AC}"
        );
    }
}
