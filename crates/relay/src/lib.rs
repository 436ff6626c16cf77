//! A Waku v2 node on rust-libp2p: Waku Relay, the metadata handshake and Store v3, speaking the
//! real network's protocols (checked against js-waku in this crate's tests), and kaiwa's
//! [`Transport`](kaiwa_transport::Transport).
//!
//! ```text
//! RelayNode ─ tokio task ─ libp2p Swarm
//!   TCP, WebSocket (+DNS) · noise · yamux, mplex
//!   /vac/waku/relay/2.0.0          gossipsub v1.1, StrictNoSign, id = sha256(data), nwaku's
//!                                  mesh/timing/score parameters, every message validated
//!   /vac/waku/metadata/1.0.0       client + server; peers of another cluster are disconnected
//!   /vac/waku/store-query/3.0.0    client; server over a MessageArchive (bounded, in memory
//!                                  by default), which also answers the node's own queries
//!                                  when no store peer is connected
//!   /ipfs/id/1.0.0, /ipfs/ping/1.0.0
//! ```
//!
//! What it is not: no peer discovery (static peers and explicit dials only: discv5, DNS
//! `enrtree://` and peer exchange are future work), no RLN (`rate_limit_proof` is carried
//! opaquely, never produced or checked), no Filter or Light Push, no `wss` listener (no TLS),
//! no persistent archive here: [`MessageArchive`] is the seam for `kaiwa-store`'s SQLite.
//!
//! # Invariants
//!
//! - Nothing invalid is relayed: every relayed message passes kaiwa-transport's WakuMessage
//!   validation (≤ 150 KiB, `meta` ≤ 64 bytes, valid content topic) before gossipsub may forward
//!   it; invalid ones are rejected (never forwarded, P₄-penalised, counted in
//!   [`RelayMetrics::rejected`]). Publishing takes a validated
//!   [`WakuMessage`](kaiwa_transport::WakuMessage) only.
//! - Peer input is bounded before it is buffered: every frame length is checked against
//!   [`limits`] first, every decoder returns an error and never panics (proptests), and every
//!   store of state (archive, subscription queues, command queue) has a bound.
//! - A Store answer is checked, not trusted: hashes are recomputed, every message must match
//!   the query, pages must be in store order.
//! - Logs (`tracing`) name peers, sizes and broken rules, never payload bytes; errors carry no
//!   peer input.
//! - This is an I/O crate: it reads the system clock (for the archive's ±20 s admission window
//!   and retention) and the OS RNG (node keys, through libp2p). The archive itself takes the time
//!   as a parameter.
//!
//! # Example
//!
//! ```no_run
//! use kaiwa_relay::{RelayConfig, RelayNode};
//! use kaiwa_transport::{ClusterId, ContentFilter, ContentTopic, PubsubTopic, ShardIndex, WakuMessage};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let shard = ShardIndex::new(64).ok_or("shard")?;
//! let config = RelayConfig::builder(ClusterId::STATUS, [shard])
//!     .listen("/ip4/0.0.0.0/tcp/60000".parse()?)
//!     .listen("/ip4/0.0.0.0/tcp/8000/ws".parse()?)
//!     .store_server(true)
//!     .build()?;
//! let node = RelayNode::start(config).await?;
//! node.dial("/ip4/127.0.0.1/tcp/60001/p2p/16Uiu2HAm…".parse()?).await?;
//!
//! let pubsub_topic = PubsubTopic::static_shard(ClusterId::STATUS, shard);
//! let content_topic = ContentTopic::parse("/kaiwa/1/example/proto")?;
//! let mut inbox = node.subscribe(ContentFilter::new(pubsub_topic.clone(), [content_topic.clone()])?).await?;
//! let message = WakuMessage::new(content_topic, b"hello".to_vec())?;
//! let published = node.publish(&pubsub_topic, &message).await?;
//! println!("sent {} (store key {})", published.message_id, published.hash);
//! if let Some(received) = inbox.next().await {
//!     println!("got {} bytes", received.message.payload().len());
//! }
//! node.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod archive;
mod behaviour;
mod config;
mod error;
mod event_loop;
mod framing;
pub mod limits;
mod metadata;
mod metrics;
mod node;
mod store;
mod subscription;
mod transport;

pub use archive::{ArchiveQueryError, MemoryArchive, MessageArchive};
pub use config::{NodeKey, RelayConfig, RelayConfigBuilder, Retention, StaticPeer};
pub use error::{ConfigError, DialError, PublishError, RelayError, StartError, StoreQueryError};
pub use libp2p::{Multiaddr, PeerId};
pub use metrics::RelayMetrics;
pub use node::RelayNode;
pub use subscription::{Published, RelayMessageId, RelaySubscription, RelayedMessage};
