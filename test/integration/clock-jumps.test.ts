import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChainStore } from "../../src/storage/chain-store.js";
import { type Clock, ManualClock } from "../../src/node/clock.js";
import { silentLogger } from "../../src/node/logger.js";
import { MeshChainNode } from "../../src/node/node.js";
import { GENESIS_TIME, testChain, transfer } from "../fixtures/chain.js";
import { seededRandom } from "../fixtures/random.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const dir = tempDirsPerTest();

/** A wall clock that NTP (or an operator) sets forward or back: `now` jumps, timers keep their own time. */
class JumpingClock implements Clock {
  offset = 0;
  constructor(readonly inner: ManualClock) {}
  now(): number {
    return this.inner.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return this.inner.setTimeout(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    this.inner.clearTimeout(handle);
  }
}

describe("clock jumps", () => {
  it("a lone validator keeps its chain whole when its clock jumps an hour forward and then ten minutes back", async () => {
    const { genesis, validators, users } = testChain({ validators: 1, users: 2 });
    const inner = new ManualClock(GENESIS_TIME * 1000);
    const dataDir = dir();
    const clock = new JumpingClock(inner);
    const node = new MeshChainNode(
      { dataDir, genesis, identity: validators[0]!, slotMs: 2_000, heartbeatSlots: 1, statusIntervalMs: 60_000 },
      { clock, logger: silentLogger(), random: seededRandom(1) },
    );
    await node.start();
    inner.advance(2_000 * 5);
    clock.offset += 3_600_000;
    inner.advance(2_000 * 5);
    const afterForward = node.status().height;
    expect(afterForward).toBeGreaterThan(5);
    // Back ten minutes: the tip's slot is now in the future, and no block may go below it.
    clock.offset -= 600_000;
    const { status } = node.submitTransaction(transfer(users[0]!, 0, users[1]!.address, 5n).bytes);
    expect(status).toBe("accepted");
    inner.advance(2_000 * 30);
    expect(node.status().height).toBe(afterForward);
    // Once the wall clock passes the tip's slot again, blocks resume, the transfer among them.
    inner.advance(600_000 + 2_000 * 3);
    expect(node.status().height).toBeGreaterThan(afterForward);
    expect(node.status().mempool.transactions).toBe(0);
    expect(node.status().storage.fault).toBeNull();
    await node.stop();
    // Slots strictly increase and timestamps never go back, across both jumps.
    const store = ChainStore.open(join(dataDir, "chain.db"), genesis);
    try {
      for (let h = 2; h <= store.tip.height; h++) {
        const [a, b] = [store.blockAt(h - 1)!.header, store.blockAt(h)!.header];
        expect(b.slot).toBeGreaterThan(a.slot);
        expect(b.timestamp).toBeGreaterThanOrEqual(a.timestamp);
      }
    } finally {
      store.close();
    }
  });
});
