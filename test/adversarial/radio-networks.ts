/** Radio-only NodeNetworks on the LoRa simulator, for the hello rules' unit and adversarial tests. */
import { ManualClock } from "../../src/core/clock.js";
import type { Identity } from "../../src/core/crypto/identity.js";
import { VirtualTime } from "../../src/devnet/virtual-time.js";
import { DEVNET_CHANNEL } from "../../src/devnet/common.js";
import { helloMinIntervalMs } from "../../src/mesh/airtime/control-rates.js";
import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { MessageEndpoint } from "../../src/mesh/endpoint.js";
import { PRIVATE_APP_PORT } from "../../src/mesh/meshtastic/envelope.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { silentLogger } from "../../src/node/logger.js";
import { NodeNetwork } from "../../src/node/network.js";
import type { PeerPersistence } from "../../src/node/peers.js";
import { testIdentity } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";

export const CHAIN_ID = "hello-rules";
export const GENESIS = new Uint8Array(32).fill(7);
const PRESET = "SHORT_FAST" as const;
export const HELLO_INTERVAL_MS = helloMinIntervalMs(PRESETS[PRESET]);

/** A peer table on disk, as the node's SQLite one: records by node number, kept across restarts. */
export class MemoryPeerStore implements PeerPersistence {
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

/**
 * Radio-only networks (as the devnet's nodes) on one lossless simulated channel, on virtual time. Each
 * node keeps its radio and its peer table on disk: calling `network(node)` again after a stop is a
 * restart (fresh packet ids and randomness, the same table).
 */
export function mesh() {
  const clock = new ManualClock(1_767_225_600_000);
  const time = new VirtualTime(clock);
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS[PRESET], random: seededRandom(1), defaultLoss: 0, rangeMeters: 5_000 }, clock);
  const stores = new Map<number, MemoryPeerStore>();
  const starts = new Map<number, number>();
  let nextId = 1;
  const network = (node: number, identity: Identity = testIdentity(`node-${node}`)) => {
    const run = (starts.get(node) ?? 0) + 1;
    starts.set(node, run);
    let packet = node * 1_000_000 + (run - 1) * 10_000;
    const peerStore = stores.get(node) ?? new MemoryPeerStore();
    stores.set(node, peerStore);
    const radio = channel.radios.get(node) ?? channel.addRadio(node, { position: { x: node, y: 0 } });
    return new NodeNetwork(
      {
        broker: "none", brokerPort: 0, ipPeers: false, chainId: CHAIN_ID, genesisHash: GENESIS,
        radio: { broker: "sim", region: "EU_868", preset: PRESET, channel: DEVNET_CHANNEL, portnum: PRIVATE_APP_PORT, hopLimit: 3, budgetSecondsPerHour: 180, packetIds: { take: () => packet++ } },
      },
      {
        identity, clock, random: seededRandom(run === 1 ? node : node * 31 + run), logger: silentLogger(), peerStore,
        tip: () => ({ height: 0, hash: GENESIS, slot: 0, timestamp: 0, stateRoot: GENESIS }), finalizedHeight: () => 0,
        radioTransport: ({ packetIds, hopLimit }) => new SimTransport(radio, { nodeNumber: node, hopLimit, packetIds }),
      },
    );
  };
  /** A bare endpoint on the channel sending as any node number (nobody introduced it). */
  const stranger = async (node: number) => {
    const transport = new SimTransport(channel.addRadio(node, { position: { x: 0, y: 1 } }), { nodeNumber: node, hopLimit: 3, firstPacketId: nextId++ * 1_000 });
    const endpoint = new MessageEndpoint(transport, {}, { clock, random: seededRandom(node) });
    endpoint.start();
    await transport.start();
    return endpoint;
  };
  return { clock, time, channel, network, stranger };
}

/** Nodes 1 and 2 started together on a fresh mesh, a minute on: each has heard the other's hello at start. */
export async function pairStarted() {
  const m = mesh();
  const [a, b] = [1, 2].map((i) => m.network(i)) as [NodeNetwork, NodeNetwork];
  await a.start();
  await b.start();
  await m.time.runUntil(m.clock.now() + 60_000);
  return { ...m, a, b };
}

/** Our hellos sent so far, by why. */
export const hellos = (n: NodeNetwork): Record<string, number> => Object.fromEntries(n.diagnostics().hellosSent);
