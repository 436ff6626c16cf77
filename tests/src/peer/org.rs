//! Organizations on a [`Peer`]: the owner side and the member side.
//!
//! ```text
//! owner   create_org      Organization::create + one open channel per name; subscribe to
//!                         the org's requests topic
//!         every Update    description messages, then re-key parts, on the org's description
//!                         topic (DECISIONS: the description first, so members know the new
//!                         member list when the epoch's messages arrive); applied to our own
//!                         member view directly (a publisher never receives its own messages)
//!         requests topic  Organization::handle_request:
//!                           Accepted → publish the update, send the sealed response over 1:1
//!                           Pending  → wait for accept_request
//!                           refused  → OwnerEvent::Refused(reason)
//!         actions         accept_request, invite_to_org (1:1 frame OrgInvitation),
//!                         set_org_access, ban_from_org
//! member  follow_org      OrganizationView::new + subscribe to the description topic (its
//!                         history comes from the store at the next catch-up)
//!         description topic, by ApplicationMetadataMessage.type:
//!           25 description, 1000 segment → the view (an older one arriving late is ignored)
//!           1001 re-key → the view, unwrapped with our X25519 identity key; NoDescription or
//!                         UnknownGroup → kept and retried after the next description
//!         after any change: subscribe to every channel's topic, retry kept messages
//!         1:1 invitation  Invitation::verify, its description applied, its grant kept for the
//!                         next request_join
//!         1:1 response    open_response on the organization we asked
//!         channel topic   view.decrypt; NoDescription, UnknownGroup, NotMember, UnknownEpoch
//!                         → kept (at most MAX_KEPT, oldest dropped) and retried after each
//!                         description or key; anything else → Incident::Channel
//!         post            view.encrypt → the channel's topic
//! ```

use std::mem;

use kaiwa_crypto::{DhKeyPair, IdentityPublicKey};
use kaiwa_org::{
    Access, Actor, Admission, Channel, ChannelId, ChannelPlaintext, DecryptError, DescriptionError,
    Epoch, Invitation, JoinRequest, LamportTime, MemberId, OrgConfig, OrgId, Organization,
    OrganizationView, Permissions, RekeyError, RekeyOutcome, RequestError, RequestOutcome, Update,
};
use kaiwa_transport::{MessageHash, OrgKey};
use kaiwa_wire::net::ApplicationMetadataMessage;
use kaiwa_wire::net::application_metadata_message::Type;
use prost::Message as _;

use super::{Peer, Route};
use crate::harness::error::{HarnessError, Incident};
use crate::harness::frame::Kind;
use crate::harness::limits::MAX_KEPT;

/// What the owner did with a request.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub(crate) enum OwnerEvent {
    /// Waiting for a decision (ON_REQUEST).
    Pending(MemberId),
    /// Admitted (at once, by invitation, or by `accept_request`).
    Accepted(MemberId),
    /// A pending request was withdrawn.
    Cancelled(MemberId),
    /// A member left.
    Left(MemberId),
    /// Refused, with the reason.
    Refused(RequestError),
    /// An outcome this harness does not know.
    Other,
}

/// A channel message as delivered to a member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ChannelDelivery {
    /// The organization.
    pub(crate) org: OrgId,
    /// The channel id.
    pub(crate) channel: String,
    /// The sender, whose signature was verified.
    pub(crate) sender: MemberId,
    /// The key epoch (`None` in a public organization).
    pub(crate) epoch: Option<u32>,
    /// The text.
    pub(crate) text: String,
}

/// A channel message we published.
#[derive(Debug, Clone)]
pub(crate) struct Posted {
    /// Its Waku message hash.
    pub(crate) hash: MessageHash,
    /// The encrypted channel message, as published.
    pub(crate) bytes: Vec<u8>,
    /// The epoch it was sealed under (read back from the sealed bytes).
    pub(crate) epoch: Option<Epoch>,
}

/// An organization this peer owns.
pub(super) struct OwnedOrg {
    org: Organization,
    log: Vec<OwnerEvent>,
}

/// This peer's member side of an organization (the owner has one too).
pub(super) struct Membership {
    view: OrganizationView,
    invitation: Option<Invitation>,
    awaiting_response: bool,
    accepted: Option<bool>,
    kept_rekeys: Vec<Vec<u8>>,
    kept_channel: Vec<(MessageHash, Vec<u8>)>,
}

