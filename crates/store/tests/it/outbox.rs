//! The outbox: order, fan-out copies and the message status, failures, abandonment, bounds.

use kaiwa_store::limits::{
    MAX_ERROR_TEXT_BYTES, MAX_META_BYTES, MAX_PAYLOAD_BYTES, MAX_TOPIC_BYTES,
};
use kaiwa_store::{MessageStatus, NewMessage, OutboxMessage, Store, StoreError};

use super::common::{alice, at, bob, direct, waku};

fn outgoing(store: &mut Store, clock: u64) -> kaiwa_store::MessageId {
    let chat = direct(bob());
    store
        .insert_message(&NewMessage::outgoing(&chat, alice(), clock, at(clock), b"hi"), at(clock))
        .unwrap()
}

fn status(store: &Store, id: kaiwa_store::MessageId) -> MessageStatus {
    store.message(id).unwrap().unwrap().status
}

#[test]
fn entries_come_out_in_order_with_every_field() {
    let mut store = Store::open_in_memory().unwrap();
    let mut full = waku(b"first");
    full.meta = vec![9; MAX_META_BYTES];
    let mut bare = waku(b"second");
    bare.timestamp_ns = None;
    let a = store.enqueue_outbox(&full, None, at(1)).unwrap();
    let b = store.enqueue_outbox(&bare, None, at(2)).unwrap();
    let c = store.enqueue_outbox(&waku(b"third"), None, at(3)).unwrap();
    assert!(a < b && b < c);
    assert_eq!(store.outbox_len().unwrap(), 3);
    let page = store.pending_outbox(None, 2).unwrap();
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(page[0].message, full);
    assert_eq!(page[1].message, bare);
    assert_eq!((page[0].created_at, page[0].attempts, page[0].history), (at(1), 0, None));
    assert_eq!((page[0].last_error.as_deref(), page[0].last_attempt_at), (None, None));
    assert_eq!(store.pending_outbox(None, 0).unwrap(), []);
}

#[test]
fn a_message_is_sent_once_every_copy_is_published() {
    let mut store = Store::open_in_memory().unwrap();
    let message = outgoing(&mut store, 1);
    // A group message: one WakuMessage per recipient.
    let copies: Vec<_> =
        (0..3).map(|i| store.enqueue_outbox(&waku(&[i]), Some(message), at(1)).unwrap()).collect();
    assert_eq!(status(&store, message), MessageStatus::Pending);
    assert!(store.mark_published(copies[1]).unwrap());
    assert!(store.mark_published(copies[0]).unwrap());
    assert_eq!(status(&store, message), MessageStatus::Pending);
    assert!(store.mark_published(copies[2]).unwrap());
    assert_eq!(status(&store, message), MessageStatus::Sent);
    // Publishing twice (a crash between publish and mark) is harmless.
    assert!(!store.mark_published(copies[2]).unwrap());
    assert_eq!(store.outbox_len().unwrap(), 0);
}

#[test]
fn marking_many_published_is_marking_each() {
    let mut store = Store::open_in_memory().unwrap();
    let (group, single) = (outgoing(&mut store, 1), outgoing(&mut store, 2));
    let copies: Vec<_> =
        (0..3).map(|i| store.enqueue_outbox(&waku(&[i]), Some(group), at(1)).unwrap()).collect();
    let alone = store.enqueue_outbox(&waku(b"s"), Some(single), at(2)).unwrap();
    let bundle = store.enqueue_outbox(&waku(b"b"), None, at(3)).unwrap();
    // Two of the group's three copies, the single message's copy, an unlinked entry, and
    // one id twice: four removed, the group's message still waits for its third copy.
    let ids = [copies[0], copies[2], alone, bundle, alone];
    assert_eq!(store.mark_all_published(&ids).unwrap(), 4);
    assert_eq!(status(&store, group), MessageStatus::Pending);
    assert_eq!(status(&store, single), MessageStatus::Sent);
    let left = store.pending_outbox(None, 10).unwrap();
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [copies[1]]);
    assert_eq!(store.mark_all_published(&[copies[1], copies[0]]).unwrap(), 1);
    assert_eq!(status(&store, group), MessageStatus::Sent);
    assert_eq!(store.mark_all_published(&[]).unwrap(), 0);
    assert_eq!(store.outbox_len().unwrap(), 0);
}

