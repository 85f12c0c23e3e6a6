import type { DecodedTx } from "../core/tx/codec.js";
import { toHex } from "../core/bytes.js";
import { produceBlock } from "../core/chain/produce.js";
import type { Identity } from "../core/crypto/identity.js";
import type { SlotClock } from "../core/state/slot-clock.js";
import type { ChainStore } from "../storage/chain-store.js";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";
import type { StorageHealth } from "./storage-health.js";
import { TimerLoop } from "./timer-loop.js";
import { MeshChainError } from "../core/errors.js";
import { StorageError } from "../storage/errors.js";
import { SqliteSignerSafety } from "../storage/signer-store.js";

export interface BlockProducerOptions {
  readonly chainId: string;
  /** The chain's slots (SlotClock.of), or the lone validator's own at `node.slot_ms`. */
  readonly slots: SlotClock;
  /** With nothing to include, a block is still made after this many slots, so the chain shows it lives. */
  readonly heartbeatSlots: number;
}

/**
 * Proposes every block of a chain with one validator: every slot is its own, and its signature alone
 * is a quorum. When the voting set grows (at an epoch start) the node stops it and hands over to the
 * consensus engine before the first block with several voters (ModeMachine.onCommitted, mode-machine.ts).
 */
export class BlockProducer {
  private readonly loop: TimerLoop;
  private signer: SqliteSignerSafety | null = null;

  constructor(
    private readonly opts: BlockProducerOptions,
    private readonly deps: {
      store: ChainStore; identity: Identity; clock: Clock; logger: Logger;
      /** Transactions to offer each block, best first (the mempool's). */
      candidates?: () => readonly DecodedTx[];
      /** Told after each block is committed, so the mempool can drop what it included. */
      onCommitted?: () => void;
      /** Where a failed commit is reported; production retries each slot until a commit succeeds. */
      health?: StorageHealth;
      /**
       * The validator's signing record (its signer.db), opened while production runs: each block is
       * recorded there before it is committed, so the slots and lock it holds stay true when the
       * chain grows and the consensus engine takes over with the same record.
       */
      signerPath: string;
    },
  ) {
    this.loop = new TimerLoop(deps.clock, () => this.untilNextSlot(), () => this.proposeIfDue(), (e) => deps.logger.error({ err: e }, "making a block failed; trying again next slot"));
  }

  start(): void {
    this.signer = new SqliteSignerSafety(this.deps.signerPath);
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.signer?.close();
    this.signer = null;
  }

  /** Until the start of the next slot. */
  private untilNextSlot(): number {
    const now = this.deps.clock.now();
    return this.opts.slots.untilNextSlot(now);
  }

  private proposeIfDue(): void {
    const { store, identity, clock, logger } = this.deps;
    const now = clock.now();
    const slot = this.opts.slots.currentSlot(now);
    const tip = store.tip;
    const candidates = this.deps.candidates?.() ?? [];
    if (slot <= tip.slot || (candidates.length === 0 && slot - tip.slot < this.opts.heartbeatSlots)) return;
    const produced = produceBlock(store.state, {
      chainId: this.opts.chainId,
      parent: tip,
      slot,
      timestamp: Math.floor(now / 1000),
      candidates,
      certificate: null,
      proposer: { address: identity.address, bls: identity.bls },
    });
    if (this.signer === null) return;
    try {
      // The block signature is a vote like any other: remembered durably, and on a parent at or above the lock.
      this.signer.approve(slot, produced.applied.hash, tip.slot);
    } catch (e) {
      if (e instanceof StorageError) this.deps.health?.report("signer", e, `recording a signature for slot ${slot}`);
      if (e instanceof MeshChainError) {
        logger.warn({ err: e, slot }, "not signing a block this slot");
        return;
      }
      throw e;
    }
    this.deps.health?.healthy("signer");
    try {
      store.commitBlock(produced.block, produced.applied);
    } catch (e) {
      // Nothing was committed (one SQLite transaction): the block is made again next slot.
      if (this.deps.health === undefined) throw e;
      this.deps.health.report("chain", e, `committing block ${produced.block.header.height}`);
      return;
    }
    this.deps.health?.healthy("chain");
    this.deps.onCommitted?.();
    logger.info({ height: produced.block.header.height, slot, hash: toHex(produced.applied.hash).slice(0, 16), txs: produced.block.txs.length }, "block");
  }
}
