//! `group_convergence`: the membership log as a CRDT. The input describes membership events by
//! the fixture's cast, the target signs them (so, unlike `group_receive`, the fuzzer reaches
//! every authorization rule with authentic events), and delivers them to replicas of the
//! fixture's group in different ways.
//!
//! ```text
//! input   = op*                                  at most MAX_OPS; a trailing partial op is ignored
//! op      = author (1) ‖ kind (1) ‖ clock (1) ‖ arg (1)
//! author  = cast[author mod 5]                   (alice, bob, carol, dave, erin; group.rs)
//! clock   = FIXTURE_NOW_MS − 16 + clock          (may precede CHAT_CREATED at FIXTURE_NOW_MS, or
//!                                                 tie with the fixture's events at +0..+3)
//! kind mod 9, with one = cast[arg mod 5] and some = the cast members whose bit is set in arg
//! (bits 0..4; `one` if none is):
//!   0 CHAT_CREATED  "again", ""     3 MEMBER_JOINED             6 ADMIN_REMOVED  one
//!   1 NAME_CHANGED  "name-<arg>"    4 MEMBER_REMOVED  one       7 COLOR_CHANGED  "#<arg hex>"
//!   2 MEMBERS_ADDED some            5 ADMINS_ADDED    some      8 IMAGE_CHANGED  [arg; 1 + arg mod 8]
//! An op whose event a peer's decoder refuses (VerifiedEvent::sign fails) is skipped.
//!
//! replicas (all start from the fixture's group; each event in its own message unless said):
//!   forward   events in input order           backward  events in reverse order
//!   batched   every event in one message      fresh     Group::from_first_message of one message
//!                                                       holding the fixture's log and every event
//! checks (DECISIONS.md "Private group chats": the state is a pure function of the set of valid
//! events; duplicates are idempotent):
//!   every receive succeeds; forward = backward = batched = fresh (the whole Group: log, fold,
//!   clock); forward survives its record; every admin is a member
//! ```

use kaiwa_group::{Event, Group, IncomingMessage, LamportTime, MemberId, VerifiedEvent};

use crate::group::{
    ALICE, BOB, CAROL, CAST, DAVE, ERIN, FIXTURE_NOW_MS, GroupFixture, group_fixture, raw_message,
};

/// Ops read from one input: enough for any authorization interplay the cast can have, few
/// enough that each run (every event signed once and verified five times) stays fast.
const MAX_OPS: usize = 12;

/// Clocks start this far before the fixture's `CHAT_CREATED`.
const CLOCK_OFFSET: u64 = 16;

/// One op of the input layout (module doc), for seeds.
#[derive(Debug, Clone, Copy)]
struct Op {
    author: usize,
    kind: u8,
    clock: u8,
    arg: u8,
}

fn encode_ops(ops: &[Op]) -> Vec<u8> {
    ops.iter()
        .flat_map(|op| {
            let author = u8::try_from(op.author).expect("cast index");
            [author, op.kind, op.clock, op.arg]
        })
        .collect()
}

/// The event of `kind` with `arg` (module doc table).
fn event(fixture: &GroupFixture, kind: u8, arg: u8) -> Event {
    let one = fixture.id(usize::from(arg) % CAST);
    let mut some: Vec<MemberId> =
        (0..CAST).filter(|i| arg & (1 << i) != 0).map(|i| fixture.id(i)).collect();
    if some.is_empty() {
        some.push(one);
    }
    match kind % 9 {
        0 => Event::ChatCreated { name: "again".to_owned(), color: String::new() },
        1 => Event::NameChanged { name: format!("name-{arg}") },
        2 => Event::MembersAdded { members: some },
        3 => Event::MemberJoined,
        4 => Event::MemberRemoved { member: one },
        5 => Event::AdminsAdded { admins: some },
        6 => Event::AdminRemoved { admin: one },
        7 => Event::ColorChanged { color: format!("#{arg:02x}{arg:02x}{arg:02x}") },
        _ => Event::ImageChanged { image: vec![arg; 1 + usize::from(arg % 8)] },
    }
}

/// Replicas of the fixture's group receiving signed events in different orders (module doc).
pub fn group_convergence(data: &[u8]) {
    let fixture = group_fixture();
    let group = fixture.group.id();
    let now_ms = FIXTURE_NOW_MS + 1_000;
    let mut signed: Vec<(MemberId, Vec<u8>)> = Vec::new();
    for op in data.chunks_exact(4).take(MAX_OPS) {
        let &[author, kind, clock, arg] = op else { continue };
        let author = usize::from(author) % CAST;
        let clock = LamportTime(FIXTURE_NOW_MS - CLOCK_OFFSET + u64::from(clock));
        let event = event(fixture, kind, arg);
        let Ok(event) = VerifiedEvent::sign(fixture.key(author), group, clock, &event) else {
            continue;
        };
        signed.push((fixture.id(author), event.element().to_vec()));
    }
    let decode = |elements: &[&[u8]]| {
        IncomingMessage::decode(&raw_message(group, elements)).expect("signed events decode")
    };
    let deliver = |order: &mut dyn Iterator<Item = &(MemberId, Vec<u8>)>| {
        let mut replica = fixture.group.clone();
        for (author, element) in order {
            replica.receive(decode(&[element]), author, now_ms).expect("authentic events");
        }
        replica
    };
    let forward = deliver(&mut signed.iter());
    let backward = deliver(&mut signed.iter().rev());
    assert_eq!(forward, backward, "delivery order changed the group");

    let new: Vec<&[u8]> = signed.iter().map(|(_, element)| element.as_slice()).collect();
    let mut batched = fixture.group.clone();
    batched.receive(decode(&new), &fixture.id(ALICE), now_ms).expect("authentic events");
    assert_eq!(batched, forward, "one message and many messages differ");

    let all: Vec<&[u8]> =
        fixture.elements.iter().map(Vec::as_slice).chain(new.iter().copied()).collect();
    let alice = fixture.id(ALICE);
    match Group::from_first_message(decode(&all), &alice, &alice, now_ms) {
        Ok((fresh, _)) => assert_eq!(fresh, forward, "a new replica differs"),
        Err(error) => panic!("a replica with every event cannot be created: {error:?}"),
    }

    let reloaded = Group::from_record_bytes(&forward.to_record_bytes());
    assert_eq!(reloaded.as_ref(), Ok(&forward), "a group survives its record");
    let state = forward.state();
    assert!(state.admins().all(|admin| state.is_member(admin)), "every admin is a member");
}

