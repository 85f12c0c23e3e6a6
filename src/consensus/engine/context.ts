import type { Block } from "../../core/block/block.js";
import type { NotarizationCertificate } from "../../core/block/certificate.js";
import { BoundedMap, HeightWindow } from "../../core/bounded.js";
import { SignerSafetyError } from "../../core/chain/signer-safety.js";
import { MeshChainError } from "../../core/errors.js";
import type { Genesis } from "../../core/genesis.js";
import { seededRandom } from "../../core/random.js";
import type { ParentInfo } from "../../core/state/block-transition.js";
import { Ledger } from "../../core/state/ledger.js";
import type { ChainParams } from "../../core/state/params.js";
import { SlotClock } from "../../core/state/slot-clock.js";
import type { StateStore } from "../../core/state/store.js";
import type { DecodedTx } from "../../core/tx/codec.js";
import type { CompactBlock } from "../../mesh/messages/relay.js";
import { ranksAbove, type TreeBlock, treeBlock } from "../block-tree.js";
import type { ConsensusMessage, Reach } from "../messages.js";
import type { CatchUp } from "./catch-up.js";
import type { CompactRelay } from "./compact-relay.js";
import type { Equivocation } from "./equivocation.js";
import type { Finalizing } from "./finalizing.js";
import type { BlockIntake } from "./block-intake.js";
import { IP_LINK, type LinkProfile } from "./link-profile.js";
import type { Precommitting } from "./precommitting.js";
import type { Proposing } from "./proposing.js";
import type { TxRepair } from "./tx-repair.js";
import { type EngineDeps, type EngineStats, emptyStats } from "./types.js";
import type { Voting } from "./voting.js";

/*
 * Every set the engine remembers by block, vote, transaction or request is a BoundedMap/BoundedSet
 * (core/bounded.ts) with one of these bounds: whatever a peer sends, memory stays flat.
 */
/** Blocks (or slots) something waits on or was recently asked or answered for. */
export const MAX_PENDING = 512;
/** Finalized blocks kept to answer requests (older ones are the chain store's and sync's to serve). */
export const MAX_FINALIZED_KEPT = 1_024;
/** (validator, slot) first sightings of votes and proposals, to catch a second one. */
export const FIRST_SIGHTINGS_KEPT = 4_096;
/** Own recent votes, to send again mid-slot. */
export const OWN_VOTES_KEPT = 64;
/** Compact proposals waiting for their parent or transactions. */
export const PENDING_COMPACTS_KEPT = 64;
/** Validators whose last vote is shown to the operator (far above any voting set). */
export const LAST_VOTES_KEPT = 4_096;

/** The engine's parts, each owning one concern; they call each other through this. */
export interface EngineParts {
  readonly intake: BlockIntake;
  readonly voting: Voting;
  readonly proposing: Proposing;
  readonly finalizing: Finalizing;
  readonly precommitting: Precommitting;
  readonly compact: CompactRelay;
  readonly catchUp: CatchUp;
  readonly txRepair: TxRepair;
  readonly equivocation: Equivocation;
}

export interface FinalizedEntry {
  readonly block: Block;
  readonly certificate: NotarizationCertificate | null;
  readonly compact: CompactBlock | null;
}

export interface Witness {
  readonly id: string;
  readonly hash: Uint8Array;
  readonly block: Block;
  readonly certificate: NotarizationCertificate;
}

/**
 * The state the engine's parts share (the block tree above finality, the finalized root and what is
 * kept of the chain below it, the request memories, the counters) and the slot arithmetic they all use.
 */
