//! The chat entity a group message may carry: a `ChatMessage` or an `EmojiReaction`
//! (62/STATUS-PAYLOADS, digest §12), as validated domain types.
//!
//! Receive validation, after status-go `message_validator.go` (digest §12), narrowed to what a
//! private group carries:
//!
//! ```text
//! ChatMessage    clock != 0, clock <= now_ms + 120 000           (checked on receipt, with the group)
//!                timestamp != 0
//!                chat_id = the group's chat id                   (checked on receipt)
//!                message_type = PRIVATE_GROUP
//!                content_type ∈ {TEXT_PLAIN, EMOJI, STICKER, IMAGE, AUDIO}, payload matching it:
//!                  STICKER: sticker with a non-empty hash; IMAGE: image with a payload and a known type;
//!                  AUDIO: audio with a payload and a known type; TEXT_PLAIN/EMOJI: no payload
//!                text: 1..=4096 characters, except an IMAGE may have none
//! EmojiReaction  clock as above; chat_id as above; message_id non-empty;
//!                type != UNKNOWN; message_type = PRIVATE_GROUP
//! short strings  (message_id, response_to, display_name, ens_name, sticker hash, album_id) <= 256 bytes
//! ```
//!
//! Fields kaiwa does not use (`grant`, `contact_request_propagated_state`, `ens_name`) are
//! ignored on receipt and left empty when sending.

use kaiwa_wire::net as wire;
use wire::chat_message::{ContentType, Payload};

use crate::error::DecodeError;
use crate::id::{GroupId, LamportTime};
use crate::limits::{MAX_SHORT_FIELD_BYTES, MAX_TEXT_CHARS};

/// The chat entity of a group message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEntity {
    /// A chat message.
    Message(GroupChatMessage),
    /// An emoji reaction to a message.
    Reaction(GroupReaction),
}

impl ChatEntity {
    /// The entity's Lamport clock.
    #[must_use]
    pub const fn clock(&self) -> LamportTime {
        match self {
            Self::Message(m) => m.clock,
            Self::Reaction(r) => r.clock,
        }
    }
}

/// A chat message in a private group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChatMessage {
    /// Lamport clock; ordering uses this only.
    pub clock: LamportTime,
    /// Sender's wall clock in Unix milliseconds, for display.
    pub timestamp_ms: u64,
    /// The text (may be empty only for an image).
    pub text: String,
    /// Id of the message this one replies to, or empty.
    pub response_to: String,
    /// The sender's display name, or empty.
    pub display_name: String,
    /// What kind of message it is, with its payload.
    pub content: MessageContent,
}

/// The content type of a group chat message, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageContent {
    /// Plain text.
    Text,
    /// An emoji-only message.
    Emoji,
    /// A sticker.
    Sticker {
        /// Sticker content hash (non-empty).
        hash: String,
        /// Sticker pack id.
        pack: i32,
    },
    /// An image.
    Image {
        /// Image bytes (non-empty).
        payload: Vec<u8>,
        /// Image format.
        format: ImageFormat,
    },
    /// A voice message.
    Audio {
        /// Audio bytes (non-empty).
        payload: Vec<u8>,
        /// Audio format.
        format: AudioFormat,
        /// Duration in milliseconds.
        duration_ms: u64,
    },
}

/// Image formats (`ImageType` without `UNKNOWN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
}

/// Audio formats (`AudioType` without `UNKNOWN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AudioFormat {
    /// AAC.
    Aac,
    /// AMR.
    Amr,
}

/// An emoji reaction in a private group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupReaction {
    /// Lamport clock.
    pub clock: LamportTime,
    /// Id of the message reacted to (non-empty).
    pub message_id: String,
    /// Which emoji.
    pub kind: ReactionKind,
    /// Whether the reaction is taken back.
    pub retracted: bool,
}

/// The emoji of a reaction (`EmojiReaction.Type` without `UNKNOWN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReactionKind {
    /// ❤️
    Love,
    /// 👍
    ThumbsUp,
    /// 👎
    ThumbsDown,
    /// 😂
    Laugh,
    /// 😢
    Sad,
    /// 😡
    Angry,
}

