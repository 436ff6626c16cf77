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
//!
//! listing                                table            returns, sorted
//! group_ids()                            group_chats      every GroupId
//! organization_ids()                     organizations    every OrgId (organizations we own)
//! org_view_ids(member)                   org_views        every OrgId with a view for member
//! ```
//!
//! Records are opaque here: the store returns exactly the bytes it was given, and the
//! protocol crates' `from_record` checks them (version, lengths, signatures). A record is
//! read straight into the record type (wiped on drop), without another copy.
//!
//! A listing reads only the keys, never a record. It is loaded whole, so it is bounded: a
//! table with more than [`MAX_LISTED_IDS`] matching rows is refused
//! ([`StoreError::TooMany`]), never cut. A key that does not parse as its id type (a chat
//! id that is not a canonical `GroupId`, 32 bytes that are not a valid Ed25519 key for an
//! `OrgId`) is [`StoreError::Corrupt`]: the store wrote only ids of those types.

use kaiwa_group::{GroupId, GroupRecord};
use kaiwa_org::{MemberId, OrgId, OrganizationRecord, OrganizationViewRecord};
use kaiwa_session::{AccountRecord, PeerRecord, SignedPreKeyRecord};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{Context as _, StoreError};
use crate::id::PublicId;
use crate::limits::MAX_LISTED_IDS;
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

/// The `LIMIT` of a listing: one row more than [`MAX_LISTED_IDS`], to tell "exactly at the
/// bound" from "over it".
fn list_limit() -> i64 {
    i64::try_from(MAX_LISTED_IDS).map_or(i64::MAX, |n| n.saturating_add(1))
}

/// The keys `sql` selects (one column, text or blob, at most [`list_limit`] rows), each
/// parsed by `parse`, sorted. More than [`MAX_LISTED_IDS`] rows is [`StoreError::TooMany`];
/// a key `parse` refuses is [`StoreError::Corrupt`] naming `table.column`.
fn list_ids<T: Ord>(
    conn: &Connection,
    operation: &'static str,
    (table, column): (&'static str, &'static str),
    sql: &str,
    params: impl rusqlite::Params,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).during(operation)?;
    let keys = stmt
        .query_map(params, |row| {
            Ok(match row.get_ref(0)? {
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(bytes.to_vec()),
                ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => None,
            })
        })
        .during(operation)?
        .collect::<Result<Vec<_>, _>>()
        .during(operation)?;
    if keys.len() > MAX_LISTED_IDS {
        return Err(StoreError::TooMany { table, limit: MAX_LISTED_IDS });
    }
    let mut ids = keys
        .iter()
        .map(|key| key.as_deref().and_then(&parse).ok_or(StoreError::Corrupt { table, column }))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

fn parse_group_id(key: &[u8]) -> Option<GroupId> {
    GroupId::parse(core::str::from_utf8(key).ok()?).ok()
}

fn parse_org_id(key: &[u8]) -> Option<OrgId> {
    OrgId::from_slice("org_id", key).ok()
}

pub(crate) fn group_ids(conn: &Connection) -> Result<Vec<GroupId>, StoreError> {
    let sql = "SELECT chat_id FROM group_chats LIMIT ?1";
    let column = ("group_chats", "chat_id");
    list_ids(conn, "listing groups", column, sql, [list_limit()], parse_group_id)
}

pub(crate) fn organization_ids(conn: &Connection) -> Result<Vec<OrgId>, StoreError> {
    let sql = "SELECT org_id FROM organizations LIMIT ?1";
    let column = ("organizations", "org_id");
    list_ids(conn, "listing organizations", column, sql, [list_limit()], parse_org_id)
}

pub(crate) fn org_view_ids(conn: &Connection, member: &MemberId) -> Result<Vec<OrgId>, StoreError> {
    let sql = "SELECT org_id FROM org_views WHERE member_id = ?1 LIMIT ?2";
    let params = params![member.as_bytes(), list_limit()];
    let column = ("org_views", "org_id");
    list_ids(conn, "listing organization views", column, sql, params, parse_org_id)
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
