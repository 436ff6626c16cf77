//! Error types, one per operation family.
//!
//! Rules for every type here (STYLE §3.6): named-field variants, `#[non_exhaustive]`,
//! `Debug + PartialEq`, no key material, plaintext or copies of peer strings (only static
//! field names and numbers), and authentication failures as one opaque `Unauthenticated`
//! variant that does not say which check failed.

/// Bytes from a peer or from disk could not become a domain value (syntax and bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a valid protobuf encoding of the expected message.
    #[error("not a valid protobuf encoding of `{message}`")]
    Protobuf {
        /// The message type that was expected.
        message: &'static str,
    },
    /// A required field is absent or empty.
    #[error("field `{field}` is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A fixed-size field has the wrong length.
    #[error("field `{field}` has {actual} bytes, expected {expected}")]
    Length {
        /// The field.
        field: &'static str,
        /// Its fixed length.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// A field holds a value outside its syntax (an id, a key, an enum value).
    #[error("field `{field}` has an invalid value")]
    Field {
        /// The field.
        field: &'static str,
    },
    /// A collection or byte string exceeds its bound from `limits.rs`.
    #[error("`{what}` has {actual} entries or bytes, the limit is {limit}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The bound.
        limit: usize,
        /// The size received.
        actual: usize,
    },
    /// Fields contradict each other (a channel member who is not an org member, a banned
    /// member, a dangling category, keys that do not match members).
    #[error("inconsistent description: {rule}")]
    Inconsistent {
        /// The rule that failed.
        rule: &'static str,
    },
    /// The envelope has a different `type` than the operation expects.
    #[error("unexpected application message type {got}")]
    UnexpectedType {
        /// The type number received.
        got: i32,
    },
    /// A persisted record has a version this code does not know.
    #[error("unsupported record version {got}")]
    Version {
        /// The version found.
        got: u32,
    },
}

/// A signed organization description (or a segment of one) was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptionError {
    /// The bytes are malformed or out of bounds.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Not signed by the organization key (or the digest of a reassembled description does not
    /// match its segments). Deliberately opaque.
    #[error("description could not be authenticated")]
    Unauthenticated,
    /// The clock is below the stored one (DECISIONS: receivers accept only a higher clock).
    #[error("description clock {received} is older than the stored {stored}")]
    Stale {
        /// Clock of the stored description.
        stored: u64,
        /// Clock received.
        received: u64,
    },
    /// Same clock as the stored description but different bytes: ignored (DECISIONS: equal
    /// clock accepts identical bytes only).
    #[error("a different description with the same clock {clock} is already stored")]
    ConflictingClock {
        /// The clock both carry.
        clock: u64,
    },
}

/// A grant did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// The bytes are malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Not signed by this organization's key, or issued by another organization. Opaque.
    #[error("grant could not be authenticated")]
    Unauthenticated,
    /// The grant names another member.
    #[error("grant is for another member")]
    WrongMember,
    /// The grant is for another channel than the one asked for.
    #[error("grant is for another channel")]
    WrongChannel,
    /// `expires` is not after `now`.
    #[error("grant expired at {expires_ms} ms (now {now_ms} ms)")]
    Expired {
        /// Expiry, Unix milliseconds.
        expires_ms: u64,
        /// The caller's clock, Unix milliseconds.
        now_ms: u64,
    },
    /// The owner no longer has this grant on record (revoked by a kick or ban, superseded, or
    /// evicted).
    #[error("grant was revoked")]
    Revoked,
}

