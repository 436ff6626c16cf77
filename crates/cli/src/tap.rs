//! [`Tap`]: the demo's transport, a [`RelayNode`] that can hold messages back.
//!
//! ```text
//! Client ──publish──▶ Tap ──▶ RelayNode ──▶ gossipsub
//!                      │ held (while holding): answered Ok(hash) at once, published on release()
//!                      └ published log: (content topic, hash) of every publication
//! ```
//! Holding is how the demo produces a real out-of-order delivery over a real relay: the
//! facade's outbox believes the message left (and it has the same hash it will have when it
//! does leave), the next message goes out first, then [`Tap::release`] publishes the held one.
//! At most [`MAX_HELD_MESSAGES`] are held; beyond that publications go straight through. A
//! message published again while held (same hash) is held once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use kaiwa::relay::{RelayError, RelayNode};
use kaiwa::transport::{
    BoxFuture, ContentFilter, ContentTopic, Health, MessageHash, PubsubTopic, StorePage,
    StoreQuery, Subscription, Transport, WakuMessage,
};

use crate::limits::{MAX_HELD_MESSAGES, MAX_SEEN_HASHES};

#[derive(Debug, Default)]
struct TapState {
    holding: bool,
    held: VecDeque<(PubsubTopic, WakuMessage)>,
    published: VecDeque<(ContentTopic, MessageHash)>,
}

/// A relay node that can hold publications back (module documentation). Clones share state.
#[derive(Clone, Debug)]
pub(crate) struct Tap {
    node: Arc<RelayNode>,
    state: Arc<Mutex<TapState>>,
}

impl Tap {
    /// A tap in front of `node`, passing everything through.
    pub(crate) fn new(node: Arc<RelayNode>) -> Self {
        Self { node, state: Arc::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TapState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on, publications are held until [`release`](Self::release).
    pub(crate) fn hold(&self) {
        self.state().holding = true;
    }

    /// Publications go through again (those held stay held).
    pub(crate) fn pass(&self) {
        self.state().holding = false;
    }

    /// How many publications are held.
    pub(crate) fn held(&self) -> usize {
        self.state().held.len()
    }

    /// Publishes every held message, oldest first; returns how many were published.
    ///
    /// # Errors
    /// The node's publish error (the messages not yet published stay held).
    pub(crate) async fn release(&self) -> Result<usize, kaiwa::relay::PublishError> {
        let mut count = 0;
        loop {
            let next = self.state().held.pop_front();
            let Some((topic, message)) = next else { return Ok(count) };
            match RelayNode::publish(&self.node, &topic, &message).await {
                Ok(published) => {
                    self.log(message.content_topic().clone(), published.hash);
                    count += 1;
                }
                Err(error) => {
                    self.state().held.push_front((topic, message));
                    return Err(error);
                }
            }
        }
    }

    /// Every publication that left so far on `content_topic`, oldest first.
    pub(crate) fn published_on(&self, content_topic: &ContentTopic) -> Vec<MessageHash> {
        self.state()
            .published
            .iter()
            .filter(|(topic, _)| topic == content_topic)
            .map(|(_, hash)| *hash)
            .collect()
    }

    fn log(&self, topic: ContentTopic, hash: MessageHash) {
        let mut state = self.state();
        if state.published.len() >= MAX_SEEN_HASHES {
            state.published.pop_front();
        }
        state.published.push_back((topic, hash));
    }
}

impl Transport for Tap {
    type Error = RelayError;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, RelayError>> {
        Box::pin(async move {
            {
                let mut state = self.state();
                if state.holding && state.held.len() < MAX_HELD_MESSAGES {
                    // A second publication of a held message (the outbox may retry) is the same
                    // Waku message, with the same hash: hold it once.
                    let hash = message.hash(&pubsub_topic);
                    if !state.held.iter().any(|(topic, held)| held.hash(topic) == hash) {
                        state.held.push_back((pubsub_topic, message));
                    }
                    return Ok(hash);
                }
            }
            let topic = message.content_topic().clone();
            let hash = Transport::publish(&*self.node, pubsub_topic, message).await?;
            self.log(topic, hash);
            Ok(hash)
        })
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, RelayError>> {
        Transport::subscribe(&*self.node, filter)
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, RelayError>> {
        Transport::query(&*self.node, query)
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, RelayError>> {
        Transport::health(&*self.node)
    }
}
