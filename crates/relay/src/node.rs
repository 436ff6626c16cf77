//! [`RelayNode`]: the handle to a running node. The swarm itself runs on a tokio task
//! ([`crate::event_loop`]); the handle talks to it through a bounded command channel.
//!
//! ```text
//! RelayNode ──Command──▶ event loop task ──▶ libp2p Swarm (gossipsub, metadata, store, …)
//!     ▲                       │
//!     └──── oneshot replies ──┘   subscriptions: bounded mpsc per subscriber
//! ```
//!
//! Dropping every handle stops the task as well; [`RelayNode::shutdown`] does it gracefully
//! (closes connections, waits for the task).

use std::sync::Arc;
use std::time::Duration;

use kaiwa_transport::{
    ContentFilter, Health, PubsubTopic, StorePage, StoreQuery, Subscription, WakuMessage,
};
use libp2p::{Multiaddr, PeerId, gossipsub};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::archive::{MemoryArchive, MessageArchive};
use crate::config::RelayConfig;
use crate::error::{DialError, PublishError, RelayError, StartError, StoreQueryError};
use crate::event_loop::{Command, DynArchive, EventLoop};
use crate::limits::{MAX_COMMAND_BACKLOG, MAX_SUBSCRIPTION_BACKLOG};
use crate::metrics::{Counters, RelayMetrics};
use crate::subscription::{Published, RelayMessageId, RelaySubscription};

/// A running Waku relay node: see the crate documentation.
#[derive(Debug)]
pub struct RelayNode {
    commands: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    peer_id: PeerId,
    pubsub_topics: Vec<PubsubTopic>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl RelayNode {
    /// Starts a node on the current tokio runtime. With `config.store_server`, relayed messages
    /// are archived in a [`MemoryArchive`] bounded by `config.retention`.
    ///
    /// Returns once every listen address is bound, so [`local_addrs`](Self::local_addrs) is
    /// complete; static peers are dialled in the background.
    ///
    /// # Errors
    ///
    /// [`StartError`] for an invalid configuration, a transport that cannot be built, or an
    /// address that cannot be bound.
    pub async fn start(config: RelayConfig) -> Result<Self, StartError> {
        let archive: Option<Box<dyn DynArchive>> = if config.store_server {
            Some(Box::new(MemoryArchive::new(config.retention)))
        } else {
            None
        };
        Self::start_inner(config, archive).await
    }

    /// Starts a node whose Store server is backed by `archive` (the Store server is on whatever
    /// `config.store_server` says; `config.retention` is the archive's business).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub async fn start_with_archive<A: MessageArchive>(
        mut config: RelayConfig,
        archive: A,
    ) -> Result<Self, StartError> {
        config.store_server = true;
        Self::start_inner(config, Some(Box::new(archive))).await
    }

    async fn start_inner(
        config: RelayConfig,
        archive: Option<Box<dyn DynArchive>>,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let counters = Arc::new(Counters::default());
        let (commands, receiver) = mpsc::channel(MAX_COMMAND_BACKLOG);
        let event_loop = EventLoop::new(config, archive, receiver, Arc::clone(&counters)).await?;
        let peer_id = event_loop.peer_id();
        let pubsub_topics = event_loop.pubsub_topics();
        let event_loop = event_loop.listen().await?;
        let task = tokio::spawn(event_loop.run());
        Ok(Self { commands, counters, peer_id, pubsub_topics, task: Mutex::new(Some(task)) })
    }

    /// The node's peer id.
    #[must_use]
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The pubsub topics the node relays, one per configured shard.
    #[must_use]
    pub fn pubsub_topics(&self) -> &[PubsubTopic] {
        &self.pubsub_topics
    }

    /// A snapshot of the node's counters.
    #[must_use]
    pub fn metrics(&self) -> RelayMetrics {
        self.counters.snapshot()
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(command(reply)).await.ok()?;
        answer.await.ok()
    }

    /// The addresses the node listens on, each ending in `/p2p/<peer id>` (ready to dial).
    /// Empty once the node has shut down.
    pub async fn local_addrs(&self) -> Vec<Multiaddr> {
        self.ask(|reply| Command::LocalAddrs { reply }).await.unwrap_or_default()
    }

    /// Publishes `message` on `pubsub_topic` (one of [`pubsub_topics`](Self::pubsub_topics)).
    ///
    /// # Errors
    ///
    /// [`PublishError`]; notably [`PublishError::NoPeers`] when no connected peer relays the
    /// topic (nothing was sent).
    pub async fn publish(
        &self,
        pubsub_topic: &PubsubTopic,
        message: &WakuMessage,
    ) -> Result<Published, PublishError> {
        self.publish_owned(pubsub_topic.clone(), message.clone()).await
    }

