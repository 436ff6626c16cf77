//! Identifiers: members, groups, Lamport times and event ids.
//!
//! ```text
//! MemberId  text form  = "0x" ‖ hex(ed25519_pk)                  (66 chars, lowercase; DECISIONS "Suite")
//! GroupId   (chat_id)  = hex(creator_ed25519_pk) ‖ "-" ‖ uuid_v4  (64 + 1 + 36 = 101 chars)
//!           uuid_v4    = 8-4-4-4-12 lowercase hex digits, version nibble 4, variant 10xx (RFC 9562 §5.4)
//! EventId              = SHA-256(element),  element = signature(64) ‖ event_bytes
//! ```
//!
//! The chat id follows seed 000 ("`chat_id = hex(chat_creator_public_key) + "-" + random_uuid`")
//! and DECISIONS "Private group chats": the prefix is the creator key without `0x`, the suffix a
//! version-4 UUID. Only the canonical lowercase form parses, so every group has exactly one text
//! id, and the bytes bound into every event signature are unambiguous (digest §1.4, §16.2).

use core::fmt;

use kaiwa_crypto::{CryptoRng, IdentityPublicKey, Sha256Digest};

use crate::error::DecodeError;

/// A group member: the 32-byte Ed25519 identity public key of an account.
///
/// Its text form, used in `MembershipUpdateEvent.members`, is `0x` followed by 64 lowercase hex
/// digits; only that exact form parses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(IdentityPublicKey);

impl MemberId {
    /// The member with this identity key.
    #[must_use]
    pub const fn new(key: IdentityPublicKey) -> Self {
        Self(key)
    }

    /// The identity key.
    #[must_use]
    pub const fn key(&self) -> &IdentityPublicKey {
        &self.0
    }

    /// Parses the text form `0x` + 64 lowercase hex digits.
    ///
    /// # Errors
    /// [`DecodeError::InvalidMemberId`] if the text is malformed or not a valid key.
    pub fn from_text(text: &str) -> Result<Self, DecodeError> {
        IdentityPublicKey::from_hex(text)
            .map(Self)
            .map_err(|_| DecodeError::InvalidMemberId { field: "members" })
    }

    /// The text form `0x` + 64 lowercase hex digits.
    #[must_use]
    pub fn to_text(&self) -> String {
        self.0.to_hex()
    }
}

impl From<IdentityPublicKey> for MemberId {
    fn from(key: IdentityPublicKey) -> Self {
        Self(key)
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.0)
    }
}

/// Length of a chat id: 64 hex digits, `-`, 36 UUID characters.
const GROUP_ID_LEN: usize = 64 + 1 + 36;

/// A private group's chat id, `hex(creator_pk) ‖ "-" ‖ uuid_v4`, validated.
///
/// Holding a `GroupId` means: the prefix is a valid identity key in lowercase hex without `0x`,
/// and the suffix is a canonical lowercase version-4 UUID (seed 000 "Membership Update Flow",
/// DECISIONS "Private group chats"). That the prefix equals the author of `CHAT_CREATED` is
/// checked when the log is folded ([`RejectReason::NotCreator`](crate::RejectReason)).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId {
    text: Box<str>,
    creator: MemberId,
}

impl GroupId {
    /// A new chat id for a group created by `creator`, with a version-4 UUID made from 16 bytes
    /// of `rng` (RFC 9562 §5.4: 122 random bits, version and variant bits set).
    pub fn generate<R: CryptoRng + ?Sized>(creator: &MemberId, rng: &mut R) -> Self {
        let mut random = [0u8; 16];
        rng.fill_bytes(&mut random);
        let uuid = uuid::Builder::from_random_bytes(random).into_uuid();
        let hex = creator.to_text();
        let prefix = hex.strip_prefix("0x").unwrap_or(&hex);
        let text = format!("{prefix}-{}", uuid.hyphenated());
        Self { text: text.into_boxed_str(), creator: *creator }
    }

    /// Parses and validates a chat id received from a peer or read from disk.
    ///
    /// # Errors
    /// [`DecodeError::InvalidGroupId`] naming the part that is wrong.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        if text.len() != GROUP_ID_LEN {
            return Err(DecodeError::InvalidGroupId { part: "length" });
        }
        let (prefix, rest) =
            text.split_at_checked(64).ok_or(DecodeError::InvalidGroupId { part: "length" })?;
        let suffix =
            rest.strip_prefix('-').ok_or(DecodeError::InvalidGroupId { part: "separator" })?;
        let key = IdentityPublicKey::from_hex(&format!("0x{prefix}"))
            .map_err(|_| DecodeError::InvalidGroupId { part: "creator" })?;
        let uuid = uuid::Uuid::try_parse(suffix)
            .map_err(|_| DecodeError::InvalidGroupId { part: "uuid" })?;
        // Canonical form only: lowercase, hyphenated (so one group has one text id).
        let mut canonical = [0u8; uuid::fmt::Hyphenated::LENGTH];
        if uuid.hyphenated().encode_lower(&mut canonical).as_bytes() != suffix.as_bytes() {
            return Err(DecodeError::InvalidGroupId { part: "uuid" });
        }
        if uuid.get_version() != Some(uuid::Version::Random)
            || uuid.get_variant() != uuid::Variant::RFC4122
        {
            return Err(DecodeError::InvalidGroupId { part: "uuid_version" });
        }
        Ok(Self { text: text.into(), creator: MemberId(key) })
    }

    /// The chat id text, exactly as it appears on the wire and in signatures.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The creator named by the chat id's prefix.
    #[must_use]
    pub const fn creator(&self) -> &MemberId {
        &self.creator
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({})", self.text)
    }
}

