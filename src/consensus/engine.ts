import type { Block } from "../core/block/block.js";
import { type NotarizationCertificate, signerBitmap, signerIndices } from "../core/block/certificate.js";
import { blockHash } from "../core/block/header.js";
import { signVote } from "../core/block/vote.js";
import { bytesEqual, fromHex, toHex } from "../core/bytes.js";
import { SignerSafetyError, type SignerSafety } from "../core/chain/signer-safety.js";
import { produceBlock } from "../core/chain/produce.js";
import type { Clock } from "../core/clock.js";
import { seededRandom } from "../core/random.js";
import { type ControlRates, StatusSuppression } from "../mesh/airtime/control-rates.js";
import { votePauseMs } from "./vote-pacing.js";
import { BoundedMap, BoundedSet, HeightWindow } from "../core/bounded.js";
import type { Identity } from "../core/crypto/identity.js";
import type { Genesis } from "../core/genesis.js";
import { MeshChainError } from "../core/errors.js";
import { applyBlock, type ParentInfo } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import type { ChainParams } from "../core/state/params.js";
import { SlotClock } from "../core/state/slot-clock.js";
import type { StateStore } from "../core/state/store.js";
import { type DecodedTx, txHash } from "../core/tx/codec.js";
import { signTx } from "../core/tx/sign.js";
import { type Evidence, EvidenceType, TxKind } from "../core/tx/types.js";
import { parentInfo, type TreeBlock, treeBlock } from "./block-tree.js";
import { verifyCertificate } from "./certificates.js";
import { checkedSingles, combineVotes, HeardAggregates, reduceAggregate, tryCertifyWithAggregates, verifyAggregate } from "./vote-aggregation.js";
import { blockRef, compactBlock, rebuildBlock } from "./compact-blocks.js";
import { BLOCK_REF_BYTES, type CompactBlock, MAX_RANGE_BLOCKS, VOTE_BLOCK_REF_BYTES } from "../mesh/messages/relay.js";
import type { ConsensusMessage, ConsensusNetwork } from "./messages.js";
import { finalizesMiddle } from "./finality.js";
import { NonceGaps, type SenderGap } from "./nonce-gaps.js";
import { OverlookedTxs } from "./overlooked-txs.js";
import { proposerRanks, scheduledProposer } from "./schedule.js";
import type { BlsVerifier } from "./verifier.js";

export type { SenderGap } from "./nonce-gaps.js";

export interface Mempool {
  /** Transactions to offer a new block, best first. */
  candidates(): DecodedTx[];
  /** Most transactions of one sender `candidates` offers a block. */
  readonly perSenderPerBlock: number;
  /** Per sender whose later transactions wait in the pool's nonce window: the nonces it lacks, lowest first. */
  missingNonces(): readonly SenderGap[];
  /** The pending transaction of this sender and nonce, when the pool holds it. */
  pendingTx(sender: Uint8Array, nonce: number): DecodedTx | undefined;
  /**
   * Every transaction the pool holds, pending or waiting for its nonce, past the per-block quota
   * `candidates` keeps to: a node catching up rebuilds blocks that carry a sender's later nonces.
   */
  held?(): Iterable<DecodedTx>;
  add(tx: DecodedTx): void;
  /** Forget transactions that are now final. */
  removeFinal(txHashes: readonly string[]): void;
}

export interface EngineDeps {
  readonly clock: Clock;
  readonly identity: Identity;
  readonly signer: SignerSafety;
  readonly verifier: BlsVerifier;
  readonly network: ConsensusNetwork;
  readonly mempool: Mempool;
  /**
   * Told the blocks that became final, before the engine moves its finalized root: a typed error
   * thrown here (the store could not commit) leaves the root where it was, to be tried again.
   */
  readonly onFinalized?: (blocks: readonly TreeBlock[]) => void;
  /** How often to announce where this node stands (the node's status interval); default 6 slots. */
  readonly statusEveryMs?: number;
  /**
   * On a radio channel: status rounds at the rates control's airtime share allows for the preset
   * (mesh/airtime/control-rates.ts), skipped when a peer's status said the same; replaces statusEveryMs.
   */
  readonly controlRates?: ControlRates;
  /**
   * On a broadcast radio channel, answer block requests after a random pause and stay quiet if
   * someone else answered first (one answer serves everyone). Off on links where answers are cheap.
   */
  readonly suppressDuplicateAnswers?: boolean;
  /** Announce own proposals in compact form (short transaction ids), as on a radio channel. */
  readonly compactBlocks?: boolean;
}

export interface EngineStats {
  proposed: number;
  voted: number;
  notarized: number;
  finalized: number;
  rejectedBlocks: number;
  evidenceFound: number;
  refusedBySignerSafety: number;
  compactRebuilt: number;
  compactTxRequests: number;
  /** Transactions sent again because the chain passed them over (see OverlookedTxs). */
  txsResent: number;
  /** Own votes sent a second time in the middle of their slot (docs/consensus.md §8). */
  votesResent: number;
  /** Requests for transactions this node's pool waits on (see NonceGaps). */
  nonceRequests: number;
  /** Signatures not made because the signing record could not be written (a storage fault). */
  signingPaused: number;
  /** Finalized blocks whose commit failed; finality waits for the store (retryFinality). */
  commitFailures: number;
  /** Slots this engine has lived through. */
  slots: number;
  /** Slots in which this node was the first-ranked proposer. */
  ledSlots: number;
  /** Slots this node led without proposing: nothing to include, or a better block was already there. */
  ledSlotsSkipped: number;
  /** Other validators' votes added to a block (duplicates and unknown blocks not counted). */
  votesReceived: number;
  /** Own votes sent as one aggregate with others' votes this node held (vote-aggregation.ts). */
  aggregatesSent: number;
  /** Checked aggregates that brought votes this node did not hold. */
  aggregatesReceived: number;
  /** Aggregates that did not verify against the block's voting set: dropped, charged to no one. */
  badAggregates: number;
  /** Own votes (first copies or mid-slot copies) not sent because an aggregate heard already carried them. */
  votesCovered: number;
}

/** The last vote heard from one validator (or cast by this node), for the operator. */
export interface LastVote {
  readonly slot: number;
  readonly height: number;
  /** Local clock time when it was heard, ms. */
  readonly heardAtMs: number;
}

const MAX_PENDING = 512;
/** After a certificate leaves our vote out, votes are sent twice for this many slots. */
const VOTE_LEFT_OUT_MEMORY_SLOTS = 6;
const MAX_FINALIZED_KEPT = 1_024;
/** Transaction bytes per block-txs answer: with its 13-byte head and the frame header it stays in one 231-byte frame. */
const ANSWER_TX_BYTES = 212;
/** A block this close to maxBlockBytes counts as full: the next transaction would most likely not fit. */
const FULL_BLOCK_SLACK_BYTES = 256;

/**
 * DPoP consensus for one node (docs/consensus.md): Streamlet-style. Slot proposers, drawn by weight,
 * extend the longest notarized chain; validators vote at most once per slot for a valid proposal
 * that extends a longest notarized chain; a block with votes of more than two thirds of the weight
 * is notarized (its certificate travels in its child); the middle of three notarized blocks chained
 * in consecutive slots is final, with everything before it.
 */
