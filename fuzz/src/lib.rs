//! The bodies of kaiwa's fuzz targets, their fixtures and their seed corpus.
//!
//! Each libFuzzer target in `fuzz_targets/` is one line calling a function here, so the same
//! code runs under libFuzzer (`cargo fuzz run -s none <target>`), in this crate's tests (every
//! committed seed replayed, and each seed checked to reach what its name says), and in the seed
//! generator (`examples/gen_corpus.rs`), which runs every seed once before writing it.
//!
//! | target | crate | what it feeds the bytes to |
//! | --- | --- | --- |
//! | [`crypto_decode`] | kaiwa-crypto | key, signature, nonce, wrapped-key and secret parsers; hex; `verify` |
//! | [`crypto_open`] | kaiwa-crypto | `open_box`, `KeyUnwrapper::unwrap_key`, both AEADs' `open` |
//! | [`transport_message`] | kaiwa-transport | `WakuMessage::decode` |
//! | [`transport_store_request`] | kaiwa-transport | `StoreQuery: TryFrom<StoreQueryRequest>` |
//! | [`transport_store_response`] | kaiwa-transport | `StorePage: TryFrom<StoreQueryResponse>` |
//! | [`transport_topics`] | kaiwa-transport | content/pubsub topic, message hash, peer id, application name parsers |
//! | [`group_message`] | kaiwa-group | `IncomingMessage::decode`, `GroupId::parse`, `MemberId::from_text` |
//! | [`group_event`] | kaiwa-group | `UnverifiedEvent::decode` and `verify` |
//! | [`group_record`] | kaiwa-group | `Group::from_record_bytes` |
//! | [`group_receive`] | kaiwa-group | `Group::receive` on a fixed valid group (state machine) |
//! | [`group_convergence`] | kaiwa-group | signed events delivered to replicas in different orders (CRDT) |
//! | [`session_envelope`] | kaiwa-session | `Envelope::decode` |
//! | [`session_bundle`] | kaiwa-session | `Bundle::decode` and `verify` |
//! | [`session_contact_code`] | kaiwa-session | `decode_contact_code` (text and binary form) |
//! | [`session_record`] | kaiwa-session | `Session::from_record`, peer records through `SessionManager`, `Account::from_records` |
//! | [`session_receive`] | kaiwa-session | `SessionManager::receive` on an established pair (state machine) |
//! | [`org_signed`] | kaiwa-org | `SignedDescription::verify`, `SignedGrant::verify`, `Invitation::verify`, kick notices, id parsers |
//! | [`org_record`] | kaiwa-org | `Organization::from_record`, `OrganizationView::from_record` |
//! | [`org_view`] | kaiwa-org | a member's view: descriptions, segments, re-keys, channel messages, responses (state machine) |
//! | [`org_request`] | kaiwa-org | `Organization::handle_request` on the owner (state machine) |
//!
//! # Invariants
//!
//! - **Never panics on its own account.** A target panics only when the code under test breaks
//!   a property: a panic inside it, or an `assert!` here (round trips, a rejected message that
//!   changed the group, a session store or an organization, a duplicate that was not
//!   idempotent, a message that decrypted twice, an incremental fold that differs from a fold
//!   from scratch, replicas that saw the same events in another order and differ).
//! - **Deterministic.** Fixtures come from seeded ChaCha20 generators and fixed times, built
//!   once per process ([`std::sync::OnceLock`]); nothing reads a clock or the OS RNG.
//! - **Input layouts are stable**: the committed seeds and the crates' replay tests
//!   (`fuzz_seed_corpus_never_panics`) depend on them. Each target documents its layout.
//!
//! # Example
//!
//! ```
//! // Any bytes: `Ok` or `Err` inside, never a panic.
//! kaiwa_fuzz::transport_message(b"\x12\x10/kaiwa/1/x/proto");
//! kaiwa_fuzz::group_receive(&[0xff; 40]);
//! // One frame for bob: `receiver ‖ delay_s ‖ len (LE) ‖ ProtocolMessage` (a malformed one).
//! kaiwa_fuzz::session_receive(&[0, 1, 3, 0, 0x0a, 0x01, 0x00]);
//! ```

mod convergence;
mod crypto;
mod frames;
mod group;
mod org;
mod seeds;
mod session;
mod targets;
mod transport;

pub use crate::convergence::group_convergence;
pub use crate::crypto::{OpenOp, crypto_decode, crypto_open, open_input};
pub use crate::frames::{Frame, encode_frames, frames};
pub use crate::group::{FIXTURE_NOW_MS, group_event, group_message, group_receive, group_record};
pub use crate::org::{org_record, org_request, org_signed, org_view};
pub use crate::seeds::{Seed, seeds};
pub use crate::session::{
    session_bundle, session_contact_code, session_envelope, session_receive, session_record,
};
pub use crate::targets::{TARGETS, Target};
pub use crate::transport::{
    transport_message, transport_store_request, transport_store_response, transport_topics,
};
