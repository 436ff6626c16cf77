//! Integration tests of the kaiwa facade: clients on the simulated network and on relay
//! nodes over loopback, with SQLite stores in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "it/support.rs"]
mod support;

#[path = "it/direct.rs"]
mod direct;

#[path = "it/outbox.rs"]
mod outbox;

#[path = "it/group.rs"]
mod group;

#[path = "it/org.rs"]
mod org;

#[path = "it/relay.rs"]
mod relay;

#[path = "it/crash.rs"]
mod crash;

#[path = "it/over_relay.rs"]
mod over_relay;
