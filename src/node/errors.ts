import { MeshChainError } from "../core/errors.js";

export type NodeErrorCode = "NOT_A_VALIDATOR" | "NOT_SUPPORTED" | "ALREADY_STARTED" | "NOT_RUNNING";
export class NodeError extends MeshChainError<NodeErrorCode> {}
