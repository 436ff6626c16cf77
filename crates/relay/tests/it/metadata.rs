//! The metadata handshake and hostile input on the request-response streams.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, StreamExt as _};
use kaiwa_relay::RelayConfig;
use kaiwa_transport::ClusterId;
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::metadata::WakuMetadataResponse;
use kaiwa_wire::waku::store::StoreQueryResponse;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, StreamProtocol, Swarm, SwarmBuilder, noise, tcp, yamux};

use super::support::*;

const METADATA: StreamProtocol = StreamProtocol::new("/vac/waku/metadata/1.0.0");
const STORE: StreamProtocol = StreamProtocol::new("/vac/waku/store-query/3.0.0");
const RELAY: StreamProtocol = StreamProtocol::new("/vac/waku/relay/2.0.0");
const PING: StreamProtocol = StreamProtocol::new("/ipfs/ping/1.0.0");
const IDENTIFY: StreamProtocol = StreamProtocol::new("/ipfs/id/1.0.0");

async fn wait_no_peers(node: &kaiwa_relay::RelayNode) {
    within(10, "disconnect", async {
        while !node.health().await.peers().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_of_another_cluster_or_without_shared_shards_are_disconnected() {
    within(40, "metadata", async {
        let ours = start(config()).await;
        for other in [
            RelayConfig::builder(ClusterId::new(16), [shard(0)]).listen(tcp()),
            RelayConfig::builder(ClusterId::new(CLUSTER), [shard(1)]).listen(tcp()),
        ] {
            let before = ours.metrics().metadata_disconnects;
            let stranger = start(other).await;
            // The dial itself succeeds; the handshake then ends the connection.
            within(10, "dial", stranger.dial(address(&ours, false).await)).await.unwrap();
            wait_no_peers(&ours).await;
            wait_no_peers(&stranger).await;
            let disconnects = ours.metrics().metadata_disconnects
                + stranger.metrics().metadata_disconnects
                - before;
            assert!(disconnects >= 1, "the handshake disconnected them");
            stranger.shutdown().await;
        }
        // A peer of the same cluster and shard stays.
        let friend = start(config()).await;
        connect(&friend, &ours).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(ours.health().await.peers().len(), 1);
        friend.shutdown().await;
        ours.shutdown().await;
    })
    .await;
}

/// A codec that writes exactly the bytes it is given (no length prefix) and reads until EOF:
/// the tool of a hostile peer.
#[derive(Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        io.take(1 << 20).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        io.take(1 << 20).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&request).await?;
        io.flush().await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()> {
        io.write_all(&response).await?;
        io.flush().await
    }
}

#[derive(NetworkBehaviour)]
struct Rogue {
    metadata: request_response::Behaviour<RawCodec>,
    store: request_response::Behaviour<RawCodec>,
    relay: request_response::Behaviour<RawCodec>,
    ping: request_response::Behaviour<RawCodec>,
    identify: request_response::Behaviour<RawCodec>,
}

fn rogue() -> Swarm<Rogue> {
    let config = request_response::Config::default().with_request_timeout(Duration::from_secs(2));
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| Rogue {
            metadata: request_response::Behaviour::new(
                [(METADATA, ProtocolSupport::Full)],
                config.clone(),
            ),
            store: request_response::Behaviour::new(
                [(STORE, ProtocolSupport::Outbound)],
                config.clone(),
            ),
            relay: request_response::Behaviour::new(
                [(RELAY, ProtocolSupport::Outbound)],
                config.clone(),
            ),
            ping: request_response::Behaviour::new(
                [(PING, ProtocolSupport::Outbound)],
                config.clone(),
            ),
            identify: request_response::Behaviour::new(
                [(IDENTIFY, ProtocolSupport::Outbound)],
                config,
            ),
        })
        .unwrap()
        .build()
}

fn prefixed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut len = body.len() as u64;
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(body);
    out
}

/// What a request from the rogue came to.
#[derive(Debug)]
enum Outcome {
    /// Some bytes came back.
    Response(Vec<u8>),
    /// The stream failed or ended without a byte: no answer.
    Failed,
}

