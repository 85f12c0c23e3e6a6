import { randomBytes } from "node:crypto";
import { type Ed25519KeyPair } from "../core/crypto/ed25519.js";
import { openSealed, SEAL_OVERHEAD, sealTo } from "../core/crypto/seal.js";
import { decodeMessagePayload, encodeSealedPayload, encodeTextPayload, TYPED_HEADER_BYTES } from "../core/tx/message-payload.js";
import { MAX_MESSAGE_PAYLOAD_BYTES } from "../core/tx/limits.js";
import { ClientError } from "./errors.js";

/**
 * A message's payload from its text: as UTF-8, or sealed to the recipient's Ed25519 key. Its size is
 * checked against what one message may carry before anything is signed.
 */
export function buildMessagePayload(text: string, sealToKey: Uint8Array | null, random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): Uint8Array {
  const plain = checkMessageText(text, sealToKey !== null);
  return sealToKey === null ? plain : encodeSealedPayload(sealTo(sealToKey, plain, random(32)));
}

/** The text as UTF-8, if it fits one message (less room when sealed: key, tag and type take 50 bytes). */
export function checkMessageText(text: string, sealed: boolean): Uint8Array {
  const plain = encodeTextPayload(text);
  const room = sealed ? MAX_MESSAGE_PAYLOAD_BYTES - SEAL_OVERHEAD - TYPED_HEADER_BYTES : MAX_MESSAGE_PAYLOAD_BYTES;
  if (plain.length > room) {
    throw new ClientError("MESSAGE_TOO_LARGE", `the text is ${plain.length} bytes; a ${sealed ? "sealed " : ""}message carries at most ${room} bytes of text in one frame`);
  }
  if (plain.length === 0) throw new ClientError("INVALID_PARAMS", "the text is empty", "EMPTY_MESSAGE");
  return plain;
}

/** The text of a message payload for its reader: sealed ones are opened with the reader's key when given. */
export function openMessageText(payload: Uint8Array, reader: Ed25519KeyPair | null): { type: string; text: string | null; reason?: string } {
  const p = decodeMessagePayload(payload);
  if (p.type === "text") return { type: "text", text: p.text };
  if (p.type === "ack") return { type: "ack", text: null };
  if (p.type === "binary") return { type: "binary", text: null };
  if (reader === null) return { type: "sealed", text: null, reason: "sealed: give --key of the recipient to read it" };
  return openSealedText(p.sealed, reader);
}

/** A sealed text opened with the reader's key; `reason` says why not when it is not theirs. */
export function openSealedText(sealed: Uint8Array, reader: Ed25519KeyPair): { type: "sealed"; text: string | null; reason?: string } {
  try {
    return { type: "sealed", text: new TextDecoder().decode(openSealed(reader.seed, sealed)) };
  } catch (e) {
    return { type: "sealed", text: null, reason: e instanceof Error ? e.message : String(e) };
  }
}
