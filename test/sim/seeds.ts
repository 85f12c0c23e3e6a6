import { expect } from "vitest";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;

/**
 * Set by `npm run soak` (vitest.soak.config.ts): the deep seed sweeps, and the scenarios kept out of
 * `npm test` for their cost (each marked skipped there, naming `npm run soak`).
 */
export const SOAK = process.env.MESHCHAIN_SIM_SOAK === "1";

/**
 * Seeds for the fault scenarios. `npm test` runs two fixed ones, the hardest of the four conditions
 * convergenceRun draws (1002: 20% loss with delays up to 15 s; 1003: 30% loss), one per file, about
 * four seconds of CPU each (almost all BLS); `npm run soak` runs 1000..1031, and
 * MESHCHAIN_SIM_SEEDS=300 goes deeper.
 */
export function faultSeeds(): number[] {
  const count = process.env.MESHCHAIN_SIM_SEEDS;
  if (count === undefined) return [1002, 1003];
  return Array.from({ length: Number(count) }, (_, i) => 1000 + i);
}

/** Every node at the same finalized height, with every transfer submitted final. */
export function converged(sim: ConsensusSim): boolean {
  const heights = sim.nodes.map((n) => n.engine.finalizedHeight);
  return Math.min(...heights) === Math.max(...heights) && sim.finalizedTxCount() === sim.submitted.length;
}

/** Loss (by seed), long delays, a split with no side above two thirds, healing, then quiet time to converge. */
export function convergenceRun(seed: number): void {
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
    // Traffic until every node finalized past where the split left the highest (two minutes at most),
    // then quiet time until all agree on one height with every transfer final (six at most):
    // statuses (every six slots) point laggards at what they missed. A stalled chain runs both
    // bounds out and fails below.
    const split = Math.max(...sim.nodes.map((n) => n.engine.finalizedHeight));
    sim.runWithTrafficUntil(() => sim.minFinalized() > split, 2 * MINUTE, 20_000);
    sim.runUntil(() => converged(sim), 6 * MINUTE, 10_000);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    // Converged: everyone reached the same finalized height, past the partition.
    const heights = sim.nodes.map((n) => n.engine.finalizedHeight);
    expect(Math.min(...heights)).toBe(Math.max(...heights));
    expect(sim.finalizedTxCount()).toBe(sim.submitted.length);
  }
