// Over 400 lines: the composition root wires every service (network, store, pool, sync, engine,
// producer, snapshots) and reads them back for status(); what could live apart already does
// (status-line.ts, warnings.ts, node-report.ts, metrics.ts, status-history.ts).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual, toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Identity } from "../core/crypto/identity.js";
import type { Genesis } from "../core/genesis.js";
import { Ledger } from "../core/state/ledger.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { ChainStore } from "../storage/chain-store.js";
import { SqliteMempoolStore } from "../storage/mempool-store.js";
import { SqlitePeerStore } from "../storage/peer-store.js";
import { nextVotingSetSize, votesAfter, votingSet } from "../core/state/validators.js";
import { type DecodedTx, decodeTxWithBytes, txHash } from "../core/tx/codec.js";
import { MeshChainError } from "../core/errors.js";
import { gini, totalWeight, votingWeights } from "../consensus/weights.js";
import { BlsVerifier } from "../consensus/verifier.js";
import { MessageType } from "../mesh/frame.js";
import { snapshotChunkCodec, snapshotRequestCodec, syncRequestCodec, syncResponseCodec } from "../mesh/messages/sync.js";
import { MQTT_MTU } from "../mesh/transports/mqtt.js";
import { DEFAULT_MEMPOOL_OPTIONS, MempoolError, TxPool } from "./mempool.js";
import { BlockProducer } from "./block-producer.js";
import { fetchCheckpoint } from "./checkpoint.js";
import type { Clock } from "./clock.js";
import { NodeError } from "./errors.js";
import { type NetworkOptions, NodeNetwork } from "./network.js";
import type { StakeView } from "./peers.js";
import { RelayGate } from "./relay-gate.js";
import type { Logger } from "./logger.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS, type SyncOptions, type SyncState } from "./sync.js";
import { answerSnapshotRequest, answerSyncRequest, type Snapshot, takeSnapshot } from "./sync-server.js";
import { ValidatorService } from "./validator.js";
import type { RadioOptions, RadioStatus } from "./radio.js";
import { ReservedCounter } from "../storage/reserved-counter.js";
import { StorageError } from "../storage/errors.js";
import { StorageHealth, type StorageFault } from "./storage-health.js";
import { TxAnnouncer } from "./tx-announcer.js";
import { NodeMetrics } from "./metrics.js";
import { type ConsensusReport, consensusReport } from "./consensus-report.js";
import { blockTimestamp, type BlockSummary, diskSpace, recentBlocks, validatorSummaries, type ValidatorSummary } from "./node-report.js";
import { type HistorySample, StatusHistory } from "./status-history.js";
import { ReadModel } from "./read-model.js";
import { StatusNotifier } from "./status-line.js";
import { type NodeWarning, nodeWarnings } from "./warnings.js";
import { type ControlRates, controlRates, StatusSuppression } from "../mesh/airtime/control-rates.js";
import { PRESETS, presetByName } from "../mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import type { LinkState } from "../mesh/mqtt-link.js";
import type { StreamLinkState } from "../mesh/transports/meshtastic-stream.js";

export type { SyncState } from "./sync.js";

export interface NodeOptions {
  readonly dataDir: string;
  readonly genesis: Genesis;
  readonly identity: Identity;
  /** Slot length of a lone validator's blocks; default the genesis `slotMs` (a chain that will grow should keep it). */
  readonly slotMs?: number;
  readonly heartbeatSlots: number;
  readonly statusIntervalMs: number;
  /** The MQTT side (and the radio, if any); absent for a node that runs alone. */
  readonly network?: Omit<NetworkOptions, "chainId" | "genesisHash" | "radio"> & { readonly radio?: Omit<RadioOptions, "packetIds"> };
  readonly sync?: Partial<SyncOptions>;
  /** Start a new data directory from the finalized state at this block hash, fetched from peers. */
  readonly checkpoint?: Uint8Array;
  readonly checkpointTimeoutMs?: number;
  /** Keep a state snapshot for peers' checkpoint sync every this many blocks. */
  readonly snapshotIntervalBlocks?: number;
  /** A follower's pruning: keep block bodies this many blocks below finality, headers below that (unset: keep all). */
  readonly pruneKeepBlocks?: number;
}

/** A peer as the API shows it. */
export interface PeerSummary {
  readonly node: string;
  readonly finalizedHeight: number;
  readonly tipHeight: number;
  readonly hopsAway: number | null;
  readonly snr: number | null;
  readonly score: number;
  readonly latencyMs: number | null;
  readonly lastSeenSecondsAgo: number;
  readonly banned: boolean;
  readonly lastInvalidReason: string | null;
}

/** What became of a submitted transaction (see MeshChainNode.submitTransaction). */
export type SubmitOutcome =
  | { readonly hash: string; readonly status: "accepted" }
  | { readonly hash: string; readonly status: "queued"; readonly reason: string }
  | { readonly hash: string; readonly status: "included"; readonly height: number; readonly final: boolean };

/** What the node does for the chain: propose its blocks, or follow the chain by syncing from peers. */
export type NodeRole = "validator" | "follower";

