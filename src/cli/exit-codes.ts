import { MeshChainError } from "../core/errors.js";
import { GenesisError } from "../core/genesis.js";
import { KeyCryptoError } from "../storage/key-encryption.js";
import { KeyFileError } from "../storage/keystore.js";
import { ConfigError } from "./config/load.js";
import { CliError } from "./errors.js";

/**
 * The process's exit status, by the error's code. systemd's unit lists the statuses that no restart
 * can heal (RestartPreventExitStatus), so each here is documented in docs/operations.md.
 */
export const EXIT = {
  /** Anything else: systemd restarts the node. */
  FAILURE: 1,
  /** A bad flag, config key or argument, key file or genesis: fix the command line, the config or the file. */
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
  // The wallet's own mistakes to fix: a text too long for one frame, a chain id that is not the node's.
  MESSAGE_TOO_LARGE: EXIT.USAGE,
  WRONG_CHAIN: EXIT.USAGE,
  TRUST_MALFORMED: EXIT.USAGE,
};

/** The command line, the configuration, the key or the genesis is wrong: running again unchanged fails the same way. */
function needsOperator(e: unknown): boolean {
  if (e instanceof CliError) return e.code === "INVALID_ARGUMENT";
  if (e instanceof KeyFileError) return ["NOT_FOUND", "INVALID", "INSECURE_PERMISSIONS", "ENCRYPTED"].includes(e.code);
  return e instanceof ConfigError || e instanceof KeyCryptoError || e instanceof GenesisError;
}

export function exitCodeOf(e: unknown): number {
  if (needsOperator(e)) return EXIT.USAGE;
  return e instanceof MeshChainError ? (BY_CODE[e.code] ?? EXIT.FAILURE) : EXIT.FAILURE;
}
