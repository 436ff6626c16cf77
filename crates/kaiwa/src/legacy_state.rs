//! The state file of profiles written before the store held the facade's state: read once,
//! moved into the store, removed.
//!
//! ```text
//! <profile>/kaiwa-state        written by kaiwa 0.1 (schema-2 stores), replaced whole
//! line 1                       "kaiwa-facade-state 1"
//! caught-up <i64>              Unix ns of the last complete catch-up (absent: never)
//! owned <hex(org id)>          an organization we own          ┐ the store lists these
//! followed <hex(org id)>       an organization we follow       │ from their records now;
//! group <chat id>              a private group                 ┘ parsed, checked, not copied
//! invitation <hex(org id)> <hex(invitation bytes)>   kept for the next request to join
//! ```
//!
//! Import, when [`Profile::open_dir`](crate::Profile::open_dir) finds the file:
//!
//! ```text
//! read (≤ MAX_STATE_FILE_BYTES) → decode (≤ MAX_STATE_ENTRIES lines; a bad line is an error
//!   naming it, and nothing is imported)
//! BEGIN; watermark unless the store has one; each invitation unless the store has one for
//!   that organization (received_at 0: unknown); COMMIT
//! remove the file; fsync the directory
//! ```
//!
//! A crash between the commit and the removal imports the same file again at the next open,
//! which changes nothing: every write is "unless the store has one". The old file listed an
//! id before the record it names was committed, so an id without a record was always
//! skipped; the store's own listings (`group_ids`, `organization_ids`, `org_view_ids`) list
//! exactly the records, which is why those lines are not copied.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use kaiwa_group::GroupId;
use kaiwa_org::OrgId;
use kaiwa_store::Store;

use crate::error::{Error, ProfileError};
use crate::limits::{MAX_STATE_ENTRIES, MAX_STATE_FILE_BYTES};

const HEADER: &str = "kaiwa-facade-state 1";

/// What the old file held that the store does not list by itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    caught_up: Option<i64>,
    invitations: BTreeMap<OrgId, Vec<u8>>,
}

impl State {
    fn decode(text: &str) -> Result<Self, ProfileError> {
        if text.len() > MAX_STATE_FILE_BYTES {
            return Err(ProfileError::StateTooLarge);
        }
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(ProfileError::StateCorrupt { line: 1 });
        }
        let mut state = Self::default();
        for (index, line) in lines {
            let corrupt = ProfileError::StateCorrupt { line: index.saturating_add(1) };
            if index > MAX_STATE_ENTRIES {
                return Err(ProfileError::StateTooLarge);
            }
            let mut words = line.split(' ');
            let (Some(key), Some(value)) = (words.next(), words.next()) else {
                return Err(corrupt);
            };
            let org = |hex_text: &str| -> Result<OrgId, ProfileError> {
                let bytes = hex::decode(hex_text).map_err(|_| corrupt.clone())?;
                OrgId::from_slice("org", &bytes).map_err(|_| corrupt.clone())
            };
            match key {
                "caught-up" => {
                    state.caught_up = Some(value.parse().map_err(|_| corrupt.clone())?);
                }
                "owned" | "followed" => {
                    org(value)?;
                }
                "group" => {
                    GroupId::parse(value).map_err(|_| corrupt.clone())?;
                }
                "invitation" => {
                    let bytes = words.next().ok_or_else(|| corrupt.clone())?;
                    let bytes = hex::decode(bytes).map_err(|_| corrupt.clone())?;
                    state.invitations.insert(org(value)?, bytes);
                }
                _ => return Err(corrupt),
            }
            if words.next().is_some() {
                return Err(corrupt);
            }
        }
        Ok(state)
    }
}

fn io(operation: &'static str) -> impl Fn(std::io::Error) -> ProfileError {
    move |e| ProfileError::Io { operation, kind: e.kind() }
}

