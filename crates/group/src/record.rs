//! The persisted form of a [`Group`](crate::Group).
//!
//! The record is `kaiwa.store.v1.GroupRecord` (`proto/store/group.proto`):
//!
//! ```text
//! message GroupRecord {          // kaiwa.store.v1
//!   uint32 version = 1;          // 1
//!   string chat_id = 2;          // GroupId text
//!   repeated bytes events = 3;   // every stored element (signature ‖ event bytes), in log order
//!   uint64 clock = 4;            // highest Lamport time seen in the chat (events and messages)
//! }
//! ```
//!
//! The state is not stored: it is re-derived by folding the events, whose signatures are
//! verified again on load. A record holds no secret (signatures, public keys, group metadata).

use core::fmt;

use kaiwa_wire::store::GroupRecord as GroupRecordProto;
use prost::Message as _;

use crate::error::DecodeError;
use crate::id::{GroupId, LamportTime};
use crate::limits::{MAX_EVENTS, MAX_RECORD_BYTES};

/// The record version this code writes and reads.
const RECORD_VERSION: u32 = 1;

/// An encoded group record: what a [`GroupStore`](crate::GroupStore) keeps per group.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupRecord(Vec<u8>);

impl GroupRecord {
    pub(crate) fn new<'a>(
        group: &GroupId,
        elements: impl Iterator<Item = &'a [u8]>,
        clock: LamportTime,
    ) -> Self {
        let proto = GroupRecordProto {
            version: RECORD_VERSION,
            chat_id: group.as_str().to_owned(),
            events: elements.map(<[u8]>::to_vec).collect(),
            clock: clock.0,
        };
        Self(proto.encode_to_vec())
    }

    /// Wraps bytes read from storage; they are validated by
    /// [`Group::from_record`](crate::Group::from_record).
    #[must_use]
    pub const fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The encoded record.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The encoded record, by value.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Decodes and bounds-checks the record: chat id, raw elements, clock.
    pub(crate) fn parts(&self) -> Result<(GroupId, Vec<Vec<u8>>, LamportTime), DecodeError> {
        if self.0.len() > MAX_RECORD_BYTES {
            return Err(DecodeError::TooLong {
                field: "record",
                limit: MAX_RECORD_BYTES,
                actual: self.0.len(),
            });
        }
        let mut proto = GroupRecordProto::decode(self.0.as_slice())?;
        if proto.version != RECORD_VERSION {
            return Err(DecodeError::Version { got: proto.version });
        }
        if proto.events.len() > MAX_EVENTS {
            return Err(DecodeError::TooMany {
                what: "events",
                limit: MAX_EVENTS,
                actual: proto.events.len(),
            });
        }
        Ok((
            GroupId::parse(&proto.chat_id)?,
            core::mem::take(&mut proto.events),
            LamportTime(proto.clock),
        ))
    }
}

impl fmt::Debug for GroupRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupRecord({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn rejects_unknown_versions_and_oversize() {
        let mut proto = GroupRecordProto::default();
        proto.version = 2;
        let record = GroupRecord::from_bytes(proto.encode_to_vec());
        assert_eq!(record.parts().unwrap_err(), DecodeError::Version { got: 2 });
        let big = GroupRecord::from_bytes(vec![0; MAX_RECORD_BYTES + 1]);
        assert!(matches!(big.parts(), Err(DecodeError::TooLong { field: "record", .. })));
        assert_eq!(format!("{big:?}"), format!("GroupRecord({} bytes)", MAX_RECORD_BYTES + 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = crate::Group::from_record_bytes(&bytes);
        }
    }
}
