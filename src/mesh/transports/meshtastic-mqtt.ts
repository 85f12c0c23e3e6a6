import { toHex } from "../../core/bytes.js";
import type { Clock } from "../../core/clock.js";
import { sha256 } from "../../core/crypto/hash.js";
import { TransportError } from "../errors.js";
import type { ChannelKey } from "../meshtastic/channel.js";
import { decodeEnvelope, encodeEnvelope } from "../meshtastic/envelope.js";
import { BROADCAST, formatNodeId } from "../meshtastic/node-number.js";
import { type LinkStats, MqttLink, type MqttLinkOptions } from "../mqtt-link.js";
import { emptyStats, FrameListeners, hopsAwayOf, frameHopLimit, type LinkChange, type Priority, type ReceivedFrame, type SendOptions, type Transport } from "../transport.js";
import { MESHTASTIC_MTU } from "../meshtastic/payload-limit.js";
import { assertSendable, LinkLifecycle, RecentKeys } from "./common.js";

export { MESHTASTIC_MTU };

export interface MeshtasticMqttOptions {
  readonly link: Omit<MqttLinkOptions, "statusTopic">;
  /** Topic root, "msh" unless the radios are set otherwise. */
  readonly root?: string;
  /** Region as in the radios' topics, e.g. EU_868. */
  readonly region: string;
  readonly channel: ChannelKey;
  /** Private application port, 256-511 (PRIVATE_APP is 256). */
  readonly portnum: number;
  /** Hops the radios may flood our packets (Meshtastic default 3, at most 7). */
  readonly hopLimit: number;
  readonly nodeNumber: number;
  /** Never-repeating packet ids (a ReservedCounter). */
  readonly packetIds: { take(): number };
}

/**
 * Our frames inside real Meshtastic packets, through the broker the radios bridge to: published as
 * a gateway would (ServiceEnvelope on msh/<region>/2/e/<channel>/!<our node>), and read from every
 * gateway's uplink on the channel.
 */
export class MeshtasticMqttTransport implements Transport {
  readonly kind = "meshtastic-mqtt";
  readonly mtu = MESHTASTIC_MTU;
  readonly stats = emptyStats();
  private readonly link: MqttLink;
  private readonly lifecycle: LinkLifecycle;
  private readonly listeners = new FrameListeners();
  private readonly recent = new RecentKeys(8192);

  constructor(
    private readonly opts: MeshtasticMqttOptions,
    deps: { clock: Clock; random: () => number },
  ) {
    if (!Number.isInteger(opts.portnum) || opts.portnum < 256 || opts.portnum > 511) {
      throw new TransportError("BAD_CHANNEL_KEY", `port ${opts.portnum} is not a private application port (256-511)`);
    }
    if (!Number.isInteger(opts.hopLimit) || opts.hopLimit < 0 || opts.hopLimit > 7) throw new TransportError("BAD_CHANNEL_KEY", "hop limit must be 0-7");
    this.link = new MqttLink(opts.link, deps);
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

  private get channelTopic(): string {
    return `${this.opts.root ?? "msh"}/${this.opts.region}/2/e/${this.opts.channel.name}`;
  }

  async start(): Promise<void> {
    await this.lifecycle.start(`${this.channelTopic}/+`, (_topic, payload) => this.receive(payload));
  }

  async stop(): Promise<void> {
    await this.lifecycle.stop();
  }

  async send(frame: Uint8Array, priority: Priority, options?: SendOptions): Promise<void> {
    assertSendable(this.lifecycle.state, frame, this.mtu, this.kind);
    const { nodeNumber, channel, portnum } = this.opts;
    // The gateway radio does not transmit a downlink whose hop_limit is 0 (firmware MQTT module; the
    // emulator models it): 1 is the least that still reaches the gateway's direct neighbours.
    const hopLimit = frameHopLimit(this.opts.hopLimit, options, Math.min(1, this.opts.hopLimit));
    const envelope = encodeEnvelope(
      { from: nodeNumber, to: BROADCAST, id: this.opts.packetIds.take(), hopLimit, hopStart: hopLimit },
      { portnum, payload: frame, bitfield: 1, wantResponse: false },
      channel,
      nodeNumber,
    );
    await this.link.publish(`${this.channelTopic}/${formatNodeId(nodeNumber)}`, envelope, priority);
    this.stats.framesSent++;
  }

  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    return this.listeners.add(listener);
  }

  private receive(payload: Uint8Array): void {
    if (this.lifecycle.state !== "running") return;
    let packet;
    try {
      packet = decodeEnvelope(payload, this.opts.channel, { checkHash: true });
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.code === "UNDECRYPTABLE") this.stats.undecryptable++;
      else this.stats.malformed++;
      return;
    }
    // On a channel with a key, a packet that did not travel encrypted was not sent by a key holder: a
    // gateway of that channel uplinks it encrypted (or decoded only on a keyless channel).
    if (this.opts.channel.key.length > 0 && !packet.wasEncrypted) {
      this.stats.plaintextRefused++;
      return;
    }
    if (packet.from === this.opts.nodeNumber) {
      this.stats.ownEchoes++;
      return;
    }
    if (packet.data.portnum !== this.opts.portnum) {
      this.stats.otherPorts++;
      return;
    }
    // Several gateways uplink the same packet, byte for byte. Keyed on its content too, so that a
    // packet sent first under a victim's predictable (from, id) cannot suppress the victim's own.
    if (this.recent.seen(`${packet.from}:${packet.id}:${toHex(sha256(packet.data.payload))}`)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.framesReceived++;
    this.listeners.emit({
      bytes: packet.data.payload,
      from: packet.from,
      hopsAway: hopsAwayOf(packet.hopStart, packet.hopLimit),
      snr: packet.rxSnr === 0 ? null : packet.rxSnr,
      rssi: packet.rxRssi === 0 ? null : packet.rxRssi,
      viaRadio: true,
    });
  }
}