fn short(field: &'static str, text: &str) -> Result<(), DecodeError> {
    if text.len() > MAX_SHORT_FIELD_BYTES {
        return Err(DecodeError::TooLong {
            field,
            limit: MAX_SHORT_FIELD_BYTES,
            actual: text.len(),
        });
    }
    Ok(())
}

fn group_type(value: i32) -> Result<(), DecodeError> {
    if value == i32::from(wire::MessageType::PrivateGroup) {
        Ok(())
    } else {
        Err(DecodeError::Unsupported { field: "message_type", value })
    }
}

impl ImageFormat {
    fn from_wire(value: i32) -> Result<Self, DecodeError> {
        match wire::ImageType::try_from(value) {
            Ok(wire::ImageType::Png) => Ok(Self::Png),
            Ok(wire::ImageType::Jpeg) => Ok(Self::Jpeg),
            Ok(wire::ImageType::Webp) => Ok(Self::Webp),
            Ok(wire::ImageType::Gif) => Ok(Self::Gif),
            _ => Err(DecodeError::Unsupported { field: "image.type", value }),
        }
    }

    const fn to_wire(self) -> wire::ImageType {
        match self {
            Self::Png => wire::ImageType::Png,
            Self::Jpeg => wire::ImageType::Jpeg,
            Self::Webp => wire::ImageType::Webp,
            Self::Gif => wire::ImageType::Gif,
        }
    }
}

impl AudioFormat {
    fn from_wire(value: i32) -> Result<Self, DecodeError> {
        use wire::audio_message::AudioType;
        match AudioType::try_from(value) {
            Ok(AudioType::Aac) => Ok(Self::Aac),
            Ok(AudioType::Amr) => Ok(Self::Amr),
            _ => Err(DecodeError::Unsupported { field: "audio.type", value }),
        }
    }

    const fn to_wire(self) -> wire::audio_message::AudioType {
        match self {
            Self::Aac => wire::audio_message::AudioType::Aac,
            Self::Amr => wire::audio_message::AudioType::Amr,
        }
    }
}

impl ReactionKind {
    fn from_wire(value: i32) -> Result<Self, DecodeError> {
        use wire::emoji_reaction::Type;
        match Type::try_from(value) {
            Ok(Type::Love) => Ok(Self::Love),
            Ok(Type::ThumbsUp) => Ok(Self::ThumbsUp),
            Ok(Type::ThumbsDown) => Ok(Self::ThumbsDown),
            Ok(Type::Laugh) => Ok(Self::Laugh),
            Ok(Type::Sad) => Ok(Self::Sad),
            Ok(Type::Angry) => Ok(Self::Angry),
            _ => Err(DecodeError::Unsupported { field: "type", value }),
        }
    }

    const fn to_wire(self) -> wire::emoji_reaction::Type {
        use wire::emoji_reaction::Type;
        match self {
            Self::Love => Type::Love,
            Self::ThumbsUp => Type::ThumbsUp,
            Self::ThumbsDown => Type::ThumbsDown,
            Self::Laugh => Type::Laugh,
            Self::Sad => Type::Sad,
            Self::Angry => Type::Angry,
        }
    }
}

/// A received entity with the chat id it claims, still to be compared with the group's.
#[derive(Debug)]
pub(crate) struct ParsedEntity {
    pub(crate) entity: ChatEntity,
    pub(crate) chat_id: String,
}

impl TryFrom<wire::ChatMessage> for ParsedEntity {
    type Error = DecodeError;

