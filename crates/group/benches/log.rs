//! Membership-log benchmarks: folding 1k and 10k events from their received bytes (decode,
//! verify, insert, fold) against the floor of 10k bare `verify_strict` calls over the same
//! signed messages, replaying an already-verified log, and merging two divergent 5k logs.
//!
//! `cargo bench -p kaiwa-group -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs, reason = "benchmark binary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "benchmark setup"
)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kaiwa_crypto::{IdentityKeyPair, IdentityPublicKey, Signature};
use kaiwa_group::{
    EVENT_SIGNATURE_CONTEXT, Event, GroupId, LamportTime, MemberId, MembershipLog, UnverifiedEvent,
    VerifiedEvent,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn keypair(seed: u64) -> IdentityKeyPair {
    IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

struct Setup {
    group: GroupId,
    creator: IdentityKeyPair,
    admin: IdentityKeyPair,
    members: Vec<IdentityKeyPair>,
}

fn setup() -> Setup {
    let creator = keypair(1);
    let group =
        GroupId::generate(&MemberId::new(creator.public_key()), &mut ChaCha20Rng::seed_from_u64(2));
    Setup {
        group,
        creator,
        admin: keypair(3),
        members: (0..20).map(|i| keypair(100 + i)).collect(),
    }
}

/// `n` valid events: creation, a second admin, then cycles of rename / invite / join / remove /
/// recolour. `admin` selects who authors the cycles, so two runs diverge.
fn events(
    s: &Setup,
    n: usize,
    first_clock: u64,
    with_creation: bool,
    admin: &IdentityKeyPair,
) -> Vec<VerifiedEvent> {
    let mut out = Vec::with_capacity(n);
    let mut clock = first_clock;
    let mut push = |key: &IdentityKeyPair, event: Event, out: &mut Vec<VerifiedEvent>| {
        clock += 1;
        out.push(VerifiedEvent::sign(key, &s.group, LamportTime(clock), &event).unwrap());
    };
    if with_creation {
        push(
            &s.creator,
            Event::ChatCreated { name: "bench".into(), color: "#123456".into() },
            &mut out,
        );
        push(
            &s.creator,
            Event::MembersAdded { members: vec![MemberId::new(s.admin.public_key())] },
            &mut out,
        );
        push(&s.admin, Event::MemberJoined, &mut out);
        push(
            &s.creator,
            Event::AdminsAdded { admins: vec![MemberId::new(s.admin.public_key())] },
            &mut out,
        );
    }
    let mut i = 0usize;
    while out.len() < n {
        let member = &s.members[(i / 5) % s.members.len()];
        let member_id = MemberId::new(member.public_key());
        match i % 5 {
            0 => push(admin, Event::NameChanged { name: format!("name {i}") }, &mut out),
            1 => push(admin, Event::MembersAdded { members: vec![member_id] }, &mut out),
            2 => push(member, Event::MemberJoined, &mut out),
            3 => push(admin, Event::MemberRemoved { member: member_id }, &mut out),
            _ => push(admin, Event::ColorChanged { color: format!("#{:06x}", i) }, &mut out),
        }
        i += 1;
    }
    out
}

/// Folds a log from received elements: decode, verify, insert, fold.
fn fold_from_bytes(group: &GroupId, elements: &[Vec<u8>]) -> usize {
    let mut log = MembershipLog::new(group.clone());
    for element in elements {
        let event = UnverifiedEvent::decode(element).unwrap().verify(group).unwrap();
        log.insert(event).unwrap();
    }
    let fold = log.fold();
    assert_eq!(fold.rejected().len(), 0);
    fold.state().members().len()
}

/// The same signatures, checked with bare `verify_strict` over prepared inputs.
struct Prepared {
    key: IdentityPublicKey,
    message: Vec<u8>,
    signature: Signature,
}

fn prepare(group: &GroupId, events: &[VerifiedEvent]) -> Vec<Prepared> {
    events
        .iter()
        .map(|e| {
            let (sig, body) = e.element().split_at(64);
            let mut message = (group.as_str().len() as u32).to_be_bytes().to_vec();
            message.extend_from_slice(group.as_str().as_bytes());
            message.extend_from_slice(body);
            Prepared {
                key: *e.author().key(),
                message,
                signature: Signature::try_from(sig).unwrap(),
            }
        })
        .collect()
}

fn bench_fold(c: &mut Criterion) {
    let s = setup();
    let all = events(&s, 10_000, 0, true, &s.creator);
    let elements: Vec<Vec<u8>> = all.iter().map(|e| e.element().to_vec()).collect();
    let prepared = prepare(&s.group, &all);

    let mut g = c.benchmark_group("membership_log");
    g.sample_size(10);
    g.bench_function("verify_strict_floor/10k", |b| {
        b.iter(|| {
            for p in &prepared {
                p.key.verify(&EVENT_SIGNATURE_CONTEXT, &p.message, &p.signature).unwrap();
            }
        });
    });
    g.bench_function("fold_from_bytes/1k", |b| {
        b.iter(|| fold_from_bytes(&s.group, &elements[..1_000]))
    });
    g.bench_function("fold_from_bytes/10k", |b| b.iter(|| fold_from_bytes(&s.group, &elements)));

    let mut log = MembershipLog::new(s.group.clone());
    for e in &all {
        log.insert(e.clone()).unwrap();
    }
    g.bench_function("fold_verified/10k", |b| b.iter(|| log.fold()));

    // Two replicas share 1k events, then each adds 4k of its own (authored by different admins
    // at overlapping clocks), and merge.
    let common = &all[..1_000];
    let last = common.last().unwrap().clock().0;
    let ours = events(&s, 4_000, last, false, &s.creator);
    let theirs = events(&s, 4_000, last + 1, false, &s.admin);
    let mut a = MembershipLog::new(s.group.clone());
    let mut b_log = MembershipLog::new(s.group.clone());
    for e in common.iter().chain(&ours) {
        a.insert(e.clone()).unwrap();
    }
    for e in common.iter().chain(&theirs) {
        b_log.insert(e.clone()).unwrap();
    }
    g.bench_function("merge_and_fold/2x5k_divergent", |b| {
        b.iter_batched(
            || a.clone(),
            |mut merged| {
                assert_eq!(merged.merge(&b_log).unwrap(), 4_000);
                merged.fold()
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench_fold);
criterion_main!(benches);