export class EngineContext {
  /** The block tree above finality, rooted at `root`: pruned to the root's descendants at each finality. */
  readonly blocks = new Map<string, TreeBlock>();
  root: TreeBlock;
  /** Ids of the finalized chain by height, the newest MAX_FINALIZED_KEPT (older ones are the chain store's). */
  readonly finalizedIds: HeightWindow<string>;
  /** Finalized blocks, to answer requests; with their compact form, kept while their parent was at hand. */
  readonly finalizedBlocks = new BoundedMap<string, FinalizedEntry>(MAX_FINALIZED_KEPT);
  /** The block (with its notarization) that proved our latest finality; may lie off the final chain. */
  witness: Witness | null = null;
  /** Block ids (and request keys) asked for, and answered, recently: catch-up must not turn into a flood. */
  readonly asked = new BoundedMap<string, number>(MAX_PENDING);
  readonly answered = new BoundedMap<string, number>(MAX_PENDING);
  /** Transactions heard on the network, by hash with when: compact proposals are rebuilt from them too. */
  readonly heardTxs = new BoundedMap<string, { tx: DecodedTx; at: number }>(MAX_PENDING);
  /** Seeded by the node's address, so simulations repeat. */
  readonly random: () => number;
  readonly link: LinkProfile;
  readonly stats: EngineStats = emptyStats();
  running = false;
  /** When a peer's status last showed it ahead of us. */
  peerAheadAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly genesis: Genesis,
    readonly deps: EngineDeps,
    rootState: StateStore,
    rootInfo: ParentInfo,
  ) {
    const root = treeBlock(rootInfo.hash, null, null, { height: rootInfo.height, slot: rootInfo.slot, timestamp: rootInfo.timestamp }, rootState);
    root.notarized = true;
    this.root = root;
    this.blocks.set(root.id, root);
    this.finalizedIds = new HeightWindow(MAX_FINALIZED_KEPT, rootInfo.height);
    this.finalizedIds.push(root.id);
    this.random = seededRandom(new DataView(deps.identity.address.buffer, deps.identity.address.byteOffset, 4).getUint32(0));
    this.link = deps.link ?? IP_LINK;
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get params(): ChainParams {
    return new Ledger(this.root.state).params();
  }

  get slotMs(): number {
    return Number(this.params.slotMs);
  }

  now(): number {
    return this.deps.clock.now();
  }

  broadcast(message: ConsensusMessage, reach: Reach = "mesh"): void {
    this.deps.network.broadcast(message, reach);
  }

  later(fn: () => void, ms: number): unknown {
    return this.deps.clock.setTimeout(fn, ms);
  }

  slotAt(ms: number): number {
    return SlotClock.of(this.genesis, this.params).slotAt(ms);
  }

  slotStart(slot: number): number {
    return SlotClock.of(this.genesis, this.params).startOf(slot);
  }

  /**
   * The blocks we hold, body and all, at `height` whose hash (hex) starts with `ref`: how a vote
   * aggregate, which names its block by height and hash prefix, is matched to blocks.
   */
  heldByRef(height: number, ref: string): TreeBlock[] {
    const found: TreeBlock[] = [];
    for (const b of this.blocks.values()) if (b.height === height && b.block !== null && b.id.startsWith(ref)) found.push(b);
    return found;
  }

  parentOf(b: TreeBlock): TreeBlock | undefined {
    return b.parentId === null ? undefined : this.blocks.get(b.parentId);
  }

  /**
   * The notarized block of the highest slot (the two-slot rule's fork choice, docs/consensus.md §7):
   * every honest lock is the slot of a notarized block, so extending the highest one known is what
   * every locked validator can vote for. Ties (only with equivocating voters) go to the lower hash.
   */
  head(): TreeBlock {
    let best = this.root;
    for (const b of this.blocks.values()) {
      if (!b.notarized) continue;
      if (ranksAbove(b, best)) best = b;
    }
    return best;
  }

  /** True at most once per block id (or request key) per slot. */
  onceASlot(memory: Map<string, number>, id: string): boolean {
    const now = this.now();
    const last = memory.get(id);
    if (last !== undefined && now - last < this.slotMs) return false;
    memory.set(id, now);
    return true;
  }

  /**
   * True at most once per block id (or request key) in each slot by its number, and never twice within
   * a quarter of a slot: for retries made at a random moment in the middle third of each slot (a
   * retry comes at least a third of a slot after an ask made at the very end of the slot before). With onceASlot's
   * sliding window a retry drawn earlier in its slot than the last ask was in the one before is
   * refused, so a lost answer was asked for again every other slot (devnet seed 3 with --kill, precommit
   * rule: a restarted node's missing block asked for at 3955 s, 4239 s and 4571 s; it lagged 15 minutes).
   */
  onceInSlot(memory: Map<string, number>, id: string): boolean {
    const now = this.now();
    const last = memory.get(id);
    if (last !== undefined && (this.slotAt(last) === this.slotAt(now) || now - last < this.slotMs / 4)) return false;
    memory.set(id, now);
    return true;
  }

  /** Another node's answer for `id` was heard within the slot: ours would only repeat it. */
  answeredRecently(id: string): boolean {
    return this.now() - (this.answered.get(id) ?? Number.NEGATIVE_INFINITY) < this.slotMs;
  }

  /** A random moment in the middle third of a slot, once its proposal and votes have had the channel. */
  midSlotDelayMs(): number {
    return (this.slotMs / 3) * (1 + this.random());
  }

  /** How long requests and answers for transactions wait at random, so one of them serves everyone. */
  answerWindowMs(): number {
    return Math.min(15_000, this.slotMs / 6);
  }

  /** Whether this holder answers a request at all (on the radio, about two holders do). */
  answers(): boolean {
    return this.link.answers(this.random, this.root.weights.length);
  }

  /** A signature refused by the signing record (a conflict), or not made because the record could not be written. */
  signingRefused(e: unknown): boolean {
    if (e instanceof SignerSafetyError && e.code === "LOCKED") this.stats.refusedByLock++;
    else if (e instanceof SignerSafetyError) this.stats.refusedBySignerSafety++;
    else if (e instanceof MeshChainError) this.stats.signingPaused++;
    else return false;
    return true;
  }
}
