//! Integration tests of kaiwa-org: one binary (rustls style), modules under `it/`.

// clippy.toml allows these inside `#[test]` functions only; the shared helpers of this test
// binary (`it/common.rs`, `Club`) are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "test helpers")]

mod it {
    mod channels;
    pub(crate) mod common;
    mod decoders;
    mod descriptions;
    mod flows;
    mod fuzz_corpus;
    mod security;
    mod store;
    mod vectors;
}
