import { describe, it } from "vitest";
import { fuzzSeeds, safetyRun } from "./safety-fuzz.js";

// Half of the seeds in each of two files, so both cores share the work: one fixed seed here under
// `npm test`, the rest of the sweep (5000–5099, test/sim/safety-fuzz.ts fuzzSeeds) under `npm run soak`.
describe("safety under random faults (seeds 0 mod 2)", () => {
  it.each(fuzzSeeds().filter((_, i) => i % 2 === 0))("seed %i", (seed) => safetyRun(seed));
});
