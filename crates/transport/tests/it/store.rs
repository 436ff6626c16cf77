//! The simulated store: pagination, filters, admission, retention.

use core::time::Duration;

use kaiwa_transport::sim::{SimConfig, SimError, SimNetwork, SimNode, StoreConfig};
use kaiwa_transport::{
    ContentFilter, ContentTopic, Cursor, Direction, MessageHash, PubsubTopic, StorePage,
    StoreQuery, WakuMessage,
};
use proptest::prelude::*;

fn pubsub() -> PubsubTopic {
    PubsubTopic::parse("/waku/2/rs/16/64").unwrap()
}

fn topic(name: &str) -> ContentTopic {
    ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
}

fn all() -> StoreQuery {
    StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub())).unwrap()
}

/// A network whose store admits any timestamp, and one publishing node.
fn setup(store: StoreConfig) -> (SimNetwork, SimNode) {
    let network = SimNetwork::with_config(1, SimConfig::default().with_store(store));
    let node = network.node("alice");
    (network, node)
}

fn lenient() -> StoreConfig {
    StoreConfig::default().with_max_timestamp_drift(None)
}

fn publish(node: &SimNode, name: &str, timestamp: i64, payload: u8) -> MessageHash {
    let message = WakuMessage::new(topic(name), vec![payload])
        .and_then(|m| m.with_timestamp(timestamp))
        .unwrap();
    node.publish_now(pubsub(), message).unwrap()
}

/// Pages through `query`, returning the hashes in the order the pages give them (each page
/// is chronological) and the number of pages.
fn page_through(node: &SimNode, query: StoreQuery) -> (Vec<Vec<MessageHash>>, usize) {
    let mut pages = Vec::new();
    let mut next = Some(query);
    while let Some(query) = next {
        let page: StorePage = node.query_now(&query).unwrap();
        assert!(page.messages.len() <= query.page_size());
        pages.push(page.messages.iter().map(|m| m.hash).collect());
        next = query.next_page(&page);
        assert!(pages.len() <= 1000, "pagination terminates");
    }
    let count = pages.len();
    (pages, count)
}

/// The store order: (timestamp, hash).
fn store_order(entries: &[(i64, MessageHash)]) -> Vec<MessageHash> {
    let mut sorted = entries.to_vec();
    sorted.sort();
    sorted.into_iter().map(|(_, hash)| hash).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn pagination_returns_every_message_once_in_order_both_ways(
        timestamps in prop::collection::vec(0i64..20, 0..60),
        page_size in 1usize..=12,
    ) {
        let (network, node) = setup(lenient());
        let entries: Vec<(i64, MessageHash)> = timestamps
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, publish(&node, "p", t, u8::try_from(i).unwrap())))
            .collect();
        network.run_until_idle();
        let expected = store_order(&entries);

        let forward = all().with_page_size(page_size).unwrap();
        let (pages, count) = page_through(&node, forward);
        prop_assert_eq!(count, expected.len().div_ceil(page_size).max(1));
        prop_assert_eq!(pages.concat(), expected.clone());

        let backward = all().with_page_size(page_size).unwrap().with_direction(Direction::Backward);
        let (pages, _) = page_through(&node, backward);
        // Pages walk from the newest, each in chronological order.
        let mut reassembled: Vec<MessageHash> = Vec::new();
        for page in pages.iter().rev() {
            let mut sorted = page.clone();
            sorted.sort_by_key(|h| expected.iter().position(|e| e == h));
            prop_assert_eq!(&sorted, page, "each page is chronological");
            reassembled.extend(page);
        }
        prop_assert_eq!(reassembled, expected);
    }
}

#[test]
fn content_topics_and_time_ranges_filter() {
    let (network, node) = setup(lenient());
    let mut entries = Vec::new();
    for t in 0..20 {
        let name = if t % 2 == 0 { "even" } else { "odd" };
        entries.push((t, name, publish(&node, name, t, u8::try_from(t).unwrap())));
    }
    network.run_until_idle();
    let even = ContentFilter::new(pubsub(), [topic("even")]).unwrap();
    let query = StoreQuery::content(even)
        .and_then(|q| q.with_time_range(Some(4), Some(10)))
        .unwrap()
        .with_direction(Direction::Backward);
    let (pages, _) = page_through(&node, query.with_page_size(2).unwrap());
    let mut got: Vec<MessageHash> = pages.into_iter().rev().flatten().collect();
    let want: Vec<MessageHash> = entries
        .iter()
        .filter(|(t, name, _)| *name == "even" && (4..=10).contains(t))
        .map(|(_, _, hash)| *hash)
        .collect();
    assert_eq!(got, want);
    got.clear();
    let empty = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub()))
        .and_then(|q| q.with_time_range(Some(100), None))
        .unwrap();
    assert_eq!(node.query_now(&empty).unwrap(), StorePage::new(Vec::new(), None));
    let other = PubsubTopic::parse("/waku/2/rs/16/1").unwrap();
    let elsewhere = StoreQuery::content(ContentFilter::whole_pubsub_topic(other)).unwrap();
    assert!(node.query_now(&elsewhere).unwrap().messages.is_empty());
}

#[test]
fn hash_queries_find_messages_in_store_order() {
    let (network, node) = setup(lenient());
    let hashes: Vec<MessageHash> = (0..10).map(|t| publish(&node, "h", 10 - t, 0)).collect();
    network.run_until_idle();
    let unknown = MessageHash::from_bytes([0x55; 32]);
    let wanted = [hashes[1], hashes[3], hashes[8], unknown];
    let query = StoreQuery::hashes(wanted).unwrap().with_page_size(2).unwrap();
    let (pages, count) = page_through(&node, query);
    assert_eq!(count, 2);
    // Timestamps 9, 7, 2: store order is 2, 7, 9.
    assert_eq!(pages.concat(), vec![hashes[8], hashes[3], hashes[1]]);
}

