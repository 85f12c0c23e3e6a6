/**
 * Finality, as consensus defines it (docs/consensus.md §7). The rule is a property of the chain
 * (the genesis-only parameter `finalitySlots`), not of the binary:
 * - 2, the two-slot rule (new chains): a notarized block is final, with everything before it, once
 *   its child in the very next slot is notarized. It is safe only together with the vote rule's lock
 *   (core/chain/signer-safety.ts).
 * - 3, Streamlet's rule (chains launched before the two-slot rule, whose old voters kept no lock):
 *   the middle of three notarized blocks chained in consecutive slots is final.
 * Either way the final block is the one before the last of the run. A block notarized by its
 * proposer alone (a lone validator holding a quorum) is final at once. A chain whose genesis sets
 * `finalityRule` 1 has a second way (docs/consensus.md, "Precommits"): a notarized block precommitted
 * by more than two thirds of its voting weight is final in its own slot. The engine, range sync and
 * the read model all ask this file, so the rule has one home.
 */
import { Ledger } from "../core/state/ledger.js";
import type { StateStore } from "../core/state/store.js";

export interface NotarizedLink {
  readonly height: number;
  readonly slot: number;
}

/** The chain's finality rule: how many notarized blocks in consecutive slots make the one before the last final. */
export function finalitySlotsOf(state: StateStore): number {
  return Number(new Ledger(state).params().finalitySlots);
}

/** Whether the chain also finalizes by precommits (the genesis-only parameter `finalityRule`, 1). */
export function precommitRuleOf(state: StateStore): boolean {
  return new Ledger(state).params().finalityRule === 1n;
}

/** True when notarized `child`, on notarized `parent`, are consecutive in height and slot. */
export function finalizesParent(parent: NotarizedLink, child: NotarizedLink): boolean {
  return child.height === parent.height + 1 && child.slot === parent.slot + 1;
}

/**
 * True when `run` (oldest first, each the parent of the next, all notarized) is `slots` long and
 * consecutive in height and slot: it makes its next-to-last block final.
 */
export function finalizesRun(run: readonly NotarizedLink[], slots: number): boolean {
  if (run.length !== slots || slots < 2) return false;
  for (let i = 1; i < run.length; i++) if (!finalizesParent(run[i - 1]!, run[i]!)) return false;
  return true;
}

/**
 * Walks a notarized chain block by block and reports the highest height it proves final. Holds
 * the last `slots - 1` links only: what the next one needs to finalize the one before it.
 */
export class FinalityTracker {
  private recent: NotarizedLink[] = [];

  /**
   * `slots`: the chain's finalitySlots (finalitySlotsOf); `precommits`: whether its finalityRule
   * counts precommits (precommitRuleOf). On a chain without the rule a precommit certificate proves
   * nothing, whoever sends one.
   */
  constructor(
    readonly slots: number,
    readonly precommits = false,
  ) {}

  /**
   * Add the next notarized block of the chain; the height it makes final, or null. `precommitted`:
   * the caller holds a precommit certificate for this very block, checked against its voting set.
   */
  next(link: NotarizedLink, byProposerAlone: boolean, precommitted = false): number | null {
    const run = [...this.recent, { height: link.height, slot: link.slot }];
    this.recent = run.slice(-(this.slots - 1));
    if (byProposerAlone || (precommitted && this.precommits)) return link.height;
    return finalizesRun(run, this.slots) ? run[run.length - 2]!.height : null;
  }

  /** A copy, to try a run of blocks without committing to it. */
  fork(): FinalityTracker {
    const copy = new FinalityTracker(this.slots, this.precommits);
    copy.recent = [...this.recent];
    return copy;
  }

  /** The chain was undone or replaced: what was remembered no longer leads to the tip. */
  reset(): void {
    this.recent = [];
  }
}
