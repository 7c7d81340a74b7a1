//! The streaming serde path (`src/de/stream.rs`) against the document path:
//! wherever the stream path gives a value, the document path must give the
//! same one, for every pickle we have (CPython's corpus, the fixtures) and
//! for truncated and mutated copies of them; and it must actually take the
//! common CPython shapes.

mod common;

use std::collections::BTreeMap;

use pickle_codec::de::paths;
use serde::Deserialize;
use serde_json::Value as Json;

fn corpus() -> Vec<(String, Vec<u8>)> {
    common::pickle_corpus()
}

#[derive(Deserialize, Debug, PartialEq)]
enum Shape {
    Unit,
    New(i64),
    Pair(i64, String),
    Named { x: f64, tags: Vec<String> },
}

/// Check one type on one input; returns whether the stream path took it.
fn agree<'de, T>(name: &str, data: &'de [u8]) -> bool
where
    T: Deserialize<'de> + std::fmt::Debug,
{
    let Some(streamed) = paths::stream::<T>(data) else {
        return false;
    };
    match paths::document::<T>(data) {
        // Debug forms, so that NaN equals NaN (and -0.0 differs from 0.0).
        Ok(doc) => assert_eq!(
            format!("{streamed:?}"),
            format!("{doc:?}"),
            "{name}: the paths disagree as {}",
            std::any::type_name::<T>()
        ),
        Err(e) => panic!(
            "{name}: the stream path gave {streamed:?} as {} where the document path fails: {e}",
            std::any::type_name::<T>()
        ),
    }
    true
}

fn agree_all(name: &str, data: &[u8]) -> usize {
    let mut n = 0;
    n += agree::<Json>(name, data) as usize;
    n += agree::<Vec<Json>>(name, data) as usize;
    n += agree::<BTreeMap<String, Json>>(name, data) as usize;
    n += agree::<Vec<(i64, String)>>(name, data) as usize;
    n += agree::<(Json, Json)>(name, data) as usize;
    n += agree::<Option<Vec<Option<i64>>>>(name, data) as usize;
    n += agree::<Vec<Shape>>(name, data) as usize;
    n += agree::<Shape>(name, data) as usize;
    n += agree::<Vec<&str>>(name, data) as usize;
    n += agree::<BTreeMap<String, (i64, f64)>>(name, data) as usize;
    // The typed hints (ints, floats, strs decoded out of line) with range checks.
    n += agree::<Vec<u8>>(name, data) as usize;
    n += agree::<Vec<f32>>(name, data) as usize;
    n += agree::<Vec<String>>(name, data) as usize;
    n += agree::<BTreeMap<String, u16>>(name, data) as usize;
    agree::<serde::de::IgnoredAny>(name, data);
    n
}

#[test]
fn stream_and_document_paths_agree_on_every_pickle() {
    let all = corpus();
    assert!(all.len() > 1000, "{} pickles", all.len());
    let (mut streamed, mut mutants) = (0, 0);
    for (name, data) in &all {
        streamed += agree_all(name, data);
        // Truncations and single-byte mutations of small pickles.
        if data.len() < 1024 {
            for cut in [
                1,
                data.len() / 3,
                data.len() / 2,
                data.len().saturating_sub(2),
            ] {
                mutants += agree_all(
                    &format!("{name} cut at {cut}"),
                    &data[..cut.min(data.len())],
                );
            }
            let mut m = data.clone();
            for i in (0..m.len()).step_by(11) {
                let old = m[i];
                for b in [old ^ 1, b'(', b'h', b'e', b's'] {
                    m[i] = b;
                    mutants += agree_all(&format!("{name} byte {i} = {b:#x}"), &m);
                }
                m[i] = old;
            }
        }
    }
    eprintln!("stream path took {streamed} typed loads of originals, {mutants} of mutants");
    assert!(streamed > 500, "stream path took only {streamed}");
}

#[test]
fn stream_path_takes_cpython_shapes() {
    // Each of these must be read on the stream path (not handed over).
    let cases: &[(&str, &[u8])] = &[
        // [1, 'a', 2.5, None, True, b'x'] at protocol 2
        (
            "list p2",
            b"\x80\x02]q\x00(K\x01X\x01\x00\x00\x00aq\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88e.",
        ),
        // {'a': 1} at protocol 4 (framed, MEMOIZE)
        (
            "dict p4",
            b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.",
        ),
        // [(1, 'a')] at protocol 2
        (
            "tuple item p2",
            b"\x80\x02]q\x00K\x01X\x01\x00\x00\x00aq\x01\x86q\x02a.",
        ),
    ];
    for (name, data) in cases {
        assert!(
            paths::stream::<Json>(data).is_some()
                || paths::stream::<Vec<(i64, String)>>(data).is_some(),
            "{name}: not streamed"
        );
        assert!(agree_all(name, data) > 0, "{name}");
    }
    let records: Vec<BTreeMap<String, Json>> = paths::stream(
        &pickle_codec::to_vec(&vec![BTreeMap::from([("k".to_string(), 1)])]).unwrap(),
    )
    .expect("streamed");
    assert_eq!(records.len(), 1);
}

