//! Protocol 0's decimal arguments read as `_pickle.c` reads them: `INT` by
//! C's `strtol` with base 0 (a leading `0` is octal) and then Python's
//! `int(s, 0)`, `LONG` by `int(s, 0)`, memo indices by `int(s, 10)`, the
//! two-character `INT` of 0 or 1 as a bool; compared with python3.

mod common;

const CASES: &[&[u8]] = &[
    b"I010\n.",
    b"I09\n.",
    b"I0x10\n.",
    b"I0X1f\n.",
    b"I-0x1f\n.",
    b"I 010\n.",
    b"I\t7\n.",
    b"I7 \n.",
    b"I0b11\n.",
    b"I0o17\n.",
    b"I1_0\n.",
    b"I00_1\n.",
    b"I010_0\n.",
    b"I0\n.",
    b"I00\n.",
    b"I01\n.",
    b"I+0\n.",
    b"I-0\n.",
    b"I 1\n.",
    b"I-1\n.",
    b"I+\n.",
    b"I0x\n.",
    b"I99999999999999999999999\n.",
    b"I0999999999999999999999\n.",
    b"I-9223372036854775808\n.",
    b"I9223372036854775808\n.",
    b"L10\n.",
    b"L10L\n.",
    b"L007L\n.",
    b"L0x10L\n.",
    b"L-0\n.",
    b"L0_0L\n.",
    b"L 12 L\n.",
    b"(lp010\n0g10\n.",
    b"(lp1_0\n0g10\n.",
    b"(lp0x10\n.",
    b"(lp7\n0g07\n.",
];

#[test]
fn decimal_arguments_read_as_cpython_reads_them() {
    if !common::python_available("protocol 0 ints against CPython") {
        return;
    }
    let script = r#"
import pickle, sys
for line in sys.stdin.read().split():
    data = bytes.fromhex(line)
    try:
        print(repr(pickle.loads(data)))
    except Exception as e:
        print("error")
"#;
    let input: String = CASES
        .iter()
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    let want = common::python_lines(script, &input);
    assert_eq!(want.len(), CASES.len());
    let mut bad = Vec::new();
    for (case, want) in CASES.iter().zip(&want) {
        let got = match pickle_codec::loads(case) {
            Ok(doc) => doc.root().to_string(),
            Err(_) => "error".to_string(),
        };
        if &got != want {
            bad.push(format!(
                "{:?}: CPython {want}, ours {got}",
                String::from_utf8_lossy(case)
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
