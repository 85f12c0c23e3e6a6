import { describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import { toHex } from "../../src/core/bytes.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
// As in vote-turns.test.ts: a step of the turns outlasts the sim's delivery delays.
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

/**
 * Precommit frames that would say nothing new stay unsent (issue 20; engine/precommitting.ts): a
 * node that missed the one frame carrying the precommit quorum would send, after the last turn, a
 * mesh-wide copy of what it heard, and what it heard is an aggregate every other node heard too.
 */
describe("precommit copies", () => {
  it("a node that missed only the quorum frames sends no copy an aggregate heard already carried; every node stays final and safe", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 43, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    const deaf = 2;
    // What the deaf node heard, and each of its own precommit frames that one of those already covered.
    const heard = new Map<string, number[][]>();
    const sent = new WeakSet<object>();
    let ownFrames = 0;
    let saidNothingNew = 0;
    sim.filter = (from, to, m) => {
      if (m.kind !== "precommit-aggregate") return true;
      const key = `${m.height}:${toHex(m.blockRef)}`;
      const signers = signerIndices(m.signers);
      if (from === deaf && !sent.has(m)) {
        sent.add(m);
        ownFrames++;
        if ((heard.get(key) ?? []).some((h) => signers.every((i) => h.includes(i)))) saidNothingNew++;
      }
      if (to !== deaf) return true;
      // Seven equal validators: five signers are a quorum, and the deaf node never hears one in a frame.
      if (signers.length >= 5) return false;
      heard.set(key, [...(heard.get(key) ?? []), signers]);
      return true;
    };
    sim.start();
    const node = sim.nodes[deaf]!.engine.stats;
    sim.runWithTrafficUntil(() => node.precommitsCovered > 1 && sim.minFinalized() > 8, 12 * MINUTE, 20_000);
    expect(node.precommitsCovered).toBeGreaterThan(1);
    // Every frame it did send carried a precommit no single frame it heard had.
    expect(ownFrames).toBe(node.precommitsSent);
    expect(saidNothingNew).toBe(0);
    expect(sim.nodes.filter((n) => n.index !== deaf).every((n) => n.engine.stats.finalByPrecommit > 0)).toBe(true);
    expect(sim.minFinalized()).toBeGreaterThan(8);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.conflictingFinalByVotes()).toBe(0);
  }, 180_000);
});
