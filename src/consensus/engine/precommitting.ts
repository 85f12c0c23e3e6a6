import { type NotarizationCertificate, signerBitmap } from "../../core/block/certificate.js";
import { signPrecommit } from "../../core/block/vote.js";
import { BoundedMap, BoundedSet } from "../../core/bounded.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { VOTE_BLOCK_REF_BYTES } from "../../mesh/messages/relay.js";
import type { TreeBlock } from "../block-tree.js";
import type { ConsensusMessage } from "../messages.js";
import { carriesQuorum, checkedSingles, combineVotes, HeardAggregates, reduceAggregate, tryCertifyWithAggregates, verifyAggregate } from "../vote-aggregation.js";
import { type EngineContext, type EngineParts, MAX_PENDING, OWN_VOTES_KEPT } from "./context.js";
import { PrecommitAnswers } from "./precommit-answers.js";
import { responderRank } from "./responder.js";
import { turnFrameReach } from "./voting.js";

type PrecommitAggregateMessage = Extract<ConsensusMessage, { kind: "precommit-aggregate" }>;

/**
 * The precommit round (docs/consensus.md, "Precommits"), on a chain whose genesis sets
 * `finalityRule` 1: once a block is notarized here and is our head, we precommit it (the signing
 * record checks that nothing after its slot was signed and that the slot is at least the lock, and
 * locks on it, before the signature exists), and a notarized block precommitted by more than two
 * thirds of its voting weight is final in its own slot. Precommits travel as votes do (§15): one
 * aggregate of all we hold, at our turn counted from the end of the vote turns, at hop limit 0 while
 * every other validator is heard directly, mesh-wide once it carries a quorum; no turn after a frame
 * that carried a quorum; once more after the last turn, mesh-wide, unless a quorum frame was heard.
 */
export class Precommitting {
  /** Checked-or-not single precommits by block id (checked when counted, like votes). */
  private readonly singles = new BoundedMap<string, Map<number, Uint8Array>>(MAX_PENDING);
  /** Checked precommit aggregates by block, and those for blocks not yet held. */
  private readonly aggregates = new HeardAggregates<PrecommitAggregateMessage>(MAX_PENDING);
  /** Precommit certificates of the blocks final by precommits here, by block id. */
  private readonly certificates = new BoundedMap<string, NotarizationCertificate>(MAX_PENDING);
  /** Blocks for which one frame heard carried a precommit quorum: every node that heard it has the finality. */
  private readonly quorumHeard = new BoundedSet<string>(MAX_PENDING);
  /** Blocks we precommitted, and whether our mid-slot copy went. */
  private readonly own = new BoundedMap<string, { resent: boolean }>(OWN_VOTES_KEPT);
  /** A stuck head's finality asked for, and answered for others (precommit-answers.ts, docs/consensus.md §18). */
  private readonly answers: PrecommitAnswers;

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {
    this.answers = new PrecommitAnswers(ctx, (b) => this.askAgain(b));
  }

  /** The chain's rule: precommits are made and counted only when its genesis says so. */
  get enabled(): boolean {
    return this.ctx.params.finalityRule === 1n;
  }

  /** The precommit certificate of `id` when it is final by precommits here. */
  certificateOf(id: string): NotarizationCertificate | undefined {
    return this.certificates.get(id);
  }

