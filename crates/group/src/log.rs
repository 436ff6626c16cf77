//! The membership log: a grow-only set of verified events, and its fold into a
//! [`GroupState`].
//!
//! ```text
//! order:  e1 < e2  iff  (e1.clock, SHA-256(e1.element)) < (e2.clock, SHA-256(e2.element))
//! fold:   state_0 = empty
//!         state_i = apply(state_{i-1}, e_i)   if check(state_{i-1}, e_i) = Ok
//!                 = state_{i-1}               otherwise (e_i rejected, with its reason)
//! merge:  log_a ∪ log_b   (by event id; duplicates are idempotent)
//! ```
//!
//! This makes the log a state-based CRDT: the state is a pure function of the *set* of verified
//! events, so replicas that hold the same events agree, whatever order, duplication or batching
//! delivered them (DECISIONS "Private group chats"; digest §1.5, §16.6). Unlike status-go, an
//! invalid event is skipped rather than failing the whole update, and ties between equal
//! clocks are broken by the event id instead of by an unstable sort. Events ordered before
//! `CHAT_CREATED` are rejected by the fold ([`RejectReason::BeforeCreation`]) but kept: a
//! rejected event stays in the set, because events that arrive later may make it valid.
//!
//! Bounds: at most [`MAX_EVENTS`] events and [`MAX_LOG_BYTES`] bytes of elements.

use std::collections::BTreeMap;

use crate::error::{InsertError, RejectReason};
use crate::event::{Event, EventKind, VerifiedEvent};
use crate::id::{EventId, GroupId, LamportTime, MemberId};
use crate::limits::{MAX_EVENTS, MAX_LOG_BYTES};
use crate::state::GroupState;

/// The set of verified events of one group, in the total order `(clock, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipLog {
    group: GroupId,
    events: BTreeMap<(LamportTime, EventId), VerifiedEvent>,
    bytes: usize,
}

/// What [`MembershipLog::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inserted {
    /// The event is new.
    New,
    /// The log already held it; nothing changed.
    Duplicate,
}

impl MembershipLog {
    /// An empty log for `group`.
    #[must_use]
    pub const fn new(group: GroupId) -> Self {
        Self { group, events: BTreeMap::new(), bytes: 0 }
    }

    /// The group.
    #[must_use]
    pub const fn group(&self) -> &GroupId {
        &self.group
    }

    /// Number of events stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Total size of the stored elements, in bytes.
    #[must_use]
    pub const fn total_bytes(&self) -> usize {
        self.bytes
    }

    /// The events in log order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &VerifiedEvent> + ExactSizeIterator + '_ {
        self.events.values()
    }

    /// The highest clock stored, or 0 for an empty log.
    #[must_use]
    pub fn max_clock(&self) -> LamportTime {
        self.events.keys().next_back().map_or(LamportTime(0), |(clock, _)| *clock)
    }

    /// Whether the event with this clock and id is stored.
    #[must_use]
    pub fn contains(&self, clock: LamportTime, id: EventId) -> bool {
        self.events.contains_key(&(clock, id))
    }

    /// Whether `count` more events totalling `bytes` bytes fit.
    pub(crate) fn has_room(&self, count: usize, bytes: usize) -> bool {
        self.events.len().saturating_add(count) <= MAX_EVENTS
            && self.bytes.saturating_add(bytes) <= MAX_LOG_BYTES
    }

    /// Adds one event. Duplicates are idempotent.
    ///
    /// # Errors
    /// [`InsertError::WrongGroup`] if the event was verified for another group,
    /// [`InsertError::LogFull`] if it does not fit. The log is unchanged on error.
    pub fn insert(&mut self, event: VerifiedEvent) -> Result<Inserted, InsertError> {
        if event.group() != &self.group {
            return Err(InsertError::WrongGroup);
        }
        let key = event.order_key();
        if self.events.contains_key(&key) {
            return Ok(Inserted::Duplicate);
        }
        if !self.has_room(1, event.element().len()) {
            return Err(InsertError::LogFull);
        }
        self.bytes = self.bytes.saturating_add(event.element().len());
        self.events.insert(key, event);
        Ok(Inserted::New)
    }

    /// Removes an event (rolling back a local action that could not be sent).
    pub(crate) fn remove(&mut self, clock: LamportTime, id: EventId) {
        if let Some(event) = self.events.remove(&(clock, id)) {
            self.bytes = self.bytes.saturating_sub(event.element().len());
        }
    }

    /// Set union with `other`; returns how many events were new.
    ///
    /// # Errors
    /// [`InsertError::WrongGroup`] if `other` belongs to another group, [`InsertError::LogFull`]
    /// if the union does not fit. The log is unchanged on error.
    pub fn merge(&mut self, other: &Self) -> Result<usize, InsertError> {
        if other.group != self.group {
            return Err(InsertError::WrongGroup);
        }
        let new: Vec<&VerifiedEvent> = other
            .events
            .iter()
            .filter(|(k, _)| !self.events.contains_key(k))
            .map(|(_, e)| e)
            .collect();
        let bytes = new.iter().map(|e| e.element().len()).fold(0usize, usize::saturating_add);
        if !self.has_room(new.len(), bytes) {
            return Err(InsertError::LogFull);
        }
        let count = new.len();
        for event in new {
            self.bytes = self.bytes.saturating_add(event.element().len());
            self.events.insert(event.order_key(), event.clone());
        }
        Ok(count)
    }

    /// Folds the log from the empty state (module doc).
    #[must_use]
    pub fn fold(&self) -> Fold {
        let mut fold = Fold::default();
        for event in self.events.values() {
            fold.step(&self.group, event);
        }
        fold
    }

    /// Whether `member` was ever a member according to `fold` (the fold of this log): the
    /// author of the accepted `CHAT_CREATED`, or named by an accepted `MEMBERS_ADDED` (digest
    /// §1.5: a receiver accepts a new group only if it was ever a member).
    #[must_use]
    pub fn was_ever_member(&self, fold: &Fold, member: &MemberId) -> bool {
        self.events.values().any(|event| {
            fold.rejection(&event.id()).is_none()
                && match event.event() {
                    Event::ChatCreated { .. } => event.author() == member,
                    Event::MembersAdded { members } => members.contains(member),
                    _ => false,
                }
        })
    }

    /// The events a receiver needs to rebuild the same state: every accepted event except
    /// name, colour and image changes superseded by a later accepted one of the same kind.
    ///
    /// ```text
    /// compact(log) = { e ∈ log | e accepted by fold(log),
    ///                            e not NAME/COLOR/IMAGE_CHANGED, or e the last accepted of its kind }
    /// fold(compact(log)).state = fold(log).state
    /// ```
    ///
    /// Why this holds: a rejected event changes nothing, so dropping it changes no later check;
    /// cosmetic events touch only their own field, never the admin or member sets every check
    /// reads, so only the last accepted one decides the field. (Status-go sends the full log;
    /// its `AbridgedEvents`, digest §1.5, keep a similar subset.)
    pub fn compact<'a>(&'a self, fold: &Fold) -> impl Iterator<Item = &'a VerifiedEvent> + 'a {
        let mut last_cosmetic: BTreeMap<EventKind, EventId> = BTreeMap::new();
        for event in self.events.values().rev() {
            let kind = event.event().kind();
            if matches!(
                kind,
                EventKind::NameChanged | EventKind::ColorChanged | EventKind::ImageChanged
            ) && !fold.rejected.contains_key(&event.id())
            {
                last_cosmetic.entry(kind).or_insert(event.id());
            }
        }
        let rejected = fold.rejected.clone();
        self.events.values().filter(move |event| {
            if rejected.contains_key(&event.id()) {
                return false;
            }
            let kind = event.event().kind();
            match last_cosmetic.get(&kind) {
                Some(last) => *last == event.id(),
                None => true,
            }
        })
    }
}

