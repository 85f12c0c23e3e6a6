import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Admin, Channel, Config, Mesh, ModuleConfig, Portnums } from "@meshtastic/protobufs";
import type { Clock } from "../../core/clock.js";
import { dutyCycleFraction } from "../airtime/regions.js";
import { BITFIELD_OK_TO_MQTT } from "../meshtastic/envelope.js";
import { BROADCAST } from "../meshtastic/node-number.js";
import { encodeStreamFrame, StreamDeframer } from "../meshtastic/stream-framing.js";
import { CONFIG_WITHOUT_NODES } from "../meshtastic/stream-session.js";
import type { SimRadio } from "./channel.js";
import type { RadioRefusal } from "./duty-cycle.js";

const MAX_CHANNELS = 8;
/** The firmware's Data payload limit (DATA_PAYLOAD_LEN). */
const MAX_DATA_PAYLOAD = 233;
/** QueueStatus.res for a packet the radio did not take (any non-zero errno). */
const ERRNO_NO_ROOM = 1;

function enumValue(e: Record<string, string | number>, name: string, what: string): number {
  const v = e[name];
  if (typeof v !== "number") throw new RangeError(`${name} is not a Meshtastic ${what}`);
  return v;
}

export interface StreamRadioSettings {
  readonly nodeNumber: number;
  readonly firmwareVersion: string;
  /** Meshtastic names: EU_868, UNSET …; LONG_FAST … */
  readonly region: string;
  readonly preset: string;
  readonly hopLimit: number;
  readonly ignoreMqtt: boolean;
  readonly role: string;
  readonly rebroadcastMode: string;
  /** Index 0 is the primary channel; at most 8. */
  readonly channels: readonly { readonly name: string; readonly psk: Uint8Array }[];
  readonly mqttEnabled: boolean;
}

export interface StreamRadioOptions {
  readonly settings: StreamRadioSettings;
  /** The firmware's transmit queue (MAX_TX_QUEUE): 16. */
  readonly queueSize?: number;
  /** A client silent this long is dropped (the firmware's 15 minutes). */
  readonly clientTimeoutMs?: number;
  /** Time from a config change to the radio being back. */
  readonly rebootMs?: number;
  /** Duty cycle the radio enforces, as a fraction of an hour; default: its region's (none with override_duty_cycle). */
  readonly dutyCycle?: number;
}

/** One connected client: a TCP socket or the serial line. */
export interface ApiPeer {
  readonly kind: "tcp" | "serial";
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface StreamRadioStats {
  accepted: number;
  refusedQueueFull: number;
  refusedDutyCycle: number;
  refusedNoChannel: number;
  refusedTooLarge: number;
  delivered: number;
  heartbeats: number;
  timeouts: number;
  reboots: number;
  malformed: number;
  /** When each accepted packet was taken (clock time), by id. */
  readonly acceptedAt: Map<number, number>;
}

interface Client {
  readonly peer: ApiPeer;
  readonly deframer: StreamDeframer;
  api: boolean;
  lastContact: number;
  timer: unknown;
}

/**
 * A Meshtastic radio's phone API, as the firmware behaves toward a client over serial or TCP, in
 * front of a simulated LoRa radio: the want_config handshake in the firmware's order, a transmit
 * queue of 16 reported by QueueStatus, refusal (Routing DUTY_CYCLE_LIMIT, the simulated radio's own
 * rule) once the hour's duty cycle is spent, clients dropped after 15 minutes of silence, and a
 * reboot after a config change.
 */
export class StreamRadio {
  readonly stats: StreamRadioStats = { accepted: 0, refusedQueueFull: 0, refusedDutyCycle: 0, refusedNoChannel: 0, refusedTooLarge: 0, delivered: 0, heartbeats: 0, timeouts: 0, reboots: 0, malformed: 0, acceptedAt: new Map() };
  private readonly clients = new Set<Client>();
  private lora: Config.Config_LoRaConfig;
  private device: Config.Config_DeviceConfig;
  private mqtt: ModuleConfig.ModuleConfig_MQTTConfig;
  private channels: Channel.Channel[];
  private rebootingUntil = 0;
  private editing = false;
  private pendingReboot: unknown = null;
  private readonly rebootListeners = new Set<() => void>();

