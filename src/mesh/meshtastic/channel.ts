import { utf8 } from "../../core/bytes.js";
import { TransportError } from "../errors.js";

/** Meshtastic's well-known default channel key, selected by the 1-byte PSK 0x01 ("AQ=="). */
export const DEFAULT_KEY = Uint8Array.from([0xd4, 0xf1, 0xbb, 0x3a, 0x20, 0x29, 0x07, 0x59, 0xf0, 0xbc, 0xff, 0xab, 0xcf, 0x4e, 0x69, 0x01]);

export interface ChannelKey {
  readonly name: string;
  /** The AES key: 16 or 32 bytes; empty for an unencrypted channel. */
  readonly key: Uint8Array;
  /** The one-byte channel hash carried in MeshPacket.channel. */
  readonly hash: number;
}

/**
 * A channel PSK as Meshtastic defines it: empty or 0x00 means no encryption; a single byte n ≥ 1 is
 * the default key with its last byte increased by n−1; 16 bytes is AES-128; 32 bytes is AES-256.
 */
export function expandPsk(psk: Uint8Array): Uint8Array {
  if (psk.length === 0 || (psk.length === 1 && psk[0] === 0)) return new Uint8Array(0);
  if (psk.length === 1) {
    const key = Uint8Array.from(DEFAULT_KEY);
    key[15] = ((key[15] as number) + (psk[0] as number) - 1) & 0xff;
    return key;
  }
  if (psk.length === 16 || psk.length === 32) return Uint8Array.from(psk);
  throw new TransportError("BAD_CHANNEL_KEY", `a channel key is 0, 1, 16 or 32 bytes, not ${psk.length}`);
}

const xorBytes = (bytes: Uint8Array): number => bytes.reduce((h, b) => h ^ b, 0);

/** The channel hash: XOR of the name's bytes and the expanded key's bytes. */
export function channelHash(name: string, expandedKey: Uint8Array): number {
  return xorBytes(utf8.encode(name)) ^ xorBytes(expandedKey);
}

export function channelKey(name: string, psk: Uint8Array): ChannelKey {
  if (name.length === 0 || name.length > 11 || /[/#+]/.test(name)) {
    throw new TransportError("BAD_CHANNEL_KEY", `channel name "${name}" must be 1-11 characters without / # +`);
  }
  const key = expandPsk(psk);
  return { name, key, hash: channelHash(name, key) };
}

export function parsePsk(base64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new TransportError("BAD_CHANNEL_KEY", "the PSK must be base64");
  const psk = new Uint8Array(Buffer.from(base64, "base64"));
  expandPsk(psk);
  return psk;
}
