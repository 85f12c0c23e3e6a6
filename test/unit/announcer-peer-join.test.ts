import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { MessageType } from "../../src/mesh/frame.js";
import { silentLogger } from "../../src/node/logger.js";
import type { TxPool } from "../../src/node/mempool.js";
import type { NodeNetwork } from "../../src/node/network.js";
import { startAnnouncer } from "../../src/node/submission.js";
import type { AcceptedTxStore } from "../../src/node/tx-announcer.js";
import type { ChainStore } from "../../src/storage/chain-store.js";
import { testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";

const { users } = testChain({ users: 2 });
const [alice, bob] = users;

/** The announcer as the node starts it, with a network that records what it is asked to send and lets a test play its events. */
function setup(onAir: boolean) {
  const sent: MessageType[] = [];
  const joined = new Set<(node: number) => void>();
  const connected = new Set<() => void>();
  const network = {
    send: async (type: MessageType) => {
      sent.push(type);
    },
    onPeerJoined: (l: (node: number) => void) => (joined.add(l), () => joined.delete(l)),
    onLinkConnected: (l: () => void) => (connected.add(l), () => connected.delete(l)),
  } as unknown as NodeNetwork;
  const kept = new Map<string, { bytes: Uint8Array; acceptedAtMs: number }>();
  const accepted: AcceptedTxStore = {
    saveLocal: (hash, bytes, acceptedAtMs) => void kept.set(Buffer.from(hash).toString("hex"), { bytes, acceptedAtMs }),
    removeLocal: (hash) => void kept.delete(Buffer.from(hash).toString("hex")),
    loadLocal: () => [...kept.values()],
  };
  // Nothing is in the chain, and the pool holds every transaction.
  const store = { txLocation: () => null, finalizedHeight: 0 } as unknown as ChainStore;
  const pool = { holds: () => true } as unknown as TxPool;
  const clock = new ManualClock(1_000_000);
  const announcer = startAnnouncer({ store, pool, accepted, network: () => network, clock, logger: silentLogger(), random: seededRandom(3), slotMs: 150_000, onAir });
  announcer.track(transfer(alice!, 0, bob!.address, 5n));
  announcer.track(transfer(alice!, 1, bob!.address, 5n));
  return { sent, join: (node: number) => joined.forEach((l) => l(node)), reconnect: () => connected.forEach((l) => l()), announcer };
}

/**
 * Devnet seed 3 with --kill: one node's hello, heard at once by every node, made each flood every
 * transaction it had accepted and not seen final (45 at one instant during a finality stall); their
 * relays filled the radios' queues and a validator's proposal was dropped at its own radio.
 */
describe("announcer: a peer joining", () => {
  it("on a radio, does not make the node flood what it accepted again", () => {
    const { sent, join, announcer } = setup(true);
    join(0x1234);
    expect(sent).toEqual([]);
    announcer.stop();
  });

  it("on a radio, a link of ours that comes back still hears them all (its own outage, once)", () => {
    const { sent, reconnect, announcer } = setup(true);
    reconnect();
    expect(sent).toEqual([MessageType.Transaction, MessageType.Transaction]);
    announcer.stop();
  });

  it("over IP, still gets every pending transaction at once", () => {
    const { sent, join, announcer } = setup(false);
    join(0x1234);
    expect(sent).toEqual([MessageType.Transaction, MessageType.Transaction]);
    announcer.stop();
  });
});
