/*
 * Over 400 lines: a radio and the channel it shares are one model. The radio's queue, contention
 * delay, half-duplex loss and relay decisions read the channel's state at every step (who is on air,
 * what each radio hears), and the channel's delivery calls back into each radio; split, each half
 * would export its internals to the other. The rules themselves live apart: channel access in
 * mesh/airtime/channel-access.ts, the duty cycle in duty-cycle.ts, accounting in classify.ts and
 * tx-origination.ts.
 */
import type { Clock } from "../../core/clock.js";
import { airtimeMs, RADIO_HEADER_BYTES, dataMessageBytes } from "../airtime/airtime.js";
import type { LoraModulation } from "../airtime/presets.js";
import { RollingWindow } from "../airtime/rolling-window.js";
import { PRIVATE_APP_PORT } from "../meshtastic/envelope.js";
import { cadDetectMs, ChannelUtilisation, ownFrameDelayMs, type RadioRole, relayDelayMs, relays, slotTimeMs } from "../airtime/channel-access.js";
import { classifyFrame, emptyByClass, frameTypeName, type TrafficClass } from "./classify.js";
import { dutyCycleRefusal, HOUR_MS, HourlyTxMeter, type RadioRefusal } from "./duty-cycle.js";
import { TxOrigination } from "./tx-origination.js";

export type { RadioRefusal } from "./duty-cycle.js";

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
  /**
   * Each radio's duty cycle as a fraction of the hour (1 = none), unless the radio is given its own
   * (`SimRadio.dutyCycle`): once its hour is spent it refuses packets at its queue (duty-cycle.ts).
   */
  readonly dutyCycle: number;
  readonly txQueueLimit: number;
  /** Channel activity detection: a radio whose delay ends while it senses a transmission draws a new delay. */
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
  /** The same by message type (ChainStatus, Vote …; "other" for other applications). */
  readonly txAirtimeMsByType: Record<string, number>;
  /** Transaction frames it put on air that were not a transaction's own frame (tx-origination.ts): copies sent again, and relays of them. */
  txResentAirtimeMs: number;
  received: number;
  duplicates: number;
  collisions: number;
  lostHalfDuplex: number;
  lostOnLink: number;
  relays: number;
  relaysSuppressed: number;
  /** Relays not queued because the radio's hour was spent: released, gone (the firmware tells no one but its client). */
  dutyCycleDrops: number;
  /** Packets handed to the radio (its own, its client's) that it refused for the duty cycle; the sender was told. */
  dutyCycleRefusals: number;
  /** Relays not queued because the transmit queue was full. */
  txQueueDrops: number;
  /** Packets handed to the radio that it refused because its transmit queue was full; the sender was told. */
  txQueueRefusals: number;
  /** Time the radio heard the channel busy (its own transmissions included), ms. */
  channelBusyMs: number;
  /** Most airtime it used in any rolling hour, ms: its peak duty cycle × 3,600,000. */
  peakHourAirtimeMs: number;
  /**
   * Airtime by message type in each PERIOD_MS since the channel began, its own frames apart from its
   * relays: what spent a busy radio's hour, and when (a bridge's duty cycle is mostly others' traffic).
   */
  readonly airtimeMsByPeriod: { own: Record<string, number>; relayed: Record<string, number> }[];
}

/** The span of one `airtimeMsByPeriod` entry: ten minutes, six to the firmware's hour. */
export const PERIOD_MS = 10 * 60_000;

interface QueuedFrame {
  readonly packet: AirPacket;
  /** A relay of a packet heard at this SNR; null for one the radio originated. */
  readonly relayedSnr: number | null;
}

/**
 * One simulated Meshtastic radio: half-duplex, managed flooding, duty cycle, a small TX queue, and
 * the firmware's channel access (channel-access.ts): the frame at the head of the queue waits a
 * random contention delay, drawn again after every frame the radio hears or sends, and again when
 * the delay ends while the radio senses the channel busy.
 */
