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

export function signVote(chainId: string, slot: number, blockHash: Uint8Array, key: BlsKeyPair): Uint8Array {
  return blsSign(SigningKind.BlockVote, chainId, voteMessage(slot, blockHash), key);
}

export function verifyVote(chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKey: Uint8Array): boolean {
  return blsVerify(SigningKind.BlockVote, chainId, voteMessage(slot, blockHash), signature, blsPublicKey);
}

export function verifyAggregateVote(chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKeys: Uint8Array[]): boolean {
  return blsVerifyAggregate(SigningKind.BlockVote, chainId, voteMessage(slot, blockHash), signature, blsPublicKeys);
}

/**
 * A precommit for a notarized block (docs/consensus.md, "Precommits"): the same (slot, hash) bytes as
 * a vote, under its own signing kind, so a vote never counts as a precommit nor the reverse.
 */
export function signPrecommit(chainId: string, slot: number, blockHash: Uint8Array, key: BlsKeyPair): Uint8Array {
  return blsSign(SigningKind.Precommit, chainId, voteMessage(slot, blockHash), key);
}

export function verifyPrecommit(chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKey: Uint8Array): boolean {
  return blsVerify(SigningKind.Precommit, chainId, voteMessage(slot, blockHash), signature, blsPublicKey);
}

export function verifyAggregatePrecommit(chainId: string, slot: number, blockHash: Uint8Array, signature: Uint8Array, blsPublicKeys: Uint8Array[]): boolean {
  return blsVerifyAggregate(SigningKind.Precommit, chainId, voteMessage(slot, blockHash), signature, blsPublicKeys);
}

export function randaoMessage(slot: number): Uint8Array {
  return new Writer().varint(slot).finish();
}

export function signRandao(chainId: string, slot: number, key: BlsKeyPair): Uint8Array {
  return blsSign(SigningKind.Randao, chainId, randaoMessage(slot), key);
}

export function verifyRandao(chainId: string, slot: number, reveal: Uint8Array, blsPublicKey: Uint8Array): boolean {
  return blsVerify(SigningKind.Randao, chainId, randaoMessage(slot), reveal, blsPublicKey);
}
