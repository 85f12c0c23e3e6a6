import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { VirtualTime } from "../../src/devnet/virtual-time.js";
import { DEVNET_CHANNEL } from "../../src/devnet/common.js";
import { helloMinIntervalMs } from "../../src/mesh/airtime/control-rates.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { MessageEndpoint } from "../../src/mesh/endpoint.js";
import { MessageType } from "../../src/mesh/frame.js";
import { getBlockCodec } from "../../src/mesh/messages/chain.js";
import { PRIVATE_APP_PORT } from "../../src/mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { Priority } from "../../src/mesh/transport.js";
import { silentLogger } from "../../src/node/logger.js";
import { NodeNetwork } from "../../src/node/network.js";
import { testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { hellos } from "../adversarial/radio-networks.js";
import { helloCodec } from "../../src/mesh/messages/signed.js";
import { nodeNumberFromPublicKey } from "../../src/mesh/meshtastic/node-number.js";

const PRESET = "SHORT_FAST" as const;
const CHAIN_ID = "hello-reach";
const GENESIS = new Uint8Array(32).fill(9);
const HELLO_INTERVAL_MS = helloMinIntervalMs(PRESETS[PRESET]);

/** Radio-only networks on a lossless channel of 5 km range, each radio where the test puts it (x in metres). */
function line() {
  const clock = new ManualClock(1_767_225_600_000);
  const time = new VirtualTime(clock);
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS[PRESET], random: seededRandom(3), defaultLoss: 0, rangeMeters: 5_000 }, clock);
  const network = (node: number, x: number) => {
    const radio = channel.addRadio(node, { position: { x, y: 0 } });
    let packet = node * 1_000_000;
    return new NodeNetwork(
      {
        broker: "none", brokerPort: 0, ipPeers: false, chainId: CHAIN_ID, genesisHash: GENESIS,
        radio: { broker: "sim", region: "EU_868", preset: PRESET, channel: DEVNET_CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: 3, budgetSecondsPerHour: 180, packetIds: { take: () => packet++ } },
      },
      {
        identity: testIdentity(`reach-${node}`), clock, random: seededRandom(node + 100), logger: silentLogger(),
        tip: () => ({ height: 0, hash: GENESIS, slot: 0, timestamp: 0, stateRoot: GENESIS }), finalizedHeight: () => 0,
        radioTransport: ({ packetIds, hopLimit }) => new SimTransport(radio, { nodeNumber: node, hopLimit, packetIds }),
      },
    );
  };
  /** A bare endpoint at `x` sending as any node number. */
  const stranger = async (node: number, x: number) => {
    const transport = new SimTransport(channel.addRadio(node, { position: { x, y: 0 } }), { nodeNumber: node, hopLimit: 3, firstPacketId: node * 1_000 });
    const endpoint = new MessageEndpoint(transport, {}, { clock, random: seededRandom(node) });
    endpoint.start();
    await transport.start();
    return endpoint;
  };
  const request = (i: number) => getBlockCodec.encode({ hash: new Uint8Array(32).fill(i) });
  return { clock, time, network, stranger, request, channel };
}

/** Node 1 started a minute after node 2, its relay to the far side of the line, had spoken. */
async function startedBehindRelay() {
  const l = line();
  const a = l.network(1, 0);
  const relay = l.network(2, 4_000);
  await relay.start();
  await relay.send(MessageType.GetBlock, l.request(0), Priority.Sync);
  await l.time.runUntil(l.clock.now() + 5_000);
  await a.start();
  await l.time.runUntil(l.clock.now() + 60_000);
  return { ...l, a, relay };
}

