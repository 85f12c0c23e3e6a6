import type { Block } from "../../core/block/block.js";
import { blockHash } from "../../core/block/header.js";
import { BoundedMap } from "../../core/bounded.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { type DecodedTx, txHash } from "../../core/tx/codec.js";
import { BLOCK_REF_BYTES, type CompactBlock } from "../../mesh/messages/relay.js";
import { assertShortIdLength, blockRef, rebuildBlock, shortIdBytesOf } from "../compact-blocks.js";
import { type EngineContext, type EngineParts, MAX_PENDING, PENDING_COMPACTS_KEPT } from "./context.js";
import { responderRank } from "./responder.js";

/** Transaction bytes per block-txs answer: with its 13-byte head and the frame header it stays in one 231-byte frame. */
const ANSWER_TX_BYTES = 212;

/**
 * Compact relay: a proposal (or an answer to a block request) sent as its header and short
 * transaction ids, rebuilt from the pool and the transactions heard; what is missing is asked for
 * (get-txs) and answered in frame-sized block-txs batches, one asker and one answerer serving all.
 */
export class CompactRelay {
  /** Compact proposals waiting for their parent or transactions, by slot and block ref. */
  private readonly pending = new BoundedMap<string, CompactBlock>(PENDING_COMPACTS_KEPT);
  /** When someone last asked for a compact proposal's transactions (ours can then wait). */
  private readonly txRequestsHeard = new BoundedMap<string, number>(MAX_PENDING);
  /** Compact proposals whose held transactions made no block the proposer signed: when all their transactions were asked for. */
  private readonly refetched = new BoundedMap<string, number>(PENDING_COMPACTS_KEPT);
  /** The candidates each pending compact was last tried with (rebuildBlock's fingerprint). */
  private readonly tried = new BoundedMap<string, string>(PENDING_COMPACTS_KEPT);
  /** When each of a block's transactions (`slot:ref:tx hash`) last went out in an answer, ours or one heard. */
  private readonly txsAnswered = new BoundedMap<string, number>(MAX_PENDING);
  /** When an answer carrying one of a block's own transactions was last heard, by block key. */
  private readonly answersHeard = new BoundedMap<string, number>(MAX_PENDING);

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The parents the waiting compact proposals lack, with their heights. */
  waitingParents(): { parentId: string; height: number }[] {
    return [...this.pending.values()].map((c) => ({ parentId: toHex(c.parentHash), height: c.height }));
  }

  dropBelow(height: number): void {
    for (const [key, c] of [...this.pending]) if (c.height <= height) this.pending.delete(key);
  }

  /** Try every waiting proposal again (new transactions, or a new slot). */
  retryAll(): void {
    for (const key of [...this.pending.keys()]) this.tryRebuild(key);
  }

  /** A block joined the tree: proposals built on it can now be rebuilt. */
  parentArrived(hash: Uint8Array): void {
    for (const [key, c] of this.pending) if (bytesEqual(c.parentHash, hash)) this.tryRebuild(key);
  }

  /** Throws CompactBlockError for short ids of another length than the chain's (they cannot name its transactions). */
  onCompact(c: CompactBlock): void {
    const ctx = this.ctx;
    assertShortIdLength(c, shortIdBytesOf(ctx.root.state));
    if (c.height <= ctx.root.height) {
      // Someone answered a catch-up request for a block we hold: ours can stay unsent.
      const id = this.parts.catchUp.idAtHeight(c.height);
      const held = id === undefined ? undefined : ctx.finalizedBlocks.get(id);
      if (id !== undefined && held !== undefined && blockRef(held.block.header.signature) === blockRef(c.signature)) ctx.answered.set(id, ctx.now());
      return;
    }
    const key = `${c.slot}:${blockRef(c.signature)}`;
    const known = [...ctx.blocks.values()].find((b) => b.slot === c.slot && b.block !== null && blockRef(b.block.header.signature) === blockRef(c.signature));
    if (known !== undefined) {
      if (c.notarization !== null && !known.notarized) this.parts.voting.acceptCertificate(known, { height: known.height, blockHash: known.hash, ...c.notarization });
      return;
    }
    const pending = this.pending.get(key);
    if (pending !== undefined) {
      if (pending.notarization === null && c.notarization !== null) this.pending.set(key, c);
      return;
    }
    this.pending.set(key, c);
    const parentId = toHex(c.parentHash);
    if (!ctx.blocks.has(parentId)) {
      if (!this.parentHeldCompact(c.height, ctx.slotAt(ctx.now())) && ctx.onceASlot(ctx.asked, parentId)) ctx.broadcast({ kind: "get-block", hash: c.parentHash });
      return;
    }
    this.tryRebuild(key);
  }

