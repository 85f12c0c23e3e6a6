import { toHex } from "../core/bytes.js";
import { MAX_REQUESTED_NONCES } from "../mesh/messages/relay.js";

/** Nonces of one sender a pool lacks (or asks for). */
export interface SenderGap {
  readonly sender: Uint8Array;
  readonly nonces: readonly number[];
}

export interface GapTiming {
  readonly now: number;
  /** A gap must have lasted this long before it is asked for: the missing frame may still be on its way. */
  readonly minAgeMs: number;
  /**
   * One gap is asked for at most this often, whoever asked (a heard request counts); the interval
   * doubles with each request for it, up to eight times, so a gap nobody can fill stops costing airtime.
   */
  readonly askEveryMs: number;
}

/** A gap's ask interval doubles with each request, up to 2^3 times the base. */
const MAX_BACKOFF_DOUBLINGS = 3;

/**
 * Gaps in senders' nonces that a pool waits on, and when to ask for them. A transaction lost at
 * every validator holds up its sender's later ones (nonces are consecutive), and the nodes that
 * hold those later ones know exactly what is missing; the node that has it (the one its user
 * submitted to, at least) answers. One request serves every node that heard it.
 */
export class NonceGaps {
  private readonly since = new Map<string, number>();
  private readonly askedAt = new Map<string, number>();
  /** How many requests for each gap were sent or heard. */
  private readonly asks = new Map<string, number>();

  constructor(private readonly maxTracked: number) {}

  /** The pool's gaps now: new ones start their clock, filled ones are forgotten. */
  update(gaps: readonly SenderGap[], now: number): void {
    const current = new Set<string>();
    for (const g of gaps) for (const n of g.nonces) current.add(key(g.sender, n));
    for (const k of [...this.since.keys()]) if (!current.has(k)) this.since.delete(k);
    for (const k of [...this.asks.keys()]) if (!current.has(k)) this.asks.delete(k);
    for (const k of current) if (!this.since.has(k) && this.since.size < this.maxTracked) this.since.set(k, now);
  }

  /** Someone asked for these: ours can wait. */
  heard(sender: Uint8Array, nonces: readonly number[], now: number): void {
    for (const n of nonces) this.remember(key(sender, n), now);
  }

  /** The requests to send now, at most one per sender; counts them as asked. */
  due(gaps: readonly SenderGap[], t: GapTiming): SenderGap[] {
    const out: SenderGap[] = [];
    for (const g of gaps) {
      const nonces = g.nonces.filter((n) => {
        const k = key(g.sender, n);
        const since = this.since.get(k);
        const every = t.askEveryMs * 2 ** Math.min(MAX_BACKOFF_DOUBLINGS, Math.max(0, (this.asks.get(k) ?? 0) - 1));
        return since !== undefined && t.now - since >= t.minAgeMs && (this.askedAt.get(k) ?? Number.NEGATIVE_INFINITY) + every <= t.now;
      }).slice(0, MAX_REQUESTED_NONCES);
      if (nonces.length === 0) continue;
      this.heard(g.sender, nonces, t.now);
      out.push({ sender: g.sender, nonces });
    }
    return out;
  }

  private remember(k: string, at: number): void {
    if (this.since.has(k)) this.asks.set(k, (this.asks.get(k) ?? 0) + 1);
    this.askedAt.delete(k);
    this.askedAt.set(k, at);
    if (this.askedAt.size > this.maxTracked) this.askedAt.delete(this.askedAt.keys().next().value as string);
  }
}

const key = (sender: Uint8Array, nonce: number) => `${toHex(sender)}:${nonce}`;
