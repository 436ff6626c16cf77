//! Interop with js-waku (`@waku/sdk` 0.0.27 + `@waku/relay` 0.0.14, pinned in
//! `interop/js/package-lock.json`): Rust dials js and js dials Rust, over TCP and over
//! WebSocket. Payloads, content topics, timestamps and gossipsub message ids must match on both
//! sides, and the metadata handshake must pass both ways.
//!
//! The js side must be installed (`cd crates/relay/interop/js && npm ci`); without `node` or
//! the modules these tests FAIL with instructions. `KAIWA_SKIP_JS_INTEROP=1` skips them for
//! local runs only; CI never sets it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kaiwa_relay::{Multiaddr, RelayNode, RelayedMessage};
use kaiwa_transport::WakuMessage;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::support::*;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/js")
}

/// `false` when skipping was asked for; panics with instructions when the js side is missing.
fn js_available() -> bool {
    if std::env::var("KAIWA_SKIP_JS_INTEROP").as_deref() == Ok("1") {
        eprintln!("js-waku interop SKIPPED (KAIWA_SKIP_JS_INTEROP=1; CI never sets this)");
        return false;
    }
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|output| output.status.success()),
        "js-waku interop needs Node.js (>= 20) on PATH; install it, or set KAIWA_SKIP_JS_INTEROP=1 \
         to skip locally"
    );
    assert!(
        js_dir().join("node_modules/@waku/sdk").is_dir(),
        "js-waku interop needs its npm packages: run `cd crates/relay/interop/js && npm ci`, or set \
         KAIWA_SKIP_JS_INTEROP=1 to skip locally"
    );
    true
}

/// A js-waku relay node child process (killed on drop).
struct JsNode {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl JsNode {
    async fn spawn(transport: &str, muxer: &str, dial: Option<&Multiaddr>) -> Self {
        let mut command = Command::new("node");
        command
            .current_dir(js_dir())
            .arg("relay-node.mjs")
            .args(["--transport", transport, "--cluster", &CLUSTER.to_string(), "--shard", "0"])
            .args(["--content-topic", topic("interop").as_str(), "--timeout-ms", "60000"])
            .args(["--muxer", muxer])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(address) = dial {
            command.args(["--dial", &address.to_string()]);
        }
        let mut child = command.spawn().expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { _child: child, stdin, lines }
    }

    /// The next event of this kind; js errors fail the test.
    async fn event(&mut self, kind: &str) -> Value {
        loop {
            let line =
                within(20, kind, self.lines.next_line()).await.unwrap().expect("js node exited");
            let event: Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("js printed {line}"));
            match event["event"].as_str() {
                Some("error") => panic!("js node error: {event}"),
                Some(found) if found == kind => return event,
                _ => {}
            }
        }
    }

