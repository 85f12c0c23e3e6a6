// About 420 lines: one service owns range sync's state (the request in flight, the peers passed over,
// the pace, the proposer-signature audit and its repair), and each step reads and moves that state;
// the import itself and its judgement live apart (consensus/block-import.ts, imported()).
import { decodeBlock } from "../core/block/block.js";
import type { Clock } from "../core/clock.js";
import { MeshChainError } from "../core/errors.js";
import { BlockImporter, type ImportOutcome } from "../consensus/block-import.js";
import type { RangeBlock, Transition, VerifiedBlock } from "../consensus/range-verify.js";
import { auditSignatures, repairSignature } from "../consensus/signature-audit.js";
import type { BlsVerifier } from "../consensus/verifier.js";
import { MAX_SYNC_BLOCKS, type SyncRequest, type SyncResponse } from "../mesh/messages/sync.js";
import type { ChainStore } from "../storage/chain-store.js";
import { StorageError } from "../storage/errors.js";
import type { StorageHealth } from "./storage-health.js";
import { TimerLoop } from "./timer-loop.js";
import { SYNC_REQUESTS_PER_SECOND } from "./unsigned-rates.js";
import { TokenBucket } from "../mesh/token-bucket.js";
import type { Logger } from "./logger.js";
import type { PeerManager } from "./peers.js";

export type SyncState = "idle" | "syncing" | "synced" | "behind" | "error";

export interface SyncOptions {
  /** Blocks asked for per request. */
  readonly batchBlocks: number;
  /** A request unanswered this long counts as a timeout, and the next peer is asked. */
  readonly requestTimeoutMs: number;
  /** How often the service looks at its peers' heads and its own request. */
  readonly tickMs: number;
  /** How long a peer that stalled or sent invalid blocks is passed over. */
  readonly avoidMs: number;
  /** After a storage failure, how long to wait before trying again. */
  readonly errorBackoffMs: number;
  /**
   * A running validator whose peers' finality is this many blocks ahead of its own drops back into
   * range sync, then rejoins consensus (the engine's own catch-up fetches 8 blocks a slot).
   */
  readonly fallBehindBlocks: number;
  /**
   * Blocks gathered from one peer's answers before they are imported as one run: its finality is then
   * proven by one pairing check however many answers it took (docs/consensus.md §16). 0: each answer alone.
   * The default, 1,024 (about 33 answers, 250 KB of blocks on the benchmark chain), makes the pairing
   * check about a sixth of the import's time; at 256 it was about two fifths (docs/benchmarks.md).
   */
  readonly holdBlocks: number;
  /**
   * The longest an import holds the event loop before letting the node answer (API, network), ms;
   * 0 imports each run in one go. A run of 1,024 blocks is a few hundred milliseconds of work on a
   * fast machine and seconds on a Pi or a busy one (docs/benchmarks.md, "Follower in its own process").
   */
  readonly importSliceMs: number;
}

/** Proposer signatures the audit checks per turn: about a tenth of a second of pairing work in pure JavaScript, so the node stays responsive. */
const AUDIT_BATCH_BLOCKS = 32;

/** When a request waits for the pace, how soon to look again. */
const PACE_RETRY_MS = Math.ceil(1_000 / SYNC_REQUESTS_PER_SECOND);

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { batchBlocks: MAX_SYNC_BLOCKS, requestTimeoutMs: 10_000, tickMs: 1_000, avoidMs: 60_000, errorBackoffMs: 30_000, fallBehindBlocks: 32, holdBlocks: 1024, importSliceMs: 20 };

export interface SyncProgress {
  readonly state: SyncState;
  /** Of the way from where this round of sync started to the target. */
  readonly percent: number;
  readonly etaSeconds: number | null;
  readonly targetHeight: number;
  readonly blocksPerSecond: number | null;
}

