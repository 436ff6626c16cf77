//! Persistence: whole records per organization (libsignal's `SessionStore` shape), an
//! in-memory store, and the conversions `to_record` / `from_record`.
//!
//! ```text
//! OrganizationRecord     (owner)  v1: org secret, request secret, signed description,
//!                                     current epoch per key group, pending requests, grants
//! OrganizationViewRecord (member) v1: org id, member id, signed description, epochs with
//!                                     chains, skipped keys (oldest first)
//! ```
//!
//! A record is an opaque, zeroize-on-drop byte string (the encoding of a `kaiwa.store.v1`
//! message); a store keeps and returns it whole. Loading re-verifies the stored description
//! against the organization key, checks every length, and rejects an unknown `version`.
//! Reassembly buffers are not persisted: the owner republishes descriptions periodically.

use std::collections::BTreeMap;
use std::convert::Infallible;

use kaiwa_crypto::{DhKeyPair, DhPublicKey, IdentityKeyPair, SymmetricKey, Zeroizing};
use prost::Message as _;

use crate::chain::Ratchet;
use crate::description::SignedDescription;
use crate::epoch::{EpochKey, EpochState, KeyRing, SkippedId};
use crate::error::DecodeError;
use crate::id::{ChannelId, Epoch, GroupId, LamportTime, MemberId, OrgId};
use crate::org::{MemberKeys, Organization, OwnerEpoch, PendingRequest};
use crate::record::{
    self, ChainRecord, EpochRecord, GrantRecord, OwnerEpochRecord, PendingRequestRecord,
    RECORD_VERSION, SkippedKeyRecord,
};
use crate::segment::Reassembler;
use crate::view::OrganizationView;

macro_rules! opaque_record {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Holds secret keys: wiped on drop, redacted `Debug`, no `Clone`.
        pub struct $name(Zeroizing<Vec<u8>>);

        impl $name {
            /// Wraps bytes read back from storage.
            #[must_use]
            pub fn from_bytes(bytes: Vec<u8>) -> Self {
                Self(Zeroizing::new(bytes))
            }

            /// The bytes to store. Secret.
            #[must_use]
            pub fn expose_secret(&self) -> &[u8] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), self.0.len())
            }
        }
    };
}

opaque_record!(
    /// An owner's [`Organization`], encoded for storage.
    OrganizationRecord
);

opaque_record!(
    /// A member's [`OrganizationView`], encoded for storage.
    OrganizationViewRecord
);

/// Whole-record storage of organizations, synchronous, with an in-memory implementation
/// ([`InMemoryOrgStore`]).
pub trait OrgStore {
    /// The store's failure type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Loads the owner record of `org`.
    ///
    /// # Errors
    /// The store's own failures.
    fn load_organization(&self, org: &OrgId) -> Result<Option<OrganizationRecord>, Self::Error>;

    /// Stores (replaces) the owner record of `org`.
    ///
    /// # Errors
    /// The store's own failures.
    fn store_organization(
        &mut self,
        org: &OrgId,
        record: &OrganizationRecord,
    ) -> Result<(), Self::Error>;

    /// Loads `member`'s view of `org`.
    ///
    /// # Errors
    /// The store's own failures.
    fn load_view(
        &self,
        org: &OrgId,
        member: &MemberId,
    ) -> Result<Option<OrganizationViewRecord>, Self::Error>;

    /// Stores (replaces) `member`'s view of `org`.
    ///
    /// # Errors
    /// The store's own failures.
    fn store_view(
        &mut self,
        org: &OrgId,
        member: &MemberId,
        record: &OrganizationViewRecord,
    ) -> Result<(), Self::Error>;
}

/// An [`OrgStore`] in memory.
#[derive(Default)]
pub struct InMemoryOrgStore {
    organizations: BTreeMap<OrgId, Zeroizing<Vec<u8>>>,
    views: BTreeMap<(OrgId, MemberId), Zeroizing<Vec<u8>>>,
}

impl core::fmt::Debug for InMemoryOrgStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { organizations, views } = self;
        f.debug_struct("InMemoryOrgStore")
            .field("organizations", &organizations.len())
            .field("views", &views.len())
            .finish()
    }
}

impl OrgStore for InMemoryOrgStore {
    type Error = Infallible;

    fn load_organization(&self, org: &OrgId) -> Result<Option<OrganizationRecord>, Infallible> {
        Ok(self.organizations.get(org).map(|b| OrganizationRecord::from_bytes(b.to_vec())))
    }

    fn store_organization(
        &mut self,
        org: &OrgId,
        record: &OrganizationRecord,
    ) -> Result<(), Infallible> {
        self.organizations.insert(*org, Zeroizing::new(record.expose_secret().to_vec()));
        Ok(())
    }

    fn load_view(
        &self,
        org: &OrgId,
        member: &MemberId,
    ) -> Result<Option<OrganizationViewRecord>, Infallible> {
        Ok(self.views.get(&(*org, *member)).map(|b| OrganizationViewRecord::from_bytes(b.to_vec())))
    }

