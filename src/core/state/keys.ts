import { Writer } from "../codec/writer.js";
import { ADDRESS_LENGTH } from "../crypto/address.js";

/** One prefix byte per record type; the rest of the key identifies the record. */
export enum KeyPrefix {
  Account = 0x01,
  Validator = 0x02,
  ValidatorSet = 0x03,
  Params = 0x04,
  Meta = 0x05,
  UnbondingQueue = 0x06,
  Proposal = 0x07,
  ActiveProposals = 0x08,
  BlsKeyOwner = 0x09,
  /** Validators registered but not yet voting: they join at the next epoch's first block. */
  PendingValidators = 0x0a,
  /** Present only on a poa chain; absent means dpop (so dpop genesis states are as before). */
  ConsensusMode = 0x0b,
  FederationProposal = 0x0c,
  OpenFederationProposals = 0x0d,
  ScheduledParamChanges = 0x0e,
  /** Validators out of the set for equivocation until their unjail transaction (absent when none). */
  JailedValidators = 0x0f,
}

const withAddress = (prefix: KeyPrefix, address: Uint8Array): Uint8Array =>
  new Writer().u8(prefix).fixed(address, ADDRESS_LENGTH).finish();

export const stateKeys = {
  account: (address: Uint8Array) => withAddress(KeyPrefix.Account, address),
  validator: (address: Uint8Array) => withAddress(KeyPrefix.Validator, address),
  validatorSet: () => Uint8Array.of(KeyPrefix.ValidatorSet),
  params: () => Uint8Array.of(KeyPrefix.Params),
  meta: () => Uint8Array.of(KeyPrefix.Meta),
  /** Unbonding entries maturing at one height, so each block reads exactly one key. */
  unbondingAt: (height: number) => new Writer().u8(KeyPrefix.UnbondingQueue).varint(height).finish(),
  proposal: (id: number) => new Writer().u8(KeyPrefix.Proposal).varint(id).finish(),
  activeProposals: () => Uint8Array.of(KeyPrefix.ActiveProposals),
  pendingValidators: () => Uint8Array.of(KeyPrefix.PendingValidators),
  consensusMode: () => Uint8Array.of(KeyPrefix.ConsensusMode),
  federationProposal: (id: number) => new Writer().u8(KeyPrefix.FederationProposal).varint(id).finish(),
  openFederationProposals: () => Uint8Array.of(KeyPrefix.OpenFederationProposals),
  blsKeyOwner: (blsKeyHash: Uint8Array) => new Writer().u8(KeyPrefix.BlsKeyOwner).fixed(blsKeyHash, 16).finish(),
  /** Passed parameter changes waiting for their epoch boundary. */
  scheduledParamChanges: () => Uint8Array.of(KeyPrefix.ScheduledParamChanges),
  jailedValidators: () => Uint8Array.of(KeyPrefix.JailedValidators),
};
