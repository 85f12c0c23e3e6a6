import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";

import { converged, convergenceRun, faultSeeds } from "./seeds.js";

const MINUTE = 60_000;

/** Half the seeds here, half in consensus-faults-more.test.ts, so both cores share the work (test/sim/seeds.ts). */
const seeds = faultSeeds().filter((_, i) => i % 2 === 0);

describe("consensus under loss, long delays and partitions", () => {
  it.each(seeds)("seed %i: no conflicting finality, and convergence after healing", (seed) => convergenceRun(seed));

  it("keeps finalizing on the side of a partition holding more than two thirds; the rest catch up", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 77, conditions: { loss: 0.1 } });
    sim.start();
    sim.runWithTraffic(MINUTE, 15_000);
    sim.partition([[0, 1, 2, 3, 4], [5, 6]]);
    const before = sim.minFinalized(sim.nodes.slice(0, 5));
    const minority = Math.max(sim.nodes[5]!.engine.finalizedHeight, sim.nodes[6]!.engine.finalizedHeight);
    // Until the majority finalized two more blocks (two minutes at most): the minority, with traffic
    // all along, must finalize nothing meanwhile.
    sim.runWithTrafficUntil(() => sim.minFinalized(sim.nodes.slice(0, 5)) > before + 1, 2 * MINUTE, 15_000);
    expect(sim.minFinalized(sim.nodes.slice(0, 5))).toBeGreaterThan(before);
    expect(Math.max(sim.nodes[5]!.engine.finalizedHeight, sim.nodes[6]!.engine.finalizedHeight)).toBe(minority);
    sim.heal();
    sim.runWithTraffic(MINUTE, 20_000);
    sim.runUntil(() => converged(sim), 6 * MINUTE, 10_000);
    expect(sim.finalizedAgree()).toBe(true);
    const heights = sim.nodes.map((n) => n.engine.finalizedHeight);
    expect(Math.min(...heights)).toBe(Math.max(...heights));
    expect(sim.conflictingFinalized).toBe(0);
  });
});
