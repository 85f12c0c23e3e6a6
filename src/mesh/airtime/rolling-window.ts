/** Sum of amounts recorded within the last `windowMs`, as of a given time. */
export class RollingWindow {
  private readonly entries: { at: number; amount: number }[] = [];
  private total = 0;

  constructor(private readonly windowMs: number) {}

  add(at: number, amount: number): void {
    this.entries.push({ at, amount });
    this.total += amount;
  }

  sum(now: number): number {
    while (this.entries.length > 0 && (this.entries[0] as { at: number }).at <= now - this.windowMs) {
      this.total -= (this.entries.shift() as { amount: number }).amount;
    }
    return this.total;
  }

  /** Earliest time at which the sum will have fallen to `limit − amount` or below (now if already). */
  timeWhenFits(now: number, amount: number, limit: number): number {
    let sum = this.sum(now);
    if (sum + amount <= limit) return now;
    for (const e of this.entries) {
      sum -= e.amount;
      if (sum + amount <= limit) return e.at + this.windowMs;
    }
    return Number.POSITIVE_INFINITY;
  }
}
