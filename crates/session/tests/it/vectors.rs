//! Known-answer vectors: re-derivation of X3DH and the first ratchet step from the spec
//! formulas with kaiwa-crypto primitives only, self-generated regression vectors
//! (`test-vectors/session-self.json`, rewritten only with `UPDATE_VECTORS=1`), named negative
//! vectors, and the record-format stability vector (`test-vectors/store-v1.json`).

use std::path::Path;

use kaiwa_crypto::{
    ChaCha20Poly1305Key, DhKeyPair, DhPublicKey, Nonce, SymmetricKey, hkdf_sha256_extract,
    hmac_sha256_key,
};
use kaiwa_session::{
    Account, AccountRecord, Bundle, BundleError, DecryptError, Envelope, InMemorySessionStore,
    PeerRecord, ROOT_KDF_INFO, Received, SESSION_ID_INFO, Session, SessionConfig,
    SessionCreationError, SessionManager, SessionStore, SignedPreKeyRecord, X3DH_INFO,
};
use kaiwa_wire::net as wire;
use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::Rng as _;
use serde_json::{Value, json};

use super::common::{at, device, rng};
use super::session::accounts;

fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// The next 32 bytes `rng` will produce, without advancing it.
fn peek(rng: &ChaCha20Rng, skip: usize) -> [u8; 32] {
    let mut probe = rng.clone();
    let mut out = [0u8; 32];
    for _ in 0..=skip {
        probe.fill_bytes(&mut out);
    }
    out
}

/// X3DH and the initiator's first chain, computed from the formulas in x3dh.rs and
/// ratchet.rs with primitives only.
struct Derived {
    sk: [u8; 32],
    session_id: [u8; 32],
    message_key: [u8; 32],
}

fn derive(
    ik_a_dh: &DhKeyPair,
    ek: &DhKeyPair,
    ratchet: &DhKeyPair,
    ik_b_dh: &DhPublicKey,
    spk_b: &DhPublicKey,
) -> Derived {
    let dh1 = ik_a_dh.diffie_hellman(spk_b).unwrap();
    let dh2 = ek.diffie_hellman(ik_b_dh).unwrap();
    let dh3 = ek.diffie_hellman(spk_b).unwrap();
    let mut ikm = vec![0xFF; 32];
    for dh in [&dh1, &dh2, &dh3] {
        ikm.extend_from_slice(dh.expose_secret());
    }
    let [sk] = hkdf_sha256_extract(&[0; 32], &[&ikm]).expand_keys::<1>(X3DH_INFO);
    let [id] =
        hkdf_sha256_extract(&[0; 32], &[sk.expose_secret()]).expand_keys::<1>(SESSION_ID_INFO);
    let dh = ratchet.diffie_hellman(spk_b).unwrap();
    let [_, chain] = hkdf_sha256_extract(sk.expose_secret(), &[dh.expose_secret()])
        .expand_keys::<2>(ROOT_KDF_INFO);
    let mk = hmac_sha256_key(chain.expose_secret(), &[0x01]);
    Derived {
        sk: *sk.expose_secret(),
        session_id: *id.expose_secret(),
        message_key: *mk.expose_secret(),
    }
}

fn header_ad(envelope: &Envelope) -> Vec<u8> {
    let h = envelope.header();
    let mut ad = Vec::new();
    ad.extend_from_slice(h.ratchet_key().as_bytes());
    ad.extend_from_slice(&h.index().to_be_bytes());
    ad.extend_from_slice(&h.previous_chain_length().to_be_bytes());
    ad.extend_from_slice(h.bundle_id().as_bytes());
    ad
}

fn expected_ad(alice: &Account, bob: &Account) -> Vec<u8> {
    let mut ad = Vec::new();
    for acc in [alice, bob] {
        ad.extend_from_slice(acc.identity_key().as_bytes());
        ad.extend_from_slice(acc.identity_dh_key().as_bytes());
        ad.push(u8::try_from(acc.installation_id().as_str().len()).unwrap());
        ad.extend_from_slice(acc.installation_id().as_str().as_bytes());
    }
    ad
}

