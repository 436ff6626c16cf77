//! kaiwa-session against vodozemac's Olm (0.11, `SessionConfig::version_1`) on the same
//! payloads, in the same run, next to the floor of the primitive operations each step must
//! do (measured with kaiwa-crypto):
//!
//! | bench | kaiwa | vodozemac | floor |
//! | --- | --- | --- | --- |
//! | `encrypt_200B` | `Session::encrypt`, one chain | `Session::encrypt` | HMAC x2 + ChaCha20-Poly1305 seal |
//! | `decrypt_in_order` | `Session::decrypt` | `Session::decrypt` | HMAC x2 + open |
//! | `ping_pong` | 2 messages, a DH ratchet step each | same | 2 x (X25519 keygen + 2 DH + 2 KDF_RK + 4 HMAC + seal + open) |
//! | `setup` | initiate + first message + respond | outbound (fallback key) + first message + inbound | 2 keygen + 8 DH + 6 HKDF + 4 HMAC + seal + open |
//! | `catch_up_1000` | decrypt message 1000 of a chain, 1000 keys skipped | same | 2,002 HMAC + open |
//!
//! The `record` group times what session management does around those steps on every
//! message: restoring a stored session (`session_from_record`), loading a peer's whole record
//! (`peer_load`, through `SessionManager::session`), the installation queries and the
//! negotiated-secret check the facade makes per message (`installations`,
//! `has_installations`, `negotiated_secret`: read from the record without restoring it), and one message through both
//! managers and their stores (`manager_send_receive`: load, encrypt, store; load, decrypt,
//! store).
//!
//! The `primitive` group times the primitives themselves (HMAC, ChaCha20-Poly1305 with a fresh
//! key, X25519, key generation, KDF_RK, the strict decoding of an Ed25519 identity key), so the
//! floors can be read off.
//!
//! Run briefly: `cargo bench -p kaiwa-session -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, reason = "bench binary")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "bench setup")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kaiwa_crypto::{
    ChaCha20Poly1305Key, DhKeyPair, Nonce, SymmetricKey, hkdf_sha256_extract, hkdf_sha256_keys,
    hmac_sha256_key,
};
use kaiwa_session::{
    Account, Envelope, IdentityPublicKey, InMemorySessionStore, InstallationId, PeerAddress,
    Received, Session, SessionConfig, SessionManager, Timestamp, VerifiedBundle,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use vodozemac::olm;

const PAYLOAD: [u8; 200] = [0x42; 200];
/// The session AD (two identities, two DH identities, two installation ids) plus the
/// 72-byte header: what our AEAD authenticates per message.
const AD_LEN: usize = 2 * (32 + 32 + 1 + 8) + 72;

fn now() -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000)
}

struct Kaiwa {
    alice: Account,
    bob: Account,
    bob_bundle: VerifiedBundle,
    alice_bundle: VerifiedBundle,
    rng: ChaCha20Rng,
}

impl Kaiwa {
    fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let alice = Account::generate(InstallationId::new("alice-01").unwrap(), &mut rng, now());
        let bob = Account::generate(InstallationId::new("bob-0001").unwrap(), &mut rng, now());
        let bob_bundle = bob.bundle(now());
        let alice_bundle = alice.bundle(now());
        Self { alice, bob, bob_bundle, alice_bundle, rng }
    }

    fn setup(&mut self) -> (Session, Session) {
        let mut a = Session::initiate(
            &self.alice,
            &self.bob_bundle,
            self.bob.installation_id(),
            &mut self.rng,
            now(),
        )
        .unwrap();
        let first = a.encrypt(&PAYLOAD, &mut self.rng).unwrap();
        let (b, _) = Session::respond(
            &self.bob,
            &self.alice_bundle,
            self.alice.installation_id(),
            &first,
            now(),
            &SessionConfig::default(),
        )
        .unwrap();
        (a, b)
    }

    /// A pair where both sides have sent and received (no X3DH header any more).
    fn established(&mut self) -> (Session, Session) {
        let (mut a, mut b) = self.setup();
        let reply = b.encrypt(&PAYLOAD, &mut self.rng).unwrap();
        a.decrypt(&reply).unwrap();
        (a, b)
    }
}

