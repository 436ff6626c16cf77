//! The owner's side: the organization key pair, the description it signs, the current epoch key
//! of each key group, pending requests and outstanding grants. Every flow is a function from a
//! verified input and the state to a new state and the messages to send.
//!
//! ```text
//! flow(self, actor, input, now_ms, rng):
//!   authorize actor                                  (DECISIONS "Roles")
//!   next = edit(copy of description); next.clock = clock.next(now_ms)
//!   validate next                                    (description.rs checks)
//!   for each key group g of next (org_id if encrypted; each channel with own members):
//!     members(g) changed (added, left, kicked, banned), or g is new
//!       → epoch(g) + 1, fresh key from rng, re-key parts for members(g)   (rekey.rs)
//!   sign next; split into segments if needed         (segment.rs)
//!   only now: replace description, epochs, pending requests and grants
//! ```
//!
//! Any error leaves the organization exactly as it was (everything fallible runs before the
//! commit). The description is published before the re-key parts in [`Update`], so members
//! already know the new member list when the new epoch's messages arrive.
//!
//! Powers (DECISIONS "Roles"): the owner (holder of the org key) may do everything. A member
//! with `ManageUsers` (or `All`) may accept and reject requests and kick members that hold no
//! role; everything else (roles, channels, categories, permissions, bans, identity, tags,
//! encryption) is the owner's alone. Delegated actions reach the owner device through the app
//! (which authenticates the actor), because only the org key can sign the result.
//!
//! Access (DECISIONS "Access"): NO_MEMBERSHIP accepts at once; ON_REQUEST keeps the request
//! pending; INVITATION_ONLY accepts only with a valid invitation grant still on record; a
//! valid invitation grant is accepted under any access mode; a banned key is refused always.

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_crypto::{CryptoRng, DhKeyPair, DhPublicKey, IdentityKeyPair};

use crate::description::{
    Access, AdminSettings, Category, Channel, Description, Identity, Member, Permissions, Role,
    SignedDescription,
};
use crate::epoch::EpochKey;
use crate::error::{DecodeError, FlowError, GrantError, RequestError};
use crate::grant::{Grant, SignedGrant};
use crate::id::{CategoryId, ChannelId, Epoch, GroupId, LamportTime, MemberId, OrgId};
use crate::limits::{
    GRANT_VALIDITY_MS, MAX_DESCRIPTION_BYTES, MAX_OUTSTANDING_GRANTS, MAX_PENDING_REQUESTS,
    REKEY_INTERVAL_MS,
};
use crate::request::{self, Request};
use crate::{rekey, segment};

/// Who performs an owner-side action (authenticated by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Actor {
    /// The holder of the organization key.
    Owner,
    /// A member acting through a delegated role.
    Member(MemberId),
}

/// A member's keys, as the owner needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberKeys {
    /// Ed25519 identity.
    pub id: MemberId,
    /// X25519 identity key (epoch keys are wrapped to it).
    pub dh_key: DhPublicKey,
}

/// What the owner must publish after a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Update {
    /// The signed description, or its signed segments, for the organization's content topic.
    /// Empty if the description did not change.
    pub description: Vec<Vec<u8>>,
    /// Signed re-key parts (one message each), to publish after the description.
    pub rekeys: Vec<Vec<u8>>,
}

/// An accepted join request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Admission {
    /// The new member.
    pub member: MemberId,
    /// Description and re-key to publish.
    pub update: Update,
    /// The response sealed to the new member's X25519 key (accepted, with grant and description).
    pub response: Vec<u8>,
}

/// A kicked member.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Kick {
    /// Description and re-key to publish.
    pub update: Update,
    /// A signed notice for the kicked member (seed 56's `CommunityUserKicked`).
    pub notice: Vec<u8>,
}

