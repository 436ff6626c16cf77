//! Session management: installations, concurrent initiation, superseding, recovery.

use kaiwa_crypto::DhPublicKey;
use kaiwa_session::{
    DecodeError, Envelope, InMemorySessionStore, InstallationId, OutgoingMessage, PeerAddress,
    ReceiveError, Received, Session, SessionConfig, SessionStore, UndecryptableReason,
    decode_contact_code, encode_contact_code,
};
use kaiwa_wire::net as wire;
use prost::Message as _;

use super::common::{Device, Identity, at, device, rng};

const DAY: u64 = 24 * 60 * 60 * 1_000;

fn converse(a: &mut Device, b: &mut Device, rounds: usize, now: u64) {
    for i in 0..rounds {
        let text = format!("a{i}");
        let m = a.send(&b.identity(), text.as_bytes(), at(now));
        b.expect_text(&m, text.as_bytes(), at(now));
        let text = format!("b{i}");
        let m = b.send(&a.identity(), text.as_bytes(), at(now));
        a.expect_text(&m, text.as_bytes(), at(now));
    }
}

fn envelopes(msg: &OutgoingMessage) -> wire::ProtocolMessage {
    wire::ProtocolMessage::decode(msg.as_bytes()).unwrap()
}

fn peer_record(d: &Device, peer: &Device) -> Vec<u8> {
    d.store.load_peer(&peer.identity()).unwrap().map(|r| r.as_bytes().to_vec()).unwrap_or_default()
}

#[test]
fn first_contact_through_a_contact_code_and_negotiated_topic() {
    let mut alice = device(1, "alice-phone");
    let mut bob = device(2, "bob-phone");
    // Alice scans Bob's QR code: it verifies Bob's identity and yields his bundle.
    let code = encode_contact_code(bob.manager.bundle());
    let bundle = decode_contact_code(&code, at(0), 3).unwrap();
    assert_eq!(bundle.identity(), bob.identity());
    alice.manager.process_bundle(&mut alice.store, &bundle).unwrap();
    assert_eq!(alice.manager.negotiated_secret(&alice.store, &bob.identity()).unwrap(), None);

    // Bob does not know Alice: her bundle travels with the message.
    let m = alice.send(&bob.identity(), b"hi bob", at(1));
    assert_eq!(m.recipients(), [bob.installation()]);
    assert_eq!(bob.expect_text(&m, b"hi bob", at(1)), alice.installation());
    let m = bob.send(&alice.identity(), b"hi alice", at(2));
    alice.expect_text(&m, b"hi alice", at(2));
    converse(&mut alice, &mut bob, 3, 3);

    let ab = alice.manager.negotiated_secret(&alice.store, &bob.identity()).unwrap();
    let ba = bob.manager.negotiated_secret(&bob.store, &alice.identity()).unwrap();
    assert!(ab.is_some());
    assert_eq!(ab, ba);
    assert_eq!(alice.active_session_id(&bob), bob.active_session_id(&alice));
}

#[test]
fn x3dh_header_is_carried_until_the_first_reply_and_resends_reuse_the_session() {
    let mut alice = device(3, "a");
    let mut bob = device(4, "b");
    alice.learn(&bob);
    let m1 = alice.send(&bob.identity(), b"one", at(1));
    let m2 = alice.send(&bob.identity(), b"two", at(1));
    for m in [&m1, &m2] {
        let env = &envelopes(m).encrypted_message[bob.installation().as_str()];
        assert!(env.x3dh_header.is_some());
    }
    // Out of order: the second first.
    bob.expect_text(&m2, b"two", at(2));
    bob.expect_text(&m1, b"one", at(2));
    assert!(matches!(bob.recv(&m1, at(2)), Received::Duplicate { .. }));
    let reply = bob.send(&alice.identity(), b"ok", at(3));
    alice.expect_text(&reply, b"ok", at(3));
    let m3 = alice.send(&bob.identity(), b"three", at(4));
    let env = &envelopes(&m3).encrypted_message[bob.installation().as_str()];
    assert!(env.x3dh_header.is_none(), "dropped after the first reply");
    bob.expect_text(&m3, b"three", at(4));
}

