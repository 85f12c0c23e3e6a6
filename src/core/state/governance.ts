import { bytesEqual, compareBytes } from "../bytes.js";
import { type GovProposalBody, type GovVoteBody, VoteChoice } from "../tx/types.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { votingSet } from "./validators.js";
import { nextEpochStart } from "./epoch.js";
import { putScheduledParamChanges, scheduledParamChanges } from "./param-changes.js";
import { type ChainParams, paramInRange, paramSpecById } from "./params.js";
import { isActiveValidator, type Proposal, validatorStake } from "./records.js";

/*
 * Parameter governance: an active validator proposes a new value for one parameter; active
 * validators vote with their stake. A proposal passes when "yes" holds more than two thirds of all
 * active stake: as soon as that is reached (votes cannot be withdrawn, so nothing can undo it), or
 * at the end of its voting window; otherwise it fails then. The proposer picks the window, between
 * one epoch (validators need time to see it on a slow mesh) and governanceVotingPeriod (the
 * community's ceiling: an open proposal holds one of maxActiveProposals seats). The proposer's proposal counts as its
 * "yes". A passed change is scheduled for the next epoch's first block (epoch.ts) and enacted then.
 */

function requireActiveValidator(l: Ledger, address: Uint8Array): void {
  const v = l.validator(address);
  if (v === null) throw new TxError("NOT_VALIDATOR", "only validators take part in governance");
  if (!isActiveValidator(v)) throw new TxError("VALIDATOR_INACTIVE", "validator is jailed or leaving");
}

/**
 * The voting windows a proposal may ask for: at most governanceVotingPeriod, at least an epoch
 * (or the whole ceiling when a chain's ceiling is shorter than its epoch).
 */
export function votingWindowBounds(params: Pick<ChainParams, "epochLength" | "governanceVotingPeriod">): { min: number; max: number } {
  const max = Number(params.governanceVotingPeriod);
  return { min: Math.min(Number(params.epochLength), max), max };
}

export function applyProposal(l: Ledger, sender: Uint8Array, body: GovProposalBody, ctx: TxContext): void {
  requireActiveValidator(l, sender);
  const spec = paramSpecById(body.paramId);
  if (spec === undefined) throw new TxError("UNKNOWN_PARAM", `no parameter with id ${body.paramId}`);
  if (spec.genesisOnly === true) throw new TxError("PARAM_GENESIS_ONLY", `${spec.name} is fixed at genesis; a proposal cannot change it`);
  if (!paramInRange(spec, body.value)) throw new TxError("PARAM_OUT_OF_RANGE", `${spec.name} must lie in [${spec.min}, ${spec.max}]`);
  const active = l.activeProposals();
  if (BigInt(active.length) >= ctx.params.maxActiveProposals) throw new TxError("TOO_MANY_PROPOSALS", "too many proposals are open");
  const window = votingWindowBounds(ctx.params);
  if (body.votingWindow < window.min || body.votingWindow > window.max) throw new TxError("VOTING_WINDOW_OUT_OF_RANGE", `voting window must lie in [${window.min}, ${window.max}] blocks (epochLength to governanceVotingPeriod)`);
  const meta = l.meta();
  const id = meta.nextProposalId;
  const endHeight = ctx.height + body.votingWindow;
  l.putProposal(id, { proposer: sender, paramId: body.paramId, value: body.value, endHeight, votes: [{ validator: sender, choice: VoteChoice.Yes }] });
  l.putActiveProposals([...active, { id, endHeight }]);
  l.putMeta({ ...meta, nextProposalId: id + 1 });
}

export function applyProposalVote(l: Ledger, sender: Uint8Array, body: GovVoteBody): void {
  const p = l.proposal(body.proposalId);
  if (p === null) throw new TxError("UNKNOWN_PROPOSAL", `no open proposal ${body.proposalId}`);
  requireActiveValidator(l, sender);
  if (p.votes.some((v) => bytesEqual(v.validator, sender))) throw new TxError("ALREADY_VOTED", "this validator already voted");
  const votes = [...p.votes, { validator: sender, choice: body.choice }].sort((a, b) => compareBytes(a.validator, b.validator));
  l.putProposal(body.proposalId, { ...p, votes });
}

/** Seated validators' stake by address (hex), and its total: what a tally counts (one per member on poa). */
export function activeStake(l: Ledger, height: number): { stakeOf: Map<string, bigint>; totalStake: bigint } {
  // A poa federation has no stake: each seated member's vote counts one, as its consensus weight does.
  const poa = l.consensusMode() === "poa";
  let totalStake = 0n;
  const stakeOf = new Map<string, bigint>();
  for (const { address, validator } of votingSet(l, height)) {
    const stake = poa ? 1n : validatorStake(validator);
    stakeOf.set(Buffer.from(address).toString("hex"), stake);
    totalStake += stake;
  }
  return { stakeOf, totalStake };
}

/** Stake behind each choice of a proposal's votes (validators no longer active count nothing). */
export function tallyVotes(votes: Proposal["votes"], stakeOf: ReadonlyMap<string, bigint>): { yes: bigint; no: bigint; abstain: bigint } {
  const out = { yes: 0n, no: 0n, abstain: 0n };
  for (const v of votes) {
    const stake = stakeOf.get(Buffer.from(v.validator).toString("hex")) ?? 0n;
    if (v.choice === VoteChoice.Yes) out.yes += stake;
    else if (v.choice === VoteChoice.No) out.no += stake;
    else out.abstain += stake;
  }
  return out;
}

export const passesQuorum = (yes: bigint, totalStake: bigint): boolean => totalStake > 0n && yes * 3n > totalStake * 2n;

/**
 * Close proposals that passed by now or whose voting period ends at `height`; a passed change is
 * scheduled for the next epoch start. Returns the ids that passed.
 */
export function tallyProposals(l: Ledger, height: number): number[] {
  const active = l.activeProposals();
  if (active.length === 0) return [];
  const { stakeOf, totalStake } = activeStake(l, height);
  const epochLength = l.params().epochLength;
  const passed: number[] = [];
  const closed = new Set<number>();
  const scheduled = scheduledParamChanges(l);
  for (const { id, endHeight } of active) {
    const p = l.proposal(id);
    if (p === null) {
      closed.add(id);
      continue;
    }
    const spec = paramSpecById(p.paramId);
    const pass = spec !== undefined && passesQuorum(tallyVotes(p.votes, stakeOf).yes, totalStake);
    if (!pass && endHeight > height) continue;
    if (pass) {
      scheduled.push({ proposalId: id, paramId: p.paramId, value: p.value, effectiveHeight: nextEpochStart(height, epochLength) });
      passed.push(id);
    }
    l.deleteProposal(id);
    closed.add(id);
  }
  if (closed.size === 0) return [];
  l.putActiveProposals(active.filter((a) => !closed.has(a.id)));
  putScheduledParamChanges(l, scheduled);
  return passed;
}

/**
 * At the end of the block before an epoch's first block, enact the changes scheduled for it, in the
 * order they passed (a later change to the same parameter wins): that first block runs under them.
 */
export function enactScheduledChanges(l: Ledger, height: number): number[] {
  const scheduled = scheduledParamChanges(l);
  const due = scheduled.filter((c) => c.effectiveHeight <= height + 1);
  if (due.length === 0) return [];
  let params = l.params();
  for (const c of due) {
    const spec = paramSpecById(c.paramId);
    if (spec !== undefined) params = { ...params, [spec.name]: c.value };
  }
  l.putParams(params);
  putScheduledParamChanges(l, scheduled.filter((c) => c.effectiveHeight > height + 1));
  return due.map((c) => c.proposalId);
}
