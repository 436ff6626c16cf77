//! The simulated network: nodes, links, partitions, a store and a virtual-time event queue.

use core::cmp::Reverse;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_channel::mpsc;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng as _};

use super::config::{LinkFaults, Probability, SimConfig};
use super::node::{SimError, SimNode};
use super::store::{SimStore, StoreStats};
use super::trace::{DropReason, NodeId, NodeStats, TraceEvent};
use crate::hash::MessageHash;
use crate::health::{Health, PeerId, PeerInfo};
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;
use crate::query::{StorePage, StoreQuery};
use crate::subscription::{ContentFilter, ReceivedMessage, Subscription};

/// A seeded, deterministic simulated Waku network; cloning gives another handle to the same
/// network. See the [module documentation](super) for the model.
#[derive(Clone)]
pub struct SimNetwork {
    state: Arc<Mutex<State>>,
}

struct NodeState {
    name: String,
    side: u32,
    subscriptions: Vec<(ContentFilter, mpsc::UnboundedSender<ReceivedMessage>)>,
    stats: NodeStats,
}

/// A copy of a message on its way over one link.
struct Scheduled {
    at: u64,
    seq: u64,
    from: NodeId,
    to: NodeId,
    message: Arc<ReceivedMessage>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Delivery time, then scheduling order: equal times deliver in the order they were sent.
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct State {
    config: SimConfig,
    rng: ChaCha8Rng,
    /// Virtual time, ns since the network started.
    now: u64,
    /// Index 0 is the store.
    nodes: Vec<NodeState>,
    links: BTreeMap<(NodeId, NodeId), LinkFaults>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    store: SimStore,
    trace: VecDeque<TraceEvent>,
    drivers: Vec<Waker>,
}

impl SimNetwork {
    /// A network with the default configuration (reliable links, default store).
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, SimConfig::default())
    }

    /// A network with `config`; every random choice comes from a ChaCha8 stream seeded with
    /// `seed`.
    pub fn with_config(seed: u64, config: SimConfig) -> Self {
        let store = NodeState {
            name: "store".to_owned(),
            side: 0,
            subscriptions: Vec::new(),
            stats: NodeStats::default(),
        };
        let state = State {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            nodes: vec![store],
            links: BTreeMap::new(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            store: SimStore::default(),
            trace: VecDeque::new(),
            drivers: Vec::new(),
        };
        Self { state: Arc::new(Mutex::new(state)) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock (only possible in a test) leaves consistent state:
        // every mutation below completes or returns before touching it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a node named `name` (names are for humans; ids are unique) on side 0.
    pub fn node(&self, name: &str) -> SimNode {
        let mut state = self.lock();
        let id = NodeId(u32::try_from(state.nodes.len()).unwrap_or(u32::MAX));
        state.nodes.push(NodeState {
            name: name.to_owned(),
            side: 0,
            subscriptions: Vec::new(),
            stats: NodeStats::default(),
        });
        SimNode::new(self.clone(), id)
    }

    /// The name given to `node`.
    pub fn name(&self, node: NodeId) -> Option<String> {
        self.lock().node(node).map(|n| n.name.clone())
    }

    /// Sets the faults of every node-to-node link without an override.
    pub fn set_faults(&self, faults: LinkFaults) {
        self.lock().config.faults = faults;
    }

    /// Overrides the faults of the directed link `from → to` (the store is [`NodeId::STORE`]).
    pub fn set_link_faults(&self, from: NodeId, to: NodeId, faults: LinkFaults) {
        self.lock().links.insert((from, to), faults);
    }

    /// Removes the override of `from → to`.
    pub fn clear_link_faults(&self, from: NodeId, to: NodeId) {
        self.lock().links.remove(&(from, to));
    }

    /// Splits the network: the nodes of `sides[i]` form side `i + 1`, every node not listed
    /// (the store too, unless listed) forms side 0. Nodes on different sides cannot exchange
    /// messages or reach the store; copies in flight across the cut are dropped on arrival.
    /// Replaces any earlier partition.
    pub fn partition(&self, sides: &[&[NodeId]]) {
        let mut state = self.lock();
        for node in &mut state.nodes {
            node.side = 0;
        }
        for (side, members) in (1u32..).zip(sides) {
            for member in *members {
                if let Some(node) = state.node_mut(*member) {
                    node.side = side;
                }
            }
        }
    }

    /// Cuts `node` off from every other node and the store (it goes offline), leaving any other
    /// partition as it is. `isolate(NodeId::STORE)` takes the store offline.
    pub fn isolate(&self, node: NodeId) {
        let mut state = self.lock();
        let side = state.nodes.iter().map(|n| n.side).max().unwrap_or(0).saturating_add(1);
        if let Some(node) = state.node_mut(node) {
            node.side = side;
        }
    }

    /// Removes every partition.
    pub fn heal(&self) {
        for node in &mut self.lock().nodes {
            node.side = 0;
        }
    }

    /// Delivers the next scheduled copy, advancing virtual time to its delivery time.
    /// Returns `false` if nothing was scheduled.
    pub fn step(&self) -> bool {
        self.lock().step()
    }

    /// Delivers every scheduled copy, advancing virtual time to the last delivery. Returns the
    /// number of copies processed. Deliveries schedule nothing, so this always ends.
    pub fn run_until_idle(&self) -> usize {
        let mut state = self.lock();
        core::iter::from_fn(|| state.step().then_some(())).count()
    }

    /// Advances virtual time by `duration`, delivering every copy due by then in order.
    /// Returns the number of copies processed.
    pub fn advance(&self, duration: Duration) -> usize {
        let mut state = self.lock();
        let target = state.now.saturating_add(nanos(duration));
        let mut processed = 0;
        while state.queue.peek().is_some_and(|Reverse(next)| next.at <= target) {
            state.step();
            processed += 1;
        }
        state.set_now(target);
        processed
    }

    /// Copies scheduled and not yet delivered.
    pub fn pending(&self) -> usize {
        self.lock().queue.len()
    }

    /// Virtual time since the network started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.lock().now)
    }

    /// Virtual time as Unix nanoseconds (the configured epoch plus [`now`](Self::now)), the
    /// timestamp a simulated application stamps its messages with.
    pub fn now_unix_nanos(&self) -> i64 {
        self.lock().now_unix()
    }

    /// The counters of `node` (all zero for an unknown id).
    pub fn stats(&self, node: NodeId) -> NodeStats {
        self.lock().node(node).map(|n| n.stats).unwrap_or_default()
    }

    /// The counters of the store.
    pub fn store_stats(&self) -> StoreStats {
        self.lock().store.stats()
    }

    /// The trace so far (at most the configured capacity, oldest evicted first).
    pub fn trace(&self) -> Vec<TraceEvent> {
        self.lock().trace.iter().copied().collect()
    }

    /// A future that delivers scheduled copies whenever the tasks of an async test are
    /// waiting: it processes every copy due at the earliest pending time, yields, and sleeps
    /// until the next publication when nothing is pending. Virtual time jumps, so nothing
    /// waits in real time. It never completes: spawn it, or use [`run`](Self::run).
    pub fn driver(&self) -> Driver {
        Driver { network: self.clone() }
    }

    /// Runs `future` to completion, delivering scheduled copies whenever it is waiting (as
    /// [`driver`](Self::driver) does, in the same task). Works on any executor, including
    /// `futures::executor::block_on`.
    pub fn run<F: Future>(&self, future: F) -> Run<F> {
        Run { network: self.clone(), future: Box::pin(future) }
    }

    /// Delivers the copies due at the earliest pending time. `false` if nothing is pending, in
    /// which case `waker` is woken by the next publication.
    fn deliver_batch_or_register(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        let Some(at) = state.queue.peek().map(|Reverse(next)| next.at) else {
            if !state.drivers.iter().any(|w| w.will_wake(waker)) {
                state.drivers.push(waker.clone());
            }
            return false;
        };
        while state.queue.peek().is_some_and(|Reverse(next)| next.at == at) {
            state.step();
        }
        true
    }

    pub(crate) fn publish(
        &self,
        from: NodeId,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> Result<MessageHash, SimError> {
        self.lock().publish(from, pubsub_topic, message)
    }

    pub(crate) fn subscribe(&self, node: NodeId, filter: ContentFilter) -> Subscription {
        let (sender, receiver) = mpsc::unbounded();
        if let Some(node) = self.lock().node_mut(node) {
            node.subscriptions.push((filter, sender));
        }
        Subscription::new(receiver)
    }

    pub(crate) fn query(&self, node: NodeId, query: &StoreQuery) -> Result<StorePage, SimError> {
        let state = self.lock();
        let side = state.side(node).ok_or(SimError::UnknownNode)?;
        if Some(side) != state.side(NodeId::STORE) {
            return Err(SimError::StoreUnreachable);
        }
        state.store.query(query)
    }

    pub(crate) fn health(&self, node: NodeId) -> Health {
        let state = self.lock();
        let side = state.side(node);
        let peers = (0u32..)
            .zip(&state.nodes)
            .filter(|&(index, peer)| NodeId(index) != node && Some(peer.side) == side)
            .filter_map(|(index, peer)| {
                let id = PeerId::new(&format!("sim-{index}")).ok()?;
                let topics = peer
                    .subscriptions
                    .iter()
                    .filter(|(_, sender)| !sender.is_closed())
                    .map(|(filter, _)| filter.pubsub_topic().clone())
                    .collect();
                Some(PeerInfo::new(id, topics, NodeId(index) == NodeId::STORE))
            })
            .collect();
        Health::new(peers)
    }
}

impl State {
    fn node(&self, id: NodeId) -> Option<&NodeState> {
        self.nodes.get(usize::try_from(id.0).ok()?)
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut NodeState> {
        self.nodes.get_mut(usize::try_from(id.0).ok()?)
    }

    fn side(&self, id: NodeId) -> Option<u32> {
        self.node(id).map(|n| n.side)
    }

    fn now_unix(&self) -> i64 {
        let now = i64::try_from(self.now).unwrap_or(i64::MAX);
        self.config.epoch_unix_nanos.saturating_add(now)
    }

    /// Moves virtual time forward (never back) and applies the store's age retention, so
    /// that queries only read.
    fn set_now(&mut self, at: u64) {
        self.now = self.now.max(at);
        let now = self.now_unix();
        let State { store, config, .. } = self;
        store.evict_expired(&config.store, now);
    }

    fn record(&mut self, event: TraceEvent) {
        if self.config.trace_capacity == 0 {
            return;
        }
        while self.trace.len() >= self.config.trace_capacity {
            self.trace.pop_front();
        }
        self.trace.push_back(event);
    }

    fn stats_mut(&mut self, id: NodeId) -> Option<&mut NodeStats> {
        self.node_mut(id).map(|n| &mut n.stats)
    }

    fn drop_copy(&mut self, to: NodeId, hash: MessageHash, reason: DropReason) {
        if let Some(stats) = self.stats_mut(to) {
            stats.dropped += 1;
        }
        let at = Duration::from_nanos(self.now);
        self.record(TraceEvent::Dropped { at, to, hash, reason });
    }

    /// `true` with probability `p`; always draws one number, so the stream stays aligned.
    fn chance(&mut self, p: Probability) -> bool {
        // 53 random bits give a uniform f64 in [0, 1).
        let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p.get()
    }

    /// A delay drawn uniformly from `[min, max]`, in ns.
    fn delay(&mut self, faults: &LinkFaults) -> u64 {
        let min = nanos(faults.min_delay);
        let span = nanos(faults.max_delay).saturating_sub(min);
        // Lemire's multiply-shift maps a 64-bit draw onto [0, span] without a division.
        let offset = (u128::from(self.rng.next_u64()) * (u128::from(span) + 1)) >> 64;
        min.saturating_add(u64::try_from(offset).unwrap_or(span))
    }

    fn schedule(&mut self, from: NodeId, to: NodeId, message: Arc<ReceivedMessage>, delay: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let at = self.now.saturating_add(delay);
        self.queue.push(Reverse(Scheduled { at, seq, from, to, message }));
    }

    fn publish(
        &mut self,
        from: NodeId,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> Result<MessageHash, SimError> {
        let side = self.side(from).ok_or(SimError::UnknownNode)?;
        let reachable = (0u32..)
            .zip(&self.nodes)
            .any(|(index, node)| NodeId(index) != from && node.side == side);
        if !reachable {
            return Err(SimError::NoPeers);
        }
        let received = Arc::new(ReceivedMessage::new(pubsub_topic, message));
        let hash = received.hash;
        let recipients: Vec<NodeId> = (0u32..)
            .zip(&self.nodes)
            .filter(|&(index, node)| {
                let id = NodeId(index);
                if id == from {
                    false
                } else if id == NodeId::STORE {
                    !received.message.is_ephemeral()
                } else {
                    node.subscriptions.iter().any(|(filter, sender)| {
                        !sender.is_closed()
                            && filter
                                .matches(&received.pubsub_topic, received.message.content_topic())
                    })
                }
            })
            .map(|(index, _)| NodeId(index))
            .collect();
        if let Some(stats) = self.stats_mut(from) {
            stats.published += 1;
        }
        let at = Duration::from_nanos(self.now);
        self.record(TraceEvent::Published { at, from, hash });
        for to in recipients {
            self.send_copy(from, to, side, &received);
        }
        for driver in self.drivers.drain(..) {
            driver.wake();
        }
        Ok(hash)
    }

    fn send_copy(&mut self, from: NodeId, to: NodeId, side: u32, message: &Arc<ReceivedMessage>) {
        let hash = message.hash;
        if self.side(to) != Some(side) {
            self.drop_copy(to, hash, DropReason::Partition);
            return;
        }
        let faults = self.links.get(&(from, to)).copied().unwrap_or(if to == NodeId::STORE {
            self.config.store_faults
        } else {
            self.config.faults
        });
        if self.chance(faults.loss) {
            self.drop_copy(to, hash, DropReason::Loss);
            return;
        }
        let delay = self.delay(&faults);
        self.schedule(from, to, Arc::clone(message), delay);
        if self.chance(faults.duplicate) {
            let delay = self.delay(&faults);
            self.schedule(from, to, Arc::clone(message), delay);
            if let Some(stats) = self.stats_mut(to) {
                stats.duplicated += 1;
            }
            let at = Duration::from_nanos(self.now);
            self.record(TraceEvent::Duplicated { at, to, hash });
        }
    }

    fn step(&mut self) -> bool {
        let Some(Reverse(next)) = self.queue.pop() else { return false };
        self.set_now(next.at);
        let Scheduled { from, to, message, .. } = next;
        let hash = message.hash;
        if self.side(from) != self.side(to) {
            self.drop_copy(to, hash, DropReason::Partition);
            return true;
        }
        if to == NodeId::STORE {
            let now = self.now_unix();
            let State { store, config, .. } = &mut *self;
            if store.ingest(&config.store, now, &message).is_err() {
                self.drop_copy(to, hash, DropReason::StoreRejected);
                return true;
            }
        } else if let Some(node) = self.node_mut(to) {
            node.subscriptions.retain(|(filter, sender)| {
                if filter.matches(&message.pubsub_topic, message.message.content_topic()) {
                    sender.unbounded_send(ReceivedMessage::clone(&message)).is_ok()
                } else {
                    !sender.is_closed()
                }
            });
        }
        if let Some(stats) = self.stats_mut(to) {
            stats.delivered += 1;
        }
        let at = Duration::from_nanos(self.now);
        self.record(TraceEvent::Delivered { at, to, hash });
        true
    }
}

/// `duration` in ns, saturating at `u64::MAX` (about 584 years).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Delivers scheduled copies in the background; see [`SimNetwork::driver`].
#[must_use = "a driver does nothing unless polled"]
pub struct Driver {
    network: SimNetwork,
}

impl Future for Driver {
    type Output = core::convert::Infallible;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.network.deliver_batch_or_register(cx.waker()) {
            // Let the tasks woken by this batch run before the clock moves on.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

/// Runs a future while delivering scheduled copies; see [`SimNetwork::run`].
#[must_use = "futures do nothing unless polled"]
pub struct Run<F> {
    network: SimNetwork,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Run<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            if !self.network.deliver_batch_or_register(cx.waker()) {
                return Poll::Pending;
            }
        }
    }
}

impl core::fmt::Debug for SimNetwork {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = self.lock();
        f.debug_struct("SimNetwork")
            .field("now", &Duration::from_nanos(state.now))
            .field("nodes", &state.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>())
            .field("pending", &state.queue.len())
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for Driver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

impl<F> core::fmt::Debug for Run<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Run").finish_non_exhaustive()
    }
}
