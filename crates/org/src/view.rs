//! The member's side: the verified description, descriptions being reassembled, and the epoch
//! keys this member received, with its chains.
//!
//! ```text
//! apply_description(bytes): verify (description.rs) → higher clock replaces, equal identical
//!                           bytes change nothing, anything else is refused
//! apply_segment(bytes):     verify + buffer (segment.rs) → on completion, apply_description
//! apply_rekey(bytes, dh):   verify org signature → key group is the org or a private channel
//!                           of the current description → unwrap own entry → key_id matches
//!                           → install epoch (history window bounded)
//! encrypt(channel, ...):    member of the channel, not banned → current epoch of its key group
//!                           → next index of own chain → AES-256-GCM + signature (channel.rs)
//! decrypt(bytes):           channel.rs order: parse, group → channel, mode, ban, membership,
//!                           signature, epoch + key_id, chain/skipped key, AEAD; then commit
//! decrypt_history(bytes):   the same checks, key re-derived from the epoch key, no state change
//! ```
//!
//! Every operation that changes the view computes its result first and commits only after all
//! checks passed: a rejected input leaves the view exactly as it was.

use std::collections::BTreeMap;

use kaiwa_crypto::{
    CryptoRng, DhKeyPair, DhPublicKey, IdentityKeyPair, IdentityPublicKey, Nonce, Zeroizing,
};

use crate::chain::Ratchet;
use crate::channel::{self, Header, Received};
use crate::description::{Description, Role, SignedDescription};
use crate::epoch::{EpochState, KeyRing, SkippedId};
use crate::error::{
    DecryptError, DescriptionError, EncryptError, FlowError, ModerationError, RekeyError,
    ResponseError,
};
use crate::id::{ChannelId, Epoch, GroupId, LamportTime, MemberId, OrgId};
use crate::limits::{
    MAX_CACHED_SENDER_KEYS, MAX_CHANNEL_PLAINTEXT_BYTES, MAX_SKIPPED_KEYS_PER_JUMP,
};
use crate::rekey::VerifiedRekey;
use crate::request::{self, JoinRequest, Response};
use crate::segment::{Progress, Reassembler};

/// What applying a description did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DescriptionOutcome {
    /// The description replaced the stored one (or was the first).
    Applied {
        /// Its clock.
        clock: LamportTime,
    },
    /// The same bytes were already stored (periodic republication).
    Unchanged,
}

/// What applying a segment did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentOutcome {
    /// More segments are needed.
    Pending {
        /// Segments held.
        received: u32,
        /// Segments in the description.
        count: u32,
    },
    /// The description was complete and was applied.
    Complete(DescriptionOutcome),
}

/// What applying a re-key part did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekeyOutcome {
    /// A new epoch key was installed.
    Installed {
        /// The key group.
        group: GroupId,
        /// The epoch.
        epoch: Epoch,
    },
    /// This part has no entry for this member (another part may, or the member is not in the
    /// group).
    NotForUs,
    /// The epoch is already held.
    AlreadyKnown,
    /// The epoch is older than the history window; nothing installed.
    TooOld,
}

/// A decrypted (or, in a public organization, verified) channel message.
#[derive(Debug)]
#[non_exhaustive]
pub struct ChannelPlaintext {
    /// The channel.
    pub channel: ChannelId,
    /// The sender, whose signature was verified.
    pub sender: MemberId,
    /// The epoch (`None` for a public organization's signed plaintext).
    pub epoch: Option<Epoch>,
    /// The sender's message index in the epoch (0 for public messages).
    pub index: u32,
    /// The plaintext, wiped on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
}

/// A member's view of one organization.
pub struct OrganizationView {
    pub(crate) org: OrgId,
    pub(crate) me: MemberId,
    pub(crate) signed: Option<SignedDescription>,
    /// Channel by channel group, and channel group by channel, of the current description
    /// (derived on `install`, so a new description replaces them; not persisted, not secret):
    /// no SHA-256 per message.
    pub(crate) channel_groups: BTreeMap<GroupId, ChannelId>,
    pub(crate) channel_group_ids: BTreeMap<ChannelId, GroupId>,
    pub(crate) reassembler: Reassembler,
    pub(crate) ring: KeyRing,
    /// Parsed keys of recent senders (not persisted, not secret).
    pub(crate) sender_keys: BTreeMap<MemberId, IdentityPublicKey>,
}

