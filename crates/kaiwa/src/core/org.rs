//! Organizations: the owner's side and the member's side.
//!
//! ```text
//! owner   create          Organization::create; our own member view; subscribe to the
//!                         requests topic; publish the first description and re-key
//!         every change    Update = description (or segments), then re-key parts, on the
//!                         description topic; applied to our own view directly
//!         requests topic  handle_request: Accepted → publish update + the sealed response;
//!                         Pending → Event::JoinRequest; Left → publish update
//!         actions         accept / reject (sealed response on the description topic),
//!                         invite (1:1 ORGANIZATION_INVITATION), kick, ban, unban, channels
//!         periodic        republish the description; re-key epochs older than 48 h
//! member  follow          a view; subscribe to the description topic, read its history
//!         description topic, by ApplicationMetadataMessage.type:
//!           25 description, 1000 segment → the view (membership diff → Event)
//!           1001 re-key                  → the view, unwrapped with our X25519 identity key;
//!                                          NoDescription / UnknownGroup → kept for later
//!           48 response                  → open_response (only ours opens) → Event::JoinResponse
//!         after any change: subscribe to every channel topic, retry what was kept
//!         channel topic   view.decrypt; a message whose description or key has not arrived
//!                         is kept (not marked processed) and retried; others refused
//!         request / cancel / leave: sealed to the org's request key, on the requests topic
//! ```
//!
//! Responses travel on the organization's description topic rather than over 1:1 sessions:
//! the requester follows that topic already, the owner needs no session (or bundle) with a
//! stranger, a Store node keeps it for a requester who is offline, and it is sealed to the
//! requester's key and signed by the organization, so others learn only that a response was
//! sent, which the next description (its member list) tells anyway.

use std::collections::BTreeSet;

use kaiwa_crypto::DhKeyPair;
use kaiwa_org::{
    Access, Actor, Channel, ChannelId, DecryptError, Invitation, JoinRequest, LamportTime,
    MemberId, MemberKeys, OrgConfig, OrgId, OrgStore as _, Organization, OrganizationView,
    RekeyError, RequestOutcome, Update,
};
use kaiwa_store::{ChatId, PublicId, Transaction};
use kaiwa_transport::ReceivedMessage;
use kaiwa_wire::net as wire;
use prost::Message as _;
use wire::application_metadata_message::Type;

use super::{Effects, Engine, identity_key, org_key};
use crate::content::{self, ChatText, Content, Message};
use crate::environment::Now;
use crate::error::Error;
use crate::event::{Event, MembershipChange, Scope};
use crate::limits::MAX_KEPT_PER_ORG;
use crate::net::Route;

/// A message kept until a description or a key arrives.
#[derive(Clone, Debug)]
pub(crate) struct Kept {
    route: Route,
    message: ReceivedMessage,
}

/// An owner action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OrgAction {
    CreateChannel { id: ChannelId, name: String },
    EditChannel { id: ChannelId, name: String },
    DeleteChannel(ChannelId),
    Accept(PublicId),
    Reject(PublicId),
    Kick(PublicId),
    Ban(PublicId),
    Unban(PublicId),
    SetAccess(Access),
    Rekey,
}

/// A member action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemberAction {
    Cancel,
    Leave,
}

fn org_member(id: &PublicId) -> MemberId {
    MemberId::from_slice("member", id.as_bytes())
        .unwrap_or_else(|_| MemberId::from_key(&placeholder()))
}

// `PublicId` is always 32 bytes, so `from_slice` cannot fail; this keeps the code panic-free.
fn placeholder() -> kaiwa_crypto::IdentityPublicKey {
    kaiwa_crypto::IdentityKeyPair::from_secret_bytes(&mut [0u8; 32]).public_key()
}

fn member_public(id: &MemberId) -> PublicId {
    PublicId::new(*id.as_bytes())
}

/// Members and name of a description.
fn snapshot(view: &OrganizationView) -> Option<(BTreeSet<MemberId>, String)> {
    view.description()
        .map(|d| (d.members().keys().copied().collect(), d.identity().display_name.clone()))
}

