// Over 400 lines: one radio conversation's state (session, free slots, refusal pause, reconnect) is
// read by every part here; the waiting frames live in stream-outbox.ts, the wire in meshtastic/stream-*.
import { create, fromBinary } from "@bufbuild/protobuf";
import { Mesh, Portnums } from "@meshtastic/protobufs";
import { toHex } from "../../core/bytes.js";
import type { Clock } from "../../core/clock.js";
import { sha256 } from "../../core/crypto/hash.js";
import { RadioLinkError, TransportError } from "../errors.js";
import { BITFIELD_OK_TO_MQTT } from "../meshtastic/envelope.js";
import { BROADCAST, formatNodeId } from "../meshtastic/node-number.js";
import type { ChannelKey } from "../meshtastic/channel.js";
import { channelIndexOn, type RadioView } from "../meshtastic/radio-view.js";
import { openByteLink, parseRadioAddress, formatRadioAddress, type ByteLink, type RadioAddress } from "../meshtastic/stream-link.js";
import { CONFIG_WITHOUT_NODES, RadioSession } from "../meshtastic/stream-session.js";
import { type DutyCyclePause, emptyStats, FrameListeners, hopsAwayOf, frameHopLimit, type LinkChange, Priority, type ReceivedFrame, type SendOptions, type Transport } from "../transport.js";
import { assertSendable, DutyCycleBackoff, dutyCycleMinutes, type Lifecycle, RecentKeys } from "./common.js";
import { MESHTASTIC_MTU } from "./meshtastic-mqtt.js";
import { type Outgoing, RadioOutbox } from "./stream-outbox.js";

export type RadioLogLevel = "debug" | "info" | "warn" | "error";
export type RadioLog = (level: RadioLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface MeshtasticStreamOptions {
  /** serial:///dev/ttyACM0, serial://auto or tcp://host:4403 */
  readonly radio: string;
  /** The radio's channel index our frames travel on (0: its primary channel), when `channel` is not given. */
  readonly channelIndex?: number;
  /** Our channel: its index is looked up on the radio (same name and key) at every connect. */
  readonly channel?: ChannelKey;
  /** Private application port, 256-511. */
  readonly portnum: number;
  /** Hops our packets may be flooded; null: the radio's own setting. */
  readonly hopLimit: number | null;
  /** Never-repeating packet ids (a ReservedCounter). */
  readonly packetIds: { take(): number };
  /** Well under the firmware's 15-minute silence timeout. */
  readonly heartbeatIntervalMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** How long `start` keeps trying before it gives up on a radio that never answered. */
  readonly startTimeoutMs?: number;
  /** First pause after a DUTY_CYCLE_LIMIT refusal whose minutes the radio did not say; doubles while such refusals continue, up to 15 minutes. */
  readonly dutyCyclePauseMs?: number;
  /** Frames held for the radio; beyond it callers are refused (QUEUE_FULL). */
  readonly queueLimit?: number;
}

export interface StreamDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly log?: RadioLog;
  /** How a byte link is opened; tests and the emulator pass their own. */
  readonly open?: (address: RadioAddress) => Promise<ByteLink>;
}

export type StreamLinkState = "new" | "connecting" | "connected" | "waiting" | "stopped";

export interface StreamLinkStats {
  connects: number;
  disconnects: number;
  /** Times sending waited because the radio's transmit queue had no free slot. */
  radioQueueFullWaits: number;
  dutyCyclePauses: number;
  /** Frames the radio refused for good (TOO_LARGE, NO_CHANNEL …), dropped. */
  refusedByRadio: number;
  /** Frames the radio refused for now and we sent again later. */
  retried: number;
  radioLogLines: number;
  lastError: string | null;
}

