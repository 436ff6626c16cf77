//! Instruction-count profile of the channel hot paths, for callgrind (wall-clock benchmarks are
//! too noisy on a shared machine to attribute a few microseconds).
//!
//! Each mode runs one `#[inline(never)]` region over `N` pre-built inputs; collect only that
//! region with `--toggle-collect`:
//!
//! ```text
//! cargo build --release -p kaiwa-org --example channel_profile
//! valgrind --tool=callgrind --toggle-collect='channel_profile::region*' \
//!     --callgrind-out-file=/tmp/cg.decrypt target/release/examples/channel_profile decrypt
//! callgrind_annotate --inclusive=yes /tmp/cg.decrypt | head -60
//! ```
//!
//! Modes: `decrypt` (kaiwa decrypt+verify), `encrypt` (kaiwa encrypt+sign), `verify` (a bare
//! `verify_strict` of the same signed length through kaiwa-crypto), `megolm-decrypt`,
//! `megolm-encrypt` (vodozemac, the anchor), `reorder` (kaiwa decrypt+verify of the same
//! messages delivered in reverse order in blocks of 100: one jump, then 99 cached skipped keys
//! per block), `lossy` (the skipped-key cache filled to its bound by 21 jumps of 100, then `N`
//! of the oldest skipped messages arrive). Divide the totals by `N` = 200. Mode `catch-up`
//! decrypts one message after a 100,000-message gap (once, not divided); `rekey <members>`
//! re-keys an organization of that size once, and `x25519 <members>` runs the floor of that,
//! one X25519 per member.
//!
//! Valgrind hides SHA-NI from the program, so SHA-256 runs in software under callgrind and its
//! share is overstated there. Mode `time` measures natively instead: rounds of `N` operations
//! of every workload, interleaved so that all of them see the same machine load, reporting the
//! minimum and the median per operation over the rounds (the minimum is the least disturbed by
//! other processes):
//!
//! ```text
//! target/release/examples/channel_profile time [rounds]
//! target/release/examples/channel_profile time-catch-up [rounds]
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair, Signature, SignatureContext};
use kaiwa_org::{
    Access, Actor, Channel, ChannelId, MemberId, MemberKeys, OrgConfig, Organization,
    OrganizationView,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use vodozemac::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig};

const N: usize = 200;
const NOW: u64 = 1_700_000_000_000;
const PLAINTEXT: [u8; 200] = [0x61; 200];
/// The length of the string a 200 B channel message's signature covers (channel.rs).
const SIGNED_LEN: usize = 32 + 32 + 4 + 32 + 4 + 12 + 200 + 16;
const CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/profile/v1");

struct Setup {
    sender: OrganizationView,
    identity: IdentityKeyPair,
    receiver: OrganizationView,
    channel: ChannelId,
}

fn setup(r: &mut ChaCha20Rng) -> Setup {
    let alice = (IdentityKeyPair::generate(r), DhKeyPair::generate(r));
    let bob = (IdentityKeyPair::generate(r), DhKeyPair::generate(r));
    let keys = |p: &(IdentityKeyPair, DhKeyPair)| MemberKeys {
        id: MemberId::from_key(&p.0.public_key()),
        dh_key: p.1.public_key(),
    };
    let (mut org, _) = Organization::create(
        IdentityKeyPair::generate(r),
        DhKeyPair::generate(r),
        keys(&alice),
        OrgConfig::new("profile", Access::NoMembership),
        NOW,
        r,
    )
    .unwrap();
    let channel = ChannelId::new("general").unwrap();
    org.create_channel(
        &Actor::Owner,
        &channel,
        Channel::open("general", Access::NoMembership),
        NOW,
        r,
    )
    .unwrap();
    let update = org.add_members(&Actor::Owner, &[keys(&bob)], NOW, r).unwrap();
    let mut sender = OrganizationView::new(org.id(), keys(&alice).id);
    let mut receiver = OrganizationView::new(org.id(), keys(&bob).id);
    for view in [&mut sender, &mut receiver] {
        for message in &update.description {
            view.apply_description(message).unwrap();
        }
    }
    for part in &update.rekeys {
        sender.apply_rekey(part, &alice.1).unwrap();
        receiver.apply_rekey(part, &bob.1).unwrap();
    }
    Setup { sender, identity: alice.0, receiver, channel }
}

