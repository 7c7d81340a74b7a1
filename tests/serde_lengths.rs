//! A sequence longer than the Rust type is an error, as with serde_json,
//! on every load path, never a value with the extra items dropped.

use pickle_codec::{from_document, from_reader, from_slice, loads, to_vec};

#[test]
fn extra_items_are_refused_everywhere() {
    let three: Vec<i64> = vec![1, 2, 3];
    let tuple3 = (1i64, 2i64, 3i64);
    // A list and a tuple of three, at protocols 0, 2 and 4 (this crate's
    // bytes are CPython's, tests/pickler_exact.rs).
    for p in [0, 2, 4] {
        for bytes in [
            pickle_codec::to_vec_with(&three, pickle_codec::DumpOptions::new(p)).unwrap(),
            pickle_codec::to_vec_with(&tuple3, pickle_codec::DumpOptions::new(p)).unwrap(),
        ] {
            let p = &bytes[..];
            let e = from_slice::<(i64, i64)>(p).unwrap_err();
            assert!(
                e.to_string()
                    .contains("invalid length 3, expected 2 elements in sequence"),
                "{e}"
            );
            assert!(from_slice::<[i64; 2]>(p).is_err());
            assert!(from_reader::<_, (i64, i64)>(p).is_err());
            let doc = loads(p).unwrap();
            assert!(from_document::<(i64, i64)>(&doc).is_err());
            // Exactly as long, or read into a growable type: fine.
            assert_eq!(from_slice::<(i64, i64, i64)>(p).unwrap(), (1, 2, 3));
            assert_eq!(from_slice::<Vec<i64>>(p).unwrap(), vec![1, 2, 3]);
            assert_eq!(from_slice::<[i64; 3]>(p).unwrap(), [1, 2, 3]);
        }
    }
    // A struct read from a sequence (a namedtuple's args) too.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Point {
        x: i64,
        y: i64,
    }
    assert!(from_slice::<Point>(&to_vec(&tuple3).unwrap()).is_err());
    assert!(from_slice::<Point>(&to_vec(&(1i64, 2i64)).unwrap()).is_ok());
}

/// The stream path still takes sequences read to their end and exact
/// tuples (it hands over only when items are left).
#[test]
fn the_stream_path_keeps_exact_sequences() {
    use pickle_codec::de::paths;
    for p in [2, 4, 5] {
        let pair =
            pickle_codec::to_vec_with(&(1i64, 2i64), pickle_codec::DumpOptions::new(p)).unwrap();
        assert_eq!(
            paths::stream::<(i64, i64)>(&pair),
            Some((1, 2)),
            "protocol {p}"
        );
        let list =
            pickle_codec::to_vec_with(&vec![1i64, 2], pickle_codec::DumpOptions::new(p)).unwrap();
        assert_eq!(
            paths::stream::<[i64; 2]>(&list),
            Some([1, 2]),
            "protocol {p}"
        );
        let three = pickle_codec::to_vec_with(&vec![1i64, 2, 3], pickle_codec::DumpOptions::new(p))
            .unwrap();
        assert_eq!(paths::stream::<(i64, i64)>(&three), None, "protocol {p}");
    }
}
