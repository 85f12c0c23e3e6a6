import type { Block } from "../core/block/block.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import { toHex } from "../core/bytes.js";
import type { AppliedBlock, ParentInfo } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import type { StateStore } from "../core/state/store.js";
import { votingWeights, type WeightedValidator } from "./weights.js";

/** A block the engine holds above (or at) finality, with the state it produced. */
export interface TreeBlock {
  readonly hash: Uint8Array;
  readonly id: string;
  readonly parentId: string | null;
  readonly height: number;
  readonly slot: number;
  readonly timestamp: number;
  /** null for the genesis pseudo-block. */
  readonly block: Block | null;
  readonly state: StateStore;
  /** The state transition's result for `block`, kept so that finality commits it without executing it again. */
  readonly applied: AppliedBlock | null;
  /** Who votes on this block, with what weight: the active validators of its post-state. */
  readonly weights: readonly WeightedValidator[];
  readonly votes: Map<number, Uint8Array>;
  /** The notarization: more than two thirds of weight voted for it. The finalized root counts as notarized. */
  certificate: NotarizationCertificate | null;
  notarized: boolean;
}

export function treeBlock(hash: Uint8Array, block: Block | null, parentId: string | null, info: Omit<ParentInfo, "hash">, state: StateStore, applied: AppliedBlock | null = null): TreeBlock {
  const ledger = new Ledger(state);
  return {
    hash, id: toHex(hash), parentId, height: info.height, slot: info.slot, timestamp: info.timestamp, block, state, applied,
    weights: votingWeights(ledger, info.height), votes: new Map(), certificate: null, notarized: false,
  };
}

/**
 * The fork choice's order among notarized blocks above finality (docs/consensus.md §7): the higher
 * slot first, not the longer chain; ties, possible only with equivocating voters, to the lower hash
 * (ids are lower-case hex of equal length, so string order is hash order). The engine's head and a
 * peer's claimed head are ranked by this one rule.
 */
export function ranksAbove(a: { readonly slot: number; readonly id: string }, b: { readonly slot: number; readonly id: string }): boolean {
  return a.slot > b.slot || (a.slot === b.slot && a.id < b.id);
}

export const parentInfo = (b: TreeBlock): ParentInfo => ({ height: b.height, hash: b.hash, slot: b.slot, timestamp: b.timestamp });
