import { bls12_381 } from "@noble/curves/bls12-381.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { voteMessage } from "../../src/core/block/vote.js";
import {
  BLS_VERIFIED_MEMO_LIMIT,
  blsAggregateSignatures,
  blsFromSeed,
  blsMemoSizes,
  blsProvePossession,
  blsSign,
  blsSubtractSignatures,
  blsVerify,
  blsVerifyAggregate,
  blsVerifyBatch,
  blsVerifyPossession,
} from "../../src/core/crypto/bls.js";
import { SigningKind, signingDomain } from "../../src/core/crypto/domain.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { CHAIN_ID, testIdentity } from "../fixtures/chain.js";

/**
 * The process-wide memo of BLS results (src/core/crypto/bls.ts) may only ever answer what the
 * pairing would: each test first makes the memo hold a true result, then asks about inputs that
 * differ from it in one place.
 */
const alice = testIdentity("memo-alice").bls;
const bob = testIdentity("memo-bob").bls;
const carol = testIdentity("memo-carol").bls;
const message = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const flip = (bytes: Uint8Array, at: number, by: number): Uint8Array => {
  const out = bytes.slice();
  out[at % out.length]! ^= by;
  return out;
};

/** A signature made by noble itself, never through bls.ts: the memo knows nothing of it. */
function signedElsewhere(kind: SigningKind, message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const dst = new TextEncoder().encode("MESHCHAIN_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");
  const point = bls12_381.shortSignatures.hash(new Uint8Array([...signingDomain(kind, CHAIN_ID), ...message]), dst);
  return bls12_381.shortSignatures.sign(point, secretKey).toBytes();
}

