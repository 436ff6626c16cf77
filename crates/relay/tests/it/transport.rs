//! The node behind kaiwa-transport's `Transport` trait, as the facade holds it.

use std::sync::Arc;
use std::time::Duration;

use kaiwa_relay::RelayError;
use kaiwa_transport::{HealthStatus, StoreQuery, Transport};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_nodes_work_through_the_transport_trait() {
    within(30, "transport", async {
        let store = start(config().store_server(true)).await;
        let a = Arc::new(start(config()).await);
        let b = Arc::new(start(config()).await);
        let a_dyn: Arc<dyn Transport<Error = RelayError>> = a.clone();
        let b_dyn: Arc<dyn Transport<Error = RelayError>> = b.clone();
        assert_eq!(a_dyn.health().await.unwrap().status(&pubsub()), HealthStatus::Unhealthy);

        let store_address = address(&store, false).await;
        a.dial(store_address.clone()).await.unwrap();
        b.dial(store_address).await.unwrap();
        assert!(a.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
        assert!(b.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
        assert!(store.wait_for_relay_peers(&pubsub(), 2, Duration::from_secs(10)).await);
        let mut subscription = b_dyn.subscribe(filter("t")).await.unwrap();

        let sent = message("t", b"through the trait".to_vec());
        let hash = a_dyn.publish(pubsub(), sent.clone()).await.unwrap();
        assert_eq!(hash, sent.hash(&pubsub()));
        let got = within(10, "delivery", subscription.next()).await.unwrap();
        assert_eq!((got.hash, got.message), (hash, sent));

        within(10, "archived and identified", async {
            while store.metrics().archived < 1 || !b_dyn.health().await.unwrap().store_available() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let page = b_dyn.query(StoreQuery::content(filter("t")).unwrap()).await.unwrap();
        assert_eq!(page.messages.len(), 1);
        assert_eq!(page.messages[0].hash, hash);
        assert_eq!(b_dyn.health().await.unwrap().status(&pubsub()), HealthStatus::MinimallyHealthy);

        let other = kaiwa_transport::PubsubTopic::static_shard(
            kaiwa_transport::ClusterId::new(CLUSTER),
            shard(9),
        );
        let refused = a_dyn.publish(other, message("t", vec![])).await;
        assert_eq!(
            refused,
            Err(RelayError::Publish { source: kaiwa_relay::PublishError::TopicNotRelayed })
        );
        store.shutdown().await;
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}
