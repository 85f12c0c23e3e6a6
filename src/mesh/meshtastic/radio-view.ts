import { Channel, Config, Mesh } from "@meshtastic/protobufs";
import { toHex } from "../../core/bytes.js";
import { sha256 } from "../../core/crypto/hash.js";
import { TransportError } from "../errors.js";
import { type ChannelKey, channelHash, expandPsk } from "./channel.js";
import { formatNodeId } from "./node-number.js";

export interface RadioChannelView {
  readonly index: number;
  readonly name: string;
  /** PRIMARY, SECONDARY (DISABLED channels are left out). */
  readonly role: string;
  /** The one-byte hash of name and key, as carried in MeshPacket.channel. */
  readonly hash: number;
  /** First 8 hex digits of SHA-256 of the expanded key: enough to compare keys, nothing to recover one. */
  readonly keyFingerprint: string;
  readonly uplink: boolean;
  readonly downlink: boolean;
}

/** What a radio reports about itself during the want_config handshake. */
export interface RadioView {
  readonly nodeNumber: number;
  readonly firmwareVersion: string;
  readonly region: string;
  readonly preset: string;
  /** Whether the LoRa settings come from the preset (else custom bandwidth/spreading factor). */
  readonly usePreset: boolean;
  readonly hopLimit: number;
  readonly ignoreMqtt: boolean;
  readonly okToMqtt: boolean;
  readonly txEnabled: boolean;
  readonly role: string;
  readonly rebroadcastMode: string;
  readonly channels: readonly RadioChannelView[];
  readonly mqttEnabled: boolean;
}

export function keyFingerprint(expandedKey: Uint8Array): string {
  return expandedKey.length === 0 ? "none" : toHex(sha256(expandedKey)).slice(0, 8);
}

export interface RadioRawConfig {
  readonly lora: Config.Config_LoRaConfig;
  readonly device: Config.Config_DeviceConfig | null;
  /** Enabled channels only. */
  readonly channels: readonly Channel.Channel[];
}

/** Gathers the handshake's FromRadio messages into a RadioView. */
export class RadioViewBuilder {
  private nodeNumber: number | null = null;
  private firmwareVersion = "unknown";
  private lora: Config.Config_LoRaConfig | null = null;
  private device: Config.Config_DeviceConfig | null = null;
  private mqttEnabled = false;
  private readonly channels = new Map<number, Channel.Channel>();

  /** Takes one FromRadio of the handshake; messages it does not need are ignored. */
  add(message: Mesh.FromRadio): void {
    const v = message.payloadVariant;
    switch (v.case) {
      case "myInfo":
        this.nodeNumber = v.value.myNodeNum >>> 0;
        break;
      case "metadata":
        this.firmwareVersion = v.value.firmwareVersion || "unknown";
        break;
      case "channel":
        this.addChannel(v.value);
        break;
      case "config":
        if (v.value.payloadVariant.case === "lora") this.lora = v.value.payloadVariant.value;
        if (v.value.payloadVariant.case === "device") this.device = v.value.payloadVariant.value;
        break;
      case "moduleConfig":
        if (v.value.payloadVariant.case === "mqtt") this.mqttEnabled = v.value.payloadVariant.value.enabled;
        break;
      default:
        break;
    }
  }

  private addChannel(c: Channel.Channel): void {
    if (c.role === Channel.Channel_Role.DISABLED || c.settings === undefined) this.channels.delete(c.index);
    else this.channels.set(c.index, c);
  }

  private channelView(c: Channel.Channel, preset: string): RadioChannelView {
    const settings = c.settings as Channel.ChannelSettings;
    let key: Uint8Array;
    try {
      key = expandPsk(settings.psk);
    } catch {
      // A key length the firmware would not accept either: shown, but matching nothing.
      key = Uint8Array.of(0xff);
    }
    // The firmware names an unnamed channel after its modem preset, and hashes that name.
    const name = settings.name === "" ? presetDisplayName(preset) : settings.name;
    return {
      index: c.index,
      name,
      role: Channel.Channel_Role[c.role] ?? String(c.role),
      hash: channelHash(name, key),
      keyFingerprint: keyFingerprint(key),
      uplink: settings.uplinkEnabled,
      downlink: settings.downlinkEnabled,
    };
  }

  /** The radio's settings as it sent them, for changes that must keep every other field. */
  raw(): RadioRawConfig | null {
    if (this.lora === null) return null;
    return { lora: this.lora, device: this.device, channels: [...this.channels.values()] };
  }

  /** Null until the radio has sent its node number and LoRa settings. */
  build(): RadioView | null {
    if (this.nodeNumber === null || this.lora === null) return null;
    const lora = this.lora;
    const preset = Config.Config_LoRaConfig_ModemPreset[lora.modemPreset] ?? `PRESET_${lora.modemPreset}`;
    return {
      nodeNumber: this.nodeNumber,
      firmwareVersion: this.firmwareVersion,
      region: Config.Config_LoRaConfig_RegionCode[lora.region] ?? `REGION_${lora.region}`,
      preset,
      usePreset: lora.usePreset,
      hopLimit: lora.hopLimit,
      ignoreMqtt: lora.ignoreMqtt,
      okToMqtt: lora.configOkToMqtt,
      txEnabled: lora.txEnabled,
      role: this.device === null ? "CLIENT" : (Config.Config_DeviceConfig_Role[this.device.role] ?? String(this.device.role)),
      rebroadcastMode: this.device === null ? "ALL" : (Config.Config_DeviceConfig_RebroadcastMode[this.device.rebroadcastMode] ?? String(this.device.rebroadcastMode)),
      channels: [...this.channels.values()].sort((a, b) => a.index - b.index).map((c) => this.channelView(c, preset)),
      mqttEnabled: this.mqttEnabled,
    };
  }
}

/** The name an unnamed channel goes by on air: the preset's display name (LongFast for LONG_FAST). */
export function presetDisplayName(preset: string): string {
  return preset
    .toLowerCase()
    .split("_")
    .map((w) => (w.length === 0 ? w : (w[0] as string).toUpperCase() + w.slice(1)))
    .join("");
}

/** The index of our channel (same name, hash and key) on the radio; BAD_CHANNEL_KEY naming what it has instead. */
export function channelIndexOn(view: RadioView, wanted: ChannelKey): number {
  const match = view.channels.find((c) => c.name === wanted.name && c.hash === wanted.hash && c.keyFingerprint === keyFingerprint(wanted.key));
  if (match !== undefined) return match.index;
  const sameName = view.channels.some((c) => c.name === wanted.name);
  const what = sameName ? `has channel "${wanted.name}" with a different key than ours` : `has no channel "${wanted.name}" (it has ${view.channels.map((c) => `"${c.name}"`).join(", ") || "none"})`;
  throw new TransportError("BAD_CHANNEL_KEY", `the radio ${formatNodeId(view.nodeNumber)} ${what}: see meshchain radio check, and radio setup to fix it`);
}
