//! Identifiers: organization, member, channel, category, key-epoch group, epoch, key id, clock.
//!
//! ```text
//! OrgId        = the organization's 32-byte Ed25519 public key            (DECISIONS: Organizations)
//! MemberId     = a member's 32-byte Ed25519 identity key
//!                text form "0x" ‖ 64 lowercase hex digits               (PROTOCOL.md §1, map keys)
//! ChannelId    = 1..=64 characters of [A-Za-z0-9_-]                     (map keys of `chats`)
//! CategoryId   = same syntax                                            (map keys of `categories`)
//! GroupId      = the key-epoch group:
//!                organization-wide:  group_id = org_id                   (status-go: community id)
//!                channel with its own members:
//!                  group_id = SHA-256("kaiwa/org/channel-group/v1" ‖ org_id ‖ channel_id)
//! Epoch        = u32, 1 for the first key of a group, +1 per re-key (0 = no key, public)
//! KeyId        = SHA-256("kaiwa/org/key-id/v1" ‖ group_id ‖ BE32(epoch) ‖ id_material)
//!                id_material = HKDF-SHA256(salt = group_id, ikm = epoch_key,
//!                                          info = "kaiwa/org/key-id-material/v1")
//! ```
//!
//! `MemberId` holds the key bytes unparsed: decoding a 10,000-member description then costs no
//! curve arithmetic. A member's key is parsed as a curve point (and rejected if invalid or of
//! small order) at the moment a signature of theirs is verified.

use core::fmt;

use kaiwa_crypto::{IdentityPublicKey, sha256_parts};

use crate::error::DecodeError;

/// Domain separator of channel group ids.
pub const CHANNEL_GROUP_CONTEXT: &[u8] = b"kaiwa/org/channel-group/v1";

/// Domain separator of key ids.
pub const KEY_ID_CONTEXT: &[u8] = b"kaiwa/org/key-id/v1";

/// An organization id: the organization's Ed25519 public key. The owner holds its secret.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrgId(IdentityPublicKey);

impl OrgId {
    /// Wraps the organization's public key.
    #[must_use]
    pub const fn new(key: IdentityPublicKey) -> Self {
        Self(key)
    }

    /// The public key, which verifies every description, grant and re-key.
    #[must_use]
    pub const fn public_key(&self) -> &IdentityPublicKey {
        &self.0
    }

    /// The 32 key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Parses 32 bytes of unchecked length, as a valid Ed25519 key.
    ///
    /// # Errors
    /// [`DecodeError::Field`] if the bytes are not a valid key.
    pub fn from_slice(field: &'static str, bytes: &[u8]) -> Result<Self, DecodeError> {
        IdentityPublicKey::try_from(bytes).map(Self).map_err(|_| DecodeError::Field { field })
    }

    /// The organization-wide key-epoch group.
    #[must_use]
    pub fn group(&self) -> GroupId {
        GroupId(*self.as_bytes())
    }
}

impl fmt::Debug for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgId({})", self.0)
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A member id: the 32 bytes of a member's Ed25519 identity key, syntactically checked only
/// (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId([u8; 32]);

impl MemberId {
    /// The id of an identity key.
    #[must_use]
    pub fn from_key(key: &IdentityPublicKey) -> Self {
        Self(key.to_bytes())
    }

    /// The 32 key bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses the key bytes as an Ed25519 key, for verifying this member's signatures.
    ///
    /// # Errors
    /// [`DecodeError::Field`] if the bytes are not a valid key (such a member can sign
    /// nothing).
    pub fn public_key(&self) -> Result<IdentityPublicKey, DecodeError> {
        IdentityPublicKey::from_bytes(&self.0)
            .map_err(|_| DecodeError::Field { field: "member_id" })
    }

    /// Parses 32 bytes of unchecked length.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not 32 bytes long.
    pub fn from_slice(field: &'static str, bytes: &[u8]) -> Result<Self, DecodeError> {
        bytes.try_into().map(Self).map_err(|_| DecodeError::Length {
            field,
            expected: 32,
            actual: bytes.len(),
        })
    }

    /// Parses the text form: exactly `0x` followed by 64 lowercase hex digits (PROTOCOL.md §1).
    ///
    /// # Errors
    /// [`DecodeError::Field`] for any other text.
    pub fn from_text(field: &'static str, text: &str) -> Result<Self, DecodeError> {
        let digits = text.strip_prefix("0x").ok_or(DecodeError::Field { field })?;
        if digits.len() != 64
            || !digits.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DecodeError::Field { field });
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| DecodeError::Field { field })?;
        Ok(Self(bytes))
    }

    /// The text form, `0x` + 64 lowercase hex digits.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity(66);
        text.push_str("0x");
        text.push_str(&hex::encode(self.0));
        text
    }
}

