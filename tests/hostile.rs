//! Hostile inputs: the unpickler must reject malformed data with an error that
//! says where (a byte offset), load the pathological-but-valid with real
//! sharing and without recursion, and never panic, abort or allocate what the
//! input merely claims. Whatever survives must dump again, at 1,000,000 levels
//! of nesting too.

use pickle_codec::{
    dumps, loads, loads_all, Category, Document, LoadOptions, Node, Opcode, Unpickler, Value,
};

// ---------------------------------------------------------------- helpers

/// Expect `loads` to fail, with an offset inside the input.
fn reject(name: &str, data: &[u8]) -> pickle_codec::Error {
    match loads(data) {
        Ok(doc) => panic!("{name}: accepted, root {:?}", doc.root_value()),
        Err(e) => {
            let off = e
                .offset()
                .unwrap_or_else(|| panic!("{name}: error without a byte offset: {e}"));
            assert!(
                off <= data.len() as u64,
                "{name}: offset {off} beyond the input ({}): {e}",
                data.len()
            );
            assert!(
                e.to_string().contains(&format!("at byte {off}")),
                "{name}: Display lacks the offset: {e}"
            );
            e
        }
    }
}

/// Expect `loads` to fail at exactly `offset`, in opcode `op` when given.
fn reject_at(name: &str, data: &[u8], offset: u64, op: Option<Opcode>) -> pickle_codec::Error {
    let e = reject(name, data);
    assert_eq!(e.offset(), Some(offset), "{name}: wrong offset: {e}");
    if let Some(op) = op {
        assert_eq!(e.opcode(), Some(op), "{name}: wrong opcode: {e}");
    }
    e
}

fn survive(name: &str, data: &[u8]) -> Document {
    loads(data).unwrap_or_else(|e| panic!("{name}: rejected: {e}"))
}

/// Dump at every protocol that can express the document, reload, compare.
/// `min_protocol` is the first protocol that must succeed.
fn redump_all(name: &str, doc: &Document, min_protocol: u8, max_len: Option<usize>) {
    for p in 0..=5u8 {
        let bytes = match dumps(doc, p) {
            Ok(b) => b,
            Err(e) if p < min_protocol => {
                let _ = e;
                continue;
            }
            Err(e) => panic!("{name}: dump at protocol {p} failed: {e}"),
        };
        if let Some(max) = max_len {
            assert!(
                bytes.len() <= max,
                "{name}: protocol {p}: {} bytes, sharing lost?",
                bytes.len()
            );
        }
        let again = loads(&bytes)
            .unwrap_or_else(|e| panic!("{name}: protocol {p}: our output does not load: {e}"));
        assert!(
            again == *doc,
            "{name}: protocol {p}: reloaded document differs"
        );
    }
}

fn list_items(doc: &Document, v: Value) -> &[Value] {
    match doc.node_of(v) {
        Some(Node::List(items)) => doc.items(items),
        other => panic!("expected a list, got {other:?}"),
    }
}

fn proto(p: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, p];
    v.extend_from_slice(body);
    v
}

