import type { Clock } from "../core/clock.js";
import { meshtasticFrameAirtimeMs } from "../mesh/airtime/airtime.js";
import { PRESETS, presetByName, type PresetName } from "../mesh/airtime/presets.js";
import { dutyCycleFraction } from "../mesh/airtime/regions.js";
import { AirtimeScheduler, DEFAULT_AIRTIME_POLICY, type SchedulerStats } from "../mesh/airtime/scheduler.js";
import { type EndpointStats, MessageEndpoint, type ReceivedMessage } from "../mesh/endpoint.js";
import type { ReassemblyStats } from "../mesh/fragmentation.js";
import type { LinkState } from "../mesh/mqtt-link.js";
import type { ChannelKey } from "../mesh/meshtastic/channel.js";
import { formatNodeId } from "../mesh/meshtastic/node-number.js";
import type { RadioChannelView, RadioView } from "../mesh/meshtastic/radio-view.js";
import type { DutyCyclePause, LinkChange, Priority, Transport, TransportStats } from "../mesh/transport.js";
import { MeshtasticMqttTransport } from "../mesh/transports/meshtastic-mqtt.js";
import { MeshtasticStreamTransport, type RadioLog, type StreamLinkState } from "../mesh/transports/meshtastic-stream.js";
import type { MessageType } from "../mesh/frame.js";
import { RadioError } from "./errors.js";
import type { Logger } from "./logger.js";

export interface RadioOptions {
  /**
   * Where the radio is: `serial:///dev/ttyACM0` (or `serial://auto`) or `tcp://host:4403` for its
   * stream API, or the broker its MQTT gateway talks to: "embedded" for the node's own, or an mqtt:// URL.
   */
  readonly broker: string;
  /** LoRa region; null: the radio's own (stream API only). */
  readonly region: string | null;
  /** Modem preset; null: the radio's own (stream API only). */
  readonly preset: PresetName | null;
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

/** What `meshchain status` shows about the radio. */
export interface RadioStatus {
  /** injected: a transport the node was given rather than one it built (the devnet's simulated radio). */
  readonly link: "stream" | "mqtt-gateway" | "injected";
  readonly address: string;
  /** connected, connecting, waiting (to reconnect) … */
  readonly state: string;
  readonly region: string;
  readonly preset: string;
  /** What the radio reported at its last handshake; null on the MQTT gateway path, which cannot ask. */
  readonly reported: {
    readonly nodeId: string;
    readonly firmwareVersion: string;
    readonly region: string;
    readonly preset: string;
    readonly hopLimit: number;
    readonly ignoreMqtt: boolean;
    readonly rebroadcastMode: string;
    readonly role: string;
    readonly channels: readonly RadioChannelView[];
  } | null;
  /** Frames waiting for room in the radio's queue or for a refusal pause to end. */
  readonly queuedFrames: number;
  /** The radio refused our frame for its duty cycle: frames held, and when the link offers them again (ms). */
  readonly dutyCyclePause: DutyCyclePause | null;
  readonly framesSent: number;
  readonly framesReceived: number;
  /** Times the link to the radio was (re)established; null behind a gateway (see the broker link). */
  readonly connects: number | null;
  readonly lastError: string | null;
}

export const isStreamRadio = (address: string): boolean => /^(serial|tcp):\/\//.test(address);

function radioLog(logger: Logger | undefined, address: string): RadioLog | undefined {
  if (logger === undefined) return undefined;
  return (level, message, fields) => logger[level]({ radio: address, ...fields }, message);
}

/** An injected transport holds no link of its own: it is up between its start and its stop. */
export type InjectedLinkState = "new" | "connected" | "stopped";

/** Builds the radio transport of a node that is given one (the devnet's simulator), with the node's never-repeating packet ids. */
export type RadioTransportFactory = (link: { readonly packetIds: { take(): number }; readonly hopLimit: number }) => Transport;

/** Link state and counters of one transport, as the operator sees them. */
export interface LinkDiagnostics {
  readonly state: LinkState | StreamLinkState | InjectedLinkState;
  readonly connects: number;
  readonly disconnects: number;
  /** Frames held while the link is down (MQTT), or waiting for room in the radio's queue (stream). */
  readonly queued: number;
  /** Frames given up: pushed out of a full queue (MQTT), or refused for good by the radio (stream). */
  readonly droppedFromQueue: number;
  /** MQTT connections cut for an oversized packet (absent on a stream radio). */
  readonly oversizeRefused?: number;
  readonly lastError: string | null;
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

/**
 * The node's LoRa side: its frames through the radio (its stream API over USB or TCP, or its MQTT
 * gateway), every outgoing frame through the airtime scheduler (budget, duty cycle, class priority).
 */
export class RadioSide {
  private readonly scheduler: AirtimeScheduler;
  readonly endpoint: MessageEndpoint;

