/** p50 and p95 of a set of figures, to a tenth; null for none. */
export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
}

export function percentiles(xs: readonly number[]): Percentiles {
  const sorted = [...xs].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? null : Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) * 10) / 10);
  return { p50: pct(0.5), p95: pct(0.95) };
}

/**
 * Where finality latency goes, over the transfers final at every running node (issue 20): which
 * phase to cut. Phases end at the block that ended up final with the transfer in it.
 */
export interface FinalityPhases {
  /** Transfers measured (those whose final block's notarization was seen: all, unless a validator's head was never watched). */
  readonly transfers: number;
  /** Submitted at its node → the final block's proposal (its header time, the proposer's clock). */
  readonly toProposal: Percentiles;
  /** Proposal → notarized: the first moment any validator's notarized head reached the block's height. */
  readonly proposalToNotarized: Percentiles;
  /** Notarized → final at every running node (what the report's finality latency ends with). */
  readonly notarizedToFinal: Percentiles;
  /**
   * Finalized blocks proposed after a transfer was submitted and before the block that took it: how
   * many transfers waited on one or more, how many such blocks in all, and of those, how many were
   * full (maxBlockTxs) and how many had room (the transfer had not reached the proposer, or waited
   * on an earlier nonce). `slotsWithoutFinalBlock`: slots begun after a transfer's submission and
   * before its block's own slot that left no block in the final chain (skipped, or their proposal
   * lost), summed over the transfers: the other way a transfer waits.
   */
  readonly missedBlocks: { readonly transfers: number; readonly blocks: number; readonly full: number; readonly roomLeft: number; readonly slotsWithoutFinalBlock: number };
}

/** Collects the phases as the devnet watches its nodes; heights are those of the final chain. */
export class LatencyPhases {
  private readonly finalBlocks = new Map<number, { slot: number; proposedAtMs: number; txs: number }>();
  /** notarizedAt[h]: when some validator first held a notarized chain at least h high. */
  private readonly notarizedAt: number[] = [];
  private readonly toProposal: number[] = [];
  private readonly toNotarized: number[] = [];
  private readonly toFinal: number[] = [];
  private readonly missed = { transfers: 0, blocks: 0, full: 0, roomLeft: 0, slotsWithoutFinalBlock: 0 };

  /** `slotAt`: the chain's slot at a moment (SlotClock.slotAt). */
  constructor(
    private readonly maxBlockTxs: number,
    private readonly slotAt: (ms: number) => number,
  ) {}

  /**
   * A validator's notarized head is at `height` now. The head is the tip of its notarized chain, so
   * every height up to it holds a notarized block there (a competing block at the same height would
   * be counted in the final one's place: rare, and only its timing would be off).
   */
  noteNotarizedHead(height: number, nowMs: number): void {
    for (let h = this.notarizedAt.length; h <= height; h++) this.notarizedAt[h] = nowMs;
  }

  /** A block of the final chain: its slot, its header time (unix seconds) and how many transactions it took. */
  noteFinalBlock(height: number, slot: number, timestampSeconds: number, txs: number): void {
    if (!this.finalBlocks.has(height)) this.finalBlocks.set(height, { slot, proposedAtMs: timestampSeconds * 1000, txs });
  }

  /** A transfer submitted at `submittedMs` is final everywhere now, in the final block at `height`. */
  noteFinal(submittedMs: number, height: number, nowMs: number): void {
    const block = this.finalBlocks.get(height);
    const notarizedMs = this.notarizedAt[height];
    if (block === undefined || notarizedMs === undefined) return;
    // The header's time is in whole seconds: a proposal in the second of submission reads as before it.
    this.toProposal.push(Math.max(0, block.proposedAtMs - submittedMs) / 1000);
    this.toNotarized.push(Math.max(0, notarizedMs - block.proposedAtMs) / 1000);
    this.toFinal.push(Math.max(0, nowMs - notarizedMs) / 1000);
    let missed = 0;
    for (let h = height - 1; h >= 1; h--) {
      const earlier = this.finalBlocks.get(h);
      if (earlier === undefined || earlier.proposedAtMs < submittedMs) break;
      missed++;
      if (earlier.txs >= this.maxBlockTxs) this.missed.full++;
      else this.missed.roomLeft++;
    }
    if (missed > 0) this.missed.transfers++;
    this.missed.blocks += missed;
    this.missed.slotsWithoutFinalBlock += Math.max(0, block.slot - (this.slotAt(submittedMs) + 1) - missed);
  }

  summary(): FinalityPhases {
    return {
      transfers: this.toFinal.length, toProposal: percentiles(this.toProposal), proposalToNotarized: percentiles(this.toNotarized), notarizedToFinal: percentiles(this.toFinal),
      missedBlocks: { ...this.missed },
    };
  }
}