fn org_diff(
    org: &OrgId,
    before: Option<(BTreeSet<MemberId>, String)>,
    after: Option<(BTreeSet<MemberId>, String)>,
) -> Option<MembershipChange> {
    let (members, name) = after?;
    let (old_members, old_name) = before.unwrap_or_default();
    let joined: Vec<PublicId> = members.difference(&old_members).map(member_public).collect();
    let removed: Vec<PublicId> = old_members.difference(&members).map(member_public).collect();
    let renamed = (old_name != name).then_some(name);
    if joined.is_empty() && removed.is_empty() && renamed.is_none() {
        return None;
    }
    Some(MembershipChange {
        scope: Scope::Org(*org),
        joined,
        invited: Vec::new(),
        removed,
        renamed,
    })
}

/// Whether a channel message refused with `error` may open once a description or key arrives.
fn may_decrypt_later(error: &DecryptError) -> bool {
    matches!(
        error,
        DecryptError::NoDescription
            | DecryptError::UnknownGroup
            | DecryptError::NotMember
            | DecryptError::UnknownEpoch { .. }
    )
}

impl Engine {
    pub(crate) fn me_in_orgs(&self) -> MemberId {
        MemberId::from_key(&self.manager.account().identity_key())
    }

    /// The organization `org` if we own it.
    pub(crate) fn owned(
        &mut self,
        tx: &Transaction<'_>,
        org: &OrgId,
    ) -> Result<Option<&mut Organization>, Error> {
        if !self.owned.contains_key(org) {
            let Some(record) = tx.load_organization(org)? else { return Ok(None) };
            self.owned.insert(*org, Organization::from_record(&record)?);
        }
        Ok(self.owned.get_mut(org))
    }

    /// Our member view of `org`, if we follow it.
    pub(crate) fn view(
        &mut self,
        tx: &Transaction<'_>,
        org: &OrgId,
    ) -> Result<Option<&mut OrganizationView>, Error> {
        if !self.views.contains_key(org) {
            let me = self.me_in_orgs();
            let Some(record) = tx.load_view(org, &me)? else { return Ok(None) };
            self.views.insert(*org, OrganizationView::from_record(&record)?);
        }
        Ok(self.views.get_mut(org))
    }

    fn save_owned(&self, tx: &mut Transaction<'_>, org: &OrgId) -> Result<(), Error> {
        let owned =
            self.owned.get(org).ok_or(Error::Internal("saving an organization not loaded"))?;
        tx.store_organization(org, &owned.to_record())?;
        Ok(())
    }

    fn save_view(&self, tx: &mut Transaction<'_>, org: &OrgId) -> Result<(), Error> {
        let view = self.views.get(org).ok_or(Error::Internal("saving a view not loaded"))?;
        tx.store_view(org, &self.me_in_orgs(), &view.to_record())?;
        Ok(())
    }

    /// Subscribes to every channel of `org` (from the cached view).
    pub(super) fn subscribe_channels(&self, org: &OrgId, fx: &mut Effects) {
        let Some(description) = self.views.get(org).and_then(OrganizationView::description) else {
            return;
        };
        for channel in description.channels().keys() {
            let topic = self.scheme().org_channel(&org_key(org), channel.as_str());
            fx.subscribe(topic, Route::OrgChannel(*org), true);
        }
    }

    /// Founds an encrypted organization; we are its first member.
    pub(crate) fn create_org(
        &mut self,
        tx: &mut Transaction<'_>,
        name: &str,
        access: Access,
        now: Now,
        fx: &mut Effects,
    ) -> Result<OrgId, Error> {
        let founder =
            MemberKeys { id: self.me_in_orgs(), dh_key: self.manager.account().identity_dh_key() };
        let org_key_pair = kaiwa_crypto::IdentityKeyPair::generate(&mut *self.rng);
        let request_key = DhKeyPair::generate(&mut *self.rng);
        let (org, created) = Organization::create(
            org_key_pair,
            request_key,
            founder,
            OrgConfig::new(name, access),
            now.ms,
            &mut *self.rng,
        )?;
        let id = org.id();
        self.owned.insert(id, org);
        self.views.insert(id, OrganizationView::new(id, self.me_in_orgs()));
        self.save_owned(tx, &id)?;
        self.save_view(tx, &id)?;
        fx.subscribe(self.scheme().org_requests(&org_key(&id)), Route::OrgRequests(id), false);
        fx.subscribe(
            self.scheme().org_description(&org_key(&id)),
            Route::OrgDescription(id),
            false,
        );
        self.publish_update(tx, &id, &created, now, fx)?;
        Ok(id)
    }