  private readonly budgetSecondsPerHour: number;
  private readonly dutyCycle: number;
  private injectedState: InjectedLinkState = "new";

  private constructor(
    private readonly transport: MeshtasticStreamTransport | MeshtasticMqttTransport | Transport,
    private readonly address: string,
    private readonly region: string,
    private readonly preset: PresetName,
    opts: RadioOptions,
    deps: { clock: Clock; random: () => number; isVerifiedSender?: (node: number) => boolean },
  ) {
    this.budgetSecondsPerHour = opts.budgetSecondsPerHour;
    this.dutyCycle = dutyCycleFraction(region);
    const modulation = PRESETS[preset];
    this.scheduler = new AirtimeScheduler(
      transport,
      (f) => meshtasticFrameAirtimeMs(modulation, f.length),
      { ...DEFAULT_AIRTIME_POLICY, budgetSecondsPerHour: opts.budgetSecondsPerHour, dutyCycle: dutyCycleFraction(region) },
      deps.clock,
    );
    this.endpoint = new MessageEndpoint(this.scheduler, deps.isVerifiedSender === undefined ? {} : { isVerifiedSender: deps.isVerifiedSender }, deps);
  }

  /**
   * Reaches the radio. A stream-API radio is connected here, since region, preset and node number
   * come from it; settings given by the operator that differ from the radio's are an error.
   */
  static async connect(opts: RadioOptions, url: string, nodeNumber: number, deps: { clock: Clock; random: () => number; logger?: Logger; isVerifiedSender?: (node: number) => boolean }): Promise<RadioSide> {
    if (!isStreamRadio(url)) {
      if (opts.region === null || opts.preset === null) throw new RadioError("SETTINGS_MISMATCH", "a radio behind an MQTT gateway cannot be asked its region and preset: give --region and --preset");
      const transport = new MeshtasticMqttTransport(
        { link: { url, clientId: `meshchain-radio-${nodeNumber.toString(16)}`, ...opts.auth }, ...(opts.root === undefined ? {} : { root: opts.root }), region: opts.region, channel: opts.channel, portnum: opts.portnum, hopLimit: opts.hopLimit, nodeNumber, packetIds: opts.packetIds },
        deps,
      );
      return new RadioSide(transport, url, opts.region, opts.preset, opts, deps);
    }
    const log = radioLog(deps.logger, url);
    const transport = new MeshtasticStreamTransport({ radio: url, channel: opts.channel, portnum: opts.portnum, hopLimit: opts.hopLimit, packetIds: opts.packetIds }, { clock: deps.clock, random: deps.random, ...(log === undefined ? {} : { log }) });
    await transport.start();
    const view = transport.radioView as RadioView;
    try {
      const { region, preset } = agreeWithRadio(opts, view);
      transport.onRadioView((v) => {
        if (v.region !== region || v.preset !== preset) log?.("error", `the radio now reports ${v.region} ${v.preset}, but this node schedules airtime for ${region} ${preset}: restart the node`);
      });
      return new RadioSide(transport, url, region, preset, opts, deps);
    } catch (e) {
      await transport.stop();
      throw e;
    }
  }

  /**
   * Over a transport the caller built (the devnet's simulated radio, on a virtual clock): the same
   * scheduler and endpoint as a real radio's, with region and preset as given (nothing to ask).
   */
  static over(transport: Transport, opts: RadioOptions & { readonly region: string; readonly preset: PresetName }, deps: { clock: Clock; random: () => number; isVerifiedSender?: (node: number) => boolean }): RadioSide {
    return new RadioSide(transport, `injected:${transport.kind}`, opts.region, opts.preset, opts, deps);
  }

  /** The radio's node number when it sends as itself (stream API, or a given transport); null behind an MQTT gateway. */
  get radioNodeNumber(): number | null {
    return this.transport instanceof MeshtasticMqttTransport ? null : this.transport.localNode;
  }

