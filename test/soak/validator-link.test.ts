import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode, type NodeOptions } from "../../src/node/node.js";
import { systemClock } from "../../src/node/clock.js";
import { testChain } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { startTcpProxy } from "../fixtures/tcp-proxy.js";
import { waitFor } from "../fixtures/wait.js";

/*
 * Soak, not `npm test` (it was the third test of validators.test.ts, then a real-time file of its own):
 * about 45 s of wall-clock slots, most of them spent waiting out the broker link's reconnect backoff.
 * `npm test` keeps each part at a smaller size (docs/testing.md *Time*): the fall-behind decision in
 * test/unit/mode-machine.test.ts, a link cut by a proxy and back in test/integration/delivery.test.ts,
 * range sync then consensus again in test/integration/validators.test.ts (a validator back after a stop).
 */

const dir = tempDirsPerTest();
const running: MeshChainNode[] = [];

afterEach(async () => {
  // The first node owns the embedded broker: stop it last, so the others leave it cleanly.
  for (const n of running.splice(0).reverse()) await n.stop();
});

describe("a validator whose broker link goes away", () => {
  it("a running validator whose link went away drops back into range sync, then rejoins consensus", async () => {
    const four = testChain({ validators: 4, users: 1, params: { slotMs: 2_000n, heartbeatSlots: 1n } });
    const start = async (identity: NodeOptions["identity"], broker: string, seed: number) => {
      const node = new MeshChainNode(
        { dataDir: dir(), genesis: four.genesis, identity, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 500, network: { broker, brokerPort: 0 }, sync: { tickMs: 100, fallBehindBlocks: 3 } },
        { clock: systemClock, logger: silentLogger(), random: seededRandom(seed) },
      );
      running.push(node);
      await node.start();
      return node;
    };
    const first = await start(four.validators[0]!, "embedded", 21);
    await start(four.validators[1]!, first.brokerUrl!, 22);
    await start(four.validators[2]!, first.brokerUrl!, 23);
    const link = await startTcpProxy(Number(new URL(first.brokerUrl!).port));
    try {
      const cutOff = await start(four.validators[3]!, link.url, 24);
      const state = () => JSON.stringify({ cutOff: { finalized: cutOff.status().finalizedHeight, height: cutOff.status().height, sync: cutOff.status().sync, peers: cutOff.status().peers, link: cutOff.status().links.ip, warnings: cutOff.status().warnings.map((w) => w.code) }, others: running.slice(0, 3).map((n) => n.status().finalizedHeight) });
      await waitFor(() => cutOff.status().finalizedHeight >= 1, 60_000, () => `all four to finalize: ${state()}`);
      expect(cutOff.status().sync.fallbacks).toBe(0);
      link.cut();
      const before = first.status().finalizedHeight;
      await waitFor(() => first.status().finalizedHeight >= before + 5, 60_000, () => `the others to finalize without it: ${state()}`);
      link.restore();
      // Its broker link retries with exponential backoff (up to 60 s between tries): the longer the
      // cut lasted, the longer it may take to come back, which says nothing about falling behind.
      await waitFor(() => cutOff.status().links.ip === "connected", 75_000, () => `the cut-off validator's link to come back (it is ${String(cutOff.status().links.ip)})`);
      await waitFor(() => cutOff.status().sync.fallbacks === 1, 30_000, () => `the cut-off validator to notice it fell behind: ${state()}`);
      await waitFor(() => cutOff.status().finalizedHeight >= before + 5, 30_000, () => `the cut-off validator to range-sync: ${state()}`);
      // Back in consensus: it sees new blocks finalized beyond what it synced.
      const synced = cutOff.status().finalizedHeight;
      await waitFor(() => cutOff.status().finalizedHeight >= synced + 2, 30_000, () => `the cut-off validator to follow consensus again: ${state()}`);
      expect(cutOff.status().sync.fallbacks).toBe(1);
    } finally {
      await link.close();
    }
  }, 240_000);
});
