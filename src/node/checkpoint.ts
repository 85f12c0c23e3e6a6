import { type Block } from "../core/block/block.js";
import { blockHash } from "../core/block/header.js";
import { bytesEqual, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { MeshChainError } from "../core/errors.js";
import { MessageType } from "../mesh/frame.js";
import { snapshotChunkCodec, snapshotRequestCodec } from "../mesh/messages/sync.js";
import { NodeError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { NodeNetwork } from "./network.js";
import { decodeSnapshot } from "./sync-server.js";

export interface CheckpointOptions {
  /** The finalized block to start from, as the operator was given it. */
  readonly hash: Uint8Array;
  /** Give up after this long without a complete snapshot. */
  readonly timeoutMs: number;
  /** A chunk unanswered this long: ask the next peer. */
  readonly chunkTimeoutMs: number;
}

/**
 * Fetch the state snapshot at a trusted block hash from peers over the IP transport, one chunk at a
 * time, moving to another peer when one does not answer or does not hold it. The block must hash to
 * the operator's hash (checked here) and the state to the block's state root (checked by the store).
 */
export function fetchCheckpoint(opts: CheckpointOptions, deps: { network: NodeNetwork; clock: Clock; logger: Logger }): Promise<{ block: Block; entries: { key: Uint8Array; value: Uint8Array }[] }> {
  const { network, clock, logger } = deps;
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let count: number | null = null;
    let peer: number | null = null;
    const tried = new Set<number>();
    let chunkTimer: unknown = null;
    let done = false;
    const deadline = clock.setTimeout(() => finish(new NodeError("CHECKPOINT_UNAVAILABLE", `no peer served the snapshot at ${toHex(opts.hash)} within ${opts.timeoutMs / 1000} s`)), opts.timeoutMs);
    const finish = (result: Error | { block: Block; entries: { key: Uint8Array; value: Uint8Array }[] }) => {
      done = true;
      stopListening();
      clock.clearTimeout(deadline);
      if (chunkTimer !== null) clock.clearTimeout(chunkTimer);
      network.handle(MessageType.SnapshotChunk, () => undefined);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const nextPeer = (): void => {
      if (done) return;
      if (peer !== null) tried.add(peer);
      const candidates = network.peers.syncPeers(64).filter((p) => !tried.has(p.node));
      // Everyone tried: start over (peers come and go), after the chunk timeout.
      if (candidates.length === 0) tried.clear();
      peer = candidates[0]?.node ?? null;
      ask();
    };
    const ask = (): void => {
      if (chunkTimer !== null) clock.clearTimeout(chunkTimer);
      chunkTimer = clock.setTimeout(nextPeer, opts.chunkTimeoutMs);
      if (peer === null) return;
      void network.send(MessageType.SnapshotRequest, snapshotRequestCodec.encode({ target: peer, blockHash: opts.hash, index: chunks.length }));
    };
    network.handle(MessageType.SnapshotChunk, (m) => {
      const c = snapshotChunkCodec.decode(m.payload);
      if (m.meta.from !== peer || c.requester !== network.nodeNumber || !bytesEqual(c.blockHash, opts.hash) || c.index !== chunks.length) return;
      if (c.count === 0 || (count !== null && c.count !== count)) return nextPeer();
      count = c.count;
      chunks.push(c.data);
      if (chunks.length < count) return ask();
      try {
        const snapshot = decodeSnapshot(chunks);
        if (!bytesEqual(blockHash(snapshot.block.header), opts.hash)) throw new NodeError("CHECKPOINT_MISMATCH", "the snapshot's block does not have the checkpoint hash");
        logger.info({ height: snapshot.block.header.height, entries: snapshot.entries.length, peer: m.meta.from.toString(16) }, "checkpoint snapshot received");
        finish(snapshot);
      } catch (e) {
        if (!(e instanceof MeshChainError)) throw e;
        network.peers.record(m.meta.from, { kind: "invalid", reason: e.code });
        chunks.length = 0;
        count = null;
        nextPeer();
      }
    });
    const stopListening = network.onPeerUpdate(() => {
      if (!done && peer === null) nextPeer();
    });
    nextPeer();
  });
}