    /// [`publish`](Self::publish) of a message the caller gives up (no copy of the payload).
    pub(crate) async fn publish_owned(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> Result<Published, PublishError> {
        self.ask(|reply| Command::Publish { pubsub_topic, message, reply })
            .await
            .unwrap_or(Err(PublishError::Stopped))
    }

    /// Publishes arbitrary bytes as a relay message, skipping the WakuMessage validation every
    /// other path applies. **For tests only**: it exists so tests can show that receivers reject
    /// malformed, oversize or otherwise invalid messages and do not forward them. Peers penalise
    /// the sender of invalid messages (gossipsub P₄), so a real node must never call it.
    ///
    /// # Errors
    ///
    /// As [`publish`](Self::publish).
    pub async fn publish_raw_for_testing_only(
        &self,
        pubsub_topic: &PubsubTopic,
        data: Vec<u8>,
    ) -> Result<RelayMessageId, PublishError> {
        let pubsub_topic = pubsub_topic.clone();
        self.ask(|reply| Command::PublishRaw { pubsub_topic, data, reply })
            .await
            .unwrap_or(Err(PublishError::Stopped))
    }

    /// Receives the relayed messages passing `filter`, with their gossipsub ids: every message
    /// accepted after this returns. At most [`MAX_SUBSCRIPTION_BACKLOG`] messages wait for a
    /// slow reader; beyond that new ones are dropped and counted.
    ///
    /// # Errors
    ///
    /// [`RelayError::Stopped`] after shutdown.
    pub async fn subscribe_relay(
        &self,
        filter: ContentFilter,
    ) -> Result<RelaySubscription, RelayError> {
        let (sender, receiver) = mpsc::channel(MAX_SUBSCRIPTION_BACKLOG);
        self.ask(|reply| Command::Subscribe { filter, sender, reply })
            .await
            .ok_or(RelayError::Stopped)?;
        Ok(RelaySubscription::new(receiver))
    }

    /// Receives the relayed messages passing `filter` as kaiwa-transport's [`Subscription`].
    ///
    /// # Errors
    ///
    /// [`RelayError::Stopped`] after shutdown.
    pub async fn subscribe(&self, filter: ContentFilter) -> Result<Subscription, RelayError> {
        let relay = self.subscribe_relay(filter).await?;
        Ok(Subscription::new(futures::StreamExt::map(relay, |relayed| relayed.received)))
    }

    /// Asks `peer` (connected or dialable through known addresses) for one page of history.
    ///
    /// # Errors
    ///
    /// [`StoreQueryError`]; the answer is checked (see the `store` module documentation).
    pub async fn store_query(
        &self,
        peer: PeerId,
        query: &StoreQuery,
    ) -> Result<StorePage, StoreQueryError> {
        let query = query.clone();
        self.ask(|reply| Command::StoreQuery { peer: Some(peer), query, reply })
            .await
            .unwrap_or(Err(StoreQueryError::Stopped))
    }

    /// Asks a connected store peer (a static peer first, else any peer whose identify lists
    /// Store v3) for one page of history. With none connected, a store node answers from its
    /// own archive, exactly as it would answer a peer asking it (same pages, cursors and status
    /// codes); a connected store peer is still preferred, as it may hold what this node missed
    /// while offline.
    ///
    /// # Errors
    ///
    /// [`StoreQueryError::NoStorePeer`] when no store peer is connected and this node keeps no
    /// archive, else as [`store_query`](Self::store_query).
    pub async fn query_any_store(&self, query: &StoreQuery) -> Result<StorePage, StoreQueryError> {
        let query = query.clone();
        self.ask(|reply| Command::StoreQuery { peer: None, query, reply })
            .await
            .unwrap_or(Err(StoreQueryError::Stopped))
    }

    /// Dials `address` (ending in `/p2p/<peer id>` or not) and waits for the connection.
    ///
    /// # Errors
    ///
    /// [`DialError`].
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, DialError> {
        self.ask(|reply| Command::Dial { address, reply }).await.unwrap_or(Err(DialError::Stopped))
    }

    /// Connected peers with the pubsub topics they relay and whether they serve Store v3.
    pub async fn health(&self) -> Health {
        self.ask(|reply| Command::Health { reply }).await.unwrap_or_default()
    }

    /// Waits until at least `count` peers relay `pubsub_topic` (gossipsub has seen their
    /// subscriptions), polling every 10 ms, for at most `timeout`. Returns whether it happened.
    pub async fn wait_for_relay_peers(
        &self,
        pubsub_topic: &PubsubTopic,
        count: usize,
        timeout: Duration,
    ) -> bool {
        let wait = async {
            loop {
                if self.health().await.relay_peers(pubsub_topic) >= count {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// Closes every connection and listener, then waits for the node's task to end.
    /// Subscriptions end; later calls fail with `Stopped`. Calling it twice is harmless.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).await.is_ok() {
            let _ = done.await;
        }
        if let Some(task) = self.task.lock().await.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "relay node task failed");
        }
    }
}

/// The topic hash gossipsub uses for a pubsub topic (identity hashing: the topic string).
pub(crate) fn topic_hash(pubsub_topic: &PubsubTopic) -> gossipsub::TopicHash {
    gossipsub::IdentTopic::new(pubsub_topic.as_str()).hash()
}
