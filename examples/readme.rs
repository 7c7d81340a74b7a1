use pickle_codec::{dumps, loads, Document};

fn main() -> Result<(), pickle_codec::Error> {
    // What Python wrote: pickle.dumps({"a": [1, 2.5, None]}, protocol=2)
    let data =
        b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.";
    let doc = loads(data)?;
    let a = doc.root().get("a").expect("key 'a'");
    assert_eq!(a.index(1).and_then(|v| v.as_f64()), Some(2.5));
    println!("{}", doc.root()); // {'a': [1, 2.5, None]}

    // Written back: byte for byte what CPython writes.
    assert_eq!(dumps(&doc, 2)?, data);

    // Built in Rust: a list shared twice and a list that contains itself.
    let mut doc = Document::new();
    let shared = doc.list([1.into(), 2.into()]);
    let outer = doc.list([shared, shared]);
    doc.list_push(outer, outer); // outer.append(outer)
    doc.set_root(outer);
    let bytes = dumps(&doc, 5)?;
    assert!(loads(&bytes)? == doc);
    Ok(())
}
