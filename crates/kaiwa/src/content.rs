//! Application payloads: what travels inside a 1:1 session, what a chat message is, and how
//! the history keeps it.
//!
//! ```text
//! inside a 1:1 session (the ratchet's plaintext, kaiwa-session's frame body):
//!   ApplicationMetadataMessage { signature = 1: empty, payload = 2, type = 3, author = 4: IK }
//!   type CHAT_MESSAGE (1)                           payload = ChatMessage (ONE_TO_ONE)
//!        EMOJI_REACTION (22)                        payload = EmojiReaction (ONE_TO_ONE)
//!        MEMBERSHIP_UPDATE_MESSAGE (3)              payload = MembershipUpdateMessage
//!        ORGANIZATION_INVITATION (26)               payload = signed invitation (kaiwa-org)
//!   the receiver requires author = the identity the session authenticated
//!
//! in an organization channel (kaiwa-org's plaintext):  ChatMessage (COMMUNITY_CHAT, chat_id = channel id)
//!
//! in the history (kaiwa-store `messages.payload`):
//!   ApplicationMetadataMessage { payload = ChatMessage | EmojiReaction, type, author }
//!
//! message reference (reactions and replies name messages by it; both sides compute it):
//!   hex( SHA-256( "kaiwa/chat/message-ref/v1" ‖ u8(kind) ‖ u32_be(len(chat)) ‖ chat ‖
//!                 author(32) ‖ u64_be(clock) ) )
//!   kind 1 direct: chat = min(IK_a, IK_b) ‖ max(IK_a, IK_b)
//!        2 group:  chat = utf8(chat id)
//!        3 channel: chat = org id(32) ‖ utf8(channel id)
//! ```
//!
//! **No signature inside a session.** The session's AEAD already authenticates the sender:
//! its associated data binds both identity keys and both installations (PROTOCOL.md §3.3). An
//! Ed25519 signature on top would add nothing to authentication and would take away
//! deniability (a signed message proves authorship to third parties; Signal omits it for that
//! reason), at the cost of a sign and a verify per message. The envelope keeps `author` so
//! the receiver checks it against the session's peer, and `type` to route the payload.
//!
//! **Checks on a received 1:1 chat message** (status-go's, digest §12): clock non-zero and at
//! most [`MAX_CLOCK_SKEW_MS`] ahead of the receiver's clock, text at most
//! [`MAX_TEXT_CHARS`] characters, `message_type = ONE_TO_ONE`, `chat_id` = the receiver's text
//! id (the sender addresses the chat by its peer's id, as status-go does).

use core::fmt;

use kaiwa_crypto::{IdentityPublicKey, sha256_parts};
use kaiwa_group::{GroupChatMessage, GroupReaction, MessageContent, ReactionKind};
use kaiwa_org::{ChannelId, OrgId};
use kaiwa_store::{ChatId, Direction, MessageId, MessageStatus, PublicId, StoredMessage};
use kaiwa_wire::net as wire;
use prost::Message as _;
use wire::application_metadata_message::Type;
use wire::chat_message::ContentType;

use crate::limits::{MAX_CLOCK_SKEW_MS, MAX_SHORT_FIELD_BYTES, MAX_TEXT_CHARS};

/// Domain separation of message references.
pub const MESSAGE_REF_CONTEXT: &[u8] = b"kaiwa/chat/message-ref/v1";

/// How a message names another (for reactions and replies): 64 lowercase hex digits, computed
/// the same way by every party (module documentation).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageRef(String);

