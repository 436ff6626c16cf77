//! Transactions: all or nothing, exactly-once processing, failed operations change nothing,
//! isolation between connections.

use std::time::Duration;

use kaiwa_session::{AccountRecord, AccountStore, PeerRecord, SignedPreKeyRecord};
use kaiwa_store::{
    Contact, OutboxId, Processed, ProcessedKey, Store, StoreConfig, StoreError, Transaction,
};

use super::common::{at, bob, direct, hash, key, received, temp_db, waku};

/// Writes one of everything through `tx`: peer record, account, message, processed mark,
/// outbox entry, contact.
fn write_everything(tx: &mut Transaction<'_>, n: u64) -> OutboxId {
    let chat = direct(bob());
    tx.store_peer_record(&bob(), &PeerRecord::from_bytes(vec![u8::try_from(n).unwrap(); 40]))
        .unwrap();
    tx.store_account(&AccountRecord::from_bytes(vec![7; 10])).unwrap();
    let message = tx.insert_message(&received(&chat, n, b"hello"), at(n)).unwrap();
    assert!(tx.mark_processed(&key(n), at(n)).unwrap());
    let contact = Contact {
        id: bob(),
        display_name: "Bob".into(),
        verified: false,
        bundle: None,
        added_at: at(0),
    };
    tx.upsert_contact(&contact).unwrap();
    tx.enqueue_outbox(&waku(b"ciphertext"), Some(message), at(n)).unwrap()
}

fn assert_empty(store: &Store) {
    assert_eq!(store.load_peer_record(&bob()).unwrap(), None);
    assert_eq!(store.load_account().unwrap(), None);
    assert!(store.history(&direct(bob()), None, 100).unwrap().is_empty());
    assert!(!store.is_processed(&key(1)).unwrap());
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(store.contact(&bob()).unwrap(), None);
}

#[test]
fn a_dropped_or_rolled_back_transaction_leaves_nothing() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    {
        let mut tx = store.begin().unwrap();
        write_everything(&mut tx, 1);
        // Inside the transaction everything is visible...
        assert!(tx.is_processed(&key(1)).unwrap());
        assert_eq!(tx.outbox_len().unwrap(), 1);
    } // ...and dropping it rolls everything back.
    assert_empty(&store);
    let mut tx = store.begin().unwrap();
    write_everything(&mut tx, 1);
    tx.rollback().unwrap();
    assert_empty(&store);
    drop(store);
    assert_empty(&Store::open(&path).unwrap());
}

#[test]
fn a_committed_transaction_keeps_everything() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let mut tx = store.begin().unwrap();
    let entry = write_everything(&mut tx, 1);
    tx.commit().unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load_peer_record(&bob()).unwrap().unwrap().as_bytes(), [1; 40]);
    assert_eq!(store.load_account().unwrap().unwrap().as_bytes(), [7; 10]);
    let history = store.history(&direct(bob()), None, 100).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].payload, b"hello");
    assert!(store.is_processed(&key(1)).unwrap());
    let pending = store.pending_outbox(None, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].id, pending[0].history), (entry, Some(history[0].id)));
    assert_eq!(store.contact(&bob()).unwrap().unwrap().display_name, "Bob");
}

#[test]
fn process_once_applies_a_message_once() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let mut runs = 0;
    for attempt in 0..3 {
        let outcome = store
            .process_once(&key(5), at(attempt), |tx| {
                runs += 1;
                tx.store_peer_record(&bob(), &PeerRecord::from_bytes(vec![5; 8]))?;
                tx.insert_message(&received(&chat, 5, b"once"), at(attempt))
            })
            .unwrap();
        match (attempt, outcome) {
            (0, Processed::Applied(id)) => {
                assert_eq!(store.message(id).unwrap().unwrap().payload, b"once")
            }
            (1.., Processed::AlreadyProcessed) => {}
            (attempt, outcome) => panic!("attempt {attempt}: {outcome:?}"),
        }
    }
    assert_eq!(runs, 1);
    assert_eq!(store.history(&chat, None, 10).unwrap().len(), 1);
}