  private get linkState(): LinkState | StreamLinkState | InjectedLinkState {
    const t = this.transport;
    return t instanceof MeshtasticStreamTransport || t instanceof MeshtasticMqttTransport ? t.linkState : this.injectedState;
  }

  get status(): RadioStatus {
    const t = this.transport;
    const stream = t instanceof MeshtasticStreamTransport;
    const view = stream ? t.radioView : null;
    return {
      link: stream ? "stream" : t instanceof MeshtasticMqttTransport ? "mqtt-gateway" : "injected",
      address: this.address,
      state: this.linkState,
      region: this.region,
      preset: this.preset,
      reported: view === null ? null : {
        nodeId: formatNodeId(view.nodeNumber), firmwareVersion: view.firmwareVersion, region: view.region, preset: view.preset, hopLimit: view.hopLimit,
        ignoreMqtt: view.ignoreMqtt, rebroadcastMode: view.rebroadcastMode, role: view.role, channels: view.channels,
      },
      queuedFrames: stream ? t.queuedFrames : 0,
      dutyCyclePause: t instanceof MeshtasticMqttTransport ? null : (t.dutyCyclePause ?? null),
      framesSent: t.stats.framesSent,
      framesReceived: t.stats.framesReceived,
      connects: stream ? t.linkStats.connects : null,
      lastError: stream ? t.linkStats.lastError : null,
    };
  }

  get lastHourAirtimeSeconds(): number {
    return Math.round(this.scheduler.lastHourAirtimeMs) / 1000;
  }

  onLinkChange(listener: (change: LinkChange) => void): () => void {
    return this.transport.onLinkChange?.(listener) ?? (() => undefined);
  }

  /** What the operator is shown of the radio side: its link, its airtime against the budget, its queues. */
  diagnostics(): RadioDiagnostics {
    const t = this.transport;
    const link: LinkDiagnostics = t instanceof MeshtasticStreamTransport
      ? { state: t.linkState, connects: t.linkStats.connects, disconnects: t.linkStats.disconnects, queued: t.queuedFrames, droppedFromQueue: t.linkStats.refusedByRadio, lastError: t.linkStats.lastError }
      : t instanceof MeshtasticMqttTransport
        ? { state: t.linkState, ...t.linkStats }
        : { state: this.injectedState, connects: this.injectedState === "new" ? 0 : 1, disconnects: 0, queued: 0, droppedFromQueue: 0, lastError: null };
    return {
      link,
      airtime: this.scheduler.airtimeStats,
      lastHourAirtimeSeconds: this.lastHourAirtimeSeconds,
      budgetSecondsPerHour: this.budgetSecondsPerHour,
      dutyCycle: this.dutyCycle,
      transport: t.stats,
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
    if (this.injectedState === "new") this.injectedState = "connected";
  }

  async stop(): Promise<void> {
    this.endpoint.stop();
    await this.scheduler.stop();
    if (this.injectedState === "connected") this.injectedState = "stopped";
  }
}

/** Region and preset the scheduler uses: the operator's if given (and then the radio must agree), else the radio's. */
export function agreeWithRadio(opts: Pick<RadioOptions, "region" | "preset">, view: RadioView): { region: string; preset: PresetName } {
  if (view.region === "UNSET") throw new RadioError("SETTINGS_MISMATCH", "the radio has no LoRa region set, so it does not transmit: set it with meshchain radio setup --region <REGION>");
  if (opts.region !== null && opts.region !== view.region) throw new RadioError("SETTINGS_MISMATCH", `--region is ${opts.region} but the radio is set to ${view.region}: change one of them (meshchain radio setup --region ${opts.region})`);
  const radioPreset = view.usePreset ? presetByName(view.preset) : null;
  if (opts.preset !== null && radioPreset !== null && opts.preset !== radioPreset) throw new RadioError("SETTINGS_MISMATCH", `--preset is ${opts.preset} but the radio uses ${radioPreset}: change one of them (meshchain radio setup --preset ${opts.preset})`);
  const preset = opts.preset ?? radioPreset;
  if (preset === null) throw new RadioError("SETTINGS_MISMATCH", "the radio uses custom LoRa settings, not a preset: give the nearest with --preset so airtime can be budgeted");
  return { region: view.region, preset };
}