/// What handling a request did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// Accepted at once (NO_MEMBERSHIP, or a valid invitation).
    Accepted(Admission),
    /// Waiting for [`Organization::accept`] or [`Organization::reject`] (ON_REQUEST).
    Pending {
        /// The requester.
        member: MemberId,
    },
    /// A pending request was withdrawn.
    Cancelled {
        /// The requester.
        member: MemberId,
    },
    /// A member left; publish the update.
    Left {
        /// The former member.
        member: MemberId,
        /// Description and re-key.
        update: Update,
    },
}

/// A join request waiting for a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingRequest {
    /// Requester's keys.
    pub keys: MemberKeys,
    /// Request clock.
    pub clock: LamportTime,
    /// Channel asked for.
    pub channel: Option<ChannelId>,
    /// Display name given.
    pub display_name: String,
    pub(crate) arrival: u64,
}

/// The current key of one key group (owner side).
#[derive(Debug)]
pub(crate) struct OwnerEpoch {
    pub(crate) epoch: Epoch,
    pub(crate) key: EpochKey,
    pub(crate) created_ms: u64,
}

/// The owner's organization: key pair, signed description, epochs, requests, grants.
///
/// Secrets (org key, request key, epoch keys) are wiped on drop; `Debug` shows none of them.
pub struct Organization {
    pub(crate) org_key: IdentityKeyPair,
    pub(crate) request_key: DhKeyPair,
    pub(crate) signed: SignedDescription,
    pub(crate) epochs: BTreeMap<GroupId, OwnerEpoch>,
    pub(crate) pending: BTreeMap<MemberId, PendingRequest>,
    pub(crate) grants: BTreeMap<MemberId, LamportTime>,
    pub(crate) arrivals: u64,
}

impl core::fmt::Debug for Organization {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { org_key: _, request_key: _, signed, epochs, pending, grants, arrivals: _ } =
            self;
        f.debug_struct("Organization")
            .field("org", signed.description().org())
            .field("clock", &signed.description().clock())
            .field("members", &signed.description().members().len())
            .field("epochs", &epochs.iter().map(|(g, e)| (*g, e.epoch)).collect::<Vec<_>>())
            .field("pending", &pending.len())
            .field("grants", &grants.len())
            .finish_non_exhaustive()
    }
}

/// Settings of a new organization.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgConfig {
    /// Display metadata.
    pub identity: Identity,
    /// Who may join.
    pub permissions: Permissions,
    /// Whether channel messages are encrypted.
    pub encrypted: bool,
    /// Admin settings.
    pub admin_settings: AdminSettings,
    /// Tags.
    pub tags: Vec<String>,
}

impl OrgConfig {
    /// An organization with a name and an access mode, encrypted.
    #[must_use]
    pub fn new(name: &str, access: Access) -> Self {
        Self {
            identity: Identity::named(name),
            permissions: Permissions::new(access),
            encrypted: true,
            admin_settings: AdminSettings::default(),
            tags: Vec::new(),
        }
    }
}

/// The members of each key group of `d` (module doc): `org_id` if encrypted, and every
/// channel with its own members.
fn key_groups(d: &Description) -> BTreeMap<GroupId, BTreeMap<MemberId, DhPublicKey>> {
    let mut groups = BTreeMap::new();
    if !d.encrypted {
        return groups;
    }
    let all: BTreeMap<MemberId, DhPublicKey> =
        d.members.iter().map(|(id, m)| (*id, m.dh_key)).collect();
    for (id, channel) in &d.channels {
        if channel.has_own_members() {
            let members =
                channel.members.keys().filter_map(|m| all.get(m).map(|k| (*m, *k))).collect();
            groups.insert(GroupId::channel(&d.org, id), members);
        }
    }
    groups.insert(d.org.group(), all);
    groups
}

