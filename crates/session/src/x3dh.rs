//! X3DH (53/WAKU2-X3DH in Signal's form, DECISIONS.md "1:1 sessions"): initiator and
//! responder, without one-time prekeys.
//!
//! ```text
//! A = initiator, B = responder; IK = Ed25519 identity, IKdh = X25519 identity DH key,
//! SPK_B = B's signed prekey for the chosen installation, EK_A = A's ephemeral key
//!
//! DH1 = X25519(IKdh_A, SPK_B)      DH2 = X25519(EK_A, IKdh_B)      DH3 = X25519(EK_A, SPK_B)
//!       every output must be contributory (not all zero), DECISIONS.md "Suite"
//! SK  = HKDF-SHA256(salt = 0^32, ikm = 0xFF^32 ‖ DH1 ‖ DH2 ‖ DH3,
//!                   info = "kaiwa/x3dh/shared-secret/v1")
//! session id = HKDF-SHA256(salt = 0^32, ikm = SK, info = "kaiwa/x3dh/session-id/v1")
//! AD  = IK_A ‖ IKdh_A ‖ u8(len(inst_A)) ‖ inst_A ‖ IK_B ‖ IKdh_B ‖ u8(len(inst_B)) ‖ inst_B
//! ```
//!
//! `AD` (DECISIONS.md: "both identities in the AD") also carries the DH identity keys and both
//! installation ids, so a message cannot be re-attributed to another installation of the same
//! identity. The 0xFF prefix is Signal's (X3DH §2.2, for curve25519). The responder learns
//! `IKdh_A` from A's verified bundle, which is attached to A's messages; the X3DH header names
//! `IK_A`, and the two must match.
//!
//! The responder runs X3DH and decrypts the first message in the same call
//! ([`Session::respond`]); if that message does not authenticate, no session exists.

use kaiwa_crypto::{
    CryptoRng, DhKeyPair, DhPublicKey, EphemeralKeyPair, IdentityPublicKey, SharedSecret,
    SymmetricKey, Zeroizing, hkdf_sha256_extract,
};
use std::collections::VecDeque;

use crate::account::Account;
use crate::bundle::VerifiedBundle;
use crate::chain::SendingChain;
use crate::config::SessionConfig;
use crate::error::SessionCreationError;
use crate::header::{Envelope, X3dhHeader};
use crate::installation::InstallationId;
use crate::ratchet::{RatchetState, RootKey, Session, SessionId};
use crate::timestamp::Timestamp;

/// HKDF info of the X3DH shared secret.
pub const X3DH_INFO: &[u8] = b"kaiwa/x3dh/shared-secret/v1";
/// HKDF info of the session id.
pub const SESSION_ID_INFO: &[u8] = b"kaiwa/x3dh/session-id/v1";

/// Signal's X3DH padding for curve25519: 32 bytes of 0xFF before the DH outputs.
const PADDING: [u8; 32] = [0xFF; 32];

fn shared_secret(dh1: &SharedSecret, dh2: &SharedSecret, dh3: &SharedSecret) -> SymmetricKey {
    let prk = hkdf_sha256_extract(
        &[0u8; 32],
        &[&PADDING, dh1.expose_secret(), dh2.expose_secret(), dh3.expose_secret()],
    );
    let [sk] = prk.expand_keys::<1>(X3DH_INFO);
    sk
}

fn session_id(sk: &SymmetricKey) -> SessionId {
    let prk = hkdf_sha256_extract(&[0u8; 32], &[sk.expose_secret()]);
    let [id] = prk.expand_keys::<1>(SESSION_ID_INFO);
    // The id is public by construction (a one-way function of SK under its own label).
    SessionId(*id.expose_secret())
}

/// One party's part of the associated data.
pub(crate) struct Party<'a> {
    pub(crate) identity: IdentityPublicKey,
    pub(crate) identity_dh: DhPublicKey,
    pub(crate) installation: &'a InstallationId,
}

/// `AD` of the module docs: initiator first.
pub(crate) fn associated_data(initiator: &Party<'_>, responder: &Party<'_>) -> Box<[u8]> {
    let mut ad = Vec::with_capacity(2 * (64 + 1 + 64));
    for party in [initiator, responder] {
        ad.extend_from_slice(party.identity.as_bytes());
        ad.extend_from_slice(party.identity_dh.as_bytes());
        party.installation.write_prefixed(&mut ad);
    }
    ad.into_boxed_slice()
}

fn contributory<T, E>(result: Result<T, E>) -> Result<T, SessionCreationError> {
    result.map_err(|_| SessionCreationError::NonContributory)
}

