import type { Clock } from "../../core/clock.js";
import { airtimeMs, contentionSlotMs, RADIO_HEADER_BYTES, dataMessageBytes } from "../airtime/airtime.js";
import type { LoraModulation } from "../airtime/presets.js";
import { RollingWindow } from "../airtime/rolling-window.js";
import { PRIVATE_APP_PORT } from "../meshtastic/envelope.js";
import { classifyFrame, emptyByClass, type TrafficClass } from "./classify.js";

const HOUR_MS = 3_600_000;
/** The firmware's contention window exponents (RadioInterface): a relay draws from 2^CW slots. */
const CW_MIN = 3;
const CW_MAX = 8;

/** A packet as the radios carry it: Meshtastic header fields and the Data payload (our frame). */
export interface AirPacket {
  readonly from: number;
  readonly id: number;
  readonly hopLimit: number;
  readonly hopStart: number;
  /** Data.portnum: the channel carries other Meshtastic applications too. */
  readonly portnum: number;
  readonly payload: Uint8Array;
}

export interface Reception {
  readonly snr: number;
  readonly rssi: number;
  /** Which radio's transmission it was (the last relay, or the origin). */
  readonly heardFrom: number;
}

export interface ChannelOptions {
  readonly modulation: LoraModulation;
  readonly random: () => number;
  /** In position mode, radios within this distance hear each other. */
  readonly rangeMeters: number;
  /** Chance that a packet on a link is lost (fading, noise), unless the link says otherwise. */
  readonly defaultLoss: number;
  /** Per-radio duty cycle over a rolling hour (1 = none); a transmission beyond it is dropped, as the firmware does. */
  readonly dutyCycle: number;
  readonly txQueueLimit: number;
  /** Listen before talk: a radio that hears the channel busy backs off. */
  readonly listenBeforeTalk: boolean;
}

export const DEFAULT_CHANNEL_OPTIONS: Omit<ChannelOptions, "modulation" | "random"> = {
  rangeMeters: 5_000,
  defaultLoss: 0,
  dutyCycle: 1,
  txQueueLimit: 16,
  listenBeforeTalk: true,
};

interface Link {
  readonly loss: number;
  readonly snr: number;
  readonly rssi: number;
}

interface Hearing {
  readonly tx: Transmission;
  corrupted: boolean;
}

interface Transmission {
  readonly radio: SimRadio;
  readonly packet: AirPacket;
  readonly start: number;
  readonly end: number;
}

export interface RadioStats {
  transmissions: number;
  txAirtimeMs: number;
  readonly txAirtimeMsByClass: Record<TrafficClass, number>;
  received: number;
  duplicates: number;
  collisions: number;
  lostHalfDuplex: number;
  lostOnLink: number;
  relays: number;
  relaysSuppressed: number;
  dutyCycleDrops: number;
  txQueueDrops: number;
  /** Time the radio heard the channel busy (its own transmissions included), ms. */
  channelBusyMs: number;
  /** Most airtime it used in any rolling hour, ms: its peak duty cycle × 3,600,000. */
  peakHourAirtimeMs: number;
}

/** One simulated Meshtastic radio: half-duplex, managed flooding, duty cycle, a small TX queue. */
export class SimRadio {
  readonly stats: RadioStats = {
    transmissions: 0, txAirtimeMs: 0, txAirtimeMsByClass: emptyByClass(), received: 0, duplicates: 0, collisions: 0,
    lostHalfDuplex: 0, lostOnLink: 0, relays: 0, relaysSuppressed: 0, dutyCycleDrops: 0, txQueueDrops: 0, channelBusyMs: 0, peakHourAirtimeMs: 0,
  };
  private readonly listeners = new Set<(p: AirPacket, r: Reception) => void>();
  private readonly seen = new Set<string>();
  private readonly pendingRelays = new Map<string, unknown>();
  private readonly queue: { readonly packet: AirPacket; readonly relay: boolean }[] = [];
  private readonly hearings: Hearing[] = [];
  private readonly dutyWindow = new RollingWindow(HOUR_MS);
  private transmittingUntil = 0;
  private busyUntil = 0;
  private wakeTimer: unknown = null;

  constructor(
    readonly id: number,
    readonly position: { readonly x: number; readonly y: number } | null,
    /** Whether it relays others' packets (Meshtastic roles CLIENT/ROUTER do; CLIENT_MUTE does not). */
    readonly rebroadcasts: boolean,
    private readonly channel: LoraChannel,
  ) {}