    /// Publishes an owner update and applies it to our own view.
    fn publish_update(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        update: &Update,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let topic = self.scheme().org_description(&org_key(org));
        for message in update.description.iter().chain(&update.rekeys) {
            self.enqueue(tx, &topic, message.clone(), None, now, fx)?;
        }
        if self.view(tx, org)?.is_none() {
            self.views.insert(*org, OrganizationView::new(*org, self.me_in_orgs()));
        }
        let Self { views, manager, .. } = self;
        let dh = manager.account().identity_dh();
        let view = views.get_mut(org).ok_or(Error::Internal("own view not loaded"))?;
        for message in &update.description {
            match envelope_type(message) {
                Some(Type::OrganizationDescriptionSegment) => {
                    view.apply_segment(message)?;
                }
                _ => {
                    view.apply_description(message)?;
                }
            }
        }
        for part in &update.rekeys {
            if let kaiwa_org::RekeyOutcome::Installed { group, epoch } =
                view.apply_rekey(part, dh)?
            {
                fx.events.push(key_epoch(org, view, &group, epoch));
            }
        }
        self.save_view(tx, org)?;
        self.subscribe_channels(org, fx);
        Ok(())
    }

    /// An owner action on `org`.
    pub(crate) fn org_action(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        action: OrgAction,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        if self.owned(tx, org)?.is_none() {
            return Err(Error::NotOwner);
        }
        let Self { owned, rng, .. } = self;
        let owner = owned.get_mut(org).ok_or(Error::NotOwner)?;
        let rng = &mut **rng;
        let (update, response) = match action {
            OrgAction::CreateChannel { id, name } => {
                let channel = Channel::open(&name, Access::NoMembership);
                (owner.create_channel(&Actor::Owner, &id, channel, now.ms, rng)?, None)
            }
            OrgAction::EditChannel { id, name } => {
                let mut channel = owner
                    .description()
                    .channels()
                    .get(&id)
                    .cloned()
                    .ok_or(kaiwa_org::FlowError::UnknownChannel)?;
                channel.identity.display_name = name;
                (owner.edit_channel(&Actor::Owner, &id, channel, now.ms, rng)?, None)
            }
            OrgAction::DeleteChannel(id) => {
                (owner.delete_channel(&Actor::Owner, &id, now.ms, rng)?, None)
            }
            OrgAction::Accept(member) => {
                let admission = owner.accept(&Actor::Owner, &org_member(&member), now.ms, rng)?;
                (admission.update, Some(admission.response))
            }
            OrgAction::Reject(member) => {
                let response = owner.reject(&Actor::Owner, &org_member(&member), rng)?;
                (Update::default(), Some(response))
            }
            OrgAction::Kick(member) => {
                (owner.kick(&Actor::Owner, &org_member(&member), now.ms, rng)?.update, None)
            }
            OrgAction::Ban(member) => {
                (owner.ban(&Actor::Owner, &org_member(&member), now.ms, rng)?, None)
            }
            OrgAction::Unban(member) => {
                (owner.unban(&Actor::Owner, &org_member(&member), now.ms, rng)?, None)
            }
            OrgAction::SetAccess(access) => {
                let mut permissions = *owner.description().permissions();
                permissions.access = access;
                (owner.set_permissions(&Actor::Owner, permissions, now.ms, rng)?, None)
            }
            OrgAction::Rekey => (owner.rekey_all(now.ms, rng)?, None),
        };
        self.save_owned(tx, org)?;
        self.publish_update(tx, org, &update, now, fx)?;
        if let Some(response) = response {
            let topic = self.scheme().org_description(&org_key(org));
            self.enqueue(tx, &topic, response, None, now, fx)?;
        }
        Ok(())
    }

    /// Invites `member` to `org` over a 1:1 session (owner).
    pub(crate) fn invite(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        member: &PublicId,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let key = identity_key(member)?;
        let owner = self.owned(tx, org)?.ok_or(Error::NotOwner)?;
        let invitation = owner.invite(&Actor::Owner, &org_member(member), None, now.ms)?;
        self.save_owned(tx, org)?;
        self.send_envelope(tx, &key, (Type::OrganizationInvitation, invitation), None, now, fx)
    }

