import type { ChainParams } from "../core/state/params.js";
import { validatorStake } from "../core/state/records.js";
import type { Ledger } from "../core/state/ledger.js";
import { type SetMember, votingSet } from "../core/state/validators.js";

export interface WeightedValidator {
  readonly address: Uint8Array;
  readonly blsPublicKey: Uint8Array;
  readonly stake: bigint;
  readonly proximityBps: number;
  /** min(stake, cap) × max(proximity, floor): what counts in quorums and in the proposer draw. */
  readonly weight: bigint;
}

/**
 * DPoP weights: bonded plus delegated stake, capped at `maxValidatorShareBps` of all stake so that
 * no one validator nears a third, times proximity (how reliably its votes reached recent
 * certificates), which never counts below `proximityFloorBps`. Same order as the voting set.
 */
export function weigh(set: readonly SetMember[], params: ChainParams): WeightedValidator[] {
  const stakes = set.map((m) => validatorStake(m.validator));
  const total = stakes.reduce((a, b) => a + b, 0n);
  const cap = (total * params.maxValidatorShareBps) / 10_000n;
  const floor = Number(params.proximityFloorBps);
  return set.map((m, i) => {
    const stake = stakes[i] as bigint;
    const capped = stake < cap || cap === 0n ? stake : cap;
    const proximityBps = m.validator.proximityBps;
    return { address: m.address, blsPublicKey: m.validator.blsPublicKey, stake, proximityBps, weight: (capped * BigInt(Math.max(proximityBps, floor))) / 10_000n };
  });
}

/** What one poa federation member weighs: the same for all, whatever its stake or proximity. */
export const POA_MEMBER_WEIGHT = 1n;

function weighEqually(set: readonly SetMember[]): WeightedValidator[] {
  return set.map((m) => ({ address: m.address, blsPublicKey: m.validator.blsPublicKey, stake: validatorStake(m.validator), proximityBps: m.validator.proximityBps, weight: POA_MEMBER_WEIGHT }));
}

/** The weights of the validators voting on the block at `height` (state after it), as the chain's consensus mode weighs them. */
export function votingWeights(ledger: Ledger, height: number): WeightedValidator[] {
  const set = votingSet(ledger, height);
  return ledger.consensusMode() === "poa" ? weighEqually(set) : weigh(set, ledger.params());
}

export const totalWeight = (ws: readonly WeightedValidator[]): bigint => ws.reduce((a, w) => a + w.weight, 0n);

/** More than two thirds of the total weight. */
export const isQuorum = (signed: bigint, total: bigint): boolean => total > 0n && signed * 3n > total * 2n;

/** Gini coefficient of the weights: 0 when all are equal, towards 1 when one holds everything. */
export function gini(ws: readonly WeightedValidator[]): number {
  const xs = ws.map((w) => Number(w.weight)).sort((a, b) => a - b);
  const n = xs.length;
  const sum = xs.reduce((a, b) => a + b, 0);
  if (n === 0 || sum === 0) return 0;
  let weighted = 0;
  xs.forEach((x, i) => (weighted += (i + 1) * x));
  return (2 * weighted) / (n * sum) - (n + 1) / n;
}
