import { MeshChainError } from "../core/errors.js";
import { exitCodeOf } from "./exit-codes.js";
import { redactUrls } from "../core/redact.js";

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
  // Under systemd stderr is the journal: a password in an echoed URL must not land there.
  const message = redactUrls(e instanceof Error ? e.message : String(e));
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`error [${code}]: ${message}\n`);
  return exitCodeOf(e);
}

/**
 * A reader that goes away (`meshchain status | head -1`) is not an error: the command stops quietly
 * with status 0 instead of dying on EPIPE with a stack trace. Set once, for every command.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
}
