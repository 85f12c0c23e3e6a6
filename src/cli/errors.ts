import { MeshChainError } from "../core/errors.js";

export type CliErrorCode = "INVALID_ARGUMENT" | "NODE_API_UNAVAILABLE" | "REJECTED_BY_NODE";

/** A command-line mistake: reported with its code and exit status 2. */
export class CliError extends MeshChainError<CliErrorCode> {}
