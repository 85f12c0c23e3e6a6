import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/core/state/ledger.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
// As in precommit-copies.test.ts: a step of the turns outlasts the sim's delivery delays.
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

/**
 * A node that missed every precommit frame of the last block before the chain went idle asks again
 * from the second slot after it, and a signer answers with the certificate
 * (engine/precommit-answers.ts); before, it stayed short of the others' finality until the next
 * block (devnet seed 7 with --kill: one node never finalized the last block, eight transfers unfinal).
 */
describe("precommit answers", () => {
  it("a node deaf to every precommit frame but the answers finalizes the last block of a chain gone idle; few answers; safe", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 47, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    const deaf = 2;
    // Answers are the frames sent while the sender's answer counter moved.
    const answers = new WeakSet<object>();
    const counted = sim.nodes.map(() => 0);
    sim.onSend = (from, m) => {
      if (m.kind !== "precommit-aggregate") return;
      const now = sim.nodes[from]!.engine.stats.precommitAnswers;
      if (now > counted[from]!) answers.add(m);
      counted[from] = now;
    };
    sim.filter = (from, to, m) => to !== deaf || from === deaf || m.kind !== "precommit-aggregate" || answers.has(m);
    sim.start();
    const others = sim.nodes.filter((n) => n.index !== deaf);
    const top = () => Math.min(...others.map((n) => n.engine.finalizedHeight));
    sim.runWithTrafficUntil(() => top() > 4, 12 * MINUTE, 20_000);
    expect(top()).toBeGreaterThan(4);
    // No more transfers: the chain goes idle (no heartbeat within the test), and only the asks can
    // bring the deaf node the last block's finality.
    const nonce = (n: (typeof others)[number], u: number) => new Ledger(n.engine.finalizedState).account(sim.users[u]!.address).nonce;
    const allFinal = () => sim.users.reduce((c, _, u) => c + Math.min(...others.map((n) => nonce(n, u))), 0) === sim.submitted.length;
    sim.runUntil(allFinal, 10 * SLOT, 1_000);
    expect(allFinal()).toBe(true);
    const last = top();
    // The scenario: the others final on their last block, the deaf node not.
    expect(sim.nodes[deaf]!.engine.finalizedHeight).toBeLessThan(last);
    // Before any later block could bring it (without the asks, it waited for the next block).
    const newBlock = () => Math.max(...others.map((n) => n.engine.head().height)) > last;
    sim.runUntil(() => sim.nodes[deaf]!.engine.finalizedHeight >= last || newBlock(), 6 * SLOT, 1_000);
    expect(newBlock()).toBe(false);
    expect(sim.nodes[deaf]!.engine.finalizedHeight).toBe(last);
    expect(sim.nodes[deaf]!.engine.stats.precommitAsks).toBeGreaterThan(0);
    const sent = sim.nodes.reduce((n, x) => n + x.engine.stats.precommitAnswers, 0);
    expect(sent).toBeGreaterThan(0);
    // The first answer heard silences the rest (the sim delivers everything else).
    expect(sent).toBeLessThanOrEqual(3);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
    expect(sim.conflictingFinalByVotes()).toBe(0);
  }, 180_000);
});
