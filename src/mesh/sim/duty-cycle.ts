const MINUTE_MS = 60_000;
const MINUTES_IN_HOUR = 60;
export const HOUR_MS = MINUTES_IN_HOUR * MINUTE_MS;

/**
 * Why a radio did not take a packet, named as Meshtastic's Routing.Error names it. The sender is
 * told (a Routing NAK on the phone API); nothing about it goes on air.
 */
export interface RadioRefusal {
  readonly code: "DUTY_CYCLE_LIMIT" | "QUEUE_FULL";
  /** For DUTY_CYCLE_LIMIT: whole minutes until the hour's airtime is back within the limit (the firmware's notification says so). */
  readonly silentMinutes: number;
}

/**
 * A radio's own transmit airtime over the last hour, kept as the firmware's AirTime keeps it for the
 * duty-cycle check: sixty one-minute buckets counted from the radio's boot, a transmission logged
 * when it ends into the minute it ends in, and a bucket emptied when its minute comes round again.
 * The "hour" is therefore the current, partial minute and the 59 whole ones before it, not an exact
 * sliding hour: airtime leaves it a whole minute at a time.
 */
export class HourlyTxMeter {
  private readonly buckets = new Array<number>(MINUTES_IN_HOUR).fill(0);
  private minuteNow = 0;

  constructor(private readonly bootAt: number) {}

  private minuteOf(at: number): number {
    return Math.floor((at - this.bootAt) / MINUTE_MS);
  }

  /** Empties the buckets of the minutes that began since we last looked. */
  private sync(now: number): void {
    const m = this.minuteOf(now);
    if (m <= this.minuteNow) return;
    if (m - this.minuteNow >= MINUTES_IN_HOUR) this.buckets.fill(0);
    else for (let i = this.minuteNow + 1; i <= m; i++) this.buckets[i % MINUTES_IN_HOUR] = 0;
    this.minuteNow = m;
  }

  /** A transmission of `ms` that ended at `endedAt`. */
  log(endedAt: number, ms: number): void {
    this.sync(endedAt);
    const m = this.minuteOf(endedAt) % MINUTES_IN_HOUR;
    this.buckets[m] = (this.buckets[m] as number) + ms;
  }

  lastHourMs(now: number): number {
    this.sync(now);
    return this.buckets.reduce((a, b) => a + b, 0);
  }

  /**
   * Whole minutes, oldest first, that must leave the hour before its airtime is within `limitMs`
   * (0 when it already is). The firmware's own count walks its ring by index rather than by age (its
   * source says so); ours counts by age, since only the notification's text depends on it.
   */
  silentMinutes(now: number, limitMs: number): number {
    let sum = this.lastHourMs(now);
    if (sum <= limitMs) return 0;
    for (let k = 1; k <= MINUTES_IN_HOUR; k++) {
      sum -= this.buckets[(this.minuteNow - MINUTES_IN_HOUR + k + MINUTES_IN_HOUR * 2) % MINUTES_IN_HOUR] as number;
      if (sum <= limitMs) return k;
    }
    return MINUTES_IN_HOUR;
  }
}

/**
 * Router::send's duty-cycle rule, the one place it is written: every packet on its way to the radio's
 * transmit queue (one the radio originates or takes from its client, and every relay) is refused
 * while the radio's own airtime in the hour is already over the limit. Over, not at or about to be:
 * the packet's own airtime and what is already queued are not counted, so a radio can end an hour a
 * little past its limit; once queued, a packet is sent whatever the hour holds by then. A limit of
 * 1 (100%) is no limit; the firmware skips the check then, and when `override_duty_cycle` is set.
 */
export function dutyCycleRefusal(meter: HourlyTxMeter, dutyCycle: number, now: number): RadioRefusal | null {
  if (dutyCycle >= 1) return null;
  const limitMs = dutyCycle * HOUR_MS;
  if (meter.lastHourMs(now) <= limitMs) return null;
  return { code: "DUTY_CYCLE_LIMIT", silentMinutes: meter.silentMinutes(now, limitMs) };
}
