//! Membership events: the nine kinds, their wire form, signatures, and the unverified →
//! verified step.
//!
//! ```text
//! element        = signature(64) ‖ event_bytes                       (DECISIONS "Private group chats";
//!                                                                     seed 000's 65-byte secp256k1 sig → Ed25519)
//! event_bytes    = protobuf MembershipUpdateEvent, exactly as received (never re-encoded)
//! signed message = u32_be(len(chat_id)) ‖ utf8(chat_id) ‖ event_bytes
//! signature      = Ed25519-Sign(author_sk, u8(len(ctx)) ‖ ctx ‖ signed message)   (kaiwa-crypto framing)
//! ctx            = "kaiwa/group/membership-event/v1"
//! verify         = verify_strict(event.author, ...) where event.author is field 7 of event_bytes
//! EventId        = SHA-256(element)
//! ```
//!
//! Binding the chat id into the signature keeps an event from being replayed into another group
//! (digest §1.3); the length prefix makes the split between chat id and event bytes
//! unambiguous. The author key is inside the signed bytes (digest §15, §17: Ed25519 has no key
//! recovery), and verification uses that key, so "the author" is exactly "the signer".
//!
//! Each event type uses exactly the fields below; any other field set is a decode error, so one
//! event has one meaning (seed 000 "Membership Update Flow", digest §1.5):
//!
//! ```text
//! type            members        name        color        image
//! CHAT_CREATED    -              required    optional     -
//! NAME_CHANGED    -              required    -            -
//! MEMBERS_ADDED   1..=100 ids    -           -            -
//! MEMBER_JOINED   -              -           -            -
//! MEMBER_REMOVED  exactly 1 id   -           -            -
//! ADMINS_ADDED    1..=100 ids    -           -            -
//! ADMIN_REMOVED   exactly 1 id   -           -            -
//! COLOR_CHANGED   -              -           required     -
//! IMAGE_CHANGED   -              -           -            required
//! every type: clock != 0, author = 32-byte Ed25519 key; ids distinct, `0x` + 64 lowercase hex
//! ```

use std::collections::BTreeSet;

use kaiwa_crypto::{IdentityKeyPair, IdentityPublicKey, Signature, SignatureContext};
use kaiwa_wire::net as wire;
use prost::Message as _;
use wire::membership_update_event::EventType;

use crate::error::{DecodeError, VerifyError};
use crate::id::{EventId, GroupId, LamportTime, MemberId};
use crate::limits::{
    MAX_COLOR_BYTES, MAX_EVENT_BYTES, MAX_IMAGE_BYTES, MAX_NAME_BYTES, MAX_TARGETS_PER_EVENT,
};

/// Domain separation for membership-event signatures; used for nothing else.
pub const EVENT_SIGNATURE_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/group/membership-event/v1");

/// What a membership event does, with its payload (seed 000 "Membership Update Flow").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Creates the group; the author becomes its first member and admin.
    ChatCreated {
        /// Group name (non-empty).
        name: String,
        /// Group colour (may be empty).
        color: String,
    },
    /// Renames the group (admins only).
    NameChanged {
        /// New name (non-empty).
        name: String,
    },
    /// Invites members (admins only). They are members but not yet joined.
    MembersAdded {
        /// The invited members, distinct.
        members: Vec<MemberId>,
    },
    /// The author, an invited member, joins: from now on group messages go to them.
    MemberJoined,
    /// Removes a member: either the author leaves, or an admin removes a non-admin.
    MemberRemoved {
        /// The member removed.
        member: MemberId,
    },
    /// Makes members admins (admins only; every target must be a member).
    AdminsAdded {
        /// The new admins, distinct.
        admins: Vec<MemberId>,
    },
    /// The author steps down as admin (only oneself).
    AdminRemoved {
        /// The admin removed: must be the author.
        admin: MemberId,
    },
    /// Changes the group colour (admins only).
    ColorChanged {
        /// New colour (non-empty).
        color: String,
    },
    /// Changes the group image (admins only).
    ImageChanged {
        /// New image bytes (non-empty).
        image: Vec<u8>,
    },
}

