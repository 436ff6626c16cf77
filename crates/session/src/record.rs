//! The persisted form of sessions and peers: the `kaiwa.store.v1` messages of
//! `proto/store/session.proto`.
//!
//! ```text
//! message PeerRecord {          uint32 version = 1; bytes identity = 2; bytes identity_dh = 3;
//!                               bytes bundle_digest = 4;
//!                               repeated InstallationRecord installations = 5; }  // ascending id
//! message InstallationRecord {  string installation_id = 1; bytes signed_pre_key = 2;
//!                               uint32 key_version = 3; uint32 protocol_version = 4;
//!                               uint64 created_at = 5; uint64 last_seen = 6;
//!                               repeated SessionRecord sessions = 7;   // active first
//!                               bool stale = 8; }
//! message SessionRecord {       uint32 version = 1; bytes session_id = 2; bool initiated_by_us = 3;
//!                               bool replaces = 4; bytes associated_data = 5; bytes bundle_id = 6;
//!                               bytes x3dh_ephemeral = 7;   // empty once a reply arrived
//!                               bytes x3dh_identity = 8; bytes their_ephemeral = 9;
//!                               bytes root_key = 10; bytes sending_ratchet_secret = 11;  // empty: closed
//!                               bytes sending_chain_key = 12; uint32 sending_index = 13;
//!                               uint32 previous_sending_length = 14; bytes remote_ratchet_key = 15;
//!                               repeated ChainRecord receiving_chains = 16;   // oldest first
//!                               repeated SkippedKeyRecord skipped_keys = 17;  // oldest first
//!                               bytes recent_tags = 18;     // 16-byte tags, concatenated
//!                               uint64 created_at = 19;
//!                               bytes sending_ratchet_public = 20; }  // empty: closed, or an
//!                                                                     // older record
//! message ChainRecord {         bytes ratchet_key = 1; bytes chain_key = 2; uint32 next_index = 3;
//!                               bool ended = 4; uint32 end = 5; }
//! message SkippedKeyRecord {    bytes ratchet_key = 1; uint32 index = 2; bytes message_key = 3; }
//! ```
//!
//! Loading checks every length and bound (the same limits as live state) and the order of the
//! installations (strictly ascending id, as written; peer.rs), so a corrupted or hostile
//! record cannot create state the code would never create itself.
//!
//! # Loading without curve arithmetic
//!
//! A peer record is loaded several times per message (the facade asks whether we hold a
//! bundle, which topic to use, then encrypts or decrypts), so loading does no curve
//! arithmetic, only parsing and length checks:
//!
//! ```text
//! sending ratchet key:  (sending_ratchet_secret, sending_ratchet_public) -> DhKeyPair as stored
//!                       sending_ratchet_public empty (a record written before field 20)
//!                         -> public = X25519(secret, 9), recomputed, as before
//! peer identity:        stored `identity` == the (validated) key the record was looked up by,
//!                       compared byte for byte; never decoded again
//! x3dh_identity:        == our own identity key (we initiated), compared byte for byte;
//!                       any other value (a standalone session record) is decoded strictly
//! ```
//!
//! **At-rest trust.** These records are our own state, trusted like the root, chain and
//! message keys stored in them: whoever can rewrite a record can already replace those. So
//! the stored public half of the sending ratchet key is taken as it is, as libsignal reads
//! back both halves of its ratchet key pair. A record whose public half does not belong to
//! its secret still loads, and nothing panics: our messages announce the stored public key
//! while our DH uses the secret, so the peer derives other keys and refuses them as
//! unauthenticated (its state unchanged), and the recovery of session_manager.rs eventually
//! replaces the session. Received messages keep decrypting until our next DH ratchet step.
//!
//! Identity keys need no such trust: a key is decoded strictly (canonical, on the curve, not
//! of small order) when it first arrives (bundle, message, contact code) and a record is
//! found only by that validated key; a stored encoding equal to it is the same key. No cache
//! is needed, so there is none to bound or to get wrong. Keys from the network are always
//! decoded strictly.

