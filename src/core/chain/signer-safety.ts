import { bytesEqual, toHex } from "../bytes.js";
import { MeshChainError } from "../errors.js";

export type SignerSafetyErrorCode = "CONFLICT" | "SLOT_REGRESSION" | "LOCKED";
/** Signing this would contradict something already signed: refused, whatever the caller wants. */
export class SignerSafetyError extends MeshChainError<SignerSafetyErrorCode> {}

/**
 * What a validator has signed: the last (slot, block) and its lock, the highest slot of a parent of
 * a block it signed (the two-slot finality rule's vote rule, docs/consensus.md §7).
 */
export interface SignedRecord {
  readonly slot: number;
  readonly blockHash: Uint8Array;
  readonly lock: number;
  /**
   * The last signature was a precommit of (slot, blockHash) (docs/consensus.md, "Precommits"): a
   * vote for a virtual child of that block at slot + ½, so nothing more is signed for `slot` itself.
   * Absent on a record that never precommitted.
   */
  readonly precommitted?: boolean;
}

/**
 * The signing record. `approve` must make the record durable before returning, and the caller
 * broadcasts only after it returns: a crash and restart can then never produce a second, conflicting
 * signature for a slot, nor a vote below the lock.
 */
export interface SignerSafety {
  /** `parentSlot`: the slot of the block's parent, checked against the lock and then locked on. */
  approve(slot: number, blockHash: Uint8Array, parentSlot: number): void;
  /**
   * A precommit of the notarized block `blockHash` of `slot`: checked by `checkPrecommit`, and the
   * record `{slot, blockHash, lock: max(lock, slot), precommitted}` durable before returning.
   */
  approvePrecommit(slot: number, blockHash: Uint8Array): void;
  last(): SignedRecord | null;
}

/**
 * The lock of a record written before locks were kept: the parent of every block it signed had a
 * slot below that block's, so at most the last signed slot less one. Taking that bound is safe
 * (a higher lock only refuses more) and the tightest without knowing the blocks signed.
 */
export function legacyLock(lastSlot: number): number {
  return lastSlot - 1;
}

/**
 * The rule every implementation applies: one block per slot, slots only move forward, and a block
 * is signed only on a parent at or above the lock. "new" means the record must become
 * `{slot, blockHash, lock: nextLock(last, parentSlot)}` before the signature leaves.
 */
export function checkApproval(last: SignedRecord | null, slot: number, blockHash: Uint8Array, parentSlot: number): "new" | "repeat" {
  if (last === null) return "new";
  // A precommit is a signature at slot + ½: the slot itself is behind it, even for the same block.
  if (last.precommitted === true && slot <= last.slot) throw new SignerSafetyError("SLOT_REGRESSION", `slot ${slot} is not after the precommitted slot ${last.slot}`);
  if (slot === last.slot && bytesEqual(blockHash, last.blockHash)) return "repeat";
  if (slot === last.slot) throw new SignerSafetyError("CONFLICT", `already signed block ${toHex(last.blockHash).slice(0, 16)} in slot ${slot}`);
  if (slot < last.slot) throw new SignerSafetyError("SLOT_REGRESSION", `slot ${slot} is before the last signed slot ${last.slot}`);
  if (parentSlot < last.lock) throw new SignerSafetyError("LOCKED", `the parent's slot ${parentSlot} is below the lock ${last.lock}`);
  return "new";
}

/** The lock after signing a block whose parent has slot `parentSlot`. */
export function nextLock(last: SignedRecord | null, parentSlot: number): number {
  return Math.max(last?.lock ?? Number.NEGATIVE_INFINITY, parentSlot);
}

/**
 * The precommit rule (docs/consensus.md, "Precommits"), read as the vote rule for a virtual child of
 * the block at slot + ½ whose parent is the block itself: nothing signed after `slot` (a vote in the
 * slot itself comes before the precommit), and `slot` at least the lock. "new" means the record
 * must become `{slot, blockHash, lock: max(lock, slot), precommitted: true}` before the signature
 * leaves. That the block is notarized is the caller's to know: the record holds no blocks.
 */
export function checkPrecommit(last: SignedRecord | null, slot: number, blockHash: Uint8Array): "new" | "repeat" {
  if (last === null) return "new";
  if (last.precommitted === true && slot === last.slot) {
    if (bytesEqual(blockHash, last.blockHash)) return "repeat";
    throw new SignerSafetyError("CONFLICT", `already precommitted block ${toHex(last.blockHash).slice(0, 16)} of slot ${slot}`);
  }
  if (slot < last.slot) throw new SignerSafetyError("SLOT_REGRESSION", `slot ${slot} is before the last signed slot ${last.slot}`);
  if (slot < last.lock) throw new SignerSafetyError("LOCKED", `the precommitted slot ${slot} is below the lock ${last.lock}`);
  return "new";
}

/** The record after a precommit of `blockHash` in `slot` (checkPrecommit said "new"). */
export function precommitRecord(last: SignedRecord | null, slot: number, blockHash: Uint8Array): SignedRecord {
  return { slot, blockHash: Uint8Array.from(blockHash), lock: nextLock(last, slot), precommitted: true };
}
