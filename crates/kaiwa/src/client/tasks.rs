//! The background tasks of a [`Client`](super::Client): receiving, publishing, maintenance.
//!
//! ```text
//! receive    start: subscribe to every topic the core names, publish the outbox, catch up
//!            every topic from Store since watermark − catch_up_overlap (all history the
//!            first time); then loop:
//!              message(s) ready   → batch of ≤ MAX_BATCH → Core::process (one transaction)
//!              Subscribe          → new subscriptions (history read for new follows)
//!              FetchBundles       → read contact-code topics → Core::take_bundles
//!              CatchUp            → every topic again; the watermark moves to the start time
//!                                   of a catch-up that completed (held back by kept messages)
//! publish    woken by Notify (entries after the highest id read so far) or every
//!            outbox_retry_interval (every entry): pending entries in id order, each by one
//!            pass at a time (an in-flight set), up to PUBLISH_CONCURRENCY in flight (started
//!            in order); failures recorded at once, successes marked publish_settle later,
//!            each in one transaction per pass (committed without an fsync: a lost mark only
//!            republishes); entries past max_publish_attempts are abandoned
//! maintain   every tick: Core::maintain (rotation, republication, re-keys, pruning), and a
//!            CatchUp every catch_up_interval
//! ```
//!
//! A batch whose transaction fails (the store failed) is retried a few times; if it keeps
//! failing its messages stay unprocessed and the next catch-up brings them again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::{BoxStream, SelectAll};
use kaiwa_store::PublicId;
use kaiwa_transport::{AccountKey, ContentFilter, ContentTopic, ReceivedMessage, StoreQuery};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::{Inner, lock};
use crate::core::{Core, Effects, outbox_message};
use crate::environment::Now;
use crate::error::Error;
use crate::limits::{
    MAX_BATCH, MAX_CATCH_UP_PAGES, MAX_PUBLISH_BATCH, PUBLISH_CONCURRENCY, STORE_PAGE_SIZE,
};
use crate::net::Route;

/// Work for the receive task.
pub(crate) enum Command {
    /// Subscribe to these topics; `true`: read the topic's whole history too.
    Subscribe(Vec<(ContentTopic, Route, bool)>),
    /// Read these peers' contact-code topics.
    FetchBundles(BTreeSet<PublicId>),
    /// Catch every topic up; answer with the number of new messages.
    CatchUp { reply: Option<oneshot::Sender<usize>> },
}

/// How often a failing batch is retried before its messages are left to the next catch-up.
const BATCH_ATTEMPTS: u32 = 3;

pub(super) fn spawn(
    inner: &Arc<Inner>,
    commands: mpsc::UnboundedReceiver<Command>,
    startup: Effects,
) {
    // Each task's shutdown receiver is made here, before the task runs: a receiver made after
    // `shutdown()` has sent would see no change and the task would never stop.
    let receive = tokio::spawn(receive_loop(
        Arc::clone(inner),
        inner.shutdown.subscribe(),
        commands,
        startup,
    ));
    let publish = tokio::spawn(publish_loop(Arc::clone(inner), inner.shutdown.subscribe()));
    let maintain = tokio::spawn(maintenance_loop(Arc::clone(inner), inner.shutdown.subscribe()));
    lock(&inner.tasks).extend([receive, publish, maintain]);
}

type Inbound = SelectAll<BoxStream<'static, (Route, ReceivedMessage)>>;

struct Receiver {
    inner: Arc<Inner>,
    streams: Inbound,
    subscribed: BTreeMap<ContentTopic, Route>,
}

async fn receive_loop(
    inner: Arc<Inner>,
    mut shutdown: watch::Receiver<bool>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    startup: Effects,
) {
    let mut receiver = Receiver {
        inner: Arc::clone(&inner),
        streams: SelectAll::new(),
        subscribed: BTreeMap::new(),
    };
    let Effects { events, subscribe, .. } = startup;
    for event in events {
        let _ = inner.events.send(event);
    }
    receiver.subscribe(subscribe).await;
    inner.publish.notify_one();
    receiver.catch_up_all().await;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            Some(command) = commands.recv() => receiver.command(command).await,
            Some(first) = receiver.streams.next(), if !receiver.streams.is_empty() => {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match futures::FutureExt::now_or_never(receiver.streams.next()) {
                        Some(Some(item)) => batch.push(item),
                        _ => break,
                    }
                }
                if let Err(error) = process(&inner, batch).await {
                    tracing::warn!(%error, "a batch of received messages could not be processed");
                }
            }
        }
    }
}

