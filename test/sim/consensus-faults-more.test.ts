import { describe, it } from "vitest";
import { convergenceRun, faultSeeds } from "./seeds.js";

const seeds = faultSeeds().filter((_, i) => i % 2 === 1);

describe("consensus under loss, long delays and partitions (more seeds)", () => {
  it.each(seeds)("seed %i: no conflicting finality, and convergence after healing", (seed) => convergenceRun(seed));
});
