import type { Block } from "../../core/block/block.js";
import type { NotarizationCertificate } from "../../core/block/certificate.js";
import { BoundedMap } from "../../core/bounded.js";
import { fromHex, toHex } from "../../core/bytes.js";
import { type CompactBlock, MAX_RANGE_BLOCKS } from "../../mesh/messages/relay.js";
import type { TreeBlock } from "../block-tree.js";
import { compactBlock } from "../compact-blocks.js";
import type { ConsensusMessage } from "../messages.js";
import { type EngineContext, type EngineParts, MAX_PENDING } from "./context.js";
import { answersRequest, ranksFirst } from "./responder.js";

/** Blocks held per missing parent. */
const ORPHANS_PER_PARENT = 8;
/** Parents asked for per slot, besides one request by height. */
const PARENT_REQUESTS_PER_SLOT = 4;

/**
 * Catch-up, both ways: blocks whose parent is missing wait as orphans while the parent is asked for
 * (again each slot, lowest first, several by height in one request); and requests from others, by
 * hash or by height, answered from the tree or the finalized blocks kept, as the link prescribes.
 */
export class CatchUp {
  /** Blocks waiting for their parent, by the parent's id. */
  private readonly orphans = new BoundedMap<string, Block[]>(MAX_PENDING);
  /** When the engine started above genesis (a restart, or back from range sync). */
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  /** A node still catching up judges by a chain others have moved past: what it lacks or holds may be final already. */
  catchingUp(): boolean {
    return this.orphans.size > 0 || this.parts.compact.pendingCount > 0 || this.ctx.now() - this.ctx.peerAheadAt < 2 * this.ctx.slotMs;
  }

  /**
   * An engine started above genesis (a restart, or back from range sync) was away, and what the others
   * made meanwhile reaches it only with their next proposal, whose parent it then lacks: a slot later,
   * or more when that slot made no block (devnet seed 2 --kill, precommit rule: a follower back at
   * 4980 s heard its first block at 5233 s, and was final where the others were only at 5446 s; every
   * transfer waits for the slowest running node). So it asks once, soon after its start, for the
   * heights above its head: within the answer window, or, started in the first third of a slot (the
   * proposal's and the votes' time on air), within the answer window after it. Asked a third to two
   * thirds of a slot after the start, as before, the ask came after the next slot's proposal half the
   * time, and a proposal whose parent it lacks comes too late for its vote and precommit. The answerer
   * sends only the blocks it holds there: a node that missed nothing costs one small request. The key is one whose first-ranked answerer is not
   * this node (responder.ts), which would leave it unanswered.
   */
  askAfterStart(): void {
    const ctx = this.ctx;
    if (ctx.root.height === 0) return;
    this.startedAt = ctx.now();
    ctx.later(() => {
      if (!ctx.running) return;
      const from = ctx.head().height + 1;
      let count = MAX_RANGE_BLOCKS;
      while (count > 1 && ranksFirst(ctx, `range:${from}:${count}`)) count--;
      if (ctx.onceASlot(ctx.asked, `range:${from}`)) ctx.broadcast({ kind: "get-range", fromHeight: from, count });
    }, this.afterStartDelayMs());
  }

  private afterStartDelayMs(): number {
    const ctx = this.ctx;
    const now = ctx.now();
    const intoSlot = now - ctx.slotStart(ctx.slotAt(now));
    const draw = Math.floor(ctx.random() * ctx.answerWindowMs());
    const wait = Math.max(0, ctx.slotMs / 3 - intoSlot);
    // Started in the slot's last answer window: the ask would fall in the next slot's first third,
    // with its proposal and votes; it waits for that slot's third mark instead (review, session 29).
    if (intoSlot + wait + draw >= ctx.slotMs) return ctx.slotMs - intoSlot + ctx.slotMs / 3 + draw;
    return wait + draw;
  }

