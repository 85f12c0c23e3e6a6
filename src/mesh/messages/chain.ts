import { type Block, decodeBlock, encodeBlock } from "../../core/block/block.js";
import { type NotarizationCertificate, readCertificate, writeCertificate } from "../../core/block/certificate.js";
import { MAX_BLOCK_BYTES, MAX_HEIGHT, MAX_SLOT } from "../../core/block/limits.js";
import { decodeExact } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { HASH_LENGTH } from "../../core/crypto/hash.js";

/** Type 13: ask the mesh for one block by its hash (catch-up). */
export interface GetBlock {
  readonly hash: Uint8Array;
}

/** Type 14: a whole block with the certificate that notarized it, when known (the answer to 13). */
export interface CertifiedBlock {
  readonly block: Block;
  readonly certificate: NotarizationCertificate | null;
}

/** Type 15: a validator's view of the chain, so laggards learn what they missed. */
export interface ChainStatus {
  readonly finalizedHeight: number;
  readonly headHeight: number;
  /** The head's slot, as the fork choice ranks heads (docs/consensus.md §7). */
  readonly headSlot: number;
  readonly headHash: Uint8Array;
  /** The block whose notarization proved the latest finality (it may lie off the final chain). */
  readonly witnessHash: Uint8Array | null;
}

export const getBlockCodec = {
  encode: (m: GetBlock): Uint8Array => new Writer().fixed(m.hash, HASH_LENGTH).finish(),
  decode: (bytes: Uint8Array): GetBlock => decodeExact(bytes, (r) => ({ hash: r.fixed(HASH_LENGTH) })),
};

export const certifiedBlockCodec = {
  encode(m: CertifiedBlock): Uint8Array {
    const w = new Writer();
    if (m.certificate === null) w.u8(0);
    else writeCertificate(w.u8(1), m.certificate);
    return w.bytes(encodeBlock(m.block), MAX_BLOCK_BYTES).finish();
  },
  decode: (bytes: Uint8Array): CertifiedBlock =>
    decodeExact(bytes, (r) => {
      const certificate = r.flag() ? readCertificate(r) : null;
      return { certificate, block: decodeBlock(r.bytes(MAX_BLOCK_BYTES)) };
    }),
};

export const chainStatusCodec = {
  encode(m: ChainStatus): Uint8Array {
    const w = new Writer().varint(m.finalizedHeight).varint(m.headHeight).varint(m.headSlot).fixed(m.headHash, HASH_LENGTH);
    if (m.witnessHash === null) w.u8(0);
    else w.u8(1).fixed(m.witnessHash, HASH_LENGTH);
    return w.finish();
  },
  decode: (bytes: Uint8Array): ChainStatus =>
    decodeExact(bytes, (r) => ({
      finalizedHeight: r.varint(MAX_HEIGHT),
      headHeight: r.varint(MAX_HEIGHT),
      headSlot: r.varint(MAX_SLOT),
      headHash: r.fixed(HASH_LENGTH),
      witnessHash: r.flag() ? r.fixed(HASH_LENGTH) : null,
    })),
};
