import type { Clock } from "../core/clock.js";

/**
 * Slots without finality, while blocks above it carry transactions, after which a node on the air
 * counts the chain as stalled. Finality normally follows a block within two or three slots (the
 * two-slot rule, votes taking turns); four leaves room for a late round without calling it a stall.
 */
export const STALL_SLOTS = 4;

/**
 * Whether the chain carries transactions it does not finalize: blocks are made (so proposers hear
 * the transactions) but their votes do not meet. On a mesh that is the channel's doing — a relay
 * between the validators spent its hour's duty cycle (devnet seed 4 with --kill: two bridges, 80
 * minutes) — and another copy of a waiting transaction only adds to what that relay must carry.
 * A chain with nothing above finality, or only empty heartbeats, is idle, not stalled: a lost
 * transaction must still be announced again there, since nothing else will bring it.
 */
export class FinalityStall {
  private finalizedHeight = -1;
  private movedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly stallMs: number,
  ) {
    this.movedAt = clock.now();
  }

  /** The node's finalized height and the transactions in blocks above it, as now; true while stalled. */
  stalled(finalizedHeight: number, unfinalizedTxs: number): boolean {
    const now = this.clock.now();
    if (finalizedHeight !== this.finalizedHeight) {
      this.finalizedHeight = finalizedHeight;
      this.movedAt = now;
    }
    return unfinalizedTxs > 0 && now - this.movedAt >= this.stallMs;
  }
}
