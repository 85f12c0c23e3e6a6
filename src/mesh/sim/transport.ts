import type { Clock } from "../../core/clock.js";
import { TransportError } from "../errors.js";
import { PRIVATE_APP_PORT } from "../meshtastic/envelope.js";
import { MESHTASTIC_MTU } from "../transports/meshtastic-mqtt.js";
import { assertSendable, DutyCycleBackoff, type Lifecycle, radioPauseMinutes } from "../transports/common.js";
import { type DutyCyclePause, emptyStats, FrameListeners, hopsAwayOf, frameHopLimit, type Priority, type ReceivedFrame, type SendOptions, type Transport } from "../transport.js";
import type { SimRadio } from "./channel.js";

/** While the radio's transmit queue is full, how often we offer the held frame again (the stream link's poll). */
const QUEUE_RETRY_MS = 1_000;

export interface SimTransportOptions {
  readonly nodeNumber: number;
  readonly hopLimit: number;
  /** A node's never-repeating ids (its ReservedCounter), else counting up from firstPacketId. */
  readonly packetIds?: { take(): number };
  readonly firstPacketId?: number;
  /** First pause after a DUTY_CYCLE_LIMIT refusal without the radio's minutes; doubles while such refusals continue (the stream link's default). */
  readonly dutyCyclePauseMs?: number;
  /** Frames held while the radio refuses; beyond it callers are refused (QUEUE_FULL). */
  readonly queueLimit?: number;
}

export interface SimLinkStats {
  dutyCyclePauses: number;
  radioQueueFullWaits: number;
  /** Frames the radio refused for now and we offered again. */
  retried: number;
}

interface Held {
  readonly frame: Uint8Array;
  readonly priority: Priority;
  /** Chosen at send: a held frame keeps how far it was meant to travel. */
  readonly hopLimit: number;
}

/**
 * A node's frames on the simulated LoRa channel, through its own simulated radio: the same MTU and
 * the same best-effort, unordered delivery as the real thing. The radio may refuse a frame (its hour's
 * duty cycle spent, its queue full), as a stream-API radio refuses one with a Routing error; this link
 * then does what the stream link does: holds the frame and those after it, pauses (for the duty
 * cycle, the backoff's step or the minutes the radio says if fewer: DutyCycleBackoff), offers it again, and
 * says `holding` meanwhile so the airtime scheduler above keeps its own frames. A relay the radio
 * releases for the duty cycle pauses it the same way: the firmware notifies its client of those too.
 * A refusal loses nothing and blames no peer.
 */
export class SimTransport implements Transport {
  readonly kind = "sim";
  readonly mtu = MESHTASTIC_MTU;
  readonly stats = emptyStats();
  readonly linkStats: SimLinkStats = { dutyCyclePauses: 0, radioQueueFullWaits: 0, retried: 0 };
  private readonly listeners = new FrameListeners();
  private readonly readyListeners = new Set<() => void>();
  private readonly held: Held[] = [];
  private readonly dutyPause: DutyCycleBackoff;
  private state: Lifecycle = "new";
  private nextPacketId: number;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeRefusals: (() => void) | null = null;
  private retryTimer: unknown = null;
  /** When the current duty-cycle pause ends; 0 when the last refusal was not for the duty cycle. */
  private dutyPausedUntil = 0;

  constructor(
    private readonly radio: SimRadio,
    private readonly opts: SimTransportOptions,
    /** The channel's clock unless given: pauses run on the same virtual time as the air. */
    private readonly clock: Clock = radio.clock,
  ) {
    this.nextPacketId = opts.firstPacketId ?? 1;
    this.dutyPause = new DutyCycleBackoff(opts.dutyCyclePauseMs ?? 60_000);
  }

  get localNode(): number {
    return this.opts.nodeNumber;
  }

