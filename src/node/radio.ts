import type { Clock } from "../core/clock.js";
import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { PRESETS, type PresetName } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY, type SchedulerStats } from "../mesh/airtime/scheduler.js";
import { type EndpointStats, MessageEndpoint, type ReceivedMessage } from "../mesh/endpoint.js";
import type { ReassemblyStats } from "../mesh/fragmentation.js";
import type { LinkState, LinkStats } from "../mesh/mqtt-link.js";
import type { ChannelKey } from "../mesh/meshtastic/channel.js";
import type { Priority, TransportStats } from "../mesh/transport.js";
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
  /** Topic root the radio uses ("msh" unless set otherwise in the radio). */
  readonly root?: string;
}

/**
 * The node's LoRa side: its frames inside Meshtastic packets through the radio's MQTT gateway, every
 * outgoing frame through the airtime scheduler (budget, duty cycle, class priority).
 */
/** Link state and counters of one transport, as the operator sees them. */
export interface LinkDiagnostics extends Readonly<LinkStats> {
  readonly state: LinkState;
}

export interface RadioDiagnostics {
  readonly link: LinkDiagnostics;
  readonly airtime: Readonly<SchedulerStats>;
  readonly lastHourAirtimeSeconds: number;
  readonly budgetSecondsPerHour: number;
  /** The region's duty cycle as a fraction of the hour. */
  readonly dutyCycle: number;
  readonly transport: Readonly<TransportStats>;
  readonly endpoint: Readonly<EndpointStats>;
  readonly reassembly: Readonly<ReassemblyStats>;
}

export class RadioSide {
  private readonly transport: MeshtasticMqttTransport;
  private readonly scheduler: AirtimeScheduler;
  readonly endpoint: MessageEndpoint;

  private readonly budgetSecondsPerHour: number;
  private readonly dutyCycle: number;

  constructor(opts: RadioOptions, url: string, nodeNumber: number, deps: { clock: Clock; random: () => number }) {
    this.budgetSecondsPerHour = opts.budgetSecondsPerHour;
    this.dutyCycle = dutyCycleFraction(opts.region);
    this.transport = new MeshtasticMqttTransport(
      { link: { url, clientId: `meshchain-radio-${nodeNumber.toString(16)}` }, ...(opts.root === undefined ? {} : { root: opts.root }), region: opts.region, channel: opts.channel, portnum: opts.portnum, hopLimit: opts.hopLimit, nodeNumber, packetIds: opts.packetIds },
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

  /** What the operator is shown of the radio side: its link, its airtime against the budget, its queues. */
  diagnostics(): RadioDiagnostics {
    return {
      link: { state: this.transport.linkState, ...this.transport.linkStats },
      airtime: this.scheduler.airtimeStats,
      lastHourAirtimeSeconds: this.lastHourAirtimeSeconds,
      budgetSecondsPerHour: this.budgetSecondsPerHour,
      dutyCycle: this.dutyCycle,
      transport: this.transport.stats,
      endpoint: this.endpoint.stats,
      reassembly: this.endpoint.reassembly,
    };
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