impl Organization {
    /// Creates an organization: the org key is its id (seed: "The Organization owner generates
    /// a public/private key pair"), `founder` becomes its first member with [`Role::All`].
    ///
    /// # Errors
    /// [`FlowError::Invalid`] if `config` breaks a description rule,
    /// [`FlowError::InvalidDhKey`] if the founder's X25519 key has small order.
    pub fn create<R: CryptoRng + ?Sized>(
        org_key: IdentityKeyPair,
        request_key: DhKeyPair,
        founder: MemberKeys,
        config: OrgConfig,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<(Self, Update), FlowError> {
        let org = OrgId::new(org_key.public_key());
        let mut members = BTreeMap::new();
        members.insert(
            founder.id,
            Member { roles: BTreeSet::from([Role::All]), dh_key: founder.dh_key },
        );
        let description = Description {
            org,
            clock: LamportTime(0),
            members,
            permissions: config.permissions,
            identity: config.identity,
            channels: BTreeMap::new(),
            banned: BTreeSet::new(),
            categories: BTreeMap::new(),
            admin_settings: config.admin_settings,
            encrypted: config.encrypted,
            tags: config.tags,
            request_dh_key: request_key.public_key(),
        };
        // Start from an empty, unsigned state and commit the first description like any other.
        let placeholder = SignedDescription::sign(&org_key, description.clone());
        let mut organization = Self {
            org_key,
            request_key,
            signed: placeholder,
            epochs: BTreeMap::new(),
            pending: BTreeMap::new(),
            grants: BTreeMap::new(),
            arrivals: 0,
        };
        let plan = organization.plan(description, now_ms, rng, &BTreeMap::new())?;
        let update = organization.commit(plan);
        Ok((organization, update))
    }

    /// The organization id.
    #[must_use]
    pub fn id(&self) -> OrgId {
        *self.signed.description().org()
    }

    /// The current description.
    #[must_use]
    pub fn description(&self) -> &Description {
        self.signed.description()
    }

    /// The current signed description.
    #[must_use]
    pub fn signed_description(&self) -> &SignedDescription {
        &self.signed
    }

    /// The messages that publish the current description (for the periodic republication,
    /// every `REPUBLISH_INTERVAL_MS`).
    #[must_use]
    pub fn republish(&self) -> Vec<Vec<u8>> {
        segment::publish(&self.signed, &self.org_key)
    }

    /// The current epoch of a key group.
    #[must_use]
    pub fn current_epoch(&self, group: &GroupId) -> Option<Epoch> {
        self.epochs.get(group).map(|e| e.epoch)
    }

    /// Pending join requests.
    #[must_use]
    pub fn pending(&self) -> &BTreeMap<MemberId, PendingRequest> {
        &self.pending
    }

    fn authorize(
        &self,
        actor: &Actor,
        power: Option<Role>,
        action: &'static str,
    ) -> Result<(), FlowError> {
        match (actor, power) {
            (Actor::Owner, _) => Ok(()),
            (Actor::Member(m), Some(role)) if self.description().has_role(m, role) => Ok(()),
            _ => Err(FlowError::NotAuthorized { action }),
        }
    }

    /// Computes everything a change needs without touching `self`.
    fn plan<R: CryptoRng + ?Sized>(
        &self,
        mut next: Description,
        now_ms: u64,
        rng: &mut R,
        old_groups: &BTreeMap<GroupId, BTreeMap<MemberId, DhPublicKey>>,
    ) -> Result<Plan, FlowError> {
        next.clock = self.signed.description().clock.next(now_ms);
        next.validate()?;
        let mut rekeys = Vec::new();
        let mut epochs = BTreeMap::new();
        for (group, members) in key_groups(&next) {
            let changed =
                old_groups.get(&group) != Some(&members) || !self.epochs.contains_key(&group);
            if !changed {
                continue;
            }
            let epoch =
                self.epochs.get(&group).map_or(Epoch(1), |e| Epoch(e.epoch.0.saturating_add(1)));
            let key = EpochKey::generate(rng);
            let recipients: Vec<DhPublicKey> = members.values().copied().collect();
            rekeys.extend(rekey::build(
                &self.org_key,
                &group,
                epoch,
                &key,
                &recipients,
                now_ms,
                rng,
            )?);
            epochs.insert(group, OwnerEpoch { epoch, key, created_ms: now_ms });
        }
        let signed = SignedDescription::sign(&self.org_key, next);
        if signed.bytes().len() > MAX_DESCRIPTION_BYTES {
            return Err(DecodeError::TooMany {
                what: "description bytes",
                limit: MAX_DESCRIPTION_BYTES,
                actual: signed.bytes().len(),
            }
            .into());
        }
        let messages = segment::publish(&signed, &self.org_key);
        Ok(Plan { signed, messages, rekeys, epochs })
    }

    /// Applies a plan. Infallible.
    fn commit(&mut self, plan: Plan) -> Update {
        let Plan { signed, messages, rekeys, epochs } = plan;
        let groups = key_groups(signed.description());
        self.epochs.retain(|g, _| groups.contains_key(g));
        self.epochs.extend(epochs);
        let description = signed.description();
        self.pending.retain(|m, _| !description.is_member(m) && !description.banned.contains(m));
        self.grants.retain(|m, _| !description.banned.contains(m));
        self.signed = signed;
        Update { description: messages, rekeys }
    }

    /// Edits a copy of the description with `edit`, then plans and commits the change.
    fn change<R: CryptoRng + ?Sized>(
        &mut self,
        now_ms: u64,
        rng: &mut R,
        edit: impl FnOnce(&mut Description) -> Result<(), FlowError>,
    ) -> Result<Update, FlowError> {
        let mut next = self.signed.description().clone();
        edit(&mut next)?;
        let old_groups = key_groups(self.signed.description());
        let plan = self.plan(next, now_ms, rng, &old_groups)?;
        Ok(self.commit(plan))
    }

    /// Opens and handles a sealed request (join, cancel or leave). See the module doc for the
    /// access rules.
    ///
    /// # Errors
    /// [`RequestError`] names why; the organization is then unchanged.
    pub fn handle_request<R: CryptoRng + ?Sized>(
        &mut self,
        sealed: &[u8],
        now_ms: u64,
        rng: &mut R,
    ) -> Result<RequestOutcome, RequestError> {
        let request = request::open_request(&self.request_key, &self.id(), sealed)?;
        let description = self.signed.description();
        match request {
            Request::Join { requester, dh_key, clock, channel, display_name, invitation_grant } => {
                if description.banned.contains(&requester) {
                    return Err(RequestError::Banned);
                }
                if description.is_member(&requester) {
                    return Err(RequestError::AlreadyMember);
                }
                if let Some(c) = &channel
                    && !description.channels.contains_key(c)
                {
                    return Err(FlowError::UnknownChannel.into());
                }
                if let Some(old) = self.pending.get(&requester)
                    && clock <= old.clock
                {
                    return Err(RequestError::Stale { stored: old.clock.0, received: clock.0 });
                }
                let keys = MemberKeys { id: requester, dh_key };
                let invited = match &invitation_grant {
                    Some(bytes) => {
                        self.check_invitation(bytes, &requester, now_ms)
                            .map_err(RequestError::Grant)?;
                        true
                    }
                    None => false,
                };
                let request =
                    PendingRequest { keys, clock, channel, display_name, arrival: self.arrivals };
                match (invited, description.permissions.access) {
                    (true, _) | (false, Access::NoMembership) => {
                        Ok(RequestOutcome::Accepted(self.admit(request, now_ms, rng)?))
                    }
                    (false, Access::InvitationOnly) => Err(RequestError::InvitationRequired),
                    (false, Access::OnRequest) => {
                        if self.pending.len() >= MAX_PENDING_REQUESTS
                            && !self.pending.contains_key(&requester)
                        {
                            let oldest =
                                self.pending.iter().min_by_key(|(_, p)| p.arrival).map(|(m, _)| *m);
                            if let Some(oldest) = oldest {
                                self.pending.remove(&oldest);
                            }
                        }
                        self.arrivals = self.arrivals.saturating_add(1);
                        self.pending.insert(requester, request);
                        Ok(RequestOutcome::Pending { member: requester })
                    }
                }
            }
            Request::Cancel { requester, clock } => match self.pending.get(&requester) {
                Some(p) if clock >= p.clock => {
                    self.pending.remove(&requester);
                    Ok(RequestOutcome::Cancelled { member: requester })
                }
                Some(p) => Err(RequestError::Stale { stored: p.clock.0, received: clock.0 }),
                None => Err(FlowError::NotPending.into()),
            },
            Request::Leave { requester, clock: _ } => {
                if !description.is_member(&requester) {
                    return Err(RequestError::NotMember);
                }
                let update = self.change(now_ms, rng, |d| {
                    remove_member(d, &requester);
                    Ok(())
                })?;
                Ok(RequestOutcome::Left { member: requester, update })
            }
        }
    }

    /// Verifies an invitation grant presented by `member`: org signature, member, expiry, and
    /// still on record (not revoked).
    fn check_invitation(
        &self,
        bytes: &[u8],
        member: &MemberId,
        now_ms: u64,
    ) -> Result<(), GrantError> {
        let grant = SignedGrant::verify(bytes, &self.id(), member, now_ms)?;
        match self.grants.get(member) {
            Some(clock) if *clock == grant.grant().clock => Ok(()),
            _ => Err(GrantError::Revoked),
        }
    }

    /// Adds the requester, re-keys, and seals the accepted response.
    fn admit<R: CryptoRng + ?Sized>(
        &mut self,
        request: PendingRequest,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Admission, FlowError> {
        let keys = request.keys;
        let channel = request.channel.clone();
        let mut next = self.signed.description().clone();
        next.members.insert(keys.id, Member { roles: BTreeSet::new(), dh_key: keys.dh_key });
        if let Some(c) = &channel {
            let ch = next.channels.get_mut(c).ok_or(FlowError::UnknownChannel)?;
            if ch.has_own_members() {
                ch.members.insert(keys.id, BTreeSet::new());
            }
        }
        let old_groups = key_groups(self.signed.description());
        let plan = self.plan(next, now_ms, rng, &old_groups)?;
        let clock = plan.signed.description().clock;
        let grant = SignedGrant::issue(
            &self.org_key,
            Grant {
                org: self.id(),
                member: keys.id,
                channel,
                clock,
                expires_ms: now_ms.saturating_add(GRANT_VALIDITY_MS),
            },
        );
        let response = request::seal_response(
            &self.org_key,
            &keys.id,
            &keys.dh_key,
            clock,
            Some((&grant, &plan.signed)),
            rng,
        )?;
        let update = self.commit(plan);
        self.grants.remove(&keys.id);
        Ok(Admission { member: keys.id, update, response })
    }

    /// Accepts a pending request (owner, or a member with `ManageUsers`).
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::NotPending`], [`FlowError::Banned`], or a
    /// description rule.
    pub fn accept<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Admission, FlowError> {
        self.authorize(actor, Some(Role::ManageUsers), "accept requests")?;
        let request = self.pending.get(member).cloned().ok_or(FlowError::NotPending)?;
        if self.description().banned.contains(member) {
            return Err(FlowError::Banned);
        }
        let admission = self.admit(request, now_ms, rng)?;
        self.pending.remove(member);
        Ok(admission)
    }

    /// Rejects a pending request; returns the sealed refusal for the requester.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`] or [`FlowError::NotPending`].
    pub fn reject<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        rng: &mut R,
    ) -> Result<Vec<u8>, FlowError> {
        self.authorize(actor, Some(Role::ManageUsers), "reject requests")?;
        let request = self.pending.get(member).ok_or(FlowError::NotPending)?;
        let response = request::seal_response(
            &self.org_key,
            member,
            &request.keys.dh_key,
            self.description().clock,
            None,
            rng,
        )?;
        self.pending.remove(member);
        Ok(response)
    }