  constructor(
    private readonly radio: SimRadio,
    private readonly opts: StreamRadioOptions,
    private readonly clock: Clock,
  ) {
    const s = opts.settings;
    this.lora = create(Config.Config_LoRaConfigSchema, {
      usePreset: true,
      modemPreset: enumValue(Config.Config_LoRaConfig_ModemPreset, s.preset, "modem preset"),
      region: enumValue(Config.Config_LoRaConfig_RegionCode, s.region, "region"),
      hopLimit: s.hopLimit,
      txEnabled: true,
      ignoreMqtt: s.ignoreMqtt,
    });
    this.device = create(Config.Config_DeviceConfigSchema, {
      role: enumValue(Config.Config_DeviceConfig_Role, s.role, "role"),
      rebroadcastMode: enumValue(Config.Config_DeviceConfig_RebroadcastMode, s.rebroadcastMode, "rebroadcast mode"),
    });
    this.mqtt = create(ModuleConfig.ModuleConfig_MQTTConfigSchema, { enabled: s.mqttEnabled });
    this.channels = Array.from({ length: MAX_CHANNELS }, (_, index) => {
      const c = s.channels[index];
      return create(Channel.ChannelSchema, {
        index,
        role: c === undefined ? Channel.Channel_Role.DISABLED : index === 0 ? Channel.Channel_Role.PRIMARY : Channel.Channel_Role.SECONDARY,
        ...(c === undefined ? {} : { settings: create(Channel.ChannelSettingsSchema, { name: c.name, psk: c.psk }) }),
      });
    });
    radio.onReceive((p, r) => {
      if (this.rebooting) return;
      const packet = create(Mesh.MeshPacketSchema, {
        from: p.from,
        to: BROADCAST,
        id: p.id,
        channel: 0,
        hopLimit: p.hopLimit,
        hopStart: p.hopStart,
        rxSnr: r.snr,
        rxRssi: Math.round(r.rssi),
        payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: p.portnum, payload: p.payload, bitfield: BITFIELD_OK_TO_MQTT }) },
      });
      for (const c of this.clients) if (c.api) this.sendTo(c, { case: "packet", value: packet });
      this.stats.delivered++;
    });
    radio.dutyCycle = this.dutyCycle;
    // Router::send notifies the client of every packet it refuses for the duty cycle, relays included.
    radio.onRefusal((p, r) => {
      if (this.rebooting || r.code !== "DUTY_CYCLE_LIMIT") return;
      for (const c of this.clients) if (c.api) this.notifyDutyCycle(c, p.id, r);
    });
  }

  /** The duty cycle its firmware applies: its region's, none with override_duty_cycle, unless the options say. */
  private get dutyCycle(): number {
    if (this.opts.dutyCycle !== undefined) return this.opts.dutyCycle;
    if (this.lora.overrideDutyCycle) return 1;
    return dutyCycleFraction(Config.Config_LoRaConfig_RegionCode[this.lora.region] ?? "UNSET");
  }

  private notifyDutyCycle(c: Client, id: number, r: RadioRefusal): void {
    const message = `Duty cycle limit exceeded. You can send again in ${r.silentMinutes} mins`;
    this.sendTo(c, { case: "clientNotification", value: create(Mesh.ClientNotificationSchema, { replyId: id, level: Mesh.LogRecord_Level.WARNING, message }) });
  }

  get nodeNumber(): number {
    return this.opts.settings.nodeNumber;
  }

  get rebooting(): boolean {
    return this.clock.now() < this.rebootingUntil;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get loraConfig(): Readonly<Config.Config_LoRaConfig> {
    return this.lora;
  }

  get channelList(): readonly Readonly<Channel.Channel>[] {
    return this.channels;
  }

  /** Called each time the radio restarts after a config change (servers drop their clients then). */
  onReboot(listener: () => void): void {
    this.rebootListeners.add(listener);
  }

  private get queueSize(): number {
    return this.opts.queueSize ?? 16;
  }

  /** A client arrived; returns the function its bytes go to, or null when the radio is rebooting. */
  attach(peer: ApiPeer): ((bytes: Uint8Array) => void) | null {
    if (this.rebooting) return null;
    const client: Client = { peer, api: false, lastContact: this.clock.now(), timer: null, deframer: new StreamDeframer({ frame: (f) => this.onToRadio(client, f) }) };
    this.clients.add(client);
    if (peer.kind === "serial") this.console(client, "INFO  | Meshtastic firmware (emulated) booting, serial console ready");
    this.armTimeout(client);
    return (bytes) => client.deframer.push(bytes);
  }

  detach(peer: ApiPeer): void {
    for (const c of this.clients) {
      if (c.peer !== peer) continue;
      if (c.timer !== null) this.clock.clearTimeout(c.timer);
      this.clients.delete(c);
    }
  }

  /** Drops every client (the radio's end of `stop`). */
  closeAll(): void {
    for (const c of [...this.clients]) {
      this.detach(c.peer);
      c.peer.close();
    }
    if (this.pendingReboot !== null) this.clock.clearTimeout(this.pendingReboot);
    this.pendingReboot = null;
  }

  /** Puts raw bytes in a frame on every API client's line, as a broken radio (or line noise) would. */
  injectFrame(payload: Uint8Array): void {
    for (const c of this.clients) if (c.api) c.peer.write(encodeStreamFrame(payload));
  }

  private console(c: Client, line: string): void {
    if (!c.api) c.peer.write(Buffer.from(`${line}\r\n`, "utf8"));
  }

  private sendTo(c: Client, payloadVariant: Mesh.FromRadio["payloadVariant"]): void {
    c.peer.write(encodeStreamFrame(toBinary(Mesh.FromRadioSchema, create(Mesh.FromRadioSchema, { payloadVariant }))));
  }

  private armTimeout(c: Client): void {
    if (c.timer !== null) this.clock.clearTimeout(c.timer);
    const timeout = this.opts.clientTimeoutMs ?? 15 * 60_000;
    c.timer = this.clock.setTimeout(() => {
      c.timer = null;
      if (!this.clients.has(c)) return;
      this.stats.timeouts++;
      if (c.peer.kind === "tcp") {
        this.detach(c.peer);
        c.peer.close();
      } else {
        // Serial: the API session ends and the line goes back to being the debug console.
        c.api = false;
        this.console(c, "INFO  | Lost phone connection");
        this.armTimeout(c);
      }
    }, timeout);
  }

  private onToRadio(c: Client, bytes: Uint8Array): void {
    let message: Mesh.ToRadio;
    try {
      message = fromBinary(Mesh.ToRadioSchema, bytes);
    } catch {
      this.stats.malformed++;
      return;
    }
    c.lastContact = this.clock.now();
    this.armTimeout(c);
    const v = message.payloadVariant;
    switch (v.case) {
      case "wantConfigId":
        return this.sendConfig(c, v.value);
      case "heartbeat":
        this.stats.heartbeats++;
        return this.sendTo(c, { case: "queueStatus", value: this.queueStatus(0, 0) });
      case "disconnect":
        c.api = false;
        return;
      case "packet":
        return this.onPacket(c, v.value);
      default:
        return;
    }
  }

  private queueStatus(res: number, id: number): Mesh.QueueStatus {
    return create(Mesh.QueueStatusSchema, { res, free: Math.max(0, this.queueSize - this.radio.queueLength), maxlen: this.queueSize, meshPacketId: id });
  }

  /** The firmware's handshake order: my_info, own node, metadata, channels, config, module config, complete. */
  private sendConfig(c: Client, nonce: number): void {
    const s = this.opts.settings;
    c.api = true;
    this.sendTo(c, { case: "myInfo", value: create(Mesh.MyNodeInfoSchema, { myNodeNum: s.nodeNumber, rebootCount: this.stats.reboots }) });
    const id = `!${s.nodeNumber.toString(16).padStart(8, "0")}`;
    this.sendTo(c, { case: "nodeInfo", value: create(Mesh.NodeInfoSchema, { num: s.nodeNumber, user: create(Mesh.UserSchema, { id, longName: `Emulated ${id}`, shortName: id.slice(-4) }) }) });
    this.sendTo(c, { case: "metadata", value: create(Mesh.DeviceMetadataSchema, { firmwareVersion: s.firmwareVersion, role: this.device.role, hasWifi: true }) });
    for (const ch of this.channels) this.sendTo(c, { case: "channel", value: ch });
    this.sendTo(c, { case: "config", value: create(Config.ConfigSchema, { payloadVariant: { case: "device", value: this.device } }) });
    this.sendTo(c, { case: "config", value: create(Config.ConfigSchema, { payloadVariant: { case: "lora", value: this.lora } }) });
    this.sendTo(c, { case: "moduleConfig", value: create(ModuleConfig.ModuleConfigSchema, { payloadVariant: { case: "mqtt", value: this.mqtt } }) });
    // The node database would follow unless the nonce asks for none; this radio knows no other nodes.
    if (nonce !== CONFIG_WITHOUT_NODES) this.console(c, "DEBUG | no other nodes to send");
    this.sendTo(c, { case: "configCompleteId", value: nonce });
  }

  private nak(c: Client, id: number, reason: Mesh.Routing_Error): void {
    const routing = create(Mesh.RoutingSchema, { variant: { case: "errorReason", value: reason } });
    const packet = create(Mesh.MeshPacketSchema, {
      from: this.nodeNumber,
      to: this.nodeNumber,
      id: 0,
      payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: Portnums.PortNum.ROUTING_APP, payload: toBinary(Mesh.RoutingSchema, routing), requestId: id }) },
    });
    this.sendTo(c, { case: "packet", value: packet });
    this.sendTo(c, { case: "queueStatus", value: this.queueStatus(ERRNO_NO_ROOM, id) });
  }

  private onPacket(c: Client, p: Mesh.MeshPacket): void {
    if (p.payloadVariant.case !== "decoded") {
      this.stats.malformed++;
      return;
    }
    const data = p.payloadVariant.value;
    if (data.portnum === Portnums.PortNum.ADMIN_APP && (p.to === this.nodeNumber || p.to === 0)) return this.onAdmin(c, p.id, data.payload);
    const channel = this.channels[p.channel];
    if (channel === undefined || channel.role === Channel.Channel_Role.DISABLED) {
      this.stats.refusedNoChannel++;
      return this.nak(c, p.id, Mesh.Routing_Error.NO_CHANNEL);
    }
    if (data.payload.length > MAX_DATA_PAYLOAD) {
      this.stats.refusedTooLarge++;
      return this.nak(c, p.id, Mesh.Routing_Error.TOO_LARGE);
    }
    if (this.radio.queueLength >= this.queueSize) {
      this.stats.refusedQueueFull++;
      return this.sendTo(c, { case: "queueStatus", value: this.queueStatus(ERRNO_NO_ROOM, p.id) });
    }
    // Router::send keeps a client packet's hop_limit and sets hop_start from it; only a want_ack packet
    // asking for 0 gets the configured limit (ReliableRouter::send), and we never ask for acks. So 0 (which
    // protobuf cannot tell from unset) is a packet for the radio's neighbours only.
    const hopLimit = Math.min(p.hopLimit, 7);
    // The simulated radio applies Router::send's rule and tells us (and, through onRefusal, every
    // client) when it refuses; only the NAK to the packet's sender is ours to send.
    const refusal = this.radio.send({ from: this.nodeNumber, id: p.id >>> 0, hopLimit, hopStart: hopLimit, portnum: data.portnum, payload: data.payload });
    if (refusal?.code === "DUTY_CYCLE_LIMIT") {
      this.stats.refusedDutyCycle++;
      return this.nak(c, p.id, Mesh.Routing_Error.DUTY_CYCLE_LIMIT);
    }
    if (refusal?.code === "QUEUE_FULL") {
      this.stats.refusedQueueFull++;
      return this.sendTo(c, { case: "queueStatus", value: this.queueStatus(ERRNO_NO_ROOM, p.id) });
    }
    this.stats.accepted++;
    this.stats.acceptedAt.set(p.id >>> 0, this.clock.now());
    this.sendTo(c, { case: "queueStatus", value: this.queueStatus(0, p.id) });
  }

  private onAdmin(c: Client, id: number, payload: Uint8Array): void {
    let admin: Admin.AdminMessage;
    try {
      admin = fromBinary(Admin.AdminMessageSchema, payload);
    } catch {
      this.stats.malformed++;
      return;
    }
    this.sendTo(c, { case: "queueStatus", value: this.queueStatus(0, id) });
    const v = admin.payloadVariant;
    let changed = false;
    if (v.case === "beginEditSettings") this.editing = true;
    else if (v.case === "commitEditSettings") {
      this.editing = false;
      changed = true;
    } else if (v.case === "setChannel" && v.value.index >= 0 && v.value.index < MAX_CHANNELS) {
      this.channels[v.value.index] = v.value;
      changed = true;
    } else if (v.case === "setConfig" && v.value.payloadVariant.case === "lora") {
      const next = v.value.payloadVariant.value;
      // The firmware turns ignore_mqtt on by itself when a duty-cycle-limited region is chosen.
      if (next.region !== this.lora.region && dutyCycleFraction(Config.Config_LoRaConfig_RegionCode[next.region] ?? "UNSET") < 1) next.ignoreMqtt = true;
      this.lora = next;
      changed = true;
    } else if (v.case === "setConfig" && v.value.payloadVariant.case === "device") {
      this.device = v.value.payloadVariant.value;
      changed = true;
    } else if (v.case === "setModuleConfig" && v.value.payloadVariant.case === "mqtt") {
      this.mqtt = v.value.payloadVariant.value;
      changed = true;
    }
    if (changed && !this.editing) this.scheduleReboot();
  }

  private scheduleReboot(): void {
    if (this.pendingReboot !== null) return;
    // The firmware saves, waits a moment for the reply to get out, then restarts.
    this.pendingReboot = this.clock.setTimeout(() => {
      this.pendingReboot = null;
      this.stats.reboots++;
      this.rebootingUntil = this.clock.now() + (this.opts.rebootMs ?? 2_000);
      // A new region (or override_duty_cycle) takes effect as the radio starts again.
      this.radio.dutyCycle = this.dutyCycle;
      for (const c of [...this.clients]) {
        this.detach(c.peer);
        c.peer.close();
      }
      for (const l of this.rebootListeners) l();
    }, 500);
  }
}
