//! Criterion benchmarks of kaiwa-relay, each beside its simulated-network counterpart:
//!
//! - round trip (publish a ping, the peer's echo task publishes a pong, the pong arrives) of
//!   1 KiB and 100 KiB messages between two relay nodes over loopback TCP, and in
//!   kaiwa-transport's simulated network;
//! - pipelined throughput: a burst of pings answered by pongs, round trips per second;
//! - Store: paging through 10,000 archived messages, in the archive and over the network.
//!
//! Criterion reports means and medians; the round-trip benches also print the median and p99
//! of every round trip they timed. Run locally with
//! `cargo bench -p kaiwa-relay -- --warm-up-time 1 --measurement-time 3`; CI runs each once via
//! `cargo test --benches`.

#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "benchmark set-up on fixed, known-good inputs"
)]

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kaiwa_relay::{
    MemoryArchive, MessageArchive, RelayConfig, RelayNode, RelaySubscription, Retention,
};
use kaiwa_transport::sim::{SimNetwork, SimNode};
use kaiwa_transport::{
    ClusterId, ContentFilter, ContentTopic, PubsubTopic, ReceivedMessage, ShardIndex, StoreQuery,
    Subscription, WakuMessage,
};
use tokio::runtime::Runtime;

const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("100KiB", 100 * 1024)];
const STORED: usize = 10_000;

fn pubsub() -> PubsubTopic {
    PubsubTopic::static_shard(ClusterId::new(42), ShardIndex::new(0).unwrap())
}

fn topic(name: &str) -> ContentTopic {
    ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
}

/// A unique message of `size` payload bytes (gossipsub drops repeated bytes as duplicates).
fn message(name: &str, counter: u64, size: usize, timestamp: i64) -> WakuMessage {
    let mut payload = vec![0x5a; size.max(8)];
    payload[..8].copy_from_slice(&counter.to_be_bytes());
    WakuMessage::new(topic(name), payload).unwrap().with_timestamp(timestamp).unwrap()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// This process's CPU time (user + system, every thread) from `/proc/self/stat`, in clock ticks
/// of 10 ms; `None` where there is no procfs.
fn process_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// CPU time spent by the whole process (both nodes, the echo task, the driver) per round trip,
/// accumulated over every timed batch: a figure that other load on the machine disturbs far
/// less than wall-clock throughput.
#[derive(Default)]
struct CpuPerRoundTrip {
    ticks: u64,
    round_trips: u64,
}

impl CpuPerRoundTrip {
    fn measure<T>(&mut self, round_trips: u64, batch: impl FnOnce() -> T) -> T {
        let before = process_cpu_ticks();
        let result = batch();
        if let (Some(before), Some(after)) = (before, process_cpu_ticks()) {
            self.ticks += after - before;
            self.round_trips += round_trips;
        }
        result
    }

    fn report(&self, label: &str) {
        // Below a second of CPU (100 ticks) the 10 ms resolution makes the figure meaningless
        // (`cargo test --benches` runs one batch).
        if self.ticks >= 100 && self.round_trips > 0 {
            // Linux clock ticks are 10 ms (USER_HZ = 100).
            let micros = self.ticks as f64 * 10_000.0 / self.round_trips as f64;
            println!(
                "{label}: {micros:.1} µs of CPU per round trip ({} round trips)",
                self.round_trips
            );
        }
    }
}

/// Two connected nodes; `b` answers every ping with a pong of the same payload.
struct Pair {
    a: Arc<RelayNode>,
    pongs: RelaySubscription,
    b: Arc<RelayNode>,
}

async fn pair(store_server: bool) -> Pair {
    let config = |store| {
        RelayConfig::builder(ClusterId::new(42), [ShardIndex::new(0).unwrap()])
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .store_server(store)
            .retention(Retention::new(2 * STORED, Duration::from_secs(3600)))
            .build()
            .unwrap()
    };
    let a = Arc::new(RelayNode::start(config(false)).await.unwrap());
    let b = Arc::new(RelayNode::start(config(store_server)).await.unwrap());
    let pongs =
        a.subscribe_relay(ContentFilter::new(pubsub(), [topic("pong")]).unwrap()).await.unwrap();
    let mut pings =
        b.subscribe_relay(ContentFilter::new(pubsub(), [topic("ping")]).unwrap()).await.unwrap();
    let echo = Arc::clone(&b);
    tokio::spawn(async move {
        while let Some(ping) = pings.next().await {
            let payload = ping.received.message.payload().to_vec();
            let pong =
                WakuMessage::new(topic("pong"), payload).unwrap().with_timestamp(now_ns()).unwrap();
            if echo.publish(&pubsub(), &pong).await.is_err() {
                break;
            }
        }
    });
    a.dial(b.local_addrs().await[0].clone()).await.unwrap();
    assert!(a.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
    assert!(b.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);
    Pair { a, pongs, b }
}

fn median_p99(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn report(label: &str, samples: &Mutex<Vec<Duration>>) {
    let mut samples = samples.lock().unwrap();
    if samples.is_empty() {
        return;
    }
    let (median, p99) = median_p99(&mut samples);
    println!("{label}: {} round trips, median {median:?}, p99 {p99:?}", samples.len());
}

fn rust_round_trip(c: &mut Criterion) {
    let runtime = runtime();
    let mut pair = runtime.block_on(pair(false));
    let mut group = c.benchmark_group("relay/round_trip");
    let mut counter = 0_u64;
    for (name, size) in SIZES {
        let samples = Mutex::new(Vec::new());
        let mut cpu = CpuPerRoundTrip::default();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                cpu.measure(iters, || {
                    runtime.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            counter += 1;
                            let ping = message("ping", counter, size, now_ns());
                            let sent = Instant::now();
                            pair.a.publish(&pubsub(), &ping).await.unwrap();
                            let pong =
                                tokio::time::timeout(Duration::from_secs(10), pair.pongs.next())
                                    .await
                                    .unwrap()
                                    .unwrap();
                            samples.lock().unwrap().push(sent.elapsed());
                            black_box(pong);
                        }
                        start.elapsed()
                    })
                })
            });
        });
        report(&format!("relay/round_trip/{name}"), &samples);
        cpu.report(&format!("relay/round_trip/{name}"));
    }
    group.finish();
    runtime.block_on(async {
        pair.a.shutdown().await;
    });
}

