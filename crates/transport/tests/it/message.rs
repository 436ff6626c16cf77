//! 14/WAKU2-MESSAGE: the spec's hash vectors and the wire conversions.

use kaiwa_transport::{ContentTopic, DecodeError, MessageHash, PubsubTopic, WakuMessage};
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::message as wire;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    source: String,
    pubsub_topic: String,
    payload_hex: String,
    content_topic: String,
    meta_hex: Option<String>,
    timestamp_be_u64_hex: Option<String>,
    expected_message_hash_hex: String,
}

fn vectors() -> Vec<Case> {
    let text = include_str!("../../test-vectors/message_hash_vectors.json");
    serde_json::from_str::<Vectors>(text).expect("vector file parses").cases
}

fn message_of(case: &Case) -> WakuMessage {
    let topic = ContentTopic::parse(&case.content_topic).expect("vector topic is valid");
    let mut message =
        WakuMessage::new(topic, hex::decode(&case.payload_hex).unwrap()).expect("fits");
    if let Some(meta) = &case.meta_hex {
        message = message.with_meta(hex::decode(meta).unwrap()).expect("meta fits");
    }
    if let Some(timestamp) = &case.timestamp_be_u64_hex {
        let bytes: [u8; 8] = hex::decode(timestamp).unwrap().try_into().unwrap();
        message = message.with_timestamp(i64::from_be_bytes(bytes)).expect("fits");
    }
    message
}

#[test]
fn all_four_spec_hash_vectors_match() {
    let cases = vectors();
    assert_eq!(cases.len(), 4);
    for case in &cases {
        assert!(case.source.contains("14/WAKU2-MESSAGE"), "{}", case.name);
        let pubsub = PubsubTopic::parse(&case.pubsub_topic).expect("vector pubsub topic is valid");
        let message = message_of(case);
        let hash = message.hash(&pubsub);
        assert_eq!(hash.to_string(), case.expected_message_hash_hex, "{}", case.name);
        assert_eq!(case.expected_message_hash_hex.parse::<MessageHash>(), Ok(hash));
        // The hash survives the wire: decoding the encoding gives the same message and hash.
        let decoded = WakuMessage::decode(&message.encode()).unwrap();
        assert_eq!(decoded.hash(&pubsub), hash, "{}", case.name);
    }
}

#[test]
fn hash_covers_exactly_the_specified_fields() {
    let case = vectors().into_iter().next().unwrap();
    let pubsub = PubsubTopic::parse(&case.pubsub_topic).unwrap();
    let message = message_of(&case);
    let hash = message.hash(&pubsub);
    // Not covered: version, ephemeral, rate-limit proof.
    let extended = message
        .clone()
        .with_version(1)
        .and_then(|m| m.with_ephemeral(true))
        .and_then(|m| m.with_rate_limit_proof(vec![1, 2, 3]))
        .unwrap();
    assert_eq!(extended.hash(&pubsub), hash);
    // Covered: the pubsub topic, and every hashed field.
    let other_pubsub = PubsubTopic::parse("/waku/2/rs/1/0").unwrap();
    assert_ne!(message.hash(&other_pubsub), hash);
    assert_ne!(message.clone().with_timestamp(1).unwrap().hash(&pubsub), hash);
    assert_ne!(message.clone().with_meta(vec![]).unwrap().hash(&pubsub), hash);
}

#[test]
fn decoding_rejects_what_nwaku_rejects() {
    let topic = "/kaiwa/1/x/proto".to_owned();
    let oversized_meta = wire::WakuMessage {
        content_topic: topic.clone(),
        meta: Some(vec![0; 65]),
        ..Default::default()
    };
    assert!(matches!(
        WakuMessage::decode(&oversized_meta.encode_to_vec()),
        Err(DecodeError::Invalid { .. })
    ));
    let oversized = wire::WakuMessage {
        content_topic: topic,
        payload: vec![0; 150 * 1024],
        ..Default::default()
    };
    assert!(matches!(
        WakuMessage::decode(&oversized.encode_to_vec()),
        Err(DecodeError::TooLarge { max: 153_600, .. })
    ));
    let no_topic = wire::WakuMessage { payload: vec![1], ..Default::default() };
    assert!(matches!(
        WakuMessage::decode(&no_topic.encode_to_vec()),
        Err(DecodeError::Invalid { .. })
    ));
}

#[test]
fn timestamps_are_zigzag_on_the_wire() {
    // sint64 -1 is the varint 0x01 after zig-zag; int64 -1 would take ten bytes.
    let message = WakuMessage::new(ContentTopic::parse("/a/1/b/c").unwrap(), Vec::new())
        .and_then(|m| m.with_timestamp(-1))
        .unwrap();
    let bytes = message.encode();
    assert!(bytes.ends_with(&[0x50, 0x01]), "{bytes:02x?}");
    assert_eq!(WakuMessage::decode(&bytes).unwrap().timestamp(), Some(-1));
}
