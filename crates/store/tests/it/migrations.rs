//! Migrations: a new file, the committed version-1, -2 and -3 databases (made by the
//! migration scripts of their time, with real records of every protocol crate and, from
//! version 2, history, contacts and outbox rows), databases this build must refuse.

use std::path::Path;

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::Group;
use kaiwa_org::{OrgStore, Organization, OrganizationView};
use kaiwa_session::{InMemorySessionStore, Received, load_account};
use kaiwa_store::{Durability, NewMessage, OpenError, SCHEMA_VERSION, Store, StoreConfig};

use super::common::{T0, at, direct, hash, key, rng, temp_db, waku};
use super::conformance::{club, manager};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/schema-v1.sqlite");
const FIXTURE_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/schema-v2.sqlite");
const MIGRATION_1: &str = include_str!("../../migrations/0001_protocol_state.sql");
const MIGRATION_2: &str = include_str!("../../migrations/0002_history_contacts_outbox.sql");
const FIXTURE_V3: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/schema-v3.sqlite");
const MIGRATION_3: &str = include_str!("../../migrations/0003_client_state.sql");

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn pragma_text(conn: &rusqlite::Connection, name: &str) -> String {
    conn.pragma_query_value(None, name, |row| row.get::<_, String>(0)).unwrap()
}

fn user_version(conn: &rusqlite::Connection) -> i32 {
    conn.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap()
}

#[test]
fn a_new_file_gets_the_current_schema_in_wal_mode() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    store.mark_processed(&key(1), at(1)).unwrap();
    drop(store);
    let conn = raw(&path);
    assert_eq!(pragma_text(&conn, "journal_mode"), "wal");
    assert_eq!(user_version(&conn), i32::try_from(SCHEMA_VERSION).unwrap());
    drop(conn);
    let mut config = StoreConfig::default();
    config.durability = Durability::Normal;
    let store = Store::open_with(&path, &config).unwrap();
    assert!(store.is_processed(&key(1)).unwrap(), "reopening migrates nothing and keeps data");
    assert_eq!(Store::open_in_memory().unwrap().schema_version().unwrap(), SCHEMA_VERSION);
}

/// Writes the version-1 fixture: the first migration script, then records produced by the
/// protocol crates from fixed seeds. Run once (`KAIWA_STORE_WRITE_FIXTURES=1`) and committed;
/// never rewritten, because its point is to be old.
fn write_fixture(target: &Path) {
    let (_dir, path) = temp_db();
    let conn = raw(&path);
    conn.execute_batch(MIGRATION_1).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();

    let mut alice = manager(100, "alice-phone");
    let bob = manager(101, "bob-laptop");
    let (record, pre_keys) = alice.account().to_records();
    conn.execute("INSERT INTO account (id, record) VALUES (0, ?1)", [record.as_bytes()]).unwrap();
    for (i, key) in pre_keys.iter().enumerate() {
        conn.execute("INSERT INTO signed_pre_keys VALUES (?1, ?2)", (i as i64, key.as_bytes()))
            .unwrap();
    }
    let mut peers = InMemorySessionStore::new();
    alice.process_bundle(&mut peers, &bob.bundle().clone()).unwrap();
    let bob_id = bob.account().identity_key();
    alice.encrypt(&mut peers, &bob_id, b"before the upgrade", &mut rng(102), at(1)).unwrap();
    let peer = kaiwa_session::SessionStore::load_peer(&peers, &bob_id).unwrap().unwrap();
    conn.execute("INSERT INTO peers VALUES (?1, ?2)", (bob_id.as_bytes(), peer.as_bytes()))
        .unwrap();

    let creator = IdentityKeyPair::generate(&mut rng(103));
    let (group, _) =
        Group::create(&creator, "fixture group", "#123456", &[], &mut rng(104), T0).unwrap();
    conn.execute(
        "INSERT INTO group_chats VALUES (?1, ?2)",
        (group.id().as_str(), group.to_record().as_bytes()),
    )
    .unwrap();
    let club = club();
    let org = club.org.id();
    conn.execute(
        "INSERT INTO organizations VALUES (?1, ?2)",
        (org.as_bytes(), club.org.to_record().expose_secret()),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO org_views VALUES (?1, ?2, ?3)",
        (org.as_bytes(), club.view.me().as_bytes(), club.view.to_record().expose_secret()),
    )
    .unwrap();
    for n in 1..=3_u64 {
        conn.execute(
            "INSERT INTO processed VALUES (?1, ?2)",
            (hash(n).as_bytes(), (T0 + n) as i64),
        )
        .unwrap();
    }
    save_fixture(conn, &path, target);
}

