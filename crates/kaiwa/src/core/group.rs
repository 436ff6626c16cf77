//! Private groups: local actions fanned out over 1:1 sessions, and receipt.
//!
//! ```text
//! action (create, rename, add, remove, leave, join, send):
//!   kaiwa-group signs / encodes → OutgoingMessage{bytes, recipients}
//!   for each recipient identity: envelope MEMBERSHIP_UPDATE_MESSAGE over the 1:1 sessions
//!     (one ProtocolMessage per recipient, one envelope per installation); a recipient with no
//!     known bundle is reported unreachable, the others still get it
//!   group record + history row + outbox rows: one transaction
//! receipt (sender = the identity the 1:1 session authenticated):
//!   IncomingMessage::decode → known chat id: Group::receive
//!                             unknown:       Group::from_first_message (we must be invited)
//!   → record stored; membership diff → Event::Membership; chat entity → history + Event
//! ```
//!
//! Recipients are kaiwa-group's (DECISIONS "Private group chats"): chat messages go to joined
//! members, membership updates to every member, plus a removed member for its own removal.

use std::collections::BTreeMap;

use kaiwa_crypto::IdentityPublicKey;
use kaiwa_group::{
    ChatEntity, ChatMessageDraft, Group, GroupId, GroupStore as _, IncomingMessage, MemberId,
    MemberStatus, MessageContent, OutgoingMessage,
};
use kaiwa_store::{ChatId, MessageStatus, PublicId, Transaction};
use kaiwa_wire::net as wire;
use wire::application_metadata_message::Type;

use super::{Effects, Engine, identity_key, public_id};
use crate::content::{self, ChatText, Content, Message};
use crate::environment::Now;
use crate::error::Error;
use crate::event::{Event, MembershipChange, Scope};

/// The colour of groups created here (the seed's CHAT_CREATED needs one).
const DEFAULT_COLOR: &str = "#4a90d9";

/// Members and name of a group, to tell what a message changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Snapshot {
    members: BTreeMap<MemberId, MemberStatus>,
    name: String,
}

impl Snapshot {
    fn of(group: &Group) -> Self {
        Self {
            members: group.state().members().map(|(m, s)| (*m, s)).collect(),
            name: group.state().name().to_owned(),
        }
    }
}

/// What changed between two snapshots; `None` if nothing did.
fn diff(scope: Scope, before: Option<&Snapshot>, after: &Snapshot) -> Option<MembershipChange> {
    let empty = Snapshot::default();
    let old = before.unwrap_or(&empty);
    let id = |m: &MemberId| public_id(m.key());
    let joined: Vec<PublicId> = after
        .members
        .iter()
        .filter(|(m, s)| {
            **s == MemberStatus::Joined && old.members.get(*m) != Some(&MemberStatus::Joined)
        })
        .map(|(m, _)| id(m))
        .collect();
    let invited: Vec<PublicId> = after
        .members
        .iter()
        .filter(|(m, s)| **s == MemberStatus::Invited && !old.members.contains_key(*m))
        .map(|(m, _)| id(m))
        .collect();
    let removed: Vec<PublicId> =
        old.members.keys().filter(|m| !after.members.contains_key(*m)).map(id).collect();
    let renamed = (before.is_none_or(|b| b.name != after.name)).then(|| after.name.clone());
    if joined.is_empty() && invited.is_empty() && removed.is_empty() && renamed.is_none() {
        return None;
    }
    Some(MembershipChange { scope, joined, invited, removed, renamed })
}

/// What a group action did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupSent {
    /// The history row of a chat message or reaction.
    pub(crate) message: Option<Message>,
    /// Recipients we hold no bundle for (nothing was sent to them).
    pub(crate) unreachable: Vec<PublicId>,
}

fn member(id: &PublicId) -> Result<MemberId, Error> {
    Ok(MemberId::new(identity_key(id)?))
}

impl Engine {
    fn me_member(&self) -> MemberId {
        MemberId::new(self.manager.account().identity_key())
    }

