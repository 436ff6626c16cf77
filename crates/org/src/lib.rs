//! Organizations for kaiwa (seed 004, 55/WAKU2-ORGANIZATION-CHATS, with the constructions of
//! DECISIONS.md "Organizations"): an organization key whose holder signs a Lamport-clocked
//! description (members and roles, channels, categories, bans, permissions), sealed join /
//! cancel / leave requests, signed expiring grants and invitations, and channel encryption
//! with key epochs, a seekable per-sender hash ratchet and ECDH-ES re-keying.
//!
//! Two sides, two types:
//! - [`Organization`], the owner's: holds the org key pair, signs descriptions, handles
//!   requests, runs every flow (accept, reject, invite, kick, ban, channels, categories, roles)
//!   and re-keys on every membership change and periodically.
//! - [`OrganizationView`], a member's (or a follower's): verifies and applies descriptions and
//!   their segments, installs epoch keys from re-keys, encrypts and decrypts channel messages,
//!   builds requests, checks moderation rights.
//!
//! # What this crate is not
//!
//! It sends nothing, stores nothing by itself, reads no clock and no RNG: it turns verified
//! inputs into state, outgoing messages and key material, and the facade sends and stores
//! them. It knows nothing of 1:1 sessions, private groups or the transport; content topics are
//! the facade's.
//!
//! # Invariants
//!
//! - **Sans-IO.** Time (`now_ms`) and randomness (`rng`) are parameters of every operation that
//!   needs them.
//! - **Authenticate, then apply.** Every mutating operation computes its result, checks every
//!   signature, AEAD tag and rule, and only then changes state; a rejected input leaves the
//!   state exactly as it was.
//! - **Only the org key speaks for the organization.** Descriptions, segments, grants, re-keys,
//!   responses and invitations verify against the organization id; a higher clock wins and an
//!   equal clock accepts identical bytes only.
//! - **Bounded.** Every count and size from the network is bounded by `limits.rs`; the
//!   skipped-key cache and the epoch history evict the oldest entry.
//! - **No prost type in the public API.** Wire types are converted at the boundary; signatures
//!   are verified over the bytes received, never over a re-encoding.
//! - **Secrets** (org key, request key, epoch keys, chains, skipped keys) are wiped on drop and
//!   never printed.
//!
//! # Example
//!
//! ```
//! use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
//! use kaiwa_org::{
//!     Access, Actor, Channel, ChannelId, JoinRequest, LamportTime, MemberId, MemberKeys,
//!     OrgConfig, Organization, OrganizationView, RequestOutcome,
//! };
//! # use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! # let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let now = 1_700_000_000_000;
//! let (alice, alice_dh) = (IdentityKeyPair::generate(&mut rng), DhKeyPair::generate(&mut rng));
//! let (bob, bob_dh) = (IdentityKeyPair::generate(&mut rng), DhKeyPair::generate(&mut rng));
//! let alice_keys = MemberKeys { id: MemberId::from_key(&alice.public_key()), dh_key: alice_dh.public_key() };
//!
//! // Alice founds an organization that accepts everyone, with one channel.
//! let (mut org, _) = Organization::create(
//!     IdentityKeyPair::generate(&mut rng),
//!     DhKeyPair::generate(&mut rng),
//!     alice_keys,
//!     OrgConfig::new("rustaceans", Access::NoMembership),
//!     now,
//!     &mut rng,
//! )?;
//! let general = ChannelId::new("general")?;
//! org.create_channel(&Actor::Owner, &general, Channel::open("general", Access::NoMembership), now, &mut rng)?;
//!
//! // Bob follows the organization and asks to join; the request is sealed to the org.
//! let mut view = OrganizationView::new(org.id(), MemberId::from_key(&bob.public_key()));
//! for message in org.republish() {
//!     view.apply_description(&message)?;
//! }
//! let request = view.join_request(&bob, &bob_dh.public_key(), &JoinRequest::new(LamportTime(1)), &mut rng)?;
//! let RequestOutcome::Accepted(admission) = org.handle_request(&request, now, &mut rng)? else {
//!     unreachable!("NO_MEMBERSHIP accepts at once")
//! };
//!
//! // Bob applies the new description and his share of the re-key, then posts.
//! for message in &admission.update.description {
//!     view.apply_description(message)?;
//! }
//! for part in &admission.update.rekeys {
//!     view.apply_rekey(part, &bob_dh)?;
//! }
//! let sealed = view.encrypt(&general, &bob, b"hello", &mut rng)?;
//! let opened = view.decrypt_history(&sealed)?;
//! assert_eq!(opened.plaintext.as_slice(), b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chain;
mod channel;
mod description;
mod envelope;
mod epoch;
mod error;
mod grant;
mod id;
pub mod limits;
mod org;
mod record;
mod rekey;
mod request;
mod segment;
mod store;
mod view;

pub use crate::chain::{MESSAGE_KEY_INFO, SENDER_CHAIN_INFO};
pub use crate::description::{
    Access, AdminSettings, Category, Channel, Description, Identity, Image, Member, Permissions,
    Role, SignedDescription,
};
pub use crate::envelope::{
    CHANNEL_MESSAGE_CONTEXT, DESCRIPTION_CONTEXT, GRANT_CONTEXT, INVITATION_CONTEXT,
    KICKED_CONTEXT, PUBLIC_CHANNEL_MESSAGE_CONTEXT, REKEY_CONTEXT, REKEY_WRAP_LABEL,
    REQUEST_CONTEXT, REQUEST_SEAL_LABEL, RESPONSE_CONTEXT, RESPONSE_SEAL_LABEL, SEGMENT_CONTEXT,
};
pub use crate::epoch::{EpochKey, KEY_ID_MATERIAL_INFO};
pub use crate::error::{
    DecodeError, DecryptError, DescriptionError, EncryptError, FlowError, GrantError,
    ModerationError, RekeyError, RequestError, ResponseError,
};
pub use crate::grant::{Grant, SignedGrant};
pub use crate::id::{
    CHANNEL_GROUP_CONTEXT, CategoryId, ChannelId, Epoch, GroupId, KEY_ID_CONTEXT, KeyId,
    LamportTime, MemberId, OrgId,
};
pub use crate::org::{
    Actor, Admission, Kick, MemberKeys, OrgConfig, Organization, PendingRequest, RequestOutcome,
    Update,
};
pub use crate::rekey::REKEY_ENTRY_BYTES;
pub use crate::request::{Invitation, JoinRequest, Response};
pub use crate::store::{InMemoryOrgStore, OrgStore, OrganizationRecord, OrganizationViewRecord};
pub use crate::view::{
    ChannelPlaintext, DescriptionOutcome, OrganizationView, RekeyOutcome, SegmentOutcome,
};
