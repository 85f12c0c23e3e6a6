import { describe, expect, it } from "vitest";
import { type NotarizationCertificate, signerBitmap } from "../../src/core/block/certificate.js";
import { blockHash, type BlockHeader } from "../../src/core/block/header.js";
import { signPrecommit, signVote } from "../../src/core/block/vote.js";
import { blsAggregateSignatures } from "../../src/core/crypto/bls.js";
import { verifyCertificate } from "../../src/consensus/certificates.js";
import { FinalityTracker } from "../../src/consensus/finality.js";
import { type PlannedBlock, planFinalityProof, precommitProofHolds } from "../../src/consensus/finality-proof.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { tryCertifyWithAggregates, verifyAggregate } from "../../src/consensus/vote-aggregation.js";
import type { WeightedValidator } from "../../src/consensus/weights.js";
import { CHAIN_ID, testIdentity } from "../fixtures/chain.js";

/*
 * The precommit rule of finality (docs/consensus.md, "Precommits"): a notarized block precommitted
 * by more than two thirds of its voting weight is final in its own slot, on a chain whose genesis
 * says so; and what a peer sends for it is checked before it is believed.
 */
const ids = Array.from({ length: 7 }, (_, i) => testIdentity(`validator-${i}`));
const weights: WeightedValidator[] = ids.map((id) => ({ address: id.address, blsPublicKey: id.bls.publicKey, stake: 1n, proximityBps: 10_000, weight: 1n }));
const outsider = testIdentity("outsider");

function header(height: number, slot: number): BlockHeader {
  const zero = new Uint8Array(32);
  return { version: 1, height, slot, timestamp: 1_767_225_600 + slot, parentHash: zero, txRoot: zero, stateRoot: zero, proposer: ids[0]!.address, randaoReveal: new Uint8Array(48), certificate: null, signature: new Uint8Array(48) };
}

function certificate(h: BlockHeader, signers: number[], sign: typeof signVote, keys = signers.map((i) => ids[i]!.bls)): NotarizationCertificate {
  const hash = blockHash(h);
  return { height: h.height, blockHash: hash, signers: signerBitmap(signers), signature: blsAggregateSignatures(keys.map((k) => sign(CHAIN_ID, h.slot, hash, k))) };
}

const planned = (h: BlockHeader, precommit: NotarizationCertificate | null = null): PlannedBlock => ({ header: h, notarization: certificate(h, [0, 1, 2, 3, 4], signVote), byProposerAlone: false, weights, precommit });

