import { KeyPrefix } from "./keys.js";
import { accountCodec, metaCodec, unbondingCodec, validatorCodec, validatorStake } from "./records.js";
import type { StateStore } from "./store.js";

export interface SupplyAudit {
  /** Liquid balances, bonded and delegated stake, and stake still unbonding. */
  readonly held: bigint;
  /** What the chain says exists: genesis plus rewards minted minus slashes burned. */
  readonly totalSupply: bigint;
}

/** A full scan of state, for tests and operator checks: every unit must be somewhere. */
export function auditSupply(store: StateStore): SupplyAudit {
  let held = 0n;
  let totalSupply = -1n;
  for (const { key, value } of store.sortedEntries()) {
    switch (key[0]) {
      case KeyPrefix.Account:
        held += accountCodec.decode(value).balance;
        break;
      case KeyPrefix.Validator:
        held += validatorStake(validatorCodec.decode(value));
        break;
      case KeyPrefix.UnbondingQueue:
        for (const e of unbondingCodec.decode(value)) held += e.amount;
        break;
      case KeyPrefix.Meta:
        totalSupply = metaCodec.decode(value).totalSupply;
        break;
    }
  }
  return { held, totalSupply };
}