#[test]
fn shared_values_and_cycles() {
    // x = 'shared'; [x, x, [x]] shares the str through the memo; a cycle
    // (l = []; l.append(l)) is handed over and refused by both paths as JSON.
    let shared = b"\x80\x02]q\x00(X\x06\x00\x00\x00sharedq\x01h\x01]q\x02h\x01ae.";
    let v: Json = paths::stream(shared).expect("streamed");
    assert_eq!(v, serde_json::json!(["shared", "shared", ["shared"]]));
    let cycle = b"\x80\x02]q\x00h\x00a.";
    assert!(paths::stream::<Json>(cycle).is_none());
}

#[test]
fn deep_nesting_is_bounded_on_both_paths() {
    // [[[...]]] and ((...),) nested n deep, in CPython's protocol-2 form
    // (EMPTY_LIST ... APPEND / ... TUPLE1): within the limit both paths give
    // the value, beyond it the same error, and never a stack overflow.
    for n in [1usize, 47, 48, 49, 127, 128, 129, 1_000, 100_000] {
        let mut list = b"\x80\x02".to_vec();
        list.extend(std::iter::repeat(b']').take(n));
        list.extend(std::iter::repeat(b'a').take(n - 1));
        list.push(b'.');
        let mut tuple = b"\x80\x02N".to_vec();
        tuple.extend(std::iter::repeat(0x85u8).take(n));
        tuple.push(b'.');
        for data in [&list, &tuple] {
            let a = pickle_codec::from_slice::<Json>(data);
            let b = paths::document::<Json>(data);
            match (&a, &b) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "depth {n}"),
                (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string(), "depth {n}"),
                _ => panic!("depth {n}: {a:?} vs {b:?}"),
            }
            // LoadOptions::recursion_limit is 128 by default.
            if n <= 128 {
                assert!(a.is_ok(), "depth {n}");
            } else if n >= 1_000 {
                assert!(a.is_err(), "depth {n}");
            }
        }
    }
}

/// Long lists of scalars written in frames (protocol 4/5): the typed hints
/// decode ints, floats and strs out of line, handing frame boundaries,
/// memoized strs and the last bytes of the input to the general way; the
/// values must be the document path's.
#[test]
fn framed_scalars_agree_with_the_document_path() {
    let ints: Vec<i64> = (0..40_000i64)
        .map(|i| match i % 6 {
            0 => i % 256,
            1 => i * 300,
            2 => -i,
            3 => i << (i % 56),
            4 => -(i << (i % 56)),
            _ => i64::MIN + i,
        })
        .collect();
    let floats: Vec<f64> = (0..20_000).map(|i| i as f64 * 0.37 - 99.0).collect();
    let strs: Vec<String> = (0..20_000)
        .map(|i| format!("é{i}{}", "x".repeat(i % 40)))
        .collect();
    for protocol in [2, 4, 5] {
        let o = || pickle_codec::DumpOptions::new(protocol);
        let data = pickle_codec::to_vec_with(&ints, o()).unwrap();
        assert_eq!(paths::stream::<Vec<i64>>(&data), Some(ints.clone()));
        assert!(agree::<Vec<i64>>("ints", &data));
        assert!(agree::<Vec<i128>>("ints", &data));
        let data = pickle_codec::to_vec_with(&floats, o()).unwrap();
        assert_eq!(paths::stream::<Vec<f64>>(&data), Some(floats.clone()));
        assert!(agree::<Vec<f32>>("floats", &data));
        let data = pickle_codec::to_vec_with(&strs, o()).unwrap();
        assert_eq!(paths::stream::<Vec<String>>(&data), Some(strs.clone()));
        assert!(agree::<Vec<&str>>("strs", &data));
        // The same str memoized and fetched again by GET.
        let shared = pickle_codec::dumps(
            &{
                let mut d = pickle_codec::Document::new();
                let s = d.str("shared key");
                let v = d.list(std::iter::repeat_n(s, 1000));
                d.set_root(v);
                d
            },
            protocol,
        )
        .unwrap();
        assert_eq!(
            paths::stream::<Vec<String>>(&shared),
            Some(vec!["shared key".to_string(); 1000])
        );
    }
}
