import { applyBlock } from "../core/state/block-transition.js";
import type { AuditHandover, ChainStore, CommitEntry } from "../storage/chain-store.js";
import type { TreeBlock } from "./block-tree.js";
import { FinalityTracker, finalitySlotsOf } from "./finality.js";
import { planFinalityProof } from "./finality-proof.js";
import { checkSanity, checkSignatures, drain, type Executed, executeRunSteps, type ImportStep, type RangeBlock, type StepFailure, type Transition, type VerifiedBlock } from "./range-verify.js";
import type { BlsVerifier } from "./verifier.js";
import { bytesEqual, toHex } from "../core/bytes.js";
import { Ledger } from "../core/state/ledger.js";
import { votingWeights } from "./weights.js";

export type { ImportStep } from "./range-verify.js";

/** Seconds spent in each step since the importer was made: where import time goes (docs/benchmarks.md). */
export type StepSeconds = Record<ImportStep | "finality", number>;

export interface ImportOutcome {
  /** Blocks verified and committed, in order (a prefix of the run). */
  readonly committed: readonly VerifiedBlock[];
  /** The store's finalized height after the import. */
  readonly finalizedHeight: number;
  /** Why the block after the committed prefix was refused; null when the rest lacks only a notarization. */
  readonly failure: StepFailure | null;
  /** The store's tip moved while a yielding import paused: nothing was committed, and the peer is not at fault. */
  readonly superseded: boolean;
}

/**
 * The time one import spends in its current step, less the pauses a yielding import makes: another
 * task that ran during a pause is not counted to the step. One per import, so two imports (one
 * abandoned at a pause, the next begun) never share it.
 */
class StepTimer {
  private at = performance.now();
  private carried = 0;

  pause(): void {
    this.carried += performance.now() - this.at;
  }

  resume(): void {
    this.at = performance.now();
  }

  /** Seconds in the step just ended; the next step starts now. */
  lap(): number {
    const now = performance.now();
    const seconds = (this.carried + now - this.at) / 1000;
    this.carried = 0;
    this.at = now;
    return seconds;
  }
}

/** The next turn of the event loop, after pending I/O: where a yielding import lets the node answer. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Range sync's import pipeline: sanity → state transition (executed once, result kept) → batched
 * signatures → commit of the verified prefix in one SQLite transaction, with finality moved in that
 * same transaction. The finality this importer remembers (its last links) moves only once the
 * commit succeeded; a failed commit throws the store's typed error and changes nothing.
 */
export class BlockImporter {
  private finality: FinalityTracker;
  readonly seconds: StepSeconds = { sanity: 0, transition: 0, signatures: 0, commit: 0, finality: 0 };
  /** Blocks executed and committed since the importer was made. */
  executions = 0;
  committedBlocks = 0;
  /** Signatures (single or aggregate) put through a pairing check since the importer was made. */
  signatureChecks = 0;
  /** Blocks committed as ancestors of a proven-final block, their proposer signatures left to the audit. */
  coveredBlocks = 0;
  /** Told how long each step took, seconds (the node's metrics); a measure, not consensus. */
  stepObserver: ((step: keyof StepSeconds, seconds: number) => void) | null = null;

  constructor(
    private readonly deps: {
      readonly store: ChainStore;
      readonly chainId: string;
      readonly verifier: BlsVerifier;
      /** The state transition (a parameter so tests can count executions). */
      readonly transition?: Transition;
    },
  ) {
    this.finality = new FinalityTracker(finalitySlotsOf(deps.store.state));
  }

  /** Import a run in one go, holding the event loop until it is committed. */
  import(blocks: readonly RangeBlock[]): ImportOutcome {
    return drain(this.steps(blocks, new StepTimer()));
  }

  /**
   * Import a run, letting the event loop run whenever the import has held it `sliceMs` (between
   * blocks of the transition, and between the steps): a node that syncs runs of 1,024 blocks
   * otherwise stops answering for the whole run, hundreds of milliseconds. Null when `abandoned()`
   * said so at a pause: nothing was committed. If the store's tip moved during a pause, the run is
   * not committed either and the outcome says `superseded`.
   */
  async importYielding(blocks: readonly RangeBlock[], sliceMs: number, abandoned: () => boolean, pause: () => Promise<void> = nextTurn): Promise<ImportOutcome | null> {
    const timer = new StepTimer();
    const steps = this.steps(blocks, timer);
    let since = performance.now();
    for (;;) {
      const next = steps.next();
      if (next.done === true) return next.value;
      if (performance.now() - since < sliceMs) continue;
      timer.pause();
      await pause();
      if (abandoned()) return null;
      timer.resume();
      since = performance.now();
    }
  }

