//! kaiwa-group targets: the group message, one membership event, the persisted record, and the
//! group state machine.
//!
//! ```text
//! group_message  IncomingMessage::decode(input), then verify every event for the message's
//!                chat id; input as UTF-8 to GroupId::parse and MemberId::from_text
//!                checks: bounds hold; a parsed id keeps its text, and its creator is its prefix
//! group_event    UnverifiedEvent::decode(input), then verify for the fixture's group
//!                checks: the id is SHA-256 of the input; a verified event keeps the input
//!                bytes and does not verify for another group of the same creator
//! group_record   Group::from_record_bytes(input)
//!                checks: to_record_bytes → from_record_bytes gives the same group
//! group_receive  the fixture's group receives each frame's message (frames.rs layout):
//!                  sender  = cast[frame.sender mod 5]            (alice, bob, carol, dave, erin)
//!                  now_ms  = FIXTURE_NOW_MS + 1000 × (sum of delay_s up to this frame)
//!                the first decodable message also goes to Group::from_first_message as dave
//!                checks: a rejected message leaves the group exactly as it was (the whole
//!                value and its record bytes); an accepted message received again is accepted,
//!                accepts nothing new and changes nothing; the group after every message
//!                equals the group reloaded from its record (an incremental fold equals a fold
//!                from scratch: the state is a function of the set of events, DECISIONS.md
//!                "Private group chats")
//! ```
//!
//! The fixture is built once per process from `ChaCha20Rng::seed_from_u64(GROUP_SEED)`: five
//! identities (alice, bob, carol, dave, erin) in that order, then alice's group:
//!
//! ```text
//! t = FIXTURE_NOW_MS
//! t      alice creates "fuzz" (#336699), inviting bob, carol, dave
//! t + 1  bob joins                                         ← `fork` is alice's group here
//! t + 2  carol joins
//! t + 3  alice makes bob an admin                          ← `group`
//! erin is never invited
//! ```

use std::sync::OnceLock;

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::limits::MAX_EVENTS_PER_MESSAGE;
use kaiwa_group::{
    ChatMessageDraft, Event, EventId, Group, GroupId, IncomingMessage, LamportTime, MemberId,
    OutgoingMessage, ReactionKind, UnverifiedEvent, VerifiedEvent,
};
use kaiwa_wire::net::MembershipUpdateMessage;
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::store::GroupRecord as GroupRecordProto;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::frames::{Frame, encode_frames, frames};

/// The fixture's "now" (2023-11-14T22:13:20Z) in Unix milliseconds; its events carry clocks
/// `FIXTURE_NOW_MS ..= FIXTURE_NOW_MS + 3`.
pub const FIXTURE_NOW_MS: u64 = 1_700_000_000_000;

/// Seed of the group fixture.
const GROUP_SEED: u64 = 0x6b61_6977_6167_7270; // "kaiwagrp"

/// Size of the cast; a frame's sender byte is reduced modulo this.
pub(crate) const CAST: usize = 5;
pub(crate) const ALICE: usize = 0;
pub(crate) const BOB: usize = 1;
pub(crate) const CAROL: usize = 2;
pub(crate) const DAVE: usize = 3;
pub(crate) const ERIN: usize = 4;

/// The state-machine target's fixed cast and groups (module doc).
pub(crate) struct GroupFixture {
    keys: [IdentityKeyPair; CAST],
    ids: [MemberId; CAST],
    /// Alice's group after the whole history.
    pub(crate) group: Group,
    /// Alice's group after bob joined, before carol joined.
    fork: Group,
    /// Another group created by alice, for chat-id binding checks.
    other: GroupId,
    /// Every element of `group`'s log, from its record.
    pub(crate) elements: Vec<Vec<u8>>,
}

impl GroupFixture {
    /// The key of cast member `who` (`who` below [`CAST`]).
    pub(crate) fn key(&self, who: usize) -> &IdentityKeyPair {
        self.keys.get(who).expect("cast index")
    }

    /// The id of cast member `who` (`who` below [`CAST`]).
    pub(crate) fn id(&self, who: usize) -> MemberId {
        *self.ids.get(who).expect("cast index")
    }
}

