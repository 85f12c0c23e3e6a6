import { MeshChainError } from "../core/errors.js";
import { GenesisError } from "../core/genesis.js";
import { KeyCryptoError } from "../storage/key-encryption.js";
import { KeyFileError } from "../storage/keystore.js";
import { ConfigError } from "./config/load.js";
import { CliError } from "./errors.js";

/**
 * Exit status 2: the command line, the configuration, the key or the genesis is wrong, and running
 * again unchanged fails the same way (systemd/meshchain.service does not restart on it). 1: anything else.
 */
export const EXIT_FIX_CONFIGURATION = 2;
export const EXIT_FAILURE = 1;

function needsOperator(e: unknown): boolean {
  if (e instanceof CliError) return e.code === "INVALID_ARGUMENT";
  if (e instanceof KeyFileError) return ["NOT_FOUND", "INVALID", "INSECURE_PERMISSIONS", "ENCRYPTED"].includes(e.code);
  return e instanceof ConfigError || e instanceof KeyCryptoError || e instanceof GenesisError;
}

export type Printable = Record<string, unknown>;

/** JSON for scripts (bigints as decimal strings), aligned "key: value" lines for people. */
export function print(value: Printable, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [k, v] of Object.entries(value)) {
    const text = typeof v === "object" && v !== null ? JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) : String(v);
    process.stdout.write(`${k.padEnd(width)}  ${text}\n`);
  }
}

/** Report a failure on stderr; typed errors keep their code so scripts can branch on it. */
export function reportError(e: unknown, json: boolean): number {
  const code = e instanceof MeshChainError ? e.code : "INTERNAL";
  const message = e instanceof Error ? e.message : String(e);
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`error [${code}]: ${message}\n`);
  return needsOperator(e) ? EXIT_FIX_CONFIGURATION : EXIT_FAILURE;
}