impl Receiver {
    async fn command(&mut self, command: Command) {
        match command {
            Command::Subscribe(topics) => self.subscribe(topics).await,
            Command::FetchBundles(peers) => {
                for peer in peers {
                    let payloads = match fetch_bundles(&self.inner, &peer).await {
                        Ok(payloads) => payloads,
                        Err(error) => {
                            tracing::debug!(%error, "could not read a contact-code topic");
                            continue;
                        }
                    };
                    let step = move |engine: &mut crate::core::Engine,
                                     tx: &mut kaiwa_store::Transaction<'_>,
                                     now,
                                     fx: &mut Effects| {
                        engine.take_bundles(tx, &peer, &payloads, None, now, fx)
                    };
                    if let Err(error) = self.inner.act(step).await {
                        tracing::warn!(%error, "fetched bundles could not be stored");
                    }
                }
            }
            Command::CatchUp { reply } => {
                let count = self.catch_up_all().await;
                if let Some(reply) = reply {
                    let _ = reply.send(count);
                }
            }
        }
    }

    async fn subscribe(&mut self, topics: Vec<(ContentTopic, Route, bool)>) {
        for (topic, route, history) in topics {
            if self.subscribed.contains_key(&topic) {
                continue;
            }
            let pubsub = self.inner.config.sharding.pubsub_topic(&topic);
            let subscription = match ContentFilter::new(pubsub, [topic.clone()]) {
                Ok(filter) => self.inner.net.subscribe(filter).await,
                Err(error) => Err(error.into()),
            };
            match subscription {
                Ok(subscription) => {
                    self.streams.push(subscription.map(move |m| (route, m)).boxed());
                    self.subscribed.insert(topic.clone(), route);
                }
                Err(error) => {
                    tracing::warn!(%error, "could not subscribe");
                    continue;
                }
            }
            if history && let Err(error) = catch_up_topic(&self.inner, &topic, route, None).await {
                tracing::debug!(%error, "could not read a topic's history");
            }
        }
    }

    /// Catches every subscribed topic up; moves the watermark if all of them succeeded.
    async fn catch_up_all(&mut self) -> usize {
        let start = Now::of(&*self.inner.clock).ns;
        let overlap =
            i64::try_from(self.inner.config.catch_up_overlap.as_nanos()).unwrap_or(i64::MAX);
        // Read on the blocking pool: the core may be busy with a commit.
        let since = match self.inner.read(Core::caught_up).await {
            Ok(mark) => mark.map(|t| t.saturating_sub(overlap)),
            Err(error) => {
                tracing::warn!(%error, "the catch-up watermark could not be read");
                None
            }
        };
        let mut total = 0usize;
        let mut complete = true;
        let topics: Vec<(ContentTopic, Route)> =
            self.subscribed.iter().map(|(t, r)| (t.clone(), *r)).collect();
        for (topic, route) in topics {
            match catch_up_topic(&self.inner, &topic, route, since).await {
                Ok(count) => total = total.saturating_add(count),
                Err(error) => {
                    tracing::debug!(%error, "catch-up of a topic failed");
                    complete = false;
                }
            }
        }
        if complete {
            let inner = Arc::clone(&self.inner);
            let moved = tokio::task::spawn_blocking(move || {
                let mut core = lock(&inner.core);
                let mark = core.engine().oldest_kept().map_or(start, |kept| kept.min(start));
                core.set_caught_up(mark)
            })
            .await;
            if !matches!(moved, Ok(Ok(()))) {
                tracing::warn!("the catch-up watermark could not be saved");
            }
        }
        total
    }
}