export interface SyncDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly chainId: string;
  readonly store: ChainStore;
  readonly verifier: BlsVerifier;
  readonly peers: PeerManager;
  /** This node's number: answers addressed to others are not ours. */
  readonly localNode: number;
  readonly send: (request: SyncRequest) => void;
  /** Told after blocks are committed (the mempool re-checks, the node logs). */
  readonly onCommitted?: (blocks: readonly VerifiedBlock[]) => void;
  /** Where a failed commit is reported (and cleared by the next that succeeds). */
  readonly health?: StorageHealth;
  /** The state transition blocks are executed with (tests count executions through it). */
  readonly transition?: Transition;
}

/** An import paused for the event loop; `abandoned` once the service stopped meanwhile. */
interface ImportJob {
  abandoned: boolean;
}

/** How an import ended: its outcome, or a throw (storage, or a bug of ours). */
type ImportSettled = { readonly result: ImportOutcome } | { readonly thrown: unknown };

interface InFlight {
  /** Asking for one block again, to mend its signature (the audit refused our copy). */
  readonly repair?: boolean;
  readonly peer: number;
  readonly fromHeight: number;
  readonly sentAt: number;
}

/**
 * Range sync from peers over the IP transport. The target is the highest finalized height peers
 * announced in their signed status. Blocks come in batches from one peer at a time; each batch is
 * checked (links, schedule, state transition, notarizations, in one batched pairing check) before
 * any of it is committed. A peer that stalls or sends bad blocks is scored down and passed over for
 * a while; a peer on another branch makes the node undo its blocks above finality (never below).
 * The service runs whenever the node is behind, not only at start.
 */
export class ChainSync {
  private stateNow: SyncState = "idle";
  private readonly loop: TimerLoop;
  private inFlight: InFlight | null = null;
  private readonly avoid = new Map<number, number>();
  private roundStart: { height: number; at: number } | null = null;
  private rate: number | null = null;
  private lastCommit: { height: number; at: number } | null = null;
  private errorUntil = 0;
  /** A block whose proposer signature failed the audit: the audit waits until a peer sends a good copy. */
  private repairAt: number | null = null;
  /** The last audit turn found work: the next one comes at once rather than a tick later. */
  private auditBehind = false;
  private readonly auditLoop: TimerLoop;
  /**
   * Our requests, paced a little under what a peer's server answers from one node (unsigned-rates.ts):
   * one request over its limit is dropped unanswered, and costs a timeout and a peer passed over.
   */
  private readonly pace: TokenBucket;
  private paced = false;
  /**
   * The run being imported, paused for the event loop: nothing else is asked or imported meanwhile.
   * A stop abandons it, so that when it resumes it commits nothing and reports to nobody.
   */
  private importing: ImportJob | null = null;
  /** Answers from one peer not imported yet (at most `holdBlocks` blocks, decoded). */
  private held: { readonly peer: number; readonly blocks: RangeBlock[] } | null = null;
  /** The one import pipeline: checks, executes once, commits a batch, moves finality. */
  readonly importer: BlockImporter;

  constructor(
    private readonly opts: SyncOptions,
    private readonly deps: SyncDeps,
  ) {
    this.importer = new BlockImporter({ store: deps.store, chainId: deps.chainId, verifier: deps.verifier, transition: deps.transition });
    this.pace = new TokenBucket(Math.floor(SYNC_REQUESTS_PER_SECOND * 0.9) * 2, 2_000, deps.clock.now());
    this.loop = new TimerLoop(deps.clock, () => (this.paced ? Math.min(opts.tickMs, PACE_RETRY_MS) : opts.tickMs), () => this.evaluate(), (e) => deps.logger.error({ err: e }, "sync turn failed; trying again next tick"));
    this.auditLoop = new TimerLoop(deps.clock, () => (this.auditBehind ? 0 : opts.tickMs), () => this.audit(), (e) => deps.logger.error({ err: e }, "signature audit turn failed; trying again next tick"));
  }

  get state(): SyncState {
    return this.stateNow;
  }

  /** The highest finalized height validators with over a third of the weight vouch for (never below our own tip). */
  get targetHeight(): number {
    const best = this.deps.peers.provenFinalizedHeight();
    return Math.max(best, this.deps.store.tip.height);
  }