describe("hello reach on a radio", () => {
  it("neighbours learn each other from hellos at start to neighbours; the two ends of a line, out of each other's range, from one mesh-wide hello each", async () => {
    const { clock, time, network, request } = line();
    // 1 — 2 — 3 at 4 km spacing: 1 and 3 hear each other only through 2's relays.
    const [a, b, c] = [network(1, 0), network(2, 4_000), network(3, 8_000)] as [NodeNetwork, NodeNetwork, NodeNetwork];
    // 2 speaks first, so that every radio has heard hop counts before its own hello at start goes.
    await b.start();
    await a.start();
    await c.start();
    await b.send(MessageType.GetBlock, request(0), Priority.Sync);
    await time.runUntil(clock.now() + 60_000);
    expect(a.peers.get(2)).toBeDefined();
    expect(c.peers.get(2)).toBeDefined();
    // The ends' hellos at start went to neighbours only: 2 heard them, the other end did not.
    expect(a.peers.get(3)).toBeUndefined();
    expect(c.peers.get(1)).toBeUndefined();
    for (let i = 1; i <= 3; i++) {
      // Apart: 2 hears both ends, and two frames at once collide there.
      await a.send(MessageType.GetBlock, request(10 + i), Priority.Sync);
      await time.runUntil(clock.now() + 5_000);
      await c.send(MessageType.GetBlock, request(20 + i), Priority.Sync);
      await time.runUntil(clock.now() + 5_000);
    }
    await time.runUntil(clock.now() + 60_000);
    expect(a.peers.get(3)).toBeDefined();
    expect(c.peers.get(1)).toBeDefined();
    expect(hellos(a)).toEqual({ start: 1, reach: 1 });
    expect(hellos(c)).toEqual({ start: 1, reach: 1 });
    // 2 hears everyone directly: its hello at start was all it needed.
    expect(hellos(b)).toEqual({ start: 1 });
    // More traffic from the far end asks nothing more: our mesh-wide hello came after we first heard it.
    for (let i = 1; i <= 5; i++) await c.send(MessageType.GetBlock, request(30 + i), Priority.Sync);
    await time.runUntil(clock.now() + HELLO_INTERVAL_MS + 60_000);
    expect(hellos(a)).toEqual({ start: 1, reach: 1 });
    for (const n of [a, b, c]) await n.stop();
  });

  it("frames relayed from made-up node numbers cost at most one mesh-wide hello per hello interval", async () => {
    const { clock, time, stranger, request, a, relay } = await startedBehindRelay();
    expect(hellos(a)).toEqual({ start: 1 });
    // Out of a's range: everything it sends reaches a through 2's relays, each time under a new number.
    const liars = await Promise.all([100, 101, 102, 103, 104, 105].map((n) => stranger(n, 8_000)));
    for (let round = 0; round < 3; round++) {
      for (const [i, liar] of liars.entries()) {
        for (let k = 0; k < 3; k++) {
          await liar.send(MessageType.GetBlock, request(round * 100 + i * 10 + k), Priority.Sync);
          await time.runUntil(clock.now() + 5_000);
        }
      }
    }
    const elapsed = 3 * liars.length * 3 * 5_000;
    expect(hellos(a).reach ?? 0).toBeLessThanOrEqual(1 + Math.floor(elapsed / HELLO_INTERVAL_MS));
    expect(hellos(a).reach ?? 0).toBeGreaterThanOrEqual(1);
    for (const l of liars) l.stop();
    await a.stop();
    await relay.stop();
  });

  it("made-up node numbers and fresh keys together cost one hello outside the rounds per hello interval, not one of each", async () => {
    const { clock, time, stranger, request, a, relay } = await startedBehindRelay();
    const rounds = 3;
    const step = HELLO_INTERVAL_MS / 8;
    for (let i = 0; i < rounds * 8; i++) {
      // Beyond a's range: frames under a new number each (reach), and a signed hello at start from a fresh key (answer).
      const liar = await stranger(200 + i, 8_000);
      for (let k = 0; k < 3; k++) await liar.send(MessageType.GetBlock, request(1_000 + i * 10 + k), Priority.Sync);
      liar.stop();
      const id = testIdentity(`fresh-far-${i}`);
      const node = nodeNumberFromPublicKey(id.ed25519.publicKey);
      const fresh = await stranger(node, 8_000 + (i % 2));
      await fresh.send(MessageType.Hello, helloCodec.encode({ protocolVersion: 1, chain: GENESIS.slice(0, 8), publicKey: id.ed25519.publicKey, nodeNumber: node, tipHeight: 0, finalizedHeight: 0, roles: 0x09, timestamp: Math.floor(clock.now() / 1000) }, CHAIN_ID, id.ed25519), Priority.Control);
      await time.runUntil(clock.now() + step);
      fresh.stop();
    }
    const sent = hellos(a);
    expect((sent.reach ?? 0) + (sent.answer ?? 0)).toBeGreaterThanOrEqual(rounds - 1);
    expect((sent.reach ?? 0) + (sent.answer ?? 0)).toBeLessThanOrEqual(1 + rounds);
    await a.stop();
    await relay.stop();
  });
});

describe("a quiet newcomer behind a plain Meshtastic relay (hello-reach.ts)", () => {
  it("learns a far node's key from its answer: our first mesh-wide hello is our hello at start again", async () => {
    const { clock, time, network, request, channel } = line();
    // 1 (a newcomer that sends nothing) at 0, a radio without MeshChain relaying at 4 km, 3 at 8 km.
    channel.addRadio(2, { position: { x: 4_000, y: 0 } });
    const far = network(3, 8_000);
    await far.start();
    await time.runUntil(clock.now() + 5 * 60_000);
    const quiet = network(1, 0);
    await quiet.start();
    let i = 0;
    // The far node talks once a minute; the newcomer only listens.
    for (let minute = 0; minute < 20; minute++) {
      await far.send(MessageType.GetBlock, request(i++), Priority.Sync);
      await time.runUntil(clock.now() + 60_000);
    }
    // Its hello at start went to its neighbours (none running MeshChain); its one mesh-wide hello was
    // the hello at start again, which the far node answers with its own. A round's hello it would not
    // answer, and the newcomer would wait for the far node's round (hours on a slow preset).
    expect(hellos(quiet)).toEqual({ start: 1, reach: 1 });
    expect(hellos(far).answer).toBe(1);
    expect(quiet.peers.get(3)).toBeDefined();
    expect(far.peers.get(1)).toBeDefined();
    await quiet.stop();
    await far.stop();
  });
});
