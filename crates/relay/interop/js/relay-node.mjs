// A js-waku relay node for kaiwa-relay's interop tests. Loopback only; exits by itself.
//
// Usage:
//   node relay-node.mjs --transport tcp|ws --cluster 42 --shard 0 --content-topic /kaiwa/1/x/proto
//                       [--dial <multiaddr>] [--muxer mplex|yamux] [--timeout-ms 60000]
//
// The default muxer is mplex only, as in a stock js-waku node (@waku/sdk's defaultLibp2p).
//
// Writes one JSON object per line on stdout:
//   {"event":"listening","addrs":["/ip4/127.0.0.1/tcp/N/p2p/..."]}
//   {"event":"connected","peer":"12D3...","muxer":"/mplex/6.7.0","encryption":"/noise"}
//   {"event":"subscribed","peer":"12D3...","topic":"/waku/2/rs/42/0"}
//   {"event":"message","msgId":"<hex>","pubsubTopic":...,"contentTopic":...,"payload":"<hex>",
//    "timestamp":"<ns>"|null,"meta":"<hex>"|null,"version":0}
//   {"event":"sent","msgId":"<hex>","recipients":N}
//   {"event":"metadata","clusterId":N|null,"shards":[...],"error":null|"..."}
//   {"event":"error","error":"..."}
// Reads one JSON command per line on stdin:
//   {"cmd":"send","contentTopic":"...","payload":"<hex>","timestampMs":N}
//   {"cmd":"metadata","peer":"12D3..."}
//   {"cmd":"stop"}
import "./polyfill.mjs";

import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import { yamux } from "@chainsafe/libp2p-yamux";
import { mplex } from "@libp2p/mplex";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { all as allAddrs } from "@libp2p/websockets/filters";
import { multiaddr } from "@multiformats/multiaddr";
import { createDecoder, createEncoder } from "@waku/sdk";
import { createRelayNode } from "@waku/sdk/relay";

const { values: args } = parseArgs({
  options: {
    transport: { type: "string", default: "tcp" },
    cluster: { type: "string", default: "42" },
    shard: { type: "string", default: "0" },
    "content-topic": { type: "string", default: "/kaiwa/1/interop/proto" },
    dial: { type: "string" },
    muxer: { type: "string", default: "mplex" },
    "timeout-ms": { type: "string", default: "60000" },
  },
});

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const hex = (bytes) => Buffer.from(bytes).toString("hex");

const clusterId = Number(args.cluster);
const shard = Number(args.shard);
const pubsubTopic = `/waku/2/rs/${clusterId}/${shard}`;
const contentTopic = args["content-topic"];
const ws = args.transport === "ws";

const node = await createRelayNode({
  networkConfig: { clusterId, shards: [shard] },
  libp2p: {
    addresses: { listen: [ws ? "/ip4/127.0.0.1/tcp/0/ws" : "/ip4/127.0.0.1/tcp/0"] },
    transports: ws ? [webSockets({ filter: allAddrs })] : [tcp()],
    streamMuxers: args.muxer === "yamux" ? [yamux()] : [mplex()],
    filterMultiaddrs: false,
    hideWebSocketInfo: true,
  },
});

const stop = async (code) => {
  try {
    await node.stop();
  } catch (e) {
    emit({ event: "error", error: `stop: ${e}` });
  }
  process.exit(code);
};
setTimeout(() => {
  emit({ event: "error", error: "timeout" });
  void stop(3);
}, Number(args["timeout-ms"])).unref();

const gossipsub = node.libp2p.services.pubsub;
const decoder = createDecoder(contentTopic, pubsubTopic);

gossipsub.addEventListener("subscription-change", (event) => {
  for (const sub of event.detail.subscriptions) {
    if (sub.subscribe) {
      emit({ event: "subscribed", peer: event.detail.peerId.toString(), topic: sub.topic });
    }
  }
});
// Every message js-waku's gossipsub accepted, with gossipsub's own message id (base64 -> hex),
// decoded by js-waku's version-0 decoder.
gossipsub.addEventListener("gossipsub:message", (event) => {
  const { msg, msgId } = event.detail;
  void (async () => {
    const proto = await decoder.fromWireToProtoObj(msg.data);
    const decoded = await decoder.fromProtoObj(msg.topic, proto);
    if (!decoded) {
      emit({ event: "error", error: "undecodable message" });
      return;
    }
    emit({
      event: "message",
      msgId: Buffer.from(msgId, "base64").toString("hex"),
      pubsubTopic: decoded.pubsubTopic,
      contentTopic: decoded.contentTopic,
      payload: hex(decoded.payload),
      timestamp: decoded._rawTimestamp === undefined ? null : decoded._rawTimestamp.toString(),
      meta: decoded.meta === undefined ? null : hex(decoded.meta),
      version: decoded.version,
    });
  })().catch((e) => emit({ event: "error", error: `decode: ${e}` }));
});
node.libp2p.addEventListener("connection:open", (event) => {
  const connection = event.detail;
  emit({
    event: "connected",
    peer: connection.remotePeer.toString(),
    muxer: connection.multiplexer ?? null,
    encryption: connection.encryption ?? null,
  });
});

await node.start();
emit({ event: "listening", addrs: node.libp2p.getMultiaddrs().map((a) => a.toString()) });

if (args.dial) {
  await node.libp2p.dial(multiaddr(args.dial));
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  let command = null;
  void (async () => {
    command = JSON.parse(line);
    if (command.cmd === "send") {
      const encoder = createEncoder({ contentTopic: command.contentTopic, pubsubTopic });
      const message = {
        payload: Buffer.from(command.payload, "hex"),
        timestamp: new Date(command.timestampMs),
      };
      // The same bytes js-waku's relay.send() publishes; the id is js-waku's msgIdFn, sha256.
      const bytes = await encoder.toWire(message);
      const { recipients } = await gossipsub.publish(pubsubTopic, bytes);
      emit({
        event: "sent",
        msgId: createHash("sha256").update(bytes).digest("hex"),
        recipients: recipients.length,
      });
    } else if (command.cmd === "metadata") {
      const peers = node.libp2p.getPeers().filter((p) => p.toString() === command.peer);
      if (peers.length === 0) {
        emit({ event: "metadata", clusterId: null, shards: [], error: "no such peer" });
        return;
      }
      const { shardInfo, error } = await node.libp2p.services.metadata.query(peers[0]);
      emit({
        event: "metadata",
        clusterId: shardInfo?.clusterId ?? null,
        shards: shardInfo?.shards ?? [],
        error: error ?? null,
      });
    } else if (command.cmd === "stop") {
      await stop(0);
    }
  })().catch((e) => emit({ event: "error", error: `${command?.cmd ?? "command"}: ${e}` }));
});
commands.on("close", () => void stop(0));