  /**
   * Whether the parent of a block at `height` is likely held already as a compact block still
   * missing transactions: asking for it by hash would only bring the same compact again (issue 20:
   * a restarted node asked four such parents a slot, each answered by two holders, flooded). Its
   * transactions are what it lacks, and tryRebuild asks for them. A compact of that height is not
   * proof (it may be a sibling: the hash is unknown until rebuilt), so one slot in four asks anyway.
   */
  parentHeldCompact(height: number, slot: number): boolean {
    if (slot % 4 === 0) return false;
    for (const c of this.pending.values()) if (c.height === height - 1) return true;
    return false;
  }

  private tryRebuild(key: string): void {
    const ctx = this.ctx;
    const c = this.pending.get(key);
    const parent = c === undefined ? undefined : ctx.blocks.get(toHex(c.parentHash));
    if (c === undefined || parent === undefined) return;
    // Transactions heard most recently first (an answer to our request for this block's transactions
    // among them), then the pool: the fills try those first, so look-alikes heard earlier (anyone can
    // grind a 3-byte id) cannot push the right fill past the last one tried.
    const known = [...[...ctx.heardTxs.values()].reverse().map((h) => h.tx), ...(ctx.deps.mempool.held?.() ?? ctx.deps.mempool.candidates())];
    // Every transaction heard retries the pending compacts: a compact whose candidates are the ones
    // already tried is not executed again (a forged compact naming pool transactions would otherwise
    // cost up to eight block executions per transaction heard, for a slot).
    let repeated = false;
    const triedBefore = (fingerprint: string) => {
      repeated = this.tried.get(key) === fingerprint;
      this.tried.set(key, fingerprint);
      return repeated;
    };
    const result = rebuildBlock(c, parent, known, ctx.chainId, (slot, hash, sig, key) => ctx.deps.verifier.vote(slot, hash, sig, key), triedBefore);
    if (result.kind === "missing") {
      this.askForTxs(key, c, result.indexes);
      return;
    }
    // A mismatch is a held transaction that shares a short id with one of the block's we lack, or a
    // bad proposal: they look alike, so the first time every transaction is asked for (the answer
    // gives the right candidate, tried against the signature beside the wrong one).
    if (result.kind === "mismatch" && (result.tries > 0 || repeated)) {
      const askedAt = this.refetched.get(key);
      if (askedAt === undefined) {
        this.refetched.set(key, ctx.now());
        ctx.stats.compactRefetches++;
        this.askForTxs(key, c, c.shortIds.map((_, i) => i), `refetch:${key}`);
        return;
      }
      // The answer may still come: the asker's pause and a backup's take up to six answer windows, within the slot.
      if (ctx.now() - askedAt < ctx.slotMs) return;
    }
    this.pending.delete(key);
    this.tried.delete(key);
    // Still no block a slot after every transaction was asked for (or not even a fill to try): a bad
    // proposal, or more collisions than a rebuild tries. It falls back to the full block, named by
    // hash by its certificate or child.
    if (result.kind === "mismatch") {
      ctx.stats.rejectedBlocks++;
      return;
    }
    ctx.stats.compactRebuilt++;
    const hash = blockHash(result.block.header);
    // Someone answered a block request: our own pending answer is no longer needed.
    if (c.notarization !== null && ctx.link.answersOverheard) ctx.answered.set(toHex(hash), ctx.now());
    this.parts.intake.onBlock(result.block, c.notarization === null ? null : { height: c.height, blockHash: hash, ...c.notarization });
  }

  /** Ask for missing transactions after a short random pause, unless another node asked meanwhile (one answer serves all). */
  private askForTxs(key: string, c: CompactBlock, indexes: readonly number[], askKey = `txs:${key}`): void {
    const ctx = this.ctx;
    if (!ctx.onceASlot(ctx.asked, askKey)) return;
    const askedAt = ctx.now();
    const pause = Math.floor(ctx.random() * ctx.answerWindowMs());
    ctx.later(() => {
      if (!ctx.running || !this.pending.has(key) || (this.txRequestsHeard.get(key) ?? -1) >= askedAt) return;
      ctx.stats.compactTxRequests++;
      ctx.broadcast({ kind: "get-txs", slot: c.slot, blockRef: c.signature.subarray(0, BLOCK_REF_BYTES), indexes });
    }, pause);
  }