export class SimRadio {
  readonly stats: RadioStats = {
    transmissions: 0, txAirtimeMs: 0, txAirtimeMsByClass: emptyByClass(), txAirtimeMsByType: {}, txResentAirtimeMs: 0, received: 0, duplicates: 0, collisions: 0,
    lostHalfDuplex: 0, lostOnLink: 0, relays: 0, relaysSuppressed: 0, dutyCycleDrops: 0, dutyCycleRefusals: 0, txQueueDrops: 0, txQueueRefusals: 0, channelBusyMs: 0, peakHourAirtimeMs: 0,
    airtimeMsByPeriod: [],
  };
  /** This radio's duty cycle, a fraction of the hour (1 = none): its region's, as its firmware applies it. */
  dutyCycle: number;
  private readonly listeners = new Set<(p: AirPacket, r: Reception) => void>();
  private readonly refusalListeners = new Set<(p: AirPacket, r: RadioRefusal) => void>();
  private readonly seen = new Set<string>();
  private readonly queue: QueuedFrame[] = [];
  private readonly hearings: Hearing[] = [];
  /** What the firmware's duty-cycle rule reads: its own minute-bucketed hour. */
  private readonly txMeter: HourlyTxMeter;
  /** The exact sliding hour, for the peak the report gives (a measurement of the air, not the rule). */
  private readonly dutyWindow = new RollingWindow(HOUR_MS);
  private readonly utilisation = new ChannelUtilisation();
  private transmittingUntil = 0;
  private busyUntil = 0;
  private txTimer: unknown = null;

  constructor(
    readonly id: number,
    readonly position: { readonly x: number; readonly y: number } | null,
    readonly role: RadioRole,
    private readonly channel: LoraChannel,
  ) {
    this.dutyCycle = channel.opts.dutyCycle;
    this.txMeter = new HourlyTxMeter(channel.clock.now());
  }

  /** The channel's clock: what the radio's timers, and a link's pauses in front of it, run on. */
  get clock(): Clock {
    return this.channel.clock;
  }

  /** Whether it relays others' packets (CLIENT and ROUTER do; CLIENT_MUTE does not). */
  get rebroadcasts(): boolean {
    return relays(this.role);
  }

  /** The firmware's channel utilisation figure (busy share of the last minute, %), which sizes its contention window. */
  get channelUtilisationPercent(): number {
    return this.utilisation.percent(this.channel.clock.now());
  }

