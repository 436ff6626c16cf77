//! Criterion benchmarks of kaiwa-transport: the simulated network (what every scenario test
//! pays per message), the deterministic message hash, and store pagination.
//!
//! Run locally with `cargo bench -p kaiwa-transport`; CI runs each once via
//! `cargo test --benches`.

#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]
#![allow(clippy::unwrap_used, reason = "benchmark set-up on fixed, known-good inputs")]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kaiwa_transport::sim::{SimConfig, SimNetwork, SimNode, StoreConfig};
use kaiwa_transport::{
    ContentFilter, ContentTopic, PubsubTopic, StoreQuery, Subscription, WakuMessage,
};

const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("100KiB", 100 * 1024)];
const BURST: usize = 1000;
const STORED: usize = 10_000;

fn pubsub() -> PubsubTopic {
    PubsubTopic::parse("/waku/2/rs/16/64").unwrap()
}

fn topic() -> ContentTopic {
    ContentTopic::parse("/kaiwa/1/bench/proto").unwrap()
}

fn pair(store: StoreConfig) -> (SimNetwork, SimNode, SimNode, Subscription) {
    let network = SimNetwork::with_config(1, SimConfig::default().with_store(store));
    let (alice, bob) = (network.node("alice"), network.node("bob"));
    let inbox = bob.subscribe_now(ContentFilter::new(pubsub(), [topic()]).unwrap());
    (network, alice, bob, inbox)
}

fn message(network: &SimNetwork, size: usize) -> WakuMessage {
    WakuMessage::new(topic(), vec![0x5a; size])
        .and_then(|m| m.with_timestamp(network.now_unix_nanos()))
        .unwrap()
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim/round_trip");
    for (name, size) in SIZES {
        let (network, alice, _bob, mut inbox) = pair(StoreConfig::default());
        let message = message(&network, size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                alice.publish_now(pubsub(), message.clone()).unwrap();
                network.run_until_idle();
                black_box(inbox.try_next().unwrap());
            });
        });
    }
    group.finish();
}

fn burst(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim/burst");
    group.throughput(Throughput::Elements(BURST as u64));
    group.bench_function(BenchmarkId::from_parameter(format!("{BURST}x1KiB")), |b| {
        b.iter_batched(
            || {
                let (network, alice, bob, inbox) = pair(StoreConfig::default());
                let messages: Vec<WakuMessage> = (0..BURST)
                    .map(|i| {
                        let payload = [(i as u64).to_be_bytes().as_slice(), &[0; 1016]].concat();
                        WakuMessage::new(topic(), payload)
                            .and_then(|m| m.with_timestamp(network.now_unix_nanos()))
                            .unwrap()
                    })
                    .collect();
                (network, alice, bob, inbox, messages)
            },
            |(network, alice, _bob, mut inbox, messages)| {
                for message in messages {
                    alice.publish_now(pubsub(), message).unwrap();
                }
                network.run_until_idle();
                assert_eq!(inbox.drain().len(), BURST);
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn message_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("message_hash");
    let network = SimNetwork::new(0);
    for (name, size) in SIZES {
        let message = message(&network, size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(black_box(&message).hash(&pubsub())));
        });
    }
    group.finish();
}

fn store_pagination(c: &mut Criterion) {
    let mut group = c.benchmark_group("store/page_through");
    let store = StoreConfig::default().with_max_timestamp_drift(None);
    let (network, alice, bob, _inbox) = pair(store);
    for i in 0..STORED {
        let message = WakuMessage::new(topic(), (i as u64).to_be_bytes().to_vec())
            .and_then(|m| m.with_timestamp(i as i64))
            .unwrap();
        alice.publish_now(pubsub(), message).unwrap();
    }
    network.run_until_idle();
    group.throughput(Throughput::Elements(STORED as u64));
    let filter = ContentFilter::new(pubsub(), [topic()]).unwrap();
    let first = StoreQuery::content(filter).unwrap().with_page_size(100).unwrap();
    group.bench_function(BenchmarkId::from_parameter(format!("{STORED}/100")), |b| {
        b.iter(|| {
            let mut seen = 0;
            let mut next = Some(first.clone());
            while let Some(query) = next {
                let page = bob.query_now(&query).unwrap();
                seen += page.messages.len();
                next = query.next_page(&page);
            }
            assert_eq!(seen, STORED);
        });
    });
    group.finish();
}

criterion_group!(benches, round_trip, burst, message_hash, store_pagination);
criterion_main!(benches);
