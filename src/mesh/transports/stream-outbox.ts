import { TransportError } from "../errors.js";
import type { Priority } from "../transport.js";

export interface Outgoing {
  readonly frame: Uint8Array;
  readonly priority: Priority;
  /** This frame's own hop limit; undefined: the radio's configured one. */
  readonly hopLimit?: number;
}

/** Packets handed to the radio remembered this long (by count), to send again if it refuses them late. */
const RECENT_SENT_LIMIT = 256;

/**
 * The stream transport's frames on their way to the radio: waiting (by class, most urgent first),
 * handed over but not yet reported on by a QueueStatus, and recently handed (a Routing refusal can
 * come after the QueueStatus that accepted the packet). A refused frame goes back to the head of its
 * class, once, whichever report comes first.
 */
export class RadioOutbox {
  private readonly waiting: Outgoing[][] = [[], [], [], []];
  private readonly unconfirmed = new Map<number, Outgoing>();
  private readonly recent = new Map<number, { readonly out: Outgoing; requeued: boolean }>();

  constructor(private readonly limit: number) {}

  get waitingCount(): number {
    return this.waiting.reduce((n, q) => n + q.length, 0);
  }

  /** Handed to the radio, no QueueStatus for them yet: they take room the last report did not count. */
  get unconfirmedCount(): number {
    return this.unconfirmed.size;
  }

  add(frame: Uint8Array, priority: Priority, hopLimit?: number): void {
    if (this.waitingCount >= this.limit) throw new TransportError("QUEUE_FULL", `${this.waitingCount} frames are waiting for the radio`);
    (this.waiting[priority] as Outgoing[]).push({ frame: Uint8Array.from(frame), priority, ...(hopLimit === undefined ? {} : { hopLimit }) });
  }

  /** The most urgent waiting frame, taken out. */
  take(): Outgoing | undefined {
    return this.waiting.find((q) => q.length > 0)?.shift();
  }

  handed(id: number, o: Outgoing): void {
    this.unconfirmed.set(id, o);
    this.recent.set(id, { out: o, requeued: false });
    if (this.recent.size > RECENT_SENT_LIMIT) this.recent.delete(this.recent.keys().next().value as number);
  }

  /** A QueueStatus for our packet: refused ones go back to wait. True when it was ours and refused. */
  reported(id: number, accepted: boolean): boolean {
    const o = this.unconfirmed.get(id);
    if (o === undefined) return false;
    this.unconfirmed.delete(id);
    if (accepted) return false;
    this.putBack(o);
    const r = this.recent.get(id);
    if (r !== undefined) r.requeued = true;
    return true;
  }

  /**
   * A Routing refusal for our packet. `retry`: it goes back to wait (unless its QueueStatus already
   * put it back); otherwise it is dropped for good. Returns whether it was ours and whether this call
   * changed what counts as sent (it was not back already); null when the id is not ours.
   */
  refused(id: number, retry: boolean): { readonly wasCountedSent: boolean } | null {
    const r = this.recent.get(id);
    if (r === undefined) return null;
    this.recent.delete(id);
    this.unconfirmed.delete(id);
    if (retry) {
      if (!r.requeued) this.putBack(r.out);
      return { wasCountedSent: !r.requeued };
    }
    if (r.requeued) this.remove(r.out);
    return { wasCountedSent: !r.requeued };
  }

  /** The link went down: what the radio never reported on goes back to wait. Returns how many. */
  requeueUnconfirmed(): number {
    const back = [...this.unconfirmed.values()].reverse();
    for (const o of back) this.putBack(o);
    this.unconfirmed.clear();
    return back.length;
  }

  clear(): void {
    for (const q of this.waiting) q.length = 0;
    this.unconfirmed.clear();
    this.recent.clear();
  }

  private putBack(o: Outgoing): void {
    (this.waiting[o.priority] as Outgoing[]).unshift(o);
  }

  private remove(o: Outgoing): void {
    for (const q of this.waiting) {
      const at = q.indexOf(o);
      if (at >= 0) q.splice(at, 1);
    }
  }
}
