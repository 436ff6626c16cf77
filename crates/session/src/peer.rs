//! What we know about one peer identity: its identity DH key, its installations (each with
//! its current signed prekey) and our sessions with each installation (54/WAKU2-X3DH-SESSIONS).
//!
//! ```text
//! Peer = identity, identity_dh, digest of the last verified bundle,
//!        installations: id -> { signed prekey, last seen, stale, sessions: [active, archived..] }
//!
//! merge(bundle):  for each installation of the bundle:
//!                   unknown          -> add it
//!                   higher version   -> replace its prekey; if the active session is one we
//!                                       initiated on the older prekey, mark it stale (the
//!                                       next send starts a new session: "re-keying on a higher
//!                                       version", digest §3.2)
//!                   same or lower    -> keep the prekey
//!                 keep the `max_installations` installations seen most recently (by the
//!                 timestamp of the last bundle listing them, then by prekey creation time)
//!
//! record: PeerRecord (record.rs) with the installations in strictly ascending id order,
//!         the order `to_record` writes; loading refuses any other order or a repeated id
//!
//! summary (PeerSummary): identity_dh, and per installation (ascending id) its id and
//!         whether it agreed on the negotiated topic:
//!           protocol_version >= 1 and the active session is answered (no X3DH header
//!           pending) and has received
//!         read from the record without decoding a session: checked are the version, the
//!         identity, identity_dh, the bounds, the ids and their order, nothing else
//! ```
//!
//! The summary serves the questions asked about a peer on every message (do we hold its
//! bundle, is the negotiated topic agreed) at the cost of parsing, not of restoring every
//! session. Its checks are a subset of a full load's, so it accepts every record a full load
//! accepts. It does not vouch for the sessions: a record whose
//! sessions are corrupt is still summarized, and the next operation that restores them
//! reports the error.

use std::collections::BTreeMap;

use kaiwa_crypto::{DhPublicKey, IdentityPublicKey, Sha256Digest};
use prost::Message as _;

use crate::bundle::{SignedPreKeyPublic, VerifiedBundle};
use crate::error::{DecodeError, RecordError};
use crate::header::dh_key;
use crate::installation::InstallationId;
use crate::limits::MAX_ARCHIVED_SESSIONS;
use crate::ratchet::Session;
use crate::record::{
    InstallationRecordProto, PeerRecordProto, PeerViewProto, check_identity, check_installations,
    check_sessions,
};
use crate::store::{PeerRecord, RECORD_VERSION};
use crate::timestamp::Timestamp;

pub(crate) struct PeerInstallation {
    pub(crate) pre_key: SignedPreKeyPublic,
    pub(crate) last_seen: Timestamp,
    /// The active session first, then archived ones (newest first).
    pub(crate) sessions: Vec<Session>,
    pub(crate) stale: bool,
}

impl PeerInstallation {
    /// Makes `session` the active one, archiving the others (bounded).
    pub(crate) fn activate(&mut self, session: Session) {
        self.sessions.insert(0, session);
        self.sessions.truncate(1 + MAX_ARCHIVED_SESSIONS);
    }

    /// Keeps `session` only as an archived one.
    pub(crate) fn archive(&mut self, session: Session) {
        let at = self.sessions.len().min(1);
        self.sessions.insert(at, session);
        self.sessions.truncate(1 + MAX_ARCHIVED_SESSIONS);
    }
}

pub(crate) struct Peer {
    pub(crate) identity: IdentityPublicKey,
    pub(crate) identity_dh: Option<DhPublicKey>,
    pub(crate) bundle_digest: Option<Sha256Digest>,
    pub(crate) installations: BTreeMap<InstallationId, PeerInstallation>,
}

impl Peer {
    pub(crate) fn new(identity: IdentityPublicKey) -> Self {
        Self { identity, identity_dh: None, bundle_digest: None, installations: BTreeMap::new() }
    }

