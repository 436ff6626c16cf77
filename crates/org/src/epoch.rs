//! Epoch keys and the member-side key ring: per key group, the current and a bounded number of
//! past epochs, each with its per-sender chains, plus one bounded cache of skipped message keys.
//!
//! ```text
//! key group      = org_id (organization-wide epochs) or
//!                  SHA-256("kaiwa/org/channel-group/v1" ‖ org_id ‖ channel_id)
//!                  (a channel with its own member list)
//! epoch key      = 32 random bytes from the owner's RNG, one per (key group, epoch)
//! id_material    = HKDF-SHA256(salt = key_group, ikm = epoch key,
//!                              info = "kaiwa/org/key-id-material/v1")
//! key_id         = SHA-256("kaiwa/org/key-id/v1" ‖ key_group ‖ BE32(epoch) ‖ id_material)
//! ```
//!
//! `key_id` never hashes the raw key (digest §15: a public hash of the key would let anyone
//! test a guessed key and link ids across groups); it is a one-way function of a separately
//! derived value. Kept per group: the current epoch and `MAX_PAST_EPOCHS` before it; an epoch
//! older than that is evicted with its chains (the forward-secrecy horizon, see `chain`).

#![deny(clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, VecDeque};

use kaiwa_crypto::{SymmetricKey, hkdf_sha256_keys};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::chain::Ratchet;
use crate::id::{Epoch, GroupId, KeyId, MemberId};
use crate::limits::{MAX_PAST_EPOCHS, MAX_SKIPPED_CHANNEL_KEYS};

/// HKDF info of the key-id material.
pub const KEY_ID_MATERIAL_INFO: &[u8] = b"kaiwa/org/key-id-material/v1";

/// The key of one epoch of one key group. Secret: boxed, wiped on drop, no `Clone`, redacted
/// `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct EpochKey(SymmetricKey);

impl core::fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EpochKey(..)")
    }
}

impl PartialEq for EpochKey {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for EpochKey {}

impl EpochKey {
    /// A fresh key from `rng`.
    pub(crate) fn generate<R: kaiwa_crypto::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SymmetricKey::generate(rng))
    }

    /// Wraps an unwrapped or restored key.
    pub(crate) fn from_symmetric(key: SymmetricKey) -> Self {
        Self(key)
    }

    /// The key, for wrapping, derivation and persistence.
    pub(crate) fn expose_secret(&self) -> &SymmetricKey {
        &self.0
    }

    /// The key id of this key as epoch `epoch` of `group` (module doc).
    pub(crate) fn key_id(&self, group: &GroupId, epoch: Epoch) -> KeyId {
        let [material] =
            hkdf_sha256_keys::<1>(group.as_bytes(), self.0.expose_secret(), KEY_ID_MATERIAL_INFO);
        KeyId::compute(group, epoch, material.expose_secret())
    }

    /// An explicit copy, for tests comparing keys.
    #[cfg(test)]
    pub(crate) fn duplicate(&self) -> Self {
        let mut bytes = *self.0.expose_secret();
        Self(SymmetricKey::from_secret_bytes(&mut bytes))
    }
}

/// One epoch as a member holds it.
#[derive(Debug)]
pub(crate) struct EpochState {
    pub(crate) key: EpochKey,
    pub(crate) key_id: KeyId,
    /// Per (channel group, sender): the receiving chain at the first unconsumed index;
    /// `None` once index `u32::MAX` has been consumed.
    pub(crate) receivers: BTreeMap<(GroupId, MemberId), Option<Ratchet>>,
    /// Per channel group: this member's sending chain at its next unused index.
    pub(crate) senders: BTreeMap<GroupId, Option<Ratchet>>,
}

impl EpochState {
    pub(crate) fn new(key: EpochKey, key_id: KeyId) -> Self {
        Self { key, key_id, receivers: BTreeMap::new(), senders: BTreeMap::new() }
    }
}

/// Identifies one skipped message key.
///
/// The field order is the derived comparison order: the index first, so that a comparison in
/// the skipped-key map (up to 2,000 entries, mostly of one chain after a jump) usually ends
/// after four bytes instead of three equal 32-byte ids. Only lookups depend on this order; the
/// eviction and persistence order is `KeyRing::skipped_order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SkippedId {
    pub(crate) index: u32,
    pub(crate) epoch: Epoch,
    pub(crate) sender: MemberId,
    pub(crate) channel_group: GroupId,
    pub(crate) key_group: GroupId,
}

/// All epochs of all key groups of one organization, as one member holds them.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    pub(crate) groups: BTreeMap<GroupId, BTreeMap<Epoch, EpochState>>,
    pub(crate) skipped: BTreeMap<SkippedId, SymmetricKey>,
    pub(crate) skipped_order: VecDeque<SkippedId>,
}

