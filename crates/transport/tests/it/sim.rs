//! The simulated network: determinism, faults, partitions, counters.

use core::time::Duration;

use kaiwa_transport::sim::{
    DropReason, LinkFaults, NodeId, Probability, SimConfig, SimError, SimNetwork, SimNode,
    TraceEvent,
};
use kaiwa_transport::{
    ContentFilter, ContentTopic, HealthStatus, MessageHash, PubsubTopic, StoreQuery, Subscription,
    WakuMessage,
};

fn pubsub() -> PubsubTopic {
    PubsubTopic::parse("/waku/2/rs/16/64").unwrap()
}

fn topic() -> ContentTopic {
    ContentTopic::parse("/kaiwa/1/sim/proto").unwrap()
}

fn subscribe(node: &SimNode) -> Subscription {
    node.subscribe_now(ContentFilter::new(pubsub(), [topic()]).unwrap())
}

fn message(network: &SimNetwork, payload: u32) -> WakuMessage {
    WakuMessage::new(topic(), payload.to_be_bytes().to_vec())
        .and_then(|m| m.with_timestamp(network.now_unix_nanos()))
        .unwrap()
}

fn payloads(subscription: &mut Subscription) -> Vec<u32> {
    subscription
        .drain()
        .into_iter()
        .map(|r| u32::from_be_bytes(r.message.payload().try_into().unwrap()))
        .collect()
}

fn lossy() -> LinkFaults {
    LinkFaults::RELIABLE
        .with_loss(Probability::new(0.2).unwrap())
        .with_duplication(Probability::new(0.2).unwrap())
        .with_delay(Duration::ZERO, Duration::from_millis(50))
}

/// Three nodes exchanging 60 messages over lossy links; returns the trace and what each
/// subscriber saw, in order.
fn scenario(seed: u64) -> (Vec<TraceEvent>, Vec<Vec<u32>>) {
    let network = SimNetwork::with_config(seed, SimConfig::default().with_faults(lossy()));
    let nodes = [network.node("alice"), network.node("bob"), network.node("carol")];
    let mut subscriptions: Vec<Subscription> = nodes.iter().map(subscribe).collect();
    for i in 0..60u32 {
        let from = &nodes[usize::try_from(i).unwrap() % 3];
        from.publish_now(pubsub(), message(&network, i)).unwrap();
        network.advance(Duration::from_millis(5));
    }
    network.run_until_idle();
    (network.trace(), subscriptions.iter_mut().map(payloads).collect())
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let (trace, seen) = scenario(7);
    assert_eq!(scenario(7), (trace.clone(), seen.clone()));
    let (other_trace, other_seen) = scenario(8);
    assert_ne!(other_trace, trace);
    assert_ne!(other_seen, seen);
    // The faults really drew: some copies lost, some duplicated.
    assert!(
        trace.iter().any(|e| matches!(e, TraceEvent::Dropped { reason: DropReason::Loss, .. }))
    );
    assert!(trace.iter().any(|e| matches!(e, TraceEvent::Duplicated { .. })));
}

#[test]
fn reliable_links_deliver_everything_once_in_order_but_not_to_the_sender() {
    let network = SimNetwork::new(1);
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let (mut alice_inbox, mut bob_inbox) = (subscribe(&alice), subscribe(&bob));
    for i in 0..10 {
        alice.publish_now(pubsub(), message(&network, i)).unwrap();
    }
    assert_eq!(network.pending(), 20, "one copy for bob and one for the store per message");
    assert_eq!(network.run_until_idle(), 20);
    assert_eq!(payloads(&mut bob_inbox), (0..10).collect::<Vec<_>>());
    assert_eq!(payloads(&mut alice_inbox), Vec::<u32>::new());
    assert_eq!(alice.stats().published, 10);
    assert_eq!(bob.stats().delivered, 10);
    assert_eq!(network.stats(NodeId::STORE).delivered, 10);
    assert_eq!(network.store_stats().held, 10);
}

#[test]
fn total_loss_delivers_nothing_but_the_store_still_gets_everything() {
    let faults = LinkFaults::RELIABLE.with_loss(Probability::ALWAYS);
    let network = SimNetwork::with_config(3, SimConfig::default().with_faults(faults));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let mut inbox = subscribe(&bob);
    let hashes: Vec<MessageHash> =
        (0..20).map(|i| alice.publish_now(pubsub(), message(&network, i)).unwrap()).collect();
    network.run_until_idle();
    assert_eq!(inbox.try_next(), None);
    assert_eq!(bob.stats().delivered, 0);
    assert_eq!(bob.stats().dropped, 20);
    // Recovery path: the store link is reliable by default.
    let page = bob.query_now(&StoreQuery::hashes(hashes.clone()).unwrap()).unwrap();
    assert_eq!(page.messages.iter().map(|m| m.hash).collect::<Vec<_>>().len(), hashes.len());
}

