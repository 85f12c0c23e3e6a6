import { describe, expect, it } from "vitest";
import type { Block } from "../../src/core/block/block.js";
import { blockHash } from "../../src/core/block/header.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { ConsensusSim } from "./harness.js";
import { tempDirsPerTest } from "../fixtures/temp.js";

const MINUTE = 60_000;
const dir = tempDirsPerTest();

describe("consensus under crashes", () => {
  it("keeps finalizing with up to a third of the weight crashed", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 21 });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() >= 2, 2 * MINUTE, 20_000);
    sim.crash(5);
    sim.crash(6);
    const before = sim.minFinalized();
    sim.runWithTrafficUntil(() => sim.minFinalized() > before + 3, 4 * MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(before + 3);
    expect(sim.finalizedAgree()).toBe(true);
  });

  it("stops finalizing with more than a third crashed, never finalizing conflicting blocks, and resumes when they return", () => {
    const sim = new ConsensusSim({ validators: 7, seed: 22 });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() >= 2, 2 * MINUTE, 20_000);
    [4, 5, 6].forEach((i) => sim.crash(i));
    sim.run(30_000);
    const stalled = Math.max(...sim.nodes.slice(0, 4).map((n) => n.engine.finalizedHeight));
    // Six slots with traffic: four of seven finalizing anything shows at the next slot or two.
    sim.runWithTraffic(MINUTE, 20_000);
    expect(Math.max(...sim.nodes.slice(0, 4).map((n) => n.engine.finalizedHeight))).toBe(stalled);
    expect(sim.conflictingFinalized).toBe(0);
    [4, 5, 6].forEach((i) => sim.restart(i));
    sim.runWithTrafficUntil(() => sim.minFinalized() > stalled, 4 * MINUTE, 20_000);
    expect(sim.minFinalized()).toBeGreaterThan(stalled);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.doubleSigned()).toBe(0);
  });

  /**
   * Validator 1 votes for block B in slot s, crashes and restarts at once, and is then shown B's
   * parent and a twin of B for the same slot (from an equivocating proposer). With its signing record
   * it refuses; without it, it signs the twin: the control proves the scenario really tests that.
   */
  function restartAndOfferTwin(signerDir: string | undefined, loseSigningRecord: boolean) {
    const sim = new ConsensusSim({ validators: 4, seed: 23, ...(signerDir === undefined ? {} : { signerDir }) });
    sim.start();
    sim.runWithTraffic(MINUTE, 10_000);
    let last = sim.nodes[1]!.signer.last();
    let b = last === null ? undefined : sim.proposals.get(Buffer.from(last.blockHash).toString("hex"));
    while (b === undefined || b.header.certificate === null || b.header.proposer.every((x, k) => x === sim.nodes[1]!.identity.address[k])) {
      sim.runWithTraffic(5_000, 5_000);
      last = sim.nodes[1]!.signer.last();
      b = last === null ? undefined : sim.proposals.get(Buffer.from(last.blockHash).toString("hex"));
    }
    const block = b;
    sim.crash(1);
    sim.restart(1, { loseSigningRecord });
    // Its chain up to B's parent, with the parent's notarization (carried in B's header).
    const chain: Block[] = [];
    for (let p = sim.proposals.get(Buffer.from(block.header.parentHash).toString("hex")); p !== undefined; p = sim.proposals.get(Buffer.from(p.header.parentHash).toString("hex"))) chain.unshift(p);
    chain.forEach((p, k) => sim.deliverTo(1, { kind: "certified-block", block: p, certificate: k === chain.length - 1 ? block.header.certificate : (chain[k + 1]?.header.certificate ?? null) }));
    const proposer = sim.nodes.find((n) => n.identity.address.every((x, k) => x === block.header.proposer[k]))!;
    const parentState = sim.nodes[0]!.engine.stateAfter(Buffer.from(block.header.parentHash).toString("hex"))!;
    const twin = produceBlock(parentState, {
      chainId: sim.genesis.chainId, parent: { height: block.header.height - 1, hash: block.header.parentHash, slot: 0, timestamp: 0 },
      slot: block.header.slot, timestamp: block.header.timestamp + 1, candidates: [], certificate: block.header.certificate,
      proposer: { address: proposer.identity.address, bls: proposer.identity.bls },
    }).block;
    proposer.equivocate = true; // the twin is the proposer's fault, not the voter's
    sim.proposals.set(Buffer.from(blockHash(twin.header)).toString("hex"), twin);
    sim.deliverTo(1, { kind: "proposal", block: twin });
    sim.close();
    return sim;
  }

  it("never double-signs after a crash and restart: the signing record in SQLite refuses the twin", () => {
    const sim = restartAndOfferTwin(dir(), false);
    expect(sim.nodes[1]!.engine.stats.refusedBySignerSafety).toBeGreaterThan(0);
    expect(sim.doubleSigned()).toBe(0);
  });

  it("would double-sign without its signing record (control)", () => {
    const sim = restartAndOfferTwin(undefined, true);
    expect(sim.doubleSigned()).toBe(1);
  });
});

describe("a validator whose store fails its commits", () => {
  it("keeps its finality where its store is while commits fail, and catches up with the others once they succeed", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 41 });
    const failing = sim.nodes[0]!;
    sim.start();
    sim.runWithTrafficUntil(() => failing.engine.finalizedHeight > 2, 2 * 60_000, 15_000);
    const before = failing.engine.finalizedHeight;
    expect(before).toBeGreaterThan(2);
    expect(before).toBe(failing.storedHeight);
    failing.storeFailing = true;
    sim.runWithTrafficUntil(() => failing.engine.stats.commitFailures > 0 && sim.minFinalized(sim.nodes.slice(1)) > before + 2, 2 * 60_000, 15_000);
    expect(failing.engine.stats.commitFailures).toBeGreaterThan(0);
    // Memory never runs ahead of the disk, while the three others carry on.
    expect(failing.engine.finalizedHeight).toBe(failing.storedHeight);
    expect(sim.minFinalized(sim.nodes.slice(1))).toBeGreaterThan(before + 2);
    failing.storeFailing = false;
    sim.runWithTrafficUntil(() => failing.engine.finalizedHeight > before + 2 && failing.engine.finalizedHeight === failing.storedHeight, 2 * 60_000, 15_000);
    expect(failing.engine.finalizedHeight).toBe(failing.storedHeight);
    expect(failing.engine.finalizedHeight).toBeGreaterThan(before + 2);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
  });
});