  /**
   * Answer with the requested transactions. The proposer answers at once; on the radio one backup,
   * the validator other than the proposer ranked first for the request this slot (responder.ts),
   * answers late, and only if no answer for the block was heard since `repeatWindowMs` before the
   * request. Transactions that went out for the block since then (ours or another's answer) are left out.
   *
   * Why (issue 20, devnet --kill seeds 1 and 2 on main): every holder answered as a backup with
   * chance 2/validators (about 2.6 of nine holders), and a backup's pause ended before it heard the
   * proposer's answer, many frames long after a restart: 44 and 61 of 106 and 145 transactions
   * sent were backups' copies. And the proposer answered each asker apart: five nodes that lacked
   * the same transaction asked within seconds of one another, each request crossing the others on
   * the air, and drew five copies of it. Half of the answers' transactions were copies.
   */
  onGetTxs(slot: number, ref: Uint8Array, indexes: readonly number[]): void {
    const ctx = this.ctx;
    const key = `${slot}:${toHex(ref)}`;
    const heardAt = ctx.now();
    this.txRequestsHeard.set(key, heardAt);
    const source = this.heldBlock(slot, ref);
    if (source === undefined) return;
    const txs = indexes.flatMap((i) => (source.txs[i] === undefined ? [] : [source.txs[i] as DecodedTx]));
    const proposer = bytesEqual(source.header.proposer, ctx.deps.identity.address);
    if (!proposer && !this.backsUp(key, source.header.proposer)) return;
    const pause = ctx.link.txsAnswerPauseMs(ctx.random, ctx.answerWindowMs(), proposer);
    ctx.later(() => {
      if (!ctx.running) return;
      // A request heard within the repeat window after an answer most likely crossed it on the air.
      const since = ctx.link.answersOverheard ? heardAt - this.repeatWindowMs() : Number.POSITIVE_INFINITY;
      // The proposer is answering (its answer is many frames after a restart): a backup's would repeat it.
      if (!proposer && (this.answersHeard.get(key) ?? Number.NEGATIVE_INFINITY) >= since) return;
      const due = txs.filter((tx) => {
        const id = toHex(txHash(tx.bytes));
        // Heard since the request: someone answered it. Sent for this block lately: the request crossed that answer.
        return (ctx.heardTxs.get(id)?.at ?? -1) <= heardAt && (this.txsAnswered.get(`${key}:${id}`) ?? Number.NEGATIVE_INFINITY) < since;
      });
      const now = ctx.now();
      for (const tx of due) this.txsAnswered.set(`${key}:${toHex(txHash(tx.bytes))}`, now);
      this.sendBlockTxs(slot, ref, due);
    }, pause);
  }

  /**
   * An answer heard: its transactions that are the block's own count as sent for the block. Anything
   * else in it counts for nothing, so a forged answer silences an answerer only by carrying what it
   * would have sent (the transactions are signed; the block key is not).
   */
  onBlockTxs(slot: number, ref: Uint8Array, txs: readonly DecodedTx[]): void {
    const source = this.heldBlock(slot, ref);
    if (source === undefined || txs.length === 0) return;
    const key = `${slot}:${toHex(ref)}`;
    const own = new Set(source.txs.map((tx) => toHex(txHash(tx.bytes))));
    const now = this.ctx.now();
    for (const tx of txs) {
      const id = toHex(txHash(tx.bytes));
      if (!own.has(id)) continue;
      this.txsAnswered.set(`${key}:${id}`, now);
      this.answersHeard.set(key, now);
    }
  }

  /**
   * How long after a block's transaction went out (in our answer or one heard) a request for it is
   * taken to have crossed that answer on the air (sent before the asker heard it) and is not answered
   * with it again. An asker that lost the answer asks again a slot later, past the window. Two answer
   * windows: the asker's pause, and the answer's way to it.
   */
  private repeatWindowMs(): number {
    return 2 * this.ctx.answerWindowMs();
  }

  /**
   * Whether this holder, not the block's proposer, answers a request for its transactions late. On the
   * radio the validator ranked first for the request this slot among the others; on IP, as the link says.
   */
  private backsUp(key: string, proposer: Uint8Array): boolean {
    const ctx = this.ctx;
    if (!ctx.link.answersOverheard) return ctx.answers();
    const others = ctx.root.weights.map((w) => w.address).filter((a) => !bytesEqual(a, proposer));
    return responderRank(others, ctx.deps.identity.address, `txs:${key}`, ctx.slotAt(ctx.now())) === 0;
  }

  /** The block a transaction request or answer names, if this node holds it (above finality or finalized). */
  private heldBlock(slot: number, ref: Uint8Array): Block | undefined {
    const ctx = this.ctx;
    const id = toHex(ref);
    for (const b of ctx.blocks.values()) if (b.slot === slot && b.block !== null && blockRef(b.block.header.signature) === id) return b.block;
    for (const f of ctx.finalizedBlocks.values()) if (f.block.header.slot === slot && blockRef(f.block.header.signature) === id) return f.block;
    return undefined;
  }

  /** A block's transactions as block-txs answers, packed so that each fits one radio frame (a lost fragment would cost more than a header). */
  private sendBlockTxs(slot: number, ref: Uint8Array, txs: readonly DecodedTx[]): void {
    let batch: DecodedTx[] = [];
    let bytes = 0;
    for (const tx of txs) {
      if (batch.length > 0 && bytes + tx.bytes.length + 2 > ANSWER_TX_BYTES) {
        this.ctx.broadcast({ kind: "block-txs", slot, blockRef: ref, txs: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(tx);
      bytes += tx.bytes.length + 2;
    }
    if (batch.length > 0) this.ctx.broadcast({ kind: "block-txs", slot, blockRef: ref, txs: batch });
  }
}