use std::collections::VecDeque;

use kaiwa_crypto::{DhKeyPair, IdentityPublicKey, TAG_LEN};
use prost::Message as _;

pub(crate) use kaiwa_wire::store::{
    InstallationRecord as InstallationRecordProto, PeerRecord as PeerRecordProto,
    RatchetChainRecord as ChainRecordProto, SessionRecord as SessionRecordProto,
    SkippedMessageKeyRecord as SkippedKeyRecordProto,
};

use crate::chain::{ChainKey, ReceivingChain, SendingChain};
use crate::error::{DecodeError, RecordError};
use crate::header::{X3dhHeader, dh_key, identity_key};
use crate::limits::{
    MAX_ARCHIVED_SESSIONS, MAX_INSTALLATIONS, MAX_RECEIVING_CHAINS, MAX_REPLAY_WINDOW,
    MAX_SKIPPED_KEYS,
};
use crate::message_key::MessageKey;
use crate::ratchet::{RatchetState, RootKey, Session, SessionId, SkippedKey};
use crate::store::{RECORD_VERSION, SessionRecord};
use crate::timestamp::Timestamp;

/// A reader's view of `PeerRecord`: the fields a peer summary needs (peer.rs,
/// [`PeerSummary`](crate::peer::PeerSummary)), under the same field numbers. prost skips every
/// other field without parsing or copying it, so no session is decoded and no secret is
/// copied. A test pins these numbers to the generated types.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PeerViewProto {
    #[prost(uint32, tag = "1")]
    pub(crate) version: u32,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) identity: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) identity_dh: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) installations: Vec<InstallationViewProto>,
}

/// A reader's view of `InstallationRecord` (see [`PeerViewProto`]).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct InstallationViewProto {
    #[prost(string, tag = "1")]
    pub(crate) installation_id: String,
    #[prost(uint32, tag = "4")]
    pub(crate) protocol_version: u32,
    #[prost(message, repeated, tag = "7")]
    pub(crate) sessions: Vec<SessionViewProto>,
}

/// A reader's view of `SessionRecord`: whether the session still awaits a reply and whether
/// it has received (its receiving chains are counted, their keys skipped unread).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SessionViewProto {
    #[prost(bytes = "vec", tag = "7")]
    pub(crate) x3dh_ephemeral: Vec<u8>,
    #[prost(message, repeated, tag = "16")]
    pub(crate) receiving_chains: Vec<PresenceProto>,
}

/// A message read only for its presence: every field is skipped.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub(crate) struct PresenceProto {}

/// Checks that a record's stored identity is `identity`, a key already validated: the
/// encodings are compared, the stored one is never decoded (module docs).
pub(crate) fn check_identity(
    stored: &[u8],
    identity: &IdentityPublicKey,
) -> Result<(), RecordError> {
    let field = "identity";
    if stored.is_empty() {
        return Err(DecodeError::Missing { field }.into());
    }
    if stored.len() != IdentityPublicKey::LEN {
        return Err(DecodeError::Length {
            field,
            expected: IdentityPublicKey::LEN,
            actual: stored.len(),
        }
        .into());
    }
    if stored != identity.as_bytes() {
        return Err(RecordError::Mismatch);
    }
    Ok(())
}

fn too_many(what: &'static str, limit: usize, actual: usize) -> Result<(), DecodeError> {
    if actual > limit {
        return Err(DecodeError::TooMany { what, limit, actual });
    }
    Ok(())
}

fn secret_len(field: &'static str, actual: usize) -> DecodeError {
    DecodeError::Length { field, expected: 32, actual }
}

pub(crate) fn check_installations(count: usize) -> Result<(), DecodeError> {
    too_many("installations", MAX_INSTALLATIONS, count)
}

pub(crate) fn check_sessions(count: usize) -> Result<(), DecodeError> {
    too_many("sessions", 1 + MAX_ARCHIVED_SESSIONS, count)
}