#[test]
fn cursors_must_name_a_stored_message_of_the_topic() {
    let (network, node) = setup(lenient());
    let hash = publish(&node, "c", 1, 0);
    network.run_until_idle();
    let stranger = Cursor::from_hash(MessageHash::from_bytes([1; 32]));
    assert_eq!(node.query_now(&all().with_cursor(stranger)), Err(SimError::UnknownCursor));
    let other = PubsubTopic::parse("/waku/2/rs/16/1").unwrap();
    let elsewhere = StoreQuery::content(ContentFilter::whole_pubsub_topic(other))
        .unwrap()
        .with_cursor(Cursor::from_hash(hash));
    assert_eq!(node.query_now(&elsewhere), Err(SimError::UnknownCursor));
    let after = node.query_now(&all().with_cursor(Cursor::from_hash(hash))).unwrap();
    assert_eq!(after, StorePage::new(Vec::new(), None));
}

#[test]
fn retention_by_count_evicts_the_oldest() {
    let (network, node) = setup(lenient().with_max_messages_per_topic(5));
    let hashes: Vec<MessageHash> = (0..8).map(|t| publish(&node, "r", t, 0)).collect();
    network.run_until_idle();
    let page = node.query_now(&all()).unwrap();
    assert_eq!(page.messages.iter().map(|m| m.hash).collect::<Vec<_>>(), hashes[3..].to_vec());
    let stats = network.store_stats();
    assert_eq!((stats.stored, stats.evicted, stats.held), (8, 3, 5));
    // A cursor at an evicted message is unknown.
    let stale = all().with_cursor(Cursor::from_hash(hashes[0]));
    assert_eq!(node.query_now(&stale), Err(SimError::UnknownCursor));
}

#[test]
fn retention_by_age_evicts_old_messages_as_time_passes() {
    let store = StoreConfig::default().with_max_age(Some(Duration::from_secs(60)));
    let (network, node) = setup(store);
    let first = publish(&node, "a", network.now_unix_nanos(), 1);
    network.advance(Duration::from_secs(30));
    let second = publish(&node, "a", network.now_unix_nanos(), 2);
    network.run_until_idle();
    let held =
        || node.query_now(&all()).unwrap().messages.iter().map(|m| m.hash).collect::<Vec<_>>();
    assert_eq!(held(), vec![first, second]);
    network.advance(Duration::from_secs(31));
    assert_eq!(held(), vec![second]);
    network.advance(Duration::from_secs(30));
    assert_eq!(held(), Vec::<MessageHash>::new());
    assert_eq!(network.store_stats().evicted, 2);
}

#[test]
fn admission_follows_nwaku() {
    let (network, node) = setup(StoreConfig::default());
    let now = network.now_unix_nanos();
    let drift = 20_000_000_000;
    let ok_early = publish(&node, "a", now - drift, 1);
    let ok_late = publish(&node, "a", now + drift, 2);
    publish(&node, "a", now - drift - 1, 3);
    publish(&node, "a", now + drift + 1, 4);
    let untimed = WakuMessage::new(topic("a"), vec![5]).unwrap();
    node.publish_now(pubsub(), untimed).unwrap();
    let ephemeral = WakuMessage::new(topic("a"), vec![6])
        .and_then(|m| m.with_timestamp(now))
        .and_then(|m| m.with_ephemeral(true))
        .unwrap();
    node.publish_now(pubsub(), ephemeral).unwrap();
    network.run_until_idle();
    let held: Vec<MessageHash> =
        node.query_now(&all()).unwrap().messages.iter().map(|m| m.hash).collect();
    assert_eq!(held, vec![ok_early, ok_late]);
    let stats = network.store_stats();
    assert_eq!((stats.stored, stats.rejected), (2, 3), "the ephemeral copy is never sent");
}

#[test]
fn without_admission_window_absent_timestamps_take_the_arrival_time() {
    let (network, node) = setup(lenient());
    network.advance(Duration::from_secs(5));
    let untimed = WakuMessage::new(topic("a"), vec![1]).unwrap();
    let hash = node.publish_now(pubsub(), untimed).unwrap();
    network.run_until_idle();
    let arrival = network.now_unix_nanos();
    let around = |start, end| {
        StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub()))
            .and_then(|q| q.with_time_range(Some(start), Some(end)))
            .unwrap()
    };
    let hit = node.query_now(&around(arrival, arrival)).unwrap();
    assert_eq!(hit.messages.iter().map(|m| m.hash).collect::<Vec<_>>(), vec![hash]);
    assert!(node.query_now(&around(arrival + 1, i64::MAX)).unwrap().messages.is_empty());
}

#[test]
fn duplicates_are_stored_once_and_failed_queries_change_nothing() {
    let (network, node) = setup(lenient());
    let message = WakuMessage::new(topic("d"), vec![1]).and_then(|m| m.with_timestamp(5)).unwrap();
    node.publish_now(pubsub(), message.clone()).unwrap();
    node.publish_now(pubsub(), message).unwrap();
    network.run_until_idle();
    let stats = network.store_stats();
    assert_eq!((stats.stored, stats.duplicates, stats.held), (1, 1, 1));
    let bad = all().with_cursor(Cursor::from_hash(MessageHash::from_bytes([9; 32])));
    let before = (network.store_stats(), network.trace());
    assert_eq!(node.query_now(&bad), Err(SimError::UnknownCursor));
    assert_eq!((network.store_stats(), network.trace()), before);
}
