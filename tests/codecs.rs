//! Python 2 strings in every codec `Encoding::named` takes, against CPython:
//! every byte of each single-byte codec, one at a time and in one run;
//! every one- and two-byte sequence of each multi-byte codec (and each
//! two-byte one followed by `A`), gb18030's four-byte BMP range, and random
//! sequences; each decoded by CPython and by a load of a `SHORT_BINSTRING`
//! or `BINSTRING` pickle, with `errors` strict (the error's position),
//! replace and ignore. Also the names: every alias and module of CPython's
//! `encodings`, spelled as users spell them, finds the codec CPython finds,
//! or an error that says why not.

mod common;

use pickle_codec::{loads_with, Encoding, Errors, LoadOptions};

/// The codecs compared, by a name a user would give.
const SINGLE_BYTE: &[&str] = &[
    "ascii",
    "latin-1",
    "cp866",
    "cp874",
    "cp1250",
    "cp1251",
    "cp1252",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "iso8859-2",
    "iso8859-3",
    "iso8859-4",
    "iso8859-5",
    "iso8859-6",
    "iso8859-7",
    "iso8859-8",
    "iso8859-9",
    "iso8859-10",
    "iso8859-11",
    "iso8859-13",
    "iso8859-14",
    "iso8859-15",
    "iso8859-16",
    "koi8-r",
    "koi8-u",
    "mac-cyrillic",
    "mac-roman",
    "tis-620",
];

const MULTI_BYTE: &[&str] = &[
    "utf-8",
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "cp932",
    "cp949",
    "gb18030",
    "gbk",
];

/// Writes, for each codec and input: `codec input-hex` and then either
/// `= text-hex` (decodes under strict) or `! start replace-hex ignore-hex`.
const CASES: &str = r#"
import random, sys
single, multi = sys.argv[1].split(','), sys.argv[2].split(',')
rnd = random.Random(18)
out = sys.stdout
def emit(codec, b):
    try:
        t = b.decode(codec)
        out.write('%s %s = %s\n' % (codec, b.hex(), t.encode('utf-8', 'surrogatepass').hex()))
    except UnicodeDecodeError as e:
        r = b.decode(codec, 'replace').encode('utf-8', 'surrogatepass').hex()
        i = b.decode(codec, 'ignore').encode('utf-8', 'surrogatepass').hex()
        out.write('%s %s ! %d %s %s\n' % (codec, b.hex(), e.start, r, i))
for c in single:
    for x in range(256):
        emit(c, bytes([x]))
    emit(c, bytes(range(256)))
    emit(c, bytes(range(255, -1, -1)))
for c in multi:
    for x in range(256):
        emit(c, bytes([x]))
    for x in range(256):
        for y in range(256):
            emit(c, bytes([x, y]))
            if x >= 0x80 or c.startswith('utf-16'):
                emit(c, bytes([x, y]) + b'A')
    if c == 'gb18030':
        for a in range(0x81, 0x85):
            for b in range(0x30, 0x3a):
                for d in range(0x81, 0xff):
                    for e in range(0x30, 0x3a):
                        emit(c, bytes([a, b, d, e]))
        for _ in range(20000):
            emit(c, bytes([rnd.randrange(0x80, 0x100), rnd.randrange(0x2f, 0x3b),
                           rnd.randrange(0x80, 0x100), rnd.randrange(0x2f, 0x3b)]))
    if c.startswith('utf-16'):
        for _ in range(20000):
            units = [rnd.choice([rnd.randrange(0xd800, 0xdc00), rnd.randrange(0xdc00, 0xe000),
                                 rnd.randrange(0x10000), 0xfeff, 0xfffe]) for _ in range(rnd.randrange(1, 5))]
            b = b''.join(u.to_bytes(2, rnd.choice(['little', 'big'])) for u in units)
            emit(c, b[:len(b) - rnd.randrange(2)])
    for _ in range(30000):
        n = rnd.randrange(1, 9)
        emit(c, bytes(rnd.choice([rnd.randrange(256), rnd.randrange(0x80, 0x100), 0x41, 0x30,
                                  0x81, 0xa0, 0xef, 0xff]) for _ in range(n)))
"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A protocol-2 pickle of one Python 2 string.
fn py2_str_pickle(b: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x02".to_vec();
    if b.len() < 256 {
        p.push(b'U');
        p.push(b.len() as u8);
    } else {
        p.push(b'T');
        p.extend_from_slice(&(b.len() as u32).to_le_bytes());
    }
    p.extend_from_slice(b);
    p.push(b'.');
    p
}

/// Ours: the text, or the position the error names.
fn ours(enc: Encoding, errors: Errors, b: &[u8]) -> Result<String, usize> {
    let opts = LoadOptions::default().encoding(enc).errors(errors);
    match loads_with(&py2_str_pickle(b), opts) {
        Ok(doc) => Ok(doc.root().as_str().expect("a str").to_string()),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("codec can't decode") && msg.contains("(LoadOptions::encoding)"),
                "{msg}"
            );
            let at = msg.split("in position ").nth(1).expect(&msg);
            let digits: String = at.chars().take_while(char::is_ascii_digit).collect();
            Err(digits.parse().unwrap())
        }
    }
}