struct Olm {
    alice: olm::Account,
    bob: olm::Account,
    fallback: vodozemac::Curve25519PublicKey,
}

impl Olm {
    fn new() -> Self {
        let alice = olm::Account::new();
        let mut bob = olm::Account::new();
        bob.generate_fallback_key();
        let fallback = *bob.fallback_key().values().next().unwrap();
        bob.mark_keys_as_published();
        Self { alice, bob, fallback }
    }

    fn setup(&mut self) -> (olm::Session, olm::Session) {
        let mut a = self
            .alice
            .create_outbound_session(
                olm::SessionConfig::version_1(),
                self.bob.curve25519_key(),
                self.fallback,
            )
            .unwrap();
        let olm::OlmMessage::PreKey(first) = a.encrypt(PAYLOAD).unwrap() else { panic!() };
        let result = self
            .bob
            .create_inbound_session(
                olm::SessionConfig::version_1(),
                self.alice.curve25519_key(),
                &first,
            )
            .unwrap();
        (a, result.session)
    }

    fn established(&mut self) -> (olm::Session, olm::Session) {
        let (mut a, mut b) = self.setup();
        let reply = b.encrypt(PAYLOAD).unwrap();
        a.decrypt(&reply).unwrap();
        (a, b)
    }
}

fn key(byte: u8) -> SymmetricKey {
    SymmetricKey::from_secret_bytes(&mut [byte; 32])
}

/// HMAC x2 (KDF_CK) + AEAD seal of 200 bytes under the AD: the symmetric work of one message.
fn floor_encrypt(ck: &SymmetricKey, ad: &[u8]) -> Vec<u8> {
    let mk = hmac_sha256_key(ck.expose_secret(), &[1]);
    let next = hmac_sha256_key(ck.expose_secret(), &[2]);
    black_box(next);
    ChaCha20Poly1305Key::from(mk).seal(&Nonce::ZERO, ad, &PAYLOAD).unwrap()
}

fn floor_decrypt(ck: &SymmetricKey, ad: &[u8], ct: &[u8]) {
    let mk = hmac_sha256_key(ck.expose_secret(), &[1]);
    let next = hmac_sha256_key(ck.expose_secret(), &[2]);
    black_box(next);
    black_box(ChaCha20Poly1305Key::from(mk).open(&Nonce::ZERO, ad, ct).unwrap());
}

/// KDF_RK: HKDF with the root key as salt, into two keys.
fn floor_kdf_rk(rk: &SymmetricKey, dh: &[u8; 32]) -> [SymmetricKey; 2] {
    hkdf_sha256_keys::<2>(rk.expose_secret(), dh, b"kaiwa/ratchet/root/v1")
}

fn encrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("encrypt_200B");
    let mut k = Kaiwa::new();
    let (mut a, _) = k.established();
    group.bench_function("kaiwa", |bench| {
        bench.iter(|| black_box(a.encrypt(black_box(&PAYLOAD), &mut k.rng).unwrap()));
    });
    let mut o = Olm::new();
    let (mut oa, _) = o.established();
    group.bench_function("vodozemac", |bench| {
        bench.iter(|| black_box(oa.encrypt(black_box(PAYLOAD)).unwrap()));
    });
    let ck = key(7);
    let ad = [0u8; AD_LEN];
    group.bench_function("floor", |bench| bench.iter(|| floor_encrypt(&ck, black_box(&ad))));
    group.finish();
}