  progress(): SyncProgress {
    const tip = this.deps.store.tip.height;
    const target = this.targetHeight;
    const from = this.roundStart?.height ?? tip;
    const percent = target <= from ? 100 : Math.min(100, Math.floor(((tip - from) / (target - from)) * 1000) / 10);
    const eta = target <= tip ? 0 : this.rate === null || this.rate <= 0 ? null : Math.ceil((target - tip) / this.rate);
    return { state: this.stateNow, percent, etaSeconds: eta, targetHeight: target, blocksPerSecond: this.rate === null ? null : Math.round(this.rate * 10) / 10 };
  }

  start(): void {
    this.loop.start();
    this.auditLoop.start();
  }

  stop(): void {
    if (this.importing !== null) this.importing.abandoned = true;
    this.importing = null;
    this.loop.stop();
    this.auditLoop.stop();
    this.inFlight = null;
    this.held = null;
  }

  /** A peer announced a new head: look now rather than at the next tick. */
  poke(): void {
    if (this.loop.running && this.inFlight === null) this.evaluate();
  }

  private evaluate(): void {
    if (this.importing !== null) return;
    const now = this.deps.clock.now();
    if (this.stateNow === "error" && now < this.errorUntil) return;
    if (this.inFlight !== null) {
      if (now - this.inFlight.sentAt < this.opts.requestTimeoutMs) return;
      this.deps.logger.warn({ peer: this.inFlight.peer.toString(16), fromHeight: this.inFlight.fromHeight }, "sync request timed out; trying another peer");
      this.deps.peers.record(this.inFlight.peer, { kind: "timeout" });
      this.avoid.set(this.inFlight.peer, now + this.opts.avoidMs);
      this.inFlight = null;
    }
    const tip = this.deps.store.tip.height;
    const target = this.targetHeight;
    if (this.deps.peers.size === 0) return this.enter("idle");
    if (target <= tip) {
      this.roundStart = null;
      this.enter("synced");
      return this.askForRepair(now);
    }
    const held = this.held;
    const next = tip + (held?.blocks.length ?? 0);
    const eligible = (p: { node: number; finalizedHeight: number }) => p.finalizedHeight > next && (this.avoid.get(p.node) ?? 0) <= now;
    const candidates = this.deps.peers.syncPeers(16);
    const peer = held === null ? candidates.find(eligible) : candidates.find((p) => p.node === held.peer && eligible(p));
    if (held !== null && peer === undefined) {
      // The peer has no more for us (or stalled): import what it sent.
      this.held = null;
      return this.importRun(held.peer, held.blocks);
    }
    if (peer === undefined) return this.enter("behind");
    this.roundStart ??= { height: tip, at: now };
    this.enter("syncing");
    this.paced = !this.pace.take(now);
    if (this.paced) return this.loop.reschedule();
    this.request(peer.node, next + 1);
  }

  /** Once synced: check a batch of the proposer signatures range sync left to the audit, turn after turn until done. */
  private audit(): void {
    this.auditBehind = false;
    if (this.repairAt !== null || this.stateNow !== "synced") return;
    let outcome;
    try {
      outcome = auditSignatures(this.deps.store, this.deps.verifier, AUDIT_BATCH_BLOCKS);
    } catch (e) {
      return this.fail(e);
    }
    this.auditBehind = outcome.kind === "checked";
    if (outcome.kind === "bad") {
      this.repairAt = outcome.height;
      this.deps.logger.warn({ height: outcome.height, reason: outcome.reason }, "a synced block's proposer signature failed the audit; not serving from it on until a peer sends a good copy");
    }
  }

  private request(peer: number, fromHeight: number, repair = false): void {
    this.inFlight = { peer, fromHeight, sentAt: this.deps.clock.now(), repair };
    this.deps.send({ target: peer, fromHeight, maxBlocks: repair ? 1 : this.opts.batchBlocks });
  }

