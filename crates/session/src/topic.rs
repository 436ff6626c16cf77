//! The session layer's input to 54/WAKU2-X3DH-SESSIONS' negotiated topic (DECISIONS.md
//! "1:1 sessions"; digest §3.3, §15).
//!
//! ```text
//! negotiated secret = HKDF-SHA256(salt = 0^32, ikm = X25519(IKdh_a, IKdh_b),
//!                                 info = "kaiwa/session/negotiated-topic/v1")
//! ```
//!
//! Topic *names* are built in one place only, kaiwa-transport's `TopicScheme`: the contact-code
//! topic and the partitioned first-contact topic from the Ed25519 identity key, and the
//! negotiated topic from this secret (which the transport hashes again, so the secret itself
//! never appears on the wire). The secret needs an X25519 of the two identity DH keys, which is
//! why it is computed here. X25519 commutes, so both sides derive the same value; it names a
//! topic and keys nothing. The DH is contributory-checked like every other.

use kaiwa_crypto::{DhError, DhKeyPair, DhPublicKey, hkdf_sha256_extract};

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

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn negotiated_secret_is_symmetric_and_checked() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let a = DhKeyPair::generate(&mut rng);
        let b = DhKeyPair::generate(&mut rng);
        let ab = negotiated_secret(&a, &b.public_key()).unwrap();
        assert_eq!(ab, negotiated_secret(&b, &a.public_key()).unwrap());
        assert_eq!(
            negotiated_secret(&a, &DhPublicKey::from_bytes([0; 32])),
            Err(DhError::NonContributory)
        );
    }
}
