//! Whole-record storage (libsignal-style): small traits that load or store one record per
//! key, with in-memory implementations beside them.
//!
//! ```text
//! SessionStore:  peer identity (Ed25519, 32 bytes) -> PeerRecord
//!                (kaiwa.store.v1.PeerRecord: the peer's installations, their prekeys and
//!                 sessions; the active session first, then archived ones)
//! AccountStore:  the one AccountRecord (kaiwa.store.v1.AccountRecord)
//!                + every held SignedPreKeyRecord (kaiwa.store.v1.SignedPreKeyRecord)
//! ```
//!
//! The record types here are opaque byte strings (the protobuf encodings, each with an
//! explicit `version`, currently [`RECORD_VERSION`]); a store keeps them as blobs. They hold
//! secrets: the bytes are wiped on drop and `Debug` prints only the length. Encryption at
//! rest is the embedding application's job.

use std::collections::BTreeMap;
use std::convert::Infallible;

use kaiwa_crypto::{IdentityPublicKey, Zeroizing};

use crate::account::Account;
use crate::error::AccountStoreError;

/// The `version` written into every record; readers reject others.
pub const RECORD_VERSION: u32 = 1;

macro_rules! record_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Holds secrets: wiped on drop, `Debug` shows only the length. `Clone` because a
        /// store hands out copies of what it keeps.
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<Vec<u8>>);

        impl $name {
            /// Wraps stored bytes (validated when the record is loaded).
            #[must_use]
            pub fn from_bytes(bytes: Vec<u8>) -> Self {
                Self(Zeroizing::new(bytes))
            }

            /// The encoded record, to store as a blob.
            #[must_use]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), self.0.len())
            }
        }
    };
}

record_type!(
    /// An encoded `kaiwa.store.v1.AccountRecord`.
    AccountRecord
);
record_type!(
    /// An encoded `kaiwa.store.v1.SignedPreKeyRecord`.
    SignedPreKeyRecord
);
record_type!(
    /// An encoded `kaiwa.store.v1.PeerRecord`: everything about one peer identity.
    PeerRecord
);
record_type!(
    /// An encoded `kaiwa.store.v1.SessionRecord`: one double-ratchet session.
    SessionRecord
);

/// Storage of peer records, one per peer identity.
pub trait SessionStore {
    /// The store's failure.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The record of `peer`, if any.
    ///
    /// # Errors
    /// The store's failure.
    fn load_peer(&self, peer: &IdentityPublicKey) -> Result<Option<PeerRecord>, Self::Error>;

    /// Replaces the record of `peer`.
    ///
    /// # Errors
    /// The store's failure.
    fn store_peer(
        &mut self,
        peer: &IdentityPublicKey,
        record: &PeerRecord,
    ) -> Result<(), Self::Error>;
}

/// Storage of the local account.
pub trait AccountStore {
    /// The store's failure.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The account record, if one was stored.
    ///
    /// # Errors
    /// The store's failure.
    fn load_account(&self) -> Result<Option<AccountRecord>, Self::Error>;

    /// Replaces the account record.
    ///
    /// # Errors
    /// The store's failure.
    fn store_account(&mut self, record: &AccountRecord) -> Result<(), Self::Error>;

    /// Every signed-prekey record held.
    ///
    /// # Errors
    /// The store's failure.
    fn load_signed_pre_keys(&self) -> Result<Vec<SignedPreKeyRecord>, Self::Error>;

    /// Replaces the set of signed-prekey records (retired keys past their grace period are
    /// simply absent, and so deleted).
    ///
    /// # Errors
    /// The store's failure.
    fn store_signed_pre_keys(&mut self, records: &[SignedPreKeyRecord]) -> Result<(), Self::Error>;
}

/// Writes `account` (its record and all its prekey records) to `store`.
///
/// # Errors
/// The store's failure.
pub fn save_account<S: AccountStore>(
    store: &mut S,
    account: &Account,
) -> Result<(), AccountStoreError<S::Error>> {
    let (record, pre_keys) = account.to_records();
    store.store_account(&record).map_err(AccountStoreError::Store)?;
    store.store_signed_pre_keys(&pre_keys).map_err(AccountStoreError::Store)
}

/// Reads the account from `store`.
///
/// # Errors
/// [`AccountStoreError::NotFound`] if none is stored; record or store failures.
pub fn load_account<S: AccountStore>(store: &S) -> Result<Account, AccountStoreError<S::Error>> {
    let record = store
        .load_account()
        .map_err(AccountStoreError::Store)?
        .ok_or(AccountStoreError::NotFound)?;
    let pre_keys = store.load_signed_pre_keys().map_err(AccountStoreError::Store)?;
    Ok(Account::from_records(&record, &pre_keys)?)
}

/// The in-memory stores cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("in-memory store error")]
pub struct InMemoryStoreError(Infallible);

/// A [`SessionStore`] in memory.
#[derive(Debug, Default, Clone)]
pub struct InMemorySessionStore {
    peers: BTreeMap<[u8; 32], PeerRecord>,
}

impl InMemorySessionStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of peers stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

impl SessionStore for InMemorySessionStore {
    type Error = InMemoryStoreError;

    fn load_peer(&self, peer: &IdentityPublicKey) -> Result<Option<PeerRecord>, Self::Error> {
        Ok(self.peers.get(peer.as_bytes()).cloned())
    }

    fn store_peer(
        &mut self,
        peer: &IdentityPublicKey,
        record: &PeerRecord,
    ) -> Result<(), Self::Error> {
        self.peers.insert(peer.to_bytes(), record.clone());
        Ok(())
    }
}

/// An [`AccountStore`] in memory.
#[derive(Debug, Default, Clone)]
pub struct InMemoryAccountStore {
    account: Option<AccountRecord>,
    pre_keys: Vec<SignedPreKeyRecord>,
}

impl InMemoryAccountStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl AccountStore for InMemoryAccountStore {
    type Error = InMemoryStoreError;

    fn load_account(&self) -> Result<Option<AccountRecord>, Self::Error> {
        Ok(self.account.clone())
    }

    fn store_account(&mut self, record: &AccountRecord) -> Result<(), Self::Error> {
        self.account = Some(record.clone());
        Ok(())
    }

    fn load_signed_pre_keys(&self) -> Result<Vec<SignedPreKeyRecord>, Self::Error> {
        Ok(self.pre_keys.clone())
    }

    fn store_signed_pre_keys(&mut self, records: &[SignedPreKeyRecord]) -> Result<(), Self::Error> {
        self.pre_keys = records.to_vec();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;
    use crate::installation::InstallationId;
    use crate::timestamp::Timestamp;

    #[test]
    fn account_store_round_trip_and_redacted_debug() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let account = Account::generate(
            InstallationId::new("a").unwrap(),
            &mut rng,
            Timestamp::from_millis(1),
        );
        let mut store = InMemoryAccountStore::new();
        assert_eq!(load_account(&store).unwrap_err(), AccountStoreError::NotFound);
        save_account(&mut store, &account).unwrap();
        let loaded = load_account(&store).unwrap();
        assert_eq!(loaded.identity_key(), account.identity_key());
        let record = store.load_account().unwrap().unwrap();
        let debug = format!("{record:?}");
        assert_eq!(debug, format!("AccountRecord({} bytes)", record.as_bytes().len()));
    }
}
