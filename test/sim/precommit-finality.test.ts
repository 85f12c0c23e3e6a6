import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";
import { fuzzSeeds, safetyRun } from "./safety-fuzz.js";

/*
 * The precommit round (docs/consensus.md, "Precommits") in the consensus simulator: a chain whose
 * genesis sets finalityRule 1 finalizes blocks in their own slot, stays safe under the randomized
 * faults of the safety fuzz (its oracle counts blocks final by the precommits actually signed), and a
 * chain without the rule neither makes nor believes precommits.
 */
describe("finality by precommits", () => {
  it("makes blocks final in their own slot, every node agreeing, no honest validator signing twice", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 71, params: { finalityRule: 1n } });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() >= 6, 3 * 60_000, 10_000);
    expect(sim.minFinalized()).toBeGreaterThanOrEqual(6);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    const stats = sim.nodes.map((n) => n.engine.stats);
    expect(stats.every((s) => s.precommitted > 0 && s.finalByPrecommit > 0)).toBe(true);
  });

  it("leaves a chain without the rule as it was: no precommit made, none believed", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 72 });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() >= 3, 3 * 60_000, 10_000);
    expect(sim.minFinalized()).toBeGreaterThanOrEqual(3);
    expect(sim.nodes.every((n) => n.engine.stats.precommitted === 0 && n.engine.stats.finalByPrecommit === 0)).toBe(true);
  });
});

// One fixed seed under `npm test` (which asks for two): 5007, one where blocks do become final by
// precommits (5000 made one precommit and no such final, so it checked only the two-slot half; review,
// session 27). The whole sweep (MESHCHAIN_SAFETY_SEEDS) under `npm run soak`.
const seeds = fuzzSeeds();
describe("safety under random faults, with precommits", () => {
  it.each(seeds.length <= 2 ? [5007] : seeds)("seed %i", (seed) => safetyRun(seed, undefined, undefined, undefined, { finalityRule: 1n }));
});
