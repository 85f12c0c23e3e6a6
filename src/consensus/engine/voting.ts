import { type NotarizationCertificate, signerBitmap, signerIndices } from "../../core/block/certificate.js";
import { signVote } from "../../core/block/vote.js";
import { BoundedMap, BoundedSet } from "../../core/bounded.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { VOTE_BLOCK_REF_BYTES } from "../../mesh/messages/relay.js";
import type { TreeBlock } from "../block-tree.js";
import { verifyCertificate } from "../certificates.js";
import type { ConsensusMessage, Reach } from "../messages.js";
import { carriesQuorum, checkedSingles, combineVotes, HeardAggregates, reduceAggregate, tryCertifyWithAggregates, verifyAggregate } from "../vote-aggregation.js";
import type { VoteTurn } from "../vote-pacing.js";
import { ClaimedAhead } from "./claimed-ahead.js";
import { type EngineContext, type EngineParts, LAST_VOTES_KEPT, MAX_PENDING, OWN_VOTES_KEPT } from "./context.js";
import { responderRank } from "./responder.js";
import type { LastVote, VoteAggregateMessage, VoteMessage } from "./types.js";

/** After a certificate leaves our vote out, votes are sent twice for this many slots. */
const VOTE_LEFT_OUT_MEMORY_SLOTS = 6;
/** Votes held for one block not yet known. */
const VOTES_PER_PENDING_BLOCK = 256;

/**
 * Votes and notarization: the two-slot rule's vote (with its lock) for our own vote (paced and aggregated on the radio,
 * sent again mid-slot when it seems lost), others' votes and vote aggregates checked and counted, and
 * a block notarized once more than two thirds of its voting weight is in.
 */
export class Voting {
  /** Votes for blocks not yet known, by block id (new blocks are refused once MAX_PENDING wait). */
  private readonly pendingVotes = new BoundedMap<string, VoteMessage[]>(MAX_PENDING);
  /** Checked vote aggregates by block, and those for blocks not yet known. */
  private readonly aggregates = new HeardAggregates<VoteAggregateMessage>(MAX_PENDING);
  /** Our recent votes, by block id, whether each went out a second time, and whether its turn was skipped (a quorum was on air). */
  private readonly ownVotes = new BoundedMap<string, { readonly vote: VoteMessage; resent: boolean; withheld: boolean }>(OWN_VOTES_KEPT);
  /** When one frame (an aggregate, or a certificate with a block) last brought a quorum for a block, by block id. */
  private readonly quorumHeardAt = new BoundedMap<string, number>(MAX_PENDING);
  /** Slots we proposed in: the block signature was our vote there. */
  private readonly proposedSlots = new BoundedSet<number>(MAX_PENDING);
  /** When a certificate last left our vote out. */
  private voteLeftOutAt = Number.NEGATIVE_INFINITY;
  /** Blocks above our head that heard aggregates name and we lack. */
  readonly claimed: ClaimedAhead;
  /** Each validator's last vote, keyed by its address in hex. */
  readonly lastVotes = new BoundedMap<string, LastVote>(LAST_VOTES_KEPT);

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {
    this.claimed = new ClaimedAhead(ctx, parts);
  }

  proposed(slot: number): void {
    this.proposedSlots.add(slot);
  }

  /** A block joined the tree: count the votes and aggregates that were waiting for it. */
  blockArrived(b: TreeBlock): void {
    for (const v of this.pendingVotes.get(b.id) ?? []) this.onVote(v);
    this.pendingVotes.delete(b.id);
    for (const a of this.aggregates.takePending(`${b.height}:${b.id.slice(0, 2 * VOTE_BLOCK_REF_BYTES)}`)) this.onVoteAggregate(a);
    this.parts.precommitting.blockArrived(b);
  }

