//! Static peers, reconnection with backoff, graceful shutdown.

use std::time::Duration;

use kaiwa_relay::{NodeKey, PublishError, RelayNode, StaticPeer};
use libp2p::multiaddr::Protocol;

use super::support::*;

const SECRET: [u8; 32] = [42; 32];

async fn start_listener(port: u16) -> RelayNode {
    let mut secret = SECRET;
    let key = NodeKey::from_secret_bytes(&mut secret).unwrap();
    let listen = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
    start(
        kaiwa_relay::RelayConfig::builder(kaiwa_transport::ClusterId::new(CLUSTER), [shard(0)])
            .key(key)
            .listen(listen),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_peer_is_redialled_after_it_comes_back() {
    within(40, "reconnect", async {
        let first = start_listener(0).await;
        let address = address(&first, false).await;
        let port = address
            .iter()
            .find_map(|p| if let Protocol::Tcp(port) = p { Some(port) } else { None })
            .unwrap();
        let follower = start(
            config()
                .static_peer(StaticPeer::new(address).unwrap())
                .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(400)),
        )
        .await;
        // Dialled at start without being asked.
        assert!(follower.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);

        first.shutdown().await;
        within(10, "loss noticed", async {
            while !follower.health().await.peers().is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;

        // The same node (same key) comes back on the same port; the follower finds it again.
        let second = start_listener(port).await;
        assert!(follower.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
        assert!(second.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
        let mut at_second = second.subscribe_relay(filter("back")).await.unwrap();
        let sent = message("back", b"welcome back".to_vec());
        follower.publish(&pubsub(), &sent).await.unwrap();
        assert_eq!(within(10, "delivery", at_second.next()).await.unwrap().received.message, sent);
        assert!(follower.metrics().redials >= 2, "{:?}", follower.metrics());
        follower.shutdown().await;
        second.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_graceful_and_final() {
    within(30, "shutdown", async {
        let a = start(config()).await;
        let b = start(config()).await;
        let mut at_a = a.subscribe_relay(filter("bye")).await.unwrap();
        connect(&a, &b).await;
        a.shutdown().await;
        // The peer saw the connection close; the subscription ended; calls fail cleanly.
        within(10, "peer sees close", async {
            while !b.health().await.peers().is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(within(5, "subscription ends", at_a.next()).await.is_none());
        assert_eq!(a.publish(&pubsub(), &message("bye", vec![])).await, Err(PublishError::Stopped));
        assert!(a.local_addrs().await.is_empty());
        assert!(a.subscribe_relay(filter("bye")).await.is_err());
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}
