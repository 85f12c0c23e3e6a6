import { PRESET_NAMES, presetByName, type PresetName } from "../mesh/airtime/presets.js";
import { KNOWN_REGIONS } from "../mesh/airtime/regions.js";
import { RadioLinkError } from "../mesh/errors.js";
import { channelKey, type ChannelKey } from "../mesh/meshtastic/channel.js";
import { PRIVATE_APP_PORT } from "../mesh/meshtastic/envelope.js";
import { parseRadioAddress } from "../mesh/meshtastic/stream-link.js";
import { isStreamRadio, type RadioOptions } from "../node/radio.js";
import { CliError } from "./errors.js";
import { parsePskArg, parseWhole } from "./parse.js";

/** What the MQTT gateway path assumes when the operator says nothing (it cannot ask the radio). */
const GATEWAY_DEFAULT_REGION = "EU_868";
const GATEWAY_DEFAULT_PRESET: PresetName = "LONG_FAST";

export const RADIO_FLAG_HELP = "the Meshtastic radio: serial:///dev/ttyACM0 or serial://auto (USB cable), tcp://host:4403 (network radio, meshtasticd), or the broker its MQTT gateway uses: embedded (this node's) or an mqtt:// URL; none for no radio";

export interface RadioFlags {
  radio: string;
  region?: string;
  preset?: string;
  channel: string;
  psk: string;
  hopLimit: string;
  airtimeBudget: string;
}

export function parseRegionArg(text: string): string {
  if (!(KNOWN_REGIONS as readonly string[]).includes(text)) throw new CliError("INVALID_ARGUMENT", `--region "${text}" is not a Meshtastic region (${KNOWN_REGIONS.join(", ")})`);
  return text;
}

export function parsePresetArg(text: string): PresetName {
  const preset = presetByName(text);
  if (preset === null) throw new CliError("INVALID_ARGUMENT", `--preset "${text}" is unknown (${PRESET_NAMES.join(", ")})`);
  return preset;
}

export function parseChannelArgs(name: string, psk: string): ChannelKey {
  try {
    return channelKey(name, parsePskArg(psk));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError("INVALID_ARGUMENT", `--channel: ${(e as Error).message}`);
  }
}

/** A serial:// or tcp:// radio address, checked. */
export function parseStreamRadioArg(text: string, option = "--radio"): string {
  try {
    parseRadioAddress(text);
    return text;
  } catch (e) {
    if (e instanceof RadioLinkError) throw new CliError("INVALID_ARGUMENT", `${option}: ${e.message}`);
    throw e;
  }
}

/** The radio flags, checked; null when the node runs without a radio. */
export function radioOptions(opts: RadioFlags, broker: string): Omit<RadioOptions, "packetIds"> | null {
  if (opts.radio === "none") return null;
  const stream = isStreamRadio(opts.radio);
  // "serial:/dev/ttyACM0" and the like: a radio address with a typo, answered with the right form.
  if (stream || /^(serial|tcp):/i.test(opts.radio)) parseStreamRadioArg(opts.radio);
  else {
    if (broker === "none") throw new CliError("INVALID_ARGUMENT", "--radio through an MQTT gateway needs the IP side too: give --broker (or connect the radio by USB: --radio serial://auto)");
    if (opts.radio !== "embedded" && !/^mqtts?:\/\/[^\s]+$/.test(opts.radio)) throw new CliError("INVALID_ARGUMENT", `--radio "${opts.radio}" is not serial://…, tcp://…, embedded, none or an mqtt:// URL`);
    if (opts.radio === "embedded" && broker !== "embedded") throw new CliError("INVALID_ARGUMENT", "--radio embedded needs --broker embedded");
  }
  // Over the stream API, what is not given is read from the radio; behind a gateway it cannot be.
  const region = opts.region === undefined ? (stream ? null : GATEWAY_DEFAULT_REGION) : parseRegionArg(opts.region);
  const preset = opts.preset === undefined ? (stream ? null : GATEWAY_DEFAULT_PRESET) : parsePresetArg(opts.preset);
  const hopLimit = parseWhole(opts.hopLimit, "--hop-limit", 7);
  const budgetSecondsPerHour = parseWhole(opts.airtimeBudget, "--airtime-budget", 3_600);
  if (budgetSecondsPerHour < 1) throw new CliError("INVALID_ARGUMENT", "--airtime-budget must be at least 1 second per hour");
  return { broker: opts.radio, region, preset, channel: parseChannelArgs(opts.channel, opts.psk), portnum: PRIVATE_APP_PORT, hopLimit, budgetSecondsPerHour };
}
