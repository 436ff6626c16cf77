//! Integration tests of kaiwa-transport's public API: the 14/WAKU2-MESSAGE hash vectors, topic
//! derivation and autosharding, the simulated network and its store, and the `Transport` trait
//! from async code. One binary, modules under `it/` (rustls style).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    mod async_transport;
    mod message;
    mod sim;
    mod store;
    mod topics;
}
