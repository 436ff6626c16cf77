//! Node configuration: cluster, shards, listen addresses, static peers, Store server, limits.

use std::fmt;
use std::time::Duration;

use kaiwa_transport::limits::MAX_MESSAGE_SIZE;
use kaiwa_transport::{ClusterId, ShardIndex};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

use crate::error::ConfigError;
use crate::limits::{
    DEFAULT_RETENTION_AGE, DEFAULT_RETENTION_MESSAGES, RECONNECT_BACKOFF_INITIAL,
    RECONNECT_BACKOFF_MAX,
};

/// The node's libp2p identity (an Ed25519 key pair). Its public half is the node's [`PeerId`].
///
/// A secret: no `Clone`, a `Debug` that shows the peer id only. The key bytes are wiped by
/// libp2p's `ed25519::SecretKey` on drop.
pub struct NodeKey(Keypair);

impl NodeKey {
    /// A fresh key from the operating system's RNG. (A networked node is not a sans-IO
    /// protocol crate: its transport keys come from the OS like any libp2p node's.)
    #[must_use]
    pub fn generate() -> Self {
        Self(Keypair::generate_ed25519())
    }

    /// The key whose 32-byte Ed25519 secret is `secret`; `secret` is wiped.
    ///
    /// # Errors
    ///
    /// Never for 32 bytes in practice; [`ConfigError::NodeKey`] if libp2p refuses the bytes.
    pub fn from_secret_bytes(secret: &mut [u8; 32]) -> Result<Self, ConfigError> {
        Keypair::ed25519_from_bytes(secret).map(Self).map_err(|_| ConfigError::NodeKey)
    }

    /// The peer id this key gives the node.
    #[must_use]
    pub fn peer_id(&self) -> PeerId {
        self.0.public().to_peer_id()
    }

    pub(crate) fn into_keypair(self) -> Keypair {
        self.0
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NodeKey").field(&self.peer_id()).finish()
    }
}

/// How long the node keeps relayed messages for Store queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// Most messages kept; the oldest is evicted first.
    pub max_messages: usize,
    /// Messages older than this (by their timestamp) are evicted.
    pub max_age: Duration,
}

impl Retention {
    /// A retention of at most `max_messages` messages no older than `max_age`.
    #[must_use]
    pub const fn new(max_messages: usize, max_age: Duration) -> Self {
        Self { max_messages, max_age }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::new(DEFAULT_RETENTION_MESSAGES, DEFAULT_RETENTION_AGE)
    }
}

/// A peer the node stays connected to: dialled at start and redialled with exponential backoff
/// whenever the connection is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticPeer {
    peer_id: PeerId,
    address: Multiaddr,
}

impl StaticPeer {
    /// A static peer from a full multiaddr ending in `/p2p/<peer id>`, such as
    /// `/ip4/127.0.0.1/tcp/60000/p2p/12D3KooW…` or `/dns4/node.example/tcp/443/wss/p2p/…`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::StaticPeerWithoutPeerId`] when the address does not end in `/p2p/…`: the
    /// node must know whom it dials to tell a reconnect from a stranger.
    pub fn new(address: Multiaddr) -> Result<Self, ConfigError> {
        match address.iter().last() {
            Some(Protocol::P2p(peer_id)) => Ok(Self { peer_id, address }),
            _ => Err(ConfigError::StaticPeerWithoutPeerId),
        }
    }

    /// The peer's id.
    #[must_use]
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The address dialled.
    #[must_use]
    pub fn address(&self) -> &Multiaddr {
        &self.address
    }
}

/// Everything a [`RelayNode`](crate::RelayNode) needs to start. Build it with
/// [`RelayConfig::builder`].
#[derive(Debug)]
#[non_exhaustive]
pub struct RelayConfig {
    /// The node's identity.
    pub key: NodeKey,
    /// The cluster the node belongs to; peers of another cluster are disconnected.
    pub cluster: ClusterId,
    /// The shards the node relays (`/waku/2/rs/<cluster>/<shard>`); at least one.
    pub shards: Vec<ShardIndex>,
    /// Listen addresses: `/ip4/…/tcp/<port>` and/or `/ip4/…/tcp/<port>/ws` (port 0 = any).
    pub listen: Vec<Multiaddr>,
    /// Peers the node keeps connected to.
    pub static_peers: Vec<StaticPeer>,
    /// Whether the node answers Store v3 queries (and so archives what it relays).
    pub store_server: bool,
    /// Archive retention when the store server is on.
    pub retention: Retention,
    /// Largest WakuMessage (protobuf bytes) the node relays or publishes: at most, and by
    /// default, kaiwa-transport's `MAX_MESSAGE_SIZE` (150 KiB, 64/WAKU2-NETWORK). Larger
    /// relayed messages are rejected like any invalid message.
    pub max_message_size: usize,
    /// First redial delay for a lost static peer (doubled after each failure).
    pub reconnect_initial: Duration,
    /// Longest redial delay.
    pub reconnect_max: Duration,
}

impl RelayConfig {
    /// A builder with a fresh key, no listen address, no static peer, the Store server off and
    /// the default retention.
    #[must_use]
    pub fn builder(
        cluster: ClusterId,
        shards: impl IntoIterator<Item = ShardIndex>,
    ) -> RelayConfigBuilder {
        RelayConfigBuilder {
            config: Self {
                key: NodeKey::generate(),
                cluster,
                shards: shards.into_iter().collect(),
                listen: Vec::new(),
                static_peers: Vec::new(),
                store_server: false,
                retention: Retention::default(),
                max_message_size: MAX_MESSAGE_SIZE,
                reconnect_initial: RECONNECT_BACKOFF_INITIAL,
                reconnect_max: RECONNECT_BACKOFF_MAX,
            },
        }
    }

