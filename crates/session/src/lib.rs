//! The sans-IO core of 1:1 chats: 55/STATUS-1TO1-CHAT over 53/WAKU2-X3DH and
//! 54/WAKU2-X3DH-SESSIONS, with the choices of DECISIONS.md.
//!
//! - **Accounts and bundles**: an Ed25519 identity, an independent X25519 identity DH key,
//!   per-installation signed prekeys with rotation and a grace period ([`Account`]); bundles
//!   are parsed as [`Bundle`] and become [`VerifiedBundle`] only through
//!   [`Bundle::verify`] (signature, bounds, timestamps).
//! - **X3DH** in Signal's form without one-time prekeys ([`Session::initiate`],
//!   [`Session::respond`], which decrypts the first message in the same call).
//! - **Double ratchet** in Signal's form with ChaCha20-Poly1305 ([`Session`]), bounded skipped
//!   keys and receiving chains ([`limits`]), authenticate-then-commit decryption, replays
//!   reported as duplicates.
//! - **Session management** ([`SessionManager`]): several installations per identity, one
//!   envelope per installation, superseding on a newer prekey, deterministic concurrent
//!   initiation, automatic rate-limited recovery.
//! - **Identity verification**: contact codes for QR codes ([`encode_contact_code`],
//!   [`decode_contact_code`]) and safety numbers ([`safety_number`]).
//! - **Topics**: the negotiated-topic secret of two identities ([`negotiated_secret`]); the
//!   topic names themselves are built by kaiwa-transport's `TopicScheme`.
//! - **Storage**: whole-record [`SessionStore`] and [`AccountStore`] traits with in-memory
//!   implementations; records are versioned `kaiwa.store.v1` protobuf messages.
//!
//! It is **not** a transport: it never touches Waku, a socket or a content topic (the facade
//! puts the topic names into `/kaiwa/1/<name>/proto` through kaiwa-transport). It has no group
//! or organization logic.
//!
//! # Invariants
//!
//! - **Sans-IO**: bytes in, bytes out. No clock and no RNG is ever read: every operation that
//!   needs time takes a [`Timestamp`], every one that needs randomness a `&mut impl
//!   CryptoRng`.
//! - **Authenticate, then commit**: a message that fails to decrypt, for any reason, leaves
//!   the session exactly as it was, and so does one that decrypts but fails a later check
//!   (an invalid frame); an inbound session exists only once its first message decrypted and
//!   its frame checked out.
//! - **Bounded state**: every bound lives in [`limits`]; stores evict the oldest entry.
//! - **No prost type in the public API** besides the `TryFrom`/`From` conversions at the wire
//!   boundary; signatures are checked over canonical material built from the parsed fields,
//!   never over a protobuf re-encoding.
//! - **Secrets** are kaiwa-crypto types or boxed newtypes, wiped on drop, never `Clone`,
//!   printed as `Type(..)`; they reach storage only through records that are themselves
//!   wiped and show only their length.
//! - **Records are trusted at rest, the network is not**: loading our own records does no
//!   curve arithmetic (a stored ratchet key pair is read back with its stored public half,
//!   stored identities are compared with the validated key they were looked up by); every
//!   key that arrives from the network is decoded strictly.
//! - **No panics on any input**: every decoder returns an error (property-tested), and so
//!   does every loader on a corrupt record.
//!
//! # Example
//!
//! ```
//! use kaiwa_session::{
//!     Account, InMemorySessionStore, InstallationId, Received, SessionConfig, SessionManager,
//!     Timestamp, decode_contact_code, encode_contact_code, safety_number,
//! };
//! # use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! # let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let config = SessionConfig::default();
//!
//! let alice_account = Account::generate(InstallationId::new("alice-phone")?, &mut rng, now);
//! let bob_account = Account::generate(InstallationId::new("bob-phone")?, &mut rng, now);
//! let mut alice = SessionManager::new(alice_account, config, now);
//! let mut bob = SessionManager::new(bob_account, config, now);
//! let (mut alice_store, mut bob_store) = (InMemorySessionStore::new(), InMemorySessionStore::new());
//!
//! // Alice scans Bob's contact code: it verifies his identity and carries his bundle.
//! let code = encode_contact_code(bob.bundle());
//! let bob_bundle = decode_contact_code(&code, now, config.max_installations)?;
//! alice.process_bundle(&mut alice_store, &bob_bundle)?;
//!
//! // One envelope per installation of Bob; Bob learns Alice from the attached bundle.
//! let bob_id = bob.account().identity_key();
//! let message = alice.encrypt(&mut alice_store, &bob_id, b"hi Bob", &mut rng, now)?;
//! match bob.receive(&mut bob_store, message.as_bytes(), &mut rng, now)? {
//!     Received::Message { from, plaintext } => {
//!         assert_eq!(plaintext.as_slice(), b"hi Bob");
//!         // Both sides can compare the same safety number out loud.
//!         let number = safety_number(&from.identity, &bob_id);
//!         assert_eq!(number, safety_number(&bob_id, &alice.account().identity_key()));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod account;
mod bundle;
mod chain;
mod config;
mod contact_code;
mod error;
mod fingerprint;
mod header;
mod installation;
pub mod limits;
mod message_key;
mod peer;
mod ratchet;
mod record;
mod session_manager;
mod store;
mod timestamp;
mod topic;
mod x3dh;

pub use kaiwa_crypto::{CryptoRng, IdentityPublicKey};

pub use crate::account::Account;
pub use crate::bundle::{
    BUNDLE_SIGNATURE_CONTEXT, Bundle, PROTOCOL_VERSION, SignedPreKeyPublic, VerifiedBundle,
};
pub use crate::config::SessionConfig;
pub use crate::contact_code::{CONTACT_CODE_PREFIX, decode_contact_code, encode_contact_code};
pub use crate::error::{
    AccountStoreError, BundleError, ContactCodeError, DecodeError, DecryptError, EncryptError,
    ReceiveError, RecordError, SendError, SessionCreationError,
};
pub use crate::fingerprint::{FINGERPRINT_CONTEXT, SafetyNumber, safety_number};
pub use crate::header::{Envelope, RatchetHeader, X3dhHeader};
pub use crate::installation::{InstallationId, InstallationIdError};
pub use crate::ratchet::{ROOT_KDF_INFO, Session, SessionId};
pub use crate::session_manager::{
    OutgoingMessage, PeerAddress, Received, SessionManager, UndecryptableReason,
};
pub use crate::store::{
    AccountRecord, AccountStore, InMemoryAccountStore, InMemorySessionStore, InMemoryStoreError,
    PeerRecord, RECORD_VERSION, SessionRecord, SessionStore, SignedPreKeyRecord, load_account,
    save_account,
};
pub use crate::timestamp::Timestamp;
pub use crate::topic::{NEGOTIATED_TOPIC_INFO, NegotiatedSecret, negotiated_secret};
pub use crate::x3dh::{SESSION_ID_INFO, X3DH_INFO};
