//! The facade's own state: what it follows and how far it has caught up, in a small file
//! beside the database.
//!
//! ```text
//! <profile>/kaiwa-state        replaced whole: write <profile>/kaiwa-state.tmp, fsync,
//!                              rename over the old file, fsync the directory
//! line 1                       "kaiwa-facade-state 1"
//! caught-up <i64>              Unix ns of the last complete catch-up (absent: never)
//! owned <hex(org id)>          an organization we own
//! followed <hex(org id)>       an organization we follow (our member view)
//! group <chat id>              a private group we belong or belonged to
//! invitation <hex(org id)> <hex(invitation bytes)>   kept for the next request to join
//! ```
//!
//! kaiwa-store has no table for this yet (see the crate README), so it lives here, outside
//! the store's transactions. It is written so that a crash can never lose anything:
//! - ids are added *before* the transaction that creates the organization or group commits,
//!   so the file lists a superset of what the store holds; a listed id without a record is
//!   skipped when read;
//! - the watermark only moves after every message up to it was committed, and a message kept
//!   for later (a channel message whose key has not arrived) holds it back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use kaiwa_group::GroupId;
use kaiwa_org::OrgId;

use crate::error::StateError;
use crate::limits::{MAX_STATE_ENTRIES, MAX_STATE_FILE_BYTES};

const HEADER: &str = "kaiwa-facade-state 1";

/// The facade's state; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) caught_up: Option<i64>,
    pub(crate) owned: BTreeSet<OrgId>,
    pub(crate) followed: BTreeSet<OrgId>,
    pub(crate) groups: BTreeSet<GroupId>,
    pub(crate) invitations: BTreeMap<OrgId, Vec<u8>>,
}

impl State {
    pub(crate) fn encode(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        if let Some(t) = self.caught_up {
            out.push_str(&format!("caught-up {t}\n"));
        }
        for org in &self.owned {
            out.push_str(&format!("owned {}\n", hex::encode(org.as_bytes())));
        }
        for org in &self.followed {
            out.push_str(&format!("followed {}\n", hex::encode(org.as_bytes())));
        }
        for group in &self.groups {
            out.push_str(&format!("group {}\n", group.as_str()));
        }
        for (org, bytes) in &self.invitations {
            out.push_str(&format!(
                "invitation {} {}\n",
                hex::encode(org.as_bytes()),
                hex::encode(bytes)
            ));
        }
        out
    }

    pub(crate) fn decode(text: &str) -> Result<Self, StateError> {
        if text.len() > MAX_STATE_FILE_BYTES {
            return Err(StateError::TooLarge);
        }
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(StateError::Corrupt { line: 1 });
        }
        let mut state = Self::default();
        for (index, line) in lines {
            let corrupt = StateError::Corrupt { line: index.saturating_add(1) };
            if index > MAX_STATE_ENTRIES {
                return Err(StateError::TooLarge);
            }
            let mut words = line.split(' ');
            let (Some(key), Some(value)) = (words.next(), words.next()) else {
                return Err(corrupt);
            };
            let org = |hex_text: &str| -> Result<OrgId, StateError> {
                let bytes = hex::decode(hex_text).map_err(|_| corrupt.clone())?;
                OrgId::from_slice("org", &bytes).map_err(|_| corrupt.clone())
            };
            match key {
                "caught-up" => {
                    state.caught_up = Some(value.parse().map_err(|_| corrupt.clone())?);
                }
                "owned" => {
                    state.owned.insert(org(value)?);
                }
                "followed" => {
                    state.followed.insert(org(value)?);
                }
                "group" => {
                    state.groups.insert(GroupId::parse(value).map_err(|_| corrupt.clone())?);
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

/// Where the state lives: a file, or nowhere (an in-memory profile).
#[derive(Debug)]
pub(crate) struct StateFile {
    path: Option<PathBuf>,
    state: State,
}

fn io(operation: &'static str) -> impl Fn(std::io::Error) -> StateError {
    move |e| StateError::Io { operation, kind: e.kind() }
}

impl StateFile {
    pub(crate) fn in_memory() -> Self {
        Self { path: None, state: State::default() }
    }

    /// Reads `path`, or starts empty if it does not exist.
    pub(crate) fn open(path: PathBuf) -> Result<Self, StateError> {
        let state = match fs::metadata(&path) {
            Ok(meta) if meta.len() > u64::try_from(MAX_STATE_FILE_BYTES).unwrap_or(u64::MAX) => {
                return Err(StateError::TooLarge);
            }
            Ok(_) => State::decode(&fs::read_to_string(&path).map_err(io("reading"))?)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(io("reading")(e)),
        };
        Ok(Self { path: Some(path), state })
    }

    pub(crate) fn get(&self) -> &State {
        &self.state
    }

    /// Changes the state with `edit` and writes it if it changed.
    pub(crate) fn update(&mut self, edit: impl FnOnce(&mut State)) -> Result<(), StateError> {
        let mut next = self.state.clone();
        edit(&mut next);
        if next == self.state {
            return Ok(());
        }
        if let Some(path) = &self.path {
            write_atomically(path, next.encode().as_bytes())?;
        }
        self.state = next;
        Ok(())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(io("creating the temporary file"))?;
    file.write_all(bytes).map_err(io("writing"))?;
    file.sync_all().map_err(io("syncing"))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io("renaming"))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("syncing the directory"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use kaiwa_group::MemberId;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn sample() -> State {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let org = OrgId::new(IdentityKeyPair::generate(&mut rng).public_key());
        let creator = MemberId::new(IdentityKeyPair::generate(&mut rng).public_key());
        State {
            caught_up: Some(-5),
            owned: BTreeSet::from([org]),
            followed: BTreeSet::from([org]),
            groups: BTreeSet::from([GroupId::generate(&creator, &mut rng)]),
            invitations: BTreeMap::from([(org, vec![1, 2, 3])]),
        }
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut file = StateFile::open(path.clone()).unwrap();
        assert_eq!(file.get(), &State::default());
        let sample = sample();
        file.update(|s| *s = sample.clone()).unwrap();
        assert_eq!(StateFile::open(path).unwrap().get(), &sample);
    }

    #[test]
    fn corrupt_files_are_refused_with_the_line() {
        assert_eq!(State::decode("nope"), Err(StateError::Corrupt { line: 1 }));
        let text = format!("{HEADER}\ncaught-up 5\nowned zz\n");
        assert_eq!(State::decode(&text), Err(StateError::Corrupt { line: 3 }));
        let text = format!("{HEADER}\ncaught-up 5 6\n");
        assert_eq!(State::decode(&text), Err(StateError::Corrupt { line: 2 }));
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