  /**
   * A fresh proposal built below our notarized head (on a lower slot): its proposer lacks a
   * notarization we hold, and so do the validators that vote with it, while those locked above its
   * parent refuse it, so the slot is lost, and so is every slot until the notarization reaches them
   * (issue 20, plain seed 6: ten slots without a block while three nodes held it). On the radio our head's certificate goes out as one vote aggregate (64 bytes on air),
   * after a random pause within the answer window, unless another node's full copy is heard first.
   */
  shareHeadCertificate(b: TreeBlock, parent: TreeBlock): void {
    const ctx = this.ctx;
    if (!ctx.link.answersOverheard) return;
    const now = ctx.now();
    const head = ctx.head();
    const certificate = head.certificate;
    if (b.slot !== ctx.slotAt(now) || parent.slot >= head.slot || certificate === null || head.block === null) return;
    // Only a signer sends it: an aggregate on air carries its sender's own vote (§15; the
    // simulator's double-vote accounting reads it so), and a signer holds the block it names.
    const mine = head.weights.findIndex((w) => bytesEqual(w.address, ctx.deps.identity.address));
    if (mine < 0 || !signerIndices(certificate.signers).includes(mine)) return;
    const key = `cert:${head.id}`;
    if (!ctx.onceASlot(ctx.asked, key)) return;
    ctx.deps.clock.setTimeout(() => {
      if (!ctx.running || (ctx.answered.get(key) ?? Number.NEGATIVE_INFINITY) >= now) return;
      ctx.answered.set(key, ctx.now());
      ctx.stats.aggregatesSent++;
      ctx.broadcast({ kind: "vote-aggregate", height: head.height, blockRef: head.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: certificate.signers, signature: certificate.signature });
    }, Math.floor(ctx.random() * ctx.answerWindowMs()));
  }

  /**
   * The two-slot rule's vote (docs/consensus.md §6–7): one vote per slot, for a block on the
   * notarized block of the highest slot we know, whose slot is at least our lock; the signing record
   * checks the slot and lock and moves the lock to the parent's slot before the vote exists. The
   * lock alone keeps finality safe; asking for our head too keeps a notarized block from being
   * abandoned by a proposer that lacked its notarization (issue 20, airtime seeds 1-4: p95 median
   * 1,149 s without it, 943 s with it), and the lock is what still holds once a restart has lost the head.
   */
  maybeVote(b: TreeBlock, parent: TreeBlock): void {
    const ctx = this.ctx;
    if (!ctx.running || b.block === null) return;
    // Votes for stale slots would notarize sibling forks and starve finality of consecutive slots.
    if (b.slot < ctx.slotAt(ctx.now()) - 1) return;
    const myIndex = b.weights.findIndex((w) => bytesEqual(w.address, ctx.deps.identity.address));
    if (myIndex < 0) return;
    if (this.proposedSlots.has(b.slot)) {
      // Our block's header signature is our vote (block intake holds it in b.votes): it is what our
      // mid-slot frame carries if we are still short then, so withheld voters hear that we are.
      const signature = b.votes.get(myIndex);
      if (signature === undefined) return;
      this.ownVotes.set(b.id, { vote: { kind: "vote", height: b.height, blockHash: b.hash, voter: myIndex, signature }, resent: false, withheld: false });
      this.retryMidSlot(b, true);
      return;
    }
    if (!parent.notarized || parent.slot < ctx.head().slot) return;
    try {
      ctx.deps.signer.approve(b.slot, b.hash, parent.slot);
    } catch (e) {
      if (!ctx.signingRefused(e)) throw e;
      return;
    }
    const signature = signVote(ctx.chainId, b.slot, b.hash, ctx.deps.identity.bls);
    b.votes.set(myIndex, signature);
    ctx.stats.voted++;
    this.noteVote(ctx.deps.identity.address, b);
    const vote = { kind: "vote", height: b.height, blockHash: b.hash, voter: myIndex, signature } as const;
    this.ownVotes.set(b.id, { vote, resent: false, withheld: false });
    const pause = ctx.link.ownVotePauseMs(ctx.random, ctx.slotMs, this.turn(b, b.block));
    if (pause === 0) ctx.stats.votesLate++;
    if (pause !== null) ctx.later(() => this.sendOwnVote(b, vote), pause);
    else ctx.broadcast(vote);
    this.checkCertified(b);
    this.retryMidSlot(b, false);
  }

  /**
   * Votes answer the proposal all at once, and a hidden node's vote can collide at every receiver.
   * In the quiet middle of the slot the vote goes out once more (the same signature: nothing new
   * is signed) when the block still lacks a quorum here, or when this node's recent votes were
   * left out of certificates (others lacked them). A vote withheld because a quorum was on air is
   * not one that failed to get through: the mesh had the notarization without it. A proposer
   * (`onlyIfShort`) never sent its header signature as a vote, so it speaks only when short.
   */
  private retryMidSlot(b: TreeBlock, onlyIfShort: boolean): void {
    const ctx = this.ctx;
    ctx.later(() => {
      const votesLeftOut = !onlyIfShort && ctx.now() - this.voteLeftOutAt < VOTE_LEFT_OUT_MEMORY_SLOTS * ctx.slotMs;
      if (!b.notarized || (votesLeftOut && this.ownVotes.get(b.id)?.withheld !== true)) this.resendVote(b);
    }, Math.max(0, ctx.slotStart(b.slot) + ctx.midSlotDelayMs() - ctx.now()));
  }

