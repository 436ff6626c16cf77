//! Why a harness step failed ([`HarnessError`]) and what inbound data a peer refused
//! ([`Incident`]).
//!
//! A local action that fails (a send, a group action, an owner flow) is a `HarnessError`: the
//! test made a mistake or a crate refused a legitimate step, and the test stops. Inbound data
//! that a crate refuses (a malformed or unauthorized message, an undecryptable channel message)
//! is not an error of the receiver: it is recorded as an `Incident`, and the scenarios assert on
//! the exact list, so an unexpected refusal fails the test as surely as a missing delivery.

use kaiwa_session::InMemoryStoreError;

/// A harness step failed. One `#[from]` variant per lower-crate error family, as the facade's
/// `kaiwa::Error` will have.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum HarnessError {
    /// The simulated transport refused a publish or a query.
    #[error("transport")]
    Transport(#[from] kaiwa_transport::sim::SimError),
    /// A Waku message could not be built.
    #[error("waku message")]
    Message(#[from] kaiwa_transport::InvalidMessage),
    /// A content filter could not be built.
    #[error("content filter")]
    Filter(#[from] kaiwa_transport::FilterError),
    /// A store query could not be built.
    #[error("store query")]
    Query(#[from] kaiwa_transport::QueryError),
    /// Encrypting a 1:1 message failed.
    #[error("1:1 send")]
    Send(#[from] kaiwa_session::SendError<InMemoryStoreError>),
    /// Reading the session store failed.
    #[error("1:1 session store")]
    Sessions(#[from] kaiwa_session::ReceiveError<InMemoryStoreError>),
    /// The in-memory session store failed (it cannot).
    #[error("session store")]
    SessionStore(#[from] InMemoryStoreError),
    /// An installation id was refused.
    #[error("installation id")]
    Installation(#[from] kaiwa_session::InstallationIdError),
    /// A local group action was refused.
    #[error("group action")]
    Group(#[from] kaiwa_group::ActionError),
    /// An owner-side organization flow was refused.
    #[error("organization flow")]
    Flow(#[from] kaiwa_org::FlowError),
    /// A channel message could not be encrypted.
    #[error("channel encryption")]
    ChannelEncrypt(#[from] kaiwa_org::EncryptError),
    /// An organization id (channel id) was refused.
    #[error("organization id")]
    OrgDecode(#[from] kaiwa_org::DecodeError),
    /// Our own organization update did not apply to our own view.
    #[error("own organization update")]
    OwnDescription(#[from] kaiwa_org::DescriptionError),
    /// Our own organization re-key did not apply to our own view.
    #[error("own organization re-key")]
    OwnRekey(#[from] kaiwa_org::RekeyError),
    /// The negotiated-topic DH failed.
    #[error("negotiated topic")]
    Dh(#[from] kaiwa_crypto::DhError),
    /// No valid bundle of the peer is on its contact-code topic.
    #[error("no bundle of the peer was found on its contact-code topic")]
    NoBundle,
    /// This peer has no group with that chat id.
    #[error("unknown group")]
    UnknownGroup,
    /// This peer neither owns nor follows that organization.
    #[error("unknown organization")]
    UnknownOrg,
    /// The organization is not owned by this peer.
    #[error("not the owner")]
    NotOwner,
    /// A member id does not name a valid identity key.
    #[error("member id is not a valid key")]
    MemberKey,
    /// [`settle`](super::settle) gave up: the peers kept producing traffic.
    #[error("the network did not settle within {rounds} rounds")]
    NotSettled {
        /// Rounds run.
        rounds: usize,
    },
}

/// Inbound data a peer refused or could not use, with the crate's typed reason.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub(crate) enum Incident {
    /// A 1:1 message was malformed.
    SessionMessage(kaiwa_session::ReceiveError<InMemoryStoreError>),
    /// A 1:1 message did not decrypt.
    Undecryptable(kaiwa_session::UndecryptableReason),
    /// A 1:1 message was a replay the session caught (the hash dedup should have).
    SessionDuplicate,
    /// A peer reset our session.
    SessionReset,
    /// The session manager returned an outcome this harness does not know.
    SessionOther,
    /// A decrypted 1:1 payload has no valid test frame.
    Frame(super::frame::FrameError),
    /// A group message did not decode.
    GroupDecode(kaiwa_group::DecodeError),
    /// A group message was refused.
    GroupReceive(kaiwa_group::ReceiveError),
    /// Events of a group message were not applied.
    GroupEvents(Vec<kaiwa_group::RejectedEvent>),
    /// A group chat entity was not delivered.
    GroupEntity(kaiwa_group::ChatEntityError),
    /// An organization invitation was refused.
    Invitation(kaiwa_org::ResponseError),
    /// A join response opened for none of our outstanding requests.
    Response(kaiwa_org::ResponseError),
    /// A join response arrived while no request was outstanding.
    UnexpectedResponse,
    /// An organization description (or segment) was refused.
    Description(kaiwa_org::DescriptionError),
    /// A re-key part was refused.
    Rekey(kaiwa_org::RekeyError),
    /// A channel message was refused for good.
    Channel(kaiwa_org::DecryptError),
    /// A message on an organization topic has a type that does not belong there.
    UnexpectedType {
        /// The `ApplicationMetadataMessage.type` value, or -1 if it did not decode.
        kind: i32,
    },
}
