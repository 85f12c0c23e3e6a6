import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { decodeEnvelope, encodeEnvelope } from "../../src/mesh/meshtastic/envelope.js";
import { Priority } from "../../src/mesh/transport.js";
import { MeshtasticMqttTransport } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { MqttTransport } from "../../src/mesh/transports/mqtt.js";
import { embeddedBroker, mosquittoBroker, mosquittoPath, type TestBroker } from "../fixtures/brokers.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";
import { transportCompliance, type TransportPair } from "./transport-compliance.js";

const realTimers = { now: () => Date.now(), setTimeout: (f: () => void, ms: number) => setTimeout(f, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const deps = (seed: number) => ({ clock: realTimers, random: seededRandom(seed) });
const CHANNEL = channelKey("MeshChain", new Uint8Array(16).fill(0x5a));

function counter(start: number) {
  let n = start;
  return { take: () => n++ };
}

async function publishRaw(url: string, topic: string, payload: Uint8Array): Promise<void> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await c.publishAsync(topic, Buffer.from(payload));
  await c.endAsync();
}

function meshtasticPair(makeBroker: () => Promise<TestBroker>) {
  return async (): Promise<TransportPair> => {
    const broker = await makeBroker();
    const make = (node: number, seed: number) =>
      new MeshtasticMqttTransport(
        { link: { url: broker.url, clientId: `node-${node}` }, region: "EU_868", channel: CHANNEL, portnum: 256, hopLimit: 3, nodeNumber: node, packetIds: counter(1000) },
        deps(seed),
      );
    const a = make(0x1000_0001, 1);
    const b = make(0x1000_0002, 2);
    await Promise.all([a.start(), b.start()]);
    return {
      a, b, unstarted: make(0x1000_0003, 9),
      injectJunk: (bytes) => publishRaw(broker.url, "msh/EU_868/2/e/MeshChain/!deadbeef", bytes),
      close: async () => {
        await Promise.all([a.stop(), b.stop()]);
        await broker.close();
      },
    };
  };
}

function mqttPair(makeBroker: () => Promise<TestBroker>) {
  return async (): Promise<TransportPair> => {
    const broker = await makeBroker();
    const make = (node: number, seed: number) => new MqttTransport({ link: { url: broker.url, clientId: `ip-${node}` }, chainId: "meshchain-test", nodeNumber: node }, deps(seed));
    const a = make(0x2000_0001, 3);
    const b = make(0x2000_0002, 4);
    await Promise.all([a.start(), b.start()]);
    return {
      a, b, unstarted: make(0x2000_0003, 9),
      injectJunk: (bytes) => publishRaw(broker.url, "meshchain/meshchain-test/f/not-a-node", bytes.length === 0 ? Uint8Array.of(1) : bytes),
      close: async () => {
        await Promise.all([a.stop(), b.stop()]);
        await broker.close();
      },
    };
  };
}

transportCompliance("meshtastic-mqtt over aedes", meshtasticPair(() => embeddedBroker()));
transportCompliance("mqtt over aedes", mqttPair(() => embeddedBroker()));

const haveMosquitto = mosquittoPath() !== null;
if (process.env.CI !== undefined && !haveMosquitto) throw new Error("CI must install mosquitto (.ci/run)");
describe.skipIf(!haveMosquitto)("against mosquitto", () => {
  it("authenticates with username and password, and stays down (retrying) with wrong ones", async () => {
    const broker = await mosquittoBroker({ user: { name: "radio", password: "s3cret" } });
    const good = new MqttTransport({ link: { url: broker.url, clientId: "good", username: "radio", password: "s3cret" }, chainId: "meshchain-test", nodeNumber: 11 }, deps(11));
    const bad = new MqttTransport({ link: { url: broker.url, clientId: "bad", username: "radio", password: "wrong", reconnectMinMs: 50, reconnectMaxMs: 100 }, chainId: "meshchain-test", nodeNumber: 12 }, deps(12));
    try {
      await good.start();
      expect(good.linkState).toBe("connected");
      void bad.start();
      await new Promise((r) => setTimeout(r, 500));
      expect(bad.linkState).not.toBe("connected");
      await bad.send(Uint8Array.of(1), Priority.Control);
    } finally {
      await Promise.all([good.stop(), bad.stop()]);
      await broker.close();
    }
  });

  it("connects over TLS with the broker's CA, and refuses a server it cannot verify", async () => {
    const broker = await mosquittoBroker({ tls: true });
    const trusted = new MqttTransport({ link: { url: broker.url, clientId: "tls", tls: { caFile: broker.caFile } }, chainId: "meshchain-test", nodeNumber: 13 }, deps(13));
    const untrusting = new MqttTransport({ link: { url: broker.url, clientId: "no-ca", reconnectMinMs: 50, reconnectMaxMs: 100 }, chainId: "meshchain-test", nodeNumber: 14 }, deps(14));
    try {
      await trusted.start();
      expect(trusted.linkState).toBe("connected");
      void untrusting.start();
      await new Promise((r) => setTimeout(r, 500));
      expect(untrusting.linkState).not.toBe("connected");
    } finally {
      await Promise.all([trusted.stop(), untrusting.stop()]);
      await broker.close();
    }
  });

  transportCompliance("meshtastic-mqtt over mosquitto", meshtasticPair(() => mosquittoBroker()));
  transportCompliance("mqtt over mosquitto", mqttPair(() => mosquittoBroker()));
});

describe("meshtastic-mqtt specifics", () => {
  it("publishes real Meshtastic envelopes a gateway would, with never-repeating packet ids", async () => {
    const broker = await embeddedBroker();
    const t = new MeshtasticMqttTransport({ link: { url: broker.url, clientId: "n1" }, region: "EU_868", channel: CHANNEL, portnum: 300, hopLimit: 2, nodeNumber: 0x0a0b0c0d, packetIds: counter(77) }, deps(5));
    const spy = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const seen: { topic: string; payload: Uint8Array }[] = [];
    spy.on("message", (topic, payload) => seen.push({ topic, payload: new Uint8Array(payload) }));
    await spy.subscribeAsync("msh/#");
    try {
      await t.start();
      await t.send(Uint8Array.of(1, 2, 3), Priority.Consensus);
      await t.send(Uint8Array.of(4), Priority.Consensus);
      // A frame for the direct neighbours only: a gateway never transmits a hop-0 downlink, so 1.
      await t.send(Uint8Array.of(5), Priority.Consensus, { hopLimit: 0 });
      await waitFor(() => seen.length === 3);
      expect(seen[0]!.topic).toBe("msh/EU_868/2/e/MeshChain/!0a0b0c0d");
      const d = seen.map((s) => decodeEnvelope(s.payload, CHANNEL, { checkHash: true }));
      expect(d.map((x) => x.id)).toEqual([77, 78, 79]);
      expect(d[2]).toMatchObject({ hopLimit: 1, hopStart: 1 });
      expect(d[0]).toMatchObject({ from: 0x0a0b0c0d, to: 0xffffffff, hopLimit: 2, hopStart: 2, channelId: "MeshChain", gatewayId: "!0a0b0c0d", wasEncrypted: true });
      expect(d[0]!.data).toMatchObject({ portnum: 300, bitfield: 1 });
    } finally {
      await spy.endAsync();
      await t.stop();
      await broker.close();
    }
  });

  it("dedupes a packet uplinked by several gateways, ignores other ports quietly, reports hops, SNR and RSSI", async () => {
    const broker = await embeddedBroker();
    const t = new MeshtasticMqttTransport({ link: { url: broker.url, clientId: "n1" }, region: "EU_868", channel: CHANNEL, portnum: 256, hopLimit: 3, nodeNumber: 0x0a0b0c0d, packetIds: counter(1) }, deps(6));
    const got: { from: number; hopsAway: number | null }[] = [];
    t.onFrame((f) => got.push(f));
    try {
      await t.start();
      const frame = encodeEnvelope({ from: 0x55, to: 0xffffffff, id: 9, hopLimit: 1, hopStart: 3 }, { portnum: 256, payload: Uint8Array.of(0x41, 0, 1), bitfield: 1, wantResponse: false }, CHANNEL, 0x66);
      const text = encodeEnvelope({ from: 0x55, to: 0xffffffff, id: 10, hopLimit: 3, hopStart: 3 }, { portnum: 1, payload: new TextEncoder().encode("hi"), bitfield: 1, wantResponse: false }, CHANNEL, 0x66);
      await publishRaw(broker.url, "msh/EU_868/2/e/MeshChain/!00000066", frame);
      await publishRaw(broker.url, "msh/EU_868/2/e/MeshChain/!00000077", frame);
      await publishRaw(broker.url, "msh/EU_868/2/e/MeshChain/!00000066", text);
      await waitFor(() => t.stats.duplicates === 1 && t.stats.otherPorts === 1);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ from: 0x55, hopsAway: 2 });
    } finally {
      await t.stop();
      await broker.close();
    }
  });
});

