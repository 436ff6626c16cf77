//! From command-line options to a [`ClientConfig`] and a running [`RelayNode`].
//!
//! ```text
//! ClientConfig  application name → TopicScheme      (/{application}/1/{name}/proto)
//!               cluster, shards  → Autosharding     (DECISIONS "Waku layer")
//! RelayNode     cluster, [the one shard the application's topics map to]
//!               listen addresses, static peers, Store server (on unless --no-store)
//! ```
//! Autosharding hashes only the application name and version of a content topic
//! (kaiwa-transport `sharding`), so every kaiwa topic of one application is on one shard: the
//! node relays exactly that shard.

use std::sync::Arc;
use std::time::Duration;

use kaiwa::relay::{Multiaddr, RelayConfig, RelayNode, StaticPeer};
use kaiwa::transport::{Autosharding, ClusterId, PubsubTopic};
use kaiwa::{Client, ClientConfig};

use crate::error::CliError;
use crate::limits::SHUTDOWN_GRACE;

/// The network a client joins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NetworkChoice {
    /// Content-topic application name.
    pub(crate) application: String,
    /// Cluster id.
    pub(crate) cluster: u16,
    /// Autosharded shard count.
    pub(crate) shards: u16,
}

/// The client configuration for `network`, with outbox retries every `outbox_retry`.
pub(crate) fn client_config(
    network: &NetworkChoice,
    outbox_retry: Option<Duration>,
) -> Result<ClientConfig, CliError> {
    let sharding = Autosharding::new(ClusterId::new(network.cluster), network.shards)
        .map_err(|source| CliError::Sharding { source })?;
    let mut builder = ClientConfig::builder()
        .application(&network.application)
        .map_err(CliError::client("use that application name"))?
        .sharding(sharding);
    if let Some(retry) = outbox_retry {
        builder = builder.outbox_retry_interval(retry);
    }
    Ok(builder.build())
}

/// The pubsub topic every content topic of `config` maps to.
pub(crate) fn pubsub_topic(config: &ClientConfig) -> PubsubTopic {
    config.sharding.pubsub_topic(&config.scheme.group("any"))
}

/// Starts a relay node for `config` listening on `listen`, connected to `peers`.
pub(crate) async fn start_node(
    config: &ClientConfig,
    listen: &[Multiaddr],
    peers: &[Multiaddr],
    store_server: bool,
) -> Result<Arc<RelayNode>, CliError> {
    let topic = pubsub_topic(config);
    let (cluster, shard) =
        topic.shard().ok_or(CliError::Internal { what: "an autosharded topic without a shard" })?;
    let mut builder = RelayConfig::builder(cluster, [shard]).store_server(store_server);
    for address in listen {
        builder = builder.listen(address.clone());
    }
    for address in peers {
        let peer = StaticPeer::new(address.clone()).map_err(|_| CliError::PeerWithoutId)?;
        builder = builder.static_peer(peer);
    }
    let relay_config = builder.build().map_err(|source| CliError::RelayConfig { source })?;
    let node = RelayNode::start(relay_config).await.map_err(|source| CliError::Relay { source })?;
    Ok(Arc::new(node))
}

/// Stops `client`, giving its background tasks at most [`SHUTDOWN_GRACE`].
///
/// The grace bounds a publication stuck on a slow peer; everything the client committed
/// stays committed either way (unpublished messages stay in the outbox for the next start).
pub(crate) async fn stop_client(client: &Client) {
    if tokio::time::timeout(SHUTDOWN_GRACE, client.shutdown()).await.is_err() {
        tracing::debug!("the client's tasks did not stop in time; they end with the program");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_relays_the_shard_of_every_topic_of_the_application() {
        let network = NetworkChoice { application: "kaiwa".to_owned(), cluster: 1, shards: 8 };
        let config = client_config(&network, None).unwrap();
        let topic = pubsub_topic(&config);
        for name in ["contact-code-x", "org-y-channel-z", "negotiated-q"] {
            assert_eq!(config.sharding.pubsub_topic(&config.scheme.group(name)), topic);
        }
        assert_eq!(topic.shard().map(|(c, _)| c), Some(ClusterId::new(1)));
    }

    #[test]
    fn zero_shards_and_bad_application_names_are_refused() {
        let zero = NetworkChoice { application: "kaiwa".to_owned(), cluster: 1, shards: 0 };
        assert!(matches!(client_config(&zero, None), Err(CliError::Sharding { .. })));
        let bad = NetworkChoice { application: "a/b".to_owned(), cluster: 1, shards: 8 };
        assert!(matches!(client_config(&bad, None), Err(CliError::Client { .. })));
    }
}
