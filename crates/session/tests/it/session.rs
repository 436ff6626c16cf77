//! The double ratchet through the public `Session` API: handshake, ordering, forward
//! secrecy, post-compromise security.

use kaiwa_session::{
    Account, DecryptError, Envelope, InstallationId, Session, SessionConfig, SessionCreationError,
    Timestamp,
};
use rand_chacha::ChaCha20Rng;

use super::common::{at, rng};

pub(crate) fn accounts(rng: &mut ChaCha20Rng) -> (Account, Account) {
    let alice = Account::generate(InstallationId::new("alice-1").unwrap(), rng, at(0));
    let bob = Account::generate(InstallationId::new("bob-1").unwrap(), rng, at(0));
    (alice, bob)
}

/// Alice initiates; Bob accepts her first message ("hello").
pub(crate) fn pair(rng: &mut ChaCha20Rng) -> (Session, Session) {
    let (alice, bob) = accounts(rng);
    let mut a =
        Session::initiate(&alice, &bob.bundle(at(0)), bob.installation_id(), rng, at(1)).unwrap();
    let first = a.encrypt(b"hello", rng).unwrap();
    let (b, plaintext) = Session::respond(
        &bob,
        &alice.bundle(at(0)),
        alice.installation_id(),
        &first,
        at(1),
        &SessionConfig::default(),
    )
    .unwrap();
    assert_eq!(plaintext.as_slice(), b"hello");
    (a, b)
}

fn snapshot(s: &Session) -> Vec<u8> {
    s.to_record().as_bytes().to_vec()
}

#[test]
fn both_sides_agree_and_the_header_is_dropped_after_the_reply() {
    let mut rng = rng(100);
    let (mut a, mut b) = pair(&mut rng);
    assert_eq!(a.id(), b.id());
    assert_eq!(a.associated_data(), b.associated_data());
    assert!(a.is_awaiting_reply() && !b.is_awaiting_reply());
    let m = a.encrypt(b"still unanswered", &mut rng).unwrap();
    assert!(m.x3dh_header().is_some());
    assert_eq!(b.decrypt(&m).unwrap().as_slice(), b"still unanswered");
    let reply = b.encrypt(b"answer", &mut rng).unwrap();
    assert!(reply.x3dh_header().is_none());
    assert_eq!(a.decrypt(&reply).unwrap().as_slice(), b"answer");
    assert!(!a.is_awaiting_reply());
    assert!(a.encrypt(b"x", &mut rng).unwrap().x3dh_header().is_none());
}

#[test]
fn respond_stores_nothing_when_the_first_message_fails() {
    let mut rng = rng(101);
    let (alice, bob) = accounts(&mut rng);
    let mut a =
        Session::initiate(&alice, &bob.bundle(at(0)), bob.installation_id(), &mut rng, at(1))
            .unwrap();
    let first = a.encrypt(b"hello", &mut rng).unwrap();
    let mut wire = kaiwa_wire::net::EncryptedMessageProtocol::from(&first);
    wire.payload[0] ^= 1;
    let tampered = Envelope::try_from(wire).unwrap();
    let config = SessionConfig::default();
    let result = Session::respond(
        &bob,
        &alice.bundle(at(0)),
        alice.installation_id(),
        &tampered,
        at(1),
        &config,
    );
    assert_eq!(result.unwrap_err(), SessionCreationError::Decrypt(DecryptError::Unauthenticated));
    // Claiming another installation of Alice changes the AD: rejected too.
    let other = InstallationId::new("alice-2").unwrap();
    let result = Session::respond(&bob, &alice.bundle(at(0)), &other, &first, at(1), &config);
    assert_eq!(result.unwrap_err(), SessionCreationError::Decrypt(DecryptError::Unauthenticated));
    // The wrong bundle (someone else's identity) is refused before any DH.
    let result =
        Session::respond(&bob, &bob.bundle(at(0)), alice.installation_id(), &first, at(1), &config);
    assert_eq!(result.unwrap_err(), SessionCreationError::IdentityMismatch);
    // A prekey past its grace period is gone.
    let mut bob = bob;
    let mut config_short = SessionConfig::default();
    config_short.prekey_rotation_interval_ms = 1;
    config_short.prekey_grace_period_ms = 1;
    bob.rotate_if_due(&config_short, &mut rng, at(10));
    bob.rotate_if_due(&config_short, &mut rng, at(20));
    let result = Session::respond(
        &bob,
        &alice.bundle(at(0)),
        alice.installation_id(),
        &first,
        at(20),
        &config_short,
    );
    assert_eq!(result.unwrap_err(), SessionCreationError::UnknownPreKey);
}

