import { createHash } from "node:crypto";

export const HASH_LENGTH = 32;

/** SHA-256 through OpenSSL: the hot path hashes every transaction, header and state leaf. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);
