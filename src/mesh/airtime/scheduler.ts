import type { Clock } from "../../core/clock.js";
import { TransportError } from "../errors.js";
import { Priority, type ReceivedFrame, type SendOptions, type Transport, type TransportStats } from "../transport.js";
import { RollingWindow } from "./rolling-window.js";

const HOUR_MS = 3_600_000;

export interface AirtimePolicy {
  /** Airtime this node allows itself: the token bucket's refill, in seconds per hour. */
  readonly budgetSecondsPerHour: number;
  /** Largest burst the bucket holds, in seconds of airtime. */
  readonly burstSeconds: number;
  /** The region's duty cycle as a fraction of a rolling hour (EU_868: 0.1). */
  readonly dutyCycle: number;
  /** Share of the budget control traffic may use per rolling hour (default 0.02). */
  readonly controlShare: number;
  /** Frames held per class before callers are refused (back-pressure). */
  readonly queueLimitPerClass: number;
  /** A frame that waited this long is dropped as stale. */
  readonly maxQueueDelayMs: number;
}

export const DEFAULT_AIRTIME_POLICY: AirtimePolicy = {
  budgetSecondsPerHour: 180,
  burstSeconds: 30,
  dutyCycle: 0.1,
  controlShare: 0.02,
  queueLimitPerClass: 64,
  maxQueueDelayMs: 15 * 60_000,
};

export interface SchedulerStats {
  /** Airtime spent per class, milliseconds. */
  readonly airtimeMsByClass: Record<keyof typeof Priority, number>;
  queueDepth: number;
  droppedForBudget: number;
  refusedQueueFull: number;
}

interface Pending {
  readonly frame: Uint8Array;
  readonly costMs: number;
  readonly enqueuedAt: number;
  readonly options: SendOptions | undefined;
}

const CLASS_NAMES = ["Consensus", "Transaction", "Sync", "Control"] as const;

/**
 * Every outgoing frame on an airtime-limited transport passes here. A frame leaves only when the
 * node's token bucket, the region's duty cycle over the last hour and (for control traffic) the
 * control share all allow its airtime, one frame at a time (the radio is half-duplex), and always
 * the most urgent class first.
 */
export class AirtimeScheduler implements Transport {
  private readonly queues: Pending[][] = [[], [], [], []];
  private tokensMs: number;
  private lastRefill: number;
  private readonly duty = new RollingWindow(HOUR_MS);
  private readonly control = new RollingWindow(HOUR_MS);
  private busyUntil = 0;
  private timer: unknown = null;
  private pumping = false;
  private stopWaitingForInner: (() => void) | null = null;
  readonly airtimeStats: SchedulerStats = {
    airtimeMsByClass: { Consensus: 0, Transaction: 0, Sync: 0, Control: 0 },
    queueDepth: 0,
    droppedForBudget: 0,
    refusedQueueFull: 0,
  };

  constructor(
    private readonly inner: Transport,
    private readonly costMs: (frame: Uint8Array) => number,
    private readonly policy: AirtimePolicy,
    private readonly clock: Clock,
  ) {
    this.tokensMs = policy.burstSeconds * 1000;
    this.lastRefill = clock.now();
  }

  /** Airtime this node spent in the rolling hour up to now, ms. */
  get lastHourAirtimeMs(): number {
    return this.duty.sum(this.clock.now());
  }