#[test]
fn out_of_order_across_ratchet_steps() {
    let mut rng = rng(102);
    let (mut a, mut b) = pair(&mut rng);
    let a1: Vec<Envelope> = (0..5).map(|i| a.encrypt(&[i], &mut rng).unwrap()).collect();
    b.decrypt(&a1[4]).unwrap();
    let b1 = b.encrypt(b"b1", &mut rng).unwrap();
    a.decrypt(&b1).unwrap();
    let a2: Vec<Envelope> = (0..3).map(|i| a.encrypt(&[10 + i], &mut rng).unwrap()).collect();
    assert_eq!(b.decrypt(&a2[2]).unwrap().as_slice(), [12]);
    for (i, m) in a1.iter().enumerate().take(4).rev() {
        assert_eq!(b.decrypt(m).unwrap().as_slice(), [u8::try_from(i).unwrap()]);
    }
    assert_eq!(b.decrypt(&a2[0]).unwrap().as_slice(), [10]);
    assert_eq!(b.decrypt(&a2[1]).unwrap().as_slice(), [11]);
    assert_eq!(b.skipped_key_count(), 0, "used keys are deleted");
    for m in a1.iter().chain(&a2) {
        assert_eq!(b.decrypt(m), Err(DecryptError::Duplicate));
    }
}

#[test]
fn forward_secrecy_a_later_snapshot_cannot_decrypt_a_read_message() {
    let mut rng = rng(103);
    let (mut a, mut b) = pair(&mut rng);
    let early = a.encrypt(b"early", &mut rng).unwrap();
    let skipped = a.encrypt(b"skipped then read", &mut rng).unwrap();
    let head = a.encrypt(b"head", &mut rng).unwrap();
    b.decrypt(&head).unwrap();
    b.decrypt(&early).unwrap();
    b.decrypt(&skipped).unwrap();
    let stolen = b.to_record();
    for m in [&early, &skipped, &head] {
        let mut thief = Session::from_record(&stolen).unwrap();
        assert_eq!(thief.decrypt(m), Err(DecryptError::Duplicate));
        // Past the replay window check (a fresh tag): no key is left for that position.
        let mut wire = kaiwa_wire::net::EncryptedMessageProtocol::from(m);
        let last = wire.payload.len() - 1;
        wire.payload[last] ^= 1;
        let copy = Envelope::try_from(wire).unwrap();
        assert_eq!(thief.decrypt(&copy), Err(DecryptError::KeyUnavailable));
    }
}

#[test]
fn post_compromise_security_one_round_trip_locks_the_attacker_out() {
    let mut rng = rng(104);
    let (mut a, mut b) = pair(&mut rng);
    let m = b.encrypt(b"b0", &mut rng).unwrap();
    a.decrypt(&m).unwrap();
    // Eve copies Alice's whole state and follows all of Bob's traffic to Alice.
    let mut eve = Session::from_record(&a.to_record()).unwrap();
    let mut eve_rng = super::common::rng(999);
    let m = b.encrypt(b"b1", &mut rng).unwrap();
    assert_eq!(eve.decrypt(&m).unwrap().as_slice(), b"b1", "compromised chain");
    a.decrypt(&m).unwrap();
    // The round trip: Alice answers with a fresh ratchet key, Bob answers that.
    let reply = a.encrypt(b"a1", &mut rng).unwrap();
    b.decrypt(&reply).unwrap();
    let after = b.encrypt(b"b2", &mut rng).unwrap();
    assert_eq!(a.decrypt(&after).unwrap().as_slice(), b"b2");
    assert_eq!(eve.decrypt(&after), Err(DecryptError::Unauthenticated));
    // Eve's own messages to Bob under the stolen state no longer reach the new chain either.
    let forged = eve.encrypt(b"forged", &mut eve_rng).unwrap();
    let before = snapshot(&b);
    assert_eq!(b.decrypt(&forged), Err(DecryptError::Unauthenticated));
    assert_eq!(snapshot(&b), before);
}

#[test]
fn an_unanswered_initiator_timestamp_and_ids_are_kept() {
    let mut rng = rng(105);
    let (a, b) = pair(&mut rng);
    assert_eq!(a.created_at(), Timestamp::from_millis(super::common::T0 + 1));
    assert!(a.initiated_by_us() && !b.initiated_by_us());
    assert_eq!(a.bundle_id(), b.bundle_id());
}
