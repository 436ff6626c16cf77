//! The seekable per-sender chain of a key epoch: Megolm's four-part hash ratchet, keyed from
//! the epoch key per sender.
//!
//! ```text
//! seed(sender)   = HKDF-SHA256(salt = group_id, ikm = epoch_key,
//!                              info = "kaiwa/org/sender-chain/v1" ‖ BE32(epoch) ‖ sender_pk)
//!                  = R_0(0) ‖ R_1(0) ‖ R_2(0) ‖ R_3(0)                          (4 × 32 bytes)
//! H_j(A)         = HMAC-SHA256(key = A, message = u8(j))
//!
//! index i = (i_0, i_1, i_2, i_3), base 256, i_0 most significant. From R(i-1) to R(i)
//! (Megolm, https://gitlab.matrix.org/matrix-org/olm/-/blob/master/docs/megolm.md):
//!   i ≡ 0 mod 2^24:  R_0 = H_0(R_0); R_1 = H_1(R_0); R_2 = H_2(R_0); R_3 = H_3(R_0)
//!   i ≡ 0 mod 2^16:                  R_1 = H_1(R_1); R_2 = H_2(R_1); R_3 = H_3(R_1)
//!   i ≡ 0 mod 2^8:                                   R_2 = H_2(R_2); R_3 = H_3(R_2)
//!   otherwise:                                                       R_3 = H_3(R_3)
//!
//! seek(c → t), t ≥ c: for j = 0..3, advance part j by ((t >> 8(3-j)) - (c >> 8(3-j))) mod 256
//!   steps, re-deriving parts j+1..3 from it on the last step; at most 4 × 255 = 1,020 HMACs
//!   for any gap up to 2^32 (libolm `megolm_advance_to`).
//!
//! message_key(i) = HMAC-SHA256(key = R_0(i) ‖ R_1(i) ‖ R_2(i) ‖ R_3(i),
//!                              message = "kaiwa/org/message-key/v1")           (AES-256-GCM key)
//! ```
//!
//! Index 0 is never a message (HRHeader `seq_no = 0` means key exchange only): a sender's first
//! message has index 1. A sender never uses an index twice: it keeps R at its next index. A
//! receiver keeps R at the first index it has not consumed and moves it forward only.
//!
//! **Forward secrecy, honestly.** Anyone holding R(c) can derive every key from index c on,
//! and anyone holding the epoch key can derive every key of every sender of the epoch. Members
//! must keep the epoch key while the epoch is live (a sender's chain is derived from it when
//! their first message arrives), so within an epoch there is no forward secrecy against a
//! member's compromised device, exactly as with Megolm. Deleting used message keys still
//! matters: it makes replays detectable and keeps state bounded. Forward secrecy comes from
//! re-keying: when an epoch falls out of the history window its key and chains are wiped, and
//! a removed member never learns later epoch keys.

#![deny(clippy::arithmetic_side_effects)]

use hmac::digest::FixedOutput as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use kaiwa_crypto::{SymmetricKey, hkdf_sha256_keys};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::id::{Epoch, GroupId};

/// HKDF info label of sender seeds.
pub const SENDER_CHAIN_INFO: &[u8] = b"kaiwa/org/sender-chain/v1";

/// HMAC message deriving a message key from the ratchet state.
pub const MESSAGE_KEY_INFO: &[u8] = b"kaiwa/org/message-key/v1";

/// `HMAC-SHA256(key, message)` written into `out`, with no heap allocation (kaiwa-crypto's
/// `hmac_sha256_key` boxes every output; the chain computes one or two HMACs per message and
/// about 300 for a 100,000-message gap, so the allocation is a measurable share). Same function
/// as `kaiwa_crypto::hmac_sha256` (unit test); the HMAC state is wiped on drop (`zeroize`
/// feature of `hmac`).
fn hmac_into(key: &[u8], message: &[u8], out: &mut [u8; 32]) {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length (RFC 2104 §2)")]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts every key length");
    mac.update(message);
    mac.finalize_into(out.into());
}

/// The four ratchet parts at one index. Secret: boxed, wiped on drop, cloned only explicitly.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Ratchet {
    parts: Box<[[u8; 32]; 4]>,
    counter: u32,
}

impl core::fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { parts: _, counter } = self;
        f.debug_struct("Ratchet").field("counter", counter).finish_non_exhaustive()
    }
}

impl Ratchet {
    /// R(0) of `sender`'s chain in the epoch keyed by `epoch_key`.
    pub(crate) fn seed(
        epoch_key: &SymmetricKey,
        group: &GroupId,
        epoch: Epoch,
        sender: &[u8; 32],
    ) -> Self {
        let mut info = Vec::with_capacity(SENDER_CHAIN_INFO.len().saturating_add(36));
        info.extend_from_slice(SENDER_CHAIN_INFO);
        info.extend_from_slice(&epoch.0.to_be_bytes());
        info.extend_from_slice(sender);
        let keys = hkdf_sha256_keys::<4>(group.as_bytes(), epoch_key.expose_secret(), &info);
        let mut parts = Box::new([[0u8; 32]; 4]);
        for (part, key) in parts.iter_mut().zip(keys.iter()) {
            part.copy_from_slice(key.expose_secret());
        }
        Self { parts, counter: 0 }
    }

    /// Restores a ratchet from persisted bytes (128 bytes of parts) and its counter.
    pub(crate) fn from_parts(bytes: &[u8], counter: u32) -> Option<Self> {
        if bytes.len() != 128 {
            return None;
        }
        let mut parts = Box::new([[0u8; 32]; 4]);
        parts.as_flattened_mut().copy_from_slice(bytes);
        Some(Self { parts, counter })
    }

