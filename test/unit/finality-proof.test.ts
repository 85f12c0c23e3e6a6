import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBlock } from "../../src/core/block/block.js";
import { blsAggregateSignatures, blsProvePossession } from "../../src/core/crypto/bls.js";
import { signVote } from "../../src/core/block/vote.js";
import { toHex } from "../../src/core/bytes.js";
import { applyBlock } from "../../src/core/state/block-transition.js";
import { Ledger } from "../../src/core/state/ledger.js";
import { votingSet } from "../../src/core/state/validators.js";
import { TxKind } from "../../src/core/tx/types.js";
import { BlockImporter } from "../../src/consensus/block-import.js";
import type { RangeBlock, Transition } from "../../src/consensus/range-verify.js";
import { auditSignatures } from "../../src/consensus/signature-audit.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { answerSyncRequest } from "../../src/node/sync-server.js";
import { ChainStore } from "../../src/storage/chain-store.js";
import { CHAIN_ID, testChain, testIdentity, tx } from "../fixtures/chain.js";
import { growChain } from "../fixtures/stored-chain.js";
import { tempDir, tempDirsPerTest } from "../fixtures/temp.js";

/*
 * Range sync by finality proof (docs/consensus.md): blocks below a proven-final block are checked by
 * their links, bodies and execution; only the proof's notarizations go through a pairing check, and
 * proposer signatures go to the audit before the blocks are served.
 */
const dir = tempDirsPerTest();
const sourceDir = tempDir();
const EPOCH = 8;
const chain = testChain({ validators: 3, users: 2, params: { epochLength: BigInt(EPOCH) } });
const joiner = chain.users[0]!;

function fetch(source: ChainStore, from: number, count: number): RangeBlock[] {
  const answer = answerSyncRequest(source, { target: 1, fromHeight: from, maxBlocks: count }, 2, 1_000_000);
  return answer.blocks.map((b) => ({ block: decodeBlock(b.bytes), notarization: b.notarization }));
}

function counting(): { transition: Transition; runs: () => number } {
  let runs = 0;
  return { runs: () => runs, transition: (...args) => {
    runs++;
    return applyBlock(...args);
  } };
}

function importer(store: ChainStore, transition?: Transition) {
  const verifier = new BlsVerifier(CHAIN_ID);
  return { verifier, importer: new BlockImporter({ store, chainId: CHAIN_ID, verifier, transition }) };
}

const fresh = () => ChainStore.open(join(dir(), "chain.db"), chain.genesis);
const withSignature = (b: RangeBlock, flip: number): RangeBlock => {
  const signature = Uint8Array.from(b.block.header.signature);
  signature[flip] = (signature[flip] as number) ^ 1;
  return { ...b, block: { ...b.block, header: { ...b.block.header, signature } } };
};

