import { MeshChainError } from "../errors.js";

export type TxErrorCode =
  | "MALFORMED"
  | "TX_EXPIRED"
  | "PUBLIC_KEY_UNKNOWN"
  | "PUBLIC_KEY_ALREADY_KNOWN"
  | "ADDRESS_MISMATCH"
  | "ADDRESS_COLLISION"
  | "BAD_SIGNATURE"
  | "NONCE_TOO_LOW"
  | "NONCE_TOO_HIGH"
  | "FEE_TOO_LOW"
  | "INSUFFICIENT_BALANCE"
  | "ALREADY_VALIDATOR"
  | "NOT_VALIDATOR"
  | "VALIDATOR_INACTIVE"
  | "VALIDATOR_SET_FULL"
  | "BOND_TOO_SMALL"
  | "INSUFFICIENT_BOND"
  | "BLS_KEY_IN_USE"
  | "BAD_PROOF_OF_POSSESSION"
  | "UNKNOWN_VALIDATOR"
  | "SELF_DELEGATION"
  | "DELEGATION_LIMIT"
  | "INSUFFICIENT_DELEGATION"
  | "UNKNOWN_PARAM"
  | "PARAM_OUT_OF_RANGE"
  | "PARAM_GENESIS_ONLY"
  | "TOO_MANY_PROPOSALS"
  | "NOT_JAILED"
  | "STILL_JAILED"
  | "VOTING_WINDOW_OUT_OF_RANGE"
  | "UNKNOWN_PROPOSAL"
  | "ALREADY_VOTED"
  | "EVIDENCE_INVALID"
  | "EVIDENCE_DUPLICATE"
  | "EVIDENCE_TOO_OLD"
  | "STAKING_DISABLED"
  | "NOT_CANDIDATE"
  | "ALREADY_MEMBER"
  | "NOT_MEMBER"
  | "ALREADY_PROPOSED"
  | "WRONG_CONSENSUS_MODE";

/** Why a transaction cannot apply to the current state. A rejected transaction changes nothing. */
export class TxError extends MeshChainError<TxErrorCode> {}

export type BlockErrorCode =
  | "MALFORMED"
  | "HEIGHT_MISMATCH"
  | "PARENT_MISMATCH"
  | "SLOT_NOT_INCREASING"
  | "TIMESTAMP_DECREASING"
  | "TOO_MANY_TXS"
  | "TOO_LARGE"
  | "TX_ROOT_MISMATCH"
  | "DUPLICATE_TX"
  | "INVALID_TX"
  | "PROPOSER_NOT_VALIDATOR"
  | "CERTIFICATE_MISMATCH"
  | "STATE_ROOT_MISMATCH";

export class BlockError extends MeshChainError<BlockErrorCode> {
  constructor(
    code: BlockErrorCode,
    message: string,
    /** For INVALID_TX: the position and reason of the first failing transaction. */
    readonly txIndex?: number,
    readonly txError?: TxError,
  ) {
    super(code, message);
  }
}
