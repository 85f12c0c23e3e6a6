import { join } from "node:path";
import { commitFinalized } from "../consensus/block-import.js";
import { ConsensusEngine, type EngineStats, IP_LINK, RADIO_LINK, radioLink } from "../consensus/engine.js";
import type { ConsensusMessage } from "../consensus/messages.js";
import type { BlsVerifier } from "../consensus/verifier.js";
import { CONSENSUS_TYPES, decodeConsensusMessage, encodeConsensusMessage } from "../consensus/wire.js";
import { toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import type { Identity } from "../core/crypto/identity.js";
import type { Genesis } from "../core/genesis.js";
import type { ControlRates } from "../mesh/airtime/control-rates.js";
import type { ChainStore } from "../storage/chain-store.js";
import { SqliteSignerSafety } from "../storage/signer-store.js";
import { SqliteNotarizedBlocks } from "../storage/notarized-store.js";
import { finalitySlotsOf } from "../consensus/finality.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { DirectValidators } from "./direct-validators.js";
import { PoolAdapter } from "./engine-adapters.js";
import type { Logger } from "./logger.js";
import type { TxPool } from "./mempool.js";
import type { NodeNetwork } from "./network.js";
import type { StorageHealth } from "./storage-health.js";
import { StorageError } from "../storage/errors.js";
import { MeshChainError } from "../core/errors.js";
import type { SignerSafety } from "../core/chain/signer-safety.js";

export interface ValidatorDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: Identity;
  readonly store: ChainStore;
  readonly pool: TxPool;
  readonly network: NodeNetwork;
  readonly verifier: BlsVerifier;
  /** Told after finalized blocks are committed. */
  readonly onCommitted: () => void;
  /** Where failed writes are reported; while the chain store fails, the validator neither proposes nor votes. */
  readonly health: StorageHealth;
}

/**
 * A validator heard at 0 hops counts as in direct range for this many slots: every validator speaks
 * most slots (its turn frame, its proposal, its status), so a few slots of silence mean it moved,
 * crashed or lost its link, and our turn frames go mesh-wide again.
 */
const DIRECT_MEMORY_SLOTS = 6;

/**
 * Validator duties on a chain with several validators: the DPoP engine proposes in this node's slots,
 * votes, carries certificates and evidence, and asks its signing record (SQLite, synchronous) before
 * every signature. Finalized blocks go to the chain store with their notarization. Over the IP
 * transport alone the engine sends full blocks and answers every request (answers are cheap there);
 * with a radio it sends compact blocks and lets one answer serve everyone.
 */
export class ValidatorService {
  private readonly signer: SqliteSignerSafety;
  private readonly notarized: SqliteNotarizedBlocks;
  readonly engine: ConsensusEngine;
  private retryTimer: unknown = null;
  private readonly slotMs: number;
  /** Validators this radio heard at 0 hops lately: turn frames for them alone need no relays. */
  private readonly direct: DirectValidators;
  private readonly slots: SlotClock;

  constructor(
    genesis: Genesis,
    /** controlRates: on the radio, status rounds at the preset's control rates instead of every statusEveryMs. */
    opts: { readonly dataDir: string; readonly statusEveryMs: number; readonly onAir: boolean; readonly controlRates?: ControlRates; readonly turnStepMs?: number },
    private readonly deps: ValidatorDeps,
  ) {
    const { store, network } = deps;
    this.signer = new SqliteSignerSafety(join(opts.dataDir, "signer.db"));
    this.notarized = new SqliteNotarizedBlocks(join(opts.dataDir, "notarized.db"));
    this.settleLegacyLock();
    this.slotMs = Number(genesis.params.slotMs);
    this.slots = SlotClock.of(genesis, genesis.params);
    this.direct = new DirectValidators({ now: () => deps.clock.now(), peer: (node) => network.peers.get(node), peers: () => network.peers.list(), self: deps.identity.address, windowMs: () => DIRECT_MEMORY_SLOTS * this.slotMs });
    this.engine = new ConsensusEngine(genesis, store.state.clone(), store.tip, {
      clock: deps.clock, identity: deps.identity, signer: this.pausableSigner(), notarized: this.notarized, verifier: deps.verifier, mempool: new PoolAdapter(deps.pool), statusEveryMs: opts.statusEveryMs,
      ...(opts.controlRates === undefined ? {} : { controlRates: opts.controlRates }),
      // turnStepMs: the radio preset's step between vote and precommit turns; LongFast's when not given.
      link: opts.onAir ? (opts.turnStepMs === undefined ? RADIO_LINK : radioLink(opts.turnStepMs)) : IP_LINK,
      network: {
        broadcast: (m, reach) => {
          const { type, payload } = encodeConsensusMessage(m);
          void network.send(type, payload, undefined, reach === "neighbours" ? { hopLimit: 0 } : undefined);
        },
        ...(opts.onAir ? { heardDirectly: (validators: readonly Uint8Array[]) => this.direct.all(validators) } : {}),
      },
      onFinalized: (blocks) => {
        try {
          for (const { block, applied } of commitFinalized(store, blocks, genesis.chainId)) {
            deps.logger.info({ height: block.header.height, hash: toHex(applied.hash).slice(0, 16), txs: block.txs.length }, "finalized");
          }
        } catch (e) {
          // The engine keeps its finalized root where the store is, and finality is tried again each slot.
          if (e instanceof MeshChainError) {
            deps.health.report("chain", e, "committing finalized blocks");
            this.scheduleRetry();
          }
          throw e;
        }
        deps.health.healthy("chain");
        deps.onCommitted();
      },
    });
  }

