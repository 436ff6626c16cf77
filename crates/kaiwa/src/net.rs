//! The transport as the facade holds it, and what each subscription carries.
//!
//! ```text
//! route            content topic (kaiwa-transport TopicScheme)      handled by
//! Direct           contact-discovery-{p(us)}, negotiated-{h}        kaiwa-session, then the payload type
//! OrgDescription   org-{org}-description                            descriptions, segments, re-keys, responses
//! OrgRequests      org-{org}-requests   (organizations we own)      Organization::handle_request
//! OrgChannel       org-{org}-channel-{h}                            OrganizationView::decrypt
//! ```
//! Every pubsub topic comes from autosharding the content topic (DECISIONS "Waku layer").

use kaiwa_org::OrgId;
use kaiwa_transport::{
    BoxFuture, ContentFilter, MessageHash, PubsubTopic, StorePage, StoreQuery, Subscription,
    Transport, WakuMessage,
};

use crate::error::TransportError;

/// Which layer a subscription's messages go to (module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Route {
    /// 1:1 `ProtocolMessage`s.
    Direct,
    /// An organization's broadcast topic.
    OrgDescription(OrgId),
    /// Sealed requests to an organization we own.
    OrgRequests(OrgId),
    /// One of an organization's channels.
    OrgChannel(OrgId),
}

/// [`Transport`] with its error type erased, so a client is not generic over it.
pub(crate) trait Net: Send + Sync + 'static {
    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, TransportError>>;
    fn subscribe(
        &self,
        filter: ContentFilter,
    ) -> BoxFuture<'_, Result<Subscription, TransportError>>;
    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, TransportError>>;
}

impl<T: Transport + 'static> Net for T {
    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, TransportError>> {
        Box::pin(async move {
            Transport::publish(self, pubsub_topic, message).await.map_err(TransportError::failed)
        })
    }

    fn subscribe(
        &self,
        filter: ContentFilter,
    ) -> BoxFuture<'_, Result<Subscription, TransportError>> {
        Box::pin(
            async move { Transport::subscribe(self, filter).await.map_err(TransportError::failed) },
        )
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, TransportError>> {
        Box::pin(async move { Transport::query(self, query).await.map_err(TransportError::failed) })
    }
}
