import type { Ledger } from "./ledger.js";
import { isActiveValidator, type Validator } from "./records.js";

export interface SetMember {
  readonly address: Uint8Array;
  readonly validator: Validator;
}

/**
 * The validators that vote on the block at `height`: those active in the state after that block,
 * in address order. A certificate's signer bitmap indexes this list.
 */
export function votingSet(ledger: Ledger, height: number): SetMember[] {
  const out: SetMember[] = [];
  for (const address of ledger.validatorSet()) {
    const v = ledger.validator(address);
    if (v !== null && isActiveValidator(v, height)) out.push({ address, validator: v });
  }
  return out;
}