/// Delivers a local action's message to `group`, as the peers' clients would.
fn deliver(group: &mut Group, out: &OutgoingMessage, sender: &MemberId, now_ms: u64) {
    let message = IncomingMessage::decode(&out.bytes).expect("our own messages decode");
    group.receive(message, sender, now_ms).expect("our own messages are accepted");
}

/// The fixture (module doc), built on first use.
pub(crate) fn group_fixture() -> &'static GroupFixture {
    static FIXTURE: OnceLock<GroupFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(GROUP_SEED);
        let keys: [IdentityKeyPair; CAST] =
            core::array::from_fn(|_| IdentityKeyPair::generate(&mut rng));
        let ids = keys.each_ref().map(|key| MemberId::new(key.public_key()));
        let [alice, bob, carol, ..] = &keys;
        let [alice_id, bob_id, carol_id, dave_id, _] = ids;
        let t = FIXTURE_NOW_MS;
        let (mut group, _) =
            Group::create(alice, "fuzz", "#336699", &[bob_id, carol_id, dave_id], &mut rng, t)
                .expect("the fixture group is valid");
        let joined = group.clone().join(bob, t + 1).expect("bob was invited");
        deliver(&mut group, &joined, &bob_id, t + 1);
        let fork = group.clone();
        let joined = group.clone().join(carol, t + 2).expect("carol was invited");
        deliver(&mut group, &joined, &carol_id, t + 2);
        group.add_admins(alice, &[bob_id], t + 3).expect("alice is an admin");
        let other = GroupId::generate(&alice_id, &mut rng);
        let elements = GroupRecordProto::decode(group.to_record_bytes().as_slice())
            .expect("our own record decodes")
            .events
            .clone();
        GroupFixture { keys, ids, group, fork, other, elements }
    })
}

/// `IncomingMessage::decode` with event verification, and the id parsers (module doc).
pub fn group_message(data: &[u8]) {
    if let Ok(message) = IncomingMessage::decode(data) {
        assert!(message.events().len() <= MAX_EVENTS_PER_MESSAGE);
        for event in message.events() {
            let _ = event.clone().verify(message.group_id());
        }
    }
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(group) = GroupId::parse(text) {
        assert_eq!(group.as_str(), text);
        let creator = group.creator().to_text();
        assert_eq!(creator.get(2..), text.get(..64), "the creator is the chat id's prefix");
    }
    if let Ok(member) = MemberId::from_text(text) {
        assert_eq!(member.to_text(), text, "a member id has one text form");
    }
}

/// `UnverifiedEvent::decode` and `verify` (module doc).
pub fn group_event(data: &[u8]) {
    let Ok(event) = UnverifiedEvent::decode(data) else { return };
    assert_eq!(event.id(), EventId::of_element(data));
    let fixture = group_fixture();
    let Ok(verified) = event.clone().verify(fixture.group.id()) else { return };
    assert_eq!(verified.element(), data, "verified over the bytes received");
    assert_eq!((verified.clock(), verified.author()), (event.clock(), event.author()));
    assert!(event.verify(&fixture.other).is_err(), "an event is bound to its chat id");
}

/// `Group::from_record_bytes` and the record round trip (module doc).
pub fn group_record(data: &[u8]) {
    let Ok(group) = Group::from_record_bytes(data) else { return };
    let reloaded = Group::from_record_bytes(&group.to_record_bytes());
    assert_eq!(reloaded.as_ref(), Ok(&group), "a group survives its record");
}