/// Processes a batch (retrying a failed transaction); returns how many messages were new.
async fn process(inner: &Arc<Inner>, batch: Vec<(Route, ReceivedMessage)>) -> Result<usize, Error> {
    let batch = Arc::new(batch);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (shared, work) = (Arc::clone(inner), Arc::clone(&batch));
        let outcome = tokio::task::spawn_blocking(move || lock(&shared.core).process(&work))
            .await
            .map_err(|_| Error::Internal("a blocking task panicked"))?;
        match outcome {
            Ok((count, effects)) => {
                inner.counters.add_received(count);
                inner.apply(effects);
                return Ok(count);
            }
            Err(error) if attempt < BATCH_ATTEMPTS => {
                tracing::debug!(%error, attempt, "retrying a batch");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Reads `topic`'s stored messages from `since` on (all if `None`) and processes them.
async fn catch_up_topic(
    inner: &Arc<Inner>,
    topic: &ContentTopic,
    route: Route,
    since: Option<i64>,
) -> Result<usize, Error> {
    let filter = ContentFilter::new(inner.config.sharding.pubsub_topic(topic), [topic.clone()])?;
    let mut query = StoreQuery::content(filter)?
        .with_time_range(since, None)?
        .with_page_size(STORE_PAGE_SIZE)?;
    let mut total = 0usize;
    for _ in 0..MAX_CATCH_UP_PAGES {
        let page = inner.net.query(query.clone()).await?;
        let next = query.next_page(&page);
        let batch: Vec<_> = page.messages.into_iter().map(|m| (route, m)).collect();
        if !batch.is_empty() {
            total = total.saturating_add(process(inner, batch).await?);
        }
        match next {
            Some(next) => query = next,
            None => break,
        }
    }
    Ok(total)
}

/// Every payload on `peer`'s contact-code topic.
pub(super) async fn fetch_bundles(
    inner: &Arc<Inner>,
    peer: &PublicId,
) -> Result<Vec<Vec<u8>>, Error> {
    let topic = inner.config.scheme.contact_code(&AccountKey::from_bytes(*peer.as_bytes()));
    let filter = ContentFilter::new(inner.config.sharding.pubsub_topic(&topic), [topic])?;
    let mut query = StoreQuery::content(filter)?.with_page_size(STORE_PAGE_SIZE)?;
    let mut payloads = Vec::new();
    for _ in 0..MAX_CATCH_UP_PAGES {
        let page = inner.net.query(query.clone()).await?;
        let next = query.next_page(&page);
        payloads.extend(page.messages.into_iter().map(|m| m.message.into_payload()));
        match next {
            Some(next) => query = next,
            None => break,
        }
    }
    Ok(payloads)
}

async fn publish_loop(inner: Arc<Inner>, mut shutdown: watch::Receiver<bool>) {
    // The first tick is at once: every entry left from a previous run.
    let mut retry = tokio::time::interval(inner.config.outbox_retry_interval);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // The tick before the wake-up: under a steady stream of sends a wake-up is always
        // ready, and retries must not wait for the stream to end.
        let pass = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            _ = retry.tick() => Pass::Every,
            () = inner.publish.notified() => Pass::New,
        };
        if let Err(error) = publish_pending(&inner, pass).await {
            tracing::warn!(%error, "publishing the outbox failed");
        }
    }
}

/// Which outbox entries a publish pass reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pass {
    /// Entries queued since the last pass read the outbox (a woken pass).
    New,
    /// Every entry: retries of failed publications, and what a previous run left.
    Every,
}

/// Publishes the pending outbox entries of `pass` not already being published. Failures are
/// recorded at once; successes are marked published `publish_settle` later.
pub(super) async fn publish_pending(inner: &Arc<Inner>, pass: Pass) -> Result<(), Error> {
    let mut after = match pass {
        Pass::New => *lock(&inner.publish_cursor),
        Pass::Every => None,
    };
    loop {
        let shared = Arc::clone(inner);
        let entries = tokio::task::spawn_blocking(move || {
            lock(&shared.core).pending_outbox(after, MAX_PUBLISH_BATCH)
        })
        .await
        .map_err(|_| Error::Internal("a blocking task panicked"))??;
        let Some(last) = entries.last() else { return Ok(()) };
        after = Some(last.id);
        {
            let mut cursor = lock(&inner.publish_cursor);
            *cursor = (*cursor).max(after);
        }
        let full = entries.len() >= MAX_PUBLISH_BATCH;
        let mine: Vec<_> =
            entries.into_iter().filter(|entry| lock(&inner.in_flight).insert(entry.id)).collect();
        // Up to PUBLISH_CONCURRENCY publications in flight, started in outbox order.
        let outcomes: Vec<_> = futures::stream::iter(mine)
            .map(|entry| async move {
                let outcome = match outbox_message(&entry.message) {
                    Ok((pubsub, message)) => inner
                        .net
                        .publish(pubsub, message)
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    Err(error) => Err(error.to_string()),
                };
                (entry, outcome)
            })
            .buffered(PUBLISH_CONCURRENCY)
            .collect()
            .await;
        let failed = outcomes.iter().filter(|(_, outcome)| outcome.is_err()).count();
        inner.counters.add_published(outcomes.len().saturating_sub(failed), failed);
        let (published, failures): (Vec<_>, Vec<_>) =
            outcomes.into_iter().partition(|(_, outcome)| outcome.is_ok());
        // Settle the successes even if recording the failures fails: they must leave the
        // in-flight set one way or the other.
        let recorded = record(inner, failures).await;
        settle(inner, published).await?;
        recorded?;
        if !full {
            return Ok(());
        }
    }
}

