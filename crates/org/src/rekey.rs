//! Re-keying: a new epoch key wrapped for every member of a key group by ECDH-ES, split into
//! signed messages under 150 KiB.
//!
//! ```text
//! for each part p (at most MAX_REKEY_ENTRIES_PER_PART = 2,633 members per part):
//!   (e, E)     = fresh X25519 key pair from the owner's RNG, one per part, used once
//!   for each member m of the part (distinct X25519 keys M):
//!     dh       = X25519(e, M)                                      all-zero output rejected
//!     okm      = HKDF-SHA256(salt = "kaiwa/crypto/key-wrap/v1", ikm = dh,
//!                            info = u8(len) ‖ "kaiwa/org/rekey-wrap/v1" ‖ E ‖ M)   40 bytes
//!     kek, hint = okm[0..32], okm[32..40]
//!     entry    = hint(8) ‖ ChaCha20-Poly1305(kek, nonce = 0^12, aad, epoch_key)(32 + 16)
//!   aad        = key_group(32) ‖ BE32(epoch) ‖ key_id(32)
//!   entries    = the part's entries sorted by hint, concatenated: exactly 56 bytes per member
//!   RekeyMessage{group_id = key_group, epoch, key_id, ephemeral_key = E, entries,
//!                part = p, parts, timestamp (ms)}
//!   published  = ApplicationMetadataMessage{type = ORGANIZATION_REKEY, author = org_id,
//!                  signature = Ed25519(org key, "kaiwa/org/rekey/v1" ‖ BE32(1001) ‖ payload)}
//! ```
//!
//! (kaiwa-crypto's `MultiRecipientSealer` / `KeyUnwrapper`: each kek is single-use because E is
//! fresh and M is in `info`, so the zero nonce never repeats under a key.) A member verifies the
//! org signature first, does one X25519 with E, computes its hint, binary-searches the sorted
//! entries, opens its entry and checks that the key it got has the announced `key_id` (so a
//! wrong key can never be installed). Members get keys only for epochs they belong to: the
//! owner wraps for the members of the description that caused the re-key, no one else. Hints
//! are PRF outputs of the DH, so entries are unlinkable to members and across re-keys.

use kaiwa_crypto::{
    DhKeyPair, DhPublicKey, IdentityKeyPair, KeyUnwrapper, MultiRecipientSealer, SealedBoxError,
    WrappedKey,
};
use kaiwa_wire::net as wire;
use kaiwa_wire::net::application_metadata_message::Type;
use prost::Message as _;

use crate::envelope::{self, EnvelopeError, REKEY_CONTEXT, REKEY_WRAP_LABEL, UnverifiedEnvelope};
use crate::epoch::EpochKey;
use crate::error::{DecodeError, FlowError, RekeyError};
use crate::id::{Epoch, GroupId, KeyId, OrgId};
use crate::limits::{MAX_REKEY_ENTRIES_PER_PART, MAX_REKEY_PARTS, MAX_SIGNED_MESSAGE_BYTES};

/// Bytes per member in `RekeyMessage.entries` (DECISIONS: at most 56).
pub const REKEY_ENTRY_BYTES: usize = WrappedKey::LEN;

fn aad(group: &GroupId, epoch: Epoch, key_id: &KeyId) -> [u8; 68] {
    let mut out = [0u8; 68];
    let parts: [&[u8]; 3] = [group.as_bytes(), &epoch.0.to_be_bytes(), key_id.as_bytes()];
    for (dst, src) in out.iter_mut().zip(parts.into_iter().flatten()) {
        *dst = *src;
    }
    out
}

