import type { Block } from "../core/block/block.js";
import { type FinalityCertificate, signerBitmap } from "../core/block/certificate.js";
import { bytesEqual } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { type AppliedBlock, applyBlock, type ParentInfo } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import type { StateStore } from "../core/state/store.js";
import { quorumKeys } from "./certificates.js";
import { scheduledProposer } from "./schedule.js";
import type { BlsVerifier } from "./verifier.js";
import { isQuorum, totalWeight, votingWeights, type WeightedValidator } from "./weights.js";

export type RangeErrorCode =
  /** The first block does not build on the given parent: the peer is on another branch. */
  | "NOT_LINKED"
  | "NOT_SCHEDULED"
  | "BAD_SIGNATURE"
  | "BAD_NOTARIZATION"
  | "INVALID_BLOCK";

export interface VerifiedBlock {
  readonly block: Block;
  readonly applied: AppliedBlock;
  readonly notarization: FinalityCertificate;
  /** Notarized by its proposer's own signature (a proposer holding a quorum alone). */
  readonly byProposerAlone: boolean;
}

export interface RangeResult {
  /** The longest prefix that checked out, in order: safe to commit. */
  readonly verified: readonly VerifiedBlock[];
  /** Why the block after the prefix was refused; null when the rest merely lacks a notarization. */
  readonly failure: { readonly index: number; readonly code: RangeErrorCode; readonly reason: string } | null;
}

interface Pending {
  readonly block: Block;
  readonly applied: AppliedBlock;
  readonly notarization: FinalityCertificate;
  readonly byProposerAlone: boolean;
  /** The certificate's signers' keys, and the proposer's key for its own signature. */
  readonly notarizationKeys: Uint8Array[];
  readonly proposerKey: Uint8Array;
}

/**
 * Check a run of consecutive blocks fetched by sync, on top of `start`: each must build on the one
 * before, come from a proposer scheduled for its slot, apply to the state, and be notarized by more
 * than two thirds of the weight of its own voting set. A block's notarization is the certificate in
 * the next block's header, the one sent alongside it, or, when the proposer alone holds a quorum, the
 * proposer's own signature. All BLS checks of the run go into one batched pairing check.
 */
export function verifyRange(
  start: { readonly state: StateStore; readonly info: ParentInfo },
  blocks: readonly { readonly block: Block; readonly notarization: FinalityCertificate | null }[],
  chainId: string,
  verifier: BlsVerifier,
): RangeResult {
  const pending: Pending[] = [];
  let failure: RangeResult["failure"] = null;
  let state = start.state;
  let info = start.info;
  let weights = weightsOf(state, info.height);
  for (let i = 0; i < blocks.length; i++) {
    const { block } = blocks[i] as (typeof blocks)[number];
    const h = block.header;
    if (i === 0 && (!bytesEqual(h.parentHash, info.hash) || h.height !== info.height + 1)) {
      failure = { index: 0, code: "NOT_LINKED", reason: `block ${h.height} does not build on block ${info.height}` };
      break;
    }
    const ledger = new Ledger(state);
    const proposer = scheduledProposer(weights, ledger.meta().randaoMix, h.slot, Number(ledger.params().fallbackRanks), h.proposer);
    if (proposer === null) {
      failure = { index: i, code: "NOT_SCHEDULED", reason: `the proposer of block ${h.height} holds no rank in slot ${h.slot}` };
      break;
    }
    let applied: AppliedBlock;
    try {
      applied = applyBlock(state, block, info, { chainId });
    } catch (e) {
      if (!(e instanceof MeshChainError)) throw e;
      failure = { index: i, code: "INVALID_BLOCK", reason: `block ${h.height}: ${e.code}: ${e.message}` };
      break;
    }
    const next = state.clone();
    next.commit(applied.changes, applied.tree);
    const ownWeights = weightsOf(next, h.height);
    const found = notarizationOf(blocks, i, applied.hash, proposer, ownWeights, h.signature);
    if (found === null) break;
    const { notarization, byProposerAlone } = found;
    const keys = quorumKeys(notarization, ownWeights);
    if (keys === null || notarization.height !== h.height || !bytesEqual(notarization.blockHash, applied.hash)) {
      failure = { index: i, code: "BAD_NOTARIZATION", reason: `the notarization of block ${h.height} is not a quorum for it` };
      break;
    }
    pending.push({ block, applied, notarization, byProposerAlone, notarizationKeys: keys, proposerKey: proposer.blsPublicKey });
    state = next;
    info = { height: h.height, hash: applied.hash, slot: h.slot, timestamp: h.timestamp };
    weights = ownWeights;
  }
  // Two checks per block: its notarization and its proposer's signature (one and the same for a lone validator).
  const checks = pending.flatMap((p) => {
    const notarization = { slot: p.block.header.slot, blockHash: p.applied.hash, signature: p.notarization.signature, publicKeys: p.notarizationKeys };
    return [notarization, p.byProposerAlone ? notarization : { ...notarization, signature: p.block.header.signature, publicKeys: [p.proposerKey] }];
  });
  const unique = [...new Set(checks)];
  const result = verifier.votes(unique);
  if (result.ok) return { verified: pending.map(publicPart), failure };
  const index = Math.floor(checks.indexOf(unique[result.firstBad] as (typeof checks)[number]) / 2);
  const notarizationBad = checks.indexOf(unique[result.firstBad] as (typeof checks)[number]) % 2 === 0;
  const what = notarizationBad ? "notarization" : "proposer signature";
  return { verified: pending.slice(0, index).map(publicPart), failure: { index, code: notarizationBad ? "BAD_NOTARIZATION" : "BAD_SIGNATURE", reason: `the ${what} of block ${pending[index]?.block.header.height} does not verify` } };
}

const publicPart = ({ block, applied, notarization, byProposerAlone }: Pending): VerifiedBlock => ({ block, applied, notarization, byProposerAlone });

function weightsOf(state: StateStore, height: number): WeightedValidator[] {
  const ledger = new Ledger(state);
  return votingWeights(ledger, height);
}

/** Where block `i`'s notarization comes from; null when the run does not prove it (the next request will). */
function notarizationOf(
  blocks: readonly { readonly block: Block; readonly notarization: FinalityCertificate | null }[],
  i: number,
  hash: Uint8Array,
  proposer: WeightedValidator,
  weights: readonly WeightedValidator[],
  proposerSignature: Uint8Array,
): { notarization: FinalityCertificate; byProposerAlone: boolean } | null {
  const fromChild = blocks[i + 1]?.block.header.certificate ?? null;
  if (fromChild !== null) return { notarization: fromChild, byProposerAlone: false };
  const attached = blocks[i]?.notarization ?? null;
  if (attached !== null) return { notarization: attached, byProposerAlone: false };
  const index = weights.findIndex((w) => bytesEqual(w.address, proposer.address));
  // The proposer's signature is its vote: enough on its own when it holds a quorum (a lone validator).
  if (index >= 0 && isQuorum((weights[index] as WeightedValidator).weight, totalWeight(weights))) {
    return { notarization: { height: blocks[i]?.block.header.height ?? 0, blockHash: hash, signers: signerBitmap([index]), signature: proposerSignature }, byProposerAlone: true };
  }
  return null;
}