impl core::fmt::Debug for OrganizationView {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            org,
            me,
            signed,
            channel_groups: _,
            channel_group_ids: _,
            reassembler: _,
            ring,
            sender_keys: _,
        } = self;
        f.debug_struct("OrganizationView")
            .field("org", org)
            .field("me", me)
            .field("clock", &signed.as_ref().map(|s| s.description().clock()))
            .field(
                "epochs",
                &ring
                    .groups
                    .iter()
                    .map(|(g, e)| (*g, e.keys().map(|e| e.0).collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            )
            .field("skipped_keys", &ring.skipped.len())
            .finish_non_exhaustive()
    }
}

/// The key group of the channel whose channel group is `channel_group`.
fn key_group(description: &Description, channel_group: GroupId, private: bool) -> GroupId {
    if private { channel_group } else { description.org().group() }
}

/// What a received message commits once its AEAD has opened.
enum ReceivePlan {
    /// The stored chain was at the message's index: step it in place.
    InOrder,
    /// Replace the stored chain by `next` (`None` past `u32::MAX`) and cache the keys skipped
    /// on the way.
    Advance { next: Option<Ratchet>, skipped: Vec<(SkippedId, kaiwa_crypto::SymmetricKey)> },
    /// Remove the cached skipped key that was used.
    Skipped,
}

/// Moves `chain` (at or before `id.index`) forward to `id.index`: the message key, and the
/// plan caching at most `MAX_SKIPPED_KEYS_PER_JUMP` keys below the index (the nearest ones,
/// most likely to arrive late; further ones stay readable with `decrypt_history`).
fn advance(mut chain: Ratchet, id: SkippedId) -> (kaiwa_crypto::SymmetricKey, ReceivePlan) {
    let index = id.index;
    let first_cached = index.saturating_sub(MAX_SKIPPED_KEYS_PER_JUMP).max(chain.counter()).max(1);
    let mut skipped = Vec::new();
    if first_cached < index {
        chain.seek(first_cached);
        while chain.counter() < index {
            skipped.push((SkippedId { index: chain.counter(), ..id }, chain.message_key()));
            chain.step();
        }
    }
    chain.seek(index);
    let key = chain.message_key();
    let next = if chain.step() { Some(chain) } else { None };
    (key, ReceivePlan::Advance { next, skipped })
}

impl OrganizationView {
    /// A view of organization `org` (its key, shared out of band: seed requirement 7) for the
    /// member `me`, before any description has arrived.
    #[must_use]
    pub fn new(org: OrgId, me: MemberId) -> Self {
        Self {
            org,
            me,
            signed: None,
            channel_groups: BTreeMap::new(),
            channel_group_ids: BTreeMap::new(),
            reassembler: Reassembler::default(),
            ring: KeyRing::default(),
            sender_keys: BTreeMap::new(),
        }
    }

    /// The organization.
    #[must_use]
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// The member this view belongs to.
    #[must_use]
    pub fn me(&self) -> &MemberId {
        &self.me
    }

    /// The current verified description.
    #[must_use]
    pub fn description(&self) -> Option<&Description> {
        self.signed.as_ref().map(SignedDescription::description)
    }

    /// The current signed description.
    #[must_use]
    pub fn signed_description(&self) -> Option<&SignedDescription> {
        self.signed.as_ref()
    }

    /// The epochs held for a key group, oldest first.
    #[must_use]
    pub fn epochs(&self, group: &GroupId) -> Vec<Epoch> {
        self.ring.groups.get(group).map(|g| g.keys().copied().collect()).unwrap_or_default()
    }

