import { MeshChainError } from "../core/errors.js";

export type FrameErrorCode = "BAD_VERSION" | "UNKNOWN_TYPE" | "BAD_FRAGMENT" | "TOO_LARGE" | "TRUNCATED" | "BAD_SIGNATURE";
/** A frame or message that is not well formed: counted and dropped by receivers, never fatal. */
export class FrameError extends MeshChainError<FrameErrorCode> {}

export type TransportErrorCode =
  | "NOT_STARTED"
  | "CLOSED"
  | "FRAME_TOO_LARGE"
  | "QUEUE_FULL"
  | "BROKER_UNREACHABLE"
  | "MALFORMED_ENVELOPE"
  | "UNDECRYPTABLE"
  | "BAD_CHANNEL_KEY";
export class TransportError extends MeshChainError<TransportErrorCode> {}
