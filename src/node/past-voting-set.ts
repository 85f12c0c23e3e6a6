import { bytesEqual, compareBytes } from "../core/bytes.js";
import { signerIndices, type NotarizationCertificate } from "../core/block/certificate.js";
import { verifyAggregateVote } from "../core/block/vote.js";
import { nextEpochStart } from "../core/state/epoch.js";
import type { Ledger } from "../core/state/ledger.js";
import { registeredValidators } from "../core/state/validators.js";
import type { ChainStore } from "../storage/chain-store.js";

/** A voter as a proof names it: the signer bitmap indexes a list of these in address order. */
export interface Voter {
  readonly address: Uint8Array;
  readonly blsPublicKey: Uint8Array;
}

/**
 * The voting set of an older block, worked out from today's records, for a proof of a block whose
 * set has changed since: today's members and jailed validators, without those that joined after it
 * (a registration's block tells when it joined: the next epoch start) and with those jailed after
 * it. The certificate's aggregate signature is the check: a list that does not verify is not
 * returned, so a wrong guess costs an answer (PROOF_UNAVAILABLE), never a wrong proof.
 */
export function pastVotingSet(ledger: Ledger, store: ChainStore, height: number, certificate: NotarizationCertificate, chainId: string): Voter[] | null {
  const header = store.headerAt(height);
  if (header === null) return null;
  const params = ledger.params();
  const jailed = ledger.jailedValidators();
  const members: Voter[] = [];
  for (const address of registeredValidators(ledger)) {
    const v = ledger.validator(address);
    if (v === null || v.leavingAt !== 0) continue;
    // Genesis validators have registeredSlot 0 and vote from block 0.
    const registeredAt = v.registeredSlot === 0 ? 0 : heightOfSlot(store, v.registeredSlot);
    if (registeredAt === null) continue;
    const joinedAt = registeredAt === 0 ? 0 : nextEpochStart(registeredAt, params.epochLength);
    if (joinedAt > height) continue;
    if (jailed.some((a) => bytesEqual(a, address)) && v.jailedUntil - Number(params.jailPeriod) <= height) continue;
    members.push({ address, blsPublicKey: v.blsPublicKey });
  }
  members.sort((a, b) => compareBytes(a.address, b.address));
  const signers = signerIndices(certificate.signers);
  if (signers.some((i) => i >= members.length)) return null;
  return verifyAggregateVote(chainId, header.slot, certificate.blockHash, certificate.signature, signers.map((i) => (members[i] as Voter).blsPublicKey)) ? members : null;
}

/** The height of the block in `slot` (slots rise with height), or null when no held header has it. */
function heightOfSlot(store: ChainStore, slot: number): number | null {
  let lo = store.baseHeight + 1;
  let hi = store.tip.height;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const s = store.headerAt(mid)?.slot;
    if (s === undefined) return null;
    if (s === slot) return mid;
    if (s < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}