    /// The key group of a channel: the organization, or the channel itself if private.
    #[must_use]
    pub fn channel_key_group(&self, channel: &ChannelId) -> Option<GroupId> {
        let d = self.description()?;
        let c = d.channels().get(channel)?;
        Some(key_group(d, self.channel_group_of(d, channel), c.has_own_members()))
    }

    /// The channel group of a channel of the current description `d` (cached by `install`).
    fn channel_group_of(&self, d: &Description, channel: &ChannelId) -> GroupId {
        match self.channel_group_ids.get(channel) {
            Some(group) => *group,
            None => GroupId::channel(d.org(), channel),
        }
    }

    /// Applies signed description bytes (module doc of `description`).
    ///
    /// # Errors
    /// [`DescriptionError`]; the view is then unchanged.
    pub fn apply_description(
        &mut self,
        bytes: &[u8],
    ) -> Result<DescriptionOutcome, DescriptionError> {
        let incoming = SignedDescription::verify(&self.org, bytes)?;
        if !SignedDescription::supersedes(self.signed.as_ref(), &incoming)? {
            return Ok(DescriptionOutcome::Unchanged);
        }
        let clock = incoming.description().clock();
        self.install(incoming);
        Ok(DescriptionOutcome::Applied { clock })
    }

    pub(crate) fn install(&mut self, signed: SignedDescription) {
        let d = signed.description();
        let mut channel_groups = BTreeMap::new();
        let mut channel_group_ids = BTreeMap::new();
        let mut key_groups = vec![d.org().group()];
        for (id, channel) in d.channels() {
            let group = GroupId::channel(d.org(), id);
            channel_groups.insert(group, id.clone());
            channel_group_ids.insert(id.clone(), group);
            if channel.has_own_members() {
                key_groups.push(group);
            }
        }
        self.ring.retain_groups(|g| key_groups.contains(g));
        self.reassembler.forget_up_to(d.clock().0);
        self.channel_groups = channel_groups;
        self.channel_group_ids = channel_group_ids;
        self.signed = Some(signed);
    }

    /// Applies one signed description segment (module doc of `segment`).
    ///
    /// # Errors
    /// [`DescriptionError`]; nothing is buffered then.
    pub fn apply_segment(&mut self, bytes: &[u8]) -> Result<SegmentOutcome, DescriptionError> {
        let stored = self.description().map(|d| d.clock().0);
        // Work on a copy so that a complete but invalid description leaves the buffer as it was.
        let mut reassembler = self.reassembler.clone();
        match reassembler.accept(&self.org, stored, bytes)? {
            Progress::Pending { received, count } => {
                self.reassembler = reassembler;
                Ok(SegmentOutcome::Pending { received, count })
            }
            Progress::Complete(whole) => {
                let outcome = self.apply_description(&whole)?;
                self.reassembler = reassembler;
                Ok(SegmentOutcome::Complete(outcome))
            }
        }
    }

    /// Applies a signed re-key part: finds and unwraps this member's entry with `my_dh`.
    ///
    /// # Errors
    /// [`RekeyError`]; the view is then unchanged.
    pub fn apply_rekey(
        &mut self,
        bytes: &[u8],
        my_dh: &DhKeyPair,
    ) -> Result<RekeyOutcome, RekeyError> {
        let rekey = VerifiedRekey::verify(&self.org, bytes)?;
        let d = self.description().ok_or(RekeyError::NoDescription)?;
        let valid_group = rekey.group == d.org().group()
            || self
                .channel_groups
                .get(&rekey.group)
                .and_then(|id| d.channels().get(id))
                .is_some_and(|c| c.has_own_members());
        if !valid_group {
            return Err(RekeyError::UnknownGroup);
        }
        if self.ring.has(&rekey.group, rekey.epoch) {
            return Ok(RekeyOutcome::AlreadyKnown);
        }
        if self.ring.too_old(&rekey.group, rekey.epoch) {
            return Ok(RekeyOutcome::TooOld);
        }
        let Some(key) = rekey.unwrap_for(my_dh)? else { return Ok(RekeyOutcome::NotForUs) };
        self.ring.install(rekey.group, rekey.epoch, EpochState::new(key, rekey.key_id));
        Ok(RekeyOutcome::Installed { group: rekey.group, epoch: rekey.epoch })
    }

