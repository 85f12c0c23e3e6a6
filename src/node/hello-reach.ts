/** Node numbers followed for how they are heard; beyond this the first heard is forgotten (a peer table's worth). */
const NODES_KEPT = 512;

/** Frames of a node, none of them straight from its radio, before we take it to be out of our direct range. */
export const FAR_AFTER_FRAMES = 3;

interface Heard {
  /** When we first heard the node (ms on our clock). */
  readonly at: number;
  frames: number;
  direct: boolean;
}

/**
 * How far our hellos must travel on a radio. A hello at start flooded mesh-wide went on air about
 * four times (origin and relays, 1.3 s each on LongFast): ten of them were most of control's airtime
 * in a two-hour devnet run (docs/benchmarks.md "Tenth round"). Most of a mesh hears a node directly,
 * so the hello at start goes to our neighbours only (hop limit 0), and a mesh-wide hello follows only
 * for nodes that cannot have heard it: those we hear only through relays (`FAR_AFTER_FRAMES` frames,
 * none at 0 hops; links are about symmetric, so they are out of our radio's range as we are out of
 * theirs) and first heard after our last mesh-wide hello. They do the same for us.
 *
 * Hop counts are unsigned, and a forged sender costs us at most one hello per hello interval (the
 * caller's rate, shared with answers to newcomers: NodeNetwork.offRoundHelloAt); a liar in our range that passes a far node's number off
 * as heard directly only leaves that node without our key until our next round, as a lost hello does. A radio that does not report hop counts gives us no
 * way to tell neighbours from the rest: our hello at start then floods, as before.
 */
export class HelloReach {
  private readonly heard = new Map<number, Heard>();
  private hopCountsKnown = false;
  private lastMeshWide = Number.NEGATIVE_INFINITY;
  /** Nodes known to hold our key without a hello of this run (peers from before a restart). */
  private readonly holding = new Set<number>();

  /** A frame from `from` arrived on the radio, `hopsAway` hops from its origin (null: not reported). */
  note(from: number, hopsAway: number | null, now: number): void {
    if (hopsAway === null) return;
    this.hopCountsKnown = true;
    let h = this.heard.get(from);
    if (h === undefined) {
      h = { at: now, frames: 0, direct: false };
      this.heard.set(from, h);
      if (this.heard.size > NODES_KEPT) this.heard.delete(this.heard.keys().next().value as number);
    }
    h.frames++;
    if (hopsAway === 0) h.direct = true;
  }

  /** Whether some node out of our direct range was first heard after our last mesh-wide hello: it lacks our key. */
  get meshWideDue(): boolean {
    for (const [node, h] of this.heard) if (this.isFar(h) && h.at > this.lastMeshWide && !this.holding.has(node)) return true;
    return false;
  }

  /**
   * These nodes still hold our key from before a restart (the restart sent no hello on air, see
   * NodeNetwork.peersStillHoldUs): hearing them through relays again asks nothing of us.
   */
  holdUs(nodes: Iterable<number>): void {
    for (const n of nodes) if (this.holding.size < NODES_KEPT) this.holding.add(n);
  }

  /**
   * The hop limit for our hello at start, sent now: 0 (neighbours) when our radio reports hop counts
   * and no node out of range is known yet, else none (the radio's own, mesh-wide).
   */
  startHopLimit(now: number): 0 | undefined {
    if (this.hopCountsKnown && !this.meshWideDue) return 0;
    this.sentMeshWide(now);
    return undefined;
  }

  /** Our hello went mesh-wide now: every node heard so far heard it (or missed it as any frame is missed). */
  sentMeshWide(now: number): void {
    this.lastMeshWide = now;
  }

  /** When our last hello went mesh-wide (ms on our clock). */
  get lastMeshWideAt(): number {
    return this.lastMeshWide;
  }

  private isFar(h: Heard): boolean {
    return !h.direct && h.frames >= FAR_AFTER_FRAMES;
  }
}
