//! Corrupt data never panics: arbitrary or mutated record bytes reach the protocol crates'
//! decoders as typed errors, and corrupt product rows become `StoreError::Corrupt`.

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::{Group, GroupId, GroupRecord, GroupStore, MemberId as GroupMember};
use kaiwa_org::{
    MemberId, OrgId, OrgStore, Organization, OrganizationRecord, OrganizationView,
    OrganizationViewRecord,
};
use kaiwa_session::{AccountRecord, AccountStore, PeerRecord, SignedPreKeyRecord, load_account};
use kaiwa_store::{PublicId, Store, StoreError};
use proptest::prelude::*;

use super::common::{T0, at, rng, temp_db};
use super::conformance::{club, manager};

/// Real records of every kind, to mutate.
struct Real {
    account: Vec<u8>,
    pre_key: Vec<u8>,
    group: Vec<u8>,
    org: Vec<u8>,
    view: Vec<u8>,
    peer: Vec<u8>,
}

fn real() -> Real {
    let account = manager(60, "a").account().to_records();
    let creator = IdentityKeyPair::generate(&mut rng(61));
    let (group, _) = Group::create(&creator, "g", "#000000", &[], &mut rng(62), T0).unwrap();
    let club = club();
    let mut alice = manager(65, "a");
    let bob = manager(66, "b");
    let mut peers = kaiwa_session::InMemorySessionStore::new();
    alice.process_bundle(&mut peers, &bob.bundle().clone()).unwrap();
    let bob_id = bob.account().identity_key();
    alice.encrypt(&mut peers, &bob_id, b"x", &mut rng(67), at(1)).unwrap();
    let peer = kaiwa_session::SessionStore::load_peer(&peers, &bob_id).unwrap().unwrap();
    Real {
        account: account.0.as_bytes().to_vec(),
        pre_key: account.1[0].as_bytes().to_vec(),
        group: group.to_record_bytes(),
        org: club.org.to_record().expose_secret().to_vec(),
        view: club.view.to_record().expose_secret().to_vec(),
        peer: peer.as_bytes().to_vec(),
    }
}

fn mutate(mut bytes: Vec<u8>, at: usize, xor: u8, cut: bool) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    let at = at % bytes.len();
    if cut {
        bytes.truncate(at);
    } else {
        bytes[at] ^= xor.max(1);
    }
    bytes
}

/// Stores `bytes` as every kind of record, reads each back (bytes unchanged) and hands it
/// to the protocol crate that owns it. Must not panic; returns how many loads succeeded.
fn load_everything(real: &Real) -> usize {
    let Real { account, pre_key, group, org, view, peer } = real;
    let mut store = Store::open_in_memory().unwrap();
    let mut r = rng(63);
    let key = IdentityKeyPair::generate(&mut r).public_key();
    let group_id = GroupId::generate(&GroupMember::new(key), &mut r);
    let (org_id, member) = (OrgId::new(key), MemberId::from_key(&key));
    let mut ok = 0;

    store.store_account(&AccountRecord::from_bytes(account.to_vec())).unwrap();
    store.store_signed_pre_keys(&[SignedPreKeyRecord::from_bytes(pre_key.to_vec())]).unwrap();
    assert_eq!(store.load_account().unwrap().unwrap().as_bytes(), account);
    ok += usize::from(load_account(&store).is_ok());

    GroupStore::store(&mut store, &group_id, &GroupRecord::from_bytes(group.to_vec())).unwrap();
    let loaded = GroupStore::load(&store, &group_id).unwrap().unwrap();
    assert_eq!(loaded.as_bytes(), group);
    ok += usize::from(Group::from_record(&loaded).is_ok());

    store.store_organization(&org_id, &OrganizationRecord::from_bytes(org.to_vec())).unwrap();
    let loaded = store.load_organization(&org_id).unwrap().unwrap();
    assert_eq!(loaded.expose_secret(), org);
    ok += usize::from(Organization::from_record(&loaded).is_ok());

    store.store_view(&org_id, &member, &OrganizationViewRecord::from_bytes(view.to_vec())).unwrap();
    let loaded = store.load_view(&org_id, &member).unwrap().unwrap();
    assert_eq!(loaded.expose_secret(), view);
    ok += usize::from(OrganizationView::from_record(&loaded).is_ok());

    // A peer record is parsed inside the session manager, under the identity it is about.
    let mut alice = manager(64, "a");
    let key = manager(66, "b").account().identity_key();
    let peer_id = PublicId::new(key.to_bytes());
    store.store_peer_record(&peer_id, &PeerRecord::from_bytes(peer.to_vec())).unwrap();
    assert_eq!(store.load_peer_record(&peer_id).unwrap().unwrap().as_bytes(), peer.as_slice());
    let sessions = &mut store;
    ok += usize::from(alice.installations(sessions, &key).is_ok());
    let _ = alice.encrypt(sessions, &key, b"x", &mut r, at(1));
    ok
}

