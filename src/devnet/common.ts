import { presetParams } from "../consensus/preset-params.js";
import { utf8 } from "../core/bytes.js";
import { buildGenesisDocument } from "../core/chain/genesis-builder.js";
import { sha256 } from "../core/crypto/hash.js";
import { type Identity, identityFromSeed } from "../core/crypto/identity.js";
import { type Genesis, parseGenesis } from "../core/genesis.js";
import type { PresetName } from "../mesh/airtime/presets.js";
import { channelKey } from "../mesh/meshtastic/channel.js";
import type { LoraChannel } from "../mesh/sim/channel.js";
import { type FinalityPhases, percentiles } from "./latency-phases.js";

export interface DevnetOptions {
  readonly nodes: number;
  readonly validators: number;
  readonly preset: PresetName;
  /** Loss on every radio link. */
  readonly loss: number;
  /** Virtual time to run. */
  readonly durationMs: number;
  /** Transfers per minute, submitted at random nodes. */
  readonly txPerMinute: number;
  readonly seed: number;
  /** Crash and restart random nodes now and then. */
  readonly kill: boolean;
  /** The last this many nodes start a third of the way through, with empty stores, and must catch up. */
  readonly lateJoin?: number;
  readonly region?: string;
  /** Distance between neighbours on the square grid the nodes stand on (radio range is 5 km). */
  readonly spacingMeters?: number;
  /** This many radios, those nearest the middle of the grid, take Meshtastic's ROUTER role (default 0: all CLIENT). */
  readonly routers?: number;
  /** Hop limit our frames are sent with (default 3, Meshtastic's). */
  readonly hopLimit?: number;
  /** Chain parameters to override (default: those chosen for the preset and the validator count). */
  readonly params?: Readonly<Record<string, bigint>>;
  /** Told at each sample while the devnet runs (the CLI prints progress from it). */
  readonly onProgress?: (sample: DevnetSample) => void;
}

/** Where the devnet stood at one moment of its run. */
export interface DevnetSample {
  /** Time since the start: virtual in the simulator, real over MQTT. */
  readonly seconds: number;
  /** Lowest finalized height among the running nodes, and the highest head. */
  readonly finalizedHeight: number;
  readonly headHeight: number;
  readonly txsSubmitted: number;
  readonly txsFinal: number;
  /** Airtime spent on the channel so far, by traffic class, seconds. */
  readonly airtimeSeconds: Readonly<Record<string, number>>;
}

/** About 60 samples a run, none closer than a minute in virtual time. */
export const sampleIntervalMs = (durationMs: number, minMs = 60_000): number => Math.max(minMs, Math.floor(durationMs / 60));

/** `nodes`: each running node's finalized and head height. */
export function devnetSample(seconds: number, nodes: readonly { finalized: number; head: number }[], txs: { submitted: number; final: number }, channel: LoraChannel): DevnetSample {
  const byClass = channel.report().airtimeMsByClass;
  return {
    seconds: Math.round(seconds), finalizedHeight: nodes.length === 0 ? 0 : Math.min(...nodes.map((n) => n.finalized)), headHeight: nodes.length === 0 ? 0 : Math.max(...nodes.map((n) => n.head)), txsSubmitted: txs.submitted, txsFinal: txs.final,
    airtimeSeconds: Object.fromEntries(Object.entries(byClass).map(([k, ms]) => [k, Math.round(ms) / 1000])),
  };
}

export interface DevnetReport {
  readonly virtualSeconds: number;
  /** Virtual time after the run, with no new transactions, until the last ones were final (at most eight slots). */
  readonly drainSeconds: number;
  readonly finalizedHeight: number;
  readonly finalizedHashesAgree: boolean;
  readonly conflictingFinalized: number;
  readonly txsSubmitted: number;
  /** Transfers a node refused for now (sender's pending quota or pool full) and its user had still not got in at the end (sim). */
  readonly txsOwed?: number;
  /** Transfers a node refused for good (expected 0: a fault in the user model or the node) (sim). */
  readonly txsRefused?: number;
  readonly txsFinalized: number;
  readonly finalityLatencySeconds: { readonly p50: number | null; readonly p95: number | null };
  /**
   * By traffic class. `tx` is every transaction frame on air; of it, `txOwn` the transactions' own
   * frames (each one's first packet and the mesh's relays of it) and `txResent` every later copy.
   */
  readonly airtimeSeconds: { readonly tx: number; readonly txOwn: number; readonly txResent: number; readonly block: number; readonly vote: number; readonly sync: number; readonly control: number; readonly other: number; readonly total: number };
  /** The same by message type (Vote, CompactBlock, ChainStatus …), seconds. */
  readonly airtimeSecondsByType?: Readonly<Record<string, number>>;
  /** All airtime over the transactions' own frames (`airtimeSeconds.txOwn`): every other byte is overhead (issue 20). */
  readonly overheadRatio: number | null;
  readonly maxNodeDutyCycle: number;
  readonly restarts: number;
  /** Samples over the run (for the HTML report's plots). */
  readonly timeline?: readonly DevnetSample[];
  /** Every final transaction's latency, seconds (the report shows p50 and p95; the HTML report their distribution). */
  readonly finalityLatenciesSeconds?: readonly number[];
  /** Where the latency went, phase by phase, and the blocks transfers missed (sim). */
  readonly finalityPhasesSeconds?: FinalityPhases;
  /** Per node: what its engine, endpoint and radio did (for diagnosis). */
  readonly nodes?: readonly Record<string, unknown>[];
}

