import { MeshChainError } from "../core/errors.js";

/**
 * The process's exit status, by the error's code. systemd's unit lists the statuses that no restart
 * can heal (RestartPreventExitStatus), so each here is documented in docs/operations.md.
 */
export const EXIT = {
  /** Anything else: systemd restarts the node. */
  FAILURE: 1,
  /** A bad flag, config key or argument: fix the command line or the config. */
  USAGE: 2,
  /** The data directory holds something this node cannot use: a corrupt or newer database, another chain. */
  DATA_UNUSABLE: 65,
  /** Another process holds the data directory's lock. */
  DATA_DIR_LOCKED: 73,
} as const;

const BY_CODE: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  CORRUPT: EXIT.DATA_UNUSABLE,
  SCHEMA_TOO_NEW: EXIT.DATA_UNUSABLE,
  MIGRATION_FAILED: EXIT.DATA_UNUSABLE,
  GENESIS_MISMATCH: EXIT.DATA_UNUSABLE,
  NOT_DEV_DATA_DIR: EXIT.DATA_UNUSABLE,
  DATA_DIR_LOCKED: EXIT.DATA_DIR_LOCKED,
};

export function exitCodeOf(e: unknown): number {
  return e instanceof MeshChainError ? (BY_CODE[e.code] ?? EXIT.FAILURE) : EXIT.FAILURE;
}
