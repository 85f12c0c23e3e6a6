import { describe, expect, it } from "vitest";
import { channelKey } from "../../src/mesh/meshtastic/channel.js";
import { checkRadio } from "../../src/mesh/meshtastic/radio-check.js";
import { keyFingerprint, type RadioView } from "../../src/mesh/meshtastic/radio-view.js";
import { agreeWithRadio } from "../../src/node/radio.js";

const KEY = channelKey("MeshChain", new Uint8Array(16).fill(3));
const view = (over: Partial<RadioView> = {}): RadioView => ({
  nodeNumber: 0xabc, firmwareVersion: "2.7.15", region: "EU_868", preset: "LONG_FAST", usePreset: true, hopLimit: 3, ignoreMqtt: true, okToMqtt: true,
  txEnabled: true, role: "CLIENT", rebroadcastMode: "ALL", mqttEnabled: false,
  channels: [{ index: 1, name: "MeshChain", role: "SECONDARY", hash: KEY.hash, keyFingerprint: keyFingerprint(KEY.key), uplink: false, downlink: false }],
  ...over,
});

describe("the node's region and preset against the radio's", () => {
  it("takes the radio's when the operator gave none, and accepts the same ones", () => {
    expect(agreeWithRadio({ region: null, preset: null }, view())).toEqual({ region: "EU_868", preset: "LONG_FAST" });
    expect(agreeWithRadio({ region: "EU_868", preset: "LONG_FAST" }, view())).toEqual({ region: "EU_868", preset: "LONG_FAST" });
  });

  it("refuses a different region or preset, an unset region, and custom LoRa settings without --preset", () => {
    expect(() => agreeWithRadio({ region: "US", preset: null }, view())).toThrow(/--region is US but the radio is set to EU_868/);
    expect(() => agreeWithRadio({ region: null, preset: "SHORT_FAST" }, view())).toThrow(/--preset is SHORT_FAST but the radio uses LONG_FAST/);
    expect(() => agreeWithRadio({ region: null, preset: null }, view({ region: "UNSET" }))).toThrow(expect.objectContaining({ code: "SETTINGS_MISMATCH" }));
    expect(() => agreeWithRadio({ region: null, preset: null }, view({ usePreset: false }))).toThrow(/custom LoRa settings/);
    expect(agreeWithRadio({ region: null, preset: "MEDIUM_FAST" }, view({ usePreset: false }))).toEqual({ region: "EU_868", preset: "MEDIUM_FAST" });
  });
});

describe("radio check", () => {
  it("finds nothing on a radio set up right (ignore_mqtt does not matter over the stream API)", () => {
    expect(checkRadio(view(), { channel: KEY, path: "stream", region: "EU_868", preset: "LONG_FAST" })).toEqual([]);
    expect(checkRadio(view({ rebroadcastMode: "LOCAL_ONLY" }), { channel: KEY, path: "stream" })).toEqual([]);
  });

  it.each([
    ["device.rebroadcast_mode", { rebroadcastMode: "CORE_PORTNUMS_ONLY" }],
    ["device.rebroadcast_mode", { rebroadcastMode: "KNOWN_ONLY" }],
    ["device.rebroadcast_mode", { rebroadcastMode: "NONE" }],
    ["lora.hop_limit", { hopLimit: 0 }],
    ["lora.region", { region: "UNSET" }],
    ["lora.tx_enabled", { txEnabled: false }],
    ["channels", { channels: [] }],
    ["channels[1].psk", { channels: [{ index: 1, name: "MeshChain", role: "SECONDARY", hash: 1, keyFingerprint: "00000000", uplink: false, downlink: false }] }],
    ["lora.modem_preset", { preset: "SHORT_FAST" }],
  ] as const)("flags %s with a fix", (setting, over) => {
    const problems = checkRadio(view(over as Partial<RadioView>), { channel: KEY, path: "stream", preset: "LONG_FAST" });
    expect(problems.map((p) => p.setting)).toEqual([setting]);
    expect(problems[0]?.fix).toMatch(/meshchain radio setup|Meshtastic app/);
  });

  it("flags ignore_mqtt only where the node reaches the radio through its MQTT gateway", () => {
    expect(checkRadio(view(), { channel: KEY, path: "mqtt" }).map((p) => p.setting)).toEqual(["lora.ignore_mqtt"]);
  });
});
