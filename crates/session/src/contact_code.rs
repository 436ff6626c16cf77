//! Contact codes (seed 000, "Negotiation of a 1:1 chat"): a compact text form of an
//! identity and its current bundle, meant for a QR code, so that scanning it both verifies
//! the identity and yields the initial key material.
//!
//! ```text
//! text   = "KAIWA:" ‖ base32(binary)         RFC 4648 alphabet A-Z 2-7, no padding
//! binary = u8(version = 1) ‖ IK (Ed25519, 32) ‖ signature (64) ‖ material
//! material = the bundle's signed material (bundle.rs): u8(count) ‖ installations ‖ IKdh ‖
//!            i64_be(timestamp_ns)
//! ```
//!
//! Every character is in the QR alphanumeric set (uppercase letters, digits, ':'), which
//! packs 5.5 bits per character. One installation with a 36-character id is 223 bytes of
//! binary, 363 characters of text: a version-10 QR code at level M. Decoding is strict (one
//! canonical text per bundle: trailing bits must be zero, and the material must list the
//! installations in strictly ascending id order, else [`DecodeError::Order`]) and then verifies
//! the bundle exactly as [`Bundle::verify`](crate::Bundle::verify) does, so a code that decodes
//! is authenticated by the identity it names.

use kaiwa_crypto::{IdentityPublicKey, Signature};

use crate::bundle::{Bundle, VerifiedBundle};
use crate::error::{ContactCodeError, DecodeError};
use crate::limits::MAX_CONTACT_CODE_LEN;
use crate::timestamp::Timestamp;

/// Prefix of every contact code.
pub const CONTACT_CODE_PREFIX: &str = "KAIWA:";
const VERSION: u8 = 1;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(8).div_ceil(5));
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits = bits.saturating_add(8);
        while bits >= 5 {
            bits = bits.saturating_sub(5);
            push_digit(&mut out, acc >> bits);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        push_digit(&mut out, acc << (5_u32.saturating_sub(bits)));
    }
    out
}

fn push_digit(out: &mut String, value: u32) {
    let index = usize::try_from(value & 0x1f).unwrap_or(0);
    out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().saturating_mul(5) / 8);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(value);
        bits = bits.saturating_add(5);
        if bits >= 8 {
            bits = bits.saturating_sub(8);
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
        acc &= (1 << bits) - 1;
    }
    // Canonical form only: fewer than 5 leftover bits, all zero.
    (bits < 5 && acc == 0).then_some(out)
}

/// The contact code of `bundle`.
#[must_use]
pub fn encode_contact_code(bundle: &VerifiedBundle) -> String {
    let inner = bundle.inner();
    let material = inner.material();
    let mut binary = Vec::with_capacity(1 + 32 + 64 + material.len());
    binary.push(VERSION);
    binary.extend_from_slice(inner.identity().as_bytes());
    binary.extend_from_slice(inner.signature().as_bytes());
    binary.extend_from_slice(&material);
    format!("{CONTACT_CODE_PREFIX}{}", base32_encode(&binary))
}