/// Records publication outcomes in one transaction and releases their entries.
async fn record(
    inner: &Arc<Inner>,
    outcomes: Vec<(kaiwa_store::OutboxEntry, Result<(), String>)>,
) -> Result<(), Error> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let ids: Vec<_> = outcomes.iter().map(|(e, _)| e.id).collect();
    let shared = Arc::clone(inner);
    let recorded = tokio::task::spawn_blocking(move || lock(&shared.core).published(&outcomes))
        .await
        .map_err(|_| Error::Internal("a blocking task panicked"));
    {
        let mut in_flight = lock(&inner.in_flight);
        for id in ids {
            in_flight.remove(&id);
        }
    }
    for event in recorded?? {
        let _ = inner.events.send(event);
    }
    Ok(())
}

/// Marks accepted publications published once `publish_settle` has passed: until then they
/// stay in the outbox (and in flight, so no pass publishes them again), and a crash or a
/// shutdown before then leaves them to be published again by the next run.
async fn settle(
    inner: &Arc<Inner>,
    published: Vec<(kaiwa_store::OutboxEntry, Result<(), String>)>,
) -> Result<(), Error> {
    let wait = inner.config.publish_settle;
    if published.is_empty() {
        return Ok(());
    }
    if wait.is_zero() {
        return record(inner, published).await;
    }
    let shared = Arc::clone(inner);
    let mut shutdown = inner.shutdown.subscribe();
    let task = tokio::spawn(async move {
        let stopped = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => true,
            () = tokio::time::sleep(wait) => false,
        };
        if stopped {
            let mut in_flight = lock(&shared.in_flight);
            for (entry, _) in &published {
                in_flight.remove(&entry.id);
            }
        } else if let Err(error) = record(&shared, published).await {
            tracing::warn!(%error, "publications could not be marked");
        }
    });
    let mut settling = lock(&inner.settling);
    settling.retain(|task| !task.is_finished());
    settling.push(task);
    Ok(())
}

/// Waits until every publication settling now is marked (or left to the next run).
pub(super) async fn settled(inner: &Arc<Inner>) {
    let tasks: Vec<_> = lock(&inner.settling).drain(..).collect();
    for task in tasks {
        let _ = task.await;
    }
}

async fn maintenance_loop(inner: Arc<Inner>, mut shutdown: watch::Receiver<bool>) {
    let config = &inner.config;
    let tick = config
        .catch_up_interval
        .min(config.bundle_republish_interval)
        .min(config.org_republish_interval)
        .min(Duration::from_secs(60))
        .max(Duration::from_millis(100));
    let mut interval = tokio::time::interval_at(Instant::now() + tick, tick);
    let (mut bundle, mut orgs, mut catch_up) = (Instant::now(), Instant::now(), Instant::now());
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            _ = interval.tick() => {}
        }
        let republish_bundle = bundle.elapsed() >= config.bundle_republish_interval;
        let republish_orgs = orgs.elapsed() >= config.org_republish_interval;
        if republish_bundle {
            bundle = Instant::now();
        }
        if republish_orgs {
            orgs = Instant::now();
        }
        let shared = Arc::clone(&inner);
        let outcome = tokio::task::spawn_blocking(move || {
            lock(&shared.core).maintain(republish_bundle, republish_orgs)
        })
        .await;
        match outcome {
            Ok(Ok(effects)) => inner.apply(effects),
            Ok(Err(error)) => tracing::warn!(%error, "maintenance failed"),
            Err(_) => tracing::warn!("the maintenance task panicked"),
        }
        if catch_up.elapsed() >= config.catch_up_interval {
            catch_up = Instant::now();
            let _ = inner.commands.send(Command::CatchUp { reply: None });
        }
    }
}