/// One self-generated transcript: the inputs, the derived values and the messages.
fn transcript(seed: u64) -> Value {
    let mut rng = rng(seed);
    let (alice, bob) = accounts(&mut rng);
    let (a_record, _) = alice.to_records();
    let a_secret = kaiwa_wire::store::AccountRecord::decode(a_record.as_bytes()).unwrap();
    let bundle = bob.bundle(at(0));
    let ek_secret = peek(&rng, 0);
    let ratchet_secret = peek(&rng, 1);
    let mut a = Session::initiate(&alice, &bundle, bob.installation_id(), &mut rng, at(1)).unwrap();

    let ik_a_dh = DhKeyPair::from_secret_slice(&mut a_secret.identity_dh_secret.clone()).unwrap();
    let ek = DhKeyPair::from_secret_bytes(&mut ek_secret.clone());
    let ratchet = DhKeyPair::from_secret_bytes(&mut ratchet_secret.clone());
    let spk = bundle.signed_pre_key(bob.installation_id()).unwrap().key();
    let derived = derive(&ik_a_dh, &ek, &ratchet, &bob.identity_dh_key(), &spk);
    assert_eq!(a.id().as_bytes(), &derived.session_id, "session id = HKDF(SK), SK per x3dh.rs");
    assert_eq!(a.associated_data(), expected_ad(&alice, &bob).as_slice());

    let first = a.encrypt(b"hello bob", &mut rng).unwrap();
    assert_eq!(first.x3dh_header().unwrap().ephemeral_key(), ek.public_key());
    assert_eq!(first.header().ratchet_key(), ratchet.public_key());
    // Open the first message with the independently derived message key.
    let mut aad = a.associated_data().to_vec();
    aad.extend_from_slice(&header_ad(&first));
    let key = ChaCha20Poly1305Key::from(SymmetricKey::from_secret_bytes(
        &mut derived.message_key.clone(),
    ));
    let opened = key.open(&Nonce::ZERO, &aad, first.ciphertext()).unwrap();
    assert_eq!(opened.as_slice(), b"hello bob");

    let config = SessionConfig::default();
    let (mut b, plaintext) = Session::respond(
        &bob,
        &alice.bundle(at(0)),
        alice.installation_id(),
        &first,
        at(1),
        &config,
    )
    .unwrap();
    assert_eq!(plaintext.as_slice(), b"hello bob");
    let mut messages = vec![
        json!({"from": "alice", "envelope": hex(&first.encode()), "plaintext": hex(b"hello bob")}),
    ];
    for (i, from_alice) in [false, false, true, false, true, true].into_iter().enumerate() {
        let text = format!("message {i}");
        let (sender, receiver) = if from_alice { (&mut a, &mut b) } else { (&mut b, &mut a) };
        let envelope = sender.encrypt(text.as_bytes(), &mut rng).unwrap();
        assert_eq!(receiver.decrypt(&envelope).unwrap().as_slice(), text.as_bytes());
        messages.push(json!({
            "from": if from_alice { "alice" } else { "bob" },
            "envelope": hex(&envelope.encode()),
            "plaintext": hex(text.as_bytes()),
        }));
    }
    json!({
        "seed": seed,
        "alice_identity": hex(alice.identity_key().as_bytes()),
        "alice_identity_dh_secret": hex(&a_secret.identity_dh_secret),
        "alice_installation": alice.installation_id().as_str(),
        "alice_bundle": hex(&alice.bundle(at(0)).encode()),
        "bob_bundle": hex(&bundle.encode()),
        "bob_installation": bob.installation_id().as_str(),
        "ephemeral_secret": hex(&ek_secret),
        "ratchet_secret": hex(&ratchet_secret),
        "shared_secret": hex(&derived.sk),
        "session_id": hex(&derived.session_id),
        "associated_data": hex(a.associated_data()),
        "first_message_key": hex(&derived.message_key),
        "messages": messages,
    })
}

/// Named negative cases, Wycheproof style: each input and the exact error.
fn negative_vectors() -> Value {
    let mut rng = rng(77);
    let (alice, bob) = accounts(&mut rng);
    let now = at(0);
    let bundle = bob.bundle(now);
    let mut cases = Vec::new();

    let mut m = wire::Bundle::from(&bundle);
    m.signature[10] ^= 1;
    let err = Bundle::try_from(m.clone()).unwrap().verify(now, 3).unwrap_err();
    assert_eq!(err, BundleError::Unauthenticated);
    cases.push(json!({"name": "bundle_bad_signature", "bundle": hex(&m.encode_to_vec()), "error": "Unauthenticated"}));

    let mut m = wire::Bundle::from(&bundle);
    let spk = m.signed_pre_keys.values().next().unwrap().clone();
    for i in 0..17 {
        m.signed_pre_keys.insert(format!("extra-{i:02}"), spk.clone());
    }
    assert!(Bundle::decode(&m.encode_to_vec()).is_err());
    cases.push(json!({"name": "bundle_too_many_installations", "bundle": hex(&m.encode_to_vec()), "error": "TooMany"}));

    let mut m = wire::Bundle::from(&bundle);
    m.identity_dh.pop();
    assert!(Bundle::decode(&m.encode_to_vec()).is_err());
    cases.push(json!({"name": "bundle_short_identity_dh", "bundle": hex(&m.encode_to_vec()), "error": "Length"}));

    // A correctly signed bundle whose prekey has small order: X3DH refuses it.
    let mut a = Session::initiate(&alice, &bundle, bob.installation_id(), &mut rng, now).unwrap();
    let first = a.encrypt(b"x", &mut rng).unwrap();
    let mut tampered = wire::EncryptedMessageProtocol::from(&first);
    let last = tampered.payload.len() - 1;
    tampered.payload[last] ^= 0x80;
    let config = SessionConfig::default();
    let env = Envelope::try_from(tampered.clone()).unwrap();
    let err =
        Session::respond(&bob, &alice.bundle(now), alice.installation_id(), &env, now, &config)
            .unwrap_err();
    assert_eq!(err, SessionCreationError::Decrypt(DecryptError::Unauthenticated));
    cases.push(json!({"name": "first_message_tampered_tag", "envelope": hex(&tampered.encode_to_vec()), "error": "Unauthenticated"}));

    let mut low_order = wire::EncryptedMessageProtocol::from(&first);
    low_order.x3dh_header.as_mut().unwrap().key = vec![0; 32];
    let env = Envelope::try_from(low_order.clone()).unwrap();
    let err =
        Session::respond(&bob, &alice.bundle(now), alice.installation_id(), &env, now, &config)
            .unwrap_err();
    assert_eq!(err, SessionCreationError::NonContributory);
    cases.push(json!({"name": "ephemeral_key_of_small_order", "envelope": hex(&low_order.encode_to_vec()), "error": "NonContributory"}));

    json!(cases)
}

