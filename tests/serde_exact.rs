//! The serde face of a `Document` is the pickler and the unpickler:
//! `to_vec(&doc)` writes what `dumps(&doc, 4)` writes, and
//! `from_slice::<Document>(bytes)` gives what `loads(bytes)` gives, on every
//! pickle the tests hold and on a fresh `gen_corpus.py --set variant` corpus.

mod common;

use pickle_codec::{dumps, from_reader, from_slice, loads, to_vec, Document};

/// What fails, for one input; `None` when the serde face is exact.
fn mismatch(bytes: &[u8]) -> Option<String> {
    let Ok(doc) = loads(bytes) else {
        return match from_slice::<Document>(bytes) {
            Ok(_) => Some("from_slice::<Document> took what loads refused".into()),
            Err(_) => None,
        };
    };
    let want = dumps(&doc, 4);
    let got = to_vec(&doc);
    match (&want, &got) {
        (Ok(w), Ok(g)) if w != g => return Some("to_vec(&doc) != dumps(&doc, 4)".into()),
        (Ok(_), Err(e)) => return Some(format!("to_vec failed where dumps wrote: {e}")),
        (Err(_), Ok(_)) => return Some("to_vec wrote where dumps failed".into()),
        _ => {}
    }
    // The root's `ValueRef` is the same face.
    if let (Ok(w), Ok(g)) = (&want, &to_vec(&doc.root())) {
        if w != g {
            return Some("to_vec(&doc.root()) != dumps(&doc, 4)".into());
        }
    }
    for (how, read) in [
        ("from_slice", from_slice::<Document>(bytes)),
        ("from_reader", from_reader::<_, Document>(bytes)),
    ] {
        let read = match read {
            Ok(d) => d,
            Err(e) => return Some(format!("{how}::<Document> failed where loads read: {e}")),
        };
        if read != doc {
            return Some(format!("{how}::<Document> != loads"));
        }
        if let Ok(w) = &want {
            if dumps(&read, 4).ok().as_ref() != Some(w) {
                return Some(format!("dumps({how}::<Document>) != dumps(loads)"));
            }
        }
    }
    None
}

fn check(inputs: impl IntoIterator<Item = (String, Vec<u8>)>) -> usize {
    let mut bad = Vec::new();
    let mut n = 0;
    for (name, bytes) in inputs {
        n += 1;
        if let Some(why) = mismatch(&bytes) {
            bad.push(format!("{name}: {why}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} inputs:\n{}",
        bad.len(),
        bad.join("\n")
    );
    n
}

#[test]
fn document_serde_is_dumps_and_loads_on_the_fixtures() {
    let n = check(common::pickle_corpus());
    assert!(n > 500, "only {n} fixtures");
}

#[test]
fn document_serde_is_dumps_and_loads_on_a_generated_corpus() {
    let files = common::generated_corpus(8123, "the exact serde face on a generated corpus");
    let n = check(files.into_iter().map(|p| {
        let b = std::fs::read(&p).unwrap();
        (p.display().to_string(), b)
    }));
    eprintln!("{n} generated pickles");
}

/// Inside other values too: a struct's `Document` field holds the graph of
/// its value, tuples, sets, objects, sharing and cycles kept, and writes it
/// back exactly.
#[test]
fn document_fields_are_exact() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Holder {
        name: String,
        payload: Document,
    }
    // pickle.dumps({'name': 'x', 'payload': (l := [1, (2, 3), {4}], l, frozenset({5}))}, 4)
    // with the list appended to itself: l.append(l)
    let mut doc = Document::new();
    let two_three = doc.tuple([pickle_codec::Value::Int(2), pickle_codec::Value::Int(3)]);
    let four = doc.set([pickle_codec::Value::Int(4)]);
    let l = doc.list([pickle_codec::Value::Int(1), two_three, four]);
    assert!(doc.list_push(l, l));
    let five = doc.frozenset([pickle_codec::Value::Int(5)]);
    let payload_root = doc.tuple([l, l, five]);
    doc.set_root(payload_root);

    let h = Holder {
        name: "x".into(),
        payload: doc.clone(),
    };
    let bytes = to_vec(&h).unwrap();
    let back: Holder = from_slice(&bytes).unwrap();
    assert_eq!(back.name, "x");
    assert!(back.payload == doc);
    assert_eq!(dumps(&back.payload, 4).unwrap(), dumps(&doc, 4).unwrap());
    // Python sees the tuple, the set, the frozenset and the shared,
    // self-containing list: the pickle holds the list once.
    let loaded = loads(&bytes).unwrap();
    let payload = loaded.root().get("payload").unwrap();
    assert_eq!(
        payload.to_string(),
        "([1, (2, 3), {4}, [...]], [1, (2, 3), {4}, [...]], frozenset({5}))"
    );
}

/// Other serde formats see the tree they saw before.
#[test]
fn other_formats_see_a_tree() {
    // pickle.dumps([1, 'a', {2}], 4)
    let doc = loads(
        b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94\x8f\x94(K\x02\x90e.",
    )
    .unwrap();
    assert_eq!(serde_json::to_string(&doc).unwrap(), r#"[1,"a",[2]]"#);
    let back: Document = serde_json::from_str(r#"{"k": [1, 2.5, null]}"#).unwrap();
    assert_eq!(back.root().to_string(), "{'k': [1, 2.5, None]}");
}