impl MessageRef {
    /// The reference of the message `author` wrote with Lamport time `clock` in `chat`, as
    /// seen by `us` (for a 1:1 chat, the chat is the pair of us and the peer).
    #[must_use]
    pub fn compute(us: &PublicId, chat: &ChatId, author: &PublicId, clock: u64) -> Self {
        let (kind, key): (u8, Vec<u8>) = match chat {
            ChatId::Direct(peer) => {
                let (low, high) = if us <= peer { (us, peer) } else { (peer, us) };
                (1, [low.as_bytes().as_slice(), high.as_bytes()].concat())
            }
            ChatId::Group(group) => (2, group.as_str().as_bytes().to_vec()),
            ChatId::Channel { org, channel } => {
                (3, [org.as_bytes().as_slice(), channel.as_str().as_bytes()].concat())
            }
            _ => (0, Vec::new()),
        };
        let len = u32::try_from(key.len()).unwrap_or(u32::MAX).to_be_bytes();
        let digest = sha256_parts(&[
            MESSAGE_REF_CONTEXT,
            &[kind],
            &len,
            &key,
            author.as_bytes(),
            &clock.to_be_bytes(),
        ]);
        Self(hex::encode(digest.as_bytes()))
    }

    /// Parses a reference: 64 lowercase hex digits.
    ///
    /// # Errors
    /// [`Error::InvalidId`](crate::Error::InvalidId) otherwise.
    pub fn parse(text: &str) -> Result<Self, crate::Error> {
        let ok = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(crate::Error::InvalidId { field: "message" })
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageRef({})", self.0)
    }
}

/// What a message says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A text message (`TEXT_PLAIN`), possibly a reply.
    Text {
        /// The text.
        text: String,
        /// The reference of the message replied to, if any.
        response_to: Option<MessageRef>,
    },
    /// An emoji-only message (`EMOJI`).
    Emoji {
        /// The emoji text.
        text: String,
    },
    /// A reaction to another message.
    Reaction {
        /// The message reacted to.
        to: MessageRef,
        /// Which emoji.
        kind: ReactionKind,
        /// Whether the reaction is taken back.
        retracted: bool,
    },
    /// A message type this version cannot show (sticker, image, audio); kept as received.
    Unsupported {
        /// Its `ChatMessage.content_type`.
        content_type: i32,
    },
}

/// A message of the history, as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// Its id in this client's history.
    pub id: MessageId,
    /// How reactions and replies name it.
    pub reference: MessageRef,
    /// Its chat.
    pub chat: ChatId,
    /// Who wrote it.
    pub author: PublicId,
    /// Its Lamport time (the order of the chat).
    pub clock: u64,
    /// The author's wall-clock time, Unix milliseconds, for display.
    pub timestamp_ms: u64,
    /// What it says.
    pub content: Content,
    /// Received or sent.
    pub direction: Direction,
    /// Where it stands (received, pending, sent, failed).
    pub status: MessageStatus,
}

impl Message {
    /// The application's view of a stored message; `None` if its payload is not one this
    /// facade wrote (a corrupt row).
    pub(crate) fn from_stored(us: &PublicId, stored: StoredMessage) -> Option<Self> {
        let content = decode_history(&stored.payload)?;
        Some(Self {
            reference: MessageRef::compute(us, &stored.chat, &stored.author, stored.clock),
            id: stored.id,
            chat: stored.chat,
            author: stored.author,
            clock: stored.clock,
            timestamp_ms: stored.timestamp.as_millis(),
            content,
            direction: stored.direction,
            status: stored.status,
        })
    }
}

