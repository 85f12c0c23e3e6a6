import { bytesEqual, compareBytes } from "../bytes.js";
import { isEpochStart } from "./epoch.js";
import type { Ledger } from "./ledger.js";
import { isActiveValidator, type Validator } from "./records.js";

export interface SetMember {
  readonly address: Uint8Array;
  readonly validator: Validator;
}

/*
 * The voting set changes only at epoch starts for those who join (docs/consensus.md §Epochs): a
 * validator that registers (dpop) or is voted in (poa) waits in the pending list, and the first
 * block of the next epoch moves it into the set before its transactions run. Leaving and jailing
 * take effect at once: they only ever take weight away from someone who may no longer be trusted.
 */

/**
 * The validators that vote on the block at `height`: those active in the state after that block,
 * in address order. A certificate's signer bitmap indexes this list. The state after that block
 * settles it (jail no longer ends by a height); callers still name the block they ask about.
 */
export function votingSet(ledger: Ledger, _height: number): SetMember[] {
  const out: SetMember[] = [];
  for (const address of ledger.validatorSet()) {
    const v = ledger.validator(address);
    if (v !== null && isActiveValidator(v)) out.push({ address, validator: v });
  }
  return out;
}

/** Queue a validator to join the voting set at the next epoch start. */
export function queueJoin(ledger: Ledger, address: Uint8Array): void {
  ledger.putPendingValidators([...ledger.pendingValidators(), address].sort(compareBytes));
}

/** Take a validator out of the voting set, the queue and the jailed list (leaving, or voted out). */
export function removeMember(ledger: Ledger, address: Uint8Array): void {
  ledger.putValidatorSet(ledger.validatorSet().filter((a) => !bytesEqual(a, address)));
  ledger.putPendingValidators(ledger.pendingValidators().filter((a) => !bytesEqual(a, address)));
  ledger.putJailedValidators(ledger.jailedValidators().filter((a) => !bytesEqual(a, address)));
}

/** Out of the set at once, into the jailed list: back only through unjail and an epoch start. */
export function jailMember(ledger: Ledger, address: Uint8Array): void {
  removeMember(ledger, address);
  ledger.putJailedValidators([...ledger.jailedValidators(), address].sort(compareBytes));
}

/** An unjailed validator leaves the jailed list and waits, like a newcomer, for the next epoch start. */
export function unjailMember(ledger: Ledger, address: Uint8Array): void {
  ledger.putJailedValidators(ledger.jailedValidators().filter((a) => !bytesEqual(a, address)));
  queueJoin(ledger, address);
}

/** Every validator with a record that can hold delegations: voting, waiting to join, or jailed. */
export function registeredValidators(ledger: Ledger): Uint8Array[] {
  return [...ledger.validatorSet(), ...ledger.pendingValidators(), ...ledger.jailedValidators()].sort(compareBytes);
}

/** Members and those queued to join: what the `maxValidators` bound counts. */
export function seatsTaken(ledger: Ledger): number {
  return ledger.validatorSet().length + ledger.pendingValidators().length;
}

export const isMember = (ledger: Ledger, address: Uint8Array): boolean => ledger.validatorSet().some((a) => bytesEqual(a, address));

/** At an epoch's first block, the queued validators join the voting set; returns who joined. */
export function admitPendingAtEpochStart(ledger: Ledger, height: number, epochLength: bigint): Uint8Array[] {
  if (!isEpochStart(height, epochLength)) return [];
  const pending = ledger.pendingValidators();
  if (pending.length === 0) return [];
  ledger.putValidatorSet([...ledger.validatorSet(), ...pending].sort(compareBytes));
  ledger.putPendingValidators([]);
  return pending;
}

/**
 * How many validators will vote on the block after `height` (state after `height`), counting those
 * queued to join when that block starts an epoch. A node uses it to know, one block ahead and the
 * same on every node, when a lone validator's chain becomes a consensus chain.
 */
export function nextVotingSetSize(ledger: Ledger, height: number): number {
  const next = height + 1;
  let count = votingSet(ledger, next).length;
  if (isEpochStart(next, ledger.params().epochLength)) {
    for (const address of ledger.pendingValidators()) {
      const v = ledger.validator(address);
      if (v !== null && isActiveValidator(v)) count++;
    }
  }
  return count;
}

/** Whether `address` votes on the block after `height`: a member now, or one that joins at that block. */
export function votesAfter(ledger: Ledger, height: number, address: Uint8Array): boolean {
  const next = height + 1;
  const v = ledger.validator(address);
  if (v === null || !isActiveValidator(v)) return false;
  if (isMember(ledger, address)) return true;
  return isEpochStart(next, ledger.params().epochLength) && ledger.pendingValidators().some((a) => bytesEqual(a, address));
}
