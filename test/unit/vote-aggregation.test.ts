import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signerBitmap, signerIndices } from "../../src/core/block/certificate.js";
import { signVote } from "../../src/core/block/vote.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { blsAggregateSignatures } from "../../src/core/crypto/bls.js";
import { sha256 } from "../../src/core/crypto/hash.js";
import { DecodeError } from "../../src/core/errors.js";
import type { WeightedValidator } from "../../src/consensus/weights.js";
import { verifyCertificate } from "../../src/consensus/certificates.js";
import { BlsVerifier } from "../../src/consensus/verifier.js";
import { carriesQuorum, combineVotes, HeardAggregates, reduceAggregate, tryCertifyWithAggregates, verifyAggregate } from "../../src/consensus/vote-aggregation.js";
import { decodeConsensusMessage, encodeConsensusMessage } from "../../src/consensus/wire.js";
import { decodeFrame, encodeFrame, MessageType } from "../../src/mesh/frame.js";
import { classifyFrame } from "../../src/mesh/sim/classify.js";
import { voteAggregateCodec, voteCodec } from "../../src/mesh/messages/relay.js";
import { CHAIN_ID, testIdentity } from "../fixtures/chain.js";

const ids = Array.from({ length: 7 }, (_, i) => testIdentity(`agg-${i}`));
const weights: WeightedValidator[] = ids.map((id) => ({ address: id.address, blsPublicKey: id.bls.publicKey, stake: 100n, proximityBps: 10_000, weight: 100n }));
const block = { height: 12, slot: 40, hash: sha256(Uint8Array.of(1, 2, 3)) };
const other = { height: 12, slot: 41, hash: sha256(Uint8Array.of(4, 5, 6)) };
const vote = (i: number, b: { slot: number; hash: Uint8Array } = block) => signVote(CHAIN_ID, b.slot, b.hash, (ids[i] as (typeof ids)[number]).bls);
const aggregateOf = (signers: number[], b: { slot: number; hash: Uint8Array } = block) => ({ signers: signerBitmap(signers), signature: blsAggregateSignatures(signers.map((i) => vote(i, b))) });

describe("vote aggregate codec", () => {
  it("round-trips any canonical signer set, and a frame of it is classified as a vote", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 48, maxLength: 48 }), (signers, height, blockHash, signature) => {
        const m = { kind: "vote-aggregate" as const, height, blockRef: blockHash.slice(0, 8), signers: signerBitmap(signers), signature };
        const { type, payload } = encodeConsensusMessage(m);
        expect(type).toBe(MessageType.VoteAggregate);
        expect(decodeConsensusMessage(type, payload)).toEqual(m);
        const frame = encodeFrame({ type, messageId: 1, fragment: null, payload });
        expect(decodeFrame(frame).type).toBe(MessageType.VoteAggregate);
        expect(classifyFrame(frame)).toBe("vote");
      }),
      { numRuns: 200 },
    );
  });

  it("is 23 bytes smaller than a single vote for up to eight signers (a hash prefix instead of the hash)", () => {
    const single = voteCodec.encode({ height: 100_000, blockHash: block.hash, validatorIndex: 6, signature: vote(6) }).length;
    const seven = voteAggregateCodec.encode({ height: 100_000, blockRef: block.hash.slice(0, 8), ...aggregateOf([0, 1, 2, 3, 4, 5, 6]) }).length;
    expect(seven).toBe(single - 23);
  });

  it("refuses a bitmap with a trailing zero byte, an empty one, and truncated or padded bytes", () => {
    const good = voteAggregateCodec.encode({ height: 5, blockRef: block.hash.slice(0, 8), ...aggregateOf([1, 2]) });
    expect(() => voteAggregateCodec.encode({ height: 5, blockRef: block.hash.slice(0, 8), signers: Uint8Array.of(6, 0), signature: new Uint8Array(48) })).toThrow(DecodeError);
    // Height (1 byte) and block ref (8) come first, then the bitmap's length and bytes.
    const trailingZero = Uint8Array.from([...good.subarray(0, 9), 2, 6, 0, ...good.subarray(11)]);
    expect(() => voteAggregateCodec.decode(trailingZero)).toThrow(DecodeError);
    const empty = Uint8Array.from([...good.subarray(0, 9), 0, ...good.subarray(11)]);
    expect(() => voteAggregateCodec.decode(empty)).toThrow(DecodeError);
    expect(() => voteAggregateCodec.decode(good.subarray(0, good.length - 1))).toThrow(DecodeError);
    expect(() => voteAggregateCodec.decode(Uint8Array.from([...good, 0]))).toThrow(DecodeError);
  });
});