  /**
   * The signing record, paused while the chain store cannot commit: a validator whose disk is failing
   * neither proposes nor votes. A failed write of the record itself is a fault of its own, tried again
   * with the next signature.
   */
  private pausableSigner(): SignerSafety {
    const { health } = this.deps;
    return {
      approve: (slot, blockHash, parentSlot) => {
        const chainFault = health.isFaulted("chain") ? health.fault : null;
        if (chainFault !== null) throw new StorageError("IO_ERROR", `not signing while the chain store fails: ${chainFault.message}`);
        try {
          this.signer.approve(slot, blockHash, parentSlot);
        } catch (e) {
          if (e instanceof StorageError) health.report("signer", e, `recording a signature for slot ${slot}`);
          throw e;
        }
        health.healthy("signer");
      },
      approvePrecommit: (slot, blockHash) => {
        const chainFault = health.isFaulted("chain") ? health.fault : null;
        if (chainFault !== null) throw new StorageError("IO_ERROR", `not signing while the chain store fails: ${chainFault.message}`);
        try {
          this.signer.approvePrecommit(slot, blockHash);
        } catch (e) {
          if (e instanceof StorageError) health.report("signer", e, `recording a precommit for slot ${slot}`);
          throw e;
        }
        health.healthy("signer");
      },
      last: () => this.signer.last(),
    };
  }

  /**
   * A signing record from a build before locks holds no lock; the bound it implies (its last slot
   * less one, `legacyLock`) is safe but may lie above every block this node or any peer still holds,
   * and a lock nobody can build on halts the chain (docs/consensus.md §7). The tightest safe lock is
   * the parent slot of the block it last signed, when the store has that block. On a chain of
   * Streamlet's rule (finalitySlots 3, every chain launched before the lock existed) finality never
   * leaned on a lock, so it may start at the finalized tip: reachable by construction. On a
   * two-slot chain no build without locks ever signed, and the bound stays.
   */
  private settleLegacyLock(): void {
    const last = this.signer.last();
    if (!this.signer.legacy || last === null) return;
    const { store } = this.deps;
    const height = store.heightOf(last.blockHash);
    const signed = height === null ? null : store.blockAt(height);
    const parent = signed === null || height === null ? null : height === 1 ? { slot: 0 } : store.blockAt(height - 1)?.header ?? null;
    if (parent !== null) this.signer.settleLegacyLock(parent.slot);
    else if (finalitySlotsOf(store.state) === 3) this.signer.settleLegacyLock(Math.min(last.lock, store.tip.slot));
    this.deps.logger.info({ lock: this.signer.last()?.lock ?? null }, "signing record from before locks: lock settled");
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = null;
      this.engine.retryFinality();
      if (this.deps.health.isFaulted("chain")) this.scheduleRetry();
    }, this.slotMs);
  }

  get headHeight(): number {
    return this.engine.head().height;
  }

  get stats(): EngineStats {
    return this.engine.stats;
  }

  start(): void {
    for (const type of CONSENSUS_TYPES) {
      this.deps.network.handle(type, (m) => {
        const message: ConsensusMessage | null = decodeConsensusMessage(m.type, m.payload);
        if (message === null) return;
        // Only a message that decodes counts as its sender heard: junk costs a forger the same frame but proves less.
        this.direct.note(m);
        const proposal = this.proposalOf(message);
        // A proposal of this slot comes from its proposer's radio; an older block is an answer (catch-up,
        // repair), sent by whichever node answered.
        if (proposal !== null && proposal.slot === this.slots.slotAt(this.deps.clock.now())) this.direct.bindProposer(m, proposal.proposer);
        this.engine.receive(message);
      });
    }
    this.engine.start();
  }

  /**
   * A block proposal's slot and proposer, in either form. The compact form names its proposer by index
   * in the parent's set: the head's set is that set but across a change of the voting set, and a wrong
   * binding only costs a relay (direct-validators.ts).
   */
  private proposalOf(message: ConsensusMessage): { readonly slot: number; readonly proposer: Uint8Array } | null {
    if (message.kind === "proposal") return { slot: message.block.header.slot, proposer: message.block.header.proposer };
    if (message.kind !== "compact-proposal") return null;
    const proposer = this.engine.head().weights[message.compact.proposerIndex]?.address;
    return proposer === undefined ? null : { slot: message.compact.slot, proposer };
  }

  stop(): void {
    for (const type of CONSENSUS_TYPES) this.deps.network.unhandle(type);
    if (this.retryTimer !== null) this.deps.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.engine.stop();
    this.signer.close();
    this.notarized.close();
  }
}