/// Why a received payload was refused (logged, never shown to peers; no peer data inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadError {
    /// Not a protobuf encoding of the expected message.
    Malformed(&'static str),
    /// `author` is not the session's peer, or a signature is present.
    Author,
    /// A field breaks a rule of the module documentation.
    Invalid(&'static str),
}

/// `ApplicationMetadataMessage{type, payload, author}` without a signature (module docs).
pub(crate) fn encode_envelope(kind: Type, payload: Vec<u8>, author: &IdentityPublicKey) -> Vec<u8> {
    wire::ApplicationMetadataMessage {
        signature: Vec::new(),
        payload,
        r#type: kind as i32,
        author: author.as_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// Parses a session plaintext; `author` must be `peer`.
pub(crate) fn decode_envelope(
    bytes: &[u8],
    peer: &IdentityPublicKey,
) -> Result<(Type, Vec<u8>), PayloadError> {
    let message = wire::ApplicationMetadataMessage::decode(bytes)
        .map_err(|_| PayloadError::Malformed("ApplicationMetadataMessage"))?;
    if message.author.as_slice() != peer.as_bytes() || !message.signature.is_empty() {
        return Err(PayloadError::Author);
    }
    let kind = Type::try_from(message.r#type).map_err(|_| PayloadError::Invalid("type"))?;
    Ok((kind, message.payload))
}

/// A chat message as the facade builds and checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChatText {
    pub(crate) clock: u64,
    pub(crate) timestamp_ms: u64,
    pub(crate) content: Content,
}

fn check_text(text: &str) -> Result<(), crate::Error> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(crate::Error::TooLong { field: "text", limit: MAX_TEXT_CHARS, actual: chars });
    }
    Ok(())
}

/// Builds a `ChatMessage` carrying `content` (text or emoji).
pub(crate) fn chat_message(
    clock: u64,
    timestamp_ms: u64,
    chat_id: &str,
    message_type: wire::MessageType,
    content: &Content,
) -> Result<Vec<u8>, crate::Error> {
    let (text, response_to, content_type) = match content {
        Content::Text { text, response_to } => (
            text.clone(),
            response_to.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
            ContentType::TextPlain,
        ),
        Content::Emoji { text } => (text.clone(), String::new(), ContentType::Emoji),
        _ => return Err(crate::Error::Internal("only text and emoji are sent as chat messages")),
    };
    check_text(&text)?;
    Ok(wire::ChatMessage {
        clock,
        timestamp: timestamp_ms,
        text,
        response_to,
        chat_id: chat_id.to_owned(),
        message_type: message_type as i32,
        content_type: content_type as i32,
        ..wire::ChatMessage::default()
    }
    .encode_to_vec())
}

/// Builds an `EmojiReaction`.
pub(crate) fn reaction_message(
    clock: u64,
    chat_id: &str,
    message_type: wire::MessageType,
    to: &MessageRef,
    kind: ReactionKind,
    retracted: bool,
) -> Vec<u8> {
    wire::EmojiReaction {
        clock,
        chat_id: chat_id.to_owned(),
        message_id: to.as_str().to_owned(),
        message_type: message_type as i32,
        r#type: reaction_to_wire(kind) as i32,
        retracted,
        grant: Vec::new(),
    }
    .encode_to_vec()
}

fn reaction_to_wire(kind: ReactionKind) -> wire::emoji_reaction::Type {
    use wire::emoji_reaction::Type as W;
    match kind {
        ReactionKind::Love => W::Love,
        ReactionKind::ThumbsUp => W::ThumbsUp,
        ReactionKind::ThumbsDown => W::ThumbsDown,
        ReactionKind::Laugh => W::Laugh,
        ReactionKind::Sad => W::Sad,
        ReactionKind::Angry => W::Angry,
        _ => W::UnknownEmojiReactionType,
    }
}

fn reaction_from_wire(value: i32) -> Option<ReactionKind> {
    use wire::emoji_reaction::Type as W;
    Some(match W::try_from(value).ok()? {
        W::Love => ReactionKind::Love,
        W::ThumbsUp => ReactionKind::ThumbsUp,
        W::ThumbsDown => ReactionKind::ThumbsDown,
        W::Laugh => ReactionKind::Laugh,
        W::Sad => ReactionKind::Sad,
        W::Angry => ReactionKind::Angry,
        W::UnknownEmojiReactionType => return None,
    })
}

fn short(field: &'static str, text: &str) -> Result<(), PayloadError> {
    if text.len() > MAX_SHORT_FIELD_BYTES { Err(PayloadError::Invalid(field)) } else { Ok(()) }
}

fn clock_ok(clock: u64, now_ms: u64) -> Result<(), PayloadError> {
    if clock == 0 || clock > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(PayloadError::Invalid("clock"));
    }
    Ok(())
}

