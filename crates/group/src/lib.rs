//! kaiwa private group chats (seed 000, "Negotiation of a 1:1 chat amongst multiple
//! participants"): the signed membership event log, the group state derived from it, and who
//! receives each group message.
//!
//! A group is identified by `chat_id = hex(creator_pk) ‖ "-" ‖ uuid_v4`. Its membership is a
//! log of Ed25519-signed events (`CHAT_CREATED`, `NAME_CHANGED`, `MEMBERS_ADDED`,
//! `MEMBER_JOINED`, `MEMBER_REMOVED`, `ADMINS_ADDED`, `ADMIN_REMOVED`, `COLOR_CHANGED`,
//! `IMAGE_CHANGED`), each bound to its chat id. The log is a CRDT: the state is a pure function
//! of the set of verified events, folded in the total order `(clock, SHA-256(element))`, with
//! invalid events skipped, so every replica holding the same events agrees.
//!
//! # What this crate is not
//!
//! - **Sans-IO.** It takes bytes, a caller-supplied `now_ms` and RNG, and returns state,
//!   bytes and recipient identities. It never reads a clock, an RNG, the network or a disk.
//! - **Not a session layer.** Each group message is sent to every recipient over pairwise 1:1
//!   sessions, one copy per installation; that fan-out happens in the facade. This crate does
//!   not know about sessions, installations or transport, and the `sender` it is told about is
//!   the identity the 1:1 session authenticated.
//!
//! # Invariants
//!
//! - The log accepts only [`VerifiedEvent`]s, verified over the received bytes for this group's
//!   chat id (never re-encoded), with the author key carried in the event.
//! - Authenticate, then commit: a message with any forged event changes nothing; a local
//!   action that peers would reject fails with a typed error before anything is signed.
//! - State is derived, never stored; records hold the raw events and are re-verified on load.
//! - Every bound is in [`limits`]; no prost type appears in the public API.
//!
//! # Example
//!
//! ```
//! use kaiwa_crypto::IdentityKeyPair;
//! use kaiwa_group::{ChatEntity, ChatMessageDraft, Group, IncomingMessage, MemberId};
//! # use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! # let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let alice = IdentityKeyPair::generate(&mut rng);
//! let bob = IdentityKeyPair::generate(&mut rng);
//! let (alice_id, bob_id) = (MemberId::new(alice.public_key()), MemberId::new(bob.public_key()));
//! let now = 1_700_000_000_000;
//!
//! // Alice creates the group and invites Bob; the facade sends `invite.bytes` to Bob.
//! let (mut group, invite) = Group::create(&alice, "friends", "#ff8800", &[bob_id], &mut rng, now)?;
//! assert_eq!(invite.recipients, vec![bob_id]);
//!
//! // Bob accepts it (he was invited) and joins.
//! let message = IncomingMessage::decode(&invite.bytes)?;
//! let (mut bobs, _) = Group::from_first_message(message, &alice_id, &bob_id, now)?;
//! let joined = bobs.join(&bob, now + 1)?;
//! group.receive(IncomingMessage::decode(&joined.bytes)?, &bob_id, now + 2)?;
//! assert!(group.state().is_joined(&bob_id));
//!
//! // Chat messages go to joined members only.
//! let (out, _) = group.send_message(&alice_id, ChatMessageDraft::text("hi"), now + 3)?;
//! assert_eq!(out.recipients, vec![bob_id]);
//! let outcome = bobs.receive(IncomingMessage::decode(&out.bytes)?, &alice_id, now + 4)?;
//! assert!(matches!(outcome.entity, Some(Ok(ChatEntity::Message(m))) if m.text == "hi"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chat;
mod error;
mod event;
mod group;
mod id;
pub mod limits;
mod log;
mod message;
mod record;
mod state;
mod store;

pub use crate::chat::{
    AudioFormat, ChatEntity, GroupChatMessage, GroupReaction, ImageFormat, MessageContent,
    ReactionKind,
};
pub use crate::error::{
    ActionError, ChatEntityError, DecodeError, InsertError, ReceiveError, RecordError,
    RejectReason, RejectedEvent, VerifyError,
};
pub use crate::event::{EVENT_SIGNATURE_CONTEXT, Event, EventKind, UnverifiedEvent, VerifiedEvent};
pub use crate::group::{ChatMessageDraft, Group, ReceiveOutcome};
pub use crate::id::{EventId, GroupId, LamportTime, MemberId};
pub use crate::log::{Fold, Inserted, MembershipLog};
pub use crate::message::{IncomingMessage, OutgoingMessage};
pub use crate::record::GroupRecord;
pub use crate::state::{GroupState, MemberStatus};
pub use crate::store::{GroupStore, MemoryGroupStore};
