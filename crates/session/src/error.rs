//! Error types, one per operation family (openmls's split: bad input from a peer or from
//! disk, API misuse, dependency failure, and "cannot happen").
//!
//! Rules that hold for every type here:
//! - no variant carries key material, plaintext, or a copy of peer input; only static field
//!   names and numbers;
//! - authentication failures are one opaque `Unauthenticated` variant;
//! - every enum is `#[non_exhaustive]` and `Debug + PartialEq`.

use crate::installation::InstallationIdError;

/// Bytes from a peer or from disk are not a well-formed message of the expected kind
/// (syntax only: nothing has been authenticated yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a valid protobuf encoding.
    #[error("not a valid protobuf encoding")]
    Protobuf,
    /// The input is longer than the limit for its kind.
    #[error("input has {actual} bytes, the limit is {limit}")]
    TooLong {
        /// Limit for this kind of input.
        limit: usize,
        /// Length given.
        actual: usize,
    },
    /// A required field is absent or empty.
    #[error("field `{field}` is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A fixed-size field has the wrong length.
    #[error("field `{field}` has {actual} bytes, expected {expected}")]
    Length {
        /// The field.
        field: &'static str,
        /// Its fixed length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A field holds a value that is not allowed (an invalid key, an out-of-range number,
    /// an unknown flag, a field that must be absent).
    #[error("field `{field}` has an invalid value")]
    Invalid {
        /// The field.
        field: &'static str,
    },
    /// A repeated field or map has more entries than allowed.
    #[error("`{what}` has {actual} entries, the limit is {limit}")]
    TooMany {
        /// The repeated field.
        what: &'static str,
        /// Its limit.
        limit: usize,
        /// Entries given.
        actual: usize,
    },
    /// The entries of a list that has one canonical order (strictly ascending by key) are
    /// out of order or repeat a key, so the same content would have several encodings.
    #[error("entries of `{field}` are not in strictly ascending order")]
    Order {
        /// The field whose entries are out of order.
        field: &'static str,
    },
    /// An installation id is malformed.
    #[error("invalid installation id")]
    InstallationId(#[from] InstallationIdError),
    /// A stored record has a version this code does not know.
    #[error("unsupported record version {got}")]
    Version {
        /// The version found.
        got: u32,
    },
}

impl From<prost::DecodeError> for DecodeError {
    fn from(_: prost::DecodeError) -> Self {
        // prost's error text can quote input; keep only the category.
        Self::Protobuf
    }
}

impl From<kaiwa_crypto::DecodeError> for DecodeError {
    fn from(err: kaiwa_crypto::DecodeError) -> Self {
        match err {
            kaiwa_crypto::DecodeError::Length { field, expected, actual } => {
                Self::Length { field, expected, actual }
            }
            kaiwa_crypto::DecodeError::InvalidKey { field }
            | kaiwa_crypto::DecodeError::Hex { field } => Self::Invalid { field },
            _ => Self::Invalid { field: "key" },
        }
    }
}

/// A parsed bundle was rejected by [`Bundle::verify`](crate::Bundle::verify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The signature does not verify for the bundle's identity (opaque).
    #[error("bundle signature is invalid")]
    Unauthenticated,
    /// More installations than the configured bound.
    #[error("bundle lists {actual} installations, the limit is {limit}")]
    TooManyInstallations {
        /// The configured bound.
        limit: usize,
        /// Installations listed.
        actual: usize,
    },
    /// The bundle or one of its prekeys claims a time too far in the future.
    #[error("bundle timestamp lies more than {max_skew_ms} ms in the future")]
    FromTheFuture {
        /// The allowed clock skew.
        max_skew_ms: u64,
    },
    /// The bundle is not for the identity it was expected from.
    #[error("bundle belongs to another identity")]
    WrongIdentity,
}