    /// Merges a verified bundle of this peer (module docs). `exclude` is our own
    /// installation when the peer is our own identity. Returns whether anything changed.
    pub(crate) fn merge(
        &mut self,
        bundle: &VerifiedBundle,
        max_installations: usize,
        exclude: Option<&InstallationId>,
    ) -> bool {
        let digest = bundle.digest();
        if self.bundle_digest == Some(digest) {
            return false;
        }
        self.bundle_digest = Some(digest);
        self.identity_dh = Some(bundle.identity_dh());
        let seen = bundle.timestamp();
        for (id, spk) in bundle.installations() {
            if exclude == Some(id) {
                continue;
            }
            match self.installations.get_mut(id) {
                Some(existing) => {
                    if spk.version() > existing.pre_key.version() {
                        existing.pre_key = *spk;
                        let built_on_old = existing
                            .sessions
                            .first()
                            .is_some_and(|s| s.initiated_by_us && s.bundle_id != spk.key());
                        existing.stale |= built_on_old;
                    }
                    existing.last_seen = existing.last_seen.max(seen);
                }
                None => {
                    self.installations.insert(
                        id.clone(),
                        PeerInstallation {
                            pre_key: *spk,
                            last_seen: seen,
                            sessions: Vec::new(),
                            stale: false,
                        },
                    );
                }
            }
        }
        while self.installations.len() > max_installations {
            let oldest = self
                .installations
                .iter()
                .min_by_key(|(_, inst)| (inst.last_seen, inst.pre_key.created_at))
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => self.installations.remove(&id),
                None => break,
            };
        }
        true
    }

    pub(crate) fn to_record(&self) -> PeerRecord {
        let proto = PeerRecordProto {
            version: RECORD_VERSION,
            identity: self.identity.as_bytes().to_vec(),
            identity_dh: self.identity_dh.map(|k| k.as_bytes().to_vec()).unwrap_or_default(),
            bundle_digest: self.bundle_digest.map(|d| d.as_bytes().to_vec()).unwrap_or_default(),
            installations: self
                .installations
                .iter()
                .map(|(id, inst)| InstallationRecordProto {
                    installation_id: id.as_str().to_owned(),
                    signed_pre_key: inst.pre_key.key.as_bytes().to_vec(),
                    key_version: inst.pre_key.version,
                    protocol_version: inst.pre_key.protocol_version,
                    created_at: inst.pre_key.created_at.as_millis(),
                    last_seen: inst.last_seen.as_millis(),
                    sessions: inst.sessions.iter().map(Session::to_proto).collect(),
                    stale: inst.stale,
                })
                .collect(),
        };
        PeerRecord::from_bytes(proto.encode_to_vec())
    }

    /// Loads a record, checking that it belongs to `identity`. `ours` is our own identity key
    /// (the X3DH identity of the sessions we initiated). Neither key is decoded from the
    /// record: both are validated keys already, and the stored encodings are compared with
    /// them (record.rs, "Loading without curve arithmetic").
    pub(crate) fn from_record(
        record: &PeerRecord,
        identity: &IdentityPublicKey,
        ours: &IdentityPublicKey,
    ) -> Result<Self, RecordError> {
        let mut proto = PeerRecordProto::decode(record.as_bytes()).map_err(DecodeError::from)?;
        let identity_dh =
            check_header(proto.version, &proto.identity, &proto.identity_dh, identity)?;
        let bundle_digest = if proto.bundle_digest.is_empty() {
            None
        } else {
            let bytes: [u8; 32] =
                proto.bundle_digest.as_slice().try_into().map_err(|_| DecodeError::Length {
                    field: "bundle_digest",
                    expected: 32,
                    actual: proto.bundle_digest.len(),
                })?;
            Some(Sha256Digest::from_bytes(bytes))
        };
        check_installations(proto.installations.len())?;
        let mut installations = BTreeMap::new();
        for mut inst in core::mem::take(&mut proto.installations) {
            check_sessions(inst.sessions.len())?;
            let pre_key = SignedPreKeyPublic {
                key: dh_key("signed_pre_key", &inst.signed_pre_key)?,
                version: inst.key_version,
                protocol_version: inst.protocol_version,
                created_at: Timestamp::from_millis(inst.created_at),
            };
            // Each taken record is wiped when `from_proto` drops it.
            let sessions = core::mem::take(&mut inst.sessions)
                .into_iter()
                .map(|session| Session::from_proto(session, Some(ours)))
                .collect::<Result<Vec<_>, _>>()?;
            let id = InstallationId::new(core::mem::take(&mut inst.installation_id))
                .map_err(DecodeError::from)?;
            // `to_record` writes the map in ascending id order; any other order (or a repeated
            // id, whose sessions a map would silently drop) is not a record this code wrote.
            if installations.last_key_value().is_some_and(|(last, _)| *last >= id) {
                return Err(DecodeError::Order { field: "installations.installation_id" }.into());
            }
            installations.insert(
                id,
                PeerInstallation {
                    pre_key,
                    last_seen: Timestamp::from_millis(inst.last_seen),
                    sessions,
                    stale: inst.stale,
                },
            );
        }
        Ok(Self { identity: *identity, identity_dh, bundle_digest, installations })
    }
}