/// The result of folding a log: the state and every rejected event with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fold {
    state: GroupState,
    rejected: BTreeMap<EventId, RejectReason>,
}

impl Fold {
    /// The group state.
    #[must_use]
    pub const fn state(&self) -> &GroupState {
        &self.state
    }

    /// Why `id` was rejected, or `None` if it was accepted (or is unknown).
    #[must_use]
    pub fn rejection(&self, id: &EventId) -> Option<RejectReason> {
        self.rejected.get(id).copied()
    }

    /// Every rejected event, by id.
    pub fn rejected(&self) -> impl ExactSizeIterator<Item = (&EventId, RejectReason)> + '_ {
        self.rejected.iter().map(|(id, reason)| (id, *reason))
    }

    /// Checks and applies the next event in log order.
    pub(crate) fn step(&mut self, group: &GroupId, event: &VerifiedEvent) {
        match self.state.check(group.creator(), event.author(), event.event()) {
            Ok(()) => self.state.apply(event.author(), event.event()),
            Err(reason) => {
                self.rejected.insert(event.id(), reason);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn setup() -> (IdentityKeyPair, GroupId, GroupId) {
        let key = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let a = GroupId::generate(&key.public_key().into(), &mut rng);
        let b = GroupId::generate(&key.public_key().into(), &mut rng);
        (key, a, b)
    }

    #[test]
    fn insert_and_merge_refuse_other_groups_and_change_nothing() {
        let (key, a, b) = setup();
        let event = VerifiedEvent::sign(&key, &b, LamportTime(1), &Event::MemberJoined).unwrap();
        let mut log = MembershipLog::new(a.clone());
        assert_eq!(log.insert(event.clone()), Err(InsertError::WrongGroup));
        let mut other = MembershipLog::new(b);
        assert_eq!(other.insert(event.clone()), Ok(Inserted::New));
        assert_eq!(other.insert(event), Ok(Inserted::Duplicate));
        assert_eq!(log.merge(&other), Err(InsertError::WrongGroup));
        assert!(log.is_empty());
        assert_eq!(log.total_bytes(), 0);
        assert_eq!(other.len(), 1);
    }

    #[test]
    fn room_is_bounded_by_count_and_bytes() {
        let (_, a, _) = setup();
        let log = MembershipLog::new(a);
        assert!(log.has_room(MAX_EVENTS, MAX_LOG_BYTES));
        assert!(!log.has_room(MAX_EVENTS + 1, 0));
        assert!(!log.has_room(1, MAX_LOG_BYTES + 1));
        assert!(!log.has_room(usize::MAX, usize::MAX));
    }

    #[test]
    fn remove_restores_the_byte_count() {
        let (key, a, _) = setup();
        let event = VerifiedEvent::sign(&key, &a, LamportTime(3), &Event::MemberJoined).unwrap();
        let mut log = MembershipLog::new(a);
        log.insert(event.clone()).unwrap();
        assert_eq!(log.total_bytes(), event.element().len());
        assert_eq!(log.max_clock(), LamportTime(3));
        log.remove(event.clock(), event.id());
        assert!(log.is_empty());
        assert_eq!(log.total_bytes(), 0);
        assert_eq!(log.max_clock(), LamportTime(0));
    }
}