  /**
   * `b` is notarized here. If it is our head (the notarized block of the highest slot we know) and we
   * are in its voting set, precommit it; the record refuses once we signed in a later slot (the
   * two-slot rule then takes over for it). Then count what precommits already came.
   */
  onNotarized(b: TreeBlock): void {
    const ctx = this.ctx;
    if (!this.enabled || !ctx.running || b.block === null) return;
    this.answers.notarized(b);
    this.check(b);
    const myIndex = b.weights.findIndex((w) => bytesEqual(w.address, ctx.deps.identity.address));
    if (myIndex < 0 || this.own.has(b.id) || ctx.head().id !== b.id) return;
    // A notarization learned slots later helps no one: its block is final by its child or abandoned.
    if (b.slot < ctx.slotAt(ctx.now()) - 1) return;
    // Already signed in a later slot (a child's header brought the notarization): the record would
    // refuse, and that is the rule working, not a refusal to count.
    const last = ctx.deps.signer.last();
    if (last !== null && last.slot > b.slot) return;
    try {
      ctx.deps.signer.approvePrecommit(b.slot, b.hash);
    } catch (e) {
      if (!ctx.signingRefused(e)) throw e;
      return;
    }
    this.singlesOf(b.id).set(myIndex, signPrecommit(ctx.chainId, b.slot, b.hash, ctx.deps.identity.bls));
    ctx.stats.precommitted++;
    this.own.set(b.id, { resent: false });
    const self = ctx.deps.identity.address;
    const now = ctx.now();
    const origin = this.turnsStartAt(b, b.block);
    const turn = { rank: Math.max(0, responderRank(b.weights.map((w) => w.address), self, "precommit", b.slot)), voters: b.weights.length, sinceProposalMs: now - origin };
    const turnPause = ctx.link.ownVotePauseMs(ctx.random, ctx.slotMs, turn);
    const pause = turnPause === null ? null : Math.max(0, origin - now) + turnPause;
    if (pause !== null && pause > 0) ctx.later(() => this.send(b, false), pause);
    else this.send(b, false, pause === 0);
    this.check(b);
    if (pause === null) return;
    // After the last turn, one copy from a node that heard no quorum frame, at a random moment within
    // the answer window so that the first one with a quorum silences the rest.
    const retryAt = origin + (b.weights.length + 1) * ctx.link.turnStepMs(ctx.slotMs, b.weights.length) + Math.floor(ctx.random() * ctx.answerWindowMs());
    ctx.later(() => this.send(b, true), Math.max(pause, retryAt - now));
  }

  /**
   * Where precommit turns count from: the end of the block's vote turns (its proposal, read from the
   * header's timestamp kept within the slot and not after now, as votes read it, plus the voters'
   * steps). Every node counts from there, whenever it learned the notarization, so each turn's
   * frame carries the ones before it; counted from the local notarization, turns drifted apart and
   * few frames were silenced (devnet seed 1 at 150 s: 6.75 precommit frames a block, 11.5 s of airtime).
   */
  private turnsStartAt(b: TreeBlock, block: NonNullable<TreeBlock["block"]>): number {
    const ctx = this.ctx;
    const proposedAt = Math.min(ctx.now(), Math.max(ctx.slotStart(b.slot), block.header.timestamp * 1000));
    const voters = b.weights.filter((w) => !bytesEqual(w.address, block.header.proposer)).length;
    return proposedAt + voters * ctx.link.turnStepMs(ctx.slotMs, voters);
  }

  /**
   * Our precommit frame: every precommit we hold for `b` in one aggregate. A turn after a frame that
   * carried a quorum (heard, or our own) stays silent, as votes do; so does the copy after the last
   * turn, which otherwise goes once, mesh-wide. Neither goes when one aggregate heard already
   * carries every precommit we would send: the frame would say nothing its hearers lack.
   */
  private send(b: TreeBlock, retry: boolean, late = false): void {
    const ctx = this.ctx;
    const own = this.own.get(b.id);
    if (!ctx.running || own === undefined) return;
    if (this.quorumHeard.has(b.id)) {
      if (!retry) ctx.stats.precommitsWithheld++;
      return;
    }
    if (retry) {
      if (own.resent || ctx.slotAt(ctx.now()) > b.slot + 1) return;
      own.resent = true;
    }
    const combined = combineVotes(checkedSingles(b, this.singlesOf(b.id), b.weights, ctx.deps.verifier, "precommit").good, this.aggregates.of(b.id), b.weights);
    if (combined === null) return;
    if (this.aggregates.covers(b.id, combined.signers)) {
      ctx.stats.precommitsCovered++;
      return;
    }
    ctx.stats.precommitsSent++;
    if (late) ctx.stats.precommitsLate++;
    if (retry) {
      ctx.stats.precommitCopies++;
      if (this.certificates.has(b.id)) ctx.stats.precommitCopiesWhenFinal++;
    }
    // Our own quorum frame silences our copy as another's would.
    if (carriesQuorum(combined.signers, b.weights)) {
      this.quorumHeard.add(b.id);
      this.answers.quorumOnAir(b);
      ctx.stats.precommitQuorumFrames++;
    }
    const message: PrecommitAggregateMessage = { kind: "precommit-aggregate", height: b.height, blockRef: b.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: signerBitmap(combined.signers), signature: combined.signature };
    ctx.broadcast(message, retry ? "mesh" : turnFrameReach(ctx, b, combined.signers));
  }