#[inline(never)]
fn region_decrypt(view: &mut OrganizationView, messages: &[Vec<u8>]) {
    for m in messages {
        black_box(view.decrypt(black_box(m)).unwrap());
    }
}

#[inline(never)]
fn region_encrypt(s: &mut Setup, r: &mut ChaCha20Rng) {
    for _ in 0..N {
        black_box(s.sender.encrypt(&s.channel, &s.identity, black_box(&PLAINTEXT), r).unwrap());
    }
}

#[inline(never)]
fn region_verify(key: &kaiwa_crypto::IdentityPublicKey, signed: &[(Vec<u8>, Signature)]) {
    for (message, signature) in signed {
        key.verify(&CONTEXT, black_box(message), signature).unwrap();
    }
}

#[inline(never)]
fn region_megolm_decrypt(session: &mut InboundGroupSession, messages: &[Vec<u8>]) {
    for m in messages {
        let message = MegolmMessage::from_bytes(black_box(m)).unwrap();
        black_box(session.decrypt(&message).unwrap());
    }
}

#[inline(never)]
fn region_megolm_encrypt(session: &mut GroupSession) {
    for _ in 0..N {
        black_box(session.encrypt(black_box(PLAINTEXT)).to_bytes());
    }
}

/// Per-operation minimum and median of `rounds` (each a total over `N` operations).
fn summary(rounds: &mut [Duration]) -> (f64, f64) {
    rounds.sort();
    let per_op = |d: Duration| d.as_secs_f64() * 1e6 / N as f64;
    (per_op(rounds[0]), per_op(rounds[rounds.len() / 2]))
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn time(rounds: usize) {
    let mut r = ChaCha20Rng::seed_from_u64(1);
    let mut s = setup(&mut r);
    let mut outbound = GroupSession::new(SessionConfig::version_1());
    let mut inbound = InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
    let kaiwa: Vec<Vec<Vec<u8>>> = (0..rounds)
        .map(|_| {
            (0..N)
                .map(|_| s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap())
                .collect()
        })
        .collect();
    let megolm: Vec<Vec<Vec<u8>>> = (0..rounds)
        .map(|_| (0..N).map(|_| outbound.encrypt(PLAINTEXT).to_bytes()).collect())
        .collect();
    let key = IdentityKeyPair::generate(&mut r);
    let signed: Vec<(Vec<u8>, Signature)> = (0..N)
        .map(|i| {
            let message = vec![u8::try_from(i % 251).unwrap(); SIGNED_LEN];
            let signature = key.sign(&CONTEXT, &message);
            (message, signature)
        })
        .collect();
    let public = key.public_key();
    let names = [
        "kaiwa decrypt+verify",
        "megolm decrypt+verify",
        "bare verify_strict",
        "kaiwa encrypt+sign",
        "megolm encrypt+sign",
    ];
    let mut results: [Vec<Duration>; 5] = Default::default();
    for (kaiwa_round, megolm_round) in kaiwa.iter().zip(&megolm) {
        results[0].push(timed(|| region_decrypt(&mut s.receiver, kaiwa_round)));
        results[1].push(timed(|| region_megolm_decrypt(&mut inbound, megolm_round)));
        results[2].push(timed(|| region_verify(&public, &signed)));
        results[3].push(timed(|| region_encrypt(&mut s, &mut r)));
        results[4].push(timed(|| region_megolm_encrypt(&mut outbound)));
    }
    let stats: Vec<(f64, f64)> = results.iter_mut().map(|r| summary(r)).collect();
    println!("{rounds} rounds of {N}; µs per operation");
    for (name, (min, median)) in names.iter().zip(&stats) {
        println!("{name:<24} min {min:7.2}  median {median:7.2}");
    }
    println!(
        "decrypt kaiwa/megolm: min {:.2}, median {:.2}; encrypt kaiwa/megolm: min {:.2}, median {:.2}",
        stats[0].0 / stats[1].0,
        stats[0].1 / stats[1].1,
        stats[3].0 / stats[4].0,
        stats[3].1 / stats[4].1,
    );
}

#[inline(never)]
fn region_catch_up(view: &mut OrganizationView, message: &[u8]) {
    black_box(view.decrypt(black_box(message)).unwrap());
}

#[inline(never)]
fn region_rekey(org: &mut Organization, r: &mut ChaCha20Rng) {
    black_box(org.rekey_all(NOW, r).unwrap());
}

#[inline(never)]
fn region_x25519(ours: &DhKeyPair, theirs: &[kaiwa_crypto::DhPublicKey]) {
    for key in theirs {
        black_box(ours.diffie_hellman(black_box(key)).unwrap());
    }
}

fn catch_up() {
    let mut r = ChaCha20Rng::seed_from_u64(2);
    let mut s = setup(&mut r);
    let first = s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap();
    s.sender.advance_sending_chain_for_testing_only(&s.channel, &s.identity, 100_001).unwrap();
    let far = s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap();
    s.receiver.decrypt(&first).unwrap();
    region_catch_up(&mut s.receiver, &far);
}

fn rekey(members: usize) {
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let founder = MemberKeys {
        id: MemberId::from_key(&IdentityKeyPair::generate(&mut r).public_key()),
        dh_key: DhKeyPair::generate(&mut r).public_key(),
    };
    let (mut org, _) = Organization::create(
        IdentityKeyPair::generate(&mut r),
        DhKeyPair::generate(&mut r),
        founder,
        OrgConfig::new("profile", Access::OnRequest),
        NOW,
        &mut r,
    )
    .unwrap();
    let others: Vec<MemberKeys> = (1..members)
        .map(|_| MemberKeys {
            id: MemberId::from_key(&IdentityKeyPair::generate(&mut r).public_key()),
            dh_key: DhKeyPair::generate(&mut r).public_key(),
        })
        .collect();
    org.add_members(&Actor::Owner, &others, NOW, &mut r).unwrap();
    region_rekey(&mut org, &mut r);
}

fn x25519(members: usize) {
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let ours = DhKeyPair::generate(&mut r);
    let theirs: Vec<kaiwa_crypto::DhPublicKey> =
        (0..members).map(|_| DhKeyPair::generate(&mut r).public_key()).collect();
    region_x25519(&ours, &theirs);
}

/// Catch-up after a 100,000-message gap, timed natively: kaiwa live decrypt (a fresh view
/// restored from its record each round, restore not timed), kaiwa history decrypt, Megolm (a
/// fresh inbound session each round).
fn time_catch_up(rounds: usize) {
    let mut r = ChaCha20Rng::seed_from_u64(2);
    let mut s = setup(&mut r);
    let first = s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap();
    s.sender.advance_sending_chain_for_testing_only(&s.channel, &s.identity, 100_001).unwrap();
    let far = s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap();
    s.receiver.decrypt(&first).unwrap();
    let record = s.receiver.to_record();

    let mut outbound = GroupSession::new(SessionConfig::version_1());
    let key = outbound.session_key();
    let first_megolm = outbound.encrypt(PLAINTEXT);
    for _ in 0..99_999 {
        outbound.encrypt(b"");
    }
    let far_megolm = outbound.encrypt(PLAINTEXT).to_bytes();

    let mut results: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds {
        let mut view = OrganizationView::from_record(&record).unwrap();
        results[0].push(timed(|| region_catch_up(&mut view, &far)));
        results[1].push(timed(|| {
            black_box(s.receiver.decrypt_history(black_box(&far)).unwrap());
        }));
        let mut inbound = InboundGroupSession::new(&key, SessionConfig::version_1());
        inbound.decrypt(&first_megolm).unwrap();
        results[2].push(timed(|| {
            let message = MegolmMessage::from_bytes(black_box(&far_megolm)).unwrap();
            black_box(inbound.decrypt(&message).unwrap());
        }));
    }
    println!("{rounds} rounds; µs per catch-up of a 100,000-message gap");
    let names = ["kaiwa decrypt (live)", "kaiwa decrypt_history", "megolm decrypt"];
    for (name, r) in names.iter().zip(results.iter_mut()) {
        r.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("{name:<24} min {:8.2}  median {:8.2}", us(r[0]), us(r[r.len() / 2]));
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "decrypt".to_owned());
    let mut r = ChaCha20Rng::seed_from_u64(1);
    match mode.as_str() {
        "decrypt" => {
            let mut s = setup(&mut r);
            let messages: Vec<Vec<u8>> = (0..N)
                .map(|_| s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap())
                .collect();
            region_decrypt(&mut s.receiver, &messages);
        }
        "reorder" => {
            let mut s = setup(&mut r);
            let mut messages: Vec<Vec<u8>> = (0..N)
                .map(|_| s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap())
                .collect();
            for block in messages.chunks_mut(100) {
                block.reverse();
            }
            region_decrypt(&mut s.receiver, &messages);
        }
        "lossy" => {
            let mut s = setup(&mut r);
            let messages: Vec<Vec<u8>> = (0..2_100)
                .map(|_| s.sender.encrypt(&s.channel, &s.identity, &PLAINTEXT, &mut r).unwrap())
                .collect();
            // Index i is messages[i - 1]; every 100th arrives, the rest are skipped and cached.
            for m in messages.iter().skip(99).step_by(100) {
                s.receiver.decrypt(m).unwrap();
            }
            let late: Vec<Vec<u8>> =
                (100..).filter(|i| i % 100 != 0).take(N).map(|i| messages[i - 1].clone()).collect();
            region_decrypt(&mut s.receiver, &late);
        }
        "encrypt" => {
            let mut s = setup(&mut r);
            region_encrypt(&mut s, &mut r);
        }
        "verify" => {
            let key = IdentityKeyPair::generate(&mut r);
            let signed: Vec<(Vec<u8>, Signature)> = (0..N)
                .map(|i| {
                    let message = vec![u8::try_from(i % 251).unwrap(); SIGNED_LEN];
                    let signature = key.sign(&CONTEXT, &message);
                    (message, signature)
                })
                .collect();
            region_verify(&key.public_key(), &signed);
        }
        "megolm-decrypt" => {
            let mut outbound = GroupSession::new(SessionConfig::version_1());
            let mut inbound =
                InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
            let messages: Vec<Vec<u8>> =
                (0..N).map(|_| outbound.encrypt(PLAINTEXT).to_bytes()).collect();
            region_megolm_decrypt(&mut inbound, &messages);
        }
        "megolm-encrypt" => {
            let mut outbound = GroupSession::new(SessionConfig::version_1());
            region_megolm_encrypt(&mut outbound);
        }
        "catch-up" => catch_up(),
        "rekey" => rekey(std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1_000)),
        "x25519" => x25519(std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1_000)),
        "time-catch-up" => {
            time_catch_up(std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(50));
        }
        "time" => time(std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(50)),
        other => {
            eprintln!(
                "unknown mode {other}: decrypt | reorder | lossy | encrypt | verify | megolm-decrypt | megolm-encrypt \
                 | catch-up | rekey [members] | x25519 [members] | time [rounds] | time-catch-up [rounds]"
            );
            std::process::exit(2);
        }
    }
}