export class ConsensusEngine {
  private readonly blocks = new Map<string, TreeBlock>();
  private root: TreeBlock;
  /** Ids of the finalized chain by height, the newest MAX_FINALIZED_KEPT (older ones are the chain store's). */
  private readonly finalizedIds: HeightWindow<string>;
  /** Finalized blocks, to answer requests; with their compact form, kept while their parent was at hand. */
  private readonly finalizedBlocks = new BoundedMap<string, { block: Block; certificate: NotarizationCertificate | null; compact: CompactBlock | null }>(MAX_FINALIZED_KEPT);
  /** The block (with its notarization) that proved our latest finality; may lie off the final chain. */
  private witness: { id: string; hash: Uint8Array; block: Block; certificate: NotarizationCertificate } | null = null;
  private readonly orphans = new BoundedMap<string, Block[]>(MAX_PENDING);
  private readonly pendingVotes = new Map<string, Extract<ConsensusMessage, { kind: "vote" }>[]>();
  /** Checked vote aggregates by block, and those for blocks not yet known. */
  private readonly aggregates = new HeardAggregates<Extract<ConsensusMessage, { kind: "vote-aggregate" }>>(MAX_PENDING);
  private readonly firstVote = new BoundedMap<string, { blockHash: Uint8Array; signature: Uint8Array }>(4096);
  private readonly firstProposal = new BoundedMap<string, Block>(4096);
  private readonly proposedSlots = new BoundedSet<number>(MAX_PENDING);
  /** Transactions heard on the network, by hash with when: compact proposals are rebuilt from them too. */
  private readonly heardTxs = new BoundedMap<string, { tx: DecodedTx; at: number }>(MAX_PENDING);
  private readonly overlooked = new OverlookedTxs(4 * MAX_PENDING);
  private readonly gaps = new NonceGaps(4 * MAX_PENDING);
  /** Our recent votes, by block id, and whether each went out a second time. */
  private readonly ownVotes = new BoundedMap<string, { readonly vote: Extract<ConsensusMessage, { kind: "vote" }>; resent: boolean }>(64);
  /** When a certificate last left our vote out. */
  private voteLeftOutAt = Number.NEGATIVE_INFINITY;
  /** Compact proposals waiting for their parent or transactions, by slot and block ref. */
  private readonly pendingCompacts = new BoundedMap<string, CompactBlock>(64);
  /** When someone last asked for a compact proposal's transactions (ours can then wait). */
  private readonly txRequestsHeard = new BoundedMap<string, number>(MAX_PENDING);
  /** Block ids asked for, and answered, recently: catch-up must not turn into a flood. */
  private readonly asked = new BoundedMap<string, number>(MAX_PENDING);
  private readonly answered = new BoundedMap<string, number>(MAX_PENDING);
  /** Seeded by the node's address, so simulations repeat. */
  private readonly random: () => number;
  /** Status rounds on a radio channel (null: every statusEveryMs). */
  private statusGate: StatusSuppression | null = null;
  private timer: unknown = null;
  private statusTimer: unknown = null;
  private running = false;
  /** When a peer's status last showed it ahead of us. */
  private peerAheadAt = Number.NEGATIVE_INFINITY;
  readonly stats: EngineStats = { proposed: 0, voted: 0, notarized: 0, finalized: 0, rejectedBlocks: 0, evidenceFound: 0, refusedBySignerSafety: 0, compactRebuilt: 0, compactTxRequests: 0, txsResent: 0, votesResent: 0, nonceRequests: 0, signingPaused: 0, commitFailures: 0, slots: 0, ledSlots: 0, ledSlotsSkipped: 0, votesReceived: 0, aggregatesSent: 0, aggregatesReceived: 0, badAggregates: 0, votesCovered: 0 };
  /** Each validator's last vote, keyed by its address in hex. */
  readonly lastVotes = new Map<string, LastVote>();

