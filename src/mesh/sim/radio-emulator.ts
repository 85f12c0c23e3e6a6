import type { Clock } from "../../core/clock.js";
import { TransportError } from "../errors.js";
import type { ChannelKey } from "../meshtastic/channel.js";
import { decodeEnvelope, encodeEnvelope } from "../meshtastic/envelope.js";
import { BROADCAST, formatNodeId } from "../meshtastic/node-number.js";
import { MqttLink, type MqttLinkOptions } from "../mqtt-link.js";
import { Priority } from "../transport.js";
import type { SimRadio } from "./channel.js";

export interface EmulatedRadioOptions {
  readonly link: MqttLinkOptions;
  readonly root?: string;
  readonly region: string;
  readonly channel: ChannelKey;
  /** The radio's own node number (its gateway id on MQTT). */
  readonly nodeNumber: number;
}

export interface EmulatorStats {
  downlinked: number;
  uplinked: number;
  malformed: number;
  otherChannel: number;
  fromItself: number;
  undecryptable: number;
  duplicate: number;
  noHopsLeft: number;
  /** Downlinked packets the radio would not queue (its hour's duty cycle spent, or its queue full): released, as the firmware releases a relay. */
  refusedByRadio: number;
}

/**
 * A Meshtastic radio with its MQTT module on, in front of a simulated radio. Toward MQTT it does what
 * the firmware does: it takes a downlinked envelope onto the air only when the channel name is its
 * channel's, the packet decrypts with its key and the channel hash matches, neither the gateway nor
 * the sender is itself, it has not seen (from, id) before, and hop_limit > 0; and it uplinks what it
 * hears on air under its own gateway id (never what it took from MQTT).
 */
export class EmulatedRadio {
  private readonly link: MqttLink;
  readonly stats: EmulatorStats = { downlinked: 0, uplinked: 0, malformed: 0, otherChannel: 0, fromItself: 0, undecryptable: 0, duplicate: 0, noHopsLeft: 0, refusedByRadio: 0 };

  constructor(
    private readonly opts: EmulatedRadioOptions,
    private readonly radio: SimRadio,
    deps: { clock: Clock; random: () => number },
  ) {
    this.link = new MqttLink(opts.link, deps);
  }

  private get topic(): string {
    return `${this.opts.root ?? "msh"}/${this.opts.region}/2/e/${this.opts.channel.name}`;
  }

  async start(): Promise<void> {
    this.link.onMessage((_topic, payload) => this.downlink(payload));
    this.radio.onReceive((p, r) => {
      const envelope = encodeEnvelope(
        { from: p.from, to: BROADCAST, id: p.id, hopLimit: p.hopLimit, hopStart: p.hopStart, rxSnr: r.snr, rxRssi: Math.round(r.rssi) },
        { portnum: p.portnum, payload: p.payload, bitfield: 1, wantResponse: false },
        this.opts.channel,
        this.opts.nodeNumber,
      );
      this.stats.uplinked++;
      void this.link.publish(`${this.topic}/${formatNodeId(this.opts.nodeNumber)}`, envelope, Priority.Consensus).catch(() => undefined);
    });
    await this.link.subscribe(`${this.topic}/+`);
    this.link.start();
    await this.link.connected();
  }

  async stop(): Promise<void> {
    await this.link.stop();
  }

  private downlink(bytes: Uint8Array): void {
    let decoded;
    try {
      decoded = decodeEnvelope(bytes, this.opts.channel, { checkHash: true });
    } catch (e) {
      if (e instanceof TransportError && e.code === "UNDECRYPTABLE") this.stats.undecryptable++;
      else this.stats.malformed++;
      return;
    }
    if (decoded.channelId !== this.opts.channel.name) {
      this.stats.otherChannel++;
      return;
    }
    if (decoded.gatewayId === formatNodeId(this.opts.nodeNumber) || decoded.from === this.opts.nodeNumber) {
      this.stats.fromItself++;
      return;
    }
    if (this.radio.hasSeen(decoded.from, decoded.id)) {
      this.stats.duplicate++;
      return;
    }
    if (decoded.hopLimit <= 0) {
      this.stats.noHopsLeft++;
      return;
    }
    const refusal = this.radio.send({ from: decoded.from, id: decoded.id, hopLimit: decoded.hopLimit, hopStart: decoded.hopStart, portnum: decoded.data.portnum, payload: decoded.data.payload });
    if (refusal !== null) this.stats.refusedByRadio++;
    else this.stats.downlinked++;
  }
}
