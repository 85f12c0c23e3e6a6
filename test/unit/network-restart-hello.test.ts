import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { DEVNET_CHANNEL } from "../../src/devnet/common.js";
import { VirtualTime } from "../../src/devnet/virtual-time.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { PRIVATE_APP_PORT } from "../../src/mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { silentLogger } from "../../src/node/logger.js";
import { NodeNetwork } from "../../src/node/network.js";
import type { PeerPersistence } from "../../src/node/peers.js";
import { CHAIN_ID, GENESIS, hellos } from "../adversarial/radio-networks.js";
import { testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";

const HOUR = 3_600_000;

/** A peer table on disk, as the node's SQLite one: records by node number, kept across restarts. */
class MemoryPeerStore implements PeerPersistence {
  readonly records = new Map<number, string>();
  save(node: number, record: string): void {
    this.records.set(node, record);
  }
  remove(node: number): void {
    this.records.delete(node);
  }
  loadAll(): string[] {
    return [...this.records.values()];
  }
}

/** Radio-only networks on one lossless channel, each with its own peer store; a restart is a new NodeNetwork over the same store. */
function mesh() {
  const clock = new ManualClock(1_767_225_600_000);
  const time = new VirtualTime(clock);
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.SHORT_FAST, random: seededRandom(1), defaultLoss: 0, rangeMeters: 5_000 }, clock);
  const stores = new Map<number, MemoryPeerStore>();
  let run = 0;
  const network = (node: number) => {
    let packet = node * 1_000_000 + ++run * 10_000;
    const store = stores.get(node) ?? new MemoryPeerStore();
    stores.set(node, store);
    const radio = channel.radios.get(node) ?? channel.addRadio(node, { position: { x: node, y: 0 } });
    return new NodeNetwork(
      {
        broker: "none", brokerPort: 0, ipPeers: false, chainId: CHAIN_ID, genesisHash: GENESIS,
        radio: { broker: "sim", region: "EU_868", preset: "SHORT_FAST", channel: DEVNET_CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: 3, budgetSecondsPerHour: 180, packetIds: { take: () => packet++ } },
      },
      {
        identity: testIdentity(`node-${node}`), clock, random: seededRandom(node * 31 + run), logger: silentLogger(), peerStore: store,
        tip: () => ({ height: 0, hash: GENESIS, slot: 0, timestamp: 0, stateRoot: GENESIS }), finalizedHeight: () => 0,
        radioTransport: ({ packetIds, hopLimit }) => new SimTransport(radio, { nodeNumber: node, hopLimit, packetIds }),
      },
    );
  };
  return { clock, time, network };
}

describe("hello at start after a restart", () => {
  it("stays off the air when the peer table from before the restart is recent, and peers still hold the node", async () => {
    const { clock, time, network } = mesh();
    const [a, b] = [1, 2].map((i) => network(i)) as [NodeNetwork, NodeNetwork];
    await a.start();
    await b.start();
    await time.runUntil(clock.now() + 60_000);
    expect(b.peers.get(1)).toBeDefined();
    await a.stop();
    await time.runUntil(clock.now() + 3 * 60_000);
    const again = network(1);
    await again.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(again)).toEqual({});
    // It knows its peer from disk, and the peer still knows it: nothing was lost by the silence.
    expect(again.peers.get(2)).toBeDefined();
    expect(b.peers.get(1)).toBeDefined();
    expect(hellos(b)).toEqual({ start: 1 });
    // Its next round's hello is what peers hear from it next.
    await again.sayHello("round");
    await time.runUntil(clock.now() + 60_000);
    expect(b.peers.get(1)?.lastSeen).toBeGreaterThan(clock.now() - 60_000);
    for (const n of [again, b]) await n.stop();
  });

  it("says hello at start after a long absence (peers may have forgotten it) and on a first start", async () => {
    const { clock, time, network } = mesh();
    const [a, b] = [1, 2].map((i) => network(i)) as [NodeNetwork, NodeNetwork];
    await a.start();
    await b.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(a)).toEqual({ start: 1 });
    await a.stop();
    await b.stop();
    // Half the peers' memory and more: the hello at start goes out again.
    await time.runUntil(clock.now() + 5 * HOUR);
    const back = network(1);
    await back.start();
    await time.runUntil(clock.now() + 60_000);
    expect(hellos(back)).toEqual({ start: 1 });
    await back.stop();
  });
});
