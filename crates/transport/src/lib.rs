//! kaiwa's Waku layer: the Waku message, topics, the deterministic message hash, the
//! [`Transport`] trait the chat layers talk to, and a simulated network that implements it.
//!
//! | module / item | what |
//! | --- | --- |
//! | [`WakuMessage`] | 14/WAKU2-MESSAGE, validated (`meta` ≤ 64 bytes, ≤ 150 KiB encoded) |
//! | [`MessageHash`] | the deterministic message hash, the Store v3 key |
//! | [`ContentTopic`], [`PubsubTopic`] | 23/WAKU2-TOPICS, static shards `/waku/2/rs/{cluster}/{shard}` |
//! | [`TopicScheme`] | kaiwa's content topic for every kind of traffic |
//! | [`Autosharding`] | content topic → shard → pubsub topic |
//! | [`Transport`] | publish, subscribe, query history, health; dyn-compatible |
//! | [`StoreQuery`], [`StorePage`] | Store v3 queries and pages, with checked wire conversions |
//! | [`sim`] | a seeded, deterministic, virtual-time network with faults, partitions and a store |
//! | [`limits`] | every bound, with its reason |
//!
//! It is not a Waku node: the libp2p Relay/Store node is `kaiwa-relay`, which implements
//! [`Transport`]. It knows nothing of keys, sessions, groups or organizations: it moves opaque
//! payloads, and derives topics from the key *bytes* and secrets callers hand it.
//!
//! # Invariants
//!
//! - Every value of a domain type is valid: constructors and `TryFrom` conversions check the
//!   spec's rules, and nothing from the network can panic this crate (property-tested).
//! - No prost type appears in the public API; `TryFrom`/`From` convert at the boundary.
//! - No clock and no RNG are read: timestamps are arguments, and the simulated network draws from
//!   a ChaCha8 stream seeded by the caller and keeps virtual time.
//!
//! # Example
//!
//! ```
//! use kaiwa_transport::sim::SimNetwork;
//! use kaiwa_transport::{AccountKey, Autosharding, ContentFilter, TopicScheme, WakuMessage};
//!
//! let scheme = TopicScheme::default();
//! let bob_key = AccountKey::from_bytes([7; 32]);
//! let topic = scheme.partitioned(&bob_key);
//! let pubsub = Autosharding::THE_WAKU_NETWORK.pubsub_topic(&topic);
//!
//! let network = SimNetwork::new(42);
//! let (alice, bob) = (network.node("alice"), network.node("bob"));
//! let mut inbox = bob.subscribe_now(ContentFilter::new(pubsub.clone(), [topic.clone()])?);
//!
//! let message = WakuMessage::new(topic, b"hello".to_vec())?.with_timestamp(network.now_unix_nanos())?;
//! let hash = alice.publish_now(pubsub, message)?;
//! network.run_until_idle();
//!
//! let received = inbox.try_next().expect("delivered");
//! assert_eq!((received.hash, received.message.payload()), (hash, &b"hello"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod content_topic;
mod hash;
mod health;
mod hex;
pub mod limits;
mod message;
mod pubsub_topic;
mod query;
mod scheme;
mod sharding;
pub mod sim;
mod store_protocol;
mod subscription;
mod transport;

pub use content_topic::{ContentTopic, ContentTopicError};
pub use hash::{MessageHash, ParseMessageHashError};
pub use health::{Health, HealthStatus, PeerId, PeerIdError, PeerInfo, SUFFICIENT_RELAY_PEERS};
pub use message::{DecodeError, InvalidMessage, WakuMessage};
pub use pubsub_topic::{ClusterId, PubsubTopic, PubsubTopicError, ShardIndex};
pub use query::{Cursor, Direction, QueryCriteria, QueryError, StorePage, StoreQuery};
pub use scheme::{
    AccountKey, ApplicationNameError, NegotiatedTopicSecret, OrgKey, PARTITION_COUNT, TopicScheme,
};
pub use sharding::{Autosharding, ShardingError};
pub use store_protocol::{StoreRequestError, StoreResponseError};
pub use subscription::{ContentFilter, FilterError, ReceivedMessage, Subscription};
pub use transport::{BoxFuture, Transport};
