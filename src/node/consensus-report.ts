import { formatAddress } from "../core/crypto/address.js";
import type { ConsensusMode } from "../core/state/consensus-mode.js";
import { epochOf, nextEpochStart } from "../core/state/epoch.js";
import { federationProposal, openFederationProposals } from "../core/state/federation.js";
import { Ledger } from "../core/state/ledger.js";
import type { StateReader } from "../core/state/store.js";
import { FederationAction, VoteChoice } from "../core/tx/types.js";

/** How the chain runs and what changes at the next epoch start: what an operator adding a validator watches. */
export interface ConsensusReport {
  readonly mode: ConsensusMode;
  readonly epoch: number;
  /** Height at which the validators waiting to join start voting. */
  readonly nextEpochStart: number;
  /** Registered (dpop) or voted-in (poa) validators that join at `nextEpochStart`. */
  readonly joining: readonly string[];
  /** poa: open membership proposals, with their id for `meshchain federation vote --proposal`. */
  readonly proposals: readonly { readonly id: number; readonly action: "add" | "remove"; readonly validator: string; readonly yes: number; readonly endHeight: number }[];
}

export function consensusReport(state: StateReader, height: number): ConsensusReport {
  const l = new Ledger(state);
  const epochLength = l.params().epochLength;
  const proposals = openFederationProposals(l).flatMap(({ id, endHeight }) => {
    const p = federationProposal(l, id);
    if (p === null) return [];
    return [{ id, action: p.action === FederationAction.Add ? ("add" as const) : ("remove" as const), validator: formatAddress(p.validator), yes: p.votes.filter((v) => v.choice === VoteChoice.Yes).length, endHeight }];
  });
  return { mode: l.consensusMode(), epoch: epochOf(height, epochLength), nextEpochStart: nextEpochStart(height, epochLength), joining: l.pendingValidators().map(formatAddress), proposals };
}
