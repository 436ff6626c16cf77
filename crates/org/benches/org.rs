//! kaiwa-org benchmarks, with vodozemac's Megolm measured in the same run as the anchor.
//!
//! - channel encrypt+sign and decrypt+verify of 200 B (kaiwa vs Megolm v1), with a bare
//!   `verify_strict` of the same signed length as the floor both decrypts share;
//! - catch-up after a 100,000-message gap (kaiwa live decrypt, kaiwa history decrypt, Megolm);
//! - re-key at 100 / 1,000 / 10,000 members vs the N × X25519 floor (measured here too);
//! - description encode+sign and verify+decode at 10,000 members.
//!
//! Run: `cargo bench -p kaiwa-org -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use kaiwa_crypto::{DhKeyPair, IdentityKeyPair, SignatureContext};
use kaiwa_org::{
    Access, Actor, Channel, ChannelId, MemberId, MemberKeys, OrgConfig, Organization,
    OrganizationView, OrganizationViewRecord, SignedDescription,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use vodozemac::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig};

const NOW: u64 = 1_700_000_000_000;
const PLAINTEXT: [u8; 200] = [0x61; 200];
/// The length of the string a 200 B channel message's signature covers (channel.rs).
const SIGNED_LEN: usize = 32 + 32 + 4 + 32 + 4 + 12 + 200 + 16;
const FLOOR_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/bench-floor/v1");

struct Person {
    id: IdentityKeyPair,
    dh: DhKeyPair,
}

impl Person {
    fn new(r: &mut ChaCha20Rng) -> Self {
        Self { id: IdentityKeyPair::generate(r), dh: DhKeyPair::generate(r) }
    }
    fn keys(&self) -> MemberKeys {
        MemberKeys { id: MemberId::from_key(&self.id.public_key()), dh_key: self.dh.public_key() }
    }
}

fn members(n: usize, r: &mut ChaCha20Rng) -> Vec<MemberKeys> {
    (0..n)
        .map(|_| MemberKeys {
            id: MemberId::from_key(&IdentityKeyPair::generate(r).public_key()),
            dh_key: DhKeyPair::generate(r).public_key(),
        })
        .collect()
}

/// An encrypted org with `general`, a sender and a receiver view holding the current epoch.
fn pair(r: &mut ChaCha20Rng) -> (OrganizationView, Person, OrganizationView, ChannelId) {
    let alice = Person::new(r);
    let bob = Person::new(r);
    let (mut org, _) = Organization::create(
        IdentityKeyPair::generate(r),
        DhKeyPair::generate(r),
        alice.keys(),
        OrgConfig::new("bench", Access::NoMembership),
        NOW,
        r,
    )
    .unwrap();
    let general = ChannelId::new("general").unwrap();
    org.create_channel(
        &Actor::Owner,
        &general,
        Channel::open("general", Access::NoMembership),
        NOW,
        r,
    )
    .unwrap();
    let update = org.add_members(&Actor::Owner, &[bob.keys()], NOW, r).unwrap();
    let mut a = OrganizationView::new(org.id(), alice.keys().id);
    let mut b = OrganizationView::new(org.id(), bob.keys().id);
    for view in [&mut a, &mut b] {
        view.apply_description(&update.description[0]).unwrap();
    }
    for part in &update.rekeys {
        a.apply_rekey(part, &alice.dh).unwrap();
        b.apply_rekey(part, &bob.dh).unwrap();
    }
    (a, alice, b, general)
}

fn channel_messages(c: &mut Criterion) {
    let mut r = ChaCha20Rng::seed_from_u64(1);
    let (mut sender, alice, mut receiver, general) = pair(&mut r);
    let mut megolm = GroupSession::new(SessionConfig::version_1());
    let mut inbound = InboundGroupSession::new(&megolm.session_key(), SessionConfig::version_1());

    let mut group = c.benchmark_group("channel_200B");
    group.bench_function("kaiwa_encrypt_sign", |b| {
        b.iter(|| {
            black_box(sender.encrypt(&general, &alice.id, black_box(&PLAINTEXT), &mut r).unwrap())
        })
    });
    group.bench_function("megolm_encrypt_sign", |b| {
        b.iter(|| black_box(megolm.encrypt(black_box(PLAINTEXT)).to_bytes()))
    });
    group.bench_function("kaiwa_decrypt_verify", |b| {
        b.iter_custom(|iters| {
            let messages: Vec<Vec<u8>> = (0..iters)
                .map(|_| sender.encrypt(&general, &alice.id, &PLAINTEXT, &mut r).unwrap())
                .collect();
            let start = Instant::now();
            for m in &messages {
                black_box(receiver.decrypt(m).unwrap());
            }
            start.elapsed()
        })
    });
    let floor_key = IdentityKeyPair::generate(&mut r);
    let floor_public = floor_key.public_key();
    group.bench_function("verify_strict_floor", |b| {
        b.iter_custom(|iters| {
            let signed: Vec<_> = (0..iters)
                .map(|i| {
                    let message = vec![(i % 251) as u8; SIGNED_LEN];
                    let signature = floor_key.sign(&FLOOR_CONTEXT, &message);
                    (message, signature)
                })
                .collect();
            let start = Instant::now();
            for (message, signature) in &signed {
                floor_public.verify(&FLOOR_CONTEXT, black_box(message), signature).unwrap();
            }
            start.elapsed()
        })
    });
    group.bench_function("megolm_decrypt_verify", |b| {
        b.iter_custom(|iters| {
            let messages: Vec<Vec<u8>> =
                (0..iters).map(|_| megolm.encrypt(PLAINTEXT).to_bytes()).collect();
            let start = Instant::now();
            for m in &messages {
                let message = MegolmMessage::from_bytes(m).unwrap();
                black_box(inbound.decrypt(&message).unwrap());
            }
            start.elapsed()
        })
    });
    group.finish();
}

