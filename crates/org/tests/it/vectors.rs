//! Record-format stability: records written by this version (`test-vectors/store-v1.json`,
//! `source = "self"`) must keep loading in every later version. Regenerate only on purpose:
//! `UPDATE_VECTORS=1 cargo test -p kaiwa-org vectors`.

use kaiwa_org::{Organization, OrganizationRecord, OrganizationView, OrganizationViewRecord};
use serde_json::{Value, json};

use super::channels::Club;

const VECTORS: &str = include_str!("../../test-vectors/store-v1.json");

fn generate() -> (Value, Club, Vec<u8>, Vec<u8>) {
    let mut club = Club::new(50, true);
    let m1 = club.send(1, b"one");
    let m2 = club.send(1, b"two");
    club.views[2].decrypt(&m2).unwrap(); // leaves a skipped key for m1
    let vectors = json!({
        "source": "self",
        "description": "kaiwa-org records v1: an owner record and a member view record with a receiving chain and one skipped key; m1 must still decrypt from the loaded view",
        "organization_id": hex::encode(club.org.id().as_bytes()),
        "owner_record": hex::encode(club.org.to_record().expose_secret()),
        "view_record": hex::encode(club.views[2].to_record().expose_secret()),
        "skipped_message": hex::encode(&m1),
        "skipped_plaintext": hex::encode(b"one"),
    });
    (vectors, club, m1, m2)
}

#[test]
fn store_v1_records_keep_loading() {
    let (fresh, _, _, _) = generate();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors/store-v1.json");
    let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let stored: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(stored["source"], "self");
    let bytes = |k: &str| hex::decode(stored[k].as_str().unwrap()).unwrap();

    let owner =
        Organization::from_record(&OrganizationRecord::from_bytes(bytes("owner_record"))).unwrap();
    assert_eq!(hex::encode(owner.id().as_bytes()), stored["organization_id"].as_str().unwrap());
    let mut view =
        OrganizationView::from_record(&OrganizationViewRecord::from_bytes(bytes("view_record")))
            .unwrap();
    let got = view.decrypt(&bytes("skipped_message")).unwrap();
    assert_eq!(got.plaintext.as_slice(), bytes("skipped_plaintext").as_slice());
    // Writing is deterministic, so the stored vectors equal a fresh generation; if this fails,
    // the record format changed: add a v2 file, keep this one loading.
    assert_eq!(VECTORS, text, "run with UPDATE_VECTORS=1 and review the diff");
}