describe("range sync by finality proof", () => {
  // Three validators in consecutive slots; a fourth (a user) registers in block 2 and votes from block 8, the next epoch.
  let steady: ChainStore;
  let joining: ChainStore;
  beforeAll(() => {
    steady = ChainStore.open(join(sourceDir.path, "steady.db"), chain.genesis);
    growChain(steady, chain.validators, 12);
    joining = ChainStore.open(join(sourceDir.path, "joining.db"), chain.genesis);
    const registration = tx(joiner, 0, { kind: TxKind.ValidatorRegister, commissionBps: 500, selfBond: 10_000n * 1_000_000n, blsPublicKey: joiner.bls.publicKey, proofOfPossession: blsProvePossession(CHAIN_ID, joiner.bls) }, { fee: 10_000n });
    growChain(joining, [...chain.validators, joiner], 16, { txs: (height) => (height === 2 ? [registration] : []) });
  });
  afterAll(() => {
    steady.close();
    joining.close();
    sourceDir.cleanup();
  });

  it("executes each block once and pairing-checks only the notarizations that prove finality, plus the tail above it", () => {
    const store = fresh();
    const { transition, runs } = counting();
    const { importer: imp, verifier } = importer(store, transition);
    const outcome = imp.import(fetch(steady, 1, 12));
    expect(outcome.failure).toBeNull();
    expect(runs()).toBe(12);
    expect(store.tip.height).toBe(12);
    expect(store.finalizedHeight).toBe(11);
    expect(toHex(store.state.root)).toBe(toHex(steady.state.root));
    // Block 12 notarized in the slot after block 11 proves 11 final (the two-slot rule): two
    // notarizations, and block 12 (above it) also has its proposer signature checked. Per block it would be 24.
    expect(imp.signatureChecks).toBe(3);
    expect(verifier.verifications).toBe(1);
    expect(imp.coveredBlocks).toBe(11);
    store.close();
  });

  it("keeps proposer signatures of covered blocks from being served until the audit passes them", () => {
    const store = fresh();
    const { importer: imp, verifier } = importer(store);
    // Block 5's signature is not covered by any hash, so a finality proof does not vouch for it.
    const run = fetch(steady, 1, 12).map((b, i) => (i === 4 ? withSignature(b, 7) : b));
    expect(imp.import(run).failure).toBeNull();
    expect(store.signaturesCheckedHeight).toBe(0);
    expect(answerSyncRequest(store, { target: 1, fromHeight: 1, maxBlocks: 12 }, 2, 1_000_000).blocks).toHaveLength(0);
    expect(auditSignatures(store, verifier, 4)).toEqual({ kind: "checked", through: 4 });
    expect(answerSyncRequest(store, { target: 1, fromHeight: 1, maxBlocks: 12 }, 2, 1_000_000).blocks).toHaveLength(4);
    expect(auditSignatures(store, verifier, 64)).toMatchObject({ kind: "bad", height: 5 });
    expect(store.signaturesCheckedHeight).toBe(4);
    store.close();
  });

  it("audits honest blocks through to the tip, then forgets the keys it kept", () => {
    const path = join(dir(), "chain.db");
    let store = ChainStore.open(path, chain.genesis);
    const { importer: imp, verifier } = importer(store);
    imp.import(fetch(steady, 1, 12));
    expect(store.auditKey(chain.validators[0]!.address)).not.toBeNull();
    store.close();
    // The audit's place survives a restart.
    store = ChainStore.open(path, chain.genesis);
    expect(store.signaturesCheckedHeight).toBe(0);
    expect(auditSignatures(store, verifier, 64)).toEqual({ kind: "checked", through: 12 });
    expect(auditSignatures(store, verifier, 64)).toEqual({ kind: "done" });
    expect(store.signaturesCheckedHeight).toBe(12);
    expect(store.auditKey(chain.validators[0]!.address)).toBeNull();
    expect(answerSyncRequest(store, { target: 1, fromHeight: 1, maxBlocks: 12 }, 2, 1_000_000).blocks).toHaveLength(11);
    store.close();
  });

  it("refuses a forged certificate inside the run: it changes its block's hash, so the link breaks and the proof does not verify", () => {
    const store = fresh();
    const { importer: imp } = importer(store);
    const run = fetch(steady, 1, 12);
    const h6 = run[5]!.block.header;
    const cert = h6.certificate!;
    // A certificate for block 5 signed by one validator only, its bitmap still naming all three.
    const forged = { ...cert, signature: signVote(CHAIN_ID, run[4]!.block.header.slot, cert.blockHash, chain.validators[0]!.bls) };
    const tampered = run.map((b, i) => (i === 5 ? { ...b, block: { ...b.block, header: { ...h6, certificate: forged } } } : b));
    const outcome = imp.import(tampered);
    expect(outcome.failure).not.toBeNull();
    // Nothing the forged certificate vouches for is stored: block 5 needed it as its notarization.
    expect(store.tip.height).toBe(4);
    expect(store.headerAt(6)).toBeNull();
    store.close();
  });

  it("refuses a broken hash link below the proven-final block, committing only what a proof still covers", () => {
    const store = fresh();
    const { importer: imp } = importer(store);
    const run = fetch(steady, 1, 12);
    const h8 = run[7]!.block.header;
    const parentHash = Uint8Array.from(h8.parentHash);
    parentHash[0] = (parentHash[0] as number) ^ 1;
    const outcome = imp.import(run.map((b, i) => (i === 7 ? { ...b, block: { ...b.block, header: { ...h8, parentHash } } } : b)));
    expect(outcome.failure).toMatchObject({ step: "sanity", index: 7, code: "INVALID_BLOCK" });
    expect(store.tip.height).toBeLessThan(8);
    expect(toHex(store.tip.hash)).toBe(toHex(steady.blockHashAt(store.tip.height)));
    store.close();
  });

  it("refuses a finality proof signed by keys outside the voting set, and then checks every block itself", () => {
    const store = fresh();
    const { importer: imp } = importer(store);
    const run = fetch(steady, 1, 12);
    const last = run[11]!;
    const strangers = [0, 1, 2].map((i) => testIdentity(`stranger-${i}`));
    const signature = blsAggregateSignatures(strangers.map((s) => signVote(CHAIN_ID, last.block.header.slot, last.notarization!.blockHash, s.bls)));
    const outcome = imp.import(run.map((b, i) => (i === 11 ? { ...b, notarization: { ...last.notarization!, signature } } : b)));
    expect(outcome.failure).toMatchObject({ step: "signatures", index: 11, code: "BAD_NOTARIZATION" });
    // The proof failed, so blocks 1-11 were each checked on their own before being committed.
    expect(store.tip.height).toBe(11);
    expect(imp.coveredBlocks).toBe(0);
    expect(imp.signatureChecks).toBeGreaterThanOrEqual(4 + 22);
    expect(store.signaturesCheckedHeight).toBe(11);
    store.close();
  });

  it("stops covering where the voting set changes: blocks from there on are checked one by one", () => {
    const ledgerAt = (height: number) => votingSet(new Ledger(joining.state), height).length;
    expect(ledgerAt(joining.tip.height)).toBe(4);
    const store = fresh();
    const { transition, runs } = counting();
    const { importer: imp } = importer(store, transition);
    const run = fetch(joining, 1, 16);
    // Block 9 is past the set change at block 8 (the epoch start): its bad signature is caught at import.
    const outcome = imp.import(run.map((b, i) => (i === 8 ? withSignature(b, 3) : b)));
    expect(outcome.failure).toMatchObject({ step: "signatures", index: 8, code: "BAD_SIGNATURE" });
    expect(store.tip.height).toBe(8);
    expect(runs()).toBe(16);
    // Blocks 6 and 7 prove 6 final under the genesis set; nothing after block 7 is covered.
    expect(imp.coveredBlocks).toBe(0);
    const clean = fresh();
    const second = importer(clean);
    expect(second.importer.import(run).failure).toBeNull();
    expect(second.importer.coveredBlocks).toBe(6);
    // Two proof notarizations (6, 7; 7's is also the first of the tail), then two per block 7-16.
    expect(second.importer.signatureChecks).toBe(1 + 20);
    expect(clean.signaturesCheckedHeight).toBe(0);
    store.close();
    clean.close();
  });
});
