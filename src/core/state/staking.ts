import { compareBytes, bytesEqual } from "../bytes.js";
import { blsVerifyPossession } from "../crypto/bls.js";
import type { BondBody, DelegateBody, UnbondBody, UndelegateBody, ValidatorRegisterBody } from "../tx/types.js";
import { debit } from "./balances.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import type { Delegation, UnbondingEntry, Validator } from "./records.js";
import { queueJoin, removeMember, seatsTaken, unjailMember } from "./validators.js";

export function queueUnbonding(l: Ledger, releaseHeight: number, entry: UnbondingEntry): void {
  l.putUnbondingAt(releaseHeight, [...l.unbondingAt(releaseHeight), entry]);
}

function servingValidator(l: Ledger, address: Uint8Array): Validator {
  const v = l.validator(address);
  if (v === null) throw new TxError("NOT_VALIDATOR", "sender is not a validator");
  if (v.leavingAt !== 0) throw new TxError("VALIDATOR_INACTIVE", "validator is leaving");
  return v;
}

/** On a poa chain stake buys nothing: bonding and delegating are refused so that no one pays for weight they cannot get. */
function requireStaking(l: Ledger): void {
  if (l.consensusMode() === "poa") throw new TxError("STAKING_DISABLED", "this is a poa chain: weights are equal and nothing is staked");
}

/**
 * dpop: the bonded validator is queued and joins the voting set at the next epoch start. poa: the
 * registration only makes a candidate (its keys checked, no bond needed) that the federation votes in.
 */
export function applyRegister(l: Ledger, sender: Uint8Array, body: ValidatorRegisterBody, ctx: TxContext): void {
  if (l.validator(sender) !== null) throw new TxError("ALREADY_VALIDATOR", "sender is already a validator");
  const taken = seatsTaken(l);
  if (BigInt(taken) >= ctx.params.maxValidators) throw new TxError("VALIDATOR_SET_FULL", `validator set holds ${taken} with those waiting to join, the maximum`);
  const poa = l.consensusMode() === "poa";
  if (poa && body.selfBond !== 0n) throw new TxError("STAKING_DISABLED", "this is a poa chain: register with a self-bond of 0");
  if (!poa && body.selfBond < ctx.params.minSelfBond) throw new TxError("BOND_TOO_SMALL", `self-bond must be at least ${ctx.params.minSelfBond}`);
  if (l.blsKeyOwner(body.blsPublicKey) !== null) throw new TxError("BLS_KEY_IN_USE", "BLS key already registered");
  debit(l, sender, body.selfBond);
  // Pairing checks are the most expensive step, so they come after every cheap rejection.
  if (!blsVerifyPossession(ctx.chainId, body.blsPublicKey, body.proofOfPossession)) {
    throw new TxError("BAD_PROOF_OF_POSSESSION", "proof of possession does not verify");
  }
  l.putValidator(sender, {
    blsPublicKey: body.blsPublicKey, commissionBps: body.commissionBps, selfBond: body.selfBond, delegations: [],
    jailedUntil: 0, leavingAt: 0, lastInfractionSlot: 0, registeredSlot: ctx.slot, proximityBps: Number(ctx.params.proximityStartBps),
  });
  if (!poa) queueJoin(l, sender);
  l.setBlsKeyOwner(body.blsPublicKey, sender);
}

export function applyLeave(l: Ledger, sender: Uint8Array, ctx: TxContext): void {
  const v = servingValidator(l, sender);
  const release = ctx.height + Number(ctx.params.unbondingPeriod);
  queueUnbonding(l, release, { owner: sender, validator: sender, amount: v.selfBond });
  for (const d of v.delegations) queueUnbonding(l, release, { owner: d.delegator, validator: sender, amount: d.amount });
  // The record stays until its stake is released, so that evidence against it can still be checked.
  l.putValidator(sender, { ...v, selfBond: 0n, delegations: [], leavingAt: release });
  removeMember(l, sender);
}

/**
 * A jailed validator asks to rejoin: only itself, only once `jailedUntil` is reached, with a
 * self-bond still at the minimum after its slash and a free seat. It joins at the next epoch start,
 * like a new validator: jail never ends by itself, so a node that equivocated because of a fault
 * (a cloned key, a lost signer database) stays out until its operator has fixed it and says so.
 */