  /** Packets this radio decodes, once per (from, id), as its firmware would hand them on. */
  onReceive(listener: (p: AirPacket, r: Reception) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Originate (or inject) a packet: null when it is queued (it goes on air when the radio is free), or
   * why the radio refused it, checked in the firmware's order (Router::send's duty cycle, then the
   * interface's queue). The caller keeps a refused packet; nothing of it goes on air.
   */
  send(packet: AirPacket): RadioRefusal | null {
    // FloodingRouter::send records the packet as seen before Router::send can refuse it.
    this.seen.add(`${packet.from}:${packet.id}`);
    const refusal = dutyCycleRefusal(this.txMeter, this.dutyCycle, this.channel.clock.now());
    if (refusal !== null) {
      this.stats.dutyCycleRefusals++;
      this.tellRefusal(packet, refusal);
      return refusal;
    }
    if (!this.enqueue({ packet, relayedSnr: null })) {
      this.stats.txQueueRefusals++;
      return { code: "QUEUE_FULL", silentMinutes: 0 };
    }
    return null;
  }

  /** Told of every packet refused for the duty cycle, relays included (the firmware notifies its client of each). */
  onRefusal(listener: (p: AirPacket, r: RadioRefusal) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  private tellRefusal(packet: AirPacket, refusal: RadioRefusal): void {
    for (const l of this.refusalListeners) l(packet, refusal);
  }

  hasSeen(from: number, id: number): boolean {
    return this.seen.has(`${from}:${id}`);
  }

  /** Packets waiting to go on air (originated and relays): what a firmware's QueueStatus counts. */
  get queueLength(): number {
    return this.queue.length;
  }

  /** This radio's own airtime in the hour up to now, ms, as the firmware's duty-cycle check reads it (minute buckets). */
  get lastHourAirtimeMs(): number {
    return this.txMeter.lastHourMs(this.channel.clock.now());
  }

  get transmitting(): boolean {
    return this.channel.clock.now() < this.transmittingUntil;
  }

  private enqueue(frame: QueuedFrame): boolean {
    if (this.queue.length >= this.channel.opts.txQueueLimit) return false;
    this.queue.push(frame);
    // RadioLibInterface::send → setTransmitDelay, which leaves a delay already running alone.
    if (this.txTimer === null && !this.transmitting) this.setTransmitDelay();
    return true;
  }

  /** setTransmitDelay: the head of the queue waits its contention delay (a fresh draw replaces a running one). */
  private setTransmitDelay(): void {
    const clock = this.channel.clock;
    if (this.txTimer !== null) clock.clearTimeout(this.txTimer);
    this.txTimer = null;
    const head = this.queue[0];
    if (head === undefined) return;
    const { modulation, random } = this.channel.opts;
    const slot = slotTimeMs(modulation);
    const delay = head.relayedSnr === null
      ? ownFrameDelayMs(this.utilisation.percent(clock.now()), slot, random)
      : relayDelayMs(this.role, head.relayedSnr, slot, random);
    this.txTimer = clock.setTimeout(() => {
      this.txTimer = null;
      this.transmitDelayCompleted();
    }, delay);
  }

  /** TRANSMIT_DELAY_COMPLETED: send the head, unless the radio is busy or senses a transmission (then wait again). */
  private transmitDelayCompleted(): void {
    const now = this.channel.clock.now();
    if (this.transmitting) return; // the end of our own transmission draws the next delay
    if (this.channel.opts.listenBeforeTalk && this.sensesActivity(now)) return this.setTransmitDelay();
    const head = this.queue.shift();
    if (head === undefined) return;
    const { packet } = head;
    const duration = this.channel.airtimeOf(packet);
    // No duty-cycle check here: the firmware checks at its queue's door only (Router::send).
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
    const ours = packet.portnum === this.channel.ourPort;
    this.stats.txAirtimeMsByClass[ours ? classifyFrame(packet.payload) : "other"] += duration;
    const type = ours ? frameTypeName(packet.payload) : "other";
    this.stats.txAirtimeMsByType[type] = (this.stats.txAirtimeMsByType[type] ?? 0) + duration;
    if (type === "Transaction" && !this.channel.txOrigination.isOwn(packet, ours)) this.stats.txResentAirtimeMs += duration;
    this.logPeriod(now, type, head.relayedSnr !== null, duration);
    this.channel.transmit({ radio: this, packet, start: now, end: now + duration });
    // completeSending: the airtime counts toward the hour once the transmission has ended (a timer of
    // its own: a reception ending at the same instant may redraw the delay timer below first).
    this.channel.clock.setTimeout(() => this.txMeter.log(now + duration, duration), duration);
    // ISR_TX: the transmission's end draws the next frame's delay.
    this.txTimer = this.channel.clock.setTimeout(() => {
      this.txTimer = null;
      this.setTransmitDelay();
    }, duration);
  }

  private logPeriod(now: number, type: string, relayed: boolean, duration: number): void {
    const periods = this.stats.airtimeMsByPeriod;
    const index = Math.floor((now - this.channel.startedAt) / PERIOD_MS);
    while (periods.length < index) periods.push({ own: {}, relayed: {} });
    let period = periods[index];
    if (period === undefined) periods.push((period = { own: {}, relayed: {} }));
    const into = relayed ? period.relayed : period.own;
    into[type] = (into[type] ?? 0) + duration;
  }

  /**
   * Channel activity detection (and the receiver's own preamble detection) sees a transmission only
   * once it has been on air for the CAD time: two radios keying up within that time of each other collide.
   */
  private sensesActivity(now: number): boolean {
    const detect = cadDetectMs(this.channel.opts.modulation);
    return this.hearings.some((h) => h.tx.end > now && now - h.tx.start >= detect);
  }

  private markBusy(start: number, end: number): void {
    const added = Math.max(0, end - Math.max(start, this.busyUntil));
    this.stats.channelBusyMs += added;
    this.utilisation.log(start, added);
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
    // ISR_RX: the end of a reception draws the head's delay afresh, unless we are transmitting.
    if (!this.transmitting) this.setTransmitDelay();
    if (h.corrupted) return;
    if (this.channel.opts.random() < link.loss) {
      this.stats.lostOnLink++;
      return;
    }
    const p = h.tx.packet;
    const key = `${p.from}:${p.id}`;
    if (this.seen.has(key)) {
      this.stats.duplicates++;
      // Someone else already relayed it: managed flooding cancels our queued relay (cancelSending).
      const queued = this.queue.findIndex((q) => q.relayedSnr !== null && q.packet.from === p.from && q.packet.id === p.id);
      if (queued >= 0) {
        this.queue.splice(queued, 1);
        this.stats.relays--;
        this.stats.relaysSuppressed++;
        if (queued === 0 && !this.transmitting) this.setTransmitDelay();
      }
      return;
    }
    this.seen.add(key);
    this.stats.received++;
    const reception: Reception = { snr: link.snr, rssi: link.rssi, heardFrom: h.tx.radio.id };
    for (const l of this.listeners) l(p, reception);
    // The relay joins the queue at once and waits its SNR-weighted delay when it reaches the head,
    // unless the hour is spent: perhapsRebroadcast goes through Router::send, which releases it.
    if (this.rebroadcasts && p.hopLimit > 0) {
      const relay = { ...p, hopLimit: p.hopLimit - 1 };
      const refusal = dutyCycleRefusal(this.txMeter, this.dutyCycle, this.channel.clock.now());
      if (refusal !== null) {
        this.stats.dutyCycleDrops++;
        this.tellRefusal(relay, refusal);
        return;
      }
      this.stats.relays++;
      if (!this.enqueue({ packet: relay, relayedSnr: link.snr })) this.stats.txQueueDrops++;
    }
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
  /** When the channel began: its radios' periods count from here. */
  readonly startedAt: number;
  /** Our application port: its payloads are MeshChain frames, classified for airtime accounting. */
  readonly ourPort = PRIVATE_APP_PORT;
  /** Which transaction frames on air are a transaction's own, for the overhead ratio's denominator. */
  readonly txOrigination = new TxOrigination();

  constructor(
    readonly opts: ChannelOptions,
    readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  /** `rebroadcasts: false` is shorthand for the CLIENT_MUTE role; the default role is CLIENT, as on a new radio. */
  addRadio(id: number, opts: { position?: { x: number; y: number }; role?: RadioRole; rebroadcasts?: boolean } = {}): SimRadio {
    if (this.radios.has(id)) throw new RangeError(`radio ${id} exists`);
    const role = opts.role ?? (opts.rebroadcasts === false ? "CLIENT_MUTE" : "CLIENT");
    const radio = new SimRadio(id, opts.position ?? null, role, this);
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
  report(): { elapsedMs: number; airtimeMsByClass: Record<TrafficClass, number>; airtimeMsByType: Record<string, number>; totalAirtimeMs: number; txResentAirtimeMs: number; radios: { id: number; channelUtilisation: number; txUtilisation: number; stats: RadioStats }[] } {
    const elapsedMs = Math.max(1, this.clock.now() - this.startedAt);
    const airtimeMsByClass = emptyByClass();
    const airtimeMsByType: Record<string, number> = {};
    let totalAirtimeMs = 0;
    let txResentAirtimeMs = 0;
    const radios = [...this.radios.values()].map((r) => {
      for (const [k, v] of Object.entries(r.stats.txAirtimeMsByClass)) airtimeMsByClass[k as TrafficClass] += v;
      for (const [k, v] of Object.entries(r.stats.txAirtimeMsByType)) airtimeMsByType[k] = (airtimeMsByType[k] ?? 0) + v;
      totalAirtimeMs += r.stats.txAirtimeMs;
      txResentAirtimeMs += r.stats.txResentAirtimeMs;
      return { id: r.id, channelUtilisation: r.stats.channelBusyMs / elapsedMs, txUtilisation: r.stats.txAirtimeMs / elapsedMs, stats: r.stats };
    });
    return { elapsedMs, airtimeMsByClass, airtimeMsByType, totalAirtimeMs, txResentAirtimeMs, radios };
  }
}