/// Moves `path` (an old state file) into `store` and removes it; `false` if there was none.
pub(crate) fn import(path: &Path, store: &mut Store) -> Result<bool, Error> {
    let text = match fs::metadata(path) {
        Ok(meta) if meta.len() > u64::try_from(MAX_STATE_FILE_BYTES).unwrap_or(u64::MAX) => {
            return Err(ProfileError::StateTooLarge.into());
        }
        Ok(_) => fs::read_to_string(path).map_err(io("reading the old state file"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io("reading the old state file")(e).into()),
    };
    let state = State::decode(&text)?;
    let mut tx = store.begin()?;
    if let Some(mark) = state.caught_up
        && tx.caught_up()?.is_none()
    {
        tx.set_caught_up(mark)?;
    }
    for (org, invitation) in &state.invitations {
        if tx.invitation(org)?.is_some() {
            continue;
        }
        match tx.store_invitation(org, invitation, kaiwa_session::Timestamp::from_millis(0)) {
            Ok(()) => {}
            // Larger than any invitation kaiwa-org accepts: it could never have been used.
            Err(kaiwa_store::StoreError::TooLong { .. }) => {
                tracing::debug!("an oversized invitation in the old state file was dropped");
            }
            Err(error) => return Err(error.into()),
        }
    }
    tx.commit()?;
    fs::remove_file(path).map_err(io("removing the old state file"))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing the profile directory"))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn corrupt_files_are_refused_with_the_line() {
        assert_eq!(State::decode("nope"), Err(ProfileError::StateCorrupt { line: 1 }));
        let text = format!("{HEADER}\ncaught-up 5\nowned zz\n");
        assert_eq!(State::decode(&text), Err(ProfileError::StateCorrupt { line: 3 }));
        let text = format!("{HEADER}\ncaught-up 5 6\n");
        assert_eq!(State::decode(&text), Err(ProfileError::StateCorrupt { line: 2 }));
        let text = format!("{HEADER}\ngroup not-a-group-id\n");
        assert_eq!(State::decode(&text), Err(ProfileError::StateCorrupt { line: 2 }));
        let too_many = format!("{HEADER}\n{}", "caught-up 1\n".repeat(MAX_STATE_ENTRIES + 1));
        assert_eq!(State::decode(&too_many), Err(ProfileError::StateTooLarge));
    }

    fn org(seed: u64) -> OrgId {
        use rand_chacha::ChaCha20Rng;
        use rand_chacha::rand_core::SeedableRng;
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        OrgId::new(kaiwa_crypto::IdentityKeyPair::generate(&mut rng).public_key())
    }

    #[test]
    fn an_old_file_moves_into_the_store_once_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::LEGACY_STATE_FILE);
        let mut store = Store::open(dir.path().join("db.sqlite3")).unwrap();
        let (a, b) = (org(1), org(2));
        // What the store already holds wins over the file.
        let mut tx = store.begin().unwrap();
        tx.store_invitation(&b, b"newer", kaiwa_session::Timestamp::from_millis(9)).unwrap();
        tx.commit().unwrap();
        let text = format!(
            "{HEADER}\ncaught-up 1234\nowned {a}\nfollowed {a}\ninvitation {a} 0102\ninvitation {b} 03\n",
            a = hex::encode(a.as_bytes()),
            b = hex::encode(b.as_bytes()),
        );
        fs::write(&path, text).unwrap();
        assert!(import(&path, &mut store).unwrap());
        assert!(!path.exists());
        assert_eq!(store.caught_up().unwrap(), Some(1234));
        assert_eq!(store.invitation(&a).unwrap(), Some(vec![1, 2]));
        assert_eq!(store.invitation(&b).unwrap(), Some(b"newer".to_vec()));
        // Nothing to import any more; a second file (a crash before the removal) changes
        // nothing the store already has.
        assert!(!import(&path, &mut store).unwrap());
        fs::write(&path, format!("{HEADER}\ncaught-up 1\n")).unwrap();
        assert!(import(&path, &mut store).unwrap());
        assert_eq!(store.caught_up().unwrap(), Some(1234));
    }

    #[test]
    fn a_corrupt_old_file_imports_nothing_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::LEGACY_STATE_FILE);
        let mut store = Store::open(dir.path().join("db.sqlite3")).unwrap();
        fs::write(&path, format!("{HEADER}\ncaught-up 77\nsomething else\n")).unwrap();
        let error = import(&path, &mut store).unwrap_err();
        assert!(
            matches!(error, Error::Profile(ProfileError::StateCorrupt { line: 3 })),
            "{error:?}"
        );
        assert!(path.exists());
        assert_eq!(store.caught_up().unwrap(), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = State::decode(&text);
            let _ = State::decode(&format!("{HEADER}\n{text}"));
        }
    }
}
