import { TransportError } from "../errors.js";
import type { MqttLink } from "../mqtt-link.js";

export type Lifecycle = "new" | "running" | "stopped";

/** The checks every transport makes before it puts a frame on its link. */
export function assertSendable(state: Lifecycle, frame: Uint8Array, mtu: number, kind: string): void {
  if (state === "new") throw new TransportError("NOT_STARTED", `${kind} transport is not started`);
  if (state === "stopped") throw new TransportError("CLOSED", `${kind} transport is stopped`);
  if (frame.length === 0 || frame.length > mtu) throw new TransportError("FRAME_TOO_LARGE", `frame of ${frame.length} bytes does not fit the ${kind} MTU of ${mtu}`);
}

/**
 * How long a link holds its frames after the radio refused one for the duty cycle: `firstMs`, doubling
 * while refusals continue, up to 15 minutes, and back to `firstMs` once the radio takes a packet again.
 * The firmware says how long in the ClientNotification it sends with the refusal ("Duty cycle limit
 * exceeded. You can send again in N mins", Router::send), and the link pauses no longer than that; but
 * never longer than the backoff's step either, because the firmware's figure can be far too long: it
 * walks its minute ring by index rather than by age (AirTime::getSilentMinutes), so a burst 55 minutes
 * ago can read as 50 minutes to wait where one is true. A validator silenced that long misses its
 * votes; an offer the radio refuses costs nothing on air.
 */
export class DutyCycleBackoff {
  static readonly MAX_MS = 15 * 60_000;
  private nextMs: number;

  constructor(private readonly firstMs: number) {
    this.nextMs = firstMs;
  }

  /** A refusal, with the radio's own minutes when it said them (null: not said, or not believable): the pause to hold for now. */
  refused(radioMinutes: number | null = null): number {
    const step = this.nextMs;
    this.nextMs = Math.min(DutyCycleBackoff.MAX_MS, this.nextMs * 2);
    return radioMinutes === null ? step : Math.min(radioMinutes * MINUTE_MS, step);
  }

  /** The pause a notice of `radioMinutes` calls for now, without counting it as a refusal: the Routing error that follows for a packet of ours does that. */
  noticed(radioMinutes: number): number {
    return Math.min(radioMinutes * MINUTE_MS, this.nextMs);
  }

  accepted(): void {
    this.nextMs = this.firstMs;
  }
}

const MINUTE_MS = 60_000;
/**
 * The most minutes a radio's word may pause a link: the hour the firmware counts is 60 minutes, so
 * no honest figure is longer, and a garbled or hostile one must not silence the node for hours.
 */
export const MAX_RADIO_PAUSE_MINUTES = 60;
const SEND_AGAIN = /You can send again in (\d{1,4}) mins?\b/;

/**
 * The minutes a firmware's duty-cycle notification asks the client to wait, or null when the text is
 * not that notification or its figure is not one to believe. Zero is read as one: the firmware counts
 * whole minutes leaving its hour, and the next one leaves within a minute.
 */
export function dutyCycleMinutes(message: string): number | null {
  const m = SEND_AGAIN.exec(message);
  if (m === null) return null;
  return radioPauseMinutes(Number(m[1]));
}

/** A radio's figure of minutes to wait, bounded to 1-60; null when it is not a whole number. */
export function radioPauseMinutes(minutes: number): number | null {
  if (!Number.isInteger(minutes) || minutes < 0) return null;
  return Math.min(MAX_RADIO_PAUSE_MINUTES, Math.max(1, minutes));
}

/** Bounded memory of recently seen keys, oldest forgotten first. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly limit: number) {}

  /** True when the key was seen, without remembering it. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** True when the key was already seen; remembers it either way. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value as string);
    return false;
  }
}

/** The lifecycle both MQTT-based transports share: one link, one subscription, idempotent stop. */
export class LinkLifecycle {
  state: Lifecycle = "new";

  constructor(private readonly link: MqttLink) {}

  /** Subscribe before connecting, so nothing sent to us after `start` resolves is missed. */
  async start(topic: string, onMessage: (topic: string, payload: Uint8Array) => void): Promise<void> {
    if (this.state !== "new") return;
    this.state = "running";
    this.link.onMessage(onMessage);
    await this.link.subscribe(topic);
    this.link.start();
    await this.link.connected();
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    await this.link.stop();
  }
}
