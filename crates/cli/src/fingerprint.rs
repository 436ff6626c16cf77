//! Safety numbers: what two people compare (out loud, or side by side) to know that each has
//! the other's real identity key (seed 000, "Identity verification").
//!
//! ```text
//! half(IK)  = h_5200 where h_0 = SHA-256("kaiwa/session/fingerprint/v1" ‖ IK),
//!                          h_{i+1} = SHA-256(h_i ‖ IK)
//!             -> 6 chunks of 5 bytes, each u40_be mod 100000, as 5 decimal digits: 30 digits
//! safety number(A, B) = half(lower IK) ‖ half(higher IK)   (byte order of the Ed25519 keys)
//!                     = 60 digits, shown as 12 groups of 5
//! ```
//!
//! This is kaiwa-session's `safety_number`, which the facade does not re-export yet. Until it
//! does (`kaiwa::safety_number(&PublicId, &PublicId) -> SafetyNumber`), this private copy
//! computes the same digits, and a unit test checks it against kaiwa-session's on random keys,
//! so the two cannot drift apart silently. Replacing it is one line in [`safety_number`].

use kaiwa::PublicId;
use sha2::{Digest as _, Sha256};

/// kaiwa-session's `FINGERPRINT_CONTEXT`, copied exactly.
const FINGERPRINT_CONTEXT: &[u8] = b"kaiwa/session/fingerprint/v1";

/// kaiwa-session's `FINGERPRINT_ITERATIONS` (Signal's numeric fingerprint uses 5,200).
const FINGERPRINT_ITERATIONS: usize = 5_200;

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn half(key: &[u8; 32]) -> String {
    let mut hash = sha256(&[FINGERPRINT_CONTEXT, key]);
    for _ in 0..FINGERPRINT_ITERATIONS {
        hash = sha256(&[&hash, key]);
    }
    let mut digits = String::with_capacity(30);
    for chunk in hash.chunks_exact(5).take(6) {
        let value = chunk.iter().fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
        digits.push_str(&format!("{:05}", value % 100_000));
    }
    digits
}

/// The safety number of `a` and `b` as 12 groups of 5 digits; symmetric in its arguments.
pub(crate) fn safety_number(a: &PublicId, b: &PublicId) -> String {
    let (low, high) = if a.as_bytes() <= b.as_bytes() { (a, b) } else { (b, a) };
    let digits = half(low.as_bytes()) + &half(high.as_bytes());
    let groups: Vec<&str> = (0..12).filter_map(|i| digits.get(i * 5..i * 5 + 5)).collect();
    groups.join(" ")
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn key(seed: [u8; 32]) -> kaiwa_crypto::IdentityPublicKey {
        IdentityKeyPair::generate(&mut ChaCha20Rng::from_seed(seed)).public_key()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        #[test]
        fn agrees_with_kaiwa_session_and_is_symmetric(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let (ka, kb) = (key(a), key(b));
            let (ia, ib) = (PublicId::new(ka.to_bytes()), PublicId::new(kb.to_bytes()));
            let ours = safety_number(&ia, &ib);
            prop_assert_eq!(&ours, &kaiwa_session::safety_number(&ka, &kb).to_string());
            prop_assert_eq!(&ours, &safety_number(&ib, &ia));
            prop_assert_eq!(ours.len(), 60 + 11);
        }
    }
}
