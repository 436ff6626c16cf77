//! Integration tests of kaiwa-group: the authorization table, CRDT convergence, receiving,
//! records and known-answer vectors. One binary, modules under `it/` (rustls style).

#![allow(missing_docs, reason = "test binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    mod authorization;
    mod convergence;
    mod receive;
    mod record;
    mod support;
    mod vectors;
}
