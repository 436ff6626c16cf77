//! The log is a CRDT: replicas holding the same set of signed events reach the same state,
//! whatever order, duplication or batching delivered them, and merging logs is a set union.
//!
//! Signing and verifying dominate the cost, so a pool of random scenarios is signed once and
//! the properties pick subsets, permutations and duplications of it. Each scenario is a random
//! walk over 6 identities: mostly "causal" events (clock above everything seen, author chosen
//! to be plausible in the current state) mixed with concurrent and stale ones (random clocks,
//! random authors), so folds see ties, reorderings and many rejected events.

use std::sync::OnceLock;

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::{
    Event, EventId, Group, GroupId, IncomingMessage, LamportTime, MemberId, MembershipLog,
    VerifiedEvent,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use super::support::{NOW, id, keypair};

const SCENARIOS: usize = 48;
const EVENTS: usize = 40;
const KEYS: usize = 6;

struct Scenario {
    group: GroupId,
    keys: Vec<IdentityKeyPair>,
    events: Vec<VerifiedEvent>,
    /// Whether each event was valid against its author's view when generated (causal events
    /// only; `None` for concurrent ones).
    valid_when_made: Vec<Option<bool>>,
}

fn pick<'a, T>(rng: &mut ChaCha20Rng, items: &'a [T]) -> &'a T {
    &items[(rng.next_u64() % items.len() as u64) as usize]
}

fn scenario(seed: u64, causal_only: bool) -> Scenario {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let keys: Vec<IdentityKeyPair> = (0..KEYS as u64).map(|i| keypair(1_000 + i)).collect();
    let ids: Vec<MemberId> = keys.iter().map(id).collect();
    let group = GroupId::generate(&ids[0], &mut rng);
    let mut log = MembershipLog::new(group.clone());
    let mut events = Vec::new();
    let mut valid_when_made = Vec::new();
    let created = VerifiedEvent::sign(
        &keys[0],
        &group,
        LamportTime(10),
        &Event::ChatCreated { name: "g".into(), color: String::new() },
    )
    .unwrap();
    log.insert(created.clone()).unwrap();
    events.push(created);
    valid_when_made.push(Some(true));
    while events.len() < EVENTS {
        let state = log.fold().state().clone();
        let causal = causal_only || rng.next_u64() % 10 < 8;
        // CHAT_CREATED again (kind 8) is rare; it is always rejected.
        let mut kind = rng.next_u64() % 17 / 2;
        let admin_count = ids.iter().filter(|m| state.is_admin(m)).count();
        if causal && admin_count <= 1 && matches!(kind, 4 | 5) && rng.next_u64() % 4 != 0 {
            // Keep most groups alive: the last admin rarely leaves; promote someone instead.
            kind = 2;
        }
        let members_now: Vec<MemberId> =
            ids.iter().filter(|m| state.is_member(m)).copied().collect();
        let target = if causal
            && matches!(kind, 2 | 4)
            && !members_now.is_empty()
            && rng.next_u64() % 4 != 0
        {
            *pick(&mut rng, &members_now)
        } else {
            *pick(&mut rng, &ids)
        };
        let admins: Vec<usize> = (0..KEYS).filter(|&i| state.is_admin(&ids[i])).collect();
        let members: Vec<usize> = (0..KEYS).filter(|&i| state.is_member(&ids[i])).collect();
        let any: Vec<usize> = (0..KEYS).collect();
        let plausible = match kind {
            3 | 4 => &members,
            _ => &admins,
        };
        let author = if causal && !plausible.is_empty() && rng.next_u64() % 8 != 0 {
            *pick(&mut rng, plausible)
        } else {
            *pick(&mut rng, &any)
        };
        let event = match kind {
            0 => Event::NameChanged { name: format!("n{}", rng.next_u64() % 100) },
            1 => Event::MembersAdded {
                members: if rng.next_u64() % 2 == 0 {
                    vec![target]
                } else {
                    let other = *pick(&mut rng, &ids);
                    if other == target { vec![target] } else { vec![target, other] }
                },
            },
            2 => Event::AdminsAdded { admins: vec![target] },
            3 => Event::MemberJoined,
            4 => Event::MemberRemoved {
                member: if rng.next_u64() % 4 == 0 { ids[author] } else { target },
            },
            5 => Event::AdminRemoved {
                admin: if rng.next_u64() % 4 == 0 { target } else { ids[author] },
            },
            6 => Event::ColorChanged { color: format!("#{}", rng.next_u64() % 1000) },
            7 => Event::ImageChanged { image: vec![(rng.next_u64() % 256) as u8; 3] },
            _ => Event::ChatCreated { name: "again".into(), color: String::new() },
        };
        let max = log.max_clock().0;
        let clock =
            if causal { max + 1 + rng.next_u64() % 3 } else { 1 + rng.next_u64() % (max + 5) };
        let signed =
            VerifiedEvent::sign(&keys[author], &group, LamportTime(clock), &event).unwrap();
        if log.insert(signed.clone()).unwrap() == kaiwa_group::Inserted::Duplicate {
            continue;
        }
        let valid = log.fold().rejection(&signed.id()).is_none();
        valid_when_made.push(causal.then_some(valid));
        events.push(signed);
    }
    Scenario { group, keys, events, valid_when_made }
}

