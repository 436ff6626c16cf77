//! [`RelayNode`] as kaiwa-transport's [`Transport`].
//!
//! ```text
//! publish(topic, message)  → RelayNode::publish             → the message hash
//! subscribe(filter)        → RelayNode::subscribe            (relay only; no filter protocol)
//! query(query)             → RelayNode::query_any_store      (a static store peer first, else any
//!                                                            connected peer whose identify lists
//!                                                            /vac/waku/store-query/3.0.0, else
//!                                                            this node's own archive)
//! health()                 → RelayNode::health               (connected peers, their relayed
//!                                                            topics as gossipsub saw them)
//! ```

use kaiwa_transport::{
    BoxFuture, ContentFilter, Health, MessageHash, PubsubTopic, StorePage, StoreQuery,
    Subscription, Transport, WakuMessage,
};

use crate::error::RelayError;
use crate::node::RelayNode;

impl Transport for RelayNode {
    type Error = RelayError;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, RelayError>> {
        Box::pin(async move {
            let published = self.publish_owned(pubsub_topic, message).await?;
            Ok(published.hash)
        })
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, RelayError>> {
        Box::pin(RelayNode::subscribe(self, filter))
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, RelayError>> {
        Box::pin(async move { Ok(self.query_any_store(&query).await?) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, RelayError>> {
        Box::pin(async move { Ok(RelayNode::health(self).await) })
    }
}
