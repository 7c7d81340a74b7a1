//! `from_reader` reads one pickle's bytes (`src/codec/extent.rs`) and then
//! deserializes as `from_slice` does: for every pickle we hold, and for
//! truncated and mutated copies, it must give what `from_slice` gives (the
//! same value, or the same error at the same offset) whatever sizes the
//! reads come in, without reading past what a frame or payload declares
//! before the bytes arrive.

mod common;

use std::collections::BTreeMap;
use std::io::{self, Read};

use serde_json::Value as Json;

fn dribble(data: &[u8], step: usize) -> common::Dribble<'_> {
    common::Dribble::new(data, step, true)
}

/// `from_reader` and `from_slice` of `T` agree on `data` (values by their
/// Debug form, errors by message).
fn agree<T>(name: &str, data: &[u8])
where
    T: serde::de::DeserializeOwned + std::fmt::Debug,
{
    agree_in::<T>(name, data, &[1, 7, 4096, 1 << 20]);
}

/// [`agree`] with reads of up to each of `steps` bytes.
fn agree_in<T>(name: &str, data: &[u8], steps: &[usize])
where
    T: serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut want = pickle_codec::from_slice::<T>(data).map_err(|e| e.to_string());
    // A reader may hold more after the pickle: from_reader reads up to the
    // STOP and leaves the rest (from_slice refuses it).
    if let Some(stop) = want
        .as_ref()
        .err()
        .and_then(|e| e.strip_prefix("trailing data after STOP at byte "))
        .and_then(|n| n.parse::<usize>().ok())
    {
        want = pickle_codec::from_slice::<T>(&data[..stop]).map_err(|e| e.to_string());
    }
    for &step in steps {
        let got = pickle_codec::from_reader::<_, T>(dribble(data, step)).map_err(|e| e.to_string());
        assert_eq!(
            format!("{got:?}"),
            format!("{want:?}"),
            "{name}: from_reader (reads of up to {step} bytes) differs from from_slice"
        );
    }
}

fn agree_all(name: &str, data: &[u8], steps: &[usize]) {
    agree_in::<Json>(name, data, steps);
    agree_in::<Vec<i64>>(name, data, steps);
    agree_in::<BTreeMap<String, Json>>(name, data, steps);
    agree_in::<Vec<(i64, String)>>(name, data, steps);
    agree_in::<Option<Vec<f64>>>(name, data, steps);
}

#[test]
fn from_reader_agrees_with_from_slice_on_every_pickle() {
    let all = common::pickle_corpus();
    assert!(all.len() > 1000, "{} pickles", all.len());
    for (name, data) in &all {
        // Byte-by-byte reads for the small ones (the large ones take long in
        // debug builds, and split no more kinds of instruction).
        let steps: &[usize] = if data.len() < 64 << 10 {
            &[1, 7, 4096, 1 << 20]
        } else {
            &[4093, 1 << 20]
        };
        agree_all(name, data, steps);
        if data.len() < 1024 {
            for cut in [1, data.len() / 2, data.len().saturating_sub(1)] {
                let cut = &data[..cut.min(data.len())];
                agree_all(&format!("{name} cut at {}", cut.len()), cut, &[3, 4096]);
            }
            let mut m = data.clone();
            for i in (0..m.len()).step_by(17) {
                let old = m[i];
                for b in [old ^ 1, 0x95, b'.', b'\n'] {
                    m[i] = b;
                    agree_all(&format!("{name} byte {i} = {b:#x}"), &m, &[5]);
                }
                m[i] = old;
            }
        }
    }
}

/// Framed and unframed pickles of every shape the walk distinguishes: a
/// frame ending in `.` that is not the last one, payloads written between
/// frames, protocol-0 text lines.
#[test]
fn frames_payloads_and_lines() {
    let floats: Vec<f64> = (0..30_000).map(|i| i as f64 / 7.0).collect();
    let strs: Vec<String> = (0..5_000).map(|i| format!("s{i}.")).collect();
    let blob = serde_bytes::ByteBuf::from(vec![b'.'; 300_000]);
    // Runs of one instruction of one length (which the walk skips whole),
    // broken by other widths, other lengths and one-off values.
    let ints: Vec<i64> = (0..30_000i64)
        .map(|i| match (i / 97) % 6 {
            0 => i % 250,
            1 => 300 + i % 60_000,
            2 => -i,
            3 => (1 << 40) + i,
            4 if i % 13 == 0 => i << 50,
            4 => (1 << 62) + i,
            _ => i % 3 * 1000,
        })
        .collect();
    let words: Vec<serde_bytes::ByteBuf> = (0..20_000u32)
        .map(|i| {
            serde_bytes::ByteBuf::from(format!("w{}", i % 1000 + (i / 700) * 1000).into_bytes())
        })
        .collect();
    for protocol in 0..=5 {
        let o = || pickle_codec::DumpOptions::new(protocol);
        let data = pickle_codec::to_vec_with(&floats, o()).unwrap();
        agree::<Vec<f64>>("floats", &data);
        let data = pickle_codec::to_vec_with(&ints, o()).unwrap();
        agree::<Vec<i64>>("ints", &data);
        let data = pickle_codec::to_vec_with(&words, o()).unwrap();
        agree::<Vec<serde_bytes::ByteBuf>>("words", &data);
        let data = pickle_codec::to_vec_with(&strs, o()).unwrap();
        agree::<Vec<String>>("strs", &data);
        let data = pickle_codec::to_vec_with(&(blob.clone(), 5, "x"), o()).unwrap();
        agree::<(serde_bytes::ByteBuf, i64, String)>("bytes", &data);
    }
}