  /**
   * Our turn to send our vote for `b`, counted from its proposal: the header's timestamp (whole
   * seconds), kept within the block's slot and not after now, so a proposer's clock can shift turns
   * by at most the time the block took to arrive.
   */
  private turn(b: TreeBlock, block: NonNullable<TreeBlock["block"]>): VoteTurn {
    const now = this.ctx.now();
    const proposedAt = Math.min(now, Math.max(this.ctx.slotStart(b.slot), block.header.timestamp * 1000));
    return { ...voteRank(b.weights.map((w) => w.address), block.header.proposer, this.ctx.deps.identity.address, b.slot), sinceProposalMs: now - proposedAt };
  }

  /** Our vote for `b`, once more, while its slot lasts. */
  private resendVote(b: TreeBlock): void {
    const ctx = this.ctx;
    const own = this.ownVotes.get(b.id);
    if (!ctx.running || own === undefined || own.resent || ctx.slotAt(ctx.now()) !== b.slot) return;
    own.resent = true;
    // Short of a quorum, the frame goes out even if heard aggregates carry all we hold: it says we
    // are short, and withheld voters answer only a node that says so (answerShortOfQuorum).
    if (b.notarized && ctx.link.aggregatesOwnVotes && this.aggregates.covers(b.id, this.heldSigners(b))) {
      ctx.stats.votesCovered++;
      return;
    }
    ctx.stats.votesResent++;
    if (b.notarized) ctx.stats.votesResentNotarized++;
    ctx.broadcast(this.ownVoteMessage(b, own.vote));
  }

  /**
   * Our paced vote on the radio, at our turn: with the others' we hold, unless an aggregate heard
   * already carries it, or one frame heard already carried a quorum for the block. Then the vote is
   * not needed: every node that heard that frame holds the notarization, and the next proposer
   * carries it in its header as the parent's certificate. A node that missed the frame is short of
   * a quorum and speaks at its own turn; one still short in the middle of the slot sends its votes
   * again, and a withheld voter that hears it answers with the quorum (onVoteAggregate).
   */
  private sendOwnVote(b: TreeBlock, vote: VoteMessage): void {
    if (!this.ctx.running) return;
    if (this.aggregates.covers(b.id, [vote.voter])) {
      this.ctx.stats.votesCovered++;
      return;
    }
    const own = this.ownVotes.get(b.id);
    if (own !== undefined && this.quorumHeardAt.has(b.id)) {
      own.withheld = true;
      this.ctx.stats.votesWithheld++;
      return;
    }
    const message = this.ownVoteMessage(b, vote);
    const reach = this.turnReach(b, message);
    if (reach === "neighbours") this.ctx.stats.votesToNeighbours++;
    else if (message.kind === "vote-aggregate" && carriesQuorum(signerIndices(message.signers), b.weights)) this.ctx.stats.voteQuorumFrames++;
    this.ctx.broadcast(message, reach);
  }

  /**
   * How far a turn frame travels. While every other validator of the block was heard directly, the
   * voters after us hear it without relays, and only they build on it: it goes to the neighbours
   * alone, which saves the mesh's relays of it (about 2.5 transmissions of the frame on the
   * devnet). The frame that carries a quorum goes mesh-wide: it is how followers, and any node out of
   * a voter's range, learn the notarization. Mid-slot copies and answers (resendVote) always go
   * mesh-wide: they speak to a node that missed something. A validator not heard directly (never, or
   * not lately, or only through relays) keeps every turn frame mesh-wide, so it still hears each one.
   */
  private turnReach(b: TreeBlock, message: ConsensusMessage): Reach {
    const signers = message.kind === "vote-aggregate" ? signerIndices(message.signers) : message.kind === "vote" ? [message.voter] : [];
    return turnFrameReach(this.ctx, b, signers);
  }

  /** The signers of every checked vote this node holds for `b`, singly or in aggregates. */
  private heldSigners(b: TreeBlock): number[] {
    const singles = checkedSingles(b, b.votes, b.weights, this.ctx.deps.verifier).good;
    return [...new Set([...singles.keys(), ...this.aggregates.of(b.id).flatMap((a) => a.signers)])];
  }

