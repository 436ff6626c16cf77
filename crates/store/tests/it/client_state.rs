//! Listings of protocol state (groups, owned organizations, member views) and the client
//! state of schema version 3 (invitations, the catch-up watermark): on a file that is
//! reopened, inside transactions, against corrupt rows, and at their bounds.

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::{GroupId, GroupRecord, GroupStore, MemberId as GroupMember};
use kaiwa_org::{MemberId, OrgId, OrgStore, OrganizationRecord, OrganizationViewRecord};
use kaiwa_session::Timestamp;
use kaiwa_store::limits::{MAX_INVITATION_BYTES, MAX_LISTED_IDS};
use kaiwa_store::{Store, StoreError};
use proptest::prelude::*;

use super::common::{at, rng, temp_db};

/// Ids to list: groups, organizations, and two members.
struct Ids {
    groups: Vec<GroupId>,
    orgs: Vec<OrgId>,
    me: MemberId,
    other: MemberId,
}

fn ids() -> Ids {
    let mut r = rng(70);
    let mut key = || IdentityKeyPair::generate(&mut r).public_key();
    let creator = GroupMember::new(key());
    let (me, other) = (MemberId::from_key(&key()), MemberId::from_key(&key()));
    let orgs = (0..5).map(|_| OrgId::new(key())).collect();
    let mut r = rng(71);
    let groups = (0..6).map(|_| GroupId::generate(&creator, &mut r)).collect();
    Ids { groups, orgs, me, other }
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort();
    items
}

/// Runs the same steps on anything with the shared API (a `Store` or a `Transaction`):
/// writes records in an unsorted order and checks every listing, the invitations and the
/// watermark. Leaves `ids` stored: groups, orgs 0..=2 owned, views of `me` in orgs 1..=4, a
/// view of `other` in org 0, an invitation to org 3, the watermark at -5.
macro_rules! write_and_list {
    ($s:expr, $ids:expr) => {{
        let s = $s;
        let Ids { groups, orgs, me, other } = $ids;
        assert!(s.group_ids().unwrap().is_empty());
        assert!(s.organization_ids().unwrap().is_empty());
        assert!(s.org_view_ids(me).unwrap().is_empty());
        assert_eq!(s.caught_up().unwrap(), None);

        // Reverse order of generation: neither insertion nor generation order is sorted.
        for (n, group) in groups.iter().enumerate().rev() {
            let record = GroupRecord::from_bytes(vec![u8::try_from(n).unwrap(); 3]);
            GroupStore::store(s, group, &record).unwrap();
        }
        for org in orgs[..3].iter().rev() {
            s.store_organization(org, &OrganizationRecord::from_bytes(vec![1])).unwrap();
        }
        for org in orgs[1..].iter().rev() {
            s.store_view(org, me, &OrganizationViewRecord::from_bytes(vec![2])).unwrap();
        }
        s.store_view(&orgs[0], other, &OrganizationViewRecord::from_bytes(vec![3])).unwrap();
        // Storing a record again does not list its id twice.
        GroupStore::store(s, &groups[2], &GroupRecord::from_bytes(vec![9])).unwrap();
        s.store_view(&orgs[4], me, &OrganizationViewRecord::from_bytes(vec![4])).unwrap();

        assert_eq!(s.group_ids().unwrap(), sorted(groups));
        assert_eq!(s.organization_ids().unwrap(), sorted(&orgs[..3]));
        assert_eq!(s.org_view_ids(me).unwrap(), sorted(&orgs[1..]));
        assert_eq!(s.org_view_ids(other).unwrap(), vec![orgs[0]]);
        let stranger = MemberId::from_slice("member", &[0xee; 32]).unwrap();
        assert!(s.org_view_ids(&stranger).unwrap().is_empty());

        // Invitations: the last one received wins; deleting one leaves the others.
        assert_eq!(s.invitation(&orgs[3]).unwrap(), None);
        s.store_invitation(&orgs[3], b"first", at(1)).unwrap();
        s.store_invitation(&orgs[4], b"other", at(1)).unwrap();
        s.store_invitation(&orgs[3], b"second", at(2)).unwrap();
        assert_eq!(s.invitation(&orgs[3]).unwrap().as_deref(), Some(&b"second"[..]));
        assert!(s.delete_invitation(&orgs[4]).unwrap());
        assert!(!s.delete_invitation(&orgs[4]).unwrap(), "deleting twice is harmless");
        assert_eq!(s.invitation(&orgs[4]).unwrap(), None);
        assert_eq!(s.invitation(&orgs[3]).unwrap().as_deref(), Some(&b"second"[..]));

        // The watermark is replaced as given, also by a lower value.
        s.set_caught_up(1_700_000_000_000_000_000).unwrap();
        assert_eq!(s.caught_up().unwrap(), Some(1_700_000_000_000_000_000));
        for ns in [i64::MAX, i64::MIN, 0, -5] {
            s.set_caught_up(ns).unwrap();
            assert_eq!(s.caught_up().unwrap(), Some(ns));
        }
    }};
}