  /** The pipeline, pausing (yielding) where the caller may let the event loop run; `timer` is paused there by the caller. */
  private *steps(blocks: readonly RangeBlock[], timer: StepTimer): Generator<void, ImportOutcome, void> {
    const { store } = this.deps;
    const startTip = store.tip;
    const lap = (step: keyof StepSeconds): void => {
      const seconds = timer.lap();
      this.seconds[step] += seconds;
      this.stepObserver?.(step, seconds);
    };
    const sane = checkSanity(startTip, blocks);
    lap("sanity");
    const transition = this.deps.transition ?? applyBlock;
    const counted: Transition = (...args) => {
      this.executions++;
      return transition(...args);
    };
    // The anchor: the voting set our committed (so proven) state gives; a proof must be by it.
    const anchor = votingWeights(new Ledger(store.state), startTip.height);
    const run = yield* executeRunSteps({ state: store.state, info: startTip }, blocks.slice(0, sane.passed), this.deps.chainId, counted);
    lap("transition");
    yield;
    const plan = planFinalityProof(run.executed.map((e) => ({ header: e.block.header, notarization: e.notarization, byProposerAlone: e.byProposerAlone, weights: e.weights })), anchor, this.finality.fork());
    const signed = checkSignatures(run.executed, this.deps.verifier, plan);
    this.signatureChecks += signed.checked;
    lap("signatures");
    const failure = signed.failure ?? run.failure ?? sane.failure;
    const verified = signed.verified;
    if (verified.length === 0) return { committed: [], finalizedHeight: store.finalizedHeight, failure, superseded: false };
    const tracker = this.finality.fork();
    let final: number | null = null;
    for (const v of verified) final = tracker.next(v.block.header, v.byProposerAlone) ?? final;
    const moved = final !== null && final > store.finalizedHeight ? final : null;
    lap("finality");
    yield;
    // Another commit or an undone tip during a pause: this run was checked on a state that is gone.
    if (store.tip.height !== startTip.height || !bytesEqual(store.tip.hash, startTip.hash)) {
      return { committed: [], finalizedHeight: store.finalizedHeight, failure: null, superseded: true };
    }
    // A failed proof check falls back to checking every block: then nothing is covered.
    const covered = signed.failure === null ? Math.min(plan.covered, verified.length) : 0;
    store.commitBatch(verified.map((v, i) => ({
      block: v.block,
      bytes: v.bytes,
      applied: v.applied,
      // Keep the notarization where no stored child will carry it, so we can serve it in turn; never
      // an unchecked one (a covered block's, unless the proof checked it).
      notarization: (verified[i + 1]?.block.header.certificate ?? null) === null && (i >= covered || plan.proof.includes(i)) ? v.notarization : null,
    })), moved, covered > 0 ? auditHandover(run.executed.slice(0, covered)) : null);
    lap("commit");
    this.finality = tracker;
    this.committedBlocks += verified.length;
    this.coveredBlocks += covered;
    return { committed: verified, finalizedHeight: store.finalizedHeight, failure, superseded: false };
  }

  /** The tip was undone: the remembered links no longer lead to it. */
  tipUndone(): void {
    this.finality.reset();
  }
}

/** The covered blocks' proposers and the keys they signed with, for the audit (signature-audit.ts). */
function auditHandover(covered: readonly Executed[]): AuditHandover {
  const proposers = new Map<string, { address: Uint8Array; blsPublicKey: Uint8Array }>();
  for (const e of covered) proposers.set(toHex(e.block.header.proposer), { address: e.block.header.proposer, blsPublicKey: e.proposerKey });
  return { fromHeight: (covered[0] as Executed).block.header.height, proposers: [...proposers.values()] };
}

/**
 * The consensus engine's commit step: the blocks it just finalized (in order, from the child of the
 * store's tip) go to the store in one transaction, final, each with its notarization. Each block's
 * state transition is the one the engine ran when it validated the block; a block above the store's
 * tip is never executed again here. Blocks the store already holds are skipped.
 */
export function commitFinalized(store: ChainStore, blocks: readonly TreeBlock[], chainId: string, transition: Transition = applyBlock): CommitEntry[] {
  const entries: CommitEntry[] = [];
  let state = store.state;
  let parent = store.tip;
  for (const b of blocks) {
    if (b.block === null || b.height <= parent.height) continue;
    // Only a block the engine did not validate itself (none today) is executed here, once.
    const applied = b.applied ?? transition(state, b.block, parent, { chainId });
    entries.push({ block: b.block, applied, notarization: b.certificate });
    if (b.applied === null) {
      state = state.clone();
      state.commit(applied.changes, applied.tree);
    } else state = b.state;
    parent = { ...parent, height: b.height, hash: b.hash, slot: b.slot, timestamp: b.timestamp, stateRoot: applied.stateRoot };
  }
  const last = entries[entries.length - 1];
  if (last !== undefined) store.commitBatch(entries, last.block.header.height);
  return entries;
}