    /// Encrypts (or, in a public organization, signs) a message for `channel`, as `identity`
    /// (this view's member). The nonce comes from `rng`.
    ///
    /// # Errors
    /// [`EncryptError`]; the view is then unchanged.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        channel: &ChannelId,
        identity: &IdentityKeyPair,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, EncryptError> {
        let d = self.description().ok_or(EncryptError::NoDescription)?;
        let c = d.channels().get(channel).ok_or(EncryptError::UnknownChannel)?;
        let sender = MemberId::from_key(&identity.public_key());
        if d.banned().contains(&sender) || !d.is_channel_member(c, &sender) {
            return Err(EncryptError::NotMember);
        }
        if plaintext.len() > MAX_CHANNEL_PLAINTEXT_BYTES {
            return Err(EncryptError::TooLong {
                limit: MAX_CHANNEL_PLAINTEXT_BYTES,
                actual: plaintext.len(),
            });
        }
        let channel_group = self.channel_group_of(d, channel);
        if !d.encrypted() {
            let header = Header { channel_group, key_id: None, epoch: 0, sender, index: 0 };
            return Ok(channel::seal_public(identity, header, plaintext));
        }
        let group = key_group(d, channel_group, c.has_own_members());
        let (epoch, state) = self.ring.current(&group).ok_or(EncryptError::NoEpochKey)?;
        let mut chain = match state.senders.get(&channel_group) {
            Some(Some(chain)) => chain.duplicate(),
            Some(None) => return Err(EncryptError::ChainExhausted),
            None => {
                let mut fresh = Ratchet::seed(
                    state.key.expose_secret(),
                    &channel_group,
                    epoch,
                    sender.as_bytes(),
                );
                fresh.step();
                fresh
            }
        };
        let index = chain.counter();
        let key_id = state.key_id;
        let header = Header { channel_group, key_id: Some(key_id), epoch: epoch.0, sender, index };
        let message = channel::seal_encrypted(
            identity,
            header,
            &key_id,
            chain.message_key(),
            Nonce::random(rng),
            plaintext,
        )
        .ok_or(EncryptError::Internal("AES-GCM refused the input"))?;
        let next = if chain.step() { Some(chain) } else { None };
        let state = self
            .ring
            .groups
            .get_mut(&group)
            .and_then(|g| g.get_mut(&epoch))
            .ok_or(EncryptError::Internal("epoch vanished"))?;
        state.senders.insert(channel_group, next);
        Ok(message)
    }

    /// Moves this member's sending chain for `channel` in the current epoch forward so that
    /// its next message has index `index` (never backward). Skipping indices is always safe;
    /// this exists for tests and benchmarks of large gaps.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt).
    pub fn advance_sending_chain_for_testing_only(
        &mut self,
        channel: &ChannelId,
        identity: &IdentityKeyPair,
        index: u32,
    ) -> Result<(), EncryptError> {
        let d = self.description().ok_or(EncryptError::NoDescription)?;
        let c = d.channels().get(channel).ok_or(EncryptError::UnknownChannel)?;
        let channel_group = self.channel_group_of(d, channel);
        let group = key_group(d, channel_group, c.has_own_members());
        let sender = MemberId::from_key(&identity.public_key());
        let (epoch, _) = self.ring.current(&group).ok_or(EncryptError::NoEpochKey)?;
        let state = self
            .ring
            .groups
            .get_mut(&group)
            .and_then(|g| g.get_mut(&epoch))
            .ok_or(EncryptError::Internal("epoch vanished"))?;
        let mut chain = match state.senders.get(&channel_group) {
            Some(Some(chain)) => chain.duplicate(),
            Some(None) => return Err(EncryptError::ChainExhausted),
            None => {
                Ratchet::seed(state.key.expose_secret(), &channel_group, epoch, sender.as_bytes())
            }
        };
        chain.seek(index.max(1));
        state.senders.insert(channel_group, Some(chain));
        Ok(())
    }

