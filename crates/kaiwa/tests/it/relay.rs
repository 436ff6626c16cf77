//! Relay nodes on loopback for the tests that run over a real Waku network.

use std::sync::Arc;
use std::time::Duration;

use kaiwa::relay::{Multiaddr, RelayConfig, RelayNode, Retention};
use kaiwa::transport::{Autosharding, ClusterId, ShardIndex};
use kaiwa::{ClientConfig, PublicId};

/// The test cluster (not a production one), with one shard: every topic lands on shard 0.
pub(crate) const CLUSTER: u16 = 42;

pub(crate) fn sharding() -> Autosharding {
    Autosharding::new(ClusterId::new(CLUSTER), 1).unwrap()
}

pub(crate) fn pubsub() -> kaiwa::transport::PubsubTopic {
    kaiwa::transport::PubsubTopic::static_shard(ClusterId::new(CLUSTER), ShardIndex::ZERO)
}

/// A client configuration for the relay tests: the test cluster, quick retries and catch-ups.
pub(crate) fn config() -> ClientConfig {
    ClientConfig::builder()
        .sharding(sharding())
        .outbox_retry_interval(Duration::from_millis(300))
        .catch_up_interval(Duration::from_secs(2))
        .build()
}

/// A relay node on loopback TCP; `store`: it also serves Store queries.
pub(crate) async fn node(store: bool) -> Arc<RelayNode> {
    let config = RelayConfig::builder(ClusterId::new(CLUSTER), [ShardIndex::ZERO])
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .store_server(store)
        .retention(Retention::new(100_000, Duration::from_secs(3_600)))
        .build()
        .unwrap();
    Arc::new(RelayNode::start(config).await.unwrap())
}

/// `node`'s TCP address.
pub(crate) async fn address(node: &RelayNode) -> Multiaddr {
    node.local_addrs().await.into_iter().next().expect("the node listens")
}

/// Connects `from` to the node at `to` and waits for a relay mesh between them.
pub(crate) async fn connect(from: &RelayNode, to: Multiaddr) {
    tokio::time::timeout(Duration::from_secs(10), from.dial(to)).await.unwrap().unwrap();
    assert!(from.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
}

/// Every message text of a chat, oldest first, with its direction.
pub(crate) async fn texts(
    client: &kaiwa::Client,
    peer: PublicId,
) -> Vec<(kaiwa::Direction, String)> {
    let chat = kaiwa::ChatId::Direct(peer);
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = client.history(&chat, before, 1_000).await.unwrap();
        let Some(first) = page.first() else { break };
        before = Some(kaiwa::HistoryCursor { clock: first.clock, id: first.id });
        let mut texts: Vec<_> = page
            .iter()
            .filter_map(|m| match &m.content {
                kaiwa::Content::Text { text, .. } => Some((m.direction, text.clone())),
                _ => None,
            })
            .collect();
        texts.extend(all);
        all = texts;
    }
    all
}