#[test]
fn duplication_delivers_duplicates() {
    let faults = LinkFaults::RELIABLE.with_duplication(Probability::ALWAYS);
    let network = SimNetwork::with_config(4, SimConfig::default().with_faults(faults));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let mut inbox = subscribe(&bob);
    for i in 0..5 {
        alice.publish_now(pubsub(), message(&network, i)).unwrap();
    }
    network.run_until_idle();
    let mut seen = payloads(&mut inbox);
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    assert_eq!(bob.stats().duplicated, 5);
    assert_eq!(bob.stats().delivered, 10);
}

#[test]
fn random_delays_reorder_and_lose_nothing() {
    let faults = LinkFaults::RELIABLE.with_delay(Duration::ZERO, Duration::from_millis(100));
    let network = SimNetwork::with_config(5, SimConfig::default().with_faults(faults));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let mut inbox = subscribe(&bob);
    for i in 0..30 {
        alice.publish_now(pubsub(), message(&network, i)).unwrap();
        network.advance(Duration::from_millis(1));
    }
    network.run_until_idle();
    let seen = payloads(&mut inbox);
    assert_ne!(seen, (0..30).collect::<Vec<_>>(), "a 100 ms window over 1 ms gaps reorders");
    let mut sorted = seen;
    sorted.sort_unstable();
    assert_eq!(sorted, (0..30).collect::<Vec<_>>());
}

#[test]
fn virtual_time_delivers_only_what_is_due() {
    let faults =
        LinkFaults::RELIABLE.with_delay(Duration::from_millis(10), Duration::from_millis(10));
    let network = SimNetwork::with_config(6, SimConfig::default().with_faults(faults));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let mut inbox = subscribe(&bob);
    alice.publish_now(pubsub(), message(&network, 1)).unwrap();
    assert_eq!(network.advance(Duration::from_millis(9)), 1, "the store link has no delay");
    assert_eq!(inbox.try_next(), None);
    assert_eq!(network.advance(Duration::from_millis(1)), 1, "bob's copy is due at 10 ms");
    assert_eq!(payloads(&mut inbox), vec![1]);
    assert_eq!(network.now(), Duration::from_millis(10));
    assert_eq!(network.now_unix_nanos(), SimConfig::default().epoch_unix_nanos + 10_000_000);
}

#[test]
fn partition_blocks_and_heal_restores() {
    let network = SimNetwork::new(9);
    let (alice, bob, carol) = (network.node("alice"), network.node("bob"), network.node("carol"));
    let (mut bob_inbox, mut carol_inbox) = (subscribe(&bob), subscribe(&carol));
    network.partition(&[&[alice.id(), bob.id()]]);
    alice.publish_now(pubsub(), message(&network, 1)).unwrap();
    network.run_until_idle();
    assert_eq!(payloads(&mut bob_inbox), vec![1]);
    assert_eq!(payloads(&mut carol_inbox), Vec::<u32>::new());
    assert_eq!(carol.stats().dropped, 1);
    assert!(network.trace().iter().any(|e| matches!(
        e,
        TraceEvent::Dropped { to, reason: DropReason::Partition, .. } if *to == carol.id()
    )));
    // The store sits with carol on side 0: alice cannot query it.
    assert_eq!(
        alice.query_now(&StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub())).unwrap()),
        Err(SimError::StoreUnreachable)
    );

    network.heal();
    alice.publish_now(pubsub(), message(&network, 2)).unwrap();
    network.run_until_idle();
    assert_eq!(payloads(&mut bob_inbox), vec![2]);
    assert_eq!(payloads(&mut carol_inbox), vec![2]);
}

#[test]
fn copies_in_flight_across_a_new_partition_are_dropped() {
    let faults =
        LinkFaults::RELIABLE.with_delay(Duration::from_millis(5), Duration::from_millis(5));
    let network = SimNetwork::with_config(10, SimConfig::default().with_faults(faults));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let mut inbox = subscribe(&bob);
    alice.publish_now(pubsub(), message(&network, 1)).unwrap();
    network.isolate(bob.id());
    network.run_until_idle();
    assert_eq!(inbox.try_next(), None);
    assert_eq!(bob.stats().dropped, 1);
}

