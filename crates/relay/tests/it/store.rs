//! Store v3 between Rust nodes: an offline peer catches up with pagination; a store node with
//! no store peer answers its own queries from its archive.

use std::time::Duration;

use kaiwa_relay::{NodeKey, RelayError, Retention, StoreQueryError};
use kaiwa_transport::{Cursor, Direction, MessageHash, StoreQuery, Transport, WakuMessage};

use super::support::*;

async fn wait_archived(node: &kaiwa_relay::RelayNode, count: u64) {
    within(10, "archive", async {
        while node.metrics().archived < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// Publishes `count` messages from `from` with strictly increasing timestamps.
async fn publish_history(from: &kaiwa_relay::RelayNode, count: usize) -> Vec<WakuMessage> {
    let base = now_ns();
    let mut sent = Vec::new();
    for i in 0..count {
        let message = WakuMessage::new(topic("history"), format!("m{i}").into_bytes())
            .unwrap()
            .with_timestamp(base + i as i64 * 1_000)
            .unwrap();
        from.publish(&pubsub(), &message).await.unwrap();
        sent.push(message);
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_peer_catches_up_page_by_page() {
    within(40, "catch-up", async {
        let store = start(config().store_server(true)).await;
        let writer = start(config()).await;
        connect(&writer, &store).await;
        let sent = publish_history(&writer, 25).await;
        wait_archived(&store, 25).await;

        // The reader was offline while all this happened.
        let reader = start(config()).await;
        connect(&reader, &store).await;
        let first = StoreQuery::content(filter("history")).unwrap().with_page_size(10).unwrap();
        for direction in [Direction::Forward, Direction::Backward] {
            let mut pages = Vec::new();
            let mut query = Some(first.clone().with_direction(direction));
            while let Some(current) = query {
                let page = within(10, "page", reader.store_query(store.peer_id(), &current))
                    .await
                    .unwrap();
                query = current.next_page(&page);
                pages.push(page.messages);
            }
            assert_eq!(
                pages.iter().map(Vec::len).collect::<Vec<_>>(),
                match direction {
                    Direction::Forward => vec![10, 10, 5],
                    Direction::Backward => vec![10, 10, 5],
                }
            );
            if direction == Direction::Backward {
                pages.reverse();
            }
            let got: Vec<WakuMessage> = pages.into_iter().flatten().map(|m| m.message).collect();
            assert_eq!(got, sent, "{direction:?}: every message once, in order");
        }

        // Through the Transport path: any connected store peer (found by identify).
        within(10, "identify", async {
            while !reader.health().await.store_available() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let ranged =
            first.clone().with_time_range(sent[3].timestamp(), sent[5].timestamp()).unwrap();
        let page = reader.query_any_store(&ranged).await.unwrap();
        let got: Vec<_> = page.messages.into_iter().map(|m| m.message).collect();
        assert_eq!(got, sent[3..=5].to_vec());
        assert!(store.metrics().store_queries_served >= 7);
        for node in [store, writer, reader] {
            node.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_only_the_newest_and_non_stores_say_unsupported() {
    within(40, "retention", async {
        let store = start(
            config().store_server(true).retention(Retention::new(10, Duration::from_secs(3600))),
        )
        .await;
        let writer = start(config()).await;
        connect(&writer, &store).await;
        let sent = publish_history(&writer, 15).await;
        wait_archived(&store, 15).await;
        let query = StoreQuery::content(filter("history")).unwrap().with_page_size(100).unwrap();
        let page = writer.store_query(store.peer_id(), &query).await.unwrap();
        let got: Vec<_> = page.messages.into_iter().map(|m| m.message).collect();
        assert_eq!(got, sent[5..].to_vec());
        assert_eq!(page.next_cursor, None);

        assert_eq!(
            store.store_query(writer.peer_id(), &query).await,
            Err(StoreQueryError::Unsupported),
            "a node without the store server does not offer the protocol"
        );
        let stranger = NodeKey::generate().peer_id();
        assert_eq!(store.store_query(stranger, &query).await, Err(StoreQueryError::Unreachable));
        store.shutdown().await;
        writer.shutdown().await;
    })
    .await;
}

/// Follows `first`'s cursors to the end with `query_any_store`; returns the page sizes and the
/// messages in store order (backward pages are reversed).
async fn all_pages(
    node: &kaiwa_relay::RelayNode,
    first: StoreQuery,
) -> (Vec<usize>, Vec<WakuMessage>) {
    let direction = first.direction();
    let mut pages = Vec::new();
    let mut query = Some(first);
    while let Some(current) = query {
        let page = within(10, "page", node.query_any_store(&current)).await.unwrap();
        query = current.next_page(&page);
        pages.push(page.messages);
    }
    let sizes = pages.iter().map(Vec::len).collect();
    if direction == Direction::Backward {
        pages.reverse();
    }
    (sizes, pages.into_iter().flatten().map(|m| m.message).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_node_without_store_peers_answers_its_own_queries_from_its_archive() {
    within(40, "own archive", async {
        let store = start(config().store_server(true)).await;
        let writer = start(config()).await;
        let first = StoreQuery::content(filter("history")).unwrap().with_page_size(10).unwrap();
        assert_eq!(
            writer.query_any_store(&first).await,
            Err(StoreQueryError::NoStorePeer),
            "no archive and no peer at all"
        );
        connect(&writer, &store).await;
        let sent = publish_history(&writer, 25).await;
        wait_archived(&store, 25).await;
        assert!(!store.health().await.store_available(), "the store's only peer is no store");

        for direction in [Direction::Forward, Direction::Backward] {
            let (sizes, got) = all_pages(&store, first.clone().with_direction(direction)).await;
            assert_eq!(sizes, vec![10, 10, 5], "{direction:?}");
            assert_eq!(got, sent, "{direction:?}: every message once, in order");
        }
        let ranged =
            first.clone().with_time_range(sent[3].timestamp(), sent[5].timestamp()).unwrap();
        let store_dyn: &dyn Transport<Error = RelayError> = &store;
        let page = store_dyn.query(ranged).await.unwrap();
        let got: Vec<_> = page.messages.into_iter().map(|m| m.message).collect();
        assert_eq!(got, sent[3..=5].to_vec(), "through the Transport trait");
        assert_eq!(page.next_cursor, None);

        // The archive's status codes come through as they would to a remote asker.
        let unknown =
            first.clone().with_cursor(Cursor::from_hash(MessageHash::from_bytes([7; 32])));
        assert_eq!(
            store.query_any_store(&unknown).await,
            Err(StoreQueryError::Rejected { status: 400 })
        );
        assert_eq!(store.metrics().store_queries_served, 0, "nothing went over the network");
        for node in [store, writer] {
            node.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_node_prefers_a_connected_store_peer_to_its_own_archive() {
    within(40, "remote first", async {
        let store = start(config().store_server(true)).await;
        let writer = start(config()).await;
        connect(&writer, &store).await;
        let sent = publish_history(&writer, 5).await;
        wait_archived(&store, 5).await;

        // A second store node that was offline: its own archive is empty.
        let late = start(config().store_server(true)).await;
        connect(&late, &store).await;
        within(10, "identify", async {
            while !late.health().await.store_available() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert_eq!(late.metrics().archived, 0);
        let query = StoreQuery::content(filter("history")).unwrap();
        let page = late.query_any_store(&query).await.unwrap();
        let got: Vec<_> = page.messages.into_iter().map(|m| m.message).collect();
        assert_eq!(got, sent, "the peer's archive, not the empty own one");
        assert_eq!(store.metrics().store_queries_served, 1);
        for node in [store, writer, late] {
            node.shutdown().await;
        }
    })
    .await;
}
