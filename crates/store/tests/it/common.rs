//! Shared helpers: seeded randomness, times, stores in temporary directories.

use std::path::PathBuf;

use kaiwa_session::Timestamp;
use kaiwa_store::{ChatId, MessageHash, NewMessage, OutboxMessage, ProcessedKey, PublicId};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tempfile::TempDir;

pub(crate) const T0: u64 = 1_700_000_000_000;

pub(crate) fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A database file in a fresh temporary directory (removed when the `TempDir` drops).
pub(crate) fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kaiwa.sqlite");
    (dir, path)
}

/// The processed-set key of a message with `hash(n)`, stamped at `at(n)`.
pub(crate) fn key(n: u64) -> ProcessedKey {
    ProcessedKey::new(hash(n), Some(i64::try_from((T0 + n) * 1_000_000).unwrap()))
}

pub(crate) fn hash(n: u64) -> MessageHash {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[31] = 0x5a;
    MessageHash::new(bytes)
}

pub(crate) fn alice() -> PublicId {
    PublicId::new([0xa1; 32])
}

pub(crate) fn bob() -> PublicId {
    PublicId::new([0xb0; 32])
}

pub(crate) fn direct(peer: PublicId) -> ChatId {
    ChatId::Direct(peer)
}

pub(crate) fn received<'a>(chat: &'a ChatId, clock: u64, payload: &'a [u8]) -> NewMessage<'a> {
    NewMessage::received(chat, bob(), clock, at(clock), payload)
}

pub(crate) fn waku(payload: &[u8]) -> OutboxMessage {
    OutboxMessage {
        pubsub_topic: "/waku/2/rs/16/32".to_owned(),
        content_topic: "/kaiwa/1/test/proto".to_owned(),
        payload: payload.to_vec(),
        meta: Vec::new(),
        timestamp_ns: Some(1_700_000_000_000_000_000),
    }
}
