//! [`Offline`]: a transport that is not connected to anything, for the commands that need a
//! running client but no network (`init`, `id`).
//!
//! ```text
//! publish    → Err(Offline)   the outbox keeps the message (one failed attempt is recorded)
//! subscribe  → Err(Offline)   the client logs it and carries on
//! query      → Err(Offline)   no catch-up
//! health     → no peers
//! ```
//! Refusing is the point: a transport that pretended to publish (a lone simulated node) would
//! make the facade mark queued messages as sent, and they would never reach the real network.
//! The facade lacks a way to create an account or read the contact code without starting a
//! client; see the crate README ("What the facade lacks").

use kaiwa::transport::{
    BoxFuture, ContentFilter, Health, MessageHash, PubsubTopic, StorePage, StoreQuery,
    Subscription, Transport, WakuMessage,
};

/// The error of every [`Offline`] operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not connected to a network")]
pub(crate) struct OfflineError;

/// A transport connected to nothing (module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Offline;

impl Transport for Offline {
    type Error = OfflineError;

    fn publish(
        &self,
        _pubsub_topic: PubsubTopic,
        _message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, OfflineError>> {
        Box::pin(async { Err(OfflineError) })
    }

    fn subscribe(
        &self,
        _filter: ContentFilter,
    ) -> BoxFuture<'_, Result<Subscription, OfflineError>> {
        Box::pin(async { Err(OfflineError) })
    }

    fn query(&self, _query: StoreQuery) -> BoxFuture<'_, Result<StorePage, OfflineError>> {
        Box::pin(async { Err(OfflineError) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, OfflineError>> {
        Box::pin(async { Ok(Health::new(Vec::new())) })
    }
}
