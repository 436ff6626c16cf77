//! The Waku message, 14/WAKU2-MESSAGE, as a validated domain type.
//!
//! ```text
//! message WakuMessage {                       field   kaiwa's domain form
//!   bytes payload = 1;                        1       Vec<u8>
//!   string content_topic = 2;                 2       ContentTopic (validated)
//!   optional uint32 version = 3;              3       u32, absent = 0, encoded only when ≠ 0
//!   optional sint64 timestamp = 10;           10      Option<i64>, Unix ns, zig-zag on the wire
//!   optional bytes meta = 11;                 11      Option<Vec<u8>>, ≤ 64 bytes
//!   optional bytes rate_limit_proof = 21;     21      Option<Vec<u8>>, opaque
//!   optional bool ephemeral = 31;             31      bool, absent = false, encoded only when true
//! }
//! ```
//!
//! Invariants of [`WakuMessage`], checked by every constructor and by the conversion from the
//! wire type (each cites its source):
//! - the content topic is valid ([`ContentTopic`], 23/WAKU2-TOPICS);
//! - `meta` is at most [`MAX_META_LEN`] bytes (14/WAKU2-MESSAGE; nwaku `MaxMetaAttrLength`);
//! - the protobuf encoding is at most [`MAX_MESSAGE_SIZE`] bytes (RFC 64/WAKU2-NETWORK;
//!   nwaku `DefaultMaxWakuMessageSize`).
//!
//! `decode` refuses more than [`MAX_MESSAGE_SIZE`] received bytes before it parses anything.
//! `timestamp` keeps "absent" apart from zero, because the message hash covers it only when
//! present. `version` and `ephemeral` normalise "absent" and the default value to one domain
//! value; neither is covered by the message hash, and a relay that needs the exact received
//! bytes (the gossipsub message id) keeps them itself.

use core::fmt;

use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::message as wire;

use crate::content_topic::{ContentTopic, ContentTopicError};
use crate::hash::MessageHash;
use crate::limits::{MAX_MESSAGE_SIZE, MAX_META_LEN};
use crate::pubsub_topic::PubsubTopic;

/// Why a message breaks an invariant of [`WakuMessage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidMessage {
    /// The content topic is not valid.
    #[error("invalid content topic")]
    ContentTopic {
        /// The rule it breaks.
        #[from]
        source: ContentTopicError,
    },
    /// `meta` is longer than [`MAX_META_LEN`].
    #[error("meta is {actual} bytes long, more than {max}")]
    MetaTooLong {
        /// The bound.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// The encoded message would be larger than [`MAX_MESSAGE_SIZE`].
    #[error("encoded message would be {actual} bytes, more than {max}")]
    TooLarge {
        /// The bound.
        max: usize,
        /// The encoded size it would have.
        actual: usize,
    },
}

/// Why received bytes are not a valid Waku message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// More bytes than [`MAX_MESSAGE_SIZE`]; nothing was parsed.
    #[error("received {actual} bytes, more than the {max} a Waku message may have")]
    TooLarge {
        /// The bound.
        max: usize,
        /// The number of bytes received.
        actual: usize,
    },
    /// Not a protobuf encoding of `WakuMessage`.
    #[error("not a protobuf encoding of WakuMessage")]
    Protobuf,
    /// Well-formed protobuf that breaks an invariant.
    #[error("invalid Waku message")]
    Invalid {
        /// The invariant broken.
        #[from]
        source: InvalidMessage,
    },
}

/// A validated Waku message; see the module documentation for the invariants.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WakuMessage {
    payload: Vec<u8>,
    content_topic: ContentTopic,
    version: u32,
    timestamp: Option<i64>,
    meta: Option<Vec<u8>>,
    rate_limit_proof: Option<Vec<u8>>,
    ephemeral: bool,
}

