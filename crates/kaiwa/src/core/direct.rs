//! 1:1 chats: contacts, bundles, sending, and receiving `ProtocolMessage`s.
//!
//! ```text
//! receive(ProtocolMessage)                                         (kaiwa-session)
//!   Message{from, plaintext}  → contact row if new (bundle from the message), listen on the
//!                               negotiated topic, note new installations
//!                             → envelope (author = from) → CHAT_MESSAGE | EMOJI_REACTION → history
//!                                                       → MEMBERSHIP_UPDATE_MESSAGE → groups
//!                                                       → ORGANIZATION_INVITATION → organizations
//!   SessionReset{from}        → Event::KeyChange(SessionReset)
//!   NotForUs                  → a contact wrote to an installation list without us: reply with
//!                               a bundle-only message (54), at most once a minute per contact,
//!                               never to a bundle-only message (no ping-pong)
//!   Undecryptable{recovery}   → publish the recovery handshake on the peer's partitioned topic
//! send(peer, content)         → clock max(now, last + 1) → ChatMessage → envelope →
//!                               SessionManager::encrypt (one envelope per installation) →
//!                               history (Pending) + outbox, one transaction
//! ```

use std::collections::BTreeSet;

use kaiwa_crypto::IdentityPublicKey;
use kaiwa_session::{
    Bundle, PeerAddress, ReceiveError, Received, VerifiedBundle, decode_contact_code,
    limits::MAX_INSTALLATIONS,
};
use kaiwa_store::{ChatId, Contact, PublicId, Transaction};
use kaiwa_transport::{ContentTopic, ReceivedMessage};
use kaiwa_wire::net as wire;
use prost::Message as _;
use wire::application_metadata_message::Type;

use super::{Effects, Engine, identity_key, public_id};
use crate::content::{self, ChatText, Content, Message};
use crate::environment::Now;
use crate::error::Error;
use crate::event::{Event, KeyChangeKind};
use crate::limits::MAX_TRACKED_PEERS;
use crate::net::Route;

/// Minimum time between two bundle replies to one contact (the session layer's own reset
/// interval, 60 s).
const BUNDLE_REPLY_INTERVAL_MS: u64 = 60_000;

/// The sender's own bundle among the bundles attached to a `ProtocolMessage`, verified.
fn attached_bundle(bytes: &[u8], sender: &IdentityPublicKey, now: Now) -> Option<VerifiedBundle> {
    let message = wire::ProtocolMessage::decode(bytes).ok()?;
    message
        .bundles
        .into_iter()
        .filter_map(|b| Bundle::try_from(b).ok())
        .filter(|b| b.identity() == *sender)
        .find_map(|b| b.verify(now.session(), MAX_INSTALLATIONS).ok())
}

impl Engine {
    /// The topic we listen on for a contact, from the bundle kept with it.
    pub(super) fn listen_topic(&self, contact: &Contact) -> Option<ContentTopic> {
        let bundle = Bundle::decode(contact.bundle.as_deref()?).ok()?;
        let now = Now::of(&*self.clock);
        let bundle = bundle.verify(now.session(), MAX_INSTALLATIONS).ok()?;
        self.negotiated_topic(&bundle.identity_dh())
    }

    pub(super) fn on_direct(
        &mut self,
        tx: &mut Transaction<'_>,
        message: &ReceivedMessage,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let bytes = message.message.payload();
        let received = match self.manager.receive(&mut *tx, bytes, &mut *self.rng, now.session()) {
            Ok(received) => received,
            Err(ReceiveError::Store(error)) => return Err(error.into()),
            Err(error) => {
                tracing::debug!(%error, "not a 1:1 message");
                return Ok(());
            }
        };
        match received {
            Received::Message { from, plaintext } => {
                self.learn_sender(tx, &from, bytes, now, fx)?;
                self.on_plaintext(tx, &from.identity, &plaintext, now, fx)?;
            }
            Received::SessionReset { from } => {
                self.learn_sender(tx, &from, bytes, now, fx)?;
                fx.events.push(Event::KeyChange {
                    peer: public_id(&from.identity),
                    kind: KeyChangeKind::SessionReset,
                });
            }
            Received::NotForUs => self.reply_with_bundle(tx, bytes, now, fx)?,
            Received::Undecryptable { from, reason, recovery } => {
                tracing::debug!(?reason, "undecryptable 1:1 message");
                if let Some(recovery) = recovery {
                    let topic =
                        self.scheme().partitioned(&Self::account_key(&public_id(&from.identity)));
                    self.enqueue(tx, &topic, recovery.into_bytes(), None, now, fx)?;
                }
            }
            Received::Duplicate { .. } => {}
            _ => tracing::debug!("unknown session outcome"),
        }
        Ok(())
    }

