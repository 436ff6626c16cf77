//! Splitting a signed description that exceeds one Waku message, and reassembling it.
//!
//! ```text
//! D        = the signed description (ApplicationMetadataMessage bytes)
//! if len(D) <= MAX_SIGNED_MESSAGE_BYTES: publish D as is
//! else:   chunks c_0 .. c_{n-1} of MAX_SEGMENT_CHUNK_BYTES (the last shorter), n <= 256
//!         segment_i = ApplicationMetadataMessage{type = ORGANIZATION_DESCRIPTION_SEGMENT,
//!                       author = org_id,
//!                       payload = OrganizationDescriptionSegment{organization_id, clock,
//!                                   index = i, count = n, digest = SHA-256(D), chunk = c_i},
//!                       signature = Ed25519(org key, "kaiwa/org/description-segment/v1"
//!                                           ‖ BE32(1000) ‖ payload)}
//! ```
//!
//! The receiver verifies each segment's signature before buffering it (so only the org key
//! holder can make it allocate), buffers by `(clock, digest)`, refuses segments whose clock is
//! not above the stored description's, keeps at most `MAX_PENDING_REASSEMBLIES` descriptions in
//! flight (lowest clock evicted), and, once all `count` chunks are in, checks
//! `SHA-256(c_0 ‖ .. ‖ c_{n-1}) == digest` and then verifies `D` like any description (its own
//! signature included). Integrity therefore rests on the org signature of `D` itself; the
//! per-segment signatures only protect the buffer.

use std::collections::BTreeMap;

use kaiwa_crypto::{IdentityKeyPair, sha256_parts};
use kaiwa_wire::net as wire;
use kaiwa_wire::net::application_metadata_message::Type;
use prost::Message as _;

use crate::description::SignedDescription;
use crate::envelope::{self, EnvelopeError, SEGMENT_CONTEXT, UnverifiedEnvelope};
use crate::error::{DecodeError, DescriptionError};
use crate::id::OrgId;
use crate::limits::{
    MAX_DESCRIPTION_BYTES, MAX_DESCRIPTION_SEGMENTS, MAX_PENDING_REASSEMBLIES,
    MAX_SEGMENT_CHUNK_BYTES, MAX_SIGNED_MESSAGE_BYTES,
};

/// The messages that publish `signed`: itself if it fits one Waku message, else its segments.
pub(crate) fn publish(signed: &SignedDescription, org_key: &IdentityKeyPair) -> Vec<Vec<u8>> {
    let bytes = signed.bytes();
    if bytes.len() <= MAX_SIGNED_MESSAGE_BYTES {
        return vec![bytes.to_vec()];
    }
    let digest = signed.digest().to_vec();
    let chunks: Vec<&[u8]> = bytes.chunks(MAX_SEGMENT_CHUNK_BYTES).collect();
    let count = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    chunks
        .into_iter()
        .zip(0u32..)
        .map(|(chunk, index)| {
            let segment = wire::OrganizationDescriptionSegment {
                organization_id: signed.description().org().as_bytes().to_vec(),
                clock: signed.description().clock().0,
                index,
                count,
                digest: digest.clone(),
                chunk: chunk.to_vec(),
            };
            envelope::sign(
                org_key,
                &SEGMENT_CONTEXT,
                Type::OrganizationDescriptionSegment,
                segment.encode_to_vec(),
            )
        })
        .collect()
}

/// A verified segment.
struct Segment {
    clock: u64,
    index: u32,
    count: u32,
    digest: [u8; 32],
    chunk: Vec<u8>,
}

fn verify_segment(org: &OrgId, bytes: &[u8]) -> Result<Segment, DescriptionError> {
    let envelope = UnverifiedEnvelope::decode(bytes, Type::OrganizationDescriptionSegment)?;
    let payload = envelope.verify(org.public_key(), &SEGMENT_CONTEXT).map_err(|e| match e {
        EnvelopeError::Decode(d) => DescriptionError::Decode(d),
        EnvelopeError::Unauthenticated => DescriptionError::Unauthenticated,
    })?;
    let msg = wire::OrganizationDescriptionSegment::decode(payload.as_slice())
        .map_err(|_| DecodeError::Protobuf { message: "OrganizationDescriptionSegment" })?;
    if msg.organization_id.as_slice() != org.as_bytes() {
        return Err(DescriptionError::Unauthenticated);
    }
    if msg.count == 0 || msg.count > MAX_DESCRIPTION_SEGMENTS {
        return Err(DecodeError::Field { field: "count" }.into());
    }
    if msg.index >= msg.count {
        return Err(DecodeError::Field { field: "index" }.into());
    }
    if msg.chunk.is_empty() || msg.chunk.len() > MAX_SEGMENT_CHUNK_BYTES {
        return Err(DecodeError::Field { field: "chunk" }.into());
    }
    let digest: [u8; 32] = msg.digest.as_slice().try_into().map_err(|_| DecodeError::Length {
        field: "digest",
        expected: 32,
        actual: msg.digest.len(),
    })?;
    Ok(Segment { clock: msg.clock, index: msg.index, count: msg.count, digest, chunk: msg.chunk })
}

