import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { DEFAULT_REASSEMBLY_LIMITS } from "../../src/mesh/fragmentation.js";
import { MessageEndpoint, type ReceivedMessage } from "../../src/mesh/endpoint.js";
import { MessageType } from "../../src/mesh/frame.js";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { encodeEnvelope } from "../../src/mesh/meshtastic/envelope.js";
import { Priority } from "../../src/mesh/transport.js";
import { MeshtasticMqttTransport } from "../../src/mesh/transports/meshtastic-mqtt.js";
import { systemClock } from "../../src/node/clock.js";
import { embeddedBroker } from "../fixtures/brokers.js";
import { FirstTryLoss } from "../fixtures/lossy-transport.js";
import { seededRandom } from "../fixtures/random.js";
import { waitFor } from "../fixtures/wait.js";

const CHANNEL = channelKey("MeshChain", Uint8Array.of(1));
const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxMessageBytes: 4096, maxPartialBytesPerSender: 8192, maxPartialBytesTotal: 65536, timeoutMs: 30_000, requestAfterMs: 300, maxRequests: 5 };

function counter() {
  let n = 1;
  return { take: () => n++ };
}

async function pair(brokerUrl: string) {
  const make = (node: number, seed: number) =>
    new MeshtasticMqttTransport({ link: { url: brokerUrl, clientId: `n${node}` }, region: "EU_868", channel: CHANNEL, portnum: 256, hopLimit: 3, nodeNumber: node, packetIds: counter() }, { clock: systemClock, random: seededRandom(seed) });
  const ta = make(0x0100_0001, 1);
  const tb = make(0x0100_0002, 2);
  await Promise.all([ta.start(), tb.start()]);
  return { ta, tb };
}

describe("messages over meshtastic-mqtt", () => {
  it("carry 4 KB through fragmentation with 20% of fragments lost on the first try", async () => {
    const broker = await embeddedBroker();
    const { ta, tb } = await pair(broker.url);
    const lossy = new FirstTryLoss(ta, 0.2, seededRandom(2026));
    const a = new MessageEndpoint(lossy, { limits, tickMs: 50 }, { clock: systemClock, random: seededRandom(3) });
    const b = new MessageEndpoint(tb, { limits, tickMs: 50 }, { clock: systemClock, random: seededRandom(4) });
    a.start();
    b.start();
    const got: ReceivedMessage[] = [];
    b.onMessage((m) => got.push(m));
    try {
      const message = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff);
      await a.send(MessageType.SyncResponse, message, Priority.Sync);
      await waitFor(() => got.length === 1, 20_000, "the reassembled message");
      expect(lossy.dropped.length).toBeGreaterThan(0);
      expect(toHex(got[0]!.payload)).toBe(toHex(message));
      expect(got[0]!.type).toBe(MessageType.SyncResponse);
      expect(got[0]!.meta.from).toBe(ta.localNode);
      expect(b.stats.fragmentRequestsSent).toBeGreaterThan(0);
      expect(a.stats.fragmentsResent).toBe(lossy.dropped.length);
      expect(b.reassembly.partialBytes).toBe(0);
    } finally {
      a.stop();
      b.stop();
      await Promise.all([ta.stop(), tb.stop()]);
      await broker.close();
    }
  });

  it("survive a flood of junk and forged fragments with bounded memory", async () => {
    const broker = await embeddedBroker();
    const { ta, tb } = await pair(broker.url);
    const b = new MessageEndpoint(tb, { limits, tickMs: 50 }, { clock: systemClock, random: seededRandom(4) });
    b.start();
    const got: ReceivedMessage[] = [];
    b.onMessage((m) => got.push(m));
    const flooder = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const random = seededRandom(99);
      const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      for (let i = 0; i < 1500; i++) {
        const kind = i % 3;
        const payload =
          kind === 0 ? bytes(Math.floor(random() * 300))
          : encodeEnvelope({ from: 0x500 + (i % 40), to: 0xffffffff, id: i + 1, hopLimit: 3, hopStart: 3 }, {
              portnum: 256,
              // Valid fragment headers of messages that will never complete, or random frames.
              payload: kind === 1 ? Uint8Array.of(0x62, i >> 8, i & 0xff, 0, 200, ...bytes(200)) : bytes(1 + Math.floor(random() * 200)),
              bitfield: 1, wantResponse: false,
            }, CHANNEL, 0x77);
        await flooder.publishAsync("msh/EU_868/2/e/MeshChain/!00000077", Buffer.from(payload));
      }
      await waitFor(() => tb.stats.malformed + tb.stats.undecryptable + tb.stats.framesReceived >= 1400, 20_000, "the flood");
      expect(b.reassembly.partialBytes).toBeLessThanOrEqual(limits.maxPartialBytesTotal);
      // Still works for honest traffic.
      const a = new MessageEndpoint(ta, { limits }, { clock: systemClock, random: seededRandom(5) });
      await a.send(MessageType.Transaction, Uint8Array.of(1, 2, 3), Priority.Transaction);
      await waitFor(() => got.some((m) => m.type === MessageType.Transaction && m.meta.from === ta.localNode), 10_000, "an honest message");
    } finally {
      await flooder.endAsync();
      b.stop();
      await Promise.all([ta.stop(), tb.stop()]);
      await broker.close();
    }
  });
});