export interface NodeStatus {
  readonly chainId: string;
  readonly role: NodeRole;
  readonly height: number;
  readonly finalizedHeight: number;
  readonly tipHash: string;
  readonly slot: number;
  readonly lastBlockAgeSeconds: number;
  readonly address: string;
  readonly peers: number;
  /** `fallbacks`: times the running validator fell behind its peers and dropped back into range sync. */
  readonly sync: {
    readonly state: SyncState; readonly percent: number; readonly etaSeconds: number | null; readonly targetHeight: number; readonly fallbacks: number;
    /** Range sync's measured rate; null when not range-syncing. */
    readonly blocksPerSecond: number | null;
  };
  /** How far finality trails: blocks between head and finalized, and time since the finalized block was made. */
  readonly finality: { readonly lagBlocks: number; readonly ageSeconds: number };
  /** Active validators of the chain. */
  readonly validators: number;
  /** The consensus mode, the epoch, who joins at its end, and open membership votes (node/consensus-report.ts). */
  readonly consensus: ConsensusReport;
  /** State of each MQTT link; null for a side the node does not have. */
  /** The state of each link (null: no such link); why one is down is in `warnings` and `ready.reason`. */
  readonly links: { readonly ip: LinkState | StreamLinkState | null; readonly radio: LinkState | StreamLinkState | null };
  /** The radio's airtime this rolling hour against the node's budget and the region's duty cycle; null without a radio. */
  readonly airtime: { readonly lastHourSeconds: number; readonly budgetSecondsPerHour: number; readonly dutyCycle: number } | null;
  /** What the operator should know, with reasons (src/node/warnings.ts). */
  readonly warnings: readonly NodeWarning[];
  readonly mempool: { readonly transactions: number; readonly bytes: number };
  /** Own radio airtime in the last hour; null when the node has no radio transport. */
  readonly airtimeSeconds: number | null;
  /** A store that fails its writes (a full disk, an I/O error, a lock): production and signing pause until it heals. */
  readonly storage: { readonly fault: (Omit<StorageFault, "sinceMs"> & { readonly forSeconds: number }) | null; readonly faults: number };
  /** Transactions this node accepted from its users and keeps announcing until the chain includes them. */
  readonly accepted: { readonly pending: number; readonly reannounced: number };
  /** Whether the node is ready (synced, reaching its peers, storing blocks), and if not, why. */
  readonly ready: { readonly ok: boolean; readonly reason: string | null };
  /** The radio: its link and what it reported about itself; null without one. */
  readonly radio: RadioStatus | null;
  /** The snapshot this node serves for checkpoint sync: start a new node with `--checkpoint <hash>`. */
  readonly checkpoint: { readonly height: number; readonly hash: string } | null;
  readonly uptimeSeconds: number;
}

const DEFAULT_SNAPSHOT_INTERVAL_BLOCKS = 1_000;
/** The status page plots the last hour. */
const HISTORY_WINDOW_MS = 3_600_000;
const HISTORY_MAX_SAMPLES = 720;
/** An unchanged status line is logged again only every this many intervals. */
const QUIET_STATUS_TICKS = 30;
/** A validator with no peer in sight this long after start joins consensus without syncing (it may be the first up). */
const SYNC_BEFORE_CONSENSUS_GRACE_MS = 3_000;
/** How long a synced validator waits for the audit of synced blocks' proposer signatures before joining consensus anyway (docs/benchmarks.md: about 190 blocks a second on the benchmark machine, a Pi fewer). */
const AUDIT_BEFORE_CONSENSUS_MAX_MS = 300_000;

/** The composition root: builds the services from options and runs them in a fixed order. */
export class MeshChainNode {
  private store: ChainStore | null = null;
  private role: NodeRole = "follower";
  private producer: BlockProducer | null = null;
  private validator: ValidatorService | null = null;
  private statusTimer: unknown = null;
  private network: NodeNetwork | null = null;
  private sync: ChainSync | null = null;
  private pool: TxPool | null = null;
  private poolStore: SqliteMempoolStore | null = null;
  private peerStore: SqlitePeerStore | null = null;
  private snapshot: Snapshot | null = null;
  private handoverTimer: unknown = null;
  private stopBehindWatch: (() => void) | null = null;
  private stopSyncPokes: (() => void) | null = null;
  /** Times the running validator fell behind and dropped back into range sync. */
  private fallbacks = 0;
  private startedAt = 0;
  private starting = false;
  private health: StorageHealth;
  private announcer: TxAnnouncer | null = null;
  /** This node's metrics registry (injected, or its own): GET /metrics renders it. */
  readonly metrics: NodeMetrics;
  private readonly history = new StatusHistory(HISTORY_WINDOW_MS, HISTORY_MAX_SAMPLES);
  private readonly notifier = new StatusNotifier(QUIET_STATUS_TICKS);
  private warned = new Set<string>();
  /** The chain read for the API: accounts, blocks, transactions, proposals, messages, proofs. */
  readonly reads: ReadModel;

  constructor(
    private readonly opts: NodeOptions,
    private readonly deps: { clock: Clock; logger: Logger; random: () => number; metrics?: NodeMetrics },
  ) {
    this.health = new StorageHealth(deps);
    this.metrics = deps.metrics ?? new NodeMetrics();
    this.reads = new ReadModel({ store: () => this.requireStore(), pool: () => this.pool, chainId: opts.genesis.chainId, messageIndexPath: join(opts.dataDir, "messages.db") });
  }

  async start(): Promise<void> {
    if (this.store !== null || this.starting) throw new NodeError("ALREADY_STARTED", "node is already running");
    this.starting = true;
    try {
      await this.startServices();
    } catch (e) {
      await this.stop();
      throw e;
    } finally {
      this.starting = false;
    }
  }

