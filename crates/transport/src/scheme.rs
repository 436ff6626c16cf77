//! kaiwa's content topics: one pure function per kind of traffic.
//!
//! Every topic is `/{app}/1/{name}/proto` (DECISIONS.md "Waku layer"; 23/WAKU2-TOPICS), `{app}`
//! configurable (default `kaiwa`). Keys are 32-byte Ed25519 public keys, written as lowercase hex.
//!
//! ```text
//! traffic                           {name}
//! bundles of an account             contact-code-{hex(account)}
//! first contact (partitioned)       contact-discovery-{p}
//!                                     p = u64_be( SHA-256(account)[0..8] ) mod 5000
//! 1:1 after X3DH (negotiated)       negotiated-{hex( SHA-256("kaiwa/transport/negotiated-topic/v1" ‖ secret)[0..16] )}
//! group (by chat id)                group-{hex( SHA-256("kaiwa/transport/group-topic/v1" ‖ utf8(chat_id))[0..16] )}
//! organization description          org-{hex(org)}-description
//! organization requests             org-{hex(org)}-requests
//! organization channel              org-{hex(org)}-channel-{hex( SHA-256("kaiwa/transport/org-channel-topic/v1" ‖ utf8(channel_id))[0..16] )}
//! ```
//!
//! Why each form:
//! - Public keys appear in clear: they are public, fixed-length and make traffic easy to trace
//!   when debugging; hashing them would hide nothing from anyone who knows the key.
//! - The partition (DECISIONS.md "1:1 sessions"; 54/WAKU2-X3DH-SESSIONS) hashes the *recipient's*
//!   account key so that first-contact traffic for many accounts shares 5000 topics (k-anonymity).
//! - The negotiated topic takes the 32-byte value the session layer derives by HKDF from
//!   `X25519(IK_a, IK_b)` (this crate cannot see keys). It is hashed again under its own label so
//!   the value itself never appears on the wire, and truncated to 128 bits, enough to avoid
//!   collisions between conversations.
//! - Chat and channel ids are arbitrary strings, so they are hashed under distinct labels: the
//!   name stays visible ASCII without `/` and bounded, whatever the id.
//! - With autosharding all of them share one shard per application; see [`crate::Autosharding`].
//!
//! Per DECISIONS.md, group messages are fanned out over the members' 1:1 sessions and so travel
//! on 1:1 topics; [`TopicScheme::group`] names a topic for traffic addressed to the group as a
//! whole, should the facade want one.

use core::fmt;

use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::content_topic::{ContentTopic, is_valid_segment};
use crate::hex;
use crate::limits::MAX_APPLICATION_NAME_LEN;

/// Number of partitioned first-contact topics (54/WAKU2-X3DH-SESSIONS; DECISIONS.md).
pub const PARTITION_COUNT: u16 = 5000;

/// Domain separation for the negotiated 1:1 topic.
const NEGOTIATED_TOPIC_CONTEXT: &[u8] = b"kaiwa/transport/negotiated-topic/v1";
/// Domain separation for the group topic.
const GROUP_TOPIC_CONTEXT: &[u8] = b"kaiwa/transport/group-topic/v1";
/// Domain separation for organization channel topics.
const CHANNEL_TOPIC_CONTEXT: &[u8] = b"kaiwa/transport/org-channel-topic/v1";

/// Application version in every kaiwa content topic.
const VERSION: &str = "1";
/// Encoding in every kaiwa content topic.
const ENCODING: &str = "proto";
/// Bytes of a hash kept in a derived name.
const TRUNCATED_HASH_LEN: usize = 16;

/// An account's public identity key (Ed25519, 32 bytes) as topic derivation sees it.
///
/// kaiwa-transport does not depend on kaiwa-crypto; the caller passes the key's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountKey([u8; 32]);

impl AccountKey {
    /// The key with these bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// An organization's public key (Ed25519, 32 bytes), which is also its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgKey([u8; 32]);

impl OrgKey {
    /// The key with these bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The 32-byte value two parties derive for their negotiated 1:1 topic (the session layer
/// computes it by HKDF from `X25519(IK_a, IK_b)`).
///
/// Treated as a secret: boxed, wiped on drop, no `Clone`, redacted `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct NegotiatedTopicSecret(Box<[u8; 32]>);

impl NegotiatedTopicSecret {
    /// Takes the bytes and wipes the caller's copy.
    pub fn from_bytes(bytes: &mut [u8; 32]) -> Self {
        let secret = Self(Box::new(*bytes));
        bytes.zeroize();
        secret
    }

    fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for NegotiatedTopicSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NegotiatedTopicSecret(..)")
    }
}

/// Why a string cannot be an application name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplicationNameError {
    /// Longer than [`MAX_APPLICATION_NAME_LEN`].
    #[error("application name is {actual} bytes long, more than {max}")]
    TooLong {
        /// The bound.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Empty, or contains `/` or a byte outside visible ASCII.
    #[error("application name must be non-empty visible ASCII without '/'")]
    InvalidSegment,
}

/// Derives kaiwa's content topics for one application name; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicScheme {
    application: String,
}

impl Default for TopicScheme {
    /// The scheme of application [`TopicScheme::DEFAULT_APPLICATION`].
    fn default() -> Self {
        Self { application: Self::DEFAULT_APPLICATION.to_owned() }
    }
}

impl TopicScheme {
    /// The application name unless configured otherwise.
    pub const DEFAULT_APPLICATION: &'static str = "kaiwa";

