import type { NotarizationCertificate } from "../core/block/certificate.js";
import { signerBitmap, signerIndices } from "../core/block/certificate.js";
import { blsAggregateSignatures } from "../core/crypto/bls.js";
import type { BlsVerifier } from "./verifier.js";
import { isQuorum, totalWeight, type WeightedValidator } from "./weights.js";

/**
 * What the signatures of a certificate or an aggregate are: votes (a notarization) or precommits
 * (docs/consensus.md, "Precommits"). Both sign (slot, hash), each under its own signing kind.
 */
export type SignatureKind = "vote" | "precommit";

/** Check one signature of `kind` (memoised by the verifier). */
export function verifyOne(verifier: BlsVerifier, kind: SignatureKind, slot: number, hash: Uint8Array, signature: Uint8Array, key: Uint8Array): boolean {
  return kind === "vote" ? verifier.vote(slot, hash, signature, key) : verifier.precommit(slot, hash, signature, key);
}

/** Check an aggregate of `kind` over exactly `keys`. */
export function verifyMany(verifier: BlsVerifier, kind: SignatureKind, slot: number, hash: Uint8Array, signature: Uint8Array, keys: readonly Uint8Array[]): boolean {
  return kind === "vote" ? verifier.aggregate(slot, hash, signature, keys) : verifier.precommitAggregate(slot, hash, signature, keys);
}

/**
 * Aggregate the collected votes for a block into a certificate once the valid ones carry more than
 * two thirds of the weight. Each vote is checked on its own (memoised, so a vote is verified once
 * however many blocks and peers carry it); invalid ones are reported so the caller can drop them.
 * Returns a null certificate below quorum.
 */
export function tryCertify(
  block: { readonly height: number; readonly slot: number; readonly hash: Uint8Array },
  votes: ReadonlyMap<number, Uint8Array>,
  weights: readonly WeightedValidator[],
  verifier: BlsVerifier,
  kind: SignatureKind = "vote",
): { certificate: NotarizationCertificate | null; badVoters: number[] } {
  const total = totalWeight(weights);
  const candidates = [...votes.keys()].filter((i) => i < weights.length).sort((a, b) => a - b);
  const offered = candidates.reduce((a, i) => a + (weights[i] as WeightedValidator).weight, 0n);
  if (!isQuorum(offered, total)) return { certificate: null, badVoters: [] };
  const good: number[] = [];
  const badVoters: number[] = [];
  for (const i of candidates) {
    if (verifyOne(verifier, kind, block.slot, block.hash, votes.get(i) as Uint8Array, (weights[i] as WeightedValidator).blsPublicKey)) good.push(i);
    else badVoters.push(i);
  }
  const signed = good.reduce((a, i) => a + (weights[i] as WeightedValidator).weight, 0n);
  if (!isQuorum(signed, total)) return { certificate: null, badVoters };
  const signature = blsAggregateSignatures(good.map((i) => votes.get(i) as Uint8Array));
  return { certificate: { height: block.height, blockHash: block.hash, signers: signerBitmap(good), signature }, badVoters };
}

/** The public keys behind a certificate's signers, or null when they are not a quorum of `weights`. */
export function quorumKeys(cert: NotarizationCertificate, weights: readonly WeightedValidator[]): Uint8Array[] | null {
  const indices = signerIndices(cert.signers);
  if (indices.some((i) => i >= weights.length)) return null;
  const signed = indices.reduce((a, i) => a + (weights[i] as WeightedValidator).weight, 0n);
  if (!isQuorum(signed, totalWeight(weights))) return null;
  return indices.map((i) => (weights[i] as WeightedValidator).blsPublicKey);
}

/**
 * Check a certificate for a block against that block's weighted voting set: a notarization, or
 * (kind "precommit") a precommit certificate, the same shape under the other signing kind. The
 * signature is checked over the block's own slot and hash, whatever hash the certificate names.
 */
export function verifyCertificate(
  cert: NotarizationCertificate,
  block: { readonly slot: number; readonly hash: Uint8Array },
  weights: readonly WeightedValidator[],
  verifier: BlsVerifier,
  kind: SignatureKind = "vote",
): boolean {
  const keys = quorumKeys(cert, weights);
  return keys !== null && verifyMany(verifier, kind, block.slot, block.hash, cert.signature, keys);
}
