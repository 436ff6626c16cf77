//! Integration tests of kaiwa-store: the store-trait conformance suites (run against the
//! protocol crates' in-memory stores and against SQLite), migrations, transactions, the
//! outbox, history and contacts, listings and client state, corrupt data, and crash safety
//! under SIGKILL. One binary,
//! modules under `it/` (rustls style).

#![allow(missing_docs, reason = "test binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    mod client_state;
    pub(crate) mod common;
    mod conformance;
    mod corruption;
    mod crash;
    mod history;
    mod migrations;
    mod outbox;
    mod transactions;
}