describe("MQTT link robustness", () => {
  it("keeps a retained online status while connected, and offline once it leaves", async () => {
    const broker = await embeddedBroker();
    const t = new MqttTransport({ link: { url: broker.url, clientId: "status" }, chainId: "meshchain-test", nodeNumber: 0xabc }, deps(21));
    const read = async () => {
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const got = new Promise<string>((resolve) => c.on("message", (_t, p) => resolve(p.toString())));
      await c.subscribeAsync("meshchain/meshchain-test/status/00000abc");
      const value = await got;
      await c.endAsync();
      return value;
    };
    try {
      await t.start();
      expect(await read()).toBe("online");
      await t.stop();
      expect(await read()).toBe("offline");
    } finally {
      await broker.close();
    }
  });

  it("queues while the broker is away, reconnects with backoff, and sends by priority when back", async () => {
    const broker = await embeddedBroker();
    const port = Number(new URL(broker.url).port);
    const clock = new ManualClock(0);
    const sender = new MqttTransport({ link: { url: broker.url, clientId: "s", reconnectMinMs: 100, reconnectMaxMs: 400 }, chainId: "meshchain-test", nodeNumber: 7 }, { clock, random: seededRandom(1) });
    await sender.start();
    await broker.close();
    await waitFor(() => sender.linkState === "disconnected");
    // All three at QoS 0: a broker forwards QoS 1 (transactions) on a path of its own, so arrival
    // order across QoS levels says nothing about the order the link sent them in.
    await sender.send(Uint8Array.of(3), Priority.Control);
    await sender.send(Uint8Array.of(1), Priority.Consensus);
    await sender.send(Uint8Array.of(2), Priority.Sync);
    const again = await embeddedBroker(port);
    const receiver = new MqttTransport({ link: { url: again.url, clientId: "r" }, chainId: "meshchain-test", nodeNumber: 8 }, deps(2));
    const order: number[] = [];
    receiver.onFrame((f) => order.push(f.bytes[0]!));
    try {
      await receiver.start();
      // Backoff timers run on the manual clock: the link stays down until it advances.
      expect(sender.linkState).toBe("disconnected");
      for (let i = 0; i < 20 && sender.linkState !== "connected"; i++) {
        clock.advance(500);
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(() => order.length === 3, 10_000, "queued frames");
      expect(order).toEqual([1, 2, 3]);
    } finally {
      await sender.stop();
      await receiver.stop();
      await again.close();
    }
  });
});
