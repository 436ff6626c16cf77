//! Error types, one per operation family, and the per-event [`RejectReason`].
//!
//! Rules that hold for every type here (STYLE §3.6): named fields, `#[non_exhaustive]`,
//! `Debug + PartialEq`, no copies of peer strings (only static field names and numbers), and
//! authentication failures are one opaque variant.

use crate::id::EventId;

/// Bytes from a peer or from disk could not become a domain value (syntax and bounds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a valid protobuf encoding.
    #[error("not a valid protobuf encoding")]
    Protobuf,
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
        /// Required length.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// A variable-size field exceeds its bound from [`limits`](crate::limits).
    #[error("field `{field}` has {actual} bytes or characters, the limit is {limit}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The bound.
        limit: usize,
        /// Size received.
        actual: usize,
    },
    /// A repeated field has more entries than its bound from [`limits`](crate::limits).
    #[error("`{what}` has {actual} entries, the limit is {limit}")]
    TooMany {
        /// The repeated field.
        what: &'static str,
        /// The bound.
        limit: usize,
        /// Entries received.
        actual: usize,
    },
    /// A field that this event type does not use is set (each type has exactly one meaning).
    #[error("field `{field}` must be empty for this event type")]
    UnexpectedField {
        /// The field.
        field: &'static str,
    },
    /// An enum field holds a value this version does not accept.
    #[error("field `{field}` has unsupported value {value}")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// The raw value.
        value: i32,
    },
    /// The Lamport clock is zero (digest §1.5: `clock != 0`).
    #[error("clock is zero")]
    ZeroClock,
    /// A member id is not `0x` + 64 lowercase hex digits of a valid key.
    #[error("field `{field}` holds an invalid member id")]
    InvalidMemberId {
        /// The field.
        field: &'static str,
    },
    /// The same member appears twice in one list.
    #[error("field `{field}` names a member twice")]
    DuplicateMember {
        /// The field.
        field: &'static str,
    },
    /// The chat id is not `hex(creator_pk) ‖ "-" ‖ uuid_v4` in canonical form.
    #[error("chat id is invalid ({part})")]
    InvalidGroupId {
        /// Which part is wrong: `length`, `separator`, `creator`, `uuid`, `uuid_version`.
        part: &'static str,
    },
    /// A record has a version this code does not read.
    #[error("unsupported record version {got}")]
    Version {
        /// The version found.
        got: u32,
    },
}

impl From<prost::DecodeError> for DecodeError {
    fn from(_: prost::DecodeError) -> Self {
        Self::Protobuf
    }
}

/// Why one event is not part of the group state.
///
/// The first group are authorization outcomes of folding the log (the event stays stored and
/// may become valid when other events arrive); the last two are receipt outcomes (the event is
/// not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// The event orders before `CHAT_CREATED` (seed 000 "Chat Created": "any event with a clock
    /// value lower than this MUST be discarded").
    #[error("event precedes CHAT_CREATED")]
    BeforeCreation,
    /// A second `CHAT_CREATED` (only the first in log order creates the group).
    #[error("the group is already created")]
    AlreadyCreated,
    /// `CHAT_CREATED` not signed by the creator the chat id names (DECISIONS "Private group
    /// chats").
    #[error("CHAT_CREATED author is not the creator named by the chat id")]
    NotCreator,
    /// The action needs an admin (seed 000: NAME_CHANGED, MEMBERS_ADDED, ADMINS_ADDED,
    /// COLOR_CHANGED, IMAGE_CHANGED, removing another member, ADMIN_REMOVED).
    #[error("author is not an admin")]
    NotAdmin,
    /// The author is not a member (MEMBER_JOINED, leaving).
    #[error("author is not a member")]
    NotMember,
    /// A target is not a member (MEMBER_REMOVED, ADMINS_ADDED: "targets must be members").
    #[error("a target is not a member")]
    TargetNotMember,
    /// An admin tried to remove another admin (seed 000: "Group admins MUST NOT be able to
    /// remove other group admins").
    #[error("admins cannot remove other admins")]
    TargetIsAdmin,
    /// ADMIN_REMOVED names someone other than its author (seed 000: only oneself).
    #[error("ADMIN_REMOVED may only name its author")]
    NotSelf,
    /// The group would exceed [`MAX_MEMBERS`](crate::limits::MAX_MEMBERS).
    #[error("the group would exceed its member limit")]
    TooManyMembers,
    /// Receipt: the clock is more than
    /// [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) ahead of the local clock. Not
    /// stored; the event is accepted when it arrives again later.
    #[error("event clock is too far in the future")]
    FromTheFuture,
    /// Receipt: the log is at [`MAX_EVENTS`](crate::limits::MAX_EVENTS) or
    /// [`MAX_LOG_BYTES`](crate::limits::MAX_LOG_BYTES). Not stored.
    #[error("the group's event log is full")]
    LogFull,
}

