import type { Clock } from "../core/clock.js";

/**
 * The start/stop lifecycle of a service driven by one timer that it sets again each time it fires
 * (the block producer, range sync, the transaction announcer): at most one timer pending, none after
 * stop. `delay` says when the next turn is due; `turn` does the work. A turn that throws is handed to
 * `failed` and the loop goes on: a timer callback that throws would end the whole process.
 */
export class TimerLoop {
  private handle: unknown = null;
  private active = false;

  constructor(
    private readonly clock: Clock,
    private readonly delay: () => number,
    private readonly turn: () => void,
    private readonly failed: (e: unknown) => void,
  ) {}

  get running(): boolean {
    return this.active;
  }

  start(): void {
    this.active = true;
    this.reschedule();
  }

  stop(): void {
    this.active = false;
    this.cancel();
  }

  /** Ask `delay` again now (the work due may have moved earlier). */
  reschedule(): void {
    this.cancel();
    if (!this.active) return;
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      try {
        this.turn();
      } catch (e) {
        this.failed(e);
      }
      this.reschedule();
    }, Math.max(0, this.delay()));
  }

  private cancel(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