#[test]
fn one_envelope_per_installation_up_to_the_bound() {
    let bob_identity = Identity::generate(5);
    let mut phones: Vec<Device> = (0..4)
        .map(|i| bob_identity.device(&format!("bob-{i}"), 50 + i, SessionConfig::default()))
        .collect();
    let mut alice = device(6, "a");
    for (i, phone) in phones.iter().enumerate() {
        // Later bundles are newer: bob-0 is the least recently seen.
        let bundle = phone.manager.account().bundle(at(u64::try_from(i).unwrap() * 10));
        alice.manager.process_bundle(&mut alice.store, &bundle).unwrap();
    }
    let m = alice.send(&phones[0].identity(), b"to all", at(100));
    let recipients: Vec<String> = m.recipients().iter().map(|i| i.to_string()).collect();
    assert_eq!(recipients, ["bob-1", "bob-2", "bob-3"], "default bound of 3, by last activity");
    for phone in &mut phones[1..] {
        phone.expect_text(&m, b"to all", at(101));
    }
    assert_eq!(phones[0].recv(&m, at(101)), Received::NotForUs);

    // Bob's own other installations are reached by sending to his own identity; the
    // sender's own installation is skipped.
    let own = phones[1].manager.account().bundle(at(5));
    let other = phones[2].manager.account().bundle(at(5));
    let me = &mut phones[1];
    for bundle in [own, other] {
        me.manager.process_bundle(&mut me.store, &bundle).unwrap();
    }
    let bob = me.identity();
    let m = me.send(&bob, b"sync", at(102));
    assert_eq!(m.recipients(), [phones[2].installation()]);
    phones[2].expect_text(&m, b"sync", at(103));
}

#[test]
fn concurrent_initiation_converges_in_every_delivery_order() {
    for order in 0..3 {
        let mut alice = device(10 + order * 2, "a");
        let mut bob = device(11 + order * 2, "b");
        alice.learn(&bob);
        bob.learn(&alice);
        let ma = alice.send(&bob.identity(), b"from alice", at(1));
        let mb = bob.send(&alice.identity(), b"from bob", at(1));
        match order {
            0 => {
                // Both first messages cross.
                bob.expect_text(&ma, b"from alice", at(2));
                alice.expect_text(&mb, b"from bob", at(2));
            }
            1 => {
                // Bob receives and answers before Alice sees Bob's first message.
                bob.expect_text(&ma, b"from alice", at(2));
                let reply = bob.send(&alice.identity(), b"reply", at(3));
                alice.expect_text(&reply, b"reply", at(4));
                alice.expect_text(&mb, b"from bob", at(5));
            }
            _ => {
                alice.expect_text(&mb, b"from bob", at(2));
                let reply = alice.send(&bob.identity(), b"reply", at(3));
                bob.expect_text(&reply, b"reply", at(4));
                bob.expect_text(&ma, b"from alice", at(5));
            }
        }
        assert_eq!(alice.active_session_id(&bob), bob.active_session_id(&alice), "order {order}");
        converse(&mut alice, &mut bob, 3, 10);
        assert_eq!(alice.active_session_id(&bob), bob.active_session_id(&alice), "order {order}");
    }
}

#[test]
fn a_newer_prekey_version_supersedes_the_session() {
    let mut alice = device(20, "a");
    let mut bob = device(21, "b");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    let old = alice.active_session_id(&bob).unwrap();
    assert!(bob.manager.rotate_if_due(&mut bob.rng, at(DAY)));
    assert_eq!(bob.manager.bundle().signed_pre_key(&bob.installation()).unwrap().version(), 2);
    // Bob's next message carries the new bundle; Alice's next send re-keys with X3DH.
    let m = bob.send(&alice.identity(), b"rotated", at(DAY + 1));
    alice.expect_text(&m, b"rotated", at(DAY + 1));
    let m = alice.send(&bob.identity(), b"new session", at(DAY + 2));
    let env = &envelopes(&m).encrypted_message[bob.installation().as_str()];
    assert!(env.x3dh_header.is_some());
    bob.expect_text(&m, b"new session", at(DAY + 2));
    let new = alice.active_session_id(&bob).unwrap();
    assert_ne!(new, old);
    assert_eq!(bob.active_session_id(&alice), Some(new));
    converse(&mut alice, &mut bob, 2, DAY + 3);
}

