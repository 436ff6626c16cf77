//! The simulated store node: admission, retention and paginated queries.
//!
//! ```text
//! key         = (timestamp ns, message hash)        ascending = store order (nwaku)
//! admission   = not ephemeral, timestamp present and |timestamp − now| ≤ drift (nwaku archive)
//! retention   = per pubsub topic: at most N messages, and timestamp ≥ now − max_age;
//!               the oldest keys are evicted first
//! duplicates  = a hash already stored is not stored again
//! ```

use core::ops::Bound;
use std::collections::{BTreeMap, HashMap};

use super::config::StoreConfig;
use super::node::SimError;
use crate::hash::MessageHash;
use crate::message::WakuMessage;
use crate::pubsub_topic::PubsubTopic;
use crate::query::{Cursor, Direction, QueryCriteria, StorePage, StoreQuery};
use crate::subscription::ReceivedMessage;

type Key = (i64, MessageHash);

/// Counters of the simulated store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct StoreStats {
    /// Messages admitted and kept (evicted ones included).
    pub stored: u64,
    /// Copies refused by admission.
    pub rejected: u64,
    /// Copies of messages already stored.
    pub duplicates: u64,
    /// Messages evicted by retention.
    pub evicted: u64,
    /// Messages held now.
    pub held: u64,
}

/// Why a copy was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejected;

#[derive(Debug, Default)]
pub(crate) struct SimStore {
    topics: BTreeMap<PubsubTopic, BTreeMap<Key, WakuMessage>>,
    index: HashMap<MessageHash, (PubsubTopic, i64)>,
    stats: StoreStats,
}

impl SimStore {
    pub(crate) fn stats(&self) -> StoreStats {
        StoreStats { held: self.index.len() as u64, ..self.stats }
    }

    /// Admits `message` received at Unix time `now`, then applies retention.
    pub(crate) fn ingest(
        &mut self,
        config: &StoreConfig,
        now: i64,
        received: &ReceivedMessage,
    ) -> Result<(), Rejected> {
        let message = &received.message;
        let timestamp = match (message.timestamp(), config.max_timestamp_drift) {
            _ if message.is_ephemeral() => None,
            (Some(timestamp), Some(drift)) => {
                let distance = (i128::from(timestamp) - i128::from(now)).unsigned_abs();
                (distance <= drift.as_nanos()).then_some(timestamp)
            }
            (None, Some(_)) => None,
            (Some(timestamp), None) => Some(timestamp),
            (None, None) => Some(now),
        };
        let Some(timestamp) = timestamp else {
            self.stats.rejected += 1;
            return Err(Rejected);
        };
        if self.index.contains_key(&received.hash) {
            self.stats.duplicates += 1;
            return Ok(());
        }
        self.index.insert(received.hash, (received.pubsub_topic.clone(), timestamp));
        let topic = self.topics.entry(received.pubsub_topic.clone()).or_default();
        topic.insert((timestamp, received.hash), message.clone());
        self.stats.stored += 1;
        while topic.len() > config.max_messages_per_topic {
            let Some(((_, hash), _)) = topic.pop_first() else { break };
            self.index.remove(&hash);
            self.stats.evicted += 1;
        }
        self.evict_expired(config, now);
        Ok(())
    }

    /// Evicts every message older than `now - max_age`.
    pub(crate) fn evict_expired(&mut self, config: &StoreConfig, now: i64) {
        let Some(max_age) = config.max_age else { return };
        let age = i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(age);
        for topic in self.topics.values_mut() {
            while let Some(entry) = topic.first_entry() {
                if entry.key().0 >= cutoff {
                    break;
                }
                let (_, hash) = *entry.key();
                entry.remove();
                self.index.remove(&hash);
                self.stats.evicted += 1;
            }
        }
        self.topics.retain(|_, topic| !topic.is_empty());
    }

