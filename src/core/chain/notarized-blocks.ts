import type { Block } from "../block/block.js";
import type { NotarizationCertificate } from "../block/certificate.js";
import { blockHash } from "../block/header.js";
import { toHex } from "../bytes.js";

/** A block above finality with its notarization, when this node holds one (its ancestors may lack theirs: a child's header carries it). */
export interface KeptBlock {
  readonly block: Block;
  readonly certificate: NotarizationCertificate | null;
}

/**
 * Where a validator keeps the notarized blocks above its finalized tip (HotStuff's highQC and its
 * ancestors), so that a restart finds again the block its lock points at: the lock lives in the
 * signing record, and a lock above every block a restarted network still holds halts the chain for
 * good (docs/consensus.md §7). `keep` is durable before it returns, and is called before the
 * signature that moves the lock.
 */
export interface NotarizedBlockStore {
  /** Add or replace (a certificate arrived for a block kept without one). */
  keep(blocks: readonly KeptBlock[]): void;
  /** Everything kept, lowest height first: read back through the engine's block intake, never trusted. */
  all(): KeptBlock[];
  /** Forget every block at or below `height` (finality reached it). */
  pruneTo(height: number): void;
}

/** For simulations: the same contract in memory (a simulated restart keeps the object). */
export class MemoryNotarizedBlocks implements NotarizedBlockStore {
  private readonly blocks = new Map<string, KeptBlock>();

  keep(blocks: readonly KeptBlock[]): void {
    for (const b of blocks) {
      const id = toHex(blockHash(b.block.header));
      // As the SQLite store: a later write without a certificate keeps the one already held.
      this.blocks.set(id, b.certificate === null ? { ...b, certificate: this.blocks.get(id)?.certificate ?? null } : b);
    }
  }

  all(): KeptBlock[] {
    return [...this.blocks.values()].sort((a, b) => a.block.header.height - b.block.header.height);
  }

  pruneTo(height: number): void {
    for (const [id, b] of this.blocks) if (b.block.header.height <= height) this.blocks.delete(id);
  }
}
