//! End-to-end 1:1 throughput and latency through the facade, two relay nodes on loopback and
//! SQLite (file databases, `Durability::Full`), against the bare session decrypt rate in the
//! same run (kaiwa-session's `SessionManager::receive` on an in-memory store: the protocol
//! work the facade does per received message, without I/O).
//!
//! | bench | what one iteration does |
//! | --- | --- |
//! | `bare_decrypt`, `bare_decrypt_after` | `SessionManager::receive` of one in-order message, before and after the end-to-end benches (the anchor: both runs' samples pooled) |
//! | `e2e_burst_100` | Alice sends 100 texts at once (concurrent sends: group commits); Bob receives all 100 (batched commits) |
//! | `e2e_stream_1000` | Alice sends 1,000 texts in windows of 100 concurrent sends while Bob receives; ends when Bob has all |
//! | `e2e_sequential_100` | Alice sends 100 texts one after another (one commit each); Bob receives all 100 |
//! | `e2e_latency` | Alice sends one text; Bob's client reports it |
//!
//! The ratios printed at the end are (messages/s end to end) / (bare decrypts/s); the
//! stream is the throughput figure (sending and receiving overlap, as they do in a running
//! system), the bursts add one send-publish-receive latency per 100 messages.
//! Run briefly: `cargo bench -p kaiwa -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, reason = "bench binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "bench set-up"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kaiwa::relay::{RelayConfig, RelayNode, Retention};
use kaiwa::transport::{Autosharding, ClusterId, PubsubTopic, ShardIndex};
use kaiwa::{ChatId, Client, ClientConfig, Environment, Event, Events, Profile};
use kaiwa_session::{
    Account, InMemorySessionStore, InstallationId, SessionConfig, SessionManager, Timestamp,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::runtime::Runtime;

const BURST: u64 = 100;
/// Messages of the streaming benchmark: windows of `BURST` concurrent sends, one after
/// another, while the receiver receives.
const STREAM: u64 = 1_000;
const CLUSTER: u16 = 43;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000)
}

/// Adds the per-message times of `SessionManager::receive` to `anchor`, as bench `name`.
fn bare_decrypt(c: &mut Criterion, name: &str, anchor: &mut Samples) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let config = SessionConfig::default();
    let mut alice = SessionManager::new(
        Account::generate(InstallationId::new("alice").unwrap(), &mut rng, now()),
        config,
        now(),
    );
    let mut bob = SessionManager::new(
        Account::generate(InstallationId::new("bob").unwrap(), &mut rng, now()),
        config,
        now(),
    );
    let (mut alice_store, mut bob_store) =
        (InMemorySessionStore::new(), InMemorySessionStore::new());
    alice.process_bundle(&mut alice_store, bob.bundle()).unwrap();
    let bob_id = bob.account().identity_key();
    // The first message sets the session up; the measured ones ride its chain.
    let first = alice.encrypt(&mut alice_store, &bob_id, b"hello", &mut rng, now()).unwrap();
    bob.receive(&mut bob_store, first.as_bytes(), &mut rng, now()).unwrap();
    c.bench_function(name, |bench| {
        bench.iter_custom(|iters| {
            let messages: Vec<_> = (0..iters)
                .map(|_| {
                    alice.encrypt(&mut alice_store, &bob_id, &[0x42; 200], &mut rng, now()).unwrap()
                })
                .collect();
            let start = Instant::now();
            for message in &messages {
                black_box(
                    bob.receive(&mut bob_store, message.as_bytes(), &mut rng, now()).unwrap(),
                );
            }
            let elapsed = start.elapsed();
            anchor.add(elapsed, iters);
            elapsed
        });
    });
}

/// Per-message times of every timed batch of iterations; the rates printed at the end are
/// their medians (as criterion's estimates are), so one noisy batch does not decide them.
#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    fn add(&mut self, elapsed: Duration, messages: u64) {
        self.0.push(elapsed.as_secs_f64() / messages.max(1) as f64);
    }

    /// Messages per second at the median per-message time.
    fn rate(&mut self) -> f64 {
        self.0.sort_by(f64::total_cmp);
        1.0 / self.0.get(self.0.len() / 2).copied().unwrap_or(f64::INFINITY).max(1e-12)
    }
}

