//! Session management (54/WAKU2-X3DH-SESSIONS, DECISIONS.md "1:1 sessions"): several
//! installations per identity, one active session per (peer identity, installation), one
//! envelope per installation, superseding, deterministic concurrent initiation, and
//! automatic rate-limited recovery.
//!
//! ```text
//! ProtocolMessage { installation_id = 2: sender's installation, bundles = 3: [sender's bundle],
//!                   sender_identity = 4: IK of the sender,
//!                   encrypted_message = 101: recipient installation -> EncryptedMessageProtocol }
//!
//! plaintext inside each envelope (the "frame"):
//!   frame = u8(flags) ‖ body
//!   flags 0x01 REPLACES: sent on a session that replaces an earlier session between the two
//!                        installations (a reset or a superseding handshake), while it awaits
//!                        its first reply
//!   flags 0x02 RESET:    a recovery handshake; body = SessionResetRequest{installation_id,
//!                        timestamp}, not application data
//!   other bits:          rejected
//!   A frame that fails these checks (empty, an unknown bit, a RESET body that is not a
//!   SessionResetRequest with a valid installation id) was sent by the holder of the session
//!   keys, but it is refused all the same: `receive` returns `ReceiveError::Decode` and nothing
//!   changes (no ratchet step or skipped key, no session filed, no bundle learnt, the failure
//!   count untouched), so the same message is refused again if it is delivered again.
//!
//! inbound X3DH session N from installation I, our active session C with I (if any):
//!   C awaits a reply (we initiated, unanswered)   -> keep the one with the lower session id
//!   N is not REPLACES and C was initiated by us   -> keep the one with the lower session id
//!   otherwise (no C, or N replaces)               -> N becomes active
//!   the other one is archived (it still decrypts messages in flight)
//!
//! recovery: a message from installation I that cannot be decrypted counts a failure. A
//!   ratchet message while we hold no session with I at all (we lost our state) starts
//!   recovery at once; anything else (a session exists but the message fails, or a handshake
//!   fails) after `failures_before_reset` in a row (a success resets the count; a duplicate
//!   is not a failure). Then, at
//!   most once per `min_reset_interval_ms` per installation, a new session is initiated with
//!   I's known prekey and a RESET frame is returned to be sent: I adopts it (REPLACES).
//! ```
//!
//! Why this tie-break converges: in a race both sides compare the same two session ids
//! (the ids are derived from SK, which both sides share) and the side whose own session
//! loses adopts the peer's, so both end on the lower id. A late first message of a race
//! (arriving after the reply) is still compared, not adopted. A handshake made on purpose to
//! replace a session (reset, superseded prekey) is marked REPLACES and always adopted, so
//! recovery cannot lose a coin toss.
//!
//! Every operation loads the peer's whole record, works on it in memory, and stores it only
//! on success, after every check (the frame checks above included); an error stores nothing.
//! The questions asked on every message without changing anything (`has_installations`,
//! `negotiated_secret`) read the record's summary instead, restoring no session (peer.rs);
//! the summary accepts every record a full load accepts. Loading does no curve arithmetic
//! (record.rs). A received message's sender identity is decoded strictly once; the attached
//! bundle that names the same encoded identity reuses that key, and any other encoding is
//! decoded strictly on its own.
//! Failure counters and reset times are kept in memory (bounded), so an undecryptable message
//! leaves the stored sessions untouched: only what its attached bundles teach is stored (as
//! for a message that is not for us), and a recovery handshake if one is started.

use std::collections::BTreeMap;

use kaiwa_crypto::{CryptoRng, IdentityPublicKey, Zeroizing};
use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::account::Account;
use crate::bundle::{Bundle, VerifiedBundle};
use crate::config::SessionConfig;
use crate::error::{
    DecodeError, DecryptError, ReceiveError, RecordError, SendError, SessionCreationError,
};
use crate::header::{Envelope, identity_key};
use crate::installation::InstallationId;
use crate::limits::{
    MAX_BUNDLES_PER_MESSAGE, MAX_ENVELOPES_PER_MESSAGE, MAX_INSTALLATIONS, MAX_MESSAGE_LEN,
    MAX_PLAINTEXT_LEN, MAX_TRACKED_FAILURES,
};
use crate::peer::{Peer, PeerInstallation, PeerSummary};
use crate::ratchet::Session;
use crate::store::SessionStore;
use crate::timestamp::Timestamp;
use crate::topic::{NegotiatedSecret, negotiated_secret};
use crate::x3dh::Party;

const FLAG_REPLACES: u8 = 0x01;
const FLAG_RESET: u8 = 0x02;

/// A peer installation: who sent a message, or to whom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerAddress {
    /// The peer's identity.
    pub identity: IdentityPublicKey,
    /// The installation.
    pub installation: InstallationId,
}

/// An encoded `ProtocolMessage` to publish.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    bytes: Vec<u8>,
    recipients: Vec<InstallationId>,
}

impl OutgoingMessage {
    /// The bytes to put in a Waku message payload.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, owned.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The installations that have an envelope in it.
    #[must_use]
    pub fn recipients(&self) -> &[InstallationId] {
        &self.recipients
    }
}

impl core::fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("len", &self.bytes.len())
            .field("recipients", &self.recipients)
            .finish()
    }
}

/// Why a well-formed message could not be decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UndecryptableReason {
    /// We have no session with the sender's installation that the message could belong to.
    NoSession,
    /// The message starts a session, but no bundle of the sender (with this installation)
    /// is known.
    NoBundle,
    /// The message starts a session and the handshake failed.
    Handshake(SessionCreationError),
    /// The message belongs to a session and did not decrypt.
    Decrypt(DecryptError),
}

