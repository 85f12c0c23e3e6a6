import { bytesEqual } from "../bytes.js";
import { blockHash } from "../block/header.js";
import { verifyVote } from "../block/vote.js";
import { type Evidence, EvidenceType } from "../tx/types.js";
import type { TxContext } from "./context.js";
import { TxError } from "./errors.js";
import type { Ledger } from "./ledger.js";
import type { Validator } from "./records.js";
import { jailMember } from "./validators.js";

interface Offence {
  readonly validator: Uint8Array;
  readonly slot: number;
}

/**
 * Full check of equivocation evidence: the same validator, a real conflict (votes for two different
 * blocks in one slot, or two different proposals for one slot), and both signatures valid.
 */
export function checkEvidence(l: Ledger, e: Evidence, ctx: TxContext): { offence: Offence; validator: Validator } {
  let offence: Offence;
  if (e.type === EvidenceType.DoubleVote) {
    if (bytesEqual(e.first.blockHash, e.second.blockHash)) throw new TxError("EVIDENCE_INVALID", "both votes are for the same block");
    offence = { validator: e.validator, slot: e.slot };
  } else {
    if (!bytesEqual(e.first.proposer, e.second.proposer)) throw new TxError("EVIDENCE_INVALID", "proposals are by different validators");
    if (e.first.slot !== e.second.slot) throw new TxError("EVIDENCE_INVALID", "proposals are for different slots");
    offence = { validator: e.first.proposer, slot: e.first.slot };
  }
  const v = l.validator(offence.validator);
  if (v === null) throw new TxError("EVIDENCE_INVALID", "not a validator");
  if (offence.slot >= ctx.slot || offence.slot < v.registeredSlot) throw new TxError("EVIDENCE_INVALID", "offence slot outside the validator's service");
  if (offence.slot + Number(ctx.params.evidenceMaxAgeSlots) < ctx.slot) throw new TxError("EVIDENCE_TOO_OLD", "offence is older than evidenceMaxAgeSlots");
  if (offence.slot <= v.lastInfractionSlot) throw new TxError("EVIDENCE_DUPLICATE", "validator already slashed for this or a later offence");

  const signed =
    e.type === EvidenceType.DoubleVote
      ? [
          { slot: e.slot, hash: e.first.blockHash, signature: e.first.signature },
          { slot: e.slot, hash: e.second.blockHash, signature: e.second.signature },
        ]
      : [e.first, e.second].map((h) => ({ slot: h.slot, hash: blockHash(h), signature: h.signature }));
  if (e.type === EvidenceType.DoubleProposal && bytesEqual(signed[0]!.hash, signed[1]!.hash)) {
    throw new TxError("EVIDENCE_INVALID", "both proposals are the same block");
  }
  for (const s of signed) {
    if (!verifyVote(ctx.chainId, s.slot, s.hash, s.signature, v.blsPublicKey)) throw new TxError("EVIDENCE_INVALID", "a signature does not verify");
  }
  return { offence, validator: v };
}

const slashed = (amount: bigint, bps: bigint): bigint => (amount * bps) / 10_000n;

/**
 * Slash the offender's self-bond, its delegations (delegators share the loss pro rata) and stake of
 * it still unbonding, burn the slashed units, and jail it. Returns the units burned.
 */
export function applyEvidence(l: Ledger, e: Evidence, ctx: TxContext): bigint {
  const { offence, validator: v } = checkEvidence(l, e, ctx);
  const bps = ctx.params.slashFractionBps;
  let burned = slashed(v.selfBond, bps);
  const delegations = v.delegations.map((d) => {
    const cut = slashed(d.amount, bps);
    burned += cut;
    return { delegator: d.delegator, amount: d.amount - cut };
  });
  const horizon = ctx.height + Number(ctx.params.unbondingPeriod);
  for (let h = ctx.height + 1; h <= horizon; h++) {
    const entries = l.unbondingAt(h);
    if (entries.length === 0 || !entries.some((x) => bytesEqual(x.validator, offence.validator))) continue;
    l.putUnbondingAt(h, entries.map((x) => {
      if (!bytesEqual(x.validator, offence.validator)) return x;
      const cut = slashed(x.amount, bps);
      burned += cut;
      return { ...x, amount: x.amount - cut };
    }));
  }
  l.putValidator(offence.validator, {
    ...v,
    selfBond: v.selfBond - slashed(v.selfBond, bps),
    delegations,
    jailedUntil: Math.max(v.jailedUntil, ctx.height + Number(ctx.params.jailPeriod)),
    lastInfractionSlot: offence.slot,
  });
  jailMember(l, offence.validator);
  const meta = l.meta();
  l.putMeta({ ...meta, totalSupply: meta.totalSupply - burned });
  return burned;
}