fn catch_up(c: &mut Criterion) {
    let mut r = ChaCha20Rng::seed_from_u64(2);
    let (mut sender, alice, receiver, general) = pair(&mut r);
    let first = sender.encrypt(&general, &alice.id, &PLAINTEXT, &mut r).unwrap();
    sender.advance_sending_chain_for_testing_only(&general, &alice.id, 100_001).unwrap();
    let far = sender.encrypt(&general, &alice.id, &PLAINTEXT, &mut r).unwrap();
    let mut receiver = receiver;
    receiver.decrypt(&first).unwrap();
    let record: Vec<u8> = receiver.to_record().expose_secret().to_vec();

    let megolm = GroupSession::new(SessionConfig::version_1());
    let key = megolm.session_key();
    let mut megolm = megolm;
    let first_megolm = megolm.encrypt(PLAINTEXT);
    for _ in 0..99_999 {
        megolm.encrypt(b"");
    }
    let far_megolm = megolm.encrypt(PLAINTEXT).to_bytes();

    let mut group = c.benchmark_group("catch_up_100000");
    group.bench_function("kaiwa_decrypt_live", |b| {
        b.iter_batched(
            || {
                OrganizationView::from_record(&OrganizationViewRecord::from_bytes(record.clone()))
                    .unwrap()
            },
            |mut view| black_box(view.decrypt(&far).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("kaiwa_decrypt_history", |b| {
        b.iter(|| black_box(receiver.decrypt_history(&far).unwrap()))
    });
    group.bench_function("megolm_decrypt", |b| {
        b.iter_batched(
            || {
                let mut s = InboundGroupSession::new(&key, SessionConfig::version_1());
                s.decrypt(&first_megolm).unwrap();
                s
            },
            |mut s| black_box(s.decrypt(&MegolmMessage::from_bytes(&far_megolm).unwrap()).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn rekey(c: &mut Criterion) {
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let mut group = c.benchmark_group("rekey");
    group.sample_size(10);
    for n in [100usize, 1_000, 10_000] {
        let founder = Person::new(&mut r);
        let (mut org, _) = Organization::create(
            IdentityKeyPair::generate(&mut r),
            DhKeyPair::generate(&mut r),
            founder.keys(),
            OrgConfig::new("bench", Access::OnRequest),
            NOW,
            &mut r,
        )
        .unwrap();
        org.add_members(&Actor::Owner, &members(n - 1, &mut r), NOW, &mut r).unwrap();
        let sample = org.rekey_all(NOW, &mut r).unwrap();
        let bytes: usize = sample.rekeys.iter().map(Vec::len).sum();
        println!(
            "rekey n={n}: {} messages, {bytes} bytes, {:.1} bytes/member, largest {} bytes",
            sample.rekeys.len(),
            bytes as f64 / n as f64,
            sample.rekeys.iter().map(Vec::len).max().unwrap_or(0)
        );
        group.bench_with_input(BenchmarkId::new("kaiwa_rekey", n), &n, |b, _| {
            b.iter(|| black_box(org.rekey_all(NOW, &mut r).unwrap()))
        });
        let keys: Vec<kaiwa_crypto::DhPublicKey> =
            members(n, &mut r).iter().map(|m| m.dh_key).collect();
        let ours = DhKeyPair::generate(&mut r);
        group.bench_with_input(BenchmarkId::new("x25519_floor", n), &n, |b, _| {
            b.iter(|| {
                for k in &keys {
                    black_box(ours.diffie_hellman(k).unwrap());
                }
            })
        });
    }
    group.finish();
}

fn description(c: &mut Criterion) {
    let mut r = ChaCha20Rng::seed_from_u64(4);
    let founder = Person::new(&mut r);
    let (mut org, _) = Organization::create(
        IdentityKeyPair::generate(&mut r),
        DhKeyPair::generate(&mut r),
        founder.keys(),
        OrgConfig::new("bench", Access::OnRequest),
        NOW,
        &mut r,
    )
    .unwrap();
    org.set_encrypted(&Actor::Owner, false, NOW, &mut r).unwrap();
    org.add_members(&Actor::Owner, &members(9_999, &mut r), NOW, &mut r).unwrap();
    let bytes = org.signed_description().bytes().to_vec();
    println!("description n=10000: {} bytes, {} segments", bytes.len(), org.republish().len());
    let id = org.id();
    let mut group = c.benchmark_group("description_10000");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    let mut tick = 0u64;
    group.bench_function("edit_encode_sign_segment", |b| {
        b.iter(|| {
            tick += 1;
            black_box(
                org.set_tags(&Actor::Owner, vec![format!("t{}", tick % 2)], NOW + tick, &mut r)
                    .unwrap(),
            )
        })
    });
    group.bench_function("verify_decode", |b| {
        b.iter(|| black_box(SignedDescription::verify(&id, &bytes).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, channel_messages, catch_up, rekey, description);
criterion_main!(benches);
