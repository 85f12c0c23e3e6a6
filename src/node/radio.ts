import type { Clock } from "../core/clock.js";
import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { PRESETS, type PresetName } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import { MessageEndpoint, type ReceivedMessage } from "../mesh/endpoint.js";
import type { ChannelKey } from "../mesh/meshtastic/channel.js";
import type { Priority } from "../mesh/transport.js";
import { MeshtasticMqttTransport } from "../mesh/transports/meshtastic-mqtt.js";
import type { MessageType } from "../mesh/frame.js";

export interface RadioOptions {
  /** The broker the radio's MQTT gateway talks to: "embedded" for the node's own, or a URL. */
  readonly broker: string;
  readonly region: string;
  readonly preset: PresetName;
  readonly channel: ChannelKey;
  /** Private application port for our frames (256-511). */
  readonly portnum: number;
  readonly hopLimit: number;
  /** Airtime this node allows itself, seconds per hour (the region's duty cycle caps it too). */
  readonly budgetSecondsPerHour: number;
  /** Never-repeating packet ids (a ReservedCounter in the data directory). */
  readonly packetIds: { take(): number };
  /** The login at the radio's broker, if it requires one. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Topic root the radio uses ("msh" unless set otherwise in the radio). */
  readonly root?: string;
}

/**
 * The node's LoRa side: its frames inside Meshtastic packets through the radio's MQTT gateway, every
 * outgoing frame through the airtime scheduler (budget, duty cycle, class priority).
 */
export class RadioSide {
  private readonly transport: MeshtasticMqttTransport;
  private readonly scheduler: AirtimeScheduler;
  readonly endpoint: MessageEndpoint;

  constructor(opts: RadioOptions, url: string, nodeNumber: number, deps: { clock: Clock; random: () => number }) {
    this.transport = new MeshtasticMqttTransport(
      { link: { url, clientId: `meshchain-radio-${nodeNumber.toString(16)}`, ...opts.auth }, ...(opts.root === undefined ? {} : { root: opts.root }), region: opts.region, channel: opts.channel, portnum: opts.portnum, hopLimit: opts.hopLimit, nodeNumber, packetIds: opts.packetIds },
      deps,
    );
    const modulation = PRESETS[opts.preset];
    this.scheduler = new AirtimeScheduler(
      this.transport,
      (f) => meshtasticFrameAirtimeMs(modulation, f.length),
      { ...DEFAULT_AIRTIME_POLICY, budgetSecondsPerHour: opts.budgetSecondsPerHour, dutyCycle: dutyCycleFraction(opts.region) },
      deps.clock,
    );
    this.endpoint = new MessageEndpoint(this.scheduler, {}, deps);
  }

  get lastHourAirtimeSeconds(): number {
    return Math.round(this.scheduler.lastHourAirtimeMs) / 1000;
  }

  onMessage(listener: (m: ReceivedMessage) => void): void {
    this.endpoint.onMessage(listener);
  }

  send(type: MessageType, payload: Uint8Array, priority: Priority): Promise<number> {
    return this.endpoint.send(type, payload, priority);
  }

  async start(): Promise<void> {
    this.endpoint.start();
    await this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.endpoint.stop();
    await this.scheduler.stop();
  }
}
