//! SQLite persistence for kaiwa: the one place where an account's state lives on disk.
//!
//! A [`Store`] is one SQLite database file (bundled SQLite, no system library) holding:
//!
//! - **protocol state**, as the protocol crates' opaque `kaiwa.store.v1` records: the
//!   account and its signed prekeys ([`kaiwa_session::AccountStore`]), one record per 1:1
//!   peer ([`kaiwa_session::SessionStore`]), private groups
//!   ([`kaiwa_group::GroupStore`]), organizations and member views
//!   ([`kaiwa_org::OrgStore`]), and **lists** of them ([`Store::group_ids`],
//!   [`Store::organization_ids`], [`Store::org_view_ids`]);
//! - the **processed set**: every WakuMessage already handled, by its timestamp and hash
//!   ([`ProcessedKey`]);
//! - the product's **history** ([`ChatId`], [`NewMessage`], [`StoredMessage`]),
//!   **contacts** ([`Contact`]) and **outbox** ([`OutboxMessage`], [`OutboxEntry`]);
//! - the **client state**: the last invitation received per organization
//!   ([`Store::invitation`]) and the catch-up watermark ([`Store::caught_up`]), so the
//!   facade commits them with the state they describe.
//!
//! Every method exists on the [`Store`] (each call its own transaction) and on a
//! [`Transaction`] (everything commits together), and both implement every store trait, so
//! protocol code writes its state through whichever it is handed.
//!
//! # What this crate is not
//!
//! - **Not a protocol.** Records are opaque bytes here: the protocol crates encode, check and
//!   decode them (`to_record` / `from_record`). This crate never looks inside one.
//! - **Not a transport.** It knows nothing of Waku; message hashes and topics come in as a
//!   [`ProcessedKey`] and strings, and the facade publishes what the outbox holds.
//! - **No clock, no RNG.** Every time it stores is a parameter.
//! - **No encryption at rest.** The database holds private keys (inside the records) and
//!   plaintext history; protecting the file is the embedding application's job (STYLE
//!   §3.9: an encrypted volume, SQLCipher, or a pickle key in the facade).
//!
//! # Invariants
//!
//! - **One transaction per processed inbound message** ([`Store::process_once`]): the
//!   ratchet, log or epoch state change, the history message and the processed mark of the
//!   WakuMessage hash commit together or not at all. Redelivery is harmless (the mark is
//!   there, nothing runs twice), and a crash loses nothing (no mark without its state).
//! - **Outbox first**: a send commits its ratchet step, its history message and its
//!   ciphertexts in the outbox together, before anything is published; an entry leaves the
//!   outbox only through [`Store::mark_published`] or [`Store::abandon_outbox`].
//! - **Durable commits**: `journal_mode = WAL` and `synchronous = FULL` by default
//!   ([`Durability`] explains why, and what `Normal` would risk); a process killed with
//!   SIGKILL at any point leaves each transaction whole or absent (tested in a loop).
//! - **A failed operation changes nothing**: single statements are atomic, multi-statement
//!   operations run in a savepoint, and inside a transaction only the failed operation is
//!   undone.
//! - **Migrations are append-only** and each runs in its own transaction; a database of a
//!   newer version is refused before anything is written to it.
//! - **Bounded input**: every size the store accepts is bounded in [`limits`]; stored
//!   values that are not what this crate wrote come back as [`StoreError::Corrupt`], never
//!   as a panic.
//! - **No secrets in errors or `Debug`**: errors carry static names and numbers only;
//!   payloads and bundles print as lengths.
//! - **No prost type** in the API.
//!
//! # Example
//!
//! ```
//! use kaiwa_session::Timestamp;
//! use kaiwa_store::{
//!     ChatId, MessageHash, MessageStatus, NewMessage, OutboxMessage, Processed, ProcessedKey,
//!     PublicId, Store,
//! };
//!
//! let mut store = Store::open_in_memory()?; // Store::open(path) for a file
//! let (us, bob) = (PublicId::new([1; 32]), PublicId::new([2; 32]));
//! let chat = ChatId::Direct(bob);
//! let now = Timestamp::from_millis(1_700_000_000_000);
//!
//! // A WakuMessage arrives: its state change and its history entry commit with its mark.
//! let key = ProcessedKey::new(MessageHash::new([7; 32]), Some(1_700_000_000_000_000_000));
//! let mut deliver = |store: &mut Store| {
//!     store.process_once(&key, now, |tx| {
//!         // (the session manager decrypts here, writing the peer record through `tx`)
//!         tx.insert_message(&NewMessage::received(&chat, bob, 1, now, b"hi"), now)
//!     })
//! };
//! assert!(matches!(deliver(&mut store)?, Processed::Applied(_)));
//! // A redelivered copy is recognised and changes nothing.
//! assert_eq!(deliver(&mut store)?, Processed::AlreadyProcessed);
//! assert_eq!(store.history(&chat, None, 50)?.len(), 1);
//!
//! // A reply: the ratchet step (not shown), the message and its ciphertext commit together,
//! // and the message is Sent once its WakuMessage is published.
//! let mut tx = store.begin()?;
//! let reply = tx.insert_message(&NewMessage::outgoing(&chat, us, 2, now, b"hello"), now)?;
//! let waku = OutboxMessage {
//!     pubsub_topic: "/waku/2/rs/16/32".into(),
//!     content_topic: "/kaiwa/1/chat/proto".into(),
//!     payload: b"ciphertext".to_vec(),
//!     meta: Vec::new(),
//!     timestamp_ns: Some(1_700_000_000_000_000_000),
//! };
//! tx.enqueue_outbox(&waku, Some(reply), now)?;
//! tx.commit()?;
//! for entry in store.pending_outbox(None, 100)? {
//!     // (the facade publishes `entry.message` here)
//!     store.mark_published(entry.id)?;
//! }
//! assert_eq!(store.message(reply)?.map(|m| m.status), Some(MessageStatus::Sent));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod limits;

mod client_state;
mod contacts;
mod error;
mod history;
mod id;
mod outbox;
mod processed;
mod records;
mod schema;
mod shared;
mod store;
mod transaction;
mod value;

pub use crate::contacts::Contact;
pub use crate::error::{OpenError, StoreError};
pub use crate::history::{
    ChatId, ChatSummary, Direction, HistoryCursor, MessageStatus, NewMessage, StoredMessage,
};
pub use crate::id::{MessageHash, MessageId, OutboxId, ProcessedKey, PublicId};
pub use crate::outbox::{OutboxEntry, OutboxMessage};
pub use crate::schema::{Durability, SCHEMA_VERSION, StoreConfig};
pub use crate::store::{Processed, Store};
pub use crate::transaction::Transaction;
