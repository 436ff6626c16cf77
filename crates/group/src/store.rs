//! Whole-record storage of groups (STYLE §3.9): load or store one [`GroupRecord`] per
//! [`GroupId`], with an in-memory implementation beside the trait.

use std::collections::BTreeMap;
use std::convert::Infallible;

use crate::id::GroupId;
use crate::record::GroupRecord;

/// Storage of group records, one whole record per group.
pub trait GroupStore {
    /// The storage backend's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The record of `group`, if stored.
    ///
    /// # Errors
    /// The backend's error.
    fn load(&self, group: &GroupId) -> Result<Option<GroupRecord>, Self::Error>;

    /// Stores (or replaces) the record of `group`.
    ///
    /// # Errors
    /// The backend's error.
    fn store(&mut self, group: &GroupId, record: &GroupRecord) -> Result<(), Self::Error>;
}

/// A [`GroupStore`] in memory, for tests and ephemeral clients.
#[derive(Debug, Default, Clone)]
pub struct MemoryGroupStore {
    records: BTreeMap<GroupId, GroupRecord>,
}

impl MemoryGroupStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored groups.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no group is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl GroupStore for MemoryGroupStore {
    type Error = Infallible;

    fn load(&self, group: &GroupId) -> Result<Option<GroupRecord>, Infallible> {
        Ok(self.records.get(group).cloned())
    }

    fn store(&mut self, group: &GroupId, record: &GroupRecord) -> Result<(), Infallible> {
        self.records.insert(group.clone(), record.clone());
        Ok(())
    }
}
