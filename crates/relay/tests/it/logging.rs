//! Logs name peers, sizes and broken rules, never payload bytes.

use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::message as wire;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use super::support::*;

const MARKER: &[u8] = b"PAYLOAD-MARKER-7f3a";

/// Every kaiwa-relay event of the whole test binary, formatted with its fields.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("kaiwa_relay")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        LOG.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(Capture);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_logged_without_payload_bytes() {
    install();
    within(30, "logging", async {
        let sender = start(config()).await;
        let receiver = start(config().store_server(true)).await;
        connect(&sender, &receiver).await;
        let with_marker = |edit: fn(&mut wire::WakuMessage)| {
            let mut message = wire::WakuMessage {
                payload: [MARKER, &[0; 8]].concat(),
                content_topic: "/kaiwa/1/log/proto".into(),
                timestamp: Some(now_ns()),
                ..Default::default()
            };
            edit(&mut message);
            message.encode_to_vec()
        };
        let invalid = [
            with_marker(|m| m.meta = Some([MARKER, &[1; 60]].concat())),
            with_marker(|m| m.content_topic = String::from_utf8(MARKER.to_vec()).unwrap()),
            with_marker(|m| m.payload = [MARKER, &vec![2; 150 * 1024]].concat()),
            [&[0x0a, 0x7f][..], MARKER].concat(),
        ];
        for data in invalid {
            sender.publish_raw_for_testing_only(&pubsub(), data).await.unwrap();
        }
        let marker_message = message("log", [MARKER, b"valid"].concat());
        let mut inbox = receiver.subscribe_relay(filter("log")).await.unwrap();
        sender.publish(&pubsub(), &marker_message).await.unwrap();
        within(10, "valid message", inbox.next()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.metrics().rejected, 4);

        let log = LOG.lock().unwrap().join("\n");
        assert!(log.contains("invalid relay message rejected"), "the capture works: {log}");
        let marker_text = String::from_utf8(MARKER.to_vec()).unwrap();
        let marker_hex = hex(MARKER);
        let marker_bytes = format!("{:?}", MARKER.iter().take(6).collect::<Vec<_>>());
        for needle in [
            marker_text.as_str(),
            marker_hex.as_str(),
            marker_bytes.trim_matches(|c| c == '[' || c == ']'),
        ] {
            assert!(!log.contains(needle), "payload bytes leaked into the logs ({needle})");
        }
        sender.shutdown().await;
        receiver.shutdown().await;
    })
    .await;
}