    /// Invites a key: issues a grant (for the organization, or for `channel`) and signs an
    /// invitation carrying it and the description. The grant is honoured until it expires, is
    /// superseded by a newer invitation, or the key is banned. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::Banned`], [`FlowError::AlreadyMember`],
    /// [`FlowError::UnknownChannel`].
    pub fn invite(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        channel: Option<&ChannelId>,
        now_ms: u64,
    ) -> Result<Vec<u8>, FlowError> {
        self.authorize(actor, None, "invite")?;
        let description = self.description();
        if description.banned.contains(member) {
            return Err(FlowError::Banned);
        }
        if description.is_member(member) {
            return Err(FlowError::AlreadyMember);
        }
        if let Some(c) = channel
            && !description.channels.contains_key(c)
        {
            return Err(FlowError::UnknownChannel);
        }
        let clock = description.clock.next(now_ms);
        let grant = SignedGrant::issue(
            &self.org_key,
            Grant {
                org: self.id(),
                member: *member,
                channel: channel.cloned(),
                clock,
                expires_ms: now_ms.saturating_add(GRANT_VALIDITY_MS),
            },
        );
        let invitation = request::sign_invitation(&self.org_key, &grant, &self.signed);
        if self.grants.len() >= MAX_OUTSTANDING_GRANTS && !self.grants.contains_key(member) {
            let oldest = self.grants.iter().min_by_key(|(_, c)| **c).map(|(m, _)| *m);
            if let Some(oldest) = oldest {
                self.grants.remove(&oldest);
            }
        }
        self.grants.insert(*member, clock);
        Ok(invitation)
    }

