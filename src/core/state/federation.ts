import { bytesEqual, compareBytes } from "../bytes.js";
import { decodeExact } from "../codec/reader.js";
import { Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";
import { MAX_HEIGHT } from "../block/limits.js";
import { DecodeError } from "../errors.js";
import { FederationAction, type FederationProposalBody, type GovVoteBody, VoteChoice } from "../tx/types.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import { stateKeys } from "./keys.js";
import type { Ledger } from "./ledger.js";
import { activeProposalsCodec, type ActiveProposal, isActiveValidator, type ProposalVote } from "./records.js";
import { applyLeave } from "./staking.js";
import { isMember, queueJoin, votingSet } from "./validators.js";

/*
 * Federation membership on a poa chain (docs/consensus.md §Modes). A candidate registers its keys
 * (ValidatorRegister with no bond); a member proposes to add it, or to remove a member; members vote
 * with GovVote on the proposal's id (ids are shared with parameter proposals). A proposal passes as
 * soon as more than two thirds of the members (other than the one it would remove) say yes, and
 * lapses at the end of the voting period.
 * One added joins the voting set at the next epoch start, like any joining validator; one removed
 * leaves at once, as a validator that leaves does.
 */

export interface FederationProposal {
  readonly proposer: Uint8Array;
  readonly action: FederationAction;
  readonly validator: Uint8Array;
  readonly endHeight: number;
  /** Sorted by member address. */
  readonly votes: readonly ProposalVote[];
}

const MAX_VOTES = 256;

export const federationProposalCodec = {
  encode(p: FederationProposal): Uint8Array {
    const w = new Writer().fixed(p.proposer, ADDRESS_LENGTH).u8(p.action).fixed(p.validator, ADDRESS_LENGTH).varint(p.endHeight).varint(p.votes.length);
    for (const v of p.votes) w.fixed(v.validator, ADDRESS_LENGTH).u8(v.choice);
    return w.finish();
  },
  decode: (bytes: Uint8Array): FederationProposal =>
    decodeExact(bytes, (r) => {
      const proposer = r.fixed(ADDRESS_LENGTH);
      const action = r.u8();
      if (action !== FederationAction.Add && action !== FederationAction.Remove) throw new DecodeError("INVALID_VALUE", "bad federation action");
      const validator = r.fixed(ADDRESS_LENGTH);
      const endHeight = r.varint(MAX_HEIGHT);
      const n = r.varint(MAX_VOTES);
      const votes: ProposalVote[] = [];
      for (let i = 0; i < n; i++) {
        const voter = r.fixed(ADDRESS_LENGTH);
        const choice = r.u8();
        if (choice < VoteChoice.Yes || choice > VoteChoice.Abstain) throw new DecodeError("INVALID_VALUE", "bad vote choice");
        if (i > 0 && compareBytes(votes[i - 1]!.validator, voter) >= 0) throw new DecodeError("INVALID_VALUE", "votes not sorted and unique");
        votes.push({ validator: voter, choice: choice as VoteChoice });
      }
      return { proposer, action: action as FederationAction, validator, endHeight, votes };
    }),
};

export function federationProposal(l: Ledger, id: number): FederationProposal | null {
  const b = l.view.get(stateKeys.federationProposal(id));
  return b === undefined ? null : federationProposalCodec.decode(b);
}

function putFederationProposal(l: Ledger, id: number, p: FederationProposal | null): void {
  if (p === null) l.view.delete(stateKeys.federationProposal(id));
  else l.view.set(stateKeys.federationProposal(id), federationProposalCodec.encode(p));
}

export function openFederationProposals(l: Ledger): ActiveProposal[] {
  const b = l.view.get(stateKeys.openFederationProposals());
  return b === undefined ? [] : activeProposalsCodec.decode(b);
}

function putOpenFederationProposals(l: Ledger, list: readonly ActiveProposal[]): void {
  if (list.length === 0) l.view.delete(stateKeys.openFederationProposals());
  else l.view.set(stateKeys.openFederationProposals(), activeProposalsCodec.encode(list));
}

function requireVotingMember(l: Ledger, address: Uint8Array): void {
  const v = l.validator(address);
  if (v === null || !isMember(l, address)) throw new TxError("NOT_MEMBER", "only federation members propose and vote on membership");
  if (!isActiveValidator(v)) throw new TxError("VALIDATOR_INACTIVE", "member is jailed or leaving");
}

export function applyFederationProposal(l: Ledger, sender: Uint8Array, body: FederationProposalBody, ctx: TxContext): void {
  if (l.consensusMode() !== "poa") throw new TxError("WRONG_CONSENSUS_MODE", "membership proposals exist on poa chains only; on a dpop chain a validator joins by bonding");
  requireVotingMember(l, sender);
  const target = l.validator(body.validator);
  if (body.action === FederationAction.Add) {
    if (target === null || target.leavingAt !== 0) throw new TxError("NOT_CANDIDATE", "the candidate must first register its keys (ValidatorRegister with a self-bond of 0)");
    if (isMember(l, body.validator) || l.pendingValidators().some((a) => bytesEqual(a, body.validator))) throw new TxError("ALREADY_MEMBER", "already a member, or joining at the next epoch");
  } else if (!isMember(l, body.validator)) {
    throw new TxError("NOT_MEMBER", "not a member of the federation");
  }
  const open = openFederationProposals(l);
  if (open.some((o) => bytesEqual(federationProposal(l, o.id)?.validator ?? new Uint8Array(), body.validator))) {
    throw new TxError("ALREADY_PROPOSED", "a proposal about this validator is already open");
  }
  if (BigInt(open.length) >= l.params().maxActiveProposals) throw new TxError("TOO_MANY_PROPOSALS", "too many membership proposals are open");
  const meta = l.meta();
  const id = meta.nextProposalId;
  const endHeight = ctx.height + Number(ctx.params.governanceVotingPeriod);
  putFederationProposal(l, id, { proposer: sender, action: body.action, validator: body.validator, endHeight, votes: [{ validator: sender, choice: VoteChoice.Yes }] });
  putOpenFederationProposals(l, [...open, { id, endHeight }]);
  l.putMeta({ ...meta, nextProposalId: id + 1 });
}

export const isFederationProposal = (l: Ledger, id: number): boolean => federationProposal(l, id) !== null;

export function applyFederationVote(l: Ledger, sender: Uint8Array, body: GovVoteBody): void {
  const p = federationProposal(l, body.proposalId);
  if (p === null) throw new TxError("UNKNOWN_PROPOSAL", `no open proposal ${body.proposalId}`);
  requireVotingMember(l, sender);
  if (p.votes.some((v) => bytesEqual(v.validator, sender))) throw new TxError("ALREADY_VOTED", "this member already voted");
  const votes = [...p.votes, { validator: sender, choice: body.choice }].sort((a, b) => compareBytes(a.validator, b.validator));
  putFederationProposal(l, body.proposalId, { ...p, votes });
}

function enact(l: Ledger, p: FederationProposal, ctx: TxContext, members: number): boolean {
  if (p.action === FederationAction.Add) {
    const v = l.validator(p.validator);
    // The candidate may have left, or been added by another route, while the vote ran.
    if (v === null || v.leavingAt !== 0 || isMember(l, p.validator) || l.pendingValidators().some((a) => bytesEqual(a, p.validator))) return false;
    queueJoin(l, p.validator);
    return true;
  }
  const v = l.validator(p.validator);
  // A federation never votes itself empty.
  if (v === null || v.leavingAt !== 0 || !isMember(l, p.validator) || members <= 1) return false;
  applyLeave(l, p.validator, ctx);
  return true;
}

/**
 * End-of-block: a proposal whose "yes" votes come from more than two thirds of the current voting
 * members passes and is enacted; one past its voting period lapses. Returns the ids enacted.
 */
export function tallyFederationProposals(l: Ledger, ctx: TxContext): number[] {
  const open = openFederationProposals(l);
  if (open.length === 0) return [];
  const enacted: number[] = [];
  const still: ActiveProposal[] = [];
  for (const o of open) {
    const p = federationProposal(l, o.id);
    if (p === null) continue;
    const members = votingSet(l, ctx.height);
    // The member a proposal would remove has no say in it: else a federation of three could never drop a bad one.
    const electors = members.filter((m) => !bytesEqual(m.address, p.validator));
    const yes = p.votes.filter((v) => v.choice === VoteChoice.Yes && electors.some((m) => bytesEqual(m.address, v.validator))).length;
    if (yes * 3 > electors.length * 2) {
      if (enact(l, p, ctx, members.length)) enacted.push(o.id);
      putFederationProposal(l, o.id, null);
    } else if (o.endHeight <= ctx.height) {
      putFederationProposal(l, o.id, null);
    } else {
      still.push(o);
    }
  }
  putOpenFederationProposals(l, still);
  return enacted;
}
