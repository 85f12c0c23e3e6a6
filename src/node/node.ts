// The composition root `meshchain start` runs: it builds the stores, the network, the pool and the
// services from options, starts them in a fixed order and stops them in reverse. What it composes
// lives apart: the mode and its transitions (mode-machine.ts), the handlers for peers' requests
// (wire-handlers.ts), the status and the chain reads for the API (node-report.ts, read-model.ts),
// users' transactions (submission.ts), and what happens every status interval (status-ticker.ts).
// (Over 400 lines: the options, what the node is given rather than builds, and the accessors the API
// and the devnet read stay beside the composition they describe.)
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../core/bytes.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Identity } from "../core/crypto/identity.js";
import type { Genesis } from "../core/genesis.js";
import { Ledger } from "../core/state/ledger.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { nextVotingSetSize, votesAfter } from "../core/state/validators.js";
import { BlsVerifier } from "../consensus/verifier.js";
import { turnStepAirtimeMs } from "../consensus/vote-pacing.js";
import { type ControlRates, controlRates } from "../mesh/airtime/control-rates.js";
import { type PresetName, PRESETS, presetByName } from "../mesh/airtime/presets.js";
import { DEFAULT_AIRTIME_POLICY } from "../mesh/airtime/scheduler.js";
import { MessageType } from "../mesh/frame.js";
import { syncRequestCodec } from "../mesh/messages/sync.js";
import { ChainStore } from "../storage/chain-store.js";
import { SqliteMempoolStore } from "../storage/mempool-store.js";
import { SqlitePeerStore } from "../storage/peer-store.js";
import { ReservedCounter } from "../storage/reserved-counter.js";
import { BlockProducer } from "./block-producer.js";
import { fetchCheckpoint } from "./checkpoint.js";
import type { Clock } from "./clock.js";
import { NodeError } from "./errors.js";
import type { Logger } from "./logger.js";
import { DEFAULT_MEMPOOL_OPTIONS, TxPool } from "./mempool.js";
import { NodeMetrics } from "./metrics.js";
import { ModeMachine, type ModeServices, type NodeRole, startingPlan } from "./mode-machine.js";
import { type NetworkOptions, NodeNetwork } from "./network.js";
import { type BlockSummary, NodeReport, type NodeStatus, type PeerSummary, type ValidatorSummary } from "./node-report.js";
import { type StakeView, stakeView } from "./peers.js";
import type { RadioOptions, RadioTransportFactory } from "./radio.js";
import { ReadModel } from "./read-model.js";
import { RelayGate } from "./relay-gate.js";
import type { HistorySample } from "./status-history.js";
import { StatusTicker } from "./status-ticker.js";
import { StorageHealth } from "./storage-health.js";
import { startAnnouncer, type SubmitOutcome, submitTransaction } from "./submission.js";
import { ChainSync, DEFAULT_SYNC_OPTIONS, type SyncOptions } from "./sync.js";
import type { TxAnnouncer } from "./tx-announcer.js";
import { ValidatorService } from "./validator.js";
import type { EngineStats } from "../consensus/engine.js";
import { ChainServer, DEFAULT_SNAPSHOT_INTERVAL_BLOCKS, listenForSync } from "./wire-handlers.js";

export type { SyncState } from "./sync.js";
export type { NodeRole } from "./mode-machine.js";
export type { NodeStatus, PeerSummary } from "./node-report.js";
export type { SubmitOutcome } from "./submission.js";

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
  /** Slots without a vote before the status names a validator as not voting (default 10, warnings.ts); tests on short slots lower it. */
  readonly silentValidatorSlots?: number;
}

/**
 * What the node is given rather than builds. `radioTransport`: the radio's transport (the devnet's
 * simulated radio), used instead of reaching a radio at `network.radio.broker`; with a `ManualClock`
 * the node then runs in virtual time, every timer of it on that clock.
 */
export interface NodeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
  readonly metrics?: NodeMetrics;
  readonly radioTransport?: RadioTransportFactory;
  /**
   * BLS verification shared with other nodes of this process (the devnet's): its results are pure
   * functions of their inputs, so sharing saves CPU and changes nothing else. Absent: the node's own.
   */
  readonly verifier?: BlsVerifier;
}

