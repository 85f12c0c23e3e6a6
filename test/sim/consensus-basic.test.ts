import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;

describe("consensus reaches and keeps finality", () => {
  it.each([4, 7])("with %i validators", (validators) => {
    const sim = new ConsensusSim({ validators, seed: validators });
    sim.start();
    sim.runWithTraffic(10 * MINUTE, 20_000);
    const first = sim.minFinalized();
    expect(first).toBeGreaterThan(5);
    sim.runWithTraffic(5 * MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(first);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
  });
});