/// Compacts the database that `conn` holds open at `path` and copies it to `target`.
fn save_fixture(conn: rusqlite::Connection, path: &Path, target: &Path) {
    conn.execute_batch("VACUUM").unwrap();
    drop(conn);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(path, target).unwrap();
}

/// A copy of the committed fixture `name` in a temporary directory; `write` makes the
/// fixture if it is missing and `KAIWA_STORE_WRITE_FIXTURES` is set.
fn fixture_copy(name: &str, write: fn(&Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let fixture = Path::new(name);
    if !fixture.exists() {
        assert!(
            std::env::var_os("KAIWA_STORE_WRITE_FIXTURES").is_some(),
            "{name} is missing: it is committed, and written only once, with \
             KAIWA_STORE_WRITE_FIXTURES=1"
        );
        write(fixture);
    }
    let (dir, path) = temp_db();
    std::fs::copy(fixture, &path).unwrap();
    (dir, path)
}

#[test]
fn the_committed_version_1_database_migrates_and_keeps_its_data() {
    let (_dir, path) = fixture_copy(FIXTURE, write_fixture);
    assert_eq!(user_version(&raw(&path)), 1);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    // Every record written before the upgrade still loads, and the protocol goes on.
    let account = load_account(&store).unwrap();
    let reference = manager(100, "alice-phone");
    assert_eq!(account.to_records(), reference.account().to_records());
    let mut alice =
        kaiwa_session::SessionManager::new(account, kaiwa_session::SessionConfig::default(), at(0));
    let mut bob = manager(101, "bob-laptop");
    let bob_id = bob.account().identity_key();
    let sessions = &mut store;
    let sent =
        alice.encrypt(sessions, &bob_id, b"after the upgrade", &mut rng(105), at(2)).unwrap();
    match bob
        .receive(&mut InMemorySessionStore::new(), sent.as_bytes(), &mut rng(106), at(2))
        .unwrap()
    {
        Received::Message { plaintext, .. } => {
            assert_eq!(plaintext.as_slice(), b"after the upgrade")
        }
        other => panic!("{other:?}"),
    }
    let groups: Vec<String> = raw(&path)
        .prepare("SELECT chat_id FROM group_chats")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let group_id = kaiwa_group::GroupId::parse(&groups[0]).unwrap();
    let group_record = kaiwa_group::GroupStore::load(&store, &group_id).unwrap().unwrap();
    assert_eq!(Group::from_record(&group_record).unwrap().state().name(), "fixture group");
    let club = club();
    let org = club.org.id();
    let owner =
        Organization::from_record(&store.load_organization(&org).unwrap().unwrap()).unwrap();
    assert_eq!(owner.description(), club.org.description());
    let view = store.load_view(&org, club.view.me()).unwrap().unwrap();
    assert_eq!(
        OrganizationView::from_record(&view).unwrap().description(),
        club.view.description()
    );
    assert!((1..=3).all(|n| store.is_processed(&key(n)).unwrap()));
    assert!(!store.is_processed(&key(4)).unwrap());

    // The listings of version 3 find the records written before the upgrade.
    assert_eq!(store.group_ids().unwrap(), vec![group_id]);
    assert_eq!(store.organization_ids().unwrap(), vec![org]);
    assert_eq!(store.org_view_ids(club.view.me()).unwrap(), vec![org]);

    // The tables of versions 2 and 3 are there and empty, and work.
    assert_eq!((store.invitation(&org).unwrap(), store.caught_up().unwrap()), (None, None));
    assert!(store.chats().unwrap().is_empty() && store.contacts().unwrap().is_empty());
    let chat = direct(super::common::bob());
    let us = super::common::alice();
    let id = store.insert_message(&NewMessage::outgoing(&chat, us, 1, at(1), b"x"), at(1)).unwrap();
    store.enqueue_outbox(&waku(b"x"), Some(id), at(1)).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 1);
}