    /// Checks the configuration (called by [`RelayConfigBuilder::build`] and again at start).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.shards.is_empty() {
            return Err(ConfigError::NoShards);
        }
        for address in &self.listen {
            if !is_supported_listen_address(address) {
                return Err(ConfigError::UnsupportedListenAddress);
            }
        }
        if self.store_server && self.retention.max_messages == 0 {
            return Err(ConfigError::ZeroRetention);
        }
        if self.max_message_size == 0 || self.max_message_size > MAX_MESSAGE_SIZE {
            return Err(ConfigError::MaxMessageSize);
        }
        if self.reconnect_initial.is_zero() || self.reconnect_max < self.reconnect_initial {
            return Err(ConfigError::Backoff);
        }
        Ok(())
    }
}

/// `/ip4|ip6|dns*/…/tcp/<port>` optionally followed by `/ws`, nothing else.
fn is_supported_listen_address(address: &Multiaddr) -> bool {
    let mut parts = address.iter();
    let host = matches!(
        parts.next(),
        Some(
            Protocol::Ip4(_)
                | Protocol::Ip6(_)
                | Protocol::Dns(_)
                | Protocol::Dns4(_)
                | Protocol::Dns6(_)
        )
    );
    let tcp = matches!(parts.next(), Some(Protocol::Tcp(_)));
    let rest = match parts.next() {
        None => true,
        Some(Protocol::Ws(path)) => path == "/" && parts.next().is_none(),
        Some(_) => false,
    };
    host && tcp && rest
}

/// Builder for [`RelayConfig`].
#[derive(Debug)]
pub struct RelayConfigBuilder {
    config: RelayConfig,
}

impl RelayConfigBuilder {
    /// Uses this identity instead of a fresh one.
    #[must_use]
    pub fn key(mut self, key: NodeKey) -> Self {
        self.config.key = key;
        self
    }

    /// Adds a listen address (`/ip4/127.0.0.1/tcp/0` or `/ip4/127.0.0.1/tcp/0/ws`).
    #[must_use]
    pub fn listen(mut self, address: Multiaddr) -> Self {
        self.config.listen.push(address);
        self
    }

    /// Adds a static peer.
    #[must_use]
    pub fn static_peer(mut self, peer: StaticPeer) -> Self {
        self.config.static_peers.push(peer);
        self
    }

    /// Turns the Store v3 server (and the archive behind it) on or off.
    #[must_use]
    pub fn store_server(mut self, on: bool) -> Self {
        self.config.store_server = on;
        self
    }

    /// Sets the archive retention.
    #[must_use]
    pub fn retention(mut self, retention: Retention) -> Self {
        self.config.retention = retention;
        self
    }

    /// Lowers the largest message relayed or published (1 ..= 150 KiB).
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Sets the static-peer redial backoff: first delay and ceiling.
    #[must_use]
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.config.reconnect_initial = initial;
        self.config.reconnect_max = max;
        self
    }

    /// The checked configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] as [`RelayConfig::validate`].
    pub fn build(self) -> Result<RelayConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u16) -> ShardIndex {
        ShardIndex::new(index).unwrap()
    }

    #[test]
    fn node_key_debug_shows_only_the_peer_id() {
        let mut secret = [7_u8; 32];
        let key = NodeKey::from_secret_bytes(&mut secret).unwrap();
        assert_eq!(secret, [0; 32], "the caller's copy is wiped");
        let debug = format!("{key:?}");
        assert_eq!(debug, format!("NodeKey({:?})", key.peer_id()));
        assert!(!debug.contains("0707"));
        assert!(!debug.to_lowercase().contains("secret"));
    }

    #[test]
    fn listen_addresses_are_checked() {
        let ok = ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws", "/ip6/::1/tcp/9000"];
        for address in ok {
            let config = RelayConfig::builder(ClusterId::new(42), [shard(0)])
                .listen(address.parse().unwrap())
                .build();
            assert!(config.is_ok(), "{address}");
        }
        for address in
            ["/ip4/127.0.0.1/udp/0/quic-v1", "/ip4/127.0.0.1/tcp/0/wss", "/ip4/127.0.0.1"]
        {
            let config = RelayConfig::builder(ClusterId::new(42), [shard(0)])
                .listen(address.parse().unwrap())
                .build();
            assert_eq!(config.unwrap_err(), ConfigError::UnsupportedListenAddress, "{address}");
        }
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            RelayConfig::builder(ClusterId::new(1), []).build().unwrap_err(),
            ConfigError::NoShards
        );
        assert_eq!(
            RelayConfig::builder(ClusterId::new(1), [shard(0)])
                .store_server(true)
                .retention(Retention::new(0, Duration::from_secs(1)))
                .build()
                .unwrap_err(),
            ConfigError::ZeroRetention
        );
        assert_eq!(
            RelayConfig::builder(ClusterId::new(1), [shard(0)])
                .reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1))
                .build()
                .unwrap_err(),
            ConfigError::Backoff
        );
        for size in [0, MAX_MESSAGE_SIZE + 1] {
            assert_eq!(
                RelayConfig::builder(ClusterId::new(1), [shard(0)])
                    .max_message_size(size)
                    .build()
                    .unwrap_err(),
                ConfigError::MaxMessageSize
            );
        }
    }

    #[test]
    fn static_peers_need_a_peer_id() {
        let peer = NodeKey::generate().peer_id();
        let with: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{peer}").parse().unwrap();
        assert_eq!(StaticPeer::new(with).unwrap().peer_id(), peer);
        let without: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        assert_eq!(StaticPeer::new(without).unwrap_err(), ConfigError::StaticPeerWithoutPeerId);
    }
}