impl KeyRing {
    /// The current (highest) epoch of `group`.
    pub(crate) fn current(&self, group: &GroupId) -> Option<(Epoch, &EpochState)> {
        self.groups.get(group)?.iter().next_back().map(|(e, s)| (*e, s))
    }

    /// Whether `epoch` of `group` is held.
    pub(crate) fn has(&self, group: &GroupId, epoch: Epoch) -> bool {
        self.groups.get(group).is_some_and(|g| g.contains_key(&epoch))
    }

    /// Whether an epoch this old would be evicted at once.
    pub(crate) fn too_old(&self, group: &GroupId, epoch: Epoch) -> bool {
        self.groups.get(group).is_some_and(|g| {
            g.len() > MAX_PAST_EPOCHS && g.keys().next().is_some_and(|oldest| epoch < *oldest)
        })
    }

    /// Installs an epoch and evicts the oldest beyond the window (and their skipped keys).
    pub(crate) fn install(&mut self, group: GroupId, epoch: Epoch, state: EpochState) {
        let epochs = self.groups.entry(group).or_default();
        epochs.insert(epoch, state);
        while epochs.len() > MAX_PAST_EPOCHS.saturating_add(1) {
            let Some((old, _)) = epochs.pop_first() else { break };
            self.skipped.retain(|id, _| !(id.key_group == group && id.epoch == old));
            self.skipped_order.retain(|id| !(id.key_group == group && id.epoch == old));
        }
    }

    /// Adds skipped keys, evicting the oldest beyond `MAX_SKIPPED_CHANNEL_KEYS`.
    pub(crate) fn add_skipped(&mut self, keys: Vec<(SkippedId, SymmetricKey)>) {
        for (id, key) in keys {
            if self.skipped.insert(id, key).is_none() {
                self.skipped_order.push_back(id);
            }
            while self.skipped.len() > MAX_SKIPPED_CHANNEL_KEYS {
                let Some(old) = self.skipped_order.pop_front() else { break };
                self.skipped.remove(&old);
            }
        }
    }

    /// Removes and returns a skipped key.
    pub(crate) fn take_skipped(&mut self, id: &SkippedId) -> Option<SymmetricKey> {
        let key = self.skipped.remove(id)?;
        self.skipped_order.retain(|o| o != id);
        Some(key)
    }

    /// Drops everything of key groups that no longer exist (a channel deleted or opened to all).
    pub(crate) fn retain_groups(&mut self, keep: impl Fn(&GroupId) -> bool) {
        self.groups.retain(|g, _| keep(g));
        self.skipped.retain(|id, _| keep(&id.key_group));
        self.skipped_order.retain(|id| keep(&id.key_group));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_depends_on_key_group_and_epoch_and_debug_is_redacted() {
        let mut a = [1u8; 32];
        let key = EpochKey::from_symmetric(SymmetricKey::from_secret_bytes(&mut a));
        let g1 = GroupId::from_slice(&[1; 32]).unwrap();
        let g2 = GroupId::from_slice(&[2; 32]).unwrap();
        assert_ne!(key.key_id(&g1, Epoch(1)), key.key_id(&g2, Epoch(1)));
        assert_ne!(key.key_id(&g1, Epoch(1)), key.key_id(&g1, Epoch(2)));
        assert_eq!(format!("{key:?}"), "EpochKey(..)");
        // The id is not a plain hash of the key.
        let raw = kaiwa_crypto::sha256_parts(&[
            crate::id::KEY_ID_CONTEXT,
            g1.as_bytes(),
            &1u32.to_be_bytes(),
            &[1u8; 32],
        ]);
        assert_ne!(key.key_id(&g1, Epoch(1)).as_bytes(), raw.as_bytes());
    }

    #[test]
    fn ring_keeps_a_bounded_window_of_epochs() {
        let mut ring = KeyRing::default();
        let g = GroupId::from_slice(&[9; 32]).unwrap();
        for e in 1..=10u32 {
            let mut b = [u8::try_from(e).unwrap(); 32];
            let key = EpochKey::from_symmetric(SymmetricKey::from_secret_bytes(&mut b));
            let id = key.key_id(&g, Epoch(e));
            ring.install(g, Epoch(e), EpochState::new(key, id));
        }
        let epochs: Vec<u32> = ring.groups[&g].keys().map(|e| e.0).collect();
        assert_eq!(epochs, vec![6, 7, 8, 9, 10]);
        assert!(ring.too_old(&g, Epoch(5)));
        assert!(!ring.too_old(&g, Epoch(11)));
        assert_eq!(ring.current(&g).map(|(e, _)| e), Some(Epoch(10)));
    }
}
