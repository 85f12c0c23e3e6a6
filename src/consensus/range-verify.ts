import type { Block } from "../core/block/block.js";
import { type NotarizationCertificate, signerBitmap } from "../core/block/certificate.js";
import { blockHash } from "../core/block/header.js";
import { bytesEqual } from "../core/bytes.js";
import { MeshChainError } from "../core/errors.js";
import { type AppliedBlock, applyBlock, type ParentInfo } from "../core/state/block-transition.js";
import { Ledger } from "../core/state/ledger.js";
import type { StateStore } from "../core/state/store.js";
import { quorumKeys } from "./certificates.js";
import { scheduledProposer } from "./schedule.js";
import type { BlsVerifier } from "./verifier.js";
import { isQuorum, totalWeight, votingWeights, type WeightedValidator } from "./weights.js";

/**
 * The verifying steps of block import (docs/architecture.md, "the path of a block"): sanity and
 * parent checks, the state transition executed once with its result kept, then every BLS check of
 * the run in one batched pairing check. Signatures come after the transition because the keys that
 * must have signed a block's notarization are those of the voting set its own post-state names.
 * `block-import.ts` adds the commit and the finality steps.
 */
export type ImportStep = "sanity" | "transition" | "signatures" | "commit";

export type RangeErrorCode =
  /** The first block does not build on the given parent: the peer is on another branch. */
  | "NOT_LINKED"
  | "NOT_SCHEDULED"
  | "BAD_SIGNATURE"
  | "BAD_NOTARIZATION"
  | "INVALID_BLOCK";

export interface StepFailure {
  readonly step: ImportStep;
  /** Position in the run of the block refused. */
  readonly index: number;
  readonly code: RangeErrorCode;
  readonly reason: string;
}

export interface RangeBlock {
  readonly block: Block;
  /** Sent beside the block when the next block in the run does not carry it. */
  readonly notarization: NotarizationCertificate | null;
  /** The bytes the block was decoded from, when received whole: committed as they are. */
  readonly bytes?: Uint8Array;
}

export interface VerifiedBlock {
  readonly block: Block;
  /** The bytes it was decoded from, when known (see RangeBlock). */
  readonly bytes?: Uint8Array;
  /** The state transition's result, computed once and committed as is. */
  readonly applied: AppliedBlock;
  readonly notarization: NotarizationCertificate;
  /** Notarized by its proposer's own signature (a proposer holding a quorum alone). */
  readonly byProposerAlone: boolean;
}

export interface RangeResult {
  /** The longest prefix that checked out, in order: safe to commit. */
  readonly verified: readonly VerifiedBlock[];
  /** Why the block after the prefix was refused; null when the rest merely lacks a notarization. */
  readonly failure: StepFailure | null;
}

/** The state transition a run is executed with; a parameter so a test can count executions. */
export type Transition = typeof applyBlock;

export interface Executed extends VerifiedBlock {
  /** The certificate's signers' keys, and the proposer's key for its own signature. */
  readonly notarizationKeys: Uint8Array[];
  readonly proposerKey: Uint8Array;
  /** The voting set the executed state gives at this block's height. */
  readonly weights: readonly WeightedValidator[];
}

/** Which signatures of a run to check: all of them (the default), or those a finality proof leaves (finality-proof.ts). */
export interface SignatureScope {
  /** Blocks 0..covered-1 are final by a proof: nothing of theirs is checked but the proof's notarizations. */
  readonly covered: number;
  readonly proof: readonly number[];
}

/**
 * Step 1, sanity: each block links to the one before by hash, one height up and in a later slot.
 * Cheap, and it runs before anything is executed. Returns how many blocks passed.
 */
export function checkSanity(parent: ParentInfo, blocks: readonly RangeBlock[]): { passed: number; failure: StepFailure | null } {
  let previous: { height: number; hash: Uint8Array; slot: number } = parent;
  for (let i = 0; i < blocks.length; i++) {
    const h = (blocks[i] as RangeBlock).block.header;
    if (h.height !== previous.height + 1 || !bytesEqual(h.parentHash, previous.hash)) {
      const reason = `block ${h.height} does not build on block ${previous.height}`;
      return { passed: i, failure: { step: "sanity", index: i, code: i === 0 ? "NOT_LINKED" : "INVALID_BLOCK", reason } };
    }
    if (h.slot <= previous.slot) return { passed: i, failure: { step: "sanity", index: i, code: "INVALID_BLOCK", reason: `block ${h.height}: slot ${h.slot} is not after ${previous.slot}` } };
    previous = { height: h.height, hash: blockHash(h), slot: h.slot };
  }
  return { passed: blocks.length, failure: null };
}

/**
 * Step 2, the state transition: each block executed once over a working copy of the state (one
 * copy per run, not per block), its proposer checked against the schedule, and its notarization
 * found and checked to name a quorum of its own voting set. Signatures are not checked here.
 */
export function executeRun(
  start: { readonly state: StateStore; readonly info: ParentInfo },
  blocks: readonly RangeBlock[],
  chainId: string,
  transition: Transition = applyBlock,
): ExecutedRun {
  return drain(executeRunSteps(start, blocks, chainId, transition));
}

export interface ExecutedRun {
  readonly executed: Executed[];
  readonly failure: StepFailure | null;
}

/**
 * `executeRun`, pausing after each block: whoever drives it may let the event loop run there (the
 * run works on its own copy of the state, so nothing it holds changes meanwhile).
 */
