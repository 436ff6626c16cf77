//! The generated types put the right bytes on the wire. These are the places where a wrong
//! `.proto` would still compile but no longer interoperate.

use kaiwa_wire::net;
use kaiwa_wire::store::AccountRecord;
use kaiwa_wire::waku::message::WakuMessage;
use kaiwa_wire::waku::store::StoreQueryRequest;
use prost::Message as _;
use zeroize::Zeroize as _;

/// 14/WAKU2-MESSAGE: `timestamp` is `sint64` (zig-zag), tag 10. An `int64` would encode -1 as
/// ten bytes of 0xff…; zig-zag encodes it as the single byte 0x01.
#[test]
fn waku_timestamp_is_zigzag_sint64_on_tag_10() {
    let msg = WakuMessage { timestamp: Some(-1), ..Default::default() };
    assert_eq!(msg.encode_to_vec(), [0x50, 0x01]);

    let msg = WakuMessage { timestamp: Some(1), ..Default::default() };
    assert_eq!(msg.encode_to_vec(), [0x50, 0x02]);
}

/// Absent and zero are different: the message hash of 14 skips an absent timestamp but hashes
/// a present zero.
#[test]
fn waku_optional_fields_keep_absent_apart_from_zero() {
    let absent = WakuMessage::default();
    let zero = WakuMessage { timestamp: Some(0), meta: Some(vec![]), ..Default::default() };
    assert_eq!(absent.encode_to_vec(), Vec::<u8>::new());
    let decoded = WakuMessage::decode(zero.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded.timestamp, Some(0));
    assert_eq!(decoded.meta, Some(vec![]));
}

#[test]
fn waku_message_field_numbers() {
    let msg = WakuMessage {
        payload: vec![0xaa],
        content_topic: "t".into(),
        version: Some(0),
        timestamp: None,
        meta: Some(vec![0xbb]),
        rate_limit_proof: Some(vec![0xcc]),
        ephemeral: Some(true),
    };
    let expected = [
        0x0a, 0x01, 0xaa, // payload = 1, bytes
        0x12, 0x01, b't', // content_topic = 2, string
        0x18, 0x00, // version = 3, varint
        0x5a, 0x01, 0xbb, // meta = 11, bytes
        0xaa, 0x01, 0x01, 0xcc, // rate_limit_proof = 21, bytes
        0xf8, 0x01, 0x01, // ephemeral = 31, varint
    ];
    assert_eq!(msg.encode_to_vec(), expected);
}

/// Store v3 time bounds are `sint64` too, and pagination lives at 51..53.
#[test]
fn store_query_field_numbers() {
    let req =
        StoreQueryRequest { time_start: Some(-1), pagination_limit: Some(5), ..Default::default() };
    assert_eq!(req.encode_to_vec(), [0x60, 0x01, 0xa8, 0x03, 0x05]);
}

/// Seed 000: `MembershipUpdateMessage{chat_id = 1, events = 2, message = 3, emoji_reaction = 4}`.
#[test]
fn membership_update_message_field_numbers() {
    let msg = net::MembershipUpdateMessage {
        chat_id: "c".into(),
        events: vec![vec![0x01]],
        chat_entity: Some(net::membership_update_message::ChatEntity::EmojiReaction(
            net::EmojiReaction { clock: 1, ..Default::default() },
        )),
    };
    assert_eq!(msg.encode_to_vec(), [0x0a, 0x01, b'c', 0x12, 0x01, 0x01, 0x22, 0x02, 0x08, 0x01]);
}

/// Seed 004: the description's fields keep the seed's numbers (13 = encrypted, 14 = tags).
#[test]
fn organization_description_field_numbers() {
    let d = net::OrganizationDescription {
        clock: 7,
        encrypted: true,
        tags: vec!["x".into()],
        ..Default::default()
    };
    assert_eq!(d.encode_to_vec(), [0x08, 0x07, 0x68, 0x01, 0x72, 0x01, b'x']);
}

/// Unknown fields from newer peers are skipped, not fatal.
#[test]
fn unknown_fields_are_skipped() {
    let mut bytes =
        net::OrganizationRequestToLeave { clock: 3, organization_id: vec![9] }.encode_to_vec();
    bytes.extend_from_slice(&[0xf8, 0x3e, 0x01]); // field 1000, varint 1
    let decoded = net::OrganizationRequestToLeave::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded.clock, 3);
}

/// Store records are zeroizable (and zeroized on drop).
#[test]
fn store_records_zeroize() {
    let mut record = AccountRecord {
        version: 1,
        identity_secret: vec![0x42; 32],
        identity_dh_secret: vec![0x43; 32],
        installation_id: "device".into(),
        created_at: 5,
    };
    record.zeroize();
    assert!(record.identity_secret.is_empty());
    assert!(record.identity_dh_secret.is_empty());
    assert_eq!(record.version, 0);
}
