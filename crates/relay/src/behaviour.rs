//! The libp2p side of the node: transports, muxers, and the protocols a Waku relay node speaks.
//!
//! ```text
//! transports  TCP (nodelay) and WebSocket over TCP, DNS resolution    waku-transport.md §1.4
//! security    noise (XX, Ed25519 identity)
//! muxers      yamux, then mplex (js-waku speaks only mplex)
//! protocols   /vac/waku/relay/2.0.0          gossipsub v1.1, StrictNoSign,   11/WAKU2-RELAY
//!                                            id = sha256(data), validated
//!             /vac/waku/metadata/1.0.0       client + server                 nwaku waku_metadata
//!             /vac/waku/store-query/3.0.0    client (+ server if enabled)     13/WAKU2-STORE v3
//!             /ipfs/id/1.0.0, /ipfs/ping/1.0.0
//! ```
//!
//! Gossipsub parameters are nwaku's (`waku_relay/protocol.nim`, waku-transport.md §1.2):
//!
//! ```text
//! D=6 D_low=4 D_high=8 D_score=6 D_out=3 D_lazy=6 gossip_factor=0.25 heartbeat=1s
//! history_length=6 history_gossip=3 fanout_ttl=60s seen_ttl=120s prune_backoff=60s
//! unsubscribe_backoff=5s flood_publish=true
//! thresholds: gossip -100, publish -1000, graylist -10000, accept_px 0, opportunistic_graft 0
//! peer score: decay_interval 12s, decay_to_zero 0.01, retain_score 10min, app weight 0,
//!             ip_colocation weight -50 threshold 5, behaviour_penalty weight -10 decay 0.986
//! topic score (every relayed shard): topic_weight 1,
//!             P1 time_in_mesh weight 0.01 quantum 1s cap 10,
//!             P2 first_message_deliveries weight 1 decay 0.5 cap 10,
//!             P3/P3b mesh delivery penalties off,
//!             P4 invalid_message_deliveries weight -100 decay 0.5
//! ```
//!
//! nwaku's `disconnectBadPeers = true`: libp2p-gossipsub ignores a graylisted peer's RPCs, and
//! the node also disconnects every peer whose score is below the graylist threshold (checked
//! every second). With P₄ = −100 × (invalid deliveries)², a peer is cut off by its 11th invalid
//! message (−12,100); the count halves every 12 s. The validation mode is
//! `ValidationMode::Anonymous`: a message carrying `from`, `seqno`, `signature` or `key` is
//! rejected, as StrictNoSign requires (digest §7).

use std::collections::HashMap;
use std::time::Duration;

use libp2p::gossipsub::{
    self, MessageAuthenticity, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams,
    ValidationMode,
};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{StreamProtocol, identify, identity, ping};
use sha2::{Digest as _, Sha256};

use crate::framing::FrameCodec;
use crate::limits::{
    MAX_CONCURRENT_STREAMS, MAX_METADATA_MESSAGE_SIZE, MAX_RPC_FRAME_SIZE, MAX_STORE_REQUEST_SIZE,
    MAX_STORE_RESPONSE_SIZE, REQUEST_TIMEOUT,
};

/// Waku Relay's gossipsub protocol id (11/WAKU2-RELAY). The only id offered: no `/meshsub/*`.
pub(crate) const RELAY_PROTOCOL: &str = "/vac/waku/relay/2.0.0";
/// The metadata protocol id.
pub(crate) const METADATA_PROTOCOL: StreamProtocol =
    StreamProtocol::new("/vac/waku/metadata/1.0.0");
/// The Store v3 query protocol id.
pub(crate) const STORE_PROTOCOL: StreamProtocol =
    StreamProtocol::new("/vac/waku/store-query/3.0.0");
/// identify's protocol version string (`/ipfs/id/1.0.0` is the stream protocol itself).
const IDENTIFY_PROTOCOL_VERSION: &str = "ipfs/0.1.0";
/// Our identify agent string.
const AGENT_VERSION: &str = concat!("kaiwa-relay/", env!("CARGO_PKG_VERSION"));

/// The composed behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct NodeBehaviour {
    pub(crate) relay: gossipsub::Behaviour,
    pub(crate) metadata: request_response::Behaviour<FrameCodec>,
    pub(crate) store: request_response::Behaviour<FrameCodec>,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
}