/// Checks what `write_and_list!` left.
macro_rules! assert_listed {
    ($s:expr, $ids:expr) => {{
        let s = $s;
        let Ids { groups, orgs, me, other } = $ids;
        assert_eq!(s.group_ids().unwrap(), sorted(groups));
        assert_eq!(s.organization_ids().unwrap(), sorted(&orgs[..3]));
        assert_eq!(s.org_view_ids(me).unwrap(), sorted(&orgs[1..]));
        assert_eq!(s.org_view_ids(other).unwrap(), vec![orgs[0]]);
        assert_eq!(s.invitation(&orgs[3]).unwrap().as_deref(), Some(&b"second"[..]));
        assert_eq!(s.invitation(&orgs[4]).unwrap(), None);
        assert_eq!(s.caught_up().unwrap(), Some(-5));
    }};
}

/// Checks that nothing of `write_and_list!` is there.
fn assert_nothing(store: &Store, ids: &Ids) {
    assert!(store.group_ids().unwrap().is_empty());
    assert!(store.organization_ids().unwrap().is_empty());
    assert!(store.org_view_ids(&ids.me).unwrap().is_empty());
    assert!(store.org_view_ids(&ids.other).unwrap().is_empty());
    assert!(ids.orgs.iter().all(|org| store.invitation(org).unwrap().is_none()));
    assert_eq!(store.caught_up().unwrap(), None);
}

#[test]
fn listings_invitations_and_the_watermark_on_a_file_survive_reopening() {
    let ids = ids();
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    write_and_list!(&mut store, &ids);
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_listed!(&store, &ids);

    // Forgetting a record takes its id off the listing.
    assert!(store.delete_group(&ids.groups[0]).unwrap());
    assert_eq!(store.group_ids().unwrap(), sorted(&ids.groups[1..]));
    assert!(store.delete_organization(&ids.orgs[1]).unwrap());
    assert_eq!(store.organization_ids().unwrap(), sorted(&[ids.orgs[0], ids.orgs[2]]));
    assert_eq!(store.org_view_ids(&ids.me).unwrap(), sorted(&ids.orgs[2..]));
    // The invitation is the client's, not the organization's state: it stays.
    assert!(store.delete_organization(&ids.orgs[3]).unwrap());
    assert_eq!(store.invitation(&ids.orgs[3]).unwrap().as_deref(), Some(&b"second"[..]));
}

#[test]
fn in_a_transaction_everything_commits_together_or_not_at_all() {
    let ids = ids();
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    {
        let mut tx = store.begin().unwrap();
        write_and_list!(&mut tx, &ids);
    } // dropped: rolled back
    assert_nothing(&store, &ids);
    let mut tx = store.begin().unwrap();
    write_and_list!(&mut tx, &ids);
    tx.rollback().unwrap();
    assert_nothing(&store, &ids);

    let mut tx = store.begin().unwrap();
    write_and_list!(&mut tx, &ids);
    tx.commit().unwrap();
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_listed!(&store, &ids);

    // A rolled-back change to committed state leaves it as it was.
    let mut tx = store.begin().unwrap();
    tx.set_caught_up(99).unwrap();
    tx.store_invitation(&ids.orgs[3], b"third", at(3)).unwrap();
    assert!(tx.delete_group(&ids.groups[1]).unwrap());
    assert_eq!(tx.group_ids().unwrap().len(), ids.groups.len() - 1);
    tx.rollback().unwrap();
    assert_listed!(&store, &ids);
}

