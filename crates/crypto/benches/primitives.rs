//! Criterion benchmarks of kaiwa-crypto's primitives: the floor every later benchmark
//! (X3DH, ratchet steps, membership-log replay, organization re-key) is divided by.
//!
//! Run locally with `cargo bench -p kaiwa-crypto`; CI runs each once via
//! `cargo test --benches`.

#![allow(missing_docs, reason = "criterion's macros generate undocumented items")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "benchmark set-up on fixed, known-good inputs"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kaiwa_crypto::{
    Aes256GcmKey, BatchItem, ChaCha20Poly1305Key, DhKeyPair, EphemeralKeyPair, IdentityKeyPair,
    IdentityPublicKey, MultiRecipientSealer, Nonce, SealLabel, Signature, SignatureContext,
    SymmetricKey, hkdf_sha256_keys, hmac_sha256, open_box, seal_box, verify_batch,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/bench/signature/v1");
const LABEL: SealLabel = SealLabel::new(b"kaiwa/bench/sealed-box/v1");
const AEAD_SIZES: [usize; 3] = [256, 1024, 64 * 1024];
const BATCH: usize = 64;

fn x25519(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ours = DhKeyPair::generate(&mut rng);
    let theirs = DhKeyPair::generate(&mut rng).public_key();
    let mut group = c.benchmark_group("x25519");
    group.bench_function("keygen", |b| b.iter(|| DhKeyPair::generate(&mut rng)));
    group.bench_function("dh", |b| b.iter(|| ours.diffie_hellman(black_box(&theirs))));
    group.bench_function("ephemeral_keygen_and_dh", |b| {
        b.iter(|| EphemeralKeyPair::generate(&mut rng).diffie_hellman(black_box(&theirs)))
    });
    group.finish();
}

fn ed25519(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let pair = IdentityKeyPair::generate(&mut rng);
    let public = pair.public_key();
    let message = [0x5Au8; 256];
    let signature = pair.sign(&CONTEXT, &message);
    let mut group = c.benchmark_group("ed25519");
    group.bench_function("keygen", |b| b.iter(|| IdentityKeyPair::generate(&mut rng)));
    group.bench_function("sign_256B", |b| b.iter(|| pair.sign(&CONTEXT, black_box(&message))));
    group.bench_function("verify_256B", |b| {
        b.iter(|| public.verify(&CONTEXT, black_box(&message), &signature))
    });
    group.bench_function("public_key_from_bytes", |b| {
        b.iter(|| IdentityPublicKey::from_bytes(black_box(public.as_bytes())))
    });

    let pairs: Vec<IdentityKeyPair> =
        (0..BATCH).map(|_| IdentityKeyPair::generate(&mut rng)).collect();
    let keys: Vec<IdentityPublicKey> = pairs.iter().map(IdentityKeyPair::public_key).collect();
    let messages: Vec<Vec<u8>> = (0..BATCH).map(|i| vec![i as u8; 256]).collect();
    let signatures: Vec<Signature> =
        pairs.iter().zip(&messages).map(|(p, m)| p.sign(&CONTEXT, m)).collect();
    let items: Vec<BatchItem<'_>> = (0..BATCH)
        .map(|i| BatchItem {
            key: &keys[i],
            context: &CONTEXT,
            message: &messages[i],
            signature: &signatures[i],
        })
        .collect();
    // Throughput in elements: criterion reports the per-signature rate beside the total.
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("verify_batch_256B", BATCH), |b| {
        b.iter(|| verify_batch(black_box(&items)))
    });
    group.bench_function(BenchmarkId::new("verify_each_256B", BATCH), |b| {
        b.iter(|| items.iter().all(|i| i.key.verify(i.context, i.message, i.signature).is_ok()))
    });
    group.finish();
}

fn aead(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let chacha = ChaCha20Poly1305Key::generate(&mut rng);
    let aes = Aes256GcmKey::generate(&mut rng);
    let nonce = Nonce::random(&mut rng);
    let aad = [1u8; 32];
    for size in AEAD_SIZES {
        let plaintext = vec![0xA5u8; size];
        let chacha_sealed = chacha.seal(&nonce, &aad, &plaintext).unwrap();
        let aes_sealed = aes.seal(&nonce, &aad, &plaintext).unwrap();
        let mut group = c.benchmark_group("aead");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("chacha20poly1305_seal", size),
            &plaintext,
            |b, p| b.iter(|| chacha.seal(&nonce, &aad, black_box(p))),
        );
        group.bench_with_input(
            BenchmarkId::new("chacha20poly1305_open", size),
            &chacha_sealed,
            |b, s| b.iter(|| chacha.open(&nonce, &aad, black_box(s))),
        );
        group.bench_with_input(BenchmarkId::new("aes256gcm_seal", size), &plaintext, |b, p| {
            b.iter(|| aes.seal(&nonce, &aad, black_box(p)))
        });
        group.bench_with_input(BenchmarkId::new("aes256gcm_open", size), &aes_sealed, |b, s| {
            b.iter(|| aes.open(&nonce, &aad, black_box(s)))
        });
        group.finish();
    }
}

fn kdf(c: &mut Criterion) {
    let ikm = [7u8; 32];
    let salt = [9u8; 32];
    let mut group = c.benchmark_group("kdf");
    group.bench_function("hkdf_sha256_32B", |b| {
        b.iter(|| hkdf_sha256_keys::<1>(&salt, black_box(&ikm), b"kaiwa/bench/kdf/v1"))
    });
    group.bench_function("hkdf_sha256_96B", |b| {
        b.iter(|| hkdf_sha256_keys::<3>(&salt, black_box(&ikm), b"kaiwa/bench/kdf/v1"))
    });
    group.bench_function("hmac_sha256_32B", |b| b.iter(|| hmac_sha256(&salt, black_box(&ikm))));
    group.finish();
}

fn sealed_box(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let recipient = DhKeyPair::generate(&mut rng);
    let plaintext = [0x33u8; 200];
    let sealed = seal_box(&recipient.public_key(), &LABEL, b"aad", &plaintext, &mut rng).unwrap();
    let mut group = c.benchmark_group("sealed_box");
    group.bench_function("seal_200B", |b| {
        b.iter(|| {
            seal_box(&recipient.public_key(), &LABEL, b"aad", black_box(&plaintext), &mut rng)
        })
    });
    group.bench_function("open_200B", |b| {
        b.iter(|| open_box(&recipient, &LABEL, b"aad", black_box(&sealed)))
    });

    let members: Vec<_> = (0..64).map(|_| DhKeyPair::generate(&mut rng).public_key()).collect();
    let epoch_key = SymmetricKey::generate(&mut rng);
    // Per member: one DH, one HKDF, one 32-byte AEAD seal (the sealer rejects repeats, so a
    // fresh sealer per batch of members; its keygen is amortised over 64).
    group.throughput(Throughput::Elements(members.len() as u64));
    group.bench_function(BenchmarkId::new("wrap_key_per_member", members.len()), |b| {
        b.iter(|| {
            let mut sealer = MultiRecipientSealer::new(&LABEL, &mut rng);
            for member in &members {
                black_box(sealer.wrap_key(member, b"epoch", &epoch_key).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, x25519, ed25519, aead, kdf, sealed_box);
criterion_main!(benches);
