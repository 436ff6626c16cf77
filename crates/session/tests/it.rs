//! Integration tests of kaiwa-session's public API: sessions, session management and
//! recovery, state-machine properties, known-answer vectors. One binary, modules under `it/`
//! (rustls style).

#![allow(missing_docs, reason = "test binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    pub(crate) mod common;
    mod manager;
    mod properties;
    mod session;
    mod vectors;
}
