import { bytesEqual } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Ledger } from "../core/state/ledger.js";
import { nextVotingSetSize, votesAfter } from "../core/state/validators.js";
import { NodeError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { SyncState } from "./sync.js";

/**
 * What the node is doing for the chain:
 * - `following`: range sync follows the chain (a follower, or a validator waiting for its epoch);
 * - `producing`: a lone validator's producer makes every block (range sync runs beside it when networked);
 * - `joining`: the voting set grows at the next block; consensus starts once the commit that showed it is done;
 * - `syncing`: range sync catches up with the peers before the engine (re)joins consensus;
 * - `auditing`: caught up, finishing the audit of synced blocks' proposer signatures before joining;
 * - `consensus`: the engine runs, and is watched for falling far behind the peers;
 * - `halted`: the set grew past a lone validator that has no broker to reach the others;
 * - `stopped`: not running.
 */
export type NodeMode = "stopped" | "following" | "producing" | "joining" | "syncing" | "auditing" | "consensus" | "halted";

/** How a run begins: the engine (possibly after a catch-up), the lone producer, or sync alone. */
export type StartingMode = "consensus" | "producing" | "following";

/** What the node does for the chain: propose its blocks, or follow the chain by syncing from peers. */
export type NodeRole = "validator" | "follower";

/**
 * The role and the mode a run starts in, from the chain at its tip. A lone validator proposes every
 * block; a validator of several runs the engine; any other node follows the chain through sync,
 * including a validator still waiting for its epoch to join. With several validators a node with a
 * radio runs the engine too, as an observer that follows proposals and votes on air (range sync needs
 * IP peers). Throws when the node cannot do its part without a broker.
 */
export function startingPlan(ledger: Ledger, height: number, node: { readonly chainId: string; readonly address: Uint8Array; readonly networked: boolean; readonly radio: boolean }): { role: NodeRole; mode: StartingMode } {
  const mine = votesAfter(ledger, height, node.address);
  const size = nextVotingSetSize(ledger, height);
  if (mine && size > 1 && !node.networked) {
    throw new NodeError("NOT_SUPPORTED", `${node.chainId} has ${size} validators: a validator needs a broker to reach the others`);
  }
  if (!mine && !node.networked) {
    const waiting = ledger.pendingValidators().some((a) => bytesEqual(a, node.address));
    const why = waiting ? "is registered but joins the voting set only at the next epoch start" : "is not a validator";
    throw new NodeError("NOT_A_VALIDATOR", `${formatAddress(node.address)} ${why} of ${node.chainId}; a follower node needs a broker to sync from its peers`);
  }
  const role = mine ? "validator" : "follower";
  const consensus = size > 1 && (role === "validator" || node.radio);
  // Range sync and the engine need a network; a lone validator without one only produces.
  const mode = node.networked && consensus ? "consensus" : role === "validator" && !consensus ? "producing" : "following";
  return { role, mode };
}

/** The chain's heights as the machine judges them (the chain store). */
export interface ModeChain {
  readonly tip: { readonly height: number };
  readonly finalizedHeight: number;
  /** The height up to which synced blocks' proposer signatures were audited. */
  readonly signaturesCheckedHeight: number;
}

/** The network as the machine sees it (NodeNetwork); absent for a node that runs alone. */
export interface ModeNetwork {
  readonly hasIpPeers: boolean;
  /** The finality validators with over a third of the weight vouch for (node/peers.ts). */
  readonly peers: { provenFinalizedHeight(): number };
  /** Called whenever a peer's signed status arrives; returns the unsubscribe. */
  onPeerUpdate(listener: () => void): () => void;
}

/** The services the machine switches on and off; the composition root builds them. */
export interface ModeServices {
  startSync(): { readonly state: SyncState };
  stopSync(): void;
  startEngine(): void;
  stopEngine(): void;
  startProducer(): void;
  stopProducer(): void;
  /** Validators voting on the next block (more than one: the consensus engine's block). */
  nextSetSize(): number;
  /** Whether this node votes on the next block. */
  votesNext(): boolean;
  /** This node now takes part in consensus as a validator (its role changes). */
  joined(): void;
}

export interface ModeRun {
  readonly chain: ModeChain;
  readonly network: ModeNetwork | null;
  readonly services: ModeServices;
  /** How often a catch-up checks whether it may hand over to the engine (range sync's tick). */
  readonly tickMs: number;
  /** Peers' proven finality this many blocks ahead of ours takes a running engine back to range sync. */
  readonly fallBehindBlocks: number;
}

/** A validator with no peer in sight this long after a catch-up began joins consensus without syncing (it may be the first up). */
export const SYNC_BEFORE_CONSENSUS_GRACE_MS = 3_000;
/** How long a synced validator waits for the audit of synced blocks' proposer signatures before joining consensus anyway (docs/benchmarks.md: about 190 blocks a second on the benchmark machine, a Pi fewer). */
export const AUDIT_BEFORE_CONSENSUS_MAX_MS = 300_000;

/**
 * The node's mode and its transitions: sync → audit → consensus; in consensus, peers' proven finality
 * far ahead → sync again (a fallback) → consensus; producing or following → joining → consensus when
 * the voting set grows. One timer at most (the catch-up's check or the handover), one peer watch.
 * Lives as long as the node object, so that fallbacks count across runs; `start` binds it to a run.
 */
export class ModeMachine {
  private current: NodeMode = "stopped";
  private run: ModeRun | null = null;
  private timer: unknown = null;
  private stopWatch: (() => void) | null = null;
  private fellBack = 0;

  constructor(private readonly deps: { readonly clock: Clock; readonly logger: Logger }) {}

  get state(): NodeMode {
    return this.current;
  }

  /** Times the running engine fell behind its peers and dropped back into range sync. */
  get fallbacks(): number {
    return this.fellBack;
  }

  start(run: ModeRun, mode: StartingMode): void {
    this.run = run;
    if (mode === "consensus") return this.runConsensus(run);
    // Range sync needs peers; a lone validator without a broker only produces.
    if (run.network !== null) run.services.startSync();
    if (mode === "producing") run.services.startProducer();
    this.current = mode;
  }

  /**
   * After every commit. The voting set grows only at an epoch start, and every node sees it coming a
   * block ahead, so each switches at the same height: the lone validator's producer stops before the
   * first block with several voters and hands over to the engine, and a validator that was following
   * the chain while it waited for its epoch starts voting. Other followers go on syncing (range sync
   * checks each block against its own voting set).
   */
  onCommitted(): void {
    const run = this.run;
    if (run === null || (this.current !== "producing" && this.current !== "following")) return;
    const { services } = run;
    if (services.nextSetSize() <= 1) return;
    const height = run.chain.tip.height;
    if (run.network === null) {
      // The next block needs the other validators' votes, and without a broker we cannot reach them.
      if (this.current !== "producing") return;
      services.stopProducer();
      this.current = "halted";
      this.deps.logger.error({ height }, "the validator set grows at the next block: a validator of several needs a broker; restart with one to go on");
      return;
    }
    const producing = this.current === "producing";
    if (!producing && !services.votesNext()) return;
    services.stopProducer();
    services.stopSync();
    services.joined();
    this.current = "joining";
    this.deps.logger.info({ height, validators: services.nextSetSize() }, producing ? "the validator set grows: handing block production over to the consensus engine" : "our epoch has come: joining consensus");
    // Not from inside the producer's or the sync's own commit: they finish first.
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      if (this.run === run) this.runConsensus(run);
    }, 0);
  }

  /** Clear the timer and the peer watch; the composition root stops the services themselves. */
  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.stopWatch?.();
    this.stopWatch = null;
    this.run = null;
    this.current = "stopped";
  }

  /** A validator back from a long absence first range-syncs over IP, then joins consensus at the synced tip. */
  private runConsensus(run: ModeRun): void {
    if (run.network?.hasIpPeers === true) this.catchUp(run);
    else this.engage(run);
  }

  private engage(run: ModeRun): void {
    this.current = "consensus";
    run.services.startEngine();
    if (run.network?.hasIpPeers === true) this.watchForFallingBehind(run, run.network);
  }

  /**
   * Range-sync until caught up with the peers (or until it is clear there are none), then hand over:
   * the sync stops and the engine starts from the synced tip.
   */
  private catchUp(run: ModeRun): void {
    const { chain, services } = run;
    const sync = services.startSync();
    this.current = "syncing";
    const startedAt = this.deps.clock.now();
    let syncedAt: number | null = null;
    const check = () => {
      this.timer = null;
      if (this.run !== run) return;
      // No peer, or none that answers (the peer table remembers peers that may be gone): go on alone.
      const now = this.deps.clock.now();
      const alone = (sync.state === "idle" || sync.state === "behind" || sync.state === "error") && now - startedAt >= SYNC_BEFORE_CONSENSUS_GRACE_MS;
      // The audit of proposer signatures runs only while the sync service does, and nothing above an
      // unaudited block is served: finish it before handing over (bounded, should a repair never come).
      if (sync.state === "synced") syncedAt ??= now;
      const auditing = sync.state === "synced" && chain.signaturesCheckedHeight < chain.tip.height && now - (syncedAt ?? now) < AUDIT_BEFORE_CONSENSUS_MAX_MS;
      if ((sync.state !== "synced" && !alone) || auditing) {
        this.current = auditing ? "auditing" : "syncing";
        this.timer = this.deps.clock.setTimeout(check, run.tickMs);
        return;
      }
      if (chain.signaturesCheckedHeight < chain.tip.height) {
        this.deps.logger.warn({ auditedHeight: chain.signaturesCheckedHeight, height: chain.tip.height }, "joining consensus before the proposer signatures of synced blocks were all audited; blocks above the audited height are not served to peers");
      }
      services.stopSync();
      this.deps.logger.info({ height: chain.tip.height }, alone ? "no peers to sync from; joining consensus" : "synced; joining consensus");
      this.engage(run);
    };
    this.timer = this.deps.clock.setTimeout(check, run.tickMs);
  }

  /**
   * While the engine runs, compare our finality with what peers announce: far behind (an outage, a
   * partition), the engine stops, range sync over IP catches up, and the engine starts again from
   * the synced tip.
   */
  private watchForFallingBehind(run: ModeRun, network: ModeNetwork): void {
    // Judged whenever a peer's signed status arrives: the first one after an outage shows the gap.
    this.stopWatch = network.onPeerUpdate(() => {
      // Only a height validators with over a third of the weight vouch for: unstaked peers cannot make
      // a validator leave consensus, whatever they claim.
      const target = network.peers.provenFinalizedHeight();
      if (this.current !== "consensus" || target - run.chain.finalizedHeight <= run.fallBehindBlocks) return;
      this.stopWatch?.();
      this.stopWatch = null;
      this.fellBack++;
      this.deps.logger.warn({ finalized: run.chain.finalizedHeight, peersFinalized: target }, "fell behind the peers; range-syncing before rejoining consensus");
      run.services.stopEngine();
      this.catchUp(run);
    });
  }
}
