//! [`Group`]: one private group, the long-lived persisted type — its log, the state folded from
//! it, and the chat's Lamport clock.
//!
//! ```text
//! local action:  clock = max(now_ms, last + 1)                         (digest §1.5)
//!                check(state, author, event)  → typed error, nothing signed, if peers would reject
//!                sign, insert, apply, encode the compacted log          (rolled back if too large)
//! receive:       decode → chat id = ours → verify every new event (any failure: whole message
//!                rejected, group unchanged) → drop events > now_ms + 120 s (FromTheFuture)
//!                → store what fits (LogFull) → fold → chat entity checks (digest §12)
//! recipients:    chat messages     → joined members − self
//!                membership events → members (invited or joined) − self, plus the member an
//!                                    admin removed (so their client learns it; nothing later
//!                                    reaches them)
//! first receipt: accepted only with a valid CHAT_CREATED and if the receiver was ever a member
//!                (creator or named by an accepted MEMBERS_ADDED; digest §1.5)
//! ```
//!
//! Fan-out over 1:1 sessions, and expanding identities to installations, happen in the facade.

use std::collections::BTreeSet;

use kaiwa_crypto::{CryptoRng, IdentityKeyPair};

use crate::chat::{
    ChatEntity, GroupChatMessage, GroupReaction, MessageContent, ParsedEntity, ReactionKind,
};
use crate::error::{
    ActionError, ChatEntityError, DecodeError, ReceiveError, RecordError, RejectReason,
    RejectedEvent,
};
use crate::event::{Event, VerifiedEvent};
use crate::id::{EventId, GroupId, LamportTime, MemberId};
use crate::log::{Fold, MembershipLog};
use crate::message::{IncomingMessage, OutgoingMessage, encode};
use crate::record::GroupRecord;
use crate::state::GroupState;

/// A private group chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    log: MembershipLog,
    fold: Fold,
    /// Highest Lamport time seen in this chat (events and chat entities); `>= log.max_clock()`.
    clock: LamportTime,
}

/// What [`Group::receive`] did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiveOutcome {
    /// Events stored for the first time and accepted by the fold, in log order.
    pub accepted: Vec<EventId>,
    /// Events of this message that are not part of the state: rejected on receipt (not
    /// stored) or by the fold (stored; they may become valid later), with the reason.
    pub rejected: Vec<RejectedEvent>,
    /// Events the group already held.
    pub duplicates: usize,
    /// The chat message or reaction, if the message carried one, or why it is not delivered.
    pub entity: Option<Result<ChatEntity, ChatEntityError>>,
}

/// A chat message to send; the group fills in clock, timestamp, chat id and message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessageDraft {
    /// The text (may be empty only for an image).
    pub text: String,
    /// Id of the message replied to, or empty.
    pub response_to: String,
    /// The sender's display name, or empty.
    pub display_name: String,
    /// Content type and payload.
    pub content: MessageContent,
}

impl ChatMessageDraft {
    /// A plain text message.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            response_to: String::new(),
            display_name: String::new(),
            content: MessageContent::Text,
        }
    }
}

impl Group {
    /// Creates a group: a new chat id from `rng`, a `CHAT_CREATED` event and, if `members` is
    /// not empty, a `MEMBERS_ADDED` inviting them. Returns the group and the message to send to
    /// the invited members.
    ///
    /// # Errors
    /// [`ActionError::Invalid`] if the name or colour would not pass a peer's decoder, or the
    /// member list is invalid (duplicates, the creator, too many).
    pub fn create<R: CryptoRng + ?Sized>(
        creator: &IdentityKeyPair,
        name: &str,
        color: &str,
        members: &[MemberId],
        rng: &mut R,
        now_ms: u64,
    ) -> Result<(Self, OutgoingMessage), ActionError> {
        let creator_id = MemberId::new(creator.public_key());
        let id = GroupId::generate(&creator_id, rng);
        if members.contains(&creator_id) {
            return Err(ActionError::Invalid(DecodeError::DuplicateMember { field: "members" }));
        }
        let mut group = Self::empty(id);
        let created = group.act(
            creator,
            Event::ChatCreated { name: name.to_owned(), color: color.to_owned() },
            now_ms,
        )?;
        if members.is_empty() {
            return Ok((group, created));
        }
        let outgoing =
            group.act(creator, Event::MembersAdded { members: members.to_vec() }, now_ms)?;
        Ok((group, outgoing))
    }