  /** Every precommit held for a stuck head, once more, mesh-wide (precommit-answers.ts says when). */
  private askAgain(b: TreeBlock): boolean {
    const ctx = this.ctx;
    const combined = combineVotes(checkedSingles(b, this.singlesOf(b.id), b.weights, ctx.deps.verifier, "precommit").good, this.aggregates.of(b.id), b.weights);
    if (combined === null) return false;
    ctx.stats.precommitsSent++;
    ctx.broadcast({ kind: "precommit-aggregate", height: b.height, blockRef: b.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: signerBitmap(combined.signers), signature: combined.signature }, "mesh");
    return true;
  }

  /**
   * Precommits heard: believed only once the aggregate verifies, as precommits, over exactly the
   * named signers' keys of the block's voting set; a bad one is dropped and charged to no one. One
   * for a block not held waits for it (bounded); on a chain without the rule it is ignored.
   */
  onPrecommitAggregate(m: PrecommitAggregateMessage): void {
    const ctx = this.ctx;
    if (!this.enabled) return;
    const ref = toHex(m.blockRef);
    const candidates = ctx.heldByRef(m.height, ref);
    if (candidates.length === 0) {
      if (m.height > ctx.root.height) this.aggregates.hold(`${m.height}:${ref}`, m);
      return;
    }
    const verified = candidates.map((x) => ({ b: x, signers: verifyAggregate(m, x, x.weights, ctx.deps.verifier, "precommit") })).find((c) => c.signers !== null);
    if (verified === undefined || verified.signers === null) {
      ctx.stats.badAggregates++;
      return;
    }
    const { b, signers } = verified;
    if (carriesQuorum(signers, b.weights)) {
      this.quorumHeard.add(b.id);
      this.answers.quorumOnAir(b);
    } else this.answers.shortHeard(b, this.certificates.get(b.id));
    if (!this.aggregates.add(b.id, { signers, signature: m.signature })) return;
    const singles = this.singlesOf(b.id);
    const residual = reduceAggregate({ signers, signature: m.signature }, checkedSingles(b, singles, b.weights, ctx.deps.verifier, "precommit").good);
    if (residual !== null && residual.signers.length === 1) singles.set(residual.signers[0] as number, residual.signature);
    this.check(b);
  }

  /** A block joined the tree: count the precommit aggregates that waited for it. */
  blockArrived(b: TreeBlock): void {
    for (const a of this.aggregates.takePending(`${b.height}:${b.id.slice(0, 2 * VOTE_BLOCK_REF_BYTES)}`)) this.onPrecommitAggregate(a);
  }

  /**
   * Final by precommits: `b` notarized here and its checked precommits a quorum of its voting set.
   * Honest validators precommit only what they hold notarized, but a node believes the block's
   * notarization only from votes it checked itself.
   */
  private check(b: TreeBlock): void {
    if (!b.notarized || b.block === null || this.certificates.has(b.id) || b.height <= this.ctx.root.height) return;
    const singles = this.singlesOf(b.id);
    const { certificate, badVoters } = tryCertifyWithAggregates(b, singles, this.aggregates.of(b.id), b.weights, this.ctx.deps.verifier, "precommit");
    for (const i of badVoters) singles.delete(i);
    if (certificate === null) return;
    this.certificates.set(b.id, certificate);
    this.ctx.stats.finalByPrecommit++;
    this.parts.finalizing.check();
  }

  private singlesOf(id: string): Map<number, Uint8Array> {
    let m = this.singles.get(id);
    if (m === undefined) {
      m = new Map();
      this.singles.set(id, m);
    }
    return m;
  }
}
