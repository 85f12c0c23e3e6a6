import { createCipheriv } from "node:crypto";
import { TransportError } from "../errors.js";

/**
 * Meshtastic channel encryption: AES-CTR whose 16-byte initial counter block is the packet id
 * (u64 little-endian, the u32 id zero-extended) followed by the sender's node number (u32
 * little-endian) and four zero bytes. CTR is its own inverse, so this both encrypts and decrypts.
 */
export function channelCrypt(key: Uint8Array, packetId: number, from: number, data: Uint8Array): Uint8Array {
  if (key.length === 0) return Uint8Array.from(data);
  const algorithm = key.length === 16 ? "aes-128-ctr" : key.length === 32 ? "aes-256-ctr" : null;
  if (algorithm === null) throw new TransportError("BAD_CHANNEL_KEY", `AES keys are 16 or 32 bytes, not ${key.length}`);
  const nonce = Buffer.alloc(16);
  nonce.writeUInt32LE(packetId >>> 0, 0);
  nonce.writeUInt32LE(from >>> 0, 8);
  const cipher = createCipheriv(algorithm, key, nonce);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}
