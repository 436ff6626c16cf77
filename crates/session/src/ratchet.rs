//! The double ratchet (Signal's specification, DECISIONS.md "1:1 sessions"): one long-lived
//! [`Session`] per peer installation, in state `AwaitingReply` (we initiated and have not
//! heard back: every message carries the X3DH header) or `Active`.
//!
//! ```text
//! KDF_RK(rk, dh) -> (rk', ck) = HKDF-SHA256(salt = rk, ikm = dh, info = "kaiwa/ratchet/root/v1"),
//!                               cut into two 32-byte keys
//! KDF_CK(ck)     -> (ck', mk) = (HMAC(ck, 0x02), HMAC(ck, 0x01))                    chain.rs
//! AEAD           = ChaCha20-Poly1305(mk, nonce 0, AD ‖ header_ad)              message_key.rs
//!
//! initiator (Alice), after X3DH:  DHs = new key pair, DHr = SPK_B,
//!                                 (RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B)), no receiving chain
//! responder (Bob), on the first message (header key A1):
//!                                 (RK, CKr) = KDF_RK(SK, DH(SPK_B, A1)), no sending chain yet
//!
//! receive(header with a new ratchet key K):          (Signal's DHRatchet, receiving half)
//!     (RK, CKr) = KDF_RK(RK, DH(DHs, K)); DHr = K; PN = Ns; our sending chain is closed
//! first send after that:                              (Signal's DHRatchet, sending half)
//!     DHs = new key pair; (RK, CKs) = KDF_RK(RK, DH(DHs, DHr)); Ns = 0
//! ```
//!
//! Signal performs both halves of the DH ratchet step on receipt; here the sending half is
//! deferred to the next send (as vodozemac does). The keys are identical, a key pair is not
//! generated for a chain that is never used, and a closed sending chain holds no secret.
//!
//! Decrypting is authenticate-then-commit: a plan (new chain keys, skipped keys, perhaps a
//! new root key) is computed without touching `self`, the AEAD is opened with the planned
//! message key, and only then is the plan applied. A forged, corrupted or replayed message
//! leaves the session exactly as it was.
//!
//! Bounds (limits.rs, DECISIONS.md): at most [`MAX_SKIP`] keys derived per message, at most
//! [`MAX_SKIPPED_KEYS`] skipped keys stored (oldest evicted), at most
//! [`MAX_RECEIVING_CHAINS`] receiving chains (oldest dropped). A used message key is removed at
//! once. When the peer moves to a new ratchet key, the previous receiving chain is kept with
//! its announced length `pn` as its end, so late messages of that chain still decrypt without
//! deriving their keys in advance.
//!
//! Replays: a message whose position was already used is reported as
//! [`DecryptError::Duplicate`] if its tag is among the last [`MAX_REPLAY_WINDOW`] tags decrypted,
//! else as [`DecryptError::KeyUnavailable`].

#![warn(clippy::arithmetic_side_effects)]

use std::collections::VecDeque;

use kaiwa_crypto::{
    CryptoRng, DhKeyPair, DhPublicKey, SharedSecret, SymmetricKey, TAG_LEN, Zeroizing,
    hkdf_sha256_keys,
};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::chain::{ChainKey, ReceivingChain, SendingChain};
use crate::error::{DecryptError, EncryptError};
use crate::header::{Envelope, HEADER_AD_LEN, RatchetHeader, X3dhHeader};
use crate::limits::{
    MAX_PLAINTEXT_LEN, MAX_RECEIVING_CHAINS, MAX_REPLAY_WINDOW, MAX_SKIP, MAX_SKIPPED_KEYS,
};
use crate::message_key::MessageKey;
use crate::timestamp::Timestamp;

/// HKDF info of KDF_RK.
pub const ROOT_KDF_INFO: &[u8] = b"kaiwa/ratchet/root/v1";

/// Root key. Wiped on drop, no `Clone`, redacted `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct RootKey(SymmetricKey);

impl RootKey {
    pub(crate) fn new(key: SymmetricKey) -> Self {
        Self(key)
    }

    pub(crate) fn from_secret_slice(bytes: &mut [u8]) -> Option<Self> {
        SymmetricKey::from_secret_slice(bytes).ok().map(Self)
    }