  /**
   * On the radio, our vote goes out in one frame with every other vote we hold for the block (64
   * bytes on air, a lone vote 87); elsewhere, and when we hold no other, as the single vote.
   */
  private ownVoteMessage(b: TreeBlock, vote: VoteMessage): ConsensusMessage {
    if (!this.ctx.link.aggregatesOwnVotes) return vote;
    const combined = combineVotes(checkedSingles(b, b.votes, b.weights, this.ctx.deps.verifier).good, this.aggregates.of(b.id), b.weights);
    if (combined === null || combined.signers.length < 2 || !combined.signers.includes(vote.voter)) return vote;
    this.ctx.stats.aggregatesSent++;
    return { kind: "vote-aggregate", height: b.height, blockRef: b.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: signerBitmap(combined.signers), signature: combined.signature };
  }

  /**
   * Several validators' votes in one frame: believed only once the aggregate verifies against the
   * block's voting set (a wrong bitmap or signature is dropped; it carries no sender's signature, so
   * nobody is charged). It counts toward notarization like the votes it carries.
   */
  onVoteAggregate(m: VoteAggregateMessage): void {
    const ctx = this.ctx;
    const ref = toHex(m.blockRef);
    // Two blocks of one height may share a prefix: the aggregate verifies for at most one of them.
    const candidates = ctx.heldByRef(m.height, ref);
    if (candidates.length === 0) {
      if (m.height > ctx.root.height) this.aggregates.hold(`${m.height}:${ref}`, m);
      if (m.height > ctx.head().height) this.claimed.note(m.height, ref);
      return;
    }
    const verified = candidates.map((x) => ({ b: x, signers: verifyAggregate(m, x, x.weights, ctx.deps.verifier) })).find((c) => c.signers !== null);
    if (verified === undefined || verified.signers === null) {
      ctx.stats.badAggregates++;
      return;
    }
    const { b, signers } = verified;
    const quorum = carriesQuorum(signers, b.weights);
    if (quorum) this.quorumHeardAt.set(b.id, ctx.now());
    else this.answerShortOfQuorum(b);
    // A full certificate heard: our own copy for the nodes behind (shareHeadCertificate) can stay unsent.
    if (b.certificate !== null && signers.length >= signerIndices(b.certificate.signers).length) ctx.answered.set(`cert:${b.id}`, ctx.now());
    const fresh = this.aggregates.add(b.id, { signers, signature: m.signature });
    // Less the votes held singly: one signer left is that validator's own vote, recovered.
    const residual = reduceAggregate({ signers, signature: m.signature }, checkedSingles(b, b.votes, b.weights, ctx.deps.verifier).good);
    if (residual === null) return;
    if (fresh) ctx.stats.aggregatesReceived++;
    if (residual.signers.length === 1) {
      this.onVote({ kind: "vote", height: b.height, blockHash: b.hash, voter: residual.signers[0] as number, signature: residual.signature });
      return;
    }
    if (!fresh) return;
    for (const i of residual.signers) this.noteVote((b.weights[i] as (typeof b.weights)[number]).address, b);
    this.checkCertified(b);
  }

  /**
   * An aggregate short of a quorum heard in the middle of the slot: its sender resent its votes
   * because it lacks the notarization (maybeVote's retry), or voted late. If our turn was skipped
   * because a quorum was on air, the sender missed that frame: after a random pause within the answer
   * window, unless a quorum is heard meanwhile, our vote goes out once, aggregated with all we hold
   * (a quorum). Without this a withheld voter would never speak for a block another lacks.
   */
  private answerShortOfQuorum(b: TreeBlock): void {
    const ctx = this.ctx;
    const own = this.ownVotes.get(b.id);
    const now = ctx.now();
    if (own === undefined || !own.withheld || own.resent || !b.notarized) return;
    if (ctx.slotAt(now) !== b.slot || now < ctx.slotStart(b.slot) + ctx.slotMs / 3) return;
    ctx.later(() => {
      if ((this.quorumHeardAt.get(b.id) ?? Number.NEGATIVE_INFINITY) > now) return;
      this.resendVote(b);
    }, Math.floor(ctx.random() * ctx.answerWindowMs()));
  }

  /** A certificate for a block we voted for, without our vote: our votes are not getting through (unless we withheld it). */
  noteCertificate(b: TreeBlock, certificate: NotarizationCertificate): void {
    const own = this.ownVotes.get(b.id);
    if (own !== undefined && !own.withheld && !signerIndices(certificate.signers).includes(own.vote.voter)) this.voteLeftOutAt = this.ctx.now();
  }

