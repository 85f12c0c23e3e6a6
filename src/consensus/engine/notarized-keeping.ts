import type { Block } from "../../core/block/block.js";
import type { NotarizedBlockStore } from "../../core/chain/notarized-blocks.js";
import { MeshChainError } from "../../core/errors.js";
import type { TreeBlock } from "../block-tree.js";
import type { EngineContext, EngineParts } from "./context.js";

/**
 * Keeps the notarized blocks above finality where a restart finds them (deps.notarized). Every
 * signature moves the lock to the slot of a notarized block in our tree, so writing each notarized
 * block above the root, with its ancestors, before any signature leaves makes the block a lock
 * points at one this node can serve and build on after a restart, even when every validator
 * restarts at once on a chain that was not final (an idle chain of heartbeats never is).
 */
export class NotarizedKeeping {
  /** Block id → whether it was kept with its certificate (a later certificate is written again). */
  private readonly kept = new Map<string, boolean>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly store: NotarizedBlockStore,
  ) {}

  /** Before a signature: every notarized block above the root not yet kept, with its ancestors. */
  beforeSigning(): void {
    const ctx = this.ctx;
    const add = new Map<string, { readonly tree: TreeBlock; readonly block: Block }>();
    for (const b of ctx.blocks.values()) {
      if (!b.notarized || b.block === null || b.height <= ctx.root.height) continue;
      for (let x: TreeBlock | undefined = b; x !== undefined && x.block !== null && x.height > ctx.root.height; x = ctx.parentOf(x)) {
        const hadCertificate = this.kept.get(x.id);
        if (hadCertificate === true || (hadCertificate === false && x.certificate === null)) break;
        add.set(x.id, { tree: x, block: x.block });
      }
    }
    if (add.size === 0) return;
    const blocks = [...add.values()].sort((a, b) => a.tree.height - b.tree.height);
    // A failure here throws before the signature exists: the caller counts it as a paused signature.
    this.store.keep(blocks.map((b) => ({ block: b.block, certificate: b.tree.certificate })));
    for (const b of blocks) this.kept.set(b.tree.id, b.tree.certificate !== null);
  }

  /** After finality reached `height` and the store committed it. */
  finalized(height: number): void {
    try {
      this.store.pruneTo(height);
    } catch (e) {
      // The blocks are committed already; rows left below finality are pruned next time or dropped at start.
      if (!(e instanceof MeshChainError)) throw e;
    }
    for (const id of this.kept.keys()) {
      const b = this.ctx.blocks.get(id);
      if (b === undefined || b.height <= height) this.kept.delete(id);
    }
  }

  /**
   * At start: the kept blocks above the root go through the block intake like any block from a peer
   * (proposer, signatures, state transition and certificates checked again); below it, dropped.
   */
  restore(parts: EngineParts): void {
    // Pruned to the root first, so everything read back lies above it (the store's contract).
    this.store.pruneTo(this.ctx.root.height);
    for (const { block, certificate } of this.store.all()) parts.intake.onBlock(block, certificate);
    for (const b of this.ctx.blocks.values()) if (b.block !== null && b.height > this.ctx.root.height) this.kept.set(b.id, b.certificate !== null);
  }
}