/// Valid pickles (CPython 3.11 output) covering text, binary, framed and
/// protocol-5 opcodes; every prefix of each must be rejected.
const VALID: &[&[u8]] = &[
    b"(dp0\nVa\np1\n(lp2\nI1\naI-2\naI300\naI70000\naL1099511627776L\naF2.5\naNaI01\naVxyz\np3\naV\xe9\np4\nasVb\np5\n(c_codecs\nencode\np6\n(Vby\np7\nVlatin1\np8\ntp9\nRp10\nc__builtin__\nbytearray\np11\n(g6\n(Vba\np12\ng8\ntp13\nRp14\ntp15\nRp16\ntp17\nsVs\np18\nc__builtin__\nset\np19\n((lp20\nI3\natp21\nRp22\nsVf\np23\nc__builtin__\nfrozenset\np24\n((lp25\nI4\natp26\nRp27\nsVcls\np28\nccollections\nOrderedDict\np29\ns.",
    b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.",
    b"\x80\x03}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01J\xfe\xff\xff\xffM,\x01Jp\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88X\x03\x00\x00\x00xyzq\x03X\x02\x00\x00\x00\xc3\xa9q\x04eX\x01\x00\x00\x00bq\x05C\x02byq\x06cbuiltins\nbytearray\nq\x07C\x02baq\x08\x85q\tRq\n\x86q\x0bX\x01\x00\x00\x00sq\x0ccbuiltins\nset\nq\r]q\x0eK\x03a\x85q\x0fRq\x10X\x01\x00\x00\x00fq\x11cbuiltins\nfrozenset\nq\x12]q\x13K\x04a\x85q\x14Rq\x15X\x03\x00\x00\x00clsq\x16ccollections\nOrderedDict\nq\x17u.",
    b"\x80\x04\x95\x9e\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01J\xfe\xff\xff\xffM,\x01Jp\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88\x8c\x03xyz\x94\x8c\x02\xc3\xa9\x94e\x8c\x01b\x94C\x02by\x94\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94C\x02ba\x94\x85\x94R\x94\x86\x94\x8c\x01s\x94\x8f\x94(K\x03\x90\x8c\x01f\x94(K\x04\x91\x94\x8c\x03cls\x94\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94u.",
    b"\x80\x05\x95\x88\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01J\xfe\xff\xff\xffM,\x01Jp\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88\x8c\x03xyz\x94\x8c\x02\xc3\xa9\x94e\x8c\x01b\x94C\x02by\x94\x96\x02\x00\x00\x00\x00\x00\x00\x00ba\x94\x86\x94\x8c\x01s\x94\x8f\x94(K\x03\x90\x8c\x01f\x94(K\x04\x91\x94\x8c\x03cls\x94\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94u.",
];

// ---------------------------------------------------------------- survivors

/// DUP + APPEND appends a list to itself: Python shares, so the list holds
/// itself. A decoder that copies on DUP doubles the value at each step.
fn dup_bomb(n: usize) -> Vec<u8> {
    let mut data = b"\x80\x02](K\x01e".to_vec();
    for _ in 0..n {
        data.extend_from_slice(b"2a");
    }
    data.push(b'.');
    data
}

#[test]
fn dup_bomb_52_bytes_and_64_levels() {
    for n in [22usize, 64] {
        let data = dup_bomb(n);
        if n == 22 {
            assert_eq!(data.len(), 52);
        }
        let name = format!("DUP bomb x{n}");
        let doc = survive(&name, &data);
        let root = doc.root_value();
        let items = list_items(&doc, root);
        assert_eq!(items.len(), n + 1);
        assert_eq!(items[0], Value::Int(1));
        assert!(
            items[1..].iter().all(|&v| v == root),
            "{name}: the appended items are the list itself"
        );
        redump_all(&name, &doc, 0, Some(4096));
    }
}

/// Each level is a list holding the previous level twice, through the memo:
/// 2^250 leaves in a few kilobytes.
fn memo_dag_bomb(levels: u32) -> Vec<u8> {
    let mut data = b"\x80\x02Nr\x00\x00\x00\x000".to_vec();
    for i in 1..=levels {
        data.push(b'(');
        for _ in 0..2 {
            data.push(b'j');
            data.extend_from_slice(&(i - 1).to_le_bytes());
        }
        data.push(b'l');
        data.push(b'r');
        data.extend_from_slice(&i.to_le_bytes());
        data.push(b'0');
    }
    data.push(b'j');
    data.extend_from_slice(&levels.to_le_bytes());
    data.push(b'.');
    data
}

#[test]
fn memo_dag_bomb_250_levels() {
    let data = memo_dag_bomb(250);
    let doc = survive("memo DAG bomb", &data);
    // Walk down the left spine: every level's two items are one shared node.
    let mut v = doc.root_value();
    for level in (1..=250).rev() {
        let items = list_items(&doc, v);
        assert_eq!(items.len(), 2, "level {level}");
        assert_eq!(items[0], items[1], "level {level}: sharing lost");
        v = items[0];
    }
    assert_eq!(v, Value::None);
    assert!(
        doc.len() <= 251,
        "{} nodes for 251 distinct objects",
        doc.len()
    );
    redump_all("memo DAG bomb", &doc, 0, Some(64 * 1024));
}