  onVote(v: VoteMessage): void {
    const ctx = this.ctx;
    const id = toHex(v.blockHash);
    const b = ctx.blocks.get(id);
    if (b === undefined) {
      if (v.height <= ctx.root.height) return;
      // Refuse a new block rather than forget one already waiting (so no eviction happens below).
      if (this.pendingVotes.size >= MAX_PENDING && !this.pendingVotes.has(id)) return;
      const list = this.pendingVotes.get(id) ?? [];
      if (list.length < VOTES_PER_PENDING_BLOCK) list.push(v);
      this.pendingVotes.set(id, list);
      return;
    }
    const voter = b.weights[v.voter];
    if (voter === undefined || v.height !== b.height) return;
    this.parts.equivocation.vote(voter.address, voter.blsPublicKey, b.slot, v.blockHash, v.signature);
    if (b.votes.has(v.voter)) return;
    b.votes.set(v.voter, v.signature);
    ctx.stats.votesReceived++;
    // Shown to the operator as the validator's last vote: only once its signature checks (memoised, so
    // certifying the block later costs nothing more).
    if (ctx.deps.verifier.vote(b.slot, b.hash, v.signature, voter.blsPublicKey)) this.noteVote(voter.address, b);
    const wasNotarized = b.notarized;
    this.checkCertified(b);
    // A vote sent again in the middle of the slot completed our quorum: its sender was short of one
    // too, likely for want of ours (losses between two nodes tend to go both ways).
    const now = ctx.now();
    if (!wasNotarized && b.notarized && ctx.slotAt(now) === b.slot && now >= ctx.slotStart(b.slot) + ctx.slotMs / 3) {
      ctx.later(() => this.resendVote(b), Math.floor(ctx.random() * ctx.answerWindowMs()));
    }
  }

  private noteVote(validator: Uint8Array, b: TreeBlock): void {
    const key = toHex(validator);
    if ((this.lastVotes.get(key)?.slot ?? -1) <= b.slot) this.lastVotes.set(key, { slot: b.slot, height: b.height, heardAtMs: this.ctx.now() });
  }

  checkCertified(b: TreeBlock): void {
    if (b.notarized || b.block === null) return;
    const { certificate, badVoters } = tryCertifyWithAggregates(b, b.votes, this.aggregates.of(b.id), b.weights, this.ctx.deps.verifier);
    for (const i of badVoters) b.votes.delete(i);
    if (certificate !== null) this.markNotarized(b, certificate);
  }

  acceptCertificate(b: TreeBlock, certificate: NotarizationCertificate): void {
    if (b.notarized || !bytesEqual(certificate.blockHash, b.hash)) return;
    if (!verifyCertificate(certificate, b, b.weights, this.ctx.deps.verifier)) return;
    // A certificate comes in one frame (a child's header, a block answer): the mesh has the quorum.
    this.quorumHeardAt.set(b.id, this.ctx.now());
    this.markNotarized(b, certificate);
  }

  private markNotarized(b: TreeBlock, certificate: NotarizationCertificate): void {
    b.certificate = certificate;
    b.notarized = true;
    this.ctx.stats.notarized++;
    this.parts.finalizing.check();
    this.parts.precommitting.onNotarized(b);
  }

  /** Re-aggregate a parent's certificate with every vote now known, so late voters still count if they made it. */
  recertify(b: TreeBlock): NotarizationCertificate | null {
    const { certificate } = tryCertifyWithAggregates(b, b.votes, this.aggregates.of(b.id), b.weights, this.ctx.deps.verifier);
    return certificate;
  }
}

/**
 * A voter's rank among a block's voters (vote-pacing.ts): the voting set less the proposer, whose
 * header signature is its vote, ordered by SHA-256 of the slot and each address (responderRank), so
 * every node works out the same order and the first to speak changes every slot. Rank 0 for a node
 * outside the set (it does not vote).
 */
export function voteRank(validators: readonly Uint8Array[], proposer: Uint8Array | null, self: Uint8Array, slot: number): { rank: number; voters: number } {
  const voters = validators.filter((a) => proposer === null || !bytesEqual(a, proposer));
  return { rank: Math.max(0, responderRank(voters, self, "vote", slot)), voters: voters.length };
}

/** How far a turn frame of `signers` for `b` travels (Voting.turnReach says why); precommit turns follow the same rule. */
export function turnFrameReach(ctx: EngineContext, b: TreeBlock, signers: readonly number[]): Reach {
  const network = ctx.deps.network;
  if (network.heardDirectly === undefined || carriesQuorum(signers, b.weights)) return "mesh";
  const self = ctx.deps.identity.address;
  return network.heardDirectly(b.weights.filter((w) => !bytesEqual(w.address, self)).map((w) => w.address)) ? "neighbours" : "mesh";
}
