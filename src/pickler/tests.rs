//! Unit tests of the pickler; the byte-exact tables against CPython are in
//! `tests/pickler_exact.rs`.

use super::*;
use crate::codec::opcodes::Opcode;
use crate::value::{Document, Node, Value};

#[test]
fn protocol_above_5_is_an_error() {
    let doc = Document::new();
    assert!(dumps(&doc, 6).is_err());
    assert_eq!(dumps(&doc, 0).unwrap(), b"N.");
    assert_eq!(dumps(&doc, 2).unwrap(), b"\x80\x02N.");
}

fn deep_list(depth: usize) -> Document {
    let mut d = Document::with_capacity(depth + 1);
    let mut v = d.list([]);
    for _ in 0..depth {
        v = d.list([v]);
    }
    d.set_root(v);
    d
}

#[test]
fn million_deep_list_needs_no_call_stack() {
    let d = deep_list(1_000_000);
    for p in [0u8, 2, 5] {
        let out = dumps(&d, p).unwrap();
        // Round trip through the unpickler and back gives the same bytes.
        let again = crate::loads(&out).unwrap();
        assert_eq!(dumps(&again, p).unwrap(), out, "p{p}");
    }
    let out = dumps(&deep_list(3), 2).unwrap();
    assert_eq!(out, b"\x80\x02]q\x00]q\x01]q\x02]q\x03aaa.");
}

#[test]
fn never_panics_on_bad_documents() {
    // A dangling handle.
    let mut d = Document::new();
    let other = {
        let mut o = Document::new();
        o.str("x");
        o.str("y")
    };
    let l = d.list([other]);
    d.set_root(l);
    assert!(dumps(&d, 2).is_err());
    d.set_root(other);
    assert!(dumps(&d, 4).is_err());

    // A tuple containing itself with no list in between: CPython could only
    // recurse forever; here it is an error at every protocol.
    let mut d = Document::new();
    let t = d.tuple([Value::None]);
    if let Value::Ref(id) = t {
        if let Some(items) = d.items_mut(id) {
            items[0] = t;
        }
    }
    d.set_root(t);
    for p in 0..=5 {
        assert!(dumps(&d, p).is_err());
    }

    // Two tuples containing each other, and an object inside its own args.
    let mut d = Document::new();
    let a = d.tuple([Value::None]);
    let b = d.tuple([a]);
    if let Value::Ref(id) = a {
        if let Some(items) = d.items_mut(id) {
            items[0] = b;
        }
    }
    let g = d.global("m", "f");
    let args = d.tuple([Value::None]);
    let obj = d.object(crate::ObjectKind::Reduce, g, args);
    if let Value::Ref(id) = args {
        if let Some(items) = d.items_mut(id) {
            items[0] = obj;
        }
    }
    for root in [a, obj] {
        d.set_root(root);
        for p in 0..=5 {
            assert!(dumps(&d, p).is_err());
        }
    }

    // Globals whose parts are not strs, ADDITEMS below protocol 4.
    let mut d = Document::new();
    let g = d.alloc(Node::Global(crate::Global {
        module: Value::Int(1),
        name: Value::None,
    }));
    d.set_root(g);
    assert!(dumps(&d, 4).is_err());
    assert!(dumps(&d, 2).is_err());
    let mut d = Document::new();
    let o = d.reduce("m", "S", []);
    d.push_op(o, crate::ObjectOp::Add(Value::Int(1)));
    d.set_root(o);
    assert!(dumps(&d, 3).is_err());
    assert_eq!(
        dumps(&d, 4).unwrap(),
        b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00\x8c\x01m\x94\x8c\x01S\x94\x93\x94)R\x94(K\x01\x90."
    );
}

#[test]
fn object_in_its_own_args_through_a_list() {
    // r = R(); r.l = [r]; R.__reduce__ = lambda s: (R, (s.l,)) -- but with
    // one shared args tuple, as a Rust-built document has it.
    let mut d = Document::new();
    let cls = d.global("__main__", "R");
    let l = d.list([]);
    let args = d.tuple([l]);
    let r = d.object(crate::ObjectKind::Reduce, cls, args);
    d.list_push(l, r);
    d.set_root(r);
    assert_eq!(
        dumps(&d, 2).unwrap(),
        b"\x80\x02c__main__\nR\nq\x00]q\x01h\x00h\x01\x85q\x02Rq\x03a0h\x02R0h\x03."
    );
}

