import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;
import { faultSeeds } from "./seeds.js";

/** Half the seeds here, half in consensus-faults-more.test.ts, so both cores share the work. */
const seeds = faultSeeds().filter((_, i) => i % 2 === 0);

describe("consensus under loss, long delays and partitions", () => {
  it.each(seeds)("seed %i: no conflicting finality, and convergence after healing", (seed) => {
    const loss = [0, 0.1, 0.2, 0.3][seed % 4]!;
    const longDelays = seed % 3 === 0;
    const sim = new ConsensusSim({ validators: 4, seed, conditions: { loss, delayMs: longDelays ? [100, 15_000] : [50, 2_000] } });
    sim.start();
    sim.runWithTraffic(MINUTE, 15_000);
    // A split with no side above two thirds: nobody may finalize anything new.
    sim.partition([[0, 1], [2, 3]]);
    sim.runWithTraffic(MINUTE, 15_000);
    expect(sim.conflictingFinalized).toBe(0);
    sim.heal();
    sim.setConditions({ delayMs: [50, 2_000] });
    sim.runWithTraffic(2 * MINUTE, 20_000);
    // Quiet time to converge: statuses (every six slots) point laggards at what they missed.
    sim.run(6 * MINUTE);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    // Converged: everyone reached the same finalized height, past the partition.
    const heights = sim.nodes.map((n) => n.engine.finalizedHeight);
    expect(Math.min(...heights)).toBe(Math.max(...heights));
    expect(sim.finalizedTxCount()).toBe(sim.submitted.length);
  });

  it("keeps finalizing on the side of a partition holding more than two thirds; the rest catch up", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 77, conditions: { loss: 0.1 } });
    sim.start();
    sim.runWithTraffic(MINUTE, 15_000);
    sim.partition([[0, 1, 2, 3, 4], [5, 6]]);
    const before = sim.minFinalized(sim.nodes.slice(0, 5));
    const minority = Math.max(sim.nodes[5]!.engine.finalizedHeight, sim.nodes[6]!.engine.finalizedHeight);
    sim.runWithTraffic(2 * MINUTE, 15_000);
    expect(sim.minFinalized(sim.nodes.slice(0, 5))).toBeGreaterThan(before);
    expect(Math.max(sim.nodes[5]!.engine.finalizedHeight, sim.nodes[6]!.engine.finalizedHeight)).toBe(minority);
    sim.heal();
    sim.runWithTraffic(MINUTE, 20_000);
    sim.run(6 * MINUTE);
    expect(sim.finalizedAgree()).toBe(true);
    const heights = sim.nodes.map((n) => n.engine.finalizedHeight);
    expect(Math.min(...heights)).toBe(Math.max(...heights));
    expect(sim.conflictingFinalized).toBe(0);
  });
});