fn decrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("decrypt_in_order");
    let mut k = Kaiwa::new();
    let (mut a, mut b) = k.established();
    group.bench_function("kaiwa", |bench| {
        bench.iter_custom(|iters| {
            let messages: Vec<Envelope> =
                (0..iters).map(|_| a.encrypt(&PAYLOAD, &mut k.rng).unwrap()).collect();
            let start = Instant::now();
            for m in &messages {
                black_box(b.decrypt(m).unwrap());
            }
            start.elapsed()
        });
    });
    let mut o = Olm::new();
    let (mut oa, mut ob) = o.established();
    group.bench_function("vodozemac", |bench| {
        bench.iter_custom(|iters| {
            let messages: Vec<olm::OlmMessage> =
                (0..iters).map(|_| oa.encrypt(PAYLOAD).unwrap()).collect();
            let start = Instant::now();
            for m in &messages {
                black_box(ob.decrypt(m).unwrap());
            }
            start.elapsed()
        });
    });
    // Measured like the two above: a batch of distinct ciphertexts, each opened once.
    let ck = key(7);
    let ad = [0u8; AD_LEN];
    group.bench_function("floor", |bench| {
        bench.iter_custom(|iters| {
            let cts: Vec<Vec<u8>> = (0..iters).map(|_| floor_encrypt(&ck, &ad)).collect();
            let start = Instant::now();
            for ct in &cts {
                floor_decrypt(&ck, &ad, black_box(ct));
            }
            start.elapsed()
        });
    });
    group.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    let mut k = Kaiwa::new();
    let (mut a, mut b) = k.established();
    group.bench_function("kaiwa", |bench| {
        bench.iter(|| {
            let m = a.encrypt(&PAYLOAD, &mut k.rng).unwrap();
            black_box(b.decrypt(&m).unwrap());
            let m = b.encrypt(&PAYLOAD, &mut k.rng).unwrap();
            black_box(a.decrypt(&m).unwrap());
        });
    });
    let mut o = Olm::new();
    let (mut oa, mut ob) = o.established();
    group.bench_function("vodozemac", |bench| {
        bench.iter(|| {
            let m = oa.encrypt(PAYLOAD).unwrap();
            black_box(ob.decrypt(&m).unwrap());
            let m = ob.encrypt(PAYLOAD).unwrap();
            black_box(oa.decrypt(&m).unwrap());
        });
    });
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let peer = DhKeyPair::generate(&mut rng);
    let rk = key(9);
    let ad = [0u8; AD_LEN];
    group.bench_function("floor", |bench| {
        bench.iter(|| {
            for _ in 0..2 {
                // Sender: new ratchet key, DH, KDF_RK, KDF_CK, seal.
                let ours = DhKeyPair::generate(&mut rng);
                let dh = ours.diffie_hellman(&peer.public_key()).unwrap();
                let [_, ck] = floor_kdf_rk(&rk, dh.expose_secret());
                let ct = floor_encrypt(&ck, &ad);
                // Receiver: DH, KDF_RK, KDF_CK, open.
                let dh = peer.diffie_hellman(&ours.public_key()).unwrap();
                let [_, ck] = floor_kdf_rk(&rk, dh.expose_secret());
                floor_decrypt(&ck, &ad, &ct);
            }
        });
    });
    group.finish();
}

