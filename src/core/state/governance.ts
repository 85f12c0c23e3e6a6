import { bytesEqual, compareBytes } from "../bytes.js";
import { type GovProposalBody, type GovVoteBody, VoteChoice } from "../tx/types.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import { paramInRange, paramSpecById } from "./params.js";
import { isActiveValidator, validatorStake } from "./records.js";

/*
 * Parameter governance: an active validator proposes a new value for one parameter; active
 * validators vote with their stake; at the end of the voting period the change applies when "yes"
 * holds more than two thirds of all active stake. The proposer's proposal counts as its "yes".
 */

function requireActiveValidator(l: Ledger, address: Uint8Array, height: number): void {
  const v = l.validator(address);
  if (v === null) throw new TxError("NOT_VALIDATOR", "only validators take part in governance");
  if (!isActiveValidator(v, height)) throw new TxError("VALIDATOR_INACTIVE", "validator is jailed or leaving");
}

export function applyProposal(l: Ledger, sender: Uint8Array, body: GovProposalBody, ctx: TxContext): void {
  requireActiveValidator(l, sender, ctx.height);
  const spec = paramSpecById(body.paramId);
  if (spec === undefined) throw new TxError("UNKNOWN_PARAM", `no parameter with id ${body.paramId}`);
  if (!paramInRange(spec, body.value)) throw new TxError("PARAM_OUT_OF_RANGE", `${spec.name} must lie in [${spec.min}, ${spec.max}]`);
  const active = l.activeProposals();
  if (BigInt(active.length) >= ctx.params.maxActiveProposals) throw new TxError("TOO_MANY_PROPOSALS", "too many proposals are open");
  const meta = l.meta();
  const id = meta.nextProposalId;
  const endHeight = ctx.height + Number(ctx.params.governanceVotingPeriod);
  l.putProposal(id, { proposer: sender, paramId: body.paramId, value: body.value, endHeight, votes: [{ validator: sender, choice: VoteChoice.Yes }] });
  l.putActiveProposals([...active, { id, endHeight }]);
  l.putMeta({ ...meta, nextProposalId: id + 1 });
}

export function applyProposalVote(l: Ledger, sender: Uint8Array, body: GovVoteBody, ctx: TxContext): void {
  const p = l.proposal(body.proposalId);
  if (p === null) throw new TxError("UNKNOWN_PROPOSAL", `no open proposal ${body.proposalId}`);
  requireActiveValidator(l, sender, ctx.height);
  if (p.votes.some((v) => bytesEqual(v.validator, sender))) throw new TxError("ALREADY_VOTED", "this validator already voted");
  const votes = [...p.votes, { validator: sender, choice: body.choice }].sort((a, b) => compareBytes(a.validator, b.validator));
  l.putProposal(body.proposalId, { ...p, votes });
}

/** Close proposals whose voting period ends at `height`; returns the ids that passed. */
export function tallyProposals(l: Ledger, height: number): number[] {
  const active = l.activeProposals();
  const ending = active.filter((a) => a.endHeight <= height);
  if (ending.length === 0) return [];
  let totalStake = 0n;
  const stakeOf = new Map<string, bigint>();
  for (const address of l.validatorSet()) {
    const v = l.validator(address);
    if (v === null || !isActiveValidator(v, height)) continue;
    const stake = validatorStake(v);
    stakeOf.set(Buffer.from(address).toString("hex"), stake);
    totalStake += stake;
  }
  const passed: number[] = [];
  for (const { id } of ending) {
    const p = l.proposal(id);
    if (p === null) continue;
    let yes = 0n;
    for (const v of p.votes) if (v.choice === VoteChoice.Yes) yes += stakeOf.get(Buffer.from(v.validator).toString("hex")) ?? 0n;
    const spec = paramSpecById(p.paramId);
    if (spec !== undefined && totalStake > 0n && yes * 3n > totalStake * 2n) {
      l.putParams({ ...l.params(), [spec.name]: p.value });
      passed.push(id);
    }
    l.deleteProposal(id);
  }
  l.putActiveProposals(active.filter((a) => a.endHeight > height));
  return passed;
}
