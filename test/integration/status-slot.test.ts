import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/node/clock.js";
import { ensureDevNetwork } from "../../src/node/dev-network.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

describe("status slot", () => {
  it("is the chain's slot even where a lone validator produces at its own --slot-ms pace", async () => {
    const dataDir = dir();
    const clock = new ManualClock(GENESIS_TIME * 1000);
    const dev = ensureDevNetwork(dataDir, () => clock.now());
    const chainSlotMs = Number(dev.genesis.params.slotMs);
    const node = new MeshChainNode({ dataDir, genesis: dev.genesis, identity: dev.identity, slotMs: chainSlotMs / 4, heartbeatSlots: 1, statusIntervalMs: 600_000 }, { clock, logger: silentLogger(), random: seededRandom(1) });
    await node.start();
    try {
      clock.advance(chainSlotMs * 10);
      const elapsedMs = clock.now() - dev.genesis.genesisTime * 1000;
      expect(node.status().slot).toBe(Math.floor(elapsedMs / chainSlotMs));
      // The producer kept the flag's pace: four blocks per chain slot.
      expect(node.status().height).toBeGreaterThanOrEqual(30);
    } finally {
      await node.stop();
    }
  });
});
