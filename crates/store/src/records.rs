//! Protocol state: the whole records of kaiwa-session, kaiwa-group and kaiwa-org, one BLOB
//! per key (STYLE §3.9).
//!
//! ```text
//! trait / method                         table            key
//! (delete_* methods: forget a record after leaving; secure_delete zeroes its pages)
//! AccountStore::{load,store}_account     account          id = 0
//! AccountStore::{..}_signed_pre_keys     signed_pre_keys  position 0..n (the set is replaced)
//! load_peer_record / store_peer_record   peers            identity (32 bytes)
//! GroupStore::{load,store}               group_chats      chat_id (text)
//! OrgStore::{..}_organization            organizations    org_id (32 bytes)
//! OrgStore::{..}_view                    org_views        (org_id, member_id)
//! ```
//!
//! Records are opaque here: the store returns exactly the bytes it was given, and the
//! protocol crates' `from_record` checks them (version, lengths, signatures). A record is
//! read straight into the record type (wiped on drop), without another copy.

use kaiwa_group::{GroupId, GroupRecord};
use kaiwa_org::{MemberId, OrgId, OrganizationRecord, OrganizationViewRecord};
use kaiwa_session::{AccountRecord, PeerRecord, SignedPreKeyRecord};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{Context as _, StoreError};
use crate::id::PublicId;
use crate::value::atomic;

/// The one BLOB `sql` selects with `params`, if a row matches.
fn load_blob(
    conn: &Connection,
    operation: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Vec<u8>>, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, |row| row.get(0)).optional())
        .during(operation)
}

fn execute(
    conn: &Connection,
    operation: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute(params)).during(operation)
}

pub(crate) fn load_account(conn: &Connection) -> Result<Option<AccountRecord>, StoreError> {
    let sql = "SELECT record FROM account WHERE id = 0";
    Ok(load_blob(conn, "loading the account", sql, [])?.map(AccountRecord::from_bytes))
}

pub(crate) fn store_account(conn: &Connection, record: &AccountRecord) -> Result<(), StoreError> {
    let sql = "INSERT INTO account (id, record) VALUES (0, ?1)
               ON CONFLICT (id) DO UPDATE SET record = excluded.record";
    execute(conn, "storing the account", sql, [record.as_bytes()]).map(drop)
}

pub(crate) fn load_signed_pre_keys(
    conn: &Connection,
) -> Result<Vec<SignedPreKeyRecord>, StoreError> {
    let operation = "loading signed prekeys";
    let mut stmt = conn
        .prepare_cached("SELECT record FROM signed_pre_keys ORDER BY position")
        .during(operation)?;
    let rows = stmt
        .query_map([], |row| row.get(0).map(SignedPreKeyRecord::from_bytes))
        .during(operation)?;
    rows.collect::<Result<_, _>>().during(operation)
}

pub(crate) fn store_signed_pre_keys(
    conn: &Connection,
    records: &[SignedPreKeyRecord],
) -> Result<(), StoreError> {
    let operation = "storing signed prekeys";
    atomic(conn, |conn| {
        execute(conn, operation, "DELETE FROM signed_pre_keys", [])?;
        let mut stmt = conn
            .prepare_cached("INSERT INTO signed_pre_keys (position, record) VALUES (?1, ?2)")
            .during(operation)?;
        for (position, record) in (0_i64..).zip(records) {
            stmt.execute(params![position, record.as_bytes()]).during(operation)?;
        }
        Ok(())
    })
}

pub(crate) fn load_peer(
    conn: &Connection,
    peer: &PublicId,
) -> Result<Option<PeerRecord>, StoreError> {
    let sql = "SELECT record FROM peers WHERE identity = ?1";
    Ok(load_blob(conn, "loading a peer", sql, [peer.as_bytes()])?.map(PeerRecord::from_bytes))
}

pub(crate) fn store_peer(
    conn: &Connection,
    peer: &PublicId,
    record: &PeerRecord,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO peers (identity, record) VALUES (?1, ?2)
               ON CONFLICT (identity) DO UPDATE SET record = excluded.record";
    execute(conn, "storing a peer", sql, params![peer.as_bytes(), record.as_bytes()]).map(drop)
}

pub(crate) fn load_group(
    conn: &Connection,
    group: &GroupId,
) -> Result<Option<GroupRecord>, StoreError> {
    let sql = "SELECT record FROM group_chats WHERE chat_id = ?1";
    Ok(load_blob(conn, "loading a group", sql, [group.as_str()])?.map(GroupRecord::from_bytes))
}

pub(crate) fn store_group(
    conn: &Connection,
    group: &GroupId,
    record: &GroupRecord,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO group_chats (chat_id, record) VALUES (?1, ?2)
               ON CONFLICT (chat_id) DO UPDATE SET record = excluded.record";
    execute(conn, "storing a group", sql, params![group.as_str(), record.as_bytes()]).map(drop)
}

pub(crate) fn load_organization(
    conn: &Connection,
    org: &OrgId,
) -> Result<Option<OrganizationRecord>, StoreError> {
    let sql = "SELECT record FROM organizations WHERE org_id = ?1";
    Ok(load_blob(conn, "loading an organization", sql, [org.as_bytes()])?
        .map(OrganizationRecord::from_bytes))
}

pub(crate) fn store_organization(
    conn: &Connection,
    org: &OrgId,
    record: &OrganizationRecord,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO organizations (org_id, record) VALUES (?1, ?2)
               ON CONFLICT (org_id) DO UPDATE SET record = excluded.record";
    let params = params![org.as_bytes(), record.expose_secret()];
    execute(conn, "storing an organization", sql, params).map(drop)
}

pub(crate) fn load_view(
    conn: &Connection,
    org: &OrgId,
    member: &MemberId,
) -> Result<Option<OrganizationViewRecord>, StoreError> {
    let sql = "SELECT record FROM org_views WHERE org_id = ?1 AND member_id = ?2";
    let params = params![org.as_bytes(), member.as_bytes()];
    Ok(load_blob(conn, "loading an organization view", sql, params)?
        .map(OrganizationViewRecord::from_bytes))
}

pub(crate) fn store_view(
    conn: &Connection,
    org: &OrgId,
    member: &MemberId,
    record: &OrganizationViewRecord,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO org_views (org_id, member_id, record) VALUES (?1, ?2, ?3)
               ON CONFLICT (org_id, member_id) DO UPDATE SET record = excluded.record";
    let params = params![org.as_bytes(), member.as_bytes(), record.expose_secret()];
    execute(conn, "storing an organization view", sql, params).map(drop)
}

/// Deletes the row(s) `sql` matches; whether there was one.
pub(crate) fn delete(
    conn: &Connection,
    operation: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<bool, StoreError> {
    execute(conn, operation, sql, params).map(|n| n > 0)
}
