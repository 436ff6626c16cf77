//! Identifiers the store's own API uses.
//!
//! ```text
//! PublicId     32 bytes   an account's Ed25519 identity public key (DECISIONS "Suite and
//!                         identity"); text form "0x" ‖ 64 lowercase hex digits
//! MessageHash  32 bytes   the deterministic hash of a WakuMessage (14/WAKU2-MESSAGE):
//!                         SHA-256(pubsub_topic ‖ payload ‖ content_topic ‖ meta ‖ timestamp)
//! ProcessedKey (timestamp_ns, hash)   a WakuMessage in the processed set: its own timestamp
//!                         (Unix ns, 0 when it has none) and its hash
//! MessageId    i64 > 0    a row of the message history, never reused
//! OutboxId     i64 > 0    a row of the outbox, never reused
//! ```
//!
//! The store keeps identities and hashes as bytes and checks only their length; the
//! protocol crates validate keys when they use them. (kaiwa-transport computes message
//! hashes; this crate does not depend on it and takes the 32 bytes.)

use core::fmt;

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// An account's public id: its 32-byte Ed25519 identity public key.
///
/// Convert from the protocol crates' key with `PublicId::new(key.to_bytes())`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicId([u8; 32]);

impl PublicId {
    /// Wraps the 32 key bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `Some` if `bytes` has exactly 32 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Display for PublicId {
    /// `0x` followed by 64 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({self})")
    }
}

/// The deterministic hash of a WakuMessage (14/WAKU2-MESSAGE).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageHash([u8; 32]);

impl MessageHash {
    /// Wraps the 32 hash bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageHash(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// A WakuMessage as the processed set knows it: its own timestamp and its hash.
///
/// The set is ordered by the timestamp first, so the marks of live traffic (timestamps close
/// to now) are appended at the end of one index instead of being scattered over all of it
/// by their random hashes: a batch of 100 marks writes a page or two, not 100. Both halves
/// come from the message itself (the hash covers the timestamp), so every copy of a message
/// has the same key. A message without a timestamp has key time 0; its hash still tells it
/// apart from one stamped 0.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessedKey {
    timestamp_ns: i64,
    hash: MessageHash,
}

impl ProcessedKey {
    /// The key of a WakuMessage with this hash and this `timestamp` field (Unix ns).
    #[must_use]
    pub const fn new(hash: MessageHash, timestamp_ns: Option<i64>) -> Self {
        let timestamp_ns = match timestamp_ns {
            Some(ns) => ns,
            None => 0,
        };
        Self { timestamp_ns, hash }
    }

    /// The message's hash.
    #[must_use]
    pub const fn hash(&self) -> &MessageHash {
        &self.hash
    }

    /// The message's timestamp (Unix ns), 0 if it has none.
    #[must_use]
    pub const fn timestamp_ns(&self) -> i64 {
        self.timestamp_ns
    }
}

impl fmt::Debug for ProcessedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcessedKey({} ns, ", self.timestamp_ns)?;
        write_hex(f, self.hash.as_bytes())?;
        f.write_str(")")
    }
}

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// The row id, for the application's own bookkeeping (a UI list key, a log).
            #[must_use]
            pub const fn get(self) -> i64 {
                self.0
            }

            /// An id the application kept from [`get`](Self::get). Ids of rows that no
            /// longer exist are simply not found.
            #[must_use]
            pub const fn from_raw(id: i64) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

row_id!(
    /// A message of the history. Ids increase with insertion and are never reused.
    MessageId
);

row_id!(
    /// An outbox entry. Ids increase with insertion and are never reused, so an id kept
    /// across a crash can never name a newer entry.
    OutboxId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        let id = PublicId::new([0xab; 32]);
        assert_eq!(id.to_string(), format!("0x{}", "ab".repeat(32)));
        assert_eq!(format!("{id:?}"), format!("PublicId(0x{})", "ab".repeat(32)));
        assert_eq!(
            format!("{:?}", MessageHash::new([1; 32])),
            format!("MessageHash({})", "01".repeat(32))
        );
        let key = ProcessedKey::new(MessageHash::new([2; 32]), Some(5));
        assert_eq!(format!("{key:?}"), format!("ProcessedKey(5 ns, {})", "02".repeat(32)));
        assert_eq!((key.timestamp_ns(), key.hash()), (5, &MessageHash::new([2; 32])));
        assert_eq!(ProcessedKey::new(MessageHash::new([2; 32]), None).timestamp_ns(), 0);
        assert_eq!(PublicId::from_slice(&[1; 31]), None);
        assert_eq!(PublicId::from_slice(&[1; 32]), Some(PublicId::new([1; 32])));
        assert_eq!(MessageId::from_raw(7).get(), 7);
        assert_eq!(OutboxId::from_raw(9).to_string(), "9");
    }
}