    /// The group `id`, from the cache or the store.
    pub(crate) fn group(
        &mut self,
        tx: &Transaction<'_>,
        id: &GroupId,
    ) -> Result<Option<&mut Group>, Error> {
        if !self.groups.contains_key(id) {
            let Some(record) = tx.load(id)? else { return Ok(None) };
            let group = Group::from_record(&record)?;
            self.groups.insert(id.clone(), group);
        }
        Ok(self.groups.get_mut(id))
    }

    fn save_group(&self, tx: &mut Transaction<'_>, id: &GroupId) -> Result<(), Error> {
        let group =
            self.groups.get(id).ok_or(Error::Internal("saving a group that is not loaded"))?;
        tx.store(id, &group.to_record())?;
        Ok(())
    }

    /// Sends a group message to each recipient over 1:1 sessions; returns the unreachable ones.
    fn fan_out(
        &mut self,
        tx: &mut Transaction<'_>,
        outgoing: &OutgoingMessage,
        history: Option<kaiwa_store::MessageId>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<Vec<PublicId>, Error> {
        let mut unreachable = Vec::new();
        let mut sent = 0usize;
        for recipient in &outgoing.recipients {
            let key = *recipient.key();
            let envelope = (Type::MembershipUpdateMessage, outgoing.bytes.clone());
            match self.send_envelope(tx, &key, envelope, history, now, fx) {
                Ok(()) => sent = sent.saturating_add(1),
                Err(Error::NoBundle) => unreachable.push(public_id(&key)),
                Err(error) => return Err(error),
            }
        }
        if let Some(id) = history
            && sent == 0
        {
            // No copy to publish: the message is as sent as it will ever be.
            tx.set_message_status(id, MessageStatus::Sent)?;
        }
        Ok(unreachable)
    }

    /// Creates a group inviting `members`.
    pub(crate) fn create_group(
        &mut self,
        tx: &mut Transaction<'_>,
        name: &str,
        members: &[PublicId],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(GroupId, GroupSent), Error> {
        let members = members.iter().map(member).collect::<Result<Vec<_>, _>>()?;
        let (group, invite) = Group::create(
            self.manager.account().identity(),
            name,
            DEFAULT_COLOR,
            &members,
            &mut *self.rng,
            now.ms,
        )?;
        let id = group.id().clone();
        self.groups.insert(id.clone(), group);
        self.save_group(tx, &id)?;
        let unreachable = self.fan_out(tx, &invite, None, now, fx)?;
        Ok((id, GroupSent { message: None, unreachable }))
    }

    /// Applies a membership action of ours to group `id` and fans it out.
    pub(crate) fn group_action(
        &mut self,
        tx: &mut Transaction<'_>,
        id: &GroupId,
        action: GroupAction,
        now: Now,
        fx: &mut Effects,
    ) -> Result<GroupSent, Error> {
        if self.group(tx, id)?.is_none() {
            return Err(Error::UnknownGroup);
        }
        let Self { groups, manager, .. } = self;
        let identity = manager.account().identity();
        let group = groups.get_mut(id).ok_or(Error::UnknownGroup)?;
        let outgoing = match action {
            GroupAction::Rename(name) => group.rename(identity, &name, now.ms)?,
            GroupAction::Add(members) => {
                let members = members.iter().map(member).collect::<Result<Vec<_>, _>>()?;
                group.add_members(identity, &members, now.ms)?
            }
            GroupAction::Remove(peer) => group.remove_member(identity, &member(&peer)?, now.ms)?,
            GroupAction::Leave => group.leave(identity, now.ms)?,
            GroupAction::Join => group.join(identity, now.ms)?,
        };
        self.save_group(tx, id)?;
        let unreachable = self.fan_out(tx, &outgoing, None, now, fx)?;
        Ok(GroupSent { message: None, unreachable })
    }

    /// Sends a text or a reaction to group `id`'s joined members.
    pub(crate) fn send_group(
        &mut self,
        tx: &mut Transaction<'_>,
        id: &GroupId,
        content: Content,
        now: Now,
        fx: &mut Effects,
    ) -> Result<GroupSent, Error> {
        let me = self.me_member();
        let group = self.group(tx, id)?.ok_or(Error::UnknownGroup)?;
        if !group.state().is_joined(&me) {
            return Err(Error::NotAMember);
        }
        let (outgoing, text) = match content {
            Content::Reaction { to, kind, retracted } => {
                let (outgoing, reaction) =
                    group.send_reaction(&me, to.as_str(), kind, retracted, now.ms)?;
                let text = ChatText {
                    clock: reaction.clock.0,
                    timestamp_ms: now.ms,
                    content: Content::Reaction { to, kind, retracted },
                };
                (outgoing, text)
            }
            Content::Text { text, response_to } => {
                let mut draft = ChatMessageDraft::text(text);
                draft.response_to = response_to.map(|r| r.as_str().to_owned()).unwrap_or_default();
                let (outgoing, sent) = group.send_message(&me, draft, now.ms)?;
                (outgoing, content::from_group_message(&sent))
            }
            Content::Emoji { text } => {
                let mut draft = ChatMessageDraft::text(text);
                draft.content = MessageContent::Emoji;
                let (outgoing, sent) = group.send_message(&me, draft, now.ms)?;
                (outgoing, content::from_group_message(&sent))
            }
            _ => return Err(Error::Internal("only text, emoji and reactions are sent")),
        };
        self.save_group(tx, id)?;
        let message = self.insert_outgoing(tx, &ChatId::Group(id.clone()), &text, now)?;
        let unreachable = self.fan_out(tx, &outgoing, Some(message.id), now, fx)?;
        Ok(GroupSent { message: Some(message), unreachable })
    }

    /// The identities a group action would send to, for fetching their bundles first.
    pub(crate) fn group_members(
        &mut self,
        tx: &Transaction<'_>,
        id: &GroupId,
    ) -> Result<Vec<PublicId>, Error> {
        let me = self.me;
        let group = self.group(tx, id)?.ok_or(Error::UnknownGroup)?;
        Ok(group.state().members().map(|(m, _)| public_id(m.key())).filter(|m| *m != me).collect())
    }

    /// A group message from `from` (authenticated by the 1:1 session).
    pub(super) fn on_group_message(
        &mut self,
        tx: &mut Transaction<'_>,
        from: &IdentityPublicKey,
        payload: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let message = match IncomingMessage::decode(payload) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, "refused group message");
                return Ok(());
            }
        };
        let sender = MemberId::new(*from);
        let id = message.group_id().clone();
        let me = self.me_member();
        let before = self.group(tx, &id)?.map(|g| Snapshot::of(g));
        let outcome = match self.groups.get_mut(&id) {
            Some(group) => group.receive(message, &sender, now.ms),
            None => match Group::from_first_message(message, &sender, &me, now.ms) {
                Ok((group, outcome)) => {
                    self.groups.insert(id.clone(), group);
                    Ok(outcome)
                }
                Err(error) => Err(error),
            },
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::debug!(%error, "refused group message");
                return Ok(());
            }
        };
        if !outcome.rejected.is_empty() {
            tracing::debug!(rejected = outcome.rejected.len(), "group events not applied");
        }
        self.save_group(tx, &id)?;
        let after = self.groups.get(&id).map(Snapshot::of).unwrap_or_default();
        if let Some(change) = diff(Scope::Group(id.clone()), before.as_ref(), &after) {
            fx.events.push(Event::Membership(change));
        }
        let chat = ChatId::Group(id);
        let author = public_id(from);
        match outcome.entity {
            Some(Ok(ChatEntity::Message(message))) => {
                let text = content::from_group_message(&message);
                self.insert_received(tx, chat, author, text, now, fx)?;
            }
            Some(Ok(ChatEntity::Reaction(reaction))) => {
                if let Some(text) = content::from_group_reaction(&reaction, now.ms) {
                    self.insert_received(tx, chat, author, text, now, fx)?;
                }
            }
            Some(Err(error)) => tracing::debug!(%error, "group chat entity refused"),
            None => {}
        }
        Ok(())
    }
}

/// A membership action on a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GroupAction {
    Rename(String),
    Add(Vec<PublicId>),
    Remove(PublicId),
    Leave,
    Join,
}