fn check_or_update(name: &str, actual: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors").join(name);
    let actual = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    } else {
        let stored = std::fs::read_to_string(&path).unwrap();
        assert_eq!(stored, actual, "run with UPDATE_VECTORS=1 and review the diff");
    }
}

#[test]
fn session_vectors() {
    let vectors = json!({
        "source": "self",
        "description": "kaiwa-session X3DH + double ratchet transcripts (seeded ChaCha20 RNG); \
                        shared_secret, session_id and first_message_key are re-derived from the \
                        formulas with primitives only",
        "transcripts": [transcript(1), transcript(2)],
        "negative": negative_vectors(),
    });
    check_or_update("session-self.json", &vectors);
}

/// Records written by this version must load in every later one: the stored account and
/// peer record below were written once (the file is created only if it is missing, never
/// rewritten); continuing from them must decrypt the stored messages.
#[test]
fn store_v1_records_still_load() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/store-v1.json");
    if !path.exists() {
        let mut alice = device(500, "alice-1");
        let mut bob = device(501, "bob-1");
        alice.learn(&bob);
        for i in 0..3 {
            let m = alice.send(&bob.identity(), format!("a{i}").as_bytes(), at(i));
            bob.recv(&m, at(i));
            let m = bob.send(&alice.identity(), format!("b{i}").as_bytes(), at(i));
            alice.recv(&m, at(i));
        }
        let skipped = alice.send(&bob.identity(), b"delivered late", at(10));
        let next = alice.send(&bob.identity(), b"after the restart", at(11));
        let (account, pre_keys) = bob.manager.account().to_records();
        let peer = bob.store.load_peer(&alice.identity()).unwrap().unwrap();
        let value = json!({
            "source": "self",
            "description": "records of kaiwa.store.v1 (version 1) written by kaiwa-session 0.1.0; must keep loading",
            "account": hex(account.as_bytes()),
            "signed_pre_keys": pre_keys.iter().map(|r| hex(r.as_bytes())).collect::<Vec<_>>(),
            "peer_identity": hex(alice.identity().as_bytes()),
            "peer": hex(peer.as_bytes()),
            "messages": [
                {"bytes": hex(next.as_bytes()), "plaintext": hex(b"after the restart")},
                {"bytes": hex(skipped.as_bytes()), "plaintext": hex(b"delivered late")},
            ],
        });
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
    }
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bytes = |v: &Value| ::hex::decode(v.as_str().unwrap()).unwrap();
    let account = AccountRecord::from_bytes(bytes(&value["account"]));
    let pre_keys: Vec<SignedPreKeyRecord> = value["signed_pre_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| SignedPreKeyRecord::from_bytes(bytes(v)))
        .collect();
    let account = Account::from_records(&account, &pre_keys).unwrap();
    let peer_identity =
        kaiwa_crypto::IdentityPublicKey::try_from(bytes(&value["peer_identity"]).as_slice())
            .unwrap();
    let mut store = InMemorySessionStore::new();
    store.store_peer(&peer_identity, &PeerRecord::from_bytes(bytes(&value["peer"]))).unwrap();
    let mut manager = SessionManager::new(account, SessionConfig::default(), at(20));
    let mut rng = rng(502);
    for message in value["messages"].as_array().unwrap() {
        match manager.receive(&mut store, &bytes(&message["bytes"]), &mut rng, at(20)).unwrap() {
            Received::Message { plaintext, .. } => {
                assert_eq!(plaintext.as_slice(), bytes(&message["plaintext"]).as_slice());
            }
            other => panic!("stored state no longer decrypts: {other:?}"),
        }
    }
}
