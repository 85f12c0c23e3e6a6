import { describe, expect, it } from "vitest";
import { signerIndices } from "../../src/core/block/certificate.js";
import { signVote } from "../../src/core/block/vote.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { defaultParams } from "../../src/core/state/params.js";
import type { Validator } from "../../src/core/state/records.js";
import { votingSet } from "../../src/core/state/validators.js";
import { tryCertify, verifyCertificate } from "../../src/consensus/certificates.js";
import { proposerRanks } from "../../src/consensus/schedule.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { gini, isQuorum, totalWeight, weigh } from "../../src/consensus/weights.js";
import { SqliteSignerSafety } from "../../src/storage/signer-store.js";
import { CHAIN_ID, genesisStore, nextBlock, testChain, testIdentity } from "../fixtures/chain.js";
import { tempDirsPerTest } from "../fixtures/temp.js";
import { join } from "node:path";

const dir = tempDirsPerTest();

function member(i: number, selfBond: bigint, proximityBps = 10_000) {
  const id = testIdentity(`w-${i}`);
  const validator: Validator = { blsPublicKey: id.bls.publicKey, commissionBps: 0, selfBond, delegations: [], jailedUntil: 0, leavingAt: 0, lastInfractionSlot: 0, registeredSlot: 0, proximityBps };
  return { address: id.address, validator };
}

describe("weights", () => {
  it("cap any one validator's stake and scale by proximity, never below the floor", () => {
    const params = { ...defaultParams(), maxValidatorShareBps: 2_000n, proximityFloorBps: 2_000n };
    const ws = weigh([member(0, 800n), member(1, 100n), member(2, 100n, 5_000), member(3, 100n, 0)], params);
    // Total stake 1100, cap 220.
    expect(ws.map((w) => w.weight)).toEqual([220n, 100n, 50n, 20n]);
    expect(totalWeight(ws)).toBe(390n);
    expect(isQuorum(261n, 390n)).toBe(true);
    expect(isQuorum(260n, 390n)).toBe(false);
  });

  it("report a Gini coefficient of 0 for equal weights and (n−1)/n for one holding all", () => {
    const params = defaultParams();
    expect(gini(weigh([member(0, 100n), member(1, 100n), member(2, 100n)], params))).toBeCloseTo(0, 9);
    const skewed = weigh([member(0, 0n), member(1, 0n), member(2, 0n), member(3, 100n)], { ...params, maxValidatorShareBps: 3_300n });
    expect(gini(skewed)).toBeCloseTo(0.75, 9);
  });
});