  /** Packets this radio decodes, once per (from, id), as its firmware would hand them on. */
  onReceive(listener: (p: AirPacket, r: Reception) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Originate (or inject) a packet: it goes on air when the radio is free. */
  send(packet: AirPacket): boolean {
    this.seen.add(`${packet.from}:${packet.id}`);
    return this.enqueue(packet, false);
  }

  hasSeen(from: number, id: number): boolean {
    return this.seen.has(`${from}:${id}`);
  }

  /** Packets waiting to go on air (originated and relays): what a firmware's QueueStatus counts. */
  get queueLength(): number {
    return this.queue.length;
  }

  /** This radio's own airtime in the rolling hour up to now, ms (what the firmware's duty-cycle check reads). */
  get lastHourAirtimeMs(): number {
    return this.dutyWindow.sum(this.channel.clock.now());
  }

  get transmitting(): boolean {
    return this.channel.clock.now() < this.transmittingUntil;
  }

  private enqueue(packet: AirPacket, relay: boolean): boolean {
    if (this.queue.length >= this.channel.opts.txQueueLimit) {
      this.stats.txQueueDrops++;
      return false;
    }
    this.queue.push({ packet, relay });
    this.tryTransmit();
    return true;
  }

  private tryTransmit(): void {
    const clock = this.channel.clock;
    const now = clock.now();
    if (this.wakeTimer !== null || this.queue.length === 0) return;
    if (now < this.transmittingUntil) return this.wakeAt(this.transmittingUntil);
    const audible = this.hearings.filter((h) => h.tx.end > now);
    if (this.channel.opts.listenBeforeTalk && audible.length > 0) {
      // Channel busy: back off for the rest of what we hear plus a random slot.
      const clear = Math.max(...audible.map((h) => h.tx.end));
      return this.wakeAt(clear + this.channel.opts.random() * 50);
    }
    const { packet } = this.queue.shift() as { packet: AirPacket };
    const duration = this.channel.airtimeOf(packet);
    if (this.dutyWindow.sum(now) + duration > this.channel.opts.dutyCycle * HOUR_MS) {
      this.stats.dutyCycleDrops++;
      return this.tryTransmit();
    }
    this.dutyWindow.add(now, duration);
    this.stats.peakHourAirtimeMs = Math.max(this.stats.peakHourAirtimeMs, this.dutyWindow.sum(now));
    this.transmittingUntil = now + duration;
    // Half-duplex: whatever this radio was receiving is lost.
    for (const h of this.hearings) {
      if (!h.corrupted) this.stats.lostHalfDuplex++;
      h.corrupted = true;
    }
    this.markBusy(now, now + duration);
    this.stats.transmissions++;
    this.stats.txAirtimeMs += duration;
    this.stats.txAirtimeMsByClass[packet.portnum === this.channel.ourPort ? classifyFrame(packet.payload) : "other"] += duration;
    this.channel.transmit({ radio: this, packet, start: now, end: now + duration });
    this.wakeAt(now + duration);
  }

  private wakeAt(at: number): void {
    if (this.wakeTimer !== null) return;
    const clock = this.channel.clock;
    this.wakeTimer = clock.setTimeout(() => {
      this.wakeTimer = null;
      this.tryTransmit();
    }, Math.max(0, at - clock.now()));
  }

  private markBusy(start: number, end: number): void {
    this.stats.channelBusyMs += Math.max(0, end - Math.max(start, this.busyUntil));
    this.busyUntil = Math.max(this.busyUntil, end);
  }

  /** A transmission audible here begins. */
  hearStart(tx: Transmission): Hearing {
    const h: Hearing = { tx, corrupted: false };
    if (this.transmitting) {
      h.corrupted = true;
      this.stats.lostHalfDuplex++;
    }
    // Two transmissions overlapping at a receiver destroy each other (no capture effect). One that
    // ends at the instant this one starts does not overlap it, even if its end is processed later.
    for (const other of this.hearings) {
      if (other.tx.end <= tx.start) continue;
      if (!other.corrupted) this.stats.collisions++;
      other.corrupted = true;
      if (!h.corrupted) this.stats.collisions++;
      h.corrupted = true;
    }
    this.hearings.push(h);
    this.markBusy(tx.start, tx.end);
    return h;
  }

  /** A transmission audible here ends: decode it unless it was destroyed or lost on the link. */
  hearEnd(h: Hearing, link: Link): void {
    this.hearings.splice(this.hearings.indexOf(h), 1);
    if (h.corrupted) return;
    if (this.channel.opts.random() < link.loss) {
      this.stats.lostOnLink++;
      return;
    }
    const p = h.tx.packet;
    const key = `${p.from}:${p.id}`;
    if (this.seen.has(key)) {
      this.stats.duplicates++;
      // Someone else already relayed it: managed flooding keeps this radio quiet, whether its
      // relay is still waiting out its delay or already queued behind the one just heard.
      const pending = this.pendingRelays.get(key);
      if (pending !== undefined) {
        this.channel.clock.clearTimeout(pending);
        this.pendingRelays.delete(key);
        this.stats.relaysSuppressed++;
      }
      const queued = this.queue.findIndex((q) => q.relay && q.packet.from === p.from && q.packet.id === p.id);
      if (queued >= 0) {
        this.queue.splice(queued, 1);
        this.stats.relays--;
        this.stats.relaysSuppressed++;
      }
      return;
    }
    this.seen.add(key);
    this.stats.received++;
    const reception: Reception = { snr: link.snr, rssi: link.rssi, heardFrom: h.tx.radio.id };
    for (const l of this.listeners) l(p, reception);
    if (this.rebroadcasts && p.hopLimit > 0) this.scheduleRelay(p, link.snr);
  }

  private scheduleRelay(p: AirPacket, snr: number): void {
    const slot = contentionSlotMs(this.channel.opts.modulation);
    // Weaker signal (farther away) → smaller window, so the relay that extends coverage most goes first.
    const cw = Math.floor(CW_MIN + ((Math.min(10, Math.max(-20, snr)) + 20) * (CW_MAX - CW_MIN)) / 30);
    const delay = 2 * CW_MAX * slot + Math.floor(this.channel.opts.random() * 2 ** cw) * slot;
    const key = `${p.from}:${p.id}`;
    const timer = this.channel.clock.setTimeout(() => {
      this.pendingRelays.delete(key);
      this.stats.relays++;
      this.enqueue({ ...p, hopLimit: p.hopLimit - 1 }, true);
    }, delay);
    this.pendingRelays.set(key, timer);
  }
}

/**
 * The shared LoRa channel: who hears whom (positions and a range, or an explicit link graph), and
 * transmissions that take their time on air. Deterministic under its random source and clock.
 */
export class LoraChannel {
  readonly radios = new Map<number, SimRadio>();
  private readonly links = new Map<number, Map<number, Link>>();
  private explicitLinks = false;
  private readonly startedAt: number;
  /** Our application port: its payloads are MeshChain frames, classified for airtime accounting. */
  readonly ourPort = PRIVATE_APP_PORT;