    /// The 128 bytes of parts, for persistence only.
    pub(crate) fn expose_secret(&self) -> &[u8] {
        self.parts.as_flattened()
    }

    /// An explicit copy, for computing a plan without touching the stored state.
    pub(crate) fn duplicate(&self) -> Self {
        Self { parts: self.parts.clone(), counter: self.counter }
    }

    /// The index this state is at.
    pub(crate) fn counter(&self) -> u32 {
        self.counter
    }

    /// `R_to = H_to(R_from)`.
    fn rehash(&mut self, from: usize, to: usize) {
        let Some(source) = self.parts.get(from) else { return };
        let label = [u8::try_from(to).unwrap_or(u8::MAX)];
        let mut next = [0u8; 32];
        hmac_into(source, &label, &mut next);
        if let Some(target) = self.parts.get_mut(to) {
            *target = next;
        }
        next.zeroize();
    }

    /// Moves to `target` (see the module doc). Returns `false` and changes nothing if
    /// `target` is behind the current index: the chain only moves forward.
    pub(crate) fn seek(&mut self, target: u32) -> bool {
        if target < self.counter {
            return false;
        }
        for (j, shift) in [(0usize, 24u32), (1, 16), (2, 8), (3, 0)] {
            let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
            let steps = (target >> shift).wrapping_sub(self.counter >> shift) & 0xff;
            if steps == 0 {
                continue;
            }
            for _ in 1..steps {
                self.rehash(j, j);
            }
            for k in (j..4).rev() {
                self.rehash(j, k);
            }
            self.counter = target & mask;
        }
        true
    }

    /// Moves to the next index. Returns `false` and changes nothing at `u32::MAX`.
    pub(crate) fn step(&mut self) -> bool {
        match self.counter.checked_add(1) {
            Some(next) => self.seek(next),
            None => false,
        }
    }

    /// The AES-256-GCM key of the current index.
    pub(crate) fn message_key(&self) -> SymmetricKey {
        let mut key = [0u8; 32];
        hmac_into(self.parts.as_flattened(), MESSAGE_KEY_INFO, &mut key);
        // Moves the bytes into the boxed key and wipes `key`.
        SymmetricKey::from_secret_bytes(&mut key)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn seeded() -> Ratchet {
        let mut key = [7u8; 32];
        Ratchet::seed(
            &SymmetricKey::from_secret_bytes(&mut key),
            &GroupId::from_slice(&[1; 32]).unwrap(),
            Epoch(1),
            &[2; 32],
        )
    }

    /// Reference: one step at a time with Megolm's single-step rule.
    fn step_by_step(r: &mut Ratchet, target: u32) {
        while r.counter < target {
            let next = r.counter + 1;
            let h = if next.is_multiple_of(1 << 24) {
                0
            } else if next.is_multiple_of(1 << 16) {
                1
            } else if next.is_multiple_of(1 << 8) {
                2
            } else {
                3
            };
            for k in (h..4).rev() {
                r.rehash(h, k);
            }
            r.counter = next;
        }
    }

    #[test]
    fn seek_equals_single_steps_across_part_boundaries() {
        for target in [1u32, 255, 256, 257, 65_535, 65_536, 65_537, 70_000, 100_001] {
            let mut a = seeded();
            let mut b = seeded();
            assert!(a.seek(target));
            step_by_step(&mut b, target);
            assert_eq!(a.counter(), target);
            assert_eq!(a.expose_secret(), b.expose_secret(), "target {target}");
        }
    }

    #[test]
    fn seek_reaches_the_end_of_the_index_range_and_stops() {
        let mut a = seeded();
        assert!(a.seek(u32::MAX));
        assert_eq!(a.counter(), u32::MAX);
        assert!(!a.step());
        assert!(!a.seek(5));
        assert_eq!(a.counter(), u32::MAX);
    }

    #[test]
    fn different_senders_epochs_and_indices_get_different_keys() {
        let mut key = [7u8; 32];
        let k = SymmetricKey::from_secret_bytes(&mut key);
        let g = GroupId::from_slice(&[1; 32]).unwrap();
        let a = Ratchet::seed(&k, &g, Epoch(1), &[2; 32]).message_key();
        let b = Ratchet::seed(&k, &g, Epoch(1), &[3; 32]).message_key();
        let c = Ratchet::seed(&k, &g, Epoch(2), &[2; 32]).message_key();
        let mut r = Ratchet::seed(&k, &g, Epoch(1), &[2; 32]);
        r.step();
        let d = r.message_key();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn allocation_free_hmac_is_hmac_sha256() {
        // Key lengths of the chain: 32 (a part) and 128 (all four parts, hashed first by HMAC).
        for (key, message) in
            [(&[0x11u8; 32][..], &[3u8][..]), (&[0x22u8; 128][..], MESSAGE_KEY_INFO)]
        {
            let mut out = [0u8; 32];
            hmac_into(key, message, &mut out);
            assert_eq!(&out, kaiwa_crypto::hmac_sha256(key, message).as_bytes());
        }
        // RFC 4231 test case 2.
        let mut out = [0u8; 32];
        hmac_into(b"Jefe", b"what do ya want for nothing?", &mut out);
        assert_eq!(
            hex::encode(out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let r = seeded();
        let debug = format!("{r:?}");
        assert_eq!(debug, "Ratchet { counter: 0, .. }");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn seek_is_path_independent(a in 0u32..2_000_000, b in 0u32..2_000_000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let mut direct = seeded();
            direct.seek(hi);
            let mut via = seeded();
            via.seek(lo);
            via.seek(hi);
            prop_assert_eq!(direct.expose_secret(), via.expose_secret());
        }
    }
}
