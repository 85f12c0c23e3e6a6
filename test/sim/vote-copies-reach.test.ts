import { describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import type { Reach } from "../../src/consensus/messages.js";
import { carriesQuorum } from "../../src/consensus/vote-aggregation.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
// As in vote-turns.test.ts: a step of the turns outlasts the sim's delivery delays.
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

interface Sent { readonly from: number; readonly kind: string; readonly reach: Reach; readonly quorum: boolean }

/**
 * Vote resends and precommit copies short of a quorum go as far as the validators are, like turn
 * frames (issue 20; engine/voting.ts `resendVote`, engine/precommitting.ts `send`): they speak to
 * validators, and with every validator in direct range their relays reached no one who needed them.
 * A frame that carries a quorum still goes mesh-wide, answers to a short node included.
 */
describe("vote resends and precommit copies: reach", () => {
  it("a node deaf to every quorum frame sends its copies to its neighbours, is answered mesh-wide, and every node stays final and safe", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 61, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates }, direct: () => true });
    const deaf = 2;
    const frames: Sent[] = [];
    sim.onSend = (from, m, reach) => {
      if (m.kind !== "vote-aggregate" && m.kind !== "precommit-aggregate" && m.kind !== "vote") return;
      const weights = sim.nodes[0]!.engine.head().weights;
      frames.push({ from, kind: m.kind, reach, quorum: carriesQuorum(m.kind === "vote" ? [m.voter] : signerIndices(m.signers), weights) });
    };
    // Seven equal validators: five signers are a quorum, and the deaf node never hears one in a frame
    // (it learns each notarization from the next header), so it is short in the middle of every slot.
    sim.filter = (_from, to, m) => to !== deaf || (m.kind !== "vote-aggregate" && m.kind !== "precommit-aggregate") || signerIndices(m.signers).length < 5;
    sim.start();
    const node = sim.nodes[deaf]!.engine.stats;
    sim.runWithTrafficUntil(() => node.votesResentToNeighbours > 2 && sim.minFinalized() > 8, 12 * MINUTE, 20_000);
    expect(node.votesResentToNeighbours).toBeGreaterThan(2);
    // Nothing with the neighbours carried a quorum: the deaf node's copies were short of one, and
    // no certificate left anyone's vote out here (a left-out vote's copy is the next test).
    expect(frames.filter((f) => f.reach === "neighbours" && f.quorum)).toHaveLength(0);
    // The withheld voters' answers and the quorum turns carried quorums, mesh-wide.
    expect(frames.filter((f) => f.kind === "vote-aggregate" && f.quorum && f.reach === "mesh").length).toBeGreaterThan(0);
    expect(frames.filter((f) => f.kind === "precommit-aggregate" && f.quorum && f.reach === "mesh").length).toBeGreaterThan(0);
    const stats = sim.nodes.map((n) => n.engine.stats);
    expect(stats.reduce((a, s) => a + s.votesResentToNeighbours, 0)).toBeLessThanOrEqual(stats.reduce((a, s) => a + s.votesResent, 0));
    expect(stats.reduce((a, s) => a + s.precommitCopiesToNeighbours, 0)).toBeLessThanOrEqual(stats.reduce((a, s) => a + s.precommitCopies, 0));
    expect(sim.minFinalized()).toBeGreaterThan(8);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.conflictingFinalByVotes()).toBe(0);
  }, 180_000);

  it("a validator whose votes certificates leave out resends them to its neighbours once a quorum frame went mesh-wide", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 62, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates }, direct: () => true });
    const muted = 4;
    const frames: Sent[] = [];
    sim.onSend = (from, m, reach) => {
      if (m.kind !== "vote-aggregate" && m.kind !== "vote") return;
      const weights = sim.nodes[0]!.engine.head().weights;
      frames.push({ from, kind: m.kind, reach, quorum: carriesQuorum(m.kind === "vote" ? [m.voter] : signerIndices(m.signers), weights) });
    };
    // No vote frame of the muted validator gets through: certificates leave its votes out, and it
    // hears the quorum frames, so its mid-slot copies are notarized ones, for the next certificate.
    sim.filter = (from, _to, m) => from !== muted || (m.kind !== "vote" && m.kind !== "vote-aggregate");
    sim.start();
    const node = sim.nodes[muted]!.engine.stats;
    sim.runWithTrafficUntil(() => node.votesResentToNeighbours > 2 && sim.minFinalized() > 8, 12 * MINUTE, 20_000);
    expect(node.votesResentNotarized).toBeGreaterThan(2);
    // Its copies carry the quorum it holds, yet stay with the validators.
    expect(frames.filter((f) => f.from === muted && f.quorum && f.reach === "neighbours").length).toBeGreaterThan(2);
    expect(sim.minFinalized()).toBeGreaterThan(8);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.conflictingFinalByVotes()).toBe(0);
  }, 180_000);

  it("without direct-range knowledge every resend and copy stays mesh-wide", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 61, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    const deaf = 2;
    sim.filter = (_from, to, m) => to !== deaf || (m.kind !== "vote-aggregate" && m.kind !== "precommit-aggregate") || signerIndices(m.signers).length < 5;
    sim.start();
    const node = sim.nodes[deaf]!.engine.stats;
    sim.runWithTrafficUntil(() => node.votesResent > 2 && sim.minFinalized() > 8, 12 * MINUTE, 20_000);
    expect(node.votesResent).toBeGreaterThan(2);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.votesResentToNeighbours + n.engine.stats.precommitCopiesToNeighbours, 0)).toBe(0);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);
});