/// Drives the rogue until its request `id` resolves, answering the node's own metadata request
/// honestly so that the node keeps the connection open.
async fn outcome(swarm: &mut Swarm<Rogue>, id: request_response::OutboundRequestId) -> Outcome {
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(RogueEvent::Metadata(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            })) => {
                let ours =
                    WakuMetadataResponse { cluster_id: Some(u32::from(CLUSTER)), shards: vec![0] };
                let _ = swarm
                    .behaviour_mut()
                    .metadata
                    .send_response(channel, prefixed(&ours.encode_to_vec()));
            }
            SwarmEvent::Behaviour(
                RogueEvent::Metadata(request_response::Event::Message {
                    message: request_response::Message::Response { request_id, response },
                    ..
                })
                | RogueEvent::Store(request_response::Event::Message {
                    message: request_response::Message::Response { request_id, response },
                    ..
                }),
            ) if request_id == id => {
                return if response.is_empty() {
                    Outcome::Failed
                } else {
                    Outcome::Response(response)
                };
            }
            SwarmEvent::Behaviour(
                RogueEvent::Metadata(request_response::Event::OutboundFailure {
                    request_id, ..
                })
                | RogueEvent::Store(request_response::Event::OutboundFailure { request_id, .. }),
            ) if request_id == id => return Outcome::Failed,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_metadata_and_store_streams_does_not_kill_the_node() {
    within(60, "garbage", async {
        let node = start(config().store_server(true)).await;
        let target: Multiaddr = address(&node, false).await;
        let mut rogue = rogue();
        rogue.dial(target).unwrap();
        let peer = node.peer_id();
        loop {
            if let SwarmEvent::ConnectionEstablished { .. } = rogue.select_next_some().await {
                break;
            }
        }

        // Metadata: an overlong varint, a frame announcing 4 GiB, a valid frame of garbage.
        let metadata_garbage =
            [vec![0xff; 12], vec![0x80, 0x80, 0x80, 0x80, 0x10], prefixed(&[0xff; 40])];
        for garbage in metadata_garbage {
            let id = rogue.behaviour_mut().metadata.send_request(&peer, garbage);
            assert!(
                matches!(outcome(&mut rogue, id).await, Outcome::Failed),
                "no answer to garbage"
            );
        }
        // Store: a valid frame of garbage is answered 400; a bad frame gets no answer.
        let id = rogue.behaviour_mut().store.send_request(&peer, prefixed(&[0xff; 40]));
        match outcome(&mut rogue, id).await {
            Outcome::Response(bytes) => {
                let body = bytes.get(1..).unwrap();
                assert_eq!(bytes[0] as usize, body.len());
                assert_eq!(StoreQueryResponse::decode(body).unwrap().status_code, Some(400));
            }
            Outcome::Failed => panic!("a decodable frame of garbage is answered 400"),
        }
        for garbage in [vec![0xff; 12], vec![0xff, 0xff, 0xff, 0x7f], vec![5, 1, 2]] {
            let id = rogue.behaviour_mut().store.send_request(&peer, garbage);
            assert!(matches!(outcome(&mut rogue, id).await, Outcome::Failed));
        }

        // Relay, ping and identify streams: garbage of every shape, all at once; whatever the
        // node does with them (close, reset, ignore until the rogue's 2 s timeout), it goes on.
        for garbage in
            [vec![0xff; 12], prefixed(&[0xff; 40]), vec![0; 7], vec![0x80, 0x80, 0x80, 0x80, 0x10]]
        {
            let behaviour = rogue.behaviour_mut();
            behaviour.relay.send_request(&peer, garbage.clone());
            behaviour.ping.send_request(&peer, garbage.clone());
            behaviour.identify.send_request(&peer, garbage);
        }
        let mut settled = 0;
        while settled < 12 {
            if let SwarmEvent::Behaviour(
                RogueEvent::Relay(event) | RogueEvent::Ping(event) | RogueEvent::Identify(event),
            ) = rogue.select_next_some().await
                && matches!(
                    event,
                    request_response::Event::Message { .. }
                        | request_response::Event::OutboundFailure { .. }
                )
            {
                settled += 1;
            }
        }

        let metrics = node.metrics();
        assert_eq!(metrics.metadata_bad_requests, 1);
        assert_eq!(metrics.store_bad_requests, 1);
        // Frames the codec refuses die inside libp2p's request-response handler (it logs them at
        // debug level); the node sees only the request it dropped unanswered.
        assert!(metrics.inbound_stream_failures >= 1, "{metrics:?}");
        drop(rogue);

        // The node still relays.
        let a = start(config()).await;
        let mut at_node = node.subscribe_relay(filter("alive")).await.unwrap();
        connect(&a, &node).await;
        let sent = message("alive", b"still here".to_vec());
        a.publish(&pubsub(), &sent).await.unwrap();
        assert_eq!(within(10, "delivery", at_node.next()).await.unwrap().received.message, sent);
        a.shutdown().await;
        node.shutdown().await;
    })
    .await;
}
