import type { Clock } from "../../core/clock.js";
import { type LinkStats, MqttLink, type MqttLinkOptions } from "../mqtt-link.js";
import { emptyStats, FrameListeners, type LinkChange, Priority, type ReceivedFrame, type Transport } from "../transport.js";
import { assertSendable, LinkLifecycle } from "./common.js";

/** Large enough that nearly every message travels whole. */
export const MQTT_MTU = 8192;

export interface MqttTransportOptions {
  readonly link: Omit<MqttLinkOptions, "statusTopic">;
  readonly chainId: string;
  readonly nodeNumber: number;
  readonly root?: string;
}

const nodeHex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/**
 * Raw frames between nodes that have an IP link: meshchain/<chain-id>/f/<node> carries a node's
 * frames; meshchain/<chain-id>/status/<node> its retained online/offline state (last will).
 */
export class MqttTransport implements Transport {
  readonly kind = "mqtt";
  readonly mtu = MQTT_MTU;
  readonly stats = emptyStats();
  private readonly link: MqttLink;
  private readonly lifecycle: LinkLifecycle;
  private readonly listeners = new FrameListeners();

  constructor(
    private readonly opts: MqttTransportOptions,
    deps: { clock: Clock; random: () => number },
  ) {
    this.link = new MqttLink({ ...opts.link, statusTopic: `${this.base}/status/${nodeHex(opts.nodeNumber)}` }, deps);
    this.lifecycle = new LinkLifecycle(this.link);
  }

  get localNode(): number {
    return this.opts.nodeNumber;
  }

  get linkState() {
    return this.link.state;
  }

  onLinkChange(listener: (change: LinkChange) => void): () => void {
    return this.link.onChange(listener);
  }

  /** Connects, disconnects and queue drops of the MQTT connection underneath. */
  get linkStats(): Readonly<LinkStats> {
    return this.link.stats;
  }

  private get base(): string {
    return `${this.opts.root ?? "meshchain"}/${this.opts.chainId}`;
  }

  async start(): Promise<void> {
    await this.lifecycle.start(`${this.base}/f/+`, (topic, payload) => this.receive(topic, payload));
  }

  async stop(): Promise<void> {
    await this.lifecycle.stop();
  }

  async send(frame: Uint8Array, priority: Priority): Promise<void> {
    assertSendable(this.lifecycle.state, frame, this.mtu, this.kind);
    // Transactions were acknowledged to a user: the broker acknowledges them in turn. Consensus and
    // control traffic is repeated by the protocol itself and stays fire-and-forget.
    await this.link.publish(`${this.base}/f/${nodeHex(this.opts.nodeNumber)}`, frame, priority, { qos: priority === Priority.Transaction ? 1 : 0 });
    this.stats.framesSent++;
  }

  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    return this.listeners.add(listener);
  }

  private receive(topic: string, payload: Uint8Array): void {
    if (this.lifecycle.state !== "running") return;
    const sender = topic.slice(topic.lastIndexOf("/") + 1);
    if (!/^[0-9a-f]{8}$/.test(sender) || payload.length === 0 || payload.length > this.mtu) {
      this.stats.malformed++;
      return;
    }
    const from = Number.parseInt(sender, 16);
    if (from === this.opts.nodeNumber) {
      this.stats.ownEchoes++;
      return;
    }
    this.stats.framesReceived++;
    this.listeners.emit({ bytes: Uint8Array.from(payload), from, hopsAway: null, snr: null, rssi: null, viaRadio: false });
  }
}
