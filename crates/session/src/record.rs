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
//!                               uint64 created_at = 19; }
//! message ChainRecord {         bytes ratchet_key = 1; bytes chain_key = 2; uint32 next_index = 3;
//!                               bool ended = 4; uint32 end = 5; }
//! message SkippedKeyRecord {    bytes ratchet_key = 1; uint32 index = 2; bytes message_key = 3; }
//! ```
//!
//! Loading checks every length and bound (the same limits as live state) and the order of the
//! installations (strictly ascending id, as written; peer.rs), so a corrupted or hostile
//! record cannot create state the code would never create itself.

use std::collections::VecDeque;

use kaiwa_crypto::{DhKeyPair, TAG_LEN};
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
        let (sending_ratchet_secret, sending_chain_key, sending_index) = match &self.sending {
            Some(chain) => (
                chain.ratchet_key.expose_secret().to_vec(),
                chain.chain_key.expose_secret().to_vec(),
                chain.next_index,
            ),
            None => (Vec::new(), Vec::new(), 0),
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
        }
    }

    pub(crate) fn from_proto(mut rec: SessionRecordProto) -> Result<Self, DecodeError> {
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
                identity: identity_key("x3dh_identity", &rec.x3dh_identity)?,
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
            let ratchet_key = DhKeyPair::from_secret_slice(&mut rec.sending_ratchet_secret)?;
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
            associated_data: rec.associated_data.clone().into_boxed_slice(),
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
        Ok(Self::from_proto(proto)?)
    }
}
