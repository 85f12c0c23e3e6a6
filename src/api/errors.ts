import { MeshChainError } from "../core/errors.js";

export type ApiErrorCode = "TOKEN_FILE_UNUSABLE" | "TOKEN_FILE_INSECURE" | "TOKEN_FILE_INVALID" | "TOKEN_REQUIRED" | "CANNOT_LISTEN";

/** The local API cannot start as asked (its token file, its address). */
export class ApiError extends MeshChainError<ApiErrorCode> {}