    /// Follows `org`: a view, and its description topic with all its history.
    pub(crate) fn follow(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        if self.view(tx, org)?.is_none() {
            self.views.insert(*org, OrganizationView::new(*org, self.me_in_orgs()));
            self.save_view(tx, org)?;
        }
        fx.subscribe(
            self.scheme().org_description(&org_key(org)),
            Route::OrgDescription(*org),
            true,
        );
        self.subscribe_channels(org, fx);
        Ok(())
    }

    /// Asks to join `org` (with the invitation we hold, if any).
    pub(crate) fn request_to_join(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        display_name: &str,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let me = self.me_in_orgs();
        let grant = tx
            .invitation(org)?
            .and_then(|bytes| Invitation::verify(&bytes, &me, now.ms).ok())
            .map(|invitation| invitation.grant().bytes().to_vec());
        if self.view(tx, org)?.is_none() {
            return Err(Error::UnknownOrg);
        }
        let Self { views, rng, manager, .. } = self;
        let identity = manager.account().identity();
        let dh = manager.account().identity_dh();
        let view = views.get(org).ok_or(Error::UnknownOrg)?;
        let mut request = JoinRequest::new(LamportTime(now.ms));
        display_name.clone_into(&mut request.display_name);
        request.invitation_grant = grant;
        let sealed = view.join_request(identity, &dh.public_key(), &request, &mut **rng)?;
        let topic = self.scheme().org_requests(&org_key(org));
        self.enqueue(tx, &topic, sealed, None, now, fx)?;
        Ok(())
    }

    /// Cancels our pending request, or leaves `org`.
    pub(crate) fn member_action(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        action: MemberAction,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        if self.view(tx, org)?.is_none() {
            return Err(Error::UnknownOrg);
        }
        let Self { views, rng, manager, .. } = self;
        let identity = manager.account().identity();
        let view = views.get(org).ok_or(Error::UnknownOrg)?;
        let clock = LamportTime(now.ms);
        let sealed = match action {
            MemberAction::Cancel => view.cancel_request(identity, clock, &mut **rng)?,
            MemberAction::Leave => view.leave_request(identity, clock, &mut **rng)?,
        };
        let topic = self.scheme().org_requests(&org_key(org));
        self.enqueue(tx, &topic, sealed, None, now, fx)?;
        Ok(())
    }

    /// Posts `content` to `channel` of `org`.
    pub(crate) fn send_channel(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        channel: &ChannelId,
        content: Content,
        now: Now,
        fx: &mut Effects,
    ) -> Result<Message, Error> {
        let chat = ChatId::Channel { org: *org, channel: channel.clone() };
        let clock = self.next_clock(tx, &chat, now)?;
        let chat_id = content::channel_chat_id(org, channel);
        let body = content::chat_message(
            clock,
            now.ms,
            &chat_id,
            wire::MessageType::CommunityChat,
            &content,
        )?;
        if self.view(tx, org)?.is_none() {
            return Err(Error::UnknownOrg);
        }
        let Self { views, rng, manager, .. } = self;
        let identity = manager.account().identity();
        let view = views.get_mut(org).ok_or(Error::UnknownOrg)?;
        let sealed = view.encrypt(channel, identity, &body, &mut **rng)?;
        self.save_view(tx, org)?;
        let text = ChatText { clock, timestamp_ms: now.ms, content };
        let message = self.insert_outgoing(tx, &chat, &text, now)?;
        let topic = self.scheme().org_channel(&org_key(org), channel.as_str());
        self.enqueue(tx, &topic, sealed, Some(message.id), now, fx)?;
        Ok(message)
    }

