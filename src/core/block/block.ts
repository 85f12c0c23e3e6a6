import { decodeExact } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { DecodeError } from "../errors.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../tx/codec.js";
import { MAX_TX_BYTES } from "../tx/limits.js";
import { merkleRoot } from "../merkle/tree.js";
import { type BlockHeader, readHeader, writeHeader } from "./header.js";
import { MAX_BLOCK_BYTES, MAX_BLOCK_TXS } from "./limits.js";

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly DecodedTx[];
}

/** header | tx count varint | (tx length varint | tx bytes)* */
export function encodeBlock(b: Block): Uint8Array {
  const w = new Writer();
  writeHeader(w, b.header);
  w.varint(b.txs.length);
  for (const t of b.txs) w.bytes(t.bytes, MAX_TX_BYTES);
  return w.finish();
}

export function decodeBlock(bytes: Uint8Array): Block {
  if (bytes.length > MAX_BLOCK_BYTES) throw new DecodeError("LENGTH_TOO_LARGE", `block of ${bytes.length} bytes exceeds ${MAX_BLOCK_BYTES}`);
  return decodeExact(bytes, (r) => {
    const header = readHeader(r);
    const count = r.varint(MAX_BLOCK_TXS);
    const txs: DecodedTx[] = [];
    for (let i = 0; i < count; i++) txs.push(decodeTxWithBytes(r.bytes(MAX_TX_BYTES)));
    return { header, txs };
  });
}

/** The transaction root commits to each transaction's full encoding, signature included. */
export function txRootOf(txs: readonly DecodedTx[]): Uint8Array {
  return merkleRoot(txs.map((t) => t.bytes));
}

export const txHashes = (txs: readonly DecodedTx[]): Uint8Array[] => txs.map((t) => txHash(t.bytes));