  private askForRepair(now: number): void {
    const at = this.repairAt;
    if (at === null) return;
    const peer = this.deps.peers.syncPeers(16).find((p) => p.finalizedHeight >= at && (this.avoid.get(p.node) ?? 0) <= now);
    if (peer !== undefined && this.pace.take(now)) this.request(peer.node, at, true);
  }

  /** A copy of the block the audit refused: mend ours if it is the same block, rightly signed. */
  private onRepair(from: number, response: SyncResponse): void {
    const at = this.repairAt;
    const first = response.blocks[0];
    let mended = false;
    try {
      mended = at !== null && first !== undefined && repairSignature(this.deps.store, this.deps.verifier, at, decodeBlock(first.bytes));
    } catch (e) {
      if (e instanceof StorageError) return this.fail(e);
      // Anything else thrown is the copy not decoding: not mended, and not this peer's turn.
      if (!(e instanceof MeshChainError)) throw e;
    }
    if (!mended) {
      this.avoid.set(from, this.deps.clock.now() + this.opts.avoidMs);
      return this.evaluate();
    }
    this.deps.logger.info({ height: at, peer: from.toString(16) }, "mended a synced block's proposer signature from another peer");
    this.repairAt = null;
  }

  private enter(state: SyncState): void {
    if (state === this.stateNow) return;
    const { height } = this.deps.store.tip;
    // A follower flips between synced and syncing with every new block: the status line shows that;
    // the log keeps the transitions that say something went wrong or came right.
    const routine = (state === "syncing" && this.stateNow === "synced") || (state === "synced" && this.stateNow === "syncing");
    this.deps.logger[routine ? "debug" : "info"]({ from: this.stateNow, to: state, height, target: this.targetHeight }, "sync state");
    this.stateNow = state;
  }

  /** An answer heard on the network; only the one to our outstanding request is used. */
  onResponse(from: number, response: SyncResponse): void {
    const asked = this.inFlight;
    if (asked === null || response.requester !== this.deps.localNode || from !== asked.peer || response.fromHeight !== asked.fromHeight) return;
    this.inFlight = null;
    const now = this.deps.clock.now();
    this.deps.peers.record(from, { kind: "latency", ms: now - asked.sentAt });
    if (asked.repair === true) return this.onRepair(from, response);
    if (response.blocks.length === 0) {
      if (asked.fromHeight < response.oldestBody) {
        // Pruned (or before its checkpoint): an honest answer, not a fault; ask someone who keeps bodies.
        this.deps.logger.debug({ peer: from.toString(16), fromHeight: asked.fromHeight, oldestBody: response.oldestBody }, "peer pruned the blocks asked for");
      } else {
        // It announced blocks it does not serve: a stall, as far as we are concerned.
        this.deps.peers.record(from, { kind: "timeout" });
      }
      this.avoid.set(from, now + this.opts.avoidMs);
      return this.evaluate();
    }
    let blocks: RangeBlock[];
    try {
      blocks = response.blocks.map((b) => ({ block: decodeBlock(b.bytes), notarization: b.notarization, bytes: b.bytes }));
    } catch (e) {
      this.held = null;
      return this.refuse(from, e instanceof MeshChainError ? e.code : "MALFORMED", "undecodable block in sync response");
    }
    const run = this.held === null ? blocks : [...this.held.blocks, ...blocks];
    this.held = null;
    const last = (run[run.length - 1] as RangeBlock).block.header.height;
    if (run.length + this.opts.batchBlocks <= this.opts.holdBlocks && last < this.targetHeight) {
      this.held = { peer: from, blocks: run };
      return this.evaluate();
    }
    this.importRun(from, run);
  }

  /** Import a run from one peer's answers, in one go or in slices, and act on the outcome. */
  private importRun(from: number, run: readonly RangeBlock[]): void {
    if (this.opts.importSliceMs <= 0) {
      let settled: ImportSettled;
      try {
        settled = { result: this.importer.import(run) };
      } catch (e) {
        settled = { thrown: e };
      }
      return this.imported(from, settled);
    }
    const job: ImportJob = { abandoned: false };
    this.importing = job;
    const settle = (settled: ImportSettled): void => {
      if (job.abandoned) return;
      this.importing = null;
      this.imported(from, settled);
    };
    this.importer.importYielding(run, this.opts.importSliceMs, () => job.abandoned).then(
      (result) => {
        // Null only when abandoned at a pause, which settle ignores anyway.
        if (result !== null) settle({ result });
      },
      (e: unknown) => settle({ thrown: e }),
    ).catch((e: unknown) => this.deps.logger.error({ err: e }, "sync turn failed; trying again next tick"));
  }

