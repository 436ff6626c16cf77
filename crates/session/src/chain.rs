//! Symmetric-key ratchet chains (Signal's KDF_CK) and the receiving and sending chain state.
//!
//! ```text
//! KDF_CK(ck) -> (ck', mk):   mk  = HMAC-SHA256(ck, 0x01)
//!                            ck' = HMAC-SHA256(ck, 0x02)
//! ```
//!
//! As in the Signal double-ratchet specification §5.2 (the constants 0x01/0x02 are Signal's;
//! status-go's 0x10/0x0F are not used, DECISIONS.md "1:1 sessions"). A chain is only ever
//! advanced on a copy (`ChainKey::step` borrows and returns a new key), so a failed decrypt
//! never moves a chain.

#![warn(clippy::arithmetic_side_effects)]

use kaiwa_crypto::{DhKeyPair, DhPublicKey, SymmetricKey, hmac_sha256_key};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::message_key::MessageKey;

const MESSAGE_KEY_SEED: [u8; 1] = [0x01];
const CHAIN_KEY_SEED: [u8; 1] = [0x02];

/// A chain key. Wiped on drop, no `Clone`, redacted `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ChainKey(SymmetricKey);

impl ChainKey {
    pub(crate) fn new(key: SymmetricKey) -> Self {
        Self(key)
    }

    /// Restores a key from a record field (wiped on success).
    pub(crate) fn from_secret_slice(bytes: &mut [u8]) -> Option<Self> {
        SymmetricKey::from_secret_slice(bytes).ok().map(Self)
    }

    pub(crate) fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// KDF_CK: the next chain key and this position's message key.
    pub(crate) fn step(&self) -> (Self, MessageKey) {
        let key = self.0.expose_secret();
        let message_key = MessageKey::from_symmetric(hmac_sha256_key(key, &MESSAGE_KEY_SEED));
        (Self(hmac_sha256_key(key, &CHAIN_KEY_SEED)), message_key)
    }
}

impl core::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// The chain we encrypt with: our current ratchet key pair and the chain derived from it.
pub(crate) struct SendingChain {
    pub(crate) ratchet_key: DhKeyPair,
    pub(crate) chain_key: ChainKey,
    /// Index of the next message to send.
    pub(crate) next_index: u32,
}

/// A chain we decrypt with, identified by the peer's ratchet public key.
pub(crate) struct ReceivingChain {
    pub(crate) ratchet_key: DhPublicKey,
    pub(crate) chain_key: ChainKey,
    /// Index of the next message key `chain_key` yields.
    pub(crate) next_index: u32,
    /// Once the peer moved on to a newer ratchet key, the length of this chain as the peer
    /// announced it (`pn`): indices at or past it were never used.
    pub(crate) end: Option<u32>,
}

impl core::fmt::Debug for SendingChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { ratchet_key, chain_key: _, next_index } = self;
        f.debug_struct("SendingChain")
            .field("ratchet_key", &ratchet_key.public_key())
            .field("next_index", next_index)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for ReceivingChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { ratchet_key, chain_key: _, next_index, end } = self;
        f.debug_struct("ReceivingChain")
            .field("ratchet_key", ratchet_key)
            .field("next_index", next_index)
            .field("end", end)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::hmac_sha256;

    use super::*;

    #[test]
    fn step_is_signal_kdf_ck() {
        let mut raw = [7u8; 32];
        let ck = ChainKey::new(SymmetricKey::from_secret_bytes(&mut raw));
        let (next, mk) = ck.step();
        assert_eq!(next.expose_secret(), hmac_sha256(&[7; 32], &[2]).as_bytes());
        assert_eq!(mk.expose_secret(), hmac_sha256(&[7; 32], &[1]).as_bytes());
        let (again, _) = ck.step();
        assert_eq!(again.expose_secret(), next.expose_secret(), "stepping does not move ck");
        assert_eq!(format!("{ck:?}"), "ChainKey(..)");
    }
}