const RATE_LIMIT_PAUSE_MS = 10_000;
/** Meshtastic's default lora.hop_limit: ours before the radio has told us its own. */
const FIRMWARE_DEFAULT_HOP_LIMIT = 3;
/** While the radio's queue is full, how often a heartbeat asks it for its QueueStatus. */
const QUEUE_POLL_MS = 1_000;
const STABLE_LINK_MS = 60_000;

/**
 * Our frames as the radio's own packets over its stream API (USB serial or TCP): PRIVATE_APP on our
 * channel with OK_TO_MQTT, never more outstanding than the radio's transmit queue has room for, held
 * and sent again when the radio refuses for duty cycle, and a link that comes back by itself.
 */
export class MeshtasticStreamTransport implements Transport {
  readonly kind = "meshtastic-stream";
  readonly mtu = MESHTASTIC_MTU;
  readonly stats = emptyStats();
  readonly linkStats: StreamLinkStats = { connects: 0, disconnects: 0, radioQueueFullWaits: 0, dutyCyclePauses: 0, refusedByRadio: 0, retried: 0, radioLogLines: 0, lastError: null };
  private readonly address: RadioAddress;
  private readonly listeners = new FrameListeners();
  private readonly viewListeners = new Set<(v: RadioView) => void>();
  private readonly readyListeners = new Set<() => void>();
  private readonly recent = new RecentKeys(8192);
  private readonly outbox: RadioOutbox;
  private lifecycle: Lifecycle = "new";
  private channelIndex: number;
  private linkStateValue: StreamLinkState = "new";
  private readonly linkListeners = new Set<(change: LinkChange) => void>();
  private session: RadioSession | null = null;
  private view: RadioView | null = null;
  private radioFree = 0;
  private pausedUntil = 0;
  /** When the current duty-cycle pause ends (0: the last pause was not for the duty cycle). */
  private dutyPausedUntil = 0;
  private readonly dutyPause: DutyCycleBackoff;
  /** The radio's last duty-cycle notification: the packet it refused and the minutes it said, bounded. */
  private dutyNote: { readonly replyId: number; readonly minutes: number } | null = null;
  private attempts = 0;
  private connectedAt = 0;
  private reconnectTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private pollTimer: unknown = null;
  private resumeTimer: unknown = null;

  constructor(
    private readonly opts: MeshtasticStreamOptions,
    private readonly deps: StreamDeps,
  ) {
    if (!Number.isInteger(opts.portnum) || opts.portnum < 256 || opts.portnum > 511) throw new TransportError("BAD_CHANNEL_KEY", `port ${opts.portnum} is not a private application port (256-511)`);
    if (opts.hopLimit !== null && (!Number.isInteger(opts.hopLimit) || opts.hopLimit < 0 || opts.hopLimit > 7)) throw new TransportError("BAD_CHANNEL_KEY", "hop limit must be 0-7");
    this.channelIndex = opts.channelIndex ?? 0;
    if (!Number.isInteger(this.channelIndex) || this.channelIndex < 0 || this.channelIndex > 7) throw new TransportError("BAD_CHANNEL_KEY", "channel index must be 0-7");
    this.address = parseRadioAddress(opts.radio);
    this.dutyPause = new DutyCycleBackoff(opts.dutyCyclePauseMs ?? 60_000);
    this.outbox = new RadioOutbox(opts.queueLimit ?? 64);
  }

  /** The radio's node number once it has told us (0 before the first handshake). */
  get localNode(): number {
    return this.view?.nodeNumber ?? 0;
  }

  get radioView(): RadioView | null {
    return this.view;
  }

  get linkState(): StreamLinkState {
    return this.linkStateValue;
  }

