import { describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import { carriesQuorum } from "../../src/consensus/vote-aggregation.js";
import { ConsensusSim, SIM_RADIO_LINK } from "../sim/harness.js";

const MINUTE = 60_000;
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

/*
 * A mid-slot vote copy that carries a quorum goes to the neighbours only when it is sent for our
 * vote's place in the next certificate and one frame heard here already took the quorum mesh-wide
 * (engine/voting.ts `resendVote`; docs/consensus.md §15, "Copies at hop 0"). A peer that forges such a
 * frame (a full bitmap, a signature that does not verify) must not stand in for it: the node's
 * copies, which then carry a quorum nobody else may hold, keep going mesh-wide.
 */
describe("forged quorum frames and the reach of vote copies", () => {
  it("a validator notarized only by combining frames, fed forged quorum aggregates, still sends its quorum copies mesh-wide", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 63, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates }, direct: () => true });
    const target = 4;
    const copies: { quorum: boolean; reach: string }[] = [];
    let forged = 0;
    sim.onSend = (from, m, reach) => {
      if (m.kind !== "vote-aggregate") return;
      const weights = sim.nodes[0]!.engine.head().weights;
      const signers = signerIndices(m.signers);
      if (from === target) copies.push({ quorum: carriesQuorum(signers, weights), reach });
      // For every turn frame heard of, the liar hands the target a "quorum" for the same block: every
      // signer named, the frame's own (short) signature under it.
      if (from !== target && !carriesQuorum(signers, weights)) {
        forged++;
        sim.deliverTo(target, { ...m, signers: new Uint8Array([0x7f]) });
      }
    };
    // The target's vote frames reach no one (certificates leave its votes out), and it hears no
    // real frame of five signers or more: it is notarized only by adding its own vote to a turn frame.
    sim.filter = (from, to, m) => {
      if (m.kind !== "vote" && m.kind !== "vote-aggregate") return true;
      if (from === target) return false;
      return to !== target || m.kind === "vote" || signerIndices(m.signers).length < 5;
    };
    sim.start();
    const node = sim.nodes[target]!.engine.stats;
    sim.runWithTrafficUntil(() => node.votesResentNotarized > 2 && sim.minFinalized() > 8, 12 * MINUTE, 20_000);
    expect(forged).toBeGreaterThan(0);
    expect(node.badAggregates).toBeGreaterThan(0);
    expect(node.votesResentNotarized).toBeGreaterThan(2);
    // No copy of the target's that carried a quorum stayed with the neighbours.
    expect(copies.filter((c) => c.quorum).length).toBeGreaterThan(0);
    expect(copies.filter((c) => c.quorum && c.reach === "neighbours")).toHaveLength(0);
    expect(sim.minFinalized()).toBeGreaterThan(8);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);
});
