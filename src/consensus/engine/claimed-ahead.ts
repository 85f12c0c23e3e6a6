import { MAX_RANGE_BLOCKS } from "../../mesh/messages/relay.js";
import type { EngineContext, EngineParts } from "./context.js";
import { highestClaimableHeight } from "./status.js";

/** An aggregate for a block above our head that we lack keeps us asking for it this many slots. */
const CLAIM_FRESH_SLOTS = 3;

/**
 * A claim holds an empty heartbeat at most this many slots past when it is due, whatever keeps
 * arriving: an aggregate for a block we lack cannot be checked, so a forger sending one every few
 * slots would otherwise hold every validator's heartbeats for as long as it kept sending. A real lost
 * proposal is back within a slot or two of the mid-slot ask.
 */
export const CLAIM_HOLD_SLOTS = 3;

/**
 * Blocks above our head that a heard vote aggregate names and we lack. The proposal never reached us
 * (both copies of its flood lost), and nothing else says so before a block builds on it: on an idle
 * chain the next heartbeat, ten slots later. Meanwhile we would propose on our stale head whenever we
 * lead (issue 20, idle devnet seed 3: a validator missed heartbeat block 1 at slot 10, heard its
 * aggregates and the head certificate others sent back at its stale proposals, and proposed five
 * blocks no one could use until block 2 came at slot 22). So we ask for the heights we lack, by height
 * (an aggregate names only a prefix of the hash), mid-slot each slot while the claim is fresh (not at
 * once: an aggregate comes in the vote-turn window, which requests must leave to the votes, §15), unless
 * another node made the same request this slot (its answer is ours too; at most one slot in a row); and an empty heartbeat
 * waits meanwhile, at most CLAIM_HOLD_SLOTS past when it is due.
 *
 * An aggregate for a block we lack cannot be checked, so it is a hint as a chain status is: it makes
 * us ask at most once a slot (a forged one costs its sender a frame for our one request, answered
 * only by a validator that holds blocks above our head), it delays an empty heartbeat by at most
 * CLAIM_HOLD_SLOTS, and only blocks that check out move our head.
 */
export class ClaimedAhead {
  /** The highest such block (height, hash prefix in hex), and when an aggregate first named it. */
  private claim: { readonly height: number; readonly ref: string; readonly at: number } | null = null;
  /** The last request heard for the heights above our head: (count, when). */
  private heard: { readonly fromHeight: number; readonly count: number; readonly at: number } | null = null;
  /** The slot whose ask we left to an overheard request. */
  private leftToOtherSlot = -1;

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  /**
   * An aggregate for a block we lack, at `height` above our head, hash prefix `ref` (hex). A height no
   * block can have yet (status.ts highestClaimableHeight) is a forgery: ignored.
   */
  note(height: number, ref: string): void {
    const ctx = this.ctx;
    if (height > highestClaimableHeight(ctx)) return;
    const now = ctx.now();
    const held = this.claim;
    // A held claim keeps its time: repeated aggregates (a forger's above all) must not keep it fresh.
    if (held === null || !this.fresh(held.at) || height > held.height) this.claim = { height, ref, at: now };
  }

  /** Another node's range request: one for the heights above our head draws the answer we would. */
  overheard(fromHeight: number, count: number): void {
    if (fromHeight === this.ctx.head().height + 1) this.heard = { fromHeight, count, at: this.ctx.now() };
  }

  /**
   * Whether an empty heartbeat due `late` slots ago (0: due this slot) waits: while a fresh claim names
   * a block above our head that we lack, a heartbeat on our head would only start a fork no one votes
   * for (the others' head is higher); but never more than CLAIM_HOLD_SLOTS, since the claim may be forged.
   */
  holdsHeartbeat(late: number): boolean {
    return late < CLAIM_HOLD_SLOTS && this.lacksBlock();
  }

  /** Whether a fresh claim names a block above our head that we still lack. */
  lacksBlock(): boolean {
    const ctx = this.ctx;
    const claim = this.claim;
    if (claim === null) return false;
    const arrived = ctx.heldByRef(claim.height, claim.ref).length > 0;
    if (arrived || claim.height <= ctx.head().height || !this.fresh(claim.at)) {
      this.claim = null;
      return false;
    }
    return true;
  }

  /** Ask, at most once a slot, for the heights between our head and the claimed block. */
  ask(): void {
    const ctx = this.ctx;
    const claim = this.claim;
    if (!ctx.running || claim === null || !this.lacksBlock()) return;
    // A compact proposal of that height waiting for its parent or transactions: catch-up and the compact relay ask for those.
    if (this.parts.compact.waitingParents().some((w) => w.height === claim.height)) return;
    const have = ctx.head().height;
    const count = Math.min(MAX_RANGE_BLOCKS, claim.height - have);
    // An overheard request with our key in our slot draws the answerer ours would (responder.ts ranks
    // by both), so ours would only add a frame. Its sender is unverified, though: a forger sending one
    // every slot, with a key whose answerer is offline, would silence our ask for good; so we leave at
    // most one slot in a row to others.
    const heard = this.heard;
    const slot = ctx.slotAt(ctx.now());
    const sameAsk = heard !== null && heard.fromHeight === have + 1 && heard.count === count && ctx.slotAt(heard.at) === slot;
    if (sameAsk && this.leftToOtherSlot !== slot - 1) {
      this.leftToOtherSlot = slot;
      return;
    }
    if (ctx.onceInSlot(ctx.asked, `range:${have + 1}`)) ctx.broadcast({ kind: "get-range", fromHeight: have + 1, count });
  }

  private fresh(at: number): boolean {
    return this.ctx.now() - at < CLAIM_FRESH_SLOTS * this.ctx.slotMs;
  }
}
