//! State-machine properties with random interleavings, drops, reorders, duplicates and
//! tampering, over two parties (sessions) and three parties (session managers).

use std::collections::BTreeMap;

use kaiwa_crypto::DhPublicKey;
use kaiwa_session::limits::MAX_RECEIVING_CHAINS;
use kaiwa_session::{DecryptError, Envelope, OutgoingMessage, Received, Session, SessionStore};
use proptest::prelude::*;

use super::common::{Device, at, device, rng};
use super::session::pair;

#[derive(Clone, Debug)]
enum Op {
    Send { from_alice: bool },
    Deliver { pick: usize },
    Redeliver { pick: usize },
    Drop { pick: usize },
    Tamper { pick: usize, field: u8, at: usize, mask: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|from_alice| Op::Send { from_alice }),
        4 => any::<usize>().prop_map(|pick| Op::Deliver { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Redeliver { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Drop { pick }),
        2 => (any::<usize>(), 0..4u8, any::<usize>(), 1..=255u8)
            .prop_map(|(pick, field, at, mask)| Op::Tamper { pick, field, at, mask }),
    ]
}

struct Sent {
    to_bob: bool,
    envelope: Envelope,
    text: Vec<u8>,
    epoch: usize,
}

fn snapshot(s: &Session) -> Vec<u8> {
    s.to_record().as_bytes().to_vec()
}

/// Position of `key` in the sender's sequence of ratchet keys (appended if new).
fn epoch(keys: &mut Vec<DhPublicKey>, key: DhPublicKey) -> usize {
    match keys.iter().position(|k| *k == key) {
        Some(i) => i,
        None => {
            keys.push(key);
            keys.len() - 1
        }
    }
}

fn tampered(
    envelope: &Envelope,
    field: u8,
    at: usize,
    mask: u8,
) -> Option<(Envelope, DecryptError)> {
    let mut wire = kaiwa_wire::net::EncryptedMessageProtocol::from(envelope);
    let dr = wire.dr_header.as_mut().unwrap();
    let expected = match field {
        0 => {
            let i = at % wire.payload.len();
            wire.payload[i] ^= mask;
            DecryptError::Unauthenticated
        }
        1 => {
            dr.key[at % 32] ^= mask;
            DecryptError::Unauthenticated
        }
        2 => {
            dr.pn ^= u32::from(mask);
            DecryptError::Unauthenticated
        }
        _ => {
            dr.id[at % 32] ^= mask;
            DecryptError::WrongSession
        }
    };
    if let Some(x3dh) = wire.x3dh_header.as_mut() {
        x3dh.id.clone_from(&dr.id);
    }
    // A key that is no longer canonical is rejected by decoding already.
    Envelope::try_from(wire).ok().map(|e| (e, expected))
}

fn run_two_party(seed: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut rng = rng(seed);
    let (mut a, mut b) = pair(&mut rng);
    let mut keys_a = Vec::new();
    let mut keys_b = Vec::new();
    let mut in_flight: Vec<Sent> = Vec::new();
    let mut delivered: Vec<Sent> = Vec::new();
    let mut counter = 0u32;
    for op in ops {
        match op {
            Op::Send { from_alice } => {
                counter += 1;
                let text = counter.to_be_bytes().to_vec();
                let (sender, keys) =
                    if from_alice { (&mut a, &mut keys_a) } else { (&mut b, &mut keys_b) };
                let envelope = sender.encrypt(&text, &mut rng).unwrap();
                let epoch = epoch(keys, envelope.header().ratchet_key());
                in_flight.push(Sent { to_bob: from_alice, envelope, text, epoch });
            }
            Op::Deliver { pick } if !in_flight.is_empty() => {
                let sent = in_flight.remove(pick % in_flight.len());
                let current = if sent.to_bob { keys_a.len() } else { keys_b.len() };
                // Within the bounds: the sender has not moved on by MAX_RECEIVING_CHAINS - 1
                // ratchet keys since (else the chain may be gone: counted as a drop).
                if current - 1 - sent.epoch >= MAX_RECEIVING_CHAINS - 1 {
                    continue;
                }
                let receiver = if sent.to_bob { &mut b } else { &mut a };
                let plaintext = receiver.decrypt(&sent.envelope);
                prop_assert_eq!(plaintext.as_deref().map(Vec::as_slice), Ok(sent.text.as_slice()));
                delivered.push(sent);
            }
            Op::Redeliver { pick } if !delivered.is_empty() => {
                let sent = &delivered[pick % delivered.len()];
                let receiver = if sent.to_bob { &mut b } else { &mut a };
                let before = snapshot(receiver);
                prop_assert_eq!(receiver.decrypt(&sent.envelope), Err(DecryptError::Duplicate));
                prop_assert_eq!(snapshot(receiver), before);
            }
            Op::Drop { pick } if !in_flight.is_empty() => {
                in_flight.remove(pick % in_flight.len());
            }
            Op::Tamper { pick, field, at, mask } if !in_flight.is_empty() => {
                let sent = &in_flight[pick % in_flight.len()];
                let Some((copy, expected)) = tampered(&sent.envelope, field, at, mask) else {
                    continue;
                };
                let receiver = if sent.to_bob { &mut b } else { &mut a };
                let before = snapshot(receiver);
                prop_assert_eq!(receiver.decrypt(&copy), Err(expected));
                prop_assert_eq!(snapshot(receiver), before);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Three parties, each pair in conversation through session managers, with first
/// messages that race each other.
fn run_three_party(seed: u64, ops: Vec<(u8, u8, u8, usize)>) -> Result<(), TestCaseError> {
    let mut devices: Vec<Device> = (0..3)
        .map(|i| device(seed * 10 + i, ["alice", "bob", "carol"][usize::try_from(i).unwrap()]))
        .collect();
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                let bundle = devices[j].manager.bundle().clone();
                let d = &mut devices[i];
                d.manager.process_bundle(&mut d.store, &bundle).unwrap();
            }
        }
    }
    struct Flight {
        from: usize,
        to: usize,
        msg: OutgoingMessage,
        text: Vec<u8>,
        received_by_sender_at_send: usize,
    }
    // received[i][j]: messages i has decrypted from j.
    let mut received = [[0usize; 3]; 3];
    let mut in_flight: Vec<Flight> = Vec::new();
    let mut delivered: Vec<Flight> = Vec::new();
    let mut counter = 0u32;
    let mut now = 1;
    for (kind, from, to, pick) in ops {
        now += 1;
        match kind % 8 {
            0..=2 => {
                let from = usize::from(from % 3);
                let to = (from + 1 + usize::from(to % 2)) % 3;
                counter += 1;
                let text = counter.to_be_bytes().to_vec();
                let peer = devices[to].identity();
                let msg = devices[from].send(&peer, &text, at(now));
                let received_by_sender_at_send = received[from][to];
                in_flight.push(Flight { from, to, msg, text, received_by_sender_at_send });
            }
            3..=5 if !in_flight.is_empty() => {
                let f = in_flight.remove(pick % in_flight.len());
                // Within the bounds (see the two-party run).
                if received[f.from][f.to] - f.received_by_sender_at_send >= MAX_RECEIVING_CHAINS - 1
                {
                    continue;
                }
                match devices[f.to].recv(&f.msg, at(now)) {
                    Received::Message { from, plaintext } => {
                        prop_assert_eq!(from.identity, devices[f.from].identity());
                        prop_assert_eq!(plaintext.as_slice(), f.text.as_slice());
                    }
                    other => prop_assert!(false, "expected a message, got {:?}", other),
                }
                received[f.to][f.from] += 1;
                delivered.push(f);
            }
            6 if !delivered.is_empty() => {
                let f = &delivered[pick % delivered.len()];
                let got = devices[f.to].recv(&f.msg, at(now));
                prop_assert!(matches!(got, Received::Duplicate { .. }), "{:?}", got);
            }
            7 if !in_flight.is_empty() => {
                in_flight.remove(pick % in_flight.len());
            }
            _ => {}
        }
    }
    // Everyone ends up with one shared session per pair: one more exchange each way works.
    let mut outcome = BTreeMap::new();
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                now += 1;
                let peer = devices[j].identity();
                let msg = devices[i].send(&peer, b"final", at(now));
                let got = devices[j].recv(&msg, at(now));
                prop_assert!(matches!(got, Received::Message { .. }), "{:?}", got);
            }
        }
    }
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                outcome.insert((i, j), devices[i].active_session_id(&devices[j]));
            }
        }
    }
    for i in 0..3 {
        for j in 0..3 {
            if i < j {
                prop_assert_eq!(outcome[&(i, j)], outcome[&(j, i)]);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn two_parties_every_delivered_message_decrypts_once(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        run_two_party(seed, ops)?;
    }

    #[test]
    fn three_parties_converge_and_decrypt_everything_delivered(
        seed in 0..u64::MAX / 20,
        ops in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<usize>()), 1..40),
    ) {
        run_three_party(seed, ops)?;
    }
}