/// Builds the signed parts of a re-key of `group` to `epoch` for `recipients` (module doc).
/// Duplicate keys are wrapped once; an empty recipient list gives no message.
///
/// # Errors
/// [`FlowError::InvalidDhKey`] if a recipient key has small order.
pub(crate) fn build<R: kaiwa_crypto::CryptoRng + ?Sized>(
    org_key: &IdentityKeyPair,
    group: &GroupId,
    epoch: Epoch,
    key: &EpochKey,
    recipients: &[DhPublicKey],
    timestamp_ms: u64,
    rng: &mut R,
) -> Result<Vec<Vec<u8>>, FlowError> {
    let mut unique: Vec<DhPublicKey> = recipients.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let key_id = key.key_id(group, epoch);
    let aad = aad(group, epoch, &key_id);
    let chunks: Vec<&[DhPublicKey]> = unique.chunks(MAX_REKEY_ENTRIES_PER_PART).collect();
    let parts = u32::try_from(chunks.len()).map_err(|_| FlowError::Internal("too many parts"))?;
    let mut messages = Vec::with_capacity(chunks.len());
    for (chunk, part) in chunks.into_iter().zip(0u32..) {
        let mut sealer = MultiRecipientSealer::new(&REKEY_WRAP_LABEL, rng);
        let mut entries = Vec::with_capacity(chunk.len());
        for recipient in chunk {
            let entry =
                sealer.wrap_key(recipient, &aad, key.expose_secret()).map_err(|e| match e {
                    SealedBoxError::InvalidRecipient => FlowError::InvalidDhKey,
                    _ => FlowError::Internal("key wrap failed"),
                })?;
            entries.push(entry.to_bytes());
        }
        entries.sort_unstable();
        let message = wire::RekeyMessage {
            group_id: group.as_bytes().to_vec(),
            epoch: epoch.0,
            key_id: key_id.as_bytes().to_vec(),
            ephemeral_key: sealer.ephemeral_public().as_bytes().to_vec(),
            entries: entries.concat(),
            part,
            parts,
            timestamp: timestamp_ms,
        };
        messages.push(envelope::sign(
            org_key,
            &REKEY_CONTEXT,
            Type::OrganizationRekey,
            message.encode_to_vec(),
        ));
    }
    Ok(messages)
}

/// A re-key part whose org signature has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedRekey {
    pub(crate) group: GroupId,
    pub(crate) epoch: Epoch,
    pub(crate) key_id: KeyId,
    ephemeral: DhPublicKey,
    entries: Vec<u8>,
}

impl VerifiedRekey {
    /// Parses and verifies a signed re-key part from `org`.
    pub(crate) fn verify(org: &OrgId, bytes: &[u8]) -> Result<Self, RekeyError> {
        if bytes.len() > MAX_SIGNED_MESSAGE_BYTES {
            return Err(DecodeError::TooMany {
                what: "rekey bytes",
                limit: MAX_SIGNED_MESSAGE_BYTES,
                actual: bytes.len(),
            }
            .into());
        }
        let envelope = UnverifiedEnvelope::decode(bytes, Type::OrganizationRekey)?;
        let payload = envelope.verify(org.public_key(), &REKEY_CONTEXT).map_err(|e| match e {
            EnvelopeError::Decode(d) => RekeyError::Decode(d),
            EnvelopeError::Unauthenticated => RekeyError::Unauthenticated,
        })?;
        let msg = wire::RekeyMessage::decode(payload.as_slice())
            .map_err(|_| DecodeError::Protobuf { message: "RekeyMessage" })?;
        if msg.epoch == 0 {
            return Err(DecodeError::Field { field: "epoch" }.into());
        }
        if msg.parts == 0 || msg.parts > MAX_REKEY_PARTS || msg.part >= msg.parts {
            return Err(DecodeError::Field { field: "part" }.into());
        }
        if msg.entries.len() % REKEY_ENTRY_BYTES != 0 {
            return Err(DecodeError::Field { field: "entries" }.into());
        }
        let count = msg.entries.len() / REKEY_ENTRY_BYTES;
        if count > MAX_REKEY_ENTRIES_PER_PART {
            return Err(DecodeError::TooMany {
                what: "rekey entries",
                limit: MAX_REKEY_ENTRIES_PER_PART,
                actual: count,
            }
            .into());
        }
        let ephemeral = DhPublicKey::try_from(msg.ephemeral_key.as_slice()).map_err(|_| {
            DecodeError::Length {
                field: "ephemeral_key",
                expected: 32,
                actual: msg.ephemeral_key.len(),
            }
        })?;
        Ok(Self {
            group: GroupId::from_slice(&msg.group_id)?,
            epoch: Epoch(msg.epoch),
            key_id: KeyId::from_slice(&msg.key_id)?,
            ephemeral,
            entries: msg.entries,
        })
    }

