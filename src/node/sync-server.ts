import { decodeExact, Reader } from "../core/codec/reader.js";
import { Writer } from "../core/codec/writer.js";
import { type Block, decodeBlock, encodeBlock } from "../core/block/block.js";
import { MAX_BLOCK_BYTES } from "../core/block/limits.js";
import { type BlockHeader, blockHash, readHeader } from "../core/block/header.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import { bytesEqual } from "../core/bytes.js";
import type { StateStore } from "../core/state/store.js";
import { MAX_SNAPSHOT_CHUNK_BYTES, MAX_SYNC_BLOCKS, type SnapshotChunk, type SnapshotRequest, type SyncedBlock, type SyncRequest, type SyncResponse } from "../mesh/messages/sync.js";
import type { ChainStore } from "../storage/chain-store.js";

/** Room for the response's own fields inside one IP frame. */
const RESPONSE_OVERHEAD_BYTES = 32;

/**
 * Answer a range request from the store: consecutive finalized blocks from the asked height, as many
 * as fit `maxBytes`, each with its notarization where the next block sent does not carry it. Below
 * the store's oldest body (pruned, or before its checkpoint) the answer is empty and says so.
 *
 * The stored bytes go out as they are: one read for the range and one for its notarizations, and
 * only each block's header decoded (for the certificate of its parent). They were checked before
 * they were stored; the asker checks them again.
 */
export function answerSyncRequest(store: ChainStore, request: SyncRequest, requester: number, maxBytes: number): SyncResponse {
  const finalizedHeight = store.finalizedHeight;
  // Blocks whose proposer signatures the audit has not passed yet are not served (consensus/signature-audit.ts).
  const last = Math.min(finalizedHeight, store.signaturesCheckedHeight, request.fromHeight + Math.min(request.maxBlocks, MAX_SYNC_BLOCKS) - 1);
  const blocks: { bytes: Uint8Array; header: BlockHeader }[] = [];
  let used = RESPONSE_OVERHEAD_BYTES;
  for (const bytes of store.blockBytesRange(request.fromHeight, last)) {
    // Room for the block and, in the worst case, a notarization beside it.
    if (used + bytes.length + 160 > maxBytes) break;
    blocks.push({ bytes, header: readHeader(new Reader(bytes)) });
    used += bytes.length + 4;
  }
  const lastHeight = request.fromHeight + blocks.length - 1;
  const stored = blocks.length === 0 ? new Map<number, NotarizationCertificate>() : store.notarizationsIn(request.fromHeight, lastHeight);
  const after = blocks.length === 0 ? null : store.headerAt(lastHeight + 1);
  const out: SyncedBlock[] = blocks.map((b, i) => {
    const sent = blocks[i + 1];
    // The next block sent carries it: nothing beside this one.
    if (sent !== undefined && sent.header.certificate !== null) return { bytes: b.bytes, notarization: null };
    const next = sent === undefined ? after : sent.header;
    return { bytes: b.bytes, notarization: next?.certificate ?? stored.get(b.header.height) ?? null };
  });
  return { requester, fromHeight: request.fromHeight, finalizedHeight, oldestBody: store.oldestBody, blocks: out };
}

/** A state snapshot at one finalized block, cut into chunks that each fit an IP frame. */
export interface Snapshot {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly chunks: readonly Uint8Array[];
}

export function takeSnapshot(block: Block, state: StateStore): Snapshot {
  const w = new Writer().bytes(encodeBlock(block), MAX_BLOCK_BYTES).varint(state.size);
  for (const e of state.sortedEntries()) w.bytes(e.key, 64).bytes(e.value, 1 << 20);
  const data = w.finish();
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += MAX_SNAPSHOT_CHUNK_BYTES) chunks.push(data.subarray(at, at + MAX_SNAPSHOT_CHUNK_BYTES));
  return { height: block.header.height, hash: blockHash(block.header), chunks };
}

export function answerSnapshotRequest(snapshot: Snapshot | null, request: SnapshotRequest, requester: number): SnapshotChunk {
  if (snapshot === null || !bytesEqual(snapshot.hash, request.blockHash) || request.index >= snapshot.chunks.length) {
    return { requester, blockHash: request.blockHash, index: 0, count: 0, data: new Uint8Array() };
  }
  return { requester, blockHash: request.blockHash, index: request.index, count: snapshot.chunks.length, data: snapshot.chunks[request.index] as Uint8Array };
}

/** Put a snapshot's chunks back together; the caller checks the block's hash and the state root. */
export function decodeSnapshot(chunks: readonly Uint8Array[]): { block: Block; entries: { key: Uint8Array; value: Uint8Array }[] } {
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return decodeExact(data, (r) => {
    const block = decodeBlock(r.bytes(MAX_BLOCK_BYTES));
    const n = r.varint(total);
    const entries = Array.from({ length: n }, () => ({ key: r.bytes(64), value: r.bytes(1 << 20) }));
    return { block, entries };
  });
}