/// The type of an [`Event`], without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `CHAT_CREATED`
    ChatCreated,
    /// `NAME_CHANGED`
    NameChanged,
    /// `MEMBERS_ADDED`
    MembersAdded,
    /// `MEMBER_JOINED`
    MemberJoined,
    /// `MEMBER_REMOVED`
    MemberRemoved,
    /// `ADMINS_ADDED`
    AdminsAdded,
    /// `ADMIN_REMOVED`
    AdminRemoved,
    /// `COLOR_CHANGED`
    ColorChanged,
    /// `IMAGE_CHANGED`
    ImageChanged,
}

impl Event {
    /// The event's type.
    #[must_use]
    pub const fn kind(&self) -> EventKind {
        match self {
            Self::ChatCreated { .. } => EventKind::ChatCreated,
            Self::NameChanged { .. } => EventKind::NameChanged,
            Self::MembersAdded { .. } => EventKind::MembersAdded,
            Self::MemberJoined => EventKind::MemberJoined,
            Self::MemberRemoved { .. } => EventKind::MemberRemoved,
            Self::AdminsAdded { .. } => EventKind::AdminsAdded,
            Self::AdminRemoved { .. } => EventKind::AdminRemoved,
            Self::ColorChanged { .. } => EventKind::ColorChanged,
            Self::ImageChanged { .. } => EventKind::ImageChanged,
        }
    }

    /// The wire message for this event with `clock` and `author`.
    fn to_wire(&self, clock: LamportTime, author: &MemberId) -> wire::MembershipUpdateEvent {
        let mut msg = wire::MembershipUpdateEvent {
            clock: clock.0,
            author: author.key().as_bytes().to_vec(),
            ..Default::default()
        };
        let kind = match self {
            Self::ChatCreated { name, color } => {
                msg.name.clone_from(name);
                msg.color.clone_from(color);
                EventType::ChatCreated
            }
            Self::NameChanged { name } => {
                msg.name.clone_from(name);
                EventType::NameChanged
            }
            Self::MembersAdded { members } => {
                msg.members = members.iter().map(MemberId::to_text).collect();
                EventType::MembersAdded
            }
            Self::MemberJoined => EventType::MemberJoined,
            Self::MemberRemoved { member } => {
                msg.members = vec![member.to_text()];
                EventType::MemberRemoved
            }
            Self::AdminsAdded { admins } => {
                msg.members = admins.iter().map(MemberId::to_text).collect();
                EventType::AdminsAdded
            }
            Self::AdminRemoved { admin } => {
                msg.members = vec![admin.to_text()];
                EventType::AdminRemoved
            }
            Self::ColorChanged { color } => {
                msg.color.clone_from(color);
                EventType::ColorChanged
            }
            Self::ImageChanged { image } => {
                msg.image.clone_from(image);
                EventType::ImageChanged
            }
        };
        msg.r#type = kind.into();
        msg
    }
}

/// The decoded content of `event_bytes`.
struct Body {
    clock: LamportTime,
    author: MemberId,
    event: Event,
}

fn bounded_text(field: &'static str, text: String, limit: usize) -> Result<String, DecodeError> {
    if text.len() > limit {
        return Err(DecodeError::TooLong { field, limit, actual: text.len() });
    }
    Ok(text)
}

fn required_text(field: &'static str, text: String, limit: usize) -> Result<String, DecodeError> {
    if text.is_empty() {
        return Err(DecodeError::Missing { field });
    }
    bounded_text(field, text, limit)
}

