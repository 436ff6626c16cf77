//! Records: round trips, continued operation after a reload, versions, redaction.

use kaiwa_org::{
    DecodeError, InMemoryOrgStore, OrgStore, Organization, OrganizationRecord, OrganizationView,
    OrganizationViewRecord,
};
use prost::Message as _;

use super::channels::Club;
use super::common::NOW;

#[test]
fn owner_and_member_state_survive_a_reload() {
    let mut club = Club::new(40, true);
    let mut store = InMemoryOrgStore::default();
    let org_id = club.org.id();
    store.store_organization(&org_id, &club.org.to_record()).unwrap();
    let member = club.people[2].member;
    let m1 = club.send(1, b"one");
    let m2 = club.send(1, b"two");
    club.views[2].decrypt(&m2).unwrap(); // m1 is now a cached skipped key
    store.store_view(&org_id, &member, &club.views[2].to_record()).unwrap();

    let mut owner =
        Organization::from_record(&store.load_organization(&org_id).unwrap().unwrap()).unwrap();
    assert_eq!(owner.description(), club.org.description());
    assert_eq!(owner.current_epoch(&org_id.group()), club.org.current_epoch(&org_id.group()));
    let mut view =
        OrganizationView::from_record(&store.load_view(&org_id, &member).unwrap().unwrap())
            .unwrap();
    assert_eq!(view.to_record().expose_secret(), club.views[2].to_record().expose_secret());
    assert_eq!(view.decrypt(&m1).unwrap().plaintext.as_slice(), b"one");
    assert_eq!(view.decrypt(&m2).err(), Some(kaiwa_org::DecryptError::KeyUnavailable));

    // The reloaded owner keeps working: a re-key reaches the reloaded member.
    let update = owner.rekey_all(NOW + 5, &mut club.r).unwrap();
    assert_eq!(super::common::deliver_rekeys(&mut view, &update, &club.people[2].dh), 1);
    assert!(store.load_view(&org_id, &club.people[0].member).unwrap().is_none());
}

#[test]
fn unknown_versions_and_bad_records_are_refused() {
    let club = Club::new(41, true);
    let record = club.org.to_record();
    // Field 1 (version) = 2, prepended: protobuf takes the last value, so append instead.
    let mut bytes = record.expose_secret().to_vec();
    bytes.extend_from_slice(&[0x08, 0x02]);
    assert_eq!(
        Organization::from_record(&OrganizationRecord::from_bytes(bytes)).err(),
        Some(DecodeError::Version { got: 2 })
    );
    let mut bytes = club.views[0].to_record().expose_secret().to_vec();
    bytes.extend_from_slice(&[0x08, 0x07]);
    assert_eq!(
        OrganizationView::from_record(&OrganizationViewRecord::from_bytes(bytes)).err(),
        Some(DecodeError::Version { got: 7 })
    );
    // A record whose description is not signed by its org key.
    let other = Club::new(42, true);
    let mut bytes = record.expose_secret().to_vec();
    let foreign = other.org.signed_description().bytes().to_vec();
    // Field 4 (description) appended again: the last occurrence wins.
    prost::encoding::bytes::encode(4, &foreign, &mut bytes);
    assert!(Organization::from_record(&OrganizationRecord::from_bytes(bytes)).is_err());
}

/// The secret fields of the records, read with a mirror of their layout.
#[derive(Clone, PartialEq, prost::Message)]
struct Secrets {
    #[prost(bytes = "vec", tag = "2")]
    org_secret: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    request_dh_secret: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    epochs: Vec<EpochSecret>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EpochSecret {
    #[prost(bytes = "vec", tag = "3")]
    key: Vec<u8>,
}

#[test]
fn debug_output_has_no_secrets() {
    let club = Club::new(43, true);
    let record = club.org.to_record();
    let owner = Secrets::decode(record.expose_secret()).unwrap();
    let view_record = club.views[0].to_record();
    let view = Secrets::decode(view_record.expose_secret()).unwrap();
    let mut secrets = vec![owner.org_secret.clone(), owner.request_dh_secret.clone()];
    secrets.extend(owner.epochs.iter().map(|e| e.key.clone()));
    secrets.extend(view.epochs.iter().map(|e| e.key.clone()));
    assert!(secrets.len() >= 4 && secrets.iter().all(|s| s.len() == 32));
    for debug in [
        format!("{:?}", club.org),
        format!("{:#?}", club.org),
        format!("{:?}", club.views[0]),
        format!("{:#?}", club.views[0]),
        format!("{record:?}"),
        format!("{view_record:?}"),
    ] {
        for secret in &secrets {
            for window in secret.windows(4) {
                assert!(!debug.contains(&hex::encode(window)), "{debug} leaks a secret");
            }
        }
    }
    assert_eq!(
        format!("{record:?}"),
        format!("OrganizationRecord({} bytes)", record.expose_secret().len())
    );
}