/// Writes the version-2 fixture: the first two migration scripts, records produced by the
/// protocol crates from fixed seeds, and rows of every version-2 table as version 2 wrote
/// them (chat ids per `history.rs`). Run once (`KAIWA_STORE_WRITE_FIXTURES=1`) and
/// committed; never rewritten.
fn write_fixture_v2(target: &Path) {
    let (_dir, path) = temp_db();
    let conn = raw(&path);
    conn.execute_batch(MIGRATION_1).unwrap();
    conn.execute_batch(MIGRATION_2).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();

    let alice = manager(110, "alice-phone");
    let (record, pre_keys) = alice.account().to_records();
    conn.execute("INSERT INTO account (id, record) VALUES (0, ?1)", [record.as_bytes()]).unwrap();
    for (i, key) in pre_keys.iter().enumerate() {
        conn.execute("INSERT INTO signed_pre_keys VALUES (?1, ?2)", (i as i64, key.as_bytes()))
            .unwrap();
    }
    let creator = IdentityKeyPair::generate(&mut rng(111));
    let (group, _) =
        Group::create(&creator, "v2 group", "#654321", &[], &mut rng(112), T0).unwrap();
    conn.execute(
        "INSERT INTO group_chats VALUES (?1, ?2)",
        (group.id().as_str(), group.to_record().as_bytes()),
    )
    .unwrap();
    let club = club();
    let org = club.org.id();
    conn.execute(
        "INSERT INTO organizations VALUES (?1, ?2)",
        (org.as_bytes(), club.org.to_record().expose_secret()),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO org_views VALUES (?1, ?2, ?3)",
        (org.as_bytes(), club.view.me().as_bytes(), club.view.to_record().expose_secret()),
    )
    .unwrap();
    conn.execute("INSERT INTO processed VALUES (?1, ?2)", (hash(7).as_bytes(), T0 as i64)).unwrap();

    let (us, bob) = (super::common::alice(), super::common::bob());
    conn.execute(
        "INSERT INTO contacts VALUES (?1, 'Bob', 1, x'c0de', ?2)",
        (bob.as_bytes(), T0 as i64),
    )
    .unwrap();
    let mut channel_chat = org.as_bytes().to_vec();
    channel_chat.extend_from_slice(b"general");
    let insert = "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                        direction, status, stored_at)
                  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5)";
    let t = T0 as i64;
    // (chat_kind, chat_id, author, clock, payload, direction, status)
    let direct_row: (i64, &[u8], _, i64, &[u8], i64, i64) =
        (1, bob.as_bytes(), bob.as_bytes(), 1, b"hi from bob", 1, 1);
    let rows = [
        direct_row,
        (2, group.id().as_str().as_bytes(), us.as_bytes(), 2, b"to the group", 2, 2),
        (3, &channel_chat, us.as_bytes(), 3, b"to the channel", 2, 3),
    ];
    for (kind, chat, author, clock, payload, direction, status) in rows {
        conn.execute(insert, (kind, chat, author, clock, t + clock, payload, direction, status))
            .unwrap();
    }
    let pending: i64 =
        conn.query_row("SELECT id FROM messages WHERE status = 2", [], |row| row.get(0)).unwrap();
    conn.execute(
        "INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, timestamp_ns,
                             message_id, created_at)
         VALUES ('/waku/2/rs/16/32', '/kaiwa/1/test/proto', x'ccdd', x'', ?1, ?2, ?3)",
        (1_700_000_000_000_000_002_i64, pending, t),
    )
    .unwrap();
    save_fixture(conn, &path, target);
}