#[test]
fn an_invitation_over_its_bound_is_refused_and_changes_nothing() {
    let org = ids().orgs[0];
    let mut store = Store::open_in_memory().unwrap();
    store.store_invitation(&org, b"kept", at(1)).unwrap();
    let largest = vec![0x5a; MAX_INVITATION_BYTES];
    let mut tx = store.begin().unwrap();
    tx.store_invitation(&org, &largest, at(2)).unwrap();
    assert_eq!(tx.invitation(&org).unwrap(), Some(largest.clone()));
    tx.rollback().unwrap();

    let mut too_long = largest;
    too_long.push(0);
    assert_eq!(
        store.store_invitation(&org, &too_long, at(2)).unwrap_err(),
        StoreError::TooLong {
            field: "invitation",
            limit: MAX_INVITATION_BYTES,
            actual: MAX_INVITATION_BYTES + 1
        }
    );
    let far = Timestamp::from_millis(1 << 63);
    assert_eq!(
        store.store_invitation(&org, b"late", far).unwrap_err(),
        StoreError::OutOfRange { field: "now" }
    );
    assert_eq!(store.invitation(&org).unwrap().as_deref(), Some(&b"kept"[..]));
    // Refused inside a transaction, the transaction goes on.
    let mut tx = store.begin().unwrap();
    assert!(tx.store_invitation(&org, &too_long, at(2)).is_err());
    tx.set_caught_up(7).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.invitation(&org).unwrap().as_deref(), Some(&b"kept"[..]));
    assert_eq!(store.caught_up().unwrap(), Some(7));
}

/// A second connection to the database at `path`, CHECK constraints off, for writing rows
/// behind the store's back.
fn raw(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
    conn
}

#[test]
fn corrupt_rows_are_typed_errors() {
    let ids = ids();
    let org = ids.orgs[0];
    let corrupt = |table, column| StoreError::Corrupt { table, column };
    // An id that is not a group id, not UTF-8, not a valid key (small order), too short.
    let cases: [(&str, &str, &str, StoreError); 5] = [
        ("group_chats", "'not-a-group-id'", "x'00'", corrupt("group_chats", "chat_id")),
        ("group_chats", "CAST(x'ff' AS TEXT)", "x'00'", corrupt("group_chats", "chat_id")),
        ("organizations", "zeroblob(32)", "x'00'", corrupt("organizations", "org_id")),
        ("organizations", "x'0102'", "x'00'", corrupt("organizations", "org_id")),
        ("org_views", "zeroblob(32)", "?1, x'00'", corrupt("org_views", "org_id")),
    ];
    for (table, key, rest, expected) in cases {
        let (_dir, path) = temp_db();
        let mut store = Store::open(&path).unwrap();
        // A valid row beside the corrupt one.
        GroupStore::store(&mut store, &ids.groups[0], &GroupRecord::from_bytes(vec![1])).unwrap();
        store.store_organization(&org, &OrganizationRecord::from_bytes(vec![1])).unwrap();
        store.store_view(&org, &ids.me, &OrganizationViewRecord::from_bytes(vec![1])).unwrap();
        let sql = format!("INSERT INTO {table} VALUES ({key}, {rest})");
        raw(&path)
            .execute(
                &sql,
                rusqlite::params_from_iter(
                    (table == "org_views").then_some(ids.me.as_bytes().to_vec()),
                ),
            )
            .unwrap();
        let listed = match table {
            "group_chats" => store.group_ids().map(drop),
            "organizations" => store.organization_ids().map(drop),
            _ => store.org_view_ids(&ids.me).map(drop),
        };
        assert_eq!(listed.unwrap_err(), expected, "{table} {key}");
        // The view of another member does not see the corrupt row.
        assert!(store.org_view_ids(&ids.other).unwrap().is_empty());
    }

    // A stored invitation over the bound, a NULL watermark.
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    let conn = raw(&path);
    let too_long = i64::try_from(MAX_INVITATION_BYTES + 1).unwrap();
    conn.execute(
        "INSERT INTO org_invitations VALUES (?1, zeroblob(?2), 0)",
        (org.as_bytes(), too_long),
    )
    .unwrap();
    conn.execute("INSERT INTO sync_state VALUES (0, NULL)", []).unwrap();
    assert_eq!(store.invitation(&org).unwrap_err(), corrupt("org_invitations", "invitation"));
    assert_eq!(store.caught_up().unwrap(), None);
}

/// Inserts rows numbered `i` in `first..=last` into `table`: the SQL `key` (of `i`), then
/// the SQL `rest`.
fn fill(
    conn: &rusqlite::Connection,
    table: &str,
    key: &str,
    rest: &str,
    first: usize,
    last: usize,
) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         INSERT INTO {table} SELECT {key}, {rest} FROM n"
    );
    let (first, last) = (i64::try_from(first).unwrap(), i64::try_from(last).unwrap());
    conn.execute(&sql, [first, last]).unwrap();
}

