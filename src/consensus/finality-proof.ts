import { toHex } from "../core/bytes.js";
import { quorumKeys } from "./certificates.js";
import type { FinalityTracker } from "./finality.js";
import type { NotarizationCertificate } from "../core/block/certificate.js";
import { blockHash, type BlockHeader } from "../core/block/header.js";
import type { BlsVerifier } from "./verifier.js";
import type { WeightedValidator } from "./weights.js";

/**
 * Which signatures of a fetched run must be pairing-checked (docs/consensus.md, "Range sync by
 * finality proof"). Once block F is proven final, every ancestor is final too: bound to F by the
 * parent-hash chain, and vouched for by the quorum that notarized F's proof, whose honest members
 * voted only after checking every ancestor. So the blocks up to the highest F the run proves need
 * their links, bodies and state transition checked, and only the notarizations proving F's finality
 * verified — not one pairing per block.
 *
 * The voting set that signs the proof must be one we already trust: the set our committed state
 * gives (the anchor). A set computed from the unproven blocks themselves could be the forger's, so a
 * proof counts only while the run's members (addresses and keys) are the anchor's, and only if its
 * certificates are a quorum by the anchor's weights as well as by their own. Where the members
 * change (an epoch start, a validator leaving) covering stops: the rest is checked block by block.
 */
export interface PlannedBlock {
  readonly header: BlockHeader;
  readonly notarization: NotarizationCertificate;
  readonly byProposerAlone: boolean;
  /** The voting set the executed state gives at this block's height. */
  readonly weights: readonly WeightedValidator[];
  /**
   * A precommit certificate for this block, when one came with it (docs/consensus.md,
   * "Precommits"). It counts only when `planFinalityProof` is given a verifier and its signature
   * checks: a plan must never rest on a certificate from a peer that only names enough signers.
   * (No sync answer carries one yet: range sync proves finality by notarizations alone.)
   */
  readonly precommit?: NotarizationCertificate | null;
}

export interface ProofPlan {
  /** Blocks 0..covered-1 are final by the proof: their proposer signatures and notarizations are not checked one by one. */
  readonly covered: number;
  /** Positions in the run whose notarization proves the finality of block `covered - 1`. */
  readonly proof: readonly number[];
  /** The height the proof makes final; null when the run proves nothing under the anchor set. */
  readonly finalHeight: number | null;
  /** The position whose precommit certificate the proof rests on (with that block's notarization); null for a proof by notarizations alone. */
  readonly precommit: number | null;
}

/** Members and their keys, in order: what a certificate's signer bitmap indexes. */
export function membersKey(weights: readonly WeightedValidator[]): string {
  return weights.map((w) => `${toHex(w.address)}:${toHex(w.blsPublicKey)}`).join(",");
}

/**
 * The highest block of `run` whose finality is proven under `anchor` (the voting set of the
 * committed tip), walking `tracker` (a fork: the caller's links are not moved).
 */
export function planFinalityProof(run: readonly PlannedBlock[], anchor: readonly WeightedValidator[], tracker: FinalityTracker, verifier: BlsVerifier | null = null): ProofPlan {
  const anchorKey = membersKey(anchor);
  const firstHeight = run[0]?.header.height ?? 0;
  let plan: ProofPlan = { covered: 0, proof: [], finalHeight: null, precommit: null };
  for (let j = 0; j < run.length; j++) {
    const b = run[j] as PlannedBlock;
    if (membersKey(b.weights) !== anchorKey) break;
    // A precommit certificate counts only as a quorum by both weightings, like the notarizations, and
    // only once its signature checks (review, session 27: signer names alone cost a forger nothing).
    const precommitted = b.precommit != null && b.precommit.height === b.header.height && quorumKeys(b.precommit, anchor) !== null && quorumKeys(b.precommit, b.weights) !== null && verifier !== null && precommitCertificateHolds(b, verifier);
    const twoSlot = tracker.fork().next(b.header, b.byProposerAlone);
    const final = tracker.next(b.header, b.byProposerAlone, precommitted);
    // A proof that only reaches back to committed blocks covers nothing new.
    if (final === null || final < firstHeight) continue;
    // Final by precommits when the notarization rule alone would not reach this high.
    const byPrecommit = !b.byProposerAlone && final === b.header.height && twoSlot !== final;
    // Links before the run are committed blocks, already proven; only the run's need checking.
    const proof = (b.byProposerAlone || byPrecommit ? [j] : Array.from({ length: tracker.slots }, (_, k) => j - tracker.slots + 1 + k)).filter((i) => i >= 0);
    if (!proof.every((i) => quorumKeys((run[i] as PlannedBlock).notarization, anchor) !== null)) continue;
    plan = { covered: final - firstHeight + 1, proof, finalHeight: final, precommit: byPrecommit ? j : null };
  }
  return plan;
}

/**
 * The pairing check a plan by precommits adds to its notarizations: the precommit certificate of
 * block `plan.precommit`, over exactly its signers' keys, under the Precommit signing kind. True
 * for a plan that does not rest on one. Until it returns true nothing the plan covers may be taken
 * as final.
 */
export function precommitProofHolds(run: readonly PlannedBlock[], plan: ProofPlan, verifier: BlsVerifier): boolean {
  if (plan.precommit === null) return true;
  const b = run[plan.precommit];
  return b !== undefined && precommitCertificateHolds(b, verifier);
}

function precommitCertificateHolds(b: PlannedBlock, verifier: BlsVerifier): boolean {
  const cert = b.precommit;
  if (cert == null) return false;
  const keys = quorumKeys(cert, b.weights);
  return keys !== null && verifier.precommitAggregate(b.header.slot, blockHash(b.header), cert.signature, keys);
}