/// A contact code could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContactCodeError {
    /// Wrong prefix, a character outside the alphabet, or a truncated encoding.
    #[error("not a kaiwa contact code")]
    Format,
    /// Longer than [`MAX_CONTACT_CODE_LEN`](crate::limits::MAX_CONTACT_CODE_LEN).
    #[error("contact code has {actual} characters, the limit is {limit}")]
    TooLong {
        /// Limit.
        limit: usize,
        /// Length given.
        actual: usize,
    },
    /// An unknown contact-code version.
    #[error("unsupported contact code version {got}")]
    Version {
        /// Version byte found.
        got: u8,
    },
    /// The embedded bundle is malformed.
    #[error("contact code holds a malformed bundle")]
    Decode(#[from] DecodeError),
    /// The embedded bundle does not verify.
    #[error("contact code bundle rejected")]
    Bundle(#[from] BundleError),
}

/// X3DH could not produce a session (53/WAKU2-X3DH).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionCreationError {
    /// The envelope has no X3DH header, so it cannot start a session.
    #[error("the message does not start a session")]
    MissingX3dhHeader,
    /// The peer's bundle has no signed prekey for this installation.
    #[error("the bundle has no prekey for this installation")]
    UnknownInstallation,
    /// The message names a signed prekey of ours that we do not hold (never ours, or retired
    /// past its grace period).
    #[error("the message uses a signed prekey we do not hold")]
    UnknownPreKey,
    /// The message's X3DH header names a different identity than the bundle given.
    #[error("the X3DH header and the bundle name different identities")]
    IdentityMismatch,
    /// A Diffie-Hellman output was all zero (a key of small order); rejected, DECISIONS.md
    /// "Suite".
    #[error("a Diffie-Hellman input is a key of small order")]
    NonContributory,
    /// The first message did not decrypt; no session was created.
    #[error("the first message could not be decrypted")]
    Decrypt(#[from] DecryptError),
}

/// Encrypting failed; the session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// The plaintext exceeds [`MAX_PLAINTEXT_LEN`](crate::limits::MAX_PLAINTEXT_LEN).
    #[error("plaintext has {actual} bytes, the limit is {limit}")]
    TooLong {
        /// Limit.
        limit: usize,
        /// Length given.
        actual: usize,
    },
    /// The sending chain is exhausted (2^32 messages without a reply).
    #[error("sending chain exhausted")]
    ChainExhausted,
    /// The peer's ratchet key is of small order, so no sending chain can be derived. Only a
    /// corrupted record can cause this: received keys are authenticated before use.
    #[error("the peer ratchet key is invalid")]
    InvalidRatchetKey,
}

/// A message was rejected. The session is exactly as it was before the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// Authentication failed. Deliberately does not say which check failed.
    #[error("message could not be authenticated")]
    Unauthenticated,
    /// This exact message was decrypted before (a replay or a network duplicate).
    #[error("message was already decrypted")]
    Duplicate,
    /// The message is further ahead in its chain than [`MAX_SKIP`](crate::limits::MAX_SKIP).
    #[error("message is {ahead} keys ahead of its chain, the limit is {limit}")]
    TooFarAhead {
        /// Keys that would have to be skipped.
        ahead: u32,
        /// The limit.
        limit: u32,
    },
    /// The message key was used already or has been discarded (evicted, or its chain
    /// dropped), and the message is not a recent exact duplicate.
    #[error("message key was already used or has been discarded")]
    KeyUnavailable,
    /// The message is not for this session (another bundle id).
    #[error("message belongs to another session")]
    WrongSession,
    /// The envelope is malformed.
    #[error("malformed message")]
    Decode(#[from] DecodeError),
}

/// A stored record could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record bytes are malformed or of an unknown version.
    #[error("malformed record")]
    Decode(#[from] DecodeError),
    /// The record belongs to another key than the one it was loaded for.
    #[error("record belongs to another peer or installation")]
    Mismatch,
}

/// [`SessionManager::encrypt`](crate::SessionManager::encrypt) failed. Nothing was stored.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError<E: std::error::Error + 'static> {
    /// No bundle of the peer is known: fetch one (contact code or contact-code topic) and
    /// pass it to [`SessionManager::process_bundle`](crate::SessionManager::process_bundle).
    #[error("no bundle is known for this peer")]
    NoBundle,
    /// The plaintext was rejected.
    #[error("encryption failed")]
    Encrypt(#[from] EncryptError),
    /// X3DH with a peer installation failed.
    #[error("session creation failed")]
    SessionCreation(#[from] SessionCreationError),
    /// The stored peer record is unreadable.
    #[error("stored record is unreadable")]
    Record(#[from] RecordError),
    /// The store failed.
    #[error("session store failed")]
    Store(#[source] E),
}

/// [`SessionManager::receive`](crate::SessionManager::receive) could not process a message
/// at all. (A message that is well formed but does not decrypt is not an error: see
/// [`Received::Undecryptable`](crate::Received::Undecryptable).) Nothing was stored.
///
/// A message that decrypts but whose frame is invalid (an unknown flag bit, an empty frame, a
/// bad RESET body) is [`Decode`](Self::Decode) too: only the holder of the session keys can
/// send one, and it is refused without advancing the session.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError<E: std::error::Error + 'static> {
    /// The message is malformed (its container, or its frame once decrypted).
    #[error("malformed message")]
    Decode(#[from] DecodeError),
    /// The stored peer record is unreadable.
    #[error("stored record is unreadable")]
    Record(#[from] RecordError),
    /// The store failed.
    #[error("session store failed")]
    Store(#[source] E),
}

/// Storing or loading the account failed.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountStoreError<E: std::error::Error + 'static> {
    /// A stored record is unreadable.
    #[error("stored account record is unreadable")]
    Record(#[from] RecordError),
    /// No account is stored.
    #[error("no account is stored")]
    NotFound,
    /// The store failed.
    #[error("account store failed")]
    Store(#[source] E),
}
