import { Reader } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { BLS_SIGNATURE_LENGTH } from "../crypto/bls.js";
import { HASH_LENGTH } from "../crypto/hash.js";
import { DecodeError } from "../errors.js";
import { MAX_HEIGHT } from "./limits.js";

/** Up to 256 validators: a bitmap of at most 32 bytes. */
export const MAX_SIGNER_BITMAP_BYTES = 32;

/**
 * Proof that one block was notarized: which validators (by index in the voting set of the block's
 * height) voted for it, their votes aggregated into one BLS signature, the signers holding more than
 * two thirds of the weight. It proves notarization, not finality: a block is final once its child in
 * the next slot is notarized too (consensus/finality.ts). Carried in a later block's header.
 */
export interface NotarizationCertificate {
  readonly height: number;
  readonly blockHash: Uint8Array;
  /** Bit i (LSB-first within each byte) set when validator i signed; no trailing zero bytes. */
  readonly signers: Uint8Array;
  readonly signature: Uint8Array;
}

export function writeCertificate(w: Writer, c: NotarizationCertificate): void {
  assertCanonicalBitmap(c.signers);
  w.varint(c.height).fixed(c.blockHash, HASH_LENGTH).bytes(c.signers, MAX_SIGNER_BITMAP_BYTES).fixed(c.signature, BLS_SIGNATURE_LENGTH);
}

export function readCertificate(r: Reader): NotarizationCertificate {
  const height = r.varint(MAX_HEIGHT);
  const blockHash = r.fixed(HASH_LENGTH);
  const signers = r.bytes(MAX_SIGNER_BITMAP_BYTES);
  assertCanonicalBitmap(signers);
  const signature = r.fixed(BLS_SIGNATURE_LENGTH);
  return { height, blockHash, signers, signature };
}

/** A signer bitmap is canonical: non-empty, with no trailing zero byte (one encoding per signer set). */
export function assertCanonicalBitmap(bitmap: Uint8Array): void {
  if (bitmap.length === 0 || bitmap[bitmap.length - 1] === 0) {
    throw new DecodeError("INVALID_VALUE", "signer bitmap must be non-empty with no trailing zero byte");
  }
}

export function signerIndices(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if (((bitmap[i >> 3] as number) >> (i & 7)) & 1) out.push(i);
  return out;
}

export function signerBitmap(indices: readonly number[]): Uint8Array {
  if (indices.length === 0) throw new DecodeError("INVALID_VALUE", "a certificate needs at least one signer");
  const max = Math.max(...indices);
  if (max >= MAX_SIGNER_BITMAP_BYTES * 8 || Math.min(...indices) < 0) throw new DecodeError("OUT_OF_RANGE", "signer index out of range");
  const out = new Uint8Array((max >> 3) + 1);
  for (const i of indices) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
  return out;
}
