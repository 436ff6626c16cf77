//! Shared helpers: nodes on loopback, topics, messages, timeouts.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kaiwa_relay::{Multiaddr, RelayConfig, RelayConfigBuilder, RelayNode};
use kaiwa_transport::{
    ClusterId, ContentFilter, ContentTopic, PubsubTopic, ShardIndex, WakuMessage,
};

/// The test cluster (not a production one).
pub(crate) const CLUSTER: u16 = 42;

/// Fails the test if `future` takes longer than `seconds`.
pub(crate) async fn within<F: Future>(seconds: u64, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(seconds), future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {seconds} s: {what}"),
    }
}

pub(crate) fn shard(index: u16) -> ShardIndex {
    ShardIndex::new(index).unwrap()
}

pub(crate) fn pubsub() -> PubsubTopic {
    PubsubTopic::static_shard(ClusterId::new(CLUSTER), shard(0))
}

pub(crate) fn topic(name: &str) -> ContentTopic {
    ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
}

pub(crate) fn filter(name: &str) -> ContentFilter {
    ContentFilter::new(pubsub(), [topic(name)]).unwrap()
}

pub(crate) fn now_ns() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()).unwrap()
}

pub(crate) fn message(name: &str, payload: Vec<u8>) -> WakuMessage {
    WakuMessage::new(topic(name), payload).unwrap().with_timestamp(now_ns()).unwrap()
}

pub(crate) fn tcp() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0".parse().unwrap()
}

pub(crate) fn ws() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0/ws".parse().unwrap()
}

/// A builder for a node in the test cluster on shard 0, listening on loopback TCP.
pub(crate) fn config() -> RelayConfigBuilder {
    RelayConfig::builder(ClusterId::new(CLUSTER), [shard(0)]).listen(tcp())
}

pub(crate) async fn start(builder: RelayConfigBuilder) -> RelayNode {
    RelayNode::start(builder.build().unwrap()).await.unwrap()
}

/// The node's first listen address whose transport is `ws` (true) or plain TCP (false).
pub(crate) async fn address(node: &RelayNode, ws: bool) -> Multiaddr {
    node.local_addrs()
        .await
        .into_iter()
        .find(|address| address.to_string().contains("/ws") == ws)
        .expect("the node listens on that transport")
}

/// Connects `from` to `to` and waits until each sees the other on the relay topic.
pub(crate) async fn connect(from: &RelayNode, to: &RelayNode) {
    let address = address(to, false).await;
    within(10, "dial", from.dial(address)).await.unwrap();
    assert!(from.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
    assert!(to.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