/// Seeds of `group_convergence`: small histories that reach the authorization rules, with clocks
/// that tie with each other and with the fixture's events.
pub(crate) fn convergence_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let op = |author, kind, clock, arg| Op { author, kind, clock, arg };
    let at = |offset: u8| 16 + offset; // clock byte of FIXTURE_NOW_MS + offset
    let bits = |members: &[usize]| members.iter().fold(0u8, |acc, m| acc | (1 << m));
    let who = |member: usize| u8::try_from(member).expect("cast index");
    for (name, ops) in [
        ("dave-joins-bob-renames", vec![op(DAVE, 3, at(10), 0), op(BOB, 1, at(11), 7)]),
        (
            "admin-removal-race",
            vec![
                op(BOB, 4, at(10), who(CAROL)),
                op(CAROL, 4, at(10), who(CAROL)),
                op(ALICE, 4, at(10), who(BOB)),
                op(BOB, 6, at(11), who(BOB)),
                op(ALICE, 4, at(12), who(BOB)),
            ],
        ),
        (
            "invite-promote-rename",
            vec![
                op(ALICE, 2, at(5), bits(&[ERIN])),
                op(ALICE, 5, at(5), bits(&[ERIN])),
                op(ERIN, 3, at(6), 0),
                op(ERIN, 1, at(7), 42),
            ],
        ),
        (
            "before-creation-and-recreate",
            vec![op(ALICE, 1, 0, 1), op(ALICE, 0, at(0), 0), op(ERIN, 0, at(4), 0)],
        ),
        (
            "concurrent-with-fixture",
            vec![
                op(CAROL, 3, at(1), 0),
                op(BOB, 7, at(2), 0x33),
                op(DAVE, 4, at(3), who(DAVE)),
                op(BOB, 8, at(3), 5),
            ],
        ),
        ("outsider", vec![op(ERIN, 3, at(5), 0), op(ERIN, 2, at(6), bits(&[ERIN]))]),
    ] {
        push("group_convergence", name, encode_ops(&ops));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use kaiwa_group::RejectReason;

    use super::*;
    use crate::seeds::seeds;

    /// Every rejection reason the fold gives to the seeds' events, delivered in input order.
    fn reasons_reached() -> BTreeSet<String> {
        let f = group_fixture();
        let mut reached = BTreeSet::new();
        for seed in seeds().into_iter().filter(|s| s.target == "group_convergence") {
            let mut replica = f.group.clone();
            for op in seed.bytes.chunks_exact(4) {
                let &[author, kind, clock, arg] = op else { continue };
                let author = usize::from(author) % CAST;
                let clock = LamportTime(FIXTURE_NOW_MS - CLOCK_OFFSET + u64::from(clock));
                let event =
                    VerifiedEvent::sign(f.key(author), f.group.id(), clock, &event(f, kind, arg))
                        .expect("seed events are valid");
                let message = raw_message(f.group.id(), &[event.element()]);
                let message = IncomingMessage::decode(&message).expect("decodes");
                let outcome = replica.receive(message, &f.id(author), FIXTURE_NOW_MS + 1_000);
                for rejected in outcome.expect("authentic").rejected {
                    reached.insert(format!("{:?}", rejected.reason));
                }
            }
        }
        reached
    }

    #[test]
    fn seeds_reach_the_authorization_rules() {
        let reached = reasons_reached();
        for reason in [
            RejectReason::BeforeCreation,
            RejectReason::AlreadyCreated,
            RejectReason::NotAdmin,
            RejectReason::NotMember,
            RejectReason::TargetIsAdmin,
        ] {
            assert!(
                reached.contains(&format!("{reason:?}")),
                "{reason:?} not reached: {reached:?}"
            );
        }
    }

    #[test]
    fn ops_map_to_the_documented_events() {
        let f = group_fixture();
        assert_eq!(event(f, 9 + 3, 0), Event::MemberJoined);
        assert_eq!(
            event(f, 2, 0b10_0110),
            Event::MembersAdded { members: vec![f.id(BOB), f.id(CAROL)] }
        );
        assert_eq!(event(f, 5, 0), Event::AdminsAdded { admins: vec![f.id(ALICE)] });
        assert_eq!(event(f, 4, 7), Event::MemberRemoved { member: f.id(CAROL) });
        assert_eq!(event(f, 8, 10), Event::ImageChanged { image: vec![10; 3] });
    }
}
