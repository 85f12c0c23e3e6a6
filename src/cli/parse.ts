import { U64_MAX } from "../core/codec/writer.js";
import { AddressError, parseAddress } from "../core/crypto/address.js";
import { CHAIN_ID_RE } from "../core/crypto/domain.js";
import { parsePsk } from "../mesh/meshtastic/channel.js";
import { CliError } from "./errors.js";

/** Whole base units (1 MESH = 1,000,000 units), as digits, within u64. */
export function parseUnits(text: string, option: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new CliError("INVALID_ARGUMENT", `${option} must be a whole number of units, got "${text}"`);
  const v = BigInt(text);
  if (v > U64_MAX) throw new CliError("INVALID_ARGUMENT", `${option} exceeds 2^64-1`);
  return v;
}

export function parseWhole(text: string, option: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > max) throw new CliError("INVALID_ARGUMENT", `${option} must be a whole number from 0 to ${max}, got "${text}"`);
  return Number(text);
}

export function parseAddressArg(text: string, option: string): Uint8Array {
  try {
    return parseAddress(text);
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `${option}: ${e instanceof AddressError ? e.message : "invalid address"}`);
  }
}

export function parseChainId(text: string): string {
  if (!CHAIN_ID_RE.test(text)) throw new CliError("INVALID_ARGUMENT", `--chain-id "${text}" is not a chain id (lowercase letters, digits, inner hyphens; 2-32 characters)`);
  return text;
}

/** A Meshtastic channel key as the apps show it (base64: AQ== for the default key, or 16/32 bytes). */
export function parsePskArg(base64: string): Uint8Array {
  try {
    return parsePsk(base64);
  } catch (e) {
    throw new CliError("INVALID_ARGUMENT", `--psk: ${(e as Error).message}`);
  }
}