impl Membership {
    fn new(view: OrganizationView) -> Self {
        Self {
            view,
            invitation: None,
            awaiting_response: false,
            accepted: None,
            kept_rekeys: Vec::new(),
            kept_channel: Vec::new(),
        }
    }
}

fn org_key(org: &OrgId) -> OrgKey {
    OrgKey::from_bytes(*org.as_bytes())
}

fn keep<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= MAX_KEPT {
        list.remove(0);
    }
    list.push(item);
}

/// Errors after which a channel message may still decrypt once a description or key arrives.
fn may_decrypt_later(error: &DecryptError) -> bool {
    matches!(
        error,
        DecryptError::NoDescription
            | DecryptError::UnknownGroup
            | DecryptError::NotMember
            | DecryptError::UnknownEpoch { .. }
    )
}

/// What a message on the description topic was, and what applying it gave.
enum Broadcast {
    Description(Result<(), DescriptionError>),
    Rekey(Result<RekeyOutcome, RekeyError>),
    Other { kind: i32 },
}

/// Routes a description-topic message by its envelope type.
fn apply_broadcast(view: &mut OrganizationView, dh: &DhKeyPair, bytes: &[u8]) -> Broadcast {
    let kind = ApplicationMetadataMessage::decode(bytes).map_or(-1, |m| m.r#type);
    match Type::try_from(kind) {
        Ok(Type::OrganizationDescription) => {
            Broadcast::Description(view.apply_description(bytes).map(drop))
        }
        Ok(Type::OrganizationDescriptionSegment) => {
            Broadcast::Description(view.apply_segment(bytes).map(drop))
        }
        Ok(Type::OrganizationRekey) => Broadcast::Rekey(view.apply_rekey(bytes, dh)),
        _ => Broadcast::Other { kind },
    }
}

impl Peer {
    fn me_in_orgs(&self) -> MemberId {
        MemberId::from_key(&self.id())
    }

    fn owned_mut(&mut self, org: &OrgId) -> Result<&mut OwnedOrg, HarnessError> {
        self.owned.get_mut(org).ok_or(HarnessError::NotOwner)
    }

    /// The organization, if we own it.
    pub(crate) fn organization(&self, org: &OrgId) -> Option<&Organization> {
        self.owned.get(org).map(|o| &o.org)
    }

    /// What we did with the requests to an organization we own, in order.
    pub(crate) fn owner_log(&self, org: &OrgId) -> &[OwnerEvent] {
        self.owned.get(org).map_or(&[], |o| o.log.as_slice())
    }

    /// Our member view of an organization we own or follow.
    pub(crate) fn org_view(&self, org: &OrgId) -> Option<&OrganizationView> {
        self.orgs.get(org).map(|m| &m.view)
    }

    /// Whether the owner accepted our last join request (`None`: no response yet).
    pub(crate) fn join_accepted(&self, org: &OrgId) -> Option<bool> {
        self.orgs.get(org).and_then(|m| m.accepted)
    }

    /// Channel messages delivered to us, in arrival order.
    pub(crate) fn channel_inbox(&self) -> &[ChannelDelivery] {
        &self.channel_inbox
    }

    /// Hashes of the channel messages we hold but cannot decrypt (yet), oldest first.
    pub(crate) fn undecrypted_channel_messages(&self, org: &OrgId) -> Vec<MessageHash> {
        self.orgs
            .get(org)
            .map(|m| m.kept_channel.iter().map(|(h, _)| *h).collect())
            .unwrap_or_default()
    }

    /// Decrypts channel message bytes with our view (a failure changes nothing).
    pub(crate) fn decrypt_channel(
        &mut self,
        org: &OrgId,
        bytes: &[u8],
    ) -> Result<Result<ChannelPlaintext, DecryptError>, HarnessError> {
        Ok(self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?.view.decrypt(bytes))
    }

    /// Applies a re-key part to our view with our X25519 identity key.
    pub(crate) fn apply_rekey_part(
        &mut self,
        org: &OrgId,
        part: &[u8],
    ) -> Result<Result<RekeyOutcome, RekeyError>, HarnessError> {
        let membership = self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?;
        Ok(membership.view.apply_rekey(part, &self.dh))
    }

    /// Founds an encrypted organization named `name` with access `access` and one open channel
    /// per entry of `channels`; we are its founding member. Returns its id.
    pub(crate) fn create_org(
        &mut self,
        name: &str,
        access: Access,
        channels: &[&str],
    ) -> Result<OrgId, HarnessError> {
        let now = self.now().ms;
        let founder = kaiwa_org::MemberKeys { id: self.me_in_orgs(), dh_key: self.dh.public_key() };
        let (mut org, created) = Organization::create(
            kaiwa_crypto::IdentityKeyPair::generate(&mut self.rng),
            DhKeyPair::generate(&mut self.rng),
            founder,
            OrgConfig::new(name, access),
            now,
            &mut self.rng,
        )?;
        let mut updates = vec![created];
        for channel in channels {
            let id = ChannelId::new(channel)?;
            let open = Channel::open(channel, Access::NoMembership);
            updates.push(org.create_channel(&Actor::Owner, &id, open, now, &mut self.rng)?);
        }
        let id = org.id();
        self.owned.insert(id, OwnedOrg { org, log: Vec::new() });
        self.orgs.insert(id, Membership::new(OrganizationView::new(id, self.me_in_orgs())));
        let requests = self.scheme.org_requests(&org_key(&id));
        self.subscribe(requests, Route::OrgRequests(id))?;
        for update in &updates {
            self.publish_update(&id, update)?;
        }
        Ok(id)
    }

    /// Publishes an owner update and applies it to our own member view.
    fn publish_update(&mut self, org: &OrgId, update: &Update) -> Result<(), HarnessError> {
        let topic = self.scheme.org_description(&org_key(org));
        for message in update.description.iter().chain(&update.rekeys) {
            self.publish(topic.clone(), message.clone())?;
        }
        let membership = self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?;
        for message in update.description.iter().chain(&update.rekeys) {
            match apply_broadcast(&mut membership.view, &self.dh, message) {
                Broadcast::Description(result) => result?,
                Broadcast::Rekey(result) => {
                    result?;
                }
                Broadcast::Other { kind } => {
                    self.incidents.push(Incident::UnexpectedType { kind });
                }
            }
        }
        self.after_org_change(org)
    }

    /// Admits a member: publishes the update and sends the sealed response over 1:1.
    fn admit(&mut self, org: &OrgId, admission: &Admission) -> Result<(), HarnessError> {
        self.publish_update(org, &admission.update)?;
        let member = admission.member.public_key().map_err(|_| HarnessError::MemberKey)?;
        self.send_direct(&member, Kind::OrgResponse, &admission.response)?;
        Ok(())
    }

    /// Accepts a pending join request (owner).
    pub(crate) fn accept_request(
        &mut self,
        org: &OrgId,
        member: &IdentityPublicKey,
    ) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let owned = self.owned.get_mut(org).ok_or(HarnessError::NotOwner)?;
        let admission =
            owned.org.accept(&Actor::Owner, &MemberId::from_key(member), now, &mut self.rng)?;
        owned.log.push(OwnerEvent::Accepted(admission.member));
        self.admit(org, &admission)
    }

    /// Invites `member` (owner); the invitation goes over 1:1.
    pub(crate) fn invite_to_org(
        &mut self,
        org: &OrgId,
        member: &IdentityPublicKey,
    ) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let invitation = self.owned_mut(org)?.org.invite(
            &Actor::Owner,
            &MemberId::from_key(member),
            None,
            now,
        )?;
        self.send_direct(member, Kind::OrgInvitation, &invitation)?;
        Ok(())
    }

    /// Changes who may join (owner).
    pub(crate) fn set_org_access(
        &mut self,
        org: &OrgId,
        access: Access,
    ) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let owned = self.owned.get_mut(org).ok_or(HarnessError::NotOwner)?;
        let update = owned.org.set_permissions(
            &Actor::Owner,
            Permissions::new(access),
            now,
            &mut self.rng,
        )?;
        self.publish_update(org, &update)
    }

    /// Bans `member` (owner); returns the update that was published.
    pub(crate) fn ban_from_org(
        &mut self,
        org: &OrgId,
        member: &IdentityPublicKey,
    ) -> Result<Update, HarnessError> {
        let now = self.now().ms;
        let owned = self.owned.get_mut(org).ok_or(HarnessError::NotOwner)?;
        let update =
            owned.org.ban(&Actor::Owner, &MemberId::from_key(member), now, &mut self.rng)?;
        self.publish_update(org, &update)?;
        Ok(update)
    }

    /// Follows an organization whose id we learned out of band.
    pub(crate) fn follow_org(&mut self, org: OrgId) -> Result<(), HarnessError> {
        if !self.orgs.contains_key(&org) {
            let view = OrganizationView::new(org, self.me_in_orgs());
            self.orgs.insert(org, Membership::new(view));
        }
        let topic = self.scheme.org_description(&org_key(&org));
        self.subscribe(topic, Route::OrgDescription(org))
    }

    /// Asks to join (with the invitation grant we hold, if any), sealed to the organization,
    /// on its requests topic.
    pub(crate) fn request_join(&mut self, org: &OrgId) -> Result<MessageHash, HarnessError> {
        let now = self.now().ms;
        let membership = self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?;
        let mut request = JoinRequest::new(LamportTime(now));
        request.display_name.clone_from(&self.name);
        request.invitation_grant =
            membership.invitation.as_ref().map(|i| i.grant().bytes().to_vec());
        let sealed = membership.view.join_request(
            &self.identity,
            &self.dh.public_key(),
            &request,
            &mut self.rng,
        )?;
        membership.awaiting_response = true;
        let topic = self.scheme.org_requests(&org_key(org));
        self.publish(topic, sealed)
    }

    /// Encrypts `text` for `channel` and publishes it on the channel's topic.
    pub(crate) fn post(
        &mut self,
        org: &OrgId,
        channel: &str,
        text: &str,
    ) -> Result<Posted, HarnessError> {
        let channel = ChannelId::new(channel)?;
        let membership = self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?;
        let bytes =
            membership.view.encrypt(&channel, &self.identity, text.as_bytes(), &mut self.rng)?;
        let epoch = membership.view.decrypt_history(&bytes).ok().and_then(|p| p.epoch);
        let topic = self.scheme.org_channel(&org_key(org), channel.as_str());
        let hash = self.publish(topic, bytes.clone())?;
        Ok(Posted { hash, bytes, epoch })
    }

    /// A sealed request on the requests topic of an organization we own.
    pub(super) fn on_org_request(
        &mut self,
        org: &OrgId,
        sealed: &[u8],
    ) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let Some(owned) = self.owned.get_mut(org) else { return Ok(()) };
        let (event, admission, update) = match owned.org.handle_request(sealed, now, &mut self.rng)
        {
            Ok(RequestOutcome::Accepted(admission)) => {
                (OwnerEvent::Accepted(admission.member), Some(admission), None)
            }
            Ok(RequestOutcome::Pending { member }) => (OwnerEvent::Pending(member), None, None),
            Ok(RequestOutcome::Cancelled { member }) => (OwnerEvent::Cancelled(member), None, None),
            Ok(RequestOutcome::Left { member, update }) => {
                (OwnerEvent::Left(member), None, Some(update))
            }
            Ok(_) => (OwnerEvent::Other, None, None),
            Err(error) => (OwnerEvent::Refused(error), None, None),
        };
        owned.log.push(event);
        if let Some(admission) = admission {
            self.admit(org, &admission)?;
        }
        if let Some(update) = update {
            self.publish_update(org, &update)?;
        }
        Ok(())
    }

    /// A message on the description topic of an organization we follow.
    pub(super) fn on_org_broadcast(
        &mut self,
        org: &OrgId,
        bytes: &[u8],
    ) -> Result<(), HarnessError> {
        let Some(membership) = self.orgs.get_mut(org) else { return Ok(()) };
        let changed = match apply_broadcast(&mut membership.view, &self.dh, bytes) {
            Broadcast::Description(Ok(()))
            | Broadcast::Rekey(Ok(RekeyOutcome::Installed { .. })) => true,
            // An older description arriving after a newer one, or a part that is not ours.
            Broadcast::Description(Err(DescriptionError::Stale { .. }))
            | Broadcast::Rekey(Ok(_)) => false,
            Broadcast::Rekey(Err(RekeyError::NoDescription | RekeyError::UnknownGroup)) => {
                keep(&mut membership.kept_rekeys, bytes.to_vec());
                false
            }
            Broadcast::Description(Err(error)) => {
                self.incidents.push(Incident::Description(error));
                false
            }
            Broadcast::Rekey(Err(error)) => {
                self.incidents.push(Incident::Rekey(error));
                false
            }
            Broadcast::Other { kind } => {
                self.incidents.push(Incident::UnexpectedType { kind });
                false
            }
        };
        if changed {
            self.after_org_change(org)?;
        }
        Ok(())
    }

    /// After a description or key arrived: retry kept re-keys, subscribe to every channel,
    /// retry kept channel messages.
    fn after_org_change(&mut self, org: &OrgId) -> Result<(), HarnessError> {
        let membership = self.orgs.get_mut(org).ok_or(HarnessError::UnknownOrg)?;
        for part in mem::take(&mut membership.kept_rekeys) {
            match membership.view.apply_rekey(&part, &self.dh) {
                Ok(_) => {}
                Err(RekeyError::NoDescription | RekeyError::UnknownGroup) => {
                    keep(&mut membership.kept_rekeys, part);
                }
                Err(error) => self.incidents.push(Incident::Rekey(error)),
            }
        }
        let channels: Vec<ChannelId> = membership
            .view
            .description()
            .map(|d| d.channels().keys().cloned().collect())
            .unwrap_or_default();
        let kept = mem::take(&mut membership.kept_channel);
        for channel in channels {
            let topic = self.scheme.org_channel(&org_key(org), channel.as_str());
            self.subscribe(topic, Route::OrgChannel(*org))?;
        }
        for (hash, bytes) in kept {
            self.on_channel_message(org, hash, &bytes);
        }
        Ok(())
    }

    /// A channel message of an organization we follow.
    pub(super) fn on_channel_message(&mut self, org: &OrgId, hash: MessageHash, bytes: &[u8]) {
        let Some(membership) = self.orgs.get_mut(org) else { return };
        match membership.view.decrypt(bytes) {
            Ok(plain) => self.channel_inbox.push(ChannelDelivery {
                org: *org,
                channel: plain.channel.as_str().to_owned(),
                sender: plain.sender,
                epoch: plain.epoch.map(|e| e.0),
                text: String::from_utf8_lossy(&plain.plaintext).into_owned(),
            }),
            Err(error) if may_decrypt_later(&error) => {
                keep(&mut membership.kept_channel, (hash, bytes.to_vec()));
            }
            Err(error) => self.incidents.push(Incident::Channel(error)),
        }
    }

    /// An invitation over 1:1: verify it, follow the organization, apply its description and
    /// keep its grant for the next request.
    pub(super) fn on_invitation(&mut self, payload: &[u8]) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let invitation = match Invitation::verify(payload, &self.me_in_orgs(), now) {
            Ok(invitation) => invitation,
            Err(error) => {
                self.incidents.push(Incident::Invitation(error));
                return Ok(());
            }
        };
        let org = *invitation.org();
        self.follow_org(org)?;
        let membership = self.orgs.get_mut(&org).ok_or(HarnessError::UnknownOrg)?;
        if let Some(description) = invitation.description() {
            match membership.view.apply_description(description) {
                Ok(_) | Err(DescriptionError::Stale { .. }) => {}
                Err(error) => self.incidents.push(Incident::Description(error)),
            }
        }
        membership.invitation = Some(invitation);
        self.after_org_change(&org)
    }

    /// A join response over 1:1: open it with the view of the organization we asked.
    pub(super) fn on_response(&mut self, payload: &[u8]) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let mut opened = None;
        let mut refused = None;
        for (org, membership) in self.orgs.iter_mut().filter(|(_, m)| m.awaiting_response) {
            match membership.view.open_response(payload, &self.dh, now) {
                Ok(response) => {
                    membership.awaiting_response = false;
                    membership.accepted = Some(response.accepted);
                    opened = Some(*org);
                    break;
                }
                Err(error) => refused = Some(error),
            }
        }
        match (opened, refused) {
            (Some(org), _) => self.after_org_change(&org)?,
            (None, Some(error)) => self.incidents.push(Incident::Response(error)),
            (None, None) => self.incidents.push(Incident::UnexpectedResponse),
        }
        Ok(())
    }
}