fn rust_throughput(c: &mut Criterion) {
    let runtime = runtime();
    let mut pair = runtime.block_on(pair(false));
    let mut group = c.benchmark_group("relay/pipelined");
    let mut counter = 1_000_000_u64;
    for (name, size, burst) in [("1KiB", 1024, 200_u64), ("100KiB", 100 * 1024, 50)] {
        let mut cpu = CpuPerRoundTrip::default();
        group.throughput(Throughput::Elements(burst));
        group.bench_function(BenchmarkId::from_parameter(format!("{burst}x{name}")), |b| {
            b.iter_custom(|iters| {
                cpu.measure(iters * burst, || {
                    runtime.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            for _ in 0..burst {
                                counter += 1;
                                pair.a
                                    .publish(&pubsub(), &message("ping", counter, size, now_ns()))
                                    .await
                                    .unwrap();
                            }
                            for _ in 0..burst {
                                tokio::time::timeout(Duration::from_secs(20), pair.pongs.next())
                                    .await
                                    .unwrap()
                                    .unwrap();
                            }
                        }
                        start.elapsed()
                    })
                })
            });
        });
        cpu.report(&format!("relay/pipelined/{burst}x{name}"));
    }
    group.finish();
    runtime.block_on(async {
        pair.a.shutdown().await;
    });
}

/// The same ping-pong in the simulated network (no faults, no delay): virtual time, real CPU.
fn sim_round_trip(c: &mut Criterion) {
    let network = SimNetwork::new(7);
    let (a, b): (SimNode, SimNode) = (network.node("a"), network.node("b"));
    let mut pongs: Subscription =
        a.subscribe_now(ContentFilter::new(pubsub(), [topic("pong")]).unwrap());
    let mut pings: Subscription =
        b.subscribe_now(ContentFilter::new(pubsub(), [topic("ping")]).unwrap());
    let mut group = c.benchmark_group("sim/round_trip");
    let mut counter = 0_u64;
    for (name, size) in SIZES {
        let samples = Mutex::new(Vec::new());
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |bench| {
            bench.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    counter += 1;
                    let sent = Instant::now();
                    a.publish_now(
                        pubsub(),
                        message("ping", counter, size, network.now_unix_nanos()),
                    )
                    .unwrap();
                    network.run_until_idle();
                    let ping: ReceivedMessage = pings.try_next().unwrap();
                    let pong = WakuMessage::new(topic("pong"), ping.message.payload().to_vec())
                        .unwrap()
                        .with_timestamp(network.now_unix_nanos())
                        .unwrap();
                    b.publish_now(pubsub(), pong).unwrap();
                    network.run_until_idle();
                    black_box(pongs.try_next().unwrap());
                    samples.lock().unwrap().push(sent.elapsed());
                }
                start.elapsed()
            });
        });
        report(&format!("sim/round_trip/{name}"), &samples);
    }
    group.finish();
}

