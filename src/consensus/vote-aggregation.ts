import { type NotarizationCertificate, signerBitmap, signerIndices } from "../core/block/certificate.js";
import { BoundedMap } from "../core/bounded.js";
import { blsAggregateSignatures, blsSubtractSignatures } from "../core/crypto/bls.js";
import { CryptoError } from "../core/errors.js";
import { type SignatureKind, tryCertify, verifyMany, verifyOne } from "./certificates.js";
import type { BlsVerifier } from "./verifier.js";
import { isQuorum, totalWeight, type WeightedValidator } from "./weights.js";

/*
 * Votes aggregated in flight (issue 20, docs/consensus.md §15). Precommits aggregate the same way
 * (each function takes the signature kind; votes by default). On the radio a vote is one frame of
 * about a second at LongFast, and every validator's is flooded by the mesh. A validator that holds
 * several votes for a block when its own goes out sends one frame with all of them (a signer bitmap
 * and their BLS aggregate, the size of one vote), and does not send again what an aggregate heard
 * already carried. Receivers believe an aggregate only once it verifies against the block's voting
 * set; aggregates carry nobody's own signature, so a bad one is dropped and charged to no one.
 */

/** Votes of several validators for one block, checked: their indices in the voting set, ascending, and their aggregate. */
export interface PartialAggregate {
  readonly signers: readonly number[];
  readonly signature: Uint8Array;
}

/** Aggregates kept per block: the best few (a peer cannot make a node hold more). */
const MAX_AGGREGATES_PER_BLOCK = 8;

type Block = { readonly height: number; readonly slot: number; readonly hash: Uint8Array };

const weightOf = (signers: readonly number[], weights: readonly WeightedValidator[]): bigint => signers.reduce((a, i) => a + (weights[i]?.weight ?? 0n), 0n);

/** Whether `signers` hold more than two thirds of the voting set's weight. */
export function carriesQuorum(signers: readonly number[], weights: readonly WeightedValidator[]): boolean {
  return isQuorum(weightOf(signers, weights), totalWeight(weights));
}

/**
 * The signers of an aggregate heard from a peer when it holds for `block` under the block's voting
 * set `weights`; null when any named signer is outside the set or the signature does not verify
 * against exactly the named signers' keys (a bitmap claiming one signer too many fails too).
 */
export function verifyAggregate(
  aggregate: { readonly signers: Uint8Array; readonly signature: Uint8Array },
  block: Block,
  weights: readonly WeightedValidator[],
  verifier: BlsVerifier,
  kind: SignatureKind = "vote",
): number[] | null {
  const indices = signerIndices(aggregate.signers);
  if (indices.length === 0 || indices.some((i) => i >= weights.length)) return null;
  const keys = indices.map((i) => (weights[i] as WeightedValidator).blsPublicKey);
  return verifyMany(verifier, kind, block.slot, block.hash, aggregate.signature, keys) ? indices : null;
}

/**
 * What an aggregate holds beyond the single votes a node has: the other signers, and their aggregate
 * (the whole minus the singles it overlaps). Null when the singles hold all of it. Two validators'
 * aggregates that both carry the proposer's vote overlap; without this, a receiver could use only
 * one of them.
 */
export function reduceAggregate(aggregate: PartialAggregate, singles: ReadonlyMap<number, Uint8Array>): PartialAggregate | null {
  const known = aggregate.signers.filter((i) => singles.has(i));
  if (known.length === 0) return aggregate;
  if (known.length === aggregate.signers.length) return null;
  try {
    return { signers: aggregate.signers.filter((i) => !singles.has(i)), signature: blsSubtractSignatures(aggregate.signature, known.map((i) => singles.get(i) as Uint8Array)) };
  } catch (e) {
    // The rest sums to the point at infinity, which no signature encodes: the aggregate verified, so
    // its other signers' keys sum to zero too (two registered keys a and −a, each with a valid proof
    // of possession: whoever knows a secret key knows its negation). Anyone can add such a pair to an
    // honest aggregate; it carries no vote of its own, so it is left out instead of stopping the combine.
    if (e instanceof CryptoError) return null;
    throw e;
  }
}

/**
 * The most weight a node can put in one aggregate from checked pieces: heard aggregates less the
 * single votes held (reduceAggregate), heaviest first, each taken when it shares no signer with
 * those taken (BLS aggregates add up only over disjoint signers, since the certificate names each
 * signer once), then every single vote. Null when there is nothing.
 */