    fn try_from(msg: wire::ChatMessage) -> Result<Self, DecodeError> {
        if msg.clock == 0 {
            return Err(DecodeError::ZeroClock);
        }
        if msg.timestamp == 0 {
            return Err(DecodeError::Missing { field: "timestamp" });
        }
        if msg.chat_id.is_empty() {
            return Err(DecodeError::Missing { field: "chat_id" });
        }
        group_type(msg.message_type)?;
        for (field, value) in [
            ("response_to", &msg.response_to),
            ("display_name", &msg.display_name),
            ("ens_name", &msg.ens_name),
        ] {
            short(field, value)?;
        }
        let chars = msg.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(DecodeError::TooLong {
                field: "text",
                limit: MAX_TEXT_CHARS,
                actual: chars,
            });
        }
        let content_type = ContentType::try_from(msg.content_type).ok();
        let content = match (content_type, msg.payload) {
            (Some(ContentType::TextPlain), None) => MessageContent::Text,
            (Some(ContentType::Emoji), None) => MessageContent::Emoji,
            (Some(ContentType::Sticker), Some(Payload::Sticker(sticker))) => {
                if sticker.hash.is_empty() {
                    return Err(DecodeError::Missing { field: "sticker.hash" });
                }
                short("sticker.hash", &sticker.hash)?;
                MessageContent::Sticker { hash: sticker.hash, pack: sticker.pack }
            }
            (Some(ContentType::Image), Some(Payload::Image(image))) => {
                if image.payload.is_empty() {
                    return Err(DecodeError::Missing { field: "image.payload" });
                }
                short("album_id", &image.album_id)?;
                MessageContent::Image {
                    format: ImageFormat::from_wire(image.r#type)?,
                    payload: image.payload,
                }
            }
            (Some(ContentType::Audio), Some(Payload::Audio(audio))) => {
                if audio.payload.is_empty() {
                    return Err(DecodeError::Missing { field: "audio.payload" });
                }
                MessageContent::Audio {
                    format: AudioFormat::from_wire(audio.r#type)?,
                    payload: audio.payload,
                    duration_ms: audio.duration_ms,
                }
            }
            (Some(ContentType::TextPlain | ContentType::Emoji), Some(_)) => {
                return Err(DecodeError::UnexpectedField { field: "payload" });
            }
            (Some(ContentType::Sticker | ContentType::Image | ContentType::Audio), _) => {
                return Err(DecodeError::Missing { field: "payload" });
            }
            _ => {
                return Err(DecodeError::Unsupported {
                    field: "content_type",
                    value: msg.content_type,
                });
            }
        };
        let image_without_text = matches!(content, MessageContent::Image { .. });
        if msg.text.is_empty() && !image_without_text {
            return Err(DecodeError::Missing { field: "text" });
        }
        Ok(Self {
            entity: ChatEntity::Message(GroupChatMessage {
                clock: LamportTime(msg.clock),
                timestamp_ms: msg.timestamp,
                text: msg.text,
                response_to: msg.response_to,
                display_name: msg.display_name,
                content,
            }),
            chat_id: msg.chat_id,
        })
    }
}

impl TryFrom<wire::EmojiReaction> for ParsedEntity {
    type Error = DecodeError;

    fn try_from(msg: wire::EmojiReaction) -> Result<Self, DecodeError> {
        if msg.clock == 0 {
            return Err(DecodeError::ZeroClock);
        }
        if msg.chat_id.is_empty() {
            return Err(DecodeError::Missing { field: "chat_id" });
        }
        if msg.message_id.is_empty() {
            return Err(DecodeError::Missing { field: "message_id" });
        }
        short("message_id", &msg.message_id)?;
        group_type(msg.message_type)?;
        Ok(Self {
            entity: ChatEntity::Reaction(GroupReaction {
                clock: LamportTime(msg.clock),
                kind: ReactionKind::from_wire(msg.r#type)?,
                message_id: msg.message_id,
                retracted: msg.retracted,
            }),
            chat_id: msg.chat_id,
        })
    }
}

impl ChatEntity {
    /// The wire form, in `group`.
    pub(crate) fn to_wire(&self, group: &GroupId) -> wire::membership_update_message::ChatEntity {
        use wire::membership_update_message::ChatEntity as Wire;
        let chat_id = group.as_str().to_owned();
        let message_type = wire::MessageType::PrivateGroup.into();
        match self {
            Self::Message(m) => {
                let (content_type, payload) = match &m.content {
                    MessageContent::Text => (ContentType::TextPlain, None),
                    MessageContent::Emoji => (ContentType::Emoji, None),
                    MessageContent::Sticker { hash, pack } => (
                        ContentType::Sticker,
                        Some(Payload::Sticker(wire::StickerMessage {
                            hash: hash.clone(),
                            pack: *pack,
                        })),
                    ),
                    MessageContent::Image { payload, format } => (
                        ContentType::Image,
                        Some(Payload::Image(wire::ImageMessage {
                            payload: payload.clone(),
                            r#type: format.to_wire().into(),
                            ..Default::default()
                        })),
                    ),
                    MessageContent::Audio { payload, format, duration_ms } => (
                        ContentType::Audio,
                        Some(Payload::Audio(wire::AudioMessage {
                            payload: payload.clone(),
                            r#type: format.to_wire().into(),
                            duration_ms: *duration_ms,
                        })),
                    ),
                };
                Wire::Message(wire::ChatMessage {
                    clock: m.clock.0,
                    timestamp: m.timestamp_ms,
                    text: m.text.clone(),
                    response_to: m.response_to.clone(),
                    chat_id,
                    message_type,
                    content_type: content_type.into(),
                    display_name: m.display_name.clone(),
                    payload,
                    ..Default::default()
                })
            }
            Self::Reaction(r) => Wire::EmojiReaction(wire::EmojiReaction {
                clock: r.clock.0,
                chat_id,
                message_id: r.message_id.clone(),
                message_type,
                r#type: r.kind.to_wire().into(),
                retracted: r.retracted,
                grant: Vec::new(),
            }),
        }
    }