fn member_list(members: Vec<String>) -> Result<Vec<MemberId>, DecodeError> {
    let field = "members";
    if members.is_empty() {
        return Err(DecodeError::Missing { field });
    }
    if members.len() > MAX_TARGETS_PER_EVENT {
        return Err(DecodeError::TooMany {
            what: field,
            limit: MAX_TARGETS_PER_EVENT,
            actual: members.len(),
        });
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(members.len());
    for text in &members {
        let member = MemberId::from_text(text)?;
        if !seen.insert(member) {
            return Err(DecodeError::DuplicateMember { field });
        }
        out.push(member);
    }
    Ok(out)
}

fn single_member(members: Vec<String>) -> Result<MemberId, DecodeError> {
    let field = "members";
    match members.as_slice() {
        [] => Err(DecodeError::Missing { field }),
        [one] => MemberId::from_text(one),
        more => Err(DecodeError::TooMany { what: field, limit: 1, actual: more.len() }),
    }
}

/// Fields a type does not use must be empty.
fn unused(msg: &wire::MembershipUpdateEvent, fields: &[&'static str]) -> Result<(), DecodeError> {
    for &field in fields {
        let set = match field {
            "members" => !msg.members.is_empty(),
            "name" => !msg.name.is_empty(),
            "color" => !msg.color.is_empty(),
            _ => !msg.image.is_empty(),
        };
        if set {
            return Err(DecodeError::UnexpectedField { field });
        }
    }
    Ok(())
}

impl TryFrom<wire::MembershipUpdateEvent> for Body {
    type Error = DecodeError;

    fn try_from(msg: wire::MembershipUpdateEvent) -> Result<Self, DecodeError> {
        if msg.clock == 0 {
            return Err(DecodeError::ZeroClock);
        }
        let author =
            MemberId::new(IdentityPublicKey::try_from(msg.author.as_slice()).map_err(|_| {
                match msg.author.len() {
                    IdentityPublicKey::LEN => DecodeError::InvalidMemberId { field: "author" },
                    actual => DecodeError::Length { field: "author", expected: 32, actual },
                }
            })?);
        let kind = EventType::try_from(msg.r#type)
            .map_err(|_| DecodeError::Unsupported { field: "type", value: msg.r#type })?;
        let event = match kind {
            EventType::Unknown => {
                return Err(DecodeError::Unsupported { field: "type", value: msg.r#type });
            }
            EventType::ChatCreated => {
                unused(&msg, &["members", "image"])?;
                Event::ChatCreated {
                    name: required_text("name", msg.name, MAX_NAME_BYTES)?,
                    color: bounded_text("color", msg.color, MAX_COLOR_BYTES)?,
                }
            }
            EventType::NameChanged => {
                unused(&msg, &["members", "color", "image"])?;
                Event::NameChanged { name: required_text("name", msg.name, MAX_NAME_BYTES)? }
            }
            EventType::MembersAdded => {
                unused(&msg, &["name", "color", "image"])?;
                Event::MembersAdded { members: member_list(msg.members)? }
            }
            EventType::MemberJoined => {
                unused(&msg, &["members", "name", "color", "image"])?;
                Event::MemberJoined
            }
            EventType::MemberRemoved => {
                unused(&msg, &["name", "color", "image"])?;
                Event::MemberRemoved { member: single_member(msg.members)? }
            }
            EventType::AdminsAdded => {
                unused(&msg, &["name", "color", "image"])?;
                Event::AdminsAdded { admins: member_list(msg.members)? }
            }
            EventType::AdminRemoved => {
                unused(&msg, &["name", "color", "image"])?;
                Event::AdminRemoved { admin: single_member(msg.members)? }
            }
            EventType::ColorChanged => {
                unused(&msg, &["members", "name", "image"])?;
                Event::ColorChanged { color: required_text("color", msg.color, MAX_COLOR_BYTES)? }
            }
            EventType::ImageChanged => {
                unused(&msg, &["members", "name", "color"])?;
                if msg.image.is_empty() {
                    return Err(DecodeError::Missing { field: "image" });
                }
                if msg.image.len() > MAX_IMAGE_BYTES {
                    return Err(DecodeError::TooLong {
                        field: "image",
                        limit: MAX_IMAGE_BYTES,
                        actual: msg.image.len(),
                    });
                }
                Event::ImageChanged { image: msg.image }
            }
        };
        Ok(Self { clock: LamportTime(msg.clock), author, event })
    }
}

/// `u32_be(len(chat_id))`; a [`GroupId`] is always 101 bytes, so this never saturates.
fn chat_id_prefix(group: &GroupId) -> [u8; 4] {
    u32::try_from(group.as_str().len()).unwrap_or(u32::MAX).to_be_bytes()
}

/// Splits an element into its signature and event bytes.
fn split_element(element: &[u8]) -> Result<(Signature, &[u8]), DecodeError> {
    let Some((signature, body)) = element.split_first_chunk::<{ Signature::LEN }>() else {
        return Err(DecodeError::Length {
            field: "events",
            expected: Signature::LEN,
            actual: element.len(),
        });
    };
    Ok((Signature::from_bytes(*signature), body))
}

/// A membership event parsed from the network; its signature is unchecked, and a
/// [`MembershipLog`](crate::MembershipLog) does not accept it.
#[derive(Debug, Clone)]
pub struct UnverifiedEvent {
    element: Box<[u8]>,
    id: EventId,
    clock: LamportTime,
    author: MemberId,
    event: Event,
}

impl UnverifiedEvent {
    /// Parses one `events` element (`signature ‖ event_bytes`). Never panics; checks every
    /// field and bound in the module table.
    ///
    /// # Errors
    /// [`DecodeError`] for anything malformed or oversized.
    pub fn decode(element: &[u8]) -> Result<Self, DecodeError> {
        if element.len() > MAX_EVENT_BYTES {
            return Err(DecodeError::TooLong {
                field: "events",
                limit: MAX_EVENT_BYTES,
                actual: element.len(),
            });
        }
        let (_, body) = split_element(element)?;
        if body.is_empty() {
            return Err(DecodeError::Missing { field: "event" });
        }
        let Body { clock, author, event } =
            Body::try_from(wire::MembershipUpdateEvent::decode(body)?)?;
        Ok(Self { element: element.into(), id: EventId::of_element(element), clock, author, event })
    }

    /// Checks the signature for `group` over the received bytes, with the author key carried
    /// in the event (module doc). Consumes the unverified event.
    ///
    /// # Errors
    /// [`VerifyError::Unauthenticated`] if the signature does not verify (opaque).
    pub fn verify(self, group: &GroupId) -> Result<VerifiedEvent, VerifyError> {
        let (signature, body) =
            split_element(&self.element).map_err(|_| VerifyError::Unauthenticated)?;
        self.author
            .key()
            .verify_parts(
                &EVENT_SIGNATURE_CONTEXT,
                &[&chat_id_prefix(group), group.as_str().as_bytes(), body],
                &signature,
            )
            .map_err(|_| VerifyError::Unauthenticated)?;
        let Self { element, id, clock, author, event } = self;
        Ok(VerifiedEvent { group: group.clone(), element, id, clock, author, event })
    }

    /// The event id, SHA-256 of the element.
    #[must_use]
    pub const fn id(&self) -> EventId {
        self.id
    }

    /// The Lamport clock.
    #[must_use]
    pub const fn clock(&self) -> LamportTime {
        self.clock
    }

    /// The claimed author (not yet verified).
    #[must_use]
    pub const fn author(&self) -> &MemberId {
        &self.author
    }

    /// The event.
    #[must_use]
    pub const fn event(&self) -> &Event {
        &self.event
    }
}

/// A membership event whose signature was verified for one group. The only event type the
/// log accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    group: GroupId,
    element: Box<[u8]>,
    id: EventId,
    clock: LamportTime,
    author: MemberId,
    event: Event,
}

impl VerifiedEvent {
    /// Encodes `event` with `clock` and `author`'s key, and signs it for `group`.
    ///
    /// The encoding is parsed back with the same decoder peers run, so an event that peers
    /// would refuse to decode (an empty name, an oversized image, ...) is an error here and is
    /// never signed.
    ///
    /// # Errors
    /// [`DecodeError`] if the event would not pass a peer's decoder.
    pub fn sign(
        author: &IdentityKeyPair,
        group: &GroupId,
        clock: LamportTime,
        event: &Event,
    ) -> Result<Self, DecodeError> {
        let author_id = MemberId::new(author.public_key());
        let body = event.to_wire(clock, &author_id).encode_to_vec();
        // Validate with the peers' decoder before signing anything.
        let Body { clock, author: decoded_author, event } =
            Body::try_from(wire::MembershipUpdateEvent::decode(body.as_slice())?)?;
        let signature = author.sign_parts(
            &EVENT_SIGNATURE_CONTEXT,
            &[&chat_id_prefix(group), group.as_str().as_bytes(), &body],
        );
        let mut element = Vec::with_capacity(Signature::LEN + body.len());
        element.extend_from_slice(signature.as_bytes());
        element.extend_from_slice(&body);
        if element.len() > MAX_EVENT_BYTES {
            return Err(DecodeError::TooLong {
                field: "events",
                limit: MAX_EVENT_BYTES,
                actual: element.len(),
            });
        }
        Ok(Self {
            group: group.clone(),
            id: EventId::of_element(&element),
            element: element.into_boxed_slice(),
            clock,
            author: decoded_author,
            event,
        })
    }

    /// The group this event was verified for.
    #[must_use]
    pub const fn group(&self) -> &GroupId {
        &self.group
    }

    /// The element exactly as received or produced: `signature ‖ event_bytes`.
    #[must_use]
    pub fn element(&self) -> &[u8] {
        &self.element
    }

    /// The event id, SHA-256 of the element.
    #[must_use]
    pub const fn id(&self) -> EventId {
        self.id
    }

    /// The Lamport clock.
    #[must_use]
    pub const fn clock(&self) -> LamportTime {
        self.clock
    }

    /// The author, who signed it.
    #[must_use]
    pub const fn author(&self) -> &MemberId {
        &self.author
    }

    /// The event.
    #[must_use]
    pub const fn event(&self) -> &Event {
        &self.event
    }

    /// The log's total order key `(clock, id)`.
    pub(crate) const fn order_key(&self) -> (LamportTime, EventId) {
        (self.clock, self.id)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn keypair(seed: u64) -> IdentityKeyPair {
        IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    fn group_of(creator: &IdentityKeyPair, seed: u64) -> GroupId {
        GroupId::generate(&creator.public_key().into(), &mut ChaCha20Rng::seed_from_u64(seed))
    }

    fn all_kinds(target: MemberId) -> Vec<Event> {
        vec![
            Event::ChatCreated { name: "g".into(), color: "#aabbcc".into() },
            Event::NameChanged { name: "renamed".into() },
            Event::MembersAdded { members: vec![target] },
            Event::MemberJoined,
            Event::MemberRemoved { member: target },
            Event::AdminsAdded { admins: vec![target] },
            Event::AdminRemoved { admin: target },
            Event::ColorChanged { color: "#000000".into() },
            Event::ImageChanged { image: vec![1, 2, 3] },
        ]
    }

    #[test]
    fn every_kind_round_trips_and_verifies() {
        let alice = keypair(1);
        let bob = MemberId::new(keypair(2).public_key());
        let group = group_of(&alice, 3);
        for event in all_kinds(bob) {
            let signed = VerifiedEvent::sign(&alice, &group, LamportTime(7), &event).unwrap();
            let parsed = UnverifiedEvent::decode(signed.element()).unwrap();
            assert_eq!(parsed.event(), &event);
            assert_eq!(parsed.clock(), LamportTime(7));
            assert_eq!(parsed.id(), signed.id());
            assert_eq!(parsed.author(), &MemberId::new(alice.public_key()));
            assert_eq!(parsed.verify(&group).unwrap(), signed);
        }
    }

    #[test]
    fn signature_binds_chat_id_author_and_bytes() {
        let alice = keypair(1);
        let group = group_of(&alice, 3);
        let other = group_of(&alice, 4);
        let signed =
            VerifiedEvent::sign(&alice, &group, LamportTime(9), &Event::MemberJoined).unwrap();
        // Replayed into another group of the same creator.
        let replay = UnverifiedEvent::decode(signed.element()).unwrap();
        assert_eq!(replay.verify(&other), Err(VerifyError::Unauthenticated));
        // Any flipped bit in the element: either undecodable or unauthenticated.
        for i in 0..signed.element().len() {
            let mut bytes = signed.element().to_vec();
            bytes[i] ^= 0x01;
            if let Ok(parsed) = UnverifiedEvent::decode(&bytes) {
                assert_eq!(parsed.verify(&group), Err(VerifyError::Unauthenticated), "byte {i}");
            }
        }
    }

    #[test]
    fn author_field_must_be_the_signer() {
        let alice = keypair(1);
        let mallory = keypair(5);
        let group = group_of(&alice, 3);
        // Mallory signs an event claiming Alice as author.
        let body = Event::NameChanged { name: "pwned".into() }
            .to_wire(LamportTime(3), &MemberId::new(alice.public_key()))
            .encode_to_vec();
        let sig = mallory.sign_parts(
            &EVENT_SIGNATURE_CONTEXT,
            &[&chat_id_prefix(&group), group.as_str().as_bytes(), &body],
        );
        let element = [sig.as_bytes().as_slice(), &body].concat();
        let parsed = UnverifiedEvent::decode(&element).unwrap();
        assert_eq!(parsed.verify(&group), Err(VerifyError::Unauthenticated));
    }

    #[test]
    fn signed_bytes_layout_is_exact() {
        let alice = keypair(1);
        let group = group_of(&alice, 3);
        let signed =
            VerifiedEvent::sign(&alice, &group, LamportTime(1), &Event::MemberJoined).unwrap();
        let (sig, body) = signed.element().split_at(64);
        let mut message = 101u32.to_be_bytes().to_vec();
        message.extend_from_slice(group.as_str().as_bytes());
        message.extend_from_slice(body);
        let signature = Signature::try_from(sig).unwrap();
        assert_eq!(
            alice.public_key().verify(&EVENT_SIGNATURE_CONTEXT, &message, &signature),
            Ok(())
        );
        assert_eq!(signed.id(), EventId::of_element(signed.element()));
    }

    fn wire_event(kind: EventType, f: impl FnOnce(&mut wire::MembershipUpdateEvent)) -> Vec<u8> {
        let mut msg = wire::MembershipUpdateEvent {
            clock: 5,
            author: keypair(1).public_key().as_bytes().to_vec(),
            r#type: kind.into(),
            ..Default::default()
        };
        f(&mut msg);
        [[0u8; 64].as_slice(), &msg.encode_to_vec()].concat()
    }

    #[test]
    fn decoder_rejects_each_malformed_field() {
        let bob = MemberId::new(keypair(2).public_key()).to_text();
        let cases: Vec<(Vec<u8>, DecodeError)> = vec![
            (vec![0; 63], DecodeError::Length { field: "events", expected: 64, actual: 63 }),
            (vec![0; 64], DecodeError::Missing { field: "event" }),
            (wire_event(EventType::MemberJoined, |m| m.clock = 0), DecodeError::ZeroClock),
            (
                wire_event(EventType::MemberJoined, |m| m.author = vec![1; 31]),
                DecodeError::Length { field: "author", expected: 32, actual: 31 },
            ),
            (
                wire_event(EventType::MemberJoined, |m| {
                    let mut small_order = vec![0; 32];
                    small_order[0] = 1;
                    m.author = small_order;
                }),
                DecodeError::InvalidMemberId { field: "author" },
            ),
            (
                wire_event(EventType::Unknown, |_| {}),
                DecodeError::Unsupported { field: "type", value: 0 },
            ),
            (
                wire_event(EventType::Unknown, |m| m.r#type = 10),
                DecodeError::Unsupported { field: "type", value: 10 },
            ),
            (wire_event(EventType::ChatCreated, |_| {}), DecodeError::Missing { field: "name" }),
            (
                wire_event(EventType::NameChanged, |m| m.name = "x".repeat(MAX_NAME_BYTES + 1)),
                DecodeError::TooLong {
                    field: "name",
                    limit: MAX_NAME_BYTES,
                    actual: MAX_NAME_BYTES + 1,
                },
            ),
            (
                wire_event(EventType::ChatCreated, |m| {
                    m.name = "n".into();
                    m.color = "c".repeat(MAX_COLOR_BYTES + 1);
                }),
                DecodeError::TooLong {
                    field: "color",
                    limit: MAX_COLOR_BYTES,
                    actual: MAX_COLOR_BYTES + 1,
                },
            ),
            (
                wire_event(EventType::NameChanged, |m| {
                    m.name = "n".into();
                    m.color = "c".into();
                }),
                DecodeError::UnexpectedField { field: "color" },
            ),
            (
                wire_event(EventType::MemberJoined, |m| m.members = vec![bob.clone()]),
                DecodeError::UnexpectedField { field: "members" },
            ),
            (
                wire_event(EventType::MembersAdded, |_| {}),
                DecodeError::Missing { field: "members" },
            ),
            (
                wire_event(EventType::MembersAdded, |m| m.members = vec![bob.clone(), bob.clone()]),
                DecodeError::DuplicateMember { field: "members" },
            ),
            (
                wire_event(EventType::AdminsAdded, |m| m.members = vec![bob.to_uppercase()]),
                DecodeError::InvalidMemberId { field: "members" },
            ),
            (
                wire_event(EventType::MembersAdded, |m| {
                    m.members = (0..=MAX_TARGETS_PER_EVENT as u64)
                        .map(|i| MemberId::new(keypair(100 + i).public_key()).to_text())
                        .collect();
                }),
                DecodeError::TooMany {
                    what: "members",
                    limit: MAX_TARGETS_PER_EVENT,
                    actual: MAX_TARGETS_PER_EVENT + 1,
                },
            ),
            (
                wire_event(EventType::MemberRemoved, |m| {
                    m.members = vec![bob.clone(), bob.clone()]
                }),
                DecodeError::TooMany { what: "members", limit: 1, actual: 2 },
            ),
            (
                wire_event(EventType::AdminRemoved, |_| {}),
                DecodeError::Missing { field: "members" },
            ),
            (wire_event(EventType::ColorChanged, |_| {}), DecodeError::Missing { field: "color" }),
            (wire_event(EventType::ImageChanged, |_| {}), DecodeError::Missing { field: "image" }),
            (
                wire_event(EventType::ImageChanged, |m| m.image = vec![1; MAX_IMAGE_BYTES + 1]),
                DecodeError::TooLong {
                    field: "image",
                    limit: MAX_IMAGE_BYTES,
                    actual: MAX_IMAGE_BYTES + 1,
                },
            ),
            (
                vec![0; MAX_EVENT_BYTES + 1],
                DecodeError::TooLong {
                    field: "events",
                    limit: MAX_EVENT_BYTES,
                    actual: MAX_EVENT_BYTES + 1,
                },
            ),
        ];
        for (i, (bytes, expected)) in cases.into_iter().enumerate() {
            assert_eq!(UnverifiedEvent::decode(&bytes).unwrap_err(), expected, "case {i}");
        }
    }

    #[test]
    fn sign_refuses_what_peers_would_not_decode() {
        let alice = keypair(1);
        let group = group_of(&alice, 3);
        let bad = [
            (Event::NameChanged { name: String::new() }, DecodeError::Missing { field: "name" }),
            (Event::MembersAdded { members: vec![] }, DecodeError::Missing { field: "members" }),
            (Event::ImageChanged { image: vec![] }, DecodeError::Missing { field: "image" }),
        ];
        for (event, expected) in bad {
            assert_eq!(VerifiedEvent::sign(&alice, &group, LamportTime(1), &event), Err(expected));
        }
        assert_eq!(
            VerifiedEvent::sign(&alice, &group, LamportTime(0), &Event::MemberJoined),
            Err(DecodeError::ZeroClock)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(event) = UnverifiedEvent::decode(&bytes) {
                let group = group_of(&keypair(1), 3);
                prop_assert!(event.verify(&group).is_err());
            }
        }

        #[test]
        fn arbitrary_protobuf_bodies_never_panic(
            clock in any::<u64>(),
            kind in -1i32..11,
            members in prop::collection::vec("(0x)?[0-9a-f]{0,66}", 0..3),
            name in ".{0,8}",
            image in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let msg = wire::MembershipUpdateEvent {
                clock, members, name, r#type: kind, color: String::new(), image,
                author: keypair(1).public_key().as_bytes().to_vec(),
            };
            let _ = UnverifiedEvent::decode(&[[0u8; 64].as_slice(), &msg.encode_to_vec()].concat());
        }
    }
}