/// What the receiver authenticates of a `ProtocolMessage`: the sender's claimed identity and
/// installation (bound by the AD) and our envelope. Attached bundles carry their own
/// signatures and are optional, so dropping one (or adding unknown fields) changes nothing
/// that is delivered.
fn authenticated_part(bytes: &[u8], to: &str) -> Option<(Vec<u8>, String, Vec<u8>)> {
    use prost::Message as _;
    let msg = kaiwa_wire::net::ProtocolMessage::decode(bytes).ok()?;
    let envelope = msg.encrypted_message.get(to)?.encode_to_vec();
    Some((msg.sender_identity, msg.installation_id, envelope))
}

/// Flips one bit of an encoded `ProtocolMessage` anywhere (envelope, headers, bundle,
/// sender fields). Unless the flip left the authenticated part intact, the message never
/// decrypts and the stored sessions are unchanged; if it did (say, it turned the attached
/// bundle into an unknown field), it decrypts to exactly the original plaintext, once.
fn run_wire_tamper(
    seed: u64,
    position: usize,
    bit: u8,
    established: bool,
) -> Result<(), TestCaseError> {
    let mut alice = device(seed, "alice");
    let mut bob = device(seed + 1, "bob");
    alice.learn(&bob);
    if established {
        let m = alice.send(&bob.identity(), b"hi", at(1));
        bob.recv(&m, at(1));
        let m = bob.send(&alice.identity(), b"hi", at(1));
        alice.recv(&m, at(1));
    }
    let m = alice.send(&bob.identity(), b"the secret", at(2));
    let mut bytes = m.as_bytes().to_vec();
    let i = position % bytes.len();
    bytes[i] ^= 1 << (bit % 8);
    let intact = authenticated_part(&bytes, "bob") == authenticated_part(m.as_bytes(), "bob");
    let before = bob.store.clone();
    let records = |store: &kaiwa_session::InMemorySessionStore| {
        use kaiwa_session::SessionStore as _;
        store.load_peer(&alice.identity()).unwrap().map(|r| r.as_bytes().to_vec())
    };
    let got = bob.manager.receive(&mut bob.store, &bytes, &mut bob.rng, at(3));
    match &got {
        Ok(Received::Message { plaintext, .. }) if intact => {
            prop_assert_eq!(plaintext.as_slice(), b"the secret");
            let again = bob.recv(&m, at(4));
            prop_assert!(matches!(again, Received::Duplicate { .. }), "{:?}", again);
            return Ok(());
        }
        Ok(
            Received::Message { .. } | Received::SessionReset { .. } | Received::Duplicate { .. },
        ) => {
            prop_assert!(false, "a tampered message was accepted: {:?}", got);
        }
        // Recovery starts at once only for a ratchet message when no session exists at all
        // (module docs of session_manager: "we lost our state").
        Ok(Received::Undecryptable { recovery: Some(_), reason, .. }) => {
            prop_assert!(!established);
            prop_assert_eq!(reason, &kaiwa_session::UndecryptableReason::NoSession);
        }
        _ => {}
    }
    // Sessions are untouched; only a first sight of Alice's (authentic, unmodified) bundle may
    // be recorded when the flipped bit was elsewhere.
    if established {
        prop_assert_eq!(records(&bob.store), records(&before));
    }
    // The untampered message still decrypts afterwards.
    bob.expect_text(&m, b"the secret", at(4));
    Ok(())
}

