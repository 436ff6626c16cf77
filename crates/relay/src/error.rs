//! Errors, one enum per operation family (STYLE §3.6). None carries peer input or payloads.

/// Why a [`RelayConfig`](crate::RelayConfig) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No shard to relay.
    #[error("a relay node needs at least one shard")]
    NoShards,
    /// A listen address other than `…/tcp/<port>` or `…/tcp/<port>/ws`.
    #[error("listen addresses must be tcp or tcp/ws")]
    UnsupportedListenAddress,
    /// A static peer address without `/p2p/<peer id>`.
    #[error("a static peer address must end in /p2p/<peer id>")]
    StaticPeerWithoutPeerId,
    /// The Store server is on with room for no message.
    #[error("store retention must keep at least one message")]
    ZeroRetention,
    /// A zero first backoff, or a ceiling below it.
    #[error("reconnect backoff must be positive with max >= initial")]
    Backoff,
    /// A maximum message size of 0 or above 150 KiB.
    #[error("max message size must be in 1..=153600")]
    MaxMessageSize,
    /// The node key bytes were refused.
    #[error("invalid node key")]
    NodeKey,
}

/// Why a node did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is invalid.
    #[error("invalid configuration")]
    Config {
        /// What is wrong.
        #[from]
        source: ConfigError,
    },
    /// libp2p could not build the transport stack (e.g. no system DNS configuration).
    #[error("building the libp2p transport failed")]
    Transport {
        /// The libp2p error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A listen address could not be bound.
    #[error("listening on address {index} failed")]
    Listen {
        /// Position of the address in [`RelayConfig::listen`](crate::RelayConfig::listen).
        index: usize,
    },
    /// The gossipsub parameters were refused (a bug: they are constants).
    #[error("internal error: {what}")]
    Internal {
        /// What failed.
        what: &'static str,
    },
}

/// Why a publication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The message is larger than the node's configured maximum.
    #[error("message of {actual} bytes exceeds the node's maximum of {max}")]
    TooLarge {
        /// The configured maximum.
        max: usize,
        /// The encoded size.
        actual: usize,
    },
    /// The node does not relay this pubsub topic (not one of its shards).
    #[error("this node does not relay that pubsub topic")]
    TopicNotRelayed,
    /// No connected peer relays the topic: the message reached nobody.
    #[error("no peer relays that pubsub topic")]
    NoPeers,
    /// The same bytes were published within gossipsub's duplicate window (2 min).
    #[error("duplicate publication")]
    Duplicate,
    /// Every peer's send queue is full.
    #[error("all peer queues are full")]
    QueuesFull,
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
    /// gossipsub refused the message for a reason that cannot happen with a valid message.
    #[error("internal error: {what}")]
    Internal {
        /// What failed.
        what: &'static str,
    },
}

/// Why a Store query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreQueryError {
    /// No connected peer serves `/vac/waku/store-query/3.0.0`, and this node keeps no archive of
    /// its own to answer from.
    #[error("no store peer available")]
    NoStorePeer,
    /// The peer could not be reached.
    #[error("store peer unreachable")]
    Unreachable,
    /// The peer does not speak Store v3.
    #[error("peer does not support store v3")]
    Unsupported,
    /// No answer within the request timeout.
    #[error("store query timed out")]
    Timeout,
    /// The stream failed (reset, closed early, oversize frame).
    #[error("store stream failed")]
    Stream,
    /// The store answered with a status other than 200.
    #[error("store answered status {status}")]
    Rejected {
        /// The status code.
        status: u32,
    },
    /// The answer breaks a client rule (see the `store` module documentation).
    #[error("invalid store response: {reason}")]
    InvalidResponse {
        /// Which rule.
        reason: &'static str,
    },
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}

/// Why dialling failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// libp2p refused or failed the dial.
    #[error("dial failed")]
    Failed,
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}

/// The error of [`RelayNode`](crate::RelayNode)'s [`Transport`](kaiwa_transport::Transport)
/// implementation: one variant per operation family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// Publishing failed.
    #[error("publish failed")]
    Publish {
        /// Why.
        #[from]
        source: PublishError,
    },
    /// A Store query failed.
    #[error("store query failed")]
    Query {
        /// Why.
        #[from]
        source: StoreQueryError,
    },
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}