    /// A sealed request on the requests topic of an organization we own.
    pub(super) fn on_org_request(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        sealed: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        if self.owned(tx, org)?.is_none() {
            return Ok(());
        }
        let Self { owned, rng, .. } = self;
        let owner = owned.get_mut(org).ok_or(Error::NotOwner)?;
        let outcome = match owner.handle_request(sealed, now.ms, &mut **rng) {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::debug!(%error, "refused organization request");
                return Ok(());
            }
        };
        let (update, response) = match outcome {
            RequestOutcome::Accepted(admission) => {
                (Some(admission.update), Some(admission.response))
            }
            RequestOutcome::Pending { member } => {
                let display_name = owner
                    .pending()
                    .get(&member)
                    .map(|p| p.display_name.clone())
                    .unwrap_or_default();
                fx.events.push(Event::JoinRequest {
                    org: *org,
                    member: member_public(&member),
                    display_name,
                });
                (None, None)
            }
            RequestOutcome::Left { update, .. } => (Some(update), None),
            _ => (None, None),
        };
        self.save_owned(tx, org)?;
        let before = self.views.get(org).and_then(snapshot);
        if let Some(update) = update {
            self.publish_update(tx, org, &update, now, fx)?;
        }
        if let Some(response) = response {
            let topic = self.scheme().org_description(&org_key(org));
            self.enqueue(tx, &topic, response, None, now, fx)?;
        }
        let after = self.views.get(org).and_then(snapshot);
        if let Some(change) = org_diff(org, before, after) {
            fx.events.push(Event::Membership(change));
        }
        Ok(())
    }

    /// A message on the description topic of an organization we follow. `Ok(false)`: kept.
    pub(super) fn on_org_broadcast(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        message: &ReceivedMessage,
        now: Now,
        fx: &mut Effects,
    ) -> Result<bool, Error> {
        if self.view(tx, org)?.is_none() {
            return Ok(true);
        }
        let before = self.views.get(org).and_then(snapshot);
        let bytes = message.message.payload();
        let Self { views, manager, .. } = self;
        let dh = manager.account().identity_dh();
        let view = views.get_mut(org).ok_or(Error::UnknownOrg)?;
        let mut changed = false;
        let mut kept = false;
        // Descriptions, segments and re-keys are signed envelopes; a response is a sealed
        // box (no visible type) that only its requester opens. Anything the first three do
        // not take is tried as a response.
        let mut handled = true;
        match envelope_type(bytes) {
            Some(Type::OrganizationDescription) => match view.apply_description(bytes) {
                Ok(kaiwa_org::DescriptionOutcome::Applied { .. }) => changed = true,
                Ok(_) => {}
                Err(kaiwa_org::DescriptionError::Stale { .. }) => {}
                Err(_) => handled = false,
            },
            Some(Type::OrganizationDescriptionSegment) => match view.apply_segment(bytes) {
                Ok(kaiwa_org::SegmentOutcome::Complete(
                    kaiwa_org::DescriptionOutcome::Applied { .. },
                )) => changed = true,
                Ok(_) => {}
                Err(_) => handled = false,
            },
            Some(Type::OrganizationRekey) => match view.apply_rekey(bytes, dh) {
                Ok(kaiwa_org::RekeyOutcome::Installed { group, epoch }) => {
                    fx.events.push(key_epoch(org, view, &group, epoch));
                    changed = true;
                }
                Ok(_) => {}
                Err(RekeyError::NoDescription | RekeyError::UnknownGroup) => kept = true,
                Err(_) => handled = false,
            },
            _ => handled = false,
        }
        if !handled {
            match view.open_response(bytes, dh, now.ms) {
                Ok(response) => {
                    changed = true;
                    fx.events.push(Event::JoinResponse { org: *org, accepted: response.accepted });
                }
                // Most responses are for others; nothing to learn from the failure.
                Err(_) => tracing::trace!("a message on a description topic that is not ours"),
            }
        }
        if kept {
            self.keep(org, Route::OrgDescription(*org), message);
            return Ok(false);
        }
        if changed {
            self.save_view(tx, org)?;
            let after = self.views.get(org).and_then(snapshot);
            if let Some(change) = org_diff(org, before, after) {
                fx.events.push(Event::Membership(change));
            }
            self.subscribe_channels(org, fx);
            self.retry_kept(tx, org, now, fx)?;
        }
        Ok(true)
    }

    fn keep(&mut self, org: &OrgId, route: Route, message: &ReceivedMessage) {
        let kept = self.kept.entry(*org).or_default();
        if kept.iter().any(|k| k.message.hash == message.hash) {
            return;
        }
        if kept.len() >= MAX_KEPT_PER_ORG {
            kept.remove(0);
        }
        kept.push(Kept { route, message: message.clone() });
    }

    /// The oldest timestamp among kept messages (they hold back the catch-up watermark).
    pub(crate) fn oldest_kept(&self) -> Option<i64> {
        self.kept.values().flatten().filter_map(|k| k.message.message.timestamp()).min()
    }

    /// Retries every kept message of `org`; those that are handled now are marked processed.
    fn retry_kept(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let Some(kept) = self.kept.remove(org) else { return Ok(()) };
        for item in kept {
            let key = super::processed_key(&item.message);
            if tx.is_processed(&key)? {
                continue;
            }
            if self.handle(tx, item.route, &item.message, now, fx)? {
                tx.mark_processed(&key, now.session())?;
            }
        }
        Ok(())
    }

    /// A message on one of `org`'s channel topics. `Ok(false)`: kept.
    pub(super) fn on_channel_message(
        &mut self,
        tx: &mut Transaction<'_>,
        org: &OrgId,
        message: &ReceivedMessage,
        now: Now,
        fx: &mut Effects,
    ) -> Result<bool, Error> {
        let Some(view) = self.view(tx, org)? else { return Ok(true) };
        let plain = match view.decrypt(message.message.payload()) {
            Ok(plain) => plain,
            Err(error) if may_decrypt_later(&error) => {
                self.keep(org, Route::OrgChannel(*org), message);
                return Ok(false);
            }
            Err(error) => {
                tracing::debug!(%error, "refused channel message");
                return Ok(true);
            }
        };
        self.save_view(tx, org)?;
        let chat_id = content::channel_chat_id(org, &plain.channel);
        let kind = wire::MessageType::CommunityChat;
        match content::parse_chat_message(&plain.plaintext, &chat_id, kind, now.ms) {
            Ok(text) => {
                let chat = ChatId::Channel { org: *org, channel: plain.channel.clone() };
                self.insert_received(tx, chat, member_public(&plain.sender), text, now, fx)?;
            }
            Err(error) => tracing::debug!(?error, "refused channel chat message"),
        }
        Ok(true)
    }

    /// An invitation over 1:1: verified, kept for the next request, the organization followed.
    pub(super) fn on_invitation(
        &mut self,
        tx: &mut Transaction<'_>,
        payload: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let invitation = match Invitation::verify(payload, &self.me_in_orgs(), now.ms) {
            Ok(invitation) => invitation,
            Err(error) => {
                tracing::debug!(%error, "refused invitation");
                return Ok(());
            }
        };
        let org = *invitation.org();
        tx.store_invitation(&org, payload, now.session())?;
        self.follow(tx, &org, fx)?;
        if let Some(description) = invitation.description()
            && let Some(view) = self.views.get_mut(&org)
            && view.apply_description(description).is_ok()
        {
            self.save_view(tx, &org)?;
            self.subscribe_channels(&org, fx);
        }
        fx.events.push(Event::Invitation { org });
        Ok(())
    }

    /// Republishes owned descriptions (when asked) and re-keys expired epochs.
    pub(super) fn maintain_orgs(
        &mut self,
        tx: &mut Transaction<'_>,
        now: Now,
        republish: bool,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let owned = tx.organization_ids()?;
        for org in owned {
            if self.owned(tx, &org)?.is_none() {
                continue;
            }
            let Self { owned, rng, .. } = self;
            let Some(owner) = owned.get_mut(&org) else { continue };
            if owner.rekey_due(now.ms) {
                let update = owner.rekey_expired(now.ms, &mut **rng)?;
                self.save_owned(tx, &org)?;
                self.publish_update(tx, &org, &update, now, fx)?;
            }
            if republish {
                let messages = self.owned(tx, &org)?.map(|o| o.republish()).unwrap_or_default();
                let topic = self.scheme().org_description(&org_key(&org));
                for message in messages {
                    self.enqueue(tx, &topic, message, None, now, fx)?;
                }
            }
        }
        Ok(())
    }
}

/// The `type` of an `ApplicationMetadataMessage`, if the bytes are one.
fn envelope_type(bytes: &[u8]) -> Option<Type> {
    let kind = wire::ApplicationMetadataMessage::decode(bytes).ok()?.r#type;
    Type::try_from(kind).ok()
}

/// The [`Event::KeyEpoch`] of an installed epoch: the channel whose key group it is, if any.
fn key_epoch(
    org: &OrgId,
    view: &OrganizationView,
    group: &kaiwa_org::GroupId,
    epoch: kaiwa_org::Epoch,
) -> Event {
    let channel = view.description().and_then(|d| {
        d.channels().keys().find(|c| kaiwa_org::GroupId::channel(org, c) == *group).cloned()
    });
    Event::KeyEpoch { org: *org, channel, epoch: epoch.0 }
}
