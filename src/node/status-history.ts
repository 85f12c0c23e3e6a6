/** One sample of what the status page plots over the last hour. */
export interface HistorySample {
  /** Local clock, ms since the epoch. */
  readonly at: number;
  readonly height: number;
  readonly finalizedHeight: number;
  readonly peers: number;
  readonly mempool: number;
  /** Own airtime spent so far by class, seconds (running totals: the page plots their differences). */
  readonly airtimeSecondsByClass: Readonly<Record<string, number>> | null;
}

/** A bounded ring of samples: the last `windowMs` at most, and never more than `maxSamples`. */
export class StatusHistory {
  private readonly samples: HistorySample[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly maxSamples: number,
  ) {}

  add(sample: HistorySample): void {
    this.samples.push(sample);
    while (this.samples.length > this.maxSamples || ((this.samples[0] as HistorySample).at < sample.at - this.windowMs && this.samples.length > 1)) this.samples.shift();
  }

  list(): readonly HistorySample[] {
    return [...this.samples];
  }
}
