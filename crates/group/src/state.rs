//! Group state and the authorization rule of each event kind.
//!
//! The state is derived, never stored: it is the fold of the log (see
//! [`MembershipLog`](crate::MembershipLog)). Each event is checked against the state built by
//! the events ordered before it, then applied. The rules are seed 000's, which are stricter
//! than status-go's (DECISIONS "Private group chats", digest §1.5, §16.4–5):
//!
//! ```text
//! event            valid iff (state before the event)                         effect
//! CHAT_CREATED     not yet created; author = chat id creator                  name, color; author joined + admin
//! (any other)      group created (else BeforeCreation)
//! NAME_CHANGED     author ∈ admins                                            name := name
//! COLOR_CHANGED    author ∈ admins                                            color := color
//! IMAGE_CHANGED    author ∈ admins                                            image := image
//! MEMBERS_ADDED    author ∈ admins; |members ∪ targets| ≤ MAX_MEMBERS         targets ∉ members become invited
//! MEMBER_JOINED    author ∈ members                                           author joined
//! MEMBER_REMOVED   target ∈ members and (target = author                      target leaves members and admins
//!                  or (author ∈ admins and target ∉ admins))
//! ADMINS_ADDED     author ∈ admins; every target ∈ members                    admins ∪= targets
//! ADMIN_REMOVED    target = author; author ∈ admins                           admins -= author
//! ```
//!
//! Checks are made in the order of the table's conditions, so each failure has one
//! [`RejectReason`]. Events that change nothing (adding an existing member or admin, a second
//! MEMBER_JOINED) are valid and idempotent. The last admin may leave or step down; the group
//! then has no admin and its membership is frozen (seed 000 allows both).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::RejectReason;
use crate::event::Event;
use crate::id::MemberId;
use crate::limits::MAX_MEMBERS;

/// Whether a member has joined or is only invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberStatus {
    /// Named by a `MEMBERS_ADDED`; receives membership updates, not group messages.
    Invited,
    /// Sent `MEMBER_JOINED` (or created the group); receives group messages.
    Joined,
}

/// The state of a group: a pure function of its set of verified events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupState {
    created: bool,
    name: String,
    color: String,
    image: Vec<u8>,
    admins: BTreeSet<MemberId>,
    members: BTreeMap<MemberId, MemberStatus>,
}

impl GroupState {
    /// Whether a valid `CHAT_CREATED` has been applied.
    #[must_use]
    pub const fn is_created(&self) -> bool {
        self.created
    }

    /// The group name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The group colour (may be empty).
    #[must_use]
    pub fn color(&self) -> &str {
        &self.color
    }

