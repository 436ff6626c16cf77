//! [`Profile`]: where a client keeps its account, its history and its state.
//!
//! ```text
//! <dir>/kaiwa.sqlite3     kaiwa-store: account, sessions, groups, organizations, history,
//!                         contacts, outbox, processed set, invitations, the catch-up
//!                         watermark (WAL: also -wal and -shm files)
//! <dir>/kaiwa-state       only in profiles of kaiwa 0.1: imported into the store and
//!                         removed when the profile is opened (crate::legacy_state)
//! ```
//! One directory is one account with one installation; run one client per directory.

use std::path::{Path, PathBuf};

use kaiwa_session::AccountStore as _;
use kaiwa_store::{Durability, PublicId, Store, StoreConfig};

use crate::environment::{Clock, Environment};
use crate::error::{Error, ProfileError};

/// The database file in a profile directory.
pub const DATABASE_FILE: &str = "kaiwa.sqlite3";
/// The facade state file of profiles written by kaiwa 0.1; [`Profile::open_dir`] moves its
/// contents into the store and removes it.
pub const LEGACY_STATE_FILE: &str = "kaiwa-state";

/// An opened profile: the store, not yet a running client. Pass it to
/// [`Client::create`](crate::Client::create) or [`Client::open`](crate::Client::open).
#[derive(Debug)]
pub struct Profile {
    pub(crate) store: Store,
    dir: Option<PathBuf>,
}

impl Profile {
    /// Opens (creating if needed) the profile directory `dir`, with commits that survive
    /// power loss ([`Durability::Full`]). A profile of kaiwa 0.1 has its state file
    /// ([`LEGACY_STATE_FILE`]) moved into the store.
    ///
    /// # Errors
    /// [`Error::Profile`] if the directory cannot be created or an old state file is
    /// unreadable, [`Error::Open`] if the database cannot be opened or migrated.
    pub fn open_dir(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_dir_with(dir, Durability::Full)
    }

    /// [`open_dir`](Self::open_dir) with a chosen durability ([`Durability::Normal`] commits
    /// survive a crash of the process but maybe not of the machine, and cost no `fsync`).
    ///
    /// # Errors
    /// As [`open_dir`](Self::open_dir).
    pub fn open_dir_with(dir: impl AsRef<Path>, durability: Durability) -> Result<Self, Error> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| ProfileError::Io {
            operation: "creating the profile directory",
            kind: e.kind(),
        })?;
        let mut config = StoreConfig::default();
        config.durability = durability;
        let mut store = Store::open_with(dir.join(DATABASE_FILE), &config)?;
        if crate::legacy_state::import(&dir.join(LEGACY_STATE_FILE), &mut store)? {
            tracing::info!("moved the old facade state file into the store");
        }
        Ok(Self { store, dir: Some(dir.to_owned()) })
    }

    /// A profile in memory, gone when the client stops (tests, ephemeral clients).
    ///
    /// # Errors
    /// [`Error::Open`] if SQLite cannot allocate the database.
    pub fn in_memory() -> Result<Self, Error> {
        Ok(Self { store: Store::open_in_memory()?, dir: None })
    }

    /// The directory, unless in memory.
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether the profile holds an account.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn has_account(&self) -> Result<bool, Error> {
        Ok(self.store.load_account()?.is_some())
    }

    /// Creates the account (identity key, installation, prekeys) without starting a client;
    /// returns its public id. [`Client::open`](crate::Client::open) starts it later.
    ///
    /// ```
    /// use kaiwa::{Environment, Profile, SystemClock};
    /// let dir = tempfile::tempdir()?;
    /// let mut profile = Profile::open_dir(dir.path())?;
    /// let id = profile.create_account(Environment::system()?)?;
    /// assert_eq!(profile.public_id()?, id);
    /// assert!(profile.contact_code(&SystemClock)?.starts_with("KAIWA:"));
    /// let again = profile.create_account(Environment::system()?);
    /// assert!(matches!(again, Err(kaiwa::Error::ProfileExists)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ProfileExists`] if the profile already holds an account; store failures.
    pub fn create_account(&mut self, environment: Environment) -> Result<PublicId, Error> {
        let Environment { clock, mut rng } = environment;
        let account = crate::core::create_account(&mut self.store, &*clock, &mut *rng)?;
        Ok(PublicId::new(account.identity_key().to_bytes()))
    }

    /// The account's contact code (`KAIWA:…`), with a bundle stamped by `clock`, without
    /// starting a client (for `kaiwa id`). It is the code a running client gives.
    ///
    /// # Errors
    /// [`Error::NoProfile`] if the profile holds no account, or a store or record failure.
    pub fn contact_code(&self, clock: &dyn Clock) -> Result<String, Error> {
        let account = kaiwa_session::load_account(&self.store)?;
        let now = crate::environment::Now::of(clock);
        Ok(kaiwa_session::encode_contact_code(&account.bundle(now.session())))
    }

    /// The account's public id, without starting a client (for `kaiwa id`).
    ///
    /// # Errors
    /// [`Error::NoProfile`] if the profile holds no account, or a store or record failure.
    pub fn public_id(&self) -> Result<PublicId, Error> {
        let account = kaiwa_session::load_account(&self.store)?;
        Ok(PublicId::new(account.identity_key().to_bytes()))
    }
}
