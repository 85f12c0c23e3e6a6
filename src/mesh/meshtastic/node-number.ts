import { utf8 } from "../../core/bytes.js";
import { sha256 } from "../../core/crypto/hash.js";
import { TransportError } from "../errors.js";

export const BROADCAST = 0xffffffff;
/** Node numbers 0-3 are reserved by the firmware (NUM_RESERVED) and 0xFFFFFFFF is broadcast. */
export const MIN_NODE_NUMBER = 4;

/** Our node number on the mesh, derived from the node's key so it is stable and needs no registry. */
export function nodeNumberFromPublicKey(publicKey: Uint8Array): number {
  const h = sha256(utf8.encode("MeshChain/node-number"), publicKey);
  for (let i = 0; i + 4 <= h.length; i += 4) {
    const n = new DataView(h.buffer, h.byteOffset + i, 4).getUint32(0, false);
    if (n >= MIN_NODE_NUMBER && n !== BROADCAST) return n;
  }
  throw new TransportError("BAD_CHANNEL_KEY", "no usable node number in the key hash");
}

export const formatNodeId = (n: number): string => `!${(n >>> 0).toString(16).padStart(8, "0")}`;

export function parseNodeId(text: string): number {
  if (!/^![0-9a-f]{8}$/i.test(text)) throw new RangeError(`"${text}" is not a node id (! and 8 hex digits)`);
  return Number.parseInt(text.slice(1), 16);
}
