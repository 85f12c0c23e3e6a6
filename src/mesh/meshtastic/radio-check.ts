import type { ChannelKey } from "./channel.js";
import { keyFingerprint, type RadioView } from "./radio-view.js";

export interface RadioExpectations {
  readonly channel: ChannelKey;
  /** The chain's region and preset, when known: a radio on others cannot hear the chain's radios. */
  readonly region?: string;
  readonly preset?: string;
  /** How the node reaches the radio: through its MQTT gateway, frames arrive flagged via_mqtt. */
  readonly path: "stream" | "mqtt";
}

export interface RadioProblem {
  /** The setting as the Meshtastic apps name it. */
  readonly setting: string;
  readonly found: string;
  readonly problem: string;
  readonly fix: string;
}

/** Rebroadcast modes under which a radio does not relay our PRIVATE_APP packets (DESIGN §6). */
const NON_RELAYING_MODES: Readonly<Record<string, string>> = {
  CORE_PORTNUMS_ONLY: "relays only Meshtastic's core applications, not PRIVATE_APP (the default of ROUTER roles on recent firmware)",
  KNOWN_ONLY: "relays only nodes already in its node database; new MeshChain nodes are not relayed",
  NONE: "relays nothing",
};

/** Every setting of this radio that would stop MeshChain working, each with its fix. */
export function checkRadio(view: RadioView, want: RadioExpectations): RadioProblem[] {
  const problems: RadioProblem[] = [];
  const setupArgs = `--channel ${want.channel.name} --psk <key>`;
  if (view.region === "UNSET") {
    problems.push({ setting: "lora.region", found: "UNSET", problem: "no region: the radio does not transmit at all", fix: `meshchain radio setup ${setupArgs} --region ${want.region ?? "<REGION>"}` });
  } else if (want.region !== undefined && view.region !== want.region) {
    problems.push({ setting: "lora.region", found: view.region, problem: `the chain's radios use ${want.region}`, fix: `meshchain radio setup ${setupArgs} --region ${want.region}` });
  }
  if (want.preset !== undefined && (!view.usePreset || view.preset !== want.preset)) {
    problems.push({ setting: "lora.modem_preset", found: view.usePreset ? view.preset : "custom", problem: `the chain's radios use ${want.preset}: radios on different presets cannot hear each other`, fix: `meshchain radio setup ${setupArgs} --preset ${want.preset}` });
  }
  const named = view.channels.find((c) => c.name === want.channel.name);
  if (named === undefined) {
    problems.push({ setting: "channels", found: view.channels.map((c) => c.name).join(", ") || "none", problem: `no channel "${want.channel.name}"`, fix: `meshchain radio setup ${setupArgs}` });
  } else if (named.keyFingerprint !== keyFingerprint(want.channel.key) || named.hash !== want.channel.hash) {
    problems.push({ setting: `channels[${named.index}].psk`, found: `key ${named.keyFingerprint}`, problem: `channel "${want.channel.name}" has a different key (ours: ${keyFingerprint(want.channel.key)})`, fix: `meshchain radio setup ${setupArgs}` });
  }
  const notRelaying = NON_RELAYING_MODES[view.rebroadcastMode];
  if (notRelaying !== undefined) {
    problems.push({ setting: "device.rebroadcast_mode", found: view.rebroadcastMode, problem: notRelaying, fix: `meshchain radio setup ${setupArgs} (sets ALL)` });
  }
  if (view.hopLimit === 0) {
    problems.push({ setting: "lora.hop_limit", found: "0", problem: "our packets reach only radios in direct range", fix: `meshchain radio setup ${setupArgs} (sets 3)` });
  }
  if (!view.txEnabled) {
    problems.push({ setting: "lora.tx_enabled", found: "false", problem: "the radio only listens", fix: `meshchain radio setup ${setupArgs} (turns transmit on)` });
  }
  if (want.path === "mqtt" && view.ignoreMqtt) {
    problems.push({ setting: "lora.ignore_mqtt", found: "true", problem: "packets the node publishes through the gateway arrive flagged via_mqtt and this radio drops them", fix: "connect the radio by USB or TCP instead (--radio serial://auto), or turn ignore_mqtt off in the Meshtastic app" });
  }
  return problems;
}