#[derive(Debug, PartialEq)]
enum AppError {
    Store(StoreError),
    Undecryptable,
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

#[test]
fn a_failed_apply_rolls_back_its_writes_and_the_processed_mark() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let result: Result<Processed<()>, AppError> = store.process_once(&key(6), at(1), |tx| {
        tx.store_peer_record(&bob(), &PeerRecord::from_bytes(vec![6; 8]))?;
        tx.insert_message(&received(&chat, 6, b"half"), at(1))?;
        Err(AppError::Undecryptable)
    });
    assert_eq!(result.unwrap_err(), AppError::Undecryptable);
    assert!(!store.is_processed(&key(6)).unwrap());
    assert_eq!(store.load_peer_record(&bob()).unwrap(), None);
    assert!(store.history(&chat, None, 10).unwrap().is_empty());
    // The redelivered copy is processed normally.
    let again: Result<_, AppError> = store.process_once(&key(6), at(2), |tx| {
        tx.insert_message(&received(&chat, 6, b"whole"), at(2)).map_err(AppError::from)
    });
    assert!(matches!(again.unwrap(), Processed::Applied(_)));
    assert!(store.is_processed(&key(6)).unwrap());
}

#[test]
fn a_failed_operation_inside_a_transaction_changes_nothing_and_the_transaction_goes_on() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let keys =
        [SignedPreKeyRecord::from_bytes(vec![1; 4]), SignedPreKeyRecord::from_bytes(vec![2; 4])];
    let mut tx = store.begin().unwrap();
    tx.store_signed_pre_keys(&keys).unwrap();
    let message = tx.insert_message(&received(&chat, 1, b"kept"), at(1)).unwrap();

    let unknown = kaiwa_store::MessageId::from_raw(message.get() + 100);
    assert_eq!(
        tx.enqueue_outbox(&waku(b"x"), Some(unknown), at(2)).unwrap_err(),
        StoreError::NotFound { what: "message" }
    );
    let big = vec![0; kaiwa_store::limits::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        tx.insert_message(&received(&chat, 2, &big), at(2)).unwrap_err(),
        StoreError::TooLong { field: "payload", .. }
    ));
    let mut wrong = received(&chat, 3, b"x");
    wrong.status = kaiwa_store::MessageStatus::Sent;
    assert_eq!(tx.insert_message(&wrong, at(3)).unwrap_err(), StoreError::StatusMismatch);

    assert_eq!(tx.load_signed_pre_keys().unwrap(), keys);
    assert_eq!(tx.outbox_len().unwrap(), 0);
    assert_eq!(tx.history(&chat, None, 10).unwrap().len(), 1);
    tx.commit().unwrap();
    assert_eq!(store.load_signed_pre_keys().unwrap(), keys);
    assert_eq!(store.history(&chat, None, 10).unwrap()[0].payload, b"kept");
}

#[test]
fn a_multi_statement_operation_that_fails_half_way_leaves_the_previous_state() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let old =
        [SignedPreKeyRecord::from_bytes(vec![1; 4]), SignedPreKeyRecord::from_bytes(vec![2; 4])];
    store.store_signed_pre_keys(&old).unwrap();
    // Make the third insert of the next replacement fail, after the delete and two inserts.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER fail_third BEFORE INSERT ON signed_pre_keys WHEN NEW.position = 2
         BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    )
    .unwrap();
    drop(raw);
    let new: Vec<_> = (10..13).map(|b| SignedPreKeyRecord::from_bytes(vec![b; 4])).collect();
    assert!(matches!(store.store_signed_pre_keys(&new).unwrap_err(), StoreError::Sqlite { .. }));
    assert_eq!(store.load_signed_pre_keys().unwrap(), old);
    // The same inside a transaction: the operation is undone, the transaction is not.
    let mut tx = store.begin().unwrap();
    tx.store_account(&AccountRecord::from_bytes(vec![3; 3])).unwrap();
    assert!(tx.store_signed_pre_keys(&new).is_err());
    assert_eq!(tx.load_signed_pre_keys().unwrap(), old);
    tx.commit().unwrap();
    assert_eq!(store.load_account().unwrap().unwrap().as_bytes(), [3; 3]);
    assert_eq!(store.load_signed_pre_keys().unwrap(), old);
}