describe("proposer schedule", () => {
  const params = { ...defaultParams(), maxValidatorShareBps: 3_300n };
  const ws = weigh([member(0, 100n), member(1, 200n), member(2, 300n), member(3, 400n)], params);

  it("is the same for everyone with the same mix, and ranks distinct validators", () => {
    const mix = sha256(Uint8Array.of(1));
    expect(proposerRanks(ws, mix, 7, 2)).toEqual(proposerRanks(ws, mix, 7, 2));
    const ranks = proposerRanks(ws, mix, 7, 3);
    expect(new Set(ranks.map((r) => Buffer.from(r).toString("hex"))).size).toBe(4);
  });

  it("draws rank 0 in proportion to weight", () => {
    const counts = new Map<string, number>();
    const mix = sha256(Uint8Array.of(2));
    for (let slot = 0; slot < 4000; slot++) {
      const p = Buffer.from(proposerRanks(ws, mix, slot, 0)[0]!).toString("hex");
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const total = totalWeight(ws);
    for (const w of ws) {
      const expected = (4000 * Number(w.weight)) / Number(total);
      expect(Math.abs((counts.get(Buffer.from(w.address).toString("hex")) ?? 0) - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
  });
});

describe("certificates", () => {
  it("aggregate a quorum of votes, drop forged ones, and verify", () => {
    const ids = [0, 1, 2, 3].map((i) => testIdentity(`w-${i}`));
    const ws = weigh(ids.map((_, i) => member(i, 100n)), defaultParams());
    const verifier = new BlsVerifier(CHAIN_ID);
    const block = { height: 5, slot: 9, hash: sha256(Uint8Array.of(5)) };
    const votes = new Map<number, Uint8Array>();
    votes.set(0, signVote(CHAIN_ID, 9, block.hash, ids[0]!.bls));
    votes.set(1, signVote(CHAIN_ID, 9, block.hash, ids[1]!.bls));
    expect(tryCertify(block, votes, ws, verifier).certificate).toBeNull();
    votes.set(2, signVote(CHAIN_ID, 9, sha256(Uint8Array.of(6)), ids[2]!.bls)); // a vote for another block
    const forged = tryCertify(block, votes, ws, verifier);
    expect(forged.certificate).toBeNull();
    expect(forged.badVoters).toEqual([2]);
    votes.set(2, signVote(CHAIN_ID, 9, block.hash, ids[2]!.bls));
    const { certificate } = tryCertify(block, votes, ws, verifier);
    expect(certificate).not.toBeNull();
    expect(signerIndices(certificate!.signers)).toEqual([0, 1, 2]);
    expect(verifyCertificate(certificate!, block, ws, verifier)).toBe(true);
    expect(verifyCertificate({ ...certificate!, signers: Uint8Array.of(0b1011) }, block, ws, verifier)).toBe(false);
    expect(verifyCertificate(certificate!, { ...block, slot: 10 }, ws, verifier)).toBe(false);
  });
});

describe("the state transition with certificates", () => {
  it("pays the parent's voters their share, moves proximity, and refuses a certificate for another block", async () => {
    const { genesis, validators } = testChain({ validators: 3, params: { proposerShareBps: 4_000n, proximityWindow: 2n } });
    const chain = genesisStore(genesis);
    const b1 = nextBlock(chain, validators[0]!, []);
    const set = votingSet(new Ledger(chain.store), 1);
    // Validators 0 and 1 sign block 1 (index order is the voting set's, by address).
    const signers = [0, 1].map((i) => set.findIndex((m) => Buffer.from(m.address).equals(Buffer.from(validators[i]!.address))));
    const { blsAggregateSignatures } = await import("../../src/core/crypto/bls.js");
    const { signerBitmap } = await import("../../src/core/block/certificate.js");
    const signature = blsAggregateSignatures([0, 1].map((i) => signVote(CHAIN_ID, b1.block.header.slot, b1.applied.hash, validators[i]!.bls)));
    const certificate = { height: 1, blockHash: b1.applied.hash, signers: signerBitmap(signers), signature };
    const before = new Ledger(chain.store);
    const balances = validators.map((v) => before.account(v.address).balance);
    const { produceBlock } = await import("../../src/core/chain/produce.js");
    const b2 = produceBlock(chain.store, { chainId: CHAIN_ID, parent: chain.parent, slot: chain.parent.slot + 1, timestamp: chain.parent.timestamp + 10, candidates: [], certificate, proposer: { address: validators[2]!.address, bls: validators[2]!.bls } });
    chain.store.commit(b2.applied.changes, b2.applied.tree);
    const after = new Ledger(chain.store);
    const reward = after.params().blockReward;
    const gained = validators.map((v, i) => after.account(v.address).balance - balances[i]!);
    // Voters share 60% by equal stake; the proposer keeps 40% (no delegators, so all to the validators).
    expect(gained[0]).toBe((reward * 6_000n) / 10_000n / 2n);
    expect(gained[1]).toBe((reward * 6_000n) / 10_000n / 2n);
    expect(gained[0]! + gained[1]! + gained[2]!).toBe(reward);
    const prox = validators.map((v) => after.validator(v.address)!.proximityBps);
    expect(prox[0]).toBeGreaterThan(7_500);
    expect(prox[2]).toBeLessThan(7_500);
    const { applyBlock } = await import("../../src/core/state/block-transition.js");
    const fresh = genesisStore(genesis);
    const r1 = applyBlock(fresh.store, b1.block, fresh.parent, { chainId: CHAIN_ID });
    fresh.store.commit(r1.changes, r1.tree);
    const wrong = { ...b2.block, header: { ...b2.block.header, certificate: { ...certificate, blockHash: sha256(Uint8Array.of(1)) } } };
    expect(() => applyBlock(fresh.store, wrong, { height: 1, hash: r1.hash, slot: b1.block.header.slot, timestamp: b1.block.header.timestamp }, { chainId: CHAIN_ID })).toThrow(expect.objectContaining({ code: "CERTIFICATE_MISMATCH" }));
  });
});

describe("durable signing record", () => {
  it("survives reopening and refuses a conflicting or earlier signature", () => {
    const path = join(dir(), "signer.db");
    const a = new SqliteSignerSafety(path);
    a.approve(10, sha256(Uint8Array.of(1)), 9);
    a.approve(10, sha256(Uint8Array.of(1)), 9);
    a.close();
    const b = new SqliteSignerSafety(path);
    expect(b.last()?.slot).toBe(10);
    expect(() => b.approve(10, sha256(Uint8Array.of(2)), 9)).toThrow(expect.objectContaining({ code: "CONFLICT" }));
    expect(() => b.approve(9, sha256(Uint8Array.of(3)), 8)).toThrow(expect.objectContaining({ code: "SLOT_REGRESSION" }));
    b.approve(11, sha256(Uint8Array.of(4)), 10);
    b.close();
  });
});