impl From<IdentityPublicKey> for MemberId {
    fn from(key: IdentityPublicKey) -> Self {
        Self::from_key(&key)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.to_text())
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn check_text_id(field: &'static str, text: &str) -> Result<(), DecodeError> {
    let ok = !text.is_empty()
        && text.len() <= crate::limits::MAX_ID_BYTES
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(DecodeError::Field { field }) }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks the syntax: 1 to 64 characters of `[A-Za-z0-9_-]`.
            ///
            /// # Errors
            /// [`DecodeError::Field`] for any other text.
            pub fn new(text: &str) -> Result<Self, DecodeError> {
                check_text_id($field, text)?;
                Ok(Self(text.to_owned()))
            }

            /// A random id: 32 lowercase hex digits from `rng`.
            pub fn random<R: kaiwa_crypto::CryptoRng + ?Sized>(rng: &mut R) -> Self {
                let mut bytes = [0u8; 16];
                rng.fill_bytes(&mut bytes);
                Self(hex::encode(bytes))
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// A channel id: the key of the description's `chats` map.
    ChannelId,
    "channel_id"
);

text_id!(
    /// A category id: the key of the description's `categories` map.
    CategoryId,
    "category_id"
);

/// The group a key epoch belongs to: the whole organization, or one channel with its own
/// member list (formulas in the module doc). 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId([u8; 32]);

impl GroupId {
    /// The group of a channel with its own members.
    #[must_use]
    pub fn channel(org: &OrgId, channel: &ChannelId) -> Self {
        Self(
            sha256_parts(&[CHANNEL_GROUP_CONTEXT, org.as_bytes(), channel.as_str().as_bytes()])
                .to_bytes(),
        )
    }

    /// The 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 32 bytes of unchecked length.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        bytes.try_into().map(Self).map_err(|_| DecodeError::Length {
            field: "group_id",
            expected: 32,
            actual: bytes.len(),
        })
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({})", hex::encode(self.0))
    }
}

/// A key epoch of a group: 1 for its first key, +1 per re-key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch(pub u32);

/// A Lamport clock value carried in descriptions, requests and grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LamportTime(pub u64);

impl LamportTime {
    /// The next clock for a new description: `now_ms` if it is ahead, else `self + 1`
    /// (status-go `CommunityDescription` clock rule, digest §11.2).
    #[must_use]
    pub fn next(self, now_ms: u64) -> Self {
        if self.0 < now_ms { Self(now_ms) } else { Self(self.0.saturating_add(1)) }
    }
}

/// Identifies an epoch key without revealing anything about it (formula in the module doc).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// Computes the key id from the group, the epoch and the key's id material.
    pub(crate) fn compute(group: &GroupId, epoch: Epoch, id_material: &[u8; 32]) -> Self {
        Self(
            sha256_parts(&[KEY_ID_CONTEXT, group.as_bytes(), &epoch.0.to_be_bytes(), id_material])
                .to_bytes(),
        )
    }

    /// The 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 32 bytes of unchecked length.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        bytes.try_into().map(Self).map_err(|_| DecodeError::Length {
            field: "key_id",
            expected: 32,
            actual: bytes.len(),
        })
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_text_form_is_exact() {
        let id = MemberId([0xab; 32]);
        let text = id.to_text();
        assert_eq!(text.len(), 66);
        assert_eq!(MemberId::from_text("m", &text), Ok(id));
        assert!(MemberId::from_text("m", &text.to_uppercase()).is_err());
        assert!(MemberId::from_text("m", &text.replace("0x", "0X")).is_err());
        assert!(MemberId::from_text("m", &text[..65]).is_err());
        assert!(MemberId::from_text("m", &format!("{text}0")).is_err());
        assert!(MemberId::from_text("m", &text[2..]).is_err());
    }

    #[test]
    fn text_ids_are_checked() {
        assert!(ChannelId::new("general").is_ok());
        assert!(ChannelId::new("a-b_C9").is_ok());
        assert!(ChannelId::new("").is_err());
        assert!(ChannelId::new("white space").is_err());
        assert!(ChannelId::new(&"x".repeat(65)).is_err());
        assert!(CategoryId::new("é").is_err());
    }

    #[test]
    fn lamport_next() {
        assert_eq!(LamportTime(0).next(100), LamportTime(100));
        assert_eq!(LamportTime(100).next(100), LamportTime(101));
        assert_eq!(LamportTime(500).next(100), LamportTime(501));
        assert_eq!(LamportTime(u64::MAX).next(1), LamportTime(u64::MAX));
    }
}
