//! Text forms of the ids an application handles.
//!
//! ```text
//! public id        0x ‖ 64 lowercase hex digits   (PROTOCOL.md §1: the Ed25519 identity key)
//! organization id  0x ‖ 64 lowercase hex digits   (the organization's Ed25519 key)
//! group id         hex(creator) ‖ "-" ‖ uuid_v4    (seed 000; kaiwa_group::GroupId::parse)
//! channel id       1..=64 of [A-Za-z0-9_-]         (kaiwa_org::ChannelId::new)
//! ```
//! Parsers accept exactly these forms, and check that keys are valid Ed25519 points.

use kaiwa_crypto::IdentityPublicKey;
use kaiwa_org::OrgId;
use kaiwa_store::PublicId;

use crate::error::Error;

fn key(text: &str, field: &'static str) -> Result<IdentityPublicKey, Error> {
    // kaiwa-crypto accepts exactly `0x` + 64 lowercase digits of a valid key.
    IdentityPublicKey::from_hex(text).map_err(|_| Error::InvalidId { field })
}

/// Parses a public id (`0x` + 64 lowercase hex digits of a valid Ed25519 key).
///
/// ```
/// assert!(kaiwa::parse_public_id("0xAB").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidId`] for anything else.
pub fn parse_public_id(text: &str) -> Result<PublicId, Error> {
    Ok(PublicId::new(key(text, "public id")?.to_bytes()))
}

/// Parses an organization id (same form as a public id).
///
/// # Errors
/// [`Error::InvalidId`] for anything else.
pub fn parse_org_id(text: &str) -> Result<OrgId, Error> {
    Ok(OrgId::new(key(text, "organization id")?))
}

/// The safety number of two public ids: 60 digits (12 groups of 5 when displayed) that both
/// people compute identically, to compare out loud or side by side; equal numbers mean each
/// holds the other's real identity key (seed 000, "Identity verification"). Symmetric in its
/// arguments.
///
/// ```
/// # fn run(alice: kaiwa::PublicId, bob: kaiwa::PublicId) -> Result<(), kaiwa::Error> {
/// let number = kaiwa::safety_number(&alice, &bob)?;
/// assert_eq!(number, kaiwa::safety_number(&bob, &alice)?);
/// println!("compare with your contact: {number}");
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidId`] if an id is not a valid Ed25519 key (every id a client reports is).
pub fn safety_number(a: &PublicId, b: &PublicId) -> Result<kaiwa_session::SafetyNumber, Error> {
    let a = IdentityPublicKey::from_bytes(a.as_bytes())
        .map_err(|_| Error::InvalidId { field: "public id" })?;
    let b = IdentityPublicKey::from_bytes(b.as_bytes())
        .map_err(|_| Error::InvalidId { field: "public id" })?;
    Ok(kaiwa_session::safety_number(&a, &b))
}

/// The text form of an organization id.
#[must_use]
pub fn org_id_text(org: &OrgId) -> String {
    format!("0x{}", hex::encode(org.as_bytes()))
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn text_forms_round_trip_and_are_strict() {
        let key = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(3)).public_key();
        let id = PublicId::new(key.to_bytes());
        assert_eq!(id.to_string(), key.to_hex());
        assert_eq!(parse_public_id(&id.to_string()).unwrap(), id);
        let org = OrgId::new(key);
        assert_eq!(parse_org_id(&org_id_text(&org)).unwrap(), org);
        assert!(parse_public_id(&id.to_string().to_uppercase()).is_err());
        assert!(parse_public_id(&id.to_string()[2..]).is_err());
        assert!(parse_public_id(&format!("{id}00")).is_err());
    }

    #[test]
    fn safety_numbers_are_kaiwa_sessions_and_refuse_invalid_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (a, b) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
        let (ida, idb) =
            (PublicId::new(a.public_key().to_bytes()), PublicId::new(b.public_key().to_bytes()));
        let number = safety_number(&ida, &idb).unwrap();
        assert_eq!(number, safety_number(&idb, &ida).unwrap());
        assert_eq!(number, kaiwa_session::safety_number(&a.public_key(), &b.public_key()));
        assert_eq!(number.to_string().len(), 71); // 12 groups of 5 digits, 11 spaces
        // y = 2 is not on the curve.
        let mut invalid = [0u8; 32];
        invalid[0] = 2;
        assert!(matches!(
            safety_number(&ida, &PublicId::new(invalid)),
            Err(Error::InvalidId { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,80}") {
            let _ = parse_public_id(&text);
            let _ = parse_org_id(&text);
        }
    }
}