/// Whether an installation agreed on the negotiated topic (module docs;
/// 54/WAKU2-X3DH-SESSIONS §"Negotiated topic").
fn agreed(protocol_version: u32, awaiting_reply: bool, has_received: bool) -> bool {
    protocol_version >= 1 && !awaiting_reply && has_received
}

/// One installation in a [`PeerSummary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InstallationSummary {
    pub(crate) id: InstallationId,
    /// Whether it agreed on the negotiated topic (module docs).
    pub(crate) agreed: bool,
}

/// What is asked of a peer on every message, read without decoding a session (module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerSummary {
    pub(crate) identity_dh: Option<DhPublicKey>,
    /// In ascending id order.
    pub(crate) installations: Vec<InstallationSummary>,
}

impl PeerSummary {
    /// Summarizes the record of `identity` (module docs for what is checked).
    pub(crate) fn from_record(
        record: &PeerRecord,
        identity: &IdentityPublicKey,
    ) -> Result<Self, RecordError> {
        let proto = PeerViewProto::decode(record.as_bytes()).map_err(DecodeError::from)?;
        let identity_dh =
            check_header(proto.version, &proto.identity, &proto.identity_dh, identity)?;
        check_installations(proto.installations.len())?;
        let mut installations: Vec<InstallationSummary> =
            Vec::with_capacity(proto.installations.len());
        for inst in proto.installations {
            check_sessions(inst.sessions.len())?;
            let id = InstallationId::new(inst.installation_id).map_err(DecodeError::from)?;
            // The same order check as `Peer::from_record`.
            if installations.last().is_some_and(|last| last.id >= id) {
                return Err(DecodeError::Order { field: "installations.installation_id" }.into());
            }
            let agreed = inst.sessions.first().is_some_and(|active| {
                agreed(
                    inst.protocol_version,
                    !active.x3dh_ephemeral.is_empty(),
                    !active.receiving_chains.is_empty(),
                )
            });
            installations.push(InstallationSummary { id, agreed });
        }
        Ok(Self { identity_dh, installations })
    }
}

/// The checks a full load and a summary share: the record version, that the record is
/// `identity`'s, and its DH identity key if it has one.
fn check_header(
    version: u32,
    stored_identity: &[u8],
    identity_dh: &[u8],
    identity: &IdentityPublicKey,
) -> Result<Option<DhPublicKey>, RecordError> {
    if version != RECORD_VERSION {
        return Err(DecodeError::Version { got: version }.into());
    }
    check_identity(stored_identity, identity)?;
    if identity_dh.is_empty() { Ok(None) } else { Ok(Some(dh_key("identity_dh", identity_dh)?)) }
}