fn setup(c: &mut Criterion) {
    let mut group = c.benchmark_group("setup");
    let mut k = Kaiwa::new();
    group.bench_function("kaiwa", |bench| bench.iter(|| black_box(k.setup())));
    let mut o = Olm::new();
    group.bench_function("vodozemac", |bench| bench.iter(|| black_box(o.setup())));
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (ik_a, ik_b, spk_b) = (
        DhKeyPair::generate(&mut rng),
        DhKeyPair::generate(&mut rng),
        DhKeyPair::generate(&mut rng),
    );
    let ad = [0u8; AD_LEN];
    group.bench_function("floor", |bench| {
        bench.iter(|| {
            // Alice: EK and ratchet key, DH1..3, ratchet DH, SK, session id, KDF_RK, KDF_CK, seal.
            let ek = DhKeyPair::generate(&mut rng);
            let ratchet = DhKeyPair::generate(&mut rng);
            let dhs = [
                ik_a.diffie_hellman(&spk_b.public_key()).unwrap(),
                ek.diffie_hellman(&ik_b.public_key()).unwrap(),
                ek.diffie_hellman(&spk_b.public_key()).unwrap(),
            ];
            let parts: Vec<&[u8]> = [&[0xFFu8; 32][..]]
                .into_iter()
                .chain(dhs.iter().map(|d| &d.expose_secret()[..]))
                .collect();
            let [sk] = hkdf_sha256_extract(&[0; 32], &parts).expand_keys::<1>(b"sk");
            let [id] = hkdf_sha256_extract(&[0; 32], &[sk.expose_secret()]).expand_keys::<1>(b"id");
            black_box(id);
            let dh = ratchet.diffie_hellman(&spk_b.public_key()).unwrap();
            let [_, ck] = floor_kdf_rk(&sk, dh.expose_secret());
            let ct = floor_encrypt(&ck, &ad);
            // Bob: DH1..3, SK, session id, ratchet DH, KDF_RK, KDF_CK, open.
            let dhs = [
                spk_b.diffie_hellman(&ik_a.public_key()).unwrap(),
                ik_b.diffie_hellman(&ek.public_key()).unwrap(),
                spk_b.diffie_hellman(&ek.public_key()).unwrap(),
            ];
            let parts: Vec<&[u8]> = [&[0xFFu8; 32][..]]
                .into_iter()
                .chain(dhs.iter().map(|d| &d.expose_secret()[..]))
                .collect();
            let [sk] = hkdf_sha256_extract(&[0; 32], &parts).expand_keys::<1>(b"sk");
            let [id] = hkdf_sha256_extract(&[0; 32], &[sk.expose_secret()]).expand_keys::<1>(b"id");
            black_box(id);
            let dh = spk_b.diffie_hellman(&ratchet.public_key()).unwrap();
            let [_, ck] = floor_kdf_rk(&sk, dh.expose_secret());
            floor_decrypt(&ck, &ad, &ct);
        });
    });
    group.finish();
}

fn catch_up(c: &mut Criterion) {
    let mut group = c.benchmark_group("catch_up_1000");
    group.sample_size(20);
    let mut k = Kaiwa::new();
    let (mut a, mut b) = k.established();
    group.bench_function("kaiwa", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut last = None;
                for _ in 0..=1_000 {
                    last = Some(a.encrypt(&PAYLOAD, &mut k.rng).unwrap());
                }
                let last = last.unwrap();
                let start = Instant::now();
                black_box(b.decrypt(&last).unwrap());
                total += start.elapsed();
            }
            total
        });
    });
    let mut o = Olm::new();
    let (mut oa, mut ob) = o.established();
    group.bench_function("vodozemac", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut last = None;
                for _ in 0..=1_000 {
                    last = Some(oa.encrypt(PAYLOAD).unwrap());
                }
                let last = last.unwrap();
                let start = Instant::now();
                black_box(ob.decrypt(&last).unwrap());
                total += start.elapsed();
            }
            total
        });
    });
    let ck = key(7);
    let ad = [0u8; AD_LEN];
    let ct = floor_encrypt(&ck, &ad);
    group.bench_function("floor", |bench| {
        bench.iter(|| {
            let mut chain = key(7);
            for _ in 0..1_000 {
                let mk = hmac_sha256_key(chain.expose_secret(), &[1]);
                black_box(mk);
                chain = hmac_sha256_key(chain.expose_secret(), &[2]);
            }
            floor_decrypt(&ck, &ad, black_box(&ct));
            black_box(chain);
        });
    });
    group.finish();
}

/// Two managers with stores that have exchanged a few messages both ways.
struct Managers {
    alice: SessionManager,
    bob: SessionManager,
    alice_store: InMemorySessionStore,
    bob_store: InMemorySessionStore,
    rng: ChaCha20Rng,
}

