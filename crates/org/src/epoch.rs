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

use std::collections::BTreeMap;

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
/// eviction and persistence order is the insertion order kept by [`SkippedKeys`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SkippedId {
    pub(crate) index: u32,
    pub(crate) epoch: Epoch,
    pub(crate) sender: MemberId,
    pub(crate) channel_group: GroupId,
    pub(crate) key_group: GroupId,
}

/// The bounded cache of skipped message keys: found by id, evicted and persisted oldest first.
///
/// Each key carries its insertion sequence number, and `order` maps sequence numbers back to
/// ids, so a lookup, a removal and an eviction each cost O(log n). (An insertion-order queue
/// scanned on every removal cost about 130,000 instructions per late message once the cache
/// was full: a third of a signature verification.)
#[derive(Debug, Default)]
pub(crate) struct SkippedKeys {
    keys: BTreeMap<SkippedId, (u64, SymmetricKey)>,
    order: BTreeMap<u64, SkippedId>,
    next: u64,
}

impl SkippedKeys {
    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key of `id`, if held.
    pub(crate) fn get(&self, id: &SkippedId) -> Option<&SymmetricKey> {
        self.keys.get(id).map(|(_, key)| key)
    }

    /// Adds a key as the newest (a key already held keeps its place and gets the new value),
    /// then evicts the oldest beyond `MAX_SKIPPED_CHANNEL_KEYS`.
    pub(crate) fn insert(&mut self, id: SkippedId, key: SymmetricKey) {
        if let Some((_, held)) = self.keys.get_mut(&id) {
            *held = key;
            return;
        }
        let seq = self.next_seq();
        self.keys.insert(id, (seq, key));
        self.order.insert(seq, id);
        while self.keys.len() > MAX_SKIPPED_CHANNEL_KEYS {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            self.keys.remove(&oldest);
        }
    }

    /// Removes and returns the key of `id`.
    pub(crate) fn take(&mut self, id: &SkippedId) -> Option<SymmetricKey> {
        let (seq, key) = self.keys.remove(id)?;
        self.order.remove(&seq);
        Some(key)
    }

    /// Keeps only the keys whose id satisfies `keep`.
    pub(crate) fn retain(&mut self, keep: impl Fn(&SkippedId) -> bool) {
        self.keys.retain(|id, _| keep(id));
        self.order.retain(|_, id| keep(id));
    }

    /// Every key, oldest first (the persisted order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SkippedId, &SymmetricKey)> {
        self.order.values().filter_map(|id| self.keys.get(id).map(|(_, key)| (id, key)))
    }

    /// The next sequence number. 2^64 insertions do not happen, but if the counter ever
    /// reached its end the held keys are renumbered from 0 in their order.
    fn next_seq(&mut self) -> u64 {
        if self.next == u64::MAX {
            let ids: Vec<SkippedId> = self.order.values().copied().collect();
            self.order.clear();
            self.next = 0;
            for id in ids {
                let seq = self.next;
                if let Some((held, _)) = self.keys.get_mut(&id) {
                    *held = seq;
                }
                self.order.insert(seq, id);
                self.next = seq.saturating_add(1);
            }
        }
        let seq = self.next;
        self.next = seq.saturating_add(1);
        seq
    }
}

/// All epochs of all key groups of one organization, as one member holds them.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    pub(crate) groups: BTreeMap<GroupId, BTreeMap<Epoch, EpochState>>,
    pub(crate) skipped: SkippedKeys,
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
            self.skipped.retain(|id| !(id.key_group == group && id.epoch == old));
        }
    }

    /// Adds skipped keys, evicting the oldest beyond `MAX_SKIPPED_CHANNEL_KEYS`.
    pub(crate) fn add_skipped(&mut self, keys: Vec<(SkippedId, SymmetricKey)>) {
        for (id, key) in keys {
            self.skipped.insert(id, key);
        }
    }

    /// Removes and returns a skipped key.
    pub(crate) fn take_skipped(&mut self, id: &SkippedId) -> Option<SymmetricKey> {
        self.skipped.take(id)
    }

    /// Drops everything of key groups that no longer exist (a channel deleted or opened to all).
    pub(crate) fn retain_groups(&mut self, keep: impl Fn(&GroupId) -> bool) {
        self.groups.retain(|g, _| keep(g));
        self.skipped.retain(|id| keep(&id.key_group));
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

    fn skipped_id(index: u32) -> SkippedId {
        SkippedId {
            index,
            epoch: Epoch(1),
            sender: MemberId::from_slice("sender", &[3; 32]).unwrap(),
            channel_group: GroupId::from_slice(&[2; 32]).unwrap(),
            key_group: GroupId::from_slice(&[1; 32]).unwrap(),
        }
    }

    fn key(byte: u8) -> SymmetricKey {
        SymmetricKey::from_secret_bytes(&mut [byte; 32])
    }

    fn indices(skipped: &SkippedKeys) -> Vec<u32> {
        skipped.iter().map(|(id, _)| id.index).collect()
    }

    #[test]
    fn skipped_keys_evict_and_persist_oldest_first() {
        let mut skipped = SkippedKeys::default();
        let total = u32::try_from(MAX_SKIPPED_CHANNEL_KEYS).unwrap() + 5;
        // Inserted in descending index order: the insertion order is not the id order.
        for index in (1..=total).rev() {
            skipped.insert(skipped_id(index), key(1));
        }
        assert_eq!(skipped.len(), MAX_SKIPPED_CHANNEL_KEYS);
        let expected: Vec<u32> = (1..=total - 5).rev().collect();
        assert_eq!(indices(&skipped), expected, "the five oldest (highest) were evicted");
        assert!(skipped.get(&skipped_id(total)).is_none());
        // Taking a key removes it from the order too; re-inserting a held key keeps its place.
        assert_eq!(skipped.take(&skipped_id(100)), Some(key(1)));
        assert_eq!(skipped.take(&skipped_id(100)), None);
        skipped.insert(skipped_id(total - 5), key(2));
        assert_eq!(skipped.get(&skipped_id(total - 5)), Some(&key(2)));
        assert_eq!(indices(&skipped).first(), Some(&(total - 5)));
        assert_eq!(skipped.len(), MAX_SKIPPED_CHANNEL_KEYS - 1);
        assert_eq!(skipped.order.len(), skipped.keys.len());
        skipped.retain(|id| id.index % 2 == 0);
        assert!(indices(&skipped).iter().all(|i| i % 2 == 0));
        assert_eq!(skipped.order.len(), skipped.keys.len());
    }

    #[test]
    fn skipped_key_sequence_numbers_renumber_at_their_end() {
        let mut skipped = SkippedKeys { next: u64::MAX - 2, ..SkippedKeys::default() };
        for index in [5, 3, 9, 1] {
            skipped.insert(skipped_id(index), key(1));
        }
        // 5 and 3 took the last two numbers; 9 found the counter at its end: renumbered.
        assert_eq!(indices(&skipped), vec![5, 3, 9, 1]);
        assert_eq!(skipped.order.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        for (seq, id) in &skipped.order {
            assert_eq!(skipped.keys[id].0, *seq);
        }
        assert_eq!(skipped.take(&skipped_id(3)), Some(key(1)));
        assert_eq!(indices(&skipped), vec![5, 9, 1]);
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
