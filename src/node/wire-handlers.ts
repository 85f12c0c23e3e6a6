// The node's handlers for peers' messages that are not consensus (the engine registers its own in
// validator.ts, the checkpoint fetch in checkpoint.ts): what it answers, and what range sync hears.
// The answers themselves are built from the store in sync-server.ts.
import { MeshChainError } from "../core/errors.js";
import { decodeTxWithBytes } from "../core/tx/codec.js";
import { MessageType } from "../mesh/frame.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "../mesh/messages/sync.js";
import { MQTT_MTU } from "../mesh/transports/mqtt.js";
import type { ChainStore } from "../storage/chain-store.js";
import type { TxPool } from "./mempool.js";
import type { NodeNetwork } from "./network.js";
import type { ChainSync } from "./sync.js";
import { answerSnapshotRequest, answerSyncRequest, type Snapshot, takeSnapshot } from "./sync-server.js";

export const DEFAULT_SNAPSHOT_INTERVAL_BLOCKS = 1_000;

/**
 * What every node with a network serves the peers that ask it: its finalized blocks by range, and one
 * snapshot of finalized state to start a new node from (checkpoint sync), refreshed every interval.
 */
export class ChainServer {
  private kept: Snapshot | null = null;

  constructor(
    private readonly store: ChainStore,
    private readonly intervalBlocks: number,
  ) {}

  /** The snapshot served now; null until the first finalized tip at an interval (or at start). */
  get snapshot(): Snapshot | null {
    return this.kept;
  }

  /** After a commit: a new snapshot when the finalized tip reaches the interval (`force`: at any height). */
  refresh(force = false): void {
    const store = this.store;
    const height = store.tip.height;
    if (height === 0 || store.finalizedHeight !== height || (!force && height % this.intervalBlocks !== 0)) return;
    const block = store.blockAt(height);
    if (block !== null) this.kept = takeSnapshot(block, store.state);
  }

  /** Answer range and snapshot requests addressed to this node. */
  serve(network: NodeNetwork): void {
    const store = this.store;
    network.handle(MessageType.SyncRequest, (m) => {
      const request = syncRequestCodec.decode(m.payload);
      if (request.target !== network.nodeNumber) return;
      void network.send(MessageType.SyncResponse, syncResponseCodec.encode(answerSyncRequest(store, request, m.meta.from, MQTT_MTU - 16)));
    });
    network.handle(MessageType.SnapshotRequest, (m) => {
      const request = snapshotRequestCodec.decode(m.payload);
      if (request.target !== network.nodeNumber) return;
      void network.send(MessageType.SnapshotChunk, snapshotChunkCodec.encode(answerSnapshotRequest(this.kept, request, m.meta.from)));
    });
  }
}

/**
 * What a node hears while range sync runs: the answers to its range requests, and relayed
 * transactions into the pool. They stay registered after the sync stops; the engine, when it starts,
 * takes the transaction type over (consensus/wire.ts).
 */
export function listenForSync(network: NodeNetwork, sync: ChainSync, pool: TxPool): void {
  network.handle(MessageType.SyncResponse, (m) => sync.onResponse(m.meta.from, syncResponseCodec.decode(m.payload)));
  network.handle(MessageType.Transaction, (m) => {
    try {
      pool.add(decodeTxWithBytes(m.payload));
    } catch (e) {
      // Already known, or not valid here: a relayed transaction only costs us the decode.
      if (!(e instanceof MeshChainError)) throw e;
    }
  });
}