export function combineVotes(singles: ReadonlyMap<number, Uint8Array>, aggregates: readonly PartialAggregate[], weights: readonly WeightedValidator[]): PartialAggregate | null {
  const chosen = new Set<number>();
  const signatures: Uint8Array[] = [];
  const residuals = aggregates.flatMap((a) => {
    const r = reduceAggregate(a, singles);
    return r === null ? [] : [r];
  });
  const heaviest = residuals.sort((a, b) => {
    const d = weightOf(b.signers, weights) - weightOf(a.signers, weights);
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  });
  for (const a of heaviest) {
    if (a.signers.some((i) => chosen.has(i) || i >= weights.length)) continue;
    for (const i of a.signers) chosen.add(i);
    signatures.push(a.signature);
  }
  for (const [i, signature] of singles) {
    if (chosen.has(i) || i >= weights.length) continue;
    chosen.add(i);
    signatures.push(signature);
  }
  if (signatures.length === 0) return null;
  try {
    return { signers: [...chosen].sort((a, b) => a - b), signature: signatures.length === 1 ? (signatures[0] as Uint8Array) : blsAggregateSignatures(signatures) };
  } catch (e) {
    // Only pieces whose keys cancel (a and −a, see reduceAggregate) sum to the point at infinity.
    if (e instanceof CryptoError) return null;
    throw e;
  }
}

/** The single votes among `votes` whose signatures check (memoised by the verifier), and the voters whose do not. */
export function checkedSingles(
  block: Block,
  votes: ReadonlyMap<number, Uint8Array>,
  weights: readonly WeightedValidator[],
  verifier: BlsVerifier,
  kind: SignatureKind = "vote",
): { good: Map<number, Uint8Array>; bad: number[] } {
  const good = new Map<number, Uint8Array>();
  const bad: number[] = [];
  for (const [i, signature] of votes) {
    const voter = weights[i];
    if (voter === undefined) continue;
    if (verifyOne(verifier, kind, block.slot, block.hash, signature, voter.blsPublicKey)) good.set(i, signature);
    else bad.push(i);
  }
  return { good, bad };
}

/**
 * tryCertify (certificates.ts) over single votes and checked aggregates together: a block is
 * notarized when the heaviest disjoint combination of what this node holds is a quorum.
 */
export function tryCertifyWithAggregates(
  block: Block,
  votes: ReadonlyMap<number, Uint8Array>,
  aggregates: readonly PartialAggregate[],
  weights: readonly WeightedValidator[],
  verifier: BlsVerifier,
  kind: SignatureKind = "vote",
): { certificate: NotarizationCertificate | null; badVoters: number[] } {
  const plain = tryCertify(block, votes, weights, verifier, kind);
  if (plain.certificate !== null || aggregates.length === 0) return plain;
  const { good, bad } = checkedSingles(block, votes, weights, verifier, kind);
  const combined = combineVotes(good, aggregates, weights);
  if (combined === null || !isQuorum(weightOf(combined.signers, weights), totalWeight(weights))) return { certificate: null, badVoters: bad };
  return { certificate: { height: block.height, blockHash: block.hash, signers: signerBitmap(combined.signers), signature: combined.signature }, badVoters: bad };
}

/**
 * Checked aggregates heard, by block id, and aggregates for blocks not yet known (held until the
 * block arrives, then checked like any other). Bounded per block and in blocks.
 */
export class HeardAggregates<Pending> {
  private readonly byBlock: BoundedMap<string, PartialAggregate[]>;
  private readonly pending: BoundedMap<string, Pending[]>;

  constructor(maxBlocks: number) {
    this.byBlock = new BoundedMap(maxBlocks);
    this.pending = new BoundedMap(maxBlocks);
  }

  /** Keep a checked aggregate; false when one already held carries all its signers (nothing new). */
  add(blockId: string, aggregate: PartialAggregate): boolean {
    const held = this.byBlock.get(blockId) ?? [];
    if (held.some((h) => covers(h.signers, aggregate.signers))) return false;
    const kept = [...held.filter((h) => !covers(aggregate.signers, h.signers)), aggregate].sort((a, b) => b.signers.length - a.signers.length).slice(0, MAX_AGGREGATES_PER_BLOCK);
    this.byBlock.set(blockId, kept);
    return true;
  }

  of(blockId: string): readonly PartialAggregate[] {
    return this.byBlock.get(blockId) ?? [];
  }

  /** Whether one aggregate heard for the block already carries every one of `signers`. */
  covers(blockId: string, signers: readonly number[]): boolean {
    return this.of(blockId).some((h) => covers(h.signers, signers));
  }

  /** An aggregate for a block this node does not hold yet. */
  hold(blockId: string, message: Pending): void {
    const list = this.pending.get(blockId) ?? [];
    if (list.length < MAX_AGGREGATES_PER_BLOCK) list.push(message);
    this.pending.set(blockId, list);
  }

  /** What was held for a block that has now arrived (forgotten here). */
  takePending(blockId: string): Pending[] {
    const list = this.pending.get(blockId) ?? [];
    this.pending.delete(blockId);
    return list;
  }
}

/** True when every one of `inner` is in `outer` (both ascending or not: sets of indices). */
function covers(outer: readonly number[], inner: readonly number[]): boolean {
  const set = new Set(outer);
  return inner.every((i) => set.has(i));
}
