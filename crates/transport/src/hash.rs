//! The deterministic message hash of 14/WAKU2-MESSAGE, the key of Store v3.
//!
//! ```text
//! message_hash = SHA-256( utf8(pubsub_topic)
//!                       ‖ payload
//!                       ‖ utf8(content_topic)
//!                       ‖ meta                      (no bytes when absent)
//!                       ‖ u64_be(timestamp) )       (no bytes when absent; i64 as two's complement)
//! ```
//!
//! 14/WAKU2-MESSAGE "Deterministic message hashing"; checked against the spec's four vectors
//! (`test-vectors/message_hash_vectors.json`). `version`, `ephemeral` and `rate_limit_proof` are
//! not covered. This is *not* the gossipsub message id, which is `SHA-256` of the encoded
//! protobuf (waku-transport.md §1.2); a relay computes that one over the bytes it received.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::hex;
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;

/// A 32-byte deterministic message hash. `Display` is 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageHash([u8; 32]);

impl MessageHash {
    /// The hash with these bytes (e.g. received as a store cursor or key).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Computes the hash of `message` on `pubsub_topic` (see the module documentation).
    pub fn compute(pubsub_topic: &PubsubTopic, message: &WakuMessage) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(pubsub_topic.as_str().as_bytes());
        hasher.update(message.payload());
        hasher.update(message.content_topic().as_str().as_bytes());
        if let Some(meta) = message.meta() {
            hasher.update(meta);
        }
        if let Some(timestamp) = message.timestamp() {
            // i64::to_be_bytes is the two's-complement u64 big-endian encoding nwaku uses.
            hasher.update(timestamp.to_be_bytes());
        }
        Self(hasher.finalize().into())
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex::write(f, &self.0)
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageHash(")?;
        hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

/// The text is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a message hash is 64 hex digits")]
#[non_exhaustive]
pub struct ParseMessageHashError {}

impl FromStr for MessageHash {
    type Err = ParseMessageHashError;

    /// Parses 64 hex digits, either case, with an optional `0x` prefix (nwaku prints one).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        hex::decode_array(digits).map(Self).ok_or(ParseMessageHashError {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let hash = MessageHash::from_bytes([0xab; 32]);
        let text = hash.to_string();
        assert_eq!(text, "ab".repeat(32));
        assert_eq!(text.parse::<MessageHash>(), Ok(hash));
        assert_eq!(format!("0x{text}").parse::<MessageHash>(), Ok(hash));
        assert_eq!("ab".parse::<MessageHash>(), Err(ParseMessageHashError {}));
        assert_eq!(format!("{hash:?}"), format!("MessageHash({text})"));
    }
}
