//! Self-generated known-answer vectors (`source: "self"`): a fixed seeded creator key and a
//! fixed sequence of actions give exact element bytes, event ids, folded state, the record, and
//! named negative cases. Compared on every run; rewritten only with `UPDATE_VECTORS=1`:
//!
//! ```text
//! UPDATE_VECTORS=1 cargo test -p kaiwa-group --test it vectors
//! ```
//!
//! `store-v1.json` holds a record written by this version; it is never rewritten once it
//! exists, and must keep loading (STYLE §3.9, record-format stability).

use std::path::Path;

use kaiwa_group::{
    Event, Group, GroupId, IncomingMessage, LamportTime, MemberStatus, ReceiveError, RejectReason,
    VerifiedEvent,
};
use kaiwa_wire::net as wire;
use prost::Message as _;
use serde_json::{Value, json};

use super::support::{NOW, id, keypair, rng};

fn build() -> (Group, Vec<(String, VerifiedEvent)>, VerifiedEvent) {
    let alice = keypair(1);
    let bob = keypair(2);
    let carol = keypair(3);
    let (mut g, _) =
        Group::create(&alice, "kaiwa", "#887799", &[id(&bob), id(&carol)], &mut rng(42), NOW)
            .unwrap();
    let mut bobs = g.clone();
    let joined = bobs.join(&bob, NOW + 1).unwrap();
    g.receive(IncomingMessage::decode(&joined.bytes).unwrap(), &id(&bob), NOW + 2).unwrap();
    g.add_admins(&alice, &[id(&bob)], NOW + 3).unwrap();
    g.rename(&bob, "kaiwa group", NOW + 4).unwrap();
    g.change_image(&alice, &[0x89, 0x50, 0x4e, 0x47], NOW + 5).unwrap();
    g.remove_member(&bob, &id(&carol), NOW + 6).unwrap();
    g.remove_admin_self(&alice, NOW + 7).unwrap();
    // A non-admin rename, received from the wire: kept, rejected by the fold.
    let rejected = VerifiedEvent::sign(
        &carol,
        g.id(),
        LamportTime(NOW + 8),
        &Event::NameChanged { name: "not allowed".into() },
    )
    .unwrap();
    let bytes = wire::MembershipUpdateMessage {
        chat_id: g.id().as_str().to_owned(),
        events: vec![rejected.element().to_vec()],
        chat_entity: None,
    }
    .encode_to_vec();
    g.receive(IncomingMessage::decode(&bytes).unwrap(), &id(&carol), NOW + 9).unwrap();
    let events = g.log().iter().map(|e| (format!("{:?}", e.event().kind()), e.clone())).collect();
    (g, events, rejected)
}

fn state_json(g: &Group) -> Value {
    let s = g.state();
    json!({
        "name": s.name(),
        "color": s.color(),
        "image": hex::encode(s.image()),
        "admins": s.admins().map(|m| m.to_text()).collect::<Vec<_>>(),
        "members": s.members().map(|(m, st)| json!({
            "id": m.to_text(),
            "status": if st == MemberStatus::Joined { "joined" } else { "invited" },
        })).collect::<Vec<_>>(),
    })
}

fn generate() -> Value {
    let (g, events, _) = build();
    let events: Vec<Value> = events
        .iter()
        .map(|(kind, e)| {
            json!({
                "kind": kind,
                "clock": e.clock().0,
                "author": e.author().to_text(),
                "element": hex::encode(e.element()),
                "id": e.id().to_string(),
                "rejected": g.fold().rejection(&e.id()).map(|r| format!("{r:?}")),
            })
        })
        .collect();

    // Named negative cases, each with the receiver's verdict.
    let sync = g.sync_message(&id(&keypair(1))).unwrap().bytes;
    let mut tampered = wire::MembershipUpdateMessage::decode(sync.as_slice()).unwrap();
    tampered.events[1][10] ^= 1;
    let mut other_group = wire::MembershipUpdateMessage::decode(sync.as_slice()).unwrap();
    other_group.chat_id = GroupId::generate(g.id().creator(), &mut rng(43)).as_str().to_owned();
    let negative = json!([
        { "name": "tampered_signature", "message": hex::encode(tampered.encode_to_vec()), "error": "Unauthenticated" },
        { "name": "replayed_into_other_group", "message": hex::encode(other_group.encode_to_vec()), "error": "Unauthenticated" },
    ]);
    json!({
        "source": "self",
        "description": "kaiwa-group membership log: seeded keys (ChaCha20 seeds 1, 2, 3), chat id from seed 42, now_ms = 1700000000000",
        "signature_context": String::from_utf8_lossy(kaiwa_group::EVENT_SIGNATURE_CONTEXT.as_bytes()),
        "chat_id": g.id().as_str(),
        "events": events,
        "state": state_json(&g),
        "record": hex::encode(g.to_record_bytes()),
        "sync_message": hex::encode(&sync),
        "negative": negative,
    })
}

fn check_or_update(name: &str, actual: &str, overwrite: bool) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors").join(name);
    if std::env::var_os("UPDATE_VECTORS").is_some() && (overwrite || !path.exists()) {
        std::fs::write(&path, actual).unwrap();
    }
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{name}: run with UPDATE_VECTORS=1"))
}

#[test]
fn membership_vectors_match() {
    let actual = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let stored = check_or_update("membership-self.json", &actual, true);
    assert_eq!(stored, actual, "run with UPDATE_VECTORS=1 and review the diff");
}

#[test]
fn vectors_replay_from_their_bytes_alone() {
    let v: Value =
        serde_json::from_str(include_str!("../../test-vectors/membership-self.json")).unwrap();
    // The sync message alone rebuilds the state on a fresh replica (Bob's view).
    let sync = hex::decode(v["sync_message"].as_str().unwrap()).unwrap();
    let bob = id(&keypair(2));
    let (g, _) =
        Group::from_first_message(IncomingMessage::decode(&sync).unwrap(), &bob, &bob, NOW + 100)
            .unwrap();
    assert_eq!(state_json(&g), v["state"]);
    for case in v["negative"].as_array().unwrap() {
        let bytes = hex::decode(case["message"].as_str().unwrap()).unwrap();
        let msg = IncomingMessage::decode(&bytes).unwrap();
        let result = Group::from_first_message(msg, &bob, &bob, NOW + 100).map(|_| ());
        assert_eq!(result, Err(ReceiveError::Unauthenticated), "{}", case["name"]);
    }
    // The rejected event is reported with its reason.
    let rejected: Vec<&Value> =
        v["events"].as_array().unwrap().iter().filter(|e| !e["rejected"].is_null()).collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["rejected"], format!("{:?}", RejectReason::NotAdmin));
}

#[test]
fn store_v1_records_keep_loading() {
    let (g, _, _) = build();
    let actual = serde_json::to_string_pretty(&json!({
        "source": "self",
        "description": "a GroupRecord (version 1) written by kaiwa-group 0.1; it must keep loading",
        "record": hex::encode(g.to_record_bytes()),
        "state": state_json(&g),
    }))
    .unwrap()
        + "\n";
    let stored: Value =
        serde_json::from_str(&check_or_update("store-v1.json", &actual, false)).unwrap();
    let record = hex::decode(stored["record"].as_str().unwrap()).unwrap();
    let loaded = Group::from_record_bytes(&record).unwrap();
    assert_eq!(state_json(&loaded), stored["state"]);
}
