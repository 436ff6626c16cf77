//! Peers and health, as a node reports them.
//!
//! ```text
//! relay peers on a pubsub topic   status
//! 0                               Unhealthy
//! 1 ..= 3                         MinimallyHealthy
//! >= 4                            SufficientlyHealthy      (4 = gossipsub D_low, waku-transport.md §1.2)
//! ```
//!
//! The three levels are js-waku's `HealthStatus`; the threshold is the mesh's lower degree, below
//! which gossipsub itself looks for more peers.

use core::fmt;

use crate::content_topic::is_visible_ascii;
use crate::limits::MAX_PEER_ID_LEN;
use crate::pubsub_topic::PubsubTopic;

/// Relay peers on a topic from which a node counts as sufficiently healthy: gossipsub `D_low`.
pub const SUFFICIENT_RELAY_PEERS: usize = 4;

/// Why a string is not a peer id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerIdError {
    /// Empty, longer than [`MAX_PEER_ID_LEN`], or not visible ASCII.
    #[error("a peer id is 1..={max} bytes of visible ASCII")]
    Invalid {
        /// The length bound.
        max: usize,
    },
}

/// A peer's id in the transport's own text form (a libp2p peer id in base58, a simulated node's
/// name, ...).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(String);

impl PeerId {
    /// Validates `text`.
    ///
    /// # Errors
    ///
    /// [`PeerIdError::Invalid`] if it is empty, longer than [`MAX_PEER_ID_LEN`], or not
    /// visible ASCII.
    pub fn new(text: &str) -> Result<Self, PeerIdError> {
        let valid =
            !text.is_empty() && text.len() <= MAX_PEER_ID_LEN && text.bytes().all(is_visible_ascii);
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(PeerIdError::Invalid { max: MAX_PEER_ID_LEN })
        }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PeerId").field(&self.0).finish()
    }
}

/// One connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerInfo {
    /// Its id.
    pub id: PeerId,
    /// Pubsub topics it relays, sorted, without duplicates.
    pub relay_topics: Vec<PubsubTopic>,
    /// Whether it answers store queries.
    pub serves_store: bool,
}

impl PeerInfo {
    /// A peer; `relay_topics` is sorted and deduplicated here.
    pub fn new(id: PeerId, mut relay_topics: Vec<PubsubTopic>, serves_store: bool) -> Self {
        relay_topics.sort();
        relay_topics.dedup();
        Self { id, relay_topics, serves_store }
    }
}

/// How well a node is connected for a pubsub topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    /// No relay peer: publishing will not reach anyone.
    Unhealthy,
    /// Fewer relay peers than [`SUFFICIENT_RELAY_PEERS`].
    MinimallyHealthy,
    /// At least [`SUFFICIENT_RELAY_PEERS`] relay peers.
    SufficientlyHealthy,
}

/// A snapshot of a node's connections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Health {
    peers: Vec<PeerInfo>,
}

impl Health {
    /// A snapshot of these peers.
    pub fn new(peers: Vec<PeerInfo>) -> Self {
        Self { peers }
    }

    /// The connected peers.
    pub fn peers(&self) -> &[PeerInfo] {
        &self.peers
    }

    /// Peers relaying `pubsub_topic`.
    pub fn relay_peers(&self, pubsub_topic: &PubsubTopic) -> usize {
        self.peers.iter().filter(|p| p.relay_topics.binary_search(pubsub_topic).is_ok()).count()
    }

    /// Whether some connected peer answers store queries.
    pub fn store_available(&self) -> bool {
        self.peers.iter().any(|p| p.serves_store)
    }

    /// The status for `pubsub_topic` (see the module documentation).
    pub fn status(&self, pubsub_topic: &PubsubTopic) -> HealthStatus {
        match self.relay_peers(pubsub_topic) {
            0 => HealthStatus::Unhealthy,
            n if n < SUFFICIENT_RELAY_PEERS => HealthStatus::MinimallyHealthy,
            _ => HealthStatus::SufficientlyHealthy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_are_bounded() {
        assert!(PeerId::new("16Uiu2HAm").is_ok());
        for bad in [String::new(), "a b".into(), "x".repeat(MAX_PEER_ID_LEN + 1)] {
            assert_eq!(PeerId::new(&bad), Err(PeerIdError::Invalid { max: MAX_PEER_ID_LEN }));
        }
    }

    #[test]
    fn status_follows_relay_peer_count() {
        let topic = PubsubTopic::parse("/waku/2/rs/1/0").unwrap();
        let other = PubsubTopic::parse("/waku/2/rs/1/1").unwrap();
        let peer = |i: usize, topics: Vec<PubsubTopic>| {
            PeerInfo::new(PeerId::new(&format!("p{i}")).unwrap(), topics, false)
        };
        let mut peers = vec![peer(0, vec![other.clone()])];
        assert_eq!(Health::new(peers.clone()).status(&topic), HealthStatus::Unhealthy);
        for i in 1..=3 {
            peers.push(peer(i, vec![other.clone(), topic.clone(), topic.clone()]));
            assert_eq!(Health::new(peers.clone()).status(&topic), HealthStatus::MinimallyHealthy);
        }
        peers.push(peer(4, vec![topic.clone()]));
        let health = Health::new(peers);
        assert_eq!(health.status(&topic), HealthStatus::SufficientlyHealthy);
        assert_eq!(health.relay_peers(&topic), 4);
        assert!(!health.store_available());
    }
}