export function applyUnjail(l: Ledger, sender: Uint8Array, ctx: TxContext): void {
  const v = servingValidator(l, sender);
  if (v.jailedUntil === 0) throw new TxError("NOT_JAILED", "this validator is not jailed");
  if (ctx.height < v.jailedUntil) throw new TxError("STILL_JAILED", `jailed until height ${v.jailedUntil}; unjail from then on`);
  if (l.consensusMode() !== "poa" && v.selfBond < ctx.params.minSelfBond) {
    throw new TxError("BOND_TOO_SMALL", `self-bond ${v.selfBond} fell below minSelfBond ${ctx.params.minSelfBond} with the slash: bond the difference first`);
  }
  const taken = seatsTaken(l);
  if (BigInt(taken) >= ctx.params.maxValidators) throw new TxError("VALIDATOR_SET_FULL", `validator set holds ${taken} with those waiting to join, the maximum`);
  l.putValidator(sender, { ...v, jailedUntil: 0 });
  unjailMember(l, sender);
}

export function applyBond(l: Ledger, sender: Uint8Array, body: BondBody): void {
  requireStaking(l);
  const v = servingValidator(l, sender);
  debit(l, sender, body.amount);
  l.putValidator(sender, { ...v, selfBond: v.selfBond + body.amount });
}

export function applyUnbond(l: Ledger, sender: Uint8Array, body: UnbondBody, ctx: TxContext): void {
  const v = servingValidator(l, sender);
  if (body.amount > v.selfBond) throw new TxError("INSUFFICIENT_BOND", `self-bond is ${v.selfBond}`);
  if (v.selfBond - body.amount < ctx.params.minSelfBond) {
    throw new TxError("BOND_TOO_SMALL", "self-bond would fall below the minimum; leave the validator set instead");
  }
  l.putValidator(sender, { ...v, selfBond: v.selfBond - body.amount });
  queueUnbonding(l, ctx.height + Number(ctx.params.unbondingPeriod), { owner: sender, validator: sender, amount: body.amount });
}

function withDelegation(delegations: readonly Delegation[], delegator: Uint8Array, amount: bigint): Delegation[] {
  const rest = delegations.filter((d) => !bytesEqual(d.delegator, delegator));
  if (amount > 0n) rest.push({ delegator, amount });
  return rest.sort((a, b) => compareBytes(a.delegator, b.delegator));
}

export function applyDelegate(l: Ledger, sender: Uint8Array, body: DelegateBody, ctx: TxContext): void {
  requireStaking(l);
  if (bytesEqual(sender, body.validator)) throw new TxError("SELF_DELEGATION", "a validator bonds to itself with a bond transaction");
  const v = l.validator(body.validator);
  if (v === null) throw new TxError("UNKNOWN_VALIDATOR", "no such validator");
  if (v.leavingAt !== 0) throw new TxError("VALIDATOR_INACTIVE", "validator is leaving");
  const existing = v.delegations.find((d) => bytesEqual(d.delegator, sender));
  if (existing === undefined && BigInt(v.delegations.length) >= ctx.params.maxDelegationsPerValidator) {
    throw new TxError("DELEGATION_LIMIT", "validator has the maximum number of delegators");
  }
  debit(l, sender, body.amount);
  l.putValidator(body.validator, { ...v, delegations: withDelegation(v.delegations, sender, (existing?.amount ?? 0n) + body.amount) });
}

export function applyUndelegate(l: Ledger, sender: Uint8Array, body: UndelegateBody, ctx: TxContext): void {
  const v = l.validator(body.validator);
  if (v === null) throw new TxError("UNKNOWN_VALIDATOR", "no such validator");
  const existing = v.delegations.find((d) => bytesEqual(d.delegator, sender));
  if (existing === undefined || existing.amount < body.amount) {
    throw new TxError("INSUFFICIENT_DELEGATION", `delegated amount is ${existing?.amount ?? 0n}`);
  }
  l.putValidator(body.validator, { ...v, delegations: withDelegation(v.delegations, sender, existing.amount - body.amount) });
  queueUnbonding(l, ctx.height + Number(ctx.params.unbondingPeriod), { owner: sender, validator: body.validator, amount: body.amount });
}

/** Release stake whose unbonding period ends at `height`, and retire validators that left. */
export function releaseUnbonding(l: Ledger, height: number): void {
  const entries = l.unbondingAt(height);
  if (entries.length === 0) return;
  for (const e of entries) l.credit(e.owner, e.amount);
  l.putUnbondingAt(height, []);
  for (const e of entries) {
    const v = l.validator(e.validator);
    if (v !== null && v.leavingAt === height) {
      l.deleteValidator(e.validator);
      l.setBlsKeyOwner(v.blsPublicKey, null);
    }
  }
}