    /// Parses a received wire entity.
    pub(crate) fn parse(
        entity: wire::membership_update_message::ChatEntity,
    ) -> Result<ParsedEntity, DecodeError> {
        use wire::membership_update_message::ChatEntity as Wire;
        match entity {
            Wire::Message(m) => ParsedEntity::try_from(m),
            Wire::EmojiReaction(r) => ParsedEntity::try_from(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_message() -> wire::ChatMessage {
        wire::ChatMessage {
            clock: 10,
            timestamp: 1_700_000_000_000,
            text: "hello".into(),
            chat_id: "c".into(),
            message_type: wire::MessageType::PrivateGroup.into(),
            content_type: ContentType::TextPlain.into(),
            ..Default::default()
        }
    }

    fn parse(m: wire::ChatMessage) -> Result<ChatEntity, DecodeError> {
        ParsedEntity::try_from(m).map(|p| p.entity)
    }

    #[test]
    fn valid_messages_parse() {
        assert!(matches!(
            parse(text_message()),
            Ok(ChatEntity::Message(GroupChatMessage { content: MessageContent::Text, .. }))
        ));
        let mut image = text_message();
        image.text.clear();
        image.content_type = ContentType::Image.into();
        image.payload = Some(Payload::Image(wire::ImageMessage {
            payload: vec![1],
            r#type: wire::ImageType::Png.into(),
            ..Default::default()
        }));
        assert!(parse(image).is_ok(), "an image needs no text");
        let mut text = text_message();
        text.text = "é".repeat(MAX_TEXT_CHARS);
        assert!(parse(text).is_ok(), "the limit counts characters, not bytes");
    }

    #[test]
    fn invalid_messages_are_rejected_with_their_reason() {
        type Mutation = Box<dyn Fn(&mut wire::ChatMessage)>;
        let cases: Vec<(Mutation, DecodeError)> = vec![
            (Box::new(|m| m.clock = 0), DecodeError::ZeroClock),
            (Box::new(|m| m.timestamp = 0), DecodeError::Missing { field: "timestamp" }),
            (Box::new(|m| m.chat_id.clear()), DecodeError::Missing { field: "chat_id" }),
            (Box::new(|m| m.text.clear()), DecodeError::Missing { field: "text" }),
            (
                Box::new(|m| m.text = "x".repeat(MAX_TEXT_CHARS + 1)),
                DecodeError::TooLong {
                    field: "text",
                    limit: MAX_TEXT_CHARS,
                    actual: MAX_TEXT_CHARS + 1,
                },
            ),
            (
                Box::new(|m| m.message_type = wire::MessageType::OneToOne.into()),
                DecodeError::Unsupported { field: "message_type", value: 1 },
            ),
            (
                Box::new(|m| m.message_type = wire::MessageType::SystemMessagePrivateGroup.into()),
                DecodeError::Unsupported { field: "message_type", value: 4 },
            ),
            (
                Box::new(|m| m.content_type = ContentType::TransactionCommand.into()),
                DecodeError::Unsupported { field: "content_type", value: 5 },
            ),
            (
                Box::new(|m| m.content_type = ContentType::UnknownContentType.into()),
                DecodeError::Unsupported { field: "content_type", value: 0 },
            ),
            (
                Box::new(|m| m.content_type = ContentType::Sticker.into()),
                DecodeError::Missing { field: "payload" },
            ),
            (
                Box::new(|m| {
                    m.content_type = ContentType::Sticker.into();
                    m.payload = Some(Payload::Sticker(wire::StickerMessage::default()));
                }),
                DecodeError::Missing { field: "sticker.hash" },
            ),
            (
                Box::new(|m| {
                    m.content_type = ContentType::Image.into();
                    m.payload = Some(Payload::Image(wire::ImageMessage {
                        payload: vec![1],
                        ..Default::default()
                    }));
                }),
                DecodeError::Unsupported { field: "image.type", value: 0 },
            ),
            (
                Box::new(|m| {
                    m.content_type = ContentType::Audio.into();
                    m.payload = Some(Payload::Audio(wire::AudioMessage::default()));
                }),
                DecodeError::Missing { field: "audio.payload" },
            ),
            (
                Box::new(|m| m.payload = Some(Payload::Community(vec![1]))),
                DecodeError::UnexpectedField { field: "payload" },
            ),
            (
                Box::new(|m| m.response_to = "r".repeat(MAX_SHORT_FIELD_BYTES + 1)),
                DecodeError::TooLong {
                    field: "response_to",
                    limit: MAX_SHORT_FIELD_BYTES,
                    actual: MAX_SHORT_FIELD_BYTES + 1,
                },
            ),
        ];
        for (i, (mutate, expected)) in cases.into_iter().enumerate() {
            let mut m = text_message();
            mutate(&mut m);
            assert_eq!(parse(m).unwrap_err(), expected, "case {i}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Any field values give a typed result, never a panic.
        #[test]
        fn arbitrary_entities_never_panic(
            clock in proptest::prelude::any::<u64>(),
            text in ".{0,16}",
            message_type in -1i32..8,
            content_type in -1i32..20,
            payload_kind in 0u8..5,
            kind in -1i32..8,
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
        ) {
            let payload = match payload_kind {
                0 => None,
                1 => Some(Payload::Sticker(wire::StickerMessage { hash: text.clone(), pack: kind })),
                2 => Some(Payload::Image(wire::ImageMessage { payload: bytes.clone(), r#type: kind, ..Default::default() })),
                3 => Some(Payload::Audio(wire::AudioMessage { payload: bytes.clone(), r#type: kind, duration_ms: clock })),
                _ => Some(Payload::Community(bytes.clone())),
            };
            let message = wire::ChatMessage {
                clock, timestamp: clock, text: text.clone(), chat_id: text.clone(),
                message_type, content_type, payload, ..Default::default()
            };
            let _ = ParsedEntity::try_from(message);
            let reaction = wire::EmojiReaction {
                clock, chat_id: text.clone(), message_id: text, message_type, r#type: kind, ..Default::default()
            };
            let _ = ParsedEntity::try_from(reaction);
        }
    }

    #[test]
    fn reactions_validate() {
        let ok = wire::EmojiReaction {
            clock: 3,
            chat_id: "c".into(),
            message_id: "0xabc".into(),
            message_type: wire::MessageType::PrivateGroup.into(),
            r#type: wire::emoji_reaction::Type::Laugh.into(),
            ..Default::default()
        };
        assert!(ParsedEntity::try_from(ok.clone()).is_ok());
        let mut bad = ok.clone();
        bad.r#type = 0;
        assert!(matches!(
            ParsedEntity::try_from(bad),
            Err(DecodeError::Unsupported { field: "type", value: 0 })
        ));
        let mut bad = ok.clone();
        bad.message_id.clear();
        assert!(matches!(
            ParsedEntity::try_from(bad),
            Err(DecodeError::Missing { field: "message_id" })
        ));
        let mut bad = ok;
        bad.message_type = 0;
        assert!(matches!(
            ParsedEntity::try_from(bad),
            Err(DecodeError::Unsupported { field: "message_type", value: 0 })
        ));
    }
}
