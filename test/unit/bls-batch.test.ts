import { bls12_381 } from "@noble/curves/bls12-381.js";
import { describe, expect, it } from "vitest";
import { signVote, voteMessage } from "../../src/core/block/vote.js";
import { blsAggregateSignatures, type BlsBatchItem, blsVerifyBatch } from "../../src/core/crypto/bls.js";
import { SigningKind } from "../../src/core/crypto/domain.js";
import { CHAIN_ID, testIdentity } from "../fixtures/chain.js";

const alice = testIdentity("batch-alice").bls;
const bob = testIdentity("batch-bob").bls;
const hash = (i: number) => new Uint8Array(32).fill(i);

function vote(key: typeof alice, slot: number, publicKeys = [key.publicKey]): BlsBatchItem {
  return { kind: SigningKind.BlockVote, message: voteMessage(slot, hash(slot)), signature: signVote(CHAIN_ID, slot, hash(slot), key), publicKeys };
}

describe("batched BLS verification", () => {
  const items = [vote(alice, 1), vote(alice, 2), vote(bob, 3), vote(alice, 4), vote(bob, 5)];

  it("accepts a batch of good signatures by several signers, and an aggregate of two", () => {
    const both = { kind: SigningKind.BlockVote, message: voteMessage(6, hash(6)), signature: blsAggregateSignatures([signVote(CHAIN_ID, 6, hash(6), alice), signVote(CHAIN_ID, 6, hash(6), bob)]), publicKeys: [alice.publicKey, bob.publicKey] };
    expect(blsVerifyBatch(CHAIN_ID, [...items, both])).toBe(true);
    expect(blsVerifyBatch(CHAIN_ID, [])).toBe(true);
  });

  it("refuses a batch with one signature by the wrong key, or two signatures swapped", () => {
    expect(blsVerifyBatch(CHAIN_ID, [...items.slice(0, 2), { ...items[2]!, publicKeys: [alice.publicKey] }])).toBe(false);
    expect(blsVerifyBatch(CHAIN_ID, [{ ...items[0]!, signature: items[1]!.signature }, { ...items[1]!, signature: items[0]!.signature }])).toBe(false);
    expect(blsVerifyBatch(CHAIN_ID, items.map((i) => ({ ...i, kind: SigningKind.Randao })))).toBe(false);
  });

  it("refuses two bad signatures that cancel out in a plain aggregate", () => {
    const G1 = bls12_381.G1.Point;
    const shift = G1.BASE.multiply(12345n);
    const a = G1.fromBytes(items[0]!.signature).add(shift).toBytes();
    const b = G1.fromBytes(items[1]!.signature).subtract(shift).toBytes();
    expect(blsVerifyBatch(CHAIN_ID, [{ ...items[0]!, signature: a }, { ...items[1]!, signature: b }])).toBe(false);
  });

  it("refuses bytes that are not a signature", () => {
    expect(blsVerifyBatch(CHAIN_ID, [{ ...items[0]!, signature: new Uint8Array(48).fill(7) }])).toBe(false);
    expect(blsVerifyBatch(CHAIN_ID, [{ ...items[0]!, signature: new Uint8Array(47) }])).toBe(false);
  });
});
