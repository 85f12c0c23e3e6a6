import { toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import type { Logger } from "./logger.js";
import { TimerLoop } from "./timer-loop.js";

/** Where accepted transactions wait, on disk, until the chain includes them. */
export interface AcceptedTxStore {
  saveLocal(hash: Uint8Array, bytes: Uint8Array, acceptedAtMs: number): void;
  removeLocal(hash: Uint8Array): void;
  loadLocal(): { bytes: Uint8Array; acceptedAtMs: number }[];
}

export interface TxAnnouncerOptions {
  /** First announcement again this long after acceptance; each later one waits twice as long. */
  readonly baseMs: number;
  /** The longest wait between two announcements. */
  readonly maxMs: number;
}

/** What became of a transaction handed back to the pool. */
export type Readmission = "held" | "cannot-apply";

/** Where the chain has a transaction: final, in a block not final yet (it may still be undone), or nowhere. */
export type ChainPlace = "final" | "in-chain" | "absent";

interface Tracked {
  readonly tx: DecodedTx;
  readonly hash: Uint8Array;
  attempts: number;
  dueAt: number;
}

/**
 * At-least-once delivery for the transactions this node acknowledged to its users. Gossip is best
 * effort (a broker restart, a validator offline, a frame lost on air), so each accepted transaction is
 * kept on disk and announced again, with exponential backoff and jitter, until the chain includes it
 * or it can never apply; a link that (re)connects, or a peer that joins, hears all of them at once.
 * Senders' transactions go out in nonce order, so one lost transaction cannot hold back the rest.
 */
export class TxAnnouncer {
  private readonly tracked = new Map<string, Tracked>();
  private readonly loop: TimerLoop;
  private lastBurstAt = -Infinity;
  private announcedAgain = 0;

  constructor(
    private readonly opts: TxAnnouncerOptions,
    private readonly deps: {
      clock: Clock; logger: Logger; random: () => number; store: AcceptedTxStore;
      /** Put the transaction on every link (the scheduler keeps radio sends within the airtime budget). */
      send: (tx: DecodedTx) => void;
      /** Where the chain has the transaction. */
      place: (hash: Uint8Array) => ChainPlace;
      /** Hand the transaction to the pool again (it may have been evicted, or lost in a restart). */
      readmit: (tx: DecodedTx) => Readmission;
      /** True while announcing again would only load a channel that is the bottleneck (finality stalls on the air). */
      holdBack?: () => boolean;
    },
  ) {
    this.loop = new TimerLoop(deps.clock, () => this.untilDue(), () => this.onDue(), (e) => deps.logger.error({ err: e }, "announcing acknowledged transactions failed; trying again"));
    for (const { bytes } of deps.store.loadLocal()) {
      try {
        // After a restart the first announcement is due at once: nobody may have heard it.
        this.remember(decodeTxWithBytes(bytes), this.deps.clock.now());
      } catch {
        // Written by this node after it decoded the same bytes: only a damaged file gets here.
        deps.store.removeLocal(txHash(bytes));
      }
    }
  }

  /** Transactions acknowledged and not yet included. */
  get pending(): number {
    return this.tracked.size;
  }

  /** Announcements made again since start (backoff, reconnects, joining peers). */
  get reannounced(): number {
    return this.announcedAgain;
  }

  /** Keep an acknowledged transaction (on disk before the user hears of it). Throws StorageError if it cannot. */
  track(tx: DecodedTx): void {
    const hash = txHash(tx.bytes);
    if (this.tracked.has(toHex(hash))) return;
    this.deps.store.saveLocal(hash, tx.bytes, this.deps.clock.now());
    this.adopt(tx);
  }

  /** Keep an acknowledged transaction whose copy the pool already wrote in the same write as its own. */
  adopt(tx: DecodedTx): void {
    if (this.tracked.has(toHex(txHash(tx.bytes)))) return;
    this.remember(tx, this.deps.clock.now() + this.delay(0));
    this.loop.reschedule();
  }

  private remember(tx: DecodedTx, dueAt: number): void {
    const hash = txHash(tx.bytes);
    this.tracked.set(toHex(hash), { tx, hash, attempts: 0, dueAt });
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** A link came back or a peer joined: whatever was said while it was away may not have been heard. */
  announceAll(): void {
    const now = this.deps.clock.now();
    // A flapping link or a burst of joining peers must not repeat the whole set more than once a base interval.
    if (now - this.lastBurstAt < this.opts.baseMs) return;
    // Held back (finality stalls on the air): the burst would be the copies that keep the stall going;
    // each waiting one still comes due on its own backoff once the hold ends.
    if (this.deps.holdBack?.() === true) return;
    this.lastBurstAt = now;
    this.forgetSettled();
    for (const t of this.inNonceOrder([...this.tracked.values()])) this.announce(t, now, false);
  }

  /** The chain moved: forget what it made final. */
  onNewHead(): void {
    this.forgetSettled();
  }

  private forgetSettled(): void {
    for (const [id, t] of this.tracked) if (this.deps.place(t.hash) === "final") this.forget(id, t);
  }

  private forget(id: string, t: Tracked): void {
    this.tracked.delete(id);
    try {
      this.deps.store.removeLocal(t.hash);
    } catch (e) {
      // Kept on disk, it is forgotten again after the next start (the chain holds it).
      this.deps.logger.warn({ hash: id.slice(0, 16), reason: (e as Error).message }, "could not forget an included transaction");
    }
  }

  /** Until the earliest announcement due. */
  private untilDue(): number {
    const now = this.deps.clock.now();
    let next = now + this.opts.maxMs;
    for (const t of this.tracked.values()) next = Math.min(next, t.dueAt);
    return next - now;
  }

  private onDue(): void {
    const now = this.deps.clock.now();
    this.forgetSettled();
    const due = [...this.tracked.values()].filter((t) => t.dueAt <= now);
    const holdBack = due.length > 0 && this.deps.holdBack?.() === true;
    for (const t of this.inNonceOrder(due)) {
      // In a block that is not final yet: wait (a reorganisation may still undo it), announce nothing.
      // Held back: wait the same way, so that the waiting ones come due spread out, not all at once.
      if (holdBack || this.deps.place(t.hash) === "in-chain") {
        t.dueAt = now + this.delay(t.attempts);
        continue;
      }
      if (this.deps.readmit(t.tx) === "cannot-apply") {
        this.deps.logger.warn({ hash: toHex(t.hash).slice(0, 16), nonce: t.tx.tx.nonce }, "acknowledged transaction can no longer apply (its nonce was used, it expired, or its sender cannot pay); no longer announced");
        this.forget(toHex(t.hash), t);
        continue;
      }
      this.announce(t, now, true);
    }
  }

  private announce(t: Tracked, now: number, backoff: boolean): void {
    this.deps.send(t.tx);
    this.announcedAgain++;
    if (backoff) t.attempts++;
    t.dueAt = now + this.delay(t.attempts);
  }

  /** base·2^attempts, capped, with ±25% jitter so that nodes restarted together do not announce together. */
  private delay(attempts: number): number {
    const plain = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(attempts, 30));
    return Math.round(plain * (0.75 + 0.5 * this.deps.random()));
  }

  private inNonceOrder(list: Tracked[]): Tracked[] {
    return list.sort((a, b) => {
      const sa = toHex(a.tx.tx.sender);
      const sb = toHex(b.tx.tx.sender);
      return sa === sb ? a.tx.tx.nonce - b.tx.tx.nonce : sa < sb ? -1 : 1;
    });
  }
}