export const DEVNET_CHAIN_ID = "meshchain-devnet";

/** The channel the devnet's radios and nodes share (a private key: not Meshtastic's default). */
export const DEVNET_CHANNEL_PSK = new Uint8Array(16).fill(0x4d);
export const DEVNET_CHANNEL = channelKey("MeshChain", DEVNET_CHANNEL_PSK);

/**
 * The settings each devnet node runs with where `meshchain start` has a default: its status interval,
 * hop limit and airtime budget (cli/config/schema.ts), so that the devnet measures the node as it ships.
 */
export const DEVNET_NODE_DEFAULTS = { statusIntervalMs: 10_000, hopLimit: 3, budgetSecondsPerHour: 180 } as const;

/** Grid positions of the devnet's nodes, and which of them take the ROUTER role: the `routers` nearest the middle. */
export function devnetLayout(nodes: number, spacing: number, routers: number): { position: { x: number; y: number }; router: boolean }[] {
  if (!Number.isInteger(routers) || routers < 0 || routers > nodes) throw new RangeError(`routers must be 0-${nodes}, not ${routers}`);
  const cols = Math.ceil(Math.sqrt(nodes));
  const positions = Array.from({ length: nodes }, (_, i) => ({ x: (i % cols) * spacing, y: Math.floor(i / cols) * spacing }));
  const cx = positions.reduce((a, p) => a + p.x, 0) / nodes;
  const cy = positions.reduce((a, p) => a + p.y, 0) / nodes;
  const central = positions.map((p, i) => ({ i, d: Math.hypot(p.x - cx, p.y - cy) })).sort((a, b) => a.d - b.d || a.i - b.i).slice(0, routers).map((c) => c.i);
  return positions.map((position, i) => ({ position, router: central.includes(i) }));
}
/** 10 nodes stand on a 4 × 3 grid 6 km across: most pairs hear each other, the far corners are two hops apart. */
export const DEFAULT_SPACING_METERS = 1_500;
const COIN = 1_000_000n;

const identity = (seed: number, role: string, i: number): Identity => identityFromSeed(sha256(utf8.encode(`meshchain-devnet:${seed}:${role}:${i}`)));

/**
 * The devnet's chain: one node key and one user per node (each user sends from its own node, as
 * people do), the first `validators` nodes bonded, every user funded.
 */
export function devnetChain(opts: Pick<DevnetOptions, "nodes" | "validators" | "seed" | "params" | "preset">, genesisTime: number): { users: Identity[]; ids: Identity[]; genesis: Genesis; genesisTime: number } {
  if (opts.validators < 1 || opts.validators > opts.nodes) throw new RangeError("validators must be between 1 and the number of nodes");
  const users = Array.from({ length: opts.nodes }, (_, i) => identity(opts.seed, "user", i));
  const ids = Array.from({ length: opts.nodes }, (_, i) => identity(opts.seed, "node", i));
  const genesis = parseGenesis(buildGenesisDocument({
    chainId: DEVNET_CHAIN_ID,
    genesisTime,
    validators: ids.slice(0, opts.validators).map((id) => ({ identity: id, selfBond: 10_000n * COIN, commissionBps: 1_000 })),
    accounts: [...users.map((u) => ({ identity: u, balance: 1_000_000n * COIN })), ...ids.map((id) => ({ identity: id, balance: 1_000n * COIN }))],
    // Slot length, block size and fallback proposers chosen for the preset and the validator count
    // (consensus/preset-params.ts), as `meshchain genesis new --preset` writes them; options override.
    params: { maxValidatorShareBps: 3_300n, ...presetParams(opts.preset, opts.validators).params, ...opts.params },
  }));
  return { users, ids, genesis, genesisTime };
}

/** The airtime half of a report, from the channel's accounting, and latency percentiles. */
export function summarise(report: ReturnType<LoraChannel["report"]>, latencies: readonly number[]): Pick<DevnetReport, "txsFinalized" | "finalityLatencySeconds" | "airtimeSeconds" | "airtimeSecondsByType" | "overheadRatio" | "maxNodeDutyCycle"> {
  const secs = (ms: number) => Math.round(ms) / 1000;
  // The transactions' own frames, as the mesh floods them the first time: everything else on air,
  // copies of transactions sent again included, is overhead.
  const txOwnMs = report.airtimeMsByClass.tx - report.txResentAirtimeMs;
  return {
    txsFinalized: latencies.length,
    finalityLatencySeconds: percentiles(latencies),
    airtimeSeconds: {
      tx: secs(report.airtimeMsByClass.tx), txOwn: secs(txOwnMs), txResent: secs(report.txResentAirtimeMs), block: secs(report.airtimeMsByClass.block), vote: secs(report.airtimeMsByClass.vote),
      sync: secs(report.airtimeMsByClass.sync), control: secs(report.airtimeMsByClass.control), other: secs(report.airtimeMsByClass.other), total: secs(report.totalAirtimeMs),
    },
    airtimeSecondsByType: Object.fromEntries(Object.entries(report.airtimeMsByType).sort((a, b) => b[1] - a[1]).map(([k, ms]) => [k, secs(ms)])),
    overheadRatio: txOwnMs > 0 ? Math.round((report.totalAirtimeMs / txOwnMs) * 100) / 100 : null,
    maxNodeDutyCycle: Math.round((Math.max(...report.radios.map((r) => r.stats.peakHourAirtimeMs)) / 3_600_000) * 10_000) / 10_000,
  };
}
