//! One conformance suite per store trait, written once as a generic function and run
//! against the protocol crates' in-memory stores and against SQLite (a file, reopened
//! between steps; in memory; and inside a transaction). Every suite drives the real
//! protocol with seeded randomness, reloads the state through the store, continues, and
//! compares byte for byte with a run that never stored anything.

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
use kaiwa_group::{Group, GroupStore, MemberId as GroupMember, MemoryGroupStore};
use kaiwa_org::{
    Access, Actor, Channel, ChannelId, InMemoryOrgStore, JoinRequest, LamportTime, MemberId,
    MemberKeys, OrgConfig, OrgStore, Organization, OrganizationView, RequestOutcome,
};
use kaiwa_session::{
    Account, AccountStore, AccountStoreError, InMemoryAccountStore, InMemorySessionStore,
    InstallationId, Received, SessionConfig, SessionManager, SessionStore, load_account,
    save_account,
};
use kaiwa_store::Store;

use super::common::{T0, at, rng, temp_db};

// ---------------------------------------------------------------------------------------
// The suites.
// ---------------------------------------------------------------------------------------

pub(crate) fn manager(seed: u64, installation: &str) -> SessionManager {
    let account =
        Account::generate(InstallationId::new(installation).unwrap(), &mut rng(seed), at(0));
    SessionManager::new(account, SessionConfig::default(), at(0))
}

/// Alice keeps her peers in `store`; Bob in memory. Returns every byte string that crossed
/// the wire, then Alice's final record of Bob.
fn conversation<S: SessionStore>(mut store: S, reopen: &mut impl FnMut(S) -> S) -> Vec<Vec<u8>> {
    let mut alice = manager(1, "alice-phone");
    let mut bob = manager(2, "bob-laptop");
    let (mut alice_rng, mut bob_rng) = (rng(11), rng(12));
    let mut bob_store = InMemorySessionStore::new();
    let (alice_id, bob_id) = (alice.account().identity_key(), bob.account().identity_key());
    let mut wire = Vec::new();

    assert_eq!(store.load_peer(&bob_id).unwrap(), None);
    alice.process_bundle(&mut store, &bob.bundle().clone()).unwrap();
    assert!(store.load_peer(&bob_id).unwrap().is_some());
    assert_eq!(store.load_peer(&alice_id).unwrap(), None, "keys are independent");
    store = reopen(store);

    let mut last_reply = None;
    for round in 0..4_u64 {
        let text = format!("alice {round}");
        let sent =
            alice.encrypt(&mut store, &bob_id, text.as_bytes(), &mut alice_rng, at(round)).unwrap();
        wire.push(sent.as_bytes().to_vec());
        store = reopen(store);
        match bob.receive(&mut bob_store, sent.as_bytes(), &mut bob_rng, at(round)).unwrap() {
            Received::Message { plaintext, .. } => {
                assert_eq!(plaintext.as_slice(), text.as_bytes())
            }
            other => panic!("bob got {other:?}"),
        }
        let reply = format!("bob {round}");
        let reply = bob
            .encrypt(&mut bob_store, &alice_id, reply.as_bytes(), &mut bob_rng, at(round))
            .unwrap();
        wire.push(reply.as_bytes().to_vec());
        match alice.receive(&mut store, reply.as_bytes(), &mut alice_rng, at(round)).unwrap() {
            Received::Message { plaintext, .. } => {
                assert_eq!(plaintext.as_slice(), format!("bob {round}").as_bytes());
            }
            other => panic!("alice got {other:?}"),
        }
        store = reopen(store);
        last_reply = Some(reply);
    }
    // The replay window was persisted: a redelivered reply is a duplicate, not a message.
    let replay = last_reply.unwrap();
    assert!(matches!(
        alice.receive(&mut store, replay.as_bytes(), &mut alice_rng, at(9)).unwrap(),
        Received::Duplicate { .. }
    ));
    let record = store.load_peer(&bob_id).unwrap().unwrap();
    wire.push(record.as_bytes().to_vec());

    // Whole-record replacement.
    let earlier = kaiwa_session::PeerRecord::from_bytes(wire[0].clone());
    store.store_peer(&alice_id, &earlier).unwrap();
    store.store_peer(&alice_id, &record).unwrap();
    let store = reopen(store);
    assert_eq!(store.load_peer(&alice_id).unwrap().unwrap(), record);
    assert_eq!(store.load_peer(&bob_id).unwrap().unwrap(), record);
    wire
}

pub(crate) fn session_store_suite<S: SessionStore>(store: S, mut reopen: impl FnMut(S) -> S) {
    let reference = conversation(InMemorySessionStore::new(), &mut |s| s);
    let actual = conversation(store, &mut reopen);
    assert_eq!(actual.len(), reference.len());
    assert!(actual == reference, "the conversation differs from the never-stored run");
}

