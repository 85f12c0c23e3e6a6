import { describe, expect, it } from "vitest";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { blockHash } from "../../src/core/block/header.js";
import { signPrecommit } from "../../src/core/block/vote.js";
import { bytesEqual } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { votingWeights } from "../../src/consensus/weights.js";
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
  function deafToPrecommits(deaf = 2) {
    const sim = new ConsensusSim({ validators: 7, seed: 47, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
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
    return { sim, deaf, last, newBlock };
  }

  it("a node deaf to every precommit frame but the answers finalizes the last block of a chain gone idle; few answers; safe", () => {
    const { sim, deaf, last, newBlock } = deafToPrecommits();
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

  it("a replayed short frame that only the stuck node hears cannot keep it from asking: it asks in the window's last slot", () => {
    // Node 1: in this run its head stays the stuck block through the window (a node that proposes a
    // child meanwhile is not stuck).
    const { sim, deaf, last } = deafToPrecommits(1);
    const e = sim.nodes[deaf]!.engine;
    const b = e.head().block!;
    // A block in the window's last slot would end the wait by the two-slot rule: the node hears only
    // its own frames' answers from here, so its head stays the stuck block.
    const answered = sim.filter;
    sim.filter = (from, to, m) => to !== deaf || (m.kind === "precommit-aggregate" && answered !== null && answered(from, to, m));
    const hash = blockHash(b.header);
    const order = votingWeights(new Ledger(e.finalizedState), b.header.height).map((w) => sim.nodes.findIndex((n) => bytesEqual(n.identity.address, w.address)));
    const short = { kind: "precommit-aggregate", height: b.header.height, blockRef: hash.slice(0, 8), signers: signerBitmap([0]), signature: signPrecommit(e.chainId, b.header.slot, hash, sim.nodes[order[0]!]!.identity.bls) } as const;
    const slots = SlotClock.of(sim.genesis, sim.genesis.params);
    // At the start of each asking third, before the node's own ask: in the first slot it stays quiet.
    for (const k of [2, 3]) {
      const at = slots.startOf(b.header.slot + k) + SLOT / 3 + 100;
      sim.run(at - sim.clock.now());
      sim.deliverTo(deaf, short);
      if (k === 2) {
        sim.run(slots.startOf(b.header.slot + 3) - sim.clock.now());
        expect(e.stats.precommitAsks).toBe(0);
      }
    }
    sim.runUntil(() => e.finalizedHeight >= last, 2 * SLOT, 1_000);
    expect(e.stats.precommitAsks).toBe(1);
    expect(e.finalizedHeight).toBe(last);
  }, 180_000);
});