    /// One page of `query`'s results (see [`crate::query`] for the semantics).
    pub(crate) fn query(&self, query: &StoreQuery) -> Result<StorePage, SimError> {
        let cursor = query.cursor().map(|cursor| self.cursor_key(&cursor)).transpose()?;
        let direction = query.direction();
        let limit = query.page_size().saturating_add(1);
        let mut rows: Vec<(Key, &PubsubTopic, &WakuMessage)> = Vec::with_capacity(limit);
        match query.criteria() {
            QueryCriteria::Content { filter, time_start, time_end, .. } => {
                let pubsub_topic = filter.pubsub_topic();
                if let Some((topic, _)) = &cursor
                    && *topic != pubsub_topic
                {
                    return Err(SimError::UnknownCursor);
                }
                let Some(messages) = self.topics.get(pubsub_topic) else {
                    return Ok(StorePage::new(Vec::new(), None));
                };
                let cursor = cursor.map(|(_, key)| key);
                let lower =
                    lower_bound(cursor.filter(|_| direction == Direction::Forward), *time_start);
                let upper =
                    upper_bound(cursor.filter(|_| direction == Direction::Backward), *time_end);
                if bounds_are_empty(&lower, &upper) {
                    return Ok(StorePage::new(Vec::new(), None));
                }
                let range = messages
                    .range((lower, upper))
                    .filter(|(_, message)| filter.matches(pubsub_topic, message.content_topic()))
                    .map(|(key, message)| (*key, pubsub_topic, message));
                match direction {
                    Direction::Forward => rows.extend(range.take(limit)),
                    Direction::Backward => rows.extend(range.rev().take(limit)),
                }
            }
            QueryCriteria::Hashes { hashes, .. } => {
                let mut found: Vec<(Key, &PubsubTopic, &WakuMessage)> = hashes
                    .iter()
                    .filter_map(|hash| {
                        let (topic, timestamp) = self.index.get(hash)?;
                        let key = (*timestamp, *hash);
                        Some((key, topic, self.topics.get(topic)?.get(&key)?))
                    })
                    .collect();
                found.sort_by_key(|(key, _, _)| *key);
                let after_cursor = |(key, _, _): &(Key, &PubsubTopic, &WakuMessage)| match cursor {
                    None => true,
                    Some((_, at)) if direction == Direction::Forward => *key > at,
                    Some((_, at)) => *key < at,
                };
                match direction {
                    Direction::Forward => {
                        rows.extend(found.into_iter().filter(after_cursor).take(limit));
                    }
                    Direction::Backward => {
                        rows.extend(found.into_iter().rev().filter(after_cursor).take(limit));
                    }
                }
            }
        }
        let next_cursor = if rows.len() > query.page_size() {
            rows.truncate(query.page_size());
            rows.last().map(|((_, hash), _, _)| Cursor::from_hash(*hash))
        } else {
            None
        };
        if direction == Direction::Backward {
            rows.reverse();
        }
        let messages = rows
            .into_iter()
            .map(|((_, hash), topic, message)| ReceivedMessage {
                pubsub_topic: topic.clone(),
                message: message.clone(),
                hash,
            })
            .collect();
        Ok(StorePage::new(messages, next_cursor))
    }

    fn cursor_key(&self, cursor: &Cursor) -> Result<(&PubsubTopic, Key), SimError> {
        let (topic, timestamp) = self.index.get(cursor.hash()).ok_or(SimError::UnknownCursor)?;
        Ok((topic, (*timestamp, *cursor.hash())))
    }
}

const MIN_HASH: MessageHash = MessageHash::from_bytes([0; 32]);
const MAX_HASH: MessageHash = MessageHash::from_bytes([0xff; 32]);

/// The tighter of "after the cursor" and "at or after `time_start`".
fn lower_bound(cursor: Option<Key>, time_start: Option<i64>) -> Bound<Key> {
    let start = time_start.map(|t| (t, MIN_HASH));
    match (cursor, start) {
        (Some(cursor), Some(start)) if start > cursor => Bound::Included(start),
        (Some(cursor), _) => Bound::Excluded(cursor),
        (None, Some(start)) => Bound::Included(start),
        (None, None) => Bound::Unbounded,
    }
}

/// The tighter of "before the cursor" and "at or before `time_end`".
fn upper_bound(cursor: Option<Key>, time_end: Option<i64>) -> Bound<Key> {
    let end = time_end.map(|t| (t, MAX_HASH));
    match (cursor, end) {
        (Some(cursor), Some(end)) if end < cursor => Bound::Included(end),
        (Some(cursor), _) => Bound::Excluded(cursor),
        (None, Some(end)) => Bound::Included(end),
        (None, None) => Bound::Unbounded,
    }
}

/// Whether `(lower, upper)` selects nothing; `BTreeMap::range` panics on such bounds.
fn bounds_are_empty(lower: &Bound<Key>, upper: &Bound<Key>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bounds_are_detected_before_range_would_panic() {
        let key = |t| (t, MIN_HASH);
        assert!(bounds_are_empty(&Bound::Excluded(key(1)), &Bound::Excluded(key(1))));
        assert!(bounds_are_empty(&Bound::Included(key(2)), &Bound::Included(key(1))));
        assert!(bounds_are_empty(&Bound::Excluded(key(1)), &Bound::Included(key(1))));
        assert!(!bounds_are_empty(&Bound::Included(key(1)), &Bound::Included(key(1))));
        assert!(!bounds_are_empty(&Bound::Unbounded, &Bound::Excluded(key(0))));
    }
}
