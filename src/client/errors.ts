import { MeshChainError } from "../core/errors.js";

export type ClientErrorCode =
  /** No node answers at the URL, or it answers something that is not this API. */
  | "NODE_API_UNAVAILABLE"
  /** The node wants its token, or refused the request's origin or host. */
  | "NODE_API_REFUSED"
  /** The node refused a transaction; `reason` holds its typed code (INVALID, POOL_FULL, …). */
  | "REJECTED_BY_NODE"
  /** The node does not hold what was asked (`reason`: UNKNOWN_ACCOUNT, UNKNOWN_TX, …). */
  | "NOT_FOUND"
  /** The request's parameters were refused (`reason`: INVALID_PARAMS, BAD_CHECKSUM, …). */
  | "INVALID_PARAMS"
  /** The transaction was signed for another chain than the node's. */
  | "WRONG_CHAIN"
  /** A message does not fit one frame, or a recipient cannot be sealed to. */
  | "MESSAGE_TOO_LARGE"
  | "RECIPIENT_KEY_UNKNOWN"
  /** `--wait` ran out of time before the transaction reached the state asked for. */
  | "WAIT_TIMEOUT";

/** A client-side failure talking to a node; `reason` is the node's own code when it gave one. */
export class ClientError extends MeshChainError<ClientErrorCode> {
  constructor(code: ClientErrorCode, message: string, readonly reason: string | null = null) {
    super(code, message);
  }
}
