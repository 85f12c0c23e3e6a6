import { concatBytes } from "../bytes.js";
import { HASH_LENGTH } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";

/*
 * What a message transaction's payload holds (docs/protocol.md §Message payloads). Plain text is
 * UTF-8 as is; the two typed payloads start with a byte UTF-8 never uses (0xFE, 0xFF), so no text
 * can pass for one, and a node needs no new transaction kind to carry them.
 */
export const SEALED_TAG = 0xfe;
export const ACK_TAG = 0xff;
export const PAYLOAD_VERSION = 1;
/** Tag and version. */
export const TYPED_HEADER_BYTES = 2;

export type MessagePayload =
  | { readonly type: "text"; readonly text: string }
  /** Bytes that are neither valid UTF-8 nor a typed payload: shown as hex. */
  | { readonly type: "binary"; readonly bytes: Uint8Array }
  | { readonly type: "sealed"; readonly sealed: Uint8Array }
  | { readonly type: "ack"; readonly messageHash: Uint8Array };

const utf8 = new TextDecoder("utf-8", { fatal: true });

export const encodeTextPayload = (text: string): Uint8Array => new TextEncoder().encode(text);
export const encodeSealedPayload = (sealed: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(SEALED_TAG, PAYLOAD_VERSION), sealed);
export function encodeAckPayload(messageHash: Uint8Array): Uint8Array {
  if (messageHash.length !== HASH_LENGTH) throw new DecodeError("INVALID_VALUE", "an acknowledgement names a 32-byte transaction hash");
  return concatBytes(Uint8Array.of(ACK_TAG, PAYLOAD_VERSION), messageHash);
}

export function decodeMessagePayload(payload: Uint8Array): MessagePayload {
  const tag = payload[0];
  if (tag === SEALED_TAG || tag === ACK_TAG) {
    if (payload[1] !== PAYLOAD_VERSION) return { type: "binary", bytes: payload };
    const rest = payload.subarray(TYPED_HEADER_BYTES);
    if (tag === ACK_TAG) return rest.length === HASH_LENGTH ? { type: "ack", messageHash: rest } : { type: "binary", bytes: payload };
    return { type: "sealed", sealed: rest };
  }
  try {
    return { type: "text", text: utf8.decode(payload) };
  } catch {
    return { type: "binary", bytes: payload };
  }
}