#[test]
fn the_committed_version_2_database_migrates_and_keeps_its_data() {
    let (_dir, path) = fixture_copy(FIXTURE_V2, write_fixture_v2);
    assert_eq!(user_version(&raw(&path)), 2);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    // Protocol state, listed and loaded.
    let account = load_account(&store).unwrap();
    assert_eq!(account.to_records(), manager(110, "alice-phone").account().to_records());
    let groups = store.group_ids().unwrap();
    assert_eq!(groups.len(), 1);
    let group =
        Group::from_record(&kaiwa_group::GroupStore::load(&store, &groups[0]).unwrap().unwrap())
            .unwrap();
    assert_eq!(group.state().name(), "v2 group");
    let club = club();
    let org = club.org.id();
    assert_eq!(store.organization_ids().unwrap(), vec![org]);
    assert_eq!(store.org_view_ids(club.view.me()).unwrap(), vec![org]);
    let view = store.load_view(&org, club.view.me()).unwrap().unwrap();
    assert_eq!(view.expose_secret(), club.view.to_record().expose_secret());
    assert!(store.is_processed(&key(7)).unwrap());

    // History, contacts and outbox, as version 2 wrote them.
    let (us, bob) = (super::common::alice(), super::common::bob());
    let contact = store.contact(&bob).unwrap().unwrap();
    assert_eq!((contact.display_name.as_str(), contact.verified), ("Bob", true));
    assert_eq!(contact.bundle.as_deref(), Some(&[0xc0, 0xde][..]));
    let channel = kaiwa_store::ChatId::Channel {
        org,
        channel: kaiwa_org::ChannelId::new("general").unwrap(),
    };
    let chats = [direct(bob), kaiwa_store::ChatId::Group(groups[0].clone()), channel];
    let summaries = store.chats().unwrap();
    assert_eq!(
        summaries.iter().map(|c| c.chat.clone()).collect::<Vec<_>>(),
        [chats[2].clone(), chats[1].clone(), chats[0].clone()]
    );
    let payloads: [&[u8]; 3] = [b"hi from bob", b"to the group", b"to the channel"];
    for (chat, payload) in chats.iter().zip(payloads) {
        let page = store.history(chat, None, 10).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].payload, payload);
    }
    let pending = store.pending_outbox(None, 10).unwrap();
    assert_eq!(pending.len(), 1);
    let group_message = store.history(&chats[1], None, 1).unwrap().remove(0);
    assert_eq!(group_message.author, us);
    assert_eq!(pending[0].history, Some(group_message.id));
    assert_eq!(pending[0].message.payload, [0xcc, 0xdd]);
    store.mark_published(pending[0].id).unwrap();
    assert_eq!(
        store.message(group_message.id).unwrap().unwrap().status,
        kaiwa_store::MessageStatus::Sent
    );

    // The tables of version 3 are there and empty, and work.
    assert_eq!((store.invitation(&org).unwrap(), store.caught_up().unwrap()), (None, None));
    store.store_invitation(&org, b"invitation", at(5)).unwrap();
    store.set_caught_up(1_700_000_000_000_000_005).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.invitation(&org).unwrap().as_deref(), Some(&b"invitation"[..]));
    assert_eq!(store.caught_up().unwrap(), Some(1_700_000_000_000_000_005));
}

/// Writes the version-3 fixture: the first three migration scripts, then what version 4
/// rebuilds or moves: history rows (the last one deleted again, so the AUTOINCREMENT
/// counter is past the largest id), an outbox entry linked to a message, processed hashes
/// marked at `at(1)` and `at(2)`, and a catch-up watermark. Run once
/// (`KAIWA_STORE_WRITE_FIXTURES=1`) and committed; never rewritten.
fn write_fixture_v3(target: &Path) {
    let (_dir, path) = temp_db();
    let conn = raw(&path);
    for script in [MIGRATION_1, MIGRATION_2, MIGRATION_3] {
        conn.execute_batch(script).unwrap();
    }
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    let bob = super::common::bob();
    let insert = "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                        direction, status, stored_at)
                  VALUES (1, ?1, ?1, ?2, ?3, ?4, ?5, ?6, ?3)";
    let t = T0 as i64;
    // (clock, payload, direction, status): received, pending (in the outbox), then sent
    let rows: [(i64, &[u8], i64, i64); 3] =
        [(1, b"hi from bob", 1, 1), (2, b"pending reply", 2, 2), (3, b"deleted", 2, 3)];
    for (clock, payload, direction, status) in rows {
        conn.execute(insert, (bob.as_bytes(), clock, t + clock, payload, direction, status))
            .unwrap();
    }
    conn.execute("DELETE FROM messages WHERE clock = 3", []).unwrap();
    conn.execute(
        "INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, timestamp_ns,
                             message_id, created_at)
         VALUES ('/waku/2/rs/16/32', '/kaiwa/1/test/proto', x'ccdd', x'', ?1,
                 (SELECT id FROM messages WHERE clock = 2), ?2)",
        (1_700_000_000_002_000_000_i64, t + 2),
    )
    .unwrap();
    for n in 1..=2_u64 {
        conn.execute("INSERT INTO processed VALUES (?1, ?2)", (hash(n).as_bytes(), t + n as i64))
            .unwrap();
    }
    conn.execute("INSERT INTO sync_state VALUES (0, ?1)", [1_700_000_000_003_000_000_i64]).unwrap();
    save_fixture(conn, &path, target);
}