    async fn command(&mut self, command: Value) {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Waits until the js node has seen `peer` subscribe to the relay topic.
    async fn wait_subscribed(&mut self, peer: &str) {
        loop {
            let event = self.event("subscribed").await;
            if event["peer"] == peer && event["topic"] == pubsub().as_str() {
                return;
            }
        }
    }
}

/// Rust → js, js → Rust, and the metadata handshake, on an established connection.
async fn exchange(rust: &RelayNode, js: &mut JsNode, js_peer: &str, muxer: &str) {
    let mut at_rust = rust.subscribe_relay(filter("interop")).await.unwrap();
    // A stock js-waku node speaks only mplex: whoever dials, the connection must use it.
    let connected = js.event("connected").await;
    assert_eq!(connected["peer"], rust.peer_id().to_string());
    assert_eq!(connected["muxer"], muxer);
    assert_eq!(connected["encryption"], "/noise");
    js.wait_subscribed(&rust.peer_id().to_string()).await;
    assert!(rust.wait_for_relay_peers(&pubsub(), 1, Duration::from_secs(10)).await);

    // Rust → js, with a nanosecond timestamp js must keep exactly, and meta.
    let timestamp = now_ns() + 123;
    let sent = WakuMessage::new(topic("interop"), b"from rust".to_vec())
        .unwrap()
        .with_timestamp(timestamp)
        .unwrap()
        .with_meta(vec![0xab; 8])
        .unwrap();
    let published = rust.publish(&pubsub(), &sent).await.unwrap();
    let got = js.event("message").await;
    assert_eq!(got["msgId"], published.message_id.to_string(), "same gossipsub message id");
    assert_eq!(got["pubsubTopic"], pubsub().as_str());
    assert_eq!(got["contentTopic"], topic("interop").as_str());
    assert_eq!(got["payload"], hex(b"from rust"));
    assert_eq!(got["timestamp"], timestamp.to_string());
    assert_eq!(got["meta"], hex(&[0xab; 8]));

    // js → Rust: js-waku's encoder writes milliseconds × 10^6.
    let timestamp_ms = now_ns() / 1_000_000;
    js.command(serde_json::json!({
        "cmd": "send", "contentTopic": topic("interop").as_str(),
        "payload": hex(b"from js"), "timestampMs": timestamp_ms,
    }))
    .await;
    let sent_by_js = js.event("sent").await;
    assert!(sent_by_js["recipients"].as_u64().unwrap() >= 1);
    let RelayedMessage { received, message_id, propagation_source, .. } =
        within(10, "js message", at_rust.next()).await.unwrap();
    assert_eq!(sent_by_js["msgId"], message_id.to_string(), "same gossipsub message id");
    assert_eq!(propagation_source.to_string(), js_peer);
    assert_eq!(received.pubsub_topic, pubsub());
    assert_eq!(received.message.content_topic(), &topic("interop"));
    assert_eq!(received.message.payload(), b"from js");
    assert_eq!(received.message.timestamp(), Some(timestamp_ms * 1_000_000));

    // 140 KiB both ways: just under nwaku's 150 KiB cap, far over gossipsub's 64 KiB default
    // frame limit (a silent drop if either side got it wrong).
    let big: Vec<u8> = (0..140 * 1024).map(|i| (i % 251) as u8).collect();
    let sent =
        WakuMessage::new(topic("interop"), big.clone()).unwrap().with_timestamp(now_ns()).unwrap();
    let published = rust.publish(&pubsub(), &sent).await.unwrap();
    let got = js.event("message").await;
    assert_eq!(got["msgId"], published.message_id.to_string());
    assert_eq!(got["payload"], hex(&big));
    js.command(serde_json::json!({
        "cmd": "send", "contentTopic": topic("interop").as_str(),
        "payload": hex(&big), "timestampMs": timestamp_ms + 1,
    }))
    .await;
    let sent_by_js = js.event("sent").await;
    let relayed = within(10, "large js message", at_rust.next()).await.unwrap();
    assert_eq!(sent_by_js["msgId"], relayed.message_id.to_string());
    assert_eq!(relayed.received.message.payload(), big.as_slice());

    // Metadata: js asks us; we asked js when the connection opened and kept it.
    js.command(serde_json::json!({ "cmd": "metadata", "peer": rust.peer_id().to_string() })).await;
    let metadata = js.event("metadata").await;
    assert_eq!(metadata["error"], Value::Null);
    assert_eq!(metadata["clusterId"], u64::from(CLUSTER));
    assert_eq!(metadata["shards"], serde_json::json!([0]));
    let metrics = rust.metrics();
    assert_eq!(metrics.metadata_disconnects, 0, "js passed our handshake");
    assert_eq!(metrics.rejected, 0);
    js.command(serde_json::json!({ "cmd": "stop" })).await;
}

fn js_peer_of(address: &str) -> String {
    address.rsplit('/').next().unwrap().to_owned()
}

const MPLEX: &str = "/mplex/6.7.0";
const YAMUX: &str = "/yamux/1.0.0";

async fn rust_dials_js(transport: &str, muxer: &str) {
    if !js_available() {
        return;
    }
    within(60, "rust dials js", async {
        let js_muxer = if muxer == YAMUX { "yamux" } else { "mplex" };
        let mut js = JsNode::spawn(transport, js_muxer, None).await;
        let listening = js.event("listening").await;
        let address: Multiaddr = listening["addrs"][0].as_str().unwrap().parse().unwrap();
        let rust = start(config()).await;
        within(10, "dial js", rust.dial(address.clone())).await.unwrap();
        exchange(&rust, &mut js, &js_peer_of(&address.to_string()), muxer).await;
        rust.shutdown().await;
    })
    .await;
}

async fn js_dials_rust(transport: &str) {
    if !js_available() {
        return;
    }
    within(60, "js dials rust", async {
        let builder = if transport == "ws" { config().listen(ws()) } else { config() };
        let rust = start(builder).await;
        let target = address(&rust, transport == "ws").await;
        let mut js = JsNode::spawn(transport, "mplex", Some(&target)).await;
        let listening = js.event("listening").await;
        let js_peer = js_peer_of(listening["addrs"][0].as_str().unwrap());
        exchange(&rust, &mut js, &js_peer, MPLEX).await;
        rust.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_dials_js_over_tcp() {
    rust_dials_js("tcp", MPLEX).await;
}

/// js-waku configured with yamux (as nwaku offers it): our preferred muxer is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_dials_js_over_tcp_with_yamux() {
    rust_dials_js("tcp", YAMUX).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_dials_js_over_websocket() {
    rust_dials_js("ws", MPLEX).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_dials_rust_over_tcp() {
    js_dials_rust("tcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_dials_rust_over_websocket() {
    js_dials_rust("ws").await;
}