    fn store_view(
        &mut self,
        org: &OrgId,
        member: &MemberId,
        record: &OrganizationViewRecord,
    ) -> Result<(), Infallible> {
        self.views.insert((*org, *member), Zeroizing::new(record.expose_secret().to_vec()));
        Ok(())
    }
}

fn symmetric(field: &'static str, bytes: &[u8]) -> Result<SymmetricKey, DecodeError> {
    let mut copy = Zeroizing::new(bytes.to_vec());
    SymmetricKey::from_secret_slice(&mut copy).map_err(|_| DecodeError::Length {
        field,
        expected: 32,
        actual: bytes.len(),
    })
}

fn description_of(org: &OrgId, bytes: &[u8]) -> Result<SignedDescription, DecodeError> {
    SignedDescription::verify(org, bytes).map_err(|e| match e {
        crate::error::DescriptionError::Decode(d) => d,
        _ => DecodeError::Field { field: "description" },
    })
}

fn chain_to_record(
    channel_group: &GroupId,
    sender: Option<&MemberId>,
    chain: Option<&Ratchet>,
) -> ChainRecord {
    ChainRecord {
        channel_group: channel_group.as_bytes().to_vec(),
        sender: sender.map(|s| s.as_bytes().to_vec()).unwrap_or_default(),
        exhausted: chain.is_none(),
        counter: chain.map_or(0, Ratchet::counter),
        ratchet: chain.map(|c| c.expose_secret().to_vec()).unwrap_or_default(),
    }
}

fn chain_from_record(record: &ChainRecord) -> Result<Option<Ratchet>, DecodeError> {
    if record.exhausted {
        return Ok(None);
    }
    Ratchet::from_parts(&record.ratchet, record.counter).map(Some).ok_or(DecodeError::Length {
        field: "ratchet",
        expected: 128,
        actual: record.ratchet.len(),
    })
}

fn decode_error(message: &'static str) -> impl Fn(prost::DecodeError) -> DecodeError {
    move |_| DecodeError::Protobuf { message }
}

impl Organization {
    /// Encodes the whole organization, secrets included, for [`OrgStore`].
    #[must_use]
    pub fn to_record(&self) -> OrganizationRecord {
        let record = record::OrganizationRecord {
            version: RECORD_VERSION,
            org_secret: self.org_key.expose_secret().to_vec(),
            request_dh_secret: self.request_key.expose_secret().to_vec(),
            description: self.signed.bytes().to_vec(),
            epochs: self
                .epochs
                .iter()
                .map(|(g, e)| OwnerEpochRecord {
                    group_id: g.as_bytes().to_vec(),
                    epoch: e.epoch.0,
                    key: e.key.expose_secret().expose_secret().to_vec(),
                    created_ms: e.created_ms,
                })
                .collect(),
            pending: self
                .pending
                .iter()
                .map(|(m, p)| PendingRequestRecord {
                    member_id: m.as_bytes().to_vec(),
                    dh_key: p.keys.dh_key.as_bytes().to_vec(),
                    clock: p.clock.0,
                    channel_id: p
                        .channel
                        .as_ref()
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default(),
                    display_name: p.display_name.clone(),
                    arrival: p.arrival,
                })
                .collect(),
            grants: self
                .grants
                .iter()
                .map(|(m, c)| GrantRecord { member_id: m.as_bytes().to_vec(), clock: c.0 })
                .collect(),
            arrivals: self.arrivals,
        };
        OrganizationRecord::from_bytes(record.encode_to_vec())
    }

    /// Restores an organization from [`to_record`](Self::to_record) output.
    ///
    /// # Errors
    /// [`DecodeError`] for a malformed record, an unknown version, or a stored description
    /// that does not verify under the stored org key.
    pub fn from_record(record: &OrganizationRecord) -> Result<Self, DecodeError> {
        let r = record::OrganizationRecord::decode(record.expose_secret())
            .map_err(decode_error("OrganizationRecord"))?;
        if r.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: r.version });
        }
        let mut secret = Zeroizing::new(r.org_secret.clone());
        let org_key = IdentityKeyPair::from_secret_slice(&mut secret).map_err(|_| {
            DecodeError::Length { field: "org_secret", expected: 32, actual: r.org_secret.len() }
        })?;
        let mut secret = Zeroizing::new(r.request_dh_secret.clone());
        let request_key =
            DhKeyPair::from_secret_slice(&mut secret).map_err(|_| DecodeError::Length {
                field: "request_dh_secret",
                expected: 32,
                actual: r.request_dh_secret.len(),
            })?;
        let org = OrgId::new(org_key.public_key());
        let signed = description_of(&org, &r.description)?;
        let mut epochs = BTreeMap::new();
        for e in &r.epochs {
            epochs.insert(
                GroupId::from_slice(&e.group_id)?,
                OwnerEpoch {
                    epoch: Epoch(e.epoch),
                    key: EpochKey::from_symmetric(symmetric("key", &e.key)?),
                    created_ms: e.created_ms,
                },
            );
        }
        let mut pending = BTreeMap::new();
        for p in &r.pending {
            let id = MemberId::from_slice("member_id", &p.member_id)?;
            let dh_key = DhPublicKey::try_from(p.dh_key.as_slice()).map_err(|_| {
                DecodeError::Length { field: "dh_key", expected: 32, actual: p.dh_key.len() }
            })?;
            let channel =
                if p.channel_id.is_empty() { None } else { Some(ChannelId::new(&p.channel_id)?) };
            pending.insert(
                id,
                PendingRequest {
                    keys: MemberKeys { id, dh_key },
                    clock: LamportTime(p.clock),
                    channel,
                    display_name: p.display_name.clone(),
                    arrival: p.arrival,
                },
            );
        }
        let mut grants = BTreeMap::new();
        for g in &r.grants {
            grants.insert(MemberId::from_slice("member_id", &g.member_id)?, LamportTime(g.clock));
        }
        Ok(Self { org_key, request_key, signed, epochs, pending, grants, arrivals: r.arrivals })
    }
}