impl Session {
    pub(crate) fn to_proto(&self) -> SessionRecordProto {
        let (x3dh_ephemeral, x3dh_identity) = match &self.state {
            RatchetState::AwaitingReply(x) => {
                (x.ephemeral.as_bytes().to_vec(), x.identity.as_bytes().to_vec())
            }
            RatchetState::Active => (Vec::new(), Vec::new()),
        };
        let (sending_ratchet_secret, sending_ratchet_public, sending_chain_key, sending_index) =
            match &self.sending {
                Some(chain) => (
                    chain.ratchet_key.expose_secret().to_vec(),
                    chain.ratchet_key.public_key().as_bytes().to_vec(),
                    chain.chain_key.expose_secret().to_vec(),
                    chain.next_index,
                ),
                None => (Vec::new(), Vec::new(), Vec::new(), 0),
            };
        SessionRecordProto {
            version: RECORD_VERSION,
            session_id: self.id.0.to_vec(),
            initiated_by_us: self.initiated_by_us,
            replaces: self.replaces,
            associated_data: self.associated_data.to_vec(),
            bundle_id: self.bundle_id.as_bytes().to_vec(),
            x3dh_ephemeral,
            x3dh_identity,
            their_ephemeral: self
                .their_ephemeral
                .map(|k| k.as_bytes().to_vec())
                .unwrap_or_default(),
            root_key: self.root_key.expose_secret().to_vec(),
            sending_ratchet_secret,
            sending_chain_key,
            sending_index,
            previous_sending_length: self.previous_sending_length,
            remote_ratchet_key: self.remote_ratchet_key.as_bytes().to_vec(),
            receiving_chains: self
                .receiving
                .iter()
                .map(|c| ChainRecordProto {
                    ratchet_key: c.ratchet_key.as_bytes().to_vec(),
                    chain_key: c.chain_key.expose_secret().to_vec(),
                    next_index: c.next_index,
                    ended: c.end.is_some(),
                    end: c.end.unwrap_or(0),
                })
                .collect(),
            skipped_keys: self
                .skipped
                .iter()
                .map(|s| SkippedKeyRecordProto {
                    ratchet_key: s.ratchet_key.as_bytes().to_vec(),
                    index: s.index,
                    message_key: s.key.expose_secret().to_vec(),
                })
                .collect(),
            recent_tags: self.recent_tags.iter().flatten().copied().collect(),
            created_at: self.created_at.as_millis(),
            sending_ratchet_public,
        }
    }