#[test]
fn the_committed_version_3_database_migrates_and_keeps_its_data() {
    let (_dir, path) = fixture_copy(FIXTURE_V3, write_fixture_v3);
    assert_eq!(user_version(&raw(&path)), 3);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    // The marks of version 3 (by hash alone) still count, whatever the message's time.
    for n in 1..=2 {
        assert!(store.is_processed(&key(n)).unwrap());
        let later = kaiwa_store::ProcessedKey::new(hash(n), Some(i64::MAX));
        assert!(store.is_processed(&later).unwrap());
        assert!(!store.mark_processed(&key(n), at(10)).unwrap(), "marked before the upgrade");
    }
    assert!(!store.is_processed(&key(3)).unwrap());
    assert!(store.mark_processed(&key(3), at(10)).unwrap());

    // The history kept its rows and ids, the outbox its link, and ids are not reused.
    let chat = direct(super::common::bob());
    let history = store.history(&chat, None, 10).unwrap();
    let payloads: Vec<&[u8]> = history.iter().map(|m| m.payload.as_slice()).collect();
    assert_eq!(payloads, [&b"hi from bob"[..], b"pending reply"]);
    let pending = store.pending_outbox(None, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].history, Some(history[1].id));
    let us = super::common::alice();
    let next =
        store.insert_message(&NewMessage::outgoing(&chat, us, 4, at(4), b"x"), at(4)).unwrap();
    assert_eq!(next.get(), 4, "id 3 was used (and deleted) before the upgrade");
    store.mark_published(pending[0].id).unwrap();
    assert_eq!(
        store.message(history[1].id).unwrap().unwrap().status,
        kaiwa_store::MessageStatus::Sent
    );
    assert_eq!(store.caught_up().unwrap(), Some(1_700_000_000_003_000_000));

    // Pruning forgets the old marks like the new ones: by the time they were made.
    assert_eq!(store.prune_processed(at(2)).unwrap(), 1, "hash 1, marked at 1");
    assert!(!store.is_processed(&key(1)).unwrap());
    assert!(store.is_processed(&key(2)).unwrap());
    assert_eq!(store.prune_processed(at(11)).unwrap(), 2, "hash 2 and message 3");
    assert!(!store.is_processed(&key(2)).unwrap() && !store.is_processed(&key(3)).unwrap());
}

#[test]
fn a_newer_database_is_refused_and_left_byte_for_byte_untouched() {
    let (_dir, path) = temp_db();
    let conn = raw(&path);
    let newer = i32::try_from(SCHEMA_VERSION + 1).unwrap();
    conn.execute_batch("CREATE TABLE from_the_future (x INTEGER)").unwrap();
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    assert_eq!(
        Store::open(&path).unwrap_err(),
        OpenError::UnsupportedSchema { found: newer, supported: SCHEMA_VERSION }
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let conn = raw(&path);
    assert_eq!(pragma_text(&conn, "journal_mode"), "delete", "not even the journal mode changed");
    assert_eq!(user_version(&conn), newer);

    conn.pragma_update(None, "user_version", -1).unwrap();
    drop(conn);
    assert_eq!(
        Store::open(&path).unwrap_err(),
        OpenError::UnsupportedSchema { found: -1, supported: SCHEMA_VERSION }
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let (_dir, path) = temp_db();
    let garbage: Vec<u8> = (0..8192_u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    assert!(matches!(Store::open(&path).unwrap_err(), OpenError::Sqlite { .. }));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}
