//! Persisted records: `kaiwa.store.v1` messages from `proto/store/org.proto`. They hold secrets
//! (the org key, epoch keys, chain states): the generated types have no `Debug` and are
//! zeroized on drop.

pub(crate) use kaiwa_wire::store::{
    ChannelChainRecord as ChainRecord, ChannelSkippedKeyRecord as SkippedKeyRecord, EpochRecord,
    GrantRecord, OrganizationRecord, OrganizationViewRecord, OwnerEpochRecord,
    PendingRequestRecord,
};

/// Current version of both records.
pub(crate) const RECORD_VERSION: u32 = 1;