  /**
   * The one place an import's outcome is judged, however it ran: who is blamed (the peer for blocks
   * that fail a check, nobody for a run superseded while it paused, our disk or our code for a throw)
   * and what is undone (our tip, for a peer on another branch; nothing else, as a failed commit
   * leaves the store and the importer's finality as they were).
   */
  private imported(from: number, settled: ImportSettled): void {
    const now = this.deps.clock.now();
    if ("thrown" in settled) {
      const e = settled.thrown;
      if (e instanceof MeshChainError) return this.fail(e);
      // A fault of ours, not the peer's or the disk's: said loudly, and retried after the back-off.
      this.deps.logger.error({ err: e }, "importing synced blocks failed");
      this.errorUntil = now + this.opts.errorBackoffMs;
      return this.enter("error");
    }
    const { result } = settled;
    if (result.superseded) return this.evaluate();
    this.noteCommitted(result.committed);
    if (result.committed.length > 0) this.deps.health?.healthy("chain");
    if (result.failure?.code === "NOT_LINKED") return this.onOtherBranch(from);
    if (result.failure !== null) return this.refuse(from, result.failure.code, result.failure.reason);
    if (result.committed.length === 0) {
      // Nothing provable in the answer (the one block sent lacks a notarization): not this peer's turn.
      this.avoid.set(from, now + this.opts.avoidMs);
      return this.evaluate();
    }
    this.deps.peers.record(from, { kind: "valid" });
    this.evaluate();
  }

  private noteCommitted(verified: readonly VerifiedBlock[]): void {
    if (verified.length === 0) return;
    const store = this.deps.store;
    const now = this.deps.clock.now();
    const height = store.tip.height;
    if (this.lastCommit !== null && now > this.lastCommit.at) {
      const instant = (height - this.lastCommit.height) / ((now - this.lastCommit.at) / 1000);
      this.rate = this.rate === null ? instant : 0.7 * this.rate + 0.3 * instant;
    }
    this.lastCommit = { height, at: now };
    this.deps.onCommitted?.(verified);
  }

  /** The peer's chain does not extend our tip: undo our blocks above finality, one per answer, and ask again. */
  private onOtherBranch(from: number): void {
    const store = this.deps.store;
    if (store.tip.height <= store.finalizedHeight) {
      return this.refuse(from, "CONFLICTS_WITH_FINALIZED", `its chain does not contain our finalized block ${store.finalizedHeight}`);
    }
    this.deps.logger.warn({ height: store.tip.height, peer: from.toString(16) }, "peer is on another branch above finality; undoing our tip");
    try {
      store.revertTip();
    } catch (e) {
      return this.fail(e);
    }
    this.importer.tipUndone();
    this.evaluate();
  }

  private refuse(from: number, reason: string, detail: string): void {
    this.deps.logger.warn({ peer: from.toString(16), reason, detail }, "invalid sync data; switching peer");
    this.deps.peers.record(from, { kind: "invalid", reason });
    this.avoid.set(from, this.deps.clock.now() + this.opts.avoidMs);
    this.evaluate();
  }

  /** Storage failed (a full disk, say): report it, and try again after a pause rather than spin. */
  private fail(e: unknown): void {
    if (!(e instanceof MeshChainError)) throw e;
    this.deps.health?.report("chain", e, "committing synced blocks");
    this.deps.logger.error({ code: e.code, reason: e.message }, "sync could not store blocks");
    this.errorUntil = this.deps.clock.now() + this.opts.errorBackoffMs;
    this.enter("error");
  }
}
