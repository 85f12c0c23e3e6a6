import { bytesEqual, toHex } from "../bytes.js";
import { MeshChainError } from "../errors.js";

export type SignerSafetyErrorCode = "CONFLICT" | "SLOT_REGRESSION";
/** Signing this would contradict something already signed: refused, whatever the caller wants. */
export class SignerSafetyError extends MeshChainError<SignerSafetyErrorCode> {}

/**
 * What a validator has signed. `approve` must make the record durable before returning, and the
 * caller broadcasts only after it returns: a crash and restart can then never produce a second,
 * conflicting signature for a slot.
 */
export interface SignerSafety {
  approve(slot: number, blockHash: Uint8Array): void;
  last(): { readonly slot: number; readonly blockHash: Uint8Array } | null;
}

/** The rule every implementation applies: one block per slot, and slots only move forward. */
export function checkApproval(last: { slot: number; blockHash: Uint8Array } | null, slot: number, blockHash: Uint8Array): "new" | "repeat" {
  if (last === null || slot > last.slot) return "new";
  if (slot === last.slot && bytesEqual(blockHash, last.blockHash)) return "repeat";
  if (slot === last.slot) throw new SignerSafetyError("CONFLICT", `already signed block ${toHex(last.blockHash).slice(0, 16)} in slot ${slot}`);
  throw new SignerSafetyError("SLOT_REGRESSION", `slot ${slot} is before the last signed slot ${last.slot}`);
}

