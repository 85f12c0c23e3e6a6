import { blockHash } from "../../core/block/header.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { txHash } from "../../core/tx/codec.js";
import type { Genesis } from "../../core/genesis.js";
import type { ParentInfo } from "../../core/state/block-transition.js";
import type { StateStore } from "../../core/state/store.js";
import type { TreeBlock } from "../block-tree.js";
import type { ConsensusMessage } from "../messages.js";
import { BlockIntake } from "./block-intake.js";
import { CatchUp } from "./catch-up.js";
import { CompactRelay } from "./compact-relay.js";
import { EngineContext, type EngineParts } from "./context.js";
import { Equivocation } from "./equivocation.js";
import { Finalizing } from "./finalizing.js";
import { Precommitting } from "./precommitting.js";
import { NotarizedKeeping } from "./notarized-keeping.js";
import { Proposing } from "./proposing.js";
import { ChainStatus } from "./status.js";
import { TxRepair } from "./tx-repair.js";
import type { EngineDeps, EngineStats, LastVote } from "./types.js";
import { Voting } from "./voting.js";

/**
 * DPoP consensus for one node (docs/consensus.md): Streamlet-style slots and votes with the two-slot
 * finality rule. Slot proposers, drawn by weight, extend the notarized block of the highest slot;
 * validators vote at most once per slot for a valid proposal on a notarized parent at or above their
 * lock; a block with votes of more than two thirds of the weight is notarized (its certificate
 * travels in its child); a notarized block whose child in the next slot is notarized is final, with
 * everything before it.
 *
 * This class is the router and the clock: `receive` hands each message kind to the one part that
 * handles it, and the slot timer drives proposing and the mid-slot repairs. The parts (this folder)
 * share one EngineContext; docs/architecture.md lists what each owns.
 */
export class ConsensusEngine {
  private readonly ctx: EngineContext;
  private readonly parts: EngineParts;
  private readonly status: ChainStatus;
  private timer: unknown = null;
  /** Restores the kept notarized blocks at the first start; null without a store or once done. */
  private keeping: NotarizedKeeping | null;

  /**
   * Starts from a finalized root: genesis, or the tip of the node's chain store after a restart
   * (so a restarted node does not fetch its whole history again over the air).
   */
  constructor(genesis: Genesis, rootState: StateStore, rootInfo: ParentInfo, given: EngineDeps) {
    const store = given.notarized;
    let keeping: NotarizedKeeping | null = null;
    const noLock = given.unsafeDisableLockForTests === true;
    // With a store for notarized blocks, each signature first keeps them, and finality prunes them.
    const deps: EngineDeps =
      store === undefined && !noLock
        ? given
        : {
            ...given,
            signer: {
              approve: (slot, hash, parentSlot) => {
                keeping?.beforeSigning();
                // The test-only switch: the record's slot rules hold, its lock never refuses.
                given.signer.approve(slot, hash, noLock ? Math.max(parentSlot, given.signer.last()?.lock ?? parentSlot) : parentSlot);
              },
              // The lock switch is for the two-slot rule's votes: a precommit's lock check stays.
              approvePrecommit: (slot, hash) => {
                keeping?.beforeSigning();
                given.signer.approvePrecommit(slot, hash);
              },
              last: () => given.signer.last(),
            },
            onFinalized: (blocks) => {
              given.onFinalized?.(blocks);
              const top = blocks[blocks.length - 1];
              if (top !== undefined) keeping?.finalized(top.height);
            },
          };
    const ctx = new EngineContext(genesis, deps, rootState, rootInfo);
    // Filled below: each part reaches the others through it, once all exist.
    const parts = {} as { -readonly [K in keyof EngineParts]: EngineParts[K] };
    parts.intake = new BlockIntake(ctx, parts);
    parts.voting = new Voting(ctx, parts);
    parts.proposing = new Proposing(ctx, parts);
    parts.finalizing = new Finalizing(ctx, parts);
    parts.precommitting = new Precommitting(ctx, parts);
    parts.compact = new CompactRelay(ctx, parts);
    parts.catchUp = new CatchUp(ctx, parts);
    parts.txRepair = new TxRepair(ctx, parts);
    parts.equivocation = new Equivocation(ctx);
    this.ctx = ctx;
    this.parts = parts;
    this.status = new ChainStatus(ctx);
    if (store !== undefined) keeping = new NotarizedKeeping(ctx, store);
    this.keeping = keeping;
  }

  get stats(): EngineStats {
    return this.ctx.stats;
  }

  /** Each validator's last vote, keyed by its address in hex. */
  get lastVotes(): ReadonlyMap<string, LastVote> {
    return this.parts.voting.lastVotes;
  }

  get chainId(): string {
    return this.ctx.chainId;
  }

  /** Ids of the finalized chain this engine has seen, from the root it started at (genesis, or a restart's stored tip). */
  get finalizedChain(): readonly string[] {
    return this.ctx.finalizedIds.recent().items;
  }

  /** Height of the first entry of `finalizedChain`. */
  get finalizedChainStart(): number {
    return this.ctx.finalizedIds.start;
  }

  get pendingCompactCount(): number {
    return this.parts.compact.pendingCount;
  }

  get finalizedHeight(): number {
    return this.ctx.root.height;
  }