/// What [`SessionManager::receive`] made of a message.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Received {
    /// A message was decrypted.
    Message {
        /// The sender.
        from: PeerAddress,
        /// The plaintext (wiped on drop).
        plaintext: Zeroizing<Vec<u8>>,
    },
    /// The sender replaced our session with a new one after it lost or could not use the old
    /// one. Messages we sent before may not have arrived.
    SessionReset {
        /// The sender.
        from: PeerAddress,
    },
    /// This exact message was decrypted before; drop it.
    Duplicate {
        /// The sender.
        from: PeerAddress,
    },
    /// The message has no envelope for this installation (its bundles were processed).
    NotForUs,
    /// The message could not be decrypted. No session changed, except that `recovery`, if
    /// present, is a new session's first message to send to the sender (and is stored); the
    /// attached bundles were processed as for [`NotForUs`](Self::NotForUs).
    Undecryptable {
        /// The claimed sender.
        from: PeerAddress,
        /// Why.
        reason: UndecryptableReason,
        /// A recovery handshake to publish (rate-limited).
        recovery: Option<OutgoingMessage>,
    },
}

#[derive(Clone, Copy, Debug, Default)]
struct Recovery {
    failures: u32,
    last_reset: Option<Timestamp>,
}

/// The sans-IO session manager of one installation: it owns the account and encrypts and
/// decrypts `ProtocolMessage`s, keeping peers in a [`SessionStore`].
pub struct SessionManager {
    account: Account,
    config: SessionConfig,
    own_bundle: VerifiedBundle,
    recovery: BTreeMap<PeerAddress, Recovery>,
}

impl core::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { account, config, own_bundle: _, recovery } = self;
        f.debug_struct("SessionManager")
            .field("account", account)
            .field("config", config)
            .field("tracked_failures", &recovery.len())
            .finish_non_exhaustive()
    }
}

fn frame(flags: u8, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(body.len().saturating_add(1)));
    out.push(flags);
    out.extend_from_slice(body);
    out
}

fn parse_frame(plaintext: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let (&flags, body) = plaintext.split_first().ok_or(DecodeError::Missing { field: "frame" })?;
    if flags & !(FLAG_REPLACES | FLAG_RESET) != 0 {
        return Err(DecodeError::Invalid { field: "frame.flags" });
    }
    if flags & FLAG_RESET != 0 {
        let request = wire::SessionResetRequest::decode(body)?;
        InstallationId::new(request.installation_id.clone())?;
    }
    Ok((flags, body))
}

/// A `ProtocolMessage` after syntactic checks.
struct Incoming {
    from: PeerAddress,
    bundles: Vec<Bundle>,
    envelope: Option<Envelope>,
}

fn decode_incoming(bytes: &[u8], ours: &InstallationId) -> Result<Incoming, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DecodeError::TooLong { limit: MAX_MESSAGE_LEN, actual: bytes.len() });
    }
    let mut msg = wire::ProtocolMessage::decode(bytes)?;
    if !msg.public_message.is_empty() {
        return Err(DecodeError::Invalid { field: "public_message" });
    }
    if msg.bundles.len() > MAX_BUNDLES_PER_MESSAGE {
        return Err(DecodeError::TooMany {
            what: "bundles",
            limit: MAX_BUNDLES_PER_MESSAGE,
            actual: msg.bundles.len(),
        });
    }
    if msg.encrypted_message.len() > MAX_ENVELOPES_PER_MESSAGE {
        return Err(DecodeError::TooMany {
            what: "encrypted_message",
            limit: MAX_ENVELOPES_PER_MESSAGE,
            actual: msg.encrypted_message.len(),
        });
    }
    let from = PeerAddress {
        identity: identity_key("sender_identity", &msg.sender_identity)?,
        installation: InstallationId::new(core::mem::take(&mut msg.installation_id))?,
    };
    // The sender's own bundle names the identity just decoded: not decoded twice.
    let bundles = msg
        .bundles
        .into_iter()
        .map(|bundle| Bundle::from_wire(bundle, Some(&from.identity)))
        .collect::<Result<_, _>>()?;
    let envelope =
        msg.encrypted_message.remove(ours.as_str()).map(Envelope::try_from).transpose()?;
    Ok(Incoming { from, bundles, envelope })
}

impl SessionManager {
    /// A manager for `account`, signing its bundle at `now`.
    #[must_use]
    pub fn new(account: Account, config: SessionConfig, now: Timestamp) -> Self {
        let own_bundle = account.bundle(now);
        Self { account, config, own_bundle, recovery: BTreeMap::new() }
    }

    /// The account.
    #[must_use]
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Our current signed bundle: publish it on our contact-code topic (kaiwa-transport's
    /// `TopicScheme::contact_code`) and in contact codes. It is attached to every message we send.
    #[must_use]
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.own_bundle
    }