/// An event that was not applied, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectedEvent {
    /// The event.
    pub id: EventId,
    /// Why.
    pub reason: RejectReason,
}

/// An event could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature does not verify for the author key inside the event, this chat id and
    /// these exact bytes. Deliberately opaque.
    #[error("membership event could not be authenticated")]
    Unauthenticated,
}

/// A verified event could not enter a [`MembershipLog`](crate::MembershipLog).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InsertError {
    /// The event was signed for another group.
    #[error("event belongs to another group")]
    WrongGroup,
    /// The log is full ([`MAX_EVENTS`](crate::limits::MAX_EVENTS) or
    /// [`MAX_LOG_BYTES`](crate::limits::MAX_LOG_BYTES)).
    #[error("the group's event log is full")]
    LogFull,
}

/// A received group message was rejected as a whole; the group is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The message is malformed or exceeds a bound.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An event's signature does not verify. Deliberately does not say which event.
    #[error("group message could not be authenticated")]
    Unauthenticated,
    /// The message's chat id is not this group's.
    #[error("message belongs to another group")]
    WrongGroup,
    /// First receipt: the events do not contain a valid `CHAT_CREATED`.
    #[error("the message does not create the group")]
    NotCreated,
    /// First receipt: the receiver was never a member (digest §1.5: a chat is created only if
    /// the local user was ever a member).
    #[error("the receiver was never a member of this group")]
    NotInvited,
}

/// A local group action failed; the group is unchanged and nothing was signed or sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The input would not pass a peer's decoder (a field is too long, empty, ...).
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    /// Peers would reject the event: the author is not authorized for it.
    #[error("peers would reject this event: {reason}")]
    Rejected {
        /// The reason peers would give.
        reason: RejectReason,
    },
    /// The author is not a joined member, so cannot send chat messages.
    #[error("only joined members can send group messages")]
    NotJoined,
    /// The outgoing message would exceed
    /// [`MAX_MESSAGE_BYTES`](crate::limits::MAX_MESSAGE_BYTES).
    #[error("the group message would be {actual} bytes, the limit is {limit}")]
    MessageTooLarge {
        /// The bound.
        limit: usize,
        /// The size it would have.
        actual: usize,
    },
    /// The log is full.
    #[error("the group's event log is full")]
    LogFull,
    /// The Lamport clock cannot advance (`u64::MAX` reached).
    #[error("the Lamport clock is exhausted")]
    ClockExhausted,
}

/// A stored group record could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record is malformed or exceeds a bound.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A stored event's signature does not verify (the record was altered). Opaque.
    #[error("group record could not be authenticated")]
    Unauthenticated,
    /// The record holds more events or bytes than a log may.
    #[error("group record exceeds the log bounds")]
    LogFull,
}

/// A chat message or emoji reaction carried by a group message was not delivered. The
/// membership events of the same message are processed regardless.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChatEntityError {
    /// The entity is malformed or exceeds a bound (digest §12 validation).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The sender is not a joined member after the message's events were applied (DECISIONS:
    /// "group messages go to joined members").
    #[error("the sender is not a joined member")]
    SenderNotJoined,
    /// The entity's `chat_id` is not this group's.
    #[error("the chat id does not match the group")]
    WrongChatId,
    /// The clock is more than the allowed skew ahead (digest §12).
    #[error("the clock is too far in the future")]
    FromTheFuture,
}