#[test]
fn a_listing_over_its_bound_is_refused_not_cut() {
    let me = ids().me;
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    let conn = raw(&path);
    let member = format!("x'{}'", "ab".repeat(32));
    let tables = [
        ("group_chats", "printf('%d', i)", "x'00'".to_owned()),
        ("organizations", "randomblob(32)", "x'00'".to_owned()),
        ("org_views", "randomblob(32)", format!("{member}, x'00'")),
    ];
    let list = |table: &str| match table {
        "group_chats" => store.group_ids().map(drop),
        "organizations" => store.organization_ids().map(drop),
        _ => store.org_view_ids(&MemberId::from_slice("m", &[0xab; 32]).unwrap()).map(drop),
    };
    for (table, key, rest) in &tables {
        // Exactly at the bound, every row is read (and these are not ids)...
        fill(&conn, table, key, rest, 1, MAX_LISTED_IDS);
        assert!(matches!(list(table).unwrap_err(), StoreError::Corrupt { .. }), "{table}");
        // ...one more, and nothing is read.
        fill(&conn, table, key, rest, MAX_LISTED_IDS + 1, MAX_LISTED_IDS + 1);
        assert_eq!(
            list(table).unwrap_err(),
            StoreError::TooMany { table, limit: MAX_LISTED_IDS },
            "{table}"
        );
    }
    // Other members' views do not count towards a member's bound.
    assert!(store.org_view_ids(&me).unwrap().is_empty());
}

#[test]
fn a_listing_at_its_bound_returns_every_id_sorted() {
    let creator = GroupMember::new(IdentityKeyPair::generate(&mut rng(72)).public_key());
    let prefix = creator.to_text().trim_start_matches("0x").to_owned();
    let (_dir, path) = temp_db();
    let store = Store::open(&path).unwrap();
    // Canonical version-4 UUIDs, numbered; inserted in descending order.
    let key =
        format!("'{prefix}-' || printf('%08x-0000-4000-8000-000000000000', {MAX_LISTED_IDS} - i)");
    fill(&raw(&path), "group_chats", &key, "x'00'", 1, MAX_LISTED_IDS);
    let listed = store.group_ids().unwrap();
    assert_eq!(listed.len(), MAX_LISTED_IDS);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    assert_eq!(listed[0].as_str(), format!("{prefix}-00000000-0000-4000-8000-000000000000"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever keys are in the tables, a listing returns exactly the ids that parse, or a
    /// typed error; never a panic.
    #[test]
    fn arbitrary_keys_list_as_ids_or_typed_errors(
        chat in prop::collection::vec(any::<u8>(), 0..120),
        text in "[0-9a-f-]{0,110}",
        org in prop::collection::vec(any::<u8>(), 28..36),
    ) {
        let (_dir, path) = temp_db();
        let store = Store::open(&path).unwrap();
        let conn = raw(&path);
        conn.execute("INSERT INTO group_chats VALUES (CAST(?1 AS TEXT), x'00')", [&chat]).unwrap();
        conn.execute("INSERT OR IGNORE INTO group_chats VALUES (?1, x'00')", [&text]).unwrap();
        conn.execute("INSERT INTO organizations VALUES (?1, x'00')", [&org]).unwrap();
        conn.execute("INSERT INTO org_views VALUES (?1, zeroblob(32), x'00')", [&org]).unwrap();
        let parses = |bytes: &[u8]| {
            core::str::from_utf8(bytes).ok().and_then(|t| GroupId::parse(t).ok())
        };
        match store.group_ids() {
            Ok(listed) => {
                let mut expected: Vec<_> =
                    [parses(&chat), parses(text.as_bytes())].into_iter().flatten().collect();
                expected.sort();
                expected.dedup();
                prop_assert_eq!(listed, expected);
            }
            Err(e) => prop_assert_eq!(e, StoreError::Corrupt { table: "group_chats", column: "chat_id" }),
        }
        let member = MemberId::from_slice("m", &[0; 32]).unwrap();
        for (table, listed) in [
            ("organizations", store.organization_ids()),
            ("org_views", store.org_view_ids(&member)),
        ] {
            match listed {
                Ok(listed) => prop_assert_eq!(listed, vec![OrgId::from_slice("o", &org).unwrap()]),
                Err(e) => prop_assert_eq!(e, StoreError::Corrupt { table, column: "org_id" }),
            }
        }
    }
}
