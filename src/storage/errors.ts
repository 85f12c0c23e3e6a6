import { MeshChainError } from "../core/errors.js";

export type StorageErrorCode =
  | "OPEN_FAILED"
  | "MIGRATION_FAILED"
  | "SCHEMA_TOO_NEW"
  | "DISK_FULL"
  | "IO_ERROR"
  | "CORRUPT"
  | "NOT_EMPTY"
  | "NOT_FOUND"
  | "GENESIS_MISMATCH"
  | "NOT_TIP"
  | "NOTHING_TO_REVERT"
  | "DATA_DIR_LOCKED"
  | "BUSY"
  | "BAD_OPTION";

export class StorageError extends MeshChainError<StorageErrorCode> {}

/** Map SQLite's failure codes to ours, so a full disk reads as a full disk. */
export function toStorageError(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "SQLITE_FULL") return new StorageError("DISK_FULL", `${what}: the disk is full (${message})`);
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") return new StorageError("BUSY", `${what}: the database is locked by another program (${message})`);
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") return new StorageError("CORRUPT", `${what}: database is corrupt (${message})`);
  if (typeof code === "string" && code.startsWith("SQLITE_IOERR")) return new StorageError("IO_ERROR", `${what}: I/O error (${message})`);
  return new StorageError("IO_ERROR", `${what}: ${message}`);
}