const DEPTH: usize = 1_000_000;

#[test]
fn nested_lists_one_million_deep() {
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat(b']').take(DEPTH));
    data.extend(std::iter::repeat(b'a').take(DEPTH - 1));
    data.push(b'.');
    let doc = survive("1M nested lists", &data);
    let mut v = doc.root_value();
    let mut depth = 1;
    loop {
        let items = list_items(&doc, v);
        match items {
            [] => break,
            [inner] => {
                v = *inner;
                depth += 1;
            }
            _ => panic!("unexpected list of {} items at depth {depth}", items.len()),
        }
    }
    assert_eq!(depth, DEPTH);
    redump_all("1M nested lists", &doc, 0, None);
}

#[test]
fn nested_tuples_one_million_deep() {
    let mut data = b"\x80\x02)".to_vec();
    data.extend(std::iter::repeat(0x85u8).take(DEPTH));
    data.push(b'.');
    let doc = survive("1M nested tuples", &data);
    let mut v = doc.root_value();
    let mut depth = 0;
    while let Some(Node::Tuple(items)) = doc.node_of(v) {
        depth += 1;
        let items = doc.items(items);
        match items {
            [] => break,
            [inner] => v = *inner,
            _ => panic!("unexpected tuple of {} items", items.len()),
        }
    }
    assert_eq!(depth, DEPTH + 1);
    redump_all("1M nested tuples", &doc, 0, None);
}

#[test]
fn nested_marks_within_and_beyond_the_depth_limit() {
    let n = 10_000;
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat(b'(').take(n));
    data.push(b'N');
    data.extend(std::iter::repeat(b't').take(n));
    data.push(b'.');
    let doc = survive("10k nested MARK tuples", &data);
    redump_all("10k nested MARK tuples", &doc, 0, None);

    let options = LoadOptions::default().max_depth(100);
    let e = Unpickler::from_slice(&data, options)
        .load()
        .expect_err("depth limit 100 must reject 10,000 nested MARKs");
    assert_eq!(e.category(), Category::Limit, "{e}");
    assert!(e.offset().is_some(), "{e}");
}

#[test]
fn memo_limit_is_enforced_with_an_offset() {
    // 20 lists, each BINPUT into its own memo slot.
    let mut data = b"\x80\x02(".to_vec();
    for i in 0..20u8 {
        data.extend_from_slice(&[b']', b'q', i]);
    }
    data.extend_from_slice(b"l.");
    assert!(loads(&data).is_ok());
    let options = LoadOptions::default().max_memo(5);
    let e = Unpickler::from_slice(&data, options)
        .load()
        .expect_err("memo limit");
    assert_eq!(e.category(), Category::Limit, "{e}");
    assert!(e.offset().is_some(), "{e}");
}

#[test]
fn sparse_memo_index_does_not_allocate() {
    // LONG_BINPUT at index 2^31-1: a dense memo would need 16 GiB. CPython
    // itself gives MemoryError; we either keep it sparse or refuse it as a
    // limit, but never allocate or abort.
    for (name, data, shared) in [
        ("sparse PUT", &b"\x80\x02]r\xff\xff\xff\x7f0N."[..], false),
        (
            "sparse PUT+GET",
            &b"\x80\x02]r\xff\xff\xff\x7fj\xff\xff\xff\x7f\x86."[..],
            true,
        ),
    ] {
        match loads(data) {
            Ok(doc) => {
                if shared {
                    match doc.node_of(doc.root_value()) {
                        Some(Node::Tuple(items)) => {
                            let items = doc.items(items);
                            assert_eq!(items.len(), 2);
                            assert_eq!(items[0], items[1], "{name}: GET must give the same list");
                        }
                        other => panic!("{name}: expected a tuple, got {other:?}"),
                    }
                } else {
                    assert_eq!(doc.root_value(), Value::None);
                }
                redump_all(name, &doc, 0, Some(1024));
            }
            Err(e) => {
                assert_eq!(e.category(), Category::Limit, "{name}: {e}");
                assert!(e.offset().is_some(), "{name}: {e}");
            }
        }
    }
}

