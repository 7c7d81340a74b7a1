//! Loading from a reader never holds two copies of a large payload: the
//! bytes are read once, into the vector the deserialized value keeps.
//!
//! This test binary counts every allocation (its own global allocator), so
//! it holds only the tests that measure memory, run one at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use serde::Deserialize;
use serde_bytes::ByteBuf;

/// The system allocator, counting the bytes held now and the most held.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = HELD.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            HELD.fetch_sub(layout.size() - new_size, Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// One measurement at a time (the test harness runs tests on threads).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The most bytes held while `f` ran, beyond those held when it started,
/// and what it returned.
fn peak_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let start = HELD.load(Relaxed);
    PEAK.store(start, Relaxed);
    let t = f();
    (PEAK.load(Relaxed) - start, t)
}

const MIB: usize = 1 << 20;

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A pickle of `doc` at `protocol`.
fn pickled(doc: &pickle_codec::Document, protocol: u8) -> Vec<u8> {
    pickle_codec::dumps(doc, protocol).unwrap()
}

#[test]
fn a_large_bytes_is_read_once_into_the_value() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let data = payload(32 * MIB);
    for protocol in [3, 4, 5] {
        let mut doc = pickle_codec::Document::new();
        let v = doc.bytes(&data);
        doc.set_root(v);
        let pickle = pickled(&doc, protocol);
        drop(doc);
        let (peak, got) = peak_during(|| {
            pickle_codec::from_reader::<_, ByteBuf>(std::io::BufReader::new(&pickle[..])).unwrap()
        });
        assert!(got.as_slice() == data, "protocol {protocol}: wrong bytes");
        assert!(
            peak < data.len() + 2 * MIB,
            "protocol {protocol}: {peak} bytes held at most to load {} bytes",
            data.len()
        );
    }
}

#[test]
fn large_strs_and_bytes_in_containers_are_read_once() {
    #[derive(Deserialize)]
    struct Model {
        name: String,
        weights: ByteBuf,
        layers: Vec<ByteBuf>,
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let weights = payload(8 * MIB);
    let layer = payload(4 * MIB);
    let name = "ж".repeat(2 * MIB); // 4 MiB of UTF-8
    let mut doc = pickle_codec::Document::new();
    let n = doc.str(&name);
    let w = doc.bytes(&weights);
    let l1 = doc.bytes(&layer);
    let l2 = doc.bytearray(&layer);
    let layers = doc.list([l1, l2]);
    let root = doc.dict_str([("name", n), ("weights", w), ("layers", layers)]);
    doc.set_root(root);
    let pickle = pickled(&doc, 5);
    drop(doc);
    let total = weights.len() + 2 * layer.len() + name.len();
    let (peak, got) = peak_during(|| {
        pickle_codec::from_reader::<_, Model>(std::io::BufReader::new(&pickle[..])).unwrap()
    });
    assert!(got.name == name && got.weights == weights);
    assert!(got.layers.len() == 2 && got.layers.iter().all(|l| l.as_slice() == layer));
    assert!(
        peak < total + 2 * MIB,
        "{peak} bytes held at most to load {total} bytes of payloads"
    );
}
