/**
 * Time as services see it. Nothing in the state transition reads a clock; services that do take
 * one through their constructor, and tests inject a manual clock so nothing depends on wall time.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Timer {
  readonly at: number;
  readonly id: number;
  readonly fn: () => void;
}

const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * A clock that moves only when told to: timers fire in time order (ties in the order they were
 * set) as it advances. A binary heap keeps each timer O(log n), so simulations can run thousands
 * of virtual hours.
 */
export class ManualClock implements Clock {
  private readonly heap: Timer[] = [];
  private readonly live = new Set<number>();
  private nextId = 1;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  get pendingTimers(): number {
    return this.live.size;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.live.add(id);
    this.push({ at: this.current + Math.max(0, ms), id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.live.delete(handle);
  }

  /** Run every timer due up to now + ms, then stand at now + ms. */
  advance(ms: number): void {
    this.runUntil(this.current + ms);
  }

  /**
   * Run the earliest live timer due by `end` (and only it), standing at its time; false when none is
   * due. A driver that awaits between calls lets each timer's promise continuations run at the
   * virtual moment they belong to, as they would under the system clock.
   */
  runNext(end: number): boolean {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.at > end) return false;
      this.pop();
      if (!this.live.delete(next.id)) continue;
      this.current = next.at;
      next.fn();
      return true;
    }
  }

  runUntil(end: number): void {
    while (this.runNext(end));
    this.current = Math.max(this.current, end);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[parent] as Timer)) break;
      [h[i], h[parent]] = [h[parent] as Timer, h[i] as Timer];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Timer;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
      if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
      i = m;
    }
  }
}