/// The state machine: the fixture's group receives the input's frames (module doc).
pub fn group_receive(data: &[u8]) {
    let fixture = group_fixture();
    let mut group = fixture.group.clone();
    let mut now_ms = FIXTURE_NOW_MS;
    let mut first = true;
    for frame in frames(data) {
        now_ms += u64::from(frame.delay_s) * 1_000;
        let sender = fixture.id(usize::from(frame.sender) % CAST);
        let Ok(message) = IncomingMessage::decode(frame.message) else { continue };
        if first {
            first = false;
            first_message(fixture, frame.message, &sender, now_ms);
        }
        let before = group.clone();
        let record_before = group.to_record_bytes();
        if group.receive(message, &sender, now_ms).is_err() {
            assert_eq!(group, before, "a rejected message changed the group");
            assert_eq!(
                group.to_record_bytes(),
                record_before,
                "a rejected message changed the record"
            );
            continue;
        }
        let after = group.clone();
        let again = IncomingMessage::decode(frame.message).expect("the same bytes decode again");
        let outcome =
            group.receive(again, &sender, now_ms).expect("an accepted message is accepted again");
        assert!(outcome.accepted.is_empty(), "a message received twice accepted new events");
        assert_eq!(group, after, "a message received twice changed the group");
        let reloaded = Group::from_record_bytes(&group.to_record_bytes());
        assert_eq!(reloaded.as_ref(), Ok(&group), "the incremental state differs from a reload");
    }
}

/// `Group::from_first_message` for dave (invited), from the first message of an input.
fn first_message(fixture: &GroupFixture, bytes: &[u8], sender: &MemberId, now_ms: u64) {
    let message = IncomingMessage::decode(bytes).expect("the same bytes decode again");
    let claimed = message.group_id().clone();
    if let Ok((group, _)) = Group::from_first_message(message, sender, &fixture.id(DAVE), now_ms) {
        assert_eq!(group.id(), &claimed);
        let reloaded = Group::from_record_bytes(&group.to_record_bytes());
        assert_eq!(reloaded.as_ref(), Ok(&group), "a first-message group survives its record");
    }
}

/// A `MembershipUpdateMessage` carrying `elements` and no chat entity, built by hand (for
/// messages the crate's API refuses to make, such as a non-admin's rename).
pub(crate) fn raw_message(group: &GroupId, elements: &[&[u8]]) -> Vec<u8> {
    MembershipUpdateMessage {
        chat_id: group.as_str().to_owned(),
        events: elements.iter().map(|e| e.to_vec()).collect(),
        chat_entity: None,
    }
    .encode_to_vec()
}

/// The elements of an encoded group message.
pub(crate) fn elements(bytes: &[u8]) -> Vec<Vec<u8>> {
    MembershipUpdateMessage::decode(bytes).expect("our own messages decode").events
}