/// One description being reassembled.
#[derive(Debug, Clone, Default)]
struct Pending {
    count: u32,
    chunks: BTreeMap<u32, Vec<u8>>,
    bytes: usize,
}

/// Progress of a reassembly after one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Waiting for more segments.
    Pending { received: u32, count: u32 },
    /// The whole signed description; verify it next.
    Complete(Vec<u8>),
}

/// Buffers signed segments until a description is complete (see the module doc).
#[derive(Debug, Clone, Default)]
pub(crate) struct Reassembler {
    pending: BTreeMap<(u64, [u8; 32]), Pending>,
}

impl Reassembler {
    /// Verifies and buffers one segment. On error nothing is buffered.
    pub(crate) fn accept(
        &mut self,
        org: &OrgId,
        stored_clock: Option<u64>,
        bytes: &[u8],
    ) -> Result<Progress, DescriptionError> {
        let segment = verify_segment(org, bytes)?;
        if let Some(stored) = stored_clock
            && segment.clock <= stored
        {
            return Err(DescriptionError::Stale { stored, received: segment.clock });
        }
        let key = (segment.clock, segment.digest);
        let existing = self.pending.get(&key);
        if let Some(p) = existing {
            if p.count != segment.count {
                return Err(DecodeError::Inconsistent { rule: "segment count changed" }.into());
            }
            if let Some(chunk) = p.chunks.get(&segment.index)
                && *chunk != segment.chunk
            {
                return Err(DecodeError::Inconsistent { rule: "segment chunk changed" }.into());
            }
        }
        let already = existing.map_or(0, |p| p.bytes);
        let is_new_chunk = existing.is_none_or(|p| !p.chunks.contains_key(&segment.index));
        let total =
            if is_new_chunk { already.saturating_add(segment.chunk.len()) } else { already };
        if total > MAX_DESCRIPTION_BYTES {
            return Err(DecodeError::TooMany {
                what: "description bytes",
                limit: MAX_DESCRIPTION_BYTES,
                actual: total,
            }
            .into());
        }
        // Authenticated and in bounds: commit.
        if !self.pending.contains_key(&key)
            && self.pending.len() >= MAX_PENDING_REASSEMBLIES
            && let Some(lowest) = self.pending.keys().next().copied()
        {
            if lowest < key {
                self.pending.remove(&lowest);
            } else {
                // Older than everything in flight: not worth a slot.
                return Err(DescriptionError::Stale { stored: lowest.0, received: key.0 });
            }
        }
        let entry = self
            .pending
            .entry(key)
            .or_insert_with(|| Pending { count: segment.count, ..Pending::default() });
        entry.chunks.entry(segment.index).or_insert(segment.chunk);
        entry.bytes = total;
        let received = u32::try_from(entry.chunks.len()).unwrap_or(u32::MAX);
        if received < entry.count {
            return Ok(Progress::Pending { received, count: entry.count });
        }
        let Some(done) = self.pending.remove(&key) else {
            return Err(DescriptionError::Decode(DecodeError::Inconsistent {
                rule: "reassembly vanished",
            }));
        };
        self.pending.retain(|k, _| k.0 > key.0);
        let parts: Vec<&[u8]> = done.chunks.values().map(Vec::as_slice).collect();
        if sha256_parts(&parts).to_bytes() != key.1 {
            return Err(DescriptionError::Unauthenticated);
        }
        Ok(Progress::Complete(parts.concat()))
    }

    /// Drops every reassembly at or below `clock` (a description at `clock` was applied).
    pub(crate) fn forget_up_to(&mut self, clock: u64) {
        self.pending.retain(|k, _| k.0 > clock);
    }
}
