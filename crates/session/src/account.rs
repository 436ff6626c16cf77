//! The local account: identity keys, this installation's id, and its signed prekeys with
//! rotation (53/WAKU2-X3DH, DECISIONS.md "Suite and identity" and "1:1 sessions").
//!
//! ```text
//! Account   = IK (Ed25519 identity), IK_dh (X25519 identity DH key), installation id,
//!             current SPK {key, version, created_at}, retired SPKs {.., retired_at}
//!
//! rotate(now):  if now - current.created_at >= rotation_interval:
//!                   current.retired_at = now; retired.push_front(current)
//!                   current = fresh SPK, version + 1, created_at = now
//!               drop retired keys with now - retired_at >= grace_period,
//!               and all but the newest MAX_RETIRED_PREKEYS
//! accepts X3DH with SPK  iff  SPK is current, or retired and still within the grace period
//! ```
//!
//! The two identity keys are independent (no conversion between the curves); the bundle
//! signature binds IK_dh to IK.

use std::collections::{BTreeMap, VecDeque};

use kaiwa_crypto::{CryptoRng, DhKeyPair, DhPublicKey, IdentityKeyPair, IdentityPublicKey};
use kaiwa_wire::store as record;
use prost::Message as _;

use crate::bundle::{PROTOCOL_VERSION, SignedPreKeyPublic, VerifiedBundle};
use crate::config::SessionConfig;
use crate::error::{DecodeError, RecordError};
use crate::installation::InstallationId;
use crate::limits::MAX_RETIRED_PREKEYS;
use crate::store::{AccountRecord, RECORD_VERSION, SignedPreKeyRecord};
use crate::timestamp::Timestamp;

/// One of our signed prekeys, with its secret.
struct SignedPreKey {
    key: DhKeyPair,
    version: u32,
    created_at: Timestamp,
    retired_at: Option<Timestamp>,
}

impl SignedPreKey {
    fn public(&self) -> SignedPreKeyPublic {
        SignedPreKeyPublic {
            key: self.key.public_key(),
            version: self.version,
            protocol_version: PROTOCOL_VERSION,
            created_at: self.created_at,
        }
    }

    fn to_record(&self) -> SignedPreKeyRecord {
        let rec = record::SignedPreKeyRecord {
            version: RECORD_VERSION,
            key_version: self.version,
            secret: self.key.expose_secret().to_vec(),
            created_at: self.created_at.as_millis(),
            retired_at: self.retired_at.map_or(0, Timestamp::as_millis),
        };
        SignedPreKeyRecord::from_bytes(rec.encode_to_vec())
    }

    fn from_record(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut rec = record::SignedPreKeyRecord::decode(bytes).map_err(DecodeError::from)?;
        if rec.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: rec.version }.into());
        }
        if rec.key_version == 0 {
            return Err(DecodeError::Invalid { field: "key_version" }.into());
        }
        let key = DhKeyPair::from_secret_slice(&mut rec.secret).map_err(DecodeError::from)?;
        Ok(Self {
            key,
            version: rec.key_version,
            created_at: Timestamp::from_millis(rec.created_at),
            retired_at: (rec.retired_at != 0).then(|| Timestamp::from_millis(rec.retired_at)),
        })
    }
}

/// The local account of this installation. Holds secrets: no `Clone`, redacted `Debug`.
pub struct Account {
    identity: IdentityKeyPair,
    identity_dh: DhKeyPair,
    installation_id: InstallationId,
    created_at: Timestamp,
    current: SignedPreKey,
    /// Newest first.
    retired: VecDeque<SignedPreKey>,
}

impl Account {
    /// A new account with fresh identity keys and a first signed prekey (version 1).
    pub fn generate<R: CryptoRng + ?Sized>(
        installation_id: InstallationId,
        rng: &mut R,
        now: Timestamp,
    ) -> Self {
        let identity = IdentityKeyPair::generate(rng);
        let identity_dh = DhKeyPair::generate(rng);
        Self::with_identity(identity, identity_dh, installation_id, rng, now)
    }

    /// A new installation of an existing identity (account recovery = adding a device,
    /// 54/WAKU2-X3DH-SESSIONS): the given identity keys, a new installation id and a first
    /// signed prekey.
    pub fn with_identity<R: CryptoRng + ?Sized>(
        identity: IdentityKeyPair,
        identity_dh: DhKeyPair,
        installation_id: InstallationId,
        rng: &mut R,
        now: Timestamp,
    ) -> Self {
        let current = SignedPreKey {
            key: DhKeyPair::generate(rng),
            version: 1,
            created_at: now,
            retired_at: None,
        };
        Self {
            identity,
            identity_dh,
            installation_id,
            created_at: now,
            current,
            retired: VecDeque::new(),
        }
    }

    /// The Ed25519 identity key: the account's public id.
    #[must_use]
    pub fn identity_key(&self) -> IdentityPublicKey {
        self.identity.public_key()
    }

    /// The X25519 identity DH key.
    #[must_use]
    pub fn identity_dh_key(&self) -> DhPublicKey {
        self.identity_dh.public_key()
    }

