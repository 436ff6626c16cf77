//! ChaCha20-Poly1305 (RFC 8439) and AES-256-GCM (NIST SP 800-38D) with typed keys and
//! 96-bit nonces.
//!
//! ```text
//! seal(key, nonce, aad, plaintext) = ciphertext ‖ tag          len = len(plaintext) + 16
//! open(key, nonce, aad, ciphertext ‖ tag) = plaintext | Unauthenticated
//! ```
//!
//! Which cipher goes where (DECISIONS: Suite): ChaCha20-Poly1305 for the 1:1 double ratchet
//! (a fresh key per message, so [`Nonce::ZERO`] is safe there) and for sealed boxes;
//! AES-256-GCM for organization channels.
//!
//! A nonce must never repeat under one key. Either the key is single-use ([`Nonce::ZERO`]
//! is then fine), or the nonce comes from a counter the caller never rewinds, or it is random
//! ([`Nonce::random`]); with random 96-bit nonces keep each key below 2^32 messages (NIST SP
//! 800-38D §8.3).
//!
//! `open` returns the plaintext in a [`Zeroizing`] buffer, and only after the tag has
//! verified; every failure is the single opaque [`AeadError::Unauthenticated`].

use core::fmt;

use aes_gcm::Aes256Gcm;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadCore, AeadInOut, KeyInit};
use chacha20poly1305::consts::{U12, U16, U32};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hex::write_hex;
use crate::secret::{impl_secret_traits, take_secret};
use crate::{AeadError, DecodeError, SymmetricKey};

/// Length of an authentication tag in bytes (both ciphers).
pub const TAG_LEN: usize = 16;

/// A 96-bit AEAD nonce. Public: it may travel beside the ciphertext.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; Nonce::LEN]);

impl Nonce {
    /// Length in bytes.
    pub const LEN: usize = 12;

    /// The all-zero nonce. Only for keys that encrypt exactly one message (per-message
    /// ratchet keys, sealed-box key-encryption keys).
    pub const ZERO: Self = Self([0; Self::LEN]);

    /// Wraps nonce bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// A uniformly random nonce from `rng` (see the module doc for the 2^32 bound).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; Self::LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The 12 nonce bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The 12 nonce bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }
}

impl TryFrom<&[u8]> for Nonce {
    type Error = DecodeError;