#[test]
fn a_node_cut_off_from_everyone_cannot_publish_and_nothing_changes() {
    let network = SimNetwork::new(11);
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let _inbox = subscribe(&bob);
    network.isolate(alice.id());
    let (trace, stats, pending) = (network.trace(), alice.stats(), network.pending());
    assert_eq!(alice.publish_now(pubsub(), message(&network, 1)), Err(SimError::NoPeers));
    assert_eq!((network.trace(), alice.stats(), network.pending()), (trace, stats, pending));
    assert_eq!(alice.health_now().status(&pubsub()), HealthStatus::Unhealthy);
    assert!(!alice.health_now().store_available());
}

#[test]
fn per_link_faults_override_the_global_ones() {
    let network = SimNetwork::new(12);
    let (alice, bob, carol) = (network.node("alice"), network.node("bob"), network.node("carol"));
    let (mut bob_inbox, mut carol_inbox) = (subscribe(&bob), subscribe(&carol));
    network.set_link_faults(
        alice.id(),
        bob.id(),
        LinkFaults::RELIABLE.with_loss(Probability::ALWAYS),
    );
    alice.publish_now(pubsub(), message(&network, 1)).unwrap();
    network.run_until_idle();
    assert_eq!((payloads(&mut bob_inbox), payloads(&mut carol_inbox)), (vec![], vec![1]));
    network.clear_link_faults(alice.id(), bob.id());
    alice.publish_now(pubsub(), message(&network, 2)).unwrap();
    network.run_until_idle();
    assert_eq!(payloads(&mut bob_inbox), vec![2]);
}

#[test]
fn filters_select_and_dropped_subscriptions_stop_receiving() {
    let network = SimNetwork::new(13);
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let other_topic = ContentTopic::parse("/kaiwa/1/other/proto").unwrap();
    let mut narrow = subscribe(&bob);
    let mut wide = bob.subscribe_now(ContentFilter::whole_pubsub_topic(pubsub()));
    let elsewhere = bob.subscribe_now(
        ContentFilter::new(PubsubTopic::parse("/waku/2/rs/16/32").unwrap(), [topic()]).unwrap(),
    );
    alice.publish_now(pubsub(), message(&network, 1)).unwrap();
    let other = WakuMessage::new(other_topic, vec![0, 0, 0, 2]).unwrap();
    alice.publish_now(pubsub(), other).unwrap();
    network.run_until_idle();
    assert_eq!(payloads(&mut narrow), vec![1]);
    assert_eq!(payloads(&mut wide), vec![1, 2]);
    drop(elsewhere);

    drop(narrow);
    drop(wide);
    alice.publish_now(pubsub(), message(&network, 3)).unwrap();
    network.run_until_idle();
    assert_eq!(bob.stats().delivered, 2, "no live subscription, no copy scheduled");
}

#[test]
fn health_counts_relay_peers_on_the_same_side() {
    let network = SimNetwork::new(14);
    let nodes: Vec<SimNode> = (0..6).map(|i| network.node(&format!("n{i}"))).collect();
    let _subscriptions: Vec<Subscription> = nodes.iter().skip(1).map(subscribe).collect();
    let health = nodes[0].health_now();
    assert_eq!(health.relay_peers(&pubsub()), 5);
    assert_eq!(health.status(&pubsub()), HealthStatus::SufficientlyHealthy);
    assert!(health.store_available());
    assert_eq!(health.peers().len(), 6, "five nodes and the store");
    network.partition(&[&[nodes[0].id(), nodes[1].id()]]);
    let health = nodes[0].health_now();
    assert_eq!(health.status(&pubsub()), HealthStatus::MinimallyHealthy);
    assert!(!health.store_available());
    assert_eq!(network.name(nodes[1].id()).as_deref(), Some("n1"));
}

#[test]
fn the_trace_is_bounded() {
    let network = SimNetwork::with_config(15, SimConfig::default().with_trace_capacity(4));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let _inbox = subscribe(&bob);
    for i in 0..10 {
        alice.publish_now(pubsub(), message(&network, i)).unwrap();
    }
    network.run_until_idle();
    let trace = network.trace();
    assert_eq!(trace.len(), 4);
    assert!(matches!(trace.last(), Some(TraceEvent::Delivered { .. })));
}