  private async startServices(): Promise<void> {
    const { genesis, identity } = this.opts;
    try {
      mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new NodeError("DATA_DIR_UNUSABLE", `cannot create the data directory ${this.opts.dataDir}: ${(e as Error).message}`);
    }
    const chainPath = join(this.opts.dataDir, "chain.db");
    const fresh = !existsSync(chainPath);
    // A data directory that holds a chain is checked against the genesis before anything else is written or sent.
    const storeOptions = { keepBodies: this.opts.pruneKeepBlocks ?? null };
    if (!fresh) this.store = ChainStore.open(chainPath, genesis, storeOptions);
    // The network comes first: a checkpoint is fetched from peers before the store exists.
    if (this.opts.network !== undefined) {
      const genesisTip = ChainStore.genesisTip(genesis);
      this.peerStore = new SqlitePeerStore(join(this.opts.dataDir, "peers.db"));
      const { radio, ...ip } = this.opts.network;
      // Packet ids must never repeat for our node number, across restarts: reserved ahead on disk.
      const packetIds = radio === undefined ? null : ReservedCounter.open(join(this.opts.dataDir, "packet-ids"), 1 + Math.floor(this.deps.random() * 0x7fff_0000));
      this.network = new NodeNetwork(
        { ...ip, chainId: genesis.chainId, genesisHash: genesisTip.hash, ...(radio === undefined || packetIds === null ? {} : { radio: { ...radio, packetIds } }) },
        {
          identity, clock: this.deps.clock, random: this.deps.random, logger: this.deps.logger, peerStore: this.peerStore,
          tip: () => this.store?.tip ?? genesisTip, finalizedHeight: () => this.store?.finalizedHeight ?? 0,
          ...this.networkTrust(genesis),
        },
      );
      await this.network.start();
    }
    if (this.opts.checkpoint !== undefined && fresh) {
      if (this.network === null || !this.network.hasIpPeers) throw new NodeError("CHECKPOINT_UNAVAILABLE", "checkpoint sync needs IP peers to fetch the snapshot from");
      this.deps.logger.info({ checkpoint: toHex(this.opts.checkpoint) }, "fetching checkpoint snapshot from peers");
      const snapshot = await fetchCheckpoint(
        { hash: this.opts.checkpoint, timeoutMs: this.opts.checkpointTimeoutMs ?? 120_000, chunkTimeoutMs: 5_000 },
        { network: this.network, clock: this.deps.clock, logger: this.deps.logger },
      );
      ChainStore.createFromCheckpoint(chainPath, genesis, snapshot.block, snapshot.entries, storeOptions).close();
    } else if (this.opts.checkpoint !== undefined) {
      this.deps.logger.warn({ dataDir: this.opts.dataDir }, "the data directory already holds a chain; --checkpoint ignored");
    }
    const store = this.store ?? ChainStore.open(chainPath, genesis, storeOptions);
    this.store = store;
    store.commitObserver = (seconds) => this.metrics.observeCommitSeconds(seconds);
    this.role = this.chooseRole(store);
    if (this.role === "validator" && this.opts.pruneKeepBlocks !== undefined) {
      throw new NodeError("NOT_SUPPORTED", "--prune is for a follower: a validator serves the blocks its peers sync from; start without --prune");
    }
    this.startedAt = this.deps.clock.now();
    this.poolStore = new SqliteMempoolStore(join(this.opts.dataDir, "mempool.db"));
    const head = () => ({ state: store.state, height: store.tip.height, slot: store.tip.slot });
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: genesis.chainId }, head(), this.poolStore);
    this.pool = pool;
    // Several validators: a validator runs the engine; so does any node with a radio, as an observer
    // that follows proposals and votes on air (range sync needs IP peers).
    const consensus = this.chainRunsConsensus(store) && (this.role === "validator" || this.opts.network?.radio !== undefined);
    const announcer = this.startAnnouncer(store, pool, this.chainSlotMs(store));
    const committed = () => {
      pool.onNewHead(head());
      announcer.onNewHead();
      this.maybeSnapshot();
      this.followSetChange(store, committed);
    };
    this.maybeSnapshot(true);
    if (this.network !== null) this.serve(store, this.network);
    if (this.network !== null && consensus) this.runConsensus(store, committed);
    else if (this.network !== null) this.startSync(store, committed);
    if (this.role === "validator" && !consensus) {
      this.producer = new BlockProducer(
        { chainId: genesis.chainId, slots: SlotClock.withSlotMs(genesis.genesisTime, this.chainSlotMs(store)), heartbeatSlots: this.opts.heartbeatSlots },
        { store, identity, clock: this.deps.clock, logger: this.deps.logger, candidates: () => pool.candidates(), onCommitted: committed, health: this.health },
      );
      this.producer.start();
    }
    this.deps.logger.info({ chainId: genesis.chainId, role: this.role, height: store.tip.height, dataDir: this.opts.dataDir, address: formatAddress(identity.address), broker: this.network?.brokerUrl ?? "none", acceptedPending: announcer.pending }, "node started");
    this.attachMetrics();
    this.scheduleStatus();
  }

  /**
   * What the network judges peers by: the voting weights of the current set (a claimed height moves
   * this node only when validators with over a third of them claim it), and the relay gate's checks.
   * Before the store opens (checkpoint fetch) nobody's claim carries weight.
   */
  private networkTrust(genesis: Genesis): { stake: () => StakeView; relayGate: RelayGate } {
    const stake = (): StakeView => {
      const store = this.store;
      if (store === null) return { weights: new Map(), total: 0n };
      const ledger = new Ledger(store.state);
      const weighted = votingWeights(ledger, store.tip.height);
      return { weights: new Map(weighted.map((w) => [toHex(w.address), w.weight])), total: totalWeight(weighted) };
    };
    const relayGate = new RelayGate({
      chainId: genesis.chainId, clock: this.deps.clock, verifier: new BlsVerifier(genesis.chainId, 4_096),
      tip: () => (this.store === null ? null : { state: this.store.state, height: this.store.tip.height }),
      slotOf: (id) => this.validator?.engine.slotOf(id),
      blockIdByRef: (height, ref) => this.validator?.engine.blockIdByRef(height, ref),
    });
    return { stake, relayGate };
  }

  /** Slots as the chain counts them: the chain's parameter where validators share slots, the flag (if given) for a lone validator. */
  private chainSlotMs(store: ChainStore): number {
    const params = new Ledger(store.state).params();
    return this.chainRunsConsensus(store) ? Number(params.slotMs) : (this.opts.slotMs ?? Number(params.slotMs));
  }

  /** Whether the next block is one for the consensus engine: more than one validator votes on it. */
  private chainRunsConsensus(store: ChainStore): boolean {
    return nextVotingSetSize(new Ledger(store.state), store.tip.height) > 1;
  }

  /**
   * Start the engine: a validator back from a long absence first range-syncs over IP, then joins
   * consensus at the synced tip.
   */
  private runConsensus(store: ChainStore, committed: () => void): void {
    const network = this.network as NodeNetwork;
    const pool = this.pool as TxPool;
    const { genesis, identity } = this.opts;
    const startEngine = () => {
      // With a radio, the engine speaks as on air: compact proposals, and one answer serving everyone.
      const onAir = this.opts.network?.radio !== undefined;
      const rates = this.radioControlRates();
      this.validator = new ValidatorService(genesis, { dataDir: this.opts.dataDir, statusEveryMs: this.opts.statusIntervalMs, onAir, ...(rates === null ? {} : { controlRates: rates }) }, {
        clock: this.deps.clock, logger: this.deps.logger, identity, store, pool, network, verifier: new BlsVerifier(genesis.chainId, 20_000), onCommitted: committed, health: this.health,
      });
      this.validator.start();
      if (network.hasIpPeers) this.watchForFallingBehind(store, committed, startEngine);
    };
    if (network.hasIpPeers) this.syncThenRun(store, committed, startEngine);
    else startEngine();
  }

  /**
   * The voting set grows only at an epoch start, and every node sees it coming a block ahead, so each
   * switches at the same height: the lone validator's producer stops before the first block with
   * several voters and hands over to the engine, and a validator that was following the chain while
   * it waited for its epoch starts voting. Other followers go on syncing (range sync checks each
   * block against its own voting set).
   */
  private followSetChange(store: ChainStore, committed: () => void): void {
    if (this.handoverTimer !== null || this.validator !== null) return;
    const ledger = new Ledger(store.state);
    const height = store.tip.height;
    if (!this.chainRunsConsensus(store)) return;
    if (this.network === null) {
      // The next block needs the other validators' votes, and without a broker we cannot reach them.
      if (this.producer === null) return;
      this.producer.stop();
      this.producer = null;
      this.deps.logger.error({ height }, "the validator set grows at the next block: a validator of several needs a broker; restart with one to go on");
      return;
    }
    const producing = this.producer !== null;
    if (!producing && !(this.sync !== null && votesAfter(ledger, height, this.opts.identity.address))) return;
    this.producer?.stop();
    this.producer = null;
    this.stopSync();
    this.role = "validator";
    this.deps.logger.info({ height, validators: nextVotingSetSize(ledger, height) }, producing ? "the validator set grows: handing block production over to the consensus engine" : "our epoch has come: joining consensus");
    // Not from inside the producer's or the sync's own commit: they finish first.
    this.handoverTimer = this.deps.clock.setTimeout(() => {
      this.handoverTimer = null;
      if (this.store === store) this.runConsensus(store, committed);
    }, 0);
  }

  /**
   * Transactions accepted from this node's users are announced again until included: on a backoff
   * from two slots to 32, and at once to a link that comes back or a peer that joins.
   */
  private startAnnouncer(store: ChainStore, pool: TxPool, slotMs: number): TxAnnouncer {
    const poolStore = this.poolStore as SqliteMempoolStore;
    const announcer = new TxAnnouncer({ baseMs: 2 * slotMs, maxMs: 32 * slotMs }, {
      clock: this.deps.clock, logger: this.deps.logger, random: this.deps.random, store: poolStore,
      send: (tx) => void this.network?.send(MessageType.Transaction, tx.bytes),
      place: (hash) => {
        const at = store.txLocation(hash);
        return at === null ? "absent" : at.height <= store.finalizedHeight ? "final" : "in-chain";
      },
      readmit: (tx) => {
        const id = toHex(txHash(tx.bytes));
        if (pool.holds(id)) return "held";
        // Evicted, or dropped at a head that was later undone: judged again on its merits, not refused as seen.
        pool.forgetSeen(id);
        try {
          pool.add(tx);
        } catch (e) {
          if (e instanceof MempoolError && e.code === "INVALID") return "cannot-apply";
          if (!(e instanceof MeshChainError)) throw e;
        }
        return "held";
      },
    });
    this.announcer = announcer;
    this.network?.onLinkConnected(() => announcer.announceAll());
    this.network?.onPeerJoined(() => announcer.announceAll());
    announcer.start();
    return announcer;
  }

  /**
   * A lone validator proposes every block; a validator of several runs the engine; any other node
   * follows the chain through sync, including a validator still waiting for its epoch to join.
   */
  private chooseRole(store: ChainStore): NodeRole {
    const { identity, genesis } = this.opts;
    const ledger = new Ledger(store.state);
    const mine = votesAfter(ledger, store.tip.height, identity.address);
    const size = nextVotingSetSize(ledger, store.tip.height);
    if (mine && size > 1 && this.network === null) {
      throw new NodeError("NOT_SUPPORTED", `${genesis.chainId} has ${size} validators: a validator needs a broker to reach the others`);
    }
    if (mine) return "validator";
    if (this.network === null) {
      const waiting = ledger.pendingValidators().some((a) => bytesEqual(a, identity.address));
      const why = waiting ? "is registered but joins the voting set only at the next epoch start" : "is not a validator";
      throw new NodeError("NOT_A_VALIDATOR", `${formatAddress(identity.address)} ${why} of ${genesis.chainId}; a follower node needs a broker to sync from its peers`);
    }
    return "follower";
  }

  private startSync(store: ChainStore, committed: () => void): void {
    const network = this.network as NodeNetwork;
    const verifier = new BlsVerifier(this.opts.genesis.chainId);
    const sync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, ...this.opts.sync }, {
      clock: this.deps.clock, logger: this.deps.logger, chainId: this.opts.genesis.chainId, store, verifier, peers: network.peers, localNode: network.nodeNumber, health: this.health,
      send: (request) => void network.send(MessageType.SyncRequest, syncRequestCodec.encode(request)),
      onCommitted: committed,
    });
    this.sync = sync;
    sync.importer.stepObserver = (step, seconds) => this.metrics.observeImportStep(step, seconds);
    this.stopSyncPokes = network.onPeerUpdate(() => sync.poke());
    network.handle(MessageType.SyncResponse, (m) => sync.onResponse(m.meta.from, syncResponseCodec.decode(m.payload)));
    network.handle(MessageType.Transaction, (m) => {
      try {
        this.pool?.add(decodeTxWithBytes(m.payload));
      } catch (e) {
        // Already known, or not valid here: a relayed transaction only costs us the decode.
        if (!(e instanceof MeshChainError)) throw e;
      }
    });
    sync.start();
  }

  /**
   * Range-sync until caught up with the peers (or until it is clear there are none), then hand over:
   * the sync stops and `then` starts the consensus engine from the synced tip.
   */
  private syncThenRun(store: ChainStore, committed: () => void, then: () => void): void {
    this.startSync(store, committed);
    const startedAt = this.deps.clock.now();
    let syncedAt: number | null = null;
    const tick = this.opts.sync?.tickMs ?? DEFAULT_SYNC_OPTIONS.tickMs;
    const check = () => {
      this.handoverTimer = null;
      const sync = this.sync;
      if (sync === null) return;
      // No peer, or none that answers (the peer table remembers peers that may be gone): go on alone.
      const now = this.deps.clock.now();
      const alone = (sync.state === "idle" || sync.state === "behind" || sync.state === "error") && now - startedAt >= SYNC_BEFORE_CONSENSUS_GRACE_MS;
      // The audit of proposer signatures runs only while the sync service does, and nothing above an
      // unaudited block is served: finish it before handing over (bounded, should a repair never come).
      if (sync.state === "synced") syncedAt ??= now;
      const auditing = sync.state === "synced" && store.signaturesCheckedHeight < store.tip.height && now - (syncedAt ?? now) < AUDIT_BEFORE_CONSENSUS_MAX_MS;
      if ((sync.state !== "synced" && !alone) || auditing) {
        this.handoverTimer = this.deps.clock.setTimeout(check, tick);
        return;
      }
      if (store.signaturesCheckedHeight < store.tip.height) {
        this.deps.logger.warn({ auditedHeight: store.signaturesCheckedHeight, height: store.tip.height }, "joining consensus before the proposer signatures of synced blocks were all audited; blocks above the audited height are not served to peers");
      }
      this.stopSync();
      this.deps.logger.info({ height: store.tip.height }, alone ? "no peers to sync from; joining consensus" : "synced; joining consensus");
      then();
    };
    this.handoverTimer = this.deps.clock.setTimeout(check, tick);
  }

  private stopSync(): void {
    this.sync?.stop();
    this.sync = null;
    this.stopSyncPokes?.();
    this.stopSyncPokes = null;
  }

  /**
   * While the engine runs, compare our finality with what peers announce: far behind (an outage, a
   * partition), the engine stops, range sync over IP catches up, and the engine starts again from
   * the synced tip.
   */
  private watchForFallingBehind(store: ChainStore, committed: () => void, startEngine: () => void): void {
    const fallBehindBlocks = this.opts.sync?.fallBehindBlocks ?? DEFAULT_SYNC_OPTIONS.fallBehindBlocks;
    const network = this.network as NodeNetwork;
    // Judged whenever a peer's signed status arrives: the first one after an outage shows the gap.
    this.stopBehindWatch = network.onPeerUpdate(() => {
      // Only a height validators with over a third of the weight vouch for: unstaked peers cannot make
      // a validator leave consensus, whatever they claim.
      const target = network.peers.provenFinalizedHeight();
      if (this.validator === null || target - store.finalizedHeight <= fallBehindBlocks) return;
      this.stopBehindWatch?.();
      this.stopBehindWatch = null;
      this.fallbacks++;
      this.deps.logger.warn({ finalized: store.finalizedHeight, peersFinalized: target }, "fell behind the peers; range-syncing before rejoining consensus");
      this.validator.stop();
      this.validator = null;
      this.syncThenRun(store, committed, startEngine);
    });
  }

  /** Every node with a network serves its finalized blocks and its snapshot to peers that ask it. */
  private serve(store: ChainStore, network: NodeNetwork): void {
    network.handle(MessageType.SyncRequest, (m) => {
      const request = syncRequestCodec.decode(m.payload);
      if (request.target !== network.nodeNumber) return;
      void network.send(MessageType.SyncResponse, syncResponseCodec.encode(answerSyncRequest(store, request, m.meta.from, MQTT_MTU - 16)));
    });
    network.handle(MessageType.SnapshotRequest, (m) => {
      const request = snapshotRequestCodec.decode(m.payload);
      if (request.target !== network.nodeNumber) return;
      void network.send(MessageType.SnapshotChunk, snapshotChunkCodec.encode(answerSnapshotRequest(this.snapshot, request, m.meta.from)));
    });
  }

  /** Keep one snapshot of finalized state for peers to start from, refreshed every interval. */
  private maybeSnapshot(force = false): void {
    const store = this.store;
    if (store === null) return;
    const height = store.tip.height;
    const every = this.opts.snapshotIntervalBlocks ?? DEFAULT_SNAPSHOT_INTERVAL_BLOCKS;
    if (height === 0 || store.finalizedHeight !== height || (!force && height % every !== 0)) return;
    const block = store.blockAt(height);
    if (block !== null) this.snapshot = takeSnapshot(block, store.state);
  }

  /** The broker this node talks through, once started with a network. */
  get brokerUrl(): string | null {
    return this.network?.brokerUrl ?? null;
  }

  status(): NodeStatus {
    const store = this.requireStore();
    const tip = store.tip;
    const now = this.deps.clock.now();
    const progress = this.sync?.progress() ?? this.consensusProgress();
    const height = this.validator?.headHeight ?? tip.height;
    const finalizedHeight = store.finalizedHeight;
    const diagnostics = this.network?.diagnostics() ?? null;
    const radio = diagnostics?.radio ?? null;
    const ledger = new Ledger(store.state);
    const validators = votingSet(ledger, tip.height);
    // A lone validator with no peers is the chain: nothing to sync from, nothing to wait for.
    const sync = {
      state: this.role === "validator" && progress.state === "idle" ? "synced" as const : progress.state, percent: progress.percent, etaSeconds: progress.etaSeconds,
      targetHeight: progress.targetHeight, fallbacks: this.fallbacks, blocksPerSecond: this.sync?.progress().blocksPerSecond ?? null,
    };
    // The chain's slots for every role, whatever pace a lone validator's producer keeps (--slot-ms).
    const slots = SlotClock.of(this.opts.genesis, ledger.params());
    const finalizedAgeSeconds = Math.max(0, Math.round(now / 1000 - blockTimestamp(store, finalizedHeight, this.opts.genesis.genesisTime)));
    const engine = this.validator?.engine ?? null;
    const fault = this.health.fault;
    const base = {
      chainId: this.opts.genesis.chainId,
      role: this.role,
      height,
      finalizedHeight,
      tipHash: toHex(tip.hash),
      slot: slots.currentSlot(now),
      // The head the engine follows may be above the store's (finalized) tip: its age is the head's.
      lastBlockAgeSeconds: Math.max(0, Math.round(now / 1000 - (engine?.head().block?.header.timestamp ?? tip.timestamp))),
      address: formatAddress(this.opts.identity.address),
      peers: this.network?.peerCount ?? 0,
      sync,
      finality: { lagBlocks: Math.max(0, height - finalizedHeight), ageSeconds: finalizedAgeSeconds },
      validators: validators.length,
      consensus: consensusReport(store.state, tip.height),
      links: { ip: diagnostics?.ip?.link.state ?? null, radio: radio?.link.state ?? null },
      mempool: { transactions: this.pool?.size ?? 0, bytes: this.pool?.sizeBytes ?? 0 },
      airtimeSeconds: this.network?.airtimeSeconds ?? null,
      airtime: radio === null ? null : { lastHourSeconds: radio.lastHourAirtimeSeconds, budgetSecondsPerHour: radio.budgetSecondsPerHour, dutyCycle: radio.dutyCycle },
      storage: { fault: fault === null ? null : { store: fault.store, code: fault.code, message: fault.message, during: fault.during, forSeconds: Math.round((now - fault.sinceMs) / 1000) }, faults: this.health.faults },
      accepted: { pending: this.announcer?.pending ?? 0, reannounced: this.announcer?.reannounced ?? 0 },
      ready: this.readiness(sync.state),
      radio: this.network?.radioStatus ?? null,
      checkpoint: this.snapshot === null ? null : { height: this.snapshot.height, hash: toHex(this.snapshot.hash) },
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
    };
    const lastVotes = engine?.lastVotes ?? null;
    const warnings = nodeWarnings({
      role: this.role, validators: validators.length, sync, peers: base.peers, networked: this.network !== null, height, finalizedHeight, finalizedAgeSeconds,
      slotSeconds: slots.slotMs / 1000, heartbeatSlots: Number(ledger.params().heartbeatSlots), mempoolTransactions: base.mempool.transactions,
      unfinalizedTransactions: (engine?.unfinalizedTxCount ?? 0) > 0,
      ipLink: diagnostics?.ip == null ? null : { state: diagnostics.ip.link.state, lastError: diagnostics.ip.link.lastError },
      radio: radio === null ? null : { state: radio.link.state, lastError: radio.link.lastError, lastHourAirtimeSeconds: radio.lastHourAirtimeSeconds, budgetSecondsPerHour: radio.budgetSecondsPerHour },
      disk: diskSpace(this.opts.dataDir),
      // Votes are only known to a node that runs the engine.
      votes: engine === null ? [] : validators.map((v) => ({ validator: formatAddress(v.address), lastVoteSlot: lastVotes?.get(toHex(v.address))?.slot ?? null })),
      headSlot: engine?.head().slot ?? tip.slot,
      peerClockOffsetMs: this.network?.peerClockOffsetMs ?? null,
      storageFault: base.storage.fault,
    });
    return { ...base, warnings };
  }

  /** The active validators with weight, proximity and (when this node runs consensus) their last vote. */
  validatorList(): ValidatorSummary[] {
    return validatorSummaries(this.requireStore(), this.validator?.engine.lastVotes ?? null, this.opts.identity.address, this.deps.clock.now());
  }

  /** The newest blocks in the store, newest first. */
  recentBlocks(count: number): BlockSummary[] {
    return recentBlocks(this.requireStore(), Math.max(1, Math.min(100, Math.floor(count))));
  }

  /** Samples of the last hour, one per status interval, for the status page's plots. */
  statusHistory(): readonly HistorySample[] {
    return this.history.list();
  }

  /** The Prometheus text exposition of this node's metrics. */
  metricsText(): Promise<string> {
    return this.metrics.text();
  }

  private attachMetrics(): void {
    this.metrics.attach({
      status: () => this.status(),
      weightGini: () => this.weightGini(),
      engineStats: () => this.validator?.stats ?? null,
      network: () => this.network?.diagnostics() ?? null,
      peerStates: () => {
        const list = this.network?.peers.list() ?? [];
        const banned = list.filter((p) => this.network?.peers.isBanned(p.node) === true).length;
        return { active: list.length - banned, banned };
      },
      bansByReason: () => this.network?.peers.bansByReason ?? new Map<string, number>(),
      mempoolRefusals: () => this.pool?.refusalsByReason ?? new Map<string, number>(),
      syncRateBlocksPerSecond: () => this.sync?.progress().blocksPerSecond ?? null,
    });
  }

  /** Ready means synced, reaching at least one peer link, and storing blocks; the reason says which is missing. */
  private readiness(sync: SyncState): { ok: boolean; reason: string | null } {
    const fault = this.health.fault;
    if (fault !== null) return { ok: false, reason: `storage fault (${fault.code}) while ${fault.during}` };
    if (this.network?.cutOff === true) {
      const down = Object.entries(this.network.linkStatus()).map(([name, l]) => `${name}: ${l.reason ?? l.state}`);
      return { ok: false, reason: `cut off from every peer (${down.join("; ")})` };
    }
    if (sync !== "synced") return { ok: false, reason: `sync ${sync}` };
    return { ok: true, reason: null };
  }

  /** A consensus validator catches up through the engine: it is syncing while peers have finalized more than it has. */
  private consensusProgress(): { state: SyncState; percent: number; etaSeconds: number | null; targetHeight: number } {
    const store = this.store as ChainStore;
    const finalized = store.finalizedHeight;
    if (this.validator === null) return { state: "synced", percent: 100, etaSeconds: 0, targetHeight: finalized };
    const peers = this.network?.peers;
    if (peers === undefined || peers.size === 0) return { state: "idle", percent: 100, etaSeconds: null, targetHeight: finalized };
    const target = Math.max(finalized, peers.provenFinalizedHeight());
    // Finality trails the head by a block or two in normal operation: that is not being behind.
    const behind = target > finalized + 2;
    return { state: behind ? "syncing" : "synced", percent: target === 0 ? 100 : Math.floor((finalized / target) * 1000) / 10, etaSeconds: behind ? null : 0, targetHeight: target };
  }

  /** The hash of our finalized block at `height`; null above finality or below a checkpoint. */
  finalizedHashAt(height: number): string | null {
    const store = this.requireStore();
    if (height > store.finalizedHeight || height < store.baseHeight || height === 0) return null;
    return store.blockBytesAt(height) === null ? null : toHex(store.blockHashAt(height));
  }

  /** The height at which a transaction became final here, or null. */
  finalizedTxHeight(hash: Uint8Array): number | null {
    const store = this.requireStore();
    const at = store.txLocation(hash);
    // Final from the certificates held here, as a validator judges, not only from recorded finality.
    return at !== null && at.height <= this.reads.finalizedHeight() ? at.height : null;
  }

  peerList(): PeerSummary[] {
    const network = this.network;
    if (network === null) return [];
    const now = this.deps.clock.now();
    return network.peers.list().map((p) => ({
      node: `!${p.node.toString(16).padStart(8, "0")}`, finalizedHeight: p.finalizedHeight, tipHeight: p.tipHeight, hopsAway: p.hopsAway, snr: p.snr,
      score: p.score, latencyMs: p.latencyMs, lastSeenSecondsAgo: Math.round((now - p.lastSeen) / 1000), banned: network.peers.isBanned(p.node), lastInvalidReason: p.lastInvalidReason,
    }));
  }

  /** What a wallet needs before signing: the chain id its signature binds to and the fee rate. */
  chainInfo(): { chainId: string; height: number; minFeePerByte: string; genesisHash: string } {
    const store = this.requireStore();
    return { chainId: this.opts.genesis.chainId, height: store.tip.height, minFeePerByte: new Ledger(store.state).params().minFeePerByte.toString(), genesisHash: toHex(store.genesisHash) };
  }

  /** The nonce a sender's next transaction needs, counting those waiting in our pool. */
  nextNonce(address: Uint8Array): number {
    if (this.pool === null) throw new NodeError("NOT_RUNNING", "node is not running");
    return this.pool.nextNonce(address);
  }

  private requireStore(): ChainStore {
    if (this.store === null) throw new NodeError("NOT_RUNNING", "node is not running");
    return this.store;
  }

  /** The weights' Gini coefficient (0 when one validator holds all the weight among one). */
  weightGini(): number {
    if (this.store === null) throw new NodeError("NOT_RUNNING", "node is not running");
    const ledger = new Ledger(this.store.state);
    return gini(votingWeights(ledger, this.store.tip.height));
  }

  /**
   * Admit a signed transaction and pass it to peers. The answer is the truth about it: `accepted` (in
   * our pool), `queued` (its nonce runs ahead; held until the gap fills) or `included` (a resubmission of
   * one already in our chain); anything else throws the typed reason it was refused, and then nothing was
   * kept. What is accepted or queued is on disk before this returns, and is announced again until the
   * chain includes it.
   */
  submitTransaction(bytes: Uint8Array): SubmitOutcome {
    const pool = this.pool;
    const store = this.store;
    const announcer = this.announcer;
    if (pool === null || store === null || announcer === null) throw new NodeError("NOT_RUNNING", "node is not running");
    const tx = decodeTxWithBytes(bytes);
    const hashBytes = txHash(tx.bytes);
    const hash = toHex(hashBytes);
    let outcome: SubmitOutcome;
    try {
      outcome = this.admit(pool, store, announcer, tx, hash);
    } catch (e) {
      if (e instanceof StorageError) this.health.report("mempool", e, "keeping a submitted transaction");
      throw e;
    }
    this.health.healthy("mempool");
    if (outcome.status === "included") return outcome;
    // Acknowledged: nothing after this point may turn the answer into a failure.
    this.network?.send(MessageType.Transaction, tx.bytes).catch((e: unknown) => this.deps.logger.warn({ hash, reason: e instanceof Error ? e.message : String(e) }, "transaction not announced"));
    this.deps.logger.debug({ hash, status: outcome.status }, "transaction accepted");
    return outcome;
  }

  /** The pool's verdict on a submission, with what it acknowledges on disk (pool row and kept copy in one write). */
  private admit(pool: TxPool, store: ChainStore, announcer: TxAnnouncer, tx: DecodedTx, hash: string): SubmitOutcome {
    try {
      pool.add(tx, this.deps.clock.now());
      announcer.adopt(tx);
      return { hash, status: "accepted" };
    } catch (e) {
      if (!(e instanceof MempoolError)) throw e;
      if (e.code === "NONCE_GAP") {
        this.keep(pool, announcer, tx, hash);
        return { hash, status: "queued", reason: e.message };
      }
      // Sent again (a client retrying after a lost answer, or after our restart; or it reached us by gossip first).
      if (pool.isQueued(hash)) {
        this.keep(pool, announcer, tx, hash);
        return { hash, status: "queued", reason: "already held: an earlier nonce is missing" };
      }
      const pending = pool.pendingTx(tx.tx.sender, tx.tx.nonce);
      if (pending !== undefined && bytesEqual(pending.bytes, tx.bytes)) {
        // Already in the pool (and its file), by gossip or an earlier submission: accepted whatever else happens.
        try {
          announcer.track(tx);
        } catch (err) {
          this.deps.logger.warn({ hash, reason: (err as Error).message }, "transaction accepted, but not kept for announcing again");
        }
        return { hash, status: "accepted" };
      }
      const at = store.txLocation(txHash(tx.bytes));
      if (at !== null) return { hash, status: "included", height: at.height, final: at.height <= store.finalizedHeight };
      throw e;
    }
  }

  /** Keep a copy of a transaction the pool holds in memory only (queued); if that cannot be written, the pool lets it go too. */
  private keep(pool: TxPool, announcer: TxAnnouncer, tx: DecodedTx, hash: string): void {
    try {
      announcer.track(tx);
    } catch (e) {
      pool.discard(hash);
      throw e;
    }
  }

  /** When the signed status goes on air (null: every status interval, as over IP alone). */
  private announceGate: StatusSuppression | null = null;

  private scheduleStatus(): void {
    this.statusTimer = this.deps.clock.setTimeout(() => {
      const s = this.status();
      const radio = this.network?.diagnostics().radio ?? null;
      this.history.add({
        at: this.deps.clock.now(), height: s.height, finalizedHeight: s.finalizedHeight, peers: s.peers, mempool: s.mempool.transactions,
        airtimeSecondsByClass: radio === null ? null : Object.fromEntries(Object.entries(radio.airtime.airtimeMsByClass).map(([k, ms]) => [k.toLowerCase(), ms / 1000])),
      });
      // Each warning is logged with its reason when it appears and once when it clears, not at every tick.
      for (const w of s.warnings) if (!this.warned.has(w.code)) this.deps.logger[w.severity]({ warning: w.code }, w.reason);
      for (const code of this.warned) if (!s.warnings.some((w) => w.code === code)) this.deps.logger.info({ warning: code }, "warning cleared");
      this.warned = new Set(s.warnings.map((w) => w.code));
      const line = this.notifier.next(s);
      if (line !== null) {
        this.deps.logger.info({ status: { height: s.height, finalized: s.finalizedHeight, sync: s.sync.state, peers: s.peers, mempool: s.mempool.transactions, warnings: s.warnings.map((w) => w.code) } }, line);
      }
      // The status line is local and comes every status interval; the signed status costs airtime when
      // there is a radio, so it goes out at the preset's control rate (mesh/airtime/control-rates.ts).
      const rates = this.radioControlRates();
      if (rates !== null) this.announceGate ??= new StatusSuppression(rates, this.deps.random, this.deps.clock.now());
      if (this.announceGate === null || this.announceGate.shouldSend(this.deps.clock.now())) void this.network?.announce(MessageType.Status);
      this.scheduleStatus();
    }, this.opts.statusIntervalMs);
  }

  /** Control rates on the radio, from its preset (as configured, else as the radio reported it; LongFast if neither is known yet); null without a radio. */
  private radioControlRates(): ControlRates | null {
    const radio = this.opts.network?.radio;
    if (radio === undefined) return null;
    const preset = radio.preset ?? presetByName(this.network?.radioStatus?.preset ?? "") ?? "LONG_FAST";
    const slotMs = this.store !== null ? this.chainSlotMs(this.store) : (this.opts.slotMs ?? Number(this.opts.genesis.params.slotMs));
    return controlRates(PRESETS[preset], slotMs, { budgetSecondsPerHour: radio.budgetSecondsPerHour, controlShare: DEFAULT_AIRTIME_POLICY.controlShare });
  }

  /** Stop producing and syncing, leave the network, then close the stores; safe to call twice. */
  async stop(): Promise<void> {
    this.metrics.detach();
    if (this.statusTimer !== null) this.deps.clock.clearTimeout(this.statusTimer);
    this.statusTimer = null;
    if (this.handoverTimer !== null) this.deps.clock.clearTimeout(this.handoverTimer);
    this.handoverTimer = null;
    this.stopBehindWatch?.();
    this.stopBehindWatch = null;
    this.announcer?.stop();
    this.announcer = null;
    this.producer?.stop();
    this.producer = null;
    this.validator?.stop();
    this.validator = null;
    this.stopSync();
    const network = this.network;
    this.network = null;
    await network?.stop();
    this.peerStore?.close();
    this.peerStore = null;
    this.pool = null;
    this.poolStore?.close();
    this.poolStore = null;
    this.reads.close();
    if (this.store !== null) {
      const height = this.store.tip.height;
      this.store.close();
      this.store = null;
      this.deps.logger.info({ height }, "node stopped");
    }
  }
}
