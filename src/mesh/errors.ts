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

export type RadioLinkErrorCode = "BAD_RADIO_URL" | "RADIO_UNREACHABLE" | "NO_SERIAL_PORT" | "SEVERAL_SERIAL_PORTS" | "HANDSHAKE_TIMEOUT" | "LINK_CLOSED";
/** The cable or socket to a radio: a URL that names none, a port that will not open, a radio that does not answer. */
export class RadioLinkError extends MeshChainError<RadioLinkErrorCode> {}

export type RadioConfigErrorCode = "NO_FREE_CHANNEL" | "UNKNOWN_SETTING";
/** A change the radio cannot take as asked. */
export class RadioConfigError extends MeshChainError<RadioConfigErrorCode> {}
