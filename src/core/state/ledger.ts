import { sha256 } from "../crypto/hash.js";
import { type ChainParams, decodeParams, encodeParams } from "./params.js";
import {
  type Account, accountCodec, type ActiveProposal, activeProposalsCodec, addressListCodec, type ChainMeta, metaCodec,
  type Proposal, proposalCodec, type UnbondingEntry, unbondingCodec, type Validator, validatorCodec,
} from "./records.js";
import { type ConsensusMode, decodeConsensusMode, encodeConsensusMode } from "./consensus-mode.js";
import { stateKeys } from "./keys.js";
import { StateOverlay, type StateReader } from "./store.js";

const EMPTY_ACCOUNT: Account = { balance: 0n, nonce: 0, publicKey: null };

function required(bytes: Uint8Array | undefined, what: string): Uint8Array {
  if (bytes === undefined) throw new Error(`state has no ${what}: the store is not initialised from genesis`);
  return bytes;
}

/**
 * Decoded parameters by the stored value they came from: every block reads them several times (the
 * transition, the schedule, the weights), and they change only by governance. State values are
 * never changed in place (a write stores new bytes), so the same bytes always decode alike.
 */
const decodedParams = new WeakMap<Uint8Array, ChainParams>();

/** Typed reads and writes of state records over an uncommitted overlay. */
export class Ledger {
  readonly view: StateOverlay;

  constructor(base: StateReader) {
    this.view = new StateOverlay(base);
  }

  /** A nested ledger whose writes reach this one only through `absorb`. */
  child(): Ledger {
    return new Ledger(this.view);
  }

  absorb(child: Ledger): void {
    child.view.mergeInto(this.view);
  }

  account(address: Uint8Array): Account {
    const b = this.view.get(stateKeys.account(address));
    return b === undefined ? EMPTY_ACCOUNT : accountCodec.decode(b);
  }

  putAccount(address: Uint8Array, a: Account): void {
    this.view.set(stateKeys.account(address), accountCodec.encode(a));
  }

  validator(address: Uint8Array): Validator | null {
    const b = this.view.get(stateKeys.validator(address));
    return b === undefined ? null : validatorCodec.decode(b);
  }

  putValidator(address: Uint8Array, v: Validator): void {
    this.view.set(stateKeys.validator(address), validatorCodec.encode(v));
  }

  deleteValidator(address: Uint8Array): void {
    this.view.delete(stateKeys.validator(address));
  }

  validatorSet(): Uint8Array[] {
    const b = this.view.get(stateKeys.validatorSet());
    return b === undefined ? [] : addressListCodec.decode(b);
  }

  putValidatorSet(list: readonly Uint8Array[]): void {
    this.view.set(stateKeys.validatorSet(), addressListCodec.encode(list));
  }

  /** Validators jailed for equivocation, waiting for their unjail transaction (address order). */
  jailedValidators(): Uint8Array[] {
    return this.addressList(stateKeys.jailedValidators());
  }

  putJailedValidators(list: readonly Uint8Array[]): void {
    this.putAddressList(stateKeys.jailedValidators(), list);
  }

  /** Registered validators waiting for the next epoch start to join the voting set (address order). */
  pendingValidators(): Uint8Array[] {
    return this.addressList(stateKeys.pendingValidators());
  }

  putPendingValidators(list: readonly Uint8Array[]): void {
    this.putAddressList(stateKeys.pendingValidators(), list);
  }

  /** An optional list of addresses: absent when empty, so an empty list leaves no key in the state root. */
  private addressList(key: Uint8Array): Uint8Array[] {
    const b = this.view.get(key);
    return b === undefined ? [] : addressListCodec.decode(b);
  }

  private putAddressList(key: Uint8Array, list: readonly Uint8Array[]): void {
    if (list.length === 0) this.view.delete(key);
    else this.view.set(key, addressListCodec.encode(list));
  }

  consensusMode(): ConsensusMode {
    const b = this.view.get(stateKeys.consensusMode());
    return b === undefined ? "dpop" : decodeConsensusMode(b);
  }

  putConsensusMode(mode: ConsensusMode): void {
    if (mode === "dpop") this.view.delete(stateKeys.consensusMode());
    else this.view.set(stateKeys.consensusMode(), encodeConsensusMode(mode));
  }

  params(): ChainParams {
    const bytes = required(this.view.get(stateKeys.params()), "parameters");
    let params = decodedParams.get(bytes);
    if (params === undefined) {
      params = Object.freeze(decodeParams(bytes));
      decodedParams.set(bytes, params);
    }
    return params;
  }

  putParams(p: ChainParams): void {
    this.view.set(stateKeys.params(), encodeParams(p));
  }

  meta(): ChainMeta {
    return metaCodec.decode(required(this.view.get(stateKeys.meta()), "chain meta"));
  }

  putMeta(m: ChainMeta): void {
    this.view.set(stateKeys.meta(), metaCodec.encode(m));
  }

  unbondingAt(height: number): UnbondingEntry[] {
    const b = this.view.get(stateKeys.unbondingAt(height));
    return b === undefined ? [] : unbondingCodec.decode(b);
  }

  putUnbondingAt(height: number, entries: readonly UnbondingEntry[]): void {
    if (entries.length === 0) this.view.delete(stateKeys.unbondingAt(height));
    else this.view.set(stateKeys.unbondingAt(height), unbondingCodec.encode(entries));
  }

  proposal(id: number): Proposal | null {
    const b = this.view.get(stateKeys.proposal(id));
    return b === undefined ? null : proposalCodec.decode(b);
  }

  putProposal(id: number, p: Proposal): void {
    this.view.set(stateKeys.proposal(id), proposalCodec.encode(p));
  }

  deleteProposal(id: number): void {
    this.view.delete(stateKeys.proposal(id));
  }

  activeProposals(): ActiveProposal[] {
    const b = this.view.get(stateKeys.activeProposals());
    return b === undefined ? [] : activeProposalsCodec.decode(b);
  }

  putActiveProposals(list: readonly ActiveProposal[]): void {
    if (list.length === 0) this.view.delete(stateKeys.activeProposals());
    else this.view.set(stateKeys.activeProposals(), activeProposalsCodec.encode(list));
  }

  blsKeyOwner(blsPublicKey: Uint8Array): Uint8Array | null {
    return this.view.get(stateKeys.blsKeyOwner(blsKeyId(blsPublicKey))) ?? null;
  }

  setBlsKeyOwner(blsPublicKey: Uint8Array, owner: Uint8Array | null): void {
    const key = stateKeys.blsKeyOwner(blsKeyId(blsPublicKey));
    if (owner === null) this.view.delete(key);
    else this.view.set(key, owner);
  }

  credit(address: Uint8Array, amount: bigint): void {
    if (amount === 0n) return;
    const a = this.account(address);
    this.putAccount(address, { ...a, balance: a.balance + amount });
  }
}

const blsKeyId = (blsPublicKey: Uint8Array): Uint8Array => sha256(blsPublicKey).slice(0, 16);
