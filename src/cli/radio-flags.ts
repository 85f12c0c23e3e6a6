import { PRESET_NAMES, presetByName, type PresetName } from "../mesh/airtime/presets.js";
import { KNOWN_REGIONS } from "../mesh/airtime/regions.js";
import { RadioLinkError } from "../mesh/errors.js";
import { channelKey, type ChannelKey } from "../mesh/meshtastic/channel.js";
import { parseRadioAddress } from "../mesh/meshtastic/stream-link.js";
import { CliError } from "./errors.js";
import { parsePskArg } from "./parse.js";

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
