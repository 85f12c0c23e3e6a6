import { MeshChainError } from "../core/errors.js";

export type NodeErrorCode = "NOT_A_VALIDATOR" | "NOT_SUPPORTED" | "ALREADY_STARTED" | "NOT_RUNNING" | "CHECKPOINT_UNAVAILABLE" | "CHECKPOINT_MISMATCH" | "DATA_DIR_UNUSABLE" | "NOT_DEV_DATA_DIR";
export class NodeError extends MeshChainError<NodeErrorCode> {}

export type RadioErrorCode = "SETTINGS_MISMATCH";
/** The radio is reachable but set up so that the node cannot use it as asked. */
export class RadioError extends MeshChainError<RadioErrorCode> {}