fn sim_throughput(c: &mut Criterion) {
    let network = SimNetwork::new(8);
    let (a, b) = (network.node("a"), network.node("b"));
    let mut pongs = a.subscribe_now(ContentFilter::new(pubsub(), [topic("pong")]).unwrap());
    let mut pings = b.subscribe_now(ContentFilter::new(pubsub(), [topic("ping")]).unwrap());
    let mut group = c.benchmark_group("sim/pipelined");
    let mut counter = 0_u64;
    for (name, size, burst) in [("1KiB", 1024, 200_u64), ("100KiB", 100 * 1024, 50)] {
        group.throughput(Throughput::Elements(burst));
        group.bench_function(BenchmarkId::from_parameter(format!("{burst}x{name}")), |bench| {
            bench.iter(|| {
                for _ in 0..burst {
                    counter += 1;
                    a.publish_now(
                        pubsub(),
                        message("ping", counter, size, network.now_unix_nanos()),
                    )
                    .unwrap();
                }
                network.run_until_idle();
                for ping in pings.drain() {
                    let pong = WakuMessage::new(topic("pong"), ping.message.payload().to_vec())
                        .unwrap()
                        .with_timestamp(network.now_unix_nanos())
                        .unwrap();
                    b.publish_now(pubsub(), pong).unwrap();
                }
                network.run_until_idle();
                assert_eq!(pongs.drain().len() as u64, burst);
            });
        });
    }
    group.finish();
}

fn stored_messages() -> Vec<ReceivedMessage> {
    let base = now_ns();
    (0..STORED as u64)
        .map(|i| ReceivedMessage::new(pubsub(), message("history", i, 100, base + i as i64)))
        .collect()
}

fn page_through(
    first: StoreQuery,
    mut query_page: impl FnMut(&StoreQuery) -> kaiwa_transport::StorePage,
) -> usize {
    let mut seen = 0;
    let mut query = Some(first);
    while let Some(current) = query {
        let page = query_page(&current);
        seen += page.messages.len();
        query = current.next_page(&page);
    }
    seen
}

fn store_query(c: &mut Criterion) {
    let messages = stored_messages();
    let first = StoreQuery::content(ContentFilter::new(pubsub(), [topic("history")]).unwrap())
        .unwrap()
        .with_page_size(100)
        .unwrap();
    let mut group = c.benchmark_group("store/page_through_10k");
    group.throughput(Throughput::Elements(STORED as u64));

    let mut archive = MemoryArchive::new(Retention::new(STORED, Duration::from_secs(3600)));
    for message in &messages {
        archive.insert(message.clone(), 0).unwrap();
    }
    group.bench_function("archive", |b| {
        b.iter(|| assert_eq!(page_through(first.clone(), |q| archive.query(q).unwrap()), STORED));
    });

    let network = SimNetwork::new(9);
    let sim = network.node("reader");
    let writer = network.node("writer");
    let base = network.now_unix_nanos();
    for (i, message) in messages.iter().enumerate() {
        let fresh = message.message.clone().with_timestamp(base + i as i64).unwrap();
        writer.publish_now(pubsub(), fresh).unwrap();
    }
    network.run_until_idle();
    group.bench_function("sim", |b| {
        b.iter(|| assert_eq!(page_through(first.clone(), |q| sim.query_now(q).unwrap()), STORED));
    });

    let runtime = runtime();
    let pair = runtime.block_on(async {
        let pair = pair(true).await;
        // Published by `a`, relayed to and archived by the store node `b`.
        for message in &messages {
            let fresh = message.message.clone().with_timestamp(now_ns()).unwrap();
            pair.a.publish(&pubsub(), &fresh).await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while pair.b.metrics().archived < STORED as u64 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(pair.b.metrics().archived, STORED as u64);
        pair
    });
    let store = pair.b.peer_id();
    group.sample_size(10);
    group.bench_function("relay_loopback", |b| {
        b.iter(|| {
            let seen = page_through(first.clone(), |q| {
                runtime.block_on(pair.a.store_query(store, q)).unwrap()
            });
            assert_eq!(seen, STORED);
        });
    });
    group.finish();
    runtime.block_on(async {
        pair.a.shutdown().await;
        pair.b.shutdown().await;
    });
}

criterion_group!(
    benches,
    rust_round_trip,
    rust_throughput,
    sim_round_trip,
    sim_throughput,
    store_query
);
criterion_main!(benches);