#[test]
fn uncommitted_writes_are_invisible_and_a_second_writer_waits() {
    let (_dir, path) = temp_db();
    let mut first = Store::open(&path).unwrap();
    let mut config = StoreConfig::default();
    config.busy_timeout = Duration::from_millis(50);
    let mut second = Store::open_with(&path, &config).unwrap();

    let mut tx = first.begin().unwrap();
    tx.mark_processed(&key(1), at(1)).unwrap();
    assert!(!second.is_processed(&key(1)).unwrap(), "a reader sees only committed data");
    let busy = second.begin().unwrap_err();
    assert!(matches!(busy, StoreError::Sqlite { operation: "beginning a transaction", .. }));
    tx.commit().unwrap();
    assert!(second.is_processed(&key(1)).unwrap());
    let tx = second.begin().unwrap();
    tx.commit().unwrap();
}

#[test]
fn processed_marks_dedupe_and_prune_by_age() {
    let mut store = Store::open_in_memory().unwrap();
    assert!(store.mark_processed(&key(1), at(10)).unwrap());
    assert!(!store.mark_processed(&key(1), at(99)).unwrap(), "a second mark is a duplicate");
    assert!(store.mark_processed(&key(2), at(20)).unwrap());
    assert!(store.mark_processed(&key(3), at(30)).unwrap());
    assert_eq!(store.prune_processed(at(20)).unwrap(), 1, "only hash 1 is older than 20");
    assert!(!store.is_processed(&key(1)).unwrap());
    assert!(store.is_processed(&key(2)).unwrap() && store.is_processed(&key(3)).unwrap());
    assert!(matches!(
        store.mark_processed(&key(4), kaiwa_session::Timestamp::from_millis(u64::MAX)),
        Err(StoreError::OutOfRange { field: "processed_at" })
    ));
}

#[test]
fn a_mark_is_kept_until_both_the_message_and_the_mark_are_older_than_the_cut_off() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let stamped = |n: u64, ms: u64| {
        let ns = i64::try_from((super::common::T0 + ms) * 1_000_000).unwrap();
        ProcessedKey::new(hash(n), Some(ns))
    };
    // Stamped long ago but processed now (a catch-up of old messages): kept a full
    // retention after processing, as before version 4.
    let old = stamped(1, 0);
    // Stamped in the future (a skewed clock): kept until its own time has passed too.
    let future = stamped(2, 1_000);
    // No timestamp at all: key time 0, pruned by its processing time alone.
    let unstamped = ProcessedKey::new(hash(3), None);
    for key in [old, future, unstamped] {
        assert!(store.mark_processed(&key, at(50)).unwrap());
    }
    // The same hash with another time is another key (the hash covers the time, so this
    // cannot happen on the network): not found.
    assert!(!store.is_processed(&stamped(1, 5)).unwrap());
    assert_eq!(store.prune_processed(at(50)).unwrap(), 0, "all marked at 50");
    assert_eq!(store.prune_processed(at(51)).unwrap(), 2, "the old and the unstamped one");
    assert!(!store.is_processed(&old).unwrap() && !store.is_processed(&unstamped).unwrap());
    assert!(store.is_processed(&future).unwrap());
    assert_eq!(store.prune_processed(at(1_000)).unwrap(), 0);
    assert_eq!(store.prune_processed(at(1_001)).unwrap(), 1);
    assert!(!store.is_processed(&future).unwrap());
}

#[test]
fn debug_output_shows_no_records() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let debug = format!("{store:?}");
    assert!(debug.starts_with("Store { path: Some(") && debug.contains("kaiwa.sqlite"), "{debug}");
    let tx = store.begin().unwrap();
    assert_eq!(format!("{tx:?}"), "Transaction(..)");
}