/** The composition root: builds the services from options and runs them in a fixed order. */
export class MeshChainNode {
  private store: ChainStore | null = null;
  private role: NodeRole = "follower";
  private producer: BlockProducer | null = null;
  private validator: ValidatorService | null = null;
  private network: NodeNetwork | null = null;
  private sync: ChainSync | null = null;
  private pool: TxPool | null = null;
  private poolStore: SqliteMempoolStore | null = null;
  private peerStore: SqlitePeerStore | null = null;
  private server: ChainServer | null = null;
  private stopSyncPokes: (() => void) | null = null;
  private startedAt = 0;
  private starting = false;
  private health: StorageHealth;
  private announcer: TxAnnouncer | null = null;
  private readonly mode: ModeMachine;
  private readonly ticker: StatusTicker;
  private readonly report: NodeReport;
  private readonly commitListeners = new Set<() => void>();
  /** This node's metrics registry (injected, or its own): GET /metrics renders it. */
  readonly metrics: NodeMetrics;
  /** The chain read for the API: accounts, blocks, transactions, proposals, messages, proofs. */
  readonly reads: ReadModel;

  constructor(
    private readonly opts: NodeOptions,
    private readonly deps: NodeDeps,
  ) {
    this.health = new StorageHealth(deps);
    this.metrics = deps.metrics ?? new NodeMetrics();
    this.reads = new ReadModel({ store: () => this.requireStore(), pool: () => this.pool, chainId: opts.genesis.chainId, messageIndexPath: join(opts.dataDir, "messages.db") });
    this.mode = new ModeMachine(deps);
    this.report = new NodeReport({
      genesis: opts.genesis, address: opts.identity.address, dataDir: opts.dataDir, clock: deps.clock, health: this.health,
      ...(opts.silentValidatorSlots === undefined ? {} : { silentValidatorSlots: opts.silentValidatorSlots }),
      store: () => this.requireStore(), role: () => this.role, fallbacks: () => this.mode.fallbacks, startedAt: () => this.startedAt,
      sync: () => this.sync, validator: () => this.validator, network: () => this.network, pool: () => this.pool, announcer: () => this.announcer,
      snapshot: () => this.server?.snapshot ?? null,
    });
    this.ticker = new StatusTicker({
      clock: deps.clock, logger: deps.logger, random: deps.random, intervalMs: opts.statusIntervalMs,
      status: () => this.status(), network: () => this.network, controlRates: () => this.radioControlRates(),
    });
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
          ...(this.deps.radioTransport === undefined ? {} : { radioTransport: this.deps.radioTransport }),
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
    const plan = startingPlan(new Ledger(store.state), store.tip.height, { chainId: genesis.chainId, address: identity.address, networked: this.network !== null, radio: this.opts.network?.radio !== undefined });
    this.role = plan.role;
    if (this.role === "validator" && this.opts.pruneKeepBlocks !== undefined) {
      throw new NodeError("NOT_SUPPORTED", "--prune is for a follower: a validator serves the blocks its peers sync from; start without --prune");
    }
    this.startedAt = this.deps.clock.now();
    this.poolStore = new SqliteMempoolStore(join(this.opts.dataDir, "mempool.db"));
    const head = () => ({ state: store.state, height: store.tip.height, slot: store.tip.slot });
    const pool = new TxPool({ ...DEFAULT_MEMPOOL_OPTIONS, chainId: genesis.chainId }, head(), this.poolStore, () => SlotClock.withSlotMs(genesis.genesisTime, this.chainSlotMs(store)).slotAt(this.deps.clock.now()));
    this.pool = pool;
    const announcer = startAnnouncer({
      store, pool, accepted: this.poolStore, network: () => this.network, clock: this.deps.clock, logger: this.deps.logger, random: this.deps.random, slotMs: this.chainSlotMs(store), onAir: this.opts.network?.radio !== undefined,
      inUnfinalizedBlock: (hash) => this.validator?.engine.holdsUnfinalizedTx(hash) ?? false,
      unfinalizedTxCount: () => this.validator?.engine.unfinalizedTxCount ?? 0,
    });
    this.announcer = announcer;
    const server = new ChainServer(store, this.opts.snapshotIntervalBlocks ?? DEFAULT_SNAPSHOT_INTERVAL_BLOCKS);
    this.server = server;
    const committed = () => {
      pool.onNewHead(head());
      announcer.onNewHead();
      server.refresh();
      this.mode.onCommitted();
      for (const l of this.commitListeners) l();
    };
    server.refresh(true);
    if (this.network !== null) server.serve(this.network);
    const sync = { ...DEFAULT_SYNC_OPTIONS, ...this.opts.sync };
    this.mode.start({ chain: store, network: this.network, services: this.modeServices(store, committed), tickMs: sync.tickMs, fallBehindBlocks: sync.fallBehindBlocks }, plan.mode);
    this.deps.logger.info({ chainId: genesis.chainId, role: this.role, height: store.tip.height, dataDir: this.opts.dataDir, address: formatAddress(identity.address), broker: this.network?.brokerUrl ?? "none", acceptedPending: announcer.pending }, "node started");
    this.metrics.attach(this.report.metricsSources(() => this.weightGini()));
    this.ticker.start();
  }