fn optional_ref(text: &str) -> Result<Option<MessageRef>, PayloadError> {
    if text.is_empty() {
        return Ok(None);
    }
    MessageRef::parse(text).map(Some).map_err(|_| PayloadError::Invalid("response_to"))
}

/// Parses and checks a received `ChatMessage` (module docs) of `message_type` for `chat_id`.
pub(crate) fn parse_chat_message(
    bytes: &[u8],
    chat_id: &str,
    message_type: wire::MessageType,
    now_ms: u64,
) -> Result<ChatText, PayloadError> {
    let m = wire::ChatMessage::decode(bytes).map_err(|_| PayloadError::Malformed("ChatMessage"))?;
    clock_ok(m.clock, now_ms)?;
    if m.message_type != message_type as i32 {
        return Err(PayloadError::Invalid("message_type"));
    }
    if m.chat_id != chat_id {
        return Err(PayloadError::Invalid("chat_id"));
    }
    if m.text.chars().count() > MAX_TEXT_CHARS {
        return Err(PayloadError::Invalid("text"));
    }
    short("response_to", &m.response_to)?;
    let content = match ContentType::try_from(m.content_type) {
        Ok(ContentType::TextPlain) => {
            Content::Text { text: m.text, response_to: optional_ref(&m.response_to)? }
        }
        Ok(ContentType::Emoji) => Content::Emoji { text: m.text },
        _ => Content::Unsupported { content_type: m.content_type },
    };
    Ok(ChatText { clock: m.clock, timestamp_ms: m.timestamp, content })
}

