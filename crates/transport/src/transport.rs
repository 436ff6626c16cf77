//! The `Transport` trait: what the chat layers need from Waku.
//!
//! ```text
//! publish(pubsub topic, message)  → message hash          11/WAKU2-RELAY (or light push)
//! subscribe(content filter)       → Subscription stream   11/WAKU2-RELAY (or 12/WAKU2-FILTER)
//! query(store query)              → one StorePage          13/WAKU2-STORE v3
//! health()                        → peers and status
//! ```
//!
//! The trait is dyn-compatible: methods return boxed `Send` futures, so a facade can hold an
//! `Arc<dyn Transport<Error = E>>` or be generic over `T: Transport`. No runtime appears in the
//! signatures; a libp2p node implements it by forwarding to its swarm task (through channels)
//! and the simulated network implements it synchronously.
//!
//! Contract for implementations:
//! - `publish` returns once the message has left for the network (relay: handed to gossipsub),
//!   with the hash [`WakuMessage::hash`] gives on that pubsub topic. It does not wait for
//!   delivery; the message may still be lost.
//! - Whether a node's subscriptions see its own publications is up to the implementation
//!   (rust-libp2p gossipsub does not deliver them; nim-libp2p can, with `triggerSelf`); the
//!   simulated network never does. The chat layers keep their own copies and deduplicate.
//! - Messages can arrive duplicated, late, out of order or never: the chat layers deduplicate
//!   by [`MessageHash`](crate::MessageHash) and recover gaps with `query`.
//! - `query` answers one page; [`StoreQuery::next_page`] builds the request for the next.
//! - Failures of the transport itself are `Self::Error` (a dependency failure, STYLE §3.6);
//!   invalid input cannot reach it, because every argument is a validated domain type.

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use crate::hash::MessageHash;
use crate::health::Health;
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;
use crate::query::{StorePage, StoreQuery};
use crate::subscription::{ContentFilter, Subscription};

/// A boxed `Send` future, the return type of every [`Transport`] method.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Publish, subscribe, query history and report health over Waku; see the module
/// documentation for the contract.
pub trait Transport: Send + Sync {
    /// Failures of the transport itself (no peers, store unreachable, I/O).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Publishes `message` on `pubsub_topic`; resolves to its message hash.
    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, Self::Error>>;

    /// Starts receiving the messages that pass `filter`.
    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, Self::Error>>;

    /// Asks a store for one page of history.
    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, Self::Error>>;

    /// The node's peers and health.
    fn health(&self) -> BoxFuture<'_, Result<Health, Self::Error>>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    type Error = T::Error;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, Self::Error>> {
        (**self).publish(pubsub_topic, message)
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, Self::Error>> {
        (**self).subscribe(filter)
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, Self::Error>> {
        (**self).query(query)
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, Self::Error>> {
        (**self).health()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    type Error = T::Error;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, Self::Error>> {
        (**self).publish(pubsub_topic, message)
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, Self::Error>> {
        (**self).subscribe(filter)
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, Self::Error>> {
        (**self).query(query)
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, Self::Error>> {
        (**self).health()
    }
}