impl Session {
    /// Starts a session with installation `installation` of the peer whose verified bundle
    /// is `theirs` (X3DH initiator, then the initiator's double-ratchet initialisation).
    ///
    /// The session is `AwaitingReply` until a message from the peer decrypts: until then
    /// every envelope carries the X3DH header.
    ///
    /// # Errors
    /// [`SessionCreationError::UnknownInstallation`] if the bundle has no prekey for the
    /// installation; [`SessionCreationError::NonContributory`] if a bundle key has small
    /// order.
    pub fn initiate<R: CryptoRng + ?Sized>(
        ours: &Account,
        theirs: &VerifiedBundle,
        installation: &InstallationId,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Self, SessionCreationError> {
        let spk = theirs
            .signed_pre_key(installation)
            .ok_or(SessionCreationError::UnknownInstallation)?
            .key();
        let party =
            Party { identity: theirs.identity(), identity_dh: theirs.identity_dh(), installation };
        Self::initiate_to(ours, &party, spk, rng, now)
    }

    /// [`initiate`](Self::initiate) with the peer's keys given one by one.
    pub(crate) fn initiate_to<R: CryptoRng + ?Sized>(
        ours: &Account,
        theirs: &Party<'_>,
        spk: DhPublicKey,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Self, SessionCreationError> {
        let ephemeral = EphemeralKeyPair::generate(rng);
        let ephemeral_public = ephemeral.public_key();
        let dh1 = contributory(ours.identity_dh().diffie_hellman(&spk))?;
        let [dh2, dh3] = contributory(ephemeral.diffie_hellman_many([&theirs.identity_dh, &spk]))?;
        let sk = shared_secret(&dh1, &dh2, &dh3);
        let id = session_id(&sk);
        let associated_data = associated_data(
            &Party {
                identity: ours.identity_key(),
                identity_dh: ours.identity_dh_key(),
                installation: ours.installation_id(),
            },
            theirs,
        );
        // Signal's initialisation: DHs fresh, DHr = SPK_B, (RK, CKs) = KDF_RK(SK, DH(DHs, DHr)).
        let ratchet_key = DhKeyPair::generate(rng);
        let dh = contributory(ratchet_key.diffie_hellman(&spk))?;
        let (root_key, chain_key) = RootKey::new(sk).step(&dh);
        Ok(Self {
            id,
            initiated_by_us: true,
            replaces: false,
            associated_data,
            bundle_id: spk,
            state: RatchetState::AwaitingReply(Box::new(X3dhHeader {
                ephemeral: ephemeral_public,
                signed_pre_key: spk,
                identity: ours.identity_key(),
            })),
            their_ephemeral: None,
            root_key,
            sending: Some(SendingChain { ratchet_key, chain_key, next_index: 0 }),
            previous_sending_length: 0,
            remote_ratchet_key: spk,
            receiving: VecDeque::new(),
            skipped: VecDeque::new(),
            recent_tags: VecDeque::new(),
            created_at: now,
        })
    }

    /// Accepts a session started by installation `their_installation` of the peer whose
    /// verified bundle is `theirs`, from the session's first `envelope` (which must carry
    /// the X3DH header): X3DH responder, then the first double-ratchet step, then the
    /// decryption of the message. Returns the session and the plaintext together; if any
    /// step fails there is no session.
    ///
    /// # Errors
    /// [`SessionCreationError`]: the header is missing or names another identity, the
    /// signed prekey is not (or no longer) ours, a DH input has small order, or the message
    /// does not decrypt.
    pub fn respond(
        ours: &Account,
        theirs: &VerifiedBundle,
        their_installation: &InstallationId,
        envelope: &Envelope,
        now: Timestamp,
        config: &SessionConfig,
    ) -> Result<(Self, Zeroizing<Vec<u8>>), SessionCreationError> {
        let party = Party {
            identity: theirs.identity(),
            identity_dh: theirs.identity_dh(),
            installation: their_installation,
        };
        Self::respond_to(ours, &party, envelope, now, config)
    }

    /// [`respond`](Self::respond) with the peer's keys given one by one.
    pub(crate) fn respond_to(
        ours: &Account,
        theirs: &Party<'_>,
        envelope: &Envelope,
        now: Timestamp,
        config: &SessionConfig,
    ) -> Result<(Self, Zeroizing<Vec<u8>>), SessionCreationError> {
        let x3dh = envelope.x3dh.ok_or(SessionCreationError::MissingX3dhHeader)?;
        if x3dh.identity != theirs.identity {
            return Err(SessionCreationError::IdentityMismatch);
        }
        let spk = ours
            .signed_pre_key_secret(&x3dh.signed_pre_key, now, config)
            .ok_or(SessionCreationError::UnknownPreKey)?;
        let dh1 = contributory(spk.diffie_hellman(&theirs.identity_dh))?;
        let dh2 = contributory(ours.identity_dh().diffie_hellman(&x3dh.ephemeral))?;
        let dh3 = contributory(spk.diffie_hellman(&x3dh.ephemeral))?;
        let sk = shared_secret(&dh1, &dh2, &dh3);
        let id = session_id(&sk);
        let associated_data = associated_data(
            theirs,
            &Party {
                identity: ours.identity_key(),
                identity_dh: ours.identity_dh_key(),
                installation: ours.installation_id(),
            },
        );
        let skeleton = Self {
            id,
            initiated_by_us: false,
            replaces: false,
            associated_data,
            bundle_id: x3dh.signed_pre_key,
            state: RatchetState::Active,
            their_ephemeral: Some(x3dh.ephemeral),
            root_key: RootKey::new(sk),
            sending: None,
            previous_sending_length: 0,
            remote_ratchet_key: envelope.header.ratchet_key,
            receiving: VecDeque::new(),
            skipped: VecDeque::new(),
            recent_tags: VecDeque::new(),
            created_at: now,
        };
        Ok(skeleton.respond_with_first_message(spk, envelope)?)
    }
}