pub(crate) fn account_store_suite<S: AccountStore>(mut store: S, mut reopen: impl FnMut(S) -> S) {
    assert_eq!(store.load_account().unwrap(), None);
    assert!(store.load_signed_pre_keys().unwrap().is_empty());
    assert!(matches!(load_account(&store), Err(AccountStoreError::NotFound)));

    let config = SessionConfig::default();
    let mut never_stored =
        Account::generate(InstallationId::new("phone").unwrap(), &mut rng(20), at(0));
    save_account(&mut store, &never_stored).unwrap();
    store = reopen(store);
    let mut loaded = load_account(&store).unwrap();
    assert_eq!(loaded.identity_key(), never_stored.identity_key());
    assert_eq!(loaded.to_records(), never_stored.to_records());

    // Rotation adds a prekey (the old one is retired, not gone): a set of two, in order.
    let later = at(config.prekey_rotation_interval_ms + 1);
    assert!(never_stored.rotate_if_due(&config, &mut rng(21), later));
    assert!(loaded.rotate_if_due(&config, &mut rng(21), later));
    save_account(&mut store, &loaded).unwrap();
    store = reopen(store);
    let loaded = load_account(&store).unwrap();
    assert_eq!(loaded.to_records(), never_stored.to_records());
    assert_eq!(store.load_signed_pre_keys().unwrap(), never_stored.to_records().1);
    assert!(store.load_signed_pre_keys().unwrap().len() >= 2);
    assert_eq!(loaded.bundle(later), never_stored.bundle(later));

    // The set is replaced, not merged: an empty set deletes every prekey.
    store.store_signed_pre_keys(&[]).unwrap();
    store = reopen(store);
    assert!(store.load_signed_pre_keys().unwrap().is_empty());
    assert!(load_account(&store).is_err(), "an account without its prekeys does not load");
    save_account(&mut store, &never_stored).unwrap();
    let store = reopen(store);
    assert_eq!(load_account(&store).unwrap().to_records(), never_stored.to_records());
}

pub(crate) fn group_store_suite<S: GroupStore>(mut store: S, mut reopen: impl FnMut(S) -> S) {
    let mut r = rng(30);
    let alice = IdentityKeyPair::generate(&mut r);
    let bob = GroupMember::new(IdentityKeyPair::generate(&mut r).public_key());
    let (mut never_stored, _) =
        Group::create(&alice, "friends", "#ff8800", &[bob], &mut r, T0).unwrap();
    let (other, _) = Group::create(&alice, "other", "#000000", &[], &mut r, T0).unwrap();
    assert_eq!(store.load(never_stored.id()).unwrap(), None);

    store.store(never_stored.id(), &never_stored.to_record()).unwrap();
    store.store(other.id(), &other.to_record()).unwrap();
    store = reopen(store);
    let mut loaded = Group::from_record(&store.load(never_stored.id()).unwrap().unwrap()).unwrap();
    assert_eq!(loaded, never_stored);

    // Continue on both: the same signed event, the same record.
    let a = loaded.rename(&alice, "renamed", T0 + 1).unwrap();
    let b = never_stored.rename(&alice, "renamed", T0 + 1).unwrap();
    assert_eq!(a.bytes, b.bytes);
    store.store(loaded.id(), &loaded.to_record()).unwrap();
    let store = reopen(store);
    let record = store.load(never_stored.id()).unwrap().unwrap();
    assert_eq!(record, never_stored.to_record());
    assert_eq!(Group::from_record(&record).unwrap().state().name(), "renamed");
    assert_eq!(Group::from_record(&store.load(other.id()).unwrap().unwrap()).unwrap(), other);
}

/// An organization with one channel and one member who joined by request.
pub(crate) struct Club {
    pub(crate) org: Organization,
    pub(crate) view: OrganizationView,
    bob: IdentityKeyPair,
    general: ChannelId,
}

pub(crate) fn club() -> Club {
    let mut r = rng(40);
    let (alice, alice_dh) = (IdentityKeyPair::generate(&mut r), DhKeyPair::generate(&mut r));
    let (bob, bob_dh) = (IdentityKeyPair::generate(&mut r), DhKeyPair::generate(&mut r));
    let alice_keys =
        MemberKeys { id: MemberId::from_key(&alice.public_key()), dh_key: alice_dh.public_key() };
    let (mut org, _) = Organization::create(
        IdentityKeyPair::generate(&mut r),
        DhKeyPair::generate(&mut r),
        alice_keys,
        OrgConfig::new("rustaceans", Access::NoMembership),
        T0,
        &mut r,
    )
    .unwrap();
    let general = ChannelId::new("general").unwrap();
    let channel = Channel::open("general", Access::NoMembership);
    org.create_channel(&Actor::Owner, &general, channel, T0, &mut r).unwrap();
    let mut view = OrganizationView::new(org.id(), MemberId::from_key(&bob.public_key()));
    for message in org.republish() {
        view.apply_description(&message).unwrap();
    }
    let request = view
        .join_request(&bob, &bob_dh.public_key(), &JoinRequest::new(LamportTime(1)), &mut r)
        .unwrap();
    let RequestOutcome::Accepted(admission) = org.handle_request(&request, T0, &mut r).unwrap()
    else {
        panic!("NO_MEMBERSHIP accepts at once")
    };
    for message in &admission.update.description {
        view.apply_description(message).unwrap();
    }
    for part in &admission.update.rekeys {
        view.apply_rekey(part, &bob_dh).unwrap();
    }
    Club { org, view, bob, general }
}