    /// The scheme of `application`.
    ///
    /// # Errors
    ///
    /// [`ApplicationNameError`] if the name is longer than [`MAX_APPLICATION_NAME_LEN`] or is
    /// not a valid topic segment.
    pub fn new(application: &str) -> Result<Self, ApplicationNameError> {
        if application.len() > MAX_APPLICATION_NAME_LEN {
            return Err(ApplicationNameError::TooLong {
                max: MAX_APPLICATION_NAME_LEN,
                actual: application.len(),
            });
        }
        if !is_valid_segment(application) {
            return Err(ApplicationNameError::InvalidSegment);
        }
        Ok(Self { application: application.to_owned() })
    }

    /// The application name.
    pub fn application(&self) -> &str {
        &self.application
    }

    fn topic(&self, name: &str) -> ContentTopic {
        ContentTopic::from_valid_segments(&self.application, VERSION, name, ENCODING)
    }

    /// Where `account` publishes its prekey bundles and where others look for them.
    pub fn contact_code(&self, account: &AccountKey) -> ContentTopic {
        self.topic(&format!("contact-code-{}", hex::encode(account.as_bytes())))
    }

    /// The partition of `recipient`: `u64_be(SHA-256(recipient)[0..8]) mod 5000`.
    pub fn partition(recipient: &AccountKey) -> u16 {
        let digest: [u8; 32] = Sha256::digest(recipient.as_bytes()).into();
        let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = digest;
        let value = u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
        // value mod 5000 < 5000 fits in a u16.
        u16::try_from(value % u64::from(PARTITION_COUNT)).unwrap_or(0)
    }

    /// Where first-contact messages to `recipient` go before a negotiated topic exists.
    pub fn partitioned(&self, recipient: &AccountKey) -> ContentTopic {
        self.topic(&format!("contact-discovery-{}", Self::partition(recipient)))
    }

    /// The negotiated 1:1 topic of two parties who share `secret`.
    pub fn negotiated(&self, secret: &NegotiatedTopicSecret) -> ContentTopic {
        let hash = labelled_hash(NEGOTIATED_TOPIC_CONTEXT, secret.expose_secret());
        self.topic(&format!("negotiated-{hash}"))
    }

    /// The topic of the private group `chat_id`.
    pub fn group(&self, chat_id: &str) -> ContentTopic {
        let hash = labelled_hash(GROUP_TOPIC_CONTEXT, chat_id.as_bytes());
        self.topic(&format!("group-{hash}"))
    }

    /// Where the owner of `org` publishes its signed description.
    pub fn org_description(&self, org: &OrgKey) -> ContentTopic {
        self.topic(&format!("org-{}-description", hex::encode(org.as_bytes())))
    }

    /// Where requests to `org` (join, cancel, leave) are sent, sealed to the org key.
    pub fn org_requests(&self, org: &OrgKey) -> ContentTopic {
        self.topic(&format!("org-{}-requests", hex::encode(org.as_bytes())))
    }

    /// The topic of channel `channel_id` of `org`.
    pub fn org_channel(&self, org: &OrgKey, channel_id: &str) -> ContentTopic {
        let hash = labelled_hash(CHANNEL_TOPIC_CONTEXT, channel_id.as_bytes());
        self.topic(&format!("org-{}-channel-{hash}", hex::encode(org.as_bytes())))
    }
}

/// `hex(SHA-256(context ‖ input)[0..16])`.
fn labelled_hash(context: &[u8], input: &[u8]) -> String {
    let digest: [u8; 32] =
        Sha256::new().chain_update(context).chain_update(input).finalize().into();
    hex::encode(digest.get(..TRUNCATED_HASH_LEN).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_CONTENT_TOPIC_LEN;

    #[test]
    fn application_names_are_validated() {
        assert_eq!(TopicScheme::new("status-kaiwa").unwrap().application(), "status-kaiwa");
        assert_eq!(TopicScheme::new(""), Err(ApplicationNameError::InvalidSegment));
        assert_eq!(TopicScheme::new("a/b"), Err(ApplicationNameError::InvalidSegment));
        assert_eq!(TopicScheme::new("a b"), Err(ApplicationNameError::InvalidSegment));
        assert_eq!(
            TopicScheme::new(&"a".repeat(33)),
            Err(ApplicationNameError::TooLong { max: 32, actual: 33 })
        );
    }

    #[test]
    fn the_longest_derived_topic_fits() {
        let scheme = TopicScheme::new(&"a".repeat(MAX_APPLICATION_NAME_LEN)).unwrap();
        let topic = scheme.org_channel(&OrgKey::from_bytes([0xff; 32]), &"c".repeat(10_000));
        assert!(topic.as_str().len() <= MAX_CONTENT_TOPIC_LEN);
        assert_eq!(ContentTopic::parse(topic.as_str()).unwrap(), topic);
    }

    #[test]
    fn negotiated_secret_is_wiped_and_redacted() {
        let mut bytes = [0xab; 32];
        let secret = NegotiatedTopicSecret::from_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32], "the caller's copy must be wiped");
        let debug = format!("{secret:?}").to_lowercase();
        assert_eq!(debug, "negotiatedtopicsecret(..)");
        assert!(!debug.contains("ab"));
        assert!(!TopicScheme::default().negotiated(&secret).as_str().contains(&"ab".repeat(4)));
    }
}
