//! kaiwa-relay integration tests: real nodes over loopback TCP and WebSocket, and js-waku
//! interop. Every network wait has a hard timeout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    mod interop;
    mod lifecycle;
    mod logging;
    mod metadata;
    mod relay;
    mod store;
    mod support;
    mod transport;
}
