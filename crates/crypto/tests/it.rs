//! Integration tests of kaiwa-crypto's public API: third-party vectors (Project Wycheproof,
//! RFCs) and property tests. One binary, modules under `it/` (rustls style).
//!
//! Run with `--nocapture` to see the per-set Wycheproof counts.

#![allow(missing_docs, reason = "test binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

#[path = "it/kat.rs"]
mod kat;
#[path = "it/properties.rs"]
mod properties;
#[path = "it/rfc.rs"]
mod rfc;
#[path = "it/wycheproof.rs"]
mod wycheproof;

use std::collections::HashMap;

/// Parses the `KEY = VALUE` format of the RFC/NIST-style `.txt` vectors. A block ends where a
/// key repeats (blank lines may sit inside a block, as in the RFC 5869 file); `#` starts a
/// comment line. Keys are kept as written.
pub(crate) fn kv_blocks(text: &str) -> Vec<HashMap<String, String>> {
    let mut blocks = Vec::new();
    let mut current: HashMap<String, String> = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').expect("KEY = VALUE");
        let key = key.trim().to_owned();
        if current.contains_key(&key) {
            blocks.push(std::mem::take(&mut current));
        }
        current.insert(key, value.trim().to_owned());
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

pub(crate) fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).expect("hex")
}

pub(crate) fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().expect("fixed length")
}

/// Per-set tally of vector outcomes, printed at the end of each test.
#[derive(Default, Debug)]
pub(crate) struct Tally {
    /// Valid (or acceptable-and-accepted) cases that produced exactly the expected output.
    pub(crate) passed: usize,
    /// Invalid (or acceptable-and-rejected) cases that the API rejected.
    pub(crate) rejected: usize,
    /// Cases with parameters the crate does not ship (key/nonce/tag sizes).
    pub(crate) out_of_scope: usize,
}

impl Tally {
    pub(crate) fn print(&self, set: &str, total: usize) {
        println!(
            "{set}: {total} cases: {} passed, {} rejected as expected, {} out of scope",
            self.passed, self.rejected, self.out_of_scope
        );
        assert_eq!(
            self.passed + self.rejected + self.out_of_scope,
            total,
            "{set}: every case counted"
        );
    }
}
