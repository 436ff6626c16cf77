//! A Waku v2 node on rust-libp2p: Waku Relay, the metadata handshake and Store v3, usable as
//! kaiwa's [`Transport`](kaiwa_transport::Transport) on the real Waku network.
//!
//! Work in progress.

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

pub use archive::{ArchiveQueryError, Infallible, MemoryArchive, MessageArchive};
pub use config::{NodeKey, RelayConfig, RelayConfigBuilder, Retention, StaticPeer};
pub use error::{ConfigError, DialError, PublishError, RelayError, StartError, StoreQueryError};
pub use libp2p::{Multiaddr, PeerId};
pub use metrics::RelayMetrics;
pub use node::RelayNode;
pub use subscription::{Published, RelayMessageId, RelaySubscription, RelayedMessage};