#[test]
fn a_party_restored_from_an_old_backup_recovers_automatically() {
    let mut alice = device(30, "a");
    let mut bob = device(31, "b");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    let backup: InMemorySessionStore = bob.store.clone();
    converse(&mut alice, &mut bob, 3, 2);
    bob.store = backup;

    // Alice's messages now use chains Bob's restored state never saw.
    let mut recovery = None;
    for i in 0..3 {
        let m = alice.send(&bob.identity(), b"lost", at(100 + i));
        match bob.recv(&m, at(100 + i)) {
            Received::Undecryptable {
                reason: UndecryptableReason::Decrypt(_),
                recovery: r,
                ..
            } => {
                recovery = r;
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert_eq!(recovery.is_some(), i == 2, "after `failures_before_reset` = 3");
    }
    let recovery = recovery.unwrap();
    assert!(matches!(alice.recv(&recovery, at(200)), Received::SessionReset { .. }));
    converse(&mut alice, &mut bob, 2, 201);
    assert_eq!(alice.active_session_id(&bob), bob.active_session_id(&alice));
}

#[test]
fn a_party_that_lost_its_state_recovers_at_once() {
    let mut alice = device(32, "a");
    let mut bob = device(33, "b");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    bob.store = InMemorySessionStore::new();
    let m = alice.send(&bob.identity(), b"anyone there?", at(10));
    let Received::Undecryptable { reason, recovery: Some(recovery), .. } = bob.recv(&m, at(10))
    else {
        panic!("expected an immediate recovery");
    };
    assert_eq!(reason, UndecryptableReason::NoSession);
    assert!(matches!(alice.recv(&recovery, at(11)), Received::SessionReset { .. }));
    converse(&mut alice, &mut bob, 2, 12);
}

#[test]
fn recovery_is_rate_limited() {
    let mut alice = device(34, "a");
    let mut bob = device(35, "b");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 1, 1);
    bob.store = InMemorySessionStore::new();
    let mut produced = Vec::new();
    for i in 0..5 {
        let m = alice.send(&bob.identity(), b"x", at(10 + i));
        if let Received::Undecryptable { recovery: Some(r), .. } = bob.recv(&m, at(10 + i)) {
            produced.push((i, r));
        }
    }
    assert_eq!(produced.len(), 1, "one reset per minute");
    // Alice's messages are still on the old session (the reset did not arrive); after the
    // interval and `failures_before_reset` more failures, the next reset goes out.
    let mut later = 0;
    for i in 0..3 {
        let m = alice.send(&bob.identity(), b"x", at(60_000 + 20 + i));
        if let Received::Undecryptable { recovery: Some(_), .. } = bob.recv(&m, at(60_000 + 20 + i))
        {
            later += 1;
        }
    }
    assert_eq!(later, 1);
}

#[test]
fn undecryptable_and_rejected_messages_store_nothing() {
    let mut alice = device(36, "a");
    let mut bob = device(37, "b");
    let mallory = device(38, "m");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    let before = peer_record(&bob, &alice);
    let m = alice.send(&bob.identity(), b"secret", at(10));
    let mut msg = envelopes(&m);
    msg.encrypted_message.get_mut(bob.installation().as_str()).unwrap().payload[3] ^= 0x40;
    let bytes = msg.encode_to_vec();
    let got = bob.manager.receive(&mut bob.store, &bytes, &mut bob.rng, at(10)).unwrap();
    assert!(matches!(
        got,
        Received::Undecryptable { reason: UndecryptableReason::Decrypt(_), recovery: None, .. }
    ));
    assert_eq!(peer_record(&bob, &alice), before);
    bob.expect_text(&m, b"secret", at(11));

    // A bundle of another identity, or a forged one, attached to Alice's message is
    // ignored: the message itself still decrypts, and nothing is learnt from the bundle.
    let mut forged = wire::Bundle::from(alice.manager.bundle());
    forged.signed_pre_keys.values_mut().for_each(|spk| spk.version += 1);
    let mut msg = envelopes(&alice.send(&bob.identity(), b"x", at(12)));
    msg.bundles = vec![wire::Bundle::from(mallory.manager.bundle()), forged];
    let got = bob.manager.receive(&mut bob.store, &msg.encode_to_vec(), &mut bob.rng, at(12));
    assert!(matches!(got, Ok(Received::Message { .. })), "{got:?}");
    assert!(bob.store.load_peer(&mallory.identity()).unwrap().is_none());
    let known = bob.manager.installations(&bob.store, &alice.identity()).unwrap();
    assert_eq!(known, [alice.installation()]);
}

#[test]
fn a_new_installation_of_an_identity_gets_its_own_session() {
    let bob_identity = Identity::generate(40);
    let mut phone = bob_identity.device("bob-phone", 41, SessionConfig::default());
    let mut alice = device(42, "a");
    alice.learn(&phone);
    converse(&mut alice, &mut phone, 1, 1);
    // Account recovery = a new device: Bob restores his identity on a laptop.
    let mut laptop = bob_identity.device("bob-laptop", 43, SessionConfig::default());
    let m = laptop.manager.bundle_message();
    assert!(m.recipients().is_empty());
    assert_eq!(alice.recv(&m, at(6)), Received::NotForUs);
    let m = alice.send(&phone.identity(), b"both", at(7));
    assert_eq!(m.recipients().len(), 2);
    phone.expect_text(&m, b"both", at(8));
    laptop.expect_text(&m, b"both", at(8));
}

/// A `ProtocolMessage` from `from` carrying `envelope` for `to` and `from`'s bundle: what the
/// manager would build, around an envelope whose frame the test chooses.
fn message_with(from: &Device, to: &InstallationId, envelope: &Envelope) -> Vec<u8> {
    wire::ProtocolMessage {
        installation_id: from.installation().as_str().to_owned(),
        bundles: vec![wire::Bundle::from(from.manager.bundle())],
        sender_identity: from.identity().as_bytes().to_vec(),
        encrypted_message: [(to.as_str().to_owned(), envelope.into())].into(),
        public_message: Vec::new(),
    }
    .encode_to_vec()
}

/// Frames that authenticate (only the holder of the session keys can make them) but fail a
/// check made after decryption, and the error each one is refused with.
fn invalid_frames() -> Vec<(Vec<u8>, DecodeError)> {
    let reset = |installation_id: &str| {
        let request =
            wire::SessionResetRequest { installation_id: installation_id.into(), timestamp: 5 };
        let mut frame = vec![0x02];
        frame.extend(request.encode_to_vec());
        frame
    };
    vec![
        (vec![0x04, b'x'], DecodeError::Invalid { field: "frame.flags" }),
        (vec![0x81], DecodeError::Invalid { field: "frame.flags" }),
        (Vec::new(), DecodeError::Missing { field: "frame" }),
        (vec![0x02, 0xff, 0xff], DecodeError::Protobuf),
        (
            reset(""),
            DecodeError::InstallationId(kaiwa_session::InstallationIdError::Length {
                actual: 0,
                max: kaiwa_session::limits::MAX_INSTALLATION_ID_LEN,
            }),
        ),
        (reset("a b"), DecodeError::InstallationId(kaiwa_session::InstallationIdError::Character)),
    ]
}

/// 54's frame checks happen after decryption. A message that decrypts but is refused by one
/// of them stores nothing: the ratchet does not advance (no skipped key, no new chain), no
/// inbound session is filed, the attached bundle is not learnt, and the failure count is
/// neither reset nor raised. The same message is refused again, and later ones still decrypt.
#[test]
fn an_authenticated_message_with_an_invalid_frame_is_refused_and_changes_nothing() {
    let mut alice = device(44, "a");
    let mut bob = device(45, "b");
    let carol = device(46, "c");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    let bob_at_alice = PeerAddress { identity: bob.identity(), installation: bob.installation() };
    let to_bob = bob.installation();
    let (alice_id, carol_id) = (alice.identity(), carol.identity());
    let snapshot = |store: &InMemorySessionStore| {
        let load = |peer| store.load_peer(peer).unwrap().map(|r| r.as_bytes().to_vec());
        (store.len(), load(&alice_id), load(&carol_id))
    };
    let mut raw = rng(47);

    // On the established session, at the next index and two ahead (which would store skipped
    // keys), and on a new ratchet key (which would step the root key).
    let mut session = alice.manager.session(&alice.store, &bob_at_alice).unwrap().unwrap();
    let mut on_the_session = Vec::new();
    for (frame, error) in invalid_frames() {
        on_the_session.push((session.encrypt(&frame, &mut raw).unwrap(), error));
    }
    let reply = bob.send(&alice.identity(), b"new chain please", at(5));
    alice.expect_text(&reply, b"new chain please", at(5));
    let mut stepped = alice.manager.session(&alice.store, &bob_at_alice).unwrap().unwrap();
    for (frame, error) in invalid_frames() {
        on_the_session.push((stepped.encrypt(&frame, &mut raw).unwrap(), error));
    }
    let before = snapshot(&bob.store);
    for (envelope, error) in &on_the_session {
        let bytes = message_with(&alice, &to_bob, envelope);
        for _ in 0..2 {
            let got = bob.manager.receive(&mut bob.store, &bytes, &mut bob.rng, at(6));
            assert_eq!(snapshot(&bob.store), before, "{got:?}");
            assert_eq!(got, Err(ReceiveError::Decode(error.clone())));
        }
    }

    // The first message of a new session (X3DH header) from Carol, whom Bob does not know
    // yet: no session is filed and her bundle is not learnt.
    let bob_bundle = bob.manager.bundle().clone();
    for (frame, error) in invalid_frames() {
        let mut first = Session::initiate(
            carol.manager.account(),
            &bob_bundle,
            &bob.installation(),
            &mut raw,
            at(7),
        )
        .unwrap();
        let envelope = first.encrypt(&frame, &mut raw).unwrap();
        assert!(envelope.x3dh_header().is_some());
        let got = bob.manager.receive(
            &mut bob.store,
            &message_with(&carol, &to_bob, &envelope),
            &mut bob.rng,
            at(7),
        );
        assert_eq!(snapshot(&bob.store), before, "{got:?}");
        assert_eq!(got, Err(ReceiveError::Decode(error)));
    }

    // The failure count is untouched: two undecryptable messages, a refused one, and the
    // third undecryptable message reaches `failures_before_reset` = 3.
    let tampered = |alice: &mut Device, bob: &Device, now| {
        let mut msg = envelopes(&alice.send(&bob.identity(), b"lost", now));
        msg.encrypted_message.get_mut(bob.installation().as_str()).unwrap().payload[3] ^= 0x40;
        msg.encode_to_vec()
    };
    for i in 0..3 {
        if i == 2 {
            let (envelope, error) = &on_the_session[0];
            let got = bob.manager.receive(
                &mut bob.store,
                &message_with(&alice, &to_bob, envelope),
                &mut bob.rng,
                at(8),
            );
            assert_eq!(got, Err(ReceiveError::Decode(error.clone())));
        }
        let bytes = tampered(&mut alice, &bob, at(8));
        let got = bob.manager.receive(&mut bob.store, &bytes, &mut bob.rng, at(8)).unwrap();
        let Received::Undecryptable { recovery, .. } = got else { panic!("{got:?}") };
        assert_eq!(recovery.is_some(), i == 2, "failure {i}");
        if let Some(recovery) = recovery {
            assert!(matches!(alice.recv(&recovery, at(8)), Received::SessionReset { .. }));
        }
    }

    // The established session still works both ways.
    converse(&mut alice, &mut bob, 2, 9);
}

/// The at-rest-trust case of record.rs: a stored sending ratchet key whose public half is
/// not its secret's. The record loads (nothing panics), the peer refuses what is sent on that
/// chain without changing anything, the peer's replies still decrypt, and the next DH ratchet
/// step draws a fresh key pair, after which the conversation goes on.
#[test]
fn a_stored_ratchet_key_with_a_foreign_public_half_fails_only_at_the_peer_and_heals() {
    let mut alice = device(60, "a");
    let mut bob = device(61, "b");
    alice.learn(&bob);
    converse(&mut alice, &mut bob, 2, 1);
    let m = alice.send(&bob.identity(), b"on a new chain", at(2));
    bob.expect_text(&m, b"on a new chain", at(2));

    let mut record =
        kaiwa_wire::store::PeerRecord::decode(peer_record(&alice, &bob).as_slice()).unwrap();
    let session = &mut record.installations[0].sessions[0];
    assert_eq!(session.sending_ratchet_secret.len(), 32, "Alice holds a sending chain");
    session.sending_ratchet_public = DhPublicKey::from_bytes([9; 32]).as_bytes().to_vec();
    let odd = kaiwa_session::PeerRecord::from_bytes(record.encode_to_vec());
    alice.store.store_peer(&bob.identity(), &odd).unwrap();

    let before = peer_record(&bob, &alice);
    let m = alice.send(&bob.identity(), b"lost", at(3));
    let got = bob.recv(&m, at(3));
    assert!(
        matches!(got, Received::Undecryptable { reason: UndecryptableReason::Decrypt(_), .. }),
        "{got:?}"
    );
    assert_eq!(peer_record(&bob, &alice), before);

    let m = bob.send(&alice.identity(), b"still heard", at(4));
    alice.expect_text(&m, b"still heard", at(4));
    let m = alice.send(&bob.identity(), b"healed", at(5));
    bob.expect_text(&m, b"healed", at(5));
}

#[test]
fn installation_queries_answer_alike_for_a_record_written_before_the_public_half() {
    // The committed store-v1 peer record (written before sending_ratchet_public existed).
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../test-vectors/store-v1.json")).unwrap();
    let bytes = |key: &str| ::hex::decode(vectors[key].as_str().unwrap()).unwrap();
    let alice =
        kaiwa_crypto::IdentityPublicKey::try_from(bytes("peer_identity").as_slice()).unwrap();
    let bob = device(62, "bob-1");
    let mut store = InMemorySessionStore::new();
    store.store_peer(&alice, &kaiwa_session::PeerRecord::from_bytes(bytes("peer"))).unwrap();
    assert!(bob.manager.has_installations(&store, &alice).unwrap());
    let ids = bob.manager.installations(&store, &alice).unwrap();
    assert_eq!(ids, [InstallationId::new("alice-1").unwrap()]);
}