    /// Common checks of `decrypt` and `decrypt_history`: returns the parsed, signature-checked
    /// message, its channel, its key group, and the sender's key if it was parsed now (not
    /// cached yet).
    fn authenticate(
        &self,
        bytes: &[u8],
    ) -> Result<(Received, ChannelId, GroupId, Option<IdentityPublicKey>), DecryptError> {
        let msg = Received::decode(bytes)?;
        let d = self.description().ok_or(DecryptError::NoDescription)?;
        let id =
            self.channel_groups.get(&msg.header.channel_group).ok_or(DecryptError::UnknownGroup)?;
        let channel = d.channels().get(id).ok_or(DecryptError::UnknownGroup)?;
        if msg.is_public() == d.encrypted() {
            return Err(DecryptError::WrongMode);
        }
        let sender = msg.header.sender;
        if d.banned().contains(&sender) {
            return Err(DecryptError::Banned);
        }
        if !d.is_channel_member(channel, &sender) {
            return Err(DecryptError::NotMember);
        }
        let fresh = match self.sender_keys.get(&sender) {
            Some(key) => {
                if !msg.verify(key) {
                    return Err(DecryptError::Unauthenticated);
                }
                None
            }
            None => {
                let key = sender.public_key().map_err(|_| DecryptError::Unauthenticated)?;
                if !msg.verify(&key) {
                    return Err(DecryptError::Unauthenticated);
                }
                Some(key)
            }
        };
        let group = key_group(d, msg.header.channel_group, channel.has_own_members());
        Ok((msg, id.clone(), group, fresh))
    }

    /// Remembers a sender's key parsed by `authenticate` (a pure function of the id, so it
    /// never goes stale; saves a point decompression per message). Bounded: cleared when full.
    fn remember_sender(&mut self, sender: MemberId, fresh: Option<IdentityPublicKey>) {
        let Some(key) = fresh else { return };
        if self.sender_keys.len() >= MAX_CACHED_SENDER_KEYS {
            self.sender_keys.clear();
        }
        self.sender_keys.insert(sender, key);
    }

    fn epoch_state(&self, group: &GroupId, msg: &Received) -> Result<&EpochState, DecryptError> {
        let epoch = msg.header.epoch;
        let state = self
            .ring
            .groups
            .get(group)
            .and_then(|g| g.get(&Epoch(epoch)))
            .ok_or(DecryptError::UnknownEpoch { epoch })?;
        if msg.header.key_id != Some(state.key_id) {
            return Err(DecryptError::Unauthenticated);
        }
        Ok(state)
    }

