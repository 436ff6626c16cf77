//! The `kaiwa` program driven as a person would: through its command line, stdin and stdout
//! (`init`, `id`, two `chat` processes over loopback, `demo`). One binary, modules under `it/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failed expectation is a test failure"
)]

mod it {
    mod chat;
    mod demo;
    mod id;
    mod init;
    mod support;
}