struct Pair {
    alice: Client,
    bob: Client,
    bob_events: Events,
    chat: ChatId,
    _nodes: (Arc<RelayNode>, Arc<RelayNode>),
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn node(store: bool) -> Arc<RelayNode> {
    let config = RelayConfig::builder(ClusterId::new(CLUSTER), [ShardIndex::ZERO])
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .store_server(store)
        .retention(Retention::new(1_000_000, Duration::from_secs(3_600)))
        .build()
        .unwrap();
    Arc::new(RelayNode::start(config).await.unwrap())
}

async fn pair() -> Pair {
    let (a, b) = (node(false).await, node(true).await);
    a.dial(b.local_addrs().await[0].clone()).await.unwrap();
    let pubsub = PubsubTopic::static_shard(ClusterId::new(CLUSTER), ShardIndex::ZERO);
    assert!(a.wait_for_relay_peers(&pubsub, 1, Duration::from_secs(10)).await);
    let config = ClientConfig::builder()
        .sharding(Autosharding::new(ClusterId::new(CLUSTER), 1).unwrap())
        .build();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = Client::create(
        Profile::open_dir(dirs.0.path()).unwrap(),
        Arc::clone(&a),
        config.clone(),
        Environment::system().unwrap(),
    )
    .await
    .unwrap();
    let bob = Client::create(
        Profile::open_dir(dirs.1.path()).unwrap(),
        Arc::clone(&b),
        config,
        Environment::system().unwrap(),
    )
    .await
    .unwrap();
    let mut bob_events = bob.events();
    let bob_id = alice.add_contact(&bob.contact_code().await.unwrap(), "bob").await.unwrap();
    let chat = ChatId::Direct(bob_id);
    alice.send_text(&chat, "warm-up").await.unwrap();
    receive(&mut bob_events, 1).await;
    Pair { alice, bob, bob_events, chat, _nodes: (a, b), _dirs: dirs }
}

async fn receive(events: &mut Events, count: u64) {
    let mut seen = 0;
    while seen < count {
        match tokio::time::timeout(Duration::from_secs(30), events.next()).await {
            Ok(Some(Event::Message(_))) => seen += 1,
            Ok(Some(_)) => {}
            _ => panic!("messages stopped arriving"),
        }
    }
}

/// The end-to-end benches; prints their rates against the anchor's.
fn end_to_end(c: &mut Criterion, anchor: &mut Samples) {
    let runtime = runtime();
    let mut pair = runtime.block_on(pair());
    let mut burst = Samples::default();
    let mut group = c.benchmark_group("e2e");
    group.sample_size(10);
    group.bench_function("burst_100", |bench| {
        bench.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let sends = (0..BURST).map(|i| {
                        let (alice, chat) = (pair.alice.clone(), pair.chat.clone());
                        async move { alice.send_text(&chat, &format!("m{i}")).await }
                    });
                    futures::future::try_join_all(sends).await.unwrap();
                    receive(&mut pair.bob_events, BURST).await;
                    total += start.elapsed();
                }
                burst.add(total, iters * BURST);
                total
            })
        });
    });
    let mut stream = Samples::default();
    group.bench_function("stream_1000", |bench| {
        bench.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                let Pair { alice, bob_events, chat, .. } = &mut pair;
                for _ in 0..iters {
                    let start = Instant::now();
                    let sending = async {
                        for window in 0..STREAM / BURST {
                            let sends = (0..BURST).map(|i| {
                                let (alice, chat) = (alice.clone(), chat.clone());
                                let text = format!("w{window}-{i}");
                                async move { alice.send_text(&chat, &text).await }
                            });
                            futures::future::try_join_all(sends).await.unwrap();
                        }
                    };
                    tokio::join!(sending, receive(bob_events, STREAM));
                    total += start.elapsed();
                }
                stream.add(total, iters * STREAM);
                total
            })
        });
    });
    let mut sequential = Samples::default();
    group.bench_function("sequential_100", |bench| {
        bench.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    for i in 0..BURST {
                        pair.alice.send_text(&pair.chat, &format!("s{i}")).await.unwrap();
                    }
                    receive(&mut pair.bob_events, BURST).await;
                    total += start.elapsed();
                }
                sequential.add(total, iters * BURST);
                total
            })
        });
    });
    let mut latencies = Vec::new();
    group.bench_function("latency", |bench| {
        bench.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    pair.alice.send_text(&pair.chat, "ping").await.unwrap();
                    receive(&mut pair.bob_events, 1).await;
                    let one = start.elapsed();
                    latencies.push(one);
                    total += one;
                }
                total
            })
        });
    });
    group.finish();
    // The anchor again, after: its samples pool with the first ones, so a machine that
    // slows down or speeds up during the run moves both sides of the ratio alike.
    bare_decrypt(c, "bare_decrypt_after", anchor);
    let bare_rate = anchor.rate();
    let e2e_rate = burst.rate();
    latencies.sort_unstable();
    let median = latencies.get(latencies.len() / 2).copied().unwrap_or_default();
    let (stream_rate, sequential_rate) = (stream.rate(), sequential.rate());
    println!(
        "bare decrypt (before and after, pooled): {bare_rate:.0} messages/s = {:.1} µs; \
         end to end (messages/s, ratio to bare):",
        1e6 / bare_rate
    );
    println!(
        "  stream of 1,000 in windows of 100  {stream_rate:>6.0}  {:.3}",
        stream_rate / bare_rate
    );
    println!("  bursts of 100, then wait           {e2e_rate:>6.0}  {:.3}", e2e_rate / bare_rate);
    println!(
        "  one at a time                      {sequential_rate:>6.0}  {:.3}",
        sequential_rate / bare_rate
    );
    println!("  median latency of one message      {median:?}");
    let (sent, received) = (pair.alice.stats(), pair.bob.stats());
    println!(
        "commits: alice {} operations in {} commits, {} published; bob {} messages in {} commits",
        sent.operations,
        sent.operation_commits,
        sent.published,
        received.received,
        received.receive_commits
    );
    runtime.block_on(pair.alice.shutdown());
}

fn benches(c: &mut Criterion) {
    let mut anchor = Samples::default();
    bare_decrypt(c, "bare_decrypt", &mut anchor);
    end_to_end(c, &mut anchor);
}

criterion_group!(e2e, benches);
criterion_main!(e2e);