    pub(crate) fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// KDF_RK.
    pub(crate) fn step(&self, dh: &SharedSecret) -> (Self, ChainKey) {
        let [root, chain] =
            hkdf_sha256_keys::<2>(self.0.expose_secret(), dh.expose_secret(), ROOT_KDF_INFO);
        (Self(root), ChainKey::new(chain))
    }
}

/// A session's public identifier: `HKDF(salt = 0^32, ikm = SK, info =
/// "kaiwa/x3dh/session-id/v1")`. Both parties compute the same value; the lower of two
/// competing ids wins a concurrent-initiation tie-break (54/WAKU2-X3DH-SESSIONS).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub(crate) [u8; 32]);

impl SessionId {
    /// The 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SessionId({})", hex::encode(self.0))
    }
}

/// A stored skipped message key.
pub(crate) struct SkippedKey {
    pub(crate) ratchet_key: DhPublicKey,
    pub(crate) index: u32,
    pub(crate) key: MessageKey,
}

/// Where a session is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RatchetState {
    /// We initiated and have not decrypted a reply: every message carries this X3DH header.
    AwaitingReply(Box<X3dhHeader>),
    /// The peer has answered (or we are the responder).
    Active,
}

/// A double-ratchet session with one peer installation. Holds secrets: no `Clone`, redacted
/// `Debug`, wiped on drop.
pub struct Session {
    pub(crate) id: SessionId,
    pub(crate) initiated_by_us: bool,
    /// Set on a session we initiated to replace an earlier one (reset or supersede).
    pub(crate) replaces: bool,
    pub(crate) associated_data: Box<[u8]>,
    pub(crate) bundle_id: DhPublicKey,
    pub(crate) state: RatchetState,
    /// Responder side: the initiator's ephemeral key, to recognise its resent first messages.
    pub(crate) their_ephemeral: Option<DhPublicKey>,
    pub(crate) root_key: RootKey,
    /// `None` between receiving a new ratchet key and our next send.
    pub(crate) sending: Option<SendingChain>,
    pub(crate) previous_sending_length: u32,
    pub(crate) remote_ratchet_key: DhPublicKey,
    /// Oldest first; the last one belongs to `remote_ratchet_key`.
    pub(crate) receiving: VecDeque<ReceivingChain>,
    /// Oldest first.
    pub(crate) skipped: VecDeque<SkippedKey>,
    /// Tags of recently decrypted messages, oldest first.
    pub(crate) recent_tags: VecDeque<[u8; TAG_LEN]>,
    pub(crate) created_at: Timestamp,
}

impl ZeroizeOnDrop for Session {}

/// What decrypting one message would change. Computing it mutates nothing.
struct Plan {
    message_key: MessageKey,
    change: Change,
}

enum Change {
    /// Use and remove the stored skipped key at this position.
    Skipped { position: usize },
    /// Advance the receiving chain at `chain` (an index into `receiving`).
    Advance { chain: usize, chain_key: ChainKey, next_index: u32, skipped: Vec<(u32, MessageKey)> },
    /// A DH ratchet step: a new root key and receiving chain.
    NewChain {
        root_key: RootKey,
        chain: ReceivingChain,
        skipped: Vec<(u32, MessageKey)>,
        previous_end: u32,
    },
}

/// The keys [`walk`] derives.
struct Walk {
    skipped: Vec<(u32, MessageKey)>,
    message_key: MessageKey,
    chain_key: ChainKey,
    next_index: u32,
}

/// Derives the keys from `chain_key` at position `from` up to `to` (the message's index):
/// the skipped keys, the message key, and the chain key after it.
fn walk(chain_key: &ChainKey, from: u32, to: u32) -> Result<Walk, DecryptError> {
    let ahead = to.checked_sub(from).ok_or(DecryptError::KeyUnavailable)?;
    if ahead > MAX_SKIP {
        return Err(DecryptError::TooFarAhead { ahead, limit: MAX_SKIP });
    }
    let next_index = to.checked_add(1).ok_or(DecryptError::Unauthenticated)?;
    let mut skipped = Vec::with_capacity(usize::try_from(ahead).unwrap_or(0));
    let (mut chain, mut key) = chain_key.step();
    for index in from..to {
        skipped.push((index, key));
        (chain, key) = chain.step();
    }
    Ok(Walk { skipped, message_key: key, chain_key: chain, next_index })
}

impl Session {
    /// This session's id (the same on both sides).
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Whether we started this session with X3DH.
    #[must_use]
    pub fn initiated_by_us(&self) -> bool {
        self.initiated_by_us
    }