    /// The group image (empty if none was set).
    #[must_use]
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// The admins, in key order.
    pub fn admins(&self) -> impl ExactSizeIterator<Item = &MemberId> + '_ {
        self.admins.iter()
    }

    /// Every member, invited or joined, in key order.
    pub fn members(&self) -> impl ExactSizeIterator<Item = (&MemberId, MemberStatus)> + '_ {
        self.members.iter().map(|(id, status)| (id, *status))
    }

    /// The joined members, in key order.
    pub fn joined(&self) -> impl Iterator<Item = &MemberId> + '_ {
        self.members.iter().filter(|(_, s)| **s == MemberStatus::Joined).map(|(id, _)| id)
    }

    /// The members invited but not yet joined, in key order.
    pub fn invited(&self) -> impl Iterator<Item = &MemberId> + '_ {
        self.members.iter().filter(|(_, s)| **s == MemberStatus::Invited).map(|(id, _)| id)
    }

    /// `member`'s status, or `None` if not a member.
    #[must_use]
    pub fn status(&self, member: &MemberId) -> Option<MemberStatus> {
        self.members.get(member).copied()
    }

    /// Whether `member` is an admin.
    #[must_use]
    pub fn is_admin(&self, member: &MemberId) -> bool {
        self.admins.contains(member)
    }

    /// Whether `member` is a member (invited or joined).
    #[must_use]
    pub fn is_member(&self, member: &MemberId) -> bool {
        self.members.contains_key(member)
    }

    /// Whether `member` has joined.
    #[must_use]
    pub fn is_joined(&self, member: &MemberId) -> bool {
        self.status(member) == Some(MemberStatus::Joined)
    }

    fn require_admin(&self, author: &MemberId) -> Result<(), RejectReason> {
        if self.admins.contains(author) { Ok(()) } else { Err(RejectReason::NotAdmin) }
    }

    /// Whether `author` may apply `event` to this state (module table). Changes nothing.
    pub(crate) fn check(
        &self,
        creator: &MemberId,
        author: &MemberId,
        event: &Event,
    ) -> Result<(), RejectReason> {
        if let Event::ChatCreated { .. } = event {
            if self.created {
                return Err(RejectReason::AlreadyCreated);
            }
            return if author == creator { Ok(()) } else { Err(RejectReason::NotCreator) };
        }
        if !self.created {
            return Err(RejectReason::BeforeCreation);
        }
        match event {
            Event::ChatCreated { .. } => Err(RejectReason::AlreadyCreated),
            Event::NameChanged { .. } | Event::ColorChanged { .. } | Event::ImageChanged { .. } => {
                self.require_admin(author)
            }
            Event::MembersAdded { members } => {
                self.require_admin(author)?;
                let new = members.iter().filter(|m| !self.members.contains_key(m)).count();
                if self.members.len().saturating_add(new) > MAX_MEMBERS {
                    return Err(RejectReason::TooManyMembers);
                }
                Ok(())
            }
            Event::MemberJoined => {
                if self.members.contains_key(author) {
                    Ok(())
                } else {
                    Err(RejectReason::NotMember)
                }
            }
            Event::MemberRemoved { member } => {
                if member == author {
                    return if self.members.contains_key(author) {
                        Ok(())
                    } else {
                        Err(RejectReason::NotMember)
                    };
                }
                self.require_admin(author)?;
                if !self.members.contains_key(member) {
                    return Err(RejectReason::TargetNotMember);
                }
                if self.admins.contains(member) {
                    return Err(RejectReason::TargetIsAdmin);
                }
                Ok(())
            }
            Event::AdminsAdded { admins } => {
                self.require_admin(author)?;
                if admins.iter().all(|m| self.members.contains_key(m)) {
                    Ok(())
                } else {
                    Err(RejectReason::TargetNotMember)
                }
            }
            Event::AdminRemoved { admin } => {
                if admin != author {
                    return Err(RejectReason::NotSelf);
                }
                self.require_admin(author)
            }
        }
    }

    /// Applies an event that passed [`check`](Self::check).
    pub(crate) fn apply(&mut self, author: &MemberId, event: &Event) {
        match event {
            Event::ChatCreated { name, color } => {
                self.created = true;
                self.name.clone_from(name);
                self.color.clone_from(color);
                self.admins.insert(*author);
                self.members.insert(*author, MemberStatus::Joined);
            }
            Event::NameChanged { name } => self.name.clone_from(name),
            Event::ColorChanged { color } => self.color.clone_from(color),
            Event::ImageChanged { image } => self.image.clone_from(image),
            Event::MembersAdded { members } => {
                for member in members {
                    self.members.entry(*member).or_insert(MemberStatus::Invited);
                }
            }
            Event::MemberJoined => {
                if let Some(status) = self.members.get_mut(author) {
                    *status = MemberStatus::Joined;
                }
            }
            Event::MemberRemoved { member } => {
                self.members.remove(member);
                self.admins.remove(member);
            }
            Event::AdminsAdded { admins } => self.admins.extend(admins.iter().copied()),
            Event::AdminRemoved { admin } => {
                self.admins.remove(admin);
            }
        }
    }
}