  onLinkChange(listener: (change: LinkChange) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  private tellLink(change: LinkChange): void {
    for (const l of this.linkListeners) l(change);
  }

  get queuedFrames(): number {
    return this.outbox.waitingCount;
  }

  /** Free slots in the radio's transmit queue as we last learned them, less what we sent since. */
  get radioFreeSlots(): number {
    return Math.max(0, this.radioFree - this.outbox.unconfirmedCount);
  }

  get dutyCyclePause(): DutyCyclePause | null {
    if (this.queuedFrames === 0 || this.deps.clock.now() >= this.dutyPausedUntil) return null;
    return { heldFrames: this.queuedFrames, untilMs: this.dutyPausedUntil };
  }

  /** Frames are waiting here (radio queue full, refusal pause, link down): a scheduler above should hold its own. */
  get holding(): boolean {
    return this.queuedFrames > 0;
  }

  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** Called at every (re)connect with what the radio reports about itself. */
  onRadioView(listener: (v: RadioView) => void): () => void {
    this.viewListeners.add(listener);
    return () => this.viewListeners.delete(listener);
  }

  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Resolves once the radio has answered the handshake; retries until `startTimeoutMs`. */
  async start(): Promise<void> {
    if (this.lifecycle !== "new") return;
    this.lifecycle = "running";
    const deadline = this.deps.clock.now() + (this.opts.startTimeoutMs ?? 30_000);
    for (;;) {
      try {
        await this.connect();
        return;
      } catch (e) {
        if (this.lifecycle !== "running") return;
        // A radio that answered but is set up wrong will not fix itself by being asked again.
        if (!(e instanceof RadioLinkError)) {
          await this.stop();
          throw e;
        }
        const wait = this.backoffMs();
        if (this.deps.clock.now() + wait > deadline) {
          await this.stop();
          throw e;
        }
        this.log("warn", `radio ${formatRadioAddress(this.address)} not ready: ${(e as Error).message}; trying again in ${(wait / 1000).toFixed(1)} s`);
        await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, wait));
        if (this.lifecycle !== "running") return;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.lifecycle === "stopped") return;
    this.lifecycle = "stopped";
    this.linkStateValue = "stopped";
    for (const t of [this.reconnectTimer, this.heartbeatTimer, this.pollTimer, this.resumeTimer]) if (t !== null) this.deps.clock.clearTimeout(t);
    this.reconnectTimer = this.heartbeatTimer = this.pollTimer = this.resumeTimer = null;
    this.outbox.clear();
    const session = this.session;
    this.session = null;
    if (session !== null && !session.closed) {
      // Tell the radio we are going, so a serial console returns to its log output at once.
      session.send(create(Mesh.ToRadioSchema, { payloadVariant: { case: "disconnect", value: true } }));
      session.close();
    }
  }

  /** Queues the frame for the radio; it leaves as soon as the radio's queue has room and no refusal pause runs. */
  async send(frame: Uint8Array, priority: Priority, options?: SendOptions): Promise<void> {
    assertSendable(this.lifecycle, frame, this.mtu, this.kind);
    // The radio keeps a client packet's hop_limit (and sets hop_start from it); with no configured
    // limit here the radio's own applies (sent explicitly), and the caller's is only ever lower than 7.
    const hopLimit = options?.hopLimit === undefined ? undefined : frameHopLimit(this.opts.hopLimit ?? 7, options);
    this.outbox.add(frame, priority, hopLimit);
    this.pump();
  }

  private log(level: RadioLogLevel, message: string, fields?: Record<string, unknown>): void {
    this.deps.log?.(level, message, fields);
  }

  private backoffMs(): number {
    const min = this.opts.reconnectMinMs ?? 1_000;
    const max = this.opts.reconnectMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    return Math.round(base * (0.75 + 0.5 * this.deps.random()));
  }