  get kind(): string {
    return this.inner.kind;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get localNode(): number {
    return this.inner.localNode;
  }
  get stats(): TransportStats {
    return this.inner.stats;
  }
  start(): Promise<void> {
    return this.inner.start();
  }
  onFrame(listener: (f: ReceivedFrame) => void): () => void {
    return this.inner.onFrame(listener);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.stopWaitingForInner?.();
    this.stopWaitingForInner = null;
    for (const q of this.queues) q.length = 0;
    this.airtimeStats.queueDepth = 0;
    await this.inner.stop();
  }

  /** Accepts the frame into its class's queue; refuses (QUEUE_FULL) when that queue is full. */
  async send(frame: Uint8Array, priority: Priority, options?: SendOptions): Promise<void> {
    if (frame.length === 0 || frame.length > this.inner.mtu) throw new TransportError("FRAME_TOO_LARGE", `frame of ${frame.length} bytes does not fit the MTU of ${this.inner.mtu}`);
    const queue = this.queues[priority] as Pending[];
    if (queue.length >= this.policy.queueLimitPerClass) {
      this.airtimeStats.refusedQueueFull++;
      throw new TransportError("QUEUE_FULL", `the ${CLASS_NAMES[priority]} queue holds ${queue.length} frames waiting for airtime`);
    }
    const costMs = this.costMs(frame);
    if (costMs > this.policy.burstSeconds * 1000) throw new TransportError("FRAME_TOO_LARGE", `a frame of ${costMs} ms airtime exceeds the burst allowance`);
    queue.push({ frame, costMs, enqueuedAt: this.clock.now(), options });
    this.airtimeStats.queueDepth++;
    this.pump();
  }

  private refill(now: number): void {
    const rate = (this.policy.budgetSecondsPerHour * 1000) / HOUR_MS;
    this.tokensMs = Math.min(this.policy.burstSeconds * 1000, this.tokensMs + (now - this.lastRefill) * rate);
    this.lastRefill = now;
  }

  /** When the frame may go: the latest of the radio being free, the bucket, the duty cycle and the control cap. */
  private readyAt(p: Pending, priority: Priority, now: number): number {
    const rate = (this.policy.budgetSecondsPerHour * 1000) / HOUR_MS;
    const bucketAt = this.tokensMs >= p.costMs ? now : rate > 0 ? now + (p.costMs - this.tokensMs) / rate : Number.POSITIVE_INFINITY;
    const dutyAt = this.duty.timeWhenFits(now, p.costMs, this.policy.dutyCycle * HOUR_MS);
    const controlAt = priority === Priority.Control ? this.control.timeWhenFits(now, p.costMs, this.policy.controlShare * this.policy.budgetSecondsPerHour * 1000) : now;
    return Math.max(this.busyUntil, bucketAt, dutyAt, controlAt, now);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const now = this.clock.now();
        this.refill(now);
        this.dropStale(now);
        // Strict priority: the most urgent waiting class goes first, even if that means waiting.
        let next: { priority: Priority; at: number } | null = null;
        for (let priority = Priority.Consensus; priority <= Priority.Control && next === null; priority++) {
          const head = (this.queues[priority] as Pending[])[0];
          if (head !== undefined) next = { priority, at: this.readyAt(head, priority, now) };
        }
        if (next === null) return;
        if (next.at > now) {
          this.schedule(next.at - now);
          return;
        }
        // The link below is holding frames (radio queue full, duty-cycle refusal): ours wait here, by class.
        if (this.inner.holding === true) {
          this.stopWaitingForInner ??= this.inner.onReady?.(() => {
            this.stopWaitingForInner?.();
            this.stopWaitingForInner = null;
            this.pump();
          }) ?? null;
          return;
        }
        this.transmit(next.priority, now);
      }
    } finally {
      this.pumping = false;
    }
  }

  private transmit(priority: Priority, now: number): void {
    const p = (this.queues[priority] as Pending[]).shift() as Pending;
    this.airtimeStats.queueDepth--;
    this.tokensMs -= p.costMs;
    this.duty.add(now, p.costMs);
    if (priority === Priority.Control) this.control.add(now, p.costMs);
    this.busyUntil = now + p.costMs;
    this.airtimeStats.airtimeMsByClass[CLASS_NAMES[priority]] += p.costMs;
    this.inner.send(p.frame, priority, p.options).catch(() => undefined);
  }

  private dropStale(now: number): void {
    for (const q of this.queues) {
      while (q.length > 0 && now - (q[0] as Pending).enqueuedAt > this.policy.maxQueueDelayMs) {
        q.shift();
        this.airtimeStats.queueDepth--;
        this.airtimeStats.droppedForBudget++;
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(1, Math.ceil(delayMs)));
  }
}
