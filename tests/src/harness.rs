//! The scenario harness: accounts ([`Peer`]) on one simulated Waku network, each wiring the
//! sans-IO crates together the way an application would.
//!
//! **This is a test harness, not a facade.** It is what the future `kaiwa` facade crate will do
//! for real (and replace): it owns an identity and its 1:1 sessions, subscribes to the content
//! topics kaiwa-transport names, fans group messages out over 1:1 sessions, routes organization
//! traffic to the owner or member side, deduplicates by message hash and catches up from the
//! store. It takes shortcuts a product must not: everything lives in memory, the 1:1 payload
//! framing is test-only ([`frame`]), and every refusal is recorded as an [`Incident`] for the
//! tests to assert on instead of being surfaced to a user.
//!
//! ```text
//! module        what
//! peer          Peer: identity, SessionManager + in-memory store, SimNode, subscriptions,
//!               1:1 send/receive, dedup, store catch-up, eavesdropping
//! peer/group    private groups: create/join/add/rename/remove/send, fan-out, receive
//! peer/org      organizations: owner (requests, accept, invite, access, ban) and member
//!               (follow, request, descriptions, re-keys, channel messages) sides
//! frame         the test-only 1:1 application framing
//! network       settle(): run the network and pump every peer until nothing moves;
//!               trace helpers that prove the faults really happened
//! error         HarnessError (a step failed) and Incident (inbound data was refused)
//! limits        the harness's bounds
//! ```
//!
//! The files live in `tests/src/` but are compiled into the `it` test binary (`it.rs` loads
//! this file with `#[path]`): the layering table gives `kaiwa-tests` no normal dependency on
//! any kaiwa crate, and a test binary may use dev-dependencies.

mod error;
pub(crate) mod frame;
mod limits;
mod network;
mod peer;

pub(crate) use error::{HarnessError, Incident};
pub(crate) use network::{reordered_deliveries, settle, settle_except};
pub(crate) use peer::{ChannelDelivery, GroupDelivery, OwnerEvent, Peer, Posted};