    /// Authenticates and decrypts a channel message; the used key is deleted, skipped keys of a
    /// forward jump are cached (bounded), and a replay is refused.
    ///
    /// # Errors
    /// [`DecryptError`] with a typed reason; the view is then unchanged.
    pub fn decrypt(&mut self, bytes: &[u8]) -> Result<ChannelPlaintext, DecryptError> {
        let (msg, channel, group, fresh_key) = self.authenticate(bytes)?;
        let sender = msg.header.sender;
        if msg.is_public() {
            self.remember_sender(sender, fresh_key);
            return Ok(ChannelPlaintext {
                channel,
                sender,
                epoch: None,
                index: 0,
                plaintext: Zeroizing::new(msg.public_body().to_vec()),
            });
        }
        let state = self.epoch_state(&group, &msg)?;
        let epoch = Epoch(msg.header.epoch);
        let index = msg.header.index;
        let chain_id = (msg.header.channel_group, sender);
        let skipped_id = SkippedId {
            key_group: group,
            epoch,
            channel_group: msg.header.channel_group,
            sender,
            index,
        };
        // Plan: the stored chain's own key (the common, in-order case: no copy of the chain),
        // a forward move of a copy of the chain, or a cached skipped key.
        let (message_key, plan) = match state.receivers.get(&chain_id) {
            Some(Some(chain)) if index == chain.counter() => {
                (chain.message_key(), ReceivePlan::InOrder)
            }
            Some(Some(chain)) if index > chain.counter() => advance(chain.duplicate(), skipped_id),
            None => advance(
                Ratchet::seed(
                    state.key.expose_secret(),
                    &msg.header.channel_group,
                    epoch,
                    sender.as_bytes(),
                ),
                skipped_id,
            ),
            Some(_) => {
                let key = self.ring.skipped.get(&skipped_id).ok_or(DecryptError::KeyUnavailable)?;
                let mut bytes = *key.expose_secret();
                (kaiwa_crypto::SymmetricKey::from_secret_bytes(&mut bytes), ReceivePlan::Skipped)
            }
        };
        let plaintext = msg.open(message_key).ok_or(DecryptError::Unauthenticated)?;
        // Authenticated: commit.
        self.remember_sender(sender, fresh_key);
        let receivers = self
            .ring
            .groups
            .get_mut(&group)
            .and_then(|g| g.get_mut(&epoch))
            .map(|state| &mut state.receivers);
        match plan {
            ReceivePlan::InOrder => {
                if let Some(slot) = receivers.and_then(|r| r.get_mut(&chain_id)) {
                    // The chain is never left at a consumed index: past `u32::MAX` it is gone.
                    if slot.as_mut().is_some_and(|chain| !chain.step()) {
                        *slot = None;
                    }
                }
            }
            ReceivePlan::Advance { next, skipped } => {
                if let Some(receivers) = receivers {
                    receivers.insert(chain_id, next);
                }
                self.ring.add_skipped(skipped);
            }
            ReceivePlan::Skipped => {
                self.ring.take_skipped(&skipped_id);
            }
        }
        Ok(ChannelPlaintext { channel, sender, epoch: Some(epoch), index, plaintext })
    }

    /// Authenticates and decrypts a message of a held epoch without touching any state, by
    /// deriving its key from the epoch key (at most 1,020 hashes). For history fetched from a
    /// Store node, which may be older than the skipped-key window. It cannot detect replays;
    /// the app deduplicates history by message hash.
    ///
    /// # Errors
    /// [`DecryptError`] with a typed reason.
    pub fn decrypt_history(&self, bytes: &[u8]) -> Result<ChannelPlaintext, DecryptError> {
        let (msg, channel, group, _) = self.authenticate(bytes)?;
        let sender = msg.header.sender;
        if msg.is_public() {
            return Ok(ChannelPlaintext {
                channel,
                sender,
                epoch: None,
                index: 0,
                plaintext: Zeroizing::new(msg.public_body().to_vec()),
            });
        }
        let state = self.epoch_state(&group, &msg)?;
        let epoch = Epoch(msg.header.epoch);
        let mut chain = Ratchet::seed(
            state.key.expose_secret(),
            &msg.header.channel_group,
            epoch,
            sender.as_bytes(),
        );
        chain.seek(msg.header.index);
        let plaintext = msg.open(chain.message_key()).ok_or(DecryptError::Unauthenticated)?;
        Ok(ChannelPlaintext {
            channel,
            sender,
            epoch: Some(epoch),
            index: msg.header.index,
            plaintext,
        })
    }

    fn request_key(&self) -> Result<DhPublicKey, FlowError> {
        self.description().map(|d| *d.request_dh_key()).ok_or(FlowError::UnknownMember)
    }

    /// A join request sealed to the organization (needs the description for its request key).
    ///
    /// # Errors
    /// [`FlowError::UnknownMember`] without a description, [`FlowError::InvalidDhKey`] if the
    /// request key has small order, [`FlowError::Invalid`] for an oversized display name.
    pub fn join_request<R: CryptoRng + ?Sized>(
        &self,
        identity: &IdentityKeyPair,
        my_dh: &DhPublicKey,
        request: &JoinRequest,
        rng: &mut R,
    ) -> Result<Vec<u8>, FlowError> {
        request::seal_join(identity, my_dh, &self.org, &self.request_key()?, request, rng)
    }

