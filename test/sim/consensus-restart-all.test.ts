import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const MINUTE = 60_000;
const dir = tempDirsPerTest();

/**
 * Every validator restarts at once on an idle chain: heartbeats a few slots apart are notarized but
 * never final (no two in consecutive slots), so each lock (in the signing record, on disk) lies above
 * the finalized tip (the chain store). Restarted on its finalized tip alone, no node holds a block at
 * or above the locks: proposals fail the proposer's own lock and votes are refused, for good. With the
 * notarized blocks kept (the validator's notarized.db), the chain finalizes again.
 */
function restartAllOnIdleChain(keepNotarized: boolean) {
  const sim = new ConsensusSim({ validators: 4, seed: 41, signerDir: dir(), keepNotarized, params: { heartbeatSlots: 3n } });
  sim.start();
  sim.runWithTraffic(2 * MINUTE, 15_000);
  // Idle: heartbeats only.
  sim.run(2 * MINUTE);
  const locksAboveFinality = sim.nodes.filter((n) => (n.signer.last()?.lock ?? -1) > (n.storedTip?.slot ?? 0)).length;
  const finalized = sim.minFinalized();
  sim.nodes.forEach((n) => sim.crash(n.index));
  sim.nodes.forEach((n) => sim.restart(n.index, { fromStore: true }));
  // Kept, the chain runs until it finalized the three blocks past the restart the test asserts
  // (three minutes at most, as before); the control, a halt, is watched for the whole three.
  if (keepNotarized) sim.runWithTrafficUntil(() => sim.minFinalized() > finalized + 3, 3 * MINUTE, 15_000);
  else sim.runWithTraffic(3 * MINUTE, 15_000);
  return { sim, locksAboveFinality, finalized };
}

describe("restarting every validator", () => {
  it("finalizes again when the notarized blocks above finality were kept", () => {
    const { sim, locksAboveFinality, finalized } = restartAllOnIdleChain(true);
    expect(locksAboveFinality).toBe(4);
    expect(sim.minFinalized()).toBeGreaterThan(finalized + 3);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
  });

  it("halts without them: the scenario really leaves every lock out of reach (control)", () => {
    const { sim, locksAboveFinality, finalized } = restartAllOnIdleChain(false);
    expect(locksAboveFinality).toBe(4);
    expect(sim.minFinalized()).toBe(finalized);
    expect(sim.nodes.reduce((sum, n) => sum + n.engine.stats.refusedByLock, 0)).toBeGreaterThan(0);
  });
});
