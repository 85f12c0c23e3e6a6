import { decodeExact, type Reader } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { type BlockHeader, readHeader, writeHeader } from "../../core/block/header.js";
import { MAX_BLOCK_TXS, MAX_HEIGHT } from "../../core/block/limits.js";
import { BLS_SIGNATURE_LENGTH } from "../../core/crypto/bls.js";
import { HASH_LENGTH, sha256 } from "../../core/crypto/hash.js";
import { DecodeError, EncodeError } from "../../core/errors.js";

export const SHORT_ID_BYTES = 6;

/** A block announced by header plus short transaction ids; receivers rebuild it from their mempool. */
export interface CompactBlock {
  readonly header: BlockHeader;
  readonly shortIds: readonly Uint8Array[];
}

/** Short ids are salted with the block hash, so nobody can grind collisions ahead of a block. */
export function shortTxId(blockHash: Uint8Array, txHash: Uint8Array): Uint8Array {
  return sha256(blockHash, txHash).slice(0, SHORT_ID_BYTES);
}

export const compactBlockCodec = {
  encode(c: CompactBlock): Uint8Array {
    const w = new Writer();
    writeHeader(w, c.header);
    w.varint(c.shortIds.length);
    for (const id of c.shortIds) w.fixed(id, SHORT_ID_BYTES);
    return w.finish();
  },
  decode: (bytes: Uint8Array): CompactBlock =>
    decodeExact(bytes, (r) => {
      const header = readHeader(r);
      const n = r.varint(MAX_BLOCK_TXS);
      return { header, shortIds: Array.from({ length: n }, () => r.fixed(SHORT_ID_BYTES)) };
    }),
};

/** Ask for the transactions at these positions of a block (those a compact block could not fill). */
export interface GetTransactions {
  readonly blockHash: Uint8Array;
  readonly indexes: readonly number[];
}

export const getTransactionsCodec = {
  encode(g: GetTransactions): Uint8Array {
    const w = new Writer().fixed(g.blockHash, HASH_LENGTH).varint(g.indexes.length);
    let previous = -1;
    for (const i of g.indexes) {
      if (i <= previous) throw new EncodeError("OUT_OF_RANGE", "indexes must be strictly increasing");
      w.varint(i);
      previous = i;
    }
    return w.finish();
  },
  decode: (bytes: Uint8Array): GetTransactions =>
    decodeExact(bytes, (r: Reader) => {
      const blockHash = r.fixed(HASH_LENGTH);
      const n = r.varint(MAX_BLOCK_TXS);
      const indexes: number[] = [];
      for (let i = 0; i < n; i++) {
        const index = r.varint(MAX_BLOCK_TXS - 1);
        if (indexes.length > 0 && index <= (indexes[indexes.length - 1] as number)) throw new DecodeError("INVALID_VALUE", "indexes must be strictly increasing");
        indexes.push(index);
      }
      return { blockHash, indexes };
    }),
};

/** A validator's vote on air: 84 bytes (+3 frame header), with the validator named by its index. */
export interface VoteMessage {
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
}

export const voteCodec = {
  encode: (v: VoteMessage): Uint8Array =>
    new Writer().varint(v.height).fixed(v.blockHash, HASH_LENGTH).u8(v.validatorIndex).fixed(v.signature, BLS_SIGNATURE_LENGTH).finish(),
  decode: (bytes: Uint8Array): VoteMessage =>
    decodeExact(bytes, (r) => ({ height: r.varint(MAX_HEIGHT), blockHash: r.fixed(HASH_LENGTH), validatorIndex: r.u8(), signature: r.fixed(BLS_SIGNATURE_LENGTH) })),
};