describe("verifyAggregate (everything from a peer is hostile)", () => {
  const verifier = new BlsVerifier(CHAIN_ID);

  it("accepts an aggregate of exactly the named signers' votes for the block", () => {
    expect(verifyAggregate(aggregateOf([0, 3, 5]), block, weights, verifier)).toEqual([0, 3, 5]);
  });

  it("drops a bitmap naming one signer more or one fewer than the signature holds", () => {
    const agg = aggregateOf([0, 3, 5]);
    expect(verifyAggregate({ ...agg, signers: signerBitmap([0, 3, 5, 6]) }, block, weights, verifier)).toBeNull();
    expect(verifyAggregate({ ...agg, signers: signerBitmap([0, 3]) }, block, weights, verifier)).toBeNull();
  });

  it("drops a signer index outside the voting set, votes for another block or slot, and a wrong signature", () => {
    expect(verifyAggregate({ signers: signerBitmap([0, 9]), signature: aggregateOf([0]).signature }, block, weights, verifier)).toBeNull();
    expect(verifyAggregate(aggregateOf([0, 1], other), block, weights, verifier)).toBeNull();
    expect(verifyAggregate(aggregateOf([0, 1], { slot: block.slot + 1, hash: block.hash }), block, weights, verifier)).toBeNull();
    expect(verifyAggregate({ signers: signerBitmap([0, 1]), signature: vote(0) }, block, weights, verifier)).toBeNull();
  });
});

