import { decodeExact, Reader } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { BLS_SIGNATURE_LENGTH } from "../crypto/bls.js";
import { HASH_LENGTH, sha256 } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";
import { type NotarizationCertificate, readCertificate, writeCertificate } from "./certificate.js";
import { BLOCK_VERSION, MAX_HEIGHT, MAX_SLOT, MAX_TIMESTAMP } from "./limits.js";

export interface UnsignedHeader {
  readonly version: number;
  readonly height: number;
  readonly slot: number;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly parentHash: Uint8Array;
  readonly txRoot: Uint8Array;
  /** State root after this block's transactions and end-of-block processing. */
  readonly stateRoot: Uint8Array;
  readonly proposer: Uint8Array;
  /** The proposer's BLS signature over the slot number: unique, so it cannot be ground for randomness. */
  readonly randaoReveal: Uint8Array;
  readonly certificate: NotarizationCertificate | null;
}

export interface BlockHeader extends UnsignedHeader {
  /** The proposer's BLS vote for this block: it doubles as the proposer's vote in the certificate. */
  readonly signature: Uint8Array;
}

export function writeUnsignedHeader(w: Writer, h: UnsignedHeader): void {
  w.u8(h.version)
    .varint(h.height)
    .varint(h.slot)
    .varint(h.timestamp)
    .fixed(h.parentHash, HASH_LENGTH)
    .fixed(h.txRoot, HASH_LENGTH)
    .fixed(h.stateRoot, HASH_LENGTH)
    .fixed(h.proposer, ADDRESS_LENGTH)
    .fixed(h.randaoReveal, BLS_SIGNATURE_LENGTH);
  if (h.certificate === null) w.u8(0);
  else {
    w.u8(1);
    writeCertificate(w, h.certificate);
  }
}

export function writeHeader(w: Writer, h: BlockHeader): void {
  writeUnsignedHeader(w, h);
  w.fixed(h.signature, BLS_SIGNATURE_LENGTH);
}

export function readHeader(r: Reader): BlockHeader {
  const version = r.u8();
  if (version !== BLOCK_VERSION) throw new DecodeError("INVALID_VALUE", `unsupported block version ${version}`);
  const height = r.varint(MAX_HEIGHT);
  const slot = r.varint(MAX_SLOT);
  const timestamp = r.varint(MAX_TIMESTAMP);
  const parentHash = r.fixed(HASH_LENGTH);
  const txRoot = r.fixed(HASH_LENGTH);
  const stateRoot = r.fixed(HASH_LENGTH);
  const proposer = r.fixed(ADDRESS_LENGTH);
  const randaoReveal = r.fixed(BLS_SIGNATURE_LENGTH);
  const certificate = r.flag() ? readCertificate(r) : null;
  const signature = r.fixed(BLS_SIGNATURE_LENGTH);
  return { version, height, slot, timestamp, parentHash, txRoot, stateRoot, proposer, randaoReveal, certificate, signature };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  const w = new Writer();
  writeHeader(w, h);
  return w.finish();
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return decodeExact(bytes, readHeader);
}

export function encodeUnsignedHeader(h: UnsignedHeader): Uint8Array {
  const w = new Writer();
  writeUnsignedHeader(w, h);
  return w.finish();
}

/** The block hash covers every header field but the signature, which signs the hash. */
export function blockHash(h: UnsignedHeader): Uint8Array {
  return sha256(encodeUnsignedHeader(h));
}
