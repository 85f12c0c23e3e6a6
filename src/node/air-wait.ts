/**
 * Our users' new transactions whose frame has not gone on air yet. Consensus frames leave the radio
 * first, so a block of ours carrying such a transaction reaches every node before the transaction
 * does, and each of them asks us for it (GetTransactions, then our BlockTransactions answer): airtime
 * spent to carry a frame that was about to go anyway. The proposer leaves these for a later block.
 * A frame may never go (the scheduler drops one that waited too long, a send fails unseen), so a
 * transaction waits here `maxMs` at most and is proposable again after that: none is starved.
 */
export class AirWait {
  /** Transaction hash (hex) → until when it is held out of our blocks. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly maxMs: number,
    /** Local submissions are bounded by the pool already; this bounds the map on its own too. */
    private readonly limit = 4_096,
  ) {}

  /** The transaction's frame was handed to the radio now: hold it out of our blocks until it airs. */
  wait(hash: string, now: number): void {
    if (this.until.size >= this.limit && !this.until.has(hash)) {
      const oldest = this.until.keys().next();
      if (oldest.done !== true) this.until.delete(oldest.value);
    }
    this.until.set(hash, now + this.maxMs);
  }

  /** Its frame went on air (or will not go at all): our blocks may carry it. */
  aired(hash: string): void {
    this.until.delete(hash);
  }

  /** Whether the transaction is still held out of our blocks. */
  waiting(hash: string, now: number): boolean {
    const until = this.until.get(hash);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(hash);
    return false;
  }

  get size(): number {
    return this.until.size;
  }
}
