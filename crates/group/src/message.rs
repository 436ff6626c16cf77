//! Group messages: `MembershipUpdateMessage` in and out.
//!
//! ```text
//! MembershipUpdateMessage {                       (seed 000 "Membership Update Flow", digest §1.3)
//!   chat_id = 1   GroupId text
//!   events  = 2   repeated element, element = signature(64) ‖ MembershipUpdateEvent bytes
//!   oneof chat_entity { ChatMessage message = 3; EmojiReaction emoji_reaction = 4; }
//! }
//! bounds:  encoded size <= MAX_MESSAGE_BYTES (140 KiB), events <= MAX_EVENTS_PER_MESSAGE,
//!          each element <= MAX_EVENT_BYTES
//! ```
//!
//! Outgoing messages carry the sender's compacted log ([`MembershipLog::compact`]): every
//! event a receiver may lack to rebuild the sender's state, so a new member can build the
//! group from any one message (digest §1.5: status-go sends its full log). Who receives a
//! message is decided by [`Group`](crate::Group); this crate never sends anything.

use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::chat::{ChatEntity, ParsedEntity};
use crate::error::{ActionError, DecodeError};
use crate::event::{UnverifiedEvent, VerifiedEvent};
use crate::id::{GroupId, MemberId};
use crate::limits::{MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES};

/// A received group message after syntactic validation: the chat id is well-formed and every
/// event parsed, but no signature has been checked. Pass it to
/// [`Group::receive`](crate::Group::receive) or
/// [`Group::from_first_message`](crate::Group::from_first_message).
#[derive(Debug)]
pub struct IncomingMessage {
    pub(crate) group: GroupId,
    pub(crate) events: Vec<UnverifiedEvent>,
    /// The chat entity, or why it does not parse. A malformed entity does not stop the
    /// membership events from being processed.
    pub(crate) entity: Option<Result<ParsedEntity, DecodeError>>,
}

impl IncomingMessage {
    /// Parses untrusted bytes. Never panics; every failure is a [`DecodeError`].
    ///
    /// # Errors
    /// [`DecodeError`] if the message is oversized, not protobuf, has an invalid chat id, too
    /// many events, or any malformed event.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLong {
                field: "message",
                limit: MAX_MESSAGE_BYTES,
                actual: bytes.len(),
            });
        }
        let msg = wire::MembershipUpdateMessage::decode(bytes)?;
        Self::try_from(msg)
    }

    /// The group the message claims to belong to; use it to load the group.
    #[must_use]
    pub const fn group_id(&self) -> &GroupId {
        &self.group
    }

    /// The parsed, unverified events, in message order.
    #[must_use]
    pub fn events(&self) -> &[UnverifiedEvent] {
        &self.events
    }

    /// Whether the message carries a chat message or reaction (valid or not).
    #[must_use]
    pub const fn has_chat_entity(&self) -> bool {
        self.entity.is_some()
    }
}

impl TryFrom<wire::MembershipUpdateMessage> for IncomingMessage {
    type Error = DecodeError;

    fn try_from(msg: wire::MembershipUpdateMessage) -> Result<Self, DecodeError> {
        let group = GroupId::parse(&msg.chat_id)?;
        if msg.events.len() > MAX_EVENTS_PER_MESSAGE {
            return Err(DecodeError::TooMany {
                what: "events",
                limit: MAX_EVENTS_PER_MESSAGE,
                actual: msg.events.len(),
            });
        }
        let events =
            msg.events.iter().map(|e| UnverifiedEvent::decode(e)).collect::<Result<Vec<_>, _>>()?;
        let entity = msg.chat_entity.map(ChatEntity::parse);
        Ok(Self { group, events, entity })
    }
}

/// A group message to send, and to whom. The caller (the facade) encrypts `bytes` over each
/// recipient's 1:1 sessions, one copy per installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The encoded `MembershipUpdateMessage`.
    pub bytes: Vec<u8>,
    /// The identities to send it to, in key order, never including the sender.
    pub recipients: Vec<MemberId>,
}

/// Encodes a `MembershipUpdateMessage` with `events` and an optional entity, within
/// [`MAX_MESSAGE_BYTES`].
pub(crate) fn encode<'a>(
    group: &GroupId,
    events: impl Iterator<Item = &'a VerifiedEvent>,
    entity: Option<&ChatEntity>,
) -> Result<Vec<u8>, ActionError> {
    let msg = wire::MembershipUpdateMessage {
        chat_id: group.as_str().to_owned(),
        events: events.map(|e| e.element().to_vec()).collect(),
        chat_entity: entity.map(|e| e.to_wire(group)),
    };
    let len = msg.encoded_len();
    if len > MAX_MESSAGE_BYTES || msg.events.len() > MAX_EVENTS_PER_MESSAGE {
        return Err(ActionError::MessageTooLarge { limit: MAX_MESSAGE_BYTES, actual: len });
    }
    Ok(msg.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rejects_oversized_and_bad_chat_ids() {
        assert_eq!(
            IncomingMessage::decode(&vec![0; MAX_MESSAGE_BYTES + 1]).unwrap_err(),
            DecodeError::TooLong {
                field: "message",
                limit: MAX_MESSAGE_BYTES,
                actual: MAX_MESSAGE_BYTES + 1
            }
        );
        let msg = wire::MembershipUpdateMessage { chat_id: "nope".into(), ..Default::default() };
        assert_eq!(
            IncomingMessage::decode(&msg.encode_to_vec()).unwrap_err(),
            DecodeError::InvalidGroupId { part: "length" }
        );
        assert_eq!(IncomingMessage::decode(&[0xff, 0xff]).unwrap_err(), DecodeError::Protobuf);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = IncomingMessage::decode(&bytes);
        }
    }
}