    /// Makes the sender a contact (with the bundle its message carried) if it is not one,
    /// listens on our negotiated topic with it, and notices installations we did not know.
    fn learn_sender(
        &mut self,
        tx: &mut Transaction<'_>,
        from: &PeerAddress,
        bytes: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let peer = public_id(&from.identity);
        if peer == self.me {
            return Ok(());
        }
        let contact =
            if self.memo().bundled.contains(&peer) { None } else { Some(tx.contact(&peer)?) };
        if let Some(contact) = contact {
            if contact.as_ref().is_some_and(|c| c.bundle.is_some()) {
                self.remember_bundled(peer);
            } else {
                self.learn_contact(tx, peer, contact, &from.identity, bytes, now, fx)?;
            }
        }
        let known = match self.installations.get(&peer) {
            Some(known) => known.clone(),
            None => {
                let known: BTreeSet<_> =
                    self.manager.installations(&*tx, &from.identity)?.into_iter().collect();
                self.remember_installations(peer, known.clone());
                known
            }
        };
        if !known.contains(&from.installation) {
            let now_known: BTreeSet<_> =
                self.manager.installations(&*tx, &from.identity)?.into_iter().collect();
            if !known.is_empty() && !now_known.is_subset(&known) {
                fx.events.push(Event::KeyChange { peer, kind: KeyChangeKind::NewInstallation });
            }
            self.remember_installations(peer, now_known);
        }
        Ok(())
    }

    /// Makes `peer` a contact, or gives its contact row the bundle its message carried.
    #[allow(clippy::too_many_arguments, reason = "one step of learn_sender, split for reading")]
    fn learn_contact(
        &mut self,
        tx: &mut Transaction<'_>,
        peer: PublicId,
        contact: Option<Contact>,
        identity: &IdentityPublicKey,
        bytes: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let bundle = attached_bundle(bytes, identity, now);
        let contact = Contact {
            id: peer,
            display_name: contact.as_ref().map(|c| c.display_name.clone()).unwrap_or_default(),
            verified: contact.as_ref().is_some_and(|c| c.verified),
            bundle: bundle.as_ref().map(VerifiedBundle::encode),
            added_at: contact.map_or(now.session(), |c| c.added_at),
        };
        tx.upsert_contact(&contact)?;
        if let Some(topic) = bundle.and_then(|b| self.negotiated_topic(&b.identity_dh())) {
            fx.subscribe(topic, Route::Direct, false);
        }
        fx.fetch_bundles.insert(peer);
        Ok(())
    }

    fn remember_installations(
        &mut self,
        peer: PublicId,
        known: BTreeSet<kaiwa_session::InstallationId>,
    ) {
        if self.installations.len() >= MAX_TRACKED_PEERS && !self.installations.contains_key(&peer)
        {
            self.installations.pop_first();
        }
        self.installations.insert(peer, known);
    }