  /**
   * What the network judges peers by: the voting weights of the current set (a claimed height moves
   * this node only when validators with over a third of them claim it), and the relay gate's checks.
   * Before the store opens (checkpoint fetch) nobody's claim carries weight.
   */
  private networkTrust(genesis: Genesis): { stake: () => StakeView; relayGate: RelayGate } {
    const stake = (): StakeView => (this.store === null ? { weights: new Map(), total: 0n } : stakeView(new Ledger(this.store.state), this.store.tip.height));
    const relayGate = new RelayGate({
      chainId: genesis.chainId, clock: this.deps.clock, verifier: this.deps.verifier ?? new BlsVerifier(genesis.chainId, 4_096),
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

  /** The services the mode switches between, built here from the run's store, network and pool. */
  private modeServices(store: ChainStore, committed: () => void): ModeServices {
    return {
      startSync: () => this.startSync(store, committed),
      stopSync: () => this.stopSync(),
      startEngine: () => this.startEngine(store, committed),
      stopEngine: () => {
        this.validator?.stop();
        this.validator = null;
      },
      startProducer: () => this.startProducer(store, committed),
      stopProducer: () => {
        this.producer?.stop();
        this.producer = null;
      },
      nextSetSize: () => nextVotingSetSize(new Ledger(store.state), store.tip.height),
      votesNext: () => votesAfter(new Ledger(store.state), store.tip.height, this.opts.identity.address),
      joined: () => {
        this.role = "validator";
      },
    };
  }

  private startSync(store: ChainStore, committed: () => void): ChainSync {
    const network = this.network as NodeNetwork;
    const verifier = this.deps.verifier ?? new BlsVerifier(this.opts.genesis.chainId);
    const sync = new ChainSync({ ...DEFAULT_SYNC_OPTIONS, ...this.opts.sync }, {
      clock: this.deps.clock, logger: this.deps.logger, chainId: this.opts.genesis.chainId, store, verifier, peers: network.peers, localNode: network.nodeNumber, health: this.health,
      send: (request) => void network.send(MessageType.SyncRequest, syncRequestCodec.encode(request)),
      onCommitted: committed,
    });
    this.sync = sync;
    sync.importer.stepObserver = (step, seconds) => this.metrics.observeImportStep(step, seconds);
    this.stopSyncPokes = network.onPeerUpdate(() => sync.poke());
    listenForSync(network, sync, this.pool as TxPool);
    sync.start();
    return sync;
  }

  private stopSync(): void {
    this.sync?.stop();
    this.sync = null;
    this.stopSyncPokes?.();
    this.stopSyncPokes = null;
  }

  private startEngine(store: ChainStore, committed: () => void): void {
    const { genesis, identity } = this.opts;
    // With a radio, the engine speaks as on air: compact proposals, and one answer serving everyone.
    const onAir = this.opts.network?.radio !== undefined;
    const rates = this.radioControlRates();
    // Vote and precommit turns are sized by the preset's frame airtime (consensus/vote-pacing.ts).
    const turnStepMs = onAir ? turnStepAirtimeMs(PRESETS[this.radioPreset()]) : undefined;
    this.validator = new ValidatorService(genesis, { dataDir: this.opts.dataDir, statusEveryMs: this.opts.statusIntervalMs, onAir, ...(rates === null ? {} : { controlRates: rates }), ...(turnStepMs === undefined ? {} : { turnStepMs }) }, {
      clock: this.deps.clock, logger: this.deps.logger, identity, store, pool: this.pool as TxPool, network: this.network as NodeNetwork, verifier: this.deps.verifier ?? new BlsVerifier(genesis.chainId, 20_000), onCommitted: committed, health: this.health,
    });
    this.validator.start();
  }

  private startProducer(store: ChainStore, committed: () => void): void {
    const { genesis, identity } = this.opts;
    const pool = this.pool as TxPool;
    this.producer = new BlockProducer(
      { chainId: genesis.chainId, slots: SlotClock.withSlotMs(genesis.genesisTime, this.chainSlotMs(store)), heartbeatSlots: this.opts.heartbeatSlots },
      { store, identity, clock: this.deps.clock, logger: this.deps.logger, candidates: () => pool.candidates(), onCommitted: committed, health: this.health, signerPath: join(this.opts.dataDir, "signer.db") },
    );
    this.producer.start();
  }

  /** Told after each commit to the chain store (blocks, finality), while running; returns the unsubscribe. */
  onCommitted(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** The consensus engine's head and counters while it runs (null in any other mode). */
  engineView(): { readonly headHeight: number; readonly stats: EngineStats } | null {
    const v = this.validator;
    return v === null ? null : { headHeight: v.headHeight, stats: v.stats };
  }

  /** The broker this node talks through, once started with a network. */
  get brokerUrl(): string | null {
    return this.network?.brokerUrl ?? null;
  }

  status(): NodeStatus {
    return this.report.status();
  }

  /** The active validators with weight, proximity and (when this node runs consensus) their last vote. */
  validatorList(): ValidatorSummary[] {
    return this.report.validatorList();
  }

  /** The newest blocks in the store, newest first. */
  recentBlocks(count: number): BlockSummary[] {
    return this.report.recentBlocks(count);
  }

  /** Samples of the last hour, one per status interval, for the status page's plots. */
  statusHistory(): readonly HistorySample[] {
    return this.ticker.samples();
  }

  /** The Prometheus text exposition of this node's metrics. */
  metricsText(): Promise<string> {
    return this.metrics.text();
  }

  /** The hash of our finalized block at `height`; null above finality or below a checkpoint. */
  finalizedHashAt(height: number): string | null {
    return this.reads.finalizedHashAt(height);
  }

  /** The height at which a transaction became final here, or null. */
  finalizedTxHeight(hash: Uint8Array): number | null {
    return this.reads.finalizedTxHeight(hash);
  }

  peerList(): PeerSummary[] {
    return this.report.peerList();
  }

  /** What a wallet needs before signing: the chain id its signature binds to and the fee rate. */
  chainInfo(): { chainId: string; height: number; minFeePerByte: string; genesisHash: string } {
    return this.reads.chainInfo();
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
    return this.reads.weightGini();
  }

  /** Admit a signed transaction and pass it to peers: accepted, queued or already included (submission.ts). */
  submitTransaction(bytes: Uint8Array): SubmitOutcome {
    const { pool, store, announcer } = this;
    if (pool === null || store === null || announcer === null) throw new NodeError("NOT_RUNNING", "node is not running");
    return submitTransaction({ pool, store, announcer, network: this.network, health: this.health, clock: this.deps.clock, logger: this.deps.logger }, bytes);
  }

  /** The radio's preset: as configured, else as the radio reported it; LongFast if neither is known yet. */
  private radioPreset(): PresetName {
    return this.opts.network?.radio?.preset ?? presetByName(this.network?.radioStatus?.preset ?? "") ?? "LONG_FAST";
  }

  /** Control rates on the radio, from its preset (as configured, else as the radio reported it; LongFast if neither is known yet); null without a radio. */
  private radioControlRates(): ControlRates | null {
    const radio = this.opts.network?.radio;
    if (radio === undefined) return null;
    const preset = this.radioPreset();
    const slotMs = this.store !== null ? this.chainSlotMs(this.store) : (this.opts.slotMs ?? Number(this.opts.genesis.params.slotMs));
    return controlRates(PRESETS[preset], slotMs, { budgetSecondsPerHour: radio.budgetSecondsPerHour, controlShare: DEFAULT_AIRTIME_POLICY.controlShare });
  }

  /** Stop producing and syncing, leave the network, then close the stores; safe to call twice. */
  async stop(): Promise<void> {
    this.metrics.detach();
    this.ticker.stop();
    this.mode.stop();
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
