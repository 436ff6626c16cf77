//! The API that [`Store`](crate::Store) and [`Transaction`](crate::Transaction) share: every
//! store trait, the listings of protocol state, and every read and write of the product and
//! client-state tables. One macro writes both, so
//! the two cannot drift apart; each method body is one call into the table modules.

/// Implements the shared API for `$ty`, which has `fn conn(&self) -> &rusqlite::Connection`.
macro_rules! shared_api {
    ($ty:ty) => {
        impl $ty {
            /// The schema version of the database ([`SCHEMA_VERSION`](crate::SCHEMA_VERSION)
            /// once opened).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite) if SQLite fails, or
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) if the version is not one
            /// this build knows.
            pub fn schema_version(&self) -> Result<u32, crate::StoreError> {
                crate::schema::stored_version(self.conn())
            }

            // ----- processed messages -----

            /// Whether the WakuMessage with this key was processed.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn is_processed(
                &self,
                key: &crate::ProcessedKey,
            ) -> Result<bool, crate::StoreError> {
                crate::processed::is_processed(self.conn(), key)
            }

            /// Marks the WakuMessage with this key processed at `now`; `false` if it already
            /// was.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite);
            /// [`StoreError::OutOfRange`](crate::StoreError::OutOfRange) for a time past 2^63 ms.
            pub fn mark_processed(
                &mut self,
                key: &crate::ProcessedKey,
                now: kaiwa_session::Timestamp,
            ) -> Result<bool, crate::StoreError> {
                crate::processed::mark_processed(self.conn(), key, now)
            }

            /// Forgets the messages both stamped and marked before `before`; returns how
            /// many. Call it with `now - retention`, where `retention` is the longest time a
            /// copy of a message can still arrive (the Store nodes' retention). A mark lives
            /// at least `retention` after it was made, and longer for a message stamped in
            /// the future.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite);
            /// [`StoreError::OutOfRange`](crate::StoreError::OutOfRange).
            pub fn prune_processed(
                &mut self,
                before: kaiwa_session::Timestamp,
            ) -> Result<u64, crate::StoreError> {
                crate::processed::prune_processed(self.conn(), before)
            }

            // ----- 1:1 peers -----

            /// The session crate's record of `peer` (what
            /// [`SessionStore::load_peer`](kaiwa_session::SessionStore::load_peer) returns).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn load_peer_record(
                &self,
                peer: &crate::PublicId,
            ) -> Result<Option<kaiwa_session::PeerRecord>, crate::StoreError> {
                crate::records::load_peer(self.conn(), peer)
            }

            /// Replaces the record of `peer` (what
            /// [`SessionStore::store_peer`](kaiwa_session::SessionStore::store_peer) does).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn store_peer_record(
                &mut self,
                peer: &crate::PublicId,
                record: &kaiwa_session::PeerRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_peer(self.conn(), peer, record)
            }

            /// Forgets the record of `peer` (every session with it); `false` if there was
            /// none.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn delete_peer_record(
                &mut self,
                peer: &crate::PublicId,
            ) -> Result<bool, crate::StoreError> {
                let sql = "DELETE FROM peers WHERE identity = ?1";
                crate::records::delete(self.conn(), "deleting a peer", sql, [peer.as_bytes()])
            }

            /// Forgets the record of a group (after leaving it); `false` if there was none.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn delete_group(
                &mut self,
                group: &kaiwa_group::GroupId,
            ) -> Result<bool, crate::StoreError> {
                let sql = "DELETE FROM group_chats WHERE chat_id = ?1";
                crate::records::delete(self.conn(), "deleting a group", sql, [group.as_str()])
            }

            /// Forgets the owner record of `org` and every member view of it; `false` if
            /// there was neither. A kept invitation to `org` is the client's, not the
            /// organization's, and stays ([`delete_invitation`](Self::delete_invitation)).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn delete_organization(
                &mut self,
                org: &kaiwa_org::OrgId,
            ) -> Result<bool, crate::StoreError> {
                crate::value::atomic(self.conn(), |conn| {
                    let operation = "deleting an organization";
                    let params = [org.as_bytes()];
                    let owner = crate::records::delete(
                        conn,
                        operation,
                        "DELETE FROM organizations WHERE org_id = ?1",
                        params,
                    )?;
                    let views = crate::records::delete(
                        conn,
                        operation,
                        "DELETE FROM org_views WHERE org_id = ?1",
                        params,
                    )?;
                    Ok(owner || views)
                })
            }

            // ----- listing protocol state -----

            /// The id of every group with a record ([`GroupStore`](kaiwa_group::GroupStore)),
            /// sorted, at most [`MAX_LISTED_IDS`](crate::limits::MAX_LISTED_IDS).
            ///
            /// # Errors
            /// [`StoreError::TooMany`](crate::StoreError::TooMany) past the bound,
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) for a stored chat id that
            /// is not a [`GroupId`](kaiwa_group::GroupId),
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn group_ids(&self) -> Result<Vec<kaiwa_group::GroupId>, crate::StoreError> {
                crate::records::group_ids(self.conn())
            }

            /// The id of every organization with an owner record (the organizations we own:
            /// [`OrgStore::store_organization`](kaiwa_org::OrgStore::store_organization)),
            /// sorted, at most [`MAX_LISTED_IDS`](crate::limits::MAX_LISTED_IDS).
            ///
            /// # Errors
            /// [`StoreError::TooMany`](crate::StoreError::TooMany) past the bound,
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) for a stored id that is not
            /// a valid organization key, [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn organization_ids(&self) -> Result<Vec<kaiwa_org::OrgId>, crate::StoreError> {
                crate::records::organization_ids(self.conn())
            }

            /// The id of every organization with a member view for `member`
            /// ([`OrgStore::store_view`](kaiwa_org::OrgStore::store_view)): the
            /// organizations `member` follows. Sorted, at most
            /// [`MAX_LISTED_IDS`](crate::limits::MAX_LISTED_IDS).
            ///
            /// # Errors
            /// [`StoreError::TooMany`](crate::StoreError::TooMany) past the bound,
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) for a stored id that is not
            /// a valid organization key, [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn org_view_ids(
                &self,
                member: &kaiwa_org::MemberId,
            ) -> Result<Vec<kaiwa_org::OrgId>, crate::StoreError> {
                crate::records::org_view_ids(self.conn(), member)
            }

            // ----- client state -----

            /// Keeps `invitation` (the signed invitation bytes, as received) as the last
            /// invitation to `org`, replacing any earlier one.
            ///
            /// # Errors
            /// [`StoreError::TooLong`](crate::StoreError::TooLong) over
            /// [`MAX_INVITATION_BYTES`](crate::limits::MAX_INVITATION_BYTES),
            /// [`StoreError::OutOfRange`](crate::StoreError::OutOfRange) for a time past
            /// 2^63 ms, [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn store_invitation(
                &mut self,
                org: &kaiwa_org::OrgId,
                invitation: &[u8],
                now: kaiwa_session::Timestamp,
            ) -> Result<(), crate::StoreError> {
                crate::client_state::store_invitation(self.conn(), org, invitation, now)
            }

            /// The last invitation to `org` kept by
            /// [`store_invitation`](Self::store_invitation), if any.
            ///
            /// # Errors
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) for stored bytes over
            /// [`MAX_INVITATION_BYTES`](crate::limits::MAX_INVITATION_BYTES),
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn invitation(
                &self,
                org: &kaiwa_org::OrgId,
            ) -> Result<Option<Vec<u8>>, crate::StoreError> {
                crate::client_state::invitation(self.conn(), org)
            }

            /// Forgets the invitation to `org`; `false` if there was none.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn delete_invitation(
                &mut self,
                org: &kaiwa_org::OrgId,
            ) -> Result<bool, crate::StoreError> {
                crate::client_state::delete_invitation(self.conn(), org)
            }

            /// The catch-up watermark: Unix nanoseconds of the last complete catch-up, or
            /// `None` if [`set_caught_up`](Self::set_caught_up) was never called.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn caught_up(&self) -> Result<Option<i64>, crate::StoreError> {
                crate::client_state::caught_up(self.conn())
            }

            /// Replaces the catch-up watermark with `ns` (Unix nanoseconds; a lower value
            /// than before is kept as given).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn set_caught_up(&mut self, ns: i64) -> Result<(), crate::StoreError> {
                crate::client_state::set_caught_up(self.conn(), ns)
            }

            // ----- history -----

            /// Adds a message to the history.
            ///
            /// # Errors
            /// [`StoreError::TooLong`](crate::StoreError::TooLong) for a payload over
            /// [`MAX_PAYLOAD_BYTES`](crate::limits::MAX_PAYLOAD_BYTES),
            /// [`StoreError::StatusMismatch`](crate::StoreError::StatusMismatch),
            /// [`StoreError::OutOfRange`](crate::StoreError::OutOfRange),
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn insert_message(
                &mut self,
                message: &crate::NewMessage<'_>,
                now: kaiwa_session::Timestamp,
            ) -> Result<crate::MessageId, crate::StoreError> {
                crate::history::insert(self.conn(), message, now)
            }

            /// The message `id`, if it exists.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn message(
                &self,
                id: crate::MessageId,
            ) -> Result<Option<crate::StoredMessage>, crate::StoreError> {
                crate::history::get(self.conn(), id)
            }

            /// A page of `chat`'s history: the `limit` (at most
            /// [`MAX_PAGE`](crate::limits::MAX_PAGE)) messages just before `before` (or the
            /// latest ones), in clock order, oldest first. Pass the first message's
            /// [`cursor`](crate::StoredMessage::cursor) to get the page before it.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn history(
                &self,
                chat: &crate::ChatId,
                before: Option<crate::HistoryCursor>,
                limit: usize,
            ) -> Result<Vec<crate::StoredMessage>, crate::StoreError> {
                crate::history::page(self.conn(), chat, before, limit)
            }

            /// The highest Lamport clock in `chat`'s history (`None` if it has none): what a
            /// new message's clock must exceed. One index lookup, unlike reading a page.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn last_clock(
                &self,
                chat: &crate::ChatId,
            ) -> Result<Option<u64>, crate::StoreError> {
                crate::history::last_clock(self.conn(), chat)
            }

            /// Every chat with at least one message, most recent (highest clock) first.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn chats(&self) -> Result<Vec<crate::ChatSummary>, crate::StoreError> {
                crate::history::chats(self.conn())
            }

            /// Sets the status of message `id`; `false` if there is no such message.
            ///
            /// # Errors
            /// [`StoreError::StatusMismatch`](crate::StoreError::StatusMismatch) if the status
            /// contradicts the message's direction;
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn set_message_status(
                &mut self,
                id: crate::MessageId,
                status: crate::MessageStatus,
            ) -> Result<bool, crate::StoreError> {
                crate::history::set_status(self.conn(), id, status)
            }

            // ----- contacts -----

            /// Adds `contact`, or replaces the contact with the same id.
            ///
            /// # Errors
            /// [`StoreError::TooLong`](crate::StoreError::TooLong) for a name or bundle over
            /// its bound; [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn upsert_contact(
                &mut self,
                contact: &crate::Contact,
            ) -> Result<(), crate::StoreError> {
                crate::contacts::upsert(self.conn(), contact)
            }

            /// The contact `id`, if known.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn contact(
                &self,
                id: &crate::PublicId,
            ) -> Result<Option<crate::Contact>, crate::StoreError> {
                crate::contacts::get(self.conn(), id)
            }

            /// Whether `id` is a contact (one index lookup; [`contact`](Self::contact) also
            /// reads the row and its bundle).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn is_contact(&self, id: &crate::PublicId) -> Result<bool, crate::StoreError> {
                crate::contacts::exists(self.conn(), id)
            }

            /// Every contact, in the order they were added.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn contacts(&self) -> Result<Vec<crate::Contact>, crate::StoreError> {
                crate::contacts::all(self.conn())
            }

            /// Removes the contact `id`; `false` if there was none.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn remove_contact(
                &mut self,
                id: &crate::PublicId,
            ) -> Result<bool, crate::StoreError> {
                crate::contacts::remove(self.conn(), id)
            }

            // ----- outbox -----

            /// Queues a WakuMessage for publication, optionally as a copy of history message
            /// `history` (which then stays [`Pending`](crate::MessageStatus::Pending) until
            /// every copy is published).
            ///
            /// # Errors
            /// [`StoreError::TooLong`](crate::StoreError::TooLong) for a field over its bound,
            /// [`StoreError::NotFound`](crate::StoreError::NotFound) for an unknown `history`,
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn enqueue_outbox(
                &mut self,
                message: &crate::OutboxMessage,
                history: Option<crate::MessageId>,
                now: kaiwa_session::Timestamp,
            ) -> Result<crate::OutboxId, crate::StoreError> {
                crate::outbox::enqueue(self.conn(), message, history, now)
            }

            /// The first `limit` (at most [`MAX_PAGE`](crate::limits::MAX_PAGE)) queued
            /// entries after `after` (from the start if `None`), oldest first. A publisher
            /// passes the last id of a page to reach entries behind ones that keep failing.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite),
            /// [`StoreError::Corrupt`](crate::StoreError::Corrupt).
            pub fn pending_outbox(
                &self,
                after: Option<crate::OutboxId>,
                limit: usize,
            ) -> Result<Vec<crate::OutboxEntry>, crate::StoreError> {
                crate::outbox::pending(self.conn(), after, limit)
            }

            /// How many entries are queued.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn outbox_len(&self) -> Result<u64, crate::StoreError> {
                crate::outbox::len(self.conn())
            }

            /// Removes entry `id` after it was published; `false` if it was already gone
            /// (so calling it twice is harmless). Its history message becomes
            /// [`Sent`](crate::MessageStatus::Sent) once no copy is left.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn mark_published(
                &mut self,
                id: crate::OutboxId,
            ) -> Result<bool, crate::StoreError> {
                crate::outbox::mark_published(self.conn(), id)
            }

            /// [`mark_published`](Self::mark_published) for every entry of `ids`, all or
            /// none; returns how many were still queued. Cheaper than one call per entry:
            /// the pages they share are journalled once.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite); nothing is removed then.
            pub fn mark_all_published(
                &mut self,
                ids: &[crate::OutboxId],
            ) -> Result<u64, crate::StoreError> {
                crate::outbox::mark_all_published(self.conn(), ids)
            }

            /// Records a failed publication of entry `id` (the entry stays queued); `false`
            /// if there is no such entry. `error` is cut to
            /// [`MAX_ERROR_TEXT_BYTES`](crate::limits::MAX_ERROR_TEXT_BYTES).
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn record_failure(
                &mut self,
                id: crate::OutboxId,
                error: &str,
                now: kaiwa_session::Timestamp,
            ) -> Result<bool, crate::StoreError> {
                crate::outbox::record_failure(self.conn(), id, error, now)
            }

            /// Gives up on entry `id`: removes it, and a
            /// [`Pending`](crate::MessageStatus::Pending) history message it carried becomes
            /// [`Failed`](crate::MessageStatus::Failed). `false` if there is no such entry.
            ///
            /// # Errors
            /// [`StoreError::Sqlite`](crate::StoreError::Sqlite).
            pub fn abandon_outbox(
                &mut self,
                id: crate::OutboxId,
            ) -> Result<bool, crate::StoreError> {
                crate::outbox::abandon(self.conn(), id)
            }
        }

        impl kaiwa_session::SessionStore for $ty {
            type Error = crate::StoreError;

            fn load_peer(
                &self,
                peer: &kaiwa_session::IdentityPublicKey,
            ) -> Result<Option<kaiwa_session::PeerRecord>, crate::StoreError> {
                crate::records::load_peer(self.conn(), &crate::PublicId::new(peer.to_bytes()))
            }

            fn store_peer(
                &mut self,
                peer: &kaiwa_session::IdentityPublicKey,
                record: &kaiwa_session::PeerRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_peer(
                    self.conn(),
                    &crate::PublicId::new(peer.to_bytes()),
                    record,
                )
            }
        }

        impl kaiwa_session::AccountStore for $ty {
            type Error = crate::StoreError;

            fn load_account(
                &self,
            ) -> Result<Option<kaiwa_session::AccountRecord>, crate::StoreError> {
                crate::records::load_account(self.conn())
            }

            fn store_account(
                &mut self,
                record: &kaiwa_session::AccountRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_account(self.conn(), record)
            }

            fn load_signed_pre_keys(
                &self,
            ) -> Result<Vec<kaiwa_session::SignedPreKeyRecord>, crate::StoreError> {
                crate::records::load_signed_pre_keys(self.conn())
            }

            fn store_signed_pre_keys(
                &mut self,
                records: &[kaiwa_session::SignedPreKeyRecord],
            ) -> Result<(), crate::StoreError> {
                crate::records::store_signed_pre_keys(self.conn(), records)
            }
        }

        impl kaiwa_group::GroupStore for $ty {
            type Error = crate::StoreError;

            fn load(
                &self,
                group: &kaiwa_group::GroupId,
            ) -> Result<Option<kaiwa_group::GroupRecord>, crate::StoreError> {
                crate::records::load_group(self.conn(), group)
            }

            fn store(
                &mut self,
                group: &kaiwa_group::GroupId,
                record: &kaiwa_group::GroupRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_group(self.conn(), group, record)
            }
        }

        impl kaiwa_org::OrgStore for $ty {
            type Error = crate::StoreError;

            fn load_organization(
                &self,
                org: &kaiwa_org::OrgId,
            ) -> Result<Option<kaiwa_org::OrganizationRecord>, crate::StoreError> {
                crate::records::load_organization(self.conn(), org)
            }

            fn store_organization(
                &mut self,
                org: &kaiwa_org::OrgId,
                record: &kaiwa_org::OrganizationRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_organization(self.conn(), org, record)
            }

            fn load_view(
                &self,
                org: &kaiwa_org::OrgId,
                member: &kaiwa_org::MemberId,
            ) -> Result<Option<kaiwa_org::OrganizationViewRecord>, crate::StoreError> {
                crate::records::load_view(self.conn(), org, member)
            }

            fn store_view(
                &mut self,
                org: &kaiwa_org::OrgId,
                member: &kaiwa_org::MemberId,
                record: &kaiwa_org::OrganizationViewRecord,
            ) -> Result<(), crate::StoreError> {
                crate::records::store_view(self.conn(), org, member, record)
            }
        }
    };
}

pub(crate) use shared_api;