describe("combining votes", () => {
  const verifier = new BlsVerifier(CHAIN_ID);

  it("takes disjoint aggregates heaviest first, then single votes of the signers still missing; the result verifies", () => {
    const a = { signers: [0, 1, 2], signature: aggregateOf([0, 1, 2]).signature };
    const b = { signers: [2, 3], signature: aggregateOf([2, 3]).signature };
    const c = { signers: [4], signature: vote(4) };
    const singles = new Map([[3, vote(3)], [5, vote(5)], [0, vote(0)]]);
    const combined = combineVotes(singles, [b, c, a], weights);
    // b overlaps a (heavier) and is left out; 3 comes as a single vote instead; 0 is already in a.
    expect(combined?.signers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(verifyAggregate({ signers: signerBitmap(combined!.signers), signature: combined!.signature }, block, weights, verifier)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(combineVotes(new Map(), [], weights)).toBeNull();
  });

  it("recovers votes from aggregates that overlap in the proposer's vote, by taking out the votes held singly", () => {
    const proposer = 6;
    const a = { signers: [0, proposer], signature: aggregateOf([0, proposer]).signature };
    const b = { signers: [1, proposer], signature: aggregateOf([1, proposer]).signature };
    const singles = new Map([[proposer, vote(proposer)]]);
    const recovered = reduceAggregate(b, singles);
    expect(recovered?.signers).toEqual([1]);
    expect(verifier.vote(block.slot, block.hash, recovered!.signature, weights[1]!.blsPublicKey)).toBe(true);
    expect(reduceAggregate(b, new Map([[1, vote(1)], [proposer, vote(proposer)]]))).toBeNull();
    expect(reduceAggregate(b, new Map([[3, vote(3)]]))).toBe(b);
    // Without the reduction only one of the two would count.
    const combined = combineVotes(singles, [a, b], weights);
    expect(combined?.signers).toEqual([0, 1, proposer]);
    expect(verifyAggregate({ signers: signerBitmap(combined!.signers), signature: combined!.signature }, block, weights, verifier)).toEqual([0, 1, proposer]);
  });

  it("certifies from aggregates and singles together once they reach a quorum, and not below it", () => {
    const heard = [{ signers: [0, 1, 2], signature: aggregateOf([0, 1, 2]).signature }];
    const below = tryCertifyWithAggregates(block, new Map([[3, vote(3)]]), heard, weights, verifier);
    expect(below.certificate).toBeNull();
    const { certificate, badVoters } = tryCertifyWithAggregates(block, new Map([[3, vote(3)], [4, vote(4)], [6, vote(6, other)]]), heard, weights, verifier);
    expect(badVoters).toEqual([6]);
    expect(signerIndices(certificate!.signers)).toEqual([0, 1, 2, 3, 4]);
    expect(verifyCertificate(certificate!, block, weights, verifier)).toBe(true);
  });

  it("calls a set of signers a quorum (what silences later voters) only above two thirds of the weight", () => {
    expect(carriesQuorum([0, 1, 2, 3, 4], weights)).toBe(true);
    expect(carriesQuorum([0, 1, 2, 3], weights)).toBe(false);
    // Weight, not count: one validator holding most of it is a quorum alone; indices outside the set weigh nothing.
    const heavy = weights.map((w, i) => ({ ...w, weight: i === 6 ? 2_000n : w.weight }));
    expect(carriesQuorum([6], heavy)).toBe(true);
    expect(carriesQuorum([0, 1, 2, 3, 9, 10], weights)).toBe(false);
  });
});

describe("HeardAggregates", () => {
  it("keeps what brings new signers, drops what a held aggregate covers, and answers coverage", () => {
    const heard = new HeardAggregates<string>(4);
    expect(heard.add("b", { signers: [1, 2], signature: new Uint8Array(48) })).toBe(true);
    expect(heard.add("b", { signers: [2], signature: new Uint8Array(48) })).toBe(false);
    expect(heard.add("b", { signers: [1, 2, 3], signature: new Uint8Array(48) })).toBe(true);
    expect(heard.of("b").map((a) => a.signers)).toEqual([[1, 2, 3]]);
    expect(heard.covers("b", [1, 3])).toBe(true);
    expect(heard.covers("b", [4])).toBe(false);
    expect(heard.covers("unknown", [1])).toBe(false);
  });

  it("holds at most eight aggregates a block and eight pending ones, and forgets the oldest blocks", () => {
    const heard = new HeardAggregates<number>(2);
    for (let i = 0; i < 20; i++) heard.add("b", { signers: [i], signature: new Uint8Array(48) });
    expect(heard.of("b")).toHaveLength(8);
    for (let i = 0; i < 20; i++) heard.hold("x", i);
    expect(heard.takePending("x")).toHaveLength(8);
    expect(heard.takePending("x")).toHaveLength(0);
    heard.add("c", { signers: [0], signature: new Uint8Array(48) });
    heard.add("d", { signers: [0], signature: new Uint8Array(48) });
    expect(heard.of("b")).toHaveLength(0);
  });
});

describe("keys that cancel (a and −a, both registered with valid proofs of possession)", () => {
  const verifier = new BlsVerifier(CHAIN_ID);
  // Whoever knows a secret key knows its negation: both keys prove possession, so one operator can register both.
  const a = (ids[5] as (typeof ids)[number]).bls;
  const scalar = BigInt(`0x${Buffer.from(a.secretKey).toString("hex")}`);
  const negatedSecret = new Uint8Array(Buffer.from((bls12_381.fields.Fr.ORDER - scalar).toString(16).padStart(64, "0"), "hex"));
  const negated = { secretKey: negatedSecret, publicKey: bls12_381.shortSignatures.getPublicKey(negatedSecret).toBytes() };
  const withPair: WeightedValidator[] = [...weights.slice(0, 5), { ...(weights[5] as WeightedValidator), blsPublicKey: a.publicKey }, { ...(weights[6] as WeightedValidator), blsPublicKey: negated.publicKey }];
  const honest = [0, 1, 2, 3];
  const pairVotes = [signVote(CHAIN_ID, block.slot, block.hash, a), signVote(CHAIN_ID, block.slot, block.hash, negated)];
  const padded = { signers: [...honest, 5, 6], signature: blsAggregateSignatures([...honest.map((i) => vote(i)), ...pairVotes]) };

  it("an honest aggregate padded with the pair verifies (the attack is possible), and combining around it neither throws nor loses the honest votes", () => {
    expect(verifyAggregate({ signers: signerBitmap(padded.signers), signature: padded.signature }, block, withPair, verifier)).toEqual(padded.signers);
    const singles = new Map(honest.map((i) => [i, vote(i)] as const));
    // What is left once the honest votes held are taken out sums to the point at infinity.
    expect(reduceAggregate(padded, singles)).toBeNull();
    const combined = combineVotes(singles, [padded], withPair);
    expect(combined?.signers).toEqual(honest);
    expect(verifyAggregate({ signers: signerBitmap(combined!.signers), signature: combined!.signature }, block, withPair, verifier)).toEqual(honest);
  });

  it("the pair's own votes alone combine to nothing instead of throwing", () => {
    expect(combineVotes(new Map([[5, pairVotes[0] as Uint8Array], [6, pairVotes[1] as Uint8Array]]), [], withPair)).toBeNull();
  });
});