    /// A cancel request sealed to the organization.
    ///
    /// # Errors
    /// As [`join_request`](Self::join_request).
    pub fn cancel_request<R: CryptoRng + ?Sized>(
        &self,
        identity: &IdentityKeyPair,
        clock: LamportTime,
        rng: &mut R,
    ) -> Result<Vec<u8>, FlowError> {
        request::seal_cancel(identity, &self.org, &self.request_key()?, clock, rng)
    }

    /// A leave request sealed to the organization.
    ///
    /// # Errors
    /// As [`join_request`](Self::join_request).
    pub fn leave_request<R: CryptoRng + ?Sized>(
        &self,
        identity: &IdentityKeyPair,
        clock: LamportTime,
        rng: &mut R,
    ) -> Result<Vec<u8>, FlowError> {
        request::seal_leave(identity, &self.org, &self.request_key()?, clock, rng)
    }

    /// Opens the owner's sealed response to this member's join request, verifies it and its
    /// grant, and applies the description it carries (if any).
    ///
    /// # Errors
    /// [`ResponseError`]; the view is then unchanged.
    pub fn open_response(
        &mut self,
        sealed: &[u8],
        my_dh: &DhKeyPair,
        now_ms: u64,
    ) -> Result<Response, ResponseError> {
        let response = request::open_response(&self.org, &self.me, my_dh, sealed, now_ms)?;
        if let Some(bytes) = &response.description {
            match self.apply_description(bytes) {
                Ok(_) | Err(DescriptionError::Stale { .. }) => {}
                Err(e) => return Err(ResponseError::Description(e)),
            }
        }
        Ok(response)
    }

    /// Verifies a kick notice from the organization; returns its clock.
    ///
    /// # Errors
    /// [`ResponseError::Unauthenticated`] if the org did not sign it.
    pub fn verify_kick_notice(&self, bytes: &[u8]) -> Result<LamportTime, ResponseError> {
        request::verify_kicked(&self.org, bytes)
    }

    fn moderation_context(
        &self,
        actor: &MemberId,
        channel: &ChannelId,
    ) -> Result<&Description, ModerationError> {
        let d = self.description().ok_or(ModerationError::NoDescription)?;
        let c = d.channels().get(channel).ok_or(ModerationError::UnknownChannel)?;
        if d.banned().contains(actor) || !d.is_channel_member(c, actor) {
            return Err(ModerationError::NotMember);
        }
        Ok(d)
    }

    /// Whether `actor` may pin messages in `channel`: everyone when
    /// `pin_message_all_members_enabled`, otherwise members with `ModerateContent` (or `All`)
    /// (DECISIONS "Roles"; seed `OrganizationAdminSettings`).
    ///
    /// # Errors
    /// [`ModerationError`] naming the refusal.
    pub fn check_pin(&self, actor: &MemberId, channel: &ChannelId) -> Result<(), ModerationError> {
        let d = self.moderation_context(actor, channel)?;
        if d.admin_settings().pin_message_all_members_enabled
            || d.has_role(actor, Role::ModerateContent)
        {
            Ok(())
        } else {
            Err(ModerationError::NotAuthorized { action: "pin messages" })
        }
    }

    /// Whether `actor` may delete a message of `author` in `channel`: their own always, anyone
    /// else's with `ModerateContent` (or `All`).
    ///
    /// # Errors
    /// [`ModerationError`] naming the refusal.
    pub fn check_delete(
        &self,
        actor: &MemberId,
        author: &MemberId,
        channel: &ChannelId,
    ) -> Result<(), ModerationError> {
        let d = self.moderation_context(actor, channel)?;
        if actor == author || d.has_role(actor, Role::ModerateContent) {
            Ok(())
        } else {
            Err(ModerationError::NotAuthorized { action: "delete others' messages" })
        }
    }
}
