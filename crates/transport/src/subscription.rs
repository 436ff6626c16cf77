//! Subscriptions: what a node asks to receive, and the stream it receives it on.
//!
//! ```text
//! ContentFilter = pubsub topic + (every content topic | 1..=100 content topics)
//! Subscription  = Stream<Item = ReceivedMessage>, unsubscribed when dropped
//! ```
//!
//! The bound of 100 content topics is 12/WAKU2-FILTER's (nwaku `MaxContentTopicsPerRequest`).
//! A subscription can be awaited (`next().await`, or as a `futures_core::Stream`) or polled
//! without blocking (`try_next`), so the same [`Subscription`] serves async facades and
//! synchronous sans-IO scenario tests.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::BTreeSet;

use futures_core::Stream;

use crate::content_topic::ContentTopic;
use crate::hash::MessageHash;
use crate::limits::MAX_FILTER_CONTENT_TOPICS;
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;

/// Why a content filter cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// No content topic was given; use [`ContentFilter::whole_pubsub_topic`] to receive
    /// everything on a pubsub topic.
    #[error("a content filter needs at least one content topic")]
    NoContentTopics,
    /// More distinct content topics than [`MAX_FILTER_CONTENT_TOPICS`].
    #[error("{actual} content topics, more than {max}")]
    TooManyContentTopics {
        /// The bound.
        max: usize,
        /// Distinct topics counted when the bound was passed (the input may hold more).
        actual: usize,
    },
}

/// Which messages a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentFilter {
    pubsub_topic: PubsubTopic,
    /// `None`: every content topic on the pubsub topic.
    content_topics: Option<BTreeSet<ContentTopic>>,
}

impl ContentFilter {
    /// Messages on `pubsub_topic` whose content topic is one of `content_topics`.
    ///
    /// # Errors
    ///
    /// [`FilterError::NoContentTopics`] for an empty list,
    /// [`FilterError::TooManyContentTopics`] for more than [`MAX_FILTER_CONTENT_TOPICS`]
    /// distinct topics.
    pub fn new(
        pubsub_topic: PubsubTopic,
        content_topics: impl IntoIterator<Item = ContentTopic>,
    ) -> Result<Self, FilterError> {
        let mut topics = BTreeSet::new();
        for topic in content_topics {
            topics.insert(topic);
            if topics.len() > MAX_FILTER_CONTENT_TOPICS {
                return Err(FilterError::TooManyContentTopics {
                    max: MAX_FILTER_CONTENT_TOPICS,
                    actual: topics.len(),
                });
            }
        }
        if topics.is_empty() {
            return Err(FilterError::NoContentTopics);
        }
        Ok(Self { pubsub_topic, content_topics: Some(topics) })
    }

    /// Every message on `pubsub_topic`, as a relay node subscribed to the shard sees it.
    pub fn whole_pubsub_topic(pubsub_topic: PubsubTopic) -> Self {
        Self { pubsub_topic, content_topics: None }
    }

    /// The pubsub topic.
    pub fn pubsub_topic(&self) -> &PubsubTopic {
        &self.pubsub_topic
    }

    /// The content topics, or `None` for every content topic.
    pub fn content_topics(&self) -> Option<&BTreeSet<ContentTopic>> {
        self.content_topics.as_ref()
    }

    /// Whether a message with `content_topic` on `pubsub_topic` passes this filter.
    pub fn matches(&self, pubsub_topic: &PubsubTopic, content_topic: &ContentTopic) -> bool {
        self.pubsub_topic == *pubsub_topic
            && self.content_topics.as_ref().is_none_or(|topics| topics.contains(content_topic))
    }
}

/// A message as a node receives it, from relay or from a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedMessage {
    /// The pubsub topic it travelled on.
    pub pubsub_topic: PubsubTopic,
    /// The message.
    pub message: WakuMessage,
    /// Its deterministic hash on `pubsub_topic`.
    pub hash: MessageHash,
}

impl ReceivedMessage {
    /// Wraps `message`, computing its hash on `pubsub_topic`.
    pub fn new(pubsub_topic: PubsubTopic, message: WakuMessage) -> Self {
        let hash = message.hash(&pubsub_topic);
        Self { pubsub_topic, message, hash }
    }
}

/// A live subscription: a stream of [`ReceivedMessage`]s. Dropping it unsubscribes.
pub struct Subscription {
    inner: Pin<Box<dyn Stream<Item = ReceivedMessage> + Send>>,
}

impl Subscription {
    /// Wraps a stream; transports build their subscriptions with this.
    pub fn new(stream: impl Stream<Item = ReceivedMessage> + Send + 'static) -> Self {
        Self { inner: Box::pin(stream) }
    }

    /// The next message if one is ready now, without waiting. `None` means nothing is ready
    /// (or the transport has closed the stream).
    pub fn try_next(&mut self) -> Option<ReceivedMessage> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.inner.as_mut().poll_next(&mut cx) {
            Poll::Ready(item) => item,
            Poll::Pending => None,
        }
    }

    /// Every message ready now, in arrival order.
    pub fn drain(&mut self) -> Vec<ReceivedMessage> {
        core::iter::from_fn(|| self.try_next()).collect()
    }

    /// Waits for the next message; `None` once the transport has closed the stream.
    pub async fn next(&mut self) -> Option<ReceivedMessage> {
        core::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }
}

impl Stream for Subscription {
    type Item = ReceivedMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pubsub() -> PubsubTopic {
        PubsubTopic::parse("/waku/2/rs/1/0").unwrap()
    }

    fn topic(name: &str) -> ContentTopic {
        ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
    }

    #[test]
    fn filters_are_bounded_and_match_exactly() {
        assert_eq!(ContentFilter::new(pubsub(), []), Err(FilterError::NoContentTopics));
        let many = (0..=MAX_FILTER_CONTENT_TOPICS).map(|i| topic(&i.to_string()));
        assert_eq!(
            ContentFilter::new(pubsub(), many),
            Err(FilterError::TooManyContentTopics { max: 100, actual: 101 })
        );
        let filter = ContentFilter::new(pubsub(), [topic("a"), topic("a")]).unwrap();
        assert_eq!(filter.content_topics().map(BTreeSet::len), Some(1));
        assert!(filter.matches(&pubsub(), &topic("a")));
        assert!(!filter.matches(&pubsub(), &topic("b")));
        let other = PubsubTopic::parse("/waku/2/rs/1/1").unwrap();
        assert!(!filter.matches(&other, &topic("a")));
        assert!(ContentFilter::whole_pubsub_topic(pubsub()).matches(&pubsub(), &topic("b")));
    }

    #[test]
    fn try_next_does_not_block() {
        let message = WakuMessage::new(topic("a"), vec![1]).unwrap();
        let items = vec![ReceivedMessage::new(pubsub(), message)];
        let mut subscription = Subscription::new(Iter(items.clone().into_iter()));
        assert_eq!(subscription.drain(), items);
        assert_eq!(subscription.try_next(), None);
    }

    struct Iter(std::vec::IntoIter<ReceivedMessage>);

    impl Stream for Iter {
        type Item = ReceivedMessage;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }
}
