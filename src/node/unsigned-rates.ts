import { MessageType } from "../mesh/frame.js";
import { MESSAGE_SPECS, messageSpec, type UnsignedRate } from "../mesh/messages/registry.js";
import { TokenBucket } from "../mesh/token-bucket.js";

/**
 * Messages that carry no signature yet make us work or answer (a status makes the engine ask for a
 * block; a request makes us send one): handled at most `perSender` a second from one node number with
 * a burst of twice that, and `total` a second from everyone, so that forged ones cost a bounded amount.
 * The rates are the registry's (mesh/messages/registry.ts, `unsignedRate`).
 */
/** Range requests a follower may send one peer a second: the sync request's rate, paced under by node/sync.ts. */
export const SYNC_REQUESTS_PER_SECOND = (messageSpec(MessageType.SyncRequest).unsignedRate as UnsignedRate).perSender;

export const UNSIGNED_RATES: ReadonlyMap<MessageType, UnsignedRate> = new Map(
  MESSAGE_SPECS.flatMap((m) => (m.unsignedRate === undefined ? [] : [[m.type, m.unsignedRate] as const])),
);

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
