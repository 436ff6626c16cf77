//! Safety numbers: a fingerprint of two identities that both parties compute identically
//! and can compare out loud or by scanning (seed 000, "Identity verification").
//!
//! ```text
//! half(IK)  = h_5200 where h_0 = SHA-256("kaiwa/session/fingerprint/v1" ‖ IK),
//!                          h_{i+1} = SHA-256(h_i ‖ IK)
//!             -> 6 chunks of 5 bytes, each u40_be mod 100000, as 5 decimal digits: 30 digits
//! safety number(A, B) = half(lower IK) ‖ half(higher IK)     (byte order of the Ed25519 keys)
//!                     = 60 digits, shown as 12 groups of 5
//! ```
//!
//! As Signal's numeric fingerprint (iterated hash per identity, 30 digits each, the halves
//! ordered so both sides see the same string), with SHA-256 instead of SHA-512 (the hash
//! kaiwa-crypto offers; 32 bytes cover the 30 needed). The identities are the Ed25519 keys;
//! the X25519 identity key is bound to them by the bundle signature, so it needs no digits.
//! The iterations make finding a key whose half matches a given one about 5,200 times more
//! expensive (~2^112 hash evaluations for the ~2^100 digits).

use core::fmt;

use kaiwa_crypto::{IdentityPublicKey, sha256_parts};

use crate::limits::FINGERPRINT_ITERATIONS;

/// Domain-separation prefix of fingerprint hashing.
pub const FINGERPRINT_CONTEXT: &[u8] = b"kaiwa/session/fingerprint/v1";

/// The 60-digit safety number of two identities.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SafetyNumber(String);

impl SafetyNumber {
    /// The 60 digits without spaces.
    #[must_use]
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafetyNumber {
    /// 12 groups of 5 digits separated by spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.as_bytes().chunks(5).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(core::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafetyNumber({self})")
    }
}

fn half(identity: &IdentityPublicKey) -> String {
    let key = identity.as_bytes();
    let mut hash = sha256_parts(&[FINGERPRINT_CONTEXT, key]);
    for _ in 0..FINGERPRINT_ITERATIONS {
        hash = sha256_parts(&[hash.as_bytes(), key]);
    }
    let mut out = String::with_capacity(30);
    for chunk in hash.as_bytes().chunks_exact(5).take(6) {
        let mut value = [0u8; 8];
        if let Some(tail) = value.get_mut(3..) {
            tail.copy_from_slice(chunk);
        }
        out.push_str(&format!("{:05}", u64::from_be_bytes(value) % 100_000));
    }
    out
}

/// The safety number of identities `a` and `b`; `safety_number(a, b) == safety_number(b, a)`.
#[must_use]
pub fn safety_number(a: &IdentityPublicKey, b: &IdentityPublicKey) -> SafetyNumber {
    let (low, high) = if a.as_bytes() <= b.as_bytes() { (a, b) } else { (b, a) };
    SafetyNumber(half(low) + &half(high))
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn symmetric_sixty_digits_and_key_dependent() {
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let a = IdentityKeyPair::generate(&mut rng).public_key();
        let b = IdentityKeyPair::generate(&mut rng).public_key();
        let c = IdentityKeyPair::generate(&mut rng).public_key();
        let ab = safety_number(&a, &b);
        assert_eq!(ab, safety_number(&b, &a));
        assert_eq!(ab.digits().len(), 60);
        assert!(ab.digits().bytes().all(|d| d.is_ascii_digit()));
        assert_eq!(ab.to_string().len(), 60 + 11);
        let ac = safety_number(&a, &c);
        assert_ne!(ab, ac);
        // The half of the shared identity appears in both.
        let half_a = half(&a);
        assert!(ab.digits().contains(&half_a) && ac.digits().contains(&half_a));
    }
}