/// Parses and checks a received `EmojiReaction` of `message_type` for `chat_id`.
pub(crate) fn parse_reaction(
    bytes: &[u8],
    chat_id: &str,
    message_type: wire::MessageType,
    now_ms: u64,
) -> Result<ChatText, PayloadError> {
    let r =
        wire::EmojiReaction::decode(bytes).map_err(|_| PayloadError::Malformed("EmojiReaction"))?;
    clock_ok(r.clock, now_ms)?;
    if r.message_type != message_type as i32 {
        return Err(PayloadError::Invalid("message_type"));
    }
    if r.chat_id != chat_id {
        return Err(PayloadError::Invalid("chat_id"));
    }
    let to = MessageRef::parse(&r.message_id).map_err(|_| PayloadError::Invalid("message_id"))?;
    let kind = reaction_from_wire(r.r#type).ok_or(PayloadError::Invalid("type"))?;
    Ok(ChatText {
        clock: r.clock,
        timestamp_ms: now_ms,
        content: Content::Reaction { to, kind, retracted: r.retracted },
    })
}

/// A group chat entity as facade content: `(clock, timestamp, content)`.
pub(crate) fn from_group_message(message: &GroupChatMessage) -> ChatText {
    let content = match &message.content {
        MessageContent::Text => Content::Text {
            text: message.text.clone(),
            response_to: optional_ref(&message.response_to).ok().flatten(),
        },
        MessageContent::Emoji => Content::Emoji { text: message.text.clone() },
        MessageContent::Sticker { .. } => {
            Content::Unsupported { content_type: ContentType::Sticker as i32 }
        }
        MessageContent::Image { .. } => {
            Content::Unsupported { content_type: ContentType::Image as i32 }
        }
        MessageContent::Audio { .. } => {
            Content::Unsupported { content_type: ContentType::Audio as i32 }
        }
        _ => Content::Unsupported { content_type: ContentType::UnknownContentType as i32 },
    };
    ChatText { clock: message.clock.0, timestamp_ms: message.timestamp_ms, content }
}

/// A group reaction as facade content; `None` if it names no valid message reference.
pub(crate) fn from_group_reaction(reaction: &GroupReaction, now_ms: u64) -> Option<ChatText> {
    let to = MessageRef::parse(&reaction.message_id).ok()?;
    Some(ChatText {
        clock: reaction.clock.0,
        timestamp_ms: now_ms,
        content: Content::Reaction { to, kind: reaction.kind, retracted: reaction.retracted },
    })
}

/// The history payload of `content` by `author` (module docs).
pub(crate) fn encode_history(text: &ChatText, author: &PublicId) -> Vec<u8> {
    let (kind, payload) = match &text.content {
        Content::Reaction { to, kind, retracted } => (
            Type::EmojiReaction,
            wire::EmojiReaction {
                clock: text.clock,
                message_id: to.as_str().to_owned(),
                r#type: reaction_to_wire(*kind) as i32,
                retracted: *retracted,
                ..wire::EmojiReaction::default()
            }
            .encode_to_vec(),
        ),
        other => {
            let (body, response_to, content_type) = match other {
                Content::Text { text, response_to } => (
                    text.clone(),
                    response_to.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
                    ContentType::TextPlain as i32,
                ),
                Content::Emoji { text } => (text.clone(), String::new(), ContentType::Emoji as i32),
                Content::Unsupported { content_type } => {
                    (String::new(), String::new(), *content_type)
                }
                Content::Reaction { .. } => (String::new(), String::new(), 0),
            };
            (
                Type::ChatMessage,
                wire::ChatMessage {
                    clock: text.clock,
                    timestamp: text.timestamp_ms,
                    text: body,
                    response_to,
                    content_type,
                    ..wire::ChatMessage::default()
                }
                .encode_to_vec(),
            )
        }
    };
    wire::ApplicationMetadataMessage {
        signature: Vec::new(),
        payload,
        r#type: kind as i32,
        author: author.as_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// The content of a history payload; `None` if it is not one [`encode_history`] wrote.
pub(crate) fn decode_history(bytes: &[u8]) -> Option<Content> {
    let envelope = wire::ApplicationMetadataMessage::decode(bytes).ok()?;
    match Type::try_from(envelope.r#type).ok()? {
        Type::ChatMessage => {
            let m = wire::ChatMessage::decode(envelope.payload.as_slice()).ok()?;
            Some(match ContentType::try_from(m.content_type) {
                Ok(ContentType::TextPlain) => Content::Text {
                    text: m.text,
                    response_to: MessageRef::parse(&m.response_to).ok(),
                },
                Ok(ContentType::Emoji) => Content::Emoji { text: m.text },
                _ => Content::Unsupported { content_type: m.content_type },
            })
        }
        Type::EmojiReaction => {
            let r = wire::EmojiReaction::decode(envelope.payload.as_slice()).ok()?;
            Some(Content::Reaction {
                to: MessageRef::parse(&r.message_id).ok()?,
                kind: reaction_from_wire(r.r#type)?,
                retracted: r.retracted,
            })
        }
        _ => None,
    }
}

/// The text id of a channel's chat in its `ChatMessage.chat_id`.
pub(crate) fn channel_chat_id(org: &OrgId, channel: &ChannelId) -> String {
    format!("{}-{}", hex::encode(org.as_bytes()), channel.as_str())
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn key(seed: u64) -> IdentityPublicKey {
        IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(seed)).public_key()
    }

    #[test]
    fn references_agree_between_the_two_sides_of_a_direct_chat() {
        let (a, b) = (PublicId::new(key(1).to_bytes()), PublicId::new(key(2).to_bytes()));
        let seen_by_a = MessageRef::compute(&a, &ChatId::Direct(b), &a, 7);
        let seen_by_b = MessageRef::compute(&b, &ChatId::Direct(a), &a, 7);
        assert_eq!(seen_by_a, seen_by_b);
        assert_ne!(seen_by_a, MessageRef::compute(&a, &ChatId::Direct(b), &a, 8));
        assert_ne!(seen_by_a, MessageRef::compute(&a, &ChatId::Direct(b), &b, 7));
        assert_eq!(MessageRef::parse(seen_by_a.as_str()).unwrap(), seen_by_a);
        assert!(MessageRef::parse("AB").is_err());
        assert!(MessageRef::parse(&"A".repeat(64)).is_err());
    }

    #[test]
    fn envelopes_name_their_author_and_carry_no_signature() {
        let (alice, mallory) = (key(1), key(2));
        let bytes = encode_envelope(Type::ChatMessage, b"hi".to_vec(), &alice);
        assert_eq!(decode_envelope(&bytes, &alice), Ok((Type::ChatMessage, b"hi".to_vec())));
        assert_eq!(decode_envelope(&bytes, &mallory), Err(PayloadError::Author));
        let mut signed = wire::ApplicationMetadataMessage::decode(bytes.as_slice()).unwrap();
        signed.signature = vec![1; 64];
        assert_eq!(decode_envelope(&signed.encode_to_vec(), &alice), Err(PayloadError::Author));
    }

    #[test]
    fn chat_messages_round_trip_and_are_checked() {
        let reply = MessageRef::compute(
            &PublicId::new([1; 32]),
            &ChatId::Direct(PublicId::new([2; 32])),
            &PublicId::new([1; 32]),
            3,
        );
        let content = Content::Text { text: "hi".into(), response_to: Some(reply) };
        let bytes = chat_message(NOW, NOW, "0xab", wire::MessageType::OneToOne, &content).unwrap();
        let parsed = parse_chat_message(&bytes, "0xab", wire::MessageType::OneToOne, NOW).unwrap();
        assert_eq!(parsed, ChatText { clock: NOW, timestamp_ms: NOW, content: content.clone() });
        let check = |chat, kind, now| parse_chat_message(&bytes, chat, kind, now).unwrap_err();
        assert_eq!(
            check("0xcd", wire::MessageType::OneToOne, NOW),
            PayloadError::Invalid("chat_id")
        );
        assert_eq!(
            check("0xab", wire::MessageType::PrivateGroup, NOW),
            PayloadError::Invalid("message_type")
        );
        assert_eq!(
            check("0xab", wire::MessageType::OneToOne, NOW - MAX_CLOCK_SKEW_MS - 1),
            PayloadError::Invalid("clock")
        );
        let long = Content::Text { text: "x".repeat(MAX_TEXT_CHARS + 1), response_to: None };
        assert!(matches!(
            chat_message(1, 1, "c", wire::MessageType::OneToOne, &long),
            Err(crate::Error::TooLong { field: "text", .. })
        ));
        let history = encode_history(&parsed, &PublicId::new([1; 32]));
        assert_eq!(decode_history(&history), Some(content));
    }

    #[test]
    fn reactions_round_trip() {
        let to = MessageRef::parse(&"a".repeat(64)).unwrap();
        let bytes = reaction_message(
            5,
            "0xab",
            wire::MessageType::OneToOne,
            &to,
            ReactionKind::Laugh,
            true,
        );
        let parsed = parse_reaction(&bytes, "0xab", wire::MessageType::OneToOne, NOW).unwrap();
        let expected = Content::Reaction { to, kind: ReactionKind::Laugh, retracted: true };
        assert_eq!(parsed.content, expected);
        assert_eq!(
            decode_history(&encode_history(&parsed, &PublicId::new([1; 32]))),
            Some(expected)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let peer = PublicId::new([3; 32]);
            let _ = decode_envelope(&bytes, &key(1));
            let _ = parse_chat_message(&bytes, "c", wire::MessageType::OneToOne, NOW);
            let _ = parse_reaction(&bytes, "c", wire::MessageType::OneToOne, NOW);
            let _ = decode_history(&bytes);
            let _ = MessageRef::compute(&peer, &ChatId::Direct(peer), &peer, 1);
        }
    }
}