/// Gossipsub's message id for Waku Relay: `sha256(data)`, data = the WakuMessage bytes.
pub(crate) fn relay_message_id(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// nwaku's gossipsub configuration (module documentation).
pub(crate) fn gossipsub_config() -> Result<gossipsub::Config, &'static str> {
    gossipsub::ConfigBuilder::default()
        .protocol_id(RELAY_PROTOCOL, gossipsub::Version::V1_1)
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|message| MessageId::from(relay_message_id(&message.data).to_vec()))
        .max_transmit_size(MAX_RPC_FRAME_SIZE)
        .heartbeat_interval(Duration::from_secs(1))
        .mesh_n(6)
        .mesh_n_low(4)
        .mesh_n_high(8)
        .retain_scores(6)
        .mesh_outbound_min(3)
        .gossip_lazy(6)
        .gossip_factor(0.25)
        .history_length(6)
        .history_gossip(3)
        .fanout_ttl(Duration::from_secs(60))
        .duplicate_cache_time(Duration::from_secs(120))
        .prune_backoff(Duration::from_secs(60))
        .unsubscribe_backoff(Duration::from_secs(5))
        .flood_publish(true)
        .build()
        .map_err(|_| "gossipsub configuration refused")
}

/// nwaku's per-topic score parameters (module documentation).
pub(crate) fn topic_score_params() -> TopicScoreParams {
    TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 10.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.5,
        first_message_deliveries_cap: 10.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_message_deliveries_decay: 0.0,
        mesh_message_deliveries_cap: 0.0,
        mesh_message_deliveries_threshold: 0.0,
        mesh_message_deliveries_window: Duration::from_millis(0),
        mesh_message_deliveries_activation: Duration::from_secs(0),
        mesh_failure_penalty_weight: 0.0,
        mesh_failure_penalty_decay: 0.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.5,
    }
}

/// nwaku's graylist threshold: below it a peer's RPCs are ignored, and the node disconnects it.
pub(crate) const GRAYLIST_THRESHOLD: f64 = -10_000.0;

/// nwaku's peer score parameters for these relayed topics, and its thresholds.
pub(crate) fn peer_score(
    topics: &[gossipsub::TopicHash],
) -> (PeerScoreParams, PeerScoreThresholds) {
    let params = PeerScoreParams {
        topics: topics
            .iter()
            .map(|topic| (topic.clone(), topic_score_params()))
            .collect::<HashMap<_, _>>(),
        app_specific_weight: 0.0,
        ip_colocation_factor_weight: -50.0,
        ip_colocation_factor_threshold: 5.0,
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_decay: 0.986,
        decay_interval: Duration::from_secs(12),
        decay_to_zero: 0.01,
        retain_score: Duration::from_secs(600),
        ..PeerScoreParams::default()
    };
    let thresholds = PeerScoreThresholds {
        gossip_threshold: -100.0,
        publish_threshold: -1000.0,
        graylist_threshold: GRAYLIST_THRESHOLD,
        accept_px_threshold: 0.0,
        opportunistic_graft_threshold: 0.0,
    };
    (params, thresholds)
}

/// Builds the behaviour for `key`, relaying `topics`, with or without the Store server.
pub(crate) fn build(
    key: &identity::Keypair,
    topics: &[gossipsub::TopicHash],
    store_server: bool,
) -> Result<NodeBehaviour, &'static str> {
    let mut relay = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, gossipsub_config()?)?;
    let (params, thresholds) = peer_score(topics);
    relay.with_peer_score(params, thresholds).map_err(|_| "peer score parameters refused")?;

    let request_config = request_response::Config::default()
        .with_request_timeout(REQUEST_TIMEOUT)
        .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let metadata = request_response::Behaviour::with_codec(
        FrameCodec {
            max_request: MAX_METADATA_MESSAGE_SIZE,
            max_response: MAX_METADATA_MESSAGE_SIZE,
        },
        [(METADATA_PROTOCOL, ProtocolSupport::Full)],
        request_config.clone(),
    );
    let store_support =
        if store_server { ProtocolSupport::Full } else { ProtocolSupport::Outbound };
    let store = request_response::Behaviour::with_codec(
        FrameCodec { max_request: MAX_STORE_REQUEST_SIZE, max_response: MAX_STORE_RESPONSE_SIZE },
        [(STORE_PROTOCOL, store_support)],
        request_config,
    );
    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_PROTOCOL_VERSION.to_owned(), key.public())
            .with_agent_version(AGENT_VERSION.to_owned()),
    );
    let ping = ping::Behaviour::new(ping::Config::new());
    Ok(NodeBehaviour { relay, metadata, store, identify, ping })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_accepted_by_libp2p() {
        let config = gossipsub_config().unwrap();
        assert_eq!(config.max_transmit_size(), MAX_RPC_FRAME_SIZE);
        assert!(config.validate_messages());
        assert_eq!(config.mesh_n(), 6);
        assert_eq!(config.duplicate_cache_time(), Duration::from_secs(120));
        let topic = gossipsub::IdentTopic::new("/waku/2/rs/42/0").hash();
        let (params, _) = peer_score(&[topic]);
        assert!(params.validate().is_ok());
        assert!(topic_score_params().validate().is_ok());
        let key = identity::Keypair::generate_ed25519();
        assert!(build(&key, &[], true).is_ok());
    }

    #[test]
    fn message_id_is_sha256_of_data() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let expected = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(relay_message_id(b"abc"), expected);
    }
}
