//! Content-topic names of 54/WAKU2-X3DH-SESSIONS, as pure functions (DECISIONS.md "1:1
//! sessions"; digest §3.1, §3.3, §15).
//!
//! ```text
//! contact-code topic  (bundle adverts):   "contact-code-" ‖ hex(IK)
//! partition           (first contact):    u64_be(SHA-256(IK)[0..8]) mod 5000
//! partitioned topic:                      "contact-discovery-" ‖ decimal(partition)
//! negotiated secret   (after agreement):  HKDF-SHA256(salt = 0^32, ikm = X25519(IKdh_a, IKdh_b),
//!                                                     info = "kaiwa/session/negotiated-topic/v1")
//! negotiated topic:                       "negotiated-" ‖ hex(negotiated secret)
//!
//! IK = the 32-byte Ed25519 identity key of the recipient (contact code: of the advertiser);
//! hex = lowercase, no "0x". The facade places a name into the content topic
//! "/kaiwa/1/<name>/proto" (23/WAKU2-TOPICS) through kaiwa-transport.
//! ```
//!
//! status-go feeds names like these to Keccak-256; kaiwa keeps the readable name and leaves
//! hashing to the transport's content-topic rules. The negotiated secret is symmetric
//! (X25519 commutes), so both sides derive the same name; it names a topic and keys nothing,
//! so publishing it in a topic reveals nothing about session keys. The DH is contributory-
//! checked like every other.

use kaiwa_crypto::{
    DhError, DhKeyPair, DhPublicKey, IdentityPublicKey, hkdf_sha256_extract, sha256,
};

use crate::limits::PARTITIONS;

/// HKDF info of the negotiated-topic secret.
pub const NEGOTIATED_TOPIC_INFO: &[u8] = b"kaiwa/session/negotiated-topic/v1";

/// The 32-byte value naming the negotiated topic of two identities. Public: it becomes a
/// topic name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NegotiatedSecret([u8; 32]);

impl NegotiatedSecret {
    /// The 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for NegotiatedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "NegotiatedSecret({})", hex::encode(self.0))
    }
}

/// The topic name on which `identity` advertises its bundle.
#[must_use]
pub fn contact_code_topic(identity: &IdentityPublicKey) -> String {
    format!("contact-code-{}", hex::encode(identity.as_bytes()))
}

/// The first-contact partition of `recipient`: `u64_be(SHA-256(IK)[0..8]) mod 5000`.
#[must_use]
pub fn partition(recipient: &IdentityPublicKey) -> u64 {
    let digest = sha256(recipient.as_bytes());
    let first = digest.as_bytes().first_chunk::<8>().copied().unwrap_or([0; 8]);
    u64::from_be_bytes(first) % PARTITIONS
}

/// The topic name for first contact with `recipient`.
#[must_use]
pub fn partitioned_topic(recipient: &IdentityPublicKey) -> String {
    format!("contact-discovery-{}", partition(recipient))
}

/// The negotiated secret of our identity DH key and the peer's.
///
/// # Errors
/// [`DhError::NonContributory`] if `theirs` has small order.
pub fn negotiated_secret(
    ours: &DhKeyPair,
    theirs: &DhPublicKey,
) -> Result<NegotiatedSecret, DhError> {
    let shared = ours.diffie_hellman(theirs)?;
    let prk = hkdf_sha256_extract(&[0u8; 32], &[shared.expose_secret()]);
    let [secret] = prk.expand_keys::<1>(NEGOTIATED_TOPIC_INFO);
    Ok(NegotiatedSecret(*secret.expose_secret()))
}

/// The topic name of a negotiated secret.
#[must_use]
pub fn negotiated_topic(secret: &NegotiatedSecret) -> String {
    format!("negotiated-{}", hex::encode(secret.0))
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn names_and_partition() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let id = IdentityKeyPair::generate(&mut rng).public_key();
        let topic = contact_code_topic(&id);
        assert_eq!(topic, format!("contact-code-{}", &id.to_hex()[2..]));
        let digest = sha256(id.as_bytes());
        let expected = u64::from_be_bytes(digest.as_bytes()[..8].try_into().unwrap()) % 5000;
        assert_eq!(partition(&id), expected);
        assert_eq!(partitioned_topic(&id), format!("contact-discovery-{expected}"));
    }

    #[test]
    fn negotiated_secret_is_symmetric_and_checked() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let a = DhKeyPair::generate(&mut rng);
        let b = DhKeyPair::generate(&mut rng);
        let ab = negotiated_secret(&a, &b.public_key()).unwrap();
        assert_eq!(ab, negotiated_secret(&b, &a.public_key()).unwrap());
        assert_eq!(negotiated_topic(&ab), format!("negotiated-{}", hex::encode(ab.as_bytes())));
        assert_eq!(
            negotiated_secret(&a, &DhPublicKey::from_bytes([0; 32])),
            Err(DhError::NonContributory)
        );
    }
}
