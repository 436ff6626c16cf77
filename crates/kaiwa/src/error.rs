//! Errors: [`Error`], with one variant per lower crate (STYLE §3.6) and the facade's own.
//!
//! The split is openmls's: invalid input (a contact code that does not verify, an id that does
//! not parse), API misuse (sending to a group we are not in), dependency failures (the store,
//! the transport) and "cannot happen" ([`Error::Internal`], never a panic). Like every error
//! of the workspace, none carries secrets, plaintext or a copy of peer input.

use kaiwa_store::{OpenError, StoreError};

/// Everything a [`Client`](crate::Client) operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite store failed (disk full, I/O, a corrupt value). The operation changed
    /// nothing: its transaction was rolled back.
    #[error("the store failed")]
    Store(#[from] StoreError),
    /// The store could not be opened or migrated.
    #[error("the store could not be opened")]
    Open(#[from] OpenError),
    /// The transport failed, or a message could not be built for it.
    #[error("the transport failed")]
    Transport(#[from] TransportError),
    /// The 1:1 session layer refused the input or failed.
    #[error("the 1:1 session layer failed")]
    Session(#[from] SessionError),
    /// The private-group layer refused the action or the input.
    #[error("the private-group layer failed")]
    Group(#[from] GroupError),
    /// The organization layer refused the action or the input.
    #[error("the organization layer failed")]
    Org(#[from] OrgError),
    /// The profile directory could not be created, or the state file of an old profile
    /// could not be moved into the store.
    #[error("the profile directory failed")]
    Profile(#[from] ProfileError),
    /// The profile directory already holds an account ([`Client::create`](crate::Client::create)).
    #[error("the profile already holds an account")]
    ProfileExists,
    /// The profile holds no account ([`Client::open`](crate::Client::open)).
    #[error("the profile holds no account")]
    NoProfile,
    /// The peer is not a contact: add it first.
    #[error("unknown contact")]
    UnknownContact,
    /// No bundle of the peer is known or could be fetched, so no session can be started.
    #[error("no bundle is known for the peer")]
    NoBundle,
    /// The group is not known to this client.
    #[error("unknown group")]
    UnknownGroup,
    /// The organization is not known to this client (neither owned nor followed).
    #[error("unknown organization")]
    UnknownOrg,
    /// The action needs ownership of the organization.
    #[error("not the owner of the organization")]
    NotOwner,
    /// The action needs membership (of a group: joined; of an organization: listed).
    #[error("not a member")]
    NotAMember,
    /// A text id, chat id or channel id does not parse.
    #[error("`{field}` is not a valid id")]
    InvalidId {
        /// Which argument.
        field: &'static str,
    },
    /// A text is longer than the protocol allows.
    #[error("`{field}` is too long: {actual} characters, the limit is {limit}")]
    TooLong {
        /// Which argument.
        field: &'static str,
        /// The bound.
        limit: usize,
        /// The length given.
        actual: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Entropy,
    /// The client was shut down.
    #[error("the client is shut down")]
    ShutDown,
    /// A broken internal invariant; a bug, reported instead of a panic.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A failure of the transport, or a message that cannot be built for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The transport itself failed (no peers, store unreachable, I/O). Its own error is the
    /// source.
    #[error("the transport failed")]
    Failed {
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The Waku message would be invalid (too large, bad `meta`).
    #[error("invalid Waku message")]
    Message(#[from] kaiwa_transport::InvalidMessage),
    /// A content filter could not be built.
    #[error("invalid content filter")]
    Filter(#[from] kaiwa_transport::FilterError),
    /// A Store query could not be built.
    #[error("invalid store query")]
    Query(#[from] kaiwa_transport::QueryError),
    /// A stored topic does not parse (a corrupt outbox row).
    #[error("invalid content topic")]
    ContentTopic(#[from] kaiwa_transport::ContentTopicError),
    /// A stored pubsub topic does not parse (a corrupt outbox row).
    #[error("invalid pubsub topic")]
    PubsubTopic(#[from] kaiwa_transport::PubsubTopicError),
    /// The application name is not a valid content-topic segment.
    #[error("invalid application name")]
    ApplicationName(#[from] kaiwa_transport::ApplicationNameError),
}

impl TransportError {
    pub(crate) fn failed(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Failed { source: Box::new(source) }
    }
}

/// A refusal or failure of kaiwa-session.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A contact code did not parse or verify.
    #[error("invalid contact code")]
    ContactCode(#[from] kaiwa_session::ContactCodeError),
    /// A bundle did not verify.
    #[error("invalid bundle")]
    Bundle(#[from] kaiwa_session::BundleError),
    /// Bytes did not parse.
    #[error("malformed input")]
    Decode(#[from] kaiwa_session::DecodeError),
    /// Encryption failed.
    #[error("encryption failed")]
    Encrypt(#[from] kaiwa_session::EncryptError),
    /// A session could not be started.
    #[error("session creation failed")]
    SessionCreation(#[from] kaiwa_session::SessionCreationError),
    /// A stored session or account record is unreadable.
    #[error("unreadable record")]
    Record(#[from] kaiwa_session::RecordError),
    /// An installation id is invalid.
    #[error("invalid installation id")]
    InstallationId(#[from] kaiwa_session::InstallationIdError),
    /// A failure kaiwa-session added after this facade was written.
    #[error("unknown session failure")]
    Other,
}

impl From<kaiwa_session::SendError<StoreError>> for Error {
    fn from(error: kaiwa_session::SendError<StoreError>) -> Self {
        use kaiwa_session::SendError;
        match error {
            SendError::NoBundle => Self::NoBundle,
            SendError::Encrypt(e) => SessionError::Encrypt(e).into(),
            SendError::SessionCreation(e) => SessionError::SessionCreation(e).into(),
            SendError::Record(e) => SessionError::Record(e).into(),
            SendError::Store(e) => Self::Store(e),
            _ => SessionError::Other.into(),
        }
    }
}

impl From<kaiwa_session::ReceiveError<StoreError>> for Error {
    fn from(error: kaiwa_session::ReceiveError<StoreError>) -> Self {
        use kaiwa_session::ReceiveError;
        match error {
            ReceiveError::Decode(e) => SessionError::Decode(e).into(),
            ReceiveError::Record(e) => SessionError::Record(e).into(),
            ReceiveError::Store(e) => Self::Store(e),
            _ => SessionError::Other.into(),
        }
    }
}

impl From<kaiwa_session::AccountStoreError<StoreError>> for Error {
    fn from(error: kaiwa_session::AccountStoreError<StoreError>) -> Self {
        use kaiwa_session::AccountStoreError;
        match error {
            AccountStoreError::NotFound => Self::NoProfile,
            AccountStoreError::Record(e) => SessionError::Record(e).into(),
            AccountStoreError::Store(e) => Self::Store(e),
            _ => SessionError::Other.into(),
        }
    }
}

/// A refusal or failure of kaiwa-group.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// A local action was refused (not an admin, not joined, too large, ...).
    #[error("group action refused")]
    Action(#[from] kaiwa_group::ActionError),
    /// A received group message was refused.
    #[error("group message refused")]
    Receive(#[from] kaiwa_group::ReceiveError),
    /// A stored group record is unreadable.
    #[error("unreadable group record")]
    Record(#[from] kaiwa_group::RecordError),
    /// Bytes or an id did not parse.
    #[error("malformed group input")]
    Decode(#[from] kaiwa_group::DecodeError),
}

/// A refusal or failure of kaiwa-org.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    /// An owner or member action was refused.
    #[error("organization action refused")]
    Flow(#[from] kaiwa_org::FlowError),
    /// A request was refused.
    #[error("request refused")]
    Request(#[from] kaiwa_org::RequestError),
    /// A channel message could not be encrypted.
    #[error("channel encryption failed")]
    Encrypt(#[from] kaiwa_org::EncryptError),
    /// A channel message could not be decrypted.
    #[error("channel decryption failed")]
    Decrypt(#[from] kaiwa_org::DecryptError),
    /// A description was refused.
    #[error("description refused")]
    Description(#[from] kaiwa_org::DescriptionError),
    /// A re-key part was refused.
    #[error("re-key refused")]
    Rekey(#[from] kaiwa_org::RekeyError),
    /// A response or invitation was refused.
    #[error("response refused")]
    Response(#[from] kaiwa_org::ResponseError),
    /// Bytes, an id or a record did not parse.
    #[error("malformed organization input")]
    Decode(#[from] kaiwa_org::DecodeError),
}

/// The profile directory failed: creating it, or importing the state file of a kaiwa 0.1
/// profile ([`LEGACY_STATE_FILE`](crate::LEGACY_STATE_FILE)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Creating the directory, or reading or removing the old state file, failed.
    #[error("profile I/O failed while {operation}")]
    Io {
        /// What the facade was doing.
        operation: &'static str,
        /// The I/O error's kind (the error itself may quote a path).
        kind: std::io::ErrorKind,
    },
    /// The old state file is not one kaiwa 0.1 wrote; nothing of it was imported.
    #[error("the old state file is corrupt at line {line}")]
    StateCorrupt {
        /// The 1-based line number.
        line: usize,
    },
    /// The old state file is larger than
    /// [`MAX_STATE_FILE_BYTES`](crate::limits::MAX_STATE_FILE_BYTES) or has more than
    /// [`MAX_STATE_ENTRIES`](crate::limits::MAX_STATE_ENTRIES) entries.
    #[error("the old state file exceeds its bounds")]
    StateTooLarge,
}

macro_rules! from_via {
    ($($source:ty => $via:ident),* $(,)?) => {
        $(impl From<$source> for Error {
            fn from(error: $source) -> Self {
                $via::from(error).into()
            }
        })*
    };
}

from_via!(
    kaiwa_session::ContactCodeError => SessionError,
    kaiwa_session::BundleError => SessionError,
    kaiwa_session::DecodeError => SessionError,
    kaiwa_session::InstallationIdError => SessionError,
    kaiwa_session::RecordError => SessionError,
    kaiwa_group::ActionError => GroupError,
    kaiwa_group::ReceiveError => GroupError,
    kaiwa_group::RecordError => GroupError,
    kaiwa_group::DecodeError => GroupError,
    kaiwa_org::FlowError => OrgError,
    kaiwa_org::RequestError => OrgError,
    kaiwa_org::EncryptError => OrgError,
    kaiwa_org::DecryptError => OrgError,
    kaiwa_org::DescriptionError => OrgError,
    kaiwa_org::RekeyError => OrgError,
    kaiwa_org::ResponseError => OrgError,
    kaiwa_org::DecodeError => OrgError,
    kaiwa_transport::InvalidMessage => TransportError,
    kaiwa_transport::FilterError => TransportError,
    kaiwa_transport::QueryError => TransportError,
    kaiwa_transport::ContentTopicError => TransportError,
    kaiwa_transport::PubsubTopicError => TransportError,
    kaiwa_transport::ApplicationNameError => TransportError,
);
