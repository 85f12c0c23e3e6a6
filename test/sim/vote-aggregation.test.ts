import { describe, expect, it } from "vitest";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { blockHash } from "../../src/core/block/header.js";
import { signVote } from "../../src/core/block/vote.js";
import { toHex } from "../../src/core/bytes.js";
import { blsAggregateSignatures } from "../../src/core/crypto/bls.js";
import { CHAIN_ID } from "../fixtures/chain.js";
import { ConsensusSim, SIM_RADIO_LINK } from "./harness.js";

const MINUTE = 60_000;
const SLOT = 10_000;
const rates = { statusIntervalMs: 6 * SLOT, maxStatusSilenceMs: 60 * SLOT, helloMinIntervalMs: MINUTE };

/** Votes aggregated in flight on the radio (issue 20; consensus/vote-aggregation.ts). */
describe("vote aggregates on a radio channel", () => {
  it("go out in place of single votes, and the chain stays live and safe", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 31, conditions: { loss: 0.1, delayMs: [50, 400] }, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    sim.start();
    const received = () => sim.nodes.reduce((a, n) => a + n.engine.stats.aggregatesReceived, 0);
    // Until an aggregate went round and finality passed height 3 (three minutes at most, as before).
    sim.runWithTrafficUntil(() => received() > 0 && sim.minFinalized() > 3, 3 * MINUTE, 15_000);
    const sent = sim.nodes.reduce((a, n) => a + n.engine.stats.aggregatesSent, 0);
    expect(sent).toBeGreaterThan(0);
    expect(sim.sentByKind.get("vote-aggregate")).toBe(sent);
    expect(received()).toBeGreaterThan(0);
    expect(sim.nodes.reduce((a, n) => a + n.engine.stats.badAggregates, 0)).toBe(0);
    expect(sim.minFinalized()).toBeGreaterThan(3);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
  }, 180_000);

  it("keep the chain live when a hidden validator's first copies are lost and its mid-slot copy completes each quorum", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 5, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    // One validator down: every block needs all three others. Validator 2's first copies never arrive,
    // so its mid-slot copy (alone, or in its aggregate) is what completes each quorum.
    sim.crash(3);
    sim.firstVotesLost.add(2);
    sim.start();
    // Until finality passes height 3, each block's quorum completed by validator 2's mid-slot copy (three minutes at most).
    sim.runWithTrafficUntil(() => sim.minFinalized() > 3, 3 * MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(3);
    expect(sim.conflictingFinalized).toBe(0);
  }, 180_000);

  it("forged aggregates never notarize a block: a bitmap claiming absent validators, a wrong signature, another block's votes", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 32, engine: { link: SIM_RADIO_LINK, controlRates: rates } });
    // Two of four down: no quorum exists (three of four are needed). An attacker replays the live
    // validators' real votes inside aggregates that claim the absent ones too.
    sim.crash(2);
    sim.crash(3);
    sim.start();
    const live = sim.nodes.slice(0, 2);
    // Voting-set indices (the set's order, not the simulator's).
    const indexOf = (address: Uint8Array) => sim.nodes[0]!.engine.head().weights.findIndex((w) => toHex(w.address) === toHex(address));
    const liveIdx = live.map((n) => indexOf(n.identity.address));
    const absent = sim.nodes.slice(2).map((n) => indexOf(n.identity.address));
    const forged = new Set<string>();
    const end = sim.clock.now() + 3 * MINUTE;
    while (sim.clock.now() < end) {
      sim.submitTransfer();
      sim.run(5_000);
      for (const [id, block] of sim.proposals) {
        if (forged.has(id)) continue;
        forged.add(id);
        const hash = blockHash(block.header);
        const votes = live.map((n) => signVote(CHAIN_ID, block.header.slot, hash, n.identity.bls));
        const real = blsAggregateSignatures(votes);
        const attacks = [
          { signers: signerBitmap([...liveIdx, ...absent]), signature: real },
          { signers: signerBitmap([...liveIdx, absent[0]!]), signature: real },
          { signers: signerBitmap([...liveIdx, ...absent]), signature: votes[0]! },
          { signers: signerBitmap([...liveIdx, 9]), signature: real },
        ];
        for (const n of live) for (const a of attacks) n.engine.receive({ kind: "vote-aggregate", height: block.header.height, blockRef: hash.slice(0, 8), ...a });
      }
    }
    expect(forged.size).toBeGreaterThan(0);
    for (const n of live) {
      expect(n.engine.head().height).toBe(0);
      expect(n.engine.stats.notarized).toBe(0);
      expect(n.engine.stats.badAggregates).toBeGreaterThan(0);
    }
    // The genuine two-signer aggregate is believed, and still no quorum.
    const [first] = [...sim.proposals.values()];
    const hash = blockHash(first!.header);
    const genuine = blsAggregateSignatures(live.map((n) => signVote(CHAIN_ID, first!.header.slot, hash, n.identity.bls)));
    const before = live[0]!.engine.stats.badAggregates;
    live[0]!.engine.receive({ kind: "vote-aggregate", height: first!.header.height, blockRef: hash.slice(0, 8), signers: signerBitmap(liveIdx), signature: genuine });
    expect(live[0]!.engine.stats.badAggregates).toBe(before);
    expect(live[0]!.engine.stats.notarized).toBe(0);
  }, 180_000);
});
