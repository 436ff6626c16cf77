//! kaiwa-session (under construction).

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

pub use crate::account::Account;
pub use crate::bundle::{BUNDLE_SIGNATURE_CONTEXT, Bundle, PROTOCOL_VERSION, SignedPreKeyPublic, VerifiedBundle};
pub use crate::config::SessionConfig;
pub use crate::contact_code::{CONTACT_CODE_PREFIX, decode_contact_code, encode_contact_code};
pub use crate::error::*;
pub use crate::fingerprint::{FINGERPRINT_CONTEXT, SafetyNumber, safety_number};
pub use crate::header::{Envelope, RatchetHeader, X3dhHeader};
pub use crate::installation::{InstallationId, InstallationIdError};
pub use crate::ratchet::{ROOT_KDF_INFO, Session, SessionId};
pub use crate::session_manager::{OutgoingMessage, PeerAddress, Received, SessionManager, UndecryptableReason};
pub use crate::store::*;
pub use crate::timestamp::Timestamp;
pub use crate::topic::*;
pub use crate::x3dh::{SESSION_ID_INFO, X3DH_INFO};
