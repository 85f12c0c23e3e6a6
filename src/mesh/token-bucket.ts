/** A rate limit: `rate` tokens per `perMs`, holding at most `rate` (a burst of the whole rate, then the rate). */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly rate: number, private readonly perMs: number, now: number) {
    this.tokens = rate;
    this.at = now;
  }

  take(now: number, n = 1): boolean {
    this.tokens = Math.min(this.rate, this.tokens + (Math.max(0, now - this.at) * this.rate) / this.perMs);
    this.at = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}