  /**
   * Starts from a finalized root: genesis, or the tip of the node's chain store after a restart
   * (so a restarted node does not fetch its whole history again over the air).
   */
  constructor(
    private readonly genesis: Genesis,
    rootState: StateStore,
    rootInfo: ParentInfo,
    private readonly deps: EngineDeps,
  ) {
    const root = treeBlock(rootInfo.hash, null, null, { height: rootInfo.height, slot: rootInfo.slot, timestamp: rootInfo.timestamp }, rootState);
    root.notarized = true;
    this.root = root;
    this.blocks.set(root.id, root);
    this.finalizedIds = new HeightWindow(MAX_FINALIZED_KEPT, rootInfo.height);
    this.finalizedIds.push(root.id);
    this.random = seededRandom(new DataView(deps.identity.address.buffer, deps.identity.address.byteOffset, 4).getUint32(0));
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  /** Ids of the finalized chain this engine has seen, from the root it started at (genesis, or a restart's stored tip). */
  get finalizedChain(): readonly string[] {
    return this.finalizedIds.recent().items;
  }

  /** Height of the first entry of `finalizedChain`. */
  get finalizedChainStart(): number {
    return this.finalizedIds.start;
  }

  get pendingCompactCount(): number {
    return this.pendingCompacts.size;
  }

  get finalizedHeight(): number {
    return this.root.height;
  }

  get finalizedState(): StateStore {
    return this.root.state;
  }

  private get params(): ChainParams {
    return new Ledger(this.root.state).params();
  }

  slotAt(ms: number): number {
    return SlotClock.of(this.genesis, this.params).slotAt(ms);
  }

  private slotStart(slot: number): number {
    return SlotClock.of(this.genesis, this.params).startOf(slot);
  }

  start(): void {
    this.running = true;
    if (this.deps.controlRates !== undefined) this.statusGate ??= new StatusSuppression(this.deps.controlRates, this.random, this.deps.clock.now());
    this.scheduleNextSlot();
    this.scheduleStatus();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    if (this.statusTimer !== null) this.deps.clock.clearTimeout(this.statusTimer);
    this.timer = null;
    this.statusTimer = null;
  }

  private scheduleStatus(): void {
    if (!this.running) return;
    const gate = this.statusGate;
    const every = gate !== null ? gate.msUntilDue(this.deps.clock.now()) : (this.deps.statusEveryMs ?? 6 * Number(this.params.slotMs));
    this.statusTimer = this.deps.clock.setTimeout(() => {
      const head = this.head();
      if (gate === null || gate.shouldSend(this.deps.clock.now())) {
        this.deps.network.broadcast({ kind: "chain-status", finalizedHeight: this.root.height, headHeight: head.height, headHash: head.hash, witnessHash: this.witness?.hash ?? null });
      }
      this.scheduleStatus();
    }, every);
  }

  /** A peer is ahead of us: fetch its head (with its notarization); missing parents follow. */
  private onStatus(m: Extract<ConsensusMessage, { kind: "chain-status" }>): void {
    const head = this.head();
    this.statusGate?.heard(m.finalizedHeight === this.root.height && bytesEqual(m.headHash, head.hash));
    if (m.finalizedHeight > this.root.height || m.headHeight > head.height) this.peerAheadAt = this.deps.clock.now();
    const known = this.blocks.get(toHex(m.headHash));
    const behind = m.headHeight > head.height || (known !== undefined && !known.notarized);
    if (behind && this.onceASlot(this.asked, toHex(m.headHash))) this.deps.network.broadcast({ kind: "get-block", hash: m.headHash });
    if (m.finalizedHeight > this.root.height && m.witnessHash !== null && this.onceASlot(this.asked, toHex(m.witnessHash))) {
      this.deps.network.broadcast({ kind: "get-block", hash: m.witnessHash });
    }
  }

  /** The state after a block this engine holds above finality (or the finalized root). */
  stateAfter(blockId: string): StateStore | undefined {
    return this.blocks.get(blockId)?.state;
  }

  /** The hash (hex) of a block the engine holds at `height` whose hash starts with `ref`: lets a bridge check a vote aggregate. */
  blockIdByRef(height: number, ref: Uint8Array): string | undefined {
    const prefix = toHex(ref);
    for (const b of this.blocks.values()) if (b.height === height && b.id.startsWith(prefix)) return b.id;
    return undefined;
  }

  /** The slot of a block the engine holds, by hash (hex): lets a bridge check a vote before relaying it. */
  slotOf(blockId: string): number | undefined {
    return this.blocks.get(blockId)?.slot;
  }

  /** The tip of the longest notarized chain; ties go to the lower hash. */
  head(): TreeBlock {
    let best = this.root;
    for (const b of this.blocks.values()) {
      if (!b.notarized) continue;
      if (b.height > best.height || (b.height === best.height && b.id < best.id)) best = b;
    }
    return best;
  }

  private scheduleNextSlot(): void {
    if (!this.running) return;
    const now = this.deps.clock.now();
    const next = this.slotAt(now) + 1;
    this.timer = this.deps.clock.setTimeout(() => this.onSlot(next), this.slotStart(next) - now);
  }

  private onSlot(slot: number): void {
    this.timer = null;
    // Catch-up waits for the quiet middle of the slot: at its start the proposal and the votes hold
    // the channel, and a request lost in that crowd (a hidden node's, above all) costs a whole slot.
    this.deps.clock.setTimeout(() => {
      if (!this.running) return;
      this.retryMissingParents();
      this.askForMissingNonces();
      for (const key of [...this.pendingCompacts.keys()]) this.tryRebuild(key);
    }, this.midSlotDelayMs());
    this.resendOverlooked();
    try {
      const head = this.head();
      const ledger = new Ledger(head.state);
      const params = ledger.params();
      const ranks = proposerRanks(head.weights, ledger.meta().randaoMix, slot, Number(params.fallbackRanks));
      const rank = ranks.findIndex((a) => bytesEqual(a, this.deps.identity.address));
      this.stats.slots++;
      if (rank === 0) this.stats.ledSlots++;
      if (rank >= 0) {
        const delay = Math.min(Number(params.fallbackDelayMs), Number(params.slotMs) / (Number(params.fallbackRanks) + 1)) * rank;
        this.deps.clock.setTimeout(() => this.maybePropose(slot, rank), delay);
      }
    } finally {
      this.scheduleNextSlot();
    }
  }

  /**
   * Whether a block is worth its airtime: transactions are waiting, a block above finality carries
   * transactions (it needs successors to become final), or the heartbeat is due. Empty blocks need
   * no finality, so an idle chain falls silent.
   */
  private hasWork(head: TreeBlock, slot: number): boolean {
    if (this.deps.mempool.candidates().length > 0) return true;
    for (let b: TreeBlock | undefined = head; b !== undefined && b.id !== this.root.id; b = b.parentId === null ? undefined : this.blocks.get(b.parentId)) {
      if (b.block !== null && b.block.txs.length > 0) return true;
    }
    return slot - head.slot >= Number(new Ledger(head.state).params().heartbeatSlots);
  }

  private maybePropose(slot: number, rank: number): void {
    if (!this.running || this.slotAt(this.deps.clock.now()) !== slot) return;
    const proposedBefore = this.stats.proposed;
    this.proposeIfDue(slot, rank);
    if (rank === 0 && this.stats.proposed === proposedBefore) this.stats.ledSlotsSkipped++;
  }

  private proposeIfDue(slot: number, rank: number): void {
    // A better-ranked proposal for this slot already arrived: stand back.
    if (rank > 0 && [...this.blocks.values()].some((b) => b.slot === slot)) return;
    const parent = this.head();
    if (slot <= parent.slot || !this.hasWork(parent, slot)) return;
    let certificate: NotarizationCertificate | null = null;
    if (parent.block !== null) certificate = this.recertify(parent) ?? parent.certificate;
    let produced;
    try {
      produced = produceBlock(parent.state, {
        chainId: this.chainId, parent: parentInfo(parent), slot, timestamp: Math.floor(this.deps.clock.now() / 1000),
        candidates: this.deps.mempool.candidates(), certificate, proposer: { address: this.deps.identity.address, bls: this.deps.identity.bls },
      });
    } catch (e) {
      if (e instanceof MeshChainError) return;
      throw e;
    }
    const hash = produced.applied.hash;
    // The block signature is our vote for this slot: remember it durably before anyone sees it.
    try {
      this.deps.signer.approve(slot, hash);
    } catch (e) {
      if (!this.signingRefused(e)) throw e;
      return;
    }
    this.proposedSlots.add(slot);
    this.stats.proposed++;
    if (this.deps.compactBlocks === true) this.deps.network.broadcast({ kind: "compact-proposal", compact: compactBlock(produced.block, parent) });
    else this.deps.network.broadcast({ kind: "proposal", block: produced.block });
    this.onBlock(produced.block, null);
  }

  /** Re-aggregate a parent's certificate with every vote now known, so late voters still count if they made it. */
  private recertify(b: TreeBlock): NotarizationCertificate | null {
    const { certificate } = tryCertifyWithAggregates(b, b.votes, this.aggregates.of(b.id), b.weights, this.deps.verifier);
    return certificate;
  }

  receive(message: ConsensusMessage): void {
    switch (message.kind) {
      case "proposal":
        this.onBlock(message.block, null);
        return;
      case "compact-proposal":
        this.onCompact(message.compact);
        return;
      case "get-txs":
        this.onGetTxs(message.slot, message.blockRef, message.indexes);
        return;
      case "block-txs":
        for (const tx of message.txs) this.onTx(tx);
        return;
      case "certified-block":
        // Someone answered: our own pending answer for this block is no longer needed.
        if (this.deps.suppressDuplicateAnswers === true) this.answered.set(toHex(blockHash(message.block.header)), this.deps.clock.now());
        this.onBlock(message.block, message.certificate);
        return;
      case "vote":
        this.onVote(message);
        return;
      case "vote-aggregate":
        this.onVoteAggregate(message);
        return;
      case "get-block":
        this.onGetBlock(message.hash);
        return;
      case "get-range":
        this.onGetRange(message.fromHeight, message.count);
        return;
      case "get-nonces":
        this.onGetNonces(message.sender, message.nonces);
        return;
      case "tx":
        this.onTx(message.tx);
        return;
      case "chain-status":
        this.onStatus(message);
        return;
    }
  }

  /** True at most once per block id per slot. */
  private onceASlot(memory: Map<string, number>, id: string): boolean {
    const now = this.deps.clock.now();
    const last = memory.get(id);
    if (last !== undefined && now - last < Number(this.params.slotMs)) return false;
    memory.set(id, now);
    return true;
  }

  /**
   * Answer a block request after a random pause, unless another node's answer was heard meanwhile:
   * on a broadcast medium one answer serves everyone, and a block is many frames of airtime.
   */
  private onGetBlock(hash: Uint8Array): void {
    const id = toHex(hash);
    const live = this.blocks.get(id);
    const source = live?.block != null ? { block: live.block, certificate: live.certificate } : (this.finalizedBlocks.get(id) ?? (this.witness?.id === id ? this.witness : undefined));
    if (source === undefined) return;
    const compact = this.deps.compactBlocks !== true ? null : this.compactFor(id, source.block, source.certificate);
    // One frame instead of many: the asker rebuilds it, and asks for any transactions it lacks.
    const answer: ConsensusMessage = compact !== null ? { kind: "compact-proposal", compact } : { kind: "certified-block", block: source.block, certificate: source.certificate };
    if (this.deps.suppressDuplicateAnswers !== true) {
      if (this.onceASlot(this.answered, id)) this.deps.network.broadcast(answer);
      return;
    }
    if (this.answered.has(id) && this.deps.clock.now() - (this.answered.get(id) as number) < Number(this.params.slotMs)) return;
    // Hidden nodes cannot hear each other's answers: only a few holders answer at all (the asker asks again next slot).
    if (this.random() >= this.answerProbability()) return;
    const pause = Math.floor(this.random() * Number(this.params.slotMs) / 3);
    this.deps.clock.setTimeout(() => {
      if (!this.onceASlot(this.answered, id)) return;
      this.deps.network.broadcast(answer);
    }, pause);
  }

  /**
   * Answer a catch-up request by height with one compact block per height, from the finalized chain
   * and the head's chain above it. On the radio only about two holders answer, after a random pause.
   */
  private onGetRange(fromHeight: number, count: number): void {
    const key = `range:${fromHeight}:${count}`;
    if (this.deps.suppressDuplicateAnswers === true && this.random() >= this.answerProbability()) return;
    const pause = this.deps.suppressDuplicateAnswers === true ? Math.floor(this.random() * this.answerWindowMs()) : 0;
    this.deps.clock.setTimeout(() => {
      if (!this.running || !this.onceASlot(this.answered, key)) return;
      for (let h = fromHeight; h < fromHeight + count; h++) {
        const id = this.idAtHeight(h);
        const compact = id === undefined ? null : this.compactById(id);
        if (id === undefined || compact === null) return;
        // Another holder's answer for this height was heard: ours would only repeat it.
        if (this.deps.suppressDuplicateAnswers === true && this.deps.clock.now() - (this.answered.get(id) ?? Number.NEGATIVE_INFINITY) < Number(this.params.slotMs)) continue;
        this.answered.set(id, this.deps.clock.now());
        this.deps.network.broadcast({ kind: "compact-proposal", compact });
      }
    }, pause);
  }

  /** The id of the block at `height` on our chain (finalized, or on the head's chain above it). */
  private idAtHeight(height: number): string | undefined {
    if (height <= this.root.height) return this.finalizedIds.at(height);
    for (let b: TreeBlock | undefined = this.head(); b !== undefined && b.height >= height; b = b.parentId === null ? undefined : this.blocks.get(b.parentId)) if (b.height === height) return b.id;
    return undefined;
  }

  /** The compact form of a block on our chain, if we still hold it. */
  private compactById(id: string): CompactBlock | null {
    const live = this.blocks.get(id);
    const source = live?.block != null ? { block: live.block, certificate: live.certificate } : this.finalizedBlocks.get(id);
    return source === undefined ? null : this.compactFor(id, source.block, source.certificate);
  }

  /**
   * A block's compact form, from its parent's state or as kept at finality. It goes without its
   * certificate when its child carries one: catch-up asks for parents of blocks it holds, and the
   * certificate would push the answer into a second, fragile frame.
   */
  private compactFor(id: string, block: Block, certificate: NotarizationCertificate | null): CompactBlock | null {
    const own = this.childCarriesCertificate(id) ? null : certificate;
    const parent = this.blocks.get(toHex(block.header.parentHash));
    if (parent !== undefined) return compactBlock(block, parent, own);
    const stored = this.finalizedBlocks.get(id)?.compact ?? null;
    return stored === null ? null : { ...stored, notarization: own === null ? null : stored.notarization };
  }

  private childCarriesCertificate(id: string): boolean {
    for (const b of this.blocks.values()) if (b.parentId === id && b.block?.header.certificate != null) return true;
    const at = this.finalizedIds.heightOf(id);
    const next = at === null ? undefined : this.finalizedBlocks.get(this.finalizedIds.at(at + 1) ?? "");
    return next?.block.header.certificate != null;
  }

  private onBlock(block: Block, certificate: NotarizationCertificate | null): void {
    const h = block.header;
    const hash = blockHash(h);
    const id = toHex(hash);
    const known = this.blocks.get(id);
    if (known !== undefined) {
      if (certificate !== null && !known.notarized) this.acceptCertificate(known, certificate);
      return;
    }
    if (h.height <= this.root.height) return;
    const parentId = toHex(h.parentHash);
    const parent = this.blocks.get(parentId);
    if (parent === undefined) {
      this.holdOrphan(parentId, block);
      if (this.onceASlot(this.asked, parentId)) this.deps.network.broadcast({ kind: "get-block", hash: h.parentHash });
      return;
    }
    const child = this.validate(block, hash, parent);
    if (child === null) return;
    this.detectDoubleProposal(block);
    this.blocks.set(id, child);
    // The header signature is the proposer's vote.
    const proposerIndex = child.weights.findIndex((w) => bytesEqual(w.address, h.proposer));
    if (proposerIndex >= 0) child.votes.set(proposerIndex, h.signature);
    if (h.certificate !== null) this.noteCertificate(parent, h.certificate);
    if (h.certificate !== null && !parent.notarized) this.acceptCertificate(parent, h.certificate);
    if (certificate !== null) this.acceptCertificate(child, certificate);
    for (const v of this.pendingVotes.get(id) ?? []) this.onVote(v);
    this.pendingVotes.delete(id);
    for (const a of this.aggregates.takePending(`${child.height}:${id.slice(0, 2 * VOTE_BLOCK_REF_BYTES)}`)) this.onVoteAggregate(a);
    this.maybeVote(child, parent);
    this.checkCertified(child);
    this.shareHeadCertificate(child, parent);
    const waiting = this.orphans.get(id);
    this.orphans.delete(id);
    for (const o of waiting ?? []) this.onBlock(o, null);
    for (const [key, c] of this.pendingCompacts) if (bytesEqual(c.parentHash, hash)) this.tryRebuild(key);
  }

  /**
   * A fresh proposal built below our notarized head: its proposer lacks a notarization we hold, and
   * so do the validators that vote with it, so the slot is lost, and so is every slot until the
   * notarization reaches them (issue 20, plain seed 6: ten slots without a block while three nodes
   * held it). Our head's certificate goes out as one vote aggregate (64 bytes on air), after a
   * random pause within the answer window, unless another node's copy is heard first.
   */
  private shareHeadCertificate(b: TreeBlock, parent: TreeBlock): void {
    if (this.deps.suppressDuplicateAnswers !== true) return;
    const now = this.deps.clock.now();
    const head = this.head();
    const certificate = head.certificate;
    if (b.slot !== this.slotAt(now) || parent.height >= head.height || certificate === null || head.block === null) return;
    // Only a signer sends it: an aggregate on air carries its sender's own vote (§15; the
    // simulator's double-vote accounting reads it so), and a signer holds the block it names.
    const mine = head.weights.findIndex((w) => bytesEqual(w.address, this.deps.identity.address));
    if (mine < 0 || !signerIndices(certificate.signers).includes(mine)) return;
    const key = `cert:${head.id}`;
    if (!this.onceASlot(this.asked, key)) return;
    this.deps.clock.setTimeout(() => {
      if (!this.running || (this.answered.get(key) ?? Number.NEGATIVE_INFINITY) >= now) return;
      this.answered.set(key, this.deps.clock.now());
      this.stats.aggregatesSent++;
      this.deps.network.broadcast({ kind: "vote-aggregate", height: head.height, blockRef: head.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: certificate.signers, signature: certificate.signature });
    }, Math.floor(this.random() * this.answerWindowMs()));
  }

  private onTx(tx: DecodedTx): void {
    const id = toHex(txHash(tx.bytes));
    this.heardTxs.delete(id);
    this.heardTxs.set(id, { tx, at: this.deps.clock.now() });
    this.overlooked.held(id, this.deps.clock.now());
    this.deps.mempool.add(tx);
    this.gaps.update(this.deps.mempool.missingNonces(), this.deps.clock.now());
    for (const key of [...this.pendingCompacts.keys()]) this.tryRebuild(key);
  }

  /**
   * Ask for the transactions this node's pool waits on (a sender's later nonces arrived, an earlier
   * one did not). The next slot's proposer asks, since it builds the block; a request heard from another node counts.
   */
  private askForMissingNonces(): void {
    const now = this.deps.clock.now();
    const missing = this.deps.mempool.missingNonces();
    // Every node keeps its gaps' ages, so that it asks at once when its turn to lead comes.
    this.gaps.update(missing, now);
    if (this.catchingUp() || !this.leadsNextSlot()) return;
    for (const g of this.gaps.due(missing, { now, minAgeMs: this.answerWindowMs(), askEveryMs: Number(this.params.slotMs) })) {
      this.stats.nonceRequests++;
      this.deps.network.broadcast({ kind: "get-nonces", sender: g.sender, nonces: g.nonces });
    }
  }

  /**
   * Whether this node proposes first in the next slot, after the head or after any block already
   * proposed on it (either may be the next slot's parent). Only the next proposer needs a sender's
   * missing transaction (to include the ones after it), and its request's answer serves everyone:
   * when every validator asked, gap requests were most of the control class (issue 20).
   */
  private leadsNextSlot(): boolean {
    const head = this.head();
    const next = this.slotAt(this.deps.clock.now()) + 1;
    const parents = [head, ...[...this.blocks.values()].filter((b) => b.parentId === head.id)];
    return parents.some((p) => {
      const ledger = new Ledger(p.state);
      const first = proposerRanks(p.weights, ledger.meta().randaoMix, next, 0)[0];
      return first !== undefined && bytesEqual(first, this.deps.identity.address);
    });
  }

  /** Send what was asked for that this pool holds, after a random pause, unless someone else's copy is heard first. */
  private onGetNonces(sender: Uint8Array, nonces: readonly number[]): void {
    const heardAt = this.deps.clock.now();
    this.gaps.heard(sender, nonces, heardAt);
    for (const nonce of nonces) {
      const tx = this.deps.mempool.pendingTx(sender, nonce);
      if (tx === undefined) continue;
      const id = toHex(txHash(tx.bytes));
      this.deps.clock.setTimeout(() => {
        if (!this.running || (this.heardTxs.get(id)?.at ?? -1) > heardAt || !this.onceASlot(this.answered, `tx:${id}`)) return;
        this.overlooked.sent(id, this.deps.clock.now());
        this.deps.network.broadcast({ kind: "tx", tx });
      }, Math.floor(this.random() * this.answerWindowMs()));
    }
  }

  private onCompact(c: CompactBlock): void {
    if (c.height <= this.root.height) {
      // Someone answered a catch-up request for a block we hold: ours can stay unsent.
      const id = this.idAtHeight(c.height);
      const held = id === undefined ? undefined : this.finalizedBlocks.get(id);
      if (id !== undefined && held !== undefined && blockRef(held.block.header.signature) === blockRef(c.signature)) this.answered.set(id, this.deps.clock.now());
      return;
    }
    const key = `${c.slot}:${blockRef(c.signature)}`;
    const known = [...this.blocks.values()].find((b) => b.slot === c.slot && b.block !== null && blockRef(b.block.header.signature) === blockRef(c.signature));
    if (known !== undefined) {
      if (c.notarization !== null && !known.notarized) this.acceptCertificate(known, { height: known.height, blockHash: known.hash, ...c.notarization });
      return;
    }
    const pending = this.pendingCompacts.get(key);
    if (pending !== undefined) {
      if (pending.notarization === null && c.notarization !== null) this.pendingCompacts.set(key, c);
      return;
    }
    this.pendingCompacts.set(key, c);
    const parentId = toHex(c.parentHash);
    if (!this.blocks.has(parentId)) {
      if (!this.parentHeldCompact(c.height, this.slotAt(this.deps.clock.now())) && this.onceASlot(this.asked, parentId)) this.deps.network.broadcast({ kind: "get-block", hash: c.parentHash });
      return;
    }
    this.tryRebuild(key);
  }

  private tryRebuild(key: string): void {
    const c = this.pendingCompacts.get(key);
    const parent = c === undefined ? undefined : this.blocks.get(toHex(c.parentHash));
    if (c === undefined || parent === undefined) return;
    const known = [...(this.deps.mempool.held?.() ?? this.deps.mempool.candidates()), ...[...this.heardTxs.values()].map((h) => h.tx)];
    const result = rebuildBlock(c, parent, known, this.chainId, (slot, hash, sig, key) => this.deps.verifier.vote(slot, hash, sig, key));
    if (result.kind === "missing") {
      this.askForTxs(key, c, result.indexes);
      return;
    }
    this.pendingCompacts.delete(key);
    // A mismatch (a short-id collision, or a bad proposal) falls back to the full block, which the
    // block's certificate or child will name by hash.
    if (result.kind === "mismatch") {
      this.stats.rejectedBlocks++;
      return;
    }
    this.stats.compactRebuilt++;
    const hash = blockHash(result.block.header);
    // Someone answered a block request: our own pending answer is no longer needed.
    if (c.notarization !== null && this.deps.suppressDuplicateAnswers === true) this.answered.set(toHex(hash), this.deps.clock.now());
    this.onBlock(result.block, c.notarization === null ? null : { height: c.height, blockHash: hash, ...c.notarization });
  }

  /** Ask for missing transactions after a short random pause, unless another node asked meanwhile (one answer serves all). */
  private askForTxs(key: string, c: CompactBlock, indexes: readonly number[]): void {
    if (!this.onceASlot(this.asked, `txs:${key}`)) return;
    const askedAt = this.deps.clock.now();
    const pause = Math.floor(this.random() * this.answerWindowMs());
    this.deps.clock.setTimeout(() => {
      if (!this.running || !this.pendingCompacts.has(key) || (this.txRequestsHeard.get(key) ?? -1) >= askedAt) return;
      this.stats.compactTxRequests++;
      this.deps.network.broadcast({ kind: "get-txs", slot: c.slot, blockRef: c.signature.subarray(0, BLOCK_REF_BYTES), indexes });
    }, pause);
  }

  /** Answer with the requested transactions, after a random pause; skip those someone else sent meanwhile. */
  private onGetTxs(slot: number, ref: Uint8Array, indexes: readonly number[]): void {
    const key = `${slot}:${toHex(ref)}`;
    const heardAt = this.deps.clock.now();
    this.txRequestsHeard.set(key, heardAt);
    const source = [...this.blocks.values(), ...[...this.finalizedBlocks.values()].map((f) => ({ slot: f.block.header.slot, block: f.block }))]
      .find((b) => b.slot === slot && b.block !== null && blockRef(b.block.header.signature) === toHex(ref))?.block;
    if (source == null) return;
    const txs = indexes.flatMap((i) => (source.txs[i] === undefined ? [] : [source.txs[i] as DecodedTx]));
    // The proposer answers at once; the others only as a late backup, if no answer was heard.
    const proposer = bytesEqual(source.header.proposer, this.deps.identity.address);
    const window = this.answerWindowMs();
    if (this.deps.suppressDuplicateAnswers === true && !proposer && this.random() >= this.answerProbability()) return;
    const pause = this.deps.suppressDuplicateAnswers !== true || proposer ? 0 : Math.floor(window * (1 + 2 * this.random()));
    this.deps.clock.setTimeout(() => {
      if (!this.running) return;
      this.sendBlockTxs(slot, ref, txs.filter((tx) => (this.heardTxs.get(toHex(txHash(tx.bytes)))?.at ?? -1) <= heardAt));
    }, pause);
  }

  /** A block's transactions as block-txs answers, packed so that each fits one radio frame (a lost fragment would cost more than a header). */
  private sendBlockTxs(slot: number, ref: Uint8Array, txs: readonly DecodedTx[]): void {
    let batch: DecodedTx[] = [];
    let bytes = 0;
    for (const tx of txs) {
      if (batch.length > 0 && bytes + tx.bytes.length + 2 > ANSWER_TX_BYTES) {
        this.deps.network.broadcast({ kind: "block-txs", slot, blockRef: ref, txs: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(tx);
      bytes += tx.bytes.length + 2;
    }
    if (batch.length > 0) this.deps.network.broadcast({ kind: "block-txs", slot, blockRef: ref, txs: batch });
  }

  /**
   * The chance that a node holding what was asked for answers at all, on a broadcast channel: about
   * two answers per request whatever the network's size, since suppression fails between nodes that
   * cannot hear each other, and every extra answer is flooded by the whole mesh.
   */
  private answerProbability(): number {
    return Math.min(1, 2 / Math.max(1, this.root.weights.length));
  }

  /** How long requests and answers for transactions wait at random, so one of them serves everyone. */
  private answerWindowMs(): number {
    return Math.min(15_000, Number(this.params.slotMs) / 6);
  }

  /** A lost (or withheld) answer must not stall catch-up: ask again each slot for missing parents, a few at a time. */
  private retryMissingParents(): void {
    let asked = 0;
    // Lowest first: the parent nearest our chain is the one that unblocks everything above it.
    const waiting = [
      ...[...this.orphans].map(([parentId, list]) => ({ parentId, height: Math.min(...list.map((b) => b.header.height)) })),
      ...[...this.pendingCompacts.values()].map((c) => ({ parentId: toHex(c.parentHash), height: c.height })),
    ].sort((a, b) => a.height - b.height);
    // Several blocks missing below the lowest one waiting: ask for them by height, all in one request.
    const lowest = waiting[0];
    const have = this.head().height;
    if (lowest !== undefined && lowest.height - 1 - have >= 2) {
      const count = Math.min(MAX_RANGE_BLOCKS, lowest.height - 1 - have);
      if (this.onceASlot(this.asked, `range:${have + 1}`)) this.deps.network.broadcast({ kind: "get-range", fromHeight: have + 1, count });
      asked++;
    }
    const slot = this.slotAt(this.deps.clock.now());
    for (const parentId of new Set(waiting.filter((w) => !this.parentHeldCompact(w.height, slot)).map((w) => w.parentId))) {
      if (asked >= 4) return;
      if (this.blocks.has(parentId) || !this.onceASlot(this.asked, parentId)) continue;
      this.deps.network.broadcast({ kind: "get-block", hash: fromHex(parentId) });
      asked++;
    }
  }

  /**
   * Whether the parent of a block at `height` is likely held already as a compact block still
   * missing transactions: asking for it by hash would only bring the same compact again (issue 20:
   * a restarted node asked four such parents a slot, each answered by two holders, flooded). Its
   * transactions are what it lacks, and tryRebuild asks for them. A compact of that height is not
   * proof (it may be a sibling: the hash is unknown until rebuilt), so one slot in four asks anyway.
   */
  private parentHeldCompact(height: number, slot: number): boolean {
    if (slot % 4 === 0) return false;
    for (const c of this.pendingCompacts.values()) if (c.height === height - 1) return true;
    return false;
  }

  private holdOrphan(parentId: string, block: Block): void {
    const list = this.orphans.get(parentId) ?? [];
    if (list.length < 8) list.push(block);
    this.orphans.set(parentId, list);
  }

  /** Everything a vote depends on: the proposer's right to the slot, its reveal and signature, the state transition. */
  private validate(block: Block, hash: Uint8Array, parent: TreeBlock): TreeBlock | null {
    const h = block.header;
    const reject = () => {
      this.stats.rejectedBlocks++;
      return null;
    };
    if (h.slot <= parent.slot || h.height !== parent.height + 1) return reject();
    const ledger = new Ledger(parent.state);
    const proposer = scheduledProposer(parent.weights, ledger.meta().randaoMix, h.slot, Number(ledger.params().fallbackRanks), h.proposer);
    if (proposer === null) return reject();
    if (!this.deps.verifier.randao(h.slot, h.randaoReveal, proposer.blsPublicKey)) return reject();
    if (!this.deps.verifier.vote(h.slot, hash, h.signature, proposer.blsPublicKey)) return reject();
    if (h.certificate !== null && !verifyCertificate(h.certificate, parent, parent.weights, this.deps.verifier)) return reject();
    let applied;
    try {
      applied = applyBlock(parent.state, block, parentInfo(parent), { chainId: this.chainId });
    } catch (e) {
      if (e instanceof MeshChainError) return reject();
      throw e;
    }
    const state = parent.state.clone();
    state.commit(applied.changes, applied.tree);
    return treeBlock(hash, block, parent.id, { height: h.height, slot: h.slot, timestamp: h.timestamp }, state, applied);
  }

  /** Streamlet's vote rule, plus signer safety: one vote per slot, only for a block on a longest notarized chain. */
  private maybeVote(b: TreeBlock, parent: TreeBlock): void {
    if (!this.running || b.block === null) return;
    // Votes for stale slots would notarize sibling forks and starve finality of consecutive slots.
    if (b.slot < this.slotAt(this.deps.clock.now()) - 1) return;
    if (this.proposedSlots.has(b.slot)) return;
    const longest = this.head();
    if (!parent.notarized || parent.height < longest.height) return;
    const myIndex = b.weights.findIndex((w) => bytesEqual(w.address, this.deps.identity.address));
    if (myIndex < 0) return;
    try {
      this.deps.signer.approve(b.slot, b.hash);
    } catch (e) {
      if (!this.signingRefused(e)) throw e;
      return;
    }
    const signature = signVote(this.chainId, b.slot, b.hash, this.deps.identity.bls);
    b.votes.set(myIndex, signature);
    this.stats.voted++;
    this.noteVote(this.deps.identity.address, b);
    const vote = { kind: "vote", height: b.height, blockHash: b.hash, voter: myIndex, signature } as const;
    this.ownVotes.set(b.id, { vote, resent: false });
    // On the radio every validator answers the proposal at once: spread the votes out (vote-pacing.ts).
    if (this.deps.suppressDuplicateAnswers === true) {
      this.deps.clock.setTimeout(() => this.sendOwnVote(b, vote), votePauseMs(Number(this.params.slotMs), this.random));
    } else this.deps.network.broadcast(vote);
    this.checkCertified(b);
    // Votes answer the proposal all at once, and a hidden node's vote can collide at every receiver.
    // In the quiet middle of the slot the vote goes out once more (the same signature: nothing new
    // is signed) when the block still lacks a quorum here, or when this node's recent votes were
    // left out of certificates (others lacked them).
    this.deps.clock.setTimeout(() => {
      const votesLeftOut = this.deps.clock.now() - this.voteLeftOutAt < VOTE_LEFT_OUT_MEMORY_SLOTS * Number(this.params.slotMs);
      if (!b.notarized || votesLeftOut) this.resendVote(b);
    }, Math.max(0, this.slotStart(b.slot) + this.midSlotDelayMs() - this.deps.clock.now()));
  }

  /** Our vote for `b`, once more, while its slot lasts. */
  private resendVote(b: TreeBlock): void {
    const own = this.ownVotes.get(b.id);
    if (!this.running || own === undefined || own.resent || this.slotAt(this.deps.clock.now()) !== b.slot) return;
    own.resent = true;
    if (this.deps.suppressDuplicateAnswers === true && this.aggregates.covers(b.id, this.heldSigners(b))) {
      this.stats.votesCovered++;
      return;
    }
    this.stats.votesResent++;
    this.deps.network.broadcast(this.ownVoteMessage(b, own.vote));
  }

  /** Our paced vote on the radio: with the others' we hold, unless an aggregate heard already carries it. */
  private sendOwnVote(b: TreeBlock, vote: Extract<ConsensusMessage, { kind: "vote" }>): void {
    if (!this.running) return;
    if (this.aggregates.covers(b.id, [vote.voter])) {
      this.stats.votesCovered++;
      return;
    }
    this.deps.network.broadcast(this.ownVoteMessage(b, vote));
  }

  /** The signers of every checked vote this node holds for `b`, singly or in aggregates. */
  private heldSigners(b: TreeBlock): number[] {
    const singles = checkedSingles(b, b.votes, b.weights, this.deps.verifier).good;
    return [...new Set([...singles.keys(), ...this.aggregates.of(b.id).flatMap((a) => a.signers)])];
  }

  /**
   * On the radio, our vote goes out in one frame with every other vote we hold for the block (64
   * bytes on air, a lone vote 87); elsewhere, and when we hold no other, as the single vote.
   */
  private ownVoteMessage(b: TreeBlock, vote: Extract<ConsensusMessage, { kind: "vote" }>): ConsensusMessage {
    if (this.deps.suppressDuplicateAnswers !== true) return vote;
    const combined = combineVotes(checkedSingles(b, b.votes, b.weights, this.deps.verifier).good, this.aggregates.of(b.id), b.weights);
    if (combined === null || combined.signers.length < 2 || !combined.signers.includes(vote.voter)) return vote;
    this.stats.aggregatesSent++;
    return { kind: "vote-aggregate", height: b.height, blockRef: b.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: signerBitmap(combined.signers), signature: combined.signature };
  }

  /**
   * Several validators' votes in one frame: believed only once the aggregate verifies against the
   * block's voting set (a wrong bitmap or signature is dropped; it carries no sender's signature, so
   * nobody is charged). It counts toward notarization like the votes it carries.
   */
  private onVoteAggregate(m: Extract<ConsensusMessage, { kind: "vote-aggregate" }>): void {
    const ref = toHex(m.blockRef);
    // Two blocks of one height may share a prefix: the aggregate verifies for at most one of them.
    const candidates = [...this.blocks.values()].filter((x) => x.height === m.height && x.block !== null && x.id.startsWith(ref));
    if (candidates.length === 0) {
      if (m.height > this.root.height) this.aggregates.hold(`${m.height}:${ref}`, m);
      return;
    }
    const verified = candidates.map((x) => ({ b: x, signers: verifyAggregate(m, x, x.weights, this.deps.verifier) })).find((c) => c.signers !== null);
    if (verified === undefined || verified.signers === null) {
      this.stats.badAggregates++;
      return;
    }
    const { b, signers } = verified;
    const id = b.id;
    // A full certificate heard: our own copy for the nodes behind (shareHeadCertificate) can stay unsent.
    if (b.certificate !== null && signers.length >= signerIndices(b.certificate.signers).length) this.answered.set(`cert:${id}`, this.deps.clock.now());
    const fresh = this.aggregates.add(id, { signers, signature: m.signature });
    // Less the votes held singly: one signer left is that validator's own vote, recovered.
    const residual = reduceAggregate({ signers, signature: m.signature }, checkedSingles(b, b.votes, b.weights, this.deps.verifier).good);
    if (residual === null) return;
    if (fresh) this.stats.aggregatesReceived++;
    if (residual.signers.length === 1) {
      this.onVote({ kind: "vote", height: b.height, blockHash: b.hash, voter: residual.signers[0] as number, signature: residual.signature });
      return;
    }
    if (!fresh) return;
    for (const i of residual.signers) this.noteVote((b.weights[i] as (typeof b.weights)[number]).address, b);
    this.checkCertified(b);
  }

  /** A certificate for a block we voted for, without our vote: our votes are not getting through. */
  private noteCertificate(b: TreeBlock, certificate: NotarizationCertificate): void {
    const own = this.ownVotes.get(b.id);
    if (own !== undefined && !signerIndices(certificate.signers).includes(own.vote.voter)) this.voteLeftOutAt = this.deps.clock.now();
  }

  private onVote(v: Extract<ConsensusMessage, { kind: "vote" }>): void {
    const id = toHex(v.blockHash);
    const b = this.blocks.get(id);
    if (b === undefined) {
      if (v.height <= this.root.height) return;
      if (this.pendingVotes.size >= MAX_PENDING && !this.pendingVotes.has(id)) return;
      const list = this.pendingVotes.get(id) ?? [];
      if (list.length < 256) list.push(v);
      this.pendingVotes.set(id, list);
      return;
    }
    const voter = b.weights[v.voter];
    if (voter === undefined || v.height !== b.height) return;
    this.detectDoubleVote(voter.address, voter.blsPublicKey, b.slot, v.blockHash, v.signature);
    if (b.votes.has(v.voter)) return;
    b.votes.set(v.voter, v.signature);
    this.stats.votesReceived++;
    // Shown to the operator as the validator's last vote: only once its signature checks (memoised, so
    // certifying the block later costs nothing more).
    if (this.deps.verifier.vote(b.slot, b.hash, v.signature, voter.blsPublicKey)) this.noteVote(voter.address, b);
    const wasNotarized = b.notarized;
    this.checkCertified(b);
    // A vote sent again in the middle of the slot completed our quorum: its sender was short of one
    // too, likely for want of ours (losses between two nodes tend to go both ways).
    const now = this.deps.clock.now();
    if (!wasNotarized && b.notarized && this.slotAt(now) === b.slot && now >= this.slotStart(b.slot) + Number(this.params.slotMs) / 3) {
      this.deps.clock.setTimeout(() => this.resendVote(b), Math.floor(this.random() * this.answerWindowMs()));
    }
  }

  /** Transactions in the blocks between the head and finality: they wait for finality, empty blocks do not. */
  get unfinalizedTxCount(): number {
    let count = 0;
    for (let b: TreeBlock | undefined = this.head(); b !== undefined && b.id !== this.root.id; b = b.parentId === null ? undefined : this.blocks.get(b.parentId)) {
      count += b.block?.txs.length ?? 0;
    }
    return count;
  }

  private noteVote(validator: Uint8Array, b: TreeBlock): void {
    const key = toHex(validator);
    if ((this.lastVotes.get(key)?.slot ?? -1) <= b.slot) this.lastVotes.set(key, { slot: b.slot, height: b.height, heardAtMs: this.deps.clock.now() });
  }

  private checkCertified(b: TreeBlock): void {
    if (b.notarized || b.block === null) return;
    const { certificate, badVoters } = tryCertifyWithAggregates(b, b.votes, this.aggregates.of(b.id), b.weights, this.deps.verifier);
    for (const i of badVoters) b.votes.delete(i);
    if (certificate !== null) this.markNotarized(b, certificate);
  }

  private acceptCertificate(b: TreeBlock, certificate: NotarizationCertificate): void {
    if (b.notarized || !bytesEqual(certificate.blockHash, b.hash)) return;
    if (!verifyCertificate(certificate, b, b.weights, this.deps.verifier)) return;
    this.markNotarized(b, certificate);
  }

  private markNotarized(b: TreeBlock, certificate: NotarizationCertificate): void {
    b.certificate = certificate;
    b.notarized = true;
    this.stats.notarized++;
    this.checkFinality();
  }

  /** The middle of three notarized blocks chained in consecutive slots is final, with all before it. */
  private checkFinality(): void {
    let best: TreeBlock | null = null;
    let witness: TreeBlock | null = null;
    for (const x of this.blocks.values()) {
      if (!x.notarized || x.parentId === null) continue;
      const p = this.blocks.get(x.parentId);
      if (p === undefined || !p.notarized || p.parentId === null) continue;
      const g = this.blocks.get(p.parentId);
      if (g === undefined || !g.notarized || !finalizesMiddle(g, p, x)) continue;
      if (p.height > this.root.height && (best === null || p.height > best.height)) {
        best = p;
        witness = x;
      }
    }
    if (best === null || witness === null || witness.block === null || witness.certificate === null) return;
    this.witness = { id: witness.id, hash: witness.hash, block: witness.block, certificate: witness.certificate };
    this.finalize(best);
  }

  /** A signature refused by the signing record (a conflict), or not made because the record could not be written. */
  private signingRefused(e: unknown): boolean {
    if (e instanceof SignerSafetyError) this.stats.refusedBySignerSafety++;
    else if (e instanceof MeshChainError) this.stats.signingPaused++;
    else return false;
    return true;
  }

  /** Try again to finalize what is final but could not be committed (the store failed a write). */
  retryFinality(): void {
    if (this.running) this.checkFinality();
  }

  private finalize(target: TreeBlock): void {
    const path: TreeBlock[] = [];
    for (let b: TreeBlock | undefined = target; b !== undefined && b.id !== this.root.id; b = b.parentId === null ? undefined : this.blocks.get(b.parentId)) path.unshift(b);
    if (path[0]?.parentId !== this.root.id) return;
    // The store commits first: memory moves past a block only once the disk holds it.
    try {
      this.deps.onFinalized?.(path);
    } catch (e) {
      if (!(e instanceof MeshChainError)) throw e;
      this.stats.commitFailures++;
      return;
    }
    for (const b of path) {
      this.finalizedIds.push(b.id);
      const parent = b.parentId === null ? undefined : this.blocks.get(b.parentId);
      if (b.block !== null) {
        const compact = this.deps.compactBlocks === true && parent !== undefined ? compactBlock(b.block, parent, b.certificate) : null;
        // Older blocks are the chain store's (and sync's) to serve: the map forgets them.
        this.finalizedBlocks.set(b.id, { block: b.block, certificate: b.certificate, compact });
      }
    }
    this.root = target;
    this.stats.finalized += path.length;
    // Keep only descendants of the new root.
    const keep = new Set<string>([target.id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const b of this.blocks.values()) {
        if (!keep.has(b.id) && b.parentId !== null && keep.has(b.parentId)) {
          keep.add(b.id);
          grew = true;
        }
      }
    }
    for (const id of [...this.blocks.keys()]) if (!keep.has(id)) this.blocks.delete(id);
    // Whatever waits on a block at or below the new root either arrived or lost: stop asking for its parent.
    for (const [parentId, waiting] of [...this.orphans]) {
      const live = waiting.filter((o) => o.header.height > target.height + 1 || (o.header.height === target.height + 1 && parentId === target.id));
      if (live.length === 0) this.orphans.delete(parentId);
      else this.orphans.set(parentId, live);
    }
    for (const [key, c] of [...this.pendingCompacts]) if (c.height <= target.height) this.pendingCompacts.delete(key);
    const included = path.flatMap((b) => (b.block === null ? [] : b.block.txs.map((t) => toHex(txHash(t.bytes)))));
    this.deps.mempool.removeFinal(included);
  }

  /**
   * Send again a sender's next transaction that the chain passes over (OverlookedTxs says when):
   * one holder does, at a random moment in the middle third of the slot (after the proposal and
   * votes), skipped when another holder's copy is heard first.
   */
  private resendOverlooked(): void {
    if (this.catchingUp()) return;
    const params = this.params;
    const slotMs = Number(params.slotMs);
    const now = this.deps.clock.now();
    const full = (block: Block) => block.txs.length >= Number(params.maxBlockTxs) || block.txs.reduce((n, t) => n + t.bytes.length, 0) + FULL_BLOCK_SLACK_BYTES > Number(params.maxBlockBytes);
    const blocks = [...this.blocks.values()].flatMap((b) => (b.block === null ? [] : [{ slotStartMs: this.slotStart(b.slot), full: full(b.block), txs: b.block.txs }]));
    const overlooked = this.overlooked.overlooked(this.deps.mempool.candidates(), { now, blocks, marginMs: this.answerWindowMs(), silenceMs: 2 * slotMs, resendEveryMs: 3 * slotMs, perSenderPerBlock: this.deps.mempool.perSenderPerBlock });
    for (const tx of overlooked) {
      const id = toHex(txHash(tx.bytes));
      this.deps.clock.setTimeout(() => {
        if (!this.running || (this.heardTxs.get(id)?.at ?? -1) > now) return;
        this.stats.txsResent++;
        this.deps.network.broadcast({ kind: "tx", tx });
      }, this.midSlotDelayMs());
    }
  }

  /** A node still catching up judges by a chain others have moved past: what it lacks or holds may be final already. */
  private catchingUp(): boolean {
    return this.orphans.size > 0 || this.pendingCompacts.size > 0 || this.deps.clock.now() - this.peerAheadAt < 2 * Number(this.params.slotMs);
  }

  /** A random moment in the middle third of a slot, once its proposal and votes have had the channel. */
  private midSlotDelayMs(): number {
    return (Number(this.params.slotMs) / 3) * (1 + this.random());
  }

  private detectDoubleVote(validator: Uint8Array, publicKey: Uint8Array, slot: number, hash: Uint8Array, signature: Uint8Array): void {
    const key = `${toHex(validator)}:${slot}`;
    const first = this.firstVote.get(key);
    if (first === undefined) {
      this.firstVote.set(key, { blockHash: hash, signature });
      return;
    }
    if (bytesEqual(first.blockHash, hash)) return;
    const v = this.deps.verifier;
    if (!v.vote(slot, first.blockHash, first.signature, publicKey) || !v.vote(slot, hash, signature, publicKey)) return;
    this.reportEvidence({ type: EvidenceType.DoubleVote, validator, slot, first, second: { blockHash: hash, signature } });
  }

  private detectDoubleProposal(block: Block): void {
    const key = `${toHex(block.header.proposer)}:${block.header.slot}`;
    const first = this.firstProposal.get(key);
    if (first === undefined) {
      this.firstProposal.set(key, block);
      return;
    }
    if (bytesEqual(blockHash(first.header), blockHash(block.header))) return;
    this.reportEvidence({ type: EvidenceType.DoubleProposal, first: first.header, second: block.header });
  }

  /** Turn equivocation into an evidence transaction of our own, for the next block to carry. */
  private reportEvidence(evidence: Evidence): void {
    this.stats.evidenceFound++;
    const state = this.head().state;
    const me = this.deps.identity;
    const account = new Ledger(state).account(me.address);
    const params = new Ledger(state).params();
    const draft = { sender: me.address, nonce: account.nonce, fee: 0n, expiresAt: null, publicKey: account.publicKey === null ? me.ed25519.publicKey : null, body: { kind: TxKind.Evidence as const, evidence } };
    const size = signTx(draft, this.chainId, me.ed25519).bytes.length;
    // The fee's own varint may lengthen the transaction: allow for it.
    const tx = signTx({ ...draft, fee: BigInt(size + 10) * params.minFeePerByte }, this.chainId, me.ed25519);
    this.deps.mempool.add(tx);
  }
}
