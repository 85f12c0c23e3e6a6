// The running node as the API and the operator see it: the status (assembled from every service's
// own figures), peers, validators with their last votes, recent blocks. Chain reads (accounts, blocks,
// transactions, proofs) are read-model.ts's; this file reads the services that run.
import { statfsSync } from "node:fs";
import { toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { formatAddress } from "../core/crypto/address.js";
import type { Genesis } from "../core/genesis.js";
import { Ledger } from "../core/state/ledger.js";
import { SlotClock } from "../core/state/slot-clock.js";
import { votingSet } from "../core/state/validators.js";
import { txHash } from "../core/tx/codec.js";
import type { LastVote } from "../consensus/engine.js";
import { votingWeights } from "../consensus/weights.js";
import type { LinkState } from "../mesh/mqtt-link.js";
import type { DutyCyclePause } from "../mesh/transport.js";
import type { StreamLinkState } from "../mesh/transports/meshtastic-stream.js";
import type { ChainStore } from "../storage/chain-store.js";
import { type ConsensusReport, consensusReport } from "./consensus-report.js";
import type { TxPool } from "./mempool.js";
import type { MetricsSources } from "./metrics.js";
import type { NodeRole } from "./mode-machine.js";
import type { NodeNetwork } from "./network.js";
import type { InjectedLinkState, RadioStatus } from "./radio.js";
import type { StorageFault, StorageHealth } from "./storage-health.js";
import type { ChainSync, SyncState } from "./sync.js";
import type { Snapshot } from "./sync-server.js";
import type { TxAnnouncer } from "./tx-announcer.js";
import type { ValidatorService } from "./validator.js";
import { type NodeWarning, nodeWarnings } from "./warnings.js";

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
  /** The state of each link (null: no such link); why one is down is in `warnings` and `ready.reason`. */
  readonly links: { readonly ip: LinkState | StreamLinkState | null; readonly radio: LinkState | StreamLinkState | InjectedLinkState | null };
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

/** A validator as the status page shows it. */
export interface ValidatorSummary {
  readonly address: string;
  /** Stake times proximity, as consensus counts it (decimal string: it is a bigint). */
  readonly weight: string;
  /** Share of the total weight, 0 to 1. */
  readonly weightShare: number;
  readonly stake: string;
  /** How reliably its votes reached recent certificates, basis points. */
  readonly proximityBps: number;
  readonly lastVote: { readonly slot: number; readonly height: number; readonly secondsAgo: number } | null;
  readonly self: boolean;
}

export interface BlockSummary {
  readonly height: number;
  readonly hash: string;
  readonly slot: number;
  readonly timestamp: number;
  readonly proposer: string;
  readonly txs: readonly string[];
  readonly final: boolean;
}

/** The active validators with their weights and, when this node runs consensus, their last vote. */
export function validatorSummaries(store: ChainStore, lastVotes: ReadonlyMap<string, LastVote> | null, self: Uint8Array, nowMs: number): ValidatorSummary[] {
  const ledger = new Ledger(store.state);
  const weighted = votingWeights(ledger, store.tip.height);
  const total = weighted.reduce((a, w) => a + w.weight, 0n);
  const selfHex = toHex(self);
  return weighted.map((w) => {
    const key = toHex(w.address);
    const vote = lastVotes?.get(key) ?? null;
    return {
      address: formatAddress(w.address),
      weight: w.weight.toString(),
      // Parts per million keep the bigint division exact enough for a bar on a page.
      weightShare: total === 0n ? 0 : Number((w.weight * 1_000_000n) / total) / 1_000_000,
      stake: w.stake.toString(),
      proximityBps: w.proximityBps,
      lastVote: vote === null ? null : { slot: vote.slot, height: vote.height, secondsAgo: Math.max(0, Math.round((nowMs - vote.heardAtMs) / 1000)) },
      self: key === selfHex,
    };
  });
}

/** The newest `count` blocks of the store, newest first. */
export function recentBlocks(store: ChainStore, count: number): BlockSummary[] {
  const out: BlockSummary[] = [];
  for (let h = store.tip.height; h >= Math.max(1, store.baseHeight + 1, store.tip.height - count + 1); h--) {
    const block = store.blockAt(h);
    if (block === null) break;
    out.push({
      height: h, hash: toHex(store.blockHashAt(h)), slot: block.header.slot, timestamp: block.header.timestamp, proposer: formatAddress(block.header.proposer),
      txs: block.txs.map((t) => toHex(txHash(t.bytes))), final: h <= store.finalizedHeight,
    });
  }
  return out;
}

/** Free and total bytes on the data directory's file system; null where the platform cannot say. */
export function diskSpace(dir: string): { freeBytes: number; totalBytes: number } | null {
  try {
    const s = statfsSync(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** When the block at `height` was made, seconds since the epoch (genesis time for height 0). */
export function blockTimestamp(store: ChainStore, height: number, genesisTime: number): number {
  if (height === store.tip.height) return store.tip.timestamp;
  if (height <= 0) return genesisTime;
  return store.blockAt(height)?.header.timestamp ?? genesisTime;
}

/** The running node's parts the report reads, each looked up when asked (null: not running now). */
export interface ReportSources {
  readonly genesis: Genesis;
  readonly address: Uint8Array;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly health: StorageHealth;
  /** The silent-validator warning's threshold in slots (warnings.ts); unset: its default. */
  readonly silentValidatorSlots?: number;
  /** The chain store; throws NOT_RUNNING while the node is stopped. */
  store(): ChainStore;
  role(): NodeRole;
  fallbacks(): number;
  startedAt(): number;
  sync(): ChainSync | null;
  validator(): ValidatorService | null;
  network(): NodeNetwork | null;
  pool(): TxPool | null;
  announcer(): TxAnnouncer | null;
  snapshot(): Snapshot | null;
}

/** The node's status, peers and validators, assembled on each call from the services' own figures. */
export class NodeReport {
  constructor(private readonly s: ReportSources) {}

  status(): NodeStatus {
    const s = this.s;
    const store = s.store();
    const tip = store.tip;
    const now = s.clock.now();
    const syncService = s.sync();
    const validator = s.validator();
    const network = s.network();
    const pool = s.pool();
    const announcer = s.announcer();
    const snapshot = s.snapshot();
    const role = s.role();
    const progress = syncService?.progress() ?? this.consensusProgress(store, validator, network);
    const height = validator?.headHeight ?? tip.height;
    const finalizedHeight = store.finalizedHeight;
    const diagnostics = network?.diagnostics() ?? null;
    const radio = diagnostics?.radio ?? null;
    const ledger = new Ledger(store.state);
    const validators = votingSet(ledger, tip.height);
    // A lone validator with no peers is the chain: nothing to sync from, nothing to wait for.
    const sync = {
      state: role === "validator" && progress.state === "idle" ? "synced" as const : progress.state, percent: progress.percent, etaSeconds: progress.etaSeconds,
      targetHeight: progress.targetHeight, fallbacks: s.fallbacks(), blocksPerSecond: syncService?.progress().blocksPerSecond ?? null,
    };
    // The chain's slots for every role, whatever pace a lone validator's producer keeps (--slot-ms).
    const slots = SlotClock.of(s.genesis, ledger.params());
    const finalizedAgeSeconds = Math.max(0, Math.round(now / 1000 - blockTimestamp(store, finalizedHeight, s.genesis.genesisTime)));
    const engine = validator?.engine ?? null;
    const fault = s.health.fault;
    const base = {
      chainId: s.genesis.chainId,
      role,
      height,
      finalizedHeight,
      tipHash: toHex(tip.hash),
      slot: slots.currentSlot(now),
      // The head the engine follows may be above the store's (finalized) tip: its age is the head's.
      lastBlockAgeSeconds: Math.max(0, Math.round(now / 1000 - (engine?.head().block?.header.timestamp ?? tip.timestamp))),
      address: formatAddress(s.address),
      peers: network?.peerCount ?? 0,
      sync,
      finality: { lagBlocks: Math.max(0, height - finalizedHeight), ageSeconds: finalizedAgeSeconds },
      validators: validators.length,
      consensus: consensusReport(store.state, tip.height),
      links: { ip: diagnostics?.ip?.link.state ?? null, radio: radio?.link.state ?? null },
      mempool: { transactions: pool?.size ?? 0, bytes: pool?.sizeBytes ?? 0 },
      airtimeSeconds: network?.airtimeSeconds ?? null,
      airtime: radio === null ? null : { lastHourSeconds: radio.lastHourAirtimeSeconds, budgetSecondsPerHour: radio.budgetSecondsPerHour, dutyCycle: radio.dutyCycle },
      storage: { fault: fault === null ? null : { store: fault.store, code: fault.code, message: fault.message, during: fault.during, forSeconds: Math.round((now - fault.sinceMs) / 1000) }, faults: s.health.faults },
      accepted: { pending: announcer?.pending ?? 0, reannounced: announcer?.reannounced ?? 0 },
      ready: this.readiness(sync.state, network),
      radio: network?.radioStatus ?? null,
      checkpoint: snapshot === null ? null : { height: snapshot.height, hash: toHex(snapshot.hash) },
      uptimeSeconds: Math.round((now - s.startedAt()) / 1000),
    };
    const lastVotes = engine?.lastVotes ?? null;
    const warnings = nodeWarnings({
      role, validators: validators.length, sync, peers: base.peers, networked: network !== null, height, finalizedHeight, finalizedAgeSeconds,
      slotSeconds: slots.slotMs / 1000, heartbeatSlots: Number(ledger.params().heartbeatSlots), mempoolTransactions: base.mempool.transactions,
      unfinalizedTransactions: (engine?.unfinalizedTxCount ?? 0) > 0,
      ipLink: diagnostics?.ip == null ? null : { state: diagnostics.ip.link.state, lastError: diagnostics.ip.link.lastError },
      radio: radio === null ? null : { state: radio.link.state, lastError: radio.link.lastError, lastHourAirtimeSeconds: radio.lastHourAirtimeSeconds, budgetSecondsPerHour: radio.budgetSecondsPerHour, dutyCyclePause: dutyCyclePauseLeft(network?.radioStatus?.dutyCyclePause ?? null, now) },
      disk: diskSpace(s.dataDir),
      // Votes are only known to a node that runs the engine.
      votes: engine === null ? [] : validators.map((v) => ({ validator: formatAddress(v.address), lastVoteSlot: lastVotes?.get(toHex(v.address))?.slot ?? null })),
      headSlot: engine?.head().slot ?? tip.slot,
      peerClockOffsetMs: network?.peerClockOffsetMs ?? null,
      storageFault: base.storage.fault,
      ...(s.silentValidatorSlots === undefined ? {} : { silentValidatorSlots: s.silentValidatorSlots }),
    });
    return { ...base, warnings };
  }

  peerList(): PeerSummary[] {
    const network = this.s.network();
    if (network === null) return [];
    const now = this.s.clock.now();
    return network.peers.list().map((p) => ({
      node: `!${p.node.toString(16).padStart(8, "0")}`, finalizedHeight: p.finalizedHeight, tipHeight: p.tipHeight, hopsAway: p.hopsAway, snr: p.snr,
      score: p.score, latencyMs: p.latencyMs, lastSeenSecondsAgo: Math.round((now - p.lastSeen) / 1000), banned: network.peers.isBanned(p.node), lastInvalidReason: p.lastInvalidReason,
    }));
  }

  /** Where the metrics registry reads its figures when scraped (metrics.ts). */
  metricsSources(weightGini: () => number): MetricsSources {
    const s = this.s;
    return {
      status: () => this.status(),
      weightGini,
      engineStats: () => s.validator()?.stats ?? null,
      network: () => s.network()?.diagnostics() ?? null,
      peerStates: () => {
        const list = s.network()?.peers.list() ?? [];
        const banned = list.filter((p) => s.network()?.peers.isBanned(p.node) === true).length;
        return { active: list.length - banned, banned };
      },
      bansByReason: () => s.network()?.peers.bansByReason ?? new Map<string, number>(),
      mempoolRefusals: () => s.pool()?.refusalsByReason ?? new Map<string, number>(),
      syncRateBlocksPerSecond: () => s.sync()?.progress().blocksPerSecond ?? null,
    };
  }

  /** The active validators with weight, proximity and (when this node runs consensus) their last vote. */
  validatorList(): ValidatorSummary[] {
    return validatorSummaries(this.s.store(), this.s.validator()?.engine.lastVotes ?? null, this.s.address, this.s.clock.now());
  }

  /** The newest blocks in the store, newest first (1 to 100 of them). */
  recentBlocks(count: number): BlockSummary[] {
    return recentBlocks(this.s.store(), Math.max(1, Math.min(100, Math.floor(count))));
  }

  /** Ready means synced, reaching at least one peer link, and storing blocks; the reason says which is missing. */
  private readiness(sync: SyncState, network: NodeNetwork | null): { ok: boolean; reason: string | null } {
    const fault = this.s.health.fault;
    if (fault !== null) return { ok: false, reason: `storage fault (${fault.code}) while ${fault.during}` };
    if (network?.cutOff === true) {
      const down = Object.entries(network.linkStatus()).map(([name, l]) => `${name}: ${l.reason ?? l.state}`);
      return { ok: false, reason: `cut off from every peer (${down.join("; ")})` };
    }
    if (sync !== "synced") return { ok: false, reason: `sync ${sync}` };
    return { ok: true, reason: null };
  }

  /** A consensus validator catches up through the engine: it is syncing while peers have finalized more than it has. */
  private consensusProgress(store: ChainStore, validator: ValidatorService | null, network: NodeNetwork | null): { state: SyncState; percent: number; etaSeconds: number | null; targetHeight: number } {
    const finalized = store.finalizedHeight;
    if (validator === null) return { state: "synced", percent: 100, etaSeconds: 0, targetHeight: finalized };
    const peers = network?.peers;
    if (peers === undefined || peers.size === 0) return { state: "idle", percent: 100, etaSeconds: null, targetHeight: finalized };
    const target = Math.max(finalized, peers.provenFinalizedHeight());
    // Finality trails the head by a block or two in normal operation: that is not being behind.
    const behind = target > finalized + 2;
    return { state: behind ? "syncing" : "synced", percent: target === 0 ? 100 : Math.floor((finalized / target) * 1000) / 10, etaSeconds: behind ? null : 0, targetHeight: target };
  }
}

/** A duty-cycle pause as the warning states it: frames held and seconds left. */
function dutyCyclePauseLeft(pause: DutyCyclePause | null, now: number): { heldFrames: number; secondsLeft: number } | null {
  return pause === null ? null : { heldFrames: pause.heldFrames, secondsLeft: Math.max(0, (pause.untilMs - now) / 1000) };
}