  constructor(
    readonly opts: ChannelOptions,
    readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  addRadio(id: number, opts: { position?: { x: number; y: number }; rebroadcasts?: boolean } = {}): SimRadio {
    if (this.radios.has(id)) throw new RangeError(`radio ${id} exists`);
    const radio = new SimRadio(id, opts.position ?? null, opts.rebroadcasts ?? true, this);
    this.radios.set(id, radio);
    return radio;
  }

  /** Declare a two-way link; once any link is declared, only declared links carry packets. */
  link(a: number, b: number, opts: { loss?: number; snr?: number; rssi?: number } = {}): void {
    this.explicitLinks = true;
    const l: Link = { loss: opts.loss ?? this.opts.defaultLoss, snr: opts.snr ?? 5, rssi: opts.rssi ?? -90 };
    for (const [x, y] of [[a, b], [b, a]] as const) {
      let m = this.links.get(x);
      if (m === undefined) this.links.set(x, (m = new Map()));
      m.set(y, l);
    }
  }

  /** Cut or restore every link of a radio set (partitions). */
  unlink(a: number, b: number): void {
    this.links.get(a)?.delete(b);
    this.links.get(b)?.delete(a);
  }

  airtimeOf(packet: AirPacket): number {
    return airtimeMs(this.opts.modulation, RADIO_HEADER_BYTES + dataMessageBytes(packet.payload.length));
  }

  private linkBetween(from: SimRadio, to: SimRadio): Link | null {
    if (this.explicitLinks) return this.links.get(from.id)?.get(to.id) ?? null;
    if (from.position === null || to.position === null) return null;
    const d = Math.hypot(from.position.x - to.position.x, from.position.y - to.position.y);
    if (d > this.opts.rangeMeters) return null;
    const f = d / this.opts.rangeMeters;
    return { loss: this.opts.defaultLoss, snr: 10 - 25 * f, rssi: -50 - 70 * f };
  }

  transmit(tx: Transmission): void {
    for (const radio of this.radios.values()) {
      if (radio === tx.radio) continue;
      const link = this.linkBetween(tx.radio, radio);
      if (link === null) continue;
      const hearing = radio.hearStart(tx);
      this.clock.setTimeout(() => radio.hearEnd(hearing, link), tx.end - tx.start);
    }
  }

  /** Totals and per-radio figures since the channel was created. */
  report(): { elapsedMs: number; airtimeMsByClass: Record<TrafficClass, number>; totalAirtimeMs: number; radios: { id: number; channelUtilisation: number; txUtilisation: number; stats: RadioStats }[] } {
    const elapsedMs = Math.max(1, this.clock.now() - this.startedAt);
    const airtimeMsByClass = emptyByClass();
    let totalAirtimeMs = 0;
    const radios = [...this.radios.values()].map((r) => {
      for (const [k, v] of Object.entries(r.stats.txAirtimeMsByClass)) airtimeMsByClass[k as TrafficClass] += v;
      totalAirtimeMs += r.stats.txAirtimeMs;
      return { id: r.id, channelUtilisation: r.stats.channelBusyMs / elapsedMs, txUtilisation: r.stats.txAirtimeMs / elapsedMs, stats: r.stats };
    });
    return { elapsedMs, airtimeMsByClass, totalAirtimeMs, radios };
  }
}
