/**
 * Finality, as consensus defines it (docs/consensus.md): the middle of three notarized blocks
 * chained in consecutive slots is final, with everything before it. A block notarized by its
 * proposer alone (a lone validator holding a quorum) is final at once. The engine and range sync
 * both ask this file, so the rule has one home.
 */
export interface NotarizedLink {
  readonly height: number;
  readonly slot: number;
}

/** True when `child` on `parent` on `grandparent` (each the parent of the next) makes `parent` final. */
export function finalizesMiddle(grandparent: NotarizedLink, parent: NotarizedLink, child: NotarizedLink): boolean {
  return parent.height === grandparent.height + 1 && child.height === parent.height + 1 && parent.slot === grandparent.slot + 1 && child.slot === parent.slot + 1;
}

/**
 * Walks a notarized chain block by block and reports the highest height it proves final. Holds
 * the last two links only: what a third needs to finalize the middle one.
 */
export class FinalityTracker {
  private recent: NotarizedLink[] = [];

  /** Add the next notarized block of the chain; the height it makes final, or null. */
  next(link: NotarizedLink, byProposerAlone: boolean): number | null {
    const [grandparent, parent] = this.recent;
    this.recent = [...this.recent.slice(-1), link];
    if (byProposerAlone) return link.height;
    return grandparent !== undefined && parent !== undefined && finalizesMiddle(grandparent, parent, link) ? parent.height : null;
  }

  /** A copy, to try a run of blocks without committing to it. */
  fork(): FinalityTracker {
    const copy = new FinalityTracker();
    copy.recent = [...this.recent];
    return copy;
  }

  /** The chain was undone or replaced: what was remembered no longer leads to the tip. */
  reset(): void {
    this.recent = [];
  }
}