impl Managers {
    fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let config = SessionConfig::default();
        let alice = Account::generate(InstallationId::new("alice-01").unwrap(), &mut rng, now());
        let bob = Account::generate(InstallationId::new("bob-0001").unwrap(), &mut rng, now());
        let mut m = Self {
            alice: SessionManager::new(alice, config, now()),
            bob: SessionManager::new(bob, config, now()),
            alice_store: InMemorySessionStore::new(),
            bob_store: InMemorySessionStore::new(),
            rng,
        };
        let bob_bundle = m.bob.bundle().clone();
        m.alice.process_bundle(&mut m.alice_store, &bob_bundle).unwrap();
        for _ in 0..3 {
            m.alice_to_bob();
            m.bob_to_alice();
        }
        m
    }

    fn alice_to_bob(&mut self) {
        let bob = self.bob.account().identity_key();
        let out = self.alice.encrypt(&mut self.alice_store, &bob, &PAYLOAD, &mut self.rng, now());
        let received =
            self.bob.receive(&mut self.bob_store, out.unwrap().as_bytes(), &mut self.rng, now());
        assert!(matches!(received, Ok(Received::Message { .. })));
    }

    fn bob_to_alice(&mut self) {
        let alice = self.alice.account().identity_key();
        let out = self.bob.encrypt(&mut self.bob_store, &alice, &PAYLOAD, &mut self.rng, now());
        let received = self.alice.receive(
            &mut self.alice_store,
            out.unwrap().as_bytes(),
            &mut self.rng,
            now(),
        );
        assert!(matches!(received, Ok(Received::Message { .. })));
    }
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    let mut m = Managers::new();
    let bob = PeerAddress {
        identity: m.bob.account().identity_key(),
        installation: m.bob.account().installation_id().clone(),
    };
    // Alice has just sent: her session holds a sending chain (a stored ratchet secret).
    m.alice_to_bob();
    let session = m.alice.session(&m.alice_store, &bob).unwrap().unwrap();
    let stored = session.to_record();
    group.bench_function("session_from_record", |bench| {
        bench.iter(|| black_box(Session::from_record(black_box(&stored)).unwrap()));
    });
    group.bench_function("peer_load", |bench| {
        bench.iter(|| black_box(m.alice.session(black_box(&m.alice_store), &bob).unwrap()));
    });
    group.bench_function("installations", |bench| {
        bench.iter(|| {
            black_box(m.alice.installations(black_box(&m.alice_store), &bob.identity).unwrap())
        });
    });
    group.bench_function("has_installations", |bench| {
        bench.iter(|| {
            black_box(m.alice.has_installations(black_box(&m.alice_store), &bob.identity).unwrap())
        });
    });
    group.bench_function("negotiated_secret", |bench| {
        bench.iter(|| {
            black_box(m.alice.negotiated_secret(black_box(&m.alice_store), &bob.identity).unwrap())
        });
    });
    group.bench_function("manager_send_receive", |bench| bench.iter(|| m.alice_to_bob()));
    group.finish();
}

/// The primitives themselves, to read the floors above.
fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitive");
    let ck = key(7);
    group.bench_function("hmac_sha256", |bench| {
        bench.iter(|| black_box(hmac_sha256_key(black_box(ck.expose_secret()), &[1])));
    });
    let aead = ChaCha20Poly1305Key::from(key(8));
    let ad = [0u8; AD_LEN];
    group.bench_function("chacha20poly1305_seal_200B", |bench| {
        bench.iter(|| black_box(aead.seal(&Nonce::ZERO, black_box(&ad), &PAYLOAD).unwrap()));
    });
    group.bench_function("chacha20poly1305_seal_200B_no_ad", |bench| {
        bench.iter(|| black_box(aead.seal(&Nonce::ZERO, &[], black_box(&PAYLOAD)).unwrap()));
    });
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let a = DhKeyPair::generate(&mut rng);
    let b = DhKeyPair::generate(&mut rng).public_key();
    group.bench_function("x25519", |bench| {
        bench.iter(|| black_box(a.diffie_hellman(black_box(&b)).unwrap()));
    });
    group.bench_function("x25519_keygen", |bench| {
        bench.iter(|| black_box(DhKeyPair::generate(&mut rng)));
    });
    let identity = Account::generate(InstallationId::new("id").unwrap(), &mut rng, now())
        .identity_key()
        .to_bytes();
    group.bench_function("identity_key_decode", |bench| {
        bench.iter(|| black_box(IdentityPublicKey::from_bytes(black_box(&identity)).unwrap()));
    });
    group.bench_function("kdf_rk", |bench| {
        bench.iter(|| black_box(floor_kdf_rk(&ck, black_box(&[3; 32]))));
    });
    group.finish();
}

criterion_group!(benches, primitives, encrypt, decrypt, ping_pong, setup, catch_up, record);
criterion_main!(benches);
