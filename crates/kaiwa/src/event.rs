//! [`Event`]: what the background work tells the application.
//!
//! Events are notifications: everything they report is committed to the store first (the
//! history, the group and organization state), so an application that misses some (it was
//! not listening, or fell [`MAX_EVENT_BUFFER`](crate::limits::MAX_EVENT_BUFFER) behind and got
//! [`Event::Lagged`]) reads the history and the state instead.

use kaiwa_group::GroupId;
use kaiwa_org::{ChannelId, OrgId};
use kaiwa_store::{ChatId, MessageId, PublicId};

use crate::content::Message;

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message (text, emoji or reaction) arrived in a chat and is in the history.
    Message(Message),
    /// The members (or the name) of a group or an organization changed.
    Membership(MembershipChange),
    /// Someone asked to join an organization we own, which waits for our decision.
    JoinRequest {
        /// The organization.
        org: OrgId,
        /// Who asks.
        member: PublicId,
        /// The name they gave.
        display_name: String,
    },
    /// The owner answered our request to join.
    JoinResponse {
        /// The organization.
        org: OrgId,
        /// Whether we were admitted.
        accepted: bool,
    },
    /// The owner of an organization invited us; [`Client::request_to_join`](crate::Client::request_to_join)
    /// uses the invitation.
    Invitation {
        /// The organization.
        org: OrgId,
    },
    /// A new key epoch of an organization arrived (after a membership change or a re-key)
    /// and is installed: channel messages sent from now on by members holding it decrypt
    /// here. An owner gets it for the epochs it makes.
    KeyEpoch {
        /// The organization.
        org: OrgId,
        /// The channel whose own key it is, or `None` for the organization-wide key (the
        /// key of every channel without a member list of its own).
        channel: Option<ChannelId>,
        /// The epoch: 1 for a group's first key, one more per re-key.
        epoch: u32,
    },
    /// A contact's keys changed: a session was reset, or a new installation appeared.
    KeyChange {
        /// The contact.
        peer: PublicId,
        /// What changed.
        kind: KeyChangeKind,
    },
    /// A message of ours could not be published and was given up.
    DeliveryFailed {
        /// The message.
        message: MessageId,
        /// Its chat.
        chat: ChatId,
    },
    /// The application read events too slowly and missed this many.
    Lagged {
        /// How many.
        missed: u64,
    },
}

/// How a contact's keys changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyChangeKind {
    /// One of their installations started a new session with us (it lost its state or could
    /// not decrypt); messages we sent before may not have arrived.
    SessionReset,
    /// They have an installation we did not know.
    NewInstallation,
}

/// What changed in a group's or an organization's membership.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipChange {
    /// The group or organization.
    pub scope: Scope,
    /// Members who joined (a group: invited then joined; an organization: admitted).
    pub joined: Vec<PublicId>,
    /// Members who were invited to a group (not yet joined).
    pub invited: Vec<PublicId>,
    /// Members who left or were removed, kicked or banned.
    pub removed: Vec<PublicId>,
    /// The new name, if it changed.
    pub renamed: Option<String>,
}

/// What a [`MembershipChange`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// A private group.
    Group(GroupId),
    /// An organization.
    Org(OrgId),
}