pub(crate) fn org_store_suite<S: OrgStore>(mut store: S, mut reopen: impl FnMut(S) -> S) {
    let mut club = club();
    let org_id = club.org.id();
    let bob = *club.view.me();
    assert!(store.load_organization(&org_id).unwrap().is_none());
    assert!(store.load_view(&org_id, &bob).unwrap().is_none());

    store.store_organization(&org_id, &club.org.to_record()).unwrap();
    store.store_view(&org_id, &bob, &club.view.to_record()).unwrap();
    store = reopen(store);
    let mut owner =
        Organization::from_record(&store.load_organization(&org_id).unwrap().unwrap()).unwrap();
    let mut view =
        OrganizationView::from_record(&store.load_view(&org_id, &bob).unwrap().unwrap()).unwrap();
    assert_eq!(owner.to_record().expose_secret(), club.org.to_record().expose_secret());
    assert_eq!(view.to_record().expose_secret(), club.view.to_record().expose_secret());

    // Continue on both with the same randomness: the same re-key, the same ciphertext.
    let a = owner.rekey_all(T0 + 5, &mut rng(41)).unwrap();
    let b = club.org.rekey_all(T0 + 5, &mut rng(41)).unwrap();
    assert_eq!(a, b);
    let a = view.encrypt(&club.general, &club.bob, b"hello", &mut rng(42)).unwrap();
    let b = club.view.encrypt(&club.general, &club.bob, b"hello", &mut rng(42)).unwrap();
    assert_eq!(a, b);

    store.store_organization(&org_id, &owner.to_record()).unwrap();
    store.store_view(&org_id, &bob, &view.to_record()).unwrap();
    let store = reopen(store);
    let owner_record = store.load_organization(&org_id).unwrap().unwrap();
    assert_eq!(owner_record.expose_secret(), club.org.to_record().expose_secret());
    let view_record = store.load_view(&org_id, &bob).unwrap().unwrap();
    assert_eq!(view_record.expose_secret(), club.view.to_record().expose_secret());
    // Views are keyed by (org, member): another member of the same org has none.
    let founder = club.org.description().members().keys().find(|m| **m != bob).copied();
    assert!(
        store.load_view(&org_id, &founder.expect("the founder is a member")).unwrap().is_none()
    );
}

// ---------------------------------------------------------------------------------------
// The suites against every backend.
// ---------------------------------------------------------------------------------------

/// Runs `suite` on a file store that is closed and reopened between steps.
fn on_file<S>(
    wrap: impl Fn(Store) -> S,
    unwrap: impl Fn(S) -> Store,
    suite: impl FnOnce(S, &mut dyn FnMut(S) -> S),
) {
    let (_dir, path) = temp_db();
    let store = wrap(Store::open(&path).unwrap());
    let mut reopen = |s: S| {
        drop(unwrap(s));
        wrap(Store::open(&path).unwrap())
    };
    suite(store, &mut reopen);
}

#[test]
fn session_store_in_memory_reference() {
    session_store_suite(InMemorySessionStore::new(), |s| s);
}

#[test]
fn session_store_on_sqlite_file_reopened_between_steps() {
    on_file(|s| s, |s| s, |s, r| session_store_suite(s, r));
}

#[test]
fn session_store_on_sqlite_in_memory_and_in_a_transaction() {
    session_store_suite(Store::open_in_memory().unwrap(), |s| s);
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.begin().unwrap();
    session_store_suite(tx, |s| s);
}

#[test]
fn account_store_in_memory_reference() {
    account_store_suite(InMemoryAccountStore::new(), |s| s);
}

#[test]
fn account_store_on_sqlite() {
    on_file(|s| s, |s| s, |s, r| account_store_suite(s, r));
    account_store_suite(Store::open_in_memory().unwrap(), |s| s);
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.begin().unwrap();
    account_store_suite(tx, |s| s);
}

#[test]
fn group_store_in_memory_reference() {
    group_store_suite(MemoryGroupStore::new(), |s| s);
}

#[test]
fn group_store_on_sqlite() {
    on_file(|s| s, |s| s, |s, r| group_store_suite(s, r));
    group_store_suite(Store::open_in_memory().unwrap(), |s| s);
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.begin().unwrap();
    group_store_suite(tx, |s| s);
}

#[test]
fn org_store_in_memory_reference() {
    org_store_suite(InMemoryOrgStore::default(), |s| s);
}

#[test]
fn org_store_on_sqlite() {
    on_file(|s| s, |s| s, |s, r| org_store_suite(s, r));
    org_store_suite(Store::open_in_memory().unwrap(), |s| s);
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.begin().unwrap();
    org_store_suite(tx, |s| s);
}
