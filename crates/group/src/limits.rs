//! Every bound this crate enforces, with its reason and the spec value where there is one.
//!
//! Each limit is checked where untrusted bytes enter (decoding a message, an event, a record)
//! and again where local input enters (creating an event), so a local action that a peer would
//! reject fails before anything is signed or stored.

/// Largest accepted clock skew: an event or chat message whose Lamport clock is more than this
/// many milliseconds ahead of the receiver's clock is rejected on receipt.
///
/// Spec: status-go `message_validator.go` (`clock - now_ms <= 120000`), 62/STATUS-PAYLOADS
/// ("more than 120 seconds ... SHOULD be discarded"); digest §1.5, §12; DECISIONS "Private group
/// chats". Value: 120 000 ms.
pub const MAX_CLOCK_SKEW_MS: u64 = 120_000;

/// Largest encoded `MembershipUpdateMessage` accepted or produced, in bytes.
///
/// Reason: each copy of a group message travels in one Waku message, capped at 150 KiB
/// (14/WAKU2-MESSAGE, digest §6); 10 KiB are left for the 1:1 encryption layer (ratchet and X3DH
/// headers, bundles) and the application wrapper around it. Value: 140 KiB.
pub const MAX_MESSAGE_BYTES: usize = 140 * 1024;

/// Largest number of `events` elements in one `MembershipUpdateMessage`.
///
/// Reason: an element is at least a 64-byte signature plus a 34-byte author field, so a
/// message within [`MAX_MESSAGE_BYTES`] holds at most about 1 460 of them; the bound makes the
/// decoder's work independent of how cheaply a peer can encode empty elements. No spec value.
pub const MAX_EVENTS_PER_MESSAGE: usize = 2_048;

/// Largest number of events one group's log stores (valid or not).
///
/// Reason: bounded state; every stored event is re-folded on out-of-order arrival, and loading
/// a record re-verifies every signature (about 0.5 s at this size on a phone-class core).
/// When the log is full, new events are rejected with
/// [`RejectReason::LogFull`](crate::RejectReason::LogFull). No spec value (status-go keeps
/// every event without a bound).
pub const MAX_EVENTS: usize = 16_384;

/// Largest total size of one group's stored event elements, in bytes.
///
/// Reason: [`MAX_EVENTS`] alone would allow `16 384 × MAX_EVENT_BYTES` ≈ 1.2 GiB. No spec value.
pub const MAX_LOG_BYTES: usize = 16 * 1024 * 1024;

/// Largest number of members (invited or joined) a group may have.
///
/// Reason: seed 000 builds a group from pairwise 1:1 sessions and notes that "this method does
/// not scale"; every group message is encrypted once per member installation (at most 3 each,
/// DECISIONS "1:1 sessions"), so 100 members already cost up to 300 encryptions per message.
/// Larger communities belong in organizations. No spec value.
pub const MAX_MEMBERS: usize = 100;

/// Largest number of target members in one event (`MEMBERS_ADDED`, `ADMINS_ADDED`).
///
/// Reason: a group never has more members than [`MAX_MEMBERS`]. No spec value.
pub const MAX_TARGETS_PER_EVENT: usize = MAX_MEMBERS;

/// Largest group name, in bytes of UTF-8.
///
/// Reason: a display string, re-sent inside every group message. No spec value.
pub const MAX_NAME_BYTES: usize = 128;

/// Largest group colour string, in bytes.
///
/// Reason: status clients send `#rrggbb` (7 bytes); 32 leaves room for other notations. No spec
/// value.
pub const MAX_COLOR_BYTES: usize = 32;

/// Largest group image, in bytes.
///
/// Reason: the current image is re-sent inside group messages, which must stay within
/// [`MAX_MESSAGE_BYTES`] together with the rest of the log; status clients send a small
/// resized thumbnail. No spec value.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024;

/// Largest `events` element (signature plus encoded event), in bytes.
///
/// Reason: the largest valid event is an `IMAGE_CHANGED` with a [`MAX_IMAGE_BYTES`] image or a
/// `MEMBERS_ADDED` naming [`MAX_TARGETS_PER_EVENT`] members (68 bytes each); 4 KiB covers the
/// signature, author, clock, type and protobuf framing. No spec value.
pub const MAX_EVENT_BYTES: usize = MAX_IMAGE_BYTES + 4 * 1024;

/// Largest chat message text, in Unicode scalar values (characters).
///
/// Spec: status-go `message_validator.go` (`len(text) > maxChatMessageTextLength`), digest §12.
/// Value: 4096.
pub const MAX_TEXT_CHARS: usize = 4_096;

/// Largest short string field of a chat message or reaction (`response_to`, `message_id`,
/// `display_name`, `ens_name`, sticker `hash`, `album_id`), in bytes.
///
/// Reason: these are identifiers and display names (a message id is `0x` + 64 hex digits = 66
/// bytes); bounding them keeps peer-controlled strings small. No spec value.
pub const MAX_SHORT_FIELD_BYTES: usize = 256;

/// Largest group record accepted from storage, in bytes.
///
/// Reason: a record holds at most [`MAX_LOG_BYTES`] of events plus per-event framing (at most
/// 4 bytes each) and the chat id. No spec value.
pub const MAX_RECORD_BYTES: usize = MAX_LOG_BYTES + 4 * MAX_EVENTS + 1024;

const _: () = {
    // An event naming the most targets fits in one element.
    assert!(MAX_TARGETS_PER_EVENT * 68 + 256 < MAX_EVENT_BYTES);
    // The largest single event fits in one message.
    assert!(MAX_EVENT_BYTES < MAX_MESSAGE_BYTES);
};