describe("BLS result memo", () => {
  it("the pairing itself accepts a good signature the memo never saw, and refuses a bad one", () => {
    const m = Uint8Array.of(77, 1);
    const signature = signedElsewhere(SigningKind.BlockVote, m, carol.secretKey);
    const before = blsMemoSizes().verified;
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, signature, carol.publicKey)).toBe(true);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, signature, bob.publicKey)).toBe(false);
    expect(blsMemoSizes().verified).toBe(before + 2);
    // What bls.ts signs is what noble signs.
    expect(blsSign(SigningKind.BlockVote, CHAIN_ID, m, carol)).toEqual(signature);
  });

  it("signs, proves possession and aggregates to exactly noble's bytes (its own encoding, without noble's repeated checks)", () => {
    const noble = bls12_381.shortSignatures;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, m) => {
        const key = blsFromSeed(seed);
        const signature = blsSign(SigningKind.Randao, CHAIN_ID, m, key);
        expect(signature).toEqual(signedElsewhere(SigningKind.Randao, m, key.secretKey));
        const both = [signature, blsSign(SigningKind.Randao, CHAIN_ID, m, alice)];
        expect(blsAggregateSignatures(both)).toEqual(noble.aggregateSignatures(both.map((s) => bls12_381.G1.Point.fromBytes(s))).toBytes());
        const popDst = new TextEncoder().encode("MESHCHAIN_BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_");
        const popPoint = noble.hash(new Uint8Array([...signingDomain(SigningKind.ProofOfPossession, CHAIN_ID), ...key.publicKey]), popDst);
        expect(blsProvePossession(CHAIN_ID, key)).toEqual(noble.sign(popPoint, key.secretKey).toBytes());
      }),
      { numRuns: 16, seed: 15 },
    );
  });

  it("a signature is remembered as good only when the key pair's public key is its secret key's", () => {
    const m = Uint8Array.of(78, 2);
    const mismatched = { secretKey: alice.secretKey, publicKey: bob.publicKey };
    const signature = blsSign(SigningKind.BlockVote, CHAIN_ID, m, mismatched);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, signature, bob.publicKey)).toBe(false);
    // Alice's key did sign it: the pairing says so (the memo was not told).
    const before = blsMemoSizes().verified;
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, signature, alice.publicKey)).toBe(true);
    expect(blsMemoSizes().verified).toBe(before + 1);
    // Signed with the matching pair, the same signature is known good at once.
    const other = Uint8Array.of(78, 3);
    const own = blsSign(SigningKind.BlockVote, CHAIN_ID, other, alice);
    const known = blsMemoSizes().verified;
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, other, own, alice.publicKey)).toBe(true);
    expect(blsMemoSizes().verified).toBe(known);
  });

  it("a remembered true makes no other signature, message, key, kind or chain verify (one byte changed)", () => {
    const signature = blsSign(SigningKind.BlockVote, CHAIN_ID, message, alice);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, message, signature, alice.publicKey)).toBe(true);
    fc.assert(
      fc.property(fc.constantFrom("message", "signature", "key"), fc.nat(), fc.integer({ min: 1, max: 255 }), (part, at, by) => {
        const m = part === "message" ? flip(message, at, by) : message;
        const s = part === "signature" ? flip(signature, at, by) : signature;
        const k = part === "key" ? flip(alice.publicKey, at, by) : alice.publicKey;
        expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, s, k)).toBe(false);
      }),
      { numRuns: 24, seed: 15 },
    );
    expect(blsVerify(SigningKind.Randao, CHAIN_ID, message, signature, alice.publicKey)).toBe(false);
    expect(blsVerify(SigningKind.BlockVote, `${CHAIN_ID}-b`, message, signature, alice.publicKey)).toBe(false);
    // Still true afterwards: nothing the failures left behind masks the good result.
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, message, signature, alice.publicKey)).toBe(true);
  });

  it("a remembered aggregate verifies for its own key set only", () => {
    const both = blsAggregateSignatures([blsSign(SigningKind.BlockVote, CHAIN_ID, message, alice), blsSign(SigningKind.BlockVote, CHAIN_ID, message, bob)]);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [alice.publicKey, bob.publicKey])).toBe(true);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [alice.publicKey])).toBe(false);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [alice.publicKey, bob.publicKey, carol.publicKey])).toBe(false);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [alice.publicKey, carol.publicKey])).toBe(false);
    // A key list that is the two keys' bytes run together is no key, however the memo joins them.
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [new Uint8Array([...alice.publicKey, ...bob.publicKey])])).toBe(false);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, message, both, [bob.publicKey, alice.publicKey])).toBe(true);
  });

  it("an aggregate of signatures known good over one message is known good for their keys, in any order", () => {
    const m = Uint8Array.of(79, 4);
    const a = blsSign(SigningKind.BlockVote, CHAIN_ID, m, alice);
    const b = blsSign(SigningKind.BlockVote, CHAIN_ID, m, bob);
    const known = blsMemoSizes().verified;
    const both = blsAggregateSignatures([a, b]);
    expect(blsMemoSizes().verified).toBe(known + 1);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, both, [bob.publicKey, alice.publicKey])).toBe(true);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, both, [alice.publicKey, bob.publicKey])).toBe(true);
    expect(blsMemoSizes().verified).toBe(known + 1);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, both, [alice.publicKey, alice.publicKey])).toBe(false);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, both, [alice.publicKey, bob.publicKey, bob.publicKey])).toBe(false);
    // Over two messages, or with a part the memo does not know, nothing is assumed: the pairing decides.
    const other = blsSign(SigningKind.BlockVote, CHAIN_ID, Uint8Array.of(79, 5), bob);
    const mixed = blsAggregateSignatures([a, other]);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, mixed, [alice.publicKey, bob.publicKey])).toBe(false);
    const unknownPart = signedElsewhere(SigningKind.BlockVote, m, carol.secretKey);
    const withCarol = blsAggregateSignatures([a, unknownPart]);
    const before = blsMemoSizes().verified;
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, withCarol, [alice.publicKey, carol.publicKey])).toBe(true);
    expect(blsMemoSizes().verified).toBe(before + 1);
  });

  it("aggregates of known-good aggregates, and what is left after taking known parts out, are known good", () => {
    const m = Uint8Array.of(80, 6);
    const [a, b, c] = [alice, bob, carol].map((k) => blsSign(SigningKind.BlockVote, CHAIN_ID, m, k)) as [Uint8Array, Uint8Array, Uint8Array];
    const ab = blsAggregateSignatures([a, b]);
    const abc = blsAggregateSignatures([ab, c]);
    const bc = blsSubtractSignatures(abc, [a]);
    const known = blsMemoSizes().verified;
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, abc, [alice.publicKey, bob.publicKey, carol.publicKey])).toBe(true);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, bc, [carol.publicKey, bob.publicKey])).toBe(true);
    expect(blsMemoSizes().verified).toBe(known);
    // A part whose key is not in the whole leaves something nothing vouches for: the pairing decides.
    const notIn = blsSubtractSignatures(ab, [c]);
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, notIn, [alice.publicKey, bob.publicKey])).toBe(false);
    expect(blsMemoSizes().verified).toBe(known + 1);
  });

  it("a remembered false does not mask a later valid signature", () => {
    const other = Uint8Array.of(9, 9, 9);
    const good = blsSign(SigningKind.BlockVote, CHAIN_ID, other, bob);
    const byAlice = blsSign(SigningKind.BlockVote, CHAIN_ID, other, alice);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, other, byAlice, bob.publicKey)).toBe(false);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, other, good, alice.publicKey)).toBe(false);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, other, good, bob.publicKey)).toBe(true);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, other, byAlice, alice.publicKey)).toBe(true);
  });

  it("proofs of possession are remembered per chain and key", () => {
    const proof = blsProvePossession(CHAIN_ID, carol);
    expect(blsVerifyPossession(CHAIN_ID, carol.publicKey, proof)).toBe(true);
    expect(blsVerifyPossession(`${CHAIN_ID}-b`, carol.publicKey, proof)).toBe(false);
    expect(blsVerifyPossession(CHAIN_ID, alice.publicKey, proof)).toBe(false);
    // The same bytes as a vote signature over the key are another relation (another DST).
    expect(blsVerify(SigningKind.ProofOfPossession, CHAIN_ID, carol.publicKey, proof, carol.publicKey)).toBe(false);
    expect(blsVerifyPossession(CHAIN_ID, carol.publicKey, proof)).toBe(true);
  });

  it("a failed batch remembers none of its unknown items, and the culprit is still found", () => {
    const hash = (i: number) => new Uint8Array(32).fill(100 + i);
    const items = [1, 2, 3, 4].map((slot) => ({ slot, blockHash: hash(slot), signature: signedElsewhere(SigningKind.BlockVote, voteMessage(slot, hash(slot)), alice.secretKey), publicKeys: [alice.publicKey] }));
    const forged = { ...items[2]!, signature: items[1]!.signature };
    const batch = (list: typeof items) => list.map((i) => ({ kind: SigningKind.BlockVote, message: voteMessage(i.slot, i.blockHash), signature: i.signature, publicKeys: i.publicKeys }));
    const before = blsMemoSizes().verified;
    expect(blsVerifyBatch(CHAIN_ID, batch([items[0]!, items[1]!, forged, items[3]!]))).toBe(false);
    expect(blsMemoSizes().verified).toBe(before);
    // The item-by-item search finds it, each item checked (and counted) by the node's verifier.
    const verifier = new BlsVerifier(CHAIN_ID);
    expect(verifier.votes([items[0]!, items[1]!, forged, items[3]!])).toEqual({ ok: false, firstBad: 2 });
    expect(verifier.verifications).toBe(4);
    // Now the good ones are known: a batch of them passes, one with the forgery in it still fails.
    expect(blsVerifyBatch(CHAIN_ID, batch(items))).toBe(true);
    expect(blsVerifyBatch(CHAIN_ID, batch([items[0]!, forged]))).toBe(false);
    expect(new BlsVerifier(CHAIN_ID).votes([items[3]!, items[0]!, forged])).toEqual({ ok: false, firstBad: 2 });
  });

  it("a passing batch's items are remembered as good one by one", () => {
    const hash = (i: number) => new Uint8Array(32).fill(200 + i);
    const items = [1, 2, 3].map((slot) => ({ kind: SigningKind.BlockVote, message: voteMessage(slot, hash(slot)), signature: signedElsewhere(SigningKind.BlockVote, voteMessage(slot, hash(slot)), bob.secretKey), publicKeys: [bob.publicKey] }));
    const before = blsMemoSizes().verified;
    expect(blsVerifyBatch(CHAIN_ID, items)).toBe(true);
    expect(blsMemoSizes().verified).toBe(before + 3);
    for (const i of items) expect(blsVerify(i.kind, CHAIN_ID, i.message, i.signature, bob.publicKey)).toBe(true);
    expect(blsMemoSizes().verified).toBe(before + 3);
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, items[0]!.message, items[1]!.signature, bob.publicKey)).toBe(false);
  });

  it("is bounded", () => {
    // Signatures whose first byte lacks the compression flag fail at decoding: cheap to make many.
    const notAPoint = new Uint8Array(48);
    for (let i = 0; i < BLS_VERIFIED_MEMO_LIMIT + 100; i++) {
      expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, Uint8Array.of(i >>> 16, i >>> 8, i), notAPoint, alice.publicKey)).toBe(false);
    }
    expect(blsMemoSizes().verified).toBe(BLS_VERIFIED_MEMO_LIMIT);
  });

  it("signing and key derivation give each caller its own copy of the remembered bytes", () => {
    const first = blsSign(SigningKind.Randao, CHAIN_ID, message, alice);
    first.fill(0);
    const second = blsSign(SigningKind.Randao, CHAIN_ID, message, alice);
    expect(blsVerify(SigningKind.Randao, CHAIN_ID, message, second, alice.publicKey)).toBe(true);
    expect(second).not.toEqual(blsSign(SigningKind.Randao, CHAIN_ID, message, bob));
    expect(second).not.toEqual(blsSign(SigningKind.BlockVote, CHAIN_ID, message, alice));
    expect(second).not.toEqual(blsSign(SigningKind.Randao, `${CHAIN_ID}-b`, message, alice));
    const seed = new Uint8Array(32).fill(42);
    const key = blsFromSeed(seed);
    const { publicKey } = key;
    key.secretKey.fill(0);
    key.publicKey.fill(0);
    expect(blsFromSeed(seed).publicKey).toEqual(blsFromSeed(new Uint8Array(32).fill(42)).publicKey);
    expect(blsFromSeed(seed).secretKey.some((b) => b !== 0)).toBe(true);
    expect(publicKey.every((b) => b === 0)).toBe(true);
    expect(blsFromSeed(seed).publicKey.some((b) => b !== 0)).toBe(true);
  });

  it("never remembers the point at infinity as good: a key and its negation sum to zero", () => {
    const m = Uint8Array.of(91, 3);
    const order = bls12_381.fields.Fr.ORDER;
    const sk = BigInt(`0x${Buffer.from(alice.secretKey).toString("hex")}`);
    const negated = { secretKey: new Uint8Array(Buffer.from(((order - sk) % order).toString(16).padStart(64, "0"), "hex")), publicKey: bls12_381.G2.Point.fromBytes(alice.publicKey).negate().toBytes() };
    const mine = blsSign(SigningKind.BlockVote, CHAIN_ID, m, alice);
    const theirs = blsSign(SigningKind.BlockVote, CHAIN_ID, m, negated);
    // Both are good alone, so both are remembered as facts...
    expect(blsVerify(SigningKind.BlockVote, CHAIN_ID, m, theirs, negated.publicKey)).toBe(true);
    // ...and their sum is the identity, which is no signature: refused, and nothing remembered for it.
    const facts = blsMemoSizes().goodFacts;
    expect(() => blsAggregateSignatures([mine, theirs])).toThrow();
    expect(blsMemoSizes().goodFacts).toBe(facts);
    const identity = bls12_381.G1.Point.ZERO.toBytes();
    expect(blsVerifyAggregate(SigningKind.BlockVote, CHAIN_ID, m, identity, [alice.publicKey, negated.publicKey])).toBe(false);
    // A whole minus all of its parts is the identity too.
    expect(() => blsSubtractSignatures(mine, [mine])).toThrow();
  });

  it("encodes a signature and its negation exactly as noble does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (m) => {
        const signature = blsSign(SigningKind.BlockVote, CHAIN_ID, m, bob);
        const point = bls12_381.G1.Point.fromBytes(signature);
        // One of σ and −σ has the sign bit set: an aggregate with a part taken out gives the other.
        const twice = blsAggregateSignatures([signature, signature]);
        expect(twice).toEqual(point.double().toBytes());
        expect(blsSubtractSignatures(twice, [signature])).toEqual(signature);
        const minus = blsSubtractSignatures(signature, [twice]);
        expect(minus).toEqual(point.negate().toBytes());
      }),
      { numRuns: 20 },
    );
  });

  it("says false, not an exception, for a chain id no chain has", () => {
    const signature = blsSign(SigningKind.BlockVote, CHAIN_ID, message, alice);
    expect(blsVerify(SigningKind.BlockVote, "no spaces allowed!", message, signature, alice.publicKey)).toBe(false);
    expect(blsVerifyAggregate(SigningKind.BlockVote, "no spaces allowed!", message, signature, [alice.publicKey])).toBe(false);
    expect(blsVerifyPossession("no spaces allowed!", alice.publicKey, blsProvePossession(CHAIN_ID, alice))).toBe(false);
    expect(blsVerifyBatch("no spaces allowed!", [{ kind: SigningKind.BlockVote, message, signature, publicKeys: [alice.publicKey] }])).toBe(false);
  });
});