/// A Lamport clock value carried by an event or a chat message (milliseconds-based: new
/// values are `max(now_ms, last + 1)`, digest §1.5). Protocol data, not a wall-clock reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LamportTime(pub u64);

impl LamportTime {
    /// The next clock for a new event or message: `max(now_ms, last + 1)` (digest §1.5,
    /// 62/STATUS-PAYLOADS). `None` if `last + 1` overflows.
    #[must_use]
    pub fn next(last: Self, now_ms: u64) -> Option<Self> {
        last.0.checked_add(1).map(|after| Self(after.max(now_ms)))
    }

    /// Whether this clock is acceptable on receipt at local time `now_ms`: non-zero and at most
    /// [`MAX_CLOCK_SKEW_MS`](crate::limits::MAX_CLOCK_SKEW_MS) ahead (digest §1.5, §12).
    #[must_use]
    pub fn is_acceptable_at(self, now_ms: u64) -> bool {
        self.0 != 0 && self.0 <= now_ms.saturating_add(crate::limits::MAX_CLOCK_SKEW_MS)
    }
}

/// An event's id: SHA-256 of its received element (`signature ‖ event_bytes`). Second key of
/// the log's total order `(clock, id)`; two elements are the same event iff their ids match.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(Sha256Digest);

impl EventId {
    /// The id of `element`.
    #[must_use]
    pub fn of_element(element: &[u8]) -> Self {
        Self(kaiwa_crypto::sha256(element))
    }

    /// The 32 digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn member(seed: u64) -> MemberId {
        MemberId::new(IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(seed)).public_key())
    }

    #[test]
    fn generated_ids_parse_and_name_their_creator() {
        let creator = member(1);
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let id = GroupId::generate(&creator, &mut rng);
        assert_eq!(id.as_str().len(), GROUP_ID_LEN);
        assert_eq!(&id.as_str()[..64], &creator.to_text()[2..]);
        assert_eq!(&id.as_str()[64..65], "-");
        assert_eq!(&id.as_str()[64 + 15..64 + 16], "4", "version nibble");
        assert!(matches!(&id.as_str()[64 + 20..64 + 21], "8" | "9" | "a" | "b"), "variant");
        let parsed = GroupId::parse(id.as_str()).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.creator(), &creator);
        assert_ne!(GroupId::generate(&creator, &mut rng), id, "fresh UUID each time");
    }

    #[test]
    fn rejects_non_canonical_and_wrong_ids() {
        let creator = member(3);
        let id = GroupId::generate(&creator, &mut ChaCha20Rng::seed_from_u64(4));
        let text = id.as_str();
        let err = |part| Err(DecodeError::InvalidGroupId { part });
        assert_eq!(GroupId::parse(&text.to_uppercase()), err("creator"));
        assert_eq!(
            GroupId::parse(&format!("{}{}", &text[..65], text[65..].to_uppercase())),
            err("uuid")
        );
        assert_eq!(GroupId::parse(&format!("0x{text}")), err("length"));
        assert_eq!(GroupId::parse(&text[..100]), err("length"));
        assert_eq!(GroupId::parse(&text.replacen('-', "_", 1)), err("separator"));
        // status-go's order (uuid first) is not accepted.
        let swapped = format!("{}-{}", &text[65..], &text[..64]);
        assert!(GroupId::parse(&swapped).is_err());
        // A version-1 UUID in the right place.
        let mut v1 = text.to_owned();
        v1.replace_range(64 + 15..64 + 16, "1");
        assert_eq!(GroupId::parse(&v1), err("uuid_version"));
        // Wrong variant.
        let mut variant = text.to_owned();
        variant.replace_range(64 + 20..64 + 21, "c");
        assert_eq!(GroupId::parse(&variant), err("uuid_version"));
        // Braced/simple UUID forms of the right length do not exist; a non-hex prefix is wrong.
        let mut bad_prefix = text.to_owned();
        bad_prefix.replace_range(0..1, "g");
        assert_eq!(GroupId::parse(&bad_prefix), err("creator"));
        // A small-order "creator" key.
        let mut identity = "01".to_owned() + &"00".repeat(31);
        identity.push_str(&text[64..]);
        assert_eq!(GroupId::parse(&identity), err("creator"));
    }

    #[test]
    fn member_text_form() {
        let m = member(5);
        assert_eq!(MemberId::from_text(&m.to_text()), Ok(m));
        assert_eq!(m.to_string(), m.to_text());
        assert!(MemberId::from_text(&m.to_text()[2..]).is_err());
        assert!(MemberId::from_text(&m.to_text().to_uppercase()).is_err());
    }

    #[test]
    fn next_clock_is_max_of_now_and_last_plus_one() {
        assert_eq!(LamportTime::next(LamportTime(0), 0), Some(LamportTime(1)));
        assert_eq!(LamportTime::next(LamportTime(5), 100), Some(LamportTime(100)));
        assert_eq!(LamportTime::next(LamportTime(100), 100), Some(LamportTime(101)));
        assert_eq!(LamportTime::next(LamportTime(u64::MAX), 0), None);
        assert!(!LamportTime(0).is_acceptable_at(10));
        assert!(LamportTime(10 + MAX_SKEW).is_acceptable_at(10));
        assert!(!LamportTime(11 + MAX_SKEW).is_acceptable_at(10));
        assert!(LamportTime(u64::MAX).is_acceptable_at(u64::MAX));
    }

    const MAX_SKEW: u64 = crate::limits::MAX_CLOCK_SKEW_MS;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,120}") {
            let _ = GroupId::parse(&text);
            let _ = MemberId::from_text(&text);
        }
    }
}
