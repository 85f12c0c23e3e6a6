import { concatBytes } from "../../core/bytes.js";
import { decodeExact, type Reader } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { MAX_HEIGHT, MAX_TIMESTAMP } from "../../core/block/limits.js";
import { ADDRESS_LENGTH, addressFromPublicKey } from "../../core/crypto/address.js";
import { cachedDomain, SigningKind } from "../../core/crypto/domain.js";
import { type Ed25519KeyPair, ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, ed25519Sign, ed25519Verify } from "../../core/crypto/ed25519.js";
import { MessageType } from "../frame.js";

/** Who a node is and where its chain stands; signed, so nobody can speak for another node. */
export interface Hello {
  readonly protocolVersion: number;
  /** First 8 bytes of the genesis hash: peers on another chain are told apart at once. */
  readonly chain: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The node number it uses on the mesh (Meshtastic `from`). */
  readonly nodeNumber: number;
  readonly tipHeight: number;
  readonly finalizedHeight: number;
  /** Bit 0: validator; bit 1: bridges LoRa and IP. */
  readonly roles: number;
  readonly timestamp: number;
}

/** The compact, frequent sibling of Hello: the sender is named by address, its key known from a hello. */
export interface Status {
  readonly address: Uint8Array;
  readonly tipHeight: number;
  readonly tipHash: Uint8Array;
  readonly finalizedHeight: number;
  readonly timestamp: number;
}

export interface Signed<T> {
  readonly body: T;
  readonly signature: Uint8Array;
  /** The bytes the signature covers (after the domain), kept for verification. */
  readonly signedBytes: Uint8Array;
}

const TIP_HASH_PREFIX = 8;

function writeHello(w: Writer, h: Hello): void {
  w.u8(h.protocolVersion).fixed(h.chain, 8).fixed(h.publicKey, ED25519_PUBLIC_KEY_LENGTH).u32(h.nodeNumber)
    .varint(h.tipHeight).varint(h.finalizedHeight).u8(h.roles).varint(h.timestamp);
}

function readHello(r: Reader): Hello {
  return {
    protocolVersion: r.u8(), chain: r.fixed(8), publicKey: r.fixed(ED25519_PUBLIC_KEY_LENGTH), nodeNumber: r.u32(),
    tipHeight: r.varint(MAX_HEIGHT), finalizedHeight: r.varint(MAX_HEIGHT), roles: r.u8(), timestamp: r.varint(MAX_TIMESTAMP),
  };
}

function writeStatus(w: Writer, s: Status): void {
  w.fixed(s.address, ADDRESS_LENGTH).varint(s.tipHeight).fixed(s.tipHash, TIP_HASH_PREFIX).varint(s.finalizedHeight).varint(s.timestamp);
}

function readStatus(r: Reader): Status {
  return { address: r.fixed(ADDRESS_LENGTH), tipHeight: r.varint(MAX_HEIGHT), tipHash: r.fixed(TIP_HASH_PREFIX), finalizedHeight: r.varint(MAX_HEIGHT), timestamp: r.varint(MAX_TIMESTAMP) };
}

const signingMessage = (chainId: string, type: MessageType, signedBytes: Uint8Array) =>
  concatBytes(cachedDomain(SigningKind.NodeMessage, chainId), Uint8Array.of(type), signedBytes);

function encodeSigned<T>(type: MessageType, write: (w: Writer, body: T) => void, body: T, chainId: string, key: Ed25519KeyPair): Uint8Array {
  const w = new Writer();
  write(w, body);
  const signedBytes = w.finish();
  return concatBytes(signedBytes, ed25519Sign(signingMessage(chainId, type, signedBytes), key));
}

function decodeSigned<T>(bytes: Uint8Array, read: (r: Reader) => T): Signed<T> {
  return decodeExact(bytes, (r) => {
    const body = read(r);
    const signedBytes = bytes.slice(0, r.offset);
    return { body, signedBytes, signature: r.fixed(ED25519_SIGNATURE_LENGTH) };
  });
}

export const helloCodec = {
  encode: (h: Hello, chainId: string, key: Ed25519KeyPair) => encodeSigned(MessageType.Hello, writeHello, h, chainId, key),
  decode: (bytes: Uint8Array): Signed<Hello> => decodeSigned(bytes, readHello),
  /** A hello is self-certifying: it carries the key that must have signed it. */
  verify: (m: Signed<Hello>, chainId: string): boolean =>
    ed25519Verify(m.signature, signingMessage(chainId, MessageType.Hello, m.signedBytes), m.body.publicKey),
  address: (h: Hello): Uint8Array => addressFromPublicKey(h.publicKey),
};

export const statusCodec = {
  encode: (s: Status, chainId: string, key: Ed25519KeyPair) => encodeSigned(MessageType.Status, writeStatus, s, chainId, key),
  decode: (bytes: Uint8Array): Signed<Status> => decodeSigned(bytes, readStatus),
  /** Checks the signature against the sender's key, learnt from its hello or from chain state. */
  verify: (m: Signed<Status>, chainId: string, publicKey: Uint8Array): boolean =>
    addressFromPublicKey(publicKey).every((b, i) => b === m.body.address[i]) &&
    ed25519Verify(m.signature, signingMessage(chainId, MessageType.Status, m.signedBytes), publicKey),
};
