//! The `Transport` trait over the simulated network, from async code: as a trait object, on
//! a runtime-free executor with `SimNetwork::run`, and on tokio with a spawned driver.

use std::sync::Arc;

use kaiwa_transport::sim::{SimError, SimNetwork};
use kaiwa_transport::{
    ContentFilter, ContentTopic, HealthStatus, PubsubTopic, StoreQuery, Transport, WakuMessage,
};

type DynTransport = Arc<dyn Transport<Error = SimError>>;

fn pubsub() -> PubsubTopic {
    PubsubTopic::parse("/waku/2/rs/16/64").unwrap()
}

fn topic(name: &str) -> ContentTopic {
    ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
}

fn message(network: &SimNetwork, name: &str, payload: &[u8]) -> WakuMessage {
    WakuMessage::new(topic(name), payload.to_vec())
        .and_then(|m| m.with_timestamp(network.now_unix_nanos()))
        .unwrap()
}

/// Bob answers every `ping` with a `pong`; alice sends three pings and waits for each pong.
async fn ping_pong(network: SimNetwork, alice: DynTransport, bob: DynTransport) -> Vec<Vec<u8>> {
    let mut pings =
        bob.subscribe(ContentFilter::new(pubsub(), [topic("ping")]).unwrap()).await.unwrap();
    let mut pongs =
        alice.subscribe(ContentFilter::new(pubsub(), [topic("pong")]).unwrap()).await.unwrap();
    let responder = {
        let network = network.clone();
        async move {
            while let Some(ping) = pings.next().await {
                let reply = [b"pong:".as_slice(), ping.message.payload()].concat();
                bob.publish(pubsub(), message(&network, "pong", &reply)).await.unwrap();
            }
        }
    };
    let requester = async move {
        let mut replies = Vec::new();
        for i in 0..3u8 {
            alice.publish(pubsub(), message(&network, "ping", &[i])).await.unwrap();
            replies.push(pongs.next().await.unwrap().message.into_payload());
        }
        let history = alice
            .query(StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub())).unwrap())
            .await
            .unwrap();
        assert_eq!(history.messages.len(), 6, "three pings and three pongs were stored");
        assert_eq!(alice.health().await.unwrap().status(&pubsub()), HealthStatus::MinimallyHealthy);
        replies
    };
    futures_select(requester, responder).await
}

/// Runs both futures, returning the first's output (the second never ends on its own).
async fn futures_select<A: Future, B: Future<Output = ()>>(a: A, b: B) -> A::Output {
    let mut a = Box::pin(a);
    let mut b = Box::pin(b);
    core::future::poll_fn(move |cx| {
        if let core::task::Poll::Ready(out) = a.as_mut().poll(cx) {
            return core::task::Poll::Ready(out);
        }
        let _ = b.as_mut().poll(cx);
        core::task::Poll::Pending
    })
    .await
}

fn expected() -> Vec<Vec<u8>> {
    (0..3u8).map(|i| vec![b'p', b'o', b'n', b'g', b':', i]).collect()
}

#[test]
fn trait_objects_work_without_a_runtime() {
    let network = SimNetwork::new(21);
    let alice: DynTransport = Arc::new(network.node("alice"));
    let bob: DynTransport = Arc::new(network.node("bob"));
    let replies = futures_executor::block_on(network.run(ping_pong(network.clone(), alice, bob)));
    assert_eq!(replies, expected());
}

#[tokio::test]
async fn a_spawned_driver_serves_tokio_tasks() {
    let network = SimNetwork::new(22);
    let alice: DynTransport = Arc::new(network.node("alice"));
    let bob: DynTransport = Arc::new(network.node("bob"));
    let driver = tokio::spawn(network.driver());
    let replies = ping_pong(network.clone(), alice, bob).await;
    driver.abort();
    assert_eq!(replies, expected());
}

#[test]
fn runs_replay_identically() {
    let trace = |seed| {
        let network = SimNetwork::new(seed);
        let alice: DynTransport = Arc::new(network.node("alice"));
        let bob: DynTransport = Arc::new(network.node("bob"));
        futures_executor::block_on(network.run(ping_pong(network.clone(), alice, bob)));
        network.trace()
    };
    assert_eq!(trace(23), trace(23));
}