/// The owner could not process a sealed request (join, cancel, leave).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The sealed box did not open, or the requester's signature is invalid. Opaque.
    #[error("request could not be authenticated")]
    Unauthenticated,
    /// The request names another organization.
    #[error("request is for another organization")]
    WrongOrganization,
    /// The requester is on the ban list (DECISIONS: banned keys are rejected everywhere).
    #[error("requester is banned")]
    Banned,
    /// The requester is already a member.
    #[error("requester is already a member")]
    AlreadyMember,
    /// The requester is not a member (a leave request).
    #[error("requester is not a member")]
    NotMember,
    /// An INVITATION_ONLY organization got a request without a valid invitation grant.
    #[error("organization is invitation-only and the request carries no valid invitation")]
    InvitationRequired,
    /// The invitation grant carried by the request did not verify.
    #[error("invitation grant rejected: {0}")]
    Grant(#[source] GrantError),
    /// The request's clock is not newer than one already processed from this requester.
    #[error("request clock {received} is not newer than {stored}")]
    Stale {
        /// Clock already seen.
        stored: u64,
        /// Clock received.
        received: u64,
    },
    /// Applying the request would break a bound or an invariant.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

/// An owner-side operation was refused. The organization is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The actor's role does not allow this action (DECISIONS: roles).
    #[error("actor may not {action}")]
    NotAuthorized {
        /// The refused action.
        action: &'static str,
    },
    /// The member is not in the organization (or channel).
    #[error("no such member")]
    UnknownMember,
    /// The key is on the ban list.
    #[error("member is banned")]
    Banned,
    /// The key is already a member.
    #[error("already a member")]
    AlreadyMember,
    /// No pending request from this key.
    #[error("no pending request from this key")]
    NotPending,
    /// No such channel.
    #[error("no such channel")]
    UnknownChannel,
    /// No such category.
    #[error("no such category")]
    UnknownCategory,
    /// A channel or category with this id exists.
    #[error("`{what}` already exists")]
    Exists {
        /// What exists.
        what: &'static str,
    },
    /// An input breaks a rule of the description (bounds, syntax, consistency).
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    /// An X25519 key (a member's, or the organization's request key) has small order:
    /// nothing can be sealed or wrapped to it.
    #[error("X25519 key of small order")]
    InvalidDhKey,
    /// A condition that cannot happen did (a library bug, never a panic).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A channel message could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// The view has no verified description yet.
    #[error("no description yet")]
    NoDescription,
    /// No such channel.
    #[error("no such channel")]
    UnknownChannel,
    /// The sender is not a member of the channel (or is banned).
    #[error("sender is not a member of the channel")]
    NotMember,
    /// The channel is encrypted and no epoch key has been received for its group.
    #[error("no epoch key for this channel")]
    NoEpochKey,
    /// The plaintext exceeds `MAX_CHANNEL_PLAINTEXT_BYTES`.
    #[error("plaintext has {actual} bytes, the limit is {limit}")]
    TooLong {
        /// The bound.
        limit: usize,
        /// The length given.
        actual: usize,
    },
    /// This sender's chain of the epoch reached index 2^32 - 1; a re-key is needed.
    #[error("sender chain exhausted; wait for a re-key")]
    ChainExhausted,
    /// A condition that cannot happen did (a library bug, never a panic).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A channel message was rejected. A rejected message leaves the view unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The message is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Signature or AEAD check failed. Deliberately opaque.
    #[error("channel message could not be authenticated")]
    Unauthenticated,
    /// The view has no verified description yet.
    #[error("no description yet")]
    NoDescription,
    /// The message names a group of no channel of this organization.
    #[error("message is for an unknown group")]
    UnknownGroup,
    /// The sender is not a member of the channel's group in the current description.
    #[error("sender is not a member")]
    NotMember,
    /// The sender is on the ban list.
    #[error("sender is banned")]
    Banned,
    /// No key for this epoch: not received yet (ask for keys), before this member joined, or
    /// evicted from the history window.
    #[error("no key for epoch {epoch}")]
    UnknownEpoch {
        /// The epoch named by the message.
        epoch: u32,
    },
    /// The message index is behind the sender's chain and its key is not cached: a replay, or
    /// a message older than the skipped-key window (read it with `decrypt_history`).
    #[error("message key already used or no longer cached")]
    KeyUnavailable,
    /// A plaintext message in an encrypted organization, or an encrypted one in a public
    /// organization: the mode is fixed by the signed description, so this is a downgrade or a
    /// confusion and is refused.
    #[error("message encryption does not match the organization's `encrypted` flag")]
    WrongMode,
}

/// A re-key message was not applied. The view is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RekeyError {
    /// The message is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Not signed by the organization key, or the unwrapped key does not match the key id.
    /// Deliberately opaque.
    #[error("re-key could not be authenticated")]
    Unauthenticated,
    /// The view has no verified description yet.
    #[error("no description yet")]
    NoDescription,
    /// The group is neither the organization nor a channel with its own members.
    #[error("re-key for an unknown group")]
    UnknownGroup,
}

/// A response or invitation from the owner was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The message is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The sealed box did not open or the org signature is invalid. Opaque.
    #[error("response could not be authenticated")]
    Unauthenticated,
    /// The grant inside did not verify.
    #[error("grant rejected: {0}")]
    Grant(#[source] GrantError),
    /// The description inside was not applied.
    #[error("description rejected: {0}")]
    Description(#[source] DescriptionError),
}

/// A moderation action (pin, delete) is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModerationError {
    /// The view has no verified description yet.
    #[error("no description yet")]
    NoDescription,
    /// No such channel.
    #[error("no such channel")]
    UnknownChannel,
    /// The actor is not a member of the channel, or is banned.
    #[error("actor is not a member")]
    NotMember,
    /// The actor's role does not allow it (DECISIONS: ROLE_MODERATE_CONTENT or
    /// `pin_message_all_members_enabled`).
    #[error("actor may not {action}")]
    NotAuthorized {
        /// The refused action.
        action: &'static str,
    },
}