    /// Rotates our signed prekey if due (and re-signs our bundle). Returns whether the
    /// account changed: persist it with [`save_account`](crate::save_account) and publish
    /// the new bundle if so.
    pub fn rotate_if_due<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Timestamp) -> bool {
        let changed = self.account.rotate_if_due(&self.config, rng, now);
        if changed {
            self.own_bundle = self.account.bundle(now);
        }
        changed
    }

    /// A message carrying only our bundle (no envelopes): the reply 54 asks for when a
    /// message did not include this installation, and a bundle advert.
    #[must_use]
    pub fn bundle_message(&self) -> OutgoingMessage {
        self.build(BTreeMap::new())
    }

    fn build(&self, envelopes: BTreeMap<InstallationId, Envelope>) -> OutgoingMessage {
        let recipients = envelopes.keys().cloned().collect();
        let msg = wire::ProtocolMessage {
            installation_id: self.account.installation_id().as_str().to_owned(),
            bundles: vec![wire::Bundle::from(&self.own_bundle)],
            sender_identity: self.account.identity_key().as_bytes().to_vec(),
            encrypted_message: envelopes
                .iter()
                .map(|(id, e)| (id.as_str().to_owned(), wire::EncryptedMessageProtocol::from(e)))
                .collect(),
            public_message: Vec::new(),
        };
        OutgoingMessage { bytes: msg.encode_to_vec(), recipients }
    }

    /// Restores the whole record of `identity`: every installation and session.
    fn load<S: SessionStore>(
        &self,
        store: &S,
        identity: &IdentityPublicKey,
    ) -> Result<Option<Peer>, LoadError<S::Error>> {
        let ours = self.account.identity_key();
        match store.load_peer(identity).map_err(LoadError::Store)? {
            None => Ok(None),
            Some(record) => Ok(Some(Peer::from_record(&record, identity, &ours)?)),
        }
    }

    /// Reads the summary of the record of `identity`, decoding no session (peer.rs).
    fn summary<S: SessionStore>(
        store: &S,
        identity: &IdentityPublicKey,
    ) -> Result<Option<PeerSummary>, LoadError<S::Error>> {
        match store.load_peer(identity).map_err(LoadError::Store)? {
            None => Ok(None),
            Some(record) => Ok(Some(PeerSummary::from_record(&record, identity)?)),
        }
    }

    fn exclude_for(&self, identity: &IdentityPublicKey) -> Option<&InstallationId> {
        (*identity == self.account.identity_key()).then(|| self.account.installation_id())
    }

    /// Learns a peer's verified bundle (from a contact code, or the contact-code topic):
    /// new installations are added, higher prekey versions supersede (module docs).
    ///
    /// # Errors
    /// Store or record failures; nothing is stored then.
    pub fn process_bundle<S: SessionStore>(
        &mut self,
        store: &mut S,
        bundle: &VerifiedBundle,
    ) -> Result<(), ReceiveError<S::Error>> {
        let identity = bundle.identity();
        let mut peer = self.load(store, &identity)?.unwrap_or_else(|| Peer::new(identity));
        let exclude = self.exclude_for(&identity).cloned();
        if peer.merge(bundle, self.config.installations_bound(), exclude.as_ref()) {
            store.store_peer(&identity, &peer.to_record()).map_err(ReceiveError::Store)?;
        }
        Ok(())
    }

    /// Encrypts `plaintext` to every known installation of `peer` (at most
    /// `max_installations`; our own installation is skipped when `peer` is our identity),
    /// starting sessions where there is none or the old one was superseded.
    ///
    /// Installations whose handshake fails (a prekey of small order) are skipped; the call
    /// fails only if no installation could be reached.
    ///
    /// # Errors
    /// [`SendError`]; nothing is stored then.
    pub fn encrypt<S: SessionStore, R: CryptoRng + ?Sized>(
        &mut self,
        store: &mut S,
        peer: &IdentityPublicKey,
        plaintext: &[u8],
        rng: &mut R,
        now: Timestamp,
    ) -> Result<OutgoingMessage, SendError<S::Error>> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(crate::error::EncryptError::TooLong {
                limit: MAX_PLAINTEXT_LEN,
                actual: plaintext.len(),
            }
            .into());
        }
        let mut record = self.load(store, peer)?.ok_or(SendError::NoBundle)?;
        let identity_dh = record.identity_dh.ok_or(SendError::NoBundle)?;
        let exclude = self.exclude_for(peer).cloned();
        let mut envelopes = BTreeMap::new();
        let mut first_error = None;
        for (id, inst) in &mut record.installations {
            if exclude.as_ref() == Some(id) {
                continue;
            }
            let party = Party { identity: *peer, identity_dh, installation: id };
            match self.encrypt_to(inst, &party, plaintext, 0, rng, now) {
                Ok(envelope) => {
                    envelopes.insert(id.clone(), envelope);
                }
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if envelopes.is_empty() {
            return Err(first_error.map_or(SendError::NoBundle, SendError::from));
        }
        store.store_peer(peer, &record.to_record()).map_err(SendError::Store)?;
        Ok(self.build(envelopes))
    }

    /// Encrypts one frame to one installation, starting a session first if needed.
    fn encrypt_to<R: CryptoRng + ?Sized>(
        &self,
        inst: &mut PeerInstallation,
        party: &Party<'_>,
        body: &[u8],
        extra_flags: u8,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Envelope, EncryptToError> {
        let reset = extra_flags & FLAG_RESET != 0;
        if inst.sessions.is_empty() || inst.stale || reset {
            let mut session =
                Session::initiate_to(&self.account, party, inst.pre_key.key(), rng, now)?;
            session.replaces = !inst.sessions.is_empty() || reset;
            inst.activate(session);
            inst.stale = false;
        }
        let session = inst.sessions.first_mut().ok_or(EncryptToError::NoSession)?;
        let flags = if session.replaces && session.is_awaiting_reply() {
            FLAG_REPLACES | extra_flags
        } else {
            extra_flags
        };
        Ok(session.encrypt(&frame(flags, body), rng)?)
    }

    /// Processes one received `ProtocolMessage`: its attached bundles (those of the sender
    /// that verify; others are ignored), then our envelope.
    ///
    /// # Errors
    /// [`ReceiveError`] if the message is malformed or the store fails; nothing is stored
    /// then. Malformed includes a message that decrypts but whose frame is invalid (module
    /// docs): it is [`ReceiveError::Decode`], and the sessions, the attached bundles and the
    /// failure count stay as they were. A message that is well formed but does not decrypt is
    /// [`Received::Undecryptable`], not an error.
    pub fn receive<S: SessionStore, R: CryptoRng + ?Sized>(
        &mut self,
        store: &mut S,
        bytes: &[u8],
        rng: &mut R,
        now: Timestamp,
    ) -> Result<Received, ReceiveError<S::Error>> {
        let incoming = decode_incoming(bytes, self.account.installation_id())?;
        let from = incoming.from;
        let mut peer =
            self.load(store, &from.identity)?.unwrap_or_else(|| Peer::new(from.identity));
        let exclude = self.exclude_for(&from.identity).cloned();
        let mut changed = false;
        for bundle in incoming.bundles {
            // An attached bundle is optional and authenticates itself: one that is not the
            // sender's, does not verify, or is from the future is ignored, not fatal (the
            // container is unauthenticated, so anyone could have added it).
            if bundle.identity() != from.identity || peer.bundle_digest == Some(bundle.digest()) {
                continue;
            }
            // Verified against the hard bound: a peer with more devices than we talk to is
            // still heard; merging keeps the `max_installations` most recently active.
            if let Ok(verified) = bundle.verify(now, MAX_INSTALLATIONS) {
                changed |=
                    peer.merge(&verified, self.config.installations_bound(), exclude.as_ref());
            }
        }
        let Some(envelope) = incoming.envelope else {
            if changed {
                store.store_peer(&from.identity, &peer.to_record()).map_err(ReceiveError::Store)?;
            }
            return Ok(Received::NotForUs);
        };
        let outcome = match envelope.x3dh {
            Some(x3dh) if x3dh.identity != from.identity => {
                return Err(DecodeError::Invalid { field: "x3dh_header.identity" }.into());
            }
            Some(x3dh) if !Self::has_session_from(&peer, &from.installation, &x3dh) => {
                self.accept_session(&mut peer, &from, &envelope, now)
            }
            _ => Self::decrypt_existing(&mut peer, &from.installation, &envelope)
                .map_err(OpenError::Undecryptable),
        };
        match outcome {
            Ok(Some(plaintext)) => {
                // Every check of the decrypted frame comes before the store write and before
                // the failure count is reset: a refused frame changes nothing (module docs).
                let (flags, body) = parse_frame(&plaintext)?;
                let received = if flags & FLAG_RESET != 0 {
                    Received::SessionReset { from: from.clone() }
                } else {
                    Received::Message {
                        from: from.clone(),
                        plaintext: Zeroizing::new(body.to_vec()),
                    }
                };
                store.store_peer(&from.identity, &peer.to_record()).map_err(ReceiveError::Store)?;
                self.recovery.remove(&from);
                Ok(received)
            }
            Ok(None) => Ok(Received::Duplicate { from }),
            Err(OpenError::Refused(err)) => Err(err.into()),
            Err(OpenError::Undecryptable(reason)) => {
                let recovery = self.maybe_recover(&mut peer, &from, &reason, rng, now);
                if changed || recovery.is_some() {
                    store
                        .store_peer(&from.identity, &peer.to_record())
                        .map_err(ReceiveError::Store)?;
                }
                Ok(Received::Undecryptable { from, reason, recovery })
            }
        }
    }

    /// Whether `x3dh` belongs to a session we already accepted (the initiator resends the
    /// header until our reply arrives).
    fn has_session_from(
        peer: &Peer,
        installation: &InstallationId,
        x3dh: &crate::header::X3dhHeader,
    ) -> bool {
        peer.installations.get(installation).is_some_and(|inst| {
            inst.sessions.iter().any(|s| {
                s.their_ephemeral == Some(x3dh.ephemeral) && s.bundle_id == x3dh.signed_pre_key
            })
        })
    }

    /// Runs X3DH as responder, decrypts the first message, and files the new session by the
    /// rules of the module docs. `Ok(Some(frame))` on success; the caller checks the frame
    /// before it stores anything (this one only reads the flags it needs for filing).
    fn accept_session(
        &self,
        peer: &mut Peer,
        from: &PeerAddress,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, OpenError> {
        let identity_dh = peer.identity_dh.ok_or(UndecryptableReason::NoBundle)?;
        let inst =
            peer.installations.get_mut(&from.installation).ok_or(UndecryptableReason::NoBundle)?;
        let party =
            Party { identity: from.identity, identity_dh, installation: &from.installation };
        let (session, plaintext) =
            Session::respond_to(&self.account, &party, envelope, now, &self.config)
                .map_err(UndecryptableReason::Handshake)?;
        if let Some(existing) = inst.sessions.iter_mut().find(|s| s.id == session.id) {
            // The same handshake again (same SK): never a second session.
            return match existing.decrypt(envelope) {
                Ok(plaintext) => Ok(Some(plaintext)),
                Err(DecryptError::Duplicate) => Ok(None),
                Err(err) => Err(UndecryptableReason::Decrypt(err).into()),
            };
        }
        // The first message authenticated: an invalid frame is refused, not a failed
        // handshake (it must not count towards recovery).
        let (flags, _) = parse_frame(&plaintext).map_err(OpenError::Refused)?;
        let replaces = flags & FLAG_REPLACES != 0;
        let keep_current = match inst.sessions.first() {
            None => false,
            Some(current) if current.is_awaiting_reply() => current.id < session.id,
            Some(current) if !replaces => current.initiated_by_us && current.id < session.id,
            Some(_) => false,
        };
        if keep_current {
            inst.archive(session);
        } else {
            inst.activate(session);
            inst.stale = false;
        }
        Ok(Some(plaintext))
    }

    /// Decrypts with the sessions of `installation` built on the envelope's bundle id,
    /// the active one first. `Ok(None)` for a duplicate.
    fn decrypt_existing(
        peer: &mut Peer,
        installation: &InstallationId,
        envelope: &Envelope,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, UndecryptableReason> {
        let inst =
            peer.installations.get_mut(installation).ok_or(UndecryptableReason::NoSession)?;
        let mut first_error = None;
        for session in inst.sessions.iter_mut().filter(|s| s.bundle_id == envelope.header.bundle_id)
        {
            match session.decrypt(envelope) {
                Ok(plaintext) => return Ok(Some(plaintext)),
                Err(DecryptError::Duplicate) => return Ok(None),
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        Err(first_error.map_or(UndecryptableReason::NoSession, UndecryptableReason::Decrypt))
    }

    /// Counts a failure and, if the rules of the module docs say so, starts a recovery
    /// handshake with the sender's installation.
    fn maybe_recover<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &mut Peer,
        from: &PeerAddress,
        reason: &UndecryptableReason,
        rng: &mut R,
        now: Timestamp,
    ) -> Option<OutgoingMessage> {
        if self.recovery.len() >= MAX_TRACKED_FAILURES && !self.recovery.contains_key(from) {
            // Bounded: forget the entry with the oldest reset (or any).
            let victim =
                self.recovery.iter().min_by_key(|(_, r)| r.last_reset).map(|(a, _)| a.clone());
            if let Some(victim) = victim {
                self.recovery.remove(&victim);
            }
        }
        let state = self.recovery.entry(from.clone()).or_default();
        state.failures = state.failures.saturating_add(1);
        let has_session =
            peer.installations.get(&from.installation).is_some_and(|i| !i.sessions.is_empty());
        let threshold = match reason {
            UndecryptableReason::NoSession | UndecryptableReason::Decrypt(_) if !has_session => 1,
            _ => self.config.failures_before_reset,
        };
        let rate_ok = state
            .last_reset
            .is_none_or(|at| now.saturating_since(at) >= self.config.min_reset_interval_ms);
        if state.failures < threshold || !rate_ok {
            return None;
        }
        let identity_dh = peer.identity_dh?;
        let inst = peer.installations.get_mut(&from.installation)?;
        let party =
            Party { identity: from.identity, identity_dh, installation: &from.installation };
        let request = wire::SessionResetRequest {
            installation_id: self.account.installation_id().as_str().to_owned(),
            timestamp: now.as_millis(),
        };
        let envelope =
            self.encrypt_to(inst, &party, &request.encode_to_vec(), FLAG_RESET, rng, now).ok()?;
        let state = self.recovery.entry(from.clone()).or_default();
        state.failures = 0;
        state.last_reset = Some(now);
        Some(self.build(BTreeMap::from([(from.installation.clone(), envelope)])))
    }

    /// The negotiated secret with `peer` (kaiwa-transport's `TopicScheme::negotiated` names the
    /// topic), once agreed: some installation of the
    /// peer advertises protocol version 1 or higher and a session with it has been answered
    /// in both directions (54/WAKU2-X3DH-SESSIONS §"Negotiated topic"). `None` before.
    ///
    /// # Errors
    /// Store or record failures.
    pub fn negotiated_secret<S: SessionStore>(
        &self,
        store: &S,
        peer: &IdentityPublicKey,
    ) -> Result<Option<NegotiatedSecret>, ReceiveError<S::Error>> {
        // Reads the record's summary, not its sessions (peer.rs); the X25519 behind the secret
        // is computed only once the topic is agreed.
        let Some(summary) = Self::summary(store, peer)? else { return Ok(None) };
        let Some(identity_dh) = summary.identity_dh else { return Ok(None) };
        if !summary.installations.iter().any(|inst| inst.agreed) {
            return Ok(None);
        }
        Ok(negotiated_secret(self.account.identity_dh(), &identity_dh).ok())
    }

    /// The active session with one installation of `peer`, restored from the store (for
    /// inspection; changes to it are not written back).
    ///
    /// # Errors
    /// Store or record failures.
    pub fn session<S: SessionStore>(
        &self,
        store: &S,
        peer: &PeerAddress,
    ) -> Result<Option<Session>, ReceiveError<S::Error>> {
        let Some(mut record) = self.load(store, &peer.identity)? else { return Ok(None) };
        Ok(record
            .installations
            .remove(&peer.installation)
            .and_then(|mut inst| (!inst.sessions.is_empty()).then(|| inst.sessions.remove(0))))
    }

    /// The installations of `peer` we know, in id order.
    ///
    /// Restores the whole record, so success also says that every session in it loads (a
    /// load without curve arithmetic: record.rs). To ask only whether any installation is
    /// known, [`has_installations`](Self::has_installations) is cheaper.
    ///
    /// # Errors
    /// Store or record failures.
    pub fn installations<S: SessionStore>(
        &self,
        store: &S,
        peer: &IdentityPublicKey,
    ) -> Result<Vec<InstallationId>, ReceiveError<S::Error>> {
        Ok(self
            .load(store, peer)?
            .map(|p| p.installations.into_keys().collect())
            .unwrap_or_default())
    }

    /// Whether we know at least one installation of `peer`, that is, whether we hold its
    /// bundle and can start sessions with it. Whenever
    /// [`installations`](Self::installations) succeeds, this answers
    /// `!installations(..).is_empty()`.
    ///
    /// A lookup: it reads the record's installation list and restores no session (peer.rs,
    /// "summary"), so it does not vouch for the sessions; a record whose sessions are
    /// corrupt is reported by the next operation that restores them.
    ///
    /// # Errors
    /// Store failures; [`RecordError`] if the record is of another version or peer, or its
    /// installation list is malformed.
    pub fn has_installations<S: SessionStore>(
        &self,
        store: &S,
        peer: &IdentityPublicKey,
    ) -> Result<bool, ReceiveError<S::Error>> {
        Ok(Self::summary(store, peer)?.is_some_and(|p| !p.installations.is_empty()))
    }
}

/// Why an envelope for us was not opened.
enum OpenError {
    /// It did not decrypt: [`Received::Undecryptable`], which may count towards recovery.
    Undecryptable(UndecryptableReason),
    /// It decrypted, but its frame is invalid: refused as malformed, nothing changes.
    Refused(DecodeError),
}

impl From<UndecryptableReason> for OpenError {
    fn from(reason: UndecryptableReason) -> Self {
        Self::Undecryptable(reason)
    }
}

/// Encrypting to one installation failed.
enum EncryptToError {
    Creation(SessionCreationError),
    Encrypt(crate::error::EncryptError),
    NoSession,
}

impl From<SessionCreationError> for EncryptToError {
    fn from(err: SessionCreationError) -> Self {
        Self::Creation(err)
    }
}

impl From<crate::error::EncryptError> for EncryptToError {
    fn from(err: crate::error::EncryptError) -> Self {
        Self::Encrypt(err)
    }
}

impl<E: std::error::Error + 'static> From<EncryptToError> for SendError<E> {
    fn from(err: EncryptToError) -> Self {
        match err {
            EncryptToError::Creation(err) => Self::SessionCreation(err),
            EncryptToError::Encrypt(err) => Self::Encrypt(err),
            EncryptToError::NoSession => Self::NoBundle,
        }
    }
}

/// Loading a peer failed.
enum LoadError<E> {
    Record(RecordError),
    Store(E),
}

impl<E> From<RecordError> for LoadError<E> {
    fn from(err: RecordError) -> Self {
        Self::Record(err)
    }
}

impl<E> From<DecodeError> for LoadError<E> {
    fn from(err: DecodeError) -> Self {
        Self::Record(err.into())
    }
}

impl<E: std::error::Error + 'static> From<LoadError<E>> for SendError<E> {
    fn from(err: LoadError<E>) -> Self {
        match err {
            LoadError::Record(err) => Self::Record(err),
            LoadError::Store(err) => Self::Store(err),
        }
    }
}

impl<E: std::error::Error + 'static> From<LoadError<E>> for ReceiveError<E> {
    fn from(err: LoadError<E>) -> Self {
        match err {
            LoadError::Record(err) => Self::Record(err),
            LoadError::Store(err) => Self::Store(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> InstallationId {
        InstallationId::new("me").unwrap()
    }

    /// A manager and its store.
    struct Side {
        manager: SessionManager,
        store: crate::store::InMemorySessionStore,
    }

    impl Side {
        fn new(id: &str, seed: u64) -> Self {
            use rand_chacha::ChaCha20Rng;
            use rand_chacha::rand_core::SeedableRng;

            let now = Timestamp::from_millis(1_700_000_000_000);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let account = Account::generate(InstallationId::new(id).unwrap(), &mut rng, now);
            let manager = SessionManager::new(account, SessionConfig::default(), now);
            Self { manager, store: crate::store::InMemorySessionStore::new() }
        }

        fn identity(&self) -> IdentityPublicKey {
            self.manager.account().identity_key()
        }

        fn send(&mut self, to: &mut Self, rng: &mut impl CryptoRng) {
            let now = Timestamp::from_millis(1_700_000_000_000);
            let out = self.manager.encrypt(&mut self.store, &to.identity(), b"x", rng, now);
            let received = to.manager.receive(&mut to.store, out.unwrap().as_bytes(), rng, now);
            assert!(matches!(received, Ok(Received::Message { .. })), "{received:?}");
        }

        /// The record of `peer`, its summary read alone and read from the full load
        /// (which must agree), and what the public queries answer.
        fn summary(&self, peer: &IdentityPublicKey) -> PeerSummary {
            use crate::store::SessionStore as _;

            let record = self.store.load_peer(peer).unwrap().unwrap();
            let full = Peer::from_record(&record, peer, &self.identity()).unwrap();
            let summary = PeerSummary::from_record(&record, peer).unwrap();
            assert_eq!(summary, PeerSummary::of(&full));
            let ids: Vec<InstallationId> = full.installations.keys().cloned().collect();
            assert_eq!(self.manager.installations(&self.store, peer).unwrap(), ids);
            assert_eq!(self.manager.has_installations(&self.store, peer).unwrap(), !ids.is_empty());
            let agreed = summary.installations.iter().any(|inst| inst.agreed);
            assert_eq!(
                self.manager.negotiated_secret(&self.store, peer).unwrap().is_some(),
                agreed
            );
            summary
        }
    }

    #[test]
    fn a_summary_reads_what_a_full_load_reads_at_every_stage() {
        use rand_chacha::ChaCha20Rng;
        use rand_chacha::rand_core::SeedableRng;

        let mut rng = ChaCha20Rng::seed_from_u64(90);
        let (mut alice, mut bob) = (Side::new("alice-1", 91), Side::new("bob-1", 92));
        let (a_id, b_id) = (alice.identity(), bob.identity());
        let agreed = |s: &PeerSummary| s.installations.iter().map(|i| i.agreed).collect::<Vec<_>>();
        assert!(!alice.manager.has_installations(&alice.store, &b_id).unwrap());
        assert_eq!(alice.manager.installations(&alice.store, &b_id).unwrap(), []);

        let bundle = bob.manager.bundle().clone();
        alice.manager.process_bundle(&mut alice.store, &bundle).unwrap();
        assert_eq!(agreed(&alice.summary(&b_id)), [false], "a bundle, no session");
        alice.send(&mut bob, &mut rng);
        assert_eq!(agreed(&alice.summary(&b_id)), [false], "awaiting a reply");
        assert_eq!(agreed(&bob.summary(&a_id)), [true], "answered and received");
        bob.send(&mut alice, &mut rng);
        assert_eq!(agreed(&alice.summary(&b_id)), [true]);
        for _ in 0..2 {
            alice.send(&mut bob, &mut rng);
            bob.send(&mut alice, &mut rng);
        }
        assert_eq!(agreed(&alice.summary(&b_id)), [true]);
        assert_eq!(agreed(&bob.summary(&a_id)), [true]);
    }

    #[test]
    fn a_summary_checks_the_installation_list_but_not_the_sessions() {
        use rand_chacha::ChaCha20Rng;
        use rand_chacha::rand_core::SeedableRng;

        use crate::record::PeerRecordProto;
        use crate::store::{PeerRecord, SessionStore as _};

        let mut rng = ChaCha20Rng::seed_from_u64(93);
        let (mut alice, mut bob) = (Side::new("alice-1", 94), Side::new("bob-1", 95));
        let (a_id, b_id) = (alice.identity(), bob.identity());
        let bundle = bob.manager.bundle().clone();
        alice.manager.process_bundle(&mut alice.store, &bundle).unwrap();
        alice.send(&mut bob, &mut rng);
        let record = alice.store.load_peer(&b_id).unwrap().unwrap();
        let proto = PeerRecordProto::decode(record.as_bytes()).unwrap();
        let both = |proto: &PeerRecordProto| {
            let record = PeerRecord::from_bytes(proto.encode_to_vec());
            (
                PeerSummary::from_record(&record, &b_id).err(),
                Peer::from_record(&record, &b_id, &a_id).err(),
            )
        };

        let mut version = proto.clone();
        version.version = 2;
        let refused = RecordError::Decode(DecodeError::Version { got: 2 });
        assert_eq!(both(&version), (Some(refused.clone()), Some(refused)));
        let mut other = proto.clone();
        other.identity = a_id.as_bytes().to_vec();
        assert_eq!(both(&other), (Some(RecordError::Mismatch), Some(RecordError::Mismatch)));
        let mut bad_id = proto.clone();
        bad_id.installations[0].installation_id = String::new();
        let (summary, full) = both(&bad_id);
        assert!(matches!(summary, Some(RecordError::Decode(DecodeError::InstallationId(_)))));
        assert_eq!(summary, full);
        let mut twice = proto.clone();
        twice.installations.push(proto.installations[0].clone());
        let refused =
            RecordError::Decode(DecodeError::Order { field: "installations.installation_id" });
        assert_eq!(both(&twice), (Some(refused.clone()), Some(refused)));

        // A session whose root key is cut short: the summary still lists the installation
        // (it does not vouch for sessions); restoring the sessions reports it.
        let mut corrupt = proto.clone();
        corrupt.installations[0].sessions[0].root_key.pop();
        let root = RecordError::Decode(DecodeError::Length {
            field: "root_key",
            expected: 32,
            actual: 31,
        });
        assert_eq!(both(&corrupt), (None, Some(root.clone())));
        alice.store.store_peer(&b_id, &PeerRecord::from_bytes(corrupt.encode_to_vec())).unwrap();
        assert!(alice.manager.has_installations(&alice.store, &b_id).unwrap());
        assert_eq!(alice.manager.negotiated_secret(&alice.store, &b_id), Ok(None));
        let listed = alice.manager.installations(&alice.store, &b_id);
        assert_eq!(listed.err(), Some(ReceiveError::Record(root.clone())));
        let now = Timestamp::from_millis(1_700_000_000_000);
        let sent = alice.manager.encrypt(&mut alice.store, &b_id, b"x", &mut rng, now);
        assert_eq!(sent.err(), Some(SendError::Record(root)));
    }

    #[test]
    fn frames() {
        assert_eq!(parse_frame(&[0, 1, 2]), Ok((0, &[1u8, 2][..])));
        assert_eq!(parse_frame(&[FLAG_REPLACES]), Ok((FLAG_REPLACES, &[][..])));
        assert_eq!(parse_frame(&[]), Err(DecodeError::Missing { field: "frame" }));
        assert_eq!(parse_frame(&[0x04]), Err(DecodeError::Invalid { field: "frame.flags" }));
        let request = wire::SessionResetRequest { installation_id: "a".into(), timestamp: 5 };
        let mut reset = vec![FLAG_RESET | FLAG_REPLACES];
        reset.extend(request.encode_to_vec());
        assert!(parse_frame(&reset).is_ok());
        let bad = wire::SessionResetRequest { installation_id: String::new(), timestamp: 5 };
        let mut reset = vec![FLAG_RESET];
        reset.extend(bad.encode_to_vec());
        assert!(matches!(parse_frame(&reset), Err(DecodeError::InstallationId(_))));
        assert_eq!(&*frame(FLAG_REPLACES, b"x"), &[FLAG_REPLACES, b'x']);
    }

    #[test]
    fn incoming_bounds() {
        let base = wire::ProtocolMessage {
            installation_id: "peer".into(),
            sender_identity: vec![0; 32],
            ..Default::default()
        };
        let mut m = base.clone();
        m.public_message = vec![1];
        assert!(matches!(
            decode_incoming(&m.encode_to_vec(), &ours()),
            Err(DecodeError::Invalid { field: "public_message" })
        ));
        let mut m = base.clone();
        m.bundles = vec![wire::Bundle::default(); MAX_BUNDLES_PER_MESSAGE + 1];
        assert!(matches!(
            decode_incoming(&m.encode_to_vec(), &ours()),
            Err(DecodeError::TooMany { what: "bundles", .. })
        ));
        let mut m = base.clone();
        for i in 0..=MAX_ENVELOPES_PER_MESSAGE {
            m.encrypted_message.insert(format!("i{i}"), wire::EncryptedMessageProtocol::default());
        }
        assert!(matches!(
            decode_incoming(&m.encode_to_vec(), &ours()),
            Err(DecodeError::TooMany { what: "encrypted_message", .. })
        ));
        // The all-zero identity is a small-order point: not an identity.
        assert!(matches!(
            decode_incoming(&base.encode_to_vec(), &ours()),
            Err(DecodeError::Invalid { field: "sender_identity" })
        ));
        // An attached bundle with the sender's encoded identity takes the key decoded for the
        // sender; any other encoding is decoded strictly on its own.
        use rand_chacha::rand_core::SeedableRng as _;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(96);
        let now = Timestamp::from_millis(1_700_000_000_000);
        let account = Account::generate(InstallationId::new("them").unwrap(), &mut rng, now);
        let sender = account.identity_key();
        let advert = SessionManager::new(account, SessionConfig::default(), now).bundle_message();
        let mut m = wire::ProtocolMessage::decode(advert.as_bytes()).unwrap();
        let incoming = decode_incoming(&m.encode_to_vec(), &ours()).unwrap();
        assert_eq!(incoming.from.identity, sender);
        assert_eq!(incoming.bundles[0].identity(), sender);
        m.bundles[0].identity = vec![0; 32];
        assert!(matches!(
            decode_incoming(&m.encode_to_vec(), &ours()),
            Err(DecodeError::Invalid { field: "identity" })
        ));
        let big = vec![0u8; MAX_MESSAGE_LEN + 1];
        assert!(matches!(decode_incoming(&big, &ours()), Err(DecodeError::TooLong { .. })));
    }

    /// Every committed seed of the session fuzz targets (`fuzz/src/session.rs`; vodozemac's
    /// `run_corpus`), through the same decoders. `session_receive` seeds run against the
    /// harness's established pair, rebuilt here: each account from its own generator
    /// (`SESSION_SEED ^ n`), each store from the committed `session_record` seeds. A frame is
    /// `receiver (1: bob if even) ‖ delay_s (1) ‖ len (2, little-endian) ‖ ProtocolMessage`. An
    /// error leaves the store as it was, an undecryptable message changes it only as its
    /// attached bundles alone do, and a decrypted message is a duplicate the second time.
    #[test]
    fn fuzz_seed_corpus_never_panics() {
        use rand_chacha::ChaCha20Rng;
        use rand_chacha::rand_core::SeedableRng;

        use crate::contact_code::decode_contact_code;
        use crate::store::{
            AccountRecord, InMemorySessionStore, PeerRecord, SessionRecord, SignedPreKeyRecord,
        };

        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let seeds = |target: &str| -> Vec<(String, Vec<u8>)> {
            let dir = std::fs::read_dir(corpus.join(target)).expect("seed corpus is committed");
            let mut seeds: Vec<_> = dir
                .map(|e| {
                    let path = e.unwrap().path();
                    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                    (name, std::fs::read(path).unwrap())
                })
                .collect();
            assert!(!seeds.is_empty(), "{target} has seeds");
            seeds.sort();
            seeds
        };
        let now = Timestamp::from_millis(1_700_000_000_000);
        for (_, data) in seeds("session_envelope") {
            if let Ok(envelope) = Envelope::decode(&data) {
                assert_eq!(Envelope::decode(&envelope.encode()), Ok(envelope));
            }
        }
        for (_, data) in seeds("session_bundle") {
            if let Ok(bundle) = Bundle::decode(&data) {
                let _ = bundle.verify(now, MAX_INSTALLATIONS);
            }
        }
        for (_, data) in seeds("session_contact_code") {
            if let Ok(text) = core::str::from_utf8(&data) {
                let _ = decode_contact_code(text, now, MAX_INSTALLATIONS);
            }
        }

        // The harness's pair (fuzz/src/session.rs module doc).
        const SESSION_SEED: u64 = 0x6b61_6977_6173_6573;
        let account = |id: &str, n: u64| {
            let mut rng = ChaCha20Rng::seed_from_u64(SESSION_SEED ^ n);
            Account::generate(InstallationId::new(id).unwrap(), &mut rng, now)
        };
        let (bob_id, alice_id) =
            (account("bob-laptop", 1).identity_key(), account("alice-phone", 2).identity_key());
        let records = seeds("session_record");
        let record = |name: &str| {
            let (_, bytes) = records.iter().find(|(n, _)| n == name).expect("committed");
            PeerRecord::from_bytes(bytes.clone())
        };
        for (_, data) in &records {
            let _ = Session::from_record(&SessionRecord::from_bytes(data.clone()));
            let _ = Peer::from_record(&PeerRecord::from_bytes(data.clone()), &alice_id, &bob_id);
            let _ = PeerSummary::from_record(&PeerRecord::from_bytes(data.clone()), &alice_id);
            let pre_key = [SignedPreKeyRecord::from_bytes(data.clone())];
            let _ = Account::from_records(&AccountRecord::from_bytes(data.clone()), &pre_key);
        }

        let watched = |store: &InMemorySessionStore| {
            let load = |id: &IdentityPublicKey| store.load_peer(id).unwrap();
            (store.len(), load(&bob_id), load(&alice_id))
        };
        let mut decrypted = Vec::new();
        for (name, data) in seeds("session_receive") {
            let party = |id: &str, n: u64, peer: &IdentityPublicKey, record: PeerRecord| {
                let manager = SessionManager::new(account(id, n), SessionConfig::default(), now);
                let mut store = InMemorySessionStore::new();
                store.store_peer(peer, &record).unwrap();
                (manager, store)
            };
            let mut parties = [
                party("bob-laptop", 1, &alice_id, record("bob-peer-alice")),
                party("alice-phone", 2, &bob_id, record("alice-peer-bob")),
            ];
            let mut rng = ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 0xff);
            let (mut rest, mut now_ms) = (data.as_slice(), now.as_millis());
            while let Some(([to, delay_s, len_lo, len_hi], tail)) = rest.split_first_chunk::<4>() {
                let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi])).min(tail.len());
                let (bytes, next) = tail.split_at(len);
                rest = next;
                now_ms += u64::from(*delay_s) * 1_000;
                let at = Timestamp::from_millis(now_ms);
                let (manager, store) = &mut parties[usize::from(*to) % 2];
                let before = store.clone();
                match manager.receive(store, bytes, &mut rng, at) {
                    Err(_) => assert_eq!(watched(store), watched(&before), "{name}"),
                    Ok(Received::Undecryptable { recovery: None, .. }) => {
                        let mut stripped = wire::ProtocolMessage::decode(bytes).unwrap();
                        stripped
                            .encrypted_message
                            .remove(manager.account().installation_id().as_str());
                        let mut control = before;
                        let outcome =
                            manager.receive(&mut control, &stripped.encode_to_vec(), &mut rng, at);
                        assert_eq!(outcome, Ok(Received::NotForUs), "{name}");
                        assert_eq!(watched(store), watched(&control), "{name}");
                    }
                    Ok(Received::Message { from, plaintext }) => {
                        decrypted.push((name.clone(), plaintext.to_vec()));
                        let again = manager.receive(store, bytes, &mut rng, at);
                        assert_eq!(again, Ok(Received::Duplicate { from }), "{name}");
                    }
                    Ok(_) => {}
                }
            }
        }
        // The pair is rebuilt exactly: the harness's seeds decrypt here.
        assert!(decrypted.contains(&("alice-message".to_owned(), b"a0".to_vec())));
        assert!(decrypted.contains(&("bob-message".to_owned(), b"b0".to_vec())));
    }
}