#[cfg(test)]
impl PeerSummary {
    /// The summary of a fully restored peer, to check `from_record` against.
    pub(crate) fn of(peer: &Peer) -> Self {
        let installations = peer
            .installations
            .iter()
            .map(|(id, inst)| InstallationSummary {
                id: id.clone(),
                agreed: inst.sessions.first().is_some_and(|active| {
                    agreed(
                        inst.pre_key.protocol_version(),
                        active.is_awaiting_reply(),
                        active.has_received(),
                    )
                }),
            })
            .collect();
        Self { identity_dh: peer.identity_dh, installations }
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::bundle::PROTOCOL_VERSION;

    fn spk(byte: u8, version: u32, created_at: u64) -> SignedPreKeyPublic {
        SignedPreKeyPublic {
            key: DhPublicKey::from_bytes([byte; 32]),
            version,
            protocol_version: PROTOCOL_VERSION,
            created_at: Timestamp::from_millis(created_at),
        }
    }

    fn bundle(
        identity: &IdentityKeyPair,
        entries: &[(&str, SignedPreKeyPublic)],
        at: u64,
    ) -> VerifiedBundle {
        let installations =
            entries.iter().map(|(id, spk)| (InstallationId::new(*id).unwrap(), *spk)).collect();
        VerifiedBundle::sign(
            identity,
            DhPublicKey::from_bytes([5; 32]),
            installations,
            Timestamp::from_millis(at),
        )
    }

    #[test]
    fn merge_keeps_the_most_recent_installations_and_higher_versions() {
        let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(61));
        let mut peer = Peer::new(identity.public_key());
        let four = bundle(
            &identity,
            &[
                ("d1", spk(1, 1, 10)),
                ("d2", spk(2, 1, 40)),
                ("d3", spk(3, 1, 30)),
                ("d4", spk(4, 1, 20)),
            ],
            100,
        );
        assert!(peer.merge(&four, 3, None));
        assert!(!peer.merge(&four, 3, None), "the same bundle again changes nothing");
        let ids: Vec<&str> = peer.installations.keys().map(InstallationId::as_str).collect();
        assert_eq!(ids, ["d2", "d3", "d4"], "d1 has the oldest prekey");

        // A lower version is ignored, a higher one replaces the prekey.
        let older = bundle(&identity, &[("d2", spk(9, 1, 5))], 200);
        peer.merge(&older, 3, None);
        assert_eq!(peer.installations[&InstallationId::new("d2").unwrap()].pre_key, spk(2, 1, 40));
        let newer = bundle(&identity, &[("d2", spk(8, 2, 150))], 300);
        peer.merge(&newer, 3, None);
        assert_eq!(peer.installations[&InstallationId::new("d2").unwrap()].pre_key, spk(8, 2, 150));

        // Our own installation is never a peer installation.
        let mut me = Peer::new(identity.public_key());
        me.merge(&four, 3, Some(&InstallationId::new("d2").unwrap()));
        assert!(!me.installations.contains_key(&InstallationId::new("d2").unwrap()));
    }

    #[test]
    fn a_record_lists_installations_in_ascending_order_and_loads_only_so() {
        let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(62));
        let mut peer = Peer::new(identity.public_key());
        let three = bundle(
            &identity,
            &[("d2", spk(2, 1, 10)), ("d1", spk(1, 1, 10)), ("d3", spk(3, 1, 10))],
            100,
        );
        assert!(peer.merge(&three, 3, None));
        let record = peer.to_record();
        let loaded =
            Peer::from_record(&record, &identity.public_key(), &identity.public_key()).unwrap();
        assert_eq!(loaded.to_record().as_bytes(), record.as_bytes());
        let proto = PeerRecordProto::decode(record.as_bytes()).unwrap();
        let ids: Vec<&str> =
            proto.installations.iter().map(|i| i.installation_id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2", "d3"]);

        let refused =
            RecordError::Decode(DecodeError::Order { field: "installations.installation_id" });
        for listed in [[1, 0, 2], [0, 2, 1], [2, 1, 0], [0, 0, 1], [0, 1, 1]] {
            let mut reordered = proto.clone();
            reordered.installations =
                listed.iter().map(|&i| proto.installations[i].clone()).collect();
            let bytes = PeerRecord::from_bytes(reordered.encode_to_vec());
            assert_eq!(
                Peer::from_record(&bytes, &identity.public_key(), &identity.public_key()).err(),
                Some(refused.clone())
            );
        }
    }
}
