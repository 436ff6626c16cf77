//! Persistence: records round-trip, tampered records are refused, stores keep whole records.

use kaiwa_group::{Group, GroupRecord, GroupStore, MemoryGroupStore, RecordError};

use super::support::{Cast, NOW, id};

#[test]
fn record_round_trip_rebuilds_the_same_group() {
    let cast = Cast::new();
    let mut g = cast.group();
    g.rename(&cast.alice, "persisted", NOW + 10).unwrap();
    let restored = Group::from_record(&g.to_record()).unwrap();
    assert_eq!(restored, g);
    assert_eq!(Group::from_record_bytes(&g.to_record_bytes()).unwrap(), g);
    // The clock survives even when it came from a chat message, not an event.
    let (_, sent) = g
        .send_message(&id(&cast.alice), kaiwa_group::ChatMessageDraft::text("m"), NOW + 500)
        .unwrap();
    assert_eq!(Group::from_record(&g.to_record()).unwrap().clock(), sent.clock);
}

#[test]
fn tampered_records_are_refused() {
    let cast = Cast::new();
    let g = cast.group();
    let bytes = g.to_record_bytes();
    let (mut unauthenticated, mut malformed) = (0, 0);
    for i in (0..bytes.len()).step_by(7) {
        let mut t = bytes.clone();
        t[i] ^= 0x10;
        match Group::from_record_bytes(&t) {
            Ok(loaded) => {
                assert_eq!(loaded.state(), g.state(), "byte {i} changed nothing that matters")
            }
            Err(RecordError::Unauthenticated) => unauthenticated += 1,
            Err(RecordError::Decode(_)) => malformed += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(unauthenticated > 0 && malformed > 0);
}

#[test]
fn memory_store_keeps_whole_records() {
    let cast = Cast::new();
    let mut g = cast.group();
    let mut store = MemoryGroupStore::new();
    assert!(store.is_empty());
    assert_eq!(store.load(g.id()).unwrap(), None);
    store.store(g.id(), &g.to_record()).unwrap();
    g.rename(&cast.alice, "v2", NOW + 10).unwrap();
    store.store(g.id(), &g.to_record()).unwrap();
    assert_eq!(store.len(), 1);
    let record: GroupRecord = store.load(g.id()).unwrap().unwrap();
    assert_eq!(Group::from_record(&record).unwrap().state().name(), "v2");
}
