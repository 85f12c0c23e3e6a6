import { decodeExact } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { MAX_BLOCK_BYTES, MAX_HEIGHT } from "../../core/block/limits.js";
import { DecodeError, EncodeError } from "../../core/errors.js";

export const MAX_SYNC_BLOCKS = 64;

/** Ask a peer for up to `maxBlocks` consecutive blocks from `fromHeight`. */
export interface SyncRequest {
  readonly fromHeight: number;
  readonly maxBlocks: number;
}

export interface SyncResponse {
  readonly fromHeight: number;
  /** Encoded blocks, consecutive from `fromHeight`; empty when the peer has none. */
  readonly blocks: readonly Uint8Array[];
}

export const syncRequestCodec = {
  encode(s: SyncRequest): Uint8Array {
    if (s.maxBlocks < 1 || s.maxBlocks > MAX_SYNC_BLOCKS) throw new EncodeError("OUT_OF_RANGE", `maxBlocks must be 1-${MAX_SYNC_BLOCKS}`);
    return new Writer().varint(s.fromHeight).u8(s.maxBlocks).finish();
  },
  decode: (bytes: Uint8Array): SyncRequest =>
    decodeExact(bytes, (r) => {
      const fromHeight = r.varint(MAX_HEIGHT);
      const maxBlocks = r.u8();
      if (maxBlocks < 1 || maxBlocks > MAX_SYNC_BLOCKS) throw new DecodeError("OUT_OF_RANGE", `maxBlocks must be 1-${MAX_SYNC_BLOCKS}`);
      return { fromHeight, maxBlocks };
    }),
};

export const syncResponseCodec = {
  encode(s: SyncResponse): Uint8Array {
    const w = new Writer().varint(s.fromHeight).varint(s.blocks.length);
    for (const b of s.blocks) w.bytes(b, MAX_BLOCK_BYTES);
    return w.finish();
  },
  decode: (bytes: Uint8Array): SyncResponse =>
    decodeExact(bytes, (r) => {
      const fromHeight = r.varint(MAX_HEIGHT);
      const n = r.varint(MAX_SYNC_BLOCKS);
      return { fromHeight, blocks: Array.from({ length: n }, () => r.bytes(MAX_BLOCK_BYTES)) };
    }),
};
