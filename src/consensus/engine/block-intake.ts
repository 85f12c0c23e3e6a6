import type { Block } from "../../core/block/block.js";
import type { NotarizationCertificate } from "../../core/block/certificate.js";
import { blockHash } from "../../core/block/header.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { MeshChainError } from "../../core/errors.js";
import { applyBlock } from "../../core/state/block-transition.js";
import { Ledger } from "../../core/state/ledger.js";
import { parentInfo, type TreeBlock, treeBlock } from "../block-tree.js";
import { verifyCertificate } from "../certificates.js";
import { scheduledProposer } from "../schedule.js";
import type { EngineContext, EngineParts } from "./context.js";

/**
 * Where every block enters the tree (a proposal, a rebuilt compact block, an answer to a request,
 * our own proposal): checked against its parent, executed, added, and then each part that waited on
 * it is told: votes and aggregates held for it, our vote, orphans and compact proposals built on it.
 */
export class BlockIntake {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  onBlock(block: Block, certificate: NotarizationCertificate | null): void {
    const ctx = this.ctx;
    const { voting } = this.parts;
    const h = block.header;
    const hash = blockHash(h);
    const id = toHex(hash);
    const known = ctx.blocks.get(id);
    if (known !== undefined) {
      if (certificate !== null && !known.notarized) voting.acceptCertificate(known, certificate);
      return;
    }
    if (h.height <= ctx.root.height) return;
    const parentId = toHex(h.parentHash);
    const parent = ctx.blocks.get(parentId);
    if (parent === undefined) {
      this.parts.catchUp.orphan(parentId, h.parentHash, block);
      return;
    }
    const child = this.validate(block, hash, parent);
    if (child === null) return;
    this.parts.equivocation.proposal(block);
    ctx.blocks.set(id, child);
    // The header signature is the proposer's vote.
    const proposerIndex = child.weights.findIndex((w) => bytesEqual(w.address, h.proposer));
    if (proposerIndex >= 0) child.votes.set(proposerIndex, h.signature);
    if (h.certificate !== null) voting.noteCertificate(parent, h.certificate);
    if (h.certificate !== null && !parent.notarized) voting.acceptCertificate(parent, h.certificate);
    if (certificate !== null) voting.acceptCertificate(child, certificate);
    voting.blockArrived(child);
    voting.maybeVote(child, parent);
    voting.checkCertified(child);
    voting.shareHeadCertificate(child, parent);
    for (const o of this.parts.catchUp.takeOrphans(id) ?? []) this.onBlock(o, null);
    this.parts.compact.parentArrived(hash);
  }

  /** Everything a vote depends on: the proposer's right to the slot, its reveal and signature, the state transition. */
  private validate(block: Block, hash: Uint8Array, parent: TreeBlock): TreeBlock | null {
    const ctx = this.ctx;
    const h = block.header;
    const reject = () => {
      ctx.stats.rejectedBlocks++;
      return null;
    };
    if (h.slot <= parent.slot || h.height !== parent.height + 1) return reject();
    const ledger = new Ledger(parent.state);
    const proposer = scheduledProposer(parent.weights, ledger.meta().randaoMix, h.slot, Number(ledger.params().fallbackRanks), h.proposer);
    if (proposer === null) return reject();
    if (!ctx.deps.verifier.randao(h.slot, h.randaoReveal, proposer.blsPublicKey)) return reject();
    if (!ctx.deps.verifier.vote(h.slot, hash, h.signature, proposer.blsPublicKey)) return reject();
    if (h.certificate !== null && !verifyCertificate(h.certificate, parent, parent.weights, ctx.deps.verifier)) return reject();
    let applied;
    try {
      applied = applyBlock(parent.state, block, parentInfo(parent), { chainId: ctx.chainId });
    } catch (e) {
      if (e instanceof MeshChainError) return reject();
      throw e;
    }
    const state = parent.state.clone();
    state.commit(applied.changes, applied.tree);
    return treeBlock(hash, block, parent.id, { height: h.height, slot: h.slot, timestamp: h.timestamp }, state, applied);
  }
}