#[test]
fn valid_inputs_load_and_redump() {
    for (i, data) in VALID.iter().enumerate() {
        let doc = survive(&format!("valid #{i}"), data);
        redump_all(&format!("valid #{i}"), &doc, 0, None);
    }
}

// ---------------------------------------------------------------- rejects

#[test]
fn truncation_at_every_offset_is_rejected() {
    for (i, data) in VALID.iter().enumerate() {
        for k in 0..data.len() {
            let e = reject(&format!("valid #{i} cut at {k}"), &data[..k]);
            let _ = e;
            // The streaming reader must agree.
            let err = Unpickler::from_reader(&data[..k], LoadOptions::default()).load();
            assert!(err.is_err(), "valid #{i} cut at {k}: reader accepted");
        }
    }
}

#[test]
fn trailing_garbage_is_rejected() {
    for (i, data) in VALID.iter().enumerate() {
        let mut bad = data.to_vec();
        bad.extend_from_slice(b"\x00garbage");
        let e = reject(&format!("valid #{i} + garbage"), &bad);
        assert!(e.offset().unwrap() >= data.len() as u64, "valid #{i}: {e}");
        assert!(
            loads_all(&bad).is_err(),
            "valid #{i}: loads_all accepted garbage"
        );
    }
}

#[test]
fn huge_length_claims_fail_without_allocating() {
    let huge = [u64::MAX, 1 << 62, 1 << 40, (1 << 31) + 5];
    for &len in &huge {
        for (name, op, p) in [
            ("BINUNICODE8", 0x8du8, 4u8),
            ("BINBYTES8", 0x8e, 4),
            ("BYTEARRAY8", 0x96, 5),
            ("FRAME", 0x95, 4),
        ] {
            let mut body = vec![op];
            body.extend_from_slice(&len.to_le_bytes());
            body.extend_from_slice(b"abc.");
            reject_at(
                &format!("{name} claiming {len} bytes"),
                &proto(p, &body),
                2,
                None,
            );
        }
    }
    for (name, body) in [
        ("BINUNICODE 4 GiB", &b"X\xff\xff\xff\xffabc."[..]),
        ("BINBYTES 4 GiB", b"B\xff\xff\xff\xffabc."),
        ("BINSTRING negative", b"T\xff\xff\xff\xffabc."),
        ("BINSTRING 2 GiB", b"T\xff\xff\xff\x7fabc."),
        ("LONG4 2 GiB", b"\x8b\xff\xff\xff\x7f\x01\x02."),
        ("LONG4 negative length", b"\x8b\xff\xff\xff\xff\x01\x02."),
        ("LONG1 255 bytes claimed", b"\x8a\xff\x01\x02."),
    ] {
        reject_at(name, &proto(3, body), 2, None);
    }
}

#[test]
fn unknown_opcodes_are_rejected_at_their_offset() {
    reject_at("0xff", b"\x80\x02\xff.", 2, None);
    reject_at("NUL after NONE", b"\x80\x02N\x00.", 3, None);
    reject_at(
        "0xb0",
        b"\x80\x05\x95\x02\x00\x00\x00\x00\x00\x00\x00\xb0.",
        11,
        None,
    );
    reject("protocol 6", b"\x80\x06N.");
}

#[test]
fn stack_global_needs_two_strs() {
    reject_at(
        "ints",
        b"\x80\x04K\x01K\x02\x93.",
        6,
        Some(Opcode::StackGlobal),
    );
    reject_at(
        "str, int",
        b"\x80\x04\x8c\x01aK\x01\x93.",
        7,
        Some(Opcode::StackGlobal),
    );
    reject_at(
        "bytes, str",
        b"\x80\x04C\x01a\x8c\x01b\x93.",
        8,
        Some(Opcode::StackGlobal),
    );
    reject_at(
        "one item",
        b"\x80\x04\x8c\x01a\x93.",
        5,
        Some(Opcode::StackGlobal),
    );
}