    /// Parses a nonce of unchecked length (a field of a decoded message).
    fn try_from(bytes: &[u8]) -> Result<Self, DecodeError> {
        let array: [u8; 12] = bytes.try_into().map_err(|_| DecodeError::Length {
            field: "nonce",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

fn seal_with<A>(
    key: &[u8; 32],
    nonce: &Nonce,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadError>
where
    A: KeyInit<KeySize = U32> + AeadInOut + AeadCore<NonceSize = U12, TagSize = U16>,
{
    let cipher = A::new(key.into());
    let capacity = plaintext.len().checked_add(TAG_LEN).ok_or(AeadError::TooLong)?;
    // Holds plaintext until encryption succeeds: wiped if it does not.
    let mut buffer = Zeroizing::new(Vec::with_capacity(capacity));
    buffer.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached((&nonce.0).into(), aad, buffer.as_mut_slice().into())
        .map_err(|_| AeadError::TooLong)?;
    buffer.extend_from_slice(&tag);
    Ok(core::mem::take(&mut *buffer))
}

fn open_with<A>(
    key: &[u8; 32],
    nonce: &Nonce,
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadError>
where
    A: KeyInit<KeySize = U32> + AeadInOut + AeadCore<NonceSize = U12, TagSize = U16>,
{
    let (body, tag) = ciphertext.split_last_chunk::<TAG_LEN>().ok_or(AeadError::Unauthenticated)?;
    let cipher = A::new(key.into());
    let mut buffer = Zeroizing::new(body.to_vec());
    cipher
        .decrypt_inout_detached((&nonce.0).into(), aad, buffer.as_mut_slice().into(), tag.into())
        .map_err(|_| AeadError::Unauthenticated)?;
    Ok(buffer)
}

macro_rules! aead_key {
    ($(#[$doc:meta])* $name:ident, $cipher:ty) => {
        $(#[$doc])*
        ///
        /// A secret: wiped on drop, no `Clone`, redacted `Debug`.
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name(Box<[u8; $name::LEN]>);

        impl_secret_traits!($name);

        impl $name {
            /// Key length in bytes.
            pub const LEN: usize = 32;

            /// A fresh random key from `rng`.
            pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
                Self::from(SymmetricKey::generate(rng))
            }

            /// Takes the key bytes and wipes the caller's copy.
            pub fn from_secret_bytes(bytes: &mut [u8; Self::LEN]) -> Self {
                Self(take_secret(bytes))
            }

            /// The key bytes. The only accessor.
            #[must_use]
            pub fn expose_secret(&self) -> &[u8; Self::LEN] {
                &self.0
            }

            /// Encrypts `plaintext` and authenticates it together with `aad`; returns
            /// `ciphertext ‖ tag` (16 bytes longer than `plaintext`).
            ///
            /// # Errors
            /// [`AeadError::TooLong`] if the input exceeds the cipher's limit.
            pub fn seal(
                &self,
                nonce: &Nonce,
                aad: &[u8],
                plaintext: &[u8],
            ) -> Result<Vec<u8>, AeadError> {
                seal_with::<$cipher>(&self.0, nonce, aad, plaintext)
            }

            /// Checks and decrypts `ciphertext ‖ tag`. The plaintext is released only if the
            /// tag verifies, in a buffer that is wiped on drop.
            ///
            /// # Errors
            /// [`AeadError::Unauthenticated`] for any failure: wrong key, nonce or `aad`, a
            /// modified or truncated ciphertext (shorter than the tag included).
            pub fn open(
                &self,
                nonce: &Nonce,
                aad: &[u8],
                ciphertext: &[u8],
            ) -> Result<Zeroizing<Vec<u8>>, AeadError> {
                open_with::<$cipher>(&self.0, nonce, aad, ciphertext)
            }
        }

        impl From<SymmetricKey> for $name {
            /// Uses a derived 32-byte key for this cipher (the source is wiped when dropped).
            fn from(key: SymmetricKey) -> Self {
                let mut boxed = Box::new([0u8; Self::LEN]);
                boxed.copy_from_slice(key.expose_secret());
                Self(boxed)
            }
        }
    };
}

aead_key!(
    /// A ChaCha20-Poly1305 key (RFC 8439).
    ChaCha20Poly1305Key,
    ChaCha20Poly1305
);

aead_key!(
    /// An AES-256-GCM key (NIST SP 800-38D, 96-bit nonces, 128-bit tags).
    Aes256GcmKey,
    Aes256Gcm
);

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::test_util::assert_debug_redacted;

    #[test]
    fn debug_output_has_no_key_material_and_caller_copy_is_wiped() {
        let mut bytes = [0x9E; 32];
        let key = ChaCha20Poly1305Key::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32]);
        assert_eq!(assert_debug_redacted(&key, &[0x9E; 32]), "ChaCha20Poly1305Key(..)");

        let mut bytes = [0x9F; 32];
        let key = Aes256GcmKey::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32]);
        assert_eq!(assert_debug_redacted(&key, &[0x9F; 32]), "Aes256GcmKey(..)");
    }

    fn round_trip_and_tamper(
        seal: impl Fn(&Nonce, &[u8], &[u8]) -> Result<Vec<u8>, AeadError>,
        open: impl Fn(&Nonce, &[u8], &[u8]) -> Result<Zeroizing<Vec<u8>>, AeadError>,
    ) {
        let nonce = Nonce::from_bytes([3; 12]);
        for len in [0usize, 1, 15, 16, 17, 64, 1000] {
            let plaintext = vec![0x42u8; len];
            let sealed = seal(&nonce, b"aad", &plaintext).unwrap();
            assert_eq!(sealed.len(), len + TAG_LEN);
            assert_eq!(open(&nonce, b"aad", &sealed).unwrap().as_slice(), plaintext.as_slice());
            assert_eq!(open(&nonce, b"aaD", &sealed).unwrap_err(), AeadError::Unauthenticated);
            assert_eq!(
                open(&Nonce::ZERO, b"aad", &sealed).unwrap_err(),
                AeadError::Unauthenticated
            );
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x80;
                assert_eq!(open(&nonce, b"aad", &bad).unwrap_err(), AeadError::Unauthenticated);
            }
            for cut in 0..sealed.len() {
                assert!(open(&nonce, b"aad", &sealed[..cut]).is_err());
            }
        }
    }

    #[test]
    fn chacha_round_trip_and_tamper() {
        let key = ChaCha20Poly1305Key::generate(&mut ChaCha20Rng::seed_from_u64(1));
        round_trip_and_tamper(|n, a, p| key.seal(n, a, p), |n, a, c| key.open(n, a, c));
        let other = ChaCha20Poly1305Key::generate(&mut ChaCha20Rng::seed_from_u64(2));
        let sealed = key.seal(&Nonce::ZERO, b"", b"x").unwrap();
        assert_eq!(other.open(&Nonce::ZERO, b"", &sealed), Err(AeadError::Unauthenticated));
    }

    #[test]
    fn aes_round_trip_and_tamper() {
        let key = Aes256GcmKey::generate(&mut ChaCha20Rng::seed_from_u64(3));
        round_trip_and_tamper(|n, a, p| key.seal(n, a, p), |n, a, c| key.open(n, a, c));
    }

    #[test]
    fn ciphers_are_not_interchangeable() {
        let mut bytes = [1u8; 32];
        let chacha = ChaCha20Poly1305Key::from_secret_bytes(&mut bytes);
        let mut bytes = [1u8; 32];
        let aes = Aes256GcmKey::from_secret_bytes(&mut bytes);
        let sealed = chacha.seal(&Nonce::ZERO, b"", b"hello").unwrap();
        assert_eq!(aes.open(&Nonce::ZERO, b"", &sealed), Err(AeadError::Unauthenticated));
    }

    #[test]
    fn nonces() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        assert_ne!(Nonce::random(&mut rng), Nonce::random(&mut rng));
        assert_eq!(
            Nonce::try_from(&[0u8; 11][..]),
            Err(DecodeError::Length { field: "nonce", expected: 12, actual: 11 })
        );
        assert_eq!(Nonce::try_from(&[5u8; 12][..]).unwrap().to_bytes(), [5; 12]);
        assert_eq!(format!("{:?}", Nonce::ZERO), format!("Nonce({})", "00".repeat(12)));
    }

    #[test]
    fn from_symmetric_key_keeps_the_bytes() {
        let mut bytes = [8u8; 32];
        let key = ChaCha20Poly1305Key::from(SymmetricKey::from_secret_bytes(&mut bytes));
        assert_eq!(key.expose_secret(), &[8; 32]);
    }
}