/// Reads and verifies a contact code: returns the bundle only if its signature, bounds
/// and timestamps check out (`max_installations` as for [`Bundle::verify`]).
///
/// # Errors
/// [`ContactCodeError`] for malformed text, an unknown version, a malformed bundle, or a
/// bundle that does not verify.
pub fn decode_contact_code(
    text: &str,
    now: Timestamp,
    max_installations: usize,
) -> Result<VerifiedBundle, ContactCodeError> {
    if text.len() > MAX_CONTACT_CODE_LEN {
        return Err(ContactCodeError::TooLong { limit: MAX_CONTACT_CODE_LEN, actual: text.len() });
    }
    let body = text.strip_prefix(CONTACT_CODE_PREFIX).ok_or(ContactCodeError::Format)?;
    let binary = base32_decode(body).ok_or(ContactCodeError::Format)?;
    let (&version, rest) = binary.split_first().ok_or(ContactCodeError::Format)?;
    if version != VERSION {
        return Err(ContactCodeError::Version { got: version });
    }
    let (identity, rest) =
        rest.split_first_chunk::<32>().ok_or(DecodeError::Missing { field: "identity" })?;
    let (signature, material) =
        rest.split_first_chunk::<64>().ok_or(DecodeError::Missing { field: "signature" })?;
    let identity = IdentityPublicKey::from_bytes(identity)
        .map_err(|_| DecodeError::Invalid { field: "identity" })?;
    let bundle = Bundle::from_material(identity, material, Signature::from_bytes(*signature))?;
    Ok(bundle.verify(now, max_installations)?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use kaiwa_crypto::{DhPublicKey, IdentityKeyPair};

    use super::*;
    use crate::account::Account;
    use crate::bundle::{BUNDLE_SIGNATURE_CONTEXT, SignedPreKeyPublic, write_material};
    use crate::error::BundleError;
    use crate::installation::InstallationId;
    use crate::limits::MAX_INSTALLATIONS;

    fn bundle() -> VerifiedBundle {
        let account = Account::generate(
            InstallationId::new("3f2a0c1e-8d4b-4e5f-9a6b-7c8d9e0f1a2b").unwrap(),
            &mut ChaCha20Rng::seed_from_u64(21),
            Timestamp::from_millis(1_700_000_000_000),
        );
        account.bundle(Timestamp::from_millis(1_700_000_000_000))
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 §10, without padding.
        for (input, expected) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(input.as_bytes()), expected);
            assert_eq!(base32_decode(expected).unwrap(), input.as_bytes());
        }
        assert_eq!(base32_decode("MZ"), None, "non-zero trailing bits are not canonical");
        assert_eq!(base32_decode("my"), None, "lowercase is not canonical");
        assert_eq!(base32_decode("M"), None);
    }

    #[test]
    fn round_trip_size_and_verification() {
        let bundle = bundle();
        let code = encode_contact_code(&bundle);
        assert_eq!(code.len(), 363, "one installation with a UUID id");
        assert!(code.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b':'));
        let now = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(decode_contact_code(&code, now, 3), Ok(bundle));
        // Any changed character breaks either the format or the signature.
        let mut tampered = code.clone().into_bytes();
        let last = tampered.len() - 10;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            decode_contact_code(&tampered, now, 3),
            Err(ContactCodeError::Bundle(BundleError::Unauthenticated))
        );
        assert_eq!(decode_contact_code("kaiwa:AAAA", now, 3), Err(ContactCodeError::Format));
        assert_eq!(
            decode_contact_code(&format!("{CONTACT_CODE_PREFIX}AI"), now, 3),
            Err(ContactCodeError::Version { got: 2 })
        );
        let long = "A".repeat(MAX_CONTACT_CODE_LEN + 1);
        assert_eq!(
            decode_contact_code(&long, now, 3),
            Err(ContactCodeError::TooLong { limit: MAX_CONTACT_CODE_LEN, actual: long.len() })
        );
    }

    /// A bundle of `identity` listing `names` (any order; the map sorts them).
    fn multi(identity: &IdentityKeyPair, names: &[&str]) -> VerifiedBundle {
        let installations = names
            .iter()
            .zip(1u8..)
            .map(|(name, i)| {
                let spk = SignedPreKeyPublic {
                    key: DhPublicKey::from_bytes([i; 32]),
                    version: u32::from(i),
                    protocol_version: 1,
                    created_at: Timestamp::from_millis(1_000),
                };
                (InstallationId::new(*name).unwrap(), spk)
            })
            .collect();
        VerifiedBundle::sign(
            identity,
            DhPublicKey::from_bytes([9; 32]),
            installations,
            Timestamp::from_millis(5_000),
        )
    }

    /// The code of `material` signed by `signature`, built the way `encode_contact_code` does.
    fn code(identity: &IdentityPublicKey, signature: &Signature, material: &[u8]) -> String {
        let mut binary = vec![VERSION];
        binary.extend_from_slice(identity.as_bytes());
        binary.extend_from_slice(signature.as_bytes());
        binary.extend_from_slice(material);
        format!("{CONTACT_CODE_PREFIX}{}", base32_encode(&binary))
    }

    #[test]
    fn installations_out_of_order_are_refused() {
        let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(22));
        let bundle = multi(&identity, &["phone", "laptop", "tablet"]);
        let inner = bundle.inner();
        let now = Timestamp::from_millis(5_000);
        let canonical = encode_contact_code(&bundle);
        assert_eq!(code(&inner.identity(), inner.signature(), &inner.material()), canonical);
        assert_eq!(decode_contact_code(&canonical, now, 3), Ok(bundle.clone()));

        let entries: Vec<_> = bundle.installations().collect();
        let [laptop, phone, tablet] = entries[..] else { panic!("three installations") };
        let refused =
            Err(ContactCodeError::Decode(DecodeError::Order { field: "installation_id" }));
        for listed in [[phone, laptop, tablet], [tablet, phone, laptop], [laptop, laptop, phone]] {
            let material = write_material(
                listed.into_iter(),
                &bundle.identity_dh(),
                bundle.timestamp().to_wire_nanos(),
            );
            // With the bundle's own signature (over the canonical material) this was a second
            // valid encoding of the same bundle; re-signed over exactly these bytes, only
            // the order is wrong. Both are refused for the order.
            let original = code(&inner.identity(), inner.signature(), &material);
            assert_eq!(decode_contact_code(&original, now, 3), refused);
            let resigned = identity.sign(&BUNDLE_SIGNATURE_CONTEXT, &material);
            let resigned = code(&inner.identity(), &resigned, &material);
            assert_eq!(decode_contact_code(&resigned, now, 3), refused);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Codes of bundles with any set of installations round-trip, and every other order
        /// of the same installations is refused, whichever material the signature covers.
        #[test]
        fn codes_round_trip_and_only_the_canonical_order_decodes(
            (names, order) in prop::collection::btree_set("[!-~]{1,16}", 1..=MAX_INSTALLATIONS)
                .prop_flat_map(|names| {
                    let n = names.len();
                    (Just(names), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
                }),
        ) {
            let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(23));
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let bundle = multi(&identity, &names);
            let now = Timestamp::from_millis(5_000);
            let text = encode_contact_code(&bundle);
            prop_assert!(text.len() <= MAX_CONTACT_CODE_LEN);
            prop_assert_eq!(decode_contact_code(&text, now, MAX_INSTALLATIONS), Ok(bundle.clone()));

            let entries: Vec<_> = bundle.installations().collect();
            let material = write_material(
                order.iter().map(|&i| entries[i]),
                &bundle.identity_dh(),
                bundle.timestamp().to_wire_nanos(),
            );
            let resigned = identity.sign(&BUNDLE_SIGNATURE_CONTEXT, &material);
            let inner = bundle.inner();
            for signature in [inner.signature(), &resigned] {
                let decoded =
                    decode_contact_code(&code(&inner.identity(), signature, &material), now, 16);
                if order.windows(2).all(|w| w[0] < w[1]) {
                    prop_assert_eq!(decoded, Ok(bundle.clone()));
                } else {
                    prop_assert_eq!(
                        decoded,
                        Err(ContactCodeError::Decode(DecodeError::Order { field: "installation_id" }))
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text_never_panics(text in "KAIWA:[A-Z2-7]{0,400}") {
            let _ = decode_contact_code(&text, Timestamp::from_millis(u64::MAX), 16);
        }

        #[test]
        fn arbitrary_binary_never_panics(
            versioned in any::<bool>(),
            bytes in prop::collection::vec(any::<u8>(), 0..400),
        ) {
            // Half the inputs get past the version byte, so the material parser sees them.
            let binary = if versioned { [&[VERSION][..], &bytes].concat() } else { bytes };
            let text = format!("{CONTACT_CODE_PREFIX}{}", base32_encode(&binary));
            let _ = decode_contact_code(&text, Timestamp::from_millis(u64::MAX), 16);
        }

        /// One encoding per bundle: changing any byte of a valid code's binary (version,
        /// identity, signature or material) never yields a code that decodes.
        #[test]
        fn every_changed_byte_of_a_code_is_refused(at in any::<usize>(), mask in 1..=255u8) {
            let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(24));
            let bundle = multi(&identity, &["phone", "laptop", "tablet"]);
            let inner = bundle.inner();
            let mut binary = vec![VERSION];
            binary.extend_from_slice(inner.identity().as_bytes());
            binary.extend_from_slice(inner.signature().as_bytes());
            binary.extend_from_slice(&inner.material());
            let at = at % binary.len();
            binary[at] ^= mask;
            let text = format!("{CONTACT_CODE_PREFIX}{}", base32_encode(&binary));
            prop_assert!(decode_contact_code(&text, Timestamp::from_millis(u64::MAX / 2), 16).is_err());
        }

        #[test]
        fn base32_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base32_decode(&base32_encode(&bytes)), Some(bytes));
        }
    }
}