    fn entry(&self, index: usize) -> Option<WrappedKey> {
        let start = index.checked_mul(REKEY_ENTRY_BYTES)?;
        let end = start.checked_add(REKEY_ENTRY_BYTES)?;
        WrappedKey::try_from(self.entries.get(start..end)?).ok()
    }

    /// Finds and opens this member's entry: one X25519, a binary search, one AEAD open.
    /// `Ok(None)` if the part has no entry for `me`.
    pub(crate) fn unwrap_for(&self, me: &DhKeyPair) -> Result<Option<EpochKey>, RekeyError> {
        let unwrapper = KeyUnwrapper::new(me, &self.ephemeral, &REKEY_WRAP_LABEL)
            .map_err(|_| RekeyError::Unauthenticated)?;
        let hint = unwrapper.hint();
        let count = self.entries.len() / REKEY_ENTRY_BYTES;
        // First entry whose hint is not below ours (entries are sorted by hint).
        let (mut lo, mut hi) = (0usize, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid) {
                Some(e) if e.hint() < hint => lo = mid + 1,
                _ => hi = mid,
            }
        }
        let aad = aad(&self.group, self.epoch, &self.key_id);
        let mut index = lo;
        while let Some(entry) = self.entry(index) {
            if entry.hint() != hint {
                break;
            }
            if let Ok(key) = unwrapper.unwrap_key(&aad, &entry) {
                let key = EpochKey::from_symmetric(key);
                if key.key_id(&self.group, self.epoch) != self.key_id {
                    return Err(RekeyError::Unauthenticated);
                }
                return Ok(Some(key));
            }
            index += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn every_member_finds_its_entry_and_outsiders_find_none() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let org_key = IdentityKeyPair::generate(&mut rng);
        let org = OrgId::new(org_key.public_key());
        let members: Vec<DhKeyPair> = (0..40).map(|_| DhKeyPair::generate(&mut rng)).collect();
        let outsider = DhKeyPair::generate(&mut rng);
        let publics: Vec<DhPublicKey> = members.iter().map(DhKeyPair::public_key).collect();
        let group = org.group();
        let key = EpochKey::generate(&mut rng);
        let parts = build(&org_key, &group, Epoch(3), &key, &publics, 7, &mut rng).unwrap();
        assert_eq!(parts.len(), 1);
        let part = VerifiedRekey::verify(&org, &parts[0]).unwrap();
        assert_eq!(part.entries.len(), 40 * REKEY_ENTRY_BYTES);
        for m in &members {
            assert_eq!(part.unwrap_for(m).unwrap(), Some(key.duplicate()));
        }
        assert_eq!(part.unwrap_for(&outsider).unwrap(), None);
    }

    #[test]
    fn forged_and_tampered_parts_are_rejected() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let org_key = IdentityKeyPair::generate(&mut rng);
        let org = OrgId::new(org_key.public_key());
        let impostor = IdentityKeyPair::generate(&mut rng);
        let member = DhKeyPair::generate(&mut rng);
        let key = EpochKey::generate(&mut rng);
        let forged =
            build(&impostor, &org.group(), Epoch(1), &key, &[member.public_key()], 0, &mut rng)
                .unwrap();
        assert_eq!(
            VerifiedRekey::verify(&org, &forged[0]).err(),
            Some(RekeyError::Unauthenticated)
        );
        let genuine =
            build(&org_key, &org.group(), Epoch(1), &key, &[member.public_key()], 0, &mut rng)
                .unwrap();
        let mut bytes = genuine[0].clone();
        let n = bytes.len();
        bytes[n / 2] ^= 0x40;
        assert!(VerifiedRekey::verify(&org, &bytes).is_err());
    }
}
