//! `repr_float`, `repr_str`, `repr_bytes` and `repr_bytearray` against
//! CPython's `repr` on thousands of random inputs. Without python3 the tests
//! are skipped, unless `CI=true`, where that is a failure.

mod common;

use std::process::Command;

use pickle_codec::repr::{repr_bytearray, repr_bytes, repr_float, repr_str};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

#[test]
fn floats_match_python() {
    if !common::python_available("the repr comparison") {
        return;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut vals: Vec<f64> = vec![
        0.0,
        -0.0,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        0.00011,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        0.1,
        0.5,
        123456789.0,
    ];
    for _ in 0..20000 {
        vals.push(f64::from_bits(rng.next()));
    }
    for i in 0..3000u64 {
        vals.push(i as f64 * 1.1);
        vals.push((rng.next() % 1_000_000) as f64 / 10f64.powi((rng.next() % 12) as i32));
        let e = (rng.next() % 40) as i32 - 20;
        vals.push((rng.next() % 100_000) as f64 * 10f64.powi(e));
    }
    for e in -330..=310 {
        vals.push(10f64.powi(e));
        vals.push(-(1.5 * 10f64.powi(e)));
    }
    let input: String = vals
        .iter()
        .map(|v| format!("{:016x}\n", v.to_bits()))
        .collect();
    let script = "import sys,struct\n\
        for l in sys.stdin:\n    print(repr(struct.unpack('>d', bytes.fromhex(l.strip()))[0]))";
    let want = common::python_lines(script, &input);
    assert_eq!(want.len(), vals.len());
    let mut bad = Vec::new();
    for (v, w) in vals.iter().zip(&want) {
        let ours = repr_float(*v);
        if &ours != w {
            bad.push(format!("{:016x}: ours {ours}, python {w}", v.to_bits()));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
}

fn random_text(rng: &mut Rng) -> Vec<u8> {
    let n = rng.next() % 12;
    let mut out = Vec::new();
    for _ in 0..n {
        let cp = match rng.next() % 6 {
            0 => (rng.next() % 0x80) as u32,
            1 => (rng.next() % 0x100) as u32,
            2 => (rng.next() % 0x3000) as u32,
            3 => 0xd800 + (rng.next() % 0x800) as u32,
            4 => (rng.next() % 0x110000) as u32,
            _ => [b'\'', b'"', b'\\', b'\n'][(rng.next() % 4) as usize] as u32,
        };
        // Python UTF-8 with surrogates allowed, as surrogatepass encodes.
        let mut buf = [0u8; 4];
        match char::from_u32(cp) {
            Some(c) => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            None => out.extend_from_slice(&[
                0xe0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3f) as u8,
                0x80 | (cp & 0x3f) as u8,
            ]),
        }
    }
    out
}

#[test]
fn strings_and_bytes_match_python() {
    if !common::python_available("the repr comparison") {
        return;
    }
    let mut rng = Rng(42);
    let mut texts: Vec<Vec<u8>> = (0..8000).map(|_| random_text(&mut rng)).collect();
    // Every code point below 0x3100 once, and samples above.
    for cp in (0..0x3100u32).chain((0x3100..0x110000).step_by(97)) {
        let mut buf = [0u8; 4];
        if let Some(c) = char::from_u32(cp) {
            texts.push(c.encode_utf8(&mut buf).as_bytes().to_vec());
        }
    }
    let input: String = texts.iter().map(|t| hex(t) + "\n").collect();
    let script = "import sys\n\
        out = sys.stdout.buffer\n\
        for l in sys.stdin:\n\
        \x20   b = bytes.fromhex(l.strip())\n\
        \x20   out.write(repr(b.decode('utf-8', 'surrogatepass')).encode('utf-8') + b'\\n')\n\
        \x20   out.write(repr(b).encode() + b'\\n')\n\
        \x20   out.write(repr(bytearray(b)).encode() + b'\\n')";
    let want = common::python_lines(script, &input);
    assert_eq!(want.len(), 3 * texts.len());
    let mut bad = Vec::new();
    for (t, w) in texts.iter().zip(want.chunks(3)) {
        let ours = [repr_str(t), repr_bytes(t), repr_bytearray(t)];
        for (o, w) in ours.iter().zip(w) {
            if o != w {
                bad.push(format!("{}: ours {o}, python {w}", hex(t)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
}

#[test]
fn printable_table_is_current() {
    if !common::python_available("the repr comparison") {
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("tests/scripts/gen_unicode_printable.py"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let fresh = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(root.join("src/python/printable.rs")).unwrap();
    let body = |s: &str| s.lines().skip(2).collect::<Vec<_>>().join("\n");
    if !fresh.contains("(unicodedata 14.0.0)") {
        eprintln!("skipping: python3 is not CPython 3.11 (Unicode 14.0); the table follows 3.11");
        return;
    }
    assert_eq!(
        body(&fresh),
        body(&committed),
        "regenerate src/python/printable.rs"
    );
}
