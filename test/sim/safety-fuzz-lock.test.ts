import { describe, expect, it } from "vitest";
import { runLockScenario } from "./lock-scenario.js";
import { safetyRun } from "./safety-fuzz.js";
import { SOAK } from "./seeds.js";

// The two-slot rule's lock under harsher asynchrony: deliveries late by up to three slots (a vote
// or certificate arriving after later rounds), partitions shifting for longer, and a restart in
// most steps, half of them onto a record from before locks were kept. The safety oracle counts
// finality over the votes signed, so a broken lock fails here even when no node sees both forks.
describe("safety of the two-slot rule's lock under asynchrony and restarts", () => {
  const shape = { maxDelayMs: 30_000, steps: 6, restartChance: 0.7 };
  // `npm test` keeps 9003, the one whose every restart is onto a record from before locks (six of
  // them, in and out of partitions); 9001 and 9002 run under `npm run soak` (issue 15).
  it.each(SOAK ? [9001, 9002, 9003] : [9003])("seed %i", (seed) => safetyRun(seed, undefined, shape));
});

// The case the lock exists for (test/sim/lock-scenario.ts); safety-lock-control.test.ts runs it without the lock.
describe("the lock refuses a block that would undo a final block no node has seen final", () => {
  it("keeps B final by the votes across restarts, and finality going past it", () => {
    const { sim, b, bId, d, aHash, restarted } = runLockScenario(true);
    expect(d?.header.parentHash).toEqual(aHash);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    expect(restarted.some((i) => sim.nodes[i]!.engine.stats.refusedByLock > 0)).toBe(true);
    // Liveness: the chain went on from B, which every node now holds final.
    expect(sim.nodes.every((n) => n.engine.finalizedChain.includes(bId) && n.engine.finalizedHeight > b.header.height)).toBe(true);
  });
});