  private async connect(): Promise<void> {
    this.linkStateValue = "connecting";
    const link = await (this.deps.open ?? openByteLink)(this.address);
    if (this.lifecycle !== "running") {
      link.close();
      return;
    }
    const session = new RadioSession(
      link,
      {
        message: (m) => this.onMessage(session, m),
        log: (line) => {
          this.linkStats.radioLogLines++;
          this.log("debug", `radio console: ${line}`);
        },
        malformed: () => this.stats.malformed++,
        closed: (reason) => this.onClosed(session, reason),
      },
      this.deps.clock,
    );
    let view: RadioView;
    try {
      view = await session.requestConfig(CONFIG_WITHOUT_NODES, this.opts.handshakeTimeoutMs ?? 15_000);
    } catch (e) {
      session.close();
      this.linkStats.lastError = (e as Error).message;
      throw e;
    }
    if (this.lifecycle !== "running") {
      session.close();
      return;
    }
    if (this.opts.channel !== undefined) {
      try {
        this.channelIndex = channelIndexOn(view, this.opts.channel);
      } catch (e) {
        session.close();
        this.linkStats.lastError = (e as Error).message;
        throw e;
      }
    }
    this.session = session;
    this.view = view;
    this.connectedAt = this.deps.clock.now();
    this.radioFree = 0;
    this.linkStats.connects++;
    this.linkStateValue = "connected";
    const ch = view.channels.find((c) => c.index === this.channelIndex);
    this.log("info", `radio connected over ${link.description}: ${formatNodeId(view.nodeNumber)}, firmware ${view.firmwareVersion}, ${view.region} ${view.preset}, channel ${this.channelIndex} ${ch === undefined ? "MISSING" : `"${ch.name}"`}`);
    for (const l of this.viewListeners) l(view);
    this.tellLink({ state: "connected", reason: null, retryInMs: null, logged: true });
    // Its QueueStatus answer tells us how many packets the radio can take.
    session.heartbeat();
    this.scheduleHeartbeat();
  }

  private onClosed(session: RadioSession, reason: string): void {
    if (this.session !== session) return;
    this.session = null;
    this.linkStats.disconnects++;
    // Backoff starts over only after a link that held: two clients taking a TCP radio from each other slow down.
    if (this.deps.clock.now() - this.connectedAt > STABLE_LINK_MS) this.attempts = 0;
    this.linkStats.lastError = reason;
    if (this.lifecycle !== "running") return;
    // Packets the radio had not confirmed may or may not have gone out: send them again (the radios drop a repeat by id).
    this.requeueUnconfirmed();
    this.linkStateValue = "waiting";
    const hint = this.address.kind === "tcp" ? " — the radio restarted, or another client (the Meshtastic app or CLI) took its one TCP connection" : "";
    this.reconnectLater((wait) => `radio link lost (${reason}${hint}); reconnecting in ${wait} s`);
  }

