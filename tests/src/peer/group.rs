//! Private groups on a [`Peer`]: local actions, fan-out over 1:1 sessions, and receipt.
//!
//! ```text
//! action (create, join, add, rename, remove, send):
//!   kaiwa-group signs / encodes → OutgoingMessage{bytes, recipients}
//!   for each recipient identity: send_direct(recipient, GroupMessage, bytes)
//!     (one ProtocolMessage per recipient, one envelope per installation)
//! receipt (a 1:1 frame of kind GroupMessage, sender = the identity the session authenticated):
//!   IncomingMessage::decode → known chat id: Group::receive
//!                             unknown:       Group::from_first_message (we must be invited)
//!   → events not applied: Incident::GroupEvents; entity refused: Incident::GroupEntity
//!   → a delivered chat message goes to the group inbox, exactly once (hash dedup upstream,
//!     and the 1:1 session refuses replays)
//! ```
//!
//! Recipients are kaiwa-group's: chat messages go to joined members, membership updates to
//! every member (DECISIONS "Private group chats"), plus a removed member for its removal.

use kaiwa_crypto::IdentityPublicKey;
use kaiwa_group::{
    ChatEntity, ChatMessageDraft, Group, IncomingMessage, MemberId, OutgoingMessage,
};

use super::Peer;
use crate::harness::error::{HarnessError, Incident};
use crate::harness::frame::Kind;

/// A group chat message as delivered to a member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GroupDelivery {
    /// The chat id.
    pub(crate) chat_id: String,
    /// The sender the 1:1 session authenticated.
    pub(crate) from: MemberId,
    /// The text.
    pub(crate) text: String,
}

impl Peer {
    fn member_id(&self) -> MemberId {
        MemberId::new(self.id())
    }

    fn group_mut(&mut self, chat_id: &str) -> Result<&mut Group, HarnessError> {
        self.groups.get_mut(chat_id).ok_or(HarnessError::UnknownGroup)
    }

    /// Our copy of a group.
    pub(crate) fn group(&self, chat_id: &str) -> Option<&Group> {
        self.groups.get(chat_id)
    }

    /// Group chat messages delivered to us, in arrival order.
    pub(crate) fn group_inbox(&self) -> &[GroupDelivery] {
        &self.group_inbox
    }

    /// Sends a group message to each of its recipients over 1:1 sessions.
    fn fan_out(&mut self, message: &OutgoingMessage) -> Result<(), HarnessError> {
        for recipient in &message.recipients {
            self.send_direct(recipient.key(), Kind::GroupMessage, &message.bytes)?;
        }
        Ok(())
    }

    /// Creates a group named `name` inviting `members`; returns its chat id.
    pub(crate) fn create_group(
        &mut self,
        name: &str,
        members: &[IdentityPublicKey],
    ) -> Result<String, HarnessError> {
        let members: Vec<MemberId> = members.iter().copied().map(MemberId::new).collect();
        let now = self.now().ms;
        let (group, invite) =
            Group::create(&self.identity, name, "#4a90d9", &members, &mut self.rng, now)?;
        let chat_id = group.id().as_str().to_owned();
        self.groups.insert(chat_id.clone(), group);
        self.fan_out(&invite)?;
        Ok(chat_id)
    }

    /// Joins a group we were invited to.
    pub(crate) fn join_group(&mut self, chat_id: &str) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let identity = &self.identity;
        let joined =
            self.groups.get_mut(chat_id).ok_or(HarnessError::UnknownGroup)?.join(identity, now)?;
        self.fan_out(&joined)
    }

    /// Invites `members` (admins only).
    pub(crate) fn add_to_group(
        &mut self,
        chat_id: &str,
        members: &[IdentityPublicKey],
    ) -> Result<(), HarnessError> {
        let members: Vec<MemberId> = members.iter().copied().map(MemberId::new).collect();
        let now = self.now().ms;
        let identity = &self.identity;
        let added = self
            .groups
            .get_mut(chat_id)
            .ok_or(HarnessError::UnknownGroup)?
            .add_members(identity, &members, now)?;
        self.fan_out(&added)
    }

    /// Renames a group (admins only).
    pub(crate) fn rename_group(&mut self, chat_id: &str, name: &str) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let identity = &self.identity;
        let renamed = self
            .groups
            .get_mut(chat_id)
            .ok_or(HarnessError::UnknownGroup)?
            .rename(identity, name, now)?;
        self.fan_out(&renamed)
    }

    /// Removes a non-admin member (admins only); the removed member is told too.
    pub(crate) fn remove_from_group(
        &mut self,
        chat_id: &str,
        member: &IdentityPublicKey,
    ) -> Result<(), HarnessError> {
        let now = self.now().ms;
        let identity = &self.identity;
        let removed = self
            .groups
            .get_mut(chat_id)
            .ok_or(HarnessError::UnknownGroup)?
            .remove_member(identity, &MemberId::new(*member), now)?;
        self.fan_out(&removed)
    }

    /// Sends a text message to the group's joined members; returns whom it went to.
    pub(crate) fn send_group_text(
        &mut self,
        chat_id: &str,
        text: &str,
    ) -> Result<Vec<MemberId>, HarnessError> {
        let now = self.now().ms;
        let me = self.member_id();
        let (message, _) =
            self.group_mut(chat_id)?.send_message(&me, ChatMessageDraft::text(text), now)?;
        self.fan_out(&message)?;
        Ok(message.recipients)
    }

    /// Reads the bundles of every member of a group we have not heard of yet: we will send to
    /// them, and listening on our negotiated topic with each now means that an installation
    /// of ours that never spoke to them still hears them once they switch to that topic.
    fn learn_co_members(&mut self, chat_id: &str) -> Result<(), HarnessError> {
        let members: Vec<IdentityPublicKey> = self
            .groups
            .get(chat_id)
            .map(|g| g.state().members().map(|(m, _)| *m.key()).collect())
            .unwrap_or_default();
        for member in &members {
            self.learn_installations_of(member)?;
        }
        Ok(())
    }

    /// A group message from `from` (authenticated by the 1:1 session).
    pub(super) fn on_group_message(
        &mut self,
        from: &IdentityPublicKey,
        payload: &[u8],
    ) -> Result<(), HarnessError> {
        let message = match IncomingMessage::decode(payload) {
            Ok(message) => message,
            Err(error) => {
                self.incidents.push(Incident::GroupDecode(error));
                return Ok(());
            }
        };
        let sender = MemberId::new(*from);
        let chat_id = message.group_id().as_str().to_owned();
        let now = self.now().ms;
        let outcome = match self.groups.get_mut(&chat_id) {
            Some(group) => group.receive(message, &sender, now),
            None => Group::from_first_message(message, &sender, &self.member_id(), now).map(
                |(group, outcome)| {
                    self.groups.insert(chat_id.clone(), group);
                    outcome
                },
            ),
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                self.incidents.push(Incident::GroupReceive(error));
                return Ok(());
            }
        };
        if !outcome.rejected.is_empty() {
            self.incidents.push(Incident::GroupEvents(outcome.rejected));
        }
        match outcome.entity {
            Some(Ok(ChatEntity::Message(message))) => {
                let delivery =
                    GroupDelivery { chat_id: chat_id.clone(), from: sender, text: message.text };
                self.group_inbox.push(delivery);
            }
            // Reactions are not part of these scenarios; nothing to deliver.
            Some(Ok(ChatEntity::Reaction(_))) | None => {}
            Some(Err(error)) => self.incidents.push(Incident::GroupEntity(error)),
        }
        self.learn_co_members(&chat_id)
    }
}