    fn empty(id: GroupId) -> Self {
        Self { log: MembershipLog::new(id), fold: Fold::default(), clock: LamportTime(0) }
    }

    /// The chat id.
    #[must_use]
    pub const fn id(&self) -> &GroupId {
        self.log.group()
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> &GroupState {
        self.fold.state()
    }

    /// The event log.
    #[must_use]
    pub const fn log(&self) -> &MembershipLog {
        &self.log
    }

    /// The fold of the log, with the reason for every rejected event.
    #[must_use]
    pub const fn fold(&self) -> &Fold {
        &self.fold
    }

    /// The highest Lamport time seen in this chat (events and chat messages).
    #[must_use]
    pub const fn clock(&self) -> LamportTime {
        self.clock
    }

    /// The recipients of a chat message sent by `us`: the joined members other than `us`
    /// (DECISIONS "Private group chats": group messages go to joined members).
    #[must_use]
    pub fn recipients(&self, us: &MemberId) -> Vec<MemberId> {
        self.state().joined().filter(|m| *m != us).copied().collect()
    }

    /// The recipients of a membership update sent by `us`: every member, invited or joined,
    /// other than `us`.
    fn update_recipients(&self, us: &MemberId) -> Vec<MemberId> {
        self.state().members().map(|(m, _)| m).filter(|m| *m != us).copied().collect()
    }

    /// A message carrying only the compacted log, to bring members up to date.
    ///
    /// # Errors
    /// [`ActionError::MessageTooLarge`] if the log does not fit in one message.
    pub fn sync_message(&self, us: &MemberId) -> Result<OutgoingMessage, ActionError> {
        let bytes = encode(self.id(), self.log.compact(&self.fold), None)?;
        Ok(OutgoingMessage { bytes, recipients: self.update_recipients(us) })
    }

    /// Renames the group (admins only).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn rename(
        &mut self,
        author: &IdentityKeyPair,
        name: &str,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::NameChanged { name: name.to_owned() }, now_ms)
    }

    /// Changes the group colour (admins only).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn change_color(
        &mut self,
        author: &IdentityKeyPair,
        color: &str,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::ColorChanged { color: color.to_owned() }, now_ms)
    }

    /// Changes the group image (admins only).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn change_image(
        &mut self,
        author: &IdentityKeyPair,
        image: &[u8],
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::ImageChanged { image: image.to_vec() }, now_ms)
    }

    /// Invites members (admins only).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn add_members(
        &mut self,
        author: &IdentityKeyPair,
        members: &[MemberId],
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::MembersAdded { members: members.to_vec() }, now_ms)
    }

    /// Joins the group (the author must be invited).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn join(
        &mut self,
        author: &IdentityKeyPair,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::MemberJoined, now_ms)
    }

    /// Removes a non-admin member (admins only). The returned message also goes to the
    /// removed member, so their client learns of the removal.
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn remove_member(
        &mut self,
        author: &IdentityKeyPair,
        member: &MemberId,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        let mut outgoing = self.act(author, Event::MemberRemoved { member: *member }, now_ms)?;
        if member != &MemberId::new(author.public_key()) {
            let mut recipients: BTreeSet<MemberId> = outgoing.recipients.into_iter().collect();
            recipients.insert(*member);
            outgoing.recipients = recipients.into_iter().collect();
        }
        Ok(outgoing)
    }

    /// Leaves the group (a `MEMBER_REMOVED` naming the author).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn leave(
        &mut self,
        author: &IdentityKeyPair,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        let member = MemberId::new(author.public_key());
        self.act(author, Event::MemberRemoved { member }, now_ms)
    }

    /// Makes members admins (admins only; every target must be a member).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn add_admins(
        &mut self,
        author: &IdentityKeyPair,
        admins: &[MemberId],
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        self.act(author, Event::AdminsAdded { admins: admins.to_vec() }, now_ms)
    }

    /// Steps down as admin (`ADMIN_REMOVED` naming the author: the only allowed form).
    ///
    /// # Errors
    /// See [`ActionError`]; the group is unchanged on error.
    pub fn remove_admin_self(
        &mut self,
        author: &IdentityKeyPair,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        let admin = MemberId::new(author.public_key());
        self.act(author, Event::AdminRemoved { admin }, now_ms)
    }

    /// Signs `event` with the next clock, checks it exactly as peers will, and applies it;
    /// returns the message carrying the compacted log. Authenticate-then-commit: on any error
    /// the group is as it was.
    fn act(
        &mut self,
        author: &IdentityKeyPair,
        event: Event,
        now_ms: u64,
    ) -> Result<OutgoingMessage, ActionError> {
        let author_id = MemberId::new(author.public_key());
        let clock = LamportTime::next(self.clock, now_ms).ok_or(ActionError::ClockExhausted)?;
        // `clock` is above every stored event, so the new event folds last: checking it against
        // the current state is exactly the check every peer's fold will make.
        self.fold
            .state()
            .check(self.id().creator(), &author_id, &event)
            .map_err(|reason| ActionError::Rejected { reason })?;
        let signed = VerifiedEvent::sign(author, self.id(), clock, &event)?;
        let key_clock = signed.clock();
        let key_id = signed.id();
        let mut fold = self.fold.clone();
        fold.step(self.id(), &signed);
        self.log.insert(signed).map_err(|_| ActionError::LogFull)?;
        match encode(self.id(), self.log.compact(&fold), None) {
            Ok(bytes) => {
                self.fold = fold;
                self.clock = clock;
                Ok(OutgoingMessage { bytes, recipients: self.update_recipients(&author_id) })
            }
            Err(error) => {
                self.log.remove(key_clock, key_id);
                Err(error)
            }
        }
    }

    /// Encodes a chat message from `us` (a joined member) with the next clock.
    ///
    /// # Errors
    /// [`ActionError::NotJoined`] if `us` is not a joined member, [`ActionError::Invalid`] if a
    /// peer would reject the message (digest §12), [`ActionError::MessageTooLarge`].
    pub fn send_message(
        &mut self,
        us: &MemberId,
        draft: ChatMessageDraft,
        now_ms: u64,
    ) -> Result<(OutgoingMessage, GroupChatMessage), ActionError> {
        let clock = LamportTime::next(self.clock, now_ms).ok_or(ActionError::ClockExhausted)?;
        let message = GroupChatMessage {
            clock,
            timestamp_ms: now_ms,
            text: draft.text,
            response_to: draft.response_to,
            display_name: draft.display_name,
            content: draft.content,
        };
        let outgoing = self.send_entity(us, &ChatEntity::Message(message.clone()))?;
        Ok((outgoing, message))
    }

    /// Encodes an emoji reaction from `us` (a joined member) with the next clock.
    ///
    /// # Errors
    /// As [`send_message`](Self::send_message).
    pub fn send_reaction(
        &mut self,
        us: &MemberId,
        message_id: &str,
        kind: ReactionKind,
        retracted: bool,
        now_ms: u64,
    ) -> Result<(OutgoingMessage, GroupReaction), ActionError> {
        let clock = LamportTime::next(self.clock, now_ms).ok_or(ActionError::ClockExhausted)?;
        let reaction = GroupReaction { clock, message_id: message_id.to_owned(), kind, retracted };
        let outgoing = self.send_entity(us, &ChatEntity::Reaction(reaction.clone()))?;
        Ok((outgoing, reaction))
    }

    fn send_entity(
        &mut self,
        us: &MemberId,
        entity: &ChatEntity,
    ) -> Result<OutgoingMessage, ActionError> {
        if !self.state().is_joined(us) {
            return Err(ActionError::NotJoined);
        }
        // Validate with the peers' parser before anything is sent.
        ChatEntity::parse(entity.to_wire(self.id()))?;
        let bytes = encode(self.id(), self.log.compact(&self.fold), Some(entity))?;
        self.clock = self.clock.max(entity.clock());
        Ok(OutgoingMessage { bytes, recipients: self.recipients(us) })
    }

    /// Accepts a group this client does not have yet, from its first message.
    ///
    /// `sender` is the identity the 1:1 session authenticated; `us` is the local identity.
    ///
    /// # Errors
    /// [`ReceiveError::NotCreated`] if the message has no valid `CHAT_CREATED`,
    /// [`ReceiveError::NotInvited`] if `us` was never a member, and the errors of
    /// [`receive`](Self::receive).
    pub fn from_first_message(
        message: IncomingMessage,
        sender: &MemberId,
        us: &MemberId,
        now_ms: u64,
    ) -> Result<(Self, ReceiveOutcome), ReceiveError> {
        let mut group = Self::empty(message.group.clone());
        let outcome = group.receive(message, sender, now_ms)?;
        if !group.state().is_created() {
            return Err(ReceiveError::NotCreated);
        }
        if !group.log.was_ever_member(&group.fold, us) {
            return Err(ReceiveError::NotInvited);
        }
        Ok((group, outcome))
    }

    /// Merges a received message into the group and returns what happened (module doc).
    ///
    /// `sender` is the identity the 1:1 session authenticated; the chat entity is delivered
    /// only if the sender is a joined member after the message's events are applied.
    ///
    /// # Errors
    /// [`ReceiveError::WrongGroup`] if the message is for another group,
    /// [`ReceiveError::Unauthenticated`] if any new event's signature fails. The group is
    /// unchanged on error.
    pub fn receive(
        &mut self,
        message: IncomingMessage,
        sender: &MemberId,
        now_ms: u64,
    ) -> Result<ReceiveOutcome, ReceiveError> {
        let IncomingMessage { group, events, entity } = message;
        if &group != self.id() {
            return Err(ReceiveError::WrongGroup);
        }
        // Authenticate every new event before changing anything.
        let mut duplicates = 0;
        let mut fresh = std::collections::BTreeMap::new();
        for event in events {
            let key = (event.clock(), event.id());
            // Same id = same element bytes, already verified when first stored.
            if self.log.contains(key.0, key.1) || fresh.contains_key(&key) {
                duplicates += 1;
                continue;
            }
            let verified = event.verify(&group).map_err(|_| ReceiveError::Unauthenticated)?;
            fresh.insert(key, verified);
        }
        // Receipt checks: clock bound, then capacity, in log order.
        let mut rejected = Vec::new();
        let mut admitted = Vec::new();
        let (mut count, mut bytes) = (0usize, 0usize);
        for (_, event) in fresh {
            if !event.clock().is_acceptable_at(now_ms) {
                rejected
                    .push(RejectedEvent { id: event.id(), reason: RejectReason::FromTheFuture });
                continue;
            }
            let (next_count, next_bytes) =
                (count.saturating_add(1), bytes.saturating_add(event.element().len()));
            if !self.log.has_room(next_count, next_bytes) {
                rejected.push(RejectedEvent { id: event.id(), reason: RejectReason::LogFull });
                continue;
            }
            (count, bytes) = (next_count, next_bytes);
            admitted.push(event);
        }
        // Commit.
        let append_only = admitted.first().is_none_or(|first| {
            self.log.iter().next_back().is_none_or(|last| last.order_key() < first.order_key())
        });
        let ids: Vec<EventId> = admitted.iter().map(VerifiedEvent::id).collect();
        for event in admitted {
            self.clock = self.clock.max(event.clock());
            if append_only {
                self.fold.step(self.log.group(), &event);
            }
            // Cannot fail: same group, room checked above.
            let _ = self.log.insert(event);
        }
        if !append_only {
            self.fold = self.log.fold();
        }
        let mut accepted = Vec::new();
        for id in ids {
            match self.fold.rejection(&id) {
                Some(reason) => rejected.push(RejectedEvent { id, reason }),
                None => accepted.push(id),
            }
        }
        let entity = entity.map(|parsed| self.deliver(parsed, sender, now_ms));
        Ok(ReceiveOutcome { accepted, rejected, duplicates, entity })
    }

    /// Chat entity checks (digest §12) against the updated state.
    fn deliver(
        &mut self,
        parsed: Result<ParsedEntity, DecodeError>,
        sender: &MemberId,
        now_ms: u64,
    ) -> Result<ChatEntity, ChatEntityError> {
        let ParsedEntity { entity, chat_id } = parsed?;
        if chat_id != self.id().as_str() {
            return Err(ChatEntityError::WrongChatId);
        }
        if !entity.clock().is_acceptable_at(now_ms) {
            return Err(ChatEntityError::FromTheFuture);
        }
        if !self.state().is_joined(sender) {
            return Err(ChatEntityError::SenderNotJoined);
        }
        self.clock = self.clock.max(entity.clock());
        Ok(entity)
    }

    /// The persisted form: chat id, every stored element, the chat clock.
    #[must_use]
    pub fn to_record(&self) -> GroupRecord {
        GroupRecord::new(self.id(), self.log.iter().map(VerifiedEvent::element), self.clock)
    }

    /// Restores a group from its record. Every signature is verified again (a record on disk
    /// is untrusted input) and the log is folded from scratch.
    ///
    /// # Errors
    /// [`RecordError`] if the record is malformed, altered, or exceeds the log bounds.
    pub fn from_record(record: &GroupRecord) -> Result<Self, RecordError> {
        let (id, elements, clock) = record.parts()?;
        let mut log = MembershipLog::new(id);
        for element in elements {
            let event = crate::event::UnverifiedEvent::decode(&element)?
                .verify(log.group())
                .map_err(|_| RecordError::Unauthenticated)?;
            log.insert(event).map_err(|_| RecordError::LogFull)?;
        }
        let fold = log.fold();
        let clock = clock.max(log.max_clock());
        Ok(Self { log, fold, clock })
    }

    /// [`to_record`](Self::to_record), encoded.
    #[must_use]
    pub fn to_record_bytes(&self) -> Vec<u8> {
        self.to_record().into_bytes()
    }

    /// [`from_record`](Self::from_record) from bytes.
    ///
    /// # Errors
    /// As [`from_record`](Self::from_record).
    pub fn from_record_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        Self::from_record(&GroupRecord::from_bytes(bytes.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_wire::net::MembershipUpdateMessage;
    use prost::Message as _;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::event::UnverifiedEvent;
    use crate::id::MemberId;

    /// The fuzz harness's group fixture, rebuilt from the same seed in the same order
    /// (`fuzz/src/group.rs`): alice creates the group with bob, carol and dave; bob and carol
    /// join; bob becomes an admin. Returns the cast's keys and alice's group.
    fn harness_fixture() -> ([IdentityKeyPair; 5], Group) {
        let t = 1_700_000_000_000;
        let mut rng = ChaCha20Rng::seed_from_u64(0x6b61_6977_6167_7270);
        let keys: [IdentityKeyPair; 5] =
            core::array::from_fn(|_| IdentityKeyPair::generate(&mut rng));
        let ids = keys.each_ref().map(|k| MemberId::new(k.public_key()));
        let (mut group, _) =
            Group::create(&keys[0], "fuzz", "#336699", &ids[1..4], &mut rng, t).unwrap();
        for (who, now) in [(1, t + 1), (2, t + 2)] {
            let out = group.clone().join(&keys[who], now).unwrap();
            group.receive(IncomingMessage::decode(&out.bytes).unwrap(), &ids[who], now).unwrap();
        }
        group.add_admins(&keys[0], &[ids[1]], t + 3).unwrap();
        (keys, group)
    }

    /// A `group_convergence` seed (ops `author ‖ kind ‖ clock ‖ arg`, `fuzz/src/convergence.rs`):
    /// the signed events, delivered one per message forward and backward, give equal groups.
    fn replay_convergence(data: &[u8], keys: &[IdentityKeyPair; 5], fixture: &Group) {
        let ids = keys.each_ref().map(|k| MemberId::new(k.public_key()));
        let mut elements = Vec::new();
        for op in data.chunks_exact(4).take(12) {
            let &[author, kind, clock, arg] = op else { continue };
            let one = ids[usize::from(arg) % 5];
            let mut some: Vec<_> = (0..5).filter(|i| arg & (1 << i) != 0).map(|i| ids[i]).collect();
            if some.is_empty() {
                some.push(one);
            }
            let event = match kind % 9 {
                0 => Event::ChatCreated { name: "again".into(), color: String::new() },
                1 => Event::NameChanged { name: format!("name-{arg}") },
                2 => Event::MembersAdded { members: some },
                3 => Event::MemberJoined,
                4 => Event::MemberRemoved { member: one },
                5 => Event::AdminsAdded { admins: some },
                6 => Event::AdminRemoved { admin: one },
                7 => Event::ColorChanged { color: format!("#{arg:02x}{arg:02x}{arg:02x}") },
                _ => Event::ImageChanged { image: vec![arg; 1 + usize::from(arg % 8)] },
            };
            let clock = LamportTime(1_700_000_000_000 - 16 + u64::from(clock));
            let author = &keys[usize::from(author) % 5];
            if let Ok(event) = VerifiedEvent::sign(author, fixture.id(), clock, &event) {
                elements.push(event.element().to_vec());
            }
        }
        let deliver = |order: &mut dyn Iterator<Item = &Vec<u8>>| {
            let mut replica = fixture.clone();
            for element in order {
                let bytes = MembershipUpdateMessage {
                    chat_id: fixture.id().as_str().to_owned(),
                    events: vec![element.clone()],
                    chat_entity: None,
                }
                .encode_to_vec();
                let message = IncomingMessage::decode(&bytes).unwrap();
                replica.receive(message, &ids[0], 1_700_000_001_000).unwrap();
            }
            replica
        };
        assert_eq!(deliver(&mut elements.iter()), deliver(&mut elements.iter().rev()));
    }

    /// Every committed seed of the group fuzz targets, through the same decoders and state
    /// machines (`fuzz/src/group.rs`, `fuzz/src/convergence.rs`; vodozemac's `run_corpus`).
    /// `group_convergence` seeds run against the harness's fixture, rebuilt here. A
    /// `group_receive` seed is a sequence of frames `sender (1) ‖ delay_s (1) ‖ len (2,
    /// little-endian) ‖ message`; the group is built from its first message (as the creator) and
    /// receives the rest, and a rejected message must leave it exactly as it was.
    #[test]
    fn fuzz_seed_corpus_never_panics() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let seeds = |target: &str| -> Vec<Vec<u8>> {
            let dir = std::fs::read_dir(corpus.join(target)).expect("seed corpus is committed");
            let seeds: Vec<_> = dir.map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
            assert!(!seeds.is_empty(), "{target} has seeds");
            seeds
        };
        for data in seeds("group_message") {
            if let Ok(message) = IncomingMessage::decode(&data) {
                for event in message.events() {
                    let _ = event.clone().verify(message.group_id());
                }
            }
            if let Ok(text) = core::str::from_utf8(&data) {
                let _ = GroupId::parse(text);
                let _ = MemberId::from_text(text);
            }
        }
        for data in seeds("group_event") {
            let _ = UnverifiedEvent::decode(&data);
        }
        for data in seeds("group_record") {
            if let Ok(group) = Group::from_record_bytes(&data) {
                assert_eq!(Group::from_record_bytes(&group.to_record_bytes()), Ok(group));
            }
        }
        let (keys, fixture) = harness_fixture();
        let sync = std::fs::read(corpus.join("group_message/sync")).unwrap();
        let sync = IncomingMessage::decode(&sync).unwrap();
        assert_eq!(sync.group_id(), fixture.id(), "the harness's fixture is rebuilt exactly");
        for data in seeds("group_convergence") {
            replay_convergence(&data, &keys, &fixture);
        }
        for data in seeds("group_receive") {
            let (mut rest, mut now_ms, mut group) = (data.as_slice(), 1_700_000_000_000, None);
            while let Some(([_, delay_s, len_lo, len_hi], tail)) = rest.split_first_chunk::<4>() {
                let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi])).min(tail.len());
                let (bytes, next) = tail.split_at(len);
                rest = next;
                now_ms += u64::from(*delay_s) * 1_000;
                let Ok(message) = IncomingMessage::decode(bytes) else { continue };
                let creator = *message.group_id().creator();
                match &mut group {
                    None => {
                        group = Group::from_first_message(message, &creator, &creator, now_ms)
                            .ok()
                            .map(|(group, _)| group);
                    }
                    Some(group) => {
                        let before = group.clone();
                        if group.receive(message, &creator, now_ms).is_err() {
                            assert_eq!(*group, before, "a rejected message changed the group");
                        }
                    }
                }
            }
        }
    }
}