export function* executeRunSteps(
  start: { readonly state: StateStore; readonly info: ParentInfo },
  blocks: readonly RangeBlock[],
  chainId: string,
  transition: Transition = applyBlock,
): Generator<void, ExecutedRun, void> {
  const executed: Executed[] = [];
  const fail = (index: number, code: RangeErrorCode, reason: string) => ({ executed, failure: { step: "transition" as const, index, code, reason } });
  if (blocks.length === 0) return { executed, failure: null };
  const state = start.state.clone();
  let info = start.info;
  let weights = weightsOf(state, info.height);
  for (let i = 0; i < blocks.length; i++) {
    const { block, bytes } = blocks[i] as RangeBlock;
    const h = block.header;
    const ledger = new Ledger(state);
    const proposer = scheduledProposer(weights, ledger.meta().randaoMix, h.slot, Number(ledger.params().fallbackRanks), h.proposer);
    if (proposer === null) return fail(i, "NOT_SCHEDULED", `the proposer of block ${h.height} holds no rank in slot ${h.slot}`);
    let applied: AppliedBlock;
    try {
      applied = transition(state, block, info, { chainId });
    } catch (e) {
      if (!(e instanceof MeshChainError)) throw e;
      return fail(i, "INVALID_BLOCK", `block ${h.height}: ${e.code}: ${e.message}`);
    }
    state.commit(applied.changes, applied.tree);
    const ownWeights = weightsOf(state, h.height);
    const found = notarizationOf(blocks, i, applied.hash, proposer, ownWeights, h.signature);
    if (found === null) break;
    const { notarization, byProposerAlone } = found;
    const keys = quorumKeys(notarization, ownWeights);
    if (keys === null || notarization.height !== h.height || !bytesEqual(notarization.blockHash, applied.hash)) {
      return fail(i, "BAD_NOTARIZATION", `the notarization of block ${h.height} is not a quorum for it`);
    }
    executed.push({ block, bytes, applied, notarization, byProposerAlone, notarizationKeys: keys, proposerKey: proposer.blsPublicKey, weights: ownWeights });
    info = { height: h.height, hash: applied.hash, slot: h.slot, timestamp: h.timestamp };
    weights = ownWeights;
    if (i + 1 < blocks.length) yield;
  }
  return { executed, failure: null };
}

/** Run a stepwise computation to its end without pausing. */
export function drain<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/**
 * Step 3, signatures: every block's notarization and proposer signature (one and the same for a
 * lone validator) in one batched pairing check; on failure, the first bad one is found. With a
 * `scope`, blocks a finality proof covers are checked only through the proof's notarizations; a
 * failure then finds its block by checking the whole run one block at a time (hostile input only).
 */
export function checkSignatures(executed: readonly Executed[], verifier: BlsVerifier, scope: SignatureScope = { covered: 0, proof: [] }): { verified: VerifiedBlock[]; failure: StepFailure | null; checked: number } {
  const checks = executed.flatMap((p, i) => {
    const notarization = { slot: p.block.header.slot, blockHash: p.applied.hash, signature: p.notarization.signature, publicKeys: p.notarizationKeys };
    if (i < scope.covered) return scope.proof.includes(i) ? [notarization] : [];
    return [notarization, p.byProposerAlone ? notarization : { ...notarization, signature: p.block.header.signature, publicKeys: [p.proposerKey] }];
  });
  const unique = [...new Set(checks)];
  if (scope.covered > 0) {
    if (verifier.votes(unique).ok) return { verified: executed.map(publicPart), failure: null, checked: unique.length };
    const whole = checkSignatures(executed, verifier);
    return { ...whole, checked: unique.length + whole.checked };
  }
  const result = verifier.votes(unique);
  if (result.ok) return { verified: executed.map(publicPart), failure: null, checked: unique.length };
  const at = checks.indexOf(unique[result.firstBad] as (typeof checks)[number]);
  const index = Math.floor(at / 2);
  const notarizationBad = at % 2 === 0;
  const what = notarizationBad ? "notarization" : "proposer signature";
  return {
    verified: executed.slice(0, index).map(publicPart),
    failure: { step: "signatures", index, code: notarizationBad ? "BAD_NOTARIZATION" : "BAD_SIGNATURE", reason: `the ${what} of block ${executed[index]?.block.header.height} does not verify` },
    checked: unique.length,
  };
}

/**
 * Steps 1 to 3 for a run of consecutive blocks fetched by sync, on top of `start`: each must build
 * on the one before, come from a proposer scheduled for its slot, apply to the state, and be
 * notarized by more than two thirds of the weight of its own voting set. A block's notarization is
 * the certificate in the next block's header, the one sent alongside it, or, when the proposer
 * alone holds a quorum, the proposer's own signature.
 */
export function verifyRange(
  start: { readonly state: StateStore; readonly info: ParentInfo },
  blocks: readonly RangeBlock[],
  chainId: string,
  verifier: BlsVerifier,
  transition: Transition = applyBlock,
): RangeResult {
  const sane = checkSanity(start.info, blocks);
  const run = executeRun(start, blocks.slice(0, sane.passed), chainId, transition);
  const signed = checkSignatures(run.executed, verifier);
  return { verified: signed.verified, failure: signed.failure ?? run.failure ?? sane.failure };
}

const publicPart = ({ block, bytes, applied, notarization, byProposerAlone }: Executed): VerifiedBlock => ({ block, bytes, applied, notarization, byProposerAlone });

function weightsOf(state: StateStore, height: number): WeightedValidator[] {
  const ledger = new Ledger(state);
  return votingWeights(ledger, height);
}

/** Where block `i`'s notarization comes from; null when the run does not prove it (the next request will). */
function notarizationOf(
  blocks: readonly RangeBlock[],
  i: number,
  hash: Uint8Array,
  proposer: WeightedValidator,
  weights: readonly WeightedValidator[],
  proposerSignature: Uint8Array,
): { notarization: NotarizationCertificate; byProposerAlone: boolean } | null {
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
