import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Clock } from "../core/clock.js";
import { TransportError } from "./errors.js";
import { guardMqttPacketSize, MAX_MQTT_PACKET_BYTES } from "./mqtt-size-guard.js";
import type { LinkChange, Priority } from "./transport.js";

export interface MqttTlsOptions {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly rejectUnauthorized?: boolean;
}

/** A connection that lasted this long was a working one: the backoff starts over after it drops. */
const STABLE_CONNECTION_MS = 30_000;

/** How long stopping waits for a goodbye or a disconnect the broker may never acknowledge. */
const STOP_TIMEOUT_MS = 2_000;

export interface MqttLinkOptions {
  /** mqtt://host:port or mqtts://host:port */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: MqttTlsOptions;
  /** Retained "offline" status the broker publishes if we vanish; "online" is published on connect. */
  readonly statusTopic?: string;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Messages held while disconnected; beyond it the least urgent give way or the caller is refused. */
  readonly queueLimit?: number;
}

export type LinkState = "idle" | "connecting" | "connected" | "disconnected" | "closed";


interface Queued {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly priority: Priority;
  readonly seq: number;
  readonly qos: 0 | 1;
}

export interface LinkStats {
  connects: number;
  disconnects: number;
  queued: number;
  droppedFromQueue: number;
  /** Connections cut because the broker sent a packet over MAX_MQTT_PACKET_BYTES. */
  oversizeRefused: number;
  lastError: string | null;
}

/**
 * One MQTT connection that survives its broker: reconnects with exponential backoff and jitter,
 * holds outbound messages in a bounded queue while down and sends them by priority when back.
 */
export class MqttLink {
  private client: MqttClient | null = null;
  private stateValue: LinkState = "idle";
  private attempts = 0;
  private connectedAt: number | null = null;
  private reconnectTimer: unknown = null;
  private seq = 0;
  private readonly queue: Queued[] = [];
  private readonly topics = new Set<string>();
  private readonly handlers = new Set<(topic: string, payload: Uint8Array) => void>();
  private readonly connectedWaiters: (() => void)[] = [];
  private readonly changeListeners = new Set<(change: LinkChange) => void>();
  private lastChange: { state: LinkChange["state"]; reason: string | null } | null = null;
  readonly stats: LinkStats = { connects: 0, disconnects: 0, queued: 0, droppedFromQueue: 0, oversizeRefused: 0, lastError: null };
  private readonly guarded = new WeakSet<object>();

  constructor(
    private readonly opts: MqttLinkOptions,
    private readonly deps: { clock: Clock; random: () => number },
  ) {}

  get state(): LinkState {
    return this.stateValue;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  /** Begins connecting and returns at once: a broker that is not up yet is retried, never fatal. */
  start(): void {
    if (this.stateValue !== "idle") return;
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 60,
      clean: true,
      queueQoSZero: false,
      resubscribe: false,
      ...(o.statusTopic === undefined ? {} : { will: { topic: o.statusTopic, payload: Buffer.from("offline"), qos: 1 as const, retain: true } }),
      ...(o.tls === undefined ? {} : this.tlsOptions(o.tls)),
    };
    this.stateValue = "connecting";
    let client: MqttClient;
    try {
      client = mqtt.connect(o.url, options);
    } catch (e) {
      this.stateValue = "closed";
      throw new TransportError("BROKER_UNREACHABLE", `cannot connect to ${o.url}: ${(e as Error).message}`);
    }
    this.client = client;
    client.on("connect", () => {
      this.guard(client);
      this.onConnect();
    });
    client.on("close", () => this.onClose());
    client.on("error", (e) => (this.stats.lastError = e.message));
    client.on("message", (topic, payload) => {
      const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
      for (const h of this.handlers) h(topic, bytes);
    });
  }

  /**
   * Each new connection's bytes are watched from its CONNACK on (nothing else comes before we
   * subscribe): an oversized packet cuts the connection before its body is buffered; we reconnect.
   */
  private guard(client: MqttClient): void {
    const stream = client.stream;
    if (this.guarded.has(stream)) return;
    this.guarded.add(stream);
    // Without it a small frame written after another waits for the peer's delayed ACK (Nagle): about
    // 40 ms per request-and-answer on Linux, which capped range sync near 25 round trips a second.
    if (stream instanceof Socket) stream.setNoDelay(true);
    guardMqttPacketSize(stream, (bytes) => {
      this.stats.oversizeRefused++;
      this.stats.lastError = `the broker sent a packet of ${bytes} bytes, over the ${MAX_MQTT_PACKET_BYTES}-byte limit`;
    });
  }

