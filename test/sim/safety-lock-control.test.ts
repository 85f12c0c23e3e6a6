import { describe, expect, it } from "vitest";
import { runLockScenario } from "./lock-scenario.js";

// The scripted case of test/sim/lock-scenario.ts with the lock switched off by a test-only engine
// option: the control that shows the lock, not the scenario, is what keeps B final.
describe("the lock, switched off as a control", () => {
  it("without it, the scripted case finalizes two conflicting blocks by the votes signed", () => {
    const { sim, d, aHash } = runLockScenario(false);
    expect(d?.header.parentHash).toEqual(aHash);
    expect(sim.conflictingFinalByVotes()).toBeGreaterThan(0);
    expect(sim.nodes.reduce((sum, n) => sum + n.engine.stats.refusedByLock, 0)).toBe(0);
  });
});