/// Corrupts a real peer record (Alice's record of Bob after both have sent: sessions with a
/// sending chain and its stored public half, receiving chains, skipped keys) at one byte, or
/// cuts it short there, and runs every query and operation on it: each returns, none panics.
/// Where the record still loads in full, the sending chain's stored public half is trusted
/// (record.rs), so a flip there may make messages fail at the peer, never here.
fn run_record_corruption(position: usize, mask: u8, cut: bool) -> Result<(), TestCaseError> {
    let mut alice = device(70, "alice");
    let mut bob = device(71, "bob");
    alice.learn(&bob);
    for i in 0..2 {
        let m = alice.send(&bob.identity(), b"hi", at(i));
        bob.recv(&m, at(i));
        // Never delivered: Alice keeps its key as a skipped key.
        let _late = bob.send(&alice.identity(), b"late", at(i));
        let m = bob.send(&alice.identity(), b"hi", at(i));
        alice.recv(&m, at(i));
    }
    let _ = alice.send(&bob.identity(), b"pending", at(3));
    let incoming = bob.send(&alice.identity(), b"incoming", at(3));
    let bob_id = bob.identity();
    let mut bytes = alice.store.load_peer(&bob_id).unwrap().unwrap().as_bytes().to_vec();
    let i = position % bytes.len();
    if cut {
        bytes.truncate(i);
    } else {
        bytes[i] ^= mask;
    }
    alice.store.store_peer(&bob_id, &kaiwa_session::PeerRecord::from_bytes(bytes)).unwrap();
    let address = kaiwa_session::PeerAddress { identity: bob_id, installation: bob.installation() };
    let listed = alice.manager.installations(&alice.store, &bob_id);
    let has = alice.manager.has_installations(&alice.store, &bob_id);
    let negotiated = alice.manager.negotiated_secret(&alice.store, &bob_id);
    let session = alice.manager.session(&alice.store, &address);
    // The summary accepts every record a full load accepts, and answers alike.
    if let Ok(listed) = &listed {
        prop_assert_eq!(has.ok(), Some(!listed.is_empty()));
        prop_assert!(negotiated.is_ok());
        prop_assert!(session.is_ok());
    }
    let _ = alice.manager.encrypt(&mut alice.store, &bob_id, b"x", &mut alice.rng, at(4));
    let _ = alice.manager.receive(&mut alice.store, incoming.as_bytes(), &mut alice.rng, at(4));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn corrupted_peer_records_never_panic_a_query_or_an_operation(
        position in any::<usize>(),
        mask in 1..=255u8,
        cut in prop::bool::weighted(0.2),
    ) {
        run_record_corruption(position, mask, cut)?;
    }

    #[test]
    fn tampering_any_bit_of_a_protocol_message_is_rejected_without_state_change(
        seed in 0..u64::MAX / 2,
        position in any::<usize>(),
        bit in any::<u8>(),
        established in any::<bool>(),
    ) {
        run_wire_tamper(seed, position, bit, established)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_manager_or_the_record_loaders(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bob = device(9, "bob");
        let _ = bob.manager.receive(&mut bob.store, &bytes, &mut bob.rng, at(0));
        let _ = Session::from_record(&kaiwa_session::SessionRecord::from_bytes(bytes.clone()));
        let _ = kaiwa_session::Account::from_records(
            &kaiwa_session::AccountRecord::from_bytes(bytes.clone()),
            &[kaiwa_session::SignedPreKeyRecord::from_bytes(bytes)],
        );
    }
}
