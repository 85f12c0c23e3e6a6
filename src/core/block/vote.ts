import { Writer } from "../codec/writer.js";
import { type BlsKeyPair, blsSign, blsVerify, blsVerifyAggregate } from "../crypto/bls.js";
import { SigningKind } from "../crypto/domain.js";
import { HASH_LENGTH } from "../crypto/hash.js";

/**
 * What a validator signs to vote for a block: the block's slot and hash. A validator votes at most
 * once per slot; two votes for different blocks in one slot are equivocation.
 */
export function voteMessage(slot: number, blockHash: Uint8Array): Uint8Array {
  return new Writer().varint(slot).fixed(blockHash, HASH_LENGTH).finish();
}

/**
 * Signing and checking a (slot, block hash) statement of one kind: a vote, or a precommit for a
 * notarized block (docs/consensus.md, "Precommits"), the same bytes under its own signing kind, so a
 * vote never counts as a precommit nor the reverse.
 */
function slotStatement(kind: SigningKind.BlockVote | SigningKind.Precommit) {
  return {
    sign: (chainId: string, slot: number, blockHash: Uint8Array, key: BlsKeyPair): Uint8Array => blsSign(kind, chainId, voteMessage(slot, blockHash), key),
    verify: (chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKey: Uint8Array): boolean =>
      blsVerify(kind, chainId, voteMessage(slot, blockHash), signature, blsPublicKey),
    verifyAggregate: (chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKeys: Uint8Array[]): boolean =>
      blsVerifyAggregate(kind, chainId, voteMessage(slot, blockHash), signature, blsPublicKeys),
  };
}

const vote = slotStatement(SigningKind.BlockVote);
const precommit = slotStatement(SigningKind.Precommit);
export const { sign: signVote, verify: verifyVote, verifyAggregate: verifyAggregateVote } = vote;
export const { sign: signPrecommit, verify: verifyPrecommit, verifyAggregate: verifyAggregatePrecommit } = precommit;

export function randaoMessage(slot: number): Uint8Array {
  return new Writer().varint(slot).finish();
}

export function signRandao(chainId: string, slot: number, key: BlsKeyPair): Uint8Array {
  return blsSign(SigningKind.Randao, chainId, randaoMessage(slot), key);
}

export function verifyRandao(chainId: string, slot: number, reveal: Uint8Array, blsPublicKey: Uint8Array): boolean {
  return blsVerify(SigningKind.Randao, chainId, randaoMessage(slot), reveal, blsPublicKey);
}
