/**
 * Finality, as consensus defines it (docs/consensus.md §7, the two-slot rule): a notarized block is
 * final, with everything before it, once its child in the very next slot is notarized. It is safe
 * only together with the vote rule's lock (core/chain/signer-safety.ts). A block notarized by its
 * proposer alone (a lone validator holding a quorum) is final at once. The engine, range sync and
 * the read model all ask this file, so the rule has one home.
 */
export interface NotarizedLink {
  readonly height: number;
  readonly slot: number;
}

/** True when notarized `child`, on notarized `parent`, makes `parent` final. */
export function finalizesParent(parent: NotarizedLink, child: NotarizedLink): boolean {
  return child.height === parent.height + 1 && child.slot === parent.slot + 1;
}

/**
 * Walks a notarized chain block by block and reports the highest height it proves final. Holds
 * the last link only: what the next one needs to finalize it.
 */
export class FinalityTracker {
  private previous: NotarizedLink | null = null;

  /** Add the next notarized block of the chain; the height it makes final, or null. */
  next(link: NotarizedLink, byProposerAlone: boolean): number | null {
    const parent = this.previous;
    this.previous = { height: link.height, slot: link.slot };
    if (byProposerAlone) return link.height;
    return parent !== null && finalizesParent(parent, link) ? parent.height : null;
  }

  /** A copy, to try a run of blocks without committing to it. */
  fork(): FinalityTracker {
    const copy = new FinalityTracker();
    copy.previous = this.previous;
    return copy;
  }

  /** The chain was undone or replaced: what was remembered no longer leads to the tip. */
  reset(): void {
    this.previous = null;
  }
}