    /// The identity key pair, for the other protocols that sign as this account (group
    /// membership events, organization requests and channel messages). Borrowed, never
    /// copied: the secret stays inside the account.
    #[must_use]
    pub fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// The X25519 identity DH key pair, for the other protocols that receive keys sealed to
    /// this account (organization responses and re-keys). Borrowed, never copied.
    #[must_use]
    pub fn identity_dh(&self) -> &DhKeyPair {
        &self.identity_dh
    }

    /// This installation's id.
    #[must_use]
    pub fn installation_id(&self) -> &InstallationId {
        &self.installation_id
    }

    /// The current signed prekey.
    #[must_use]
    pub fn signed_pre_key(&self) -> SignedPreKeyPublic {
        self.current.public()
    }

    /// Versions of the retired signed prekeys still held, newest first.
    pub fn retired_pre_key_versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.retired.iter().map(|k| k.version)
    }

    /// A freshly signed bundle listing this installation, timestamped `now`.
    #[must_use]
    pub fn bundle(&self, now: Timestamp) -> VerifiedBundle {
        let installations = BTreeMap::from([(self.installation_id.clone(), self.current.public())]);
        VerifiedBundle::sign(&self.identity, self.identity_dh.public_key(), installations, now)
    }

    /// Rotates the signed prekey if it is older than the rotation interval, and forgets
    /// retired keys past their grace period. Returns whether anything changed (persist the
    /// account and publish a new bundle if so).
    pub fn rotate_if_due<R: CryptoRng + ?Sized>(
        &mut self,
        config: &SessionConfig,
        rng: &mut R,
        now: Timestamp,
    ) -> bool {
        let mut changed = false;
        if now.saturating_since(self.current.created_at) >= config.prekey_rotation_interval_ms {
            let fresh = SignedPreKey {
                key: DhKeyPair::generate(rng),
                version: self.current.version.saturating_add(1),
                created_at: now,
                retired_at: None,
            };
            let mut old = core::mem::replace(&mut self.current, fresh);
            old.retired_at = Some(now);
            self.retired.push_front(old);
            changed = true;
        }
        let before = self.retired.len();
        self.retired.retain(|k| {
            k.retired_at.is_some_and(|at| now.saturating_since(at) < config.prekey_grace_period_ms)
        });
        self.retired.truncate(MAX_RETIRED_PREKEYS);
        changed || self.retired.len() != before
    }

    /// The secret of the signed prekey `key`, if it is ours and still accepts handshakes at
    /// `now` (current, or retired within the grace period). 53/WAKU2-X3DH, DECISIONS.md.
    pub(crate) fn signed_pre_key_secret(
        &self,
        key: &DhPublicKey,
        now: Timestamp,
        config: &SessionConfig,
    ) -> Option<&DhKeyPair> {
        if self.current.key.public_key() == *key {
            return Some(&self.current.key);
        }
        self.retired
            .iter()
            .find(|k| {
                k.key.public_key() == *key
                    && k.retired_at
                        .is_some_and(|at| now.saturating_since(at) < config.prekey_grace_period_ms)
            })
            .map(|k| &k.key)
    }

    /// The account as records: the account itself and one record per signed prekey
    /// (current first).
    #[must_use]
    pub fn to_records(&self) -> (AccountRecord, Vec<SignedPreKeyRecord>) {
        let account = record::AccountRecord {
            version: RECORD_VERSION,
            identity_secret: self.identity.expose_secret().to_vec(),
            identity_dh_secret: self.identity_dh.expose_secret().to_vec(),
            installation_id: self.installation_id.as_str().to_owned(),
            created_at: self.created_at.as_millis(),
        };
        let prekeys = core::iter::once(&self.current)
            .chain(&self.retired)
            .map(SignedPreKey::to_record)
            .collect();
        (AccountRecord::from_bytes(account.encode_to_vec()), prekeys)
    }

    /// Restores an account from [`to_records`](Self::to_records) output. The current key
    /// is the one without `retired_at`.
    ///
    /// # Errors
    /// [`RecordError`] if a record is malformed, of an unknown version, or if there is not
    /// exactly one current signed prekey.
    pub fn from_records(
        account: &AccountRecord,
        pre_keys: &[SignedPreKeyRecord],
    ) -> Result<Self, RecordError> {
        let mut rec =
            record::AccountRecord::decode(account.as_bytes()).map_err(DecodeError::from)?;
        if rec.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: rec.version }.into());
        }
        let identity = IdentityKeyPair::from_secret_slice(&mut rec.identity_secret)
            .map_err(DecodeError::from)?;
        let identity_dh =
            DhKeyPair::from_secret_slice(&mut rec.identity_dh_secret).map_err(DecodeError::from)?;
        let installation_id =
            InstallationId::new(rec.installation_id.clone()).map_err(DecodeError::from)?;
        let mut current = None;
        let mut retired = Vec::new();
        for bytes in pre_keys {
            let key = SignedPreKey::from_record(bytes.as_bytes())?;
            if key.retired_at.is_some() {
                retired.push(key);
            } else if current.replace(key).is_some() {
                return Err(DecodeError::Invalid { field: "retired_at" }.into());
            }
        }
        let current = current.ok_or(DecodeError::Missing { field: "signed_pre_key" })?;
        retired.sort_by_key(|k| core::cmp::Reverse(k.retired_at));
        retired.truncate(MAX_RETIRED_PREKEYS);
        Ok(Self {
            identity,
            identity_dh,
            installation_id,
            created_at: Timestamp::from_millis(rec.created_at),
            current,
            retired: retired.into(),
        })
    }
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { identity, identity_dh, installation_id, created_at, current, retired } = self;
        f.debug_struct("Account")
            .field("identity", &identity.public_key())
            .field("identity_dh", &identity_dh.public_key())
            .field("installation_id", installation_id)
            .field("created_at", created_at)
            .field("signed_pre_key_version", &current.version)
            .field("retired_pre_keys", &retired.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    const HOUR: u64 = 60 * 60 * 1_000;

    fn account() -> Account {
        Account::generate(
            InstallationId::new("inst-a").unwrap(),
            &mut ChaCha20Rng::seed_from_u64(3),
            Timestamp::from_millis(0),
        )
    }

    #[test]
    fn rotation_and_grace_period() {
        let config = SessionConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut account = account();
        let first = account.signed_pre_key();
        assert_eq!(first.version(), 1);
        assert!(!account.rotate_if_due(&config, &mut rng, Timestamp::from_millis(23 * HOUR)));
        assert!(account.rotate_if_due(&config, &mut rng, Timestamp::from_millis(24 * HOUR)));
        let second = account.signed_pre_key();
        assert_eq!(second.version(), 2);
        assert_ne!(second.key(), first.key());
        let day = Timestamp::from_millis(24 * HOUR);
        assert!(account.signed_pre_key_secret(&first.key(), day, &config).is_some());
        assert!(account.signed_pre_key_secret(&second.key(), day, &config).is_some());
        // Just before and at the end of the grace period (7 days after retirement).
        let last = Timestamp::from_millis(24 * HOUR + 7 * 24 * HOUR - 1);
        assert!(account.signed_pre_key_secret(&first.key(), last, &config).is_some());
        let over = last.saturating_add(1);
        assert!(account.signed_pre_key_secret(&first.key(), over, &config).is_none());
        let mut never = [0u8; 32];
        never[0] = 9;
        assert!(
            account.signed_pre_key_secret(&DhPublicKey::from_bytes(never), day, &config).is_none()
        );
    }

    #[test]
    fn retired_keys_are_bounded_and_expire() {
        let config = SessionConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut account = account();
        for day in 1..=20 {
            account.rotate_if_due(&config, &mut rng, Timestamp::from_millis(day * 24 * HOUR));
        }
        assert_eq!(account.signed_pre_key().version(), 21);
        assert_eq!(
            account.retired_pre_key_versions().collect::<Vec<_>>(),
            vec![20, 19, 18, 17, 16, 15, 14]
        );
        assert!(!account.rotate_if_due(
            &config,
            &mut rng,
            Timestamp::from_millis(20 * 24 * HOUR + 1)
        ));
    }

    #[test]
    fn records_round_trip() {
        let config = SessionConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut account = account();
        account.rotate_if_due(&config, &mut rng, Timestamp::from_millis(30 * HOUR));
        let (rec, pre_keys) = account.to_records();
        let restored = Account::from_records(&rec, &pre_keys).unwrap();
        assert_eq!(restored.identity_key(), account.identity_key());
        assert_eq!(restored.identity_dh_key(), account.identity_dh_key());
        assert_eq!(restored.signed_pre_key(), account.signed_pre_key());
        assert_eq!(restored.installation_id(), account.installation_id());
        let now = Timestamp::from_millis(31 * HOUR);
        assert_eq!(restored.bundle(now), account.bundle(now));
        assert_eq!(restored.retired_pre_key_versions().collect::<Vec<_>>(), vec![1]);

        assert_eq!(
            Account::from_records(&rec, &pre_keys[1..]).unwrap_err(),
            RecordError::Decode(DecodeError::Missing { field: "signed_pre_key" })
        );
        let mut bad = record::AccountRecord::decode(rec.as_bytes()).unwrap();
        bad.version = 2;
        assert_eq!(
            Account::from_records(&AccountRecord::from_bytes(bad.encode_to_vec()), &pre_keys)
                .unwrap_err(),
            RecordError::Decode(DecodeError::Version { got: 2 })
        );
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let account = account();
        let debug = format!("{account:?}");
        for secret in [
            &account.identity.expose_secret()[..],
            &account.identity_dh.expose_secret()[..],
            &account.current.key.expose_secret()[..],
        ] {
            let hex = hex::encode(&secret[..4]);
            assert!(!debug.contains(&hex), "{debug}");
        }
        assert!(debug.contains("Account"));
    }
}