impl OrganizationView {
    /// Encodes the whole view, keys included, for [`OrgStore`].
    #[must_use]
    pub fn to_record(&self) -> OrganizationViewRecord {
        let mut epochs = Vec::new();
        for (group, by_epoch) in &self.ring.groups {
            for (epoch, state) in by_epoch {
                epochs.push(EpochRecord {
                    group_id: group.as_bytes().to_vec(),
                    epoch: epoch.0,
                    key: state.key.expose_secret().expose_secret().to_vec(),
                    receivers: state
                        .receivers
                        .iter()
                        .map(|((cg, sender), chain)| {
                            chain_to_record(cg, Some(sender), chain.as_ref())
                        })
                        .collect(),
                    senders: state
                        .senders
                        .iter()
                        .map(|(cg, chain)| chain_to_record(cg, None, chain.as_ref()))
                        .collect(),
                });
            }
        }
        let skipped = self
            .ring
            .skipped
            .iter()
            .map(|(id, key)| SkippedKeyRecord {
                key_group: id.key_group.as_bytes().to_vec(),
                epoch: id.epoch.0,
                channel_group: id.channel_group.as_bytes().to_vec(),
                sender: id.sender.as_bytes().to_vec(),
                index: id.index,
                key: key.expose_secret().to_vec(),
            })
            .collect();
        let record = record::OrganizationViewRecord {
            version: RECORD_VERSION,
            organization_id: self.org.as_bytes().to_vec(),
            member_id: self.me.as_bytes().to_vec(),
            description: self.signed.as_ref().map(|s| s.bytes().to_vec()).unwrap_or_default(),
            epochs,
            skipped,
        };
        OrganizationViewRecord::from_bytes(record.encode_to_vec())
    }

    /// Restores a view from [`to_record`](Self::to_record) output.
    ///
    /// # Errors
    /// [`DecodeError`] for a malformed record, an unknown version, or a stored description
    /// that does not verify.
    pub fn from_record(record: &OrganizationViewRecord) -> Result<Self, DecodeError> {
        let r = record::OrganizationViewRecord::decode(record.expose_secret())
            .map_err(decode_error("OrganizationViewRecord"))?;
        if r.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: r.version });
        }
        let org = OrgId::from_slice("organization_id", &r.organization_id)?;
        let me = MemberId::from_slice("member_id", &r.member_id)?;
        let mut view = Self::new(org, me);
        if !r.description.is_empty() {
            let signed = description_of(&org, &r.description)?;
            view.install(signed);
        }
        let mut ring = KeyRing::default();
        for e in &r.epochs {
            let group = GroupId::from_slice(&e.group_id)?;
            let epoch = Epoch(e.epoch);
            let key = EpochKey::from_symmetric(symmetric("key", &e.key)?);
            let key_id = key.key_id(&group, epoch);
            let mut state = EpochState::new(key, key_id);
            for c in &e.receivers {
                let sender = MemberId::from_slice("sender", &c.sender)?;
                state.receivers.insert(
                    (GroupId::from_slice(&c.channel_group)?, sender),
                    chain_from_record(c)?,
                );
            }
            for c in &e.senders {
                state.senders.insert(GroupId::from_slice(&c.channel_group)?, chain_from_record(c)?);
            }
            ring.install(group, epoch, state);
        }
        let mut skipped = Vec::new();
        for s in &r.skipped {
            let id = SkippedId {
                key_group: GroupId::from_slice(&s.key_group)?,
                epoch: Epoch(s.epoch),
                channel_group: GroupId::from_slice(&s.channel_group)?,
                sender: MemberId::from_slice("sender", &s.sender)?,
                index: s.index,
            };
            skipped.push((id, symmetric("key", &s.key)?));
        }
        ring.add_skipped(skipped);
        view.ring = ring;
        view.reassembler = Reassembler::default();
        Ok(view)
    }
}
