import type { ManualClock } from "../core/clock.js";

/** Lets every promise continuation queued so far run (microtasks drain before the next macrotask). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Drives a `ManualClock` for nodes written for real time: one timer at a time, and after each the
 * promise continuations it started run before the clock moves on, at the virtual moment they
 * belong to (a message's second fragment is queued when its first is, not at the end of the step).
 */
export class VirtualTime {
  /** `afterEach`: told after each timer and its continuations, to watch state at the moment it changes. */
  constructor(
    private readonly clock: ManualClock,
    private readonly afterEach: () => void = () => undefined,
  ) {}

  async runUntil(end: number): Promise<void> {
    await settle();
    while (this.clock.runNext(end)) {
      await settle();
      this.afterEach();
    }
    this.clock.runUntil(end);
  }
}
