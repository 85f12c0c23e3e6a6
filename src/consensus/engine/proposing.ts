import type { NotarizationCertificate } from "../../core/block/certificate.js";
import { bytesEqual } from "../../core/bytes.js";
import { produceBlock } from "../../core/chain/produce.js";
import { MeshChainError } from "../../core/errors.js";
import { Ledger } from "../../core/state/ledger.js";
import { parentInfo, type TreeBlock } from "../block-tree.js";
import { compactBlock } from "../compact-blocks.js";
import { proposerRanks } from "../schedule.js";
import type { EngineContext, EngineParts } from "./context.js";
import { nonceAt } from "./tx-repair.js";

/**
 * Proposing: in each slot the validators ranked by weight (with randao) may propose, the first at
 * once and the fallbacks after a delay, extending the head with what the pool offers, when there is
 * work for a block.
 */
export class Proposing {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  /** A new slot began: if we are among its proposers, propose after our rank's delay. */
  onSlot(slot: number): void {
    const ctx = this.ctx;
    const head = ctx.head();
    const ledger = new Ledger(head.state);
    const params = ledger.params();
    const ranks = proposerRanks(head.weights, ledger.meta().randaoMix, slot, Number(params.fallbackRanks));
    const rank = ranks.findIndex((a) => bytesEqual(a, ctx.deps.identity.address));
    ctx.stats.slots++;
    if (rank === 0) ctx.stats.ledSlots++;
    if (rank >= 0) {
      const delay = Math.min(Number(params.fallbackDelayMs), Number(params.slotMs) / (Number(params.fallbackRanks) + 1)) * rank;
      ctx.later(() => this.maybePropose(slot, rank), delay);
    }
  }

  /**
   * Whether a block is worth its airtime: transactions are waiting, a block above finality carries
   * transactions (it needs successors to become final), or the heartbeat is due and no aggregate
   * heard names a block above our head that we lack (that holds it CLAIM_HOLD_SLOTS at most).
   * Empty blocks need no finality, so an idle chain falls silent.
   */
  private hasWork(head: TreeBlock, slot: number): boolean {
    const ctx = this.ctx;
    if (ctx.deps.mempool.candidates().length > 0) return true;
    for (let b: TreeBlock | undefined = head; b !== undefined && b.id !== ctx.root.id; b = ctx.parentOf(b)) {
      if (b.block !== null && b.block.txs.length > 0) return true;
    }
    const late = slot - head.slot - Number(new Ledger(head.state).params().heartbeatSlots);
    return late >= 0 && !this.parts.voting.claimed.holdsHeartbeat(late);
  }

  private maybePropose(slot: number, rank: number): void {
    const ctx = this.ctx;
    if (!ctx.running || ctx.slotAt(ctx.now()) !== slot) return;
    const proposedBefore = ctx.stats.proposed;
    this.proposeIfDue(slot, rank);
    if (rank === 0 && ctx.stats.proposed === proposedBefore) ctx.stats.ledSlotsSkipped++;
  }

  private proposeIfDue(slot: number, rank: number): void {
    const ctx = this.ctx;
    // A better-ranked proposal for this slot already arrived: stand back.
    if (rank > 0 && [...ctx.blocks.values()].some((b) => b.slot === slot)) return;
    // Just restarted: our head is most likely stale (catch-up.ts).
    if (this.parts.catchUp.holdsProposal()) return;
    const parent = ctx.head();
    if (slot <= parent.slot || !this.hasWork(parent, slot)) return;
    let certificate: NotarizationCertificate | null = null;
    if (parent.block !== null) certificate = this.parts.voting.recertify(parent) ?? parent.certificate;
    let produced;
    try {
      produced = produceBlock(parent.state, {
        chainId: ctx.chainId, parent: parentInfo(parent), slot, timestamp: Math.floor(ctx.now() / 1000),
        candidates: ctx.deps.mempool.candidates(nonceAt(parent.state)), certificate, proposer: { address: ctx.deps.identity.address, bls: ctx.deps.identity.bls },
      });
    } catch (e) {
      if (e instanceof MeshChainError) return;
      throw e;
    }
    const hash = produced.applied.hash;
    // The block signature is our vote for this slot: remember it durably before anyone sees it.
    try {
      ctx.deps.signer.approve(slot, hash, parent.slot);
    } catch (e) {
      if (!ctx.signingRefused(e)) throw e;
      return;
    }
    this.parts.voting.proposed(slot);
    ctx.stats.proposed++;
    if (ctx.link.compactRelay) ctx.broadcast({ kind: "compact-proposal", compact: compactBlock(produced.block, parent) });
    else ctx.broadcast({ kind: "proposal", block: produced.block });
    this.parts.intake.onBlock(produced.block, null);
  }
}
