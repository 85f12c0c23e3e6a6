import { describe, expect, it } from "vitest";
import type { Block } from "../../src/core/block/block.js";
import { signerIndices } from "../../src/core/block/certificate.js";
import { nextEpochStart } from "../../src/core/state/epoch.js";
import { toHex } from "../../src/core/bytes.js";
import { blsProvePossession } from "../../src/core/crypto/bls.js";
import type { Identity } from "../../src/core/crypto/identity.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { votingSet } from "../../src/core/state/validators.js";
import { FederationAction, TxKind, VoteChoice } from "../../src/core/tx/types.js";
import { POA_MEMBER_WEIGHT, votingWeights } from "../../src/consensus/weights.js";
import { CHAIN_ID, COIN, tx } from "../fixtures/chain.js";
import { ConsensusSim } from "./harness.js";

const MINUTE = 60_000;
const EPOCH = 10;

const register = (who: Identity, selfBond: bigint) =>
  tx(who, 0, { kind: TxKind.ValidatorRegister, commissionBps: 500, selfBond, blsPublicKey: who.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, who.bls) }, { fee: 10_000n, revealKey: false });

/**
 * Certificates in node `i`'s finalized chain, for blocks from the epoch start after `who` was
 * seated, that name it among their signers. The set has not changed since it joined, so the
 * finalized state's voting set is the one those certificates index.
 */
function certificatesSignedBy(sim: ConsensusSim, i: number, who: Identity, seatedBy: (block: Block) => boolean): number {
  const engine = sim.nodes[i]!.engine;
  const blocks = engine.finalizedChain.map((id) => sim.proposals.get(id)).filter((b): b is Block => b !== undefined);
  const admittedAt = blocks.find(seatedBy)?.header.height;
  if (admittedAt === undefined) return 0;
  const from = nextEpochStart(admittedAt, BigInt(EPOCH));
  const l = new Ledger(engine.finalizedState);
  const set = votingSet(l, l.meta().height).map((m) => toHex(m.address));
  const index = set.indexOf(toHex(who.address));
  return blocks.filter((b) => b.header.certificate !== null && b.header.certificate.height >= from && signerIndices(b.header.certificate.signers).includes(index)).length;
}

/** The block that carries a transaction of this kind from this sender. */
const carries = (who: Identity, kind: TxKind) => (b: Block): boolean => b.txs.some((t) => t.tx.body.kind === kind && toHex(t.tx.sender) === toHex(who.address));

const seated = (sim: ConsensusSim, i: number, who: Identity): boolean => {
  const l = new Ledger(sim.nodes[i]!.engine.finalizedState);
  return votingSet(l, l.meta().height).some((m) => toHex(m.address) === toHex(who.address));
};

/** What the join tests assert of the newcomer, to stop their run once it holds (they assert it again). */
const seatedAndSigning = (sim: ConsensusSim, at: number, who: Identity, seatedBy: (block: Block) => boolean): boolean =>
  seated(sim, 0, who) && sim.nodes[at]!.engine.finalizedHeight > EPOCH && certificatesSignedBy(sim, 0, who, seatedBy) > 0;

describe("consensus modes on the simulator", () => {
  it("poa: four equal members finalize one chain, and go on with one of them down", () => {
    const sim = new ConsensusSim({ validators: 4, seed: 181, consensus: "poa" });
    sim.start();
    sim.runWithTrafficUntil(() => sim.minFinalized() > 5, 3 * MINUTE, 15_000);
    const l = new Ledger(sim.nodes[0]!.engine.finalizedState);
    expect(l.consensusMode()).toBe("poa");
    expect(votingWeights(l, l.meta().height).map((w) => w.weight)).toEqual(Array(4).fill(POA_MEMBER_WEIGHT));
    expect(sim.minFinalized()).toBeGreaterThan(5);
    sim.crash(3);
    const before = sim.minFinalized();
    sim.runWithTrafficUntil(() => sim.minFinalized() > before + 3, 3 * MINUTE, 15_000);
    // Three of four equal members hold more than two thirds.
    expect(sim.minFinalized()).toBeGreaterThan(before + 3);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    expect(sim.doubleSigned()).toBe(0);
    sim.close();
  });

  it("dpop: a validator that registers on the running chain starts voting at the next epoch start", () => {
    const sim = new ConsensusSim({ validators: 3, seed: 182, joiners: 1, params: { epochLength: BigInt(EPOCH) } });
    const joiner = sim.joiners[0]!;
    sim.start();
    const at = sim.addNode(joiner);
    sim.runWithTraffic(MINUTE, 15_000);
    sim.submit(register(joiner, 10_000n * COIN));
    // Included but waiting for its epoch: then seated, and its votes reach certificates.
    sim.runWithTrafficUntil(() => seatedAndSigning(sim, at, joiner, carries(joiner, TxKind.ValidatorRegister)), 6 * MINUTE, 15_000);
    expect(seated(sim, 0, joiner)).toBe(true);
    expect(certificatesSignedBy(sim, 0, joiner, carries(joiner, TxKind.ValidatorRegister))).toBeGreaterThan(0);
    // It follows the same chain as everyone.
    expect(sim.nodes[at]!.engine.finalizedHeight).toBeGreaterThan(EPOCH);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    sim.close();
  });

  it("poa: the federation votes a registered candidate in, and it votes from the next epoch", () => {
    const sim = new ConsensusSim({ validators: 3, seed: 183, consensus: "poa", joiners: 1, params: { epochLength: BigInt(EPOCH) } });
    const candidate = sim.joiners[0]!;
    const [a, b, c] = sim.nodes.map((n) => n.identity) as [Identity, Identity, Identity];
    sim.start();
    const at = sim.addNode(candidate);
    sim.submit(register(candidate, 0n));
    sim.run(MINUTE);
    sim.submit(tx(a, 0, { kind: TxKind.FederationProposal, action: FederationAction.Add, validator: candidate.address }, { fee: 10_000n }));
    sim.run(MINUTE);
    // Proposal ids start at 1.
    sim.submit(tx(b, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes }, { fee: 10_000n }), 1);
    sim.submit(tx(c, 0, { kind: TxKind.GovVote, proposalId: 1, choice: VoteChoice.Yes }, { fee: 10_000n }), 2);
    sim.runWithTrafficUntil(() => seatedAndSigning(sim, at, candidate, carries(c, TxKind.GovVote)), 6 * MINUTE, 15_000);
    expect(seated(sim, 0, candidate)).toBe(true);
    // Voted in by the block that carries the last vote.
    expect(certificatesSignedBy(sim, 0, candidate, carries(c, TxKind.GovVote))).toBeGreaterThan(0);
    const l = new Ledger(sim.nodes[0]!.engine.finalizedState);
    expect(votingWeights(l, l.meta().height).map((w) => w.weight)).toEqual(Array(4).fill(POA_MEMBER_WEIGHT));
    expect(sim.nodes[at]!.engine.finalizedHeight).toBeGreaterThan(EPOCH);
    expect(sim.finalizedAgree()).toBe(true);
    expect(sim.conflictingFinalized).toBe(0);
    sim.close();
  });
});