  get finalizedState(): StateStore {
    return this.ctx.root.state;
  }

  slotAt(ms: number): number {
    return this.ctx.slotAt(ms);
  }

  start(): void {
    // Before running: the blocks read back are checked and counted, never voted for (their slots are past).
    this.keeping?.restore(this.parts);
    this.keeping = null;
    this.ctx.running = true;
    this.parts.catchUp.askAfterStart();
    this.status.start();
    this.scheduleNextSlot();
    this.status.schedule();
  }

  stop(): void {
    this.ctx.running = false;
    if (this.timer !== null) this.ctx.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.status.stop();
  }

  /** The state after a block this engine holds above finality (or the finalized root). */
  stateAfter(blockId: string): StateStore | undefined {
    return this.ctx.blocks.get(blockId)?.state;
  }

  /** The hash (hex) of a block the engine holds at `height` whose hash starts with `ref`: lets a bridge check a vote aggregate. */
  blockIdByRef(height: number, ref: Uint8Array): string | undefined {
    const prefix = toHex(ref);
    for (const b of this.ctx.blocks.values()) if (b.height === height && b.id.startsWith(prefix)) return b.id;
    return undefined;
  }

  /** The slot of a block the engine holds, by hash (hex): lets a bridge check a vote before relaying it. */
  slotOf(blockId: string): number | undefined {
    return this.ctx.blocks.get(blockId)?.slot;
  }

  /** The tip of the longest notarized chain; ties go to the lower hash. */
  head(): TreeBlock {
    return this.ctx.head();
  }

  /** Transactions in the blocks between the head and finality: they wait for finality, empty blocks do not. */
  get unfinalizedTxCount(): number {
    const ctx = this.ctx;
    let count = 0;
    for (let b: TreeBlock | undefined = ctx.head(); b !== undefined && b.id !== ctx.root.id; b = ctx.parentOf(b)) count += b.block?.txs.length ?? 0;
    return count;
  }

  /**
   * Whether a block above finality that this engine holds carries the transaction (a proposal or a
   * notarized block): some validator had it, so announcing it again would only cost airtime.
   */
  holdsUnfinalizedTx(hash: Uint8Array): boolean {
    const root = this.ctx.root;
    for (const b of this.ctx.blocks.values()) {
      if (b.block === null || b.id === root.id || b.height <= root.height) continue;
      for (const t of b.block.txs) if (bytesEqual(txHash(t.bytes), hash)) return true;
    }
    return false;
  }

  /** Try again to finalize what is final but could not be committed (the store failed a write). */
  retryFinality(): void {
    if (this.ctx.running) this.parts.finalizing.check();
  }

  /** One handler per message kind. */
  receive(message: ConsensusMessage): void {
    const { intake, compact, voting, catchUp, txRepair } = this.parts;
    switch (message.kind) {
      case "proposal":
        intake.onBlock(message.block, null);
        return;
      case "compact-proposal":
        compact.onCompact(message.compact);
        return;
      case "get-txs":
        compact.onGetTxs(message.slot, message.blockRef, message.indexes);
        return;
      case "block-txs":
        compact.onBlockTxs(message.slot, message.blockRef, message.txs);
        for (const tx of message.txs) txRepair.onTx(tx);
        return;
      case "certified-block":
        // Someone answered: our own pending answer for this block is no longer needed.
        if (this.ctx.link.answersOverheard) this.ctx.answered.set(toHex(blockHash(message.block.header)), this.ctx.now());
        intake.onBlock(message.block, message.certificate);
        return;
      case "vote":
        voting.onVote(message);
        return;
      case "vote-aggregate":
        voting.onVoteAggregate(message);
        return;
      case "precommit-aggregate":
        this.parts.precommitting.onPrecommitAggregate(message);
        return;
      case "get-block":
        catchUp.onGetBlock(message.hash);
        return;
      case "get-range":
        voting.claimed.overheard(message.fromHeight, message.count);
        catchUp.onGetRange(message.fromHeight, message.count);
        return;
      case "get-nonces":
        txRepair.onGetNonces(message.sender, message.nonces);
        return;
      case "tx":
        txRepair.onTx(message.tx);
        return;
      case "chain-status":
        this.status.onStatus(message);
        return;
    }
  }

  private scheduleNextSlot(): void {
    const ctx = this.ctx;
    if (!ctx.running) return;
    const now = ctx.now();
    const next = ctx.slotAt(now) + 1;
    this.timer = ctx.later(() => this.onSlot(next), ctx.slotStart(next) - now);
  }

  private onSlot(slot: number): void {
    const ctx = this.ctx;
    const { catchUp, txRepair, compact, proposing, voting } = this.parts;
    this.timer = null;
    // Catch-up waits for the quiet middle of the slot: at its start the proposal and the votes hold
    // the channel, and a request lost in that crowd (a hidden node's, above all) costs a whole slot.
    ctx.later(() => {
      if (!ctx.running) return;
      catchUp.retryMissingParents();
      voting.claimed.ask();
      txRepair.askForMissingNonces();
      compact.retryAll();
    }, ctx.midSlotDelayMs());
    txRepair.resendOverlooked();
    try {
      proposing.onSlot(slot);
    } finally {
      this.scheduleNextSlot();
    }
  }
}