fn pool() -> &'static [Scenario] {
    static POOL: OnceLock<Vec<Scenario>> = OnceLock::new();
    POOL.get_or_init(|| (0..SCENARIOS as u64).map(|s| scenario(s, s % 8 == 7)).collect())
}

/// A deterministic shuffle from `seed` (Fisher–Yates).
fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

fn log_of<'a>(
    group: &GroupId,
    events: impl IntoIterator<Item = &'a VerifiedEvent>,
) -> MembershipLog {
    let mut log = MembershipLog::new(group.clone());
    for e in events {
        log.insert(e.clone()).unwrap();
    }
    log
}

fn subset(s: &Scenario, mask: &[bool]) -> Vec<VerifiedEvent> {
    s.events.iter().zip(mask).filter(|(_, keep)| **keep).map(|(e, _)| e.clone()).collect()
}

#[test]
fn scenarios_exercise_both_outcomes() {
    let (mut accepted, mut rejected) = (0, 0);
    for s in pool() {
        let fold = log_of(&s.group, &s.events).fold();
        let r = fold.rejected().len();

        rejected += r;
        accepted += s.events.len() - r;
    }
    // Not a tautology: a generator producing only valid (or only invalid) events would make the
    // convergence properties below weak.
    assert!(accepted > SCENARIOS * EVENTS / 3, "accepted {accepted}, rejected {rejected}");
    assert!(rejected > SCENARIOS * EVENTS / 8, "accepted {accepted}, rejected {rejected}");
}

#[test]
fn causal_replay_matches_the_authors_views() {
    // In a causal-only scenario every event was made against the full state before it, so the
    // fold must accept exactly the events that were valid when made.
    for s in pool().iter().filter(|s| s.valid_when_made.iter().all(Option::is_some)) {
        let fold = log_of(&s.group, shuffled(&s.events, 3).iter()).fold();
        for (e, valid) in s.events.iter().zip(&s.valid_when_made) {
            assert_eq!(fold.rejection(&e.id()).is_none(), valid.unwrap(), "{:?}", e.event());
        }
    }
}