    /// Whether the session still waits for the peer's first reply (its messages carry the
    /// X3DH header).
    #[must_use]
    pub fn is_awaiting_reply(&self) -> bool {
        matches!(self.state, RatchetState::AwaitingReply(_))
    }

    /// The responder's signed prekey the session was built on.
    #[must_use]
    pub fn bundle_id(&self) -> DhPublicKey {
        self.bundle_id
    }

    /// When the session was created.
    #[must_use]
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// The session's associated data: both identities and installations (x3dh.rs).
    #[must_use]
    pub fn associated_data(&self) -> &[u8] {
        &self.associated_data
    }

    /// Whether any message of the peer has been decrypted in this session.
    #[must_use]
    pub fn has_received(&self) -> bool {
        !self.receiving.is_empty()
    }

    /// Number of skipped message keys currently stored.
    #[must_use]
    pub fn skipped_key_count(&self) -> usize {
        self.skipped.len()
    }

    /// Number of receiving chains currently kept.
    #[must_use]
    pub fn receiving_chain_count(&self) -> usize {
        self.receiving.len()
    }

    fn aead_ad(&self, header: &RatchetHeader) -> Vec<u8> {
        let mut ad = Vec::with_capacity(self.associated_data.len().saturating_add(HEADER_AD_LEN));
        ad.extend_from_slice(&self.associated_data);
        header.write_ad(&mut ad);
        ad
    }

