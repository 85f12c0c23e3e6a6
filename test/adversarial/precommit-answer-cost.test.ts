import { describe, expect, it } from "vitest";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { blockHash } from "../../src/core/block/header.js";
import { signPrecommit } from "../../src/core/block/vote.js";
import { bytesEqual } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { SlotClock } from "../../src/core/state/slot-clock.js";
import { votingWeights } from "../../src/consensus/weights.js";
import { ConsensusSim, SIM_RADIO_LINK } from "../sim/harness.js";

const MINUTE = 60_000;
const SLOT = 30_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

/*
 * A short precommit frame for a block final here makes a signer answer with the certificate
 * (engine/precommit-answers.ts) only in the second and third slots after the block's: a peer
 * replaying a genuine one buys at most one answer a slot per block there, two in all, and none
 * during the usual round nor in a slot's first third; a frame that does not verify buys nothing.
 */
describe("short precommit frames a peer replays", () => {
  it("cost at most one answer a slot in the asking window, none outside it, none when forged", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 79, params: { slotMs: BigInt(SLOT), finalityRule: 1n }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    sim.start();
    const target = sim.nodes[0]!;
    const stats = target.engine.stats;
    // A few transfers, then none: step until node 0 finalizes the block with the last of them, by
    // precommits, in that block's own slot. The chain is idle after it, so the block stays node 0's
    // finalized root, as the last block before a lull is (a later final block would supersede it).
    sim.runWithTrafficUntil(() => target.engine.finalizedHeight > 2, 5 * MINUTE, 10_000);
    let block = null as ReturnType<typeof sim.proposals.get> | null;
    const finalNow = () => {
      const chain = target.engine.finalizedChain;
      const b = sim.proposals.get(chain[chain.length - 1] ?? "");
      return b !== undefined && sim.finalizedTxCount() === sim.submitted.length && target.engine.slotAt(sim.clock.now()) === b.header.slot ? b : null;
    };
    sim.runUntil(() => (block = finalNow()) !== null, 10 * SLOT, 500);
    expect(block).not.toBeNull();
    const b = block!;
    const hash = blockHash(b.header);
    const order = votingWeights(new Ledger(target.engine.finalizedState), b.header.height).map((w) => sim.nodes.findIndex((n) => bytesEqual(n.identity.address, w.address)));
    const signer = order[1]!;
    const short = { kind: "precommit-aggregate", height: b.header.height, blockRef: hash.slice(0, 8), signers: signerBitmap([1]), signature: signPrecommit(target.engine.chainId, b.header.slot, hash, sim.nodes[signer]!.identity.bls) } as const;
    const forged = { ...short, signature: signPrecommit(target.engine.chainId, b.header.slot + 1, hash, sim.nodes[signer]!.identity.bls) };
    const replay = (m: typeof short) => {
      for (let i = 0; i < 20; i++) sim.deliverTo(0, m);
    };
    // The turns' own frames still on their way would silence the answer (it waits for them): let them land.
    sim.run(5_000);
    expect(target.engine.slotAt(sim.clock.now())).toBe(b.header.slot);
    const before = { answers: stats.precommitAnswers, bad: stats.badAggregates };
    const slots = SlotClock.of(sim.genesis, sim.genesis.params);
    const slotEnd = (slot: number) => slots.startOf(slot + 1) - sim.clock.now();

    replay(forged);
    sim.run(1_000);
    expect(stats.precommitAnswers).toBe(before.answers);
    expect(stats.badAggregates).toBeGreaterThan(before.bad);

    // In the block's own slot and the next, short frames are the usual round's turns and copies: no answer.
    replay(short);
    sim.run(slotEnd(b.header.slot + 1) + 1_000);
    replay(short);
    sim.run(slotEnd(b.header.slot + 1) + 1_000);
    expect(stats.precommitAnswers).toBe(before.answers);
    // From the second slot on, one answer a slot however many copies come, for two slots; none to a
    // copy in a slot's first third (where the next proposal and votes are on air), when no ask is made.
    for (let k = 2; k < 4; k++) {
      replay(short);
      sim.run(5_000);
      expect(stats.precommitAnswers).toBe(before.answers + k - 2);
      sim.run(slots.startOf(b.header.slot + k) + SLOT / 3 + 1_000 - sim.clock.now());
      replay(short);
      sim.run(slotEnd(b.header.slot + k) + 1_000);
      expect(stats.precommitAnswers).toBe(before.answers + k - 1);
    }
    replay(short);
    sim.run(SLOT);
    expect(stats.precommitAnswers).toBe(before.answers + 2);
    expect(sim.finalizedAgree()).toBe(true);
  }, 120_000);
});