proptest! {
    // 10 000 cases run in a few seconds in debug builds: each case only inserts and folds.
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any permutation and duplication of any subset gives the same fold on every replica.
    #[test]
    fn permutation_and_duplication_converge(
        which in 0..SCENARIOS,
        mask in prop::collection::vec(any::<bool>(), EVENTS),
        order_a in any::<u64>(),
        order_b in any::<u64>(),
        dups in prop::collection::vec(0..EVENTS, 0..8),
    ) {
        let s = &pool()[which];
        let events = subset(s, &mask);
        let reference = log_of(&s.group, &events).fold();

        let mut with_dups = events.clone();
        with_dups.extend(dups.iter().filter_map(|&i| events.get(i % events.len().max(1)).cloned()));
        let a = log_of(&s.group, shuffled(&with_dups, order_a).iter());
        let b = log_of(&s.group, shuffled(&events, order_b).iter());
        prop_assert_eq!(a.len(), events.len());
        prop_assert_eq!(&a.fold(), &reference);
        prop_assert_eq!(&b.fold(), &reference);
        prop_assert_eq!(a, b);
    }

    /// Merging is a set union: commutative, idempotent, and equal to the log of the union.
    #[test]
    fn merge_is_set_union(
        which in 0..SCENARIOS,
        mask_a in prop::collection::vec(any::<bool>(), EVENTS),
        mask_b in prop::collection::vec(any::<bool>(), EVENTS),
    ) {
        let s = &pool()[which];
        let a = log_of(&s.group, &subset(s, &mask_a));
        let b = log_of(&s.group, &subset(s, &mask_b));
        let union: Vec<bool> = mask_a.iter().zip(&mask_b).map(|(x, y)| *x || *y).collect();
        let expected = log_of(&s.group, &subset(s, &union));
        let mut ab = a.clone();
        let mut ba = b.clone();
        let new_ab = ab.merge(&b).unwrap();
        ba.merge(&a).unwrap();
        prop_assert_eq!(new_ab, expected.len() - a.len());
        prop_assert_eq!(&ab, &expected);
        prop_assert_eq!(&ba, &expected);
        prop_assert_eq!(ab.merge(&b).unwrap(), 0, "idempotent");
        prop_assert_eq!(ab.fold(), expected.fold());
    }

    /// Sending the compacted log rebuilds the same state as the full log.
    #[test]
    fn compaction_preserves_state(
        which in 0..SCENARIOS,
        mask in prop::collection::vec(any::<bool>(), EVENTS),
    ) {
        let s = &pool()[which];
        let log = log_of(&s.group, &subset(s, &mask));
        let fold = log.fold();
        let compacted = log_of(&s.group, log.compact(&fold));
        prop_assert!(compacted.len() <= log.len());
        let refolded = compacted.fold();
        prop_assert_eq!(refolded.state(), fold.state());
        prop_assert_eq!(refolded.rejected().len(), 0);
    }
}

/// Events as the wire messages a replica would receive, `batch` events per message.
fn messages(group: &GroupId, events: &[VerifiedEvent], batch: usize) -> Vec<Vec<u8>> {
    use prost::Message as _;
    events
        .chunks(batch.max(1))
        .map(|chunk| {
            kaiwa_wire::net::MembershipUpdateMessage {
                chat_id: group.as_str().to_owned(),
                events: chunk.iter().map(|e| e.element().to_vec()).collect(),
                chat_entity: None,
            }
            .encode_to_vec()
        })
        .collect()
}

proptest! {
    // Verifies every signature again per case, so fewer cases.
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Through `Group::receive` (verification, incremental fold, batching): same state as the
    /// fold of the set, and a delivery order or batching never matters.
    #[test]
    fn receiving_in_any_batches_converges(
        which in 0..SCENARIOS,
        mask in prop::collection::vec(any::<bool>(), EVENTS),
        order in any::<u64>(),
        batch in 1usize..12,
    ) {
        let s = &pool()[which];
        let mut events = subset(s, &mask);
        // A replica needs CHAT_CREATED to accept the group; the first message carries it.
        events.retain(|e| e.id() != s.events[0].id());
        let mut shuffled_events = vec![s.events[0].clone()];
        shuffled_events.extend(shuffled(&events, order));
        let sender = id(&s.keys[0]);
        let mut group: Option<Group> = None;
        for bytes in messages(&s.group, &shuffled_events, batch) {
            let msg = IncomingMessage::decode(&bytes).unwrap();
            match group.as_mut() {
                None => group = Some(Group::from_first_message(msg, &sender, &sender, NOW).unwrap().0),
                Some(g) => { g.receive(msg, &sender, NOW).unwrap(); }
            }
        }
        let group = group.unwrap();
        let reference = log_of(&s.group, &shuffled_events).fold();
        prop_assert_eq!(group.fold(), &reference);
        let ids: Vec<EventId> = group.log().iter().map(VerifiedEvent::id).collect();
        prop_assert_eq!(ids.len(), shuffled_events.len());
    }
}
