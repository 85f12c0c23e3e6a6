import { decodeExact, type Reader } from "../../core/codec/reader.js";
import { Writer } from "../../core/codec/writer.js";
import { type NotarizationCertificate, readCertificate, writeCertificate } from "../../core/block/certificate.js";
import { MAX_BLOCK_BYTES, MAX_HEIGHT } from "../../core/block/limits.js";
import { HASH_LENGTH } from "../../core/crypto/hash.js";
import { DecodeError, EncodeError } from "../../core/errors.js";

export const MAX_SYNC_BLOCKS = 64;
/** Snapshot chunks are sized for the IP transport's frame; a million chunks bounds a snapshot at gigabytes. */
export const MAX_SNAPSHOT_CHUNKS = 1 << 20;
export const MAX_SNAPSHOT_CHUNK_BYTES = 8_000;

/** Ask one peer (`target`, its node number) for up to `maxBlocks` consecutive finalized blocks from `fromHeight`. */
export interface SyncRequest {
  readonly target: number;
  readonly fromHeight: number;
  readonly maxBlocks: number;
}

export interface SyncedBlock {
  /** The encoded block. */
  readonly bytes: Uint8Array;
  /** Its notarization, sent only when the next block in the response does not carry it. */
  readonly notarization: NotarizationCertificate | null;
}

export interface SyncResponse {
  /** The node number of the request's sender: a broadcast answer names whom it serves. */
  readonly requester: number;
  readonly fromHeight: number;
  /** The responder's finalized height when it answered: the asker's target. */
  readonly finalizedHeight: number;
  /**
   * The lowest height whose whole block the responder serves (a pruning follower keeps only headers
   * below it, a checkpoint-started node has nothing below its checkpoint): an empty answer from
   * below it means "pruned", not a stall.
   */
  readonly oldestBody: number;
  /** Consecutive from `fromHeight`; empty when the responder has none there. */
  readonly blocks: readonly SyncedBlock[];
}

/** Ask one peer for chunk `index` of its snapshot of the state after the finalized block `blockHash`. */
export interface SnapshotRequest {
  readonly target: number;
  readonly blockHash: Uint8Array;
  readonly index: number;
}

/**
 * One piece of a state snapshot. Chunk 0 starts with the checkpoint block; the concatenated chunk
 * data decodes as (block bytes, entry count, entries sorted by key). `count` is 0 when the
 * responder holds no snapshot at that hash.
 */
export interface SnapshotChunk {
  readonly requester: number;
  readonly blockHash: Uint8Array;
  readonly index: number;
  readonly count: number;
  readonly data: Uint8Array;
}

const u32 = (n: number, what: string): number => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new EncodeError("OUT_OF_RANGE", `${what} must be a 32-bit node number`);
  return n;
};

export const syncRequestCodec = {
  encode(s: SyncRequest): Uint8Array {
    if (s.maxBlocks < 1 || s.maxBlocks > MAX_SYNC_BLOCKS) throw new EncodeError("OUT_OF_RANGE", `maxBlocks must be 1-${MAX_SYNC_BLOCKS}`);
    return new Writer().u32(u32(s.target, "target")).varint(s.fromHeight).u8(s.maxBlocks).finish();
  },
  decode: (bytes: Uint8Array): SyncRequest =>
    decodeExact(bytes, (r) => {
      const target = r.u32();
      const fromHeight = r.varint(MAX_HEIGHT);
      const maxBlocks = r.u8();
      if (maxBlocks < 1 || maxBlocks > MAX_SYNC_BLOCKS) throw new DecodeError("OUT_OF_RANGE", `maxBlocks must be 1-${MAX_SYNC_BLOCKS}`);
      return { target, fromHeight, maxBlocks };
    }),
};

function readSyncedBlock(r: Reader): SyncedBlock {
  const bytes = r.bytes(MAX_BLOCK_BYTES);
  return { bytes, notarization: r.flag() ? readCertificate(r) : null };
}

export const syncResponseCodec = {
  encode(s: SyncResponse): Uint8Array {
    if (s.blocks.length > MAX_SYNC_BLOCKS) throw new EncodeError("OUT_OF_RANGE", `at most ${MAX_SYNC_BLOCKS} blocks per response`);
    const w = new Writer().u32(u32(s.requester, "requester")).varint(s.fromHeight).varint(s.finalizedHeight).varint(s.oldestBody).varint(s.blocks.length);
    for (const b of s.blocks) {
      w.bytes(b.bytes, MAX_BLOCK_BYTES).u8(b.notarization === null ? 0 : 1);
      if (b.notarization !== null) writeCertificate(w, b.notarization);
    }
    return w.finish();
  },
  decode: (bytes: Uint8Array): SyncResponse =>
    decodeExact(bytes, (r) => {
      const requester = r.u32();
      const fromHeight = r.varint(MAX_HEIGHT);
      const finalizedHeight = r.varint(MAX_HEIGHT);
      const oldestBody = r.varint(MAX_HEIGHT);
      const n = r.varint(MAX_SYNC_BLOCKS);
      return { requester, fromHeight, finalizedHeight, oldestBody, blocks: Array.from({ length: n }, () => readSyncedBlock(r)) };
    }),
};

export const snapshotRequestCodec = {
  encode: (s: SnapshotRequest): Uint8Array => new Writer().u32(u32(s.target, "target")).fixed(s.blockHash, HASH_LENGTH).varint(s.index).finish(),
  decode: (bytes: Uint8Array): SnapshotRequest =>
    decodeExact(bytes, (r) => ({ target: r.u32(), blockHash: r.fixed(HASH_LENGTH), index: r.varint(MAX_SNAPSHOT_CHUNKS - 1) })),
};

export const snapshotChunkCodec = {
  encode(s: SnapshotChunk): Uint8Array {
    if (s.count > MAX_SNAPSHOT_CHUNKS || (s.count > 0 && s.index >= s.count)) throw new EncodeError("OUT_OF_RANGE", "chunk index must be below the chunk count");
    return new Writer().u32(u32(s.requester, "requester")).fixed(s.blockHash, HASH_LENGTH).varint(s.index).varint(s.count).bytes(s.data, MAX_SNAPSHOT_CHUNK_BYTES).finish();
  },
  decode: (bytes: Uint8Array): SnapshotChunk =>
    decodeExact(bytes, (r) => {
      const requester = r.u32();
      const blockHash = r.fixed(HASH_LENGTH);
      const index = r.varint(MAX_SNAPSHOT_CHUNKS - 1);
      const count = r.varint(MAX_SNAPSHOT_CHUNKS);
      if (count > 0 && index >= count) throw new DecodeError("OUT_OF_RANGE", "chunk index must be below the chunk count");
      return { requester, blockHash, index, count, data: r.bytes(MAX_SNAPSHOT_CHUNK_BYTES) };
    }),
};
