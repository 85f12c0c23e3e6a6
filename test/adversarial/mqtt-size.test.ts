import fc from "fast-check";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../src/mesh/broker.js";
import { MqttLink } from "../../src/mesh/mqtt-link.js";
import { MAX_MQTT_PACKET_BYTES, MqttPacketSizeGuard } from "../../src/mesh/mqtt-size-guard.js";
import { Priority } from "../../src/mesh/transport.js";
import { systemClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { testChain } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { metric } from "./attacker.js";
import { mosquittoBroker, mosquittoPath } from "../fixtures/brokers.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";

/** A PUBLISH packet as it goes on the wire (QoS 0): header, remaining length, topic, payload. */
function publishPacket(topic: string, payloadBytes: number): Uint8Array {
  const t = Buffer.from(topic);
  const remaining = 2 + t.length + payloadBytes;
  const len: number[] = [];
  let x = remaining;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    len.push(b);
  } while (x > 0);
  const out = new Uint8Array(1 + len.length + remaining);
  out[0] = 0x30;
  out.set(len, 1);
  out[1 + len.length] = t.length >> 8;
  out[2 + len.length] = t.length & 0xff;
  out.set(t, 3 + len.length);
  return out;
}

const dir = tempDirsPerTest();

describe("MQTT packet size guard", () => {
  it("finds the first oversized packet at its header, however the stream is cut into chunks", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: 1, maxLength: 30 }), (sizes, cuts) => {
      const packets = sizes.map((n) => publishPacket("meshchain/c/f/00000001", n));
      const stream = Buffer.concat(packets);
      const firstOver = packets.findIndex((p) => p.length > MAX_MQTT_PACKET_BYTES);
      const guard = new MqttPacketSizeGuard();
      let offset = 0;
      let found: number | null = null;
      for (let i = 0; found === null && offset < stream.length; i++) {
        const n = cuts[i % cuts.length]!;
        found = guard.feed(stream.subarray(offset, offset + n));
        offset += n;
      }
      expect(found).toBe(firstOver < 0 ? null : packets[firstOver]!.length);
      // Reported before the oversized packet's body had to be read (at most one chunk into it).
      if (firstOver >= 0) {
        const start = packets.slice(0, firstOver).reduce((a, p) => a + p.length, 0);
        expect(offset - start).toBeLessThanOrEqual(Math.max(...cuts) + 5);
      }
    }), { numRuns: 300 });
  });

  it("the embedded broker cuts a client that publishes a 100 MiB message at its header, and keeps serving others", async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    const heard: number[] = [];
    const listener = await mqtt.connectAsync(broker.url, { clientId: "listener" });
    const attacker = await mqtt.connectAsync(broker.url, { clientId: "attacker", reconnectPeriod: 0 });
    try {
      await listener.subscribeAsync("meshchain/c/f/+", { qos: 0 });
      listener.on("message", (_t, payload) => heard.push(payload.length));
      const before = process.memoryUsage().rss;
      // Announce 100 MiB and send the first 64 KiB of it: the broker must not wait for (or hold) the rest.
      const packet = publishPacket("meshchain/c/f/0000beef", 100 * 1024 * 1024);
      attacker.stream.write(packet.subarray(0, 64 * 1024));
      await waitFor(() => broker.stats.oversizeRefused === 1, 10_000, "the broker to cut the attacker");
      await waitFor(() => attacker.stream.destroyed, 10_000, "the attacker's connection to close");
      await listener.publishAsync("meshchain/c/f/00000002", Buffer.alloc(100));
      await waitFor(() => heard.includes(100), 10_000, "an ordinary message after the attack");
      expect(heard.some((n) => n > MAX_MQTT_PACKET_BYTES)).toBe(false);
      // The node's own accounting of memory: far below the 200 MB one such message used to add.
      expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
    } finally {
      attacker.end(true);
      await listener.endAsync(true);
      await broker.close();
    }
  });

  it("a node's embedded broker counts the clients it cut in the node's metrics", async () => {
    const chain = testChain({ validators: 1, users: 1 });
    const node = new MeshChainNode(
      { dataDir: dir(), genesis: chain.genesis, identity: chain.validators[0]!, slotMs: 1_000, heartbeatSlots: 1, statusIntervalMs: 1_000, network: { broker: "embedded", brokerPort: 0 } },
      { clock: systemClock, logger: silentLogger(), random: seededRandom(3) },
    );
    await node.start();
    const attacker = await mqtt.connectAsync(node.brokerUrl!, { clientId: "attacker", reconnectPeriod: 0 });
    try {
      expect(await metric(node, "meshchain_mqtt_oversize_packets_total", 'link="embedded_broker"')).toBe(0);
      attacker.stream.write(publishPacket("meshchain/c/f/0000beef", 1024 * 1024).subarray(0, 64 * 1024));
      await waitFor(() => attacker.stream.destroyed, 10_000, "the broker to cut the attacker");
      expect(await metric(node, "meshchain_mqtt_oversize_packets_total", 'link="embedded_broker"')).toBe(1);
    } finally {
      attacker.end(true);
      await node.stop();
    }
  });

  it.skipIf(mosquittoPath() === null)("our client cuts a broker that forwards an oversized message, reconnects, and hears what follows", async () => {
    const broker = await mosquittoBroker();
    const link = new MqttLink({ url: broker.url, clientId: "victim", reconnectMinMs: 50, reconnectMaxMs: 200 }, { clock: systemClock, random: seededRandom(1) });
    const heard: number[] = [];
    link.onMessage((_t, p) => heard.push(p.length));
    await link.subscribe("meshchain/c/f/+");
    link.start();
    await link.connected();
    const attacker = await mqtt.connectAsync(broker.url, { clientId: "attacker" });
    try {
      await attacker.publishAsync("meshchain/c/f/0000beef", Buffer.alloc(1024 * 1024));
      await waitFor(() => link.stats.oversizeRefused >= 1, 10_000, "the link to refuse the oversized message");
      await waitFor(() => link.state === "connected" && link.stats.connects >= 2, 10_000, "the link to reconnect");
      await waitFor(publishUntilHeard(attacker, heard), 10_000, "an ordinary message after the attack");
      expect(heard.every((n) => n <= MAX_MQTT_PACKET_BYTES)).toBe(true);
      await link.publish("meshchain/c/f/00000003", new Uint8Array(10), Priority.Control);
    } finally {
      await attacker.endAsync(true);
      await link.stop();
      await broker.close();
    }
  });
});

/** Keep publishing a small message until the link hears one (its subscription is back after the reconnect). */
function publishUntilHeard(client: mqtt.MqttClient, heard: number[]): () => boolean {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last > 200) {
      last = now;
      void client.publishAsync("meshchain/c/f/00000002", Buffer.alloc(100)).catch(() => undefined);
    }
    return heard.includes(100);
  };
}
