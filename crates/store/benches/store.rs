//! The commit rate of "one processed inbound message" on a file database: what bounds the
//! facade's end-to-end throughput, since every received message is one such transaction.
//!
//! | bench | what one iteration does |
//! | --- | --- |
//! | `inbound/one_per_tx/{full,normal}` | `BEGIN`; `Transaction::process_once`: savepoint, message marked processed (a scattered hash, a growing timestamp), peer record (a real one, from a ratchet) replaced, message inserted; `COMMIT` |
//! | `inbound/100_per_tx/{full,normal}` | the same 100 times, one `COMMIT` (throughput per message) |
//! | `inbound/one_per_tx/memory` | one message per transaction, in memory: the cost without the disk |
//! | `send/one_per_tx/full` | `BEGIN`; peer record; outbound message; outbox entry; `COMMIT`; then `mark_published` (its own commit) |
//! | `history/page_50_of_10k` | the latest 50 messages of one chat among 10,000 in 10 chats |
//!
//! `full` is `Durability::Full` (the default: one fsync per commit), `normal` is
//! `Durability::Normal` (WAL without fsync per commit). The database lives in the system's
//! temporary directory, so the fsync cost is that of its file system.
//!
//! Run briefly: `cargo bench -p kaiwa-store -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, reason = "bench binary")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "bench setup")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kaiwa_session::{
    Account, InMemorySessionStore, InstallationId, PeerRecord, SessionConfig, SessionManager,
    SessionStore, Timestamp,
};
use kaiwa_store::{
    ChatId, Durability, MessageHash, NewMessage, OutboxMessage, ProcessedKey, PublicId, Store,
    StoreConfig,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tempfile::TempDir;

const PAYLOAD: [u8; 200] = [0x42; 200];

fn now() -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000)
}

/// A peer record as the session crate writes it after a short conversation.
fn real_peer_record() -> PeerRecord {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let config = SessionConfig::default();
    let account = |name: &str, rng: &mut ChaCha20Rng| {
        Account::generate(InstallationId::new(name).unwrap(), rng, now())
    };
    let mut alice = SessionManager::new(account("alice", &mut rng), config, now());
    let mut bob = SessionManager::new(account("bob", &mut rng), config, now());
    let (mut a_store, mut b_store) = (InMemorySessionStore::new(), InMemorySessionStore::new());
    alice.process_bundle(&mut a_store, &bob.bundle().clone()).unwrap();
    let (a_id, b_id) = (alice.account().identity_key(), bob.account().identity_key());
    for _ in 0..3 {
        let m = alice.encrypt(&mut a_store, &b_id, &PAYLOAD, &mut rng, now()).unwrap();
        bob.receive(&mut b_store, m.as_bytes(), &mut rng, now()).unwrap();
        let r = bob.encrypt(&mut b_store, &a_id, &PAYLOAD, &mut rng, now()).unwrap();
        alice.receive(&mut a_store, r.as_bytes(), &mut rng, now()).unwrap();
    }
    a_store.load_peer(&b_id).unwrap().unwrap()
}

/// The key of message `n`: a hash as scattered as a real one (SHA-256 output), and a
/// timestamp that grows with `n`, as live traffic's does.
fn key(n: u64) -> ProcessedKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    let sent_ns = 1_700_000_000_000_000_000 + i64::try_from(n).unwrap() * 1_000;
    ProcessedKey::new(MessageHash::new(bytes), Some(sent_ns))
}

fn file_store(durability: Durability) -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::default();
    config.durability = durability;
    let store = Store::open_with(dir.path().join("bench.sqlite"), &config).unwrap();
    (dir, store)
}

/// One inbound message, as the facade processes it: savepoint, processed mark, peer record,
/// history message.
fn inbound(tx: &mut kaiwa_store::Transaction<'_>, record: &PeerRecord, n: u64) {
    let (bob, chat) = (PublicId::new([0xb0; 32]), ChatId::Direct(PublicId::new([0xb0; 32])));
    let outcome = tx
        .process_once(&key(n), now(), |tx| {
            tx.store_peer_record(&bob, record)?;
            tx.insert_message(&NewMessage::received(&chat, bob, n, now(), &PAYLOAD), now())
        })
        .map_err(|e: kaiwa_store::StoreError| e)
        .unwrap();
    assert!(matches!(outcome, kaiwa_store::Processed::Applied(_)));
}

fn inbound_benches(c: &mut Criterion) {
    let record = real_peer_record();
    let mut group = c.benchmark_group("inbound");
    group.sample_size(20);
    for (name, durability) in [("full", Durability::Full), ("normal", Durability::Normal)] {
        let (_dir, mut store) = file_store(durability);
        let mut n = 0;
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("one_per_tx/{name}"), |b| {
            b.iter(|| {
                let mut tx = store.begin().unwrap();
                inbound(&mut tx, &record, n);
                tx.commit().unwrap();
                n += 1;
            });
        });
        group.throughput(Throughput::Elements(100));
        group.bench_function(format!("100_per_tx/{name}"), |b| {
            b.iter(|| {
                let mut tx = store.begin().unwrap();
                for _ in 0..100 {
                    inbound(&mut tx, &record, n);
                    n += 1;
                }
                tx.commit().unwrap();
            });
        });
    }
    let mut store = Store::open_in_memory().unwrap();
    let mut n = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_per_tx/memory", |b| {
        b.iter(|| {
            let mut tx = store.begin().unwrap();
            inbound(&mut tx, &record, n);
            tx.commit().unwrap();
            n += 1;
        });
    });
    group.finish();
}

fn send_bench(c: &mut Criterion) {
    let record = real_peer_record();
    let (_dir, mut store) = file_store(Durability::Full);
    let (us, bob) = (PublicId::new([0xa1; 32]), PublicId::new([0xb0; 32]));
    let chat = ChatId::Direct(bob);
    let waku = OutboxMessage {
        pubsub_topic: "/waku/2/rs/16/32".to_owned(),
        content_topic: "/kaiwa/1/bench/proto".to_owned(),
        payload: vec![0x17; 400],
        meta: Vec::new(),
        timestamp_ns: Some(1_700_000_000_000_000_000),
    };
    let mut n = 0;
    let mut group = c.benchmark_group("send");
    group.sample_size(20);
    group.bench_function("one_per_tx/full", |b| {
        b.iter(|| {
            let mut tx = store.begin().unwrap();
            tx.store_peer_record(&bob, &record).unwrap();
            let message = NewMessage::outgoing(&chat, us, n, now(), &PAYLOAD);
            let id = tx.insert_message(&message, now()).unwrap();
            let entry = tx.enqueue_outbox(&waku, Some(id), now()).unwrap();
            tx.commit().unwrap();
            assert!(store.mark_published(entry).unwrap());
            n += 1;
        });
    });
    group.finish();
}

fn history_bench(c: &mut Criterion) {
    let mut store = Store::open_in_memory().unwrap();
    let chats: Vec<_> = (0..10u8).map(|i| ChatId::Direct(PublicId::new([i; 32]))).collect();
    let mut tx = store.begin().unwrap();
    for (n, chat) in (0..10_000_u64).zip(chats.iter().cycle()) {
        let message = NewMessage::received(chat, PublicId::new([1; 32]), n, now(), &PAYLOAD);
        tx.insert_message(&message, now()).unwrap();
    }
    tx.commit().unwrap();
    let chat = chats.get(3).unwrap();
    c.bench_function("history/page_50_of_10k", |b| {
        b.iter(|| black_box(store.history(chat, None, 50).unwrap()));
    });
}

criterion_group!(benches, inbound_benches, send_bench, history_bench);
criterion_main!(benches);
