//! What local subscribers receive: relayed messages with their gossipsub message id.
//!
//! ```text
//! relay message id = SHA-256(data)     data = the WakuMessage protobuf bytes as received
//!                                      (11/WAKU2-RELAY, nwaku message_id.nim, js-waku msgIdFn)
//! message hash     = 14/WAKU2-MESSAGE deterministic hash (pubsub topic ‖ payload ‖ …)
//! ```
//!
//! The two differ: the id covers the exact bytes (so a re-encoding that moves a field changes
//! it), the hash covers the message's meaning on its pubsub topic and is the store key.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures::Stream;
use kaiwa_transport::ReceivedMessage;
use libp2p::PeerId;
use tokio::sync::mpsc;

use crate::behaviour::relay_message_id;

/// A gossipsub message id of Waku Relay: SHA-256 of the message bytes. `Display` is 64
/// lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelayMessageId([u8; 32]);

impl RelayMessageId {
    /// The id of a message whose protobuf bytes are `data`.
    #[must_use]
    pub fn of_data(data: &[u8]) -> Self {
        Self(relay_message_id(data))
    }

    /// The id with these bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From gossipsub's id (32 bytes by construction of our message id function).
    pub(crate) fn from_gossipsub(id: &libp2p::gossipsub::MessageId) -> Option<Self> {
        <[u8; 32]>::try_from(id.0.as_slice()).ok().map(Self)
    }
}

impl fmt::Display for RelayMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for RelayMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelayMessageId({self})")
    }
}

/// The outcome of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The gossipsub message id.
    pub message_id: RelayMessageId,
    /// The deterministic message hash (the store key).
    pub hash: kaiwa_transport::MessageHash,
}

/// A message received over relay, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayedMessage {
    /// The message, its pubsub topic and hash.
    pub received: ReceivedMessage,
    /// Its gossipsub message id, SHA-256 of the bytes received.
    pub message_id: RelayMessageId,
    /// The peer that forwarded it to us (not necessarily its author: relay is anonymous).
    pub propagation_source: PeerId,
}

/// A stream of [`RelayedMessage`]s; dropping it unsubscribes.
#[derive(Debug)]
pub struct RelaySubscription {
    receiver: mpsc::Receiver<RelayedMessage>,
}

impl RelaySubscription {
    pub(crate) fn new(receiver: mpsc::Receiver<RelayedMessage>) -> Self {
        Self { receiver }
    }

    /// Waits for the next message; `None` once the node has shut down.
    pub async fn next(&mut self) -> Option<RelayedMessage> {
        self.receiver.recv().await
    }

    /// The next message if one is ready now.
    pub fn try_next(&mut self) -> Option<RelayedMessage> {
        self.receiver.try_recv().ok()
    }
}

impl Stream for RelaySubscription {
    type Item = RelayedMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RelayedMessage>> {
        self.receiver.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_hex_of_sha256() {
        let id = RelayMessageId::of_data(b"abc");
        assert_eq!(
            id.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{id:?}"), format!("RelayMessageId({id})"));
        assert_eq!(RelayMessageId::from_bytes(*id.as_bytes()), id);
    }
}