/// Forward secrecy on disk: after `checkpoint`, a replaced peer record (ratchet state with
/// message keys since deleted) is in neither the database file nor its log.
#[test]
fn a_replaced_record_does_not_linger_on_disk_after_a_checkpoint() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let old: Vec<u8> =
        (0..4_096_u32).map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[0]).collect();
    store.store_peer_record(&bob(), &PeerRecord::from_bytes(old.clone())).unwrap();
    store.checkpoint().unwrap();
    let needle = &old[1_000..1_032];
    let on_disk = |path: &std::path::Path| {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(wal).unwrap_or_default());
        bytes.windows(needle.len()).any(|w| w == needle)
    };
    assert!(on_disk(&path), "the record is in the file once written");
    store.store_peer_record(&bob(), &PeerRecord::from_bytes(vec![0x11; 3_000])).unwrap();
    assert!(on_disk(&path), "before a checkpoint the old page images are still in the log");
    store.checkpoint().unwrap();
    assert!(!on_disk(&path), "the replaced record survived the checkpoint");
}

#[test]
fn records_can_be_forgotten() {
    use kaiwa_group::{GroupRecord, GroupStore};
    use kaiwa_org::{MemberId, OrgId, OrgStore, OrganizationRecord, OrganizationViewRecord};

    let mut store = Store::open_in_memory().unwrap();
    let mut r = super::common::rng(80);
    let key = kaiwa_crypto::IdentityKeyPair::generate(&mut r).public_key();
    let group = kaiwa_group::GroupId::generate(&kaiwa_group::MemberId::new(key), &mut r);
    let (org, member) = (OrgId::new(key), MemberId::from_key(&key));
    store.store_peer_record(&bob(), &PeerRecord::from_bytes(vec![1])).unwrap();
    GroupStore::store(&mut store, &group, &GroupRecord::from_bytes(vec![2])).unwrap();
    store.store_organization(&org, &OrganizationRecord::from_bytes(vec![3])).unwrap();
    store.store_view(&org, &member, &OrganizationViewRecord::from_bytes(vec![4])).unwrap();

    assert!(store.delete_peer_record(&bob()).unwrap());
    assert!(!store.delete_peer_record(&bob()).unwrap());
    assert_eq!(store.load_peer_record(&bob()).unwrap(), None);
    assert!(store.delete_group(&group).unwrap());
    assert_eq!(GroupStore::load(&store, &group).unwrap(), None);
    assert!(store.delete_organization(&org).unwrap());
    assert!(store.load_organization(&org).unwrap().is_none());
    assert!(store.load_view(&org, &member).unwrap().is_none(), "views go with their org");
    assert!(!store.delete_organization(&org).unwrap());
}

#[test]
fn a_batch_commits_once_and_undoes_only_the_message_that_failed() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let chat = direct(bob());
    let mut tx = store.begin().unwrap();
    let mut outcomes = Vec::new();
    // Message 3 fails; message 1 arrives twice within the batch.
    for n in [1_u64, 2, 3, 1, 4] {
        let outcome: Result<_, AppError> = tx.process_once(&key(n), at(n), |tx| {
            tx.insert_message(&received(&chat, n, b"batched"), at(n))?;
            if n == 3 { Err(AppError::Undecryptable) } else { Ok(n) }
        });
        outcomes.push(outcome);
    }
    assert_eq!(outcomes[0], Ok(Processed::Applied(1)));
    assert_eq!(outcomes[2], Err(AppError::Undecryptable));
    assert_eq!(outcomes[3], Ok(Processed::AlreadyProcessed));
    assert_eq!(outcomes[4], Ok(Processed::Applied(4)));
    assert!(!tx.is_processed(&key(3)).unwrap());
    tx.commit().unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    let clocks: Vec<u64> =
        store.history(&chat, None, 10).unwrap().iter().map(|m| m.clock).collect();
    assert_eq!(clocks, [1, 2, 4]);
    assert!([1, 2, 4].iter().all(|n| store.is_processed(&key(*n)).unwrap()));
    assert!(!store.is_processed(&key(3)).unwrap());
}
