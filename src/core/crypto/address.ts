import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from "../bytes.js";
import { MeshChainError } from "../errors.js";
import { sha256 } from "./hash.js";

/**
 * Addresses go on air in every transaction, so they are 8 bytes: a truncated hash of the Ed25519
 * public key. An account's key is bound to its address the first time it is revealed on chain, and
 * a different key with the same address is rejected from then on (see docs/decisions.md).
 */
export const ADDRESS_LENGTH = 8;
const ADDRESS_TAG = utf8.encode("MeshChain/address");
const CHECKSUM_TAG = utf8.encode("MeshChain/address-checksum");
const PREFIX = "mc";
const TEXT_RE = /^mc[0-9a-f]{20}$/;

export type AddressErrorCode = "INVALID_ADDRESS" | "BAD_CHECKSUM";
export class AddressError extends MeshChainError<AddressErrorCode> {}

export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(ADDRESS_TAG, publicKey).slice(0, ADDRESS_LENGTH);
}

function checksum(address: Uint8Array): Uint8Array {
  return sha256(CHECKSUM_TAG, address).slice(0, 2);
}

/** `mc` + 16 hex digits of address + 4 hex digits of checksum, so a mistyped address is caught. */
export function formatAddress(address: Uint8Array): string {
  if (address.length !== ADDRESS_LENGTH) throw new AddressError("INVALID_ADDRESS", "address must be 8 bytes");
  return PREFIX + toHex(concatBytes(address, checksum(address)));
}

export function parseAddress(text: string): Uint8Array {
  const lower = text.trim().toLowerCase();
  if (!TEXT_RE.test(lower)) throw new AddressError("INVALID_ADDRESS", `"${text}" is not an address (mc + 20 hex digits)`);
  const raw = fromHex(lower.slice(PREFIX.length));
  const address = raw.slice(0, ADDRESS_LENGTH);
  if (!bytesEqual(raw.slice(ADDRESS_LENGTH), checksum(address))) {
    throw new AddressError("BAD_CHECKSUM", `address "${text}" has a bad checksum (mistyped?)`);
  }
  return address;
}

/** Map key for an address. */
export const addressKey = (address: Uint8Array): string => toHex(address);
