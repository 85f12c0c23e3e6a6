import { describe, expect, it } from "vitest";
import { ConsensusSim } from "./harness.js";

/** A chain launched before the two-slot rule keeps Streamlet's (finalitySlots 3): the engine finalizes by it. */
describe("a chain of Streamlet's three-slot rule", () => {
  it("finalizes the middle of three blocks in consecutive slots", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 61, params: { finalitySlots: 3n } });
    expect(sim.genesis.params.finalitySlots).toBe(3n);
    sim.start();
    // Until finality passes height 3 (three minutes at most, as before): every finality is by the three-slot rule.
    sim.runWithTrafficUntil(() => sim.minFinalized() > 3, 3 * 60_000, 10_000);
    expect(sim.minFinalized()).toBeGreaterThan(3);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    // The highest final block is a middle one: its parent in the slot before, a child in the slot after.
    const engine = sim.nodes[0]!.engine;
    const finalId = engine.finalizedChain[engine.finalizedChain.length - 1]!;
    const final = sim.proposals.get(finalId)!;
    const child = [...sim.proposals.values()].find((b) => Buffer.from(b.header.parentHash).toString("hex") === finalId && b.header.slot === final.header.slot + 1);
    expect(child).toBeDefined();
    expect(sim.proposals.get(Buffer.from(final.header.parentHash).toString("hex"))?.header.slot).toBe(final.header.slot - 1);
  });
});