  private reconnectLater(message: (waitSeconds: string) => string): void {
    this.linkStateValue = "waiting";
    const wait = this.backoffMs();
    this.log("warn", message((wait / 1000).toFixed(1)), { queued: this.queuedFrames });
    this.tellLink({ state: "disconnected", reason: this.linkStats.lastError, retryInMs: wait, logged: true });
    this.reconnectTimer = this.deps.clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().then(
        () => this.pump(),
        (e: unknown) => {
          this.linkStats.lastError = (e as Error).message;
          if (this.lifecycle === "running" && this.session === null) this.reconnectLater((wait) => `radio still unreachable (${(e as Error).message}); next try in ${wait} s`);
        },
      );
    }, wait);
  }

  private requeueUnconfirmed(): void {
    const back = this.outbox.requeueUnconfirmed();
    this.stats.framesSent -= back;
    this.linkStats.retried += back;
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.deps.clock.clearTimeout(this.heartbeatTimer);
    const interval = this.opts.heartbeatIntervalMs ?? 60_000;
    this.heartbeatTimer = this.deps.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      const session = this.session;
      if (session === null || this.lifecycle !== "running") return;
      if (this.deps.clock.now() - session.lastHeardAt > 3 * interval) {
        this.log("warn", `radio silent for ${Math.round((this.deps.clock.now() - session.lastHeardAt) / 1000)} s; dropping the link to reconnect`);
        session.close();
        return;
      }
      session.heartbeat();
      this.scheduleHeartbeat();
    }, interval);
  }

  private pump(): void {
    const session = this.session;
    if (session === null || this.lifecycle !== "running") return;
    const now = this.deps.clock.now();
    if (now < this.pausedUntil) {
      if (this.resumeTimer === null) {
        this.resumeTimer = this.deps.clock.setTimeout(() => {
          this.resumeTimer = null;
          this.pump();
        }, this.pausedUntil - now);
      }
      return;
    }
    while (this.queuedFrames > 0) {
      if (this.radioFreeSlots <= 0) {
        this.linkStats.radioQueueFullWaits++;
        this.pollQueue();
        return;
      }
      const next = this.outbox.take() as Outgoing;
      const id = this.opts.packetIds.take() >>> 0;
      session.sendPacket(
        create(Mesh.MeshPacketSchema, {
          to: BROADCAST,
          id,
          channel: this.channelIndex,
          // Always said: the radio sends a packet without one at hop limit 0 (its neighbours only).
          hopLimit: next.hopLimit ?? this.opts.hopLimit ?? this.view?.hopLimit ?? FIRMWARE_DEFAULT_HOP_LIMIT,
          payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: this.opts.portnum, payload: next.frame, bitfield: BITFIELD_OK_TO_MQTT }) },
        }),
      );
      this.outbox.handed(id, next);
      this.stats.framesSent++;
    }
    for (const l of [...this.readyListeners]) l();
  }

  private pollQueue(): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = this.deps.clock.setTimeout(() => {
      this.pollTimer = null;
      if (this.session !== null && this.queuedFrames > 0 && this.radioFreeSlots <= 0) {
        this.session.heartbeat();
        this.pollQueue();
      }
    }, QUEUE_POLL_MS);
  }

  private onMessage(session: RadioSession, m: Mesh.FromRadio): void {
    if (this.session !== session || this.lifecycle !== "running") return;
    const v = m.payloadVariant;
    switch (v.case) {
      case "queueStatus":
        return this.onQueueStatus(v.value);
      case "packet":
        return this.onPacket(v.value);
      case "rebooted":
        this.log("warn", "the radio rebooted; handshaking again");
        session.close();
        return;
      case "clientNotification":
        this.log("warn", `radio: ${v.value.message}`);
        return this.onNotification(v.value);
      default:
        return;
    }
  }

  /**
   * The firmware notifies its client of every packet it refuses for the duty cycle, relays included,
   * with the minutes until it sends again. Any such notice means our own packets are refused too
   * for a while: the link pauses at once (so the scheduler above keeps its frames), no longer than
   * the figure nor than the backoff's step, and the Routing error that follows for a packet of ours
   * reads the same figure.
   */
  private onNotification(n: Mesh.ClientNotification): void {
    const minutes = dutyCycleMinutes(n.message);
    if (minutes === null) return;
    this.dutyNote = { replyId: n.replyId >>> 0, minutes };
    // Bounded by the backoff's step: the firmware's figure can be far too long (DutyCycleBackoff).
    this.pauseForDutyCycle(this.dutyPause.noticed(minutes));
    this.pump();
  }

  private pauseForDutyCycle(pauseMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.deps.clock.now() + pauseMs);
    this.dutyPausedUntil = this.pausedUntil;
  }

  private onQueueStatus(q: Mesh.QueueStatus): void {
    if (q.meshPacketId !== 0) {
      // Refused at the door (queue full, or a Routing NAK follows): it goes again when there is room.
      if (this.outbox.reported(q.meshPacketId >>> 0, q.res === 0)) {
        this.stats.framesSent--;
        this.linkStats.retried++;
        // A moment's hold: the radio's room frees only as it transmits, and a Routing error may follow.
        this.pausedUntil = Math.max(this.pausedUntil, this.deps.clock.now() + QUEUE_POLL_MS);
      } else if (this.deps.clock.now() >= this.pausedUntil) {
        this.dutyPause.accepted();
      }
    }
    this.radioFree = q.free;
    this.pump();
  }

  private onPacket(p: Mesh.MeshPacket): void {
    if (p.payloadVariant.case === "encrypted") {
      // The radio could not decrypt it: a channel it does not have.
      this.stats.undecryptable++;
      return;
    }
    if (p.payloadVariant.case !== "decoded") {
      this.stats.malformed++;
      return;
    }
    const data = p.payloadVariant.value;
    const from = p.from >>> 0;
    if (data.portnum === Portnums.PortNum.ROUTING_APP) {
      if (from === this.localNode) this.onRouting(data);
      else this.stats.otherPorts++;
      return;
    }
    if (from === this.localNode) {
      this.stats.ownEchoes++;
      return;
    }
    if (data.portnum !== this.opts.portnum || p.channel !== this.channelIndex) {
      this.stats.otherPorts++;
      return;
    }
    if (data.payload.length === 0 || data.payload.length > this.mtu) {
      this.stats.malformed++;
      return;
    }
    // Keyed on content too: a packet under someone else's (from, id) cannot suppress theirs.
    if (this.recent.seen(`${from}:${p.id >>> 0}:${toHex(sha256(data.payload))}`)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.framesReceived++;
    this.listeners.emit({
      bytes: data.payload,
      from,
      hopsAway: hopsAwayOf(p.hopStart, p.hopLimit),
      snr: p.rxSnr === 0 ? null : p.rxSnr,
      rssi: p.rxRssi === 0 ? null : p.rxRssi,
      viaRadio: true,
    });
  }

  private onRouting(data: Mesh.Data): void {
    let routing: Mesh.Routing;
    try {
      routing = fromBinary(Mesh.RoutingSchema, data.payload);
    } catch {
      this.stats.malformed++;
      return;
    }
    if (routing.variant.case !== "errorReason" || routing.variant.value === Mesh.Routing_Error.NONE) return;
    const reason = routing.variant.value;
    const id = data.requestId >>> 0;
    const retry = reason === Mesh.Routing_Error.DUTY_CYCLE_LIMIT || reason === Mesh.Routing_Error.RATE_LIMIT_EXCEEDED;
    const refusal = this.outbox.refused(id, retry);
    if (refusal === null) return;
    // The QueueStatus refusing it may have come first and uncounted it already.
    if (refusal.wasCountedSent) this.stats.framesSent--;
    const name = Mesh.Routing_Error[reason] ?? String(reason);
    if (retry) {
      if (refusal.wasCountedSent) this.linkStats.retried++;
      const duty = reason === Mesh.Routing_Error.DUTY_CYCLE_LIMIT;
      // The notification for this very packet comes just before its Routing error (Router::send).
      const said = this.dutyNote?.replyId === id ? this.dutyNote.minutes : null;
      const pause = duty ? this.dutyPause.refused(said) : RATE_LIMIT_PAUSE_MS;
      if (duty) {
        this.linkStats.dutyCyclePauses++;
        this.pauseForDutyCycle(pause);
      } else {
        this.pausedUntil = Math.max(this.pausedUntil, this.deps.clock.now() + pause);
        this.dutyPausedUntil = 0;
      }
      this.log("warn", `radio refused a packet (${name}); holding ${this.queuedFrames} frames for ${Math.round(pause / 1000)} s`);
      this.pump();
      return;
    }
    this.linkStats.refusedByRadio++;
    const fix = reason === Mesh.Routing_Error.NO_CHANNEL ? `: the radio has no channel ${this.channelIndex} (see meshchain radio check)` : reason === Mesh.Routing_Error.TOO_LARGE ? ": the frame is larger than the radio accepts" : "";
    this.log("error", `radio refused a packet (${name})${fix}; frame dropped`);
  }
}