  private tlsOptions(t: MqttTlsOptions): Partial<IClientOptions> {
    const read = (path: string | undefined) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (e) {
        throw new TransportError("BROKER_UNREACHABLE", `cannot read TLS file ${path}: ${(e as Error).message}`);
      }
    };
    return { ca: read(t.caFile), cert: read(t.certFile), key: read(t.keyFile), rejectUnauthorized: t.rejectUnauthorized ?? true };
  }

  /** Resolves once connected (for start-up sequencing and tests). */
  connected(): Promise<void> {
    if (this.stateValue === "connected") return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Told when the link comes up, goes down, or stays down for a different reason. */
  onChange(listener: (change: LinkChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private tell(change: LinkChange): void {
    const last = this.lastChange;
    if (last !== null && last.state === change.state && last.reason === change.reason) return;
    this.lastChange = { state: change.state, reason: change.reason };
    for (const l of this.changeListeners) l(change);
  }

  onMessage(handler: (topic: string, payload: Uint8Array) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async subscribe(topic: string): Promise<void> {
    this.topics.add(topic);
    if (this.stateValue === "connected" && this.client !== null) await this.client.subscribeAsync(topic, { qos: 1 });
  }

  /**
   * Publish now, or queue while disconnected. Throws QUEUE_FULL when nothing less urgent can give way.
   * QoS 1 has the broker acknowledge the message, and the client send it again over a new connection
   * if the old one dropped before the acknowledgement (subscriptions are QoS 1, so the broker's copy to
   * each connected subscriber is acknowledged too).
   */
  async publish(topic: string, payload: Uint8Array, priority: Priority, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    if (this.stateValue === "closed") throw new TransportError("CLOSED", "the MQTT link is closed");
    const qos = opts.qos ?? 0;
    if (this.stateValue === "connected" && this.client !== null) {
      await this.client.publishAsync(topic, Buffer.from(payload), { qos, retain: opts.retain ?? false });
      return;
    }
    this.enqueue({ topic, payload, priority, seq: this.seq++, qos });
  }

  private enqueue(item: Queued): void {
    const limit = this.opts.queueLimit ?? 256;
    if (this.queue.length >= limit) {
      // The least urgent, then the newest, gives way — if it is less urgent than the newcomer.
      let worst = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const a = this.queue[i] as Queued;
        const b = this.queue[worst] as Queued;
        if (a.priority > b.priority || (a.priority === b.priority && a.seq > b.seq)) worst = i;
      }
      if ((this.queue[worst] as Queued).priority <= item.priority) {
        throw new TransportError("QUEUE_FULL", `MQTT link is down and its queue of ${limit} holds nothing less urgent`);
      }
      this.queue.splice(worst, 1);
      this.stats.droppedFromQueue++;
    }
    this.queue.push(item);
    this.stats.queued++;
  }

  private onConnect(): void {
    this.stateValue = "connected";
    this.connectedAt = this.deps.clock.now();
    this.stats.connects++;
    this.stats.lastError = null;
    this.tell({ state: "connected", reason: null, retryInMs: null });
    const client = this.client;
    if (client === null) return;
    if (this.opts.statusTopic !== undefined) void client.publishAsync(this.opts.statusTopic, "online", { qos: 1, retain: true }).catch(() => undefined);
    const pending = this.queue.splice(0).sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    for (const q of pending) void client.publishAsync(q.topic, Buffer.from(q.payload), { qos: q.qos }).catch(() => undefined);
    // Waiters learn of the connection once our subscriptions hold, so nothing sent to us is missed.
    void Promise.all([...this.topics].map((t) => client.subscribeAsync(t, { qos: 1 })))
      .catch((e: Error) => (this.stats.lastError = e.message))
      .finally(() => {
        for (const w of this.connectedWaiters.splice(0)) w();
      });
  }

  private onClose(): void {
    if (this.stateValue === "closed") return;
    if (this.stateValue === "connected") this.stats.disconnects++;
    // A broker that takes the connection and drops it at once (or another client taking our id) must
    // not make us reconnect at the shortest interval forever: only a connection that held resets the backoff.
    if (this.connectedAt !== null && this.deps.clock.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.attempts = 0;
    this.connectedAt = null;
    this.stateValue = "disconnected";
    if (this.reconnectTimer !== null) return;
    const min = this.opts.reconnectMinMs ?? 1_000;
    const max = this.opts.reconnectMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempts, 16));
    const delay = Math.round(base / 2 + (base / 2) * this.deps.random());
    this.attempts++;
    this.tell({ state: "disconnected", reason: this.stats.lastError ?? "connection closed", retryInMs: delay });
    this.reconnectTimer = this.deps.clock.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stateValue === "closed" || this.client === null) return;
      this.stateValue = "connecting";
      this.client.reconnect();
    }, delay);
  }

  async stop(): Promise<void> {
    if (this.stateValue === "closed") return;
    const wasConnected = this.stateValue === "connected";
    this.stateValue = "closed";
    if (this.reconnectTimer !== null) this.deps.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    if (client === null) return;
    // A broker that went away answers nothing: neither the goodbye nor the disconnect may hold up shutdown.
    if (wasConnected && this.opts.statusTopic !== undefined) await this.within(client.publishAsync(this.opts.statusTopic, "offline", { qos: 1, retain: true }).then(() => true, () => true));
    if (!(await this.within(client.endAsync(!wasConnected).then(() => true, () => true)))) client.end(true);
  }

  /** The promise's value, or false if it takes longer than the stop timeout. */
  private within(p: Promise<boolean>): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
      void p.then((v) => {
        this.deps.clock.clearTimeout(timer);
        resolve(v);
      });
    });
  }
}
