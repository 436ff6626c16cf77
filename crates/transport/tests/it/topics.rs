//! Content-topic derivation and autosharding: known answers recomputed from the formulas, the
//! relay-sharding spec example, and properties.

use std::collections::BTreeSet;

use kaiwa_transport::{
    AccountKey, Autosharding, ClusterId, ContentTopic, NegotiatedTopicSecret, OrgKey,
    PARTITION_COUNT, PubsubTopic, ShardIndex, TopicScheme,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

/// `hex(SHA-256(label ‖ input)[0..16])`, written out again from the module documentation.
fn labelled(label: &str, input: &[u8]) -> String {
    let digest = Sha256::new().chain_update(label.as_bytes()).chain_update(input).finalize();
    hex::encode(&digest[..16])
}

fn partition_by_formula(key: &[u8; 32]) -> u16 {
    let digest = Sha256::digest(key);
    let value = u64::from_be_bytes(digest[..8].try_into().unwrap());
    u16::try_from(value % 5000).unwrap()
}

#[test]
fn partition_known_answers() {
    // Computed independently with Python hashlib: int.from_bytes(sha256(k)[:8], "big") % 5000.
    let cases: [([u8; 32], u16); 3] = [
        ([0; 32], 4175),
        ([1; 32], 59),
        (core::array::from_fn(|i| u8::try_from(i).unwrap()), 1654),
    ];
    for (key, expected) in cases {
        assert_eq!(TopicScheme::partition(&AccountKey::from_bytes(key)), expected);
        assert_eq!(partition_by_formula(&key), expected);
        assert_eq!(
            TopicScheme::default().partitioned(&AccountKey::from_bytes(key)).as_str(),
            format!("/kaiwa/1/contact-discovery-{expected}/proto")
        );
    }
}

#[test]
fn every_kind_of_traffic_has_its_topic() {
    let scheme = TopicScheme::new("chat").unwrap();
    let account = AccountKey::from_bytes([0xaa; 32]);
    let org = OrgKey::from_bytes([0x0b; 32]);
    let org_hex = "0b".repeat(32);
    let chat_id = format!("{}-8d3a2c1e-0b5f-4c7a-9e21-3f4b5c6d7e8f", "00".repeat(32));
    let mut secret_bytes = [0x42; 32];
    let secret = NegotiatedTopicSecret::from_bytes(&mut secret_bytes);

    assert_eq!(
        scheme.contact_code(&account).as_str(),
        format!("/chat/1/contact-code-{}/proto", "aa".repeat(32))
    );
    // Python hashlib: sha256(label + input)[:16].hex().
    let negotiated = "255bdb2baaf5812d60688aff301d7bda";
    assert_eq!(labelled("kaiwa/transport/negotiated-topic/v1", &[0x42; 32]), negotiated);
    assert_eq!(
        scheme.negotiated(&secret).as_str(),
        format!("/chat/1/negotiated-{negotiated}/proto")
    );
    let group = "a2a08920b3a6468416f1f083aec45062";
    assert_eq!(labelled("kaiwa/transport/group-topic/v1", chat_id.as_bytes()), group);
    assert_eq!(scheme.group(&chat_id).as_str(), format!("/chat/1/group-{group}/proto"));
    assert_eq!(
        scheme.org_description(&org).as_str(),
        format!("/chat/1/org-{org_hex}-description/proto")
    );
    assert_eq!(scheme.org_requests(&org).as_str(), format!("/chat/1/org-{org_hex}-requests/proto"));
    let channel = "3515df77e6fe8b91dbd69e5cf98dc5a5";
    assert_eq!(labelled("kaiwa/transport/org-channel-topic/v1", b"general"), channel);
    assert_eq!(
        scheme.org_channel(&org, "general").as_str(),
        format!("/chat/1/org-{org_hex}-channel-{channel}/proto")
    );

    // All of them parse back, and all differ.
    let topics = [
        scheme.contact_code(&account),
        scheme.partitioned(&account),
        scheme.negotiated(&secret),
        scheme.group(&chat_id),
        scheme.org_description(&org),
        scheme.org_requests(&org),
        scheme.org_channel(&org, "general"),
        scheme.org_channel(&org, "random"),
    ];
    for topic in &topics {
        assert_eq!(&ContentTopic::parse(topic.as_str()).unwrap(), topic);
        assert_eq!(
            (topic.application(), topic.version(), topic.encoding()),
            ("chat", "1", "proto")
        );
    }
    assert_eq!(topics.iter().collect::<BTreeSet<_>>().len(), topics.len());
}

#[test]
fn hostile_ids_still_give_valid_topics() {
    let scheme = TopicScheme::default();
    let org = OrgKey::from_bytes([1; 32]);
    for id in ["", "/", "a/b/c", "with space", "\u{202e}rtl", &"x".repeat(100_000)] {
        let group = scheme.group(id);
        let channel = scheme.org_channel(&org, id);
        assert_eq!(ContentTopic::parse(group.as_str()).unwrap(), group);
        assert_eq!(ContentTopic::parse(channel.as_str()).unwrap(), channel);
    }
}

#[test]
fn relay_sharding_spec_example() {
    // relay-sharding "Automatic Sharding" example: myapp / 1 / 8 shards → shard 0,
    // SHA-256("myapp1") = 8e541178…802d4928.
    assert_eq!(
        hex::encode(Sha256::digest(b"myapp1")),
        "8e541178adbd8126068c47be6a221d77d64837221893a8e4e53139fb802d4928"
    );
    let network = Autosharding::new(ClusterId::new(1), 8).unwrap();
    let topic = ContentTopic::parse("/myapp/1/latest/proto").unwrap();
    assert_eq!(network.shard(&topic), ShardIndex::new(0).unwrap());
    assert_eq!(network.pubsub_topic(&topic), PubsubTopic::parse("/waku/2/rs/1/0").unwrap());
    // The full form with generation 0 routes identically.
    let full = ContentTopic::parse("/0/myapp/1/latest/proto").unwrap();
    assert_eq!(network.shard(&full), ShardIndex::new(0).unwrap());
}

#[test]
fn autosharding_known_answers() {
    // Python hashlib: int.from_bytes(sha256(app + version)[24:], "big") % n.
    let cases = [("toychat", "2", 8, 3), ("kaiwa", "1", 8, 1), ("kaiwa", "1", 1024, 617)];
    for (app, version, shards, expected) in cases {
        let network = Autosharding::new(ClusterId::STATUS, shards).unwrap();
        let topic = ContentTopic::parse(&format!("/{app}/{version}/anything/proto")).unwrap();
        assert_eq!(network.shard(&topic).get(), expected, "{app}/{version} mod {shards}");
        assert_eq!(network.pubsub_topic(&topic).as_str(), format!("/waku/2/rs/16/{expected}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn partitions_are_in_range_stable_and_follow_the_formula(key in any::<[u8; 32]>()) {
        let account = AccountKey::from_bytes(key);
        let partition = TopicScheme::partition(&account);
        prop_assert!(partition < PARTITION_COUNT);
        prop_assert_eq!(partition, TopicScheme::partition(&account));
        prop_assert_eq!(partition, partition_by_formula(&key));
    }

    #[test]
    fn topics_differ_per_key(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        prop_assume!(a != b);
        let scheme = TopicScheme::default();
        let (ka, kb) = (AccountKey::from_bytes(a), AccountKey::from_bytes(b));
        prop_assert_ne!(scheme.contact_code(&ka), scheme.contact_code(&kb));
        let (oa, ob) = (OrgKey::from_bytes(a), OrgKey::from_bytes(b));
        prop_assert_ne!(scheme.org_description(&oa), scheme.org_description(&ob));
        prop_assert_ne!(scheme.org_channel(&oa, "c"), scheme.org_channel(&ob, "c"));
        let (mut sa, mut sb) = (a, b);
        let (sa, sb) = (NegotiatedTopicSecret::from_bytes(&mut sa), NegotiatedTopicSecret::from_bytes(&mut sb));
        prop_assert_ne!(scheme.negotiated(&sa), scheme.negotiated(&sb));
    }

    #[test]
    fn shards_are_in_range(app in "[a-z]{1,12}", version in "[0-9]{1,3}", shards in 1u16..=1024) {
        let network = Autosharding::new(ClusterId::new(7), shards).unwrap();
        let topic = ContentTopic::parse(&format!("/{app}/{version}/n/proto")).unwrap();
        prop_assert!(network.shard(&topic).get() < shards);
    }
}
