//! Any bytes: the scanner never panics, and whenever `loads_all` reads them
//! the scan reads them to the end too and names every global the documents
//! hold (a global it missed would run on load without a verdict).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pickle_codec::scan::{scan_bytes, Policy};
use pickle_codec::Node;

fuzz_target!(|data: &[u8]| {
    let report = scan_bytes(data, &Policy::default());
    let Ok(docs) = pickle_codec::loads_all(data) else {
        return;
    };
    if let Some(e) = &report.error {
        // A cut-short legacy torch file: torch.load refuses it, pickle.load does not.
        assert!(
            e.message().starts_with("legacy torch"),
            "loads_all reads it, the scan fails: {e}"
        );
    }
    for doc in &docs {
        for node in doc.nodes() {
            if let Node::Global(g) = node {
                // Lone surrogates as U+FFFD, as the scanner names them.
                let lossy = |v: pickle_codec::ValueRef<'_>| match v.kind() {
                    pickle_codec::Kind::Str(s) => s.to_string_lossy().into_owned(),
                    _ => "?".to_string(),
                };
                let (m, n) = (lossy(doc.get(g.module)), lossy(doc.get(g.name)));
                assert!(
                    report.findings.iter().any(|f| f.module == m && f.name == n),
                    "the scan does not name {m}.{n}"
                );
            }
        }
    }
});
