//! Contacts: the people this account knows, with what it learned about them.
//!
//! ```text
//! contacts (identity[32] PRIMARY KEY, display_name, verified 0|1, bundle?, added_at)
//! ```
//!
//! `verified` records that the user compared safety numbers or scanned the contact's code
//! (kaiwa-session `safety_number`, contact codes); `bundle` keeps the last bundle or contact
//! code bytes as received, so a session can be started without fetching it again. Both the
//! name and the bundle come from peers, so both are bounded ([`limits`](crate::limits)).

use core::fmt;

use kaiwa_session::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::error::{Context as _, StoreError};
use crate::id::PublicId;
use crate::limits::{MAX_CONTACT_BUNDLE_BYTES, MAX_DISPLAY_NAME_BYTES};
use crate::value::{check_len, time_from_sql, time_to_sql};

const TABLE: &str = "contacts";

/// A contact, stored and replaced whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's public id (the key).
    pub id: PublicId,
    /// The name to show.
    pub display_name: String,
    /// Whether the user verified the contact's identity out of band.
    pub verified: bool,
    /// The contact's bundle or contact code, as received.
    pub bundle: Option<Vec<u8>>,
    /// When the contact was added.
    pub added_at: Timestamp,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { id, display_name, verified, bundle, added_at } = self;
        f.debug_struct("Contact")
            .field("id", id)
            .field("display_name", display_name)
            .field("verified", verified)
            .field("bundle_len", &bundle.as_ref().map(Vec::len))
            .field("added_at", added_at)
            .finish()
    }
}

pub(crate) fn upsert(conn: &Connection, contact: &Contact) -> Result<(), StoreError> {
    let Contact { id, display_name, verified, bundle, added_at } = contact;
    check_len("display_name", MAX_DISPLAY_NAME_BYTES, display_name.len())?;
    if let Some(bundle) = bundle {
        check_len("bundle", MAX_CONTACT_BUNDLE_BYTES, bundle.len())?;
    }
    let sql = "INSERT INTO contacts (identity, display_name, verified, bundle, added_at)
               VALUES (?1, ?2, ?3, ?4, ?5)
               ON CONFLICT (identity) DO UPDATE SET display_name = excluded.display_name,
                   verified = excluded.verified, bundle = excluded.bundle,
                   added_at = excluded.added_at";
    let params =
        params![id.as_bytes(), display_name, verified, bundle, time_to_sql("added_at", *added_at)?];
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map(drop)
        .during("storing a contact")
}

/// `(identity, display_name, verified, bundle, added_at)` of a row.
type RawContact = (Vec<u8>, String, i64, Option<Vec<u8>>, i64);

fn read(row: &Row<'_>) -> rusqlite::Result<RawContact> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn decode(raw: RawContact) -> Result<Contact, StoreError> {
    let (id, display_name, verified, bundle, added_at) = raw;
    Ok(Contact {
        id: PublicId::from_slice(&id)
            .ok_or(StoreError::Corrupt { table: TABLE, column: "identity" })?,
        display_name,
        verified: match verified {
            0 => false,
            1 => true,
            _ => return Err(StoreError::Corrupt { table: TABLE, column: "verified" }),
        },
        bundle,
        added_at: time_from_sql(TABLE, "added_at", added_at)?,
    })
}

pub(crate) fn get(conn: &Connection, id: &PublicId) -> Result<Option<Contact>, StoreError> {
    let sql = "SELECT identity, display_name, verified, bundle, added_at
               FROM contacts WHERE identity = ?1";
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row([id.as_bytes()], read).optional())
        .during("loading a contact")?
        .map(decode)
        .transpose()
}

pub(crate) fn exists(conn: &Connection, id: &PublicId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM contacts WHERE identity = ?1")
        .and_then(|mut stmt| stmt.exists([id.as_bytes()]))
        .during("looking up a contact")
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<Contact>, StoreError> {
    let operation = "listing contacts";
    let sql = "SELECT identity, display_name, verified, bundle, added_at
               FROM contacts ORDER BY added_at, identity";
    let mut stmt = conn.prepare_cached(sql).during(operation)?;
    let rows = stmt
        .query_map([], read)
        .during(operation)?
        .collect::<Result<Vec<_>, _>>()
        .during(operation)?;
    rows.into_iter().map(decode).collect()
}

pub(crate) fn remove(conn: &Connection, id: &PublicId) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM contacts WHERE identity = ?1")
        .and_then(|mut stmt| stmt.execute([id.as_bytes()]))
        .map(|n| n == 1)
        .during("removing a contact")
}
