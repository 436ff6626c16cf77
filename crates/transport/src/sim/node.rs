//! A node of the simulated network, implementing [`Transport`].

use core::fmt;
use core::future::ready;

use super::network::SimNetwork;
use super::trace::{NodeId, NodeStats};
use crate::hash::MessageHash;
use crate::health::Health;
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;
use crate::query::{StorePage, StoreQuery};
use crate::subscription::{ContentFilter, Subscription};
use crate::transport::{BoxFuture, Transport};

/// Failures of the simulated transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The node cannot reach any other node or the store (it is partitioned off); nothing
    /// was sent. A relay node without peers fails the same way.
    #[error("no reachable peer")]
    NoPeers,
    /// The store is on another side of a partition.
    #[error("store unreachable")]
    StoreUnreachable,
    /// The cursor names no stored message of the queried pubsub topic (never stored, or
    /// evicted since).
    #[error("unknown cursor")]
    UnknownCursor,
    /// The node does not belong to this network.
    #[error("unknown node")]
    UnknownNode,
}

/// A handle to one node of a [`SimNetwork`]; cheap to clone.
///
/// Besides [`Transport`], it offers the same operations synchronously (`*_now`) for sans-IO
/// scenario tests.
#[derive(Clone)]
pub struct SimNode {
    network: SimNetwork,
    id: NodeId,
}

impl SimNode {
    pub(crate) fn new(network: SimNetwork, id: NodeId) -> Self {
        Self { network, id }
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The network the node belongs to.
    pub fn network(&self) -> &SimNetwork {
        &self.network
    }

    /// The node's counters.
    pub fn stats(&self) -> NodeStats {
        self.network.stats(self.id)
    }

    /// Publishes now; copies are scheduled per link and delivered as virtual time advances.
    ///
    /// # Errors
    ///
    /// [`SimError::NoPeers`] if the node is partitioned off from everyone.
    pub fn publish_now(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> Result<MessageHash, SimError> {
        self.network.publish(self.id, pubsub_topic, message)
    }

    /// Subscribes now.
    pub fn subscribe_now(&self, filter: ContentFilter) -> Subscription {
        self.network.subscribe(self.id, filter)
    }

    /// Queries the store now, at the current virtual time.
    ///
    /// # Errors
    ///
    /// [`SimError::StoreUnreachable`] across a partition, [`SimError::UnknownCursor`] for a
    /// cursor the store does not hold.
    pub fn query_now(&self, query: &StoreQuery) -> Result<StorePage, SimError> {
        self.network.query(self.id, query)
    }

    /// Peers on the node's side of any partition; the store is the peer `sim-0`.
    pub fn health_now(&self) -> Health {
        self.network.health(self.id)
    }
}

impl Transport for SimNode {
    type Error = SimError;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, Self::Error>> {
        Box::pin(ready(self.publish_now(pubsub_topic, message)))
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, Self::Error>> {
        Box::pin(ready(Ok(self.subscribe_now(filter))))
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, Self::Error>> {
        Box::pin(ready(self.query_now(&query)))
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, Self::Error>> {
        Box::pin(ready(Ok(self.health_now())))
    }
}

impl fmt::Debug for SimNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimNode").field("id", &self.id).finish_non_exhaustive()
    }
}