/// A pickle followed by more bytes: the value is the first pickle's.
#[test]
fn bytes_after_the_stop_are_left_alone() {
    let mut data = pickle_codec::to_vec(&vec![1i64, 2, 3]).unwrap();
    data.extend_from_slice(b"not a pickle at all");
    let v: Vec<i64> = pickle_codec::from_reader(dribble(&data, 3)).unwrap();
    assert_eq!(v, [1, 2, 3]);
}

/// A frame or payload claiming more bytes than exist: an error, after
/// reading what is there, without reserving what was claimed.
#[test]
fn huge_length_claims_are_read_as_bytes_arrive() {
    let mut frame = vec![0x80, 4, 0x95];
    frame.extend_from_slice(&(1u64 << 60).to_le_bytes());
    frame.extend_from_slice(b"K\x01.");
    let mut bytes8 = vec![0x80, 4, 0x8e];
    bytes8.extend_from_slice(&(1u64 << 62).to_le_bytes());
    bytes8.extend_from_slice(b"abc");
    for data in [frame, bytes8] {
        let err = pickle_codec::from_reader::<_, Json>(dribble(&data, 5)).unwrap_err();
        let want = pickle_codec::from_slice::<Json>(&data).unwrap_err();
        assert_eq!(err.to_string(), want.to_string());
    }
}

/// An I/O error is reported as one, at the bytes read before it.
#[test]
fn io_errors_are_reported() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            self.0 -= 1;
            buf[0] = b'(';
            Ok(1)
        }
    }
    let err = pickle_codec::from_reader::<_, Json>(Failing(3)).unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(err.category(), pickle_codec::Category::Io);
}

/// A pickle read from a reader with payloads of 1 MiB and more is loaded to
/// a document whose large payloads the value takes over where the walk
/// reaches them once (`src/de/handover.rs`); payloads reached twice (memo
/// sharing), below an object, or asked for as a standalone pickle (numpy
/// arrays) are copied. Every value must be whole, as from `from_slice`.
#[test]
fn large_payloads_are_whole_whether_moved_or_shared() {
    use pickle_codec::numpy::NdArray;
    use pickle_codec::{Document, ObjectKind};
    use serde_bytes::ByteBuf;

    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i % 253) as u8).collect();
    let text = "ж".repeat(600_000); // 1.2 MB of UTF-8
    let floats: Vec<f64> = (0..1 << 18).map(f64::from).collect();
    let mut doc = Document::new();
    let shared = doc.bytes(&big);
    let once = doc.bytes(&big[1..]);
    let s = doc.str(&text);
    let ba = doc.bytearray(&big[2..]);
    let args = doc.tuple([shared]);
    let cls = doc.global("pkg", "Holder");
    let obj = doc.object(ObjectKind::NewObj, cls, args);
    let arr = NdArray::from_vec(vec![1 << 18], &floats)
        .unwrap()
        .to_value(&mut doc, 5);
    let inner = doc.dict_str([("text", s), ("bytearray", ba)]);
    let root = doc.list([shared, once, inner, obj, arr, shared]);
    doc.set_root(root);

    type Model = (
        ByteBuf,
        ByteBuf,
        BTreeMap<String, ByteBuf>,
        Vec<ByteBuf>,
        NdArray<'static>,
        ByteBuf,
    );
    for protocol in [3, 4, 5] {
        let data = pickle_codec::dumps(&doc, protocol).unwrap();
        let (a, b, c, d, e, f) =
            pickle_codec::from_reader::<_, Model>(dribble(&data, 1 << 16)).unwrap();
        assert!(
            a == big && f == big && b.as_slice() == &big[1..],
            "protocol {protocol}"
        );
        assert_eq!(c["text"].as_slice(), text.as_bytes(), "protocol {protocol}");
        assert_eq!(c["bytearray"].as_slice(), &big[2..], "protocol {protocol}");
        assert!(d.len() == 1 && d[0] == big, "protocol {protocol}");
        assert_eq!(e.shape, vec![1 << 18], "protocol {protocol}");
        assert_eq!(e.to_vec::<f64>().unwrap(), floats, "protocol {protocol}");
        let mut alone = Document::new();
        let t = alone.str(&text);
        alone.set_root(t);
        let alone = pickle_codec::dumps(&alone, protocol).unwrap();
        let got: String = pickle_codec::from_reader(dribble(&alone, 4096)).unwrap();
        assert_eq!(got, text, "protocol {protocol}");
        let name = format!("large payloads, protocol {protocol}");
        agree_in::<Model>(&name, &data, &[4093, 1 << 20]);
        agree_in::<Json>(&name, &data, &[4093, 1 << 20]);
    }
}