    /// Encrypts `plaintext` for the peer. Draws a new ratchet key from `rng` if the peer
    /// has sent a new ratchet key since our last message.
    ///
    /// # Errors
    /// [`EncryptError`]; the session is unchanged then.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Envelope, EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::TooLong {
                limit: MAX_PLAINTEXT_LEN,
                actual: plaintext.len(),
            });
        }
        // The sending half of a DH ratchet step, computed aside and committed with the rest.
        let fresh = match &self.sending {
            Some(_) => None,
            None => {
                let ratchet_key = DhKeyPair::generate(rng);
                let dh = ratchet_key
                    .diffie_hellman(&self.remote_ratchet_key)
                    .map_err(|_| EncryptError::InvalidRatchetKey)?;
                let (root_key, chain_key) = self.root_key.step(&dh);
                Some((root_key, SendingChain { ratchet_key, chain_key, next_index: 0 }))
            }
        };
        let (chain, previous_length) = match (&fresh, &self.sending) {
            (Some((_, chain)), _) => (chain, self.previous_sending_length),
            (None, Some(chain)) => (chain, self.previous_sending_length),
            (None, None) => return Err(EncryptError::InvalidRatchetKey),
        };
        let index = chain.next_index;
        let next_index = index.checked_add(1).ok_or(EncryptError::ChainExhausted)?;
        let (next_chain_key, message_key) = chain.chain_key.step();
        let header = RatchetHeader {
            ratchet_key: chain.ratchet_key.public_key(),
            index,
            previous_chain_length: previous_length,
            bundle_id: self.bundle_id,
        };
        let ciphertext = message_key.seal(&self.aead_ad(&header), plaintext)?;
        // Commit.
        if let Some((root_key, chain)) = fresh {
            self.root_key = root_key;
            self.sending = Some(chain);
        }
        if let Some(chain) = self.sending.as_mut() {
            chain.chain_key = next_chain_key;
            chain.next_index = next_index;
        }
        let x3dh = match &self.state {
            RatchetState::AwaitingReply(x3dh) => Some(**x3dh),
            RatchetState::Active => None,
        };
        Ok(Envelope { x3dh, header, ciphertext })
    }

    /// Decrypts a message of this session. On any error the session is exactly as it was.
    ///
    /// # Errors
    /// [`DecryptError`]: `Unauthenticated` for anything that fails authentication,
    /// `Duplicate` for a recent exact replay, `KeyUnavailable` for a used or discarded key,
    /// `TooFarAhead` past [`MAX_SKIP`], `WrongSession` for another bundle id.
    pub fn decrypt(&mut self, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let header = &envelope.header;
        if header.bundle_id != self.bundle_id {
            return Err(DecryptError::WrongSession);
        }
        let Plan { message_key, change } = self.plan(envelope)?;
        let plaintext = message_key.open(&self.aead_ad(header), &envelope.ciphertext)?;
        self.commit(change, header, envelope.tag());
        Ok(plaintext)
    }

    fn replay_or(&self, envelope: &Envelope, otherwise: DecryptError) -> DecryptError {
        let tag = envelope.tag();
        if self.recent_tags.iter().any(|t| *t == tag) { DecryptError::Duplicate } else { otherwise }
    }

    fn plan(&self, envelope: &Envelope) -> Result<Plan, DecryptError> {
        let header = &envelope.header;
        if let Some(position) = self
            .skipped
            .iter()
            .position(|s| s.index == header.index && s.ratchet_key == header.ratchet_key)
        {
            let key = self.skipped.get(position).ok_or(DecryptError::KeyUnavailable)?;
            // MessageKey has no Clone: copy it deliberately for the plan.
            let mut bytes = *key.key.expose_secret();
            let message_key =
                MessageKey::from_secret_slice(&mut bytes).ok_or(DecryptError::KeyUnavailable)?;
            return Ok(Plan { message_key, change: Change::Skipped { position } });
        }
        if let Some(chain_pos) =
            self.receiving.iter().rposition(|c| c.ratchet_key == header.ratchet_key)
        {
            let chain = self.receiving.get(chain_pos).ok_or(DecryptError::KeyUnavailable)?;
            if header.index < chain.next_index {
                return Err(self.replay_or(envelope, DecryptError::KeyUnavailable));
            }
            if chain.end.is_some_and(|end| header.index >= end) {
                return Err(DecryptError::Unauthenticated);
            }
            let Walk { skipped, message_key, chain_key, next_index } =
                walk(&chain.chain_key, chain.next_index, header.index)?;
            return Ok(Plan {
                message_key,
                change: Change::Advance { chain: chain_pos, chain_key, next_index, skipped },
            });
        }
        // A new ratchet key: the receiving half of a DH ratchet step.
        let Some(sending) = &self.sending else {
            return Err(self.replay_or(envelope, DecryptError::Unauthenticated));
        };
        if header.index > MAX_SKIP {
            return Err(DecryptError::TooFarAhead { ahead: header.index, limit: MAX_SKIP });
        }
        let duplicate = self.replay_or(envelope, DecryptError::Unauthenticated);
        if duplicate == DecryptError::Duplicate {
            return Err(duplicate);
        }
        self.plan_new_chain(&sending.ratchet_key, &self.root_key, header)
    }

    /// The plan for a message under a ratchet key we have not seen, with our ratchet key
    /// pair `ours` and root key `root`.
    fn plan_new_chain(
        &self,
        ours: &DhKeyPair,
        root: &RootKey,
        header: &RatchetHeader,
    ) -> Result<Plan, DecryptError> {
        let dh =
            ours.diffie_hellman(&header.ratchet_key).map_err(|_| DecryptError::Unauthenticated)?;
        let (root_key, chain_key) = root.step(&dh);
        let Walk { skipped, message_key, chain_key, next_index } =
            walk(&chain_key, 0, header.index)?;
        let chain =
            ReceivingChain { ratchet_key: header.ratchet_key, chain_key, next_index, end: None };
        Ok(Plan {
            message_key,
            change: Change::NewChain {
                root_key,
                chain,
                skipped,
                previous_end: header.previous_chain_length,
            },
        })
    }

    fn store_skipped(&mut self, ratchet_key: DhPublicKey, skipped: Vec<(u32, MessageKey)>) {
        for (index, key) in skipped {
            if self.skipped.len() >= MAX_SKIPPED_KEYS {
                // Evicted keys are wiped on drop.
                self.skipped.pop_front();
            }
            self.skipped.push_back(SkippedKey { ratchet_key, index, key });
        }
    }

    fn commit(&mut self, change: Change, header: &RatchetHeader, tag: [u8; TAG_LEN]) {
        match change {
            Change::Skipped { position } => {
                // Removing the key deletes it (wiped on drop).
                self.skipped.remove(position);
            }
            Change::Advance { chain, chain_key, next_index, skipped } => {
                if let Some(chain) = self.receiving.get_mut(chain) {
                    chain.chain_key = chain_key;
                    chain.next_index = next_index;
                }
                self.store_skipped(header.ratchet_key, skipped);
            }
            Change::NewChain { root_key, chain, skipped, previous_end } => {
                if let Some(last) = self.receiving.back_mut() {
                    last.end = Some(previous_end);
                }
                self.receiving.push_back(chain);
                while self.receiving.len() > MAX_RECEIVING_CHAINS {
                    self.receiving.pop_front();
                }
                self.root_key = root_key;
                self.remote_ratchet_key = header.ratchet_key;
                if let Some(sending) = self.sending.take() {
                    self.previous_sending_length = sending.next_index;
                }
                self.store_skipped(header.ratchet_key, skipped);
            }
        }
        if self.recent_tags.len() >= MAX_REPLAY_WINDOW {
            self.recent_tags.pop_front();
        }
        self.recent_tags.push_back(tag);
        self.state = RatchetState::Active;
    }

    /// Builds the responder's session from its first message: runs the receiving half of a
    /// DH ratchet step with our signed prekey `spk` as `DHs`, opens the message, and only
    /// if that succeeds returns the session and the plaintext.
    pub(crate) fn respond_with_first_message(
        mut self,
        spk: &DhKeyPair,
        envelope: &Envelope,
    ) -> Result<(Self, Zeroizing<Vec<u8>>), DecryptError> {
        let header = &envelope.header;
        let Plan { message_key, change } = self.plan_new_chain(spk, &self.root_key, header)?;
        let plaintext = message_key.open(&self.aead_ad(header), &envelope.ciphertext)?;
        self.commit(change, header, envelope.tag());
        Ok((self, plaintext))
    }
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            id,
            initiated_by_us,
            replaces,
            associated_data: _,
            bundle_id,
            state,
            their_ephemeral: _,
            root_key: _,
            sending,
            previous_sending_length,
            remote_ratchet_key,
            receiving,
            skipped,
            recent_tags: _,
            created_at,
        } = self;
        f.debug_struct("Session")
            .field("id", id)
            .field("initiated_by_us", initiated_by_us)
            .field("replaces", replaces)
            .field("bundle_id", bundle_id)
            .field("awaiting_reply", &matches!(state, RatchetState::AwaitingReply(_)))
            .field("sending", sending)
            .field("previous_sending_length", previous_sending_length)
            .field("remote_ratchet_key", remote_ratchet_key)
            .field("receiving", receiving)
            .field("skipped_keys", &skipped.len())
            .field("created_at", created_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::account::Account;
    use crate::config::SessionConfig;
    use crate::installation::InstallationId;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_000)
    }

    fn pair(rng: &mut ChaCha20Rng) -> (Session, Session) {
        let alice = Account::generate(InstallationId::new("a").unwrap(), rng, now());
        let bob = Account::generate(InstallationId::new("b").unwrap(), rng, now());
        let bundle = bob.bundle(now());
        let mut a = Session::initiate(&alice, &bundle, bob.installation_id(), rng, now()).unwrap();
        let first = a.encrypt(b"hello", rng).unwrap();
        let (b, plaintext) = Session::respond(
            &bob,
            &alice.bundle(now()),
            alice.installation_id(),
            &first,
            now(),
            &SessionConfig::default(),
        )
        .unwrap();
        assert_eq!(plaintext.as_slice(), b"hello");
        (a, b)
    }

    fn snapshot(session: &Session) -> Vec<u8> {
        session.to_proto().encode_to_vec()
    }

    #[test]
    fn skipped_keys_are_bounded_and_oldest_evicted() {
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        let (mut a, mut b) = pair(&mut rng);
        // Three jumps of MAX_SKIP: 3,000 skipped keys would be stored without the bound.
        let mut sent = Vec::new();
        for _ in 0..3 {
            let batch: Vec<Envelope> =
                (0..=MAX_SKIP).map(|_| a.encrypt(b"x", &mut rng).unwrap()).collect();
            b.decrypt(batch.last().unwrap()).unwrap();
            sent.extend(batch);
        }
        assert_eq!(b.skipped_key_count(), MAX_SKIPPED_KEYS);
        // The oldest ones were evicted: message 1 (after "hello" at 0) is gone ...
        assert_eq!(b.decrypt(&sent[0]), Err(DecryptError::KeyUnavailable));
        // ... the newest skipped ones still decrypt, exactly once.
        let recent = &sent[sent.len() - 2];
        assert_eq!(b.decrypt(recent).unwrap().as_slice(), b"x");
        assert_eq!(b.decrypt(recent), Err(DecryptError::Duplicate));
        assert_eq!(b.skipped_key_count(), MAX_SKIPPED_KEYS - 1);
    }

    #[test]
    fn jump_past_max_skip_is_rejected_without_state_change() {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let (mut a, mut b) = pair(&mut rng);
        let mut last = None;
        for _ in 0..=MAX_SKIP + 1 {
            last = Some(a.encrypt(b"x", &mut rng).unwrap());
        }
        let before = snapshot(&b);
        assert_eq!(
            b.decrypt(&last.unwrap()),
            Err(DecryptError::TooFarAhead { ahead: MAX_SKIP + 1, limit: MAX_SKIP })
        );
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn receiving_chains_are_bounded() {
        let mut rng = ChaCha20Rng::seed_from_u64(43);
        let (mut a, mut b) = pair(&mut rng);
        let mut held_back = Vec::new();
        for _ in 0..(MAX_RECEIVING_CHAINS + 2) {
            // One message per chain delivered, the next one held back (its key is not
            // derived yet, so only the kept chain can decrypt it); then Bob answers.
            let m = a.encrypt(b"now", &mut rng).unwrap();
            held_back.push(a.encrypt(b"late", &mut rng).unwrap());
            b.decrypt(&m).unwrap();
            let reply = b.encrypt(b"ack", &mut rng).unwrap();
            a.decrypt(&reply).unwrap();
        }
        assert_eq!(b.receiving_chain_count(), MAX_RECEIVING_CHAINS);
        // The first chains' late messages are gone with their chains ...
        assert_eq!(b.decrypt(&held_back[1]), Err(DecryptError::Unauthenticated));
        // ... the recent ones still decrypt.
        let last = held_back.last().unwrap();
        assert_eq!(b.decrypt(last).unwrap().as_slice(), b"late");
    }

    #[test]
    fn forged_and_tampered_messages_change_nothing() {
        let mut rng = ChaCha20Rng::seed_from_u64(44);
        let (mut a, mut b) = pair(&mut rng);
        let m = a.encrypt(b"secret", &mut rng).unwrap();
        let before = snapshot(&b);
        let mut tampered = m.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(b.decrypt(&tampered), Err(DecryptError::Unauthenticated));
        let mut tampered = m.clone();
        tampered.header.previous_chain_length ^= 1;
        assert_eq!(b.decrypt(&tampered), Err(DecryptError::Unauthenticated));
        let mut tampered = m.clone();
        tampered.header.ratchet_key = DhPublicKey::from_bytes([9; 32]);
        assert_eq!(b.decrypt(&tampered), Err(DecryptError::Unauthenticated));
        let mut tampered = m.clone();
        tampered.header.bundle_id = DhPublicKey::from_bytes([9; 32]);
        assert_eq!(b.decrypt(&tampered), Err(DecryptError::WrongSession));
        assert_eq!(snapshot(&b), before);
        assert_eq!(b.decrypt(&m).unwrap().as_slice(), b"secret");
        assert_eq!(b.decrypt(&m), Err(DecryptError::Duplicate));
    }

    #[test]
    fn record_round_trip_continues_identically() {
        let mut rng = ChaCha20Rng::seed_from_u64(45);
        let (mut a, mut b) = pair(&mut rng);
        let skipped = a.encrypt(b"skipped", &mut rng).unwrap();
        let m = a.encrypt(b"one", &mut rng).unwrap();
        b.decrypt(&m).unwrap();
        let mut restored = Session::from_record(&b.to_record()).unwrap();
        assert_eq!(snapshot(&restored), snapshot(&b));
        let mut rng_a = ChaCha20Rng::seed_from_u64(46);
        let mut rng_b = ChaCha20Rng::seed_from_u64(46);
        assert_eq!(b.encrypt(b"reply", &mut rng_a), restored.encrypt(b"reply", &mut rng_b));
        assert_eq!(
            b.decrypt(&skipped).unwrap().as_slice(),
            restored.decrypt(&skipped).unwrap().as_slice()
        );
        assert_eq!(snapshot(&restored), snapshot(&b));
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let mut rng = ChaCha20Rng::seed_from_u64(47);
        let (a, _) = pair(&mut rng);
        let debug = format!("{a:?}");
        let secrets = [
            a.root_key.expose_secret().to_vec(),
            a.sending.as_ref().unwrap().chain_key.expose_secret().to_vec(),
            a.sending.as_ref().unwrap().ratchet_key.expose_secret().to_vec(),
        ];
        for secret in secrets {
            assert!(!debug.contains(&hex::encode(&secret[..4])), "{debug}");
        }
        assert!(debug.starts_with("Session {"));
    }
}
