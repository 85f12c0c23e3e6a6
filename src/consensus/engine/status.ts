import { bytesEqual, toHex } from "../../core/bytes.js";
import { StatusSuppression } from "../../mesh/airtime/control-rates.js";
import { ranksAbove } from "../block-tree.js";
import type { EngineContext } from "./context.js";
import type { StatusMessage } from "./types.js";

/**
 * A head claimed for a slot later than the next is no notarized block's (no honest quorum has voted
 * in a slot that has not begun; one slot of grace for clocks a little apart): not taken as ahead.
 */
const CLAIMABLE_SLOTS_AHEAD = 1;

/** The latest slot a peer's notarized block can have now (CLAIMABLE_SLOTS_AHEAD). */
export function claimableSlot(ctx: EngineContext): number {
  return ctx.slotAt(ctx.now()) + CLAIMABLE_SLOTS_AHEAD;
}

/**
 * The greatest height a block above our finality can have now: each block's slot is above its
 * parent's, so a chain gains at most one height a slot from the finalized root to the claimable slot.
 * A claimed height beyond it (a vote aggregate's, say) is no block's.
 */
export function highestClaimableHeight(ctx: EngineContext): number {
  return ctx.root.height + Math.max(0, claimableSlot(ctx) - ctx.root.slot);
}

/**
 * Where this node stands (finalized height, head, the witness of its finality), announced every
 * statusEveryMs or, on the radio, at the rates control's airtime share allows; and a peer's status
 * that shows it ahead, answered by asking for its head (missing parents follow).
 */
export class ChainStatus {
  /** Status rounds on a radio channel (null: every statusEveryMs). */
  private gate: StatusSuppression | null = null;
  private timer: unknown = null;

  constructor(private readonly ctx: EngineContext) {}

  start(): void {
    const ctx = this.ctx;
    // Nodes started together at genesis spread their first rounds over the first interval. An engine
    // started above genesis (a restart, or back from catching up) is behind or level with its peers:
    // its status would make no one fetch anything, and they have their own rounds, so its first waits
    // a whole interval (with restarts, these first rounds were 5.8 of seed 1's 12.3 s of chain status).
    if (ctx.deps.controlRates !== undefined) this.gate ??= new StatusSuppression(ctx.deps.controlRates, ctx.random, ctx.now(), ctx.root.height > 0 ? "after-interval" : "spread");
  }

  stop(): void {
    if (this.timer !== null) this.ctx.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  schedule(): void {
    const ctx = this.ctx;
    if (!ctx.running) return;
    const gate = this.gate;
    const every = gate !== null ? gate.msUntilDue(ctx.now()) : (ctx.deps.statusEveryMs ?? 6 * ctx.slotMs);
    this.timer = ctx.later(() => {
      const head = ctx.head();
      if (gate === null || gate.shouldSend(ctx.now())) {
        ctx.broadcast({ kind: "chain-status", finalizedHeight: ctx.root.height, headHeight: head.height, headSlot: head.slot, headHash: head.hash, witnessHash: ctx.witness?.hash ?? null });
      }
      this.schedule();
    }, every);
  }

  /**
   * A peer is ahead of us: fetch its head (with its notarization); missing parents follow. Ahead is
   * the fork choice's order (block-tree.ts ranksAbove), not height: a head of a higher slot at the
   * same or a lower height is the one validators build on. The status is unsigned, so its head is
   * a hint: it only makes us ask (once a slot per head, at the chain-status rate), and our head
   * moves only when the block arrives and checks out.
   */
  onStatus(m: StatusMessage): void {
    const ctx = this.ctx;
    const head = ctx.head();
    this.gate?.heard(m.finalizedHeight === ctx.root.height && bytesEqual(m.headHash, head.hash));
    const claimed = { slot: m.headSlot, id: toHex(m.headHash) };
    // Above our finality (nothing else can win) and in a slot that has begun.
    const plausible = m.headHeight > ctx.root.height && m.headSlot <= claimableSlot(ctx);
    const headAhead = plausible && ranksAbove(claimed, head);
    if (m.finalizedHeight > ctx.root.height || headAhead) ctx.peerAheadAt = ctx.now();
    const known = ctx.blocks.get(claimed.id);
    // A head we hold notarized is in our fork choice already; one we hold without its notarization needs it.
    const fetch = known === undefined ? headAhead : !known.notarized;
    if (fetch && ctx.onceASlot(ctx.asked, claimed.id)) ctx.broadcast({ kind: "get-block", hash: m.headHash });
    if (m.finalizedHeight > ctx.root.height && m.witnessHash !== null && ctx.onceASlot(ctx.asked, toHex(m.witnessHash))) {
      ctx.broadcast({ kind: "get-block", hash: m.witnessHash });
    }
  }
}
