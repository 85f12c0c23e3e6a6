import type { Ledger } from "./ledger.js";
import { validatorStake } from "./records.js";

/**
 * Pays `amount` to a validator and its delegators: the commission first, then the rest pro rata to
 * stake. Integer division leaves remainders, which go to the validator, so every unit is paid out.
 */
export function payValidator(l: Ledger, validatorAddress: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const v = l.validator(validatorAddress);
  if (v === null) {
    l.credit(validatorAddress, amount);
    return;
  }
  const commission = (amount * BigInt(v.commissionBps)) / 10_000n;
  const shared = amount - commission;
  const stake = validatorStake(v);
  let paid = 0n;
  if (stake > 0n) {
    for (const d of v.delegations) {
      const share = (shared * d.amount) / stake;
      l.credit(d.delegator, share);
      paid += share;
    }
  }
  l.credit(validatorAddress, amount - paid);
}