#[test]
fn buffers_in_and_out_of_band() {
    let mut d = Document::new();
    let ro = d.buffer(b"ab".to_vec(), true);
    let rw = d.buffer(b"cd".to_vec(), false);
    let l = d.list([ro, rw, ro]);
    d.set_root(l);
    // pickle.dumps([PickleBuffer(b'ab'), PickleBuffer(bytearray(b'cd')), same], 5)
    assert_eq!(
        dumps(&d, 5).unwrap(),
        b"\x80\x05\x95\x18\x00\x00\x00\x00\x00\x00\x00]\x94(C\x02ab\x94\x96\x02\x00\x00\x00\x00\x00\x00\x00cd\x94h\x01e."
    );
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let s2 = seen.clone();
    let mut o = DumpOptions::new(5);
    o.buffer_callback = Some(Box::new(move |_b: &crate::Buffer| {
        s2.set(s2.get() + 1);
        false
    }));
    // With buffer_callback=lambda b: False: buffers are not memoized.
    assert_eq!(
        dumps_with(&d, &mut o).unwrap(),
        b"\x80\x05\x95\x0a\x00\x00\x00\x00\x00\x00\x00]\x94(\x97\x98\x97\x97\x98e."
    );
    assert_eq!(seen.get(), 3);
    // Below protocol 5 buffers go in band as bytes / bytearray.
    assert_eq!(
        dumps(&d, 3).unwrap(),
        b"\x80\x03]q\x00(C\x02abq\x01cbuiltins\nbytearray\nq\x02C\x02cdq\x03\x85q\x04Rq\x05h\x01e."
    );
}

#[test]
fn pickler_streams_frames_to_a_writer() {
    let mut d = Document::new();
    let v: Vec<Value> = (0..30000).map(|i| d.str(&format!("item {i}"))).collect();
    let l = d.list(v);
    d.set_root(l);
    for p in 0..=5 {
        let want = dumps(&d, p).unwrap();
        let mut p2 = Pickler::new(Vec::new(), p);
        p2.dump(&d).unwrap();
        p2.dump(&d).unwrap();
        let got = p2.into_inner();
        assert_eq!(got.len(), want.len() * 2);
        assert_eq!(&got[..want.len()], &want[..]);
        assert_eq!(&got[want.len()..], &want[..]);
    }
}

/// A writer keeping each `write` call's bytes apart.
struct Chunks(Vec<Vec<u8>>);

impl std::io::Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn pickler_writes_whole_frames_as_they_are_committed() {
    let mut d = Document::new();
    let v: Vec<Value> = (0..60000).map(|i| d.str(&format!("item {i}"))).collect();
    let l = d.list(v);
    d.set_root(l);
    for p in [2, 4, 5] {
        let want = dumps(&d, p).unwrap();
        let mut out = Chunks(Vec::new());
        dump(&mut out, &d, p).unwrap();
        assert!(out.0.len() > 3, "p{p}: {} writes", out.0.len());
        assert_eq!(out.0.concat(), want, "p{p}");
        if p >= 4 {
            // Every write after the first starts a frame.
            for c in &out.0[1..] {
                assert_eq!(c[0], Opcode::Frame.byte(), "p{p}");
            }
        }
    }
}

#[test]
fn a_shared_persistent_id_is_written_once() {
    // (P, P) where both items are one persistent object: `BINPERSID PUT`,
    // then `GET`, as a hand-written pickle has it (CPython's pickler calls
    // `persistent_id` for each reference and never memoizes the result).
    let shared = b"\x80\x02X\x03\x00\x00\x00pidQq\x00h\x00\x86q\x01.";
    let doc = crate::loads(shared).unwrap();
    for p in 0..=5u8 {
        let out = dumps(&doc, p).unwrap();
        let ops: Vec<Opcode> = crate::codec::read::Instructions::new(&out)
            .map(|i| i.unwrap().op)
            .collect();
        let persids = ops
            .iter()
            .filter(|o| matches!(o, Opcode::BinPersId | Opcode::PersId))
            .count();
        assert_eq!(persids, 1, "p{p}: {ops:?}");
        let again = crate::loads(&out).unwrap();
        let items = again.root().as_slice().unwrap();
        assert!(matches!(items[0], Value::Ref(_)), "p{p}");
        assert_eq!(items[0], items[1], "p{p}: one node");
    }
    // Two separate ids stay two opcodes each unmemoized, as CPython writes them.
    let two = b"\x80\x02X\x03\x00\x00\x00pidQX\x03\x00\x00\x00pidQ\x86q\x00.";
    let out = dumps(&crate::loads(two).unwrap(), 2).unwrap();
    assert_eq!(
        out,
        b"\x80\x02X\x03\x00\x00\x00pidq\x00QX\x03\x00\x00\x00pidq\x01Q\x86q\x02."
    );
}

#[test]
fn an_empty_global_name_is_refused_where_python_could_not_read_it() {
    // CPython's text GLOBAL/INST lines need a character each ("pickle data
    // was truncated"); STACK_GLOBAL (protocol 4+) takes empty strs.
    let mut d = Document::new();
    let g = d.global("", "");
    d.set_root(g);
    for p in 0..=3u8 {
        assert!(dumps(&d, p).is_err(), "p{p}");
    }
    let out = dumps(&d, 4).unwrap();
    assert!(crate::loads(&out).is_ok());
    for bad in [
        &b"\x80\x02c\n\n."[..],
        b"\x80\x02c\nx\n.",
        b"\x80\x02cx\n\n.",
        b"(i\n\n.",
        b"(ix\n\n.",
    ] {
        assert!(crate::loads(bad).is_err(), "{bad:?}");
    }
}