  /** Frames waiting for the radio to take them: a scheduler above should hold its own. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  get heldFrames(): number {
    return this.held.length;
  }

  get dutyCyclePause(): DutyCyclePause | null {
    if (this.held.length === 0 || this.clock.now() >= this.dutyPausedUntil) return null;
    return { heldFrames: this.held.length, untilMs: this.dutyPausedUntil };
  }

  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.state = "running";
    this.unsubscribe = this.radio.onReceive((p, r) => {
      if (this.state !== "running") return;
      if (p.from === this.opts.nodeNumber) {
        this.stats.ownEchoes++;
        return;
      }
      if (p.portnum !== PRIVATE_APP_PORT) {
        this.stats.otherPorts++;
        return;
      }
      if (p.payload.length === 0 || p.payload.length > this.mtu) {
        this.stats.malformed++;
        return;
      }
      this.stats.framesReceived++;
      this.listeners.emit({ bytes: p.payload, from: p.from, hopsAway: hopsAwayOf(p.hopStart, p.hopLimit), snr: r.snr, rssi: r.rssi, viaRadio: true });
    });
    // The notice for a relay it released: our own frames would be refused as long, so hold them.
    this.unsubscribeRefusals = this.radio.onRefusal((p, r) => {
      if (this.state !== "running" || r.code !== "DUTY_CYCLE_LIMIT" || p.from === this.opts.nodeNumber) return;
      this.pauseForDutyCycle(this.dutyPause.refused(radioPauseMinutes(r.silentMinutes)));
    });
  }

  /** Holds every frame until `pauseMs` from now (a pause already longer stands). */
  private pauseForDutyCycle(pauseMs: number): void {
    const until = this.clock.now() + pauseMs;
    if (until <= this.dutyPausedUntil && this.retryTimer !== null) return;
    this.dutyPausedUntil = until;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.offer();
    }, pauseMs);
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.unsubscribe?.();
    this.unsubscribeRefusals?.();
    this.unsubscribe = this.unsubscribeRefusals = null;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.held.length = 0;
  }

  /** Offers the frame to the radio now, or holds it behind frames already held. */
  async send(frame: Uint8Array, priority: Priority, options?: SendOptions): Promise<void> {
    assertSendable(this.state, frame, this.mtu, this.kind);
    if (this.held.length >= (this.opts.queueLimit ?? 64)) throw new TransportError("QUEUE_FULL", `${this.held.length} frames are waiting for the radio`);
    this.hold({ frame: Uint8Array.from(frame), priority, hopLimit: frameHopLimit(this.opts.hopLimit, options) }, false);
    if (this.retryTimer === null) this.offer();
  }

  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Most urgent first; a refused frame goes back to the head of its class. */
  private hold(h: Held, atHead: boolean): void {
    const at = atHead ? this.held.findIndex((o) => o.priority >= h.priority) : this.held.findIndex((o) => o.priority > h.priority);
    this.held.splice(at < 0 ? this.held.length : at, 0, h);
  }

  /** Hands held frames to the radio until it refuses one or none are left. */
  private offer(): void {
    while (this.state === "running" && this.held.length > 0) {
      const next = this.held.shift() as Held;
      // A fresh id for every offer, as the stream link does: the radio remembers ids it was handed.
      let id = this.nextPacketId;
      if (this.opts.packetIds !== undefined) id = this.opts.packetIds.take();
      else this.nextPacketId = (this.nextPacketId % 0xffffffff) + 1;
      const refusal = this.radio.send({ from: this.opts.nodeNumber, id, hopLimit: next.hopLimit, hopStart: next.hopLimit, portnum: PRIVATE_APP_PORT, payload: next.frame });
      if (refusal === null) {
        this.stats.framesSent++;
        this.dutyPause.accepted();
        continue;
      }
      this.hold(next, true);
      this.linkStats.retried++;
      if (refusal.code === "DUTY_CYCLE_LIMIT") {
        this.linkStats.dutyCyclePauses++;
        return this.pauseForDutyCycle(this.dutyPause.refused(radioPauseMinutes(refusal.silentMinutes)));
      }
      this.linkStats.radioQueueFullWaits++;
      this.dutyPausedUntil = 0;
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = null;
        this.offer();
      }, QUEUE_RETRY_MS);
      return;
    }
    if (this.state === "running") for (const l of [...this.readyListeners]) l();
  }
}