impl WakuMessage {
    /// A version-0 message with no timestamp, meta or proof, not ephemeral.
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::TooLarge`] if the payload does not fit (see
    /// [`max_payload_len`](Self::max_payload_len)).
    pub fn new(content_topic: ContentTopic, payload: Vec<u8>) -> Result<Self, InvalidMessage> {
        Self {
            payload,
            content_topic,
            version: 0,
            timestamp: None,
            meta: None,
            rate_limit_proof: None,
            ephemeral: false,
        }
        .checked()
    }

    /// Sets the sender timestamp, Unix epoch nanoseconds. Stores order and filter by it, and
    /// nwaku's store rejects messages more than 20 s away from its own clock.
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::TooLarge`] if the field no longer fits.
    pub fn with_timestamp(mut self, unix_nanos: i64) -> Result<Self, InvalidMessage> {
        self.timestamp = Some(unix_nanos);
        self.checked()
    }

    /// Sets `meta`, covered by the message hash.
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::MetaTooLong`] over [`MAX_META_LEN`] bytes, or
    /// [`InvalidMessage::TooLarge`].
    pub fn with_meta(mut self, meta: Vec<u8>) -> Result<Self, InvalidMessage> {
        self.meta = Some(meta);
        self.checked()
    }

    /// Marks the message ephemeral: stores SHOULD NOT keep it (14/WAKU2-MESSAGE).
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::TooLarge`] if the field no longer fits.
    pub fn with_ephemeral(mut self, ephemeral: bool) -> Result<Self, InvalidMessage> {
        self.ephemeral = ephemeral;
        self.checked()
    }

    /// Sets the payload version (0 plain, 1 26/WAKU-PAYLOAD, 2 Noise). kaiwa sends 0.
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::TooLarge`] if the field no longer fits.
    pub fn with_version(mut self, version: u32) -> Result<Self, InvalidMessage> {
        self.version = version;
        self.checked()
    }

    /// Attaches an opaque RLN proof (17/WAKU2-RLN-RELAY).
    ///
    /// # Errors
    ///
    /// [`InvalidMessage::TooLarge`] if the proof no longer fits.
    pub fn with_rate_limit_proof(mut self, proof: Vec<u8>) -> Result<Self, InvalidMessage> {
        self.rate_limit_proof = Some(proof);
        self.checked()
    }

    fn checked(self) -> Result<Self, InvalidMessage> {
        if let Some(meta) = &self.meta
            && meta.len() > MAX_META_LEN
        {
            return Err(InvalidMessage::MetaTooLong { max: MAX_META_LEN, actual: meta.len() });
        }
        let actual = self.encoded_len();
        if actual > MAX_MESSAGE_SIZE {
            return Err(InvalidMessage::TooLarge { max: MAX_MESSAGE_SIZE, actual });
        }
        Ok(self)
    }

    /// The application payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Takes the payload out of the message.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The content topic.
    pub fn content_topic(&self) -> &ContentTopic {
        &self.content_topic
    }

    /// The payload version; 0 when the field was absent.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The sender timestamp in Unix epoch nanoseconds, if present.
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The `meta` attribute, if present.
    pub fn meta(&self) -> Option<&[u8]> {
        self.meta.as_deref()
    }

    /// The opaque RLN proof, if present.
    pub fn rate_limit_proof(&self) -> Option<&[u8]> {
        self.rate_limit_proof.as_deref()
    }

    /// Whether stores should not keep this message.
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// The deterministic message hash of this message on `pubsub_topic`.
    pub fn hash(&self, pubsub_topic: &PubsubTopic) -> MessageHash {
        MessageHash::compute(pubsub_topic, self)
    }

    /// Length of [`encode`](Self::encode)'s output, computed without encoding.
    pub fn encoded_len(&self) -> usize {
        let mut len = 0usize;
        if !self.payload.is_empty() {
            len += length_delimited_len(1, self.payload.len());
        }
        len += length_delimited_len(2, self.content_topic.as_str().len());
        if self.version != 0 {
            len += key_len(3) + varint_len(u64::from(self.version));
        }
        if let Some(timestamp) = self.timestamp {
            len += key_len(10) + varint_len(zigzag(timestamp));
        }
        if let Some(meta) = &self.meta {
            len += length_delimited_len(11, meta.len());
        }
        if let Some(proof) = &self.rate_limit_proof {
            len += length_delimited_len(21, proof.len());
        }
        if self.ephemeral {
            len += key_len(31) + 1;
        }
        len
    }

    /// The largest payload a message on `content_topic` can carry whatever its other fields:
    /// a timestamp, [`MAX_META_LEN`] bytes of meta, any version and the ephemeral flag, but no
    /// RLN proof. Chat layers split anything larger (e.g. organization descriptions).
    pub fn max_payload_len(content_topic: &ContentTopic) -> usize {
        let others = length_delimited_len(2, content_topic.as_str().len())
            + key_len(3)
            + varint_len(u64::from(u32::MAX))
            + key_len(10)
            + varint_len(u64::MAX)
            + length_delimited_len(11, MAX_META_LEN)
            + key_len(31)
            + 1;
        let budget = MAX_MESSAGE_SIZE.saturating_sub(others);
        // The payload's own framing is its key (1 byte) and a length varint of 1..=3 bytes
        // (budget < 2^21); keep the largest payload whose framing matches its length.
        (1..=3usize)
            .filter_map(|varint| {
                let payload = budget.checked_sub(1 + varint)?;
                (varint_len(payload as u64) == varint).then_some(payload)
            })
            .max()
            .unwrap_or(0)
    }

    /// The protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        wire::WakuMessage::from(self).encode_to_vec()
    }

    /// Decodes and validates received bytes.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooLarge`] over [`MAX_MESSAGE_SIZE`] bytes (checked first),
    /// [`DecodeError::Protobuf`] for malformed protobuf, [`DecodeError::Invalid`] for a broken
    /// invariant.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::TooLarge { max: MAX_MESSAGE_SIZE, actual: bytes.len() });
        }
        let message = wire::WakuMessage::decode(bytes).map_err(|_| DecodeError::Protobuf)?;
        Ok(Self::try_from(message)?)
    }
}

