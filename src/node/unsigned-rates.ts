import { MessageType } from "../mesh/frame.js";
import { TokenBucket } from "../mesh/token-bucket.js";

/**
 * Messages that carry no signature yet make us work or answer (a status makes the engine ask for a
 * block; a request makes us send one): handled at most `perSender` a second from one node number with
 * a burst of twice that, and `total` a second from everyone, so that forged ones cost a bounded amount.
 */
/**
 * Range requests (IP only): each answer is one frame of up to 64 finalized blocks read from SQLite
 * (about a millisecond), and range sync asks for the next as soon as one is imported. At 4 a second
 * sync could not pass about 120 blocks/s; at this rate one peer can feed 2,000 blocks/s and more,
 * and forged requests cost at most about 1.6 MB/s of answers in all. Followers pace themselves to it.
 */
export const SYNC_REQUESTS_PER_SECOND = 100;

export const UNSIGNED_RATES: ReadonlyMap<MessageType, { readonly perSender: number; readonly total: number }> = new Map([
  [MessageType.ChainStatus, { perSender: 1, total: 8 }],
  [MessageType.GetBlock, { perSender: 4, total: 16 }], [MessageType.GetBlockRange, { perSender: 2, total: 8 }],
  [MessageType.GetTransactions, { perSender: 4, total: 16 }], [MessageType.GetSenderTransactions, { perSender: 2, total: 8 }],
  [MessageType.SyncRequest, { perSender: SYNC_REQUESTS_PER_SECOND, total: 2 * SYNC_REQUESTS_PER_SECOND }], [MessageType.SnapshotRequest, { perSender: 8, total: 32 }],
]);

/** The rates above, kept per type in total and per type and node number (known peers only, so bounded). */
export class UnsignedRates {
  private readonly buckets = new Map<string, TokenBucket>();

  /** Whether a message of `type` from `from` may be handled now; `peers`: how many peers are known. */
  allow(type: MessageType, from: number, now: number, peers: number): boolean {
    const rate = UNSIGNED_RATES.get(type);
    if (rate === undefined) return true;
    return this.bucket(`${type}:${from}`, rate.perSender, now, peers).take(now) && this.bucket(`${type}`, rate.total, now, peers).take(now);
  }

  private bucket(key: string, perSecond: number, now: number, peers: number): TokenBucket {
    let b = this.buckets.get(key);
    if (b === undefined) {
      // A burst of two seconds' worth, then the rate.
      b = new TokenBucket(perSecond * 2, 2_000, now);
      this.buckets.set(key, b);
      // One bucket per known peer and type at most: start afresh when peers came and went.
      if (this.buckets.size > UNSIGNED_RATES.size * (peers + 2)) this.buckets.clear();
    }
    return b;
  }
}
