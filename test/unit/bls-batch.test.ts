import { bls12_381 } from "@noble/curves/bls12-381.js";
import { describe, expect, it } from "vitest";
import { signVote, voteMessage } from "../../src/core/block/vote.js";
import { blsAggregateSignatures, type BlsBatchItem, blsVerifyBatch } from "../../src/core/crypto/bls.js";
import { SigningKind, signingDomain } from "../../src/core/crypto/domain.js";
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

  it("accepts a batch of signatures this process never made or checked (the batched pairing itself)", () => {
    // Signatures made through bls.ts are remembered as good, and a batch of known items needs no pairing:
    // these come from noble directly, so the batch check runs.
    const dst = new TextEncoder().encode("MESHCHAIN_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");
    const elsewhere = (key: typeof alice, slot: number): BlsBatchItem => {
      const message = voteMessage(slot, hash(slot + 50));
      const point = bls12_381.shortSignatures.hash(new Uint8Array([...signingDomain(SigningKind.BlockVote, CHAIN_ID), ...message]), dst);
      return { kind: SigningKind.BlockVote, message, signature: bls12_381.shortSignatures.sign(point, key.secretKey).toBytes(), publicKeys: [key.publicKey] };
    };
    const fresh = [elsewhere(alice, 1), elsewhere(bob, 2), elsewhere(alice, 3)];
    expect(blsVerifyBatch(CHAIN_ID, fresh)).toBe(true);
    const moreFresh = [elsewhere(alice, 4), elsewhere(bob, 5)];
    expect(blsVerifyBatch(CHAIN_ID, [moreFresh[0]!, { ...moreFresh[1]!, publicKeys: [alice.publicKey] }])).toBe(false);
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