impl TryFrom<wire::WakuMessage> for WakuMessage {
    type Error = InvalidMessage;

    fn try_from(message: wire::WakuMessage) -> Result<Self, Self::Error> {
        // Cheap bounds first, so an oversized meta is reported as such.
        if let Some(meta) = &message.meta
            && meta.len() > MAX_META_LEN
        {
            return Err(InvalidMessage::MetaTooLong { max: MAX_META_LEN, actual: meta.len() });
        }
        let content_topic = ContentTopic::parse(&message.content_topic)?;
        Self {
            payload: message.payload,
            content_topic,
            version: message.version.unwrap_or(0),
            timestamp: message.timestamp,
            meta: message.meta,
            rate_limit_proof: message.rate_limit_proof,
            ephemeral: message.ephemeral.unwrap_or(false),
        }
        .checked()
    }
}

impl From<&WakuMessage> for wire::WakuMessage {
    fn from(message: &WakuMessage) -> Self {
        Self {
            payload: message.payload.clone(),
            content_topic: message.content_topic.as_str().to_owned(),
            version: (message.version != 0).then_some(message.version),
            timestamp: message.timestamp,
            meta: message.meta.clone(),
            rate_limit_proof: message.rate_limit_proof.clone(),
            ephemeral: message.ephemeral.then_some(true),
        }
    }
}

impl From<WakuMessage> for wire::WakuMessage {
    fn from(message: WakuMessage) -> Self {
        Self {
            version: (message.version != 0).then_some(message.version),
            content_topic: message.content_topic.as_str().to_owned(),
            ephemeral: message.ephemeral.then_some(true),
            payload: message.payload,
            timestamp: message.timestamp,
            meta: message.meta,
            rate_limit_proof: message.rate_limit_proof,
        }
    }
}