/// `MemberJoined` → `member-joined`.
fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Seeds of the group targets: real messages of the fixture's cast, made through the crate's
/// API (and, for what the API refuses to make, signed with its own `VerifiedEvent::sign`).
pub(crate) fn group_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let f = group_fixture();
    let g = &f.group;
    let t = FIXTURE_NOW_MS + 1_000;
    let act = |who: usize, action: &dyn Fn(&mut Group, &IdentityKeyPair) -> OutgoingMessage| {
        action(&mut g.clone(), f.key(who)).bytes
    };
    let frame = |sender: usize, delay_s: u8, message: &[u8]| {
        let sender = u8::try_from(sender).expect("cast index");
        encode_frames(&[Frame { sender, delay_s, message }])
    };

    let dave_joins = act(DAVE, &|g, k| g.join(k, t).expect("dave was invited"));
    let bob_renames = act(BOB, &|g, k| g.rename(k, "renamed", t).expect("bob is an admin"));
    let carol_id = f.id(CAROL);
    let (carol_says, _) =
        g.clone().send_message(&carol_id, ChatMessageDraft::text("hi"), t).expect("joined");
    let (carol_reacts, _) = g
        .clone()
        .send_reaction(&carol_id, "0x1234", ReactionKind::Love, false, t)
        .expect("carol has joined");
    let bob_removes_dave =
        act(BOB, &|g, k| g.remove_member(k, &f.id(DAVE), t).expect("dave is not an admin"));
    let carol_leaves = act(CAROL, &|g, k| g.leave(k, t).expect("carol is a member"));
    let sync = g.sync_message(&f.id(ALICE)).expect("the fixture fits a message").bytes;
    // Concurrent with alice's later events: sorts before the fixture's last event.
    let concurrent_join =
        f.fork.clone().join(f.key(DAVE), FIXTURE_NOW_MS + 2).expect("dave was invited").bytes;
    let future_rename =
        act(BOB, &|g, k| g.rename(k, "later", t + 10 * 60 * 1_000).expect("bob is an admin"));
    let mut forged = elements(&bob_renames);
    if let Some(byte) = forged.last_mut().and_then(|e| e.first_mut()) {
        *byte ^= 0x01;
    }
    let forged = raw_message(g.id(), &forged.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let mut rng = ChaCha20Rng::seed_from_u64(GROUP_SEED ^ 1);
    let (_, elsewhere) = Group::create(f.key(ERIN), "other", "", &[f.id(ALICE)], &mut rng, t)
        .expect("erin may create a group");
    let carol_renames = VerifiedEvent::sign(
        f.key(CAROL),
        g.id(),
        LamportTime(t),
        &Event::NameChanged { name: "mine".to_owned() },
    )
    .expect("a valid event");
    let carol_renames = raw_message(g.id(), &[carol_renames.element()]);
    let recolor = act(BOB, &|g, k| g.change_color(k, "#00ff00", t).expect("bob is an admin"));
    let image = act(BOB, &|g, k| g.change_image(k, b"\x89PNG\r\n\x1a\n", t).expect("admin"));

    let mut both = g.clone();
    let join_first = both.join(f.key(DAVE), t).expect("dave was invited").bytes;
    let rename_after = both.rename(f.key(BOB), "both", t + 1).expect("bob is an admin").bytes;
    let mut removed = g.clone();
    let remove_carol =
        removed.remove_member(f.key(BOB), &carol_id, t).expect("carol is not an admin").bytes;

    for (name, message) in [
        ("sync", &sync),
        ("chat-message", &carol_says.bytes),
        ("reaction", &carol_reacts.bytes),
        ("other-group-invite", &elsewhere.bytes),
    ] {
        push("group_message", name, message.clone());
    }
    push("group_message", "group-id", g.id().as_str().as_bytes().to_vec());
    push("group_message", "member-id", f.id(ERIN).to_text().into_bytes());

    let mut events: Vec<Vec<u8>> = elements(&sync);
    for message in [&carol_renames, &recolor, &image, &bob_removes_dave] {
        events.extend(elements(message).last().cloned());
    }
    for (index, element) in events.into_iter().enumerate() {
        let kind = UnverifiedEvent::decode(&element).expect("our own events decode").event().kind();
        push("group_event", &format!("{index}-{}", kebab(&format!("{kind:?}"))), element);
    }

    push("group_record", "fixture", g.to_record_bytes());
    push("group_record", "fork", f.fork.to_record_bytes());
    let mut version_2 = GroupRecordProto::decode(f.fork.to_record_bytes().as_slice())
        .expect("our own record decodes");
    version_2.version = 2;
    push("group_record", "version-2", version_2.encode_to_vec());

    for (name, input) in [
        ("dave-joins", frame(DAVE, 1, &dave_joins)),
        ("bob-renames", frame(BOB, 1, &bob_renames)),
        ("carol-message", frame(CAROL, 1, &carol_says.bytes)),
        ("carol-reaction", frame(CAROL, 1, &carol_reacts.bytes)),
        ("outsider-message", frame(ERIN, 1, &carol_says.bytes)),
        ("bob-removes-dave", frame(BOB, 1, &bob_removes_dave)),
        ("carol-leaves", frame(CAROL, 1, &carol_leaves)),
        ("sync-duplicates", frame(ALICE, 1, &sync)),
        ("concurrent-join", frame(DAVE, 0, &concurrent_join)),
        ("future-rename", frame(BOB, 1, &future_rename)),
        ("forged-signature", frame(BOB, 1, &forged)),
        ("wrong-group", frame(ERIN, 1, &elsewhere.bytes)),
        ("unauthorized-rename", frame(CAROL, 1, &carol_renames)),
        ("join-then-rename", [frame(DAVE, 1, &join_first), frame(BOB, 1, &rename_after)].concat()),
        ("rename-then-join", [frame(BOB, 1, &rename_after), frame(DAVE, 1, &join_first)].concat()),
        (
            "removed-then-speaks",
            [frame(BOB, 1, &remove_carol), frame(CAROL, 1, &carol_says.bytes)].concat(),
        ),
    ] {
        push("group_receive", name, input);
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_group::{ChatEntityError, ReceiveError, ReceiveOutcome, RejectReason};

    use super::*;
    use crate::seeds::seeds;

    /// What the fixture's group makes of each frame of the `group_receive` seed `name`.
    fn outcomes(name: &str) -> Vec<Result<ReceiveOutcome, ReceiveError>> {
        let seed = seeds()
            .into_iter()
            .find(|s| s.target == "group_receive" && s.name == name)
            .expect("seed exists");
        let f = group_fixture();
        let mut group = f.group.clone();
        let mut now_ms = FIXTURE_NOW_MS;
        frames(&seed.bytes)
            .map(|frame| {
                now_ms += u64::from(frame.delay_s) * 1_000;
                let message = IncomingMessage::decode(frame.message).expect("seeds decode");
                group.receive(message, &f.id(usize::from(frame.sender) % CAST), now_ms)
            })
            .collect()
    }

    fn accepted(name: &str) -> Vec<usize> {
        outcomes(name).into_iter().map(|o| o.expect("accepted").accepted.len()).collect()
    }

    fn only(name: &str) -> ReceiveOutcome {
        let mut all = outcomes(name);
        assert_eq!(all.len(), 1);
        all.remove(0).expect("accepted")
    }

    #[test]
    fn receive_seeds_reach_the_paths_they_are_named_after() {
        for name in ["dave-joins", "bob-renames", "bob-removes-dave", "carol-leaves"] {
            assert_eq!(accepted(name), [1], "{name}");
        }
        // Sorts before the fixture's last event: the fold is recomputed, not stepped.
        assert_eq!(accepted("concurrent-join"), [1]);
        assert!(matches!(only("carol-message").entity, Some(Ok(_))));
        assert!(matches!(only("carol-reaction").entity, Some(Ok(_))));
        assert_eq!(only("outsider-message").entity, Some(Err(ChatEntityError::SenderNotJoined)));
        let sync = only("sync-duplicates");
        assert_eq!((sync.accepted.len(), sync.rejected.len(), sync.duplicates), (0, 0, 5));
        let reasons = |o: ReceiveOutcome| o.rejected.iter().map(|r| r.reason).collect::<Vec<_>>();
        assert_eq!(reasons(only("future-rename")), [RejectReason::FromTheFuture]);
        assert_eq!(reasons(only("unauthorized-rename")), [RejectReason::NotAdmin]);
        assert_eq!(outcomes("forged-signature"), [Err(ReceiveError::Unauthenticated)]);
        assert_eq!(outcomes("wrong-group"), [Err(ReceiveError::WrongGroup)]);
        assert_eq!(accepted("join-then-rename"), [1, 1]);
        // The rename carries the join in its compacted log, so the join then duplicates it.
        assert_eq!(accepted("rename-then-join"), [2, 0]);
        let spoke = outcomes("removed-then-speaks").pop().expect("two frames").expect("accepted");
        assert_eq!(spoke.entity, Some(Err(ChatEntityError::SenderNotJoined)));
    }

    #[test]
    fn fixture_is_the_documented_history() {
        let f = group_fixture();
        let state = f.group.state();
        assert_eq!(state.name(), "fuzz");
        assert!(state.is_admin(&f.id(ALICE)) && state.is_admin(&f.id(BOB)));
        assert!(state.is_joined(&f.id(BOB)) && state.is_joined(&f.id(CAROL)));
        assert!(state.is_member(&f.id(DAVE)) && !state.is_joined(&f.id(DAVE)));
        assert!(!state.is_member(&f.id(ERIN)));
        assert!(f.fork.state().is_joined(&f.id(BOB)) && !f.fork.state().is_joined(&f.id(CAROL)));
    }
}
