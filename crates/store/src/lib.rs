//! SQLite persistence for kaiwa (temporary doc).

pub mod limits;

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
pub use crate::id::{MessageHash, MessageId, OutboxId, PublicId};
pub use crate::outbox::{OutboxEntry, OutboxMessage};
pub use crate::schema::{Durability, SCHEMA_VERSION, StoreConfig};
pub use crate::store::{Processed, Store};
pub use crate::transaction::Transaction;