impl fmt::Debug for WakuMessage {
    /// Lengths instead of bytes, so that logging a 150 KiB message stays readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { payload, content_topic, version, timestamp, meta, rate_limit_proof, ephemeral } =
            self;
        f.debug_struct("WakuMessage")
            .field("content_topic", content_topic)
            .field("payload_len", &payload.len())
            .field("version", version)
            .field("timestamp", timestamp)
            .field("meta_len", &meta.as_ref().map(Vec::len))
            .field("rate_limit_proof_len", &rate_limit_proof.as_ref().map(Vec::len))
            .field("ephemeral", ephemeral)
            .finish()
    }
}

/// Bytes of a base-128 varint.
const fn varint_len(value: u64) -> usize {
    // 1 byte per started group of 7 bits; 0 takes one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of a field key (tag and wire type).
const fn key_len(tag: u32) -> usize {
    varint_len((tag as u64) << 3)
}

/// Bytes of a length-delimited field with `len` bytes of content.
const fn length_delimited_len(tag: u32, len: usize) -> usize {
    key_len(tag) + varint_len(len as u64) + len
}

/// sint64 zig-zag mapping: 0, -1, 1, -2, … → 0, 1, 2, 3, …
const fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn topic() -> ContentTopic {
        ContentTopic::parse("/kaiwa/1/test/proto").unwrap()
    }

    fn arb_wire_message() -> impl Strategy<Value = wire::WakuMessage> {
        (
            prop::collection::vec(any::<u8>(), 0..300),
            "/[a-z]{1,8}/[0-9]{1,2}/[!-.0-~]{1,30}/proto",
            prop::option::of(1u32..),
            prop::option::of(any::<i64>()),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..=MAX_META_LEN)),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..100)),
            any::<bool>(),
        )
            .prop_map(
                |(payload, content_topic, version, timestamp, meta, proof, ephemeral)| {
                    wire::WakuMessage {
                        payload,
                        content_topic,
                        version,
                        timestamp,
                        meta,
                        rate_limit_proof: proof,
                        ephemeral: ephemeral.then_some(true),
                    }
                },
            )
    }

    #[test]
    fn meta_of_64_bytes_is_accepted_and_65_rejected() {
        let message = WakuMessage::new(topic(), vec![1]).unwrap();
        assert!(message.clone().with_meta(vec![0; 64]).is_ok());
        assert_eq!(
            message.with_meta(vec![0; 65]),
            Err(InvalidMessage::MetaTooLong { max: 64, actual: 65 })
        );
        let wire = wire::WakuMessage {
            content_topic: topic().to_string(),
            meta: Some(vec![0; 65]),
            ..Default::default()
        };
        assert_eq!(
            WakuMessage::decode(&wire.encode_to_vec()),
            Err(DecodeError::Invalid {
                source: InvalidMessage::MetaTooLong { max: 64, actual: 65 }
            })
        );
    }

    #[test]
    fn the_size_cap_is_exact() {
        let max = WakuMessage::max_payload_len(&topic());
        let full = WakuMessage::new(topic(), vec![7; max])
            .and_then(|m| m.with_timestamp(i64::MIN))
            .and_then(|m| m.with_meta(vec![1; MAX_META_LEN]))
            .and_then(|m| m.with_version(u32::MAX))
            .and_then(|m| m.with_ephemeral(true))
            .unwrap();
        assert!(full.encoded_len() <= MAX_MESSAGE_SIZE);
        assert!(full.encoded_len() >= MAX_MESSAGE_SIZE - 2, "max_payload_len is tight");
        assert_eq!(full.encode().len(), full.encoded_len());

        let actual = length_delimited_len(1, MAX_MESSAGE_SIZE) + length_delimited_len(2, 19);
        assert_eq!(
            WakuMessage::new(topic(), vec![0; MAX_MESSAGE_SIZE]),
            Err(InvalidMessage::TooLarge { max: MAX_MESSAGE_SIZE, actual })
        );
    }

    #[test]
    fn oversized_input_is_rejected_before_parsing() {
        let bytes = vec![0xff; MAX_MESSAGE_SIZE + 1];
        assert_eq!(
            WakuMessage::decode(&bytes),
            Err(DecodeError::TooLarge { max: MAX_MESSAGE_SIZE, actual: MAX_MESSAGE_SIZE + 1 })
        );
    }

    #[test]
    fn bad_content_topics_are_rejected_on_decode() {
        for bad in ["", "no-slash", "/a/b/c", "/a/1/ n/proto"] {
            let wire = wire::WakuMessage { content_topic: bad.into(), ..Default::default() };
            assert!(
                matches!(
                    WakuMessage::decode(&wire.encode_to_vec()),
                    Err(DecodeError::Invalid { source: InvalidMessage::ContentTopic { .. } })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(WakuMessage::decode(&[0x0a, 0x05, 0x00]), Err(DecodeError::Protobuf));
    }

    #[test]
    fn absent_timestamp_stays_distinct_from_zero() {
        let message = WakuMessage::new(topic(), vec![]).unwrap();
        let zero = message.clone().with_timestamp(0).unwrap();
        assert_eq!(WakuMessage::decode(&message.encode()).unwrap().timestamp(), None);
        assert_eq!(WakuMessage::decode(&zero.encode()).unwrap().timestamp(), Some(0));
        let pubsub = PubsubTopic::parse("/waku/2/rs/1/0").unwrap();
        assert_ne!(message.hash(&pubsub), zero.hash(&pubsub));
    }

    #[test]
    fn debug_shows_lengths_not_bytes() {
        let message = WakuMessage::new(topic(), vec![0xab; 40]).unwrap();
        let debug = format!("{message:?}");
        assert!(debug.contains("payload_len: 40"), "{debug}");
        assert!(!debug.contains("171"), "{debug}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = WakuMessage::decode(&bytes);
        }

        #[test]
        fn valid_wire_messages_round_trip(message in arb_wire_message()) {
            let bytes = message.encode_to_vec();
            let domain = WakuMessage::decode(&bytes).unwrap();
            prop_assert_eq!(domain.encoded_len(), bytes.len());
            prop_assert_eq!(domain.encode(), bytes);
            prop_assert_eq!(wire::WakuMessage::from(&domain), message.clone());
            prop_assert_eq!(wire::WakuMessage::from(domain), message);
        }
    }

    /// Every committed seed of the transport fuzz targets, through the same decoders
    /// (`fuzz/src/transport.rs`; vodozemac's `run_corpus`).
    #[test]
    fn fuzz_seed_corpus_never_panics() {
        use kaiwa_wire::waku::store::{StoreQueryRequest, StoreQueryResponse};

        use crate::{PeerId, StorePage, StoreQuery, TopicScheme};

        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let seeds = |target: &str| -> Vec<Vec<u8>> {
            let dir = std::fs::read_dir(corpus.join(target)).expect("seed corpus is committed");
            let seeds: Vec<_> = dir.map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
            assert!(!seeds.is_empty(), "{target} has seeds");
            seeds
        };
        for data in seeds("transport_message") {
            let _ = WakuMessage::decode(&data);
        }
        for data in seeds("transport_store_request") {
            if let Ok(request) = StoreQueryRequest::decode(data.as_slice()) {
                let _ = StoreQuery::try_from(request);
            }
        }
        for data in seeds("transport_store_response") {
            if let Ok(response) = StoreQueryResponse::decode(data.as_slice()) {
                let _ = StorePage::try_from(response);
            }
        }
        for data in seeds("transport_topics") {
            let Ok(text) = core::str::from_utf8(&data) else { continue };
            let _ = ContentTopic::parse(text);
            let _ = PubsubTopic::parse(text);
            let _ = text.parse::<MessageHash>();
            let _ = PeerId::new(text);
            let _ = TopicScheme::new(text);
        }
    }
}