describe("the precommit finality rule", () => {
  it("makes a block final in its own slot on a chain with the rule, and on no other", () => {
    const on = new FinalityTracker(2, true);
    expect(on.next({ height: 5, slot: 10 }, false, true)).toBe(5);
    // Gaps do not matter: the precommits are of this block.
    expect(on.next({ height: 6, slot: 14 }, false, true)).toBe(6);
    const off = new FinalityTracker(2, false);
    expect(off.next({ height: 5, slot: 10 }, false, true)).toBeNull();
    // The two-slot rule still holds beside it.
    expect(on.next({ height: 7, slot: 15 }, false)).toBe(6);
    expect(on.fork().precommits).toBe(true);
  });

  it("lets range sync's proof rest on one block's notarization and its precommit certificate", () => {
    const verifier = new BlsVerifier(CHAIN_ID);
    const run = [planned(header(1, 3)), planned(header(2, 5)), planned(header(3, 7))];
    const last = run[2]!;
    const withCert = [...run.slice(0, 2), { ...last, precommit: certificate(last.header, [1, 2, 3, 4, 5], signPrecommit) }];
    const plan = planFinalityProof(withCert, weights, new FinalityTracker(2, true), verifier);
    expect(plan).toEqual({ covered: 3, proof: [2], finalHeight: 3, precommit: 2 });
    expect(precommitProofHolds(withCert, plan, verifier)).toBe(true);
    // Without a verifier to check it, a certificate's signer names count for nothing.
    expect(planFinalityProof(withCert, weights, new FinalityTracker(2, true)).finalHeight).toBeNull();
    // Without a certificate, or on a chain without the rule, no slot pair is consecutive: nothing proven.
    expect(planFinalityProof(run, weights, new FinalityTracker(2, true)).finalHeight).toBeNull();
    expect(planFinalityProof(withCert, weights, new FinalityTracker(2, false)).finalHeight).toBeNull();
  });

  it("refuses what a peer forges: a short certificate, non-members, votes passed off as precommits, another block's precommits", () => {
    const verifier = new BlsVerifier(CHAIN_ID);
    const h = header(4, 9);
    const plan = (precommit: NotarizationCertificate) => {
      const run = [planned(h, precommit)];
      const p = planFinalityProof(run, weights, new FinalityTracker(2, true), verifier);
      return { p, holds: precommitProofHolds(run, p, verifier) };
    };
    // Four of seven: not more than two thirds.
    expect(plan(certificate(h, [0, 1, 2, 3], signPrecommit)).p.finalHeight).toBeNull();
    // A bitmap naming an index outside the voting set.
    expect(plan(certificate(h, [0, 1, 2, 3, 7], signPrecommit, [0, 1, 2, 3].map((i) => ids[i]!.bls).concat(outsider.bls))).p.finalHeight).toBeNull();
    // A quorum bitmap whose signature is the notarization's (votes, not precommits): refused by the pairing check.
    expect(plan(certificate(h, [0, 1, 2, 3, 4], signVote)).p.finalHeight).toBeNull();
    // One signer's key swapped for an outsider's: the bitmap claims a member who did not sign.
    expect(plan(certificate(h, [0, 1, 2, 3, 4], signPrecommit, [0, 1, 2, 3].map((i) => ids[i]!.bls).concat(outsider.bls))).p.finalHeight).toBeNull();
    // Precommits of another block of the same height.
    const other = header(4, 8);
    expect(plan({ ...certificate(other, [0, 1, 2, 3, 4], signPrecommit), blockHash: blockHash(h) }).p.finalHeight).toBeNull();
    // And the genuine certificate does prove it, so the refusals above are the forgeries'.
    const genuine = plan(certificate(h, [0, 1, 2, 3, 4], signPrecommit));
    expect(genuine.p.finalHeight).toBe(4);
    expect(genuine.holds).toBe(true);
    // A certificate of another height is not this block's.
    expect(plan({ ...certificate(h, [0, 1, 2, 3, 4], signPrecommit), height: 5 }).p.finalHeight).toBeNull();
  });

  it("aggregates precommits as votes are aggregated, each kind checked under its own signing kind", () => {
    const verifier = new BlsVerifier(CHAIN_ID);
    const h = header(2, 4);
    const b = { height: h.height, slot: h.slot, hash: blockHash(h) };
    const cert = certificate(h, [0, 1, 2], signPrecommit);
    expect(verifyAggregate(cert, b, weights, verifier, "precommit")).toEqual([0, 1, 2]);
    expect(verifyAggregate(cert, b, weights, verifier, "vote")).toBeNull();
    const singles = new Map([3, 4].map((i) => [i, signPrecommit(CHAIN_ID, h.slot, b.hash, ids[i]!.bls)] as const));
    const partial = { signers: [0, 1, 2], signature: cert.signature };
    const { certificate: full } = tryCertifyWithAggregates(b, singles, [partial], weights, verifier, "precommit");
    expect(full).not.toBeNull();
    expect(verifyCertificate(full!, b, weights, verifier, "precommit")).toBe(true);
    expect(verifyCertificate(full!, b, weights, verifier, "vote")).toBe(false);
    // The same signatures read as votes are bad ones: dropped, never counted.
    expect(tryCertifyWithAggregates(b, singles, [partial], weights, verifier, "vote").certificate).toBeNull();
  });
});
