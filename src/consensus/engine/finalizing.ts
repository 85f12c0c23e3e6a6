import { MeshChainError } from "../../core/errors.js";
import { toHex } from "../../core/bytes.js";
import { txHash } from "../../core/tx/codec.js";
import type { TreeBlock } from "../block-tree.js";
import { compactBlock } from "../compact-blocks.js";
import { finalizesParent, finalizesRun } from "../finality.js";
import type { EngineContext, EngineParts } from "./context.js";

/**
 * Finality (the two-slot rule, consensus/finality.ts): a notarized block whose child in the next
 * slot is notarized is final, with all before it; on a chain with finalityRule 1, so is a notarized
 * block precommitted by more than two thirds of its weight (engine/precommitting.ts). The store commits first (deps.onFinalized); only then does the root move, the tree get
 * pruned to the new root's descendants, and whatever waited below the root get dropped.
 */
export class Finalizing {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  check(): void {
    const ctx = this.ctx;
    const slots = Number(ctx.params.finalitySlots);
    let best: TreeBlock | null = null;
    let witness: TreeBlock | null = null;
    for (const x of ctx.blocks.values()) {
      if (!x.notarized || x.parentId === null) continue;
      const p = ctx.blocks.get(x.parentId);
      if (p === undefined || !p.notarized || !finalizesParent(p, x)) continue;
      // On a chain of Streamlet's rule, the parent's parent must be notarized in the slot before too.
      const g = slots === 3 && p.parentId !== null ? ctx.blocks.get(p.parentId) : undefined;
      if (slots === 3 && (g === undefined || !g.notarized || !finalizesRun([g, p, x], 3))) continue;
      if (p.height > ctx.root.height && (best === null || p.height > best.height)) {
        best = p;
        witness = x;
      }
    }
    // The precommit rule (a chain with finalityRule 1): a notarized block with a precommit quorum is
    // final in its own slot; it is its own witness (a peer that fetches it holds its notarization).
    for (const x of ctx.blocks.values()) {
      if (!x.notarized || x.height <= ctx.root.height || (best !== null && x.height <= best.height)) continue;
      if (this.parts.precommitting.certificateOf(x.id) === undefined) continue;
      best = x;
      witness = x;
    }
    if (best === null || witness === null || witness.block === null || witness.certificate === null) return;
    ctx.witness = { id: witness.id, hash: witness.hash, block: witness.block, certificate: witness.certificate };
    this.finalize(best);
  }

  private finalize(target: TreeBlock): void {
    const ctx = this.ctx;
    const path: TreeBlock[] = [];
    for (let b: TreeBlock | undefined = target; b !== undefined && b.id !== ctx.root.id; b = ctx.parentOf(b)) path.unshift(b);
    if (path[0]?.parentId !== ctx.root.id) return;
    // The store commits first: memory moves past a block only once the disk holds it.
    try {
      ctx.deps.onFinalized?.(path);
    } catch (e) {
      if (!(e instanceof MeshChainError)) throw e;
      ctx.stats.commitFailures++;
      return;
    }
    for (const b of path) {
      ctx.finalizedIds.push(b.id);
      const parent = ctx.parentOf(b);
      if (b.block !== null) {
        const compact = ctx.link.compactRelay && parent !== undefined ? compactBlock(b.block, parent, b.certificate) : null;
        // Older blocks are the chain store's (and sync's) to serve: the map forgets them.
        ctx.finalizedBlocks.set(b.id, { block: b.block, certificate: b.certificate, compact });
      }
    }
    ctx.root = target;
    ctx.stats.finalized += path.length;
    this.prune(target);
    this.parts.catchUp.dropBelow(target);
    this.parts.compact.dropBelow(target.height);
    const included = path.flatMap((b) => (b.block === null ? [] : b.block.txs.map((t) => toHex(txHash(t.bytes)))));
    ctx.deps.mempool.removeFinal(included);
  }

  /** Keep only descendants of the new root. */
  private prune(root: TreeBlock): void {
    const blocks = this.ctx.blocks;
    const keep = new Set<string>([root.id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const b of blocks.values()) {
        if (!keep.has(b.id) && b.parentId !== null && keep.has(b.parentId)) {
          keep.add(b.id);
          grew = true;
        }
      }
    }
    for (const id of [...blocks.keys()]) if (!keep.has(id)) blocks.delete(id);
  }
}