#[test]
fn missing_memo_entries_are_rejected() {
    reject_at("BINGET", b"\x80\x02h\x05.", 2, Some(Opcode::BinGet));
    reject_at(
        "LONG_BINGET",
        b"\x80\x02j\x00\x00\x00\x01.",
        2,
        Some(Opcode::LongBinGet),
    );
    reject_at("GET", b"g5\n.", 0, Some(Opcode::Get));
    reject_at("GET after PUT 0", b"Np0\ng1\n.", 4, Some(Opcode::Get));
}

#[test]
fn stack_underflow_is_rejected() {
    reject_at("APPEND on empty", b"\x80\x02a.", 2, Some(Opcode::Append));
    reject_at(
        "APPEND one item",
        b"\x80\x02K\x01a.",
        4,
        Some(Opcode::Append),
    );
    reject_at("POP on empty", b"\x80\x020.", 2, Some(Opcode::Pop));
    reject_at("DUP on empty", b"\x80\x022.", 2, Some(Opcode::Dup));
    reject_at("REDUCE one item", b"\x80\x02)R.", 3, Some(Opcode::Reduce));
    reject_at(
        "TUPLE2 one item",
        b"\x80\x02N\x86.",
        3,
        Some(Opcode::Tuple2),
    );
    reject_at(
        "SETITEM two items",
        b"\x80\x02K\x01K\x02s.",
        6,
        Some(Opcode::SetItem),
    );
    reject_at("BUILD on empty", b"\x80\x02b.", 2, Some(Opcode::Build));
    reject_at("STOP on empty", b"\x80\x02.", 2, Some(Opcode::Stop));
    reject_at(
        "MEMOIZE on empty",
        b"\x80\x04\x94.",
        2,
        Some(Opcode::Memoize),
    );
}

#[test]
fn mark_misuse_is_rejected() {
    reject_at(
        "APPENDS without MARK",
        b"\x80\x02]K\x01e.",
        5,
        Some(Opcode::Appends),
    );
    reject_at(
        "POP_MARK without MARK",
        b"\x80\x021.",
        2,
        Some(Opcode::PopMark),
    );
    reject_at(
        "TUPLE without MARK",
        b"\x80\x02K\x01t.",
        4,
        Some(Opcode::Tuple),
    );
    reject_at("LIST without MARK", b"\x80\x02l.", 2, Some(Opcode::List));
    reject("STOP right after MARK", b"\x80\x02(.");
    reject("TUPLE1 reaching below MARK", b"\x80\x02K\x01(\x85.");
    reject("DICT with odd items", b"(I1\nd.");
    reject("SETITEMS odd items", b"\x80\x02}(K\x01u.");
    reject("FROZENSET without MARK", b"\x80\x04\x91.");
}

#[test]
fn other_malformed_inputs_are_rejected() {
    reject_at(
        "APPEND to an int",
        b"\x80\x02K\x01K\x02a.",
        6,
        Some(Opcode::Append),
    );
    reject_at("EXT code 0", b"\x80\x02\x82\x00.", 2, Some(Opcode::Ext1));
    reject_at(
        "bad UTF-8 in BINUNICODE",
        b"\x80\x02X\x01\x00\x00\x00\xff.",
        2,
        Some(Opcode::BinUnicode),
    );
    reject_at(
        "NEXT_BUFFER without buffers",
        b"\x80\x05\x97.",
        2,
        Some(Opcode::NextBuffer),
    );
    reject_at("bad FLOAT", b"Fabc\n.", 0, Some(Opcode::Float));
    reject_at("bad INT", b"I12x\n.", 0, Some(Opcode::Int));
    reject("ADDITEMS to a list", b"\x80\x04](K\x01\x90.");
    reject("empty input", b"");
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_pickles_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let opcodes: Vec<u8> = pickle_codec::opcodes::ALL
        .iter()
        .map(|o| o.byte())
        .collect();
    let mut seeds: Vec<Vec<u8>> = VALID.iter().map(|d| d.to_vec()).collect();
    seeds.push(dup_bomb(4));
    seeds.push(memo_dag_bomb(6));
    for round in 0..3000 {
        let mut data = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let len = data.len();
            match rng.below(5) {
                0 => data[rng.below(len)] = rng.next() as u8,
                1 => data[rng.below(len)] = opcodes[rng.below(opcodes.len())],
                2 => data.insert(rng.below(len + 1), opcodes[rng.below(opcodes.len())]),
                3 if len > 1 => {
                    data.remove(rng.below(len));
                }
                _ => {
                    let at = rng.below(len);
                    let b = data[at];
                    data.insert(at, b);
                }
            }
        }
        let result = std::panic::catch_unwind(|| {
            if let Ok(docs) = loads_all(&data) {
                for doc in &docs {
                    for p in 0..=5 {
                        let _ = dumps(doc, p);
                    }
                }
            }
            if let Err(e) = loads(&data) {
                assert!(e.offset().is_some(), "error without an offset: {e}");
            }
        });
        if result.is_err() {
            panic!("round {round}: panicked on input {data:?}");
        }
    }
}

