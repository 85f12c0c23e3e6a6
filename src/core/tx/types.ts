import type { BlockHeader } from "../block/header.js";

export enum TxKind {
  Transfer = 1,
  Message = 2,
  ValidatorRegister = 3,
  ValidatorLeave = 4,
  Bond = 5,
  Unbond = 6,
  Delegate = 7,
  Undelegate = 8,
  GovProposal = 9,
  GovVote = 10,
  Evidence = 11,
  /** poa only: a federation member proposes adding or removing a member; others vote with GovVote. */
  FederationProposal = 12,
  /** A jailed validator asks to rejoin once its jail period is over (joins at the next epoch start). */
  Unjail = 13,
}

export enum FederationAction {
  Add = 1,
  Remove = 2,
}

export enum MessagePriority {
  Bulk = 0,
  Normal = 1,
  Urgent = 2,
}

export enum VoteChoice {
  Yes = 1,
  No = 2,
  Abstain = 3,
}

export interface TransferBody { readonly kind: TxKind.Transfer; readonly to: Uint8Array; readonly amount: bigint }
export interface MessageBody { readonly kind: TxKind.Message; readonly to: Uint8Array; readonly priority: MessagePriority; readonly payload: Uint8Array }
export interface ValidatorRegisterBody {
  readonly kind: TxKind.ValidatorRegister;
  readonly commissionBps: number;
  readonly selfBond: bigint;
  readonly blsPublicKey: Uint8Array;
  readonly proofOfPossession: Uint8Array;
}
export interface ValidatorLeaveBody { readonly kind: TxKind.ValidatorLeave }
export interface UnjailBody { readonly kind: TxKind.Unjail }
export interface BondBody { readonly kind: TxKind.Bond; readonly amount: bigint }
export interface UnbondBody { readonly kind: TxKind.Unbond; readonly amount: bigint }
export interface DelegateBody { readonly kind: TxKind.Delegate; readonly validator: Uint8Array; readonly amount: bigint }
export interface UndelegateBody { readonly kind: TxKind.Undelegate; readonly validator: Uint8Array; readonly amount: bigint }
/** `votingWindow`: blocks the proposal stays open, bounded by the chain (core/state/governance.ts). */
export interface GovProposalBody { readonly kind: TxKind.GovProposal; readonly paramId: number; readonly value: bigint; readonly votingWindow: number }
export interface GovVoteBody { readonly kind: TxKind.GovVote; readonly proposalId: number; readonly choice: VoteChoice }
export interface FederationProposalBody { readonly kind: TxKind.FederationProposal; readonly action: FederationAction; readonly validator: Uint8Array }
export interface EvidenceBody { readonly kind: TxKind.Evidence; readonly evidence: Evidence }

export type TxBody =
  | TransferBody
  | MessageBody
  | ValidatorRegisterBody
  | ValidatorLeaveBody
  | UnjailBody
  | BondBody
  | UnbondBody
  | DelegateBody
  | UndelegateBody
  | GovProposalBody
  | GovVoteBody
  | EvidenceBody
  | FederationProposalBody;

/** A vote a validator signed for a block in a slot. The proposer's block signature is one too. */
export interface SignedVote {
  readonly blockHash: Uint8Array;
  readonly signature: Uint8Array;
}

export enum EvidenceType {
  DoubleVote = 1,
  DoubleProposal = 2,
}

export type Evidence =
  | { readonly type: EvidenceType.DoubleVote; readonly validator: Uint8Array; readonly slot: number; readonly first: SignedVote; readonly second: SignedVote }
  | { readonly type: EvidenceType.DoubleProposal; readonly first: BlockHeader; readonly second: BlockHeader };

export interface UnsignedTx {
  readonly sender: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint;
  /** Last height at which the transaction may be included; null for no expiry. */
  readonly expiresAt: number | null;
  /** Present only on an account's first transaction, to bind its key to its address. */
  readonly publicKey: Uint8Array | null;
  readonly body: TxBody;
}

export interface SignedTx extends UnsignedTx {
  readonly signature: Uint8Array;
}
