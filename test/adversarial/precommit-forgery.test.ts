import { describe, expect, it } from "vitest";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { blockHash } from "../../src/core/block/header.js";
import { signPrecommit } from "../../src/core/block/vote.js";
import { blsAggregateSignatures } from "../../src/core/crypto/bls.js";
import { bytesEqual } from "../../src/core/bytes.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { votingWeights } from "../../src/consensus/weights.js";
import { ConsensusSim } from "../sim/harness.js";

/*
 * Precommits from a peer are hostile until checked (docs/consensus.md, "Precommits"): a node counts a
 * precommit aggregate only when it verifies, as precommits, over exactly the named signers' keys of
 * the block's voting set, and a precommit quorum makes final only a block it holds notarized.
 */
describe("precommits a peer forges", () => {
  it("finalize nothing: real precommits for a block not notarized here, a bitmap claiming a signer too many, a signer outside the set", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 73, params: { finalityRule: 1n } });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() >= 2, 3 * 60_000, 10_000);
    // Node 0 cut off: the majority notarizes blocks it never hears of. One of them is then handed
    // to it bare (no votes, no child carrying its certificate), so it holds it unnotarized.
    const target = sim.nodes[0]!;
    const cutAt = target.engine.slotAt(sim.clock.now());
    sim.partition([[0], [1, 2, 3]]);
    const fresh = () => [...sim.proposals.values()].filter((b) => b.header.slot > cutAt && b.header.height === target.engine.finalizedHeight + 1);
    sim.runWithTrafficUntil(() => fresh().length > 0, 4 * 60_000, 10_000);
    const block = fresh()[0]!;
    expect(block).toBeDefined();
    target.engine.receive({ kind: "proposal", block });
    const hash = blockHash(block.header);
    const chainId = target.engine.chainId;
    const order = votingWeights(new Ledger(target.engine.finalizedState), block.header.height).map((w) => sim.nodes.findIndex((n) => bytesEqual(n.identity.address, w.address)));
    const sign = (node: number) => signPrecommit(chainId, block.header.slot, hash, sim.nodes[node]!.identity.bls);
    const message = (signers: number[], signature: Uint8Array) => ({ kind: "precommit-aggregate", height: block.header.height, blockRef: hash.slice(0, 8), signers: signerBitmap(signers), signature }) as const;
    const before = { ...target.engine.stats };

    // Every validator's real precommit: a quorum, but for a block node 0 never saw notarized.
    target.engine.receive(message([0, 1, 2, 3], blsAggregateSignatures(order.map(sign))));
    // Three signatures under a bitmap of four.
    target.engine.receive(message([0, 1, 2, 3], blsAggregateSignatures(order.slice(0, 3).map(sign))));
    // A fifth signer the voting set does not have.
    target.engine.receive(message([0, 1, 2, 4], blsAggregateSignatures(order.slice(0, 3).map(sign))));
    sim.run(1_000);
    expect(target.engine.stats.finalByPrecommit).toBe(before.finalByPrecommit);
    expect(target.engine.stats.badAggregates).toBe(before.badAggregates + 2);
    expect(target.engine.finalizedHeight).toBeLessThan(block.header.height);

    // Healed, the chain goes on without it, and nothing final conflicts.
    sim.heal();
    const height = sim.minFinalized();
    sim.runWithTrafficUntil(() => sim.minFinalized() > height + 2, 4 * 60_000, 10_000);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalByVotes()).toBe(0);
    expect(sim.nodes.every((n) => !n.engine.finalizedChain.includes(Buffer.from(hash).toString("hex")))).toBe(true);
  });
});
