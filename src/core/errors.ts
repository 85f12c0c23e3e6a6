/**
 * Every error that crosses a module boundary carries a stable machine-readable `code`, so that peer
 * scoring, the API and the CLI can act on the reason without parsing messages.
 */
export class MeshChainError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type DecodeErrorCode =
  | "TRUNCATED"
  | "TRAILING_BYTES"
  | "NON_MINIMAL_VARINT"
  | "VARINT_OVERFLOW"
  | "OUT_OF_RANGE"
  | "LENGTH_TOO_LARGE"
  | "INVALID_VALUE";

/** Raised for bytes that are not the one canonical encoding of an object. */
export class DecodeError extends MeshChainError<DecodeErrorCode> {}

/** Raised when a value cannot be encoded: out of its field's range or too long. */
export class EncodeError extends MeshChainError<"OUT_OF_RANGE" | "LENGTH_TOO_LARGE"> {}

export type CryptoErrorCode = "INVALID_KEY" | "INVALID_SIGNATURE_ENCODING";
export class CryptoError extends MeshChainError<CryptoErrorCode> {}
