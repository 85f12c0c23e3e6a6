import { expect } from "vitest";
import { ConsensusSim, type SimOptions } from "./harness.js";
import { seededRandom } from "../fixtures/random.js";

/**
 * One short randomized run: loss, delays, partitions that shift every half minute, and validators
 * crashing and restarting. Whatever happens, no two nodes may finalize different blocks at one height
 * and no honest validator may sign two blocks in one slot.
 */
export function safetyRun(seed: number, engine?: SimOptions["engine"]): void {
  const random = seededRandom(seed * 7919);
  const validators = 4 + Math.floor(random() * 2);
  const sim = new ConsensusSim({ validators, seed, conditions: { loss: random() * 0.3, delayMs: [50, 1_000 + random() * 14_000] }, ...(engine === undefined ? {} : { engine }) });
  sim.start();
  for (let step = 0; step < 4; step++) {
    const ids = sim.nodes.map((n) => n.index);
    if (random() < 0.5) {
      const cut = 1 + Math.floor(random() * (ids.length - 1));
      const shuffled = [...ids].sort(() => random() - 0.5);
      sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else sim.heal();
    if (random() < 0.3) {
      const victim = Math.floor(random() * ids.length);
      sim.crash(victim);
      sim.runWithTraffic(10_000, 10_000);
      sim.restart(victim);
    }
    sim.runWithTraffic(30_000, 10_000);
  }
  expect(sim.conflictingFinalized).toBe(0);
  expect(sim.finalizedAgree()).toBe(true);
  expect(sim.doubleSigned()).toBe(0);
}

export function fuzzSeeds(): number[] {
  // 6 fixed seeds in `npm test` (3 per file); `npm run soak` runs 100 (MESHCHAIN_SAFETY_SEEDS sets any other count).
  const count = Number(process.env.MESHCHAIN_SAFETY_SEEDS ?? 6);
  return Array.from({ length: count }, (_, i) => 5000 + i);
}