    fn on_plaintext(
        &mut self,
        tx: &mut Transaction<'_>,
        from: &IdentityPublicKey,
        plaintext: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let (kind, payload) = match content::decode_envelope(plaintext, from) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::debug!(?error, "refused 1:1 envelope");
                return Ok(());
            }
        };
        let peer = public_id(from);
        let chat = ChatId::Direct(peer);
        let our_chat_id = self.me.to_string();
        let one_to_one = wire::MessageType::OneToOne;
        match kind {
            Type::ChatMessage => {
                match content::parse_chat_message(&payload, &our_chat_id, one_to_one, now.ms) {
                    Ok(text) => self.insert_received(tx, chat, peer, text, now, fx)?,
                    Err(error) => tracing::debug!(?error, "refused 1:1 chat message"),
                }
            }
            Type::EmojiReaction => {
                match content::parse_reaction(&payload, &our_chat_id, one_to_one, now.ms) {
                    Ok(text) => self.insert_received(tx, chat, peer, text, now, fx)?,
                    Err(error) => tracing::debug!(?error, "refused 1:1 reaction"),
                }
            }
            Type::MembershipUpdateMessage => self.on_group_message(tx, from, &payload, now, fx)?,
            Type::OrganizationInvitation => self.on_invitation(tx, &payload, now, fx)?,
            other => tracing::debug!(kind = other as i32, "unexpected 1:1 payload type"),
        }
        Ok(())
    }

    /// Answers a contact's message that has envelopes, none of them for us, with our bundle
    /// (54/WAKU2-X3DH-SESSIONS: the sender does not know this installation yet).
    fn reply_with_bundle(
        &mut self,
        tx: &mut Transaction<'_>,
        bytes: &[u8],
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let Ok(message) = wire::ProtocolMessage::decode(bytes) else { return Ok(()) };
        if message.encrypted_message.is_empty() {
            return Ok(());
        }
        let Ok(sender) = IdentityPublicKey::try_from(message.sender_identity.as_slice()) else {
            return Ok(());
        };
        let peer = public_id(&sender);
        if peer == self.me || tx.contact(&peer)?.is_none() {
            return Ok(());
        }
        let recent = self
            .bundle_replies
            .get(&peer)
            .is_some_and(|at| now.ms.saturating_sub(*at) < BUNDLE_REPLY_INTERVAL_MS);
        if recent {
            return Ok(());
        }
        if self.bundle_replies.len() >= MAX_TRACKED_PEERS
            && !self.bundle_replies.contains_key(&peer)
        {
            self.bundle_replies.pop_first();
        }
        self.bundle_replies.insert(peer, now.ms);
        let topic = self.direct_topic(tx, &sender)?;
        self.enqueue(tx, &topic, self.manager.bundle_message().into_bytes(), None, now, fx)?;
        Ok(())
    }

    /// Adds (or updates) a contact from its contact code, which verifies its identity.
    pub(crate) fn add_contact_code(
        &mut self,
        tx: &mut Transaction<'_>,
        code: &str,
        display_name: &str,
        now: Now,
        fx: &mut Effects,
    ) -> Result<PublicId, Error> {
        let bundle =
            decode_contact_code(code, now.session(), self.config.session.max_installations)?;
        let peer = public_id(&bundle.identity());
        if peer == self.me {
            return Err(Error::InvalidId { field: "contact code (it is our own)" });
        }
        self.manager.process_bundle(&mut *tx, &bundle)?;
        self.direct_topics.remove(&peer);
        let added_at = tx.contact(&peer)?.map_or(now.session(), |c| c.added_at);
        tx.upsert_contact(&Contact {
            id: peer,
            display_name: display_name.to_owned(),
            verified: true,
            bundle: Some(bundle.encode()),
            added_at,
        })?;
        if let Some(topic) = self.negotiated_topic(&bundle.identity_dh()) {
            fx.subscribe(topic, Route::Direct, false);
        }
        fx.fetch_bundles.insert(peer);
        Ok(peer)
    }

    /// Takes bundles read from `peer`'s contact-code topic: those that verify and are the
    /// peer's are merged (oldest first); the contact keeps the newest. With `display_name`,
    /// the peer becomes a contact if it is not one. Returns whether any bundle was usable.
    pub(crate) fn take_bundles(
        &mut self,
        tx: &mut Transaction<'_>,
        peer: &PublicId,
        payloads: &[Vec<u8>],
        display_name: Option<&str>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<bool, Error> {
        let key = identity_key(peer)?;
        let max = self.config.session.max_installations;
        let mut bundles: Vec<VerifiedBundle> = payloads
            .iter()
            .filter_map(|p| Bundle::decode(p).ok())
            .filter(|b| b.identity() == key)
            .filter_map(|b| b.verify(now.session(), max).ok())
            .collect();
        bundles.sort_by_key(VerifiedBundle::timestamp);
        let Some(newest) = bundles.last() else { return Ok(false) };
        let before: BTreeSet<_> = self.manager.installations(&*tx, &key)?.into_iter().collect();
        for bundle in &bundles {
            self.manager.process_bundle(&mut *tx, bundle)?;
        }
        self.direct_topics.remove(peer);
        let after: BTreeSet<_> = self.manager.installations(&*tx, &key)?.into_iter().collect();
        if !before.is_empty() && !after.is_subset(&before) {
            fx.events.push(Event::KeyChange { peer: *peer, kind: KeyChangeKind::NewInstallation });
        }
        self.remember_installations(*peer, after);
        let existing = tx.contact(peer)?;
        if existing.is_some() || display_name.is_some() {
            let contact = Contact {
                id: *peer,
                display_name: display_name
                    .map(str::to_owned)
                    .or_else(|| existing.as_ref().map(|c| c.display_name.clone()))
                    .unwrap_or_default(),
                verified: existing.as_ref().is_some_and(|c| c.verified),
                bundle: Some(newest.encode()),
                added_at: existing.map_or(now.session(), |c| c.added_at),
            };
            tx.upsert_contact(&contact)?;
            if let Some(topic) = self.negotiated_topic(&newest.identity_dh()) {
                fx.subscribe(topic, Route::Direct, false);
            }
        }
        Ok(true)
    }

    /// Whether we hold a bundle (and so can start sessions) for `peer`.
    pub(crate) fn has_bundle(
        &self,
        store: &impl kaiwa_session::SessionStore<Error = kaiwa_store::StoreError>,
        peer: &PublicId,
    ) -> Result<bool, Error> {
        let key = self.peer_key(peer)?;
        Ok(self.manager.has_installations(store, &key)?)
    }

    /// Encrypts an envelope `(type, payload)` to every installation of `peer` and queues it.
    pub(super) fn send_envelope(
        &mut self,
        tx: &mut Transaction<'_>,
        peer: &IdentityPublicKey,
        (kind, payload): (Type, Vec<u8>),
        history: Option<kaiwa_store::MessageId>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let envelope =
            content::encode_envelope(kind, payload, &self.manager.account().identity_key());
        let outgoing =
            self.manager.encrypt(&mut *tx, peer, &envelope, &mut *self.rng, now.session())?;
        let topic = self.direct_topic(tx, peer)?;
        self.enqueue(tx, &topic, outgoing.into_bytes(), history, now, fx)?;
        Ok(())
    }

    /// Sends a text, emoji or reaction to a contact.
    pub(crate) fn send_direct(
        &mut self,
        tx: &mut Transaction<'_>,
        peer: &PublicId,
        content: Content,
        now: Now,
        fx: &mut Effects,
    ) -> Result<Message, Error> {
        if !tx.is_contact(peer)? {
            return Err(Error::UnknownContact);
        }
        let key = self.peer_key(peer)?;
        let chat = ChatId::Direct(*peer);
        let clock = self.next_clock(tx, &chat, now)?;
        let peer_text = peer.to_string();
        let one_to_one = wire::MessageType::OneToOne;
        let (kind, payload) = match &content {
            Content::Reaction { to, kind, retracted } => (
                Type::EmojiReaction,
                content::reaction_message(clock, &peer_text, one_to_one, to, *kind, *retracted),
            ),
            other => (
                Type::ChatMessage,
                content::chat_message(clock, now.ms, &peer_text, one_to_one, other)?,
            ),
        };
        let text = ChatText { clock, timestamp_ms: now.ms, content };
        let message = self.insert_outgoing(tx, &chat, &text, now)?;
        self.send_envelope(tx, &key, (kind, payload), Some(message.id), now, fx)?;
        Ok(message)
    }
}
