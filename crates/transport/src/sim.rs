//! A seeded, deterministic simulated Waku network for tests.
//!
//! ```text
//!            publish(pubsub, msg) at virtual time t
//!   node A ─────────────────────────────────────────┐
//!                                                   │ for each recipient R, in id order:
//!                                                   │   R = every other node with a live matching
//!                                                   │       subscription, and the store unless
//!                                                   │       the message is ephemeral
//!                                                   │   different partition sides → dropped
//!                                                   │   draw loss            → dropped
//!                                                   │   draw delay ∈ [min, max] → queue at t + delay
//!                                                   │   draw duplicate       → second copy, own delay
//!                                                   ▼
//!                        event queue ordered by (delivery time, send order)
//!                                                   │ step / advance / run_until_idle / driver
//!                                                   ▼
//!   delivery: sides differ now → dropped; store → admission + retention; node → every
//!             matching subscription of R (unbounded queue, poll with try_next or await)
//! ```
//!
//! Determinism: every random choice is drawn from one ChaCha8 stream seeded with a `u64`, in an
//! order fixed by the calls the test makes, so the same seed and the same calls give the same
//! [`TraceEvent`]s; a different seed gives a different trace once faults draw. Time is virtual:
//! nothing sleeps, and [`SimNetwork::now_unix_nanos`] is the clock simulated applications use.
//!
//! Model choices, each matching the real network as closely as a test needs:
//! - a publisher does not receive its own messages (rust-libp2p gossipsub's behaviour);
//! - copies are not deduplicated: duplicates reach subscribers, as relay plus store can;
//! - the store ([`NodeId::STORE`]) is a node: partitions cut it off, and it admits messages as
//!   nwaku's archive does (timestamp within 20 s of its clock, not ephemeral), keeps each hash
//!   once, orders by `(timestamp, hash)` and evicts the oldest beyond its count bound on
//!   arrival and beyond its age bound whenever virtual time moves;
//! - store queries answer at once and only read; only partitions and unknown cursors fail them;
//! - a node partitioned off from everyone gets [`SimError::NoPeers`] when it publishes.
//!
//! Synchronous tests call `node.publish_now(..)`, `network.run_until_idle()` and
//! `subscription.try_next()`. Async tests use the [`Transport`](crate::Transport) methods and
//! either spawn [`SimNetwork::driver`] or wrap the test body in [`SimNetwork::run`].

mod config;
mod network;
mod node;
mod store;
mod trace;

pub use config::{LinkFaults, Probability, SimConfig, StoreConfig};
pub use network::{Driver, Run, SimNetwork};
pub use node::{SimError, SimNode};
pub use store::StoreStats;
pub use trace::{DropReason, NodeId, NodeStats, TraceEvent};