/// A DAG whose sharing unfolds into 2^40 values: deserializing it into a
/// tree type is refused with a limit error (not memory exhaustion), while
/// ordinary sharing (one list referenced 10,000 times) unfolds.
#[test]
fn serde_refuses_to_unfold_a_dag_into_billions_of_values() {
    let mut d = pickle_codec::Document::new();
    let mut v = d.list([Value::Int(1), Value::Int(2)]);
    for _ in 0..40 {
        v = d.list([v, v]);
    }
    d.set_root(v);
    for protocol in [2, 5] {
        let data = pickle_codec::dumps(&d, protocol).unwrap();
        assert!(data.len() < 1024);
        let err = pickle_codec::from_slice::<serde_json::Value>(&data).unwrap_err();
        assert_eq!(err.category(), pickle_codec::Category::Limit, "{err}");
        assert!(err.to_string().contains("max_unfold"), "{err}");
        let err = pickle_codec::from_reader::<_, serde_json::Value>(&data[..]).unwrap_err();
        assert!(err.to_string().contains("max_unfold"), "{err}");
    }
    let mut d = pickle_codec::Document::new();
    let shared = d.list((0..10).map(Value::Int));
    let root = d.list(std::iter::repeat_n(shared, 10_000));
    d.set_root(root);
    let data = pickle_codec::dumps(&d, 5).unwrap();
    let v: Vec<Vec<i64>> = pickle_codec::from_slice(&data).unwrap();
    assert_eq!(v.len(), 10_000);
    assert_eq!(pickle_codec::from_document::<Vec<Vec<i64>>>(&d).unwrap(), v);
}

/// CPython refuses a decimal int of more than 4300 digits (its
/// `int_max_str_digits`), which also keeps a 64 MiB line of digits from
/// costing a quadratic parse; the limit is an option, 0 lifting it.
#[test]
fn long_decimal_ints_are_refused_as_cpython_refuses_them() {
    for (op, tail) in [(&b"I"[..], &b"\n."[..]), (b"L", b"L\n.")] {
        let mut ok = op.to_vec();
        ok.extend(std::iter::repeat(b'9').take(4300));
        ok.extend_from_slice(tail);
        assert!(pickle_codec::loads(&ok).is_ok());
        let mut long = op.to_vec();
        long.extend(std::iter::repeat(b'9').take(1 << 20));
        long.extend_from_slice(tail);
        let t = std::time::Instant::now();
        let e = pickle_codec::loads(&long).unwrap_err();
        assert!(t.elapsed().as_secs() < 2, "refused without parsing");
        assert_eq!(e.category(), pickle_codec::Category::Limit, "{e}");
        assert_eq!(e.offset(), Some(0), "{e}");
        assert!(e.to_string().contains("max_int_digits"), "{e}");
        let mut lifted = op.to_vec();
        lifted.extend(std::iter::repeat(b'9').take(5000));
        lifted.extend_from_slice(tail);
        let opts = LoadOptions::default().max_int_digits(0);
        assert!(pickle_codec::loads_with(&lifted, opts).is_ok());
    }
}
