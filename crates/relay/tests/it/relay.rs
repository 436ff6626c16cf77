//! Waku Relay between Rust nodes: delivery both ways, message ids, large messages, validation.

use std::time::Duration;

use kaiwa_relay::{PublishError, RelayMessageId};
use kaiwa_transport::{ClusterId, PubsubTopic, WakuMessage};
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::message as wire;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_exchange_messages_both_ways_with_matching_ids() {
    within(30, "exchange", async {
        let a = start(config()).await;
        let b = start(config()).await;
        let mut at_a = a.subscribe_relay(filter("chat")).await.unwrap();
        let mut at_b = b.subscribe_relay(filter("chat")).await.unwrap();
        connect(&a, &b).await;

        for (sender, receiver) in [(&a, &mut at_b), (&b, &mut at_a)] {
            let sent =
                message("chat", b"hello over relay".to_vec()).with_meta(vec![7; 64]).unwrap();
            let published = sender.publish(&pubsub(), &sent).await.unwrap();
            // The id is SHA-256 of the exact bytes gossipsub carried.
            assert_eq!(published.message_id, RelayMessageId::of_data(&sent.encode()));
            assert_eq!(published.hash, sent.hash(&pubsub()));
            let got = within(10, "delivery", receiver.next()).await.unwrap();
            assert_eq!(got.message_id, published.message_id);
            assert_eq!(got.received.hash, published.hash);
            assert_eq!(got.received.pubsub_topic, pubsub());
            assert_eq!(got.received.message, sent);
            assert_eq!(got.received.message.payload(), b"hello over relay");
            assert_eq!(got.received.message.timestamp(), sent.timestamp());
            assert_eq!(got.propagation_source, sender.peer_id());
        }
        assert_eq!(a.metrics().published, 1);
        assert_eq!(a.metrics().accepted, 1);
        assert_eq!(b.metrics().accepted, 1);
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_transport_carries_relay() {
    within(30, "websocket", async {
        let a = start(config().listen(ws())).await;
        let b = start(config()).await;
        let mut at_a = a.subscribe_relay(filter("ws")).await.unwrap();
        within(10, "dial ws", b.dial(address(&a, true).await)).await.unwrap();
        assert!(b.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
        let sent = message("ws", vec![1, 2, 3]);
        let published = b.publish(&pubsub(), &sent).await.unwrap();
        let got = within(10, "delivery", at_a.next()).await.unwrap();
        assert_eq!((got.message_id, got.received.message), (published.message_id, sent));
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_140_kib_message_goes_through() {
    within(30, "large message", async {
        let a = start(config()).await;
        let b = start(config()).await;
        let mut at_b = b.subscribe_relay(filter("big")).await.unwrap();
        connect(&a, &b).await;
        let payload: Vec<u8> = (0..140 * 1024).map(|i| (i % 251) as u8).collect();
        let sent = message("big", payload);
        assert!(sent.encoded_len() > 140 * 1024);
        let published = a.publish(&pubsub(), &sent).await.unwrap();
        let got = within(10, "delivery", at_b.next()).await.unwrap();
        assert_eq!(got.message_id, published.message_id);
        assert_eq!(got.received.message, sent);
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

/// The invalid relay messages a hostile or buggy peer might send, each breaking one rule.
fn invalid_payloads() -> Vec<(&'static str, Vec<u8>)> {
    let valid = |edit: fn(&mut wire::WakuMessage)| {
        let mut message = wire::WakuMessage {
            payload: vec![1; 16],
            content_topic: "/kaiwa/1/line/proto".into(),
            timestamp: Some(now_ns()),
            ..Default::default()
        };
        edit(&mut message);
        message.encode_to_vec()
    };
    vec![
        ("malformed protobuf", vec![0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        ("meta of 65 bytes", valid(|m| m.meta = Some(vec![0; 65]))),
        ("over 150 KiB", valid(|m| m.payload = vec![0; 150 * 1024])),
        ("invalid content topic", valid(|m| m.content_topic = "not a topic".into())),
        ("missing content topic", valid(|m| m.content_topic = String::new())),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_are_rejected_counted_and_never_forwarded() {
    within(40, "invalid messages", async {
        // sender -- middle -- third: the third node can only hear what the middle forwards.
        let sender = start(config()).await;
        let middle = start(config()).await;
        let third = start(config()).await;
        let mut at_middle = middle.subscribe_relay(filter("line")).await.unwrap();
        let mut at_third = third.subscribe_relay(filter("line")).await.unwrap();
        connect(&sender, &middle).await;
        connect(&third, &middle).await;
        assert!(middle.wait_for_relay_peers(&pubsub(), 2, Duration::from_secs(10)).await);

        let invalid = invalid_payloads();
        for (what, data) in &invalid {
            sender
                .publish_raw_for_testing_only(&pubsub(), data.clone())
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        // A valid marker after them: once it arrives, every invalid one has been judged.
        let marker = message("line", b"marker".to_vec());
        sender.publish(&pubsub(), &marker).await.unwrap();
        let got = within(10, "marker at third", at_third.next()).await.unwrap();
        assert_eq!(got.received.message, marker);
        let got = within(10, "marker at middle", at_middle.next()).await.unwrap();
        assert_eq!(got.received.message, marker);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(at_third.try_next().is_none(), "nothing but the marker reached the third node");
        assert!(at_middle.try_next().is_none());

        let middle_metrics = middle.metrics();
        assert_eq!(middle_metrics.rejected, invalid.len() as u64);
        assert_eq!(middle_metrics.accepted, 1);
        let third_metrics = third.metrics();
        assert_eq!(third_metrics.rejected, 0, "invalid messages were not forwarded");
        assert_eq!(third_metrics.accepted, 1);
        // The middle node is still healthy and relaying.
        let again = message("line", b"after".to_vec());
        sender.publish(&pubsub(), &again).await.unwrap();
        assert_eq!(within(10, "after", at_third.next()).await.unwrap().received.message, again);
        for node in [sender, middle, third] {
            node.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_filter_by_content_topic_and_publish_errors_are_typed() {
    within(30, "filters", async {
        let a = start(config()).await;
        let alone = a.publish(&pubsub(), &message("x", vec![1])).await;
        assert_eq!(alone, Err(PublishError::NoPeers));
        let other = PubsubTopic::static_shard(ClusterId::new(CLUSTER), shard(5));
        assert_eq!(
            a.publish(&other, &message("x", vec![1])).await,
            Err(PublishError::TopicNotRelayed)
        );

        let b = start(config()).await;
        let mut only_x = b.subscribe_relay(filter("x")).await.unwrap();
        connect(&a, &b).await;
        a.publish(&pubsub(), &message("y", vec![1])).await.unwrap();
        let x = message("x", vec![2]);
        a.publish(&pubsub(), &x).await.unwrap();
        assert_eq!(within(10, "x", only_x.next()).await.unwrap().received.message, x);
        assert!(only_x.try_next().is_none());
        assert_eq!(b.metrics().accepted, 2);
        // The same bytes again within gossipsub's duplicate window.
        assert_eq!(a.publish(&pubsub(), &x).await, Err(PublishError::Duplicate));
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

#[test]
fn oversize_payload_cannot_even_be_built() {
    let too_big = WakuMessage::new(topic("x"), vec![0; 150 * 1024]);
    assert!(too_big.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_flooding_invalid_messages_is_disconnected_at_the_graylist() {
    within(30, "graylist", async {
        let sender = start(config()).await;
        let victim = start(config()).await;
        connect(&sender, &victim).await;
        // P4 = -100 × n²: the 11th invalid message takes the score below -10,000.
        for i in 0..12_u8 {
            let garbage = vec![0x0a, 0xff, 0xff, 0xff, 0x0f, i];
            sender.publish_raw_for_testing_only(&pubsub(), garbage).await.unwrap();
        }
        within(10, "disconnect", async {
            while !victim.health().await.peers().is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let metrics = victim.metrics();
        assert_eq!(metrics.bad_peer_disconnects, 1);
        assert!(metrics.rejected >= 11, "{metrics:?}");
        sender.shutdown().await;
        victim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowered_maximum_message_size_is_enforced_both_ways() {
    within(30, "max size", async {
        let a = start(config()).await;
        let small = start(config().max_message_size(1024)).await;
        let mut at_small = small.subscribe_relay(filter("size")).await.unwrap();
        connect(&a, &small).await;
        let big = message("size", vec![0; 2048]);
        assert!(matches!(
            small.publish(&pubsub(), &big).await,
            Err(PublishError::TooLarge { max: 1024, .. })
        ));
        a.publish(&pubsub(), &big).await.unwrap();
        let fits = message("size", vec![0; 512]);
        a.publish(&pubsub(), &fits).await.unwrap();
        assert_eq!(
            within(10, "small message", at_small.next()).await.unwrap().received.message,
            fits
        );
        assert!(at_small.try_next().is_none());
        assert_eq!(small.metrics().rejected, 1);
        a.shutdown().await;
        small.shutdown().await;
    })
    .await;
}
