import type { NotarizationCertificate } from "../../core/block/certificate.js";
import { signerIndices } from "../../core/block/certificate.js";
import { BoundedMap } from "../../core/bounded.js";
import { bytesEqual } from "../../core/bytes.js";
import { VOTE_BLOCK_REF_BYTES } from "../../mesh/messages/relay.js";
import type { TreeBlock } from "../block-tree.js";
import { type EngineContext, MAX_PENDING } from "./context.js";

/**
 * Slots, from the second after a block's own, in which a node whose head it still is without a
 * child and without finality says so, and in which a signer of its precommit certificate answers.
 * Turns end in the block's slot and the copy after the last turn by the next one (precommitting.ts),
 * so nothing in this window is part of the usual round: only a stuck node's ask, or a replay.
 */
const ASK_SLOTS = 2;
/** The first slot after a block's own of that window. */
const ASK_FROM = 2;

/**
 * A node that missed every frame carrying a block's precommit quorum (a hidden terminal, a restart, a
 * collision) learns the block's finality only from a later block's. On a chain going idle there is
 * none before the next heartbeat (devnet seed 7 with --kill, precommit rule: one node never finalized
 * the last block, so its eight transfers never counted as final through eight slots of drain).
 *
 * So a node whose head is notarized, not final here, and still childless from the second slot after
 * its own sends the precommits it holds for it once more, mesh-wide, once in each of ASK_SLOTS slots
 * (a short frame: it lacks the quorum), unless another node's was heard in that slot (the answer
 * reaches every node that lacks it; with every node asking, seed 1 --kill sent 16 unanswered asks
 * in a run where nobody had the quorum). A validator whose precommit is in the block's certificate
 * here answers a short frame heard in that window with the certificate, as a precommit aggregate,
 * mesh-wide, after a random pause within the answer window, unless a frame carrying a quorum for the
 * block is heard meanwhile (another's answer). The first attempt answered every short frame heard
 * after finality, turns included: 80 answers a run, the precommit airtime doubled and p95 finality
 * with --kill went from 636 s to 1030 s (seed 1), so the usual round's frames are left alone.
 *
 * Nothing new is signed: both frames are aggregates of precommits already made, checked by every
 * hearer as any is (precommitting.ts, onPrecommitAggregate). What a peer can provoke is bounded: only
 * an aggregate that verifies (genuine precommits, perhaps replayed) for a block ASK_FROM to
 * ASK_FROM + ASK_SLOTS - 1 slots old makes a signer answer, at most once in each slot per block: a
 * replaying peer buys at most ASK_SLOTS frames per block from each signer, the first silencing the rest.
 */
export class PrecommitAnswers {
  /** When a frame carrying a precommit quorum was last heard (or sent) for each block. */
  private readonly quorumHeardAt = new BoundedMap<string, number>(MAX_PENDING);
  /** When another node's short frame for each block was last heard in the asking window. */
  private readonly askHeardAt = new BoundedMap<string, number>(MAX_PENDING);
  /** When we last answered a short frame for each block (onceInSlot's memory). */
  private readonly answeredAt = new BoundedMap<string, number>(MAX_PENDING);

  constructor(
    private readonly ctx: EngineContext,
    /** Send the precommits held for `b` once more, mesh-wide; false when none is held (nothing sent). */
    private readonly ask: (b: TreeBlock) => boolean,
  ) {}

  /**
   * `b` is notarized here: if it is still a childless head short of finality in the window, ask then,
   * at a random moment in the middle third of the slot. The moment is drawn only for a head that is
   * stuck when that third begins: a draw for every block would shift every later random choice of
   * the node, and a run's outcome with it, for a rule that seldom acts.
   */
  notarized(b: TreeBlock): void {
    const ctx = this.ctx;
    for (let k = ASK_FROM; k < ASK_FROM + ASK_SLOTS; k++) {
      const at = ctx.slotStart(b.slot + k) + ctx.slotMs / 3;
      if (at > ctx.now()) {
        const last = k === ASK_FROM + ASK_SLOTS - 1;
        ctx.later(() => {
          if (this.stuck(b)) ctx.later(() => this.askIfStuck(b, last), Math.floor((ctx.random() * ctx.slotMs) / 3));
        }, at - ctx.now());
      }
    }
  }

  private stuck(b: TreeBlock): boolean {
    const ctx = this.ctx;
    if (!ctx.running || ctx.head().id !== b.id || b.height <= ctx.root.height) return false;
    for (const x of ctx.blocks.values()) if (x.parentId === b.id) return false;
    return true;
  }

  private askIfStuck(b: TreeBlock, last: boolean): void {
    const ctx = this.ctx;
    if (!this.stuck(b)) return;
    // Another node asked in this slot: the answer, if any signer holds the certificate, reaches us too.
    // Not in the last slot of the window: a replayed frame that only we heard would otherwise keep
    // us from ever asking (review, session 29).
    const asked = this.askHeardAt.get(b.id);
    if (!last && asked !== undefined && ctx.slotAt(asked) === ctx.slotAt(ctx.now())) return;
    if (this.ask(b)) ctx.stats.precommitAsks++;
  }

  /** A frame carrying a quorum of `b`'s precommits was on air (heard, or ours). */
  quorumOnAir(b: TreeBlock): void {
    this.quorumHeardAt.set(b.id, this.ctx.now());
  }

  /**
   * A checked precommit aggregate short of a quorum was heard for `b`; `certificate` is `b`'s precommit
   * certificate here (undefined while `b` is not final by precommits here, and then nothing is owed).
   */
  shortHeard(b: TreeBlock, certificate: NotarizationCertificate | undefined): void {
    const ctx = this.ctx;
    const now = ctx.now();
    const age = ctx.slotAt(now) - b.slot;
    if (age < ASK_FROM || age >= ASK_FROM + ASK_SLOTS) return;
    // Asks go in the middle third (notarized above); a frame heard outside the third and the hops after
    // it is a replay, and an answer to it would fall among the slot's proposal and votes (review, session 29).
    const intoSlot = now - ctx.slotStart(ctx.slotAt(now));
    if (intoSlot < ctx.slotMs / 3 || intoSlot >= (5 * ctx.slotMs) / 6) return;
    this.askHeardAt.set(b.id, now);
    if (certificate === undefined || !ctx.running || !ctx.link.answersOverheard) return;
    // Only a signer sends it: an aggregate on air carries its sender's own signature (as
    // shareHeadCertificate's), and the simulator's double-signing accounting reads it so.
    const mine = b.weights.findIndex((w) => bytesEqual(w.address, ctx.deps.identity.address));
    if (mine < 0 || !signerIndices(certificate.signers).includes(mine)) return;
    if (!ctx.onceInSlot(this.answeredAt, b.id)) return;
    ctx.later(() => {
      if (!ctx.running || (this.quorumHeardAt.get(b.id) ?? Number.NEGATIVE_INFINITY) > now || ctx.slotAt(ctx.now()) !== ctx.slotAt(now)) return;
      this.quorumHeardAt.set(b.id, ctx.now());
      ctx.stats.precommitAnswers++;
      ctx.broadcast({ kind: "precommit-aggregate", height: b.height, blockRef: b.hash.slice(0, VOTE_BLOCK_REF_BYTES), signers: certificate.signers, signature: certificate.signature }, "mesh");
    }, Math.floor(ctx.random() * ctx.answerWindowMs()));
  }
}
