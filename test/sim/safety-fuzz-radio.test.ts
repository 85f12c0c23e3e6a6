import { describe, it } from "vitest";
import { SIM_RADIO_LINK } from "./harness.js";
import { safetyRun } from "./safety-fuzz.js";

const SLOT = 10_000;

// The same randomized faults with the engine's radio behaviour: paced votes sent as vote aggregates,
// second copies skipped when an aggregate carried them, status rounds at control rates (issue 20).
describe("safety under random faults, radio behaviour (vote aggregates)", () => {
  const engine = { link: SIM_RADIO_LINK, controlRates: { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: 60_000 } };
  it.each([7001, 7002, 7003])("seed %i", (seed) => safetyRun(seed, engine));
});