    /// Restores a session from its record. `ours` is our own identity key, if known: an
    /// `x3dh_identity` equal to it is taken without decoding it again (module docs).
    pub(crate) fn from_proto(
        mut rec: SessionRecordProto,
        ours: Option<&IdentityPublicKey>,
    ) -> Result<Self, DecodeError> {
        if rec.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: rec.version });
        }
        let id: [u8; 32] = rec.session_id.as_slice().try_into().map_err(|_| {
            DecodeError::Length { field: "session_id", expected: 32, actual: rec.session_id.len() }
        })?;
        let bundle_id = dh_key("bundle_id", &rec.bundle_id)?;
        let state = if rec.x3dh_ephemeral.is_empty() {
            RatchetState::Active
        } else {
            RatchetState::AwaitingReply(Box::new(X3dhHeader {
                ephemeral: dh_key("x3dh_ephemeral", &rec.x3dh_ephemeral)?,
                signed_pre_key: bundle_id,
                identity: match ours {
                    Some(ours) if rec.x3dh_identity == ours.as_bytes() => *ours,
                    _ => identity_key("x3dh_identity", &rec.x3dh_identity)?,
                },
            }))
        };
        let their_ephemeral = if rec.their_ephemeral.is_empty() {
            None
        } else {
            Some(dh_key("their_ephemeral", &rec.their_ephemeral)?)
        };
        let root_len = rec.root_key.len();
        let root_key = RootKey::from_secret_slice(&mut rec.root_key)
            .ok_or_else(|| secret_len("root_key", root_len))?;
        let sending = if rec.sending_ratchet_secret.is_empty() {
            None
        } else {
            let secret = &mut rec.sending_ratchet_secret;
            let ratchet_key = if rec.sending_ratchet_public.is_empty() {
                // Written before field 20: recompute the public half.
                DhKeyPair::from_secret_slice(secret)?
            } else {
                let public = dh_key("sending_ratchet_public", &rec.sending_ratchet_public)?;
                // Trusted as stored, like the secret beside it (module docs).
                DhKeyPair::from_secret_slice_and_public(secret, public)?
            };
            let len = rec.sending_chain_key.len();
            let chain_key = ChainKey::from_secret_slice(&mut rec.sending_chain_key)
                .ok_or_else(|| secret_len("sending_chain_key", len))?;
            Some(SendingChain { ratchet_key, chain_key, next_index: rec.sending_index })
        };
        too_many("receiving_chains", MAX_RECEIVING_CHAINS, rec.receiving_chains.len())?;
        let mut receiving = VecDeque::with_capacity(rec.receiving_chains.len());
        for chain in &mut rec.receiving_chains {
            let len = chain.chain_key.len();
            receiving.push_back(ReceivingChain {
                ratchet_key: dh_key("chain.ratchet_key", &chain.ratchet_key)?,
                chain_key: ChainKey::from_secret_slice(&mut chain.chain_key)
                    .ok_or_else(|| secret_len("chain.chain_key", len))?,
                next_index: chain.next_index,
                end: chain.ended.then_some(chain.end),
            });
        }
        too_many("skipped_keys", MAX_SKIPPED_KEYS, rec.skipped_keys.len())?;
        let mut skipped = VecDeque::with_capacity(rec.skipped_keys.len());
        for key in &mut rec.skipped_keys {
            let len = key.message_key.len();
            skipped.push_back(SkippedKey {
                ratchet_key: dh_key("skipped.ratchet_key", &key.ratchet_key)?,
                index: key.index,
                key: MessageKey::from_secret_slice(&mut key.message_key)
                    .ok_or_else(|| secret_len("skipped.message_key", len))?,
            });
        }
        let (tags, rest) = rec.recent_tags.as_chunks::<TAG_LEN>();
        if !rest.is_empty() {
            return Err(DecodeError::Invalid { field: "recent_tags" });
        }
        too_many("recent_tags", MAX_REPLAY_WINDOW, tags.len())?;
        Ok(Self {
            id: SessionId(id),
            initiated_by_us: rec.initiated_by_us,
            replaces: rec.replaces,
            associated_data: core::mem::take(&mut rec.associated_data).into_boxed_slice(),
            bundle_id,
            state,
            their_ephemeral,
            root_key,
            sending,
            previous_sending_length: rec.previous_sending_length,
            remote_ratchet_key: dh_key("remote_ratchet_key", &rec.remote_ratchet_key)?,
            receiving,
            skipped,
            recent_tags: tags.iter().copied().collect(),
            created_at: Timestamp::from_millis(rec.created_at),
        })
    }

    /// The session as a record, to persist it on its own (the session manager persists
    /// sessions inside peer records instead).
    #[must_use]
    pub fn to_record(&self) -> SessionRecord {
        SessionRecord::from_bytes(self.to_proto().encode_to_vec())
    }

    /// Restores a session from [`to_record`](Self::to_record) output. Continuing from the
    /// restored session gives exactly the results of continuing from the original.
    ///
    /// # Errors
    /// [`RecordError`] if the record is malformed, of an unknown version, or exceeds a
    /// bound of `limits.rs`.
    pub fn from_record(record: &SessionRecord) -> Result<Self, RecordError> {
        let proto = SessionRecordProto::decode(record.as_bytes()).map_err(DecodeError::from)?;
        Ok(Self::from_proto(proto, None)?)
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::{DhPublicKey, IdentityKeyPair};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::account::Account;
    use crate::config::SessionConfig;
    use crate::installation::InstallationId;
    use crate::peer::Peer;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000)
    }

    /// Alice's session after her first message (a sending chain, awaiting a reply) and
    /// Bob's after reading it (no sending chain yet), with Alice's identity key.
    fn pair(seed: u64) -> (Session, Session, IdentityPublicKey) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let alice = Account::generate(InstallationId::new("a").unwrap(), &mut rng, now());
        let bob = Account::generate(InstallationId::new("b").unwrap(), &mut rng, now());
        let bundle = bob.bundle(now());
        let mut a =
            Session::initiate(&alice, &bundle, bob.installation_id(), &mut rng, now()).unwrap();
        let first = a.encrypt(b"hello", &mut rng).unwrap();
        let (b, _) = Session::respond(
            &bob,
            &alice.bundle(now()),
            alice.installation_id(),
            &first,
            now(),
            &SessionConfig::default(),
        )
        .unwrap();
        (a, b, alice.identity_key())
    }

    fn snapshot(session: &Session) -> Vec<u8> {
        session.to_proto().encode_to_vec()
    }

    #[test]
    fn the_sending_ratchet_key_is_stored_whole_and_older_records_recompute_its_public_half() {
        let (a, b, _) = pair(71);
        let proto = a.to_proto();
        let public = a.sending.as_ref().unwrap().ratchet_key.public_key();
        assert_eq!(proto.sending_ratchet_public, public.as_bytes());
        let restored = Session::from_proto(proto.clone(), None).unwrap();
        assert_eq!(restored.sending.as_ref().unwrap().ratchet_key.public_key(), public);
        assert_eq!(snapshot(&restored), snapshot(&a));

        // A record written before field 20 has only the secret: the public half is
        // recomputed, and the next write stores it.
        let mut older = a.to_proto();
        older.sending_ratchet_public.clear();
        let restored = Session::from_proto(older, None).unwrap();
        assert_eq!(restored.sending.as_ref().unwrap().ratchet_key.public_key(), public);
        assert_eq!(snapshot(&restored), snapshot(&a));

        // A closed sending chain stores neither half.
        let closed = b.to_proto();
        assert!(b.sending.is_none());
        assert!(
            closed.sending_ratchet_secret.is_empty() && closed.sending_ratchet_public.is_empty()
        );
    }

    #[test]
    fn a_malformed_public_half_is_refused() {
        let (a, _, _) = pair(72);
        let field = "sending_ratchet_public";
        let mut short = a.to_proto();
        short.sending_ratchet_public.pop();
        assert_eq!(
            Session::from_proto(short, None).err(),
            Some(DecodeError::Length { field, expected: 32, actual: 31 })
        );
        let mut non_canonical = a.to_proto();
        non_canonical.sending_ratchet_public = vec![0xff; 32];
        assert_eq!(
            Session::from_proto(non_canonical, None).err(),
            Some(DecodeError::Invalid { field })
        );
    }

    #[test]
    fn a_public_half_that_is_not_the_secrets_is_trusted_and_only_fails_at_the_peer() {
        // The at-rest-trust case of the module docs: the record loads, nothing panics, the
        // stored key is announced, and the peer refuses the message without changing.
        let (a, mut b, _) = pair(73);
        let other = DhPublicKey::from_bytes([9; 32]);
        let mut odd = a.to_proto();
        odd.sending_ratchet_public = other.as_bytes().to_vec();
        let mut restored = Session::from_proto(odd, None).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(74);
        let message = restored.encrypt(b"second", &mut rng).unwrap();
        assert_eq!(message.header.ratchet_key, other);
        let before = snapshot(&b);
        assert_eq!(b.decrypt(&message), Err(crate::error::DecryptError::Unauthenticated));
        assert_eq!(snapshot(&b), before);
    }

    #[test]
    fn our_x3dh_identity_is_compared_and_any_other_is_decoded_strictly() {
        let (a, _, alice) = pair(75);
        let proto = a.to_proto();
        assert_eq!(proto.x3dh_identity, alice.as_bytes());
        let someone = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(76)).public_key();
        for ours in [Some(&alice), Some(&someone), None] {
            let restored = Session::from_proto(proto.clone(), ours).unwrap();
            assert_eq!(snapshot(&restored), snapshot(&a));
        }
        // The all-zero encoding is a point of small order: never an identity, whoever asks.
        let mut weak = a.to_proto();
        weak.x3dh_identity = vec![0; 32];
        for ours in [Some(&alice), None] {
            assert_eq!(
                Session::from_proto(weak.clone(), ours).err(),
                Some(DecodeError::Invalid { field: "x3dh_identity" })
            );
        }
    }

    #[test]
    fn a_stored_identity_is_compared_with_the_validated_key() {
        let alice = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(77)).public_key();
        assert_eq!(check_identity(alice.as_bytes(), &alice), Ok(()));
        let field = "identity";
        assert_eq!(check_identity(&[], &alice), Err(DecodeError::Missing { field }.into()));
        assert_eq!(
            check_identity(&[1; 31], &alice),
            Err(DecodeError::Length { field, expected: 32, actual: 31 }.into())
        );
        // Not a key at all, or another key: either way not this peer's record.
        assert_eq!(check_identity(&[0; 32], &alice), Err(RecordError::Mismatch));
        let mut other = alice.to_bytes();
        other[0] ^= 1;
        assert_eq!(check_identity(&other, &alice), Err(RecordError::Mismatch));
    }

    #[test]
    fn the_peer_view_reads_the_field_numbers_of_the_generated_types() {
        let session = |x3dh: &[u8], chains: usize| {
            let mut session = SessionRecordProto::default();
            session.x3dh_ephemeral = x3dh.to_vec();
            session.receiving_chains = (0..chains)
                .map(|i| ChainRecordProto {
                    ratchet_key: vec![7; 32],
                    chain_key: vec![8; 32],
                    next_index: u32::try_from(i).unwrap(),
                    ended: true,
                    end: 9,
                })
                .collect();
            session.root_key = vec![6; 32];
            session
        };
        let full = PeerRecordProto {
            version: 7,
            identity: vec![1; 32],
            identity_dh: vec![2; 32],
            bundle_digest: vec![3; 32],
            installations: vec![InstallationRecordProto {
                installation_id: "d1".into(),
                signed_pre_key: vec![4; 32],
                key_version: 5,
                protocol_version: 3,
                created_at: 11,
                last_seen: 12,
                sessions: vec![session(&[5; 32], 0), session(&[], 2)],
                stale: true,
            }],
        };
        let view = PeerViewProto::decode(full.encode_to_vec().as_slice()).unwrap();
        assert_eq!(view.version, 7);
        assert_eq!(view.identity, vec![1; 32]);
        assert_eq!(view.identity_dh, vec![2; 32]);
        let [inst] = view.installations.as_slice() else { panic!("one installation") };
        assert_eq!(inst.installation_id, "d1");
        assert_eq!(inst.protocol_version, 3);
        let [active, archived] = inst.sessions.as_slice() else { panic!("two sessions") };
        assert_eq!(active.x3dh_ephemeral, vec![5; 32]);
        assert_eq!(active.receiving_chains.len(), 0);
        assert!(archived.x3dh_ephemeral.is_empty());
        assert_eq!(archived.receiving_chains.len(), 2);
    }

    #[test]
    fn a_peer_record_restores_its_sessions_with_both_ratchet_halves() {
        let (a, _, alice) = pair(78);
        let bob = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(79)).public_key();
        let mut inst = InstallationRecordProto::default();
        inst.installation_id = "b".into();
        inst.signed_pre_key = a.bundle_id.as_bytes().to_vec();
        inst.sessions = vec![a.to_proto()];
        let mut proto = PeerRecordProto::default();
        proto.version = RECORD_VERSION;
        proto.identity = bob.as_bytes().to_vec();
        proto.installations = vec![inst];
        let record = crate::store::PeerRecord::from_bytes(proto.encode_to_vec());
        let peer = Peer::from_record(&record, &bob, &alice).unwrap();
        let inst = peer.installations.values().next().unwrap();
        assert_eq!(snapshot(&inst.sessions[0]), snapshot(&a));
        assert_eq!(peer.to_record().as_bytes(), record.as_bytes());
    }
}