#[test]
fn real_records_load() {
    assert_eq!(load_everything(&real()), 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_record_bytes_never_panic(
        a in prop::collection::vec(any::<u8>(), 0..300),
        b in prop::collection::vec(any::<u8>(), 0..300),
        c in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let real = Real { account: a.clone(), pre_key: b.clone(), group: c.clone(), org: a, view: b, peer: c };
        load_everything(&real);
    }

    #[test]
    fn mutated_real_records_never_panic(at in any::<usize>(), xor in any::<u8>(), cut in any::<bool>()) {
        let Real { account, pre_key, group, org, view, peer } = real();
        load_everything(&Real {
            account: mutate(account, at, xor, cut),
            pre_key: mutate(pre_key, at, xor, cut),
            group: mutate(group, at, xor, cut),
            org: mutate(org, at, xor, cut),
            view: mutate(view, at, xor, cut),
            peer: mutate(peer, at, xor, cut),
        });
    }

    /// Rows written behind the store's back (a corrupted or hand-edited file, CHECK
    /// constraints off) read back as values or typed errors, never a panic.
    #[test]
    fn corrupt_product_rows_are_typed_errors(
        kind in -1i64..5,
        chat in prop::collection::vec(any::<u8>(), 0..120),
        author in prop::collection::vec(any::<u8>(), 30..34),
        clock in any::<i64>(),
        direction in -1i64..4,
        status in -1i64..6,
        verified in -1i64..3,
        attempts in any::<i64>(),
    ) {
        let (_dir, path) = temp_db();
        let store = Store::open(&path).unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.pragma_update(None, "ignore_check_constraints", true).unwrap();
        raw.execute(
            "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                   direction, status, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?4, x'00', ?5, ?6, ?4)",
            (kind, &chat, &author, clock, direction, status),
        ).unwrap();
        raw.execute(
            "INSERT INTO contacts VALUES (?1, 'x', ?2, NULL, ?3)",
            (&author, verified, clock),
        ).unwrap();
        raw.execute(
            "INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, created_at, attempts,
                                 last_attempt_at)
             VALUES ('p', 'c', x'', x'', ?1, ?2, ?1)",
            (clock, attempts),
        ).unwrap();
        let is_typed = |e: &StoreError| matches!(e, StoreError::Corrupt { .. });
        let id = kaiwa_store::MessageId::from_raw(1);
        if let Err(e) = store.message(id) { prop_assert!(is_typed(&e), "{e:?}"); }
        if let Err(e) = store.chats() { prop_assert!(is_typed(&e), "{e:?}"); }
        if let Err(e) = store.contacts() { prop_assert!(is_typed(&e), "{e:?}"); }
        if let Err(e) = store.pending_outbox(None, 10) { prop_assert!(is_typed(&e), "{e:?}"); }
        if let Ok(Some(message)) = store.message(id) {
            // Whatever loads is exactly what was written.
            prop_assert_eq!(message.clock as i64, clock);
            prop_assert_eq!(message.author.as_bytes().as_slice(), author.as_slice());
            let page = store.history(&message.chat, None, 10).unwrap();
            prop_assert_eq!(page, vec![message]);
        }
        if let Ok(contacts) = store.contacts() {
            prop_assert!(contacts.iter().all(|c| c.verified == (verified == 1)));
        }
    }
}
