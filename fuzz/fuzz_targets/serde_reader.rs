//! `from_reader` against `from_slice` on any bytes, read in chunks of
//! varying sizes: the same value or the same error (see
//! `src/codec/extent.rs`). A reader may hold bytes after the pickle, which
//! `from_reader` leaves and `from_slice` refuses: then the slice up to the
//! STOP is compared.
#![no_main]

#[allow(dead_code)] // Record borrows: not a DeserializeOwned type
mod typed;

use std::collections::BTreeMap;
use std::io::Read;

use libfuzzer_sys::fuzz_target;
use typed::Kind;

/// Hands out 1..=`step` bytes per read, varying.
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
    n: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.n += 1;
        let k = (1 + (self.n * 7919) % self.step)
            .min(buf.len())
            .min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

fn agree<T: serde::de::DeserializeOwned + std::fmt::Debug>(data: &[u8], step: usize) {
    let mut want = pickle_codec::from_slice::<T>(data).map_err(|e| e.to_string());
    if let Some(stop) = want
        .as_ref()
        .err()
        .and_then(|e| e.strip_prefix("trailing data after STOP at byte "))
        .and_then(|n| n.parse::<usize>().ok())
    {
        want = pickle_codec::from_slice::<T>(&data[..stop]).map_err(|e| e.to_string());
    }
    let got =
        pickle_codec::from_reader::<_, T>(Chunks { data, step, n: 0 }).map_err(|e| e.to_string());
    assert_eq!(
        format!("{got:?}"),
        format!("{want:?}"),
        "from_reader differs"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&s, data)) = data.split_first() else {
        return;
    };
    let step = 1 + s as usize * 97;
    agree::<Vec<(i64, String)>>(data, step);
    agree::<BTreeMap<String, Vec<Option<f64>>>>(data, step);
    agree::<Vec<Kind>>(data, step);
    agree::<(Vec<u8>, (i32, i32, i32), Option<String>)>(data, step);
});
