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
 * The firmware's own estimate ("you can send again in N mins") is not relied on: its count is
 * approximate, and a busy relay spends the hour again as it frees.
 */
export class DutyCycleBackoff {
  static readonly MAX_MS = 15 * 60_000;
  private nextMs: number;

  constructor(private readonly firstMs: number) {
    this.nextMs = firstMs;
  }

  /** A refusal: the pause to hold for now. */
  refused(): number {
    const pause = this.nextMs;
    this.nextMs = Math.min(DutyCycleBackoff.MAX_MS, this.nextMs * 2);
    return pause;
  }

  accepted(): void {
    this.nextMs = this.firstMs;
  }
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