#[test]
fn every_codec_decodes_as_cpython() {
    if !common::python_available("the codec comparison") {
        return;
    }
    let out = std::process::Command::new("python3")
        .args(["-c", CASES, &SINGLE_BYTE.join(","), &MULTI_BYTE.join(",")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0usize;
    let mut current: Option<(&str, Encoding)> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let enc = match current {
            Some((name, enc)) if name == f[0] => enc,
            _ => {
                let enc = Encoding::named(f[0]).unwrap_or_else(|e| panic!("{}: {e}", f[0]));
                current = Some((f[0], enc));
                enc
            }
        };
        let input = unhex(f[1]);
        cases += 1;
        let got = [
            ours(enc, Errors::Strict, &input),
            ours(enc, Errors::Replace, &input),
            ours(enc, Errors::Ignore, &input),
        ];
        let want: [Result<String, usize>; 3] = if f[2] == "=" {
            let t = String::from_utf8(unhex(f[3])).unwrap();
            [Ok(t.clone()), Ok(t.clone()), Ok(t)]
        } else {
            [
                Err(f[3].parse().unwrap()),
                Ok(String::from_utf8(unhex(f[4])).unwrap()),
                Ok(String::from_utf8(unhex(f[5])).unwrap()),
            ]
        };
        if got != want {
            let mut line = format!("{} {}: ours {got:?}, CPython {want:?}", f[0], hex(&input));
            if line.len() > 400 {
                let mut cut = 400;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
                line.push_str("...");
            }
            failures.push(line);
        }
    }
    assert!(cases > 1_000_000, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} differ, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

/// Every name CPython's `codecs.lookup` knows (each alias and module of
/// `encodings`, in four spellings) and some it does not, with what CPython
/// makes of it: `name<TAB>codec name | -notext | -unknown`.
const NAMES: &str = r#"
import codecs, encodings, encodings.aliases, os, pkgutil
names = set(encodings.aliases.aliases) | {m.name for m in pkgutil.iter_modules([os.path.dirname(encodings.__file__)])}
spelled = set()
for n in names:
    spelled |= {n, n.upper(), n.replace('_', '-'), ' ' + n.replace('_', ' ').title() + ' '}
spelled |= {'', '-', 'utf_8.x', 'a.b', 'no such codec', 'ut\u00e9f8', 'KOI8--R', 'koi8_r_', '_koi8r'}
for n in sorted(spelled):
    try:
        info = codecs.lookup(n)
        what = info.name if info._is_text_encoding else '-notext'
    except LookupError:
        what = '-unknown'
    print(n + '\t' + what)
"#;

#[test]
fn names_are_found_as_codecs_lookup_finds_them() {
    if !common::python_available("the codec names") {
        return;
    }
    let mut failures = Vec::new();
    let mut supported = 0;
    for line in common::python_lines(NAMES, "") {
        let (name, what) = line.split_once('\t').unwrap();
        let ours = Encoding::named(name);
        let ok = match (what, &ours) {
            (_, Ok(enc)) => {
                supported += 1;
                enc.name() == what
            }
            ("-notext", Err(e)) => e.to_string().contains("is not a text encoding"),
            ("-unknown", Err(e)) => e.to_string().contains("unknown encoding"),
            (_, Err(e)) => e.to_string().contains("is not supported"),
        };
        if !ok {
            failures.push(format!("{name:?}: CPython {what}, ours {ours:?}"));
        }
    }
    assert!(supported > 200, "only {supported} names decoded");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_committed_name_table_is_cpythons() {
    if !common::python_available("the codec name table") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(root.join("tests/scripts/gen_codec_names.py"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root.join("src/python/codec_names.rs")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "src/python/codec_names.rs is stale: run tests/scripts/gen_codec_names.py"
    );
}

#[test]
fn bytes_is_exact_and_unsupported_names_say_why() {
    assert_eq!(Encoding::named("bytes").unwrap(), Encoding::Bytes);
    // CPython compares "bytes" exactly; "BYTES" is looked up as a codec.
    let e = Encoding::named("BYTES").unwrap_err().to_string();
    assert!(e.starts_with("unknown encoding: BYTES; supported: "), "{e}");
    let e = Encoding::named("big5").unwrap_err().to_string();
    assert!(
        e.contains("CPython's 'big5' codec is not supported") && e.contains("koi8-r"),
        "{e}"
    );
    assert!(Encoding::named("zlib")
        .unwrap_err()
        .to_string()
        .contains("'zlib' is not a text encoding"));
    assert_eq!(Encoding::named("Latin-1").unwrap(), Encoding::Latin1);
    assert_eq!(Encoding::named("KOI8_R").unwrap().name(), "koi8-r");
    assert_eq!(Errors::named("replace").unwrap(), Errors::Replace);
    assert!(Errors::named("surrogateescape")
        .unwrap_err()
        .to_string()
        .contains("not supported"));
}

/// CPython's `pickletester.AbstractUnpickleTests.test_empty_bytestring`
/// (issue 11286), and a Python 2.7 `pickle.dumps(u'Привет'.encode('koi8-r'), 2)`.
#[test]
fn cpythons_koi8_r_vectors_load() {
    let koi8 = Encoding::named("koi8-r").unwrap();
    let doc = loads_with(
        b"\x80\x03U\x00q\x00.",
        LoadOptions::default().encoding(koi8),
    )
    .unwrap();
    assert_eq!(doc.root().as_str(), Some(""));
    let doc = loads_with(
        b"\x80\x02U\x06\xf0\xd2\xc9\xd7\xc5\xd4q\x00.",
        LoadOptions::default().encoding(koi8),
    )
    .unwrap();
    assert_eq!(doc.root().as_str(), Some("Привет"));
}

/// A literal U+FFFD in UTF-8 input stays under `errors="ignore"` (only the
/// undecodable bytes go).
#[test]
fn ignore_keeps_a_literal_replacement_character() {
    let doc = loads_with(
        &py2_str_pickle(b"\xef\xbf\xbd\xff"),
        LoadOptions::default()
            .encoding(Encoding::Utf8)
            .errors(Errors::Ignore),
    )
    .unwrap();
    assert_eq!(doc.root().as_str(), Some("\u{FFFD}"));
}