  /**
   * Whether a proposal of ours now would most likely build on a head the others have passed: in the
   * first slot after a start above genesis (nothing heard yet, and askAfterStart's answer on its way).
   * The proposal's signature is our vote for the slot, so a stale one costs the slot our vote for the
   * proposal the others build on (devnet --kill, precommit rule, main: a restarted node proposed on
   * its stale head after 6 of the 20 restarts of seeds 1, 2, 3 and 8). A slot we lead passes to its
   * fallback proposers. Not while a block waits for a parent we lack: such blocks are held before
   * they are checked, so one forged frame would silence every proposer (review, session 28: three or
   * four empty slots per forged block, repeatable).
   */
  holdsProposal(): boolean {
    // A sole validator has no one whose head could be ahead of its own, and no one to take the slot.
    return this.ctx.now() - this.startedAt < this.ctx.slotMs && this.ctx.head().weights.length > 1;
  }

  /** A block whose parent we lack: hold it, and ask for the parent (once a slot). */
  orphan(parentId: string, parentHash: Uint8Array, block: Block): void {
    const list = this.orphans.get(parentId) ?? [];
    if (list.length < ORPHANS_PER_PARENT) list.push(block);
    this.orphans.set(parentId, list);
    if (this.ctx.onceASlot(this.ctx.asked, parentId)) this.ctx.broadcast({ kind: "get-block", hash: parentHash });
  }

  /** The blocks that waited for `id`, which has just arrived. */
  takeOrphans(id: string): Block[] | undefined {
    const waiting = this.orphans.get(id);
    this.orphans.delete(id);
    return waiting;
  }

  /** Whatever waits on a block at or below the new root either arrived or lost: stop asking for its parent. */
  dropBelow(root: TreeBlock): void {
    for (const [parentId, waiting] of [...this.orphans]) {
      const live = waiting.filter((o) => o.header.height > root.height + 1 || (o.header.height === root.height + 1 && parentId === root.id));
      if (live.length === 0) this.orphans.delete(parentId);
      else this.orphans.set(parentId, live);
    }
  }

  /**
   * Answer a block request after a random pause, unless another node's answer was heard meanwhile:
   * on a broadcast medium one answer serves everyone, and a block is many frames of airtime. On the
   * radio only the validator ranked first for the request this slot answers (responder.ts).
   */
  onGetBlock(hash: Uint8Array): void {
    const ctx = this.ctx;
    const id = toHex(hash);
    const live = ctx.blocks.get(id);
    const source = live?.block != null ? { block: live.block, certificate: live.certificate } : (ctx.finalizedBlocks.get(id) ?? (ctx.witness?.id === id ? ctx.witness : undefined));
    if (source === undefined) return;
    const compact = ctx.link.compactRelay ? this.compactFor(id, source.block, source.certificate) : null;
    // One frame instead of many: the asker rebuilds it, and asks for any transactions it lacks.
    const answer: ConsensusMessage = compact !== null ? { kind: "compact-proposal", compact } : { kind: "certified-block", block: source.block, certificate: source.certificate };
    if (ctx.answeredRecently(id) || !answersRequest(ctx, id)) return;
    const pause = ctx.link.blockAnswerPauseMs(ctx.random, ctx.slotMs);
    if (pause === null) {
      if (ctx.onceASlot(ctx.answered, id)) ctx.broadcast(answer);
      return;
    }
    ctx.later(() => {
      if (ctx.onceASlot(ctx.answered, id)) ctx.broadcast(answer);
    }, pause);
  }

  /**
   * Answer a catch-up request by height with one compact block per height, from the finalized chain
   * and the head's chain above it. On the radio one validator answers (ranked first for the request
   * this slot, responder.ts), after a random pause: with about two answerers each sent every height.
   */
  onGetRange(fromHeight: number, count: number): void {
    const ctx = this.ctx;
    const key = `range:${fromHeight}:${count}`;
    if (!answersRequest(ctx, key)) return;
    const pause = ctx.link.rangeAnswerPauseMs(ctx.random, ctx.answerWindowMs());
    ctx.later(() => {
      if (!ctx.running || !ctx.onceASlot(ctx.answered, key)) return;
      for (let h = fromHeight; h < fromHeight + count; h++) {
        const id = this.idAtHeight(h);
        const compact = id === undefined ? null : this.compactById(id);
        if (id === undefined || compact === null) return;
        // Another holder's answer for this height was heard: ours would only repeat it.
        if (ctx.link.answersOverheard && ctx.answeredRecently(id)) continue;
        ctx.answered.set(id, ctx.now());
        ctx.broadcast({ kind: "compact-proposal", compact });
      }
    }, pause);
  }