#[test]
fn failures_are_recorded_and_the_entry_stays() {
    let mut store = Store::open_in_memory().unwrap();
    let id = store.enqueue_outbox(&waku(b"x"), None, at(1)).unwrap();
    assert!(store.record_failure(id, "no peers", at(2)).unwrap());
    let long = "é".repeat(MAX_ERROR_TEXT_BYTES); // two bytes each
    assert!(store.record_failure(id, &long, at(3)).unwrap());
    let entry = &store.pending_outbox(None, 1).unwrap()[0];
    assert_eq!(entry.attempts, 2);
    assert_eq!(entry.last_attempt_at, Some(at(3)));
    let error = entry.last_error.as_deref().unwrap();
    assert_eq!(error.len(), MAX_ERROR_TEXT_BYTES);
    assert!(long.starts_with(error));
    assert!(
        !store.record_failure(kaiwa_store::OutboxId::from_raw(id.get() + 1), "x", at(4)).unwrap()
    );
}

#[test]
fn an_abandoned_copy_fails_its_message_for_good() {
    let mut store = Store::open_in_memory().unwrap();
    let message = outgoing(&mut store, 1);
    let a = store.enqueue_outbox(&waku(b"a"), Some(message), at(1)).unwrap();
    let b = store.enqueue_outbox(&waku(b"b"), Some(message), at(1)).unwrap();
    assert!(store.abandon_outbox(a).unwrap());
    assert_eq!(status(&store, message), MessageStatus::Failed);
    assert!(store.mark_published(b).unwrap());
    assert_eq!(status(&store, message), MessageStatus::Failed, "a lost copy is not undone");
    assert!(!store.abandon_outbox(a).unwrap());
}

#[test]
fn ids_are_never_reused() {
    let mut store = Store::open_in_memory().unwrap();
    let first = store.enqueue_outbox(&waku(b"a"), None, at(1)).unwrap();
    assert!(store.mark_published(first).unwrap());
    let second = store.enqueue_outbox(&waku(b"b"), None, at(2)).unwrap();
    assert!(second > first, "the id of a removed entry names nothing new");
    assert!(!store.mark_published(first).unwrap());
    assert_eq!(store.outbox_len().unwrap(), 1);
}

#[test]
fn oversized_fields_and_unknown_messages_are_refused_and_queue_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let cases: [(OutboxMessage, &str, usize); 4] = [
        (
            OutboxMessage { pubsub_topic: "p".repeat(MAX_TOPIC_BYTES + 1), ..waku(b"") },
            "pubsub_topic",
            MAX_TOPIC_BYTES,
        ),
        (
            OutboxMessage { content_topic: "c".repeat(MAX_TOPIC_BYTES + 1), ..waku(b"") },
            "content_topic",
            MAX_TOPIC_BYTES,
        ),
        (waku(&vec![0; MAX_PAYLOAD_BYTES + 1]), "payload", MAX_PAYLOAD_BYTES),
        (OutboxMessage { meta: vec![0; MAX_META_BYTES + 1], ..waku(b"") }, "meta", MAX_META_BYTES),
    ];
    for (message, field, limit) in cases {
        assert_eq!(
            store.enqueue_outbox(&message, None, at(1)).unwrap_err(),
            StoreError::TooLong { field, limit, actual: limit + 1 }
        );
    }
    let ghost = kaiwa_store::MessageId::from_raw(42);
    assert_eq!(
        store.enqueue_outbox(&waku(b"x"), Some(ghost), at(1)).unwrap_err(),
        StoreError::NotFound { what: "message" }
    );
    assert_eq!(store.outbox_len().unwrap(), 0);
    // The largest allowed payload fits.
    store.enqueue_outbox(&waku(&vec![1; MAX_PAYLOAD_BYTES]), None, at(1)).unwrap();
}
