import { MeshChainError } from "../core/errors.js";

export type CliErrorCode = "INVALID_ARGUMENT" | "NODE_API_UNAVAILABLE" | "NODE_API_REFUSED" | "REJECTED_BY_NODE" | "PORT_IN_USE";

/** A command-line mistake: reported with its code and exit status 2. */
export class CliError extends MeshChainError<CliErrorCode> {}
