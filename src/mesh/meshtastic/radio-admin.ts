import { create, toBinary } from "@bufbuild/protobuf";
import { Admin, Channel, Config, Mesh, Portnums } from "@meshtastic/protobufs";
import { RadioConfigError } from "../errors.js";
import type { ChannelKey } from "./channel.js";
import { keyFingerprint, type RadioRawConfig, type RadioView } from "./radio-view.js";

export interface SetupRequest {
  readonly channel: ChannelKey;
  /** The PSK as the apps store it (1, 16 or 32 bytes). */
  readonly psk: Uint8Array;
  /** Region and preset by their Meshtastic names (EU_868, LONG_FAST). */
  readonly region?: string;
  readonly preset?: string;
}

export interface SetupChange {
  readonly setting: string;
  readonly from: string;
  readonly to: string;
}

export interface SetupPlan {
  readonly changes: readonly SetupChange[];
  /** Admin messages for the radio, inside one begin/commit edit so it reboots once. */
  readonly messages: readonly Admin.AdminMessage[];
}

const DEFAULT_HOP_LIMIT = 3;
const RELAYING_MODE = "ALL";
const NON_RELAYING = new Set(["CORE_PORTNUMS_ONLY", "KNOWN_ONLY", "NONE"]);
const MAX_CHANNELS = 8;

function enumValue(e: Record<string, string | number>, name: string, what: string): number {
  const v = e[name];
  if (typeof v !== "number") throw new RadioConfigError("UNKNOWN_SETTING", `${name} is not a Meshtastic ${what}`);
  return v;
}

/**
 * What `radio setup` changes: our channel (its key where it exists, else a free secondary slot;
 * the primary channel is never touched), region and preset if asked, and the settings under which
 * the radio would not carry us (rebroadcast mode, hop limit 0, transmit off).
 */
export function planSetup(view: RadioView, raw: RadioRawConfig, want: SetupRequest): SetupPlan {
  const changes: SetupChange[] = [];
  const messages: Admin.AdminMessage[] = [];
  const named = view.channels.find((c) => c.name === want.channel.name);
  const newKey = keyFingerprint(want.channel.key);
  if (named === undefined || named.keyFingerprint !== newKey) {
    let index = named?.index;
    if (index === undefined) {
      const used = new Set(raw.channels.map((c) => c.index));
      index = Array.from({ length: MAX_CHANNELS - 1 }, (_, i) => i + 1).find((i) => !used.has(i));
      if (index === undefined) throw new RadioConfigError("NO_FREE_CHANNEL", "all 8 channels of the radio are in use: free one in the Meshtastic app first");
    }
    const existing = raw.channels.find((c) => c.index === index);
    const role = existing?.role ?? Channel.Channel_Role.SECONDARY;
    const settings = create(Channel.ChannelSettingsSchema, { ...(existing?.settings ?? {}), name: want.channel.name, psk: want.psk });
    messages.push(create(Admin.AdminMessageSchema, { payloadVariant: { case: "setChannel", value: create(Channel.ChannelSchema, { index, role, settings }) } }));
    changes.push({ setting: `channels[${index}]`, from: named === undefined ? "(unused)" : `"${named.name}" key ${named.keyFingerprint}`, to: `"${want.channel.name}" key ${newKey}` });
  }

  const lora = create(Config.Config_LoRaConfigSchema, raw.lora);
  let loraChanged = false;
  if (want.region !== undefined && view.region !== want.region) {
    lora.region = enumValue(Config.Config_LoRaConfig_RegionCode, want.region, "region");
    changes.push({ setting: "lora.region", from: view.region, to: want.region });
    loraChanged = true;
  }
  if (want.preset !== undefined && (view.preset !== want.preset || !view.usePreset)) {
    lora.modemPreset = enumValue(Config.Config_LoRaConfig_ModemPreset, want.preset, "preset");
    lora.usePreset = true;
    changes.push({ setting: "lora.modem_preset", from: view.usePreset ? view.preset : "custom", to: want.preset });
    loraChanged = true;
  }
  if (view.hopLimit === 0) {
    lora.hopLimit = DEFAULT_HOP_LIMIT;
    changes.push({ setting: "lora.hop_limit", from: "0", to: String(DEFAULT_HOP_LIMIT) });
    loraChanged = true;
  }
  if (!view.txEnabled) {
    lora.txEnabled = true;
    changes.push({ setting: "lora.tx_enabled", from: "false", to: "true" });
    loraChanged = true;
  }
  if (loraChanged) messages.push(create(Admin.AdminMessageSchema, { payloadVariant: { case: "setConfig", value: create(Config.ConfigSchema, { payloadVariant: { case: "lora", value: lora } }) } }));

  if (NON_RELAYING.has(view.rebroadcastMode)) {
    const device = create(Config.Config_DeviceConfigSchema, raw.device ?? {});
    device.rebroadcastMode = Config.Config_DeviceConfig_RebroadcastMode[RELAYING_MODE];
    messages.push(create(Admin.AdminMessageSchema, { payloadVariant: { case: "setConfig", value: create(Config.ConfigSchema, { payloadVariant: { case: "device", value: device } }) } }));
    changes.push({ setting: "device.rebroadcast_mode", from: view.rebroadcastMode, to: RELAYING_MODE });
  }
  if (messages.length === 0) return { changes, messages };
  return {
    changes,
    messages: [
      create(Admin.AdminMessageSchema, { payloadVariant: { case: "beginEditSettings", value: true } }),
      ...messages,
      create(Admin.AdminMessageSchema, { payloadVariant: { case: "commitEditSettings", value: true } }),
    ],
  };
}

/** An admin message as a packet to the radio itself (local administration needs no session key). */
export function adminPacket(radioNode: number, id: number, message: Admin.AdminMessage): Mesh.MeshPacket {
  return create(Mesh.MeshPacketSchema, {
    to: radioNode,
    id,
    wantAck: false,
    payloadVariant: { case: "decoded", value: create(Mesh.DataSchema, { portnum: Portnums.PortNum.ADMIN_APP, payload: toBinary(Admin.AdminMessageSchema, message), wantResponse: true }) },
  });
}
