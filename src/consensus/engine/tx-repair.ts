import type { Block } from "../../core/block/block.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { Ledger } from "../../core/state/ledger.js";
import type { StateStore } from "../../core/state/store.js";
import { type DecodedTx, txHash } from "../../core/tx/codec.js";
import { NonceGaps } from "../nonce-gaps.js";
import { OverlookedTxs } from "../overlooked-txs.js";
import { proposerRanks } from "../schedule.js";
import { type EngineContext, type EngineParts, MAX_PENDING } from "./context.js";
import { ranksFirst } from "./responder.js";

/** A block this close to maxBlockBytes counts as full: the next transaction would most likely not fit. */
const FULL_BLOCK_SLACK_BYTES = 256;
/** Senders (and their transactions) tracked for gaps and for being passed over. */
const TX_REPAIR_KEPT = 4 * MAX_PENDING;

/**
 * Each sender's next nonce at a state above finality: the nonces the blocks below it used are held
 * (in those blocks), never a gap and never again a candidate. A restarted node's pool counts from its
 * stale finalized state, and the blocks it caught up on never pass through the pool (issue 20).
 */
export function nonceAt(state: StateStore): (sender: Uint8Array) => number {
  const ledger = new Ledger(state);
  return (sender) => ledger.account(sender).nonce;
}

/**
 * Transactions that got lost on the way: a sender's transaction the chain keeps passing over is sent
 * again by one holder (OverlookedTxs), and a nonce the pool waits on is asked for by the next slot's
 * proposer (NonceGaps) and answered by one holder.
 */
export class TxRepair {
  private readonly overlooked = new OverlookedTxs(TX_REPAIR_KEPT);
  private readonly gaps = new NonceGaps(TX_REPAIR_KEPT);

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  onTx(tx: DecodedTx): void {
    const ctx = this.ctx;
    const id = toHex(txHash(tx.bytes));
    // Setting it again makes it the newest: a transaction heard again is kept longest.
    ctx.heardTxs.set(id, { tx, at: ctx.now() });
    this.overlooked.held(id, ctx.now());
    ctx.deps.mempool.add(tx);
    this.gaps.update(ctx.deps.mempool.missingNonces(nonceAt(ctx.head().state)), ctx.now());
    this.parts.compact.retryAll();
  }

  /**
   * Send again a sender's next transaction that the chain passes over (OverlookedTxs says when):
   * one holder does, at a random moment in the middle third of the slot (after the proposal and
   * votes), skipped when another holder's copy is heard first.
   */
  resendOverlooked(): void {
    const ctx = this.ctx;
    if (this.parts.catchUp.catchingUp()) return;
    const params = ctx.params;
    const slotMs = Number(params.slotMs);
    const now = ctx.now();
    const full = (block: Block) => block.txs.length >= Number(params.maxBlockTxs) || block.txs.reduce((n, t) => n + t.bytes.length, 0) + FULL_BLOCK_SLACK_BYTES > Number(params.maxBlockBytes);
    const blocks = [...ctx.blocks.values()].flatMap((b) => (b.block === null ? [] : [{ slotStartMs: ctx.slotStart(b.slot), full: full(b.block), txs: b.block.txs }]));
    const mayResend = (id: string) => this.resends(id);
    const overlooked = this.overlooked.overlooked(ctx.deps.mempool.candidates(), { now, blocks, marginMs: ctx.answerWindowMs(), silenceMs: 2 * slotMs, resendEveryMs: 3 * slotMs, perSenderPerBlock: ctx.deps.mempool.perSenderPerBlock, mayResend });
    for (const tx of overlooked) {
      const id = toHex(txHash(tx.bytes));
      ctx.later(() => {
        if (!ctx.running || (ctx.heardTxs.get(id)?.at ?? -1) > now) return;
        ctx.stats.txsResent++;
        ctx.broadcast({ kind: "tx", tx });
      }, ctx.midSlotDelayMs());
    }
  }

  /**
   * Whether this node is the one to send a passed-over transaction again. On the radio every holder
   * judged alike from its own view and each sent a copy (issue 20: 350 resends for 288 transfers in
   * a run with restarts, most of them copies of one another). Now the validator ranked first for the
   * transaction this slot sends it (responderRank), and so does a holder that never heard it on air:
   * its user's node (submitted there), or the only one left holding it, whose copy nobody else can send.
   */
  private resends(id: string): boolean {
    const ctx = this.ctx;
    if (!ctx.link.answersOverheard || !ctx.heardTxs.has(id)) return true;
    return ranksFirst(ctx, `tx:${id}`);
  }

  /**
   * Ask for the transactions this node's pool waits on (a sender's later nonces arrived, an earlier
   * one did not). The next slot's proposer asks, since it builds the block; a request heard from another node counts.
   */
  askForMissingNonces(): void {
    const ctx = this.ctx;
    const now = ctx.now();
    const missing = ctx.deps.mempool.missingNonces(nonceAt(ctx.head().state));
    // Every node keeps its gaps' ages, so that it asks at once when its turn to lead comes.
    this.gaps.update(missing, now);
    if (this.parts.catchUp.catchingUp() || !this.leadsNextSlot()) return;
    for (const g of this.gaps.due(missing, { now, minAgeMs: ctx.answerWindowMs(), askEveryMs: ctx.slotMs })) {
      ctx.stats.nonceRequests++;
      ctx.broadcast({ kind: "get-nonces", sender: g.sender, nonces: g.nonces });
    }
  }

  /**
   * Whether this node proposes first in the next slot, after the head or after any block already
   * proposed on it (either may be the next slot's parent). Only the next proposer needs a sender's
   * missing transaction (to include the ones after it), and its request's answer serves everyone:
   * when every validator asked, gap requests were most of the control class (issue 20).
   */
  private leadsNextSlot(): boolean {
    const ctx = this.ctx;
    const head = ctx.head();
    const next = ctx.slotAt(ctx.now()) + 1;
    const parents = [head, ...[...ctx.blocks.values()].filter((b) => b.parentId === head.id)];
    return parents.some((p) => {
      const ledger = new Ledger(p.state);
      const first = proposerRanks(p.weights, ledger.meta().randaoMix, next, 0)[0];
      return first !== undefined && bytesEqual(first, ctx.deps.identity.address);
    });
  }

  /**
   * Send what was asked for that this pool holds, after a random pause, unless someone else's copy is
   * heard first. On the radio only the holder `resends` picks answers (the validator ranked first for
   * the transaction this slot, or the user's node): every holder answered before, and queues minutes
   * long kept them from hearing each other's copy (devnet seed 4 with --kill: 68 copies in the ten
   * minutes after a restart, each a flood through the two bridges whose hour it spent).
   */
  onGetNonces(sender: Uint8Array, nonces: readonly number[]): void {
    const ctx = this.ctx;
    const heardAt = ctx.now();
    this.gaps.heard(sender, nonces, heardAt);
    for (const nonce of nonces) {
      const tx = ctx.deps.mempool.pendingTx(sender, nonce);
      if (tx === undefined) continue;
      const id = toHex(txHash(tx.bytes));
      if (!this.resends(id)) continue;
      ctx.later(() => {
        if (!ctx.running || (ctx.heardTxs.get(id)?.at ?? -1) > heardAt || !ctx.onceASlot(ctx.answered, `tx:${id}`)) return;
        this.overlooked.sent(id, ctx.now());
        ctx.broadcast({ kind: "tx", tx });
      }, Math.floor(ctx.random() * ctx.answerWindowMs()));
    }
  }
}
