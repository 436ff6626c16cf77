//! The client's own state beside the protocol records: the last invitation received per
//! organization, and how far the client has caught up with the network.
//!
//! ```text
//! org_invitations (org_id[32] PRIMARY KEY, invitation, received_at ms)
//!   store_invitation(org, bytes, now)   upsert: the last invitation received replaces
//!                                       the one before; bytes <= MAX_INVITATION_BYTES
//!   invitation(org)                     the bytes, as received
//!   delete_invitation(org)              -> true if there was one
//!
//! sync_state (id = 0 PRIMARY KEY, caught_up_ns?)   at most one row
//!   caught_up()                         None until set_caught_up was called once
//!   set_caught_up(ns)                   replaces the watermark (any i64, also lower)
//! ```
//!
//! An invitation is the signed `OrganizationInvitation` bytes (seed 004) exactly as they
//! arrived; kaiwa-org verifies them (`Invitation::verify`) when they are used, so the store
//! keeps them opaque and checks only their length. The watermark is the Unix time in
//! nanoseconds (the unit of WakuMessage timestamps and Store queries) of the last complete
//! catch-up; what "complete" means is the facade's business, and the store does not
//! second-guess a watermark that moves back. Both live in the database so that the facade
//! writes them in the same transaction as the state they describe.

use kaiwa_org::OrgId;
use kaiwa_session::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{Context as _, StoreError};
use crate::limits::MAX_INVITATION_BYTES;
use crate::value::{check_len, time_to_sql};

pub(crate) fn store_invitation(
    conn: &Connection,
    org: &OrgId,
    invitation: &[u8],
    now: Timestamp,
) -> Result<(), StoreError> {
    check_len("invitation", MAX_INVITATION_BYTES, invitation.len())?;
    let sql = "INSERT INTO org_invitations (org_id, invitation, received_at) VALUES (?1, ?2, ?3)
               ON CONFLICT (org_id) DO UPDATE SET invitation = excluded.invitation,
                   received_at = excluded.received_at";
    let params = params![org.as_bytes(), invitation, time_to_sql("now", now)?];
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map(drop)
        .during("storing an invitation")
}

pub(crate) fn invitation(conn: &Connection, org: &OrgId) -> Result<Option<Vec<u8>>, StoreError> {
    let invitation: Option<Vec<u8>> = conn
        .prepare_cached("SELECT invitation FROM org_invitations WHERE org_id = ?1")
        .and_then(|mut stmt| stmt.query_row([org.as_bytes()], |row| row.get(0)).optional())
        .during("loading an invitation")?;
    match invitation {
        // Only this crate writes the table, and it never writes more.
        Some(bytes) if bytes.len() > MAX_INVITATION_BYTES => {
            Err(StoreError::Corrupt { table: "org_invitations", column: "invitation" })
        }
        found => Ok(found),
    }
}

pub(crate) fn delete_invitation(conn: &Connection, org: &OrgId) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM org_invitations WHERE org_id = ?1")
        .and_then(|mut stmt| stmt.execute([org.as_bytes()]))
        .map(|n| n > 0)
        .during("deleting an invitation")
}

pub(crate) fn caught_up(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let row: Option<Option<i64>> = conn
        .prepare_cached("SELECT caught_up_ns FROM sync_state WHERE id = 0")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)).optional())
        .during("loading the catch-up watermark")?;
    Ok(row.flatten())
}

pub(crate) fn set_caught_up(conn: &Connection, ns: i64) -> Result<(), StoreError> {
    let sql = "INSERT INTO sync_state (id, caught_up_ns) VALUES (0, ?1)
               ON CONFLICT (id) DO UPDATE SET caught_up_ns = excluded.caught_up_ns";
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([ns]))
        .map(drop)
        .during("storing the catch-up watermark")
}
