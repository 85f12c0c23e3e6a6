import { createCipheriv, createDecipheriv } from "node:crypto";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../bytes.js";
import { MeshChainError } from "../errors.js";

/*
 * Sealing a short text to a recipient's Ed25519 key (ECIES): a fresh X25519 key per message, its
 * shared secret with the recipient's key converted to X25519 (RFC 7748 birational map), HKDF-SHA256
 * to a ChaCha20-Poly1305 key and nonce (RFC 8439). Only the recipient's seed opens it; the sender
 * keeps no way to read it back. Layout: ephemeral public key (32) ‖ ciphertext ‖ tag (16).
 */
export const SEAL_OVERHEAD = 32 + 16;
const INFO = new TextEncoder().encode("meshchain/message-seal/v1");

export type SealErrorCode = "NOT_FOR_THIS_KEY" | "SEAL_MALFORMED";
export class SealError extends MeshChainError<SealErrorCode> {}

function keyAndNonce(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientX: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const okm = hkdf(sha256, shared, concatBytes(ephemeralPublic, recipientX), INFO, 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
}

/** `ephemeralSecret` is 32 random bytes (injected so tests are deterministic). */
export function sealTo(recipientEd25519Public: Uint8Array, plaintext: Uint8Array, ephemeralSecret: Uint8Array): Uint8Array {
  const recipientX = ed25519.utils.toMontgomery(recipientEd25519Public);
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const { key, nonce } = keyAndNonce(x25519.getSharedSecret(ephemeralSecret, recipientX), ephemeralPublic, recipientX);
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return concatBytes(ephemeralPublic, body, cipher.getAuthTag());
}

/** Open with the recipient's Ed25519 seed; a wrong key or a changed byte fails with NOT_FOR_THIS_KEY. */
export function openSealed(recipientSeed: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new SealError("SEAL_MALFORMED", `a sealed text is at least ${SEAL_OVERHEAD} bytes`);
  const ephemeralPublic = sealed.subarray(0, 32);
  const tag = sealed.subarray(sealed.length - 16);
  const body = sealed.subarray(32, sealed.length - 16);
  const secretX = ed25519.utils.toMontgomerySecret(recipientSeed);
  const recipientX = x25519.getPublicKey(secretX);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secretX, ephemeralPublic);
  } catch {
    throw new SealError("SEAL_MALFORMED", "the sealed text's ephemeral key is not a usable X25519 key");
  }
  const { key, nonce } = keyAndNonce(shared, ephemeralPublic, recipientX);
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    throw new SealError("NOT_FOR_THIS_KEY", "this text is not sealed to this key, or it was changed");
  }
}
