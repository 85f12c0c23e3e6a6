import { describe, expect, it } from "vitest";
import { blockHash } from "../../src/core/block/header.js";
import { produceBlock } from "../../src/core/chain/produce.js";
import { toHex } from "../../src/core/bytes.js";
import { treeBlock } from "../../src/consensus/block-tree.js";
import { compactBlock, rebuildBlock } from "../../src/consensus/compact-blocks.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../src/consensus/wire.js";
import { encodeFrame } from "../../src/mesh/frame.js";
import { CHAIN_ID, genesisStore, testChain, transfer } from "../fixtures/chain.js";

const MAX_FRAME = 231;

function setup(txCount: number) {
  const chain = testChain({ validators: 1, users: 5 });
  const { store, parent } = genesisStore(chain.genesis);
  const root = treeBlock(parent.hash, null, null, { height: parent.height, slot: parent.slot, timestamp: parent.timestamp }, store);
  const txs = Array.from({ length: txCount }, (_, i) => transfer(chain.users[i % 5]!, Math.floor(i / 5), chain.users[(i + 1) % 5]!.address, 1_000n));
  const proposer = chain.validators[0]!;
  const produced = produceBlock(store, { chainId: CHAIN_ID, parent, slot: 3, timestamp: parent.timestamp + 95, candidates: txs, certificate: null, proposer: { address: proposer.address, bls: proposer.bls } });
  const verifier = new BlsVerifier(CHAIN_ID);
  const verify = (slot: number, hash: Uint8Array, sig: Uint8Array, key: Uint8Array) => verifier.vote(slot, hash, sig, key);
  return { root, block: produced.block, txs, verify };
}

describe("compact block relay", () => {
  it("announces a ten-transaction block in one radio frame and rebuilds the same block from the mempool", () => {
    const { root, block, txs, verify } = setup(10);
    expect(block.txs).toHaveLength(10);
    const wire = encodeConsensusMessage({ kind: "compact-proposal", compact: compactBlock(block, root) });
    const frame = encodeFrame({ type: wire.type, messageId: 1, fragment: null, payload: wire.payload });
    expect(frame.length).toBeLessThanOrEqual(MAX_FRAME);
    const decoded = decodeConsensusMessage(wire.type, wire.payload);
    if (decoded?.kind !== "compact-proposal") throw new Error("expected a compact proposal");
    // The receiver's mempool holds the transactions in another order, plus one the block left out.
    const result = rebuildBlock(decoded.compact, root, [...txs].reverse(), CHAIN_ID, verify);
    if (result.kind !== "block") throw new Error(`expected a block, got ${result.kind}`);
    expect(toHex(blockHash(result.block.header))).toBe(toHex(blockHash(block.header)));
    expect(result.block.txs.map((t) => toHex(t.bytes))).toEqual(block.txs.map((t) => toHex(t.bytes)));
  });

  it("names the positions it could not fill", () => {
    const { root, block, txs, verify } = setup(6);
    const known = txs.filter((_, i) => i !== 2 && i !== 4);
    expect(rebuildBlock(compactBlock(block, root), root, known, CHAIN_ID, verify)).toEqual({ kind: "missing", indexes: [2, 4] });
  });

  it("refuses parts the proposer did not sign", () => {
    const { root, block, txs, verify } = setup(3);
    const compact = compactBlock(block, root);
    const forged = { ...compact, timestampDelta: compact.timestampDelta + 1 };
    expect(rebuildBlock(forged, root, txs, CHAIN_ID, verify)).toEqual({ kind: "mismatch", tries: 1, ambiguous: false });
    const wrongProposer = { ...compact, proposerIndex: 5 };
    // Not even a fill to try: no proposer at that index.
    expect(rebuildBlock(wrongProposer, root, txs, CHAIN_ID, verify)).toEqual({ kind: "mismatch", tries: 0, ambiguous: false });
    // Nor for ids of another length than the chain's (4 bytes here).
    expect(rebuildBlock({ ...compact, shortIdBytes: 3, shortIds: compact.shortIds.map((id) => id.slice(0, 3)) }, root, txs, CHAIN_ID, verify)).toEqual({ kind: "mismatch", tries: 0, ambiguous: false });
  });

  it("does not execute fills again for the candidates it already tried (a forged compact retried on every transaction heard)", () => {
    const { root, block, txs, verify } = setup(3);
    const forged = { ...compactBlock(block, root), timestampDelta: 99 };
    const tried = new Set<string>();
    const triedBefore = (f: string) => tried.has(f) || (tried.add(f), false);
    let checks = 0;
    const counting: typeof verify = (...args) => (checks++, verify(...args));
    expect(rebuildBlock(forged, root, txs, CHAIN_ID, counting, triedBefore)).toEqual({ kind: "mismatch", tries: 1, ambiguous: false });
    expect(rebuildBlock(forged, root, [...txs].reverse(), CHAIN_ID, counting, triedBefore)).toEqual({ kind: "mismatch", tries: 0, ambiguous: false });
    expect(checks).toBe(1);
  });
});
