import { MeshChainError } from "../core/errors.js";

export type NodeErrorCode = "NOT_A_VALIDATOR" | "NOT_SUPPORTED" | "ALREADY_STARTED" | "NOT_RUNNING" | "CHECKPOINT_UNAVAILABLE" | "CHECKPOINT_MISMATCH" | "DATA_DIR_UNUSABLE" | "NOT_DEV_DATA_DIR";
export class NodeError extends MeshChainError<NodeErrorCode> {}