  /** The id of the block at `height` on our chain (finalized, or on the head's chain above it). */
  idAtHeight(height: number): string | undefined {
    const ctx = this.ctx;
    if (height <= ctx.root.height) return ctx.finalizedIds.at(height);
    for (let b: TreeBlock | undefined = ctx.head(); b !== undefined && b.height >= height; b = ctx.parentOf(b)) if (b.height === height) return b.id;
    return undefined;
  }

  /** The compact form of a block on our chain, if we still hold it. */
  private compactById(id: string): CompactBlock | null {
    const live = this.ctx.blocks.get(id);
    const source = live?.block != null ? { block: live.block, certificate: live.certificate } : this.ctx.finalizedBlocks.get(id);
    return source === undefined ? null : this.compactFor(id, source.block, source.certificate);
  }

  /**
   * A block's compact form, from its parent's state or as kept at finality. It goes without its
   * certificate when its child carries one: catch-up asks for parents of blocks it holds, and the
   * certificate would push the answer into a second, fragile frame.
   */
  private compactFor(id: string, block: Block, certificate: NotarizationCertificate | null): CompactBlock | null {
    const own = this.childCarriesCertificate(id) ? null : certificate;
    const parent = this.ctx.blocks.get(toHex(block.header.parentHash));
    if (parent !== undefined) return compactBlock(block, parent, own);
    const stored = this.ctx.finalizedBlocks.get(id)?.compact ?? null;
    return stored === null ? null : { ...stored, notarization: own === null ? null : stored.notarization };
  }

  private childCarriesCertificate(id: string): boolean {
    const ctx = this.ctx;
    for (const b of ctx.blocks.values()) if (b.parentId === id && b.block?.header.certificate != null) return true;
    const at = ctx.finalizedIds.heightOf(id);
    const next = at === null ? undefined : ctx.finalizedBlocks.get(ctx.finalizedIds.at(at + 1) ?? "");
    return next?.block.header.certificate != null;
  }

  /**
   * A lost (or withheld) answer must not stall catch-up: ask again each slot for missing parents, a
   * few at a time. Each slot by its number (ctx.onceInSlot): the request's answerer is drawn again
   * each slot (responder.ts), so every slot skipped is a whole slot more that a restarted node lags.
   */
  retryMissingParents(): void {
    const ctx = this.ctx;
    let asked = 0;
    // Lowest first: the parent nearest our chain is the one that unblocks everything above it.
    const waiting = [
      ...[...this.orphans].map(([parentId, list]) => ({ parentId, height: Math.min(...list.map((b) => b.header.height)) })),
      ...this.parts.compact.waitingParents(),
    ].sort((a, b) => a.height - b.height);
    // Several blocks missing below the lowest one waiting: ask for them by height, all in one request.
    const lowest = waiting[0];
    const have = ctx.head().height;
    if (lowest !== undefined && lowest.height - 1 - have >= 2) {
      const count = Math.min(MAX_RANGE_BLOCKS, lowest.height - 1 - have);
      if (ctx.onceInSlot(ctx.asked, `range:${have + 1}`)) ctx.broadcast({ kind: "get-range", fromHeight: have + 1, count });
      asked++;
    }
    const slot = ctx.slotAt(ctx.now());
    for (const parentId of new Set(waiting.filter((w) => !this.parts.compact.parentHeldCompact(w.height, slot)).map((w) => w.parentId))) {
      if (asked >= PARENT_REQUESTS_PER_SLOT) return;
      if (ctx.blocks.has(parentId) || !ctx.onceInSlot(ctx.asked, parentId)) continue;
      ctx.broadcast({ kind: "get-block", hash: fromHex(parentId) });
      asked++;
    }
  }
}