    /// Removes a member and re-keys (owner, or a member with `ManageUsers` for members without
    /// roles). Also revokes the member's grants.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownMember`].
    pub fn kick<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Kick, FlowError> {
        self.authorize(actor, Some(Role::ManageUsers), "kick")?;
        let target = self.description().members.get(member).ok_or(FlowError::UnknownMember)?;
        if matches!(actor, Actor::Member(_)) && !target.roles.is_empty() {
            return Err(FlowError::NotAuthorized { action: "kick a member with a role" });
        }
        let update = self.change(now_ms, rng, |d| {
            remove_member(d, member);
            Ok(())
        })?;
        self.grants.remove(member);
        let notice = request::sign_kicked(&self.org_key, self.description().clock);
        Ok(Kick { update, notice })
    }

    /// Bans a key: removes it from the members and every channel, adds it to the ban list,
    /// drops its pending request and grants, and re-keys (seed "Organization Ban Flow").
    /// Owner only. Banning a non-member is allowed (pre-emptive ban).
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::Banned`] if already banned.
    pub fn ban<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "ban")?;
        let update = self.change(now_ms, rng, |d| {
            remove_member(d, member);
            if !d.banned.insert(*member) {
                return Err(FlowError::Banned);
            }
            Ok(())
        })?;
        self.grants.remove(member);
        self.pending.remove(member);
        Ok(update)
    }

    /// Lifts a ban. Owner only. (The key must request to join again.)
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownMember`] if not banned.
    pub fn unban<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "unban")?;
        self.change(now_ms, rng, |d| {
            if d.banned.remove(member) { Ok(()) } else { Err(FlowError::UnknownMember) }
        })
    }

    /// Adds many members at once, with one description and one re-key (importing an existing
    /// community). Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::Banned`], [`FlowError::AlreadyMember`],
    /// [`FlowError::InvalidDhKey`], or a description bound.
    pub fn add_members<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        members: &[MemberKeys],
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "add members")?;
        self.change(now_ms, rng, |d| {
            for keys in members {
                if d.banned.contains(&keys.id) {
                    return Err(FlowError::Banned);
                }
                let member = Member { roles: BTreeSet::new(), dh_key: keys.dh_key };
                if d.members.insert(keys.id, member).is_some() {
                    return Err(FlowError::AlreadyMember);
                }
            }
            Ok(())
        })
    }

    /// Sets a member's roles. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownMember`].
    pub fn set_roles<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        member: &MemberId,
        roles: BTreeSet<Role>,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "change roles")?;
        self.change(now_ms, rng, |d| {
            d.members.get_mut(member).ok_or(FlowError::UnknownMember)?.roles = roles;
            Ok(())
        })
    }

    /// Creates a channel. Owner only. A channel with its own member list gets its own epochs.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::Exists`], or a description rule (unknown
    /// category, a channel member who is not a member).
    pub fn create_channel<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &ChannelId,
        channel: Channel,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "create channels")?;
        self.change(now_ms, rng, |d| {
            if d.channels.insert(id.clone(), channel).is_some() {
                return Err(FlowError::Exists { what: "channel" });
            }
            Ok(())
        })
    }

    /// Replaces a channel's settings (members, permissions, identity, category, position).
    /// Owner only. A change of its member list re-keys the channel.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownChannel`], or a description rule.
    pub fn edit_channel<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &ChannelId,
        channel: Channel,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "edit channels")?;
        self.change(now_ms, rng, |d| {
            *d.channels.get_mut(id).ok_or(FlowError::UnknownChannel)? = channel;
            Ok(())
        })
    }

    /// Deletes a channel. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownChannel`].
    pub fn delete_channel<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &ChannelId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "delete channels")?;
        self.change(now_ms, rng, |d| {
            d.channels.remove(id).map(|_| ()).ok_or(FlowError::UnknownChannel)
        })
    }

    /// Creates a category. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::Exists`], or a description rule.
    pub fn create_category<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &CategoryId,
        category: Category,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "create categories")?;
        self.change(now_ms, rng, |d| {
            if d.categories.insert(id.clone(), category).is_some() {
                return Err(FlowError::Exists { what: "category" });
            }
            Ok(())
        })
    }

    /// Renames or moves a category. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownCategory`], or a description rule.
    pub fn edit_category<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &CategoryId,
        category: Category,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "edit categories")?;
        self.change(now_ms, rng, |d| {
            *d.categories.get_mut(id).ok_or(FlowError::UnknownCategory)? = category;
            Ok(())
        })
    }

    /// Deletes a category; its channels become uncategorised. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], [`FlowError::UnknownCategory`].
    pub fn delete_category<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        id: &CategoryId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "delete categories")?;
        self.change(now_ms, rng, |d| {
            d.categories.remove(id).ok_or(FlowError::UnknownCategory)?;
            for channel in d.channels.values_mut() {
                if channel.category.as_ref() == Some(id) {
                    channel.category = None;
                }
            }
            Ok(())
        })
    }

    /// Replaces the organization's identity. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], or a description rule.
    pub fn set_identity<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        identity: Identity,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "edit the identity")?;
        self.change(now_ms, rng, |d| {
            d.identity = identity;
            Ok(())
        })
    }

    /// Replaces the permissions. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], or a description rule.
    pub fn set_permissions<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        permissions: Permissions,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "change permissions")?;
        self.change(now_ms, rng, |d| {
            d.permissions = permissions;
            Ok(())
        })
    }

    /// Replaces the admin settings. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`].
    pub fn set_admin_settings<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        settings: AdminSettings,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "change admin settings")?;
        self.change(now_ms, rng, |d| {
            d.admin_settings = settings;
            Ok(())
        })
    }

    /// Replaces the tags. Owner only.
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`], or a description rule.
    pub fn set_tags<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        tags: Vec<String>,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "change tags")?;
        self.change(now_ms, rng, |d| {
            d.tags = tags;
            Ok(())
        })
    }

    /// Turns channel encryption on or off. Owner only. Turning it on starts epochs for every
    /// key group; turning it off drops them (new messages are then public).
    ///
    /// # Errors
    /// [`FlowError::NotAuthorized`].
    pub fn set_encrypted<R: CryptoRng + ?Sized>(
        &mut self,
        actor: &Actor,
        encrypted: bool,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.authorize(actor, None, "change encryption")?;
        self.change(now_ms, rng, |d| {
            d.encrypted = encrypted;
            Ok(())
        })
    }

    /// Whether any key group's epoch is older than `REKEY_INTERVAL_MS` (48 h).
    #[must_use]
    pub fn rekey_due(&self, now_ms: u64) -> bool {
        self.epochs.values().any(|e| now_ms.saturating_sub(e.created_ms) >= REKEY_INTERVAL_MS)
    }

    /// Starts a new epoch for every key group whose epoch is older than `REKEY_INTERVAL_MS`
    /// (DECISIONS: periodic re-key, default 48 h). The description does not change.
    ///
    /// # Errors
    /// [`FlowError::InvalidDhKey`] if a member key cannot be wrapped to.
    pub fn rekey_expired<R: CryptoRng + ?Sized>(
        &mut self,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.rekey_where(now_ms, rng, |e| now_ms.saturating_sub(e.created_ms) >= REKEY_INTERVAL_MS)
    }

    /// Starts a new epoch for every key group now, whatever their age.
    ///
    /// # Errors
    /// [`FlowError::InvalidDhKey`] if a member key cannot be wrapped to.
    pub fn rekey_all<R: CryptoRng + ?Sized>(
        &mut self,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Update, FlowError> {
        self.rekey_where(now_ms, rng, |_| true)
    }

    fn rekey_where<R: CryptoRng + ?Sized>(
        &mut self,
        now_ms: u64,
        rng: &mut R,
        due: impl Fn(&OwnerEpoch) -> bool,
    ) -> Result<Update, FlowError> {
        let groups = key_groups(self.description());
        let mut rekeys = Vec::new();
        let mut fresh = Vec::new();
        for (group, members) in groups {
            let Some(current) = self.epochs.get(&group) else { continue };
            if !due(current) {
                continue;
            }
            let epoch = Epoch(current.epoch.0.saturating_add(1));
            let key = EpochKey::generate(rng);
            let recipients: Vec<DhPublicKey> = members.values().copied().collect();
            rekeys.extend(rekey::build(
                &self.org_key,
                &group,
                epoch,
                &key,
                &recipients,
                now_ms,
                rng,
            )?);
            fresh.push((group, OwnerEpoch { epoch, key, created_ms: now_ms }));
        }
        self.epochs.extend(fresh);
        Ok(Update { description: Vec::new(), rekeys })
    }

    /// Re-sends the current epoch keys of every key group `member` belongs to, wrapped for that
    /// member only (the answer to an `ORGANIZATION_ENCRYPTION_KEYS_REQUEST`). Members get keys
    /// only of epochs they belong to: past epochs are never re-sent.
    ///
    /// # Errors
    /// [`FlowError::UnknownMember`], [`FlowError::InvalidDhKey`].
    pub fn resend_keys<R: CryptoRng + ?Sized>(
        &self,
        member: &MemberId,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Vec<Vec<u8>>, FlowError> {
        let groups = key_groups(self.description());
        let dh = self.description().members.get(member).ok_or(FlowError::UnknownMember)?.dh_key;
        let mut messages = Vec::new();
        for (group, members) in groups {
            if !members.contains_key(member) {
                continue;
            }
            if let Some(e) = self.epochs.get(&group) {
                messages.extend(rekey::build(
                    &self.org_key,
                    &group,
                    e.epoch,
                    &e.key,
                    &[dh],
                    now_ms,
                    rng,
                )?);
            }
        }
        Ok(messages)
    }
}

/// Removes `member` from the members and every channel member list.
fn remove_member(d: &mut Description, member: &MemberId) {
    d.members.remove(member);
    for channel in d.channels.values_mut() {
        channel.members.remove(member);
    }
}

/// Everything a change will commit, computed in advance.
struct Plan {
    signed: SignedDescription,
    messages: Vec<Vec<u8>>,
    rekeys: Vec<Vec<u8>>,
    epochs: BTreeMap<GroupId, OwnerEpoch>,
}
