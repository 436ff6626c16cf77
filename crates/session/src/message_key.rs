//! Message keys and the per-message AEAD of the double ratchet.
//!
//! ```text
//! mk         = HMAC-SHA256(ck, 0x01)                      (chain.rs, Signal's KDF_CK)
//! ciphertext = ChaCha20-Poly1305(key = mk, nonce = 0^12, ad = AD ‖ header_ad, plaintext)
//!              = encrypted plaintext ‖ 16-byte tag
//! AD         = the session's associated data (x3dh.rs: both identities and installations)
//! header_ad  = ratchet_key(32) ‖ u32_be(n) ‖ u32_be(pn) ‖ bundle_id(32)     (header.rs)
//! ```
//!
//! Every message key encrypts exactly one message and is deleted after use, so the all-zero
//! nonce never repeats under a key. (Signal runs HKDF over `mk` to get an AES-CBC key, an
//! HMAC key and an IV; an AEAD with a single-use key needs none of that, and skipping it
//! halves the symmetric work per message. The nonce choice matches kaiwa-crypto's
//! `Nonce::ZERO` guidance.)

use kaiwa_crypto::{ChaCha20Poly1305Key, Nonce, SymmetricKey, TAG_LEN, Zeroizing};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{DecryptError, EncryptError};

/// One message key. Wiped on drop (by the `SymmetricKey` inside), no `Clone`, redacted
/// `Debug`. Sealing and opening consume it: a message key is used once.
#[derive(Zeroize)]
pub(crate) struct MessageKey(SymmetricKey);

impl ZeroizeOnDrop for MessageKey {}

impl MessageKey {
    pub(crate) fn from_symmetric(key: SymmetricKey) -> Self {
        Self(key)
    }

    /// Restores a key from a record field (wiped on success).
    pub(crate) fn from_secret_slice(bytes: &mut [u8]) -> Option<Self> {
        SymmetricKey::from_secret_slice(bytes).ok().map(Self)
    }

    pub(crate) fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// `ciphertext ‖ tag` of `plaintext` under this key, the zero nonce and `ad`.
    pub(crate) fn seal(self, ad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        ChaCha20Poly1305Key::from(self.0).seal(&Nonce::ZERO, ad, plaintext).map_err(|_| {
            EncryptError::TooLong {
                limit: crate::limits::MAX_PLAINTEXT_LEN,
                actual: plaintext.len(),
            }
        })
    }

    /// Checks and decrypts `ciphertext ‖ tag`.
    pub(crate) fn open(
        self,
        ad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        if ciphertext.len() < TAG_LEN {
            return Err(DecryptError::Unauthenticated);
        }
        ChaCha20Poly1305Key::from(self.0)
            .open(&Nonce::ZERO, ad, ciphertext)
            .map_err(|_| DecryptError::Unauthenticated)
    }
}

impl core::fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MessageKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MessageKey {
        MessageKey::from_symmetric(SymmetricKey::from_secret_bytes(&mut [0x5A; 32]))
    }

    #[test]
    fn seal_open_and_tamper() {
        let ct = key().seal(b"ad", b"hello").unwrap();
        assert_eq!(ct.len(), 5 + TAG_LEN);
        assert_eq!(key().open(b"ad", &ct).unwrap().as_slice(), b"hello");
        assert_eq!(key().open(b"ax", &ct), Err(DecryptError::Unauthenticated));
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(key().open(b"ad", &bad), Err(DecryptError::Unauthenticated));
        assert_eq!(key().open(b"ad", &ct[..10]), Err(DecryptError::Unauthenticated));
        let key = key();
        let debug = format!("{key:?}");
        assert_eq!(debug, "MessageKey(..)");
        assert!(!debug.contains("5a") && !debug.contains("90"));
    }
}
