import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { encodeBlock } from "../../src/core/block/block.js";
import { signPrecommit, signVote } from "../../src/core/block/vote.js";
import { encodeTx } from "../../src/core/tx/codec.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { MessageType } from "../../src/mesh/frame.js";
import { blockRangeCodec, voteAggregateCodec, voteCodec } from "../../src/mesh/messages/relay.js";
import { signerBitmap } from "../../src/core/block/certificate.js";
import { blsAggregateSignatures as aggregateSignatures } from "../../src/core/crypto/bls.js";
import { RelayGate } from "../../src/node/relay-gate.js";
import { CHAIN_ID, COIN, genesisStore, nextBlock, testChain, testIdentity, transfer } from "../fixtures/chain.js";

describe("the relay gate", () => {
  const chain = testChain({ validators: 1, users: 2 });
  const [validator] = chain.validators;
  const [alice, bob] = chain.users;

  function gate(on = chain) {
    const tip = genesisStore(on.genesis);
    const clock = new ManualClock(0);
    return { gate: new RelayGate({ chainId: CHAIN_ID, clock, verifier: new BlsVerifier(CHAIN_ID), tip: () => ({ state: tip.store, height: 0 }) }), clock };
  }

  it("passes transactions only with their account's valid signature", () => {
    const { gate: g } = gate();
    expect(g.check(MessageType.Transaction, transfer(alice!, 0, bob!.address, COIN).bytes, true)).toBe(true);
    expect(g.check(MessageType.Transaction, encodeTx({ ...transfer(alice!, 0, bob!.address, COIN).tx, signature: new Uint8Array(64) }), true)).toBe(false);
    // A fresh key revealing itself and signing correctly: no account behind it, so nothing to relay.
    expect(g.check(MessageType.Transaction, transfer(testIdentity("stranger"), 0, bob!.address, COIN, { revealKey: true }).bytes, true)).toBe(false);
    expect(g.check(MessageType.Transaction, Uint8Array.of(1, 2, 3), true)).toBe(false);
    expect(g.refused.get("unverified")).toBe(3);
    expect(g.check(MessageType.BlockTransactions, new Uint8Array(0), true)).toBe(false);
  });

  it("passes a block its proposer signed, then votes for it that verify, and nothing unsigned", () => {
    const { gate: g } = gate();
    const produced = nextBlock(genesisStore(chain.genesis), validator!, []);
    const block = produced.block;
    const hash = produced.applied.hash;
    const vote = (signature: Uint8Array, blockHash = hash) => voteCodec.encode({ height: block.header.height, blockHash, validatorIndex: 0, signature });
    const good = signVote(CHAIN_ID, block.header.slot, hash, validator!.bls);
    // A vote for a block the gate has not seen cannot be checked: not relayed.
    expect(g.check(MessageType.Vote, vote(good), false)).toBe(false);
    expect(g.refused.get("unknown_block")).toBe(1);
    expect(g.check(MessageType.Block, encodeBlock({ ...block, header: { ...block.header, signature: good.map((b) => b ^ 1) } }), false)).toBe(false);
    expect(g.check(MessageType.Block, encodeBlock(block), false)).toBe(true);
    expect(g.check(MessageType.Vote, vote(good), false)).toBe(true);
    expect(g.check(MessageType.Vote, vote(signVote(CHAIN_ID, block.header.slot + 1, hash, validator!.bls)), false)).toBe(false);
    expect(g.check(MessageType.Vote, voteCodec.encode({ height: 1, blockHash: hash, validatorIndex: 5, signature: good }), false)).toBe(false);
    expect(g.check(MessageType.ChainStatus, Uint8Array.of(1, 1, 0), false)).toBe(false);
    expect(g.refused.get("not_relayable")).toBe(1);
  });

  it("passes a vote aggregate only when it verifies over exactly the named signers of the voting set", () => {
    const { gate: g } = gate();
    const produced = nextBlock(genesisStore(chain.genesis), validator!, []);
    const hash = produced.applied.hash;
    const good = signVote(CHAIN_ID, produced.block.header.slot, hash, validator!.bls);
    const aggregate = (signers: number[], signature = good) => voteAggregateCodec.encode({ height: 1, blockRef: hash.slice(0, 8), signers: signerBitmap(signers), signature });
    expect(g.check(MessageType.VoteAggregate, aggregate([0]), false)).toBe(false);
    expect(g.refused.get("unknown_block")).toBe(1);
    expect(g.check(MessageType.Block, encodeBlock(produced.block), false)).toBe(true);
    expect(g.check(MessageType.VoteAggregate, aggregate([0]), true)).toBe(true);
    // A signer outside the one-validator set, bytes that are no aggregate: refused.
    expect(g.check(MessageType.VoteAggregate, aggregate([0, 1]), true)).toBe(false);
    expect(g.check(MessageType.VoteAggregate, Uint8Array.of(1, 2, 3), true)).toBe(false);
    expect(g.refused.get("unverified")).toBe(2);
    // A wrong signature: on a fresh gate it does not verify; here its signer already crossed.
    expect(g.check(MessageType.VoteAggregate, aggregate([0], good.map((b) => b ^ 1)), true)).toBe(false);
    expect(g.refused.get("covered")).toBe(1);
    const { gate: fresh } = gate();
    expect(fresh.check(MessageType.Block, encodeBlock(produced.block), false)).toBe(true);
    expect(fresh.check(MessageType.VoteAggregate, aggregate([0], good.map((b) => b ^ 1)), true)).toBe(false);
    expect(fresh.refused.get("unverified")).toBe(1);
  });

  it("passes a precommit aggregate only under the precommit signing kind, and only on a chain with the precommit rule", () => {
    const { gate: g } = gate(testChain({ validators: 1, users: 2, params: { finalityRule: 1n } }));
    const produced = nextBlock(genesisStore(chain.genesis), validator!, []);
    const hash = produced.applied.hash;
    const slot = produced.block.header.slot;
    const aggregate = (signers: number[], signature: Uint8Array) => voteAggregateCodec.encode({ height: 1, blockRef: hash.slice(0, 8), signers: signerBitmap(signers), signature });
    const precommit = signPrecommit(CHAIN_ID, slot, hash, validator!.bls);
    const vote = signVote(CHAIN_ID, slot, hash, validator!.bls);
    expect(g.check(MessageType.PrecommitAggregate, aggregate([0], precommit), true)).toBe(false);
    expect(g.refused.get("unknown_block")).toBe(1);
    expect(g.check(MessageType.Block, encodeBlock(produced.block), false)).toBe(true);
    // The vote's signature over the same block is not a precommit, nor the precommit a vote.
    expect(g.check(MessageType.PrecommitAggregate, aggregate([0], vote), true)).toBe(false);
    expect(g.check(MessageType.VoteAggregate, aggregate([0], precommit), true)).toBe(false);
    expect(g.check(MessageType.PrecommitAggregate, aggregate([0, 1], precommit), true)).toBe(false);
    expect(g.refused.get("unverified")).toBe(3);
    expect(g.check(MessageType.PrecommitAggregate, aggregate([0], precommit), true)).toBe(true);
    // On a chain without the rule nobody counts a precommit: none crosses.
    const { gate: twoSlot } = gate();
    expect(twoSlot.check(MessageType.Block, encodeBlock(produced.block), false)).toBe(true);
    expect(twoSlot.check(MessageType.PrecommitAggregate, aggregate([0], precommit), true)).toBe(false);
    expect(twoSlot.refused.get("not_relayable")).toBe(1);
  });

  it("passes an aggregate once for its signers: not again under another height, nor a subset, nor anything after a quorum (attack: one block's votes as many frames)", () => {
    const three = testChain({ validators: 3, users: 1, params: { finalityRule: 1n } });
    const { gate: g } = gate(three);
    const produced = nextBlock(genesisStore(three.genesis), three.validators[0]!, []);
    const { slot, height } = produced.block.header;
    const hash = produced.applied.hash;
    expect(g.check(MessageType.Block, encodeBlock(produced.block), false)).toBe(true);
    for (const [type, sign] of [[MessageType.VoteAggregate, signVote], [MessageType.PrecommitAggregate, signPrecommit]] as const) {
      const signed = three.validators.map((v) => sign(CHAIN_ID, slot, hash, v.bls));
      const aggregate = (signers: number[], h = height) => voteAggregateCodec.encode({ height: h, blockRef: hash.slice(0, 8), signers: signerBitmap(signers), signature: aggregateSignatures(signers.map((i) => signed[i]!)) });
      // The signature does not cover the height: the same signers under any other height are no block the gate knows.
      expect([2, 3, 99].map((h) => g.check(type, aggregate([0], h), true))).toEqual([false, false, false]);
      expect(g.check(type, aggregate([0, 1]), true)).toBe(true);
      // Every subset of the signers that crossed verifies, and brings nothing: refused before any pairing.
      expect([[0], [1], [0, 1]].map((s) => g.check(type, aggregate(s), true))).toEqual([false, false, false]);
      // New signers cross; after a quorum (all three of three equal weights), nothing more for the block.
      expect(g.check(type, aggregate([1, 2]), true)).toBe(true);
      expect(g.check(type, aggregate([0, 1, 2]), true)).toBe(true);
      expect(g.check(type, aggregate([2]), true)).toBe(false);
    }
    expect(g.refused.get("unknown_block")).toBe(6);
    expect(g.refused.get("covered")).toBe(8);
  });

  it("passes well-formed requests, onto the radio only within their rate", () => {
    const { gate: g, clock } = gate();
    const request = blockRangeCodec.encode({ fromHeight: 5, count: 2 });
    expect(Array.from({ length: 30 }, () => g.check(MessageType.GetBlockRange, request, true)).filter(Boolean)).toHaveLength(12);
    expect(g.check(MessageType.GetBlockRange, request, false)).toBe(true);
    expect(g.check(MessageType.GetBlockRange, Uint8Array.of(0xff), false)).toBe(false);
    clock.advance(60_000);
    expect(g.check(MessageType.GetBlockRange, request, true)).toBe(true);
  });
});
