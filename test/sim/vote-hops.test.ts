import { describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import { carriesQuorum } from "../../src/consensus/vote-aggregation.js";
import type { Reach } from "../../src/consensus/messages.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
// As in vote-turns.test.ts: a step of the vote window (7.5 s for six voters) outlasts the sim's delays.
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

interface Sent { readonly from: number; readonly reach: Reach; readonly quorum: boolean }

/** Seven validators on a radio link, with `direct` saying who hears whom without relays; every vote frame sent is recorded. */
function run(seed: number, direct: (from: number, to: number) => boolean) {
  const sim = new ConsensusSim({ validators: 7, seed, params: { slotMs: BigInt(SLOT) }, engine: { link: SIM_RADIO_LINK, controlRates: rates }, direct });
  const votes: Sent[] = [];
  sim.onSend = (from, m, reach) => {
    if (m.kind !== "vote" && m.kind !== "vote-aggregate") return;
    const weights = sim.nodes[0]!.engine.head().weights;
    const signers = m.kind === "vote" ? [m.voter] : signerIndices(m.signers);
    votes.push({ from, reach, quorum: carriesQuorum(signers, weights) });
  };
  sim.start();
  // Until every node has finalized past height 10 (about seven virtual minutes); twelve minutes is the bound.
  sim.runWithTrafficUntil(() => sim.minFinalized() > 10, 12 * MINUTE, 20_000);
  return { sim, votes };
}

/** Vote turn frames travel only as far as the validators are (issue 20; engine/voting.ts `turnReach`). */
describe("vote frames and hop limits", () => {
  it("with every validator in direct range, turn frames go to the neighbours and the quorum frame mesh-wide; every node holds each notarization", () => {
    const { sim, votes } = run(51, () => true);
    const neighbours = votes.filter((v) => v.reach === "neighbours");
    expect(neighbours.length).toBeGreaterThan(0);
    // No frame that carries a quorum stays with the neighbours: followers learn the notarization from it.
    expect(neighbours.filter((v) => v.quorum)).toHaveLength(0);
    expect(votes.filter((v) => v.quorum && v.reach === "mesh").length).toBeGreaterThan(0);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.votesToNeighbours, 0)).toBe(neighbours.length);
    expect(sim.minFinalized()).toBeGreaterThan(10);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);

  it("a validator out of others' direct range keeps every frame meant for it mesh-wide, and keeps getting votes", () => {
    // Validator 6 hears only validators 0-2 directly; the others all hear each other.
    const far = 6;
    const nearFar = (i: number) => i <= 2;
    const { sim, votes } = run(52, (a, b) => a === b || (a !== far && b !== far) || (a === far && nearFar(b)) || (b === far && nearFar(a)));
    // Only 0-2 hear all six others directly: their turn frames alone stay with their neighbours (6 among them).
    expect(votes.filter((v) => v.reach === "neighbours" && !nearFar(v.from))).toHaveLength(0);
    expect(votes.filter((v) => v.reach === "neighbours").length).toBeGreaterThan(0);
    expect(sim.nodes[far]!.engine.stats.votesReceived).toBeGreaterThan(0);
    expect(sim.nodes[far]!.engine.stats.voted).toBeGreaterThan(5);
    expect(sim.minFinalized()).toBeGreaterThan(10);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
  }, 180_000);
});
